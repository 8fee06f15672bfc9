/* mptcp-util.c
 * The shared min-heap (mptcp-util.h): pending latency segments (mptcp-latency.c), running
 * percentiles (mptcp-stats.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-util.h"

static inline uint8_t *
at(const mptcp_heap_t *h, unsigned i)
{
    return h->v + (size_t)i * h->elt;
}

/** Copies one element: elt is a multiple of 8 and small (a libc call per sift step costs more). */
static inline void
put(const mptcp_heap_t *h, uint8_t *dst, const uint8_t *src)
{
    for (unsigned w = 0; w < h->elt; w += 8)
        memcpy(dst + w, src + w, 8);
}

static inline uint64_t
key(const mptcp_heap_t *h, unsigned i)
{
    uint64_t k;

    memcpy(&k, at(h, i), sizeof(k));
    return k;
}

void
mptcp_heap_push(mptcp_heap_t *h, const void *e)
{
    uint64_t k;
    unsigned i;

    memcpy(&k, e, sizeof(k));
    h->v = (uint8_t *)mptcp_grow(h->scope, h->v, &h->cap, h->n + 1, h->elt);
    i = h->n++;
    while (i > 0 && key(h, (i - 1) / 2) > k) {
        put(h, at(h, i), at(h, (i - 1) / 2));
        i = (i - 1) / 2;
    }
    put(h, at(h, i), (const uint8_t *)e);
}

void
mptcp_heap_pop(mptcp_heap_t *h)
{
    unsigned i = 0, n = --h->n;
    uint64_t last = key(h, n);       /* the last element moves down from the top */

    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && key(h, c + 1) < key(h, c))
            c++;
        if (key(h, c) >= last)
            break;
        put(h, at(h, i), at(h, c));
        i = c;
    }
    if (n)
        put(h, at(h, i), at(h, n));
}

void
mptcp_heap_free(mptcp_heap_t *h)
{
    wmem_free(h->scope, h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
