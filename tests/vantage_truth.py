#!/usr/bin/env python3
"""Ground truth for two captures of the same traffic taken at its two ends (issue 21, [vantage]).

Independent of the plugin: a segment of one capture is the same segment in the other when its
bytes are identical -- the IPv4 identification, the whole TCP header with every option (but the
checksum, which checksum offload leaves unset in the sender's capture), and the payload (nothing
between the two capture points rewrites a packet in the project's captures).
Identical copies (a pure ACK sent twice) are paired in order. Which host sent a segment comes
from the role of the capture ("client" or "server") and the subflows' client addresses
(tests/truth.py orients every subflow by its SYN); the DSN ranges come from tests/truth.py
(self-describing payload).

API::

    import vantage_truth
    v = vantage_truth.analyze("captures/v1-vantage-client.pcap", "captures/v1-vantage-server.pcap",
                              role="client")
    v.peer_frame[f]        # frame of the same segment in the peer capture (absent: not there)
    v.owd[f]               # receiver time - sender time (s), every matched packet
    v.sent_here[f]         # True: sent by this capture's host
    v.lost                 # set of frames: data segments sent here some of whose bytes never reach
                           # the peer capture
    v.pieces[f]            # the peer frames that carry frame f's bytes (one unless segmented
                           # differently: TSO at the sender, GRO at the receiver; then joined by
                           # flow, TSval and overlapping sequence range; peer_frame = the piece
                           # with f's first byte)
    v.ambiguous[f]         # frames of the peer that overlap f but are the identical copy of
                           # another frame here (f's join is ambiguous: see _range_pieces)
    v.reinjection_useful[f]  # on every copy (either capture's frame numbers) of a reinjection, True
                           # when some of its bytes reached the receiver first through this copy
    v.this, v.peer         # truth.Truth of each capture

"Reinjection" is the sender's: a data segment carrying bytes that its sender sent earlier on
another subflow of the same connection and direction (truth.py on the sender's capture).
"Reached the receiver first": in the receiver's capture (frame order), the segment carries at
least one DSN byte that no earlier frame of that connection and direction carried.

CLI: ``python3 tests/vantage_truth.py THIS PEER client|server`` prints the counts.
"""
import os
import struct
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402


def segment_keys(path):
    """frame -> identity of the segment (IPv4 id + TCP header, options and payload as captured)."""
    keys = {}
    for frame, lt, _ts, data, _orig in truth.read_frames(path):
        r = truth._parse_ip_tcp(lt, data)
        if r is None:
            continue
        o, ver = truth._l3_offset(lt, data)
        ipid = struct.unpack("!H", data[o + 4:o + 6])[0] if ver == 4 else None
        src, dst, tcp, _total = r
        # the TCP checksum may differ: a sender's capture holds it before the NIC fills it in
        keys[frame] = (src, dst, ipid, bytes(tcp[:16]) + bytes(tcp[18:]))
    return keys


def _pair(keys_a, keys_b):
    """frame in a -> frame in b; the k-th copy of a key with the k-th copy."""
    by_key = defaultdict(list)
    for f in sorted(keys_b):
        by_key[keys_b[f]].append(f)
    used = defaultdict(int)
    out = {}
    for f in sorted(keys_a):
        k = keys_a[f]
        lst = by_key.get(k)
        if lst and used[k] < len(lst):
            out[f] = lst[used[k]]
            used[k] += 1
    return out


def first_arrivals(t):
    """Frames of truth t that carry at least one DSN byte no earlier frame of the same connection
    and direction carried (frame order = arrival order at the capture point)."""
    covered = defaultdict(list)        # (conn, dir) -> sorted disjoint [start, end) intervals
    out = set()
    for p in t.data_packets:
        if p.dsn is None:
            continue
        ivs = covered[(p.conn, p.direction)]
        a, b = p.dsn, p.dsn + p.tcp_len
        new = b - a - sum(max(0, min(b, e) - max(a, s)) for s, e in ivs)
        if new > 0:
            out.add(p.frame)
            ivs.append((a, b))
            ivs.sort()
            merged = [ivs[0]]
            for s, e in ivs[1:]:
                if s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                else:
                    merged.append((s, e))
            covered[(p.conn, p.direction)] = merged
    return out


def _tsval(p):
    for k, b in p.options:
        if k == 8 and len(b) == 10:
            return struct.unpack("!I", b[2:6])[0]
    return None


def _range_pieces(this, peer, exact):
    """Data segments of `this` without an identical copy -> the peer's segments of the same flow
    and TSval that overlap its sequence range (one transmission segmented differently at the two
    ends: TSO at a sender, GRO at a receiver). Peer segments that have an identical copy in
    `this` are not pieces of another segment."""
    taken = set(exact.values())
    by_flow = defaultdict(list)
    for q in peer.data_packets:
        by_flow[(q.tuple, _tsval(q))].append(q)
    out, ambiguous = {}, {}
    for p in this.data_packets:
        if p.frame in exact:
            continue
        pieces, other = [], []
        for q in by_flow.get((p.tuple, _tsval(p)), ()):
            if (q.seq, q.tcp_len) == (p.seq, p.tcp_len):
                continue        # the same range again: another transmission, not a piece
            if (q.seq - p.seq) % 2 ** 32 < p.tcp_len or (p.seq - q.seq) % 2 ** 32 < q.tcp_len:
                (other if q.frame in taken else pieces).append(q)
        if pieces:
            out[p.frame] = pieces
        if other:
            ambiguous[p.frame] = other
    return out, ambiguous


def _covered(p, pieces):
    """Bytes of p's sequence range that the pieces carry."""
    ivs = sorted((max(0, (q.seq - p.seq + 2 ** 31) % 2 ** 32 - 2 ** 31), min(p.tcp_len, (q.seq - p.seq + 2 ** 31) % 2 ** 32 - 2 ** 31 + q.tcp_len)) for q in pieces)
    n, end = 0, 0
    for a, b in ivs:
        a = max(a, end)
        if b > a:
            n += b - a
            end = b
    return n


class VantageTruth:
    def __init__(self, this_path, peer_path, role):
        assert role in ("client", "server")
        self.this = truth.analyze(this_path)
        self.peer = truth.analyze(peer_path)
        ka, kb = segment_keys(this_path), segment_keys(peer_path)
        exact = _pair(ka, kb)
        self.peer_frame = dict(exact)
        # pieces: this frame -> the peer frames that carry its bytes (one, or several when
        # the two ends segmented differently); peer_frame = the piece with its first byte
        self.pieces = {f: [q] for f, q in exact.items()}
        self.range_joined = set()
        ranged, amb = _range_pieces(self.this, self.peer, exact)
        # ambiguous: a peer segment overlapping f (same flow and TSval) is also the identical copy
        # of another frame of this capture; which one it belongs to the bytes cannot tell
        self.ambiguous = {f: [q.frame for q in qs] for f, qs in amb.items()}
        for f, qs in ranged.items():
            p = self.this.by_frame[f]
            first = [q for q in qs if (p.seq - q.seq) % 2 ** 32 < q.tcp_len] or qs
            self.peer_frame[f] = min(q.frame for q in first)
            self.pieces[f] = [q.frame for q in qs]
            self.range_joined.add(f)
        back = defaultdict(list)
        for f, qs in self.pieces.items():
            for q in qs:
                back[q].append(f)
        client_addrs = {k.client_ip for k in self.this.subflows} | {k.client_ip for k in self.peer.subflows}
        self.sent_here = {}
        self.owd = {}
        self.lost = set()
        for p in self.this.packets:
            here = (p.src in client_addrs) == (role == "client")
            self.sent_here[p.frame] = here
            q = self.peer_frame.get(p.frame)
            if q is not None:
                tq = self.peer.by_frame[q].ts
                self.owd[p.frame] = (tq - p.ts) if here else (p.ts - tq)
            if here and p.tcp_len > 0:
                pcs = [self.peer.by_frame[x] for x in self.pieces.get(p.frame, ())]
                if p.frame not in exact and _covered(p, pcs) < p.tcp_len:
                    self.lost.add(p.frame)      # some of its bytes never reached the peer
        # reinjections of each sender, judged at the receiver
        self.reinjection_useful = {}
        first_peer, first_this = first_arrivals(self.peer), first_arrivals(self.this)
        for p in self.this.packets:                 # sent here, received in the peer capture
            if self.sent_here[p.frame] and p.reinjection_of:
                self.reinjection_useful[p.frame] = any(q in first_peer for q in self.pieces.get(p.frame, ()))
        for q in self.peer.packets:                 # sent by the peer, received here
            for f in back.get(q.frame, ()):
                if q.reinjection_of and not self.sent_here[f]:
                    self.reinjection_useful[f] = f in first_this

    def counts(self):
        useful = sum(1 for v in self.reinjection_useful.values() if v)
        return {"packets": len(self.this.packets), "matched": len(self.peer_frame),
                "lost_on_path": len(self.lost), "reinjections": len(self.reinjection_useful),
                "useful": useful, "wasted": len(self.reinjection_useful) - useful,
                "owd_min_ms": min(self.owd.values()) * 1e3 if self.owd else None,
                "owd_max_ms": max(self.owd.values()) * 1e3 if self.owd else None}


def analyze(this_path, peer_path, role):
    return VantageTruth(this_path, peer_path, role)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print(__doc__.split("\n\n")[0])
        print("usage: vantage_truth.py THIS PEER client|server")
        return 2
    print(analyze(*argv).counts())
    return 0


if __name__ == "__main__":
    sys.exit(main())
