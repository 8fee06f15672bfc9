#!/usr/bin/env python3
"""Synthetic MPTCP v1 captures for the scaling part of the benchmark ([perf] issue).

    bench/synth.py conns OUT.pcap [--conns N] [--segments K]
    bench/synth.py http OUT.pcap [--requests R] [--body B]

"conns": N MPTCP connections (distinct keys and 4-tuples), each with an MP_CAPABLE handshake,
one MP_JOIN subflow (token of the server's key) and K data segments per direction spread over
both subflows with 64-bit DSS mappings and DATA_ACKs, every 8th client segment reinjected on
the other subflow. The connections are interleaved round-robin, so all N are live at once:
per-packet cost must not grow with the number of live connections.
"http": one MPTCP connection (port 80, two subflows) carrying R HTTP/1.1 request/response
exchanges; each response (a header and a B-byte body, Content-Length) is split into 1,400-byte
segments that alternate between the subflows, and every pair is captured in swapped order, so
half of the bytes arrive before the bytes that precede them in the data sequence space and have
to wait: the reassembly-memory measurement (data-level reassembly with an active application
dissector; bytes must be freed once delivered).
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


def http(requests, body):
    """Frames of one MPTCP connection with `requests` HTTP exchanges of `body`-byte responses."""
    kc, ks = _key(0, 0), _key(0, 1)
    m = F.Conversation(client=("10.1.0.1", 40000), server=("10.2.0.1", 80), isn_c=1000, isn_s=50000)
    j = F.Conversation(client=("10.1.1.1", 40001), server=("10.2.0.1", 80), isn_c=7000, isn_s=90000)
    out = [m.syn(F.mp_capable(1, 0x81)), m.synack(F.mp_capable(1, 0x81, sendkey=ks)),
           m.ack(F.mp_capable(1, 0x81, sendkey=kc, recvkey=ks)),
           j.syn(F.mp_join_syn(1, token=F.token_idsn(ks, 1)[0])), j.synack(F.mp_join_synack(1)),
           j.ack(F.mp_join_ack())]
    dsn = [F.token_idsn(kc, 1)[1] + 1, F.token_idsn(ks, 1)[1] + 1]    # next DSN per direction
    ssn = {id(m): [1, 1], id(j): [1, 1]}
    sfs = [m, j]

    def send(sf, side, data, ack):
        d = dsn[side]
        opt = F.dss(ack=ack & (2**64 - 1), ack8=True, dsn=d & (2**64 - 1), dsn8=True, ssn=ssn[id(sf)][side],
                    dll=len(data))
        ssn[id(sf)][side] += len(data)
        dsn[side] += len(data)
        return sf.send(side == 0, data, opt)

    chunk = bytes(range(32, 127)) * (body // 95 + 1)
    for r in range(requests):
        out.append(send(m, 0, f"GET /obj{r} HTTP/1.1\r\nHost: bench\r\n\r\n".encode(), dsn[1]))
        resp = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body}\r\n\r\n".encode() + \
            chunk[:body]
        segs = []
        for n, off in enumerate(range(0, len(resp), 1400)):
            segs.append(send(sfs[n % 2], 1, resp[off:off + 1400], dsn[0]))
        for n in range(0, len(segs) - 1, 2):       # captured in swapped order: the later DSN first
            segs[n], segs[n + 1] = segs[n + 1], segs[n]
        out.extend(segs)
        out.append(m.ack(F.dss(ack=dsn[1] & (2**64 - 1), ack8=True)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["conns", "http"])
    ap.add_argument("out", type=Path)
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--body", type=int, default=65536)
    a = ap.parse_args()
    if a.kind == "http":
        out = http(a.requests, a.body)
        F.write_pcap(a.out, out)
        print(f"{a.out}: {a.requests} HTTP exchanges of {a.body} bytes, {len(out)} packets")
        return
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
