#!/bin/bash
# scripts/sanitize.sh [PYTEST_ARG...]
#
# The test suite against a build of the plugin with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DMPTCP_SANITIZE=ON: the plugin only; tshark and libwireshark are Debian's, uninstrumented).
# Builds into build-asan/ (MPTCP_BUILD_DIR) and runs scripts/test.sh (ctest + pytest) with
# MPTCP_TSHARK_ENV set, which tests/conftest.py and tests/fuzz.py apply to every tshark they run:
#   LD_PRELOAD=<gcc's libasan.so>   tshark is not linked with ASan, so the runtime must come first
#   ASAN_OPTIONS=detect_leaks=0     leaks at exit are tshark's and libwireshark's, not ours
#   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
#   WIRESHARK_EXTCAP_DIR=<empty dir>  tshark -G plugins runs the extcap helpers, which inherit
#                                   LD_PRELOAD; androiddump then deadlocks at exit (ASan +
#                                   p11-kit's freelocale), so no extcaps
# A sanitizer report makes tshark exit non-zero, and tests/conftest.py also fails any tshark run
# whose stderr has one. Arguments go to pytest (default: the whole suite), e.g.
#   scripts/sanitize.sh tests/test_options.py tests/test_truth.py tests/test_fuzz.py
#
# env: MPTCP_BUILD_DIR (default build-asan), MPTCP_CMAKE_ARGS (more cmake arguments),
#      MPTCP_SKIP_DEPS=1, MPTCP_EXTERNAL_CAPTURES (as scripts/test.sh)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export MPTCP_BUILD_DIR=${MPTCP_BUILD_DIR:-$REPO/build-asan}
export MPTCP_CMAKE_ARGS="${MPTCP_CMAKE_ARGS:-} -DMPTCP_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"

[ "${MPTCP_SKIP_DEPS:-0}" = 1 ] || "$REPO/scripts/setup-deps.sh"

CC=${CC:-cc}
ASAN=$(readlink -f "$("$CC" -print-file-name=libasan.so)")
[ -f "$ASAN" ] || { echo "sanitize.sh: no ASan runtime ($CC -print-file-name=libasan.so)" >&2; exit 1; }
mkdir -p "$MPTCP_BUILD_DIR/no-extcap"
export MPTCP_TSHARK_ENV="LD_PRELOAD=$ASAN ASAN_OPTIONS=detect_leaks=0:exitcode=99 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 WIRESHARK_EXTCAP_DIR=$MPTCP_BUILD_DIR/no-extcap"
echo "== sanitizers: $MPTCP_TSHARK_ENV"

# Build first (scripts/test.sh does too) to check that the plugin really is instrumented.
# shellcheck disable=SC2086
cmake -S "$REPO" -B "$MPTCP_BUILD_DIR" $MPTCP_CMAKE_ARGS >/dev/null
cmake --build "$MPTCP_BUILD_DIR" -j "$(nproc)" >/dev/null
SO=$(find "$MPTCP_BUILD_DIR/plugins" -path '*/epan/mptcp.so' | head -n1)
syms=$(nm -D --undefined-only "$SO")
grep -q '__asan_report' <<< "$syms" || { echo "sanitize.sh: $SO is not built with AddressSanitizer" >&2; exit 1; }
grep -q '__ubsan_handle' <<< "$syms" ||
    { echo "sanitize.sh: $SO is not built with UndefinedBehaviorSanitizer" >&2; exit 1; }

MPTCP_SKIP_DEPS=1 exec "$REPO/scripts/test.sh" "$@"
