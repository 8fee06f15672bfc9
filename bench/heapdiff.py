#!/usr/bin/env python3
"""Where the plugin's memory goes: two heaptrack profiles (floor and plugin), plugin minus floor.

    bench/heapdiff.py FLOOR.flame PLUGIN.flame [--tcp] [--ptr-table ADDR] [--top N]

Profiles ([scale], bench/RESULTS.md session 6), for each configuration (floor: add
--disable-protocol mptcp), as uid 65534 when root:
    env WIRESHARK_PLUGIN_DIR=build/plugins WIRESHARK_DEBUG_WMEM_OVERRIDE=simple \\
        setarch x86_64 -R heaptrack -o NAME tshark -r /srv/bench/conns1000.pcap -q -Y tcp.len>=0
    heaptrack_print -f NAME.zst -F NAME.flame --flamegraph-cost-type peak
The simple allocator makes every wmem allocation a malloc of its own (attributed to its caller);
setarch -R gives libwireshark's unnamed static functions the same addresses in both runs.
Default: bytes by the innermost plugin frame (stacks without one: "other"; TCP's own allocations
under the plugin's TCP wrapper: one line). --tcp: TCP's allocations under the wrapper by the
innermost exported function before the allocator, floor and plugin side by side. --ptr-table: the
address (as printed in the flame file) of the simple allocator's call that grows its table of
live allocations (the frame before a power-of-two g_realloc, in libwsutil): shown apart, since
the block allocator tshark really uses has no such table.
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import collections

ALLOC = {"g_malloc", "g_malloc0", "g_realloc", "g_slice_alloc", "g_memdup2", "g_hash_table_insert",
         "wmem_alloc", "wmem_alloc0", "wmem_realloc", "wmem_strdup", "wmem_memdup"}


def plugin_frames(fr):
    return [i for i, f in enumerate(fr) if "(mptcp-" in f or "(packet-mptcp" in f]


def key(fr, tcp, ptr_table):
    idx = plugin_frames(fr)
    inner = fr[idx[-1]].split(" (")[0] if idx else None
    if tcp and inner != "dissect_tcp_wrapper":
        return None
    if ptr_table and fr[-2:] == [ptr_table, "g_realloc"]:
        return "(wmem simple allocator: its table of live allocations)"
    if tcp:
        names = [f for f in fr[idx[-1] + 3:] if not f.startswith("0x") and f not in ALLOC]
        return names[-1] if names else "(static TCP function)"
    if inner is None:
        return "other"
    return "TCP under dissect_tcp_wrapper" if inner == "dissect_tcp_wrapper" else inner


def load(path, tcp, ptr_table):
    d = collections.Counter()
    for line in open(path):
        stack, _, cost = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        k = key(stack.rstrip(";").split(";"), tcp, ptr_table)
        if k:
            d[k] += int(cost)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("floor")
    ap.add_argument("plugin")
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--ptr-table", metavar="ADDR")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    f, p = load(a.floor, a.tcp, a.ptr_table), load(a.plugin, a.tcp, a.ptr_table)
    print(f"{'where':<56} {'floor KB':>10} {'plugin KB':>10} {'plugin-floor KB':>16}")
    for k in sorted(set(f) | set(p), key=lambda k: -abs(p[k] - f[k]))[:a.top]:
        print(f"{k:<56} {f[k] / 1e3:10.1f} {p[k] / 1e3:10.1f} {(p[k] - f[k]) / 1e3:16.1f}")
    print(f"{'total':<56} {sum(f.values()) / 1e3:10.1f} {sum(p.values()) / 1e3:10.1f} "
          f"{(sum(p.values()) - sum(f.values())) / 1e3:16.1f}")


if __name__ == "__main__":
    main()
