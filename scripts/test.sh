#!/bin/bash
# scripts/test.sh [PYTEST_ARG...]
#
# Runs every test: installs missing Debian packages (scripts/setup-deps.sh), builds the plugin,
# runs the C unit tests with ctest (when any are registered) and the pytest suite in tests/
# with Debian's /usr/bin/python3 (a python3 earlier on PATH may lack pytest). Arguments go to
# pytest, e.g. `scripts/test.sh -k registration -x` or `scripts/test.sh tests/test_registration.py`.
# Works from any directory, as root (tshark then runs as uid 65534 in a user namespace, see
# tests/conftest.py) and as a normal user. Exit status: non-zero if anything failed.
#
# env: MPTCP_BUILD_DIR (default build; the pytest fixtures use the same dir),
#      MPTCP_CMAKE_ARGS (extra cmake arguments), MPTCP_SKIP_DEPS=1 (do not run setup-deps.sh),
#      MPTCP_EXTERNAL_CAPTURES (default ../shared/captures/external, see tests/conftest.py)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export MPTCP_BUILD_DIR=${MPTCP_BUILD_DIR:-$REPO/build}
PY=/usr/bin/python3

# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
mptcp_deps

echo "== build ($MPTCP_BUILD_DIR)"
# shellcheck disable=SC2086
mptcp_build "$MPTCP_BUILD_DIR" ${MPTCP_CMAKE_ARGS:-}

rc=0
ntests=$(ctest --test-dir "$MPTCP_BUILD_DIR" -N 2>/dev/null | sed -n 's/^Total Tests: *//p')
if [ "${ntests:-0}" -gt 0 ]; then
    echo "== ctest ($ntests tests)"
    ctest --test-dir "$MPTCP_BUILD_DIR" --output-on-failure -j "$(nproc)" || rc=1
else
    echo "== ctest: no C unit tests registered"
fi

# Run tests/ unless the arguments name test files or directories themselves.
paths=(tests)
for a in "$@"; do
    case $a in -*) ;; *) [ -e "$a" ] && paths=() && break ;; esac
done
echo "== pytest ($("$PY" -m pytest --version 2>&1 | head -n1))"
"$PY" -m pytest -q "${paths[@]}" "$@" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "test.sh: FAILED (exit $rc)" >&2
fi
exit "$rc"
