/* mptcp-hint.h
 * Branch hints for the per-packet path (bench/RESULTS.md, the cache model): the test of a case
 * that few packets take (handshakes, signalling, checksums, gaps) marked unlikely, so that GCC
 * lays the common path out straight. No libwireshark (mptcp-optparse.c uses it too).
 *
 * No cold attributes: on the cache model they cost more than they saved (the rare handlers out
 * of line and in .text.unlikely: ~13 more L1i misses and ~300 more instructions a packet than the
 * same code without them, two runs each). MPTCP_NOINLINE only where a measurement showed a gain.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_HINT_H
#define MPTCP_HINT_H

#if defined(__GNUC__)
#define MPTCP_LIKELY(x) __builtin_expect(!!(x), 1)
#define MPTCP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MPTCP_NOINLINE __attribute__((noinline))
#else
#define MPTCP_LIKELY(x) (x)
#define MPTCP_UNLIKELY(x) (x)
#define MPTCP_NOINLINE
#endif

#endif /* MPTCP_HINT_H */
