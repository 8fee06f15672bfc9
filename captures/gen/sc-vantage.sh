# Scenarios for two-vantage-point analysis (issue 21), sourced by generate.sh.
#
#   vantage  -> v1-vantage-client.pcap + v1-vantage-server.pcap
#
# Loss must happen *between* the two capture points: tcpdump taps a packet on the sender's
# interface after the output hook and on the receiver's interface before any ingress hook, so
# a drop in either end's netfilter is seen by one capture only on one side of the rule (nft
# output drops are never captured at all). Here each path runs through a bridge in a third
# namespace ($TAG-r); the bridge's forward chain drops, so the sender's capture holds every
# lost segment and the receiver's capture never does.
#
#   client ns  c$i ==veth== rc$i [br$i in $TAG-r] rs$i ==veth== s$i  server ns
#
# Addresses, routing and MPTCP endpoints are those of topo_up (the bridge is invisible at L3).

# topo_up_mid NPATHS : as topo_up 4 NPATHS, with a bridge namespace in the middle of every path
topo_up_mid() {
    local npaths=$1 i ns dev
    NS_R="$TAG-r"
    for ns in "$NS_C" "$NS_S" "$NS_R"; do
        if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
            die "namespace $ns already exists; refusing to touch it"
        fi
        ip netns add "$ns"
        CREATED_NS+=("$ns")
        nsx "$ns" ip link set lo up
    done
    for ns in "$NS_C" "$NS_S"; do
        ns_sysctls "$ns" 0
    done
    for i in $(seq 1 "$npaths"); do
        ip link add "c$i" netns "$NS_C" type veth peer name "rc$i" netns "$NS_R"
        ip link add "s$i" netns "$NS_S" type veth peer name "rs$i" netns "$NS_R"
        nsx "$NS_R" ip link add "br$i" type bridge
        for dev in "rc$i" "rs$i"; do
            nsx "$NS_R" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
            nsx "$NS_R" ip link set "$dev" master "br$i" up
        done
        nsx "$NS_R" ip link set "br$i" up
        for ns in "$NS_C" "$NS_S"; do
            dev=s$i; [ "$ns" = "$NS_C" ] && dev=c$i
            nsx "$ns" sysctl -qw net.ipv4.conf."$dev".rp_filter=0
            nsx "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
            nsx "$ns" ip link set "$dev" up
        done
        nsx "$NS_C" ip addr add "10.31.$i.1/24" dev "c$i"
        nsx "$NS_S" ip addr add "10.31.$i.2/24" dev "s$i"
        nsx "$NS_C" ip rule add from "10.31.$i.1" table $((100 + i))
        nsx "$NS_C" ip route add default via "10.31.$i.2" dev "c$i" table $((100 + i))
    done
    nsx "$NS_C" ip mptcp limits set subflow 4 add_addr_accepted 2
    nsx "$NS_S" ip mptcp limits set subflow 4 add_addr_accepted 0
    ((npaths >= 2)) && nsx "$NS_C" ip mptcp endpoint add "10.31.2.1" dev c2 id 2 subflow
    ((npaths >= 3)) && nsx "$NS_S" ip mptcp endpoint add "10.31.3.2" dev s3 id 3 signal
    SRV_ADDR="10.31.1.2"
}

# mid_loss PATH PERCENT : random drop of TCP in both directions in path PATH's bridge
mid_loss() {
    nsx "$NS_R" nft -f - <<EOF
table bridge mptcpgen_mid {
    chain pass {
        type filter hook forward priority 0; policy accept;
        iifname { "rc$1", "rs$1" } meta l4proto tcp numgen random mod 100 < $2 drop
    }
}
EOF
}

# mid_blackhole PATH DELAY DURATION : in the background, the bridge of PATH drops everything
# for DURATION s after DELAY s
mid_blackhole() {
    (
        sleep "$2"
        nsx "$NS_R" nft -f - <<EOF
table bridge mptcpgen_midbh {
    chain pass { type filter hook forward priority -10; policy accept; iifname { "rc$1", "rs$1" } drop; }
}
EOF
        log "bridge blackhole on path $1 for $3 s"
        sleep "$3"
        nsx "$NS_R" nft delete table bridge mptcpgen_midbh
        log "bridge blackhole on path $1 lifted"
    ) &
    BG_PIDS+=("$!")
}

# (k) 2 % loss on path 2 between the two capture points, and a 1 s blackhole of path 2
# (reinjections on paths 1 and 3); captured in the client and in the server namespace
sc_ext_vantage() {
    topo_up_mid 3
    set_rate 3000 3000 2000
    mid_loss 2 2
    cap_start "$NS_C" "$1/v1-vantage-client.pcap"
    cap_start "$NS_S" "$1/v1-vantage-server.pcap"
    srv_start --reply 1:300000
    mid_blackhole 2 0.3 1
    client --conn 1 --up 300000 --down 300000
    srv_wait; cap_stop 2; topo_down
}

ALL+=(vantage)

# (l) the same pair with different segmentation at the two ends: the client sends with TSO/GSO
# (its capture holds segments of up to 64 kB; the bridge segments them in software towards the
# server, whose capture holds MSS-sized ones) and receives with GRO (the server's MSS-sized
# segments are merged before the client's capture sees them); 3 % loss on path 1 in the bridge
sc_ext_vantage_tso() {
    local i
    topo_up_mid 3
    for i in 1 2 3; do
        nsx "$NS_C" ethtool -K "c$i" tso on gso on gro on >/dev/null 2>&1 || true
        nsx "$NS_R" ethtool -K "rc$i" tso off gso off >/dev/null 2>&1 || true
        nsx "$NS_R" ethtool -K "rs$i" tso off gso off >/dev/null 2>&1 || true
    done
    set_rate 0 0 0
    mid_loss 1 3
    cap_start "$NS_C" "$1/v1-vantage-tso-client.pcap"
    cap_start "$NS_S" "$1/v1-vantage-tso-server.pcap"
    srv_start --reply 1:300000
    client --conn 1 --up 300000 --down 300000
    srv_wait; cap_stop 2; topo_down
}

ALL+=(vantage-tso)
