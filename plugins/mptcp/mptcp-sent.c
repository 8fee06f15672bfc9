/* mptcp-sent.c
 * Index of everything an endpoint sent at the data level (first pass): for a DSN range, every
 * earlier transmission that overlaps it, with its per-packet result (and so its frame and
 * subflow). The
 * reinjection analysis (RFC 8684 section 3.3.6) lists all earlier copies from it; the latency
 * takes the first transmission of a segment's data from it.
 *
 * A sender mostly sends new data in order, so consecutive segments that continue each other
 * share one entry (a run) of the interval index (mptcp-ranges.c), whichever subflow each took.
 * A run of one segment holds its per-packet result's reference itself; a longer run's segments
 * are a sequence of references (mptcp_pkt_ref()), in the order added, side by side and
 * ascending in DSN: never more than one entry a segment, also when the scheduler alternates
 * subflows on every segment (many short connections of a server). Results are made in frame
 * order, so the references in the sequence mostly grow by a little (the results of the packets
 * in between): each is kept as the difference to the one before, a zigzag varint (one byte
 * while less than 64 references apart, ~256 bytes of results), except the first of each group
 * of MPTCP_SENT_GROUP, kept whole (4 bytes) in front of its group's differences, the groups one
 * after the other (mptcp_gseq_t), with where each group but the first starts beside them:
 * ~1.3 bytes a segment instead of 4, and a segment is found from its group's first in at most
 * MPTCP_SENT_GROUP - 1 steps. A short connection's sequence (a dozen segments) is inline, a
 * longer one on the GLib heap, filling its malloc chunks (mptcp_chunk_cap()), freed at the
 * file's cleanup (mptcp_sent_free()). A segment's subflow is its result's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

/* A run's val: its segment's reference << 1, or, for two or more segments, its first index in
 * the sequence << 32 | count << 1 | 1. */
#define RUN_SINGLE(r) (((r)->val & 1) == 0)
#define RUN_REF(r) ((uint32_t)((r)->val >> 1))
#define SINGLE_VAL(ref) ((uint64_t)(ref) << 1)
#define RUN_FIRST(r) ((uint32_t)((r)->val >> 32))
#define RUN_COUNT(r) ((uint32_t)(r)->val >> 1)
#define RUN_VAL(first, count) ((uint64_t)(first) << 32 | (uint64_t)(count) << 1 | 1)

#define MPTCP_SENT_GROUP 32

static void
pk_append(mptcp_sent_t *s, uint32_t ref)
{
    uint8_t b[5];
    unsigned k;

    if (s->n % MPTCP_SENT_GROUP == 0) {
        memcpy(b, &ref, sizeof(ref));
        k = sizeof(ref);
    } else {
        k = mptcp_varint_put(b, ref - s->last);
    }
    mptcp_gseq_append(&s->seq, &s->nbytes, b, k,
                      s->n % MPTCP_SENT_GROUP == 0 ? s->n / MPTCP_SENT_GROUP : 0);
    s->last = ref;
    s->n++;
}

/** Where group g starts in the sequence: its first reference, then its differences. */
static const uint8_t *
pk_group_at(const mptcp_sent_t *s, uint32_t g)
{
    return mptcp_gseq_group(&s->seq, s->nbytes, g);
}

/** The first reference of group g. */
static uint32_t
pk_group_ref(const mptcp_sent_t *s, uint32_t g)
{
    uint32_t ref;

    memcpy(&ref, pk_group_at(s, g), sizeof(ref));
    return ref;
}

/** A position in the sequence: segment i, its reference, where the next difference is. */
typedef struct {
    uint32_t i, ref;
    const uint8_t *p;
} pk_cur_t;

/** The cursor at the first segment of group g. */
static void
pk_group(const mptcp_sent_t *s, uint32_t g, pk_cur_t *c)
{
    c->i = g * MPTCP_SENT_GROUP;
    c->ref = pk_group_ref(s, g);
    c->p = pk_group_at(s, g) + sizeof(c->ref);
}

/** Moves the cursor to the next segment (there is one). */
static void
pk_next(const mptcp_sent_t *s, pk_cur_t *c)
{
    if (++c->i % MPTCP_SENT_GROUP == 0)
        pk_group(s, c->i / MPTCP_SENT_GROUP, c);
    else
        c->ref += mptcp_varint_get(&c->p);
}

/** The cursor at segment i. */
static void
pk_seek(const mptcp_sent_t *s, uint32_t i, pk_cur_t *c)
{
    pk_group(s, i / MPTCP_SENT_GROUP, c);
    while (c->i < i)
        pk_next(s, c);
}

/** Adds pkt's [low, high) (inline: mptcp_sent_add_new() is on every data segment's path). */
static inline void
sent_put(mptcp_sent_t *s, mptcp_pkt_t *pkt, uint64_t low, uint64_t high)
{
    mptcp_range_t *last = s->runs.n ? &s->runs.v[s->runs.n - 1] : NULL;
    uint32_t ref = mptcp_pkt_ref(pkt);

    if (high <= low || !ref)
        return;
    /* the segment continues the run the previous one went to, which sorts last: it joins it
     * (a run's segments stay side by side at the end of the sequence) */
    if (s->tail_open && mptcp_range_high(last) == low && (RUN_SINGLE(last) || RUN_COUNT(last) < INT32_MAX) &&
        mptcp_ranges_extend_last(&s->runs, high)) {
        if (RUN_SINGLE(last)) {
            pk_append(s, RUN_REF(last));
            last->val = RUN_VAL(s->n - 1, 1);
        }
        pk_append(s, ref);
        last->val += 2;             /* count + 1 */
    } else {
        mptcp_ranges_insert(&s->runs, low, high, SINGLE_VAL(ref), 0);
        s->tail_open = s->runs.v[s->runs.n - 1].val == SINGLE_VAL(ref);    /* it sorts last */
    }
}

void
mptcp_sent_add(mptcp_sent_t *s, mptcp_pkt_t *pkt)
{
    uint64_t low = mptcp_pkt_dsn64(pkt);

    sent_put(s, pkt, low, low + mptcp_pkt_seglen(pkt));
}

bool
mptcp_sent_add_new(mptcp_sent_t *s, mptcp_pkt_t *pkt, uint64_t low, uint32_t len)
{
    const mptcp_range_t *last = s->runs.n ? &s->runs.v[s->runs.n - 1] : NULL;

    /* the last run's reach is the highest end of all: data from there on overlaps nothing */
    if (last && last->low + last->reach > low)
        return false;
    sent_put(s, pkt, low, low + len);
    return true;
}

void
mptcp_sent_free(mptcp_sent_t *s)
{
    mptcp_ranges_free(&s->runs);
    mptcp_gseq_free(&s->seq, &s->nbytes);
    s->n = 0;
}

typedef struct {
    const mptcp_sent_t *s;
    uint64_t low, high;
    mptcp_pkt_t **hits;
    unsigned n, cap;
    mptcp_pkt_t *local[32];
} query_t;

static void
hit_add(query_t *q, mptcp_pkt_t *p)
{
    if (q->n == q->cap) {
        mptcp_pkt_t **h = g_new(mptcp_pkt_t *, q->cap * 2);
        memcpy(h, q->hits, q->n * sizeof(*h));
        if (q->hits != q->local)
            g_free(q->hits);
        q->hits = h;
        q->cap *= 2;
    }
    q->hits[q->n++] = p;
}

static bool
pk_ends_by(uint32_t ref, uint64_t low)
{
    const mptcp_pkt_t *p = mptcp_pkt_deref(ref);

    return mptcp_pkt_dsn64(p) + mptcp_pkt_seglen(p) <= low;
}

/** The cursor at the first segment of the run [first, end) of the sequence that ends after low
 * (the run does: it overlaps the question): from the last segment at a group's start (or the
 * run's first) that does not. */
static void
run_lower(const mptcp_sent_t *s, uint32_t first, uint32_t end, uint64_t low, pk_cur_t *c)
{
    uint32_t from = first, lo = first / MPTCP_SENT_GROUP + 1, hi = (end - 1) / MPTCP_SENT_GROUP + 1;

    pk_seek(s, end - 1, c);
    if (mptcp_pkt_dsn64(mptcp_pkt_deref(c->ref)) <= low)
        return;                 /* mostly: a question about the run's newest segment */
    while (lo < hi) {           /* groups lo..hi-1 start inside the run */
        uint32_t m = lo + (hi - lo) / 2;
        if (pk_ends_by(pk_group_ref(s, m), low)) {
            from = m * MPTCP_SENT_GROUP;
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    for (pk_seek(s, from, c); c->i < end - 1 && pk_ends_by(c->ref, low);)
        pk_next(s, c);
}

static bool
run_cb(const mptcp_range_t *r, void *ud)
{
    query_t *q = (query_t *)ud;
    uint32_t end = RUN_FIRST(r) + RUN_COUNT(r);
    mptcp_pkt_t *p;
    pk_cur_t c;

    if (RUN_SINGLE(r)) {        /* its segment overlaps [low, high) */
        hit_add(q, mptcp_pkt_deref(RUN_REF(r)));
        return true;
    }
    for (run_lower(q->s, RUN_FIRST(r), end, q->low, &c); mptcp_pkt_dsn64(p = mptcp_pkt_deref(c.ref)) < q->high;
         pk_next(q->s, &c)) {
        hit_add(q, p);
        if (c.i == end - 1)
            break;
    }
    return true;
}

/* descending DSN, then descending frame: the order of one index entry per segment */
static int
hit_cmp(const void *x, const void *y)
{
    const mptcp_pkt_t *a = *(mptcp_pkt_t *const *)x, *b = *(mptcp_pkt_t *const *)y;

    if (mptcp_pkt_dsn64(a) != mptcp_pkt_dsn64(b))
        return mptcp_pkt_dsn64(a) > mptcp_pkt_dsn64(b) ? -1 : 1;
    if (a->frame != b->frame)
        return a->frame > b->frame ? -1 : 1;
    return 0;
}

void
mptcp_sent_foreach_overlap(const mptcp_sent_t *s, uint64_t low, uint64_t high, mptcp_sent_visit_cb cb, void *ud)
{
    query_t q;

    if (high <= low || s->runs.n == 0)
        return;
    q.s = s;
    q.low = low;
    q.high = high;
    q.hits = q.local;
    q.n = 0;
    q.cap = G_N_ELEMENTS(q.local);
    mptcp_ranges_foreach_overlap(&s->runs, low, high, run_cb, &q);
    if (q.n > 1)
        qsort(q.hits, q.n, sizeof(*q.hits), hit_cmp);
    for (unsigned i = 0; i < q.n; i++)
        cb(q.hits[i], mptcp_pkt_sf(q.hits[i])->index, ud);
    if (q.hits != q.local)
        g_free(q.hits);
}
