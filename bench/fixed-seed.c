/* bench/fixed-seed.c: LD_PRELOAD for bench.py --fixed-seed. wmem maps seed their hash with
 * g_random_int() at creation, so chain lengths (and ~300 instructions a packet, bench/RESULTS.md)
 * change from run to run; a constant makes cachegrind's counts repeat exactly, for A/B steps.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
unsigned int g_random_int(void);

unsigned int
g_random_int(void)
{
    return 0x9e3779b9u;
}
