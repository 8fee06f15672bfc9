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
 * are one 4-byte reference (mptcp_pkt_ref()) each in an array, in the order added, side by side
 * and ascending in DSN: 4 bytes a segment instead of a 28-byte entry, also when the scheduler
 * alternates subflows on every segment (many short connections of a server), and never more
 * than one entry a segment. A segment's subflow is its result's. The array is on the GLib heap,
 * freed at the file's cleanup (mptcp_sent_free()).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

/* A run's val: its segment's reference << 1, or, for two or more segments, first index in pk
 * << 32 | count << 1 | 1. */
#define RUN_SINGLE(r) (((r)->val & 1) == 0)
#define RUN_REF(r) ((uint32_t)((r)->val >> 1))
#define SINGLE_VAL(ref) ((uint64_t)(ref) << 1)
#define RUN_FIRST(r) ((uint32_t)((r)->val >> 32))
#define RUN_COUNT(r) ((uint32_t)(r)->val >> 1)
#define RUN_VAL(first, count) ((uint64_t)(first) << 32 | (uint64_t)(count) << 1 | 1)

static void
pk_append(mptcp_sent_t *s, uint32_t ref)
{
    s->pk = (uint32_t *)mptcp_grow(NULL, s->pk, &s->cap, s->n + 1, sizeof(*s->pk));
    s->pk[s->n++] = ref;
}

void
mptcp_sent_add(mptcp_sent_t *s, mptcp_pkt_t *pkt)
{
    uint64_t low = mptcp_pkt_dsn64(pkt), high = low + mptcp_pkt_seglen(pkt);
    mptcp_range_t *last = s->runs.n ? &s->runs.v[s->runs.n - 1] : NULL;
    uint32_t ref = mptcp_pkt_ref(pkt);

    if (high <= low || !ref)
        return;
    /* the segment continues the run the previous one went to, which sorts last: it joins it
     * (a run's segments stay side by side at the end of pk) */
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
mptcp_sent_free(mptcp_sent_t *s)
{
    mptcp_ranges_free(&s->runs);
    g_free(s->pk);
    s->pk = NULL;
    s->n = s->cap = 0;
}

typedef struct {
    const mptcp_sent_t *s;
    uint64_t low, high;
    mptcp_pkt_t **hits;
    unsigned n, cap;
    mptcp_pkt_t *local[32];
} query_t;

static bool
run_cb(const mptcp_range_t *r, void *ud)
{
    query_t *q = (query_t *)ud;
    bool single = RUN_SINGLE(r);
    uint32_t single_ref = RUN_REF(r);
    const uint32_t *pk = single ? &single_ref : q->s->pk + RUN_FIRST(r);
    uint32_t a = 0, b = single ? 1 : RUN_COUNT(r), count = b;
    mptcp_pkt_t *p;

    if (mptcp_pkt_dsn64(mptcp_pkt_deref(pk[b - 1])) <= q->low)
        a = b - 1;              /* mostly: a question about the run's newest segment */
    while (a < b) {             /* the first segment of the run that ends after low */
        uint32_t m = a + (b - a) / 2;
        p = mptcp_pkt_deref(pk[m]);
        if (mptcp_pkt_dsn64(p) + mptcp_pkt_seglen(p) <= q->low)
            a = m + 1;
        else
            b = m;
    }
    for (; a < count && mptcp_pkt_dsn64(p = mptcp_pkt_deref(pk[a])) < q->high; a++) {
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
