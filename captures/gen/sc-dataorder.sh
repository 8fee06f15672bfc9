# shellcheck shell=bash
# [dataorder] scenarios (sourced by generate.sh): data-level flight and windows, head-of-line waits.
#
#   slowread  v1-slowread.pcap + v1-slowread.reads.json: the client reads its download slowly through a
#             small receive buffer (SO_RCVBUF 16384, recv(2048) every 10 ms, one 0.15 s stall after
#             60000 bytes): the server is window-limited and sees zero windows at the data level.
#             The JSON is the client's read log (traffic.py --read-log): SO_RCVBUF as the kernel
#             reports it and every recv() with its time.time() (the capture's clock).
#   hol       v1-hol-client.pcap / v1-hol-server.pcap: two paths of very different delay (path 1:
#             tbf 3000 kbit/s; path 2: a bridge in a third namespace with tbf 400 kbit/s and 400 ms
#             of queue, between the two capture points), the download (200 kB) captured at the
#             receiver (client) and at the sender (server): packets of the fast path arrive ahead
#             of the bytes still queued on the slow one (head-of-line waits at the receiver).

sc_ext_slowread() {
    local out=$1
    topo_up 4 2
    set_rate 8000 6000
    cap_start "$NS_C" "$out/v1-slowread.pcap"
    srv_start --reply 1:150000
    client --conn 1 --up 3000 --down 150000 --rcvbuf 16384 --read-size 2048 --read-pause 0.01 \
        --stall 60000:0.15 --read-log "$out/v1-slowread.reads.json"
    srv_wait; cap_stop; topo_down
}

# path2_bridge RATE_KBIT LATENCY : puts a bridge between the two ends of path 2, in a third
# namespace ($TAG-r, created and removed like the other two), with a tbf on both of its ports.
# The queue then sits between the client's capture (c2) and the server's (s2): the server's capture
# shows when its packets left, the client's when they arrived.
path2_bridge() {
    local R="$TAG-r" dev
    if ip netns list | awk '{print $1}' | grep -qx -- "$R"; then
        die "namespace $R already exists; refusing to touch it"
    fi
    ip netns add "$R"
    CREATED_NS+=("$R")
    nsx "$R" ip link set lo up
    nsx "$NS_S" ip link set s2 netns "$R"
    nsx "$R" ip link set s2 name b2c
    ip link add b2s netns "$R" type veth peer name s2 netns "$NS_S"
    nsx "$R" ip link add br2 type bridge
    for dev in b2c b2s; do
        nsx "$R" ip link set "$dev" master br2
        nsx "$R" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
        nsx "$R" ip link set "$dev" up
        nsx "$R" tc qdisc replace dev "$dev" root tbf rate "${1}kbit" burst 4kb latency "$2"
    done
    nsx "$R" ip link set br2 up
    nsx "$NS_S" sysctl -qw net.ipv4.conf.s2.rp_filter=0
    nsx "$NS_S" ethtool -K s2 tso off gso off gro off >/dev/null 2>&1 || true
    nsx "$NS_S" ip link set s2 up
    nsx "$NS_S" ip addr add 10.31.2.2/24 dev s2
    # until a TCP SYN crosses the new bridge and its RST comes back (the first packets through
    # it can be lost: the client's MP_JOIN SYN then waited for its 1 s retransmission)
    local n=0
    until nsx "$NS_C" "$PY" -c '
import socket, sys
s = socket.socket(); s.bind(("10.31.2.1", 0)); s.settimeout(0.3)
try:
    s.connect(("10.31.1.2", 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)' 2>/dev/null; do
        n=$((n + 1)); ((n < 30)) || die "path 2 bridge does not forward"
    done
}

sc_ext_hol() {
    local out=$1
    topo_up 4 2
    set_rate 3000 0
    # path 2: slow and deeply queued in both directions (up to 400 ms of queueing delay)
    path2_bridge 400 400ms
    cap_start "$NS_C" "$out/v1-hol-client.pcap"
    cap_start "$NS_S" "$out/v1-hol-server.pcap"
    srv_start --reply 1:200000
    client --conn 1 --up 20000 --down 200000
    srv_wait; cap_stop; topo_down
}

ALL+=(slowread hol)
