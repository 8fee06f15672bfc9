#!/bin/bash
# scripts/valgrind.sh [CAPTURE...]
#
# tshark with the plugin under valgrind memcheck over the committed captures (captures/*.pcap*;
# or the given ones; VG_EXTERNAL=1 adds ../shared/captures/external), each `-n -V` single pass
# and `-n -V -2`, VG_JOBS (default 2) at a time. Reports the memcheck errors that are the
# plugin's, and fails (exit 1) if there is one.
#
# The plugin is built with debug info (-O1 -g, RelWithDebInfo flags) into build-valgrind/
# (MPTCP_BUILD_DIR). As Wireshark's tools/valgrind-wireshark.sh does,
# WIRESHARK_DEBUG_WMEM_OVERRIDE=simple and G_SLICE=always-malloc make every wmem/GSlice block a
# malloc block, so memcheck sees overruns of pinfo->pool/file-scope memory too. Leaks: only
# "definitely lost" blocks (--leak-check=full --show-leak-kinds=definite).
#
# Whose error it is: every TCP segment is dissected through the plugin's wrapper around TCP, so
# mptcp.so is on the stack of nearly every error in TCP and the protocols above it. An error
# counts as the plugin's when the innermost frame outside the C/GLib/valgrind runtime (libc,
# ld.so, libglib, vgpreload) is in mptcp.so: the plugin did the bad access, or called the
# runtime (memcpy, g_free, ...) that did it, or allocated the lost block. Errors with mptcp.so
# only deeper in the stack are listed as "through the plugin" (someone else's; not a failure).
# XML logs stay in <build>/valgrind/.
#
# env: MPTCP_BUILD_DIR (default build-valgrind), MPTCP_SKIP_DEPS=1, VG_JOBS (2), VG_EXTERNAL=1,
#      VG_ARGS (more valgrind arguments), MPTCP_EXTERNAL_CAPTURES
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${MPTCP_BUILD_DIR:-$REPO/build-valgrind}
JOBS=${VG_JOBS:-2}

# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
mptcp_deps valgrind
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

# shellcheck disable=SC2086
mptcp_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    ${MPTCP_CMAKE_ARGS:-} >/dev/null
SO=$(mptcp_plugin_so "$BUILD") || exit 2

caps=("$@")
if [ ${#caps[@]} -eq 0 ]; then
    for f in captures/*.pcap*; do [ -f "$f" ] && caps+=("$REPO/$f"); done
    if [ "${VG_EXTERNAL:-0}" = 1 ]; then
        EXT=${MPTCP_EXTERNAL_CAPTURES:-$REPO/../shared/captures/external}
        while IFS= read -r f; do caps+=("$f"); done < <(find "$EXT" -name '*.pcap*' -type f 2>/dev/null | sort)
    fi
fi
[ ${#caps[@]} -gt 0 ] || { echo "valgrind.sh: no captures" >&2; exit 2; }

OUT=$BUILD/valgrind
rm -rf "$OUT"; mkdir -p "$OUT/config" "$OUT/home"
chmod 0777 "$OUT"     # valgrind writes its XML as the (namespaced) tshark user
PRE=()
if [ "$(id -u)" = 0 ]; then   # tshark ignores WIRESHARK_PLUGIN_DIR as root
    if unshare --user --map-user=65534 --map-group=65534 true 2>/dev/null; then
        PRE=(unshare --user --map-user=65534 --map-group=65534)
    else
        PRE=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
fi
export HOME=$OUT/home WIRESHARK_CONFIG_DIR=$OUT/config WIRESHARK_PLUGIN_DIR=$BUILD/plugins TZ=UTC LC_ALL=C.UTF-8 \
    WIRESHARK_DEBUG_WMEM_OVERRIDE=simple G_SLICE=always-malloc
unset WIRESHARK_RUN_FROM_BUILD_DIRECTORY

echo "== valgrind $(valgrind --version | sed 's/valgrind-//'), $(tshark --version 2>/dev/null | head -n1)"
echo "== plugin: $SO; ${#caps[@]} captures x 2 modes, $JOBS at a time"
run_one() {  # $1 = index, $2 = capture, $3 = mode
    local xml=$OUT/$1-$3.xml args=(-n -V)
    [ "$3" = two_pass ] && args+=(-2)
    local t0=$SECONDS rc=0
    # shellcheck disable=SC2086
    "${PRE[@]}" valgrind --tool=memcheck --num-callers=40 --error-limit=no --leak-check=full \
        --show-leak-kinds=definite --errors-for-leak-kinds=definite --xml=yes --xml-file="$xml" ${VG_ARGS:-} \
        tshark "${args[@]}" -r "$2" > /dev/null 2> "$OUT/$1-$3.stderr" || rc=$?
    printf '%s\t%s\t%s\t%s\n' "$2" "$3" "$rc" "$((SECONDS - t0))" > "$OUT/$1-$3.done"
    echo "  $(basename "$2") [$3]: exit $rc, $((SECONDS - t0))s"
}
export -f run_one
export OUT
i=0
for c in "${caps[@]}"; do
    for m in single two_pass; do
        printf '%s\0%s\0%s\0' "$i" "$c" "$m"
    done
    i=$((i + 1))
done | PRE="${PRE[*]}" xargs -0 -n 3 -P "$JOBS" bash -c 'PRE=($PRE); run_one "$@"' _

/usr/bin/python3 - "$OUT" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET

out = sys.argv[1]
RUNTIME = ("/libc.so", "/libc-", "/ld-linux", "/libglib-2.0", "/vgpreload_", "/libpthread", "/libm.so")
ours, through, others, runs, failed_runs = [], [], 0, 0, []


def frames(stack):
    return [(f.findtext("obj") or "", f.findtext("fn") or "?", f.findtext("file") or "", f.findtext("line") or "")
            for f in stack.findall("frame")] if stack is not None else []


for xml in sorted(glob.glob(os.path.join(out, "*.xml"))):
    runs += 1
    done = xml[:-4] + ".done"
    if os.path.exists(done):
        cap, mode, rc, secs = open(done).read().rstrip("\n").split("\t")
        if rc != "0":
            failed_runs.append(f"{os.path.basename(cap)} [{mode}] exit {rc}")
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as e:
        failed_runs.append(f"{xml}: unreadable XML ({e})")
        continue
    for err in root.findall("error"):
        fr = frames(err.find("stack"))
        what = err.findtext("what") or err.findtext("xwhat/text") or err.findtext("kind")
        inner = next((f for f in fr if not any(r in f[0] for r in RUNTIME)), None)
        desc = f"{err.findtext('kind')}: {what}\n" + "\n".join(
            f"    {fn} ({os.path.basename(obj)}{' ' + os.path.basename(fl) + ':' + ln if fl else ''})"
            for obj, fn, fl, ln in fr[:14])
        if inner and inner[0].endswith("/mptcp.so"):
            ours.append(f"{os.path.basename(xml)}: {desc}")
        elif any(f[0].endswith("/mptcp.so") for f in fr):
            through.append(f"{os.path.basename(xml)}: {desc}")
        else:
            others += 1

print(f"valgrind: {runs} runs; plugin errors: {len(ours)}; errors of others through the plugin's TCP wrapper: "
      f"{len(through)}; other errors (not ours, ignored): {others}; runs with a non-zero exit: {len(failed_runs)}")
for d in through[:20]:
    print("through the plugin (not ours):", d)
for d in ours:
    print("PLUGIN ERROR:", d)
for d in failed_runs:
    print("RUN FAILED:", d)
sys.exit(1 if ours or failed_runs else 0)
EOF
