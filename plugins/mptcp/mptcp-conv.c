/* mptcp-conv.c
 * The "MPTCP" conversation and endpoint tables (tshark -z conv,mptcp / -z endpoints,mptcp and
 * the GUI's Conversations/Endpoints dialogs), fed by the plugin's "mptcp" tap (queued by
 * mptcp_tap_segment(), mptcp-tap.c).
 *
 * One conversation row per MPTCP connection (not per direction, not per subflow): every
 * packet of every subflow is added under the connection's identity, the addresses and
 * ports of its first subflow, with mptcp.stream as conversation id. The built-in's
 * registration of the same table is replaced (tables are keyed by the protocol's short
 * name), which also removes its endpoint-table crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"
#include "mptcp-epan.h"

#include <epan/tap.h>
#include <epan/conversation_table.h>

static const char *
mptcp_conv_filter_type(conv_item_t *conv, conv_filter_type_e filter)
{
    const address *a = conv ? &conv->src_address : NULL;

    switch (filter) {
    case CONV_FT_SRC_PORT:
        return "tcp.srcport";
    case CONV_FT_DST_PORT:
        return "tcp.dstport";
    case CONV_FT_ANY_PORT:
        return "tcp.port";
    case CONV_FT_SRC_ADDRESS:
        return !a ? CONV_FILTER_INVALID : a->type == AT_IPv6 ? "ipv6.src" : "ip.src";
    case CONV_FT_DST_ADDRESS:
        return !a ? CONV_FILTER_INVALID : a->type == AT_IPv6 ? "ipv6.dst" : "ip.dst";
    case CONV_FT_ANY_ADDRESS:
        return !a ? CONV_FILTER_INVALID : a->type == AT_IPv6 ? "ipv6.addr" : "ip.addr";
    }
    return CONV_FILTER_INVALID;
}

static ct_dissector_info_t mptcp_ct_info = { &mptcp_conv_filter_type };

static const char *
mptcp_endpoint_filter_type(endpoint_item_t *e, conv_filter_type_e filter)
{
    if (filter == CONV_FT_ANY_PORT)
        return "tcp.port";
    if (filter == CONV_FT_ANY_ADDRESS && e)
        return e->myaddress.type == AT_IPv6 ? "ipv6.addr" : "ip.addr";
    return CONV_FILTER_INVALID;
}

static et_dissector_info_t mptcp_et_info = { &mptcp_endpoint_filter_type };

/** The connection's identity: client and server address/port of its first subflow. */
static void
conn_identity(const mptcp_tap_info_t *ti, address *addr, uint16_t *port)
{
    mptcp_conn_ends(mptcp_pkt_conn(ti->pkt), addr, port);
}

static tap_packet_status
mptcp_conv_packet(void *pct, packet_info *pinfo, epan_dissect_t *edt _U_, const void *vip, tap_flags_t flags)
{
    conv_hash_t *hash = (conv_hash_t *)pct;
    const mptcp_tap_info_t *ti = (const mptcp_tap_info_t *)vip;
    address addr[2];
    uint16_t port[2];
    int s, r;

    if (mptcp_epan_tcp_dupack_tap_data(vip))
        return TAP_PACKET_DONT_REDRAW;          /* TCP's, not ours */
    s = mptcp_pkt_ep(ti->pkt);
    r = 1 - s;
    hash->flags = flags;
    conn_identity(ti, addr, port);
    add_conversation_table_data_with_conv_id(hash, &addr[s], &addr[r], port[s], port[r],
                                             (conv_id_t)mptcp_pkt_conn(ti->pkt)->stream, 1, pinfo->fd->pkt_len,
                                             &pinfo->rel_ts, &pinfo->abs_ts, &mptcp_ct_info, CONVERSATION_TCP);
    return TAP_PACKET_REDRAW;
}

static tap_packet_status
mptcp_endpoint_packet(void *pit, packet_info *pinfo, epan_dissect_t *edt _U_, const void *vip, tap_flags_t flags)
{
    conv_hash_t *hash = (conv_hash_t *)pit;
    const mptcp_tap_info_t *ti = (const mptcp_tap_info_t *)vip;
    address addr[2];
    uint16_t port[2];
    int s, r;

    if (mptcp_epan_tcp_dupack_tap_data(vip))
        return TAP_PACKET_DONT_REDRAW;          /* TCP's, not ours */
    s = mptcp_pkt_ep(ti->pkt);
    r = 1 - s;
    hash->flags = flags;
    conn_identity(ti, addr, port);
    add_endpoint_table_data(hash, &addr[s], port[s], TRUE, 1, pinfo->fd->pkt_len, &mptcp_et_info, ENDPOINT_TCP);
    add_endpoint_table_data(hash, &addr[r], port[r], FALSE, 1, pinfo->fd->pkt_len, &mptcp_et_info, ENDPOINT_TCP);
    return TAP_PACKET_REDRAW;
}

void
mptcp_conv_register(void)
{
    /* same name as the built-in tap (register_tap returns its id); mptcp-tap.c queues it */
    register_tap("mptcp");
    register_conversation_table(proto_mptcp, FALSE, mptcp_conv_packet, mptcp_endpoint_packet);
}
