#!/usr/bin/env python3
"""Ground truth for the data-level order analysis ([dataorder], issue 20), plugin-independent.

Everything here comes from tests/truth.py's packets: the DSN of every data packet from the
self-describing payload, the relative DATA_ACKs from the DSS options parsed there (raw ack minus
the IDSN of the captured keys), the TCP window field and window-scale options from the TCP
header, and the capture's timestamps. No dissector is involved.

    import dataorder_truth as DT
    r = DT.analyze("captures/v1-hol-client.pcap")    # -> Result
    r.frames[frame]   # dict with some of: flight, data_window, window_full, zero_window,
                      # hol_wait (seconds, float), spurious (reinjection already DATA_ACKed)

Semantics (per MPTCP connection and direction; "relative DSN" = truth.py's dsn, the DSN of the
first payload byte, 1 for the first byte of the stream; a packet's end = dsn + tcp_len;
DATA_ACKs are relative the same way: the next DSN the peer expects):

* Frame order is capture order; "so far" means in this frame or an earlier one.
* Valid DATA_ACK: a DSS with the A flag on a packet of the peer direction. It counts (becomes
  "the highest DATA_ACK so far") only if it does not acknowledge data never seen: ack <= the
  highest end sent so far + 1 (the + 1 is the DATA_FIN's data sequence number, RFC 8684
  section 3.3.3). The highest end starts at relative DSN 1 (nothing sent) when the connection's
  keys are in the capture; without them (a capture that starts mid-connection) a direction has
  no end until its first data packet, so DATA_ACKs before it do not count. A DATA_ACK lower than
  the highest so far changes nothing.
* flight (data packets): highest end sent so far (this packet included) minus the highest valid
  DATA_ACK captured before this packet; max(0, ...) (the DATA_FIN's extra 1); absent while the
  peer has no valid DATA_ACK.
* data_window (packets whose DSS carries a DATA_ACK, RFC 8684 section 3.3.5): the TCP window
  field shifted by the window scale of the packet's sender on that subflow. The shift is known
  only when both the SYN and the SYN/ACK of the subflow are in the capture: the sender's own
  wscale option (capped at 14, RFC 7323 section 2.3) if both carried one, else 0 (scaling off).
  Unknown shift: absent. SYN packets (window never scaled) carry no DATA_ACK anyway.
* right edge (per data direction): the highest (valid DATA_ACK + data_window) over the peer's
  packets so far that have both (a DATA_ACK that does not count gives no edge).
* window_full (data packets): the packet's end reaches the right edge known before it
  (end >= edge): the sender used all of the receive window the peer had advertised (on a
  receiver-side capture: the edge as advertised up to then).
* zero_window: a packet carrying a DATA_ACK whose TCP window field is 0 (zero whatever the scale,
  so also without the SYNs), except SYN, FIN and RST segments (as Wireshark's TCP analysis).
* hol_wait (data packets): per direction, the "complete point" C = the DSN up to which every
  byte has been captured (starting at relative DSN 1 with keys, else at the first data packet's
  DSN). A packet whose first byte is above C when it is captured is ahead of a gap; its hol_wait
  is the time from its capture to the capture of the packet that makes C reach its first byte.
  Absent for packets at or below C (in order, or copies of complete bytes) and when the gap never
  closes in the capture. On a sender-side capture this is the scheduler's interleaving.
* spurious (reinjections, truth.py's reinjection_of not empty): the highest valid DATA_ACK
  captured before the packet is >= its end (all its bytes were already acknowledged).
* Statistics per connection and direction (stats()): max and median (lower median) flight over
  the data packets with a flight, window-limited time (from each window-full packet to the next
  peer packet whose right edge is beyond the highest end sent, summed without overlap; a
  window-full period not closed in the capture counts to the direction's last packet), the
  zero-window count, packets ahead of a gap (hol_wait present), hol_wait P50/P99 (nearest rank),
  max and total, spurious reinjections (packets, bytes).
"""
import math
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

TCPOPT_WSCALE = 3


def _wscale(p):
    for kind, raw in p.options:
        if kind == TCPOPT_WSCALE and len(raw) >= 3:
            return min(raw[2], 14)
    return None


def subflow_shifts(t):
    """{(subflow key, (src ip, src port)): shift} for subflows whose SYN and SYN/ACK were captured."""
    out = {}
    for key, sf in t.subflows.items():
        syn = next((p for p in sf.packets if p.syn and not p.ack_flag), None)
        synack = next((p for p in sf.packets if p.syn and p.ack_flag), None)
        if syn is None or synack is None:
            continue
        a, b = _wscale(syn), _wscale(synack)
        both = a is not None and b is not None
        out[(key, (syn.src, syn.sport))] = a if both else 0
        out[(key, (synack.src, synack.sport))] = b if both else 0
    return out


def borrow_keys(t, donor):
    """Relative DATA_ACKs for a capture cut from `donor` (a truth.Truth of the full capture): the
    IDSNs of the donor's connections (matched by connection number and a common subflow) give the
    cut's DATA_ACKs. Returns the set of connections whose keys were borrowed (not in `t`)."""
    borrowed = set()
    for cn, c in t.connections.items():
        if c.idsn:
            continue
        d = donor.connections.get(cn)
        if d is None or not d.idsn or not set(c.subflows) & set(d.subflows):
            continue
        c.idsn = dict(d.idsn)
        borrowed.add(cn)
    for p in t.packets:
        o = p.option(2)
        if (p.data_ack is not None or o is None or o.dss is None or "data_ack" not in o.dss
                or p.conn not in borrowed or p.direction is None):
            continue
        idsn = t.connections[p.conn].idsn.get(1 - p.direction)
        if idsn is None:
            continue
        p.data_ack = (o.dss["data_ack"] - idsn) % (2 ** 64 if o.dss["a"] else 2 ** 32)
    return borrowed


class _Dir:
    def __init__(self, keyed):
        self.max_end = 1 if keyed else None     # highest end sent so far
        self.ack = None                          # highest valid DATA_ACK of the peer
        self.edge = None                         # right edge
        self.complete = 1 if keyed else None     # complete point C
        self.have = []                           # captured intervals above C, sorted [s, e)
        self.pending = []                        # (first DSN, frame, ts) ahead of a gap


def _absorb(d, s, e):
    """Adds [s, e) to the captured bytes and advances the complete point."""
    if e <= d.complete:
        return
    d.have.append((max(s, d.complete), e))
    d.have.sort()
    rest = []
    for a, b in d.have:
        if a <= d.complete:
            d.complete = max(d.complete, b)
        else:
            rest.append((a, b))
    d.have = rest


class Result:
    def __init__(self, t):
        self.truth = t
        self.frames = defaultdict(dict)
        self.keyed = {}                          # conn -> keys captured in this capture

    def values(self, name):
        """{frame: value} of one result."""
        return {f: v[name] for f, v in self.frames.items() if name in v}

    def stats(self):
        """{(conn, direction): dict of statistics} (see the module docstring)."""
        t = self.truth
        out = {}
        for cn in sorted(t.connections):
            for dr in (0, 1):
                data = [p for p in t.packets if p.conn == cn and p.direction == dr and p.dsn is not None]
                fl = sorted(self.frames[p.frame]["flight"] for p in data if "flight" in self.frames[p.frame])
                hol = sorted(self.frames[p.frame]["hol_wait"] for p in data if "hol_wait" in self.frames[p.frame])
                sp = [p for p in data if self.frames[p.frame].get("spurious")]
                zw = [p for p in t.packets if p.conn == cn and p.direction == 1 - dr
                      and self.frames[p.frame].get("zero_window")]
                out[(cn, dr)] = {
                    "flight_max": fl[-1] if fl else None,
                    "flight_median": fl[(len(fl) - 1) // 2] if fl else None,
                    "window_limited": self._window_limited(cn, dr),
                    "zero_windows": len(zw),
                    "ahead_of_gap": len(hol),
                    "hol_p50": _rank(hol, 50), "hol_p99": _rank(hol, 99),
                    "hol_max": hol[-1] if hol else None, "hol_total": sum(hol),
                    "spurious_packets": len(sp), "spurious_bytes": sum(p.tcp_len for p in sp),
                }
        return out

    def _window_limited(self, cn, dr):
        t = self.truth
        total, start, last = 0.0, None, None
        for p in t.packets:
            if p.conn != cn:
                continue
            r = self.frames.get(p.frame, {})
            if p.direction == dr and r.get("window_full") and start is None:
                start = p.ts
            elif p.direction == 1 - dr and start is not None and r.get("opens_window_%d" % dr):
                total += p.ts - start
                start = None
            if p.direction == dr:
                last = p.ts
        if start is not None and last is not None:
            total += max(0.0, last - start)
        return total


def _rank(v, pct):
    if not v:
        return None
    return v[max(0, math.ceil(pct / 100.0 * len(v)) - 1)]


def analyze(path, donor=None, placed=None):
    """Result of a capture; `donor`: path of the full capture a cut was made from (borrow_keys);
    `placed`: if not None, the frames whose data can be placed in the data stream at all (a
    capture without the handshake: a subflow's first segments have no DSN for any analyser
    until a mapping pins its sequence numbers down); the other data packets are left out."""
    t = truth.analyze(path)
    borrowed = borrow_keys(t, truth.analyze(donor)) if donor else set()
    r = Result(t)
    shifts = subflow_shifts(t)
    dirs = {}
    for cn, c in t.connections.items():
        keyed = bool(c.idsn) and cn not in borrowed
        r.keyed[cn] = keyed
        dirs[(cn, 0)], dirs[(cn, 1)] = _Dir(keyed), _Dir(keyed)
    for p in t.packets:
        res = r.frames[p.frame]
        o = p.option(2)
        has_ack = o is not None and o.dss is not None and "data_ack" in o.dss
        # the window on a packet carrying a DATA_ACK (RFC 8684 section 3.3.5)
        wnd = None
        if has_ack:
            sh = shifts.get((p.subflow, (p.src, p.sport)))
            if sh is not None:
                wnd = p.window << sh
                res["data_window"] = wnd
            if p.window == 0 and not (p.syn or p.fin or p.rst):
                res["zero_window"] = True
        if p.conn is None or p.direction is None:
            continue
        # the DATA_ACK acknowledges the peer's direction
        if has_ack and p.data_ack is not None:
            d = dirs[(p.conn, 1 - p.direction)]
            if d.max_end is not None and p.data_ack <= d.max_end + 1:
                if d.ack is None or p.data_ack > d.ack:
                    d.ack = p.data_ack
                if wnd is not None:
                    edge = p.data_ack + wnd
                    if d.edge is None or edge > d.edge:
                        d.edge = edge
                    if d.edge > d.max_end:
                        res["opens_window_%d" % (1 - p.direction)] = True
        if p.dsn is None or p.tcp_len == 0 or (placed is not None and p.frame not in placed):
            continue
        d = dirs[(p.conn, p.direction)]
        s, e = p.dsn, p.dsn + p.tcp_len
        if d.edge is not None and e >= d.edge:
            res["window_full"] = True
        reinj = [f for f in p.reinjection_of if placed is None or f in placed]
        if reinj and d.ack is not None and d.ack >= e:
            res["spurious"] = True
        d.max_end = e if d.max_end is None else max(d.max_end, e)
        if d.ack is not None:
            res["flight"] = max(0, d.max_end - d.ack)
        if d.complete is None:
            d.complete = s
        if s > d.complete:
            d.pending.append((s, p.frame, p.ts))
        _absorb(d, s, e)
        if d.pending:
            keep = []
            for ps, pf, pts in d.pending:
                if ps <= d.complete:
                    r.frames[pf]["hol_wait"] = p.ts - pts
                    r.frames[pf]["hol_closed_by"] = p.frame
                else:
                    keep.append((ps, pf, pts))
            d.pending = keep
    return r


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--donor")
    ap.add_argument("--packets", action="store_true")
    a = ap.parse_args(argv)
    r = analyze(a.capture, a.donor)
    for k, v in r.stats().items():
        print(k, v)
    if a.packets:
        for f in sorted(r.frames):
            if r.frames[f]:
                print(f, r.frames[f])


if __name__ == "__main__":
    main()
