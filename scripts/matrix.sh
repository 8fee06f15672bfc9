#!/bin/bash
# scripts/matrix.sh [PYTEST_ARG...]
#
# Builds the plugin and runs the whole test suite against every Wireshark that Debian packages
# here: the host's 4.0 (bookworm), 4.4 (trixie chroot) and 4.6 (sid chroot), using
# ../shared/tools/run-matrix.sh (root only; it debootstraps a missing chroot, ~1-2 min each).
# Inside each target, as uid 65534 with the plugin built by run-matrix, it checks that tshark
# lists mptcp.so as a dissector, that TCP option 30 goes to the plugin and that a capture
# dissects, then runs scripts/test.sh (pytest; ctest if registered) with the same build dir.
# Arguments go to pytest. The captures dir (../shared/captures) is bind-mounted read-only.
#
# env: WS_SUITES (default "host trixie sid"), WS_COMPAT_ROOT (/srv/ws-compat),
#      RUN_MATRIX (path of run-matrix.sh); the rest of run-matrix.sh's settings pass through.
# Exit status: run-matrix's (0 = every version passed).
#
# Internal: `scripts/matrix.sh --inner [PYTEST_ARG...]` is the test command run in each target.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXTRA_PKGS="libgcrypt20-dev python3 python3-pytest tcpdump util-linux dpkg-dev file"

if [ "${1:-}" = --inner ]; then
    shift
    # run-matrix.sh has built and installed the plugin: WS_BUILD_DIR, WS_PLUGIN_DIR, WS_VERSION.
    : "${WS_BUILD_DIR:?run by run-matrix.sh only}" "${WS_PLUGIN_DIR:?}" "${MPTCP_CAPTURES:?}"
    cd "$REPO"
    T=$(mktemp -d)
    trap 'rm -rf "$T"' EXIT
    ts() { env HOME="$T" WIRESHARK_CONFIG_DIR="$T" WIRESHARK_PLUGIN_DIR="$WS_PLUGIN_DIR" tshark "$@"; }
    fail() { echo "matrix[$WS_SUITE]: FAIL: $*" >&2; exit 1; }
    echo "== $(ts --version | head -n1)"
    ts -G plugins | grep -E '^mptcp\.so[[:space:]]+[0-9][^[:space:]]*[[:space:]]+dissector[[:space:]]' \
        || fail "tshark -G plugins does not list mptcp.so as a dissector"
    # option 30 goes to the "mptcp" protocol (the plugin's handle replaces the built-in's), and a
    # field only the plugin registers is there
    ts -G decodes | grep -P '^tcp\.option\t30\tmptcp$' \
        || fail "tshark -G decodes does not send tcp.option 30 to mptcp"
    ts -G fields | grep -qP '^F\t[^\t]*\tmptcp\.analysis\.latency\t' \
        || fail "tshark -G fields has no mptcp.analysis.latency (plugin not active)"
    cap=$MPTCP_CAPTURES/external/tcpdump-tests/mptcp-v1.pcap
    if [ -r "$cap" ]; then
        ts -r "$cap" -T fields -e mptcp.stream -e mptcp.dsn > "$T/f.txt" || fail "tshark -r $cap failed"
        n=$(awk -F'\t' '$2 != ""' "$T/f.txt" | wc -l)
        echo "$cap: $(wc -l < "$T/f.txt") packets, $n with mptcp.dsn"
        [ "$n" -gt 0 ] || fail "no mptcp.dsn in $cap"
    else
        echo "matrix[$WS_SUITE]: $cap absent, dissection check skipped"
    fi
    # The suite itself, on run-matrix's build; nothing written into the (shared) source tree.
    export MPTCP_BUILD_DIR=$WS_BUILD_DIR MPTCP_EXTERNAL_CAPTURES=$MPTCP_CAPTURES/external PYTHONDONTWRITEBYTECODE=1
    exec "$REPO/scripts/test.sh" -p no:cacheprovider --basetemp="$WS_BUILD_DIR/pytest-tmp" "$@"
fi

[ "$(id -u)" = 0 ] || { echo "matrix.sh: must run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
RUN_MATRIX=${RUN_MATRIX:-$REPO/../shared/tools/run-matrix.sh}
[ -x "$RUN_MATRIX" ] || { echo "matrix.sh: $RUN_MATRIX not found" >&2; exit 2; }
"$REPO/scripts/setup-deps.sh"
CAPS=$(cd "$REPO/../shared/captures" 2>/dev/null && pwd -P) || CAPS=
[ -n "$CAPS" ] || { CAPS=/nonexistent; echo "matrix.sh: no ../shared/captures: capture checks are skipped"; }
ROOT=${WS_COMPAT_ROOT:-/srv/ws-compat}

# run-matrix.sh installs WS_EXTRA_PKGS only when it creates a chroot; add them to one that
# exists already (e.g. created by someone else's run).
for s in ${WS_SUITES:-host trixie sid}; do
    R=$ROOT/$s
    [ "$s" != host ] && [ -e "$R/.ws-compat-ready" ] || continue
    missing=
    for p in $EXTRA_PKGS; do
        chroot "$R" dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
    done
    [ -n "$missing" ] || continue
    echo "matrix.sh: [$s] installing$missing"
    R=$R M=$missing unshare --mount sh -c 'mount -t proc proc "$R/proc" && chroot "$R" sh -c "
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $M &&
        apt-get clean"'
done

binds=${WS_BINDS:-}
[ ! -d "$CAPS" ] || binds="$binds $CAPS"
# Inside a chroot the source is at /src; on the host run-matrix.sh uses $REPO itself.
export WS_EXTRA_PKGS="${WS_EXTRA_PKGS:-} $EXTRA_PKGS" WS_BINDS="${binds# }"
cd /
exec "$RUN_MATRIX" "$REPO" env MPTCP_CAPTURES="$CAPS" scripts/matrix.sh --inner "$@"
