# Locate Wireshark's development files for an epan plugin.
# Tries the CMake package first (wireshark-dev ships WiresharkConfig.cmake), then pkg-config
# (libwireshark-dev ships wireshark.pc). Provides:
#   ws::epan            imported target to link against
#   WS_VERSION_MAJMIN   "4.0", "4.4", ...: the plugin ABI directory name
#   WS_PLUGIN_DIR       absolute global plugin dir (…/wireshark/plugins/<maj.min>)
#   WS_DATA_DIR         Wireshark's global data dir (<prefix>/share/wireshark: what `tshark -G folders`
#                       calls "Global configuration"; its profiles/ holds the global profiles)
# SPDX-License-Identifier: GPL-2.0-or-later
find_package(Wireshark CONFIG QUIET)
if(Wireshark_FOUND AND TARGET epan)
    set(WS_VERSION_MAJMIN "${Wireshark_MAJOR_VERSION}.${Wireshark_MINOR_VERSION}")
    set(WS_VERSION "${Wireshark_VERSION}")
    set(WS_PLUGIN_DIR "${Wireshark_PLUGIN_INSTALL_DIR}")
    set(_ws_prefix "${Wireshark_INSTALL_PREFIX}")
    add_library(ws::epan INTERFACE IMPORTED)
    set_target_properties(ws::epan PROPERTIES INTERFACE_LINK_LIBRARIES "epan")
    message(STATUS "Wireshark ${WS_VERSION} found by its CMake package")
else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(WIRESHARK REQUIRED IMPORTED_TARGET wireshark)
    pkg_get_variable(WS_PLUGIN_DIR wireshark plugindir)
    pkg_get_variable(_ws_prefix wireshark prefix)
    string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _m "${WIRESHARK_VERSION}")
    set(WS_VERSION_MAJMIN "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
    set(WS_VERSION "${WIRESHARK_VERSION}")
    add_library(ws::epan INTERFACE IMPORTED)
    set_target_properties(ws::epan PROPERTIES INTERFACE_LINK_LIBRARIES "PkgConfig::WIRESHARK")
    message(STATUS "Wireshark ${WS_VERSION} found by pkg-config")
endif()
if(NOT WS_PLUGIN_DIR)
    message(FATAL_ERROR "Could not determine Wireshark's plugin directory")
endif()

# Wireshark's DATA_DIR is <install prefix>/<CMAKE_INSTALL_DATADIR>/wireshark, share/wireshark in
# every Debian build (neither the CMake package nor wireshark.pc names it).
if(NOT _ws_prefix)
    message(FATAL_ERROR "Could not determine Wireshark's install prefix")
endif()
set(WS_DATA_DIR "${_ws_prefix}/share/wireshark" CACHE PATH "Wireshark's global data dir (profiles go to its profiles/)")
