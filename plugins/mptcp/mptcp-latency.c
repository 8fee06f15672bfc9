/* mptcp-latency.c
 * MPTCP-level latency of every data segment (first pass only, rendered on every pass):
 * the time from the first transmission of the segment's bytes (on any subflow) to the first
 * DATA_ACK (on any subflow) that covers them. It includes the head-of-line wait that the
 * receiver's data-level reordering adds to the subflow RTT (what mptcptrace's "-r" MPTCP RTT
 * measures per mapping; here per segment, in the field mptcp.analysis.latency).
 *
 * Per connection and sending endpoint, on the first pass:
 *  - first transmissions: from the sender's index of everything it sent (mptcp_endpoint_t.sent,
 *    kept by mptcp-dsn.c), the earliest frame that carried the segment's first byte; a
 *    retransmission or reinjection takes that frame's send time;
 *  - DATA_ACK history: the increasing DATA_ACKs of the peer, with time and the segment that
 *    carried them (its result holds the value and the frame);
 *  - pending segments: a min-heap on the end DSN of the segments not yet covered; a new
 *    DATA_ACK pops every segment it covers (the forward link, written into the earlier
 *    segment's result, so complete only with two passes or in the GUI).
 * A segment sent after a DATA_ACK already covered it (a spurious retransmission) takes the
 * first DATA_ACK in the history that covers it. Negative values (first transmission not in
 * the capture) are not stored.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

/** One DATA_ACK of the history: its value and frame are those of the packet's result (16 bytes
 * instead of 24: one entry per increasing DATA_ACK of every connection). */
typedef struct {
    const mptcp_pkt_t *pkt;    /**< the segment that carried it: ack64, frame */
    int64_t t;                 /**< ns */
} lat_ack_t;

typedef struct {
    uint64_t end;              /**< relative end DSN (heap key) */
    int64_t first_ns;          /**< when the segment's first byte was first sent (ns) */
    mptcp_pkt_t *pkt;          /**< the segment: its data slot gets the latency */
} lat_pend_t;

typedef struct {
    uint64_t base;             /**< raw DSN of relative 0 */
    uint64_t max_end;          /**< highest relative end of data seen */
    mptcp_heap_t pending;      /**< lat_pend_t, smallest end first (freed whenever it empties) */
    lat_ack_t *acks;           /**< strictly increasing DATA_ACK */
    unsigned nacks, capacks;
    bool base_set;
    bool data_seen;
} lat_dir_t;

typedef struct {
    lat_dir_t d[2];            /**< by sending endpoint (0 client, 1 server) */
} lat_conn_t;

/* per connection: mptcp_conn_t.lat_priv (lat_conn_t, its arrays on the GLib heap: freed at the
 * file's cleanup, mptcp_latency_cleanup()); per data packet: the data slot behind its
 * mptcp_pkt_t (mptcp_pkt_set_latency() and friends): no map lookup or allocation per packet */

static int hf_latency = -1;
static int hf_latency_ack = -1;
static int hf_latency_first = -1;

static int64_t
ts_ns(const nstime_t *t)
{
    return (int64_t)t->secs * 1000000000 + t->nsecs;
}

static uint64_t
rel(lat_dir_t *d, uint64_t raw)
{
    if (!d->base_set) {
        d->base = raw - MPTCP_REL_BASE_HEADROOM;
        d->base_set = true;
    }
    return raw - d->base;
}


static void
resolve(mptcp_pkt_t *pkt, int64_t first_ns, int64_t t_ack, uint32_t ack_frame)
{
    int64_t v = t_ack - first_ns;

    if (v < 0)
        return;
    mptcp_pkt_set_latency(pkt, v, ack_frame);
}

/** Relative DATA_ACK of history entry i (the base is set: rel() ran for it). */
static uint64_t
ack_at(const lat_dir_t *d, unsigned i)
{
    return d->acks[i].pkt->ack64 - d->base;
}

/** The peer's DATA_ACK in pkt (pkt->ack64, raw) covers the data of d up to it. */
static void
handle_ack(lat_dir_t *d, const mptcp_pkt_t *pkt, int64_t t)
{
    uint64_t a = rel(d, pkt->ack64);

    if (d->data_seen && a > d->max_end + MPTCP_ACK_TRUST_WINDOW)
        return;
    if (d->nacks && a <= ack_at(d, d->nacks - 1))
        return;
    d->acks = (lat_ack_t *)mptcp_grow(NULL, d->acks, &d->capacks, d->nacks + 1, sizeof(lat_ack_t));
    d->acks[d->nacks].pkt = pkt;
    d->acks[d->nacks].t = t;
    d->nacks++;
    for (const lat_pend_t *top; (top = (const lat_pend_t *)mptcp_heap_top(&d->pending)) && top->end <= a;) {
        resolve(top->pkt, top->first_ns, t, pkt->frame);
        mptcp_heap_pop(&d->pending, sizeof(lat_pend_t));
        if (!d->pending.n)
            mptcp_heap_free(&d->pending, NULL);   /* nothing outstanding: no array kept */
    }
}

typedef struct {
    uint32_t frame;
    const mptcp_pkt_t *p;
} first_ud_t;

static void
first_cb(mptcp_pkt_t *p, uint32_t sf_index _U_, void *ud)
{
    first_ud_t *u = (first_ud_t *)ud;

    /* the segment being analysed has no result yet: only earlier transmissions count */
    if ((p->flags & MPTCP_PF_LAT) && (!u->p || p->frame < u->frame)) {
        u->frame = p->frame;
        u->p = p;
    }
}

/** The first transmission of the byte at raw DSN dsn sent by endpoint e: the earliest frame in
 * the endpoint's index of sent data that carried it, else this segment (time t, frame). Returns
 * its time (only needed until the segment is acknowledged: not stored). */
static int64_t
first_transmission(const mptcp_endpoint_t *e, uint64_t dsn, int64_t t, mptcp_pkt_t *pkt)
{
    first_ud_t u = { 0, NULL };

    mptcp_sent_foreach_overlap(&e->sent, dsn, dsn + 1, first_cb, &u);
    mptcp_pkt_set_sent(pkt, t, u.p ? u.frame : pkt->frame);
    return u.p ? mptcp_pkt_sent_ns(u.p) : t;
}

void
mptcp_latency_update(packet_info *pinfo, mptcp_pkt_t *pkt)
{
    lat_conn_t *lc;
    int64_t t = ts_ns(&pinfo->abs_ts);

    DISSECTOR_ASSERT(!PINFO_FD_VISITED(pinfo));
    if (!mptcp_pkt_conn(pkt) || pkt->ep < 0 || !(pkt->flags & (MPTCP_PF_HAS_ACK | MPTCP_PF_HAS_DSN)))
        return;
    lc = (lat_conn_t *)mptcp_pkt_conn(pkt)->lat_priv;
    if (!lc) {
        lc = (lat_conn_t *)mptcp_conn_alloc0(sizeof(lat_conn_t));
        mptcp_pkt_conn(pkt)->lat_priv = lc;
    }
    /* the DATA_ACK first: it acknowledges the peer's data, not this segment's */
    if (pkt->flags & MPTCP_PF_HAS_ACK)
        handle_ack(&lc->d[1 - pkt->ep], pkt, t);
    if ((pkt->flags & MPTCP_PF_HAS_DSN) && pkt->seglen > 0) {
        lat_dir_t *d = &lc->d[pkt->ep];
        uint64_t lo = rel(d, pkt->dsn64), hi = lo + pkt->seglen;
        int64_t first_ns;

        /* far below the first DSN seen: not this data space (the slot exists: payload) */
        if (lo >= UINT64_C(1) << 62 || !(pkt->flags & MPTCP_PF_LAT_SLOT))
            return;
        first_ns = first_transmission(&mptcp_pkt_conn(pkt)->ep[pkt->ep], pkt->dsn64, t, pkt);
        pkt->flags |= MPTCP_PF_LAT;
        if (!d->data_seen || hi > d->max_end)
            d->max_end = hi;
        d->data_seen = true;
        if (d->nacks && ack_at(d, d->nacks - 1) >= hi) {
            /* already covered: the first DATA_ACK that did it */
            unsigned a = 0, b = d->nacks - 1;
            while (a < b) {
                unsigned m = a + (b - a) / 2;
                if (ack_at(d, m) >= hi)
                    b = m;
                else
                    a = m + 1;
            }
            resolve(pkt, first_ns, d->acks[a].t, d->acks[a].pkt->frame);
        } else {
            lat_pend_t pend = { hi, first_ns, pkt };
            mptcp_heap_push(&d->pending, NULL, &pend, sizeof(pend));
        }
    }
}

void
mptcp_latency_cleanup(void)
{
    for (uint32_t i = 0; i < mptcp_conn_count(); i++) {
        lat_conn_t *lc = (lat_conn_t *)mptcp_conn_by_stream(i)->lat_priv;

        for (int e = 0; lc && e < 2; e++) {
            g_free(lc->d[e].acks);
            lc->d[e].acks = NULL;
            mptcp_heap_free(&lc->d[e].pending, NULL);
        }
    }
}

bool
mptcp_latency_get(const mptcp_pkt_t *pkt, mptcp_latency_t *out)
{
    return mptcp_pkt_latency(pkt, out);
}

void
mptcp_latency_render(tvbuff_t *tvb, proto_tree *t, const mptcp_pkt_t *pkt)
{
    mptcp_latency_t lat;
    const mptcp_latency_t *res = &lat;
    proto_item *ti;

    if (!(pkt->flags & MPTCP_PF_HAS_DSN) || pkt->seglen == 0 || !mptcp_latency_get(pkt, &lat))
        return;
    if (res->first_frame != pkt->frame) {
        ti = proto_tree_add_uint(t, hf_latency_first, tvb, 0, 0, res->first_frame);
        proto_item_set_generated(ti);
    }
    if (res->ack_frame) {
        nstime_t v;
        v.secs = (time_t)(res->ns / 1000000000);
        v.nsecs = (int)(res->ns % 1000000000);
        ti = proto_tree_add_time(t, hf_latency, tvb, 0, 0, &v);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint(t, hf_latency_ack, tvb, 0, 0, res->ack_frame);
        proto_item_set_generated(ti);
    }
}

void
mptcp_latency_register(void)
{
    static hf_register_info hf[] = {
        { &hf_latency, { "MPTCP data latency", "mptcp.analysis.latency", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Time from the first transmission of this segment's data (on any subflow) to the first DATA_ACK "
            "that covers it, including the data-level head-of-line wait (a forward link: complete only with "
            "-2 or in the GUI)", HFILL } },
        { &hf_latency_ack, { "Covered by DATA_ACK in", "mptcp.analysis.latency_ack_frame", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_ACK), 0x0,
            "First DATA_ACK that covers this segment's data (a forward link: complete only with -2 or in the GUI)",
            HFILL } },
        { &hf_latency_first, { "Data first sent in", "mptcp.analysis.first_sent_frame", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
            "Frame that first carried this segment's first data byte (a retransmission or reinjection)", HFILL } },
    };

    proto_register_field_array(proto_mptcp, hf, array_length(hf));
}
