/* mptcp-firstpass.c
 * The first-pass pipeline: the one place that says in which order a segment's analysis
 * stages run. Each stage updates connection state and writes its decisions into the packet's
 * result; the renderers (mptcp-options.c, mptcp-analysis.c, ...) only read them later.
 *
 *   1. connection and subflow   mptcp-conn.c     RFC 8684 sections 3.1, 3.2, 3.4-3.7
 *   2. data sequence            mptcp-dsn.c      section 3.3 (needs mptcp.analyze_mappings)
 *   3. latency                  mptcp-latency.c  (needs 2)
 *   3b. data order              mptcp-dataorder.c (needs 2: flight, windows, HoL waits)
 *   4. reassembly placement     mptcp-reasm.c    (needs 2 and mptcp.reassemble_data)
 *   5. the peer's capture       mptcp-vantage.c  (needs mptcp.peer_capture)
 *
 * The segment's subflow, connection and capture time are found once and handed to the stages
 * in an mptcp_fp_t (mptcp-int.h), with what one stage tells a later one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

mptcp_pkt_t *
mptcp_first_pass(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_subflow_t **sf)
{
    mptcp_fp_t fp = { pinfo, seg, NULL, NULL, NULL, 0, false, 0, 0 };
    /* a segment with payload may get a latency and data-order result: its data slot goes
     * behind the packet's result; one without payload and mapping (a pure DATA_ACK) gets no
     * DSN, length or (mostly) reassembly record: a short result */
    bool lat_slot = seg->seglen && mptcp_prefs.mappings;
    bool short_res = !seg->seglen && !seg->dss_map;
    size_t size = short_res ? MPTCP_PKT_SHORT_SIZE : sizeof(mptcp_pkt_t) + (lat_slot ? sizeof(mptcp_dslot_t) : 0);

    DISSECTOR_ASSERT(!PINFO_FD_VISITED(pinfo));
    *sf = NULL;
    if (seg->nopts == 0 && !mptcp_subflow_lookup(seg, NULL))
        return NULL;    /* plain TCP: nothing to store */
    G_STATIC_ASSERT(sizeof(mptcp_pkt_t) % sizeof(uint32_t) == 0);    /* the tail stays aligned */
    G_STATIC_ASSERT(sizeof(mptcp_dslot_t) % sizeof(uint32_t) == 0);
    fp.pkt = mptcp_pkt_new(size);
    fp.pkt->flags = short_res ? MPTCP_PF_SHORT : lat_slot ? MPTCP_PF_LAT_SLOT : 0;
    fp.pkt->frame = pinfo->num;
    if (!short_res)
        fp.pkt->seglen_ = seg->seglen;
    fp.sf = mptcp_conn_update(pinfo, seg, fp.pkt);
    if (!fp.sf) {
        mptcp_pkt_discard(fp.pkt, size);
        return NULL;
    }
    fp.c = fp.sf->conn;        /* the stages below do not link subflows */
    fp.t = mptcp_ts_ns(&pinfo->abs_ts);
    if (mptcp_prefs.mappings && mptcp_dsn_update(&fp))
        mptcp_latency_update(&fp);
    if (mptcp_prefs.mappings)
        mptcp_dataorder_update(&fp);
    /* the subflow's log keeps the count until it changes (its entries copy the one before) */
    if (fp.c && fp.sf->nsubflows_logged != fp.c->nsubflows + 1) {
        mptcp_pkt_set_nsubflows(fp.pkt, fp.c->nsubflows);
        fp.sf->nsubflows_logged = fp.c->nsubflows + 1;
    }
    mptcp_pkt_store(pinfo, fp.pkt);
    mptcp_reasm_first_pass(&fp);
    if (mptcp_vantage_pending)
        mptcp_vantage_first_pass(pinfo, seg, fp.pkt);
    *sf = fp.sf;
    return fp.pkt;
}
