/* mptcp-hint.h
 * Compiler hints for the per-packet path (bench/RESULTS.md, the cache model): code that runs for
 * few packets (handshakes, signalling, checksums, fallback, errors) goes out of line and into
 * GCC's .text.unlikely, so that an ordinary data segment or ACK touches fewer cache lines of code.
 * No libwireshark (mptcp-optparse.c uses it too).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_HINT_H
#define MPTCP_HINT_H

#if defined(__GNUC__)
/** A function that runs for few packets: never inlined, kept apart from the hot code. */
#define MPTCP_COLD __attribute__((cold, noinline))
#define MPTCP_LIKELY(x) __builtin_expect(!!(x), 1)
#define MPTCP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MPTCP_COLD
#define MPTCP_LIKELY(x) (x)
#define MPTCP_UNLIKELY(x) (x)
#endif

#endif /* MPTCP_HINT_H */
