"""[stats] Follow MPTCP Stream: tshark -z follow,mptcp,raw|hex|ascii,N against the ground truth.

For every connection and direction of every committed capture with the self-describing payload
(tests/truth.py), the followed stream must be the generated stream, stream_bytes(conn, dir, ...),
in DSN order, each byte once, however it was split over subflows, retransmitted or reinjected:
byte for byte where the capture has the bytes, and a gap record "[N bytes missing in capture
file]" exactly where it does not (v1-fastclose: data the client never received before it reset
the connection, in the middle of the stream). Single pass and -2 print the same. The application
captures (v1-http, v1-tls, when present) are checked against their own truth (<name>.json).
"""
import hashlib
import json
import re
from collections import Counter, defaultdict

import pytest

import truth
from conftest import CAPTURES

CAPS = sorted(p for p in CAPTURES.glob("v1-*.pcap*") if not p.with_suffix(".json").exists())
NO_KEYS = {"v1-midstream.pcap"}
GAP = re.compile(rb"^\[(\d+) bytes missing in capture file\]$")

_truths = {}


def get_truth(path):
    if path not in _truths:
        _truths[path] = truth.analyze(str(path))
    return _truths[path]


def follow(tshark, cap, stream, mode="raw", two_pass=False):
    return tshark.run("-r", cap, "-q", "-z", "follow,mptcp,%s,%d" % (mode, stream), *(["-2"] if two_pass else []))


def parse_raw(out):
    """[(direction, ("data", bytes) | ("gap", n))] in display order, and the header lines."""
    lines = out.split("\n")
    start = [i for i, ln in enumerate(lines) if ln.startswith("Node 1:")][0] + 1
    recs = []
    for ln in lines[start:]:
        if ln.startswith("====="):
            break
        b = bytes.fromhex(ln.strip())
        m = GAP.match(b)
        recs.append((1 if ln.startswith("\t") else 0, ("gap", int(m.group(1))) if m else ("data", b)))
    return recs, lines[:start]


def stream_conn_map(tshark, cap, t):
    """mptcp.stream -> truth connection (majority over data packets)."""
    votes = defaultdict(Counter)
    for frame, s in tshark.fields(cap, ["frame.number", "mptcp.stream"]):
        p = t.by_frame.get(int(frame))
        if s and p is not None and p.conn is not None and p.is_data:
            votes[int(s.split(",")[0])][p.conn] += 1
    return {s: c.most_common(1)[0][0] for s, c in votes.items()}


def captured(t, conn, d):
    """Stream offsets whose bytes the capture holds (any copy)."""
    cov = set()
    for p in t.data_packets:
        if p.conn == conn and p.direction == d and p.dsn is not None:
            cov.update(range(p.dsn - 1, p.dsn - 1 + p.captured_len))
    return cov


def replay(recs, d, start):
    """Offsets covered by data and by gaps when direction d's records start at offset start;
    returns (data offsets, gap offsets, [(offset, bytes)])."""
    pos, data, gaps, chunks = start, set(), set(), []
    for dd, (kind, v) in recs:
        if dd != d:
            continue
        if kind == "gap":
            assert v > 0
            gaps.update(range(pos, pos + v))
            pos += v
        else:
            assert v, "empty data record"
            chunks.append((pos, v))
            data.update(range(pos, pos + len(v)))
            pos += len(v)
    return data, gaps, chunks


@pytest.mark.parametrize("two_pass", [False, True], ids=["1pass", "2pass"])
@pytest.mark.parametrize("cap", [p for p in CAPS if p.name not in NO_KEYS], ids=lambda p: p.name)
def test_follow_equals_generated_stream(tshark, cap, two_pass):
    t = get_truth(cap)
    smap = stream_conn_map(tshark, cap, t)
    assert sorted(smap.values()) == sorted(t.connections)
    for stream, conn in smap.items():
        recs, head = parse_raw(follow(tshark, cap, stream, two_pass=two_pass))
        assert "Filter: mptcp.stream eq %d" % stream in head
        for d in (0, 1):
            total = t.connections[conn].bytes[d]
            cov = captured(t, conn, d)
            data, gaps, chunks = replay(recs, d, 0)        # keys known: the stream starts at IDSN + 1
            where = (cap.name, stream, d)
            for off, b in chunks:
                assert b == truth.stream_bytes(conn, d, off, len(b)), (where, off)
            assert data == cov, where                        # every captured byte, once
            assert not gaps & cov, where                     # gaps only where nothing was captured
            assert max(data | gaps) + 1 <= total, where      # nothing beyond the stream
            if len(cov) == total:
                # complete: the raw output is the generated stream itself
                body = b"".join(v for dd, (k, v) in recs if dd == d)
                assert not gaps and body == truth.stream_bytes(conn, d, 0, total), where
            else:
                assert gaps == set(range(total)) - cov or max(data | gaps) + 1 < total, where


def test_fastclose_gaps_are_the_missing_bytes(tshark):
    """v1-fastclose: 19156 bytes of the server's stream never reached the client's capture
    point: they are gap records, and the rest is the generated stream around them."""
    cap = CAPTURES / "v1-fastclose.pcap"
    t = get_truth(cap)
    recs, _ = parse_raw(follow(tshark, cap, 0))
    total = t.connections[1].bytes[1]
    cov = captured(t, 1, 1)
    data, gaps, _ = replay(recs, 1, 0)
    assert len(gaps) == total - len(cov) == 19156
    assert gaps | data == set(range(total))


@pytest.mark.parametrize("two_pass", [False, True], ids=["1pass", "2pass"])
def test_follow_midstream(tshark, two_pass):
    """No handshake: the stream starts at the lowest DSN the [dsn] analysis could place; the
    directions of an inferred connection may be named the other way round. Every byte shown is
    the generated one at its place; what is missing is only what has no DSN (the first segments
    of a subflow before its ISN is known) or was never captured."""
    cap = CAPTURES / "v1-midstream.pcap"
    t = get_truth(cap)
    smap = stream_conn_map(tshark, cap, t)
    has_dsn = {int(f) for f, dsn in tshark.fields(cap, ["frame.number", "mptcp.dsn"]) if dsn}
    shown = 0
    for stream, conn in smap.items():
        recs, _ = parse_raw(follow(tshark, cap, stream, two_pass=two_pass))
        for d in (0, 1):
            first = next((v for dd, (k, v) in recs if dd == d and k == "data"), None)
            if first is None:
                continue
            (c, tdir, off), = truth.decode_payload(first)
            assert c == conn
            data, gaps, chunks = replay(recs, d, off)
            for o, b in chunks:
                assert b == truth.stream_bytes(conn, tdir, o, len(b))
            placed = set()
            for p in t.data_packets:
                if p.conn == conn and p.direction == tdir and p.frame in has_dsn:
                    placed.update(range(p.dsn - 1, p.dsn - 1 + p.captured_len))
            assert data == {o for o in placed if o >= off}
            assert not gaps & placed
            shown += len(data)
    assert shown > 200000


def test_follow_modes_agree(tshark):
    cap = CAPTURES / "v1-blackhole.pcap"
    raw, _ = parse_raw(follow(tshark, cap, 0, "raw"))
    hexout = follow(tshark, cap, 0, "hex")
    streams = {0: bytearray(), 1: bytearray()}
    for ln in hexout.split("\n"):
        m = re.match(r"^(\t?)([0-9A-F]{8})  ((?:[0-9a-f]{2} {1,2})+)", ln)
        if m:
            streams[1 if m.group(1) else 0] += bytes.fromhex(m.group(3).replace(" ", ""))
    for d in (0, 1):
        assert bytes(streams[d]) == b"".join(v for dd, (k, v) in raw if dd == d)
    ascii_out = follow(tshark, cap, 0, "ascii")
    assert "Follow: mptcp,ascii" in ascii_out and "MP" in ascii_out
    yaml_out = follow(tshark, cap, 0, "yaml")
    assert yaml_out.count("  - packet: ") == len(raw)


@pytest.mark.parametrize("cap", CAPS, ids=[p.name for p in CAPS])
def test_follow_single_pass_equals_two_pass(tshark, cap):
    assert follow(tshark, cap, 0) == follow(tshark, cap, 0, two_pass=True)


def test_follow_header_and_nodes(tshark):
    out = follow(tshark, CAPTURES / "v1-ipv6.pcapng", 0, "raw")
    assert "Node 0: [fd31:0:0:1::1]:" in out and "Node 1: [fd31:0:0:1::2]:5201" in out
    out = follow(tshark, CAPTURES / "v1-2conn.pcap", 1, "raw")
    assert "Filter: mptcp.stream eq 1" in out and "Node 1: 10.31.1.2:5201" in out


# {{{ application captures ([reassembly]): their own truth
def _http_bodies(stream):
    bodies, pos = [], 0
    while True:
        i = stream.find(b"\r\n\r\n", pos)
        if i < 0:
            return bodies
        head = stream[pos:i].decode("latin-1")
        m = re.search(r"(?im)^content-length:\s*(\d+)", head)
        assert head.startswith("HTTP/1.") and m, head[:200]
        n = int(m.group(1))
        bodies.append(stream[i + 4:i + 4 + n])
        pos = i + 4 + n


def test_follow_http_capture(tshark):
    cap = CAPTURES / "v1-http.pcap"
    if not cap.exists() or not cap.with_suffix(".json").exists():
        pytest.skip("v1-http.pcap not present")
    want = json.loads(cap.with_suffix(".json").read_text())
    recs, _ = parse_raw(follow(tshark, cap, 0))
    assert not any(k == "gap" for _d, (k, _v) in recs)
    up = b"".join(v for d, (k, v) in recs if d == 0)
    down = b"".join(v for d, (k, v) in recs if d == 1)
    assert [r.decode() for r in re.findall(rb"GET (\S+) HTTP", up)] == want["requests"]
    bodies = _http_bodies(down)
    assert [(len(b), hashlib.sha256(b).hexdigest()) for b in bodies] == \
        [(f["size"], f["sha256"]) for f in want["files"]]


def test_follow_tls_capture(tshark):
    """TLS: the followed streams are exact sequences of TLS records (any misplaced, missing or
    duplicated byte breaks the record framing)."""
    cap = CAPTURES / "v1-tls.pcap"
    if not cap.exists() or not cap.with_suffix(".json").exists():
        pytest.skip("v1-tls.pcap not present")
    want = json.loads(cap.with_suffix(".json").read_text())
    n = 0
    for stream in range(len(want["files"])):
        recs, _ = parse_raw(follow(tshark, cap, stream))
        assert not any(k == "gap" for _d, (k, _v) in recs)
        for d in (0, 1):
            s = b"".join(v for dd, (k, v) in recs if dd == d)
            pos = 0
            while pos < len(s):
                assert s[pos] in (20, 21, 22, 23) and s[pos + 1] == 3, (stream, d, pos)
                pos += 5 + int.from_bytes(s[pos + 3:pos + 5], "big")
                n += 1
            assert pos == len(s) and s
    assert n > 0
# }}}
