/* mptcp-util.h
 * Containers and policy constants every layer shares (pure: GLib and wmem only).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_UTIL_H
#define MPTCP_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <wsutil/wmem/wmem.h>

/* ---- policy constants ------------------------------------------------------------------ */

/** A DATA_ACK more than this far ahead of the data captured in its space is not trusted: a
 * capture that misses data (or a forged ACK) must not make everything "acknowledged".
 * RFC 8684 section 3.3.5: a receiver never acknowledges more than its window past what it got. */
#define MPTCP_ACK_TRUST_WINDOW (UINT64_C(1) << 30)
/** Relative data offsets start this far above the first DSN seen in a direction, so that data
 * captured later below it (reordering, reinjections of older bytes) still has an offset. */
#define MPTCP_REL_BASE_HEADROOM (UINT64_C(1) << 40)

/* ---- growable arrays --------------------------------------------------------------------- */

/** The one capacity policy: 1, 2, 3, 4, then x1.5 (6, 9, 13, 19, ...): amortised O(1) appends,
 * and at most a third unused: most per-packet and per-connection arrays hold a few entries, and
 * a busy server has tens of thousands of connections with several (doubling left 25 % of the
 * per-connection indexes empty on average). */
static inline unsigned
mptcp_grow_cap(unsigned cap, unsigned need)
{
    unsigned c = cap ? cap : 1;

    while (c < need)
        c = c < 4 ? c + 1 : c > UINT_MAX / 2 ? need : c + c / 2;
    return c;
}

/** Makes room for need elements of elt bytes in v, whose capacity is *cap; scope is the wmem
 * allocator (NULL: the GLib heap). Returns the (possibly moved) array. */
static inline void *
mptcp_grow(wmem_allocator_t *scope, void *v, unsigned *cap, unsigned need, size_t elt)
{
    if (need <= *cap)
        return v;
    *cap = mptcp_grow_cap(*cap, need);
    return wmem_realloc(scope, v, (size_t)*cap * elt);
}

/** The policy's capacities (mptcp_grow_cap(0, n) for every n up to UINT_MAX / 2), for the arrays
 * that keep no capacity: their append finds it in 6 steps instead of ~20 of the policy's loop. */
static const uint32_t mptcp_grow_caps[] = {
    1, 2, 3, 4, 6, 9, 13, 19, 28, 42, 63, 94, 141, 211, 316, 474, 711, 1066, 1599, 2398, 3597, 5395,
    8092, 12138, 18207, 27310, 40965, 61447, 92170, 138255, 207382, 311073, 466609, 699913, 1049869,
    1574803, 2362204, 3543306, 5314959, 7972438, 11958657, 17937985, 26906977, 40360465, 60540697,
    90811045, 136216567, 204324850, 306487275, 459730912, 689596368, 1034394552, 1551591828, 2327387742u,
};

/** The index of mptcp_grow_cap(0, n) in mptcp_grow_caps (0 < n <= its last). */
static inline unsigned
mptcp_grow_cap_index(unsigned n)
{
    unsigned lo = 0, hi = G_N_ELEMENTS(mptcp_grow_caps) - 1;

    while (lo < hi) {              /* the first capacity >= n */
        unsigned m = (lo + hi) / 2;
        if (mptcp_grow_caps[m] >= n)
            hi = m;
        else
            lo = m + 1;
    }
    return lo;
}

/** mptcp_grow_cap(0, n) (n > 0). */
static inline unsigned
mptcp_grow_cap_of(unsigned n)
{
    if (n > mptcp_grow_caps[G_N_ELEMENTS(mptcp_grow_caps) - 1])
        return mptcp_grow_cap(0, n);
    return mptcp_grow_caps[mptcp_grow_cap_index(n)];
}

/** mptcp_grow() for an array that keeps no capacity: it is the policy's capacity for n. */
static inline void *
mptcp_grow_counted(wmem_allocator_t *scope, void *v, unsigned n, unsigned need, size_t elt)
{
    unsigned cap = n ? mptcp_grow_cap_of(n) : 0;

    return mptcp_grow(scope, v, &cap, need, elt);
}

/* a capacity of at most this many bytes fills its malloc chunk */
#define MPTCP_CHUNK_CAP_MAX 1016

/** The capacity (in elements of elt = 1, 2, 4 or 8 bytes) of a GLib heap array that keeps no
 * capacity and holds n elements. Up to MPTCP_CHUNK_CAP_MAX bytes, 16 k + 8 bytes, k by the policy
 * (1, 2, 3, 4, 6, 9, ...: 24, 40, 56, 72, 104, 152, ... bytes): a malloc chunk is 16 k + 16 bytes
 * with an 8-byte header (glibc, 64-bit), the smallest 32, and such a capacity fills it (a short
 * connection's small arrays: one chunk each, none of it unused); beyond, the policy's. */
static inline unsigned
mptcp_chunk_cap(unsigned n, size_t elt)
{
    size_t bytes = (size_t)n * elt;
    unsigned k = bytes > 24 ? (unsigned)((bytes - 8 + 15) / 16) : 1;

    if (bytes > MPTCP_CHUNK_CAP_MAX)
        return mptcp_grow_cap_of(n);
    return (unsigned)((16 * (size_t)mptcp_grow_cap_of(k) + 8) / elt);
}

/** At most mptcp_chunk_cap(n, 1), for n <= MPTCP_CHUNK_CAP_MAX: the end of n's malloc chunk
 * (the least 16 j + 8 >= n), one instruction where the capacity is only checked. */
static inline unsigned
mptcp_chunk_cap_min(unsigned n)
{
    return ((n + 7) & ~15u) + 8;
}

/** mptcp_chunk_cap(n, 1) for n > MPTCP_CHUNK_CAP_MAX, and in *lo the end of its bucket below: it
 * is the capacity of every m in (*lo, capacity] (*lo is the capacity itself beyond the table). */
static inline unsigned
mptcp_chunk_bucket(unsigned n, unsigned *lo)
{
    unsigned i;

    if (n > mptcp_grow_caps[G_N_ELEMENTS(mptcp_grow_caps) - 1])
        return *lo = mptcp_grow_cap(0, n);
    i = mptcp_grow_cap_index(n);
    *lo = i ? MAX(mptcp_grow_caps[i - 1], MPTCP_CHUNK_CAP_MAX) : MPTCP_CHUNK_CAP_MAX;
    return mptcp_grow_caps[i];
}

/** Makes room for need elements of elt bytes in v, a GLib heap array of n (capacity
 * mptcp_chunk_cap() while n > 0); returns the (possibly moved) array. */
static inline void *
mptcp_grow_chunk(void *v, unsigned n, unsigned need, size_t elt)
{
    if (n && need <= mptcp_chunk_cap(n, elt))
        return v;
    return g_realloc(v, (size_t)mptcp_chunk_cap(need, elt) * elt);
}

/* ---- sequences of groups ------------------------------------------------------------------ */

#define MPTCP_GSEQ_INLINE 16

/** A byte sequence of groups (a group: a whole first value, then differences as varints): its
 * first MPTCP_GSEQ_INLINE bytes inline, no allocation (a short connection's); beyond, on the GLib
 * heap with where each group but the first starts. Its length is kept beside it (nbytes). */
typedef union {
    struct {
        uint8_t *bytes;        /**< capacity: mptcp_chunk_cap() */
        uint32_t *goff;        /**< where groups 1, 2, ... start (NULL while one) */
    } heap;                    /**< nbytes > MPTCP_GSEQ_INLINE */
    uint8_t inl[MPTCP_GSEQ_INLINE];
} mptcp_gseq_t;

static inline uint8_t *
mptcp_gseq_bytes(mptcp_gseq_t *q, uint32_t nbytes)
{
    return nbytes > MPTCP_GSEQ_INLINE ? q->heap.bytes : q->inl;
}

/** Where group g starts. */
static inline const uint8_t *
mptcp_gseq_group(const mptcp_gseq_t *q, uint32_t nbytes, uint32_t g)
{
    if (g)
        return q->heap.bytes + q->heap.goff[g - 1];
    return nbytes > MPTCP_GSEQ_INLINE ? q->heap.bytes : q->inl;
}

/** The capacity bucket the last growth of a heap sequence beyond MPTCP_CHUNK_CAP_MAX found
 * (mptcp_chunk_bucket(): a fact about the policy, whichever sequence found it): a long sequence
 * grows by a few bytes at a time, without a search of the policy's capacities per append. */
extern unsigned mptcp_gseq_cap_lo, mptcp_gseq_cap;

/** mptcp_gseq_append() beyond its common case: the heap array grows, a group starts. */
void mptcp_gseq_append_grow(mptcp_gseq_t *q, uint32_t *nbytes, const uint8_t *b, unsigned k, uint32_t g);

/** Appends the k bytes at b to q of *nbytes bytes; they start group g if g > 0 (group 0 starts
 * at 0; a group after the first starts beyond MPTCP_GSEQ_INLINE bytes: on the heap). */
static inline void
mptcp_gseq_append(mptcp_gseq_t *q, uint32_t *nbytes, const uint8_t *b, unsigned k, uint32_t g)
{
    uint32_t n = *nbytes;
    uint8_t *d;

    /* mostly: room in the inline bytes, or in the heap array's capacity (mptcp_chunk_cap()) */
    if (n + k <= MPTCP_GSEQ_INLINE)
        d = q->inl;
    else if (n > MPTCP_GSEQ_INLINE && !g &&
             (n <= MPTCP_CHUNK_CAP_MAX ? n + k <= mptcp_chunk_cap_min(n)
                                        : n > mptcp_gseq_cap_lo && n + k <= mptcp_gseq_cap))
        d = q->heap.bytes;
    else {
        mptcp_gseq_append_grow(q, nbytes, b, k, g);
        return;
    }
    memcpy(d + n, b, k);
    *nbytes = n + k;
}

/** Frees q's heap arrays (empty again: *nbytes 0). */
static inline void
mptcp_gseq_free(mptcp_gseq_t *q, uint32_t *nbytes)
{
    if (*nbytes > MPTCP_GSEQ_INLINE) {
        g_free(q->heap.bytes);
        g_free(q->heap.goff);
    }
    memset(q, 0, sizeof(*q));
    *nbytes = 0;
}

/* ---- differences as varints ------------------------------------------------------------ */

/** Writes diff (a difference of two 32-bit values, modulo 2^32) at p, zigzag encoded in 7-bit
 * groups: 1 byte while it is within +-63, at most 5; returns the bytes written. The sequences
 * of growing references per data segment or DATA_ACK keep most of their values so. */
static inline unsigned
mptcp_varint_put(uint8_t *p, uint32_t diff)
{
    uint32_t z = (diff << 1) ^ (0u - (diff >> 31));
    unsigned n = 0;

    for (; z >= 0x80; z >>= 7)
        p[n++] = (uint8_t)(z | 0x80);
    p[n++] = (uint8_t)z;
    return n;
}

/** Reads the difference mptcp_varint_put() wrote at *p (to add, modulo 2^32) and moves *p on. */
static inline uint32_t
mptcp_varint_get(const uint8_t **p)
{
    uint32_t z = 0;

    for (unsigned sh = 0;; sh += 7) {
        uint8_t b = *(*p)++;
        z |= (uint32_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            break;
    }
    return (z >> 1) ^ (0u - (z & 1));
}

/* ---- slab -------------------------------------------------------------------------------- */

/** Small objects that live as long as their wmem scope (never freed one by one), carved from
 * 64 KiB slabs 8 bytes apart: wmem's block allocator puts a 16-byte header before each
 * allocation and rounds it up to 16 bytes (the per-connection structures: tens of thousands of
 * connections on a busy server). */
#define MPTCP_SLAB_SIZE (64 * 1024)

typedef struct {
    uint8_t *next;                 /**< the current slab's first free byte */
    size_t left;
} mptcp_slab_t;

/** size zeroed bytes from s (scope: the slabs' wmem allocator, always the same for s). */
static inline void *
mptcp_slab_alloc0(mptcp_slab_t *s, wmem_allocator_t *scope, size_t size)
{
    void *p;

    size = (size + 7) & ~(size_t)7;
    if (size > MPTCP_SLAB_SIZE / 16)
        return wmem_alloc0(scope, size);
    if (size > s->left) {
        s->next = (uint8_t *)wmem_alloc(scope, MPTCP_SLAB_SIZE);
        s->left = MPTCP_SLAB_SIZE;
    }
    p = s->next;
    s->next += size;
    s->left -= size;
    return memset(p, 0, size);
}

/* ---- side tables -------------------------------------------------------------------------- */

/** A zeroed record of size bytes for key in *map, a side table of scope made at its first record:
 * for what few objects have, kept by the object's address instead of in a field of every one. */
static inline void *
mptcp_side_new(wmem_allocator_t *scope, wmem_map_t **map, const void *key, size_t size)
{
    void *v = wmem_alloc0(scope, size);

    if (!*map)
        *map = wmem_map_new(scope, g_direct_hash, g_direct_equal);
    wmem_map_insert(*map, key, v);
    return v;
}

/* ---- hash table of 32-bit values by a 32-bit key ----------------------------------------- */

/** Open addressing, linear probing, load at most 3/4, no removal: a 32-bit key (a token, or a
 * hash the caller computes) and a non-zero 32-bit value (a reference the caller resolves) per
 * 8-byte slot, where a wmem_map entry is a 24-byte item with its allocation header plus a bucket
 * (the subflow and token tables hold two entries per connection). Equal keys may repeat: the
 * caller tells their values apart. */
typedef struct {
    uint32_t key;
    uint32_t val;                  /**< 0: an empty slot */
} mptcp_htab_slot_t;

typedef struct {
    mptcp_htab_slot_t *s;
    unsigned n, cap;               /**< cap: 0 or a power of two */
} mptcp_htab_t;

static inline unsigned
mptcp_htab_home(const mptcp_htab_t *t, uint32_t key)
{
    return (key * 2654435761u) & (t->cap - 1);     /* Fibonacci hashing spreads close keys */
}

/** The slots holding key, one after the other: *i = UINT_MAX for the first; returns a pointer to
 * the slot's value (which the caller may replace by another non-zero one), NULL after the last. */
static inline uint32_t *
mptcp_htab_next(const mptcp_htab_t *t, uint32_t key, unsigned *i)
{
    unsigned j;

    if (!t->cap)
        return NULL;
    for (j = *i == UINT_MAX ? mptcp_htab_home(t, key) : (*i + 1) & (t->cap - 1); t->s[j].val;
         j = (j + 1) & (t->cap - 1)) {
        if (t->s[j].key == key) {
            *i = j;
            return &t->s[j].val;
        }
    }
    return NULL;
}

static inline void
mptcp_htab_put(mptcp_htab_t *t, uint32_t key, uint32_t val)
{
    unsigned j = mptcp_htab_home(t, key);

    while (t->s[j].val)
        j = (j + 1) & (t->cap - 1);
    t->s[j].key = key;
    t->s[j].val = val;
    t->n++;
}

/** Adds val (not 0) under key; scope: the wmem allocator of the table. */
static inline void
mptcp_htab_add(mptcp_htab_t *t, wmem_allocator_t *scope, uint32_t key, uint32_t val)
{
    if ((t->n + 1) * 4 > t->cap * 3) {
        mptcp_htab_t old = *t;

        t->cap = old.cap ? old.cap * 2 : 16;
        t->n = 0;
        t->s = (mptcp_htab_slot_t *)wmem_alloc0(scope, t->cap * sizeof(mptcp_htab_slot_t));
        for (unsigned i = 0; i < old.cap; i++) {
            if (old.s[i].val)
                mptcp_htab_put(t, old.s[i].key, old.s[i].val);
        }
        wmem_free(scope, old.s);
    }
    mptcp_htab_put(t, key, val);
}

/* ---- min-heap ---------------------------------------------------------------------------- */

/** Binary min-heap of elements of elt bytes (a multiple of 8) whose first member is a uint64_t
 * key; every call names elt (a sizeof at the call site), so the inline code is specialised for
 * it: the latency's pending segments are pushed and popped for every data packet. The calls
 * that allocate or free name the wmem scope (NULL: the GLib heap), always the same for a heap:
 * no pointer to it in each of the per-connection heaps. */
typedef struct {
    uint8_t *v;
    unsigned n, cap;
} mptcp_heap_t;

static inline uint64_t
mptcp_heap_key_at(const mptcp_heap_t *h, unsigned i, size_t elt)
{
    uint64_t k;

    memcpy(&k, h->v + (size_t)i * elt, sizeof(k));
    return k;
}

static inline void
mptcp_heap_push(mptcp_heap_t *h, wmem_allocator_t *scope, const void *e, size_t elt)
{
    uint64_t k;
    unsigned i;

    memcpy(&k, e, sizeof(k));
    h->v = (uint8_t *)mptcp_grow(scope, h->v, &h->cap, h->n + 1, elt);
    for (i = h->n++; i > 0 && mptcp_heap_key_at(h, (i - 1) / 2, elt) > k; i = (i - 1) / 2)
        memcpy(h->v + (size_t)i * elt, h->v + (size_t)((i - 1) / 2) * elt, elt);
    memcpy(h->v + (size_t)i * elt, e, elt);
}

/** Removes the smallest element (the heap must not be empty): the last one moves down from
 * the top. */
static inline void
mptcp_heap_pop(mptcp_heap_t *h, size_t elt)
{
    unsigned i = 0, n = --h->n;
    uint64_t last = mptcp_heap_key_at(h, n, elt);

    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && mptcp_heap_key_at(h, c + 1, elt) < mptcp_heap_key_at(h, c, elt))
            c++;
        if (mptcp_heap_key_at(h, c, elt) >= last)
            break;
        memcpy(h->v + (size_t)i * elt, h->v + (size_t)c * elt, elt);
        i = c;
    }
    if (n)
        memcpy(h->v + (size_t)i * elt, h->v + (size_t)n * elt, elt);
}

static inline void
mptcp_heap_free(mptcp_heap_t *h, wmem_allocator_t *scope)
{
    wmem_free(scope, h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

/** The smallest element, NULL when empty. */
static inline const void *
mptcp_heap_top(const mptcp_heap_t *h)
{
    return h->n ? h->v : NULL;
}

/** Order-preserving key of a signed value (and back). */
static inline uint64_t
mptcp_heap_key_i64(int64_t v)
{
    return (uint64_t)v ^ (UINT64_C(1) << 63);
}

static inline int64_t
mptcp_heap_i64(uint64_t key)
{
    return (int64_t)(key ^ (UINT64_C(1) << 63));
}

#endif /* MPTCP_UTIL_H */
