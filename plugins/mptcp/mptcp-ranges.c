/* mptcp-ranges.c
 * Sorted interval index over 64-bit sequence space, used for DSS mappings (subflow
 * sequence -> data sequence; mptcp_maps_t below: runs of mappings that continue each other in
 * one entry) and for the runs of data each endpoint sent (mptcp-sent.c: reinjections, and first
 * transmissions for the latency).
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

/** Puts [low, low + len) at pos (upper_bound(rs, low)). */
static void
ranges_put(mptcp_ranges_t *rs, unsigned pos, uint64_t low, uint32_t len, uint64_t val, uint32_t tag)
{
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
    ranges_put(rs, pos, low, len, val, tag);
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

/* ---- DSS mappings ---------------------------------------------------------------------- */

/* A subflow direction's DSS mappings (RFC 8684 section 3.3.1): Linux with TSO/GSO makes a new
 * mapping per skb, each continuing the one before in subflow sequence and DSN (up to 64 KiB).
 * Such a run of up to MAPS_RUN_MAX mappings is one entry (28 bytes) whose mappings (pieces) are 4
 * bytes each in pieces: every question is answered from the mappings themselves, as with an
 * entry each. Only the last entry is extended, and a mapping that starts inside a run of two or
 * more (a remapping, rare) splits it into its mappings first: no entry starts inside a run, so
 * its last mapping is the last one in subflow sequence order if the run is last.
 * A run's pieces: [0] its first mapping's frame, [1] the count n | where its last mapping starts
 * (from the run's low: below 15 x 64 KiB) << 8, then per mapping but the last: its length | (the
 * next one's frame - its frame) << 16. A mapping carried by a frame >= 2^31 is
 * a run of one (the entry's frame field tells a run by MAPS_RUN). The array's first word is the
 * count of the words after it, which the runs' offsets count from (mptcp_maps_t stays 24 bytes,
 * its subflow direction 64); its capacity fills its malloc chunk (mptcp_chunk_cap()). */
#define MAPS_RUN UINT32_C(0x80000000)
/* a mapping is found by a walk over its run: 16, not 64 (~150 instructions a packet less; the
 * entries cost ~0.1 byte a packet more) */
#define MAPS_RUN_MAX 16
#define MAPS_RUN_SPAN (UINT32_C(1) << 30)
#define RUN_N(p) ((p)[1] & 0xff)
#define RUN_LAST_AT(p) ((p)[1] >> 8)

static bool
maps_is_run(const mptcp_range_t *e)
{
    return (e->frame & MAPS_RUN) != 0;
}

/** Words used in pieces (after its count). */
static uint32_t
maps_npieces(const mptcp_maps_t *m)
{
    return m->pieces ? m->pieces[0] : 0;
}

/** The pieces of run e. */
static uint32_t *
maps_run_pieces(const mptcp_maps_t *m, const mptcp_range_t *e)
{
    return m->pieces + 1 + (e->frame & ~MAPS_RUN);
}

/** The mapping of entry e at offset off from its low (UINT64_MAX: its last). */
static void
maps_piece(const mptcp_maps_t *m, const mptcp_range_t *e, uint64_t off, mptcp_range_t *out)
{
    const uint32_t *p;
    uint32_t at = 0, frame, j;

    *out = *e;
    if (!maps_is_run(e))
        return;
    p = maps_run_pieces(m, e);
    frame = p[0];
    for (j = 0; j + 1 < RUN_N(p) && off >= (uint64_t)at + (p[2 + j] & 0xffff); j++) {
        at += p[2 + j] & 0xffff;
        frame += p[2 + j] >> 16;
    }
    out->low = e->low + at;
    out->val = e->val + at;
    out->len = j + 1 < RUN_N(p) ? (p[2 + j] & 0xffff) : e->len - at;
    out->frame = frame;
}

typedef struct {
    const mptcp_maps_t *m;
    uint64_t pos;
    mptcp_range_t best;
    bool found;
} maps_cover_t;

static bool
maps_cover_cb(const mptcp_range_t *r, void *ud)
{
    maps_cover_t *c = (maps_cover_t *)ud;
    mptcp_range_t p;

    /* the latest-starting covering mapping is the most specific one; ties keep the earliest frame */
    maps_piece(c->m, r, c->pos - r->low, &p);
    if (!c->found || p.low > c->best.low || (p.low == c->best.low && p.frame < c->best.frame))
        c->best = p;
    c->found = true;
    return true;
}

bool
mptcp_maps_find_covering(const mptcp_maps_t *m, uint64_t pos, mptcp_range_t *out)
{
    maps_cover_t c;

    c.m = m;
    c.pos = pos;
    c.found = false;
    mptcp_ranges_foreach_overlap(&m->r, pos, pos + 1, maps_cover_cb, &c);
    if (c.found)
        *out = c.best;
    return c.found;
}

bool
mptcp_maps_last(const mptcp_maps_t *m, mptcp_range_t *out)
{
    if (!m->r.n)
        return false;
    maps_piece(m, &m->r.v[m->r.n - 1], UINT64_MAX, out);
    return true;
}

typedef struct {
    const mptcp_maps_t *m;
    uint64_t low, val;
    uint32_t len;
    bool repeat;
    const mptcp_range_t *run;  /**< a run of two or more that holds low */
} maps_scan_t;

static bool
maps_scan_cb(const mptcp_range_t *r, void *ud)
{
    maps_scan_t *s = (maps_scan_t *)ud;
    mptcp_range_t p;

    maps_piece(s->m, r, s->low - r->low, &p);
    if (p.low == s->low && p.len == s->len && p.val == s->val) {
        s->repeat = true;
        return false;
    }
    if (maps_is_run(r) && RUN_N(maps_run_pieces(s->m, r)) > 1)
        s->run = r;
    return true;
}

/** Appends k words to pieces; returns where they start. */
static uint32_t *
maps_pieces_add(mptcp_maps_t *m, uint32_t k)
{
    uint32_t n = maps_npieces(m);

    m->pieces = (uint32_t *)mptcp_grow_chunk(m->pieces, m->pieces ? 1 + n : 0, 1 + n + k, sizeof(uint32_t));
    m->pieces[0] = n + k;
    return m->pieces + 1 + n;
}

/** Extends the last entry by the mapping that continues it, if it can. */
static bool
maps_extend(mptcp_maps_t *m, uint64_t low, uint32_t len, uint64_t dsn, uint32_t frame)
{
    mptcp_range_t *t = m->r.n ? &m->r.v[m->r.n - 1] : NULL, last;
    uint32_t at, *p;

    if (!t || mptcp_range_high(t) != low || t->val + t->len != dsn || len > 0xffff || frame >= MAPS_RUN ||
        (uint64_t)t->len + len > MAPS_RUN_SPAN)
        return false;
    maps_piece(m, t, UINT64_MAX, &last);
    if (last.len > 0xffff || last.frame >= MAPS_RUN || frame < last.frame || frame - last.frame > 0xffff)
        return false;
    if (maps_is_run(t) && (RUN_N(maps_run_pieces(m, t)) >= MAPS_RUN_MAX ||
                           (t->frame & ~MAPS_RUN) + RUN_N(maps_run_pieces(m, t)) + 1 != maps_npieces(m)))
        return false;           /* full, or not the last run made */
    if (!mptcp_ranges_extend_last(&m->r, low + len))
        return false;
    if (!maps_is_run(t)) {
        at = maps_npieces(m);
        p = maps_pieces_add(m, 3);
        p[0] = t->frame;
        p[1] = 1;
        t->frame = MAPS_RUN | at;
    } else {
        at = t->frame & ~MAPS_RUN;
        maps_pieces_add(m, 1);
    }
    p = m->pieces + 1 + at;
    p[2 + RUN_N(p) - 1] = last.len | (frame - last.frame) << 16;
    p[1] = (RUN_N(p) + 1) | (RUN_LAST_AT(p) + last.len) << 8;
    return true;
}

/** Makes the run at entry i an entry per mapping again. */
static void
maps_split(mptcp_maps_t *m, unsigned i)
{
    mptcp_range_t e = m->r.v[i], part[MAPS_RUN_MAX];
    unsigned n = RUN_N(maps_run_pieces(m, &e));
    mptcp_ranges_t *rs = &m->r;
    uint64_t off = 0;

    for (unsigned k = 0; k < n; k++) {
        maps_piece(m, &e, off, &part[k]);
        off += part[k].len;
    }
    rs->v = (mptcp_range_t *)mptcp_grow(NULL, rs->v, &rs->cap, rs->n + n - 1, sizeof(mptcp_range_t));
    memmove(&rs->v[i + n], &rs->v[i + 1], (rs->n - i - 1) * sizeof(mptcp_range_t));
    memcpy(&rs->v[i], part, n * sizeof(mptcp_range_t));
    rs->n += n - 1;
    for (unsigned k = i; k < rs->n; k++) {
        uint32_t reach = reach_at(rs, k);
        if (k >= i + n && rs->v[k].reach == reach)
            break;          /* the rest is unchanged */
        rs->v[k].reach = reach;
    }
}

/** Whether [low, low + len) -> dsn is the last entry's last mapping again (mostly: Linux repeats
 * a mapping on every segment it covers). */
static bool
maps_repeats_last(const mptcp_maps_t *m, uint64_t low, uint32_t len, uint64_t dsn)
{
    const mptcp_range_t *t = &m->r.v[m->r.n - 1];
    uint32_t at = maps_is_run(t) ? RUN_LAST_AT(maps_run_pieces(m, t)) : 0;

    return low == t->low + at && len == t->len - at && dsn == t->val + at;
}

/** Adds [low, low + len) -> dsn of frame, unless it repeats a mapping (out of line: the repeat of
 * the last one returns before it). */
static MPTCP_NOINLINE void
maps_add(mptcp_maps_t *m, uint64_t low, uint32_t len, uint64_t dsn, uint32_t frame)
{
    maps_scan_t s = { m, low, dsn, len, false, NULL };
    uint32_t tag = frame;

    /* a repeat of a mapping keeps its first frame */
    mptcp_ranges_foreach_overlap(&m->r, low, low + 1, maps_scan_cb, &s);
    if (s.repeat || maps_extend(m, low, len, dsn, frame))
        return;
    if (s.run)
        maps_split(m, (unsigned)(s.run - m->r.v));
    if (frame >= MAPS_RUN) {
        uint32_t *p = maps_pieces_add(m, 2);
        p[0] = frame;
        p[1] = 1;
        tag = MAPS_RUN | (maps_npieces(m) - 2);
    }
    ranges_put(&m->r, upper_bound(&m->r, low), low, len, dsn, tag);
}

void
mptcp_maps_insert(mptcp_maps_t *m, uint64_t low, uint64_t high, uint64_t dsn, uint32_t frame)
{
    uint32_t len = high - low > UINT32_MAX ? UINT32_MAX : (uint32_t)(high - low);

    if (high > low && !(m->r.n && maps_repeats_last(m, low, len, dsn)))
        maps_add(m, low, len, dsn, frame);
}

void
mptcp_maps_free(mptcp_maps_t *m)
{
    mptcp_ranges_free(&m->r);
    g_free(m->pieces);
    m->pieces = NULL;
}
