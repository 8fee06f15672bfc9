/* test_sent.c
 * Unit test of the index of sent data (plugins/mptcp/mptcp-sent.c): a sender's segments,
 * mostly in order in bursts on one subflow, with retransmissions on the same or another
 * subflow, partial overlaps and out-of-order sends. Every overlap query must visit exactly the
 * segments a linear scan finds, in descending DSN then descending frame order (the order of an
 * index with one entry per segment), with each segment's subflow; in-order data must share
 * runs (the memory the index exists to save). Exit code = number of failed checks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit-support.h"

#define MAXN 800

static int failures;

static mptcp_pkt_t pkts[MAXN];
static uint32_t sfs[MAXN];

/* The index holds results by reference (mptcp-pkt.c, not linked here): the results of this test
 * are one slab, or, as in an address sanitizer build, a slab each. */
#if MPTCP_PKT_REF_OFF_BITS == 0
static uint8_t *slab_of[MAXN];
#else
static uint8_t *slab_of[1];
G_STATIC_ASSERT(sizeof(pkts) <= (UINT32_C(4) << MPTCP_PKT_REF_OFF_BITS));
#endif
uint8_t **mptcp_pkt_slabs = slab_of;

/* ... and their DSNs in 32 bits around the anchor of one data space (mptcp-pkt.c): every value of
 * a scenario is within 2^31 of its base */
static mptcp_pkt_space_t space[2 * 3];
mptcp_pkt_space_t *mptcp_pkt_spaces = space;

/* ... and their subflows (0, 1, 2: mptcp_pkt_t.sf_ref 1, 2, 3) */
static mptcp_subflow_t sf_obj[3] = { { .index = 0 }, { .index = 1 }, { .index = 2 } };
static mptcp_subflow_t *sf_list[3] = { &sf_obj[0], &sf_obj[1], &sf_obj[2] };
mptcp_subflow_t **mptcp_pkt_sfs = sf_list;

uint64_t
mptcp_pkt_wide_slow(const mptcp_pkt_t *pkt _U_, uint32_t v32 _U_, unsigned s _U_, unsigned f _U_)
{
    abort();    /* no rare part, one anchor */
}

/* ... as mptcp-pkt.c reads them */
uint64_t
mptcp_pkt_dsn64(const mptcp_pkt_t *pkt)
{
    unsigned s = pkt->flags >> MPTCP_PF_DIR_SHIFT & 1u;

    return (pkt->flags & MPTCP_PF_HAS_DSN) ? mptcp_pkt_wide(pkt, pkt->dsn32_, s, MPTCP_PX_DSN_EXT) : 0;
}

static void
set_dsn(mptcp_pkt_t *p, uint64_t dsn)
{
    p->dsn32_ = (uint32_t)dsn;
    p->flags |= MPTCP_PF_HAS_DSN;
}

uint32_t
mptcp_pkt_ref(const mptcp_pkt_t *pkt)
{
    size_t i = (size_t)(pkt - pkts);

#if MPTCP_PKT_REF_OFF_BITS == 0
    slab_of[i] = (uint8_t *)&pkts[i];
    return (uint32_t)i + 1;
#else
    slab_of[0] = (uint8_t *)pkts;
    return (uint32_t)((i * sizeof(mptcp_pkt_t)) >> 2) + 1;
#endif
}

typedef struct {
    uint32_t frame[MAXN + 1], sf[MAXN + 1];
    unsigned n;
} visit_t;

static void
visit_cb(mptcp_pkt_t *p, uint32_t sf_index, void *ud)
{
    visit_t *v = (visit_t *)ud;

    if (v->n < MAXN + 1) {
        v->frame[v->n] = p->frame;
        v->sf[v->n] = sf_index;
        v->n++;
    }
}

static int
ref_cmp(const void *x, const void *y)
{
    const mptcp_pkt_t *a = &pkts[*(const unsigned *)x - 1], *b = &pkts[*(const unsigned *)y - 1];

    if (mptcp_pkt_dsn64(a) != mptcp_pkt_dsn64(b))
        return mptcp_pkt_dsn64(a) > mptcp_pkt_dsn64(b) ? -1 : 1;
    return a->frame > b->frame ? -1 : a->frame < b->frame;
}

static void
check_query(const mptcp_sent_t *s, unsigned n, uint64_t lo, uint64_t hi, const char *what)
{
    visit_t v;
    unsigned want[MAXN], nw = 0;

    v.n = 0;
    for (unsigned i = 0; i < n; i++) {
        if (mptcp_pkt_dsn64(&pkts[i]) < hi && mptcp_pkt_dsn64(&pkts[i]) + pkts[i].seglen_ > lo)
            want[nw++] = pkts[i].frame;
    }
    qsort(want, nw, sizeof(want[0]), ref_cmp);
    mptcp_sent_foreach_overlap(s, lo, hi, visit_cb, &v);
    if (v.n != nw) {
        failures++;
        fprintf(stderr, "%s: overlap [%" PRIu64 ", %" PRIu64 "): %u visited, %u expected\n", what, lo, hi, v.n, nw);
        return;
    }
    for (unsigned i = 0; i < nw; i++) {
        if (v.frame[i] != want[i] || v.sf[i] != sfs[want[i] - 1]) {
            failures++;
            fprintf(stderr, "%s: overlap [%" PRIu64 ", %" PRIu64 "): #%u frame %u subflow %u, expected frame %u "
                    "subflow %u\n", what, lo, hi, i, v.frame[i], v.sf[i], want[i], sfs[want[i] - 1]);
            return;
        }
    }
}

/* One sender: n segments of 1..maxlen bytes from base; each either continues the stream (on the
 * subflow of the burst, which changes with probability 1/burst), repeats an earlier range (on a
 * random subflow, sometimes shifted: partial overlap) or jumps back (out of order). */
static unsigned
scenario(const char *what, uint64_t base, uint32_t maxlen, unsigned n, unsigned burst, unsigned repeat_pct)
{
    mptcp_sent_t s;
    uint64_t next = base;
    uint32_t sf = 0;

    memset(&s, 0, sizeof(s));
    for (unsigned i = 0; i < G_N_ELEMENTS(space); i++)
        space[i].v0 = base;
    for (unsigned i = 0; i < n; i++) {
        mptcp_pkt_t *p = &pkts[i];
        uint32_t len = 1 + (uint32_t)(rnd() % maxlen);
        unsigned dice = (unsigned)(rnd() % 100);

        memset(p, 0, sizeof(*p));
        p->frame = i + 1;
        p->seglen_ = len;
        if (dice < repeat_pct && i > 0) {
            const mptcp_pkt_t *e = &pkts[rnd() % i];
            set_dsn(p, mptcp_pkt_dsn64(e) + (rnd() % 4 == 0 ? rnd() % e->seglen_ : 0));
            sfs[i] = (uint32_t)(rnd() % 3);
        } else if (dice < repeat_pct + 3 && next > base + maxlen) {
            set_dsn(p, next - 1 - rnd() % maxlen);               /* out of order */
            sfs[i] = sf;
        } else {
            if (rnd() % burst == 0)
                sf = (uint32_t)(rnd() % 3);
            set_dsn(p, next);
            next += len;
            sfs[i] = sf;
        }
        p->sf_ref = sfs[i] + 1;
        mptcp_sent_add(&s, p);
        for (unsigned q = 0; q < 3; q++) {
            uint64_t lo = base + rnd() % (next - base + maxlen);
            check_query(&s, i + 1, lo, lo + 1 + rnd() % (2 * (uint64_t)maxlen), what);
            uint64_t at = mptcp_pkt_dsn64(&pkts[rnd() % (i + 1)]);
            check_query(&s, i + 1, at, at + 1, what);
        }
    }
    {
        visit_t all;                /* every segment added is indexed */
        all.n = 0;
        mptcp_sent_foreach_overlap(&s, 0, UINT64_MAX, visit_cb, &all);
        if (all.n != n) {
            failures++;
            fprintf(stderr, "%s: %u segments, expected %u\n", what, all.n, n);
        }
    }
    return s.runs.n;
}

/* mptcp-util.h's capacities of heap sequences: the fast path's bound and the growth's bucket
 * agree with mptcp_chunk_cap() (else an append writes past the array, or reallocates for nothing) */
static void
check_chunk_caps(void)
{
    for (unsigned n = 1; n < 4000000; n += n < 5000 ? 1 : n / 1000) {
        unsigned cap = mptcp_chunk_cap(n, 1), lo;

        if (cap < n || (n <= MPTCP_CHUNK_CAP_MAX && mptcp_chunk_cap_min(n) > cap)) {
            failures++;
            fprintf(stderr, "chunk_cap(%u) %u, its bound %u\n", n, cap, mptcp_chunk_cap_min(n));
        }
        if (n <= MPTCP_CHUNK_CAP_MAX)
            continue;
        if (mptcp_chunk_bucket(n, &lo) != cap || lo >= n || mptcp_chunk_cap(lo + 1, 1) != cap ||
            (lo > MPTCP_CHUNK_CAP_MAX && mptcp_chunk_cap(lo, 1) == cap)) {
            failures++;
            fprintf(stderr, "chunk_bucket(%u): (%u, %u], chunk_cap %u\n", n, lo, mptcp_chunk_bucket(n, &lo), cap);
        }
    }
}

int
main(void)
{
    unsigned runs;

    file_scope = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    rng_state = 0x2545F4914F6CDD1DULL;
    check_chunk_caps();
    runs = scenario("bulk, long bursts", 1000, 1448, MAXN, 40, 2);
    if (runs > MAXN / 5) {
        failures++;
        fprintf(stderr, "bulk: %u runs for %u segments: in-order bursts do not share runs\n", runs, MAXN);
    }
    scenario("short bursts", 0, 1448, MAXN, 2, 5);
    runs = scenario("a new subflow for every segment", 0, 1448, MAXN, 1, 0);
    if (runs > MAXN / 5) {
        failures++;
        fprintf(stderr, "alternating subflows: %u runs for %u segments: in-order data does not share runs\n",
                runs, MAXN);
    }
    scenario("many repeats", 5000, 300, MAXN, 8, 40);
    scenario("tiny segments", 0, 3, MAXN, 4, 20);
    scenario("large segments", UINT64_C(1) << 40, 65535, MAXN, 10, 10);
    scenario("near the top of the space", UINT64_MAX - (UINT64_C(1) << 30), 1448, MAXN, 10, 10);
    {
        /* a zero-length or wrapping segment is not indexed */
        mptcp_sent_t s;
        memset(&s, 0, sizeof(s));
        memset(&pkts[0], 0, sizeof(pkts[0]));
        space[0].v0 = UINT64_MAX - 5;
        set_dsn(&pkts[0], UINT64_MAX - 5);
        pkts[0].sf_ref = 1;
        pkts[0].seglen_ = 10;
        pkts[0].frame = 1;
        mptcp_sent_add(&s, &pkts[0]);
        if (s.runs.n != 0) {
            failures++;
            fprintf(stderr, "wrap: indexed\n");
        }
    }
    wmem_destroy_allocator(file_scope);
    printf("test_sent: %d failure(s)\n", failures);
    return failures;
}
