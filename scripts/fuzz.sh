#!/bin/bash
# scripts/fuzz.sh [--long] [--sanitize] [FUZZ_ARG...]
#
# Builds the plugin and fuzzes it with tests/fuzz.py: every committed and external capture
# mutated with editcap -E (fixed rates, seeds and offsets: deterministic) and captures from the
# MPTCP-targeted generator (tests/fuzzgen.py), each dissected with -V single pass and -V -2 under
# WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 and WIRESHARK_DEBUG_WMEM_OVERRIDE=strict; a crash, a dissector
# bug, a hang (timeout) or a sanitizer report fails. Prints the counts; failing inputs are kept
# in <build>/fuzz-failures with the command that reproduces each.
#   (default)   the bounded CI mode (the same plan as tests/test_fuzz.py)
#   --long      >= 10,000 mutated files (see tests/fuzz.py for the plan), 2 tshark at a time
#   --sanitize  use the ASan/UBSan build of the plugin (build-asan, as scripts/sanitize.sh)
# Other arguments go to tests/fuzz.py (--jobs N, --limit N, --only captures|generated, --json F).
#
# env: MPTCP_BUILD_DIR (default build, or build-asan with --sanitize), MPTCP_CMAKE_ARGS,
#      MPTCP_SKIP_DEPS=1, MPTCP_EXTERNAL_CAPTURES
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
MODE=ci SAN=0 ARGS=()
for a in "$@"; do
    case $a in
        --long) MODE=long ;;
        --sanitize) SAN=1 ;;
        *) ARGS+=("$a") ;;
    esac
done
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
mptcp_deps

CMAKE_ARGS=${MPTCP_CMAKE_ARGS:-}
if [ "$SAN" = 1 ]; then
    BUILD=${MPTCP_BUILD_DIR:-$REPO/build-asan}
    CMAKE_ARGS="$CMAKE_ARGS -DMPTCP_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
    mptcp_asan_env "$BUILD" || exit 1
else
    BUILD=${MPTCP_BUILD_DIR:-$REPO/build}
fi
# shellcheck disable=SC2086
mptcp_build "$BUILD" $CMAKE_ARGS >/dev/null
echo "== fuzz.sh: $MODE mode, plugin from $BUILD$([ "$SAN" = 1 ] && echo ' (ASan/UBSan)'), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
exec /usr/bin/python3 "$REPO/tests/fuzz.py" --mode "$MODE" --build-dir "$BUILD" ${ARGS[@]+"${ARGS[@]}"}
