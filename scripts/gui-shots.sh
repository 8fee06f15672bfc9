#!/bin/sh
# scripts/gui-shots.sh [OUTDIR]
#
# Regenerates the README's GUI screenshots (default OUTDIR: docs/img) with a real Wireshark (Qt)
# under a private Xvfb, the plugin loaded from a build tree:
#   gui-packet-list.png    v1-blackhole.pcap filtered on mptcp.reinjection_of: "[MPTCP Reinjection]"
#                          Info marks, the [MPTCP analysis] subtree of a reinjection (links, latency,
#                          expert item)
#   gui-conversations.png  Statistics > Conversations, MPTCP tab (v1-2conn.pcap: one row per connection)
#   gui-mptcp-stats.png    Statistics > MPTCP Statistics (v1-2conn.pcap)
#   gui-vantage-stats.png  the same dialog with a peer capture (v1-vantage-client.pcap, the server's
#                          capture as mptcp.peer_capture), scrolled to its right end: peer stream,
#                          clock offset estimate, one-way delays, losses, useful/wasted reinjections
#   gui-follow.png         Follow MPTCP Stream (v1-http.pcap) from the Conversations dialog, only with WS_GUI_CHROOT:
#                          Wireshark 4.0's Follow menu lists only its built-in followers, 4.2 and later
#                          list every registered one
#   gui-profile-packets.png  the MPTCP configuration profile (profiles/MPTCP, wireshark -C MPTCP):
#                          its columns, colours and filter buttons (v1-blackhole.pcap around the
#                          first reinjections)
#   gui-io-blackhole.png   its I/O graph, Statistics > I/O Graphs at 10 ms: DSN per subflow,
#                          reinjections and the server's DATA_ACK of v1-blackhole.pcap
#   gui-io-4sub.png        the same for v1-4sub.pcap (4 subflows, path 4 blackholed for 1.5 s)
#   gui-io-owd.png         its one-way delay graphs (only those ticked) of v1-vantage-client.pcap
#                          with the server's capture as mptcp.peer_capture
#
# Needs (host, root): wireshark (Qt), xvfb, xdotool, imagemagick, x11-utils, cmake and the plugin's
# build dependencies; user namespaces (the GUI runs as uid 65534, which honours
# WIRESHARK_PLUGIN_DIR; see ../shared/docs/compat.md section 3).
# env: MPTCP_BUILD_DIR (build dir of the host plugin, default <repo>/build-gui), WS_GUI_DISPLAY (:97),
#      WS_GUI_CHROOT (a chroot with Wireshark >= 4.2's GUI, e.g. /srv/ws-compat/trixie) and
#      WS_GUI_CHROOT_PLUGINS (the plugin built for it: a <ver>/epan/mptcp.so tree, e.g. what
#      scripts/matrix.sh built: <chroot>/tmp/ws-matrix/trixie/plugins)
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/docs/img}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
BUILD=${MPTCP_BUILD_DIR:-$REPO/build-gui}
DISP=${WS_GUI_DISPLAY:-:97}
CAPS=$REPO/captures
for t in Xvfb xdotool import xdpyinfo wireshark cmake; do
  command -v $t >/dev/null || { echo "gui-shots: $t missing (apt-get install wireshark xvfb xdotool imagemagick x11-utils)" >&2; exit 2; }
done

cmake -S "$REPO" -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
PLUG=$BUILD/plugins

TMP=$(mktemp -d /tmp/gui-shots.XXXXXX)
chmod 755 "$TMP"
XPID=; WPID=
cleanup() {
  [ -z "$WPID" ] || kill "$WPID" 2>/dev/null || :
  [ -z "$XPID" ] || kill "$XPID" 2>/dev/null || :
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
Xvfb "$DISP" -screen 0 1600x1000x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 & XPID=$!
export DISPLAY="$DISP"
i=0; until xdpyinfo >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 50 ] || { cat "$TMP/xvfb.log"; exit 1; }; sleep 0.2; done

# A fresh personal configuration per run: fixed main window geometry, Conversations shows MPTCP only,
# and the repository's MPTCP profile in its profiles folder (used with -C MPTCP).
fresh_cfg() {
  rm -rf "$TMP/cfg"; mkdir -p "$TMP/cfg/profiles"
  cp -r "$REPO/profiles/MPTCP" "$TMP/cfg/profiles/"
  # IO_TICK (a graph name prefix): only those graphs ticked, as a user would tick them
  [ -z "${IO_TICK:-}" ] || sed -i -e 's/^"Enabled"/"Disabled"/' \
    -e "s/^\"Disabled\",\"$IO_TICK/\"Enabled\",\"$IO_TICK/" "$TMP/cfg/profiles/MPTCP/io_graphs"
  printf '%s\n' 'gui.geometry_main_x: 0' 'gui.geometry_main_y: 0' 'gui.geometry_main_width: 1580' \
    'gui.geometry_main_height: 980' 'gui.geometry_main_maximized: FALSE' > "$TMP/cfg/recent_common"
  printf '%s\n' 'gui.conversation_tabs: MPTCP' 'gui.endpoint_tabs: MPTCP' > "$TMP/cfg/recent"
  chmod -R a+rwX "$TMP/cfg"
}

# start CAPTURE [wireshark args]: the host GUI with the plugin; sets W (main window) and WPID
start() {
  cap=$1; shift
  fresh_cfg
  unshare --user --map-user=65534 --map-group=65534 env HOME="$TMP" XDG_RUNTIME_DIR="$TMP" \
    WIRESHARK_CONFIG_DIR="$TMP/cfg" WIRESHARK_PLUGIN_DIR="$PLUG" wireshark -r "$cap" "$@" >"$TMP/ws.log" 2>&1 &
  WPID=$!
  wait_main "$cap"
}

wait_main() {
  base=$(basename "$1")
  i=0; until W=$(xdotool search --name "^$base\$" 2>/dev/null | head -n1) && [ -n "$W" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$TMP/ws.log"; exit 1; }; sleep 0.2; done
  sleep 4   # the packet list and the first selection
}

# window TITLE_REGEX: waits for it, prints its id
window() {
  i=0; until D=$(xdotool search --name "$1" 2>/dev/null | head -n1) && [ -n "$D" ]; do
    i=$((i + 1)); [ $i -lt 75 ] || { echo "gui-shots: no window '$1'" >&2; cat "$TMP/ws.log" >&2; exit 1; }; sleep 0.2; done
  echo "$D"
}

stop() { kill "$WPID" 2>/dev/null || :; wait "$WPID" 2>/dev/null || :; WPID=; sleep 0.5; }

# 1. Packet list: reinjections, and the analysis subtree of one (a click on the details pane's
#    first row, Frame; Down x3 to Transmission Control Protocol; Shift+Right expands its subtrees;
#    End shows the last of them, the [MPTCP analysis] one).
start "$CAPS/v1-blackhole.pcap" -Y "mptcp.reinjection_of"
xdotool windowfocus --sync "$W"; sleep 0.5
xdotool mousemove --window "$W" 200 535 click 1; sleep 0.5
xdotool key Down Down Down; sleep 0.3; xdotool key shift+Right; sleep 0.5
xdotool key End; sleep 1
import -window "$W" "$OUT/gui-packet-list.png"
stop

# 2. Conversations, MPTCP tab (Statistics is alt+s; Conversations is its 4th item)
start "$CAPS/v1-2conn.pcap"
xdotool windowfocus --sync "$W"; xdotool key alt+s; sleep 1; xdotool key Down Down Down Return
D=$(window 'Conversations')
xdotool windowsize "$D" 1500 420; xdotool windowmove "$D" 0 0; sleep 2
import -window "$D" "$OUT/gui-conversations.png"
stop

# 3. Statistics > MPTCP Statistics (opened with -z: the same dialog as the menu item)
start "$CAPS/v1-2conn.pcap" -z mptcp,stat
D=$(window 'MPTCP Statistics')
xdotool windowsize "$D" 1590 470; xdotool windowmove "$D" 0 0; sleep 2
import -window "$D" "$OUT/gui-mptcp-stats.png"
stop

# 3b. The same with a peer capture, scrolled to the right end (clicks on the scroll bar's trough)
start "$CAPS/v1-vantage-client.pcap" -o "mptcp.peer_capture:$CAPS/v1-vantage-server.pcap" -z mptcp,stat
D=$(window 'MPTCP Statistics')
xdotool windowsize "$D" 1590 470; xdotool windowmove "$D" 0 0; sleep 2
for _ in $(seq 30); do xdotool mousemove --window "$D" 1560 388 click 1; sleep 0.1; done; sleep 1
import -window "$D" "$OUT/gui-vantage-stats.png"
stop

# 4. The MPTCP profile's packet list: Go to packet (ctrl+g) 775, in a run of reinjections on subflow 0
#    between subflow 1 and 2 packets
start "$CAPS/v1-blackhole.pcap" -C MPTCP
xdotool windowfocus --sync "$W"; xdotool key ctrl+g; sleep 0.5; xdotool type 775; xdotool key Return; sleep 1
import -window "$W" "$OUT/gui-profile-packets.png"
stop

# 5. The MPTCP profile's I/O graph (Statistics is alt+s; I/O Graphs is its 7th item). Coordinates
#    for 4.0's dialog at 1590x990: the interval box (10 ms is 6 up from 1 sec), the splitter above
#    the graph list (dragged up to show every graph), the Graph Name and Display Filter column edges,
#    the Reset button.
io_graph() {
  cap=$1; png=$2; shift 2
  start "$CAPS/$cap" -C MPTCP "$@"
  xdotool windowfocus --sync "$W"; xdotool key alt+s; sleep 1; xdotool key Down Down Down Down Down Down Return
  D=$(window 'I/O Graph')
  xdotool windowsize "$D" 1590 990; xdotool windowmove "$D" 0 0; sleep 2
  xdotool mousemove --window "$D" 644 934 click 1; sleep 0.7; xdotool key Up Up Up Up Up Up Return; sleep 3
  drag() { xdotool mousemove --window "$D" "$1" "$2" mousedown 1 sleep 0.2 mousemove --window "$D" "$1" $((($2 + $4) / 2)) \
           sleep 0.2 mousemove --window "$D" $((($1 + $3) / 2)) "$4" sleep 0.2 mousemove --window "$D" "$3" "$4" sleep 0.2 mouseup 1; sleep 0.7; }
  drag 700 805 700 685; drag 219 698 339 698; drag 443 698 890 698
  xdotool mousemove --window "$D" 1537 934 click 1; sleep 2        # Reset: the whole capture
  # with IO_TICK the ticked graphs are the last ones: the list scrolled to its end (a row, End)
  [ -z "${IO_TICK:-}" ] || { xdotool mousemove --window "$D" 171 740 click 1 sleep 0.3 key End; sleep 1; }
  import -window "$D" "$OUT/$png"
  stop
}
io_graph v1-blackhole.pcap gui-io-blackhole.png
io_graph v1-4sub.pcap gui-io-4sub.png
IO_TICK="One-way delay"
io_graph v1-vantage-client.pcap gui-io-owd.png -o "mptcp.peer_capture:$CAPS/v1-vantage-server.pcap"
IO_TICK=

# 6. Follow MPTCP Stream (Wireshark >= 4.2 in a chroot): Statistics > Conversations, MPTCP tab,
#    the connection's row, "Follow Stream..." (coordinates for 4.4's dialog at 1500x500).
#    (Analyze > Follow > MPTCP Stream works too: it is enabled for packets whose layers include
#    "mptcp", as the plugin's do.)
if [ -n "${WS_GUI_CHROOT:-}" ]; then
  CHR=$WS_GUI_CHROOT
  CPLUG=$(readlink -f "${WS_GUI_CHROOT_PLUGINS:?set WS_GUI_CHROOT_PLUGINS}")
  [ -x "$CHR/usr/bin/wireshark" ] || { echo "gui-shots: no $CHR/usr/bin/wireshark" >&2; exit 2; }
  fresh_cfg
  cap=$CAPS/${WS_GUI_FOLLOW_CAPTURE:-v1-http.pcap}
  export TMP CAPS CPLUG
  R=$CHR unshare --mount sh -c '
    mount -t proc proc "$R/proc" &&
    for d in /tmp/.X11-unix "$TMP" "$CAPS" "$CPLUG"; do mkdir -p "$R$d" && mount --bind "$d" "$R$d" || exit 2; done &&
    exec unshare --user --map-user=65534 --map-group=65534 --root="$R" --wd=/ "$@"' sh \
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY="$DISP" HOME="$TMP" XDG_RUNTIME_DIR="$TMP" \
      WIRESHARK_CONFIG_DIR="$TMP/cfg" WIRESHARK_PLUGIN_DIR="$CPLUG" \
      wireshark -r "$cap" >"$TMP/ws.log" 2>&1 &
  WPID=$!
  wait_main "$cap"
  xdotool windowfocus --sync "$W"; xdotool key alt+s; sleep 1; xdotool key Down Down Down Return
  D=$(window 'Conversations')
  xdotool windowsize "$D" 1500 500; xdotool windowmove "$D" 0 0; sleep 2
  xdotool mousemove --window "$D" 600 62 click 1; sleep 0.5      # the first connection
  xdotool mousemove --window "$D" 115 188 click 1                 # Follow Stream...
  F=$(window 'Follow MPTCP Stream')
  xdotool windowsize "$F" 1200 760; xdotool windowmove "$F" 0 0; sleep 3
  import -window "$F" "$OUT/gui-follow.png"
  stop
fi
ls -l "$OUT"
