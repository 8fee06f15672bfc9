# Debian package of the plugin with CPack: `cpack -G DEB` in a build dir (scripts/package.sh does
# the build, the package and its check in a clean chroot).
#
# The package installs mptcp.so where `cmake --install` puts it, Wireshark's versioned global
# plugin dir (WS_PLUGIN_DIR/epan, e.g. /usr/lib/x86_64-linux-gnu/wireshark/plugins/4.0/epan), the
# "MPTCP" configuration profile where `cmake --install` puts it (WS_DATA_DIR/profiles/MPTCP, e.g.
# /usr/share/wireshark/profiles/MPTCP), and
# depends on the libwireshark package the build used, within the same major.minor (a plugin is
# built for one plugin ABI): e.g. "libwireshark16 (>= 4.0), libwireshark16 (<< 4.1)". The rest
# of the dependencies (libc6, libglib2.0-0, libgcrypt20, the libwireshark minimum version) come
# from dpkg-shlibdeps. Package version: <project version>+ws<maj.min>-1.
# SPDX-License-Identifier: GPL-2.0-or-later

if(MPTCP_INSTALL_PERSONAL)
    # a package cannot install into a home directory
    return()
endif()

# The Debian package that ships the libwireshark the build links against.
set(_ws_lib "")
if(TARGET epan)
    foreach(_cfg "" _RELEASE _RELWITHDEBINFO _NOCONFIG _DEBUG)
        get_target_property(_loc epan IMPORTED_LOCATION${_cfg})
        if(_loc)
            set(_ws_lib "${_loc}")
            break()
        endif()
    endforeach()
endif()
if(NOT _ws_lib)
    find_library(_ws_lib_found NAMES wireshark HINTS ${WIRESHARK_LIBRARY_DIRS})
    set(_ws_lib "${_ws_lib_found}")
endif()
set(MPTCP_LIBWIRESHARK_PKG "")
if(_ws_lib)
    get_filename_component(_ws_real "${_ws_lib}" REALPATH)
    find_program(_dpkg_query dpkg-query)
    if(_dpkg_query)
        execute_process(COMMAND ${_dpkg_query} -S "${_ws_real}" OUTPUT_VARIABLE _owner
                        ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
        string(REGEX MATCH "^[^:,]+" MPTCP_LIBWIRESHARK_PKG "${_owner}")
    endif()
    if(NOT MPTCP_LIBWIRESHARK_PKG)
        # Debian's naming: libwireshark.so.<soversion>.* is in libwireshark<soversion>
        get_filename_component(_ws_name "${_ws_real}" NAME)
        if(_ws_name MATCHES "^libwireshark\\.so\\.([0-9]+)")
            set(MPTCP_LIBWIRESHARK_PKG "libwireshark${CMAKE_MATCH_1}")
        endif()
    endif()
endif()
if(NOT MPTCP_LIBWIRESHARK_PKG)
    message(STATUS "Packaging: libwireshark's Debian package not found; cpack -G DEB is not available")
    return()
endif()

string(REPLACE "." ";" _mm "${WS_VERSION_MAJMIN}")
list(GET _mm 0 _ws_major)
list(GET _mm 1 _ws_minor)
math(EXPR _ws_next_minor "${_ws_minor} + 1")
set(MPTCP_DEB_DEPENDS
    "${MPTCP_LIBWIRESHARK_PKG} (>= ${WS_VERSION_MAJMIN}), ${MPTCP_LIBWIRESHARK_PKG} (<< ${_ws_major}.${_ws_next_minor})")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "wireshark-plugin-mptcp")
set(CPACK_PACKAGE_VENDOR "MPTCP analysis plugin developers")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Multipath TCP analysis plugin for Wireshark ${WS_VERSION_MAJMIN}")
set(CPACK_PACKAGE_CONTACT "MPTCP plugin developers <mptcp-plugin@localhost>")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/COPYING")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}+ws${WS_VERSION_MAJMIN}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${MPTCP_DEB_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tshark | wireshark")
# (CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first and indents these lines)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Replaces Wireshark's built-in MPTCP analysis with one that is right on Linux
MPTCP v1 (RFC 8684) and v0 (RFC 6824): same field names and preferences,
mptcp.stream on every subflow packet, DSN/DATA_ACK analysis, reinjections,
HMAC checks, conversation tables and data-level reassembly.

Built for the plugin ABI of Wireshark ${WS_VERSION_MAJMIN} (${MPTCP_LIBWIRESHARK_PKG}); it installs
into ${WS_PLUGIN_DIR}/epan, and the MPTCP configuration profile
(time-sequence graphs, columns, colours) into ${WS_DATA_DIR}/profiles.")

message(STATUS "Packaging: cpack -G DEB -> ${CPACK_PACKAGE_NAME} ${CPACK_DEBIAN_PACKAGE_VERSION}, "
               "Depends: ${MPTCP_DEB_DEPENDS}")
include(CPack)
