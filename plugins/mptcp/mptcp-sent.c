/* mptcp-sent.c
 * Index of everything an endpoint sent at the data level (first pass): for a DSN range, every
 * earlier transmission that overlaps it, with its frame, subflow and per-packet result. The
 * reinjection analysis (RFC 8684 section 3.3.6) lists all earlier copies from it; the latency
 * takes the first transmission of a segment's data from it.
 *
 * A sender mostly sends new data in order, so consecutive segments that continue each other
 * share one entry (a run) of the interval index (mptcp-ranges.c), whichever subflow each took.
 * A run of one segment holds its per-packet result's reference itself (and its subflow number
 * in the entry); a longer run's segments are one 4-byte reference (mptcp_pkt_ref()) and one
 * 16-bit subflow number each in two arrays, in the order added, side by side and ascending in
 * DSN: 6 bytes a segment instead of a 28-byte entry, also when the scheduler alternates subflows on every segment (many short
 * connections of a server), and never more than one entry a segment. The arrays are on the
 * GLib heap, freed at the file's cleanup (mptcp_sent_free()).
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

/* subflow numbers above this keep their segments in runs of one */
#define PK_SF_MAX UINT16_MAX

static void
pk_append(mptcp_sent_t *s, uint32_t ref, uint32_t sf_index)
{
    /* both arrays follow the one capacity policy from the same count */
    s->pk_sf = (uint16_t *)mptcp_grow_counted(NULL, s->pk_sf, s->n, s->n + 1, sizeof(*s->pk_sf));
    s->pk = (uint32_t *)mptcp_grow(NULL, s->pk, &s->cap, s->n + 1, sizeof(*s->pk));
    s->pk_sf[s->n] = (uint16_t)sf_index;
    s->pk[s->n++] = ref;
}

void
mptcp_sent_add(mptcp_sent_t *s, mptcp_pkt_t *pkt, uint32_t sf_index)
{
    uint64_t low = mptcp_pkt_dsn64(pkt), high = low + pkt->seglen;
    mptcp_range_t *last = s->runs.n ? &s->runs.v[s->runs.n - 1] : NULL;
    uint32_t ref = mptcp_pkt_ref(pkt);

    if (high <= low || !ref)
        return;
    /* the segment continues the run the previous one went to, which sorts last: it joins it
     * (a run's segments stay side by side at the end of pk) */
    if (s->tail_open && mptcp_range_high(last) == low && sf_index <= PK_SF_MAX &&
        (RUN_SINGLE(last) ? last->aux <= PK_SF_MAX : RUN_COUNT(last) < INT32_MAX) &&
        mptcp_ranges_extend_last(&s->runs, high)) {
        if (RUN_SINGLE(last)) {
            pk_append(s, RUN_REF(last), last->aux);
            last->val = RUN_VAL(s->n - 1, 1);
        }
        pk_append(s, ref, sf_index);
        last->val += 2;             /* count + 1 */
    } else {
        mptcp_ranges_insert(&s->runs, low, high, SINGLE_VAL(ref), sf_index);
        s->tail_open = s->runs.v[s->runs.n - 1].val == SINGLE_VAL(ref);    /* it sorts last */
    }
}

void
mptcp_sent_free(mptcp_sent_t *s)
{
    mptcp_ranges_free(&s->runs);
    g_free(s->pk);
    g_free(s->pk_sf);
    s->pk = NULL;
    s->pk_sf = NULL;
    s->n = s->cap = 0;
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
    bool single = RUN_SINGLE(r);
    uint32_t single_ref = RUN_REF(r);
    const uint32_t *pk = single ? &single_ref : q->s->pk + RUN_FIRST(r);
    const uint16_t *pk_sf = single ? NULL : q->s->pk_sf + RUN_FIRST(r);
    uint32_t a = 0, b = single ? 1 : RUN_COUNT(r), count = b;
    mptcp_pkt_t *p;

    if (mptcp_pkt_dsn64(mptcp_pkt_deref(pk[b - 1])) <= q->low)     /* mostly: a question about the run's newest segment */
        a = b - 1;
    while (a < b) {             /* the first segment of the run that ends after low */
        uint32_t m = a + (b - a) / 2;
        p = mptcp_pkt_deref(pk[m]);
        if (mptcp_pkt_dsn64(p) + p->seglen <= q->low)
            a = m + 1;
        else
            b = m;
    }
    for (; a < count && mptcp_pkt_dsn64(p = mptcp_pkt_deref(pk[a])) < q->high; a++) {
        if (q->n == q->cap) {
            hit_t *h = g_new(hit_t, q->cap * 2);
            memcpy(h, q->hits, q->n * sizeof(hit_t));
            if (q->hits != q->local)
                g_free(q->hits);
            q->hits = h;
            q->cap *= 2;
        }
        q->hits[q->n].p = p;
        q->hits[q->n].sf_index = single ? r->aux : pk_sf[a];
        q->n++;
    }
    return true;
}

/* descending DSN, then descending frame: the order of one index entry per segment */
static int
hit_cmp(const void *x, const void *y)
{
    const mptcp_pkt_t *a = ((const hit_t *)x)->p, *b = ((const hit_t *)y)->p;

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
        qsort(q.hits, q.n, sizeof(hit_t), hit_cmp);
    for (unsigned i = 0; i < q.n; i++)
        cb(q.hits[i].p, q.hits[i].sf_index, ud);
    if (q.hits != q.local)
        g_free(q.hits);
}
