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
 *    carried them (its result holds the value and the frame).
 * A segment's covering DATA_ACK is the first one in the history that covers it, found when the
 * latency is read (mptcp_latency_get(), every pass): a forward link, complete only with two
 * passes or in the GUI, since on the first pass the history ends at the frame being dissected.
 * The segment's data slot holds only the times. Negative values (first transmission not in the
 * capture) are not shown.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

/* One DATA_ACK of the history: its value and frame are those of the packet's result (its
 * reference, mptcp_pkt_ref()), its time a 32-bit dt above the base of the stretch its result
 * falls in. The history is a sequence in groups of ACK_GROUP: the first entry of a group whole,
 * the others as the differences of reference and dt to the entry before, varints
 * (mptcp_varint_put()): consecutive DATA_ACKs of a connection are mostly a few packets and
 * microseconds apart, ~2.5 bytes an entry instead of 8 (one entry per increasing DATA_ACK of
 * every connection). An entry is found from its group's first in at most ACK_GROUP - 1 steps.
 * The groups are one after the other (mptcp_gseq_t), each its first entry (8 bytes) then its
 * differences, with where each group but the first starts beside them: a short connection's
 * history (a few entries) is inline, a longer one on the GLib heap, filling its malloc
 * chunks (mptcp_chunk_cap()). */
#define ACK_GROUP 32

/** The histories' times, file-wide: from the result first_ref on (results are made in frame
 * order, so the references of the DATA_ACKs grow), times are base + dt * unit; a time that does
 * not fit the last stretch (earlier than its base, more than 2^32 units above it, or a finer
 * resolution than its unit) starts a new one, whose base is STRETCH_HEADROOM units earlier (a
 * capture's times may go back a little). A capture in microseconds needs one for 71 min. */
typedef struct {
    int64_t base;              /**< ns */
    uint32_t first_ref;
    uint32_t unit;             /**< ns: 1000 when the base is a whole number of microseconds */
} lat_stretch_t;

#define STRETCH_HEADROOM (INT64_C(1) << 24)

static lat_stretch_t *stretches;   /**< by ascending first_ref (GLib heap: mptcp_latency_cleanup()) */
static unsigned nstretches;

typedef struct {
    uint64_t base;             /**< raw DSN of relative 0 */
    uint64_t max_end;          /**< highest relative end of data seen (0: none yet; an end is >= 1) */
    uint64_t last_ack;         /**< the last entry's DATA_ACK (relative) */
    mptcp_gseq_t seq;          /**< the groups of the history: the first entry's reference and dt
                                * (4 bytes each), then the differences */
    uint32_t nbytes;           /**< bytes used in seq */
    uint32_t last_ref;         /**< the last entry's reference */
    uint32_t last_dt;          /**< ... and its dt: an entry is appended without a walk */
    unsigned nacks : 31;       /**< entries: strictly increasing DATA_ACKs */
    unsigned base_set : 1;
} lat_dir_t;

/** A position in a history: entry i. */
typedef struct {
    unsigned i;
    uint32_t ref, dt;
    const uint8_t *p;          /**< the next entry's differences */
} ack_cur_t;

typedef struct {
    lat_dir_t d[2];            /**< by sending endpoint (0 client, 1 server) */
} lat_conn_t;

/* per connection: mptcp_conn_t.lat_priv (lat_conn_t, its arrays on the GLib heap: freed at the
 * file's cleanup, mptcp_latency_cleanup()); per data packet: the data slot behind its
 * mptcp_pkt_t (mptcp_pkt_set_sent()): no map lookup or allocation per packet */

static int hf_latency = -1;
static int hf_latency_ack = -1;
static int hf_latency_first = -1;

static uint64_t
rel(lat_dir_t *d, uint64_t raw)
{
    if (!d->base_set) {
        d->base = raw - MPTCP_REL_BASE_HEADROOM;
        d->base_set = true;
    }
    return raw - d->base;
}

static uint64_t
ack_of(const lat_dir_t *d, uint32_t ref)
{
    return mptcp_pkt_ack64(mptcp_pkt_deref(ref)) - d->base;
}

/** The cursor at the first entry of group g. */
static void
ack_group(const lat_dir_t *d, unsigned g, ack_cur_t *c)
{
    c->p = mptcp_gseq_group(&d->seq, d->nbytes, g);
    c->i = g * ACK_GROUP;
    memcpy(&c->ref, c->p, sizeof(c->ref));
    memcpy(&c->dt, c->p + sizeof(c->ref), sizeof(c->dt));
    c->p += sizeof(c->ref) + sizeof(c->dt);
}

/** Moves the cursor to the next entry (there is one). */
static void
ack_next(const lat_dir_t *d, ack_cur_t *c)
{
    if (++c->i % ACK_GROUP == 0) {
        ack_group(d, c->i / ACK_GROUP, c);
    } else {
        c->ref += mptcp_varint_get(&c->p);
        c->dt += mptcp_varint_get(&c->p);
    }
}

/** Appends an entry (ref above the last one's) for the DATA_ACK a (relative). */
static void
ack_append(lat_dir_t *d, uint32_t ref, uint32_t dt, uint64_t a)
{
    uint8_t b[10];
    unsigned k;

    if (d->nacks % ACK_GROUP == 0) {
        memcpy(b, &ref, sizeof(ref));
        memcpy(b + sizeof(ref), &dt, sizeof(dt));
        k = sizeof(ref) + sizeof(dt);
    } else {
        k = mptcp_varint_put(b, ref - d->last_ref);
        k += mptcp_varint_put(b + k, dt - d->last_dt);
    }
    mptcp_gseq_append(&d->seq, &d->nbytes, b, k, d->nacks % ACK_GROUP == 0 ? d->nacks / ACK_GROUP : 0);
    d->last_ref = ref;
    d->last_dt = dt;
    d->last_ack = a;
    d->nacks++;
}

/** Time t of the result ref (not below the last stretch's first_ref) in 32 bits: dt. */
static uint32_t
time_pack(uint32_t ref, int64_t t)
{
    lat_stretch_t *s = nstretches ? &stretches[nstretches - 1] : NULL;

    if (!s || t < s->base || (t - s->base) % s->unit || (t - s->base) / s->unit > UINT32_MAX) {
        stretches = (lat_stretch_t *)mptcp_grow_counted(NULL, stretches, nstretches, nstretches + 1,
                                                        sizeof(*stretches));
        s = &stretches[nstretches++];
        s->first_ref = ref;
        s->unit = t % 1000 ? 1 : 1000;
        s->base = t - STRETCH_HEADROOM * s->unit;
    }
    return (uint32_t)((t - s->base) / s->unit);
}

/** The time of the history entry at c. */
static int64_t
time_at(const ack_cur_t *c)
{
    unsigned lo = 0, hi = nstretches - 1;

    while (lo < hi) {          /* the last stretch with first_ref <= ref: mostly the only one */
        unsigned m = hi - (hi - lo) / 2;
        if (stretches[m].first_ref <= c->ref)
            lo = m;
        else
            hi = m - 1;
    }
    return stretches[lo].base + (int64_t)c->dt * stretches[lo].unit;
}

/** The peer's DATA_ACK ack (raw) in pkt covers the data of d up to it. */
static void
handle_ack(lat_dir_t *d, const mptcp_pkt_t *pkt, uint64_t ack, int64_t t)
{
    uint64_t a = rel(d, ack);
    uint32_t ref;

    /* mostly no newer DATA_ACK than the last entry's: nothing to append */
    if ((d->nacks && a <= d->last_ack) || (d->max_end && a > d->max_end + MPTCP_ACK_TRUST_WINDOW))
        return;
    ref = mptcp_pkt_ref(pkt);
    if (!ref)
        return;
    /* the packet being analysed has the newest result: its reference is the highest so far */
    DISSECTOR_ASSERT(!nstretches || ref > stretches[nstretches - 1].first_ref);
    ack_append(d, ref, time_pack(ref, t), a);
}

/** The first DATA_ACK of the history that covers relative DSN end: false if none does yet; else
 * the cursor at it. */
static bool
covering_ack(const lat_dir_t *d, uint64_t end, ack_cur_t *c)
{
    unsigned lo = 1, hi = (d->nacks + ACK_GROUP - 1) / ACK_GROUP, g = 0;

    if (!d->nacks || d->last_ack < end)
        return false;           /* mostly, on the first pass */
    while (lo < hi) {           /* the last group whose first entry does not cover end */
        unsigned m = lo + (hi - lo) / 2;
        uint32_t first;

        memcpy(&first, mptcp_gseq_group(&d->seq, d->nbytes, m), sizeof(first));
        if (ack_of(d, first) < end) {
            g = m;
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    for (ack_group(d, g, c); ack_of(d, c->ref) < end;)
        ack_next(d, c);         /* the last entry covers it */
    return true;
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
 * the endpoint's index of sent data that carried it, else this segment (time t, frame); kept in
 * the segment's data slot. no_earlier: the data sequence stage found no earlier copy of the
 * segment's bytes (the index is not searched). */
static void
first_transmission(const mptcp_endpoint_t *e, uint64_t dsn, int64_t t, mptcp_pkt_t *pkt, bool no_earlier)
{
    first_ud_t u = { 0, NULL };

    if (!no_earlier)
        mptcp_sent_foreach_overlap(&e->sent, dsn, dsn + 1, first_cb, &u);
    mptcp_pkt_set_sent(pkt, t, u.p ? u.frame : pkt->frame, u.p ? mptcp_pkt_sent_ns(u.p) : t);
}

void
mptcp_latency_update(const mptcp_fp_t *fp)
{
    mptcp_pkt_t *pkt = fp->pkt;
    uint32_t fl = pkt->flags;
    int ep = mptcp_pkt_ep(pkt);
    mptcp_conn_t *c = fp->c;
    lat_conn_t *lc;
    lat_dir_t *d;
    uint64_t dsn, lo;

    /* first pass only: mptcp_first_pass() asserts it */
    if (!c || ep < 0 || !(fl & (MPTCP_PF_HAS_ACK | MPTCP_PF_HAS_DSN)))
        return;
    lc = (lat_conn_t *)c->lat_priv;
    if (MPTCP_UNLIKELY(!lc)) {
        lc = (lat_conn_t *)mptcp_conn_alloc0(sizeof(lat_conn_t));
        c->lat_priv = lc;
    }
    /* the DATA_ACK first: it acknowledges the peer's data, not this segment's (a choice rather
     * than an index: GCC keeps the pointers instead of indexing again) */
    if (fl & MPTCP_PF_HAS_ACK)
        handle_ack(ep ? &lc->d[0] : &lc->d[1], pkt, fp->ack64, fp->t);
    if (!(fl & MPTCP_PF_HAS_DSN) || mptcp_pkt_seglen(pkt) == 0)
        return;
    d = ep ? &lc->d[1] : &lc->d[0];
    dsn = fp->dsn64;
    lo = rel(d, dsn);
    /* far below the first DSN seen: not this data space (the slot exists: payload) */
    if (lo >= UINT64_C(1) << 62 || !(fl & MPTCP_PF_LAT_SLOT))
        return;
    first_transmission(&c->ep[ep], dsn, fp->t, pkt, fp->no_earlier_copy);
    pkt->flags |= MPTCP_PF_LAT;
    d->max_end = MAX(d->max_end, lo + mptcp_pkt_seglen(pkt));
}

void
mptcp_latency_cleanup(void)
{
    for (uint32_t i = 0; i < mptcp_conn_count(); i++) {
        lat_conn_t *lc = (lat_conn_t *)mptcp_conn_by_stream(i)->lat_priv;

        for (int e = 0; lc && e < 2; e++) {
            mptcp_gseq_free(&lc->d[e].seq, &lc->d[e].nbytes);
            lc->d[e].nacks = 0;
        }
    }
    g_free(stretches);
    stretches = NULL;
    nstretches = 0;
}

bool
mptcp_latency_get(const mptcp_pkt_t *pkt, mptcp_latency_t *out)
{
    const lat_conn_t *lc;
    const lat_dir_t *d;
    ack_cur_t c;
    int64_t v;

    if (!mptcp_pkt_latency(pkt, out))
        return false;
    /* the slot exists only after mptcp_latency_update() set the direction's base */
    lc = (const lat_conn_t *)mptcp_pkt_conn(pkt)->lat_priv;
    d = &lc->d[mptcp_pkt_ep(pkt)];
    if (covering_ack(d, mptcp_pkt_dsn64(pkt) - d->base + mptcp_pkt_seglen(pkt), &c) &&
        (v = time_at(&c) - mptcp_pkt_first_ns(pkt)) >= 0) {
        out->ns = v;
        out->ack_frame = mptcp_pkt_deref(c.ref)->frame;
    }
    return true;
}

void
mptcp_latency_render(tvbuff_t *tvb, proto_tree *t, const mptcp_pkt_t *pkt)
{
    mptcp_latency_t lat;
    const mptcp_latency_t *res = &lat;
    proto_item *ti;

    if (!(pkt->flags & MPTCP_PF_HAS_DSN) || mptcp_pkt_seglen(pkt) == 0 || !mptcp_latency_get(pkt, &lat))
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
