#!/usr/bin/env python3
"""Synthetic MPTCP v1 captures for the scaling part of the benchmark ([perf] issue).

    bench/synth.py conns OUT.pcap [--conns N] [--segments K]

"conns": N MPTCP connections (distinct keys and 4-tuples), each with an MP_CAPABLE handshake,
one MP_JOIN subflow (token of the server's key) and K data segments per direction spread over
both subflows with 64-bit DSS mappings and DATA_ACKs, every 8th client segment reinjected on
the other subflow. The connections are interleaved round-robin, so all N are live at once:
per-packet cost must not grow with the number of live connections.
(The JOIN flood is the external capture dpi-mptcp/flood.pcap: 10,000 MP_JOIN SYNs with one
unknown token; bench/bench.py --scale uses it when present.)
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import hashlib
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import frames as F  # noqa: E402

SEG = 1000


def _key(i, side):
    return int.from_bytes(hashlib.sha256(struct.pack("!IB", i, side)).digest()[:8], "big") | 1


def connection(i, k):
    """The frames of connection i, as a list of per-step frame lists (for interleaving)."""
    kc, ks = _key(i, 0), _key(i, 1)
    a, b = 10 + (i >> 16) % 200, (i >> 8) % 256
    cli1, cli2 = f"10.{a}.{b}.{i % 256}", f"11.{a}.{b}.{i % 256}"
    srv = "10.255.0.1"
    port = 20000 + i % 40000
    m = F.Conversation(client=(cli1, port), server=(srv, 33333), isn_c=1000 + i, isn_s=50000 + i)
    j = F.Conversation(client=(cli2, port + 1), server=(srv, 33333), isn_c=7000 + i, isn_s=90000 + i)
    steps = [[m.syn(F.mp_capable(1, 0x81)), m.synack(F.mp_capable(1, 0x81, sendkey=ks)),
              m.ack(F.mp_capable(1, 0x81, sendkey=kc, recvkey=ks))],
             [j.syn(F.mp_join_syn(1, token=F.token_idsn(ks, 1)[0])), j.synack(F.mp_join_synack(1)),
              j.ack(F.mp_join_ack())]]
    idsn_c, idsn_s = F.token_idsn(kc, 1)[1], F.token_idsn(ks, 1)[1]
    ssn = {id(m): [1, 1], id(j): [1, 1]}
    for n in range(k):
        step = []
        for side in (0, 1):
            sf = m if n % 2 == 0 else j
            dsn = ((idsn_c if side == 0 else idsn_s) + 1 + n * SEG) & (2**64 - 1)
            peer_ack = ((idsn_s if side == 0 else idsn_c) + 1 + n * SEG) & (2**64 - 1)
            s = ssn[id(sf)][side]
            opt = F.dss(ack=peer_ack, ack8=True, dsn=dsn, dsn8=True, ssn=s, dll=SEG)
            step.append(sf.send(side == 0, bytes([65 + n % 26]) * SEG, opt))
            ssn[id(sf)][side] += SEG
            if side == 0 and n % 8 == 7:          # reinjection of the same data on the other subflow
                other = j if sf is m else m
                s2 = ssn[id(other)][0]
                step.append(other.send(True, bytes([65 + n % 26]) * SEG,
                                       F.dss(ack=peer_ack, ack8=True, dsn=dsn, dsn8=True, ssn=s2, dll=SEG)))
                ssn[id(other)][0] += SEG
        steps.append(step)
    return steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["conns"])
    ap.add_argument("out", type=Path)
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--segments", type=int, default=10)
    a = ap.parse_args()
    conns = [connection(i, a.segments) for i in range(a.conns)]
    out = []
    for s in range(max(len(c) for c in conns)):
        for c in conns:
            if s < len(c):
                out.extend(c[s])
    F.write_pcap(a.out, out)
    print(f"{a.out}: {a.conns} connections, {len(out)} packets")


if __name__ == "__main__":
    main()
