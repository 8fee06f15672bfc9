/* mptcp-peer-match.c
 * Joins each segment of this capture (fed in frame order on the first pass) to its copy in the
 * peer capture (issue 21) and derives what two vantage points show and one cannot:
 *   - the one-way delay: receiver's time - sender's time, the peer's times shifted by the
 *     clock offset (mptcp.peer_clock_offset);
 *   - loss on the path: a data segment sent by this capture's host that the peer never saw;
 *   - whether a reinjection was useful: it carried at least one byte that reached the
 *     receiver's capture point first through this copy.
 * Who sent a segment: the link layer says it when it can (Linux SLL/SLL2 packet type, in this
 * capture or the peer's); otherwise the first matched segment of a flow decides for the flow
 * and its reverse (the earlier time, after the offset, is the sender's).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

#include <string.h>

#include "mptcp-peer.h"

struct mptcp_peer_matcher {
    mptcp_peer_index_t *peer;
    mptcp_peer_index_t *local;     /* this capture, fed in frame order (DSNs, first arrivals) */
    int64_t offset_ns;
    GArray *sender;                /* per local flow: 0 unknown, 1 sent here, 2 sent by the peer */
    int64_t peer_first_ns, peer_last_ns;   /* the peer capture's time span (its own clock) */
    bool has_min[2];
    int64_t min_owd[2];            /* minimum one-way delay: [0] from here, [1] towards here */
};

mptcp_peer_matcher_t *
mptcp_peer_matcher_new(mptcp_peer_index_t *peer, int64_t clock_offset_ns)
{
    mptcp_peer_matcher_t *m = g_new0(mptcp_peer_matcher_t, 1);

    m->peer = peer;
    m->local = mptcp_peer_index_new();
    m->offset_ns = clock_offset_ns;
    m->sender = g_array_new(FALSE, TRUE, sizeof(uint8_t));
    mptcp_peer_index_span(peer, &m->peer_first_ns, &m->peer_last_ns);
    return m;
}

void
mptcp_peer_matcher_free(mptcp_peer_matcher_t *m)
{
    if (!m)
        return;
    mptcp_peer_index_free(m->peer);
    mptcp_peer_index_free(m->local);
    g_array_free(m->sender, TRUE);
    g_free(m);
}

static uint8_t *
sender_slot(mptcp_peer_matcher_t *m, uint32_t flow)
{
    if (m->sender->len <= flow)
        g_array_set_size(m->sender, flow + 1);
    return &g_array_index(m->sender, uint8_t, flow);
}

/* Records who sends on local flow (and the opposite on its reverse). */
static void
sender_set(mptcp_peer_matcher_t *m, uint32_t flow, bool here)
{
    uint32_t rev = mptcp_peer_index_reverse(m->local, flow);

    *sender_slot(m, flow) = here ? 1 : 2;
    if (rev && !*sender_slot(m, rev - 1))
        *sender_slot(m, rev - 1) = here ? 2 : 1;
}

static int
sender_decide(mptcp_peer_matcher_t *m, const mptcp_peer_rec_t *loc, const mptcp_peer_rec_t *peer)
{
    uint8_t known = *sender_slot(m, loc->flow);

    if (loc->dir != MPTCP_PEER_DIR_UNKNOWN)
        sender_set(m, loc->flow, loc->dir == MPTCP_PEER_DIR_OUT);
    else if (peer && peer->dir != MPTCP_PEER_DIR_UNKNOWN)
        sender_set(m, loc->flow, peer->dir == MPTCP_PEER_DIR_IN);
    else if (!known && peer)
        sender_set(m, loc->flow, peer->ts_ns + m->offset_ns >= loc->ts_ns);
    known = *sender_slot(m, loc->flow);
    return known == 0 ? -1 : known == 1;
}

void
mptcp_peer_match(mptcp_peer_matcher_t *m, const mptcp_peer_seg_t *seg, mptcp_peer_result_t *res)
{
    const mptcp_peer_rec_t *loc = mptcp_peer_index_add(m->local, seg);
    uint32_t pflow = mptcp_peer_index_flow_find(m->peer, seg);
    mptcp_peer_rec_t *peer = pflow ? mptcp_peer_index_take(m->peer, pflow - 1, seg) : NULL;
    int here;

    memset(res, 0, sizeof(*res));
    res->peer_conn = -1;
    here = sender_decide(m, loc, peer);
    res->sender_known = here >= 0;
    res->sent_here = here == 1;
    if (peer) {
        int64_t tp = peer->ts_ns + m->offset_ns;
        res->has_peer = true;
        res->peer_frame = peer->frame;
        res->peer_conn = mptcp_peer_index_conn_of(m->peer, peer);
        res->owd_ns = here == 1 ? tp - loc->ts_ns : loc->ts_ns - tp;
        if (here >= 0 && (!m->has_min[!here] || res->owd_ns < m->min_owd[!here])) {
            m->has_min[!here] = true;
            m->min_owd[!here] = res->owd_ns;
        }
    } else if (here == 1 && seg->len > 0 && pflow && loc->ts_ns - m->offset_ns >= m->peer_first_ns
               && loc->ts_ns - m->offset_ns <= m->peer_last_ns) {
        /* lost only where the peer captured that subflow, and while it was capturing */
        res->lost_on_path = true;
    }
    /* a reinjection is its sender's: this capture's flags when sent here, else the peer's copy;
     * useful = a first arrival at the receiver's capture point */
    if (here == 1 && loc->reinjection && (peer || res->lost_on_path)) {
        res->has_reinj_useful = true;
        res->reinj_useful = peer && peer->first_arrival;
    } else if (here == 0 && peer && peer->reinjection) {
        res->has_reinj_useful = true;
        res->reinj_useful = loc->first_arrival;
    }
}

bool
mptcp_peer_offset_estimate(const mptcp_peer_matcher_t *m, int64_t *offset_ns)
{
    if (!m->has_min[0] || !m->has_min[1])
        return false;
    /* from here: d0 + (skew + offset); towards here: d1 - (skew + offset); d0 = d1 assumed */
    *offset_ns = m->offset_ns - (m->min_owd[0] - m->min_owd[1]) / 2;
    return true;
}
