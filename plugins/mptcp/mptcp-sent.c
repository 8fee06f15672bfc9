/* mptcp-sent.c
 * Index of everything an endpoint sent at the data level (first pass): for a DSN range, every
 * earlier transmission that overlaps it, with its frame, subflow and per-packet result. The
 * reinjection analysis (RFC 8684 section 3.3.6) lists all earlier copies from it; the latency
 * takes the first transmission of a segment's data from it.
 *
 * A sender mostly sends new data in order on one subflow at a time, so consecutive segments
 * that continue each other on the same subflow share one entry (a run) of the interval index
 * (mptcp-ranges.c); the segments themselves are one pointer each, in the order added, a run's
 * segments side by side and ascending in DSN. 8 bytes a segment instead of a 32-byte entry.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

#define RUN_FIRST(r) ((uint32_t)((r)->val >> 32))
#define RUN_COUNT(r) ((uint32_t)(r)->val)

void
mptcp_sent_add(mptcp_sent_t *s, mptcp_pkt_t *pkt, uint32_t sf_index)
{
    uint64_t low = pkt->dsn64, high = pkt->dsn64 + pkt->seglen;
    mptcp_range_t *last = s->runs.n ? &s->runs.v[s->runs.n - 1] : NULL;

    if (high <= low)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;       /* small: thousands of connections have two each */
        s->pk = (mptcp_pkt_t **)wmem_realloc(wmem_file_scope(), s->pk, s->cap * sizeof(*s->pk));
    }
    s->pk[s->n] = pkt;
    if (s->tail_open && last->aux == sf_index && mptcp_range_high(last) == low && RUN_COUNT(last) < UINT32_MAX &&
        mptcp_ranges_extend_last(&s->runs, high)) {
        last->val++;
    } else {
        mptcp_ranges_insert(&s->runs, low, high, (uint64_t)s->n << 32 | 1, pkt->frame, sf_index);
        last = &s->runs.v[s->runs.n - 1];
        s->tail_open = RUN_FIRST(last) == s->n;     /* the new run sorts last */
    }
    s->n++;
}

typedef struct {
    mptcp_pkt_t *p;
    uint32_t sf_index;
} hit_t;

typedef struct {
    const mptcp_sent_t *s;
    uint64_t low, high;
    hit_t *hits;
    unsigned n, cap;
    hit_t local[32];
} query_t;

static bool
run_cb(const mptcp_range_t *r, void *ud)
{
    query_t *q = (query_t *)ud;
    mptcp_pkt_t *const *pk = q->s->pk + RUN_FIRST(r);
    uint32_t a = 0, b = RUN_COUNT(r);

    if (pk[b - 1]->dsn64 <= q->low)     /* mostly: a question about the run's newest segment */
        a = b - 1;
    while (a < b) {             /* the first segment of the run that ends after low */
        uint32_t m = a + (b - a) / 2;
        if (pk[m]->dsn64 + pk[m]->seglen <= q->low)
            a = m + 1;
        else
            b = m;
    }
    for (; a < RUN_COUNT(r) && pk[a]->dsn64 < q->high; a++) {
        if (q->n == q->cap) {
            hit_t *h = g_new(hit_t, q->cap * 2);
            memcpy(h, q->hits, q->n * sizeof(hit_t));
            if (q->hits != q->local)
                g_free(q->hits);
            q->hits = h;
            q->cap *= 2;
        }
        q->hits[q->n].p = pk[a];
        q->hits[q->n].sf_index = (uint32_t)r->aux;
        q->n++;
    }
    return true;
}

/* descending DSN, then descending frame: the order of one index entry per segment */
static int
hit_cmp(const void *x, const void *y)
{
    const mptcp_pkt_t *a = ((const hit_t *)x)->p, *b = ((const hit_t *)y)->p;

    if (a->dsn64 != b->dsn64)
        return a->dsn64 > b->dsn64 ? -1 : 1;
    if (a->frame != b->frame)
        return a->frame > b->frame ? -1 : 1;
    return 0;
}

void
mptcp_sent_foreach_overlap(const mptcp_sent_t *s, uint64_t low, uint64_t high, mptcp_sent_visit_cb cb, void *ud)
{
    query_t q;

    if (high <= low || s->n == 0)
        return;
    q.s = s;
    q.low = low;
    q.high = high;
    q.hits = q.local;
    q.n = 0;
    q.cap = G_N_ELEMENTS(q.local);
    mptcp_ranges_foreach_overlap(&s->runs, low, high, run_cb, &q);
    if (q.n > 1)
        qsort(q.hits, q.n, sizeof(hit_t), hit_cmp);
    for (unsigned i = 0; i < q.n; i++)
        cb(q.hits[i].p, q.hits[i].sf_index, ud);
    if (q.hits != q.local)
        g_free(q.hits);
}
