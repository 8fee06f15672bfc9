#!/bin/bash
# scripts/compare-output.sh snapshot OUTDIR [BUILD_DIR]
# scripts/compare-output.sh diff OLD_OUTDIR NEW_OUTDIR
# scripts/compare-output.sh rev REV [OUTDIR]       (build REV in a temporary worktree and snapshot it)
#
# Behaviour check for refactoring: "snapshot" runs tshark with the plugin of BUILD_DIR (default
# build) on every committed capture and every external one (../shared/captures/external, if
# present) and writes, per capture, `-V` (single pass), `-V -2` and `-z mptcp,stat` as text, CSV
# and JSON into OUTDIR. "diff" compares two snapshots byte for byte (exit 1 on any difference,
# listing the files that differ). "rev" makes the snapshot of an older commit, e.g.
#   scripts/compare-output.sh rev d1c9bd9 /tmp/out-old
#   scripts/compare-output.sh snapshot /tmp/out-new build
#   scripts/compare-output.sh diff /tmp/out-old /tmp/out-new
# tshark runs as uid 65534 when started as root (it ignores WIRESHARK_PLUGIN_DIR as root), with
# an empty config dir, TZ=UTC and WIRESHARK_ABORT_ON_DISSECTOR_BUG=1. env: COMPARE_JOBS (nproc),
# MPTCP_EXTERNAL_CAPTURES (default ../shared/captures/external).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXT=${MPTCP_EXTERNAL_CAPTURES:-$REPO/../shared/captures/external}
JOBS=${COMPARE_JOBS:-$(nproc)}
die() { echo "compare-output: $*" >&2; exit 2; }
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"

captures() {
    find "$REPO/captures" -maxdepth 1 \( -name '*.pcap' -o -name '*.pcapng' \) | sort
    [ -d "$EXT" ] && find "$EXT" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort
    return 0
}

# one capture: NAME.V, NAME.V2, NAME.stat.{txt,csv,json}
one() {
    local cap=$1 out=$2 plugins=$3 name
    name=$(echo "${cap#"$REPO"/}" | sed 's|^\.\./||; s|[/]|_|g')
    local cfg; cfg=$(mktemp -d)
    chmod 755 "$cfg"
    local run=(env -i PATH=/usr/bin:/bin HOME="$cfg" WIRESHARK_CONFIG_DIR="$cfg" TZ=UTC LC_ALL=C.UTF-8
               WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 WIRESHARK_PLUGIN_DIR="$plugins")
    [ "$(id -u)" = 0 ] && run=(unshare --user --map-user=65534 --map-group=65534 "${run[@]}")
    "${run[@]}" tshark -r "$cap" -V > "$out/$name.V" 2>&1 || echo "exit $?" >> "$out/$name.V"
    "${run[@]}" tshark -r "$cap" -V -2 > "$out/$name.V2" 2>&1 || echo "exit $?" >> "$out/$name.V2"
    local f
    for f in text csv json; do
        "${run[@]}" tshark -r "$cap" -q -z "mptcp,stat,$f" > "$out/$name.stat.$f" 2>&1 || echo "exit $?" >> "$out/$name.stat.$f"
    done
    rm -rf "$cfg"
}

snapshot() {
    local out=$1 build=${2:-$REPO/build}
    build=$(cd "$build" && pwd)
    [ -d "$build/plugins" ] || die "no plugins dir in $build (build the plugin first)"
    mkdir -p "$out"; out=$(cd "$out" && pwd)
    export -f one; export REPO
    captures | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {} "$out" "$build/plugins"
    echo "compare-output: $(find "$out" -type f | wc -l) files in $out"
}

case ${1:-} in
    snapshot) [ $# -ge 2 ] || die "usage: $0 snapshot OUTDIR [BUILD_DIR]"; snapshot "$2" "${3:-}" ;;
    diff)
        [ $# -eq 3 ] || die "usage: $0 diff OLD NEW"
        if diff -rq "$2" "$3"; then echo "compare-output: identical ($(find "$2" -type f | wc -l) files)"
        else echo "compare-output: DIFFERENT" >&2; exit 1; fi ;;
    rev)
        [ $# -ge 2 ] || die "usage: $0 rev REV [OUTDIR]"
        wt=$(mktemp -d); out=${3:-/tmp/compare-$2}
        git -C "$REPO" worktree add -q --detach "$wt" "$2"
        trap 'git -C "$REPO" worktree remove --force "$wt"' EXIT
        (REPO=$wt; mptcp_build "$wt/build" >/dev/null)     # the old revision's sources
        # the old revision's plugin, the current checkout's captures
        snapshot "$out" "$wt/build" ;;
    *) die "usage: $0 snapshot|diff|rev ..." ;;
esac
