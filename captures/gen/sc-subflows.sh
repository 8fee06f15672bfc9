# Scenarios with more subflows (sourced by generate.sh; see "More scenarios" there).
# shellcheck shell=bash

# 4sub: one connection over 4 paths, so 4 subflows (mptcp.subflow 0-3: initial, client 'subflow'
# endpoints on paths 2 and 4, the join to the server's ADD_ADDR on path 3); path 4 is dropped for
# 1.5 s mid-transfer -> reinjections onto the other subflows. 300k up / 150k down.
sc_ext_4sub() {
    topo_up 4 4
    nsx "$NS_C" ip mptcp endpoint add "10.31.4.1" dev c4 id 4 subflow
    set_rate 1200 1000 800 1000
    cap_start "$NS_C" "$1/v1-4sub.pcap"
    srv_start --reply 1:150000
    blackhole 4 0.4 1.5
    client --conn 1 --up 300000 --down 150000
    srv_wait; cap_stop 2; topo_down
}
ALL+=(4sub)
