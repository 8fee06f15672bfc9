/* test_ranges.c
 * Unit test of the interval index (plugins/mptcp/mptcp-ranges.c) against a brute-force scan:
 * random ranges, sorted and unsorted inserts, repeated low edges, ranges up to 2^32 - 1 long
 * (the longest the index stores) and ranges at the top of the 64-bit space. Every overlap
 * query must visit exactly the entries a linear scan finds, and find_covering must return
 * the latest-starting covering entry (ties: the earliest frame). The DSS mappings' index, whose
 * entries hold runs of mappings, against an entry per mapping. Also the growable arrays'
 * capacity table (mptcp-util.h) against the policy's loop.
 * Exit code = number of failed checks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit-support.h"

#define MAXN 600

typedef struct {
    uint64_t low, high;
    uint32_t frame;
} ref_t;

static int failures;

typedef struct {
    uint32_t seen[MAXN + 1];
    unsigned n;
} visit_t;

static bool
visit_cb(const mptcp_range_t *r, void *ud)
{
    visit_t *v = (visit_t *)ud;

    if (v->n < MAXN + 1)
        v->seen[v->n++] = r->frame;
    return true;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static void
check_query(const mptcp_ranges_t *rs, const ref_t *ref, unsigned n, uint64_t lo, uint64_t hi, const char *what)
{
    visit_t v = { { 0 }, 0 };
    uint32_t want[MAXN];
    unsigned nw = 0;
    const ref_t *best = NULL;
    const mptcp_range_t *got;

    for (unsigned i = 0; i < n; i++) {
        if (ref[i].low < hi && ref[i].high > lo)
            want[nw++] = ref[i].frame;
    }
    mptcp_ranges_foreach_overlap(rs, lo, hi, visit_cb, &v);
    qsort(want, nw, sizeof(want[0]), cmp_u32);
    qsort(v.seen, v.n, sizeof(v.seen[0]), cmp_u32);
    if (v.n != nw) {
        failures++;
        fprintf(stderr, "%s: overlap [%" PRIu64 ", %" PRIu64 "): %u visited, %u expected\n", what, lo, hi, v.n, nw);
        return;
    }
    for (unsigned i = 0; i < nw; i++) {
        if (v.seen[i] != want[i]) {
            failures++;
            fprintf(stderr, "%s: overlap [%" PRIu64 ", %" PRIu64 "): frame %u, expected %u\n", what, lo, hi,
                    v.seen[i], want[i]);
            return;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (ref[i].low <= lo && ref[i].high > lo &&
            (!best || ref[i].low > best->low || (ref[i].low == best->low && ref[i].frame < best->frame)))
            best = &ref[i];
    }
    got = mptcp_ranges_find_covering(rs, lo);
    if ((got == NULL) != (best == NULL) || (got && got->frame != best->frame)) {
        failures++;
        fprintf(stderr, "%s: covering %" PRIu64 ": frame %u, expected %u\n", what, lo, got ? got->frame : 0,
                best ? best->frame : 0);
    }
}

/* One scenario: n ranges starting in [base, base + spread) (or each after half of the one before,
 * when sorted), 1 to maxlen long; queries after every insert. */
static void
scenario(const char *what, uint64_t base, uint64_t spread, uint64_t maxlen, unsigned n, bool sorted)
{
    mptcp_ranges_t rs = { NULL, 0, 0 };
    ref_t ref[MAXN];
    unsigned nref = 0;
    uint64_t next = base;

    for (unsigned i = 0; i < n; i++) {
        uint64_t low = sorted ? next : base + rnd() % spread;
        uint64_t len = 1 + rnd() % maxlen;
        uint64_t high = low + len;

        if (rnd() % 8 == 0 && nref)
            low = ref[rnd() % nref].low, high = low + len;      /* a repeated low edge */
        if (high <= low)
            continue;                                           /* wraps: the index refuses it */
        mptcp_ranges_insert(&rs, low, high, i, i + 1);
        ref[nref].low = low;
        ref[nref].high = high;
        ref[nref].frame = i + 1;
        nref++;
        next = sorted ? low + len / 2 + 1 : next;
        for (unsigned q = 0; q < 4; q++) {
            uint64_t lo = base + rnd() % (spread + maxlen);
            check_query(&rs, ref, nref, lo, lo + 1 + rnd() % (maxlen + 1), what);
            uint64_t at = ref[rnd() % nref].low;
            check_query(&rs, ref, nref, at, at + 1, what);
        }
    }
    if (rs.n != nref) {
        failures++;
        fprintf(stderr, "%s: %u entries, expected %u\n", what, rs.n, nref);
    }
}

static bool
same_range(const mptcp_range_t *a, const mptcp_range_t *b)
{
    return a->low == b->low && a->len == b->len && a->val == b->val && a->frame == b->frame;
}

/* The DSS mappings' index (mptcp_maps_t: runs of mappings that continue each other in one entry)
 * against an entry per mapping (mptcp_ranges_t): mostly mappings that continue the one before,
 * with repeats, remappings inside earlier runs, frame jumps, frames >= 2^31 and infinite
 * mappings; every covering question and the last mapping must get the same mapping. */
static void
maps_scenario(const char *what, uint64_t base, unsigned n, unsigned remap_pct)
{
    mptcp_ranges_t plain = { NULL, 0, 0 };
    mptcp_maps_t maps;
    uint64_t next = base, dsn = UINT64_C(1) << 40;
    uint32_t frame = 1;

    memset(&maps, 0, sizeof(maps));
    for (unsigned i = 0; i < n; i++) {
        uint64_t low = next, len = 1 + rnd() % 65535, d = dsn;
        unsigned dice = (unsigned)(rnd() % 100);
        mptcp_range_t a, b;
        bool fa, fb;
        uint32_t f;

        frame += rnd() % 50 == 0 ? 70000 : (uint32_t)(rnd() % 3);
        f = rnd() % 200 == 0 ? frame | UINT32_C(0x80000000) : frame;   /* a frame >= 2^31 now and then */
        if (dice < remap_pct && next > base) {          /* a remapping of earlier bytes */
            low = base + rnd() % (next - base);
            d = rnd() % 2 ? dsn + 5 * low : dsn - (next - low);
        } else if (dice < remap_pct + 10 && plain.n) {   /* a repeat */
            const mptcp_range_t *r = &plain.v[rnd() % plain.n];
            low = r->low, len = r->len, d = r->val;
        } else if (dice < remap_pct + 12) {
            len = UINT32_MAX;                            /* infinite */
        } else if (dice < remap_pct + 20) {
            d += 1 + rnd() % 100;                        /* the DSN jumps: another subflow's data between */
        }
        if (low == next) {
            next += len == UINT32_MAX ? 1 + rnd() % 65535 : len;
            dsn = d + (next - low);
        }
        mptcp_ranges_insert(&plain, low, low + len, d, f);
        mptcp_maps_insert(&maps, low, low + len, d, f);
        for (unsigned q = 0; q < 4; q++) {
            uint64_t pos = q == 0 ? low : base + rnd() % (next - base + 70000);
            const mptcp_range_t *r = mptcp_ranges_find_covering(&plain, pos);
            fb = mptcp_maps_find_covering(&maps, pos, &b);
            if ((r != NULL) != fb || (r && !same_range(r, &b))) {
                failures++;
                fprintf(stderr, "%s: #%u covering %" PRIu64 ": frame %u, expected %u\n", what, i, pos,
                        fb ? b.frame : 0, r ? r->frame : 0);
                return;
            }
        }
        fa = plain.n != 0;
        if (fa)
            a = plain.v[plain.n - 1];
        fb = mptcp_maps_last(&maps, &b);
        if (fa != fb || (fa && !same_range(&a, &b))) {
            failures++;
            fprintf(stderr, "%s: #%u last: frame %u, expected %u\n", what, i, fb ? b.frame : 0, fa ? a.frame : 0);
            return;
        }
    }
    if (remap_pct == 0 && maps.r.n * 2 > plain.n) {
        failures++;
        fprintf(stderr, "%s: %u entries for %u mappings: runs are not shared\n", what, maps.r.n, plain.n);
    }
    mptcp_ranges_free(&plain);
    mptcp_maps_free(&maps);
}

int
main(void)
{
    file_scope = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    scenario("segments", 1000, 200000, 1500, MAXN, false);
    scenario("segments in order", 1000, 200000, 1500, MAXN, true);
    scenario("mixed lengths", 0, 1u << 20, 65535, MAXN, false);
    scenario("long ranges", 0, UINT64_C(1) << 34, UINT32_MAX, MAXN, false);
    scenario("long ranges in order", 0, UINT64_C(1) << 34, UINT32_MAX, MAXN, true);
    scenario("top of the space", UINT64_MAX - (UINT64_C(1) << 33), UINT64_C(1) << 33, UINT32_MAX, MAXN, false);
    scenario("tiny ranges", 0, 300, 3, MAXN, false);
    maps_scenario("mappings in order", 1, 20000, 0);
    maps_scenario("mappings, some remapped", 1, 20000, 3);
    maps_scenario("mappings, many remapped", 1, 5000, 30);
    maps_scenario("mappings at the top of the space", UINT64_MAX - (UINT64_C(1) << 34), 5000, 3);
    {
        /* a range longer than 2^32 - 1 is kept as 2^32 - 1 long */
        mptcp_ranges_t rs = { NULL, 0, 0 };
        mptcp_ranges_insert(&rs, 10, 10 + (UINT64_C(1) << 40), 0, 1);
        if (rs.n != 1 || mptcp_range_high(&rs.v[0]) != 10 + (uint64_t)UINT32_MAX) {
            failures++;
            fprintf(stderr, "clamp: high %" PRIu64 "\n", rs.n ? mptcp_range_high(&rs.v[0]) : 0);
        }
    }
    {
        /* the capacity table of the growable arrays (mptcp-util.h) is the policy's loop */
        static const unsigned big[] = { 2327387742u, 2327387743u, UINT_MAX / 2, UINT_MAX / 2 + 1, UINT_MAX };
        for (unsigned n = 1; n <= 3000000; n++) {
            if (mptcp_grow_cap_of(n) != mptcp_grow_cap(0, n)) {
                failures++;
                fprintf(stderr, "capacity of %u: %u, expected %u\n", n, mptcp_grow_cap_of(n), mptcp_grow_cap(0, n));
                break;
            }
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(big); i++) {
            if (mptcp_grow_cap_of(big[i]) != mptcp_grow_cap(0, big[i])) {
                failures++;
                fprintf(stderr, "capacity of %u: %u\n", big[i], mptcp_grow_cap_of(big[i]));
            }
        }
    }
    wmem_destroy_allocator(file_scope);
    printf("test_ranges: %d failure(s)\n", failures);
    return failures;
}
