/* mptcp-dataorder.c
 * Data-level order analysis ([dataorder]): why a transfer was slow, per direction of an MPTCP
 * connection (first pass only, rendered on every pass).
 *
 *  - flight (mptcp.analysis.flight): highest data sequence number sent so far (end of data)
 *    minus the highest DATA_ACK of the peer captured so far (RFC 8684 section 3.3.2);
 *  - data window (mptcp.analysis.data_window): the TCP window of a packet carrying a DATA_ACK,
 *    scaled by its subflow's window scale: the receive window is shared by all subflows and
 *    relative to the DATA_ACK (section 3.3.5). The right edge = DATA_ACK + window, the highest
 *    seen so far; a data packet that reaches it is window-full (the sender is limited by the
 *    receiver's buffer); a DATA_ACK with window 0 is a zero window;
 *  - head-of-line wait (mptcp.analysis.hol_wait): a data packet captured while earlier bytes of
 *    its direction were missing waits until the gap closes (a forward link, complete with -2);
 *  - spurious reinjection: a reinjection whose bytes were all DATA_ACKed before it.
 * Exact semantics: tests/dataorder_truth.py (the independent truth the tests compare with).
 *
 * A DATA_ACK counts only if it does not acknowledge data never seen (<= highest end + 1, the
 * DATA_FIN's sequence number, section 3.3.3). Offsets are relative to the sender's IDSN when
 * its key was captured (then "nothing sent" is relative DSN 1), else to a base below the
 * first data seen (a capture that starts mid-connection: DATA_ACKs before it do not count).
 *
 * Per data packet the results live in the data slot behind its result (mptcp_pkt_set_flight()
 * and friends, mptcp-pkt.c); packets
 * without payload store nothing beyond flag bits of their result. The per-connection state's two
 * arrays are on the GLib heap, freed at the file's cleanup (mptcp_dataorder_cleanup()).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/dissectors/packet-tcp.h>

/** Relative offsets at or above this are below the base (not this data space). */
#define DO_REL_LIMIT (UINT64_C(1) << 62)
#define TCPOPT_WINDOW_SCALE 3   /* RFC 7323 section 2.2 */
#define DO_WSCALE_MAX 14           /* RFC 7323 section 2.3 */

typedef struct {
    uint64_t lo, hi;           /**< captured bytes [lo, hi) above the complete point */
} do_iv_t;

/** A data packet ahead of a gap (mptcp_heap_t element: the key first). */
typedef struct {
    uint64_t start;            /**< its first byte */
    int64_t t;                 /**< its capture time (ns) */
    mptcp_pkt_t *pkt;          /**< its result: the data slot gets the wait */
} do_pend_t;

/** What a direction has only while bytes are missing below captured ones (GLib heap: made at
 * the first gap, freed when the gaps close and nothing waits; in-order data never has it). */
typedef struct {
    do_iv_t *iv;               /**< sorted, disjoint, all above complete (NULL when none) */
    mptcp_heap_t pending;      /**< do_pend_t, smallest start first (freed whenever it empties) */
    unsigned niv, capiv;
} do_gaps_t;

/** One direction of data (by sending endpoint); fields ordered by size. */
typedef struct {
    uint64_t base;             /**< raw DSN of relative 0 */
    uint64_t max_end;          /**< highest end of data sent so far */
    uint64_t ack;              /**< highest DATA_ACK of the peer that counts */
    uint64_t edge;             /**< right edge: highest DATA_ACK + data window */
    uint64_t complete;         /**< every byte below it has been captured */
    do_gaps_t *gaps;           /**< NULL: no gap, nothing waits */
    /* statistics (first pass; the rare ones: do_rare_get()) */
    int64_t limited_since, limited_ns, last_ns;
    uint64_t ack_raw;          /**< the peer's last DATA_ACK that counted with a known window (raw) */
    uint32_t ack_sf;           /**< ... its subflow (mptcp_pkt_t.sf_ref; 0: none yet) */
    uint16_t ack_win;          /**< ... and its TCP window: the same again changes nothing */
    bool based : 1, keyed : 1;
    bool has_end : 1, has_ack : 1, has_edge : 1, has_complete : 1;
    bool limited : 1;          /**< window-full since limited_since, not yet reopened */
    bool has_rare : 1;         /**< do_rare_of() has counts for it */
} do_dir_t;

/** A direction's rare counts (packet counts fit 32 bits, as frame numbers do): beside it, made
 * at its first zero window or spurious retransmission (most directions have neither). */
typedef struct {
    uint64_t spurious_bytes;
    uint32_t zero_windows;     /**< DATA_ACKs of the peer with window 0 */
    uint32_t spurious_pkts;
} do_rare_t;

typedef struct {
    do_dir_t d[2];             /**< by sending endpoint (0 client, 1 server) */
} do_conn_t;

/** do_dir_t * -> do_rare_t * (file scope, made when first needed) */
static wmem_map_t *rares;

/** d's rare counts (NULL: all zero). */
static const do_rare_t *
do_rare_get(const do_dir_t *d)
{
    return d->has_rare ? (const do_rare_t *)wmem_map_lookup(rares, d) : NULL;
}

/** d's rare counts, to be written (made at the first). */
static G_GNUC_NO_INLINE do_rare_t *
do_rare_of(do_dir_t *d)
{
    if (d->has_rare)
        return (do_rare_t *)wmem_map_lookup(rares, d);
    d->has_rare = true;
    return (do_rare_t *)mptcp_side_new(wmem_file_scope(), &rares, d, sizeof(do_rare_t));
}

/** The highest frame given a window-full or spurious note (in its own first pass, data_notes()):
 * no result of a later frame has one, so mptcp_dataorder_has_note() reads no data slot for it. */
static uint32_t last_note_frame;

static int hf_flight = -1;
static int hf_data_window = -1;
static int hf_hol_wait = -1;
static int hf_hol_frame = -1;
static expert_field ei_window_full = EI_INIT;
static expert_field ei_zero_window = EI_INIT;
static expert_field ei_spurious = EI_INIT;

/** Fixes the direction's base at its first event: the sender's IDSN when its key is known. */
static G_GNUC_NO_INLINE bool
do_base_first(do_dir_t *d, const mptcp_endpoint_t *e, bool data, uint64_t raw)
{
    if (e->key_known) {
        d->base = e->idsn;
        d->keyed = d->has_end = d->has_complete = true;
        d->max_end = d->complete = 1;      /* nothing sent: the next DSN is IDSN + 1 */
    } else if (data) {
        d->base = raw - MPTCP_REL_BASE_HEADROOM;
    } else {
        return false;                      /* no DATA_ACK counts before the first data */
    }
    d->based = true;
    return true;
}

static inline bool
do_base(do_dir_t *d, const mptcp_endpoint_t *e, bool data, uint64_t raw)
{
    return d->based || do_base_first(d, e, data, raw);
}

/* {{{ captured bytes above the complete point */
static do_gaps_t *
gaps_of(do_dir_t *d)
{
    if (!d->gaps)
        d->gaps = g_new0(do_gaps_t, 1);
    return d->gaps;
}

/** Frees the direction's gap state once the gaps are closed and nothing waits. */
static void
gaps_release(do_dir_t *d)
{
    do_gaps_t *g = d->gaps;

    if (!g || g->niv || g->pending.n)
        return;
    g_free(g->iv);
    mptcp_heap_free(&g->pending, NULL);
    g_free(g);
    d->gaps = NULL;
}

static void
iv_add_gap(do_dir_t *d, uint64_t lo, uint64_t hi)
{
    do_gaps_t *g = gaps_of(d);
    unsigned i = 0, j;

    while (i < g->niv && g->iv[i].hi < lo)
        i++;
    /* merge every interval that overlaps or touches [lo, hi) */
    for (j = i; j < g->niv && g->iv[j].lo <= hi; j++) {
        lo = MIN(lo, g->iv[j].lo);
        hi = MAX(hi, g->iv[j].hi);
    }
    if (j == i) {
        g->iv = (do_iv_t *)mptcp_grow(NULL, g->iv, &g->capiv, g->niv + 1, sizeof(do_iv_t));
        memmove(&g->iv[i + 1], &g->iv[i], (g->niv - i) * sizeof(do_iv_t));
        g->niv++;
    } else if (j > i + 1) {
        memmove(&g->iv[i + 1], &g->iv[j], (g->niv - j) * sizeof(do_iv_t));
        g->niv -= j - i - 1;
    }
    g->iv[i].lo = lo;
    g->iv[i].hi = hi;
    /* the complete point runs through the first interval if it touches it */
    if (g->iv[0].lo <= d->complete) {
        d->complete = MAX(d->complete, g->iv[0].hi);
        memmove(&g->iv[0], &g->iv[1], (g->niv - 1) * sizeof(do_iv_t));
        if (--g->niv == 0) {
            g_free(g->iv);         /* the gaps are closed: no array kept */
            g->iv = NULL;
            g->capiv = 0;
        }
    }
}

static void
iv_add(do_dir_t *d, uint64_t lo, uint64_t hi)
{
    if (hi <= d->complete)
        return;
    if (lo < d->complete)
        lo = d->complete;
    if (MPTCP_LIKELY(lo == d->complete && (!d->gaps || d->gaps->niv == 0 || d->gaps->iv[0].lo > hi))) {
        d->complete = hi;          /* in order: what the general case ends with, no entry */
        return;
    }
    iv_add_gap(d, lo, hi);
}
/* }}} */


/* {{{ window scale (RFC 7323 section 2.2), from the subflow's SYN and SYN/ACK */
static uint8_t
syn_wscale(const mptcp_seg_t *seg)
{
    unsigned cap = (unsigned)tvb_captured_length(seg->tvb);
    unsigned end = MIN(seg->hlen, cap), off = 20;
    const uint8_t *p = tvb_get_ptr(seg->tvb, 0, end);
    uint8_t len;

    for (; mptcp_tcpopt_next(p, end, &off, &len); off += len) {
        if (p[off] == TCPOPT_WINDOW_SCALE && len == 3 && off + 3 <= end)
            return (uint8_t)(MPTCP_WS_SHIFT0 + MIN(p[off + 2], DO_WSCALE_MAX));
    }
    return MPTCP_WS_NONE;
}

/** Records the window scale option of a subflow's first SYN and first SYN/ACK. */
static void
note_syn(const mptcp_seg_t *seg, mptcp_subflow_t *sf, mptcp_pkt_t *pkt)
{
    /* by subflow direction, as the windows are looked up (0: the SYN sender) */
    if (!sf || mptcp_pkt_dir(pkt) < 0 || sf->wscale[mptcp_pkt_dir(pkt)] != MPTCP_WS_UNSEEN)
        return;
    sf->wscale[mptcp_pkt_dir(pkt)] = syn_wscale(seg);
    if (sf->wscale[1 - mptcp_pkt_dir(pkt)] != MPTCP_WS_UNSEEN) {
        sf->wscale_frame = pkt->frame;     /* known for the packets after this one */
        /* scaling off (one side did not offer it): both shifts 0, as mptcp_dataorder_shift() */
        if (sf->wscale[0] == MPTCP_WS_NONE || sf->wscale[1] == MPTCP_WS_NONE)
            sf->wscale[0] = sf->wscale[1] = MPTCP_WS_SHIFT0;
    }
}

/** The window shift of a packet carrying a DATA_ACK as its first pass knew it (-1: unknown):
 * the subflow's scales are set once, and the frame after which both were known is kept. sf:
 * the packet's subflow. */
static int
sf_pkt_shift(const mptcp_subflow_t *sf, const mptcp_pkt_t *pkt)
{
    if (!(pkt->flags & MPTCP_PF_DSS_ACK) || !sf || !sf->wscale_frame || pkt->frame <= sf->wscale_frame)
        return -1;
    return mptcp_dataorder_shift(sf, mptcp_pkt_dir(pkt));
}

static int
pkt_shift(const mptcp_pkt_t *pkt)
{
    return sf_pkt_shift(mptcp_pkt_sf(pkt), pkt);
}

/** The shift of the window sent in subflow direction dir, or -1 when the SYNs are missing. */
int
mptcp_dataorder_shift(const mptcp_subflow_t *sf, int dir)
{
    if (!sf || sf->wscale[0] == MPTCP_WS_UNSEEN || sf->wscale[1] == MPTCP_WS_UNSEEN)
        return -1;
    if (sf->wscale[0] == MPTCP_WS_NONE || sf->wscale[1] == MPTCP_WS_NONE)
        return 0;                          /* scaling off: one side did not offer it */
    return sf->wscale[dir] - MPTCP_WS_SHIFT0;
}
/* }}} */

/** The peer's DATA_ACK (with its window, if known) for the data of d; whether it counted with
 * a known window. Then limited implies edge <= max_end, as data_notes() keeps it: the same
 * DATA_ACK and window again would change nothing (mptcp_dataorder_update()). */
static bool
handle_ack(do_dir_t *d, uint64_t rel_ack, bool wnd_known, uint64_t wnd, int64_t t)
{
    if (!d->has_end || rel_ack >= DO_REL_LIMIT || rel_ack > d->max_end + 1)
        return false;                      /* acknowledges data never seen: does not count */
    d->ack = MAX(d->ack, rel_ack);         /* 0 before the first: an offset is not below */
    d->has_ack = true;
    if (!wnd_known)
        return false;
    d->edge = MAX(d->edge, rel_ack + wnd); /* likewise */
    d->has_edge = true;
    if (MPTCP_UNLIKELY(d->limited) && d->edge > d->max_end) {
        d->limited_ns += t - d->limited_since;
        d->limited = false;
    }
    return true;
}

/** A data segment [s, e) of d that reaches the right edge (window-full) or is a reinjection. */
static G_GNUC_NO_INLINE void
data_notes(do_dir_t *d, mptcp_pkt_t *pkt, uint64_t e, int64_t t)
{
    if (d->has_edge && e >= d->edge) {
        last_note_frame = MAX(last_note_frame, pkt->frame);
        mptcp_pkt_set_do_flag(pkt, MPTCP_DO_WINDOW_FULL);
        if (!d->limited) {
            d->limited = true;
            d->limited_since = t;
        }
    }
    if ((pkt->flags & MPTCP_PF_REINJECTION) && d->has_ack && d->ack >= e) {
        do_rare_t *r = do_rare_of(d);

        last_note_frame = MAX(last_note_frame, pkt->frame);
        mptcp_pkt_set_do_flag(pkt, MPTCP_DO_SPURIOUS);
        r->spurious_pkts++;
        r->spurious_bytes += mptcp_pkt_seglen(pkt);
    }
}

/** A data segment [s, e) of d ahead of a gap, or while gaps are open. */
static G_GNUC_NO_INLINE void
data_gaps(do_dir_t *d, mptcp_pkt_t *pkt, uint64_t s, uint64_t e, int64_t t)
{
    if (s > d->complete) {
        do_pend_t pend = { s, t, pkt };
        mptcp_heap_push(&gaps_of(d)->pending, NULL, &pend, sizeof(pend));
        mptcp_pkt_reserve_hol(pkt);
    }
    iv_add(d, s, e);
    if (!d->gaps)
        return;
    for (const do_pend_t *top; (top = (const do_pend_t *)mptcp_heap_top(&d->gaps->pending)) &&
                               top->start <= d->complete;) {
        mptcp_pkt_set_hol(top->pkt, t - top->t, pkt->frame);
        mptcp_heap_pop(&d->gaps->pending, sizeof(do_pend_t));
        if (!d->gaps->pending.n)
            mptcp_heap_free(&d->gaps->pending, NULL);
    }
    gaps_release(d);
}

/** A data segment [s, e) of d (relative), with its data slot. */
static void
handle_data(do_dir_t *d, mptcp_pkt_t *pkt, uint64_t s, uint64_t e, int64_t t)
{
    if (MPTCP_UNLIKELY((d->has_edge && e >= d->edge) || (pkt->flags & MPTCP_PF_REINJECTION)))
        data_notes(d, pkt, e, t);
    d->max_end = MAX(d->max_end, e);       /* 0 before the first end (do_base_first()) */
    d->has_end = true;
    if (d->has_ack)
        mptcp_pkt_set_flight(pkt, d->max_end > d->ack ? d->max_end - d->ack : 0);
    if (!d->has_complete) {
        d->complete = s;
        d->has_complete = true;
    }
    if (MPTCP_UNLIKELY(d->gaps || s > d->complete))
        data_gaps(d, pkt, s, e, t);
    else if (e > d->complete)
        d->complete = e;            /* in order: what iv_add() does without a gap */
}

/** The window shift of a packet carrying a DATA_ACK of subflow sf (first pass; -1: unknown). */
static inline int
update_shift(const mptcp_subflow_t *sf, const mptcp_pkt_t *pkt)
{
    /* sf: the first pass has one (mptcp_first_pass()) */
    if (!sf->wscale_frame || pkt->frame <= sf->wscale_frame)
        return -1;
    /* both scales are known after wscale_frame, scaling off as shift 0 (note_syn()) */
    return sf->wscale[mptcp_pkt_dir(pkt)] - MPTCP_WS_SHIFT0;
}

/** The DATA_ACK of pkt, which acknowledges the peer's data (peer: its direction, pe: its
 * endpoint; relative to the peer's IDSN). */
static inline void
update_ack(do_dir_t *peer, const mptcp_endpoint_t *pe, const mptcp_fp_t *fp, uint32_t fl)
{
    const mptcp_pkt_t *pkt = fp->pkt;
    uint16_t win = fp->seg->window;
    uint64_t raw;
    int shift;

    if (MPTCP_UNLIKELY(fl & MPTCP_PF_ZERO_WINDOW))
        do_rare_of(peer)->zero_windows++;
    if (!(fl & MPTCP_PF_HAS_ACK))
        return;
    raw = fp->ack64;
    /* mostly (a data segment's DATA_ACK) the last one that counted, on the same subflow (the
     * same shift: known from a frame on) with the same window: nothing changes */
    if (raw == peer->ack_raw && pkt->sf_ref == peer->ack_sf && win == peer->ack_win)
        return;
    if (!do_base(peer, pe, false, 0))
        return;
    shift = update_shift(fp->sf, pkt);
    if (handle_ack(peer, raw - peer->base, shift >= 0, (uint64_t)win << MAX(shift, 0), fp->t)) {
        peer->ack_raw = raw;
        peer->ack_sf = pkt->sf_ref;
        peer->ack_win = win;
    }
}

static G_GNUC_NO_INLINE do_conn_t *
conn_new(mptcp_conn_t *c)
{
    do_conn_t *dc = (do_conn_t *)mptcp_conn_alloc0(sizeof(do_conn_t));

    c->do_priv = dc;
    return dc;
}

void
mptcp_dataorder_update(const mptcp_fp_t *fp)
{
    const mptcp_seg_t *seg = fp->seg;
    mptcp_pkt_t *pkt = fp->pkt;
    mptcp_conn_t *c = fp->c;
    uint32_t fl = pkt->flags;
    int ep = mptcp_pkt_ep(pkt);
    do_conn_t *dc;
    do_dir_t *d;
    uint64_t dsn, s;

    /* first pass only: mptcp_first_pass() asserts it */
    if (MPTCP_UNLIKELY(seg->flags & TH_SYN)) {
        note_syn(seg, fp->sf, pkt);
        return;
    }
    /* RFC 8684 section 3.3.5: the window of a DATA_ACK is the data-level window */
    if ((fl & MPTCP_PF_DSS_ACK) && seg->window == 0 && !(seg->flags & (TH_FIN | TH_RST)))
        pkt->flags = fl |= MPTCP_PF_ZERO_WINDOW;
    if (!c || ep < 0)
        return;
    dc = (do_conn_t *)c->do_priv;
    if (MPTCP_UNLIKELY(!dc))
        dc = conn_new(c);
    /* (a choice rather than an index: GCC keeps the pointers instead of indexing again) */
    d = ep ? &dc->d[1] : &dc->d[0];
    d->last_ns = fp->t;
    if (fl & MPTCP_PF_DSS_ACK)
        update_ack(ep ? &dc->d[0] : &dc->d[1], &c->ep[ep ^ 1], fp, fl);
    /* a data slot: payload (seglen_ > 0, not a short result) */
    if ((fl & (MPTCP_PF_HAS_DSN | MPTCP_PF_LAT_SLOT)) != (MPTCP_PF_HAS_DSN | MPTCP_PF_LAT_SLOT))
        return;
    dsn = fp->dsn64;
    if (!do_base(d, &c->ep[ep], true, dsn))
        return;
    s = dsn - d->base;
    if (s >= DO_REL_LIMIT)
        return;                        /* below the base: not this data space */
    handle_data(d, pkt, s, s + pkt->seglen_, fp->t);
}

void
mptcp_dataorder_cleanup(void)
{
    last_note_frame = 0;
    rares = NULL;              /* file scope, going next */
    for (uint32_t i = 0; i < mptcp_conn_count(); i++) {
        do_conn_t *dc = (do_conn_t *)mptcp_conn_by_stream(i)->do_priv;

        for (int e = 0; dc && e < 2; e++) {
            do_gaps_t *g = dc->d[e].gaps;

            if (g) {
                g_free(g->iv);
                mptcp_heap_free(&g->pending, NULL);
                g_free(g);
                dc->d[e].gaps = NULL;
            }
        }
    }
}

bool
mptcp_dataorder_get(const mptcp_pkt_t *pkt, mptcp_dataorder_t *out)
{
    return mptcp_pkt_dataorder(pkt, out);
}

bool
mptcp_dataorder_has_note(const mptcp_pkt_t *pkt)
{
    mptcp_dataorder_t r;

    return (pkt->flags & MPTCP_PF_ZERO_WINDOW) ||
           ((pkt->flags & MPTCP_PF_LAT_SLOT) && pkt->frame <= last_note_frame && mptcp_dataorder_get(pkt, &r) &&
            (r.flags & (MPTCP_DO_WINDOW_FULL | MPTCP_DO_SPURIOUS)));
}

bool
mptcp_dataorder_dir_stats(const mptcp_conn_t *conn, int ep, mptcp_do_dir_stats_t *out)
{
    const do_conn_t *dc = conn ? (const do_conn_t *)conn->do_priv : NULL;
    const do_dir_t *d;
    const do_rare_t *r;

    memset(out, 0, sizeof(*out));
    if (!dc || ep < 0 || ep > 1)
        return false;
    d = &dc->d[ep];
    out->window_limited_ns = d->limited_ns;
    if (d->limited && d->last_ns > d->limited_since)
        out->window_limited_ns += d->last_ns - d->limited_since;
    r = do_rare_get(d);
    if (r) {
        out->zero_windows = r->zero_windows;
        out->spurious_pkts = r->spurious_pkts;
        out->spurious_bytes = r->spurious_bytes;
    }
    return true;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/** Nearest rank: the ceil(p n / 100)-th smallest of n sorted values. */
static unsigned
rank(unsigned n, unsigned pct)
{
    unsigned k = (unsigned)(((uint64_t)n * pct + 99) / 100);

    return k ? k - 1 : 0;
}

void
mptcp_dataorder_summary(const mptcp_conn_t *conn, int ep, const GPtrArray *data_pkts, mptcp_do_summary_t *out)
{
    mptcp_do_dir_stats_t ds;
    unsigned n = data_pkts ? data_pkts->len : 0, nf = 0, nh = 0;
    uint64_t *fl = g_new(uint64_t, n ? n : 1);
    int64_t *hol = g_new(int64_t, n ? n : 1);

    memset(out, 0, sizeof(*out));
    mptcp_dataorder_dir_stats(conn, ep, &ds);
    out->window_limited_ns = ds.window_limited_ns;
    out->zero_windows = ds.zero_windows;
    for (unsigned i = 0; i < n; i++) {
        const mptcp_pkt_t *p = (const mptcp_pkt_t *)g_ptr_array_index(data_pkts, i);
        mptcp_dataorder_t rr;
        const mptcp_dataorder_t *r = &rr;
        if (!mptcp_dataorder_get(p, &rr))
            continue;
        if (r->flags & MPTCP_DO_FLIGHT)
            fl[nf++] = r->flight;
        if (r->hol_frame) {
            hol[nh++] = r->hol_ns;
            out->hol_total += r->hol_ns;
        }
        if (r->flags & MPTCP_DO_SPURIOUS) {
            out->spurious_pkts++;
            out->spurious_bytes += mptcp_pkt_seglen(p);
        }
    }
    qsort(fl, nf, sizeof(*fl), cmp_u64);
    qsort(hol, nh, sizeof(*hol), cmp_i64);
    out->flight_samples = nf;
    if (nf) {
        out->flight_max = fl[nf - 1];
        out->flight_median = fl[rank(nf, 50)];
    }
    out->ahead_of_gap = nh;
    if (nh) {
        out->hol_p50 = hol[rank(nh, 50)];
        out->hol_p99 = hol[rank(nh, 99)];
        out->hol_max = hol[nh - 1];
    }
    g_free(fl);
    g_free(hol);
}

void
mptcp_dataorder_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *ai, const mptcp_pkt_t *pkt)
{
    mptcp_dataorder_t r;
    const mptcp_dataorder_t *res = mptcp_dataorder_get(pkt, &r) ? &r : NULL;
    proto_item *ti;

    int shift = pkt_shift(pkt);

    if (shift >= 0 && tvb_captured_length(tvb) >= 16) {
        uint64_t w = (uint64_t)tvb_get_ntohs(tvb, 14) << shift;
        ti = proto_tree_add_uint64(t, hf_data_window, tvb, 0, 0, w);
        proto_item_set_generated(ti);
    }
    if (pkt->flags & MPTCP_PF_ZERO_WINDOW)
        expert_add_info(pinfo, ai, &ei_zero_window);
    if (res && (res->flags & MPTCP_DO_FLIGHT)) {
        ti = proto_tree_add_uint64(t, hf_flight, tvb, 0, 0, res->flight);
        proto_item_set_generated(ti);
    }
    if (res && (res->flags & MPTCP_DO_WINDOW_FULL))
        expert_add_info(pinfo, ai, &ei_window_full);
    if (res && (res->flags & MPTCP_DO_SPURIOUS))
        expert_add_info(pinfo, ai, &ei_spurious);
    if (res && res->hol_frame) {
        nstime_t v;
        v.secs = (time_t)(res->hol_ns / 1000000000);
        v.nsecs = (int)(res->hol_ns % 1000000000);
        ti = proto_tree_add_time(t, hf_hol_wait, tvb, 0, 0, &v);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint(t, hf_hol_frame, tvb, 0, 0, res->hol_frame);
        proto_item_set_generated(ti);
    }
}

void
mptcp_dataorder_register(void)
{
    static hf_register_info hf[] = {
        { &hf_flight, { "Data-level bytes in flight", "mptcp.analysis.flight", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Highest data sequence number sent so far in this direction (end of data) minus the highest "
            "DATA_ACK captured so far from the peer (RFC 8684 section 3.3.2); absent before the peer's first "
            "DATA_ACK", HFILL } },
        { &hf_data_window, { "Data-level receive window", "mptcp.analysis.data_window", FT_UINT64, BASE_DEC,
            NULL, 0x0, "Window of this packet's DATA_ACK, scaled by its subflow's window scale: shared by all "
            "subflows and relative to the DATA_ACK (RFC 8684 section 3.3.5); absent without the subflow's SYNs",
            HFILL } },
        { &hf_hol_wait, { "Head-of-line wait", "mptcp.analysis.hol_wait", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "This data packet was captured while earlier bytes of its direction were missing: time until the "
            "gap closed. At the receiver, the head-of-line blocking the application saw; at the sender, the "
            "scheduler's interleaving (a forward link: complete only with -2 or in the GUI)", HFILL } },
        { &hf_hol_frame, { "Gap closed in", "mptcp.analysis.hol_closed_frame", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "Frame whose data closed the gap ahead of this packet (a forward link: complete only with -2 or in "
            "the GUI)", HFILL } },
    };
    static ei_register_info ei[] = {
        { &ei_window_full, { "mptcp.analysis.window_full", PI_SEQUENCE, PI_NOTE,
            "MPTCP window full: this data reaches the peer's data-level right edge (DATA_ACK + window)",
            EXPFILL } },
        { &ei_zero_window, { "mptcp.analysis.zero_window", PI_SEQUENCE, PI_WARN,
            "MPTCP zero window: this DATA_ACK advertises a data-level receive window of 0", EXPFILL } },
        { &ei_spurious, { "mptcp.analysis.spurious_reinjection", PI_SEQUENCE, PI_NOTE,
            "Spurious MPTCP reinjection: every byte was DATA_ACKed before it", EXPFILL } },
    };
    expert_module_t *em;

    proto_register_field_array(proto_mptcp, hf, array_length(hf));
    em = expert_register_protocol(proto_mptcp);
    expert_register_field_array(em, ei, array_length(ei));
}
