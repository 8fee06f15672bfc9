# scripts/lib.sh: the steps the scripts share, sourced (after REPO is set) by test.sh,
# sanitize.sh, fuzz.sh, demo.sh, valgrind.sh and compare-output.sh.
#   mptcp_deps [PKG...]            install missing Debian packages (setup-deps.sh) unless
#                                  MPTCP_SKIP_DEPS=1
#   mptcp_build DIR [CMAKE_ARG...] configure and build the plugin and the unit tests into DIR
#   mptcp_plugin_so DIR            print the built plugins/<ver>/epan/mptcp.so of DIR (or fail)
#   mptcp_asan_env DIR             export MPTCP_TSHARK_ENV for a plugin built with -DMPTCP_SANITIZE=ON:
#                                  tshark itself is not linked with ASan, so the runtime is preloaded
# SPDX-License-Identifier: GPL-2.0-or-later

mptcp_deps() {
    [ "${MPTCP_SKIP_DEPS:-0}" = 1 ] || "$REPO/scripts/setup-deps.sh" "$@"
}

mptcp_build() {
    local dir=$1
    shift
    cmake -S "$REPO" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}

mptcp_plugin_so() {
    local so
    so=$(find "$1/plugins" -path '*/epan/mptcp.so' 2>/dev/null | head -n1)
    [ -n "$so" ] || { echo "no plugins/<ver>/epan/mptcp.so in $1 (build failed?)" >&2; return 1; }
    echo "$so"
}

# LD_PRELOAD=<gcc's libasan.so>   tshark is not linked with ASan, so the runtime must come first
# ASAN_OPTIONS=detect_leaks=0     leaks at exit are tshark's and libwireshark's, not ours
# UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# WIRESHARK_EXTCAP_DIR=<empty dir>  tshark -G plugins runs the extcap helpers, which inherit
#                                 LD_PRELOAD; androiddump then deadlocks at exit (ASan + p11-kit's
#                                 freelocale), so no extcaps
mptcp_asan_env() {
    local asan
    asan=$(readlink -f "$("${CC:-cc}" -print-file-name=libasan.so)")
    [ -f "$asan" ] || { echo "no ASan runtime (${CC:-cc} -print-file-name=libasan.so)" >&2; return 1; }
    mkdir -p "$1/no-extcap"
    export MPTCP_TSHARK_ENV="LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:exitcode=99 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 WIRESHARK_EXTCAP_DIR=$1/no-extcap"
}
