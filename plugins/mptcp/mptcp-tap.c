/* mptcp-tap.c
 * The "mptcp_segment" tap: queued from the TCP wrapper for every packet of a subflow linked to
 * an MPTCP connection, with what its listeners need besides the packet's first-pass result.
 * Listeners: the statistics (mptcp-stats.c) and Follow MPTCP Stream (mptcp-follow.c). The same
 * packets go first to the "mptcp" tap of the conversation and endpoint tables (mptcp-conv.c's
 * listeners), queued here too: one call a packet for both.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/tap.h>

static int segment_tap = -1;
static int conv_tap = -1;        /**< "mptcp" (registered by mptcp_conv_register) */

void
mptcp_tap_segment(tvbuff_t *tvb, packet_info *pinfo, const mptcp_pkt_t *pkt)
{
    mptcp_segment_tap_t *st;
    const uint8_t *p;
    unsigned cap, end;
    uint8_t len;
    /* the listeners first: most runs have none (tshark -Y), and then the subflow goes unread */
    bool conv = have_tap_listener(conv_tap), segs = have_tap_listener(segment_tap);

    if (!(conv || segs) || !mptcp_pkt_conn(pkt) || mptcp_pkt_ep(pkt) < 0)
        return;
    if (conv) {
        mptcp_tap_info_t *ti = wmem_new0(pinfo->pool, mptcp_tap_info_t);
        ti->pkt = pkt;
        tap_queue_packet(conv_tap, pinfo, ti);
    }
    if (!segs)
        return;
    cap = tvb_captured_length(tvb);
    if (cap < 20)
        return;
    st = wmem_new0(pinfo->pool, mptcp_segment_tap_t);
    st->pkt = pkt;
    st->tvb = tvb;
    st->tcp_flags = (uint16_t)(tvb_get_ntohs(tvb, 12) & 0x0fff);
    st->hlen = (unsigned)(mptcp_tvb_u8(tvb, 12) >> 4) * 4;
    end = MIN(st->hlen, cap);
    p = tvb_get_ptr(tvb, 0, end);
    /* the subtypes present: on later passes the parsed segment is gone */
    for (unsigned off = 20; mptcp_tcpopt_next(p, end, &off, &len); off += len)
        if (p[off] == MPTCP_TCPOPT_KIND && len >= 3 && off + 2 < end)
            st->subtypes |= (uint16_t)(1u << (p[off + 2] >> 4));
    tap_queue_packet(segment_tap, pinfo, st);
}

void
mptcp_tap_register(void)
{
    segment_tap = register_tap(MPTCP_SEGMENT_TAP);
    conv_tap = register_tap("mptcp");      /* the id mptcp_conv_register() got (same name) */
}
