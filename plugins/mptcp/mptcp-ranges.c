/* mptcp-ranges.c
 * Sorted interval index over 64-bit sequence space, used for DSS mappings (subflow
 * sequence -> data sequence) and for the runs of data each endpoint sent (mptcp-sent.c:
 * reinjections, and first transmissions for the latency).
 *
 * Entries are kept sorted by their low edge in a growable array, each with the maximum
 * high edge of all entries up to it (as a 32-bit reach above its low edge: 28 bytes an
 * entry), so a query is a binary search plus a walk back over the entries that can still
 * overlap: O(log n) for the non-overlapping ranges that real traffic produces. Unlike
 * wmem_itree, repeated low edges are kept (the first frame that carried a range stays its
 * owner) and the max edges are never stale. The array is on the GLib heap (mptcp_ranges_free()
 * at the file's cleanup): wmem's block allocator leaves every growth step of the many small
 * per-connection indexes behind as a chunk with its header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

/** Index of the first entry whose low is > pos (binary search). */
static unsigned
upper_bound(const mptcp_ranges_t *rs, uint64_t pos)
{
    unsigned lo = 0, hi = rs->n;

    /* traffic mostly appends and asks about its newest data: the last entry first */
    if (hi == 0 || rs->v[hi - 1].low <= pos)
        return hi;
    hi--;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (rs->v[mid].low <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/** Entry i's reach: the running maximum of the high edges up to it, relative to its low (every
 * high edge before entry i is at most 2^32 - 1 above a low <= low_i, so it fits 32 bits). */
static uint32_t
reach_at(const mptcp_ranges_t *rs, unsigned i)
{
    uint64_t m = mptcp_range_high(&rs->v[i]);

    if (i > 0 && rs->v[i - 1].low + rs->v[i - 1].reach > m)
        m = rs->v[i - 1].low + rs->v[i - 1].reach;
    return (uint32_t)(m - rs->v[i].low);
}

void
mptcp_ranges_insert(mptcp_ranges_t *rs, uint64_t low, uint64_t high, uint64_t val, uint32_t tag)
{
    unsigned pos;
    uint32_t len;

    if (high <= low)
        return;
    len = high - low > UINT32_MAX ? UINT32_MAX : (uint32_t)(high - low);
    /* An identical range repeats a mapping or a retransmission: keep the first owner (a sent-data
     * run's val is its segment, which has one subflow: the tag need not be compared). */
    pos = upper_bound(rs, low);
    for (unsigned i = pos; i-- > 0 && rs->v[i].low == low;) {
        if (rs->v[i].len == len && rs->v[i].val == val)
            return;
    }
    rs->v = (mptcp_range_t *)mptcp_grow(NULL, rs->v, &rs->cap, rs->n + 1, sizeof(mptcp_range_t));
    memmove(&rs->v[pos + 1], &rs->v[pos], (rs->n - pos) * sizeof(mptcp_range_t));
    rs->v[pos].low = low;
    rs->v[pos].len = len;
    rs->v[pos].val = val;
    rs->v[pos].frame = tag;
    rs->n++;
    for (unsigned i = pos; i < rs->n; i++) {
        uint32_t reach = reach_at(rs, i);
        if (i > pos && rs->v[i].reach == reach)
            break;          /* the rest is unchanged */
        rs->v[i].reach = reach;
    }
}

void
mptcp_ranges_free(mptcp_ranges_t *rs)
{
    g_free(rs->v);
    rs->v = NULL;
    rs->n = rs->cap = 0;
}

bool
mptcp_ranges_extend_last(mptcp_ranges_t *rs, uint64_t high)
{
    mptcp_range_t *r;

    if (rs->n == 0)
        return false;
    r = &rs->v[rs->n - 1];
    if (high < mptcp_range_high(r) || high - r->low > UINT32_MAX)
        return false;
    r->len = (uint32_t)(high - r->low);
    r->reach = reach_at(rs, rs->n - 1);
    return true;
}

void
mptcp_ranges_foreach_overlap(const mptcp_ranges_t *rs, uint64_t low, uint64_t high, mptcp_range_visit_cb cb,
                             void *ud)
{
    unsigned i;

    /* the last entry's reach is the highest end of all: data past it (a sender's next data in
     * order) overlaps nothing, without the search */
    if (high <= low || rs->n == 0 || rs->v[rs->n - 1].low + rs->v[rs->n - 1].reach <= low)
        return;
    i = upper_bound(rs, high - 1);  /* entries [0, i) start before high */
    while (i-- > 0 && rs->v[i].low + rs->v[i].reach > low) {
        if (mptcp_range_high(&rs->v[i]) > low && !cb(&rs->v[i], ud))
            return;
    }
}

typedef struct {
    const mptcp_range_t *best;
} cover_ud_t;

static bool
cover_cb(const mptcp_range_t *r, void *ud)
{
    cover_ud_t *c = (cover_ud_t *)ud;

    /* the latest-starting covering range is the most specific one; ties keep the earliest frame */
    if (!c->best || r->low > c->best->low || (r->low == c->best->low && r->frame < c->best->frame))
        c->best = r;
    return r->low == c->best->low ? true : false;
}

const mptcp_range_t *
mptcp_ranges_find_covering(const mptcp_ranges_t *rs, uint64_t pos)
{
    cover_ud_t c = { NULL };

    mptcp_ranges_foreach_overlap(rs, pos, pos + 1, cover_cb, &c);
    return c.best;
}

/* RFC 8684 section 3.3: "the 64-bit DSN is ... inferred from the 32 least significant
 * bits": choose the value with those low bits that is closest to the reference. */
uint64_t
mptcp_expand32(uint64_t ref, uint32_t v32)
{
    uint64_t cand = (ref & ~UINT64_C(0xffffffff)) | v32;
    int64_t delta = (int64_t)(cand - ref);

    if (delta > (int64_t)INT32_MAX)
        cand -= UINT64_C(1) << 32;
    else if (delta < -(int64_t)INT32_MAX - 1)
        cand += UINT64_C(1) << 32;
    return cand;
}
