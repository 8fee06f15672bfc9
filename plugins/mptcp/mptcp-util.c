/* mptcp-util.c
 * The out-of-line parts of mptcp-util.h's containers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "mptcp-util.h"

unsigned mptcp_gseq_cap_lo, mptcp_gseq_cap;

void
mptcp_gseq_append_grow(mptcp_gseq_t *q, uint32_t *nbytes, const uint8_t *b, unsigned k, uint32_t g)
{
    uint32_t n = *nbytes;

    if (n <= MPTCP_GSEQ_INLINE) {      /* out of the inline bytes: to the heap */
        uint8_t *h = (uint8_t *)g_malloc(mptcp_chunk_cap(n + k, 1));

        memcpy(h, q->inl, n);
        q->heap.bytes = h;
        q->heap.goff = NULL;
    } else {
        q->heap.bytes = (uint8_t *)mptcp_grow_chunk(q->heap.bytes, n, n + k, 1);
    }
    if (g) {
        q->heap.goff = (uint32_t *)mptcp_grow_counted(NULL, q->heap.goff, g - 1, g, sizeof(uint32_t));
        q->heap.goff[g - 1] = n;
    }
    if (n + k > MPTCP_CHUNK_CAP_MAX)
        mptcp_gseq_cap = mptcp_chunk_bucket(n + k, &mptcp_gseq_cap_lo);
    memcpy(q->heap.bytes + n, b, k);
    *nbytes = n + k;
}
