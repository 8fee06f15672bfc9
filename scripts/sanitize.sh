#!/bin/bash
# scripts/sanitize.sh [PYTEST_ARG...]
#
# The test suite against a build of the plugin with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DMPTCP_SANITIZE=ON: the plugin only; tshark and libwireshark are Debian's, uninstrumented).
# Builds into build-asan/ (MPTCP_BUILD_DIR) and runs scripts/test.sh (ctest + pytest) with
# MPTCP_TSHARK_ENV set (scripts/lib.sh mptcp_asan_env says what and why), which tests/conftest.py
# and tests/fuzz.py apply to every tshark they run.
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

# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
mptcp_deps
mptcp_asan_env "$MPTCP_BUILD_DIR" || exit 1
echo "== sanitizers: $MPTCP_TSHARK_ENV"

# Build first (scripts/test.sh does too) to check that the plugin really is instrumented.
# shellcheck disable=SC2086
mptcp_build "$MPTCP_BUILD_DIR" $MPTCP_CMAKE_ARGS >/dev/null
SO=$(mptcp_plugin_so "$MPTCP_BUILD_DIR")
syms=$(nm -D --undefined-only "$SO")
grep -q '__asan_report' <<< "$syms" || { echo "sanitize.sh: $SO is not built with AddressSanitizer" >&2; exit 1; }
grep -q '__ubsan_handle' <<< "$syms" ||
    { echo "sanitize.sh: $SO is not built with UndefinedBehaviorSanitizer" >&2; exit 1; }

MPTCP_SKIP_DEPS=1 exec "$REPO/scripts/test.sh" "$@"
