# Scenarios of issue #19 ([kernel]): what Linux sends besides plain MPTCP transfers.
# Sourced by generate.sh (helpers topo_up, cap_start, srv_start, client, ...). Every capture
# captures/kern-NAME.pcap comes with kern-NAME.json: per connection and direction, the bytes the
# application wrote ("sent") and read ("read", plus "diff" = [[offset, byte], ...] where what it
# read differs from the generated stream), recorded by traffic.py --record on both sides.
#
#   tfo       MPTCP client with MSG_FASTOPEN to an MPTCP server with TCP_FASTOPEN (2 paths):
#             conn 1 asks for the cookie (data after the handshake), conn 2 sends data in the SYN
#   tfo-tcp   the same client against a plain TCP server (TFO): MP_CAPABLE SYN, no MPTCP in the
#             SYN/ACK -> fallback; conn 2's SYN carries data
#   fallback  conn 1: plain TCP server; conn 2: MPTCP server whose SYN/ACK loses its MP_CAPABLE
#             on the way out (nft `reset tcp option mptcp`): both fall back at the handshake
#   fail-inf  checksums on, 1 subflow; nft rewrites 4 payload bytes of one client->server data
#             segment (after the DSS checksum was computed): MP_FAIL, infinite mapping, and the
#             server application reads the corrupted bytes (kernel 6.x, RFC 8684 section 3.7)
#   fail-rst  checksums on, 2 subflows; the same corruption on the join subflow: MP_FAIL with
#             MP_TCPRST, the data is reinjected on the initial subflow (the application reads the
#             generated stream)
#   addr      3 paths as v1-3sub (ADD_ADDR of 10.31.3.2 and the joins at the start), then during
#             the transfer: the server announces 10.31.2.2 (ADD_ADDR), the client switches its
#             subflow endpoint to backup (MP_PRIO), the server deletes 10.31.3.2 (REMOVE_ADDR),
#             the client adds an endpoint on path 3 (a new join) and deletes its first one
#             (REMOVE_ADDR)
#   kcut      kern-addr-cut.pcap: kern-addr.pcap from the frame after the SYN/ACK of its last
#             join (starts with that join's third ACK: HMAC, no token, no keys)
ALL+=(tfo tfo-tcp fallback fail-inf fail-rst addr kcut)

kern_sysctl() {  # kern_sysctl KEY=VALUE : in both namespaces
    nsx "$NS_C" sysctl -qw "$1"
    nsx "$NS_S" sysctl -qw "$1"
}

kern_truth() {  # kern_truth OUTDIR NAME : merge the records of both sides into NAME.json
    touch "$WORK/$2.rec"
    "$PY" "$TRAFFIC" merge "$1/$2.json" "$2.pcap" "$WORK/$2.rec"
    rm -f "$WORK/$2.rec"
}

# kern_corrupt PATH NTH : in the client namespace, overwrite 4 payload bytes (offsets 8-11) of the
# NTH (0-based) TCP packet of 150-9999 bytes leaving through path PATH, after the kernel wrote its
# DSS checksum (output hook; veth leaves the TCP checksum to the receiver's offload, which trusts
# it). As the kernel selftest mptcp_join.sh "fail" tests (iptables nth 1 of length 150:9999 +
# tc pedit): TCP builds GSO packets of up to 64 kB (ethtool's "gso off" moves the segmentation
# after the hook), so only smaller packets are counted and only their first segment is hit.
kern_corrupt() {
    nsx "$NS_C" nft -f - <<EOF
table inet mptcpgen {
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "c$1" tcp dport $PORT meta length 150-9999 numgen inc mod 1000000 == $2 @ih,64,32 set 0xdeadbeef
    }
}
EOF
}

# kern_has CAPTURE WHAT : whether the capture holds it (the kernel's MP_FAIL handling is
# timing-dependent, like the selftest's "fail" tests, which are marked flaky): mp_fail,
# infinite (a DSS with data-level length 0), fail_rst (MP_FAIL in a RST)
kern_has() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, os
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
import truth
t, what = truth.analyze(sys.argv[1]), sys.argv[2]
ok = {"mp_fail": any(p.option(6) for p in t.packets),
      "infinite": any(o.dss and o.dss.get("M") and o.dss.get("dll") == 0 for p in t.packets for o in p.mptcp),
      "fail_rst": any(p.rst and p.option(6) for p in t.packets)}[what]
sys.exit(0 if ok else 1)
EOF
}

kern_expect() { kern_has "$1" "$2" || die "$2 not in ${1##*/}: run the scenario again"; }

sc_ext_tfo() {
    local rec="$WORK/kern-tfo.rec"
    topo_up 4 2
    kern_sysctl net.ipv4.tcp_fastopen=3
    set_rate 8000 6000
    cap_start "$NS_C" "$1/kern-tfo.pcap"
    srv_start --fastopen --max-conns 2 --reply 1:20000,2:30000 --record "$rec"
    client --fastopen --conn 1 --up 30000 --down 20000 --record "$rec"    # no cookie yet: asks for one
    client --fastopen --conn 2 --up 40000 --down 30000 --record "$rec"    # data in the SYN
    srv_wait; cap_stop; topo_down
    kern_truth "$1" kern-tfo
}

sc_ext_tfo_tcp() {
    local rec="$WORK/kern-tfo-tcp.rec"
    topo_up 4 2
    kern_sysctl net.ipv4.tcp_fastopen=3
    cap_start "$NS_C" "$1/kern-tfo-tcp.pcap"
    srv_start --tcp --fastopen --max-conns 2 --reply 1:20000,2:30000 --record "$rec"
    client --fastopen --conn 1 --up 30000 --down 20000 --record "$rec"
    client --fastopen --conn 2 --up 40000 --down 30000 --record "$rec"
    srv_wait; cap_stop; topo_down
    kern_truth "$1" kern-tfo-tcp
}

sc_ext_fallback() {
    local rec="$WORK/kern-fallback.rec"
    topo_up 4 2
    cap_start "$NS_C" "$1/kern-fallback.pcap"
    srv_start --tcp --reply 1:30000 --record "$rec"
    client --conn 1 --up 40000 --down 30000 --record "$rec"
    srv_wait
    nsx "$NS_S" nft -f - <<EOF
table inet mptcpgen {
    chain out {
        type filter hook output priority 0; policy accept;
        tcp sport $PORT tcp flags & (syn | ack) == syn | ack reset tcp option mptcp
    }
}
EOF
    srv_start --reply 2:30000 --record "$rec"
    client --conn 2 --up 40000 --down 30000 --record "$rec"
    srv_wait; cap_stop; topo_down
    kern_truth "$1" kern-fallback
}

sc_ext_fail_inf() {  # up to 3 attempts: the infinite mapping sometimes never comes (captures/README.md)
    local n
    for n in 1 2 3; do
        rm -f "$WORK/kern-fail-inf.rec" "$1/kern-fail-inf.pcap"
        fail_inf_once "$1"
        kern_has "$1/kern-fail-inf.pcap" infinite && break
        log "attempt $n: no infinite mapping in kern-fail-inf.pcap"
    done
    kern_expect "$1/kern-fail-inf.pcap" mp_fail
    kern_expect "$1/kern-fail-inf.pcap" infinite
    kern_truth "$1" kern-fail-inf
}

fail_inf_once() {
    local rec="$WORK/kern-fail-inf.rec"
    topo_up 4 1 1
    kern_corrupt 1 4
    cap_start "$NS_C" "$1/kern-fail-inf.pcap"
    srv_start --reply 1:131072 --record "$rec"
    nsx "$NS_C" timeout 8 "$PY" "$TRAFFIC" client --dst "$SRV_ADDR" --port "$PORT" --conn 1 --up 131072 --down 131072 --record "$rec" || true
    srv_wait 20; cap_stop; topo_down
}

sc_ext_fail_rst() {
    local rec="$WORK/kern-fail-rst.rec"
    topo_up 4 2 1
    set_rate 2000
    kern_corrupt 2 1
    cap_start "$NS_C" "$1/kern-fail-rst.pcap"
    srv_start --reply 1:50000 --record "$rec"
    client --conn 1 --up 200000 --down 50000 --record "$rec"
    srv_wait; cap_stop; topo_down
    kern_expect "$1/kern-fail-rst.pcap" fail_rst
    kern_truth "$1" kern-fail-rst
}

sc_ext_addr() {
    local rec="$WORK/kern-addr.rec"
    topo_up 4 3                                   # ADD_ADDR 10.31.3.2 and a join to it at the start
    nsx "$NS_C" ip mptcp limits set subflow 8 add_addr_accepted 4
    nsx "$NS_S" ip mptcp limits set subflow 8 add_addr_accepted 0
    set_rate 500 500 500
    cap_start "$NS_C" "$1/kern-addr.pcap"
    srv_start --reply 1:150000 --record "$rec"
    (
        local n=0                                 # the clock starts when the connection is up
        until nsx "$NS_C" ss -Htn state established "dport = :$PORT" | grep -q .; do
            sleep 0.05; n=$((n + 1)); ((n < 200)) || exit 1
        done
        sleep 0.4; nsx "$NS_S" ip mptcp endpoint add 10.31.2.2 dev s2 id 5 signal     # ADD_ADDR
        sleep 0.2; nsx "$NS_C" ip mptcp endpoint change id 2 backup                   # MP_PRIO
        sleep 0.2; nsx "$NS_S" ip mptcp endpoint del id 3                             # REMOVE_ADDR
        sleep 0.2; nsx "$NS_C" ip mptcp endpoint add 10.31.3.1 dev c3 id 4 subflow    # a join mid-transfer
        sleep 0.2; nsx "$NS_C" ip mptcp endpoint del id 2                             # REMOVE_ADDR
    ) &
    BG_PIDS+=("$!")
    client --conn 1 --up 150000 --down 150000 --record "$rec"
    srv_wait; cap_stop; topo_down
    kern_truth "$1" kern-addr
}

sc_ext_kcut() {
    local base=$OUTDIR first
    [ -e "$base/kern-addr.pcap" ] || die "kcut needs kern-addr.pcap"
    first=$("$PY" - "$base/kern-addr.pcap" <<'EOF'
import sys, os
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
import truth
t = truth.analyze(sys.argv[1])
synack = max(p.frame for p in t.packets if p.syn and p.ack_flag and p.mptcp_join)
print("%d-%d" % (synack + 1, t.frame_count))
EOF
)
    editcap -F pcap -r "$base/kern-addr.pcap" "$1/kern-addr-cut.pcap" "$first"
    cp "$base/kern-addr.json" "$1/kern-addr-cut.json"
    sed -i 's/"kern-addr.pcap"/"kern-addr-cut.pcap"/' "$1/kern-addr-cut.json"
    log "kern-addr-cut.pcap = kern-addr.pcap frames $first"
}
