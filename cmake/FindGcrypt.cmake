# Locate libgcrypt (SHA-1/SHA-256 and HMACs for MPTCP keys, tokens and MP_JOIN checks).
# Provides the imported target gcrypt::gcrypt.
# SPDX-License-Identifier: GPL-2.0-or-later
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
    pkg_check_modules(GCRYPT QUIET IMPORTED_TARGET libgcrypt)
endif()
if(GCRYPT_FOUND)
    add_library(gcrypt::gcrypt INTERFACE IMPORTED)
    set_target_properties(gcrypt::gcrypt PROPERTIES INTERFACE_LINK_LIBRARIES "PkgConfig::GCRYPT")
else()
    find_path(GCRYPT_INCLUDE_DIR gcrypt.h REQUIRED)
    find_library(GCRYPT_LIBRARY gcrypt REQUIRED)
    add_library(gcrypt::gcrypt UNKNOWN IMPORTED)
    set_target_properties(gcrypt::gcrypt PROPERTIES IMPORTED_LOCATION "${GCRYPT_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${GCRYPT_INCLUDE_DIR}")
endif()
