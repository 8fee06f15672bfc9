#!/bin/bash
# Generate real Linux MPTCP v1 captures with self-describing payload (see captures/README.md).
#
#   sudo captures/gen/generate.sh [-o OUTDIR] [SCENARIO...]   # default: every committed capture into captures/
#   sudo captures/gen/generate.sh big OUT.pcap [PACKETS]       # large benchmark capture (not committed)
#   captures/gen/generate.sh list                              # list the scenarios
#
# Scenarios: 3sub 2conn loss blackhole mpc-data csum prio fastclose ipv6 pair cuts http tls
# ("http"/"tls": curl against python3 -m http.server / openssl s_server under mptcpize, with a
# JSON truth file per capture and, for tls, the key log captures/v1-tls.keys; see appdata.py).
# ("cuts" derives v1-midstream.pcap and v1-nosynack.pcap from v1-2conn.pcap / v1-3sub.pcap with editcap).
#
# Needs root, network namespaces, MPTCP (net.mptcp.enabled), nftables, tc tbf.  Missing Debian
# packages are installed with apt-get.  Every namespace is called mptcpgen-<pid>-<c|s>; the
# script only ever deletes namespaces (and the nft tables inside them) that it created itself
# in this run, and removes them on exit, also on failure or Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TRAFFIC="$HERE/traffic.py"
PY=${PYTHON:-python3}
OUTDIR="$REPO/captures"
PORT=5201
TAG="mptcpgen-$$"
NS_C="$TAG-c"
NS_S="$TAG-s"
CREATED_NS=()
BG_PIDS=()
WORK=$(mktemp -d /tmp/mptcpgen.XXXXXX)

log() { echo "[generate $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ cleanup
cleanup() {
    local rc=$?
    set +e
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null
    done
    sleep 0.3
    for p in "${BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    BG_PIDS=()
    local ns
    for ns in "${CREATED_NS[@]}"; do
        case "$ns" in
            "$TAG"-*) ;;
            *) log "refusing to delete namespace $ns (not ours)"; continue ;;
        esac
        if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
            ip netns exec "$ns" nft delete table inet mptcpgen 2>/dev/null
            ip netns exec "$ns" nft delete table inet mptcpgen_bh 2>/dev/null
            ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
        fi
    done
    CREATED_NS=()
    rm -rf "$WORK"
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ requirements
ensure_tools() {
    local missing=() c pkg
    for c in ip:iproute2 tc:iproute2 nft:nftables tcpdump:tcpdump ethtool:ethtool editcap:wireshark-common \
             python3:python3; do
        pkg=${c#*:}; c=${c%%:*}
        command -v "$c" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing missing packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    [ "$(id -u)" = 0 ] || die "must run as root"
    [ "$(sysctl -n net.mptcp.enabled 2>/dev/null || echo 0)" = 1 ] || die "MPTCP not enabled in this kernel"
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ns_sysctls NS CSUM: MPTCP on (DSS checksums CSUM 0/1), no reverse-path filter, no IPv6 DAD,
# TCP timestamps: what every end namespace of every topology needs
ns_sysctls() {
    local ns=$1
    nsx "$ns" sysctl -qw net.mptcp.enabled=1
    nsx "$ns" sysctl -qw net.mptcp.checksum_enabled="$2"
    nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    nsx "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
    nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
    nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
    nsx "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
}

# ------------------------------------------------------------------ topology
# topo_up FAMILY NPATHS [CSUM]
#   client ns $NS_C, server ns $NS_S, path i (1..NPATHS) = veth c$i <-> s$i,
#   10.31.i.1/24 <-> 10.31.i.2/24 and fd31:0:0:i::1/64 <-> fd31:0:0:i::2/64.
#   The server listens on path 1's address.  MPTCP: client 'subflow' endpoint on path 2
#   (source routed with ip rule), server 'signal' endpoint on path 3 (ADD_ADDR).
topo_up() {
    local fam=$1 npaths=$2 csum=${3:-0} i ns
    for ns in "$NS_C" "$NS_S"; do
        if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
            die "namespace $ns already exists; refusing to touch it"
        fi
        ip netns add "$ns"
        CREATED_NS+=("$ns")
        nsx "$ns" ip link set lo up
        ns_sysctls "$ns" "$csum"
    done
    for i in $(seq 1 "$npaths"); do
        ip link add "c$i" netns "$NS_C" type veth peer name "s$i" netns "$NS_S"
        for ns in "$NS_C" "$NS_S"; do
            local dev=s$i; [ "$ns" = "$NS_C" ] && dev=c$i
            nsx "$ns" sysctl -qw net.ipv4.conf."$dev".rp_filter=0
            nsx "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 \
                || nsx "$ns" ethtool -K "$dev" tso off gso off gro off 2>&1 | grep -v '^$' >&2 || true
            nsx "$ns" ip link set "$dev" up
        done
        nsx "$NS_C" ip addr add "10.31.$i.1/24" dev "c$i"
        nsx "$NS_S" ip addr add "10.31.$i.2/24" dev "s$i"
        nsx "$NS_C" ip -6 addr add "fd31:0:0:$i::1/64" dev "c$i" nodad
        nsx "$NS_S" ip -6 addr add "fd31:0:0:$i::2/64" dev "s$i" nodad
        # client policy routing: traffic sourced from path i's address leaves through path i
        # (the server needs none: its connected routes answer each client address on its path)
        nsx "$NS_C" ip rule add from "10.31.$i.1" table $((100 + i))
        nsx "$NS_C" ip route add default via "10.31.$i.2" dev "c$i" table $((100 + i))
        nsx "$NS_C" ip -6 rule add from "fd31:0:0:$i::1" table $((100 + i))
        nsx "$NS_C" ip -6 route add default via "fd31:0:0:$i::2" dev "c$i" table $((100 + i))
    done
    nsx "$NS_C" ip mptcp limits set subflow 4 add_addr_accepted 2
    nsx "$NS_S" ip mptcp limits set subflow 4 add_addr_accepted 0
    if ((npaths >= 2)); then
        if [ "$fam" = 6 ]; then
            nsx "$NS_C" ip mptcp endpoint add "fd31:0:0:2::1" dev c2 id 2 subflow
        else
            nsx "$NS_C" ip mptcp endpoint add "10.31.2.1" dev c2 id 2 subflow
        fi
    fi
    if ((npaths >= 3)); then
        if [ "$fam" = 6 ]; then
            nsx "$NS_S" ip mptcp endpoint add "fd31:0:0:3::2" dev s3 id 3 signal
        else
            nsx "$NS_S" ip mptcp endpoint add "10.31.3.2" dev s3 id 3 signal
        fi
    fi
    if [ "$fam" = 6 ]; then SRV_ADDR="fd31:0:0:1::2"; else SRV_ADDR="10.31.1.2"; fi
}

# set_rate KBITS... : tbf on both ends of path 1, 2, ...
set_rate() {
    local i=1 r
    for r in "$@"; do
        if [ "$r" != 0 ]; then
            nsx "$NS_C" tc qdisc replace dev "c$i" root tbf rate "${r}kbit" burst 8kb latency 200ms
            nsx "$NS_S" tc qdisc replace dev "s$i" root tbf rate "${r}kbit" burst 8kb latency 200ms
        fi
        i=$((i + 1))
    done
}

# set_loss PATH PERCENT : random drop in both directions on path PATH (nft in the server ns)
set_loss() {
    nsx "$NS_S" nft -f - <<EOF
table inet mptcpgen {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "s$1" meta l4proto tcp numgen random mod 100 < $2 drop
    }
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "s$1" meta l4proto tcp numgen random mod 100 < $2 drop
    }
}
EOF
}

# blackhole PATH DELAY DURATION : in the background, drop everything on PATH for DURATION s after DELAY s
blackhole() {
    (
        sleep "$2"
        nsx "$NS_S" nft -f - <<EOF
table inet mptcpgen_bh {
    chain in { type filter hook input priority -10; policy accept; iifname "s$1" drop; }
    chain out { type filter hook output priority -10; policy accept; oifname "s$1" drop; }
}
EOF
        log "blackhole on path $1 for $3 s"
        sleep "$3"
        nsx "$NS_S" nft delete table inet mptcpgen_bh
        log "blackhole on path $1 lifted"
    ) &
    BG_PIDS+=("$!")
}

# cap_start NS FILE [IFACE] [SNAPLEN] [LINKTYPE]
cap_start() {
    local ns=$1 file=$2 iface=${3:-any} snap=${4:-0} dlt=${5:-} err
    err="$WORK/tcpdump.$RANDOM.err"
    local opt=()
    [ -n "$dlt" ] && opt=(-y "$dlt")
    # not through the nsx function: $! must be tcpdump itself (ip netns exec execs it)
    ip netns exec "$ns" tcpdump -Z root -i "$iface" "${opt[@]}" -s "$snap" -U -n -w "$file" "tcp port $PORT" 2>"$err" &
    local pid=$!
    BG_PIDS+=("$pid")
    CAP_PIDS+=("$pid")
    local n=0
    until grep -q "listening on" "$err" 2>/dev/null; do
        sleep 0.1; n=$((n + 1))
        ((n < 100)) || { cat "$err" >&2; die "tcpdump did not start"; }
    done
}

cap_stop() {
    sleep "${1:-1}"
    local p
    for p in "${CAP_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    CAP_PIDS=()
}

# srv_start ARGS... : the traffic server in the server namespace (background)
srv_start() {
    local ready="$WORK/ready.$RANDOM"
    ip netns exec "$NS_S" "$PY" "$TRAFFIC" server --port "$PORT" --ready-file "$ready" "$@" &
    SRV_PID=$!
    BG_PIDS+=("$SRV_PID")
    local n=0
    until [ -e "$ready" ]; do
        sleep 0.1; n=$((n + 1)); ((n < 100)) || die "server did not start"
    done
}

srv_wait() {
    local n=0
    while kill -0 "$SRV_PID" 2>/dev/null; do
        sleep 0.2; n=$((n + 1))
        ((n < ${1:-300})) || { log "server did not finish, killing it"; kill "$SRV_PID"; break; }
    done
    wait "$SRV_PID" 2>/dev/null || true
}

client() { nsx "$NS_C" "$PY" "$TRAFFIC" client --dst "$SRV_ADDR" --port "$PORT" "$@"; }

topo_down() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    BG_PIDS=()
    local ns
    for ns in "${CREATED_NS[@]}"; do
        nsx "$ns" nft delete table inet mptcpgen 2>/dev/null || true
        nsx "$ns" nft delete table inet mptcpgen_bh 2>/dev/null || true
        ip netns del "$ns"
    done
    CREATED_NS=()
}

show_mptcp() { nsx "$NS_C" ip mptcp endpoint show >&2 || true; }

# ------------------------------------------------------------------ scenarios
CAP_PIDS=()

sc_3sub() {  # (a) 1 connection, 3 subflows, bidirectional, DATA_FIN close
    topo_up 4 3
    set_rate 8000 6000 4000
    cap_start "$NS_C" "$1"
    srv_start --reply 1:200000
    client --conn 1 --up 300000 --down 200000
    srv_wait; cap_stop; topo_down
}

sc_2conn() {  # (b) two concurrent connections, 3 subflows each
    topo_up 4 3
    set_rate 1500 1000 1000          # slow paths: both connections overlap and use every subflow
    cap_start "$NS_C" "$1"
    srv_start --max-conns 2 --reply 1:150000,2:120000
    client --conn 1 --up 200000 --down 150000 &
    local c1=$!
    sleep 0.1
    client --conn 2 --up 160000 --down 120000
    wait $c1
    srv_wait; cap_stop; topo_down
}

sc_loss() {  # (c) 3 % random loss on path 2 (both directions)
    topo_up 4 3
    set_rate 8000 6000 4000
    set_loss 2 3
    cap_start "$NS_C" "$1" any 0 LINUX_SLL      # Linux cooked v1 link type (113)
    srv_start --reply 1:300000
    client --conn 1 --up 300000 --down 300000
    srv_wait; cap_stop 2; topo_down
}

sc_blackhole() {  # (d) path 2 dropped for 2 s in the middle of the transfer -> reinjections
    topo_up 4 3
    set_rate 3000 3000 2000
    cap_start "$NS_C" "$1"
    srv_start --reply 1:300000
    blackhole 2 0.4 2
    client --conn 1 --up 400000 --down 300000
    srv_wait; cap_stop 2; topo_down
}

sc_mpc_data() {  # (e) single subflow, client data goes with MP_CAPABLE; Ethernet link type
    topo_up 4 1
    cap_start "$NS_C" "$1" c1
    srv_start --reply 1:3000
    client --conn 1 --up 5000 --down 3000
    srv_wait; cap_stop; topo_down
}

sc_csum() {  # (f) DSS checksums on both sides
    topo_up 4 3 1
    set_rate 8000 6000 4000
    cap_start "$NS_C" "$1"
    srv_start --reply 1:200000
    client --conn 1 --up 200000 --down 200000
    srv_wait; cap_stop; topo_down
}

sc_prio() {  # (g) client endpoint 2 switched to backup mid-transfer -> MP_PRIO
    topo_up 4 3
    set_rate 1200 1200 1200          # ~1 s transfer: the change lands in the middle
    cap_start "$NS_C" "$1"
    srv_start --reply 1:200000
    # the client itself switches its endpoint 2 to backup after writing 300 kB, about half of them on the wire (-> MP_PRIO)
    client --conn 1 --up 400000 --down 200000 --hook-after 300000 --hook "ip mptcp endpoint change id 2 backup"
    srv_wait; cap_stop; topo_down
}

sc_fastclose() {  # (h) client closes with SO_LINGER 0 mid-download -> MP_FASTCLOSE / MP_TCPRST
    topo_up 4 3
    set_rate 4000 4000 4000
    cap_start "$NS_C" "$1"
    srv_start --reply 1:1000000
    client --conn 1 --up 50000 --abort-after 150000
    srv_wait 50; cap_stop 2; topo_down
}

sc_ipv6() {  # (i) IPv6, 3 subflows; written as pcapng
    topo_up 6 3
    set_rate 8000 6000 4000
    cap_start "$NS_C" "${1%.pcapng}.tmp.pcap"
    srv_start --reply 1:200000
    client --conn 1 --up 250000 --down 200000
    srv_wait; cap_stop; topo_down
    editcap -F pcapng "${1%.pcapng}.tmp.pcap" "$1"
    rm -f "${1%.pcapng}.tmp.pcap"
}

sc_pair() {  # (j) the same traffic captured in the client and the server namespace
    topo_up 4 3
    set_rate 8000 6000 4000
    cap_start "$NS_C" "$1"
    cap_start "$NS_S" "$2"
    srv_start --reply 1:200000
    client --conn 1 --up 250000 --down 200000
    srv_wait; cap_stop; topo_down
}

sc_big() {  # benchmark capture: snaplen 160, 3 subflows, 1 % loss on path 2, no rate limit
    local out=$1 pkts=${2:-330000}
    # ~1100 payload bytes per captured packet (data segments of ~1370 B plus ACKs)
    local up=$((pkts * 1100 * 3 / 4)) down=$((pkts * 1100 / 4))
    topo_up 4 3
    set_loss 2 1
    cap_start "$NS_C" "$out" any 160
    srv_start --no-verify --reply 1:$down
    client --no-verify --conn 1 --up $up --down $down
    srv_wait 3000; cap_stop 2; topo_down
}

# ------------------------------------------------------------------ application scenarios (http, tls)
# Real programs under Debian's `mptcpize run` (LD_PRELOAD: their TCP sockets become MPTCP ones).
# Truth: captures/<name>.json (requests made, files served with size and sha256), see appdata.py.
APPDATA="$HERE/appdata.py"

ensure_app_tools() {
    local missing=() c pkg
    for c in curl:curl openssl:openssl mptcpize:mptcpize ss:iproute2; do
        pkg=${c#*:}; c=${c%%:*}
        command -v "$c" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing missing packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# set_loss_client PATH PERCENT : random drop of TCP arriving on the client's path PATH. The
# client-side capture still holds the dropped segments (tcpdump sees them before the input hook),
# so the sender's retransmissions and reinjections are captured as second copies of the same data.
set_loss_client() {
    nsx "$NS_C" nft -f - <<EOF
table inet mptcpgen {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "c$1" meta l4proto tcp numgen random mod 100 < $2 drop
    }
}
EOF
}

# blackhole_client PATH DELAY DURATION : in the background, drop everything arriving on the client's
# PATH for DURATION s after DELAY s (captured, then dropped: the server reinjects on other subflows)
blackhole_client() {
    (
        sleep "$2"
        nsx "$NS_C" nft -f - <<EOF
table inet mptcpgen_bh {
    chain in { type filter hook input priority -10; policy accept; iifname "c$1" drop; }
}
EOF
        log "client-side blackhole on path $1 for $3 s"
        sleep "$3"
        nsx "$NS_C" nft delete table inet mptcpgen_bh
        log "client-side blackhole on path $1 lifted"
    ) &
    BG_PIDS+=("$!")
}

# app_paths : the servers listen on 10.31.1.2 only, so no ADD_ADDR (a join to 10.31.3.2 would find
# no listener): the client opens its subflows itself, from 10.31.2.1 over path 2 and 10.31.3.1 over
# path 3, both to 10.31.1.2 (3 subflows in all)
app_paths() {
    nsx "$NS_S" ip mptcp endpoint flush
    nsx "$NS_C" ip mptcp endpoint add 10.31.3.1 dev c3 id 3 subflow
}

# wait_listen PORT : until something listens on the server's PORT
wait_listen() {
    local n=0
    until nsx "$NS_S" ss -Hltn "sport = :$1" | grep -q .; do
        sleep 0.1; n=$((n + 1)); ((n < 100)) || die "no server listening on port $1"
    done
}

# app_finish CAPFILE NAME DIR : stop the servers and the capture, write the truth next to the capture
app_finish() {
    # background programs of a non-interactive shell ignore SIGINT (python keeps it ignored): TERM
    kill -TERM "$APP_SRV" 2>/dev/null || true
    wait "$APP_SRV" 2>/dev/null || true
    cap_stop 1
    topo_down
    "$PY" "$APPDATA" truth "$3" "${1%.pcap}.json" "$2"
}

sc_http() {  # curl fetches 3 files (200-300 kB) over one keep-alive connection from python3 -m http.server
    local PORT=80 d="$WORK/http" url="http://10.31.1.2"
    "$PY" "$APPDATA" files "$d"
    mkdir -p "$d/got"
    topo_up 4 3
    app_paths
    set_rate 4000 3000 2000
    set_loss_client 2 2
    cap_start "$NS_C" "$1"
    ip netns exec "$NS_S" mptcpize run "$PY" -m http.server --bind 10.31.1.2 --directory "$d" \
        --protocol HTTP/1.1 "$PORT" >"$WORK/http.log" 2>&1 &
    APP_SRV=$!
    BG_PIDS+=("$APP_SRV")
    wait_listen "$PORT"
    blackhole_client 2 0.35 0.5
    nsx "$NS_C" mptcpize run curl -sS --fail --output-dir "$d/got" \
        -O "$url/file1.bin" -O "$url/file2.bin" -O "$url/file3.bin"
    sleep 0.5
    app_finish "$1" "${1##*/}" "$d"
}

sc_tls() {  # curl fetches 3 files over https (3 connections) from openssl s_server -HTTP; SSLKEYLOGFILE
    local PORT=443 d="$WORK/tls" url="https://10.31.1.2"
    "$PY" "$APPDATA" files "$d" --tls
    mkdir -p "$d/got"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=10.31.1.2 \
        -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
    topo_up 4 3
    app_paths
    set_rate 4000 3000 2000
    set_loss_client 2 2
    cap_start "$NS_C" "$1"
    # -HTTP: serves ./resp/<path> verbatim (complete HTTP/1.0 responses), one request per connection
    (cd "$d/resp" && exec ip netns exec "$NS_S" mptcpize run openssl s_server -quiet -HTTP -naccept 3 \
        -accept 10.31.1.2:"$PORT" -cert "$d/cert.pem" -key "$d/key.pem") >"$WORK/tls.log" 2>&1 &
    APP_SRV=$!
    BG_PIDS+=("$APP_SRV")
    wait_listen "$PORT"
    blackhole_client 2 0.35 0.5
    nsx "$NS_C" env SSLKEYLOGFILE="${1%.pcap}.keys" mptcpize run curl -sS -k --fail --output-dir "$d/got" \
        -O "$url/file1.bin" -O "$url/file2.bin" -O "$url/file3.bin"
    sleep 0.5
    app_finish "$1" "${1##*/}" "$d"
}

# derived cuts (editcap only; frame numbers from the truth extractor)
sc_cuts() {
    local base=$OUTDIR
    [ -e "$base/v1-2conn.pcap" ] && [ -e "$base/v1-3sub.pcap" ] || die "cuts need v1-2conn.pcap and v1-3sub.pcap"
    # midstream: drop everything up to 20 packets after the last SYN of v1-2conn
    local first
    first=$("$PY" - "$base/v1-2conn.pcap" <<'EOF'
import sys, os
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
import truth
t = truth.analyze(sys.argv[1])
last_syn = max(p.frame for p in t.packets if p.syn)
print("%d-%d" % (last_syn + 21, t.frame_count))
EOF
)
    editcap -F pcap -r "$base/v1-2conn.pcap" "$base/v1-midstream.pcap" "$first"
    log "v1-midstream.pcap = v1-2conn.pcap frames $first"
    # nosynack: v1-3sub without the SYN/ACK of its initial subflow
    local synack
    synack=$("$PY" - "$base/v1-3sub.pcap" <<'EOF'
import sys, os
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
import truth
t = truth.analyze(sys.argv[1])
print(min(p.frame for p in t.packets if p.syn and p.ack_flag and p.mptcp_capable))
EOF
)
    editcap -F pcap "$base/v1-3sub.pcap" "$base/v1-nosynack.pcap" "$synack"
    log "v1-nosynack.pcap = v1-3sub.pcap without frame $synack"
}

run_one() {
    local sc=$1 o="$WORK/out"
    mkdir -p "$o"
    log "=== scenario $sc"
    # captures are written to $WORK first and moved to OUTDIR only when the scenario succeeded
    case "$sc" in
        3sub) sc_3sub "$o/v1-3sub.pcap" ;;
        2conn) sc_2conn "$o/v1-2conn.pcap" ;;
        loss) sc_loss "$o/v1-loss.pcap" ;;
        blackhole) sc_blackhole "$o/v1-blackhole.pcap" ;;
        mpc-data) sc_mpc_data "$o/v1-mpc-data.pcap" ;;
        csum) sc_csum "$o/v1-csum.pcap" ;;
        prio) sc_prio "$o/v1-prio.pcap" ;;
        fastclose) sc_fastclose "$o/v1-fastclose.pcap" ;;
        ipv6) sc_ipv6 "$o/v1-ipv6.pcapng" ;;
        pair) sc_pair "$o/v1-pair-client.pcap" "$o/v1-pair-server.pcap" ;;
        http) ensure_app_tools; sc_http "$o/v1-http.pcap" ;;
        tls) ensure_app_tools; sc_tls "$o/v1-tls.pcap" ;;
        cuts) sc_cuts ;;
        *) declare -F "sc_ext_${sc//-/_}" >/dev/null || die "unknown scenario $sc"
           "sc_ext_${sc//-/_}" "$o" ;;
    esac
    local f
    for f in "$o"/*; do
        [ -e "$f" ] || continue
        mv -f "$f" "$OUTDIR/"
        log "wrote $OUTDIR/${f##*/}"
    done
    rm -rf "$o"
}

ALL=(3sub 2conn loss blackhole mpc-data csum prio fastclose ipv6 pair cuts http tls)
# More scenarios live in captures/gen/sc-*.sh, one file per theme: each defines sc_ext_NAME OUTDIR
# (NAME with '-' as '_') for every scenario it adds and appends NAME to ALL.
for f in "$HERE"/sc-*.sh; do
    [ -e "$f" ] || continue
    # shellcheck source=/dev/null
    . "$f"
done
export REPO

main() {
    if [ "${1:-}" = list ]; then printf '%s\n' "${ALL[@]}" big; exit 0; fi
    if [ "${1:-}" = big ]; then
        [ -n "${2:-}" ] || die "usage: $0 big OUT.pcap [PACKETS]"
        ensure_tools
        local out; out=$(realpath -m "$2")
        sc_big "$out" "${3:-330000}"
        log "wrote $out"
        exit 0
    fi
    if [ "${1:-}" = -o ]; then OUTDIR=$(realpath -m "$2"); shift 2; mkdir -p "$OUTDIR"; fi
    ensure_tools
    local scs=("$@")
    ((${#scs[@]})) || scs=("${ALL[@]}")
    local sc
    for sc in "${scs[@]}"; do run_one "$sc"; done
    log "done: ${scs[*]} -> $OUTDIR"
}

main "$@"
