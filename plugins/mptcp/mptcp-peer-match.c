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

#define MAX_PIECES 64

/** The peer's copies of one segment of this capture: one, or the pieces of a transmission that
 * the two ends segmented differently (TSO at the sender, GRO at the receiver). */
typedef struct {
    const mptcp_peer_rec_t *ref;   /* the copy with the first byte (earliest), or NULL */
    uint32_t covered;              /* bytes of the segment the copies carry */
    bool first_arrival;            /* some copy carried a byte first at its capture point */
    bool reinjection;              /* some copy is a reinjection of its sender */
} copies_t;

/* Bytes of [0, len) covered by the pieces (offsets from seg->seq; at most MAX_PIECES). */
static uint32_t
covered_bytes(const mptcp_peer_seg_t *seg, const mptcp_peer_rec_t *const *v, unsigned n)
{
    int64_t lo[MAX_PIECES], hi[MAX_PIECES], end = 0, total = 0;

    for (unsigned i = 0; i < n; i++) {
        int64_t d = (int32_t)(v[i]->seq - seg->seq), a = MAX(0, d), b = MIN((int64_t)seg->len, d + v[i]->len);
        unsigned j = i;
        for (; j > 0 && lo[j - 1] > a; j--) {      /* insertion sort by start */
            lo[j] = lo[j - 1];
            hi[j] = hi[j - 1];
        }
        lo[j] = a;
        hi[j] = b;
    }
    for (unsigned i = 0; i < n; i++) {
        int64_t a = MAX(lo[i], end);
        if (hi[i] > a) {
            total += hi[i] - a;
            end = hi[i];
        }
    }
    return (uint32_t)total;
}

/* The segment's copies in the peer capture: by exact key, else by TSval and sequence range. */
static void
find_copies(mptcp_peer_matcher_t *m, uint32_t pflow, const mptcp_peer_seg_t *seg, copies_t *c)
{
    const mptcp_peer_rec_t *v[MAX_PIECES];
    mptcp_peer_rec_t *exact = pflow ? mptcp_peer_index_take(m->peer, pflow - 1, seg) : NULL;
    unsigned n;

    memset(c, 0, sizeof(*c));
    if (exact) {
        c->ref = exact;
        c->covered = seg->len;
        c->first_arrival = exact->first_arrival;
        c->reinjection = exact->reinjection;
        return;
    }
    if (!pflow || !seg->len)
        return;
    /* pieces come in frame order: the first that holds the segment's first byte, else the first */
    n = mptcp_peer_index_pieces(m->peer, pflow - 1, seg, v, MAX_PIECES);
    for (unsigned i = 0; i < n; i++) {
        if (seg->seq - v[i]->seq < v[i]->len && (!c->ref || seg->seq - c->ref->seq >= c->ref->len))
            c->ref = v[i];
        c->first_arrival |= v[i]->first_arrival;
        c->reinjection |= v[i]->reinjection;
    }
    if (!c->ref && n)
        c->ref = v[0];
    c->covered = covered_bytes(seg, v, n);
}

void
mptcp_peer_match(mptcp_peer_matcher_t *m, const mptcp_peer_seg_t *seg, mptcp_peer_result_t *res)
{
    const mptcp_peer_rec_t *loc = mptcp_peer_index_add(m->local, seg);
    uint32_t pflow = mptcp_peer_index_flow_find(m->peer, seg);
    int64_t t_peer_clock = loc->ts_ns - m->offset_ns;
    copies_t c;
    int here;

    if (!pflow)                /* a NAT between the ends: the same subflow by its MP_JOIN / key */
        pflow = mptcp_peer_index_flow_by_sig(m->peer, m->local, loc->flow);
    find_copies(m, pflow, seg, &c);
    memset(res, 0, sizeof(*res));
    res->peer_conn = -1;
    here = sender_decide(m, loc, c.ref);
    res->sender_known = here >= 0;
    res->sent_here = here == 1;
    if (c.ref) {
        int64_t tp = c.ref->ts_ns + m->offset_ns;
        res->has_peer = true;
        res->peer_frame = c.ref->frame;
        res->peer_conn = mptcp_peer_index_conn_of(m->peer, c.ref);
        res->owd_ns = here == 1 ? tp - loc->ts_ns : loc->ts_ns - tp;
        if (here >= 0 && (!m->has_min[!here] || res->owd_ns < m->min_owd[!here])) {
            m->has_min[!here] = true;
            m->min_owd[!here] = res->owd_ns;
        }
    }
    /* lost: some of its bytes never reached the peer capture; only where the peer captured
     * that subflow, and while it was capturing */
    if (here == 1 && seg->len > 0 && pflow && c.covered < seg->len && t_peer_clock >= m->peer_first_ns
        && t_peer_clock <= m->peer_last_ns)
        res->lost_on_path = true;
    /* a reinjection is its sender's: this capture's flags when sent here, else the peer's copy;
     * useful = a first arrival at the receiver's capture point */
    if (here == 1 && loc->reinjection && (c.ref || res->lost_on_path)) {
        res->has_reinj_useful = true;
        res->reinj_useful = c.first_arrival;
    } else if (here == 0 && c.reinjection) {
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
