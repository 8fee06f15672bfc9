/* unit-support.h
 * What the C unit tests of the plugin's indexes share: a wmem_file_scope() of their own (the
 * one in libwireshark needs a capture file open) and a deterministic xorshift generator.
 * Included once, by the test program's own .c file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UNIT_SUPPORT_H
#define UNIT_SUPPORT_H

#include "mptcp-int.h"

static wmem_allocator_t *file_scope;

wmem_allocator_t *
wmem_file_scope(void)
{
    return file_scope;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#endif /* UNIT_SUPPORT_H */
