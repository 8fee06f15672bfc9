#!/bin/bash
# scripts/demo.sh [CAPTURE] [TSHARK_ARG...]
#
# Installs missing build dependencies (scripts/setup-deps.sh), builds the plugin into build/
# and runs tshark with the plugin loaded from the build tree on a capture, printing a table
# of MPTCP fields for every packet that carries an MPTCP option or MPTCP analysis.
#
# CAPTURE defaults to captures/v1-3sub.pcap, else the first captures/*.pcap, else
# ../shared/captures/external/tcpdump-tests/mptcp-v1.pcap. Extra arguments go to tshark
# (e.g. -o mptcp.analyze_mappings:FALSE, or -Y to narrow the rows).
#
# tshark ignores WIRESHARK_PLUGIN_DIR when run as root, so as root it runs as uid 65534 in a
# user namespace (unshare --user --map-user=65534 --map-group=65534); file access stays root's.
# It always uses an empty, temporary config dir and HOME, so personal preferences and an
# installed copy of the plugin in ~/.local do not interfere.
#
# env: MPTCP_BUILD_DIR (default build), MPTCP_CMAKE_ARGS (extra cmake arguments),
#      DEMO_ROWS (rows to print, default 60; 0 = all)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${MPTCP_BUILD_DIR:-$REPO/build}
ROWS=${DEMO_ROWS:-60}

# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
"$REPO/scripts/setup-deps.sh"

# shellcheck disable=SC2086
mptcp_build "$BUILD" ${MPTCP_CMAKE_ARGS:-}
SO=$(mptcp_plugin_so "$BUILD") || exit 1

CAP=
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    CAP=$1; shift
elif [ -f captures/v1-3sub.pcap ]; then
    CAP=captures/v1-3sub.pcap
else
    for f in captures/*.pcap; do
        [ -f "$f" ] && { CAP=$f; break; }
    done
    [ -n "$CAP" ] || CAP=$REPO/../shared/captures/external/tcpdump-tests/mptcp-v1.pcap
fi
[ -r "$CAP" ] || { echo "demo: capture $CAP not found" >&2; exit 1; }

TMP=$(mktemp -d /tmp/mptcp-demo.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/config" "$TMP/home"
RUN=(env HOME="$TMP/home" WIRESHARK_CONFIG_DIR="$TMP/config" WIRESHARK_PLUGIN_DIR="$BUILD/plugins"
     TZ=UTC LC_ALL=C.UTF-8 tshark)
if [ "$(id -u)" = 0 ]; then
    if unshare --user --map-user=65534 --map-group=65534 true 2>/dev/null; then
        RUN=(unshare --user --map-user=65534 --map-group=65534 "${RUN[@]}")
    else   # no user namespaces: a real uid switch (needs the build tree to be world-readable)
        chmod 0755 "$TMP" "$TMP/config" "$TMP/home"
        RUN=(setpriv --reuid=65534 --regid=65534 --clear-groups "${RUN[@]}")
    fi
fi

PLUG=$("${RUN[@]}" -G plugins | grep -E '^mptcp\.so[[:space:]]' || true)
[ -n "$PLUG" ] || { echo "demo: tshark did not load $SO" >&2; exit 1; }
echo "== $("${RUN[@]}" --version | head -n1)"
echo "== plugin: $PLUG"
echo "== $("${RUN[@]}" -G decodes | grep -P '^tcp\.option\t30\t')  (TCP option 30 -> the plugin)"
echo "== capture: $CAP"
echo

FIELDS=(frame.number tcp.stream mptcp.stream mptcp.subflow tcp.options.mptcp.subtype mptcp.dsn mptcp.ack
        mptcp.reinjection_of)
ARGS=(-r "$CAP" -Y 'mptcp or tcp.options.mptcp.subtype' -T fields -E header=y -E separator=/t
      -E occurrence=a -E aggregator=,)
for f in "${FIELDS[@]}"; do ARGS+=(-e "$f"); done
"${RUN[@]}" "${ARGS[@]}" "$@" > "$TMP/table.tsv"

# subtype names for the "subtype" column (RFC 8684 section 3)
awk -F'\t' -v rows="$ROWS" '
BEGIN {
    split("MP_CAPABLE MP_JOIN DSS ADD_ADDR REMOVE_ADDR MP_PRIO MP_FAIL MP_FASTCLOSE MP_TCPRST", n, " ")
    for (i = 1; i <= 9; i++) name[i - 1] = n[i]
    fmt = "%-7s %-6s %-6s %-7s %-24s %-22s %-22s %s\n"
}
NR == 1 {
    printf fmt, "frame", "tcp", "mptcp", "subflow", "subtype", "mptcp.dsn", "mptcp.ack", "reinjection_of"
    next
}
{
    total++
    if (rows > 0 && total > rows) next
    st = ""; k = split($5, s, ",")
    for (i = 1; i <= k; i++) st = st (i > 1 ? "," : "") (s[i] in name ? name[s[i]] : s[i])
    printf fmt, $1, $2, $3, $4, st, $6, $7, $8
}
END {
    if (rows > 0 && total > rows) printf "... %d more rows (DEMO_ROWS=0 prints all)\n", total - rows
    printf "%d packets with MPTCP options or analysis\n", total
}' "$TMP/table.tsv"
