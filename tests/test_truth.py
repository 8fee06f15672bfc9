"""Self-checks of the ground truth (tests/truth.py) on the committed captures (no tshark needed).

* every data packet of every committed capture is resolved (connection, direction, DSN) and
  every subflow is mapped to a connection (except where a cut makes that impossible);
* the truth agrees with the DSS mappings carried in the packets (an independent check of both);
* each connection's streams are covered completely, with the sizes the generator sent;
* client and server copies of the pair agree; derived cuts agree with their parents;
* the reader gives the same truth for every supported link type and file format;
* truthcmp.compare scores a perfect answer 100 % and a wrong grouping/DSN below.

MPTCP_TRUTH_CAPTURES=DIR runs the same checks on a regenerated set (captures/gen/generate.sh -o DIR).
"""
import os
import random
import struct
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
# MPTCP_TRUTH_CAPTURES: check a freshly regenerated set (generate.sh -o DIR) instead of captures/
CAPTURES = Path(os.environ.get("MPTCP_TRUTH_CAPTURES", REPO / "captures"))
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(REPO / "captures" / "gen"))

import truth  # noqa: E402
import truthcmp  # noqa: E402

# capture -> {conn: (bytes client->server, bytes server->client or None if not complete)}
EXPECTED = {
    "v1-3sub.pcap": {1: (300000, 200000)},
    "v1-2conn.pcap": {1: (200000, 150000), 2: (160000, 120000)},
    "v1-loss.pcap": {1: (300000, 300000)},
    "v1-blackhole.pcap": {1: (400000, 300000)},
    "v1-4sub.pcap": {1: (300000, 150000)},
    "v1-mpc-data.pcap": {1: (5000, 3000)},
    "v1-csum.pcap": {1: (200000, 200000)},
    "v1-prio.pcap": {1: (400000, 200000)},
    "v1-fastclose.pcap": {1: (50000, None)},
    "v1-ipv6.pcapng": {1: (250000, 200000)},
    "v1-pair-client.pcap": {1: (250000, 200000)},
    "v1-pair-server.pcap": {1: (250000, 200000)},
    "v1-vantage-client.pcap": {1: (300000, 300000)},
    "v1-vantage-server.pcap": {1: (300000, 300000)},
    "v1-vantage-tso-client.pcap": {1: (300000, 300000)},
    "v1-vantage-tso-server.pcap": {1: (300000, 300000)},
    "v1-nosynack.pcap": {1: (300000, 200000)},
    "v1-midstream.pcap": None,      # cut: no complete stream
    "v1-slowread.pcap": {1: (3000, 150000)},
    "v1-hol-client.pcap": {1: (20000, 200000)},
    "v1-hol-server.pcap": {1: (20000, 200000)},
}
SUBFLOWS = {"v1-3sub.pcap": 3, "v1-2conn.pcap": 6, "v1-loss.pcap": 3, "v1-blackhole.pcap": 3,
            "v1-4sub.pcap": 4, "v1-mpc-data.pcap": 1, "v1-csum.pcap": 3, "v1-prio.pcap": 3,
            "v1-fastclose.pcap": 3, "v1-ipv6.pcapng": 3, "v1-pair-client.pcap": 3, "v1-pair-server.pcap": 3,
            "v1-nosynack.pcap": 3, "v1-slowread.pcap": 2, "v1-hol-client.pcap": 2, "v1-hol-server.pcap": 2,
            "v1-vantage-client.pcap": 3, "v1-vantage-server.pcap": 3,
            "v1-vantage-tso-client.pcap": 3, "v1-vantage-tso-server.pcap": 3}
ALL = sorted(EXPECTED)

_cache = {}


def T(name):
    if name not in _cache:
        _cache[name] = truth.analyze(str(CAPTURES / name))
    return _cache[name]


def test_capture_list_complete():
    # captures of real applications (v1-http, v1-tls) have their own truth, <name>.json
    # (tests/test_reassembly.py), instead of the self-describing payload
    on_disk = sorted(p.name for p in CAPTURES.iterdir()
                     if p.suffix in (".pcap", ".pcapng") and not p.with_suffix(".json").exists())
    assert on_disk == ALL


def test_capture_sizes():
    total = 0
    for name in ALL:
        size = (CAPTURES / name).stat().st_size
        assert size < 2 * 1024 * 1024, name
        total += size
    assert total < 15 * 1024 * 1024


@pytest.mark.parametrize("name", ALL)
def test_every_data_packet_resolved(name):
    t = T(name)
    assert t.data_packets, name
    assert not t.unresolved, t.unresolved[:5]
    assert not t.conflicts
    for p in t.data_packets:
        assert p.conn is not None and p.direction in (0, 1) and p.dsn >= 1, p
        assert p.subflow is not None
        # direction agrees with the subflow orientation where the SYN was seen
        sf = t.subflows[p.subflow]
        if sf.syn_frame is not None and not sf.join or sf.initial:
            if sf.syn_frame is not None:
                assert p.direction == (0 if (p.src, p.sport) == (sf.key.client_ip, sf.key.client_port) else 1)


@pytest.mark.parametrize("name", [n for n in ALL if n != "v1-midstream.pcap"])
def test_subflows_mapped(name):
    t = T(name)
    assert len(t.subflows) == SUBFLOWS[name]
    assert all(sf.conn is not None for sf in t.subflows.values()), t.subflows
    assert all(p.conn is not None and p.direction is not None for p in t.packets)
    assert set(t.connections) == set(EXPECTED[name])
    for c in t.connections.values():
        assert set(c.keys) == {0, 1}, "both MP_CAPABLE keys captured"


@pytest.mark.parametrize("name", [n for n in ALL if EXPECTED[n]])
def test_streams_complete(name):
    t = T(name)
    for conn, sizes in EXPECTED[name].items():
        for d, size in enumerate(sizes):
            if size is None:
                continue
            iv = sorted((p.dsn, p.dsn + p.tcp_len) for p in t.data_packets
                        if p.conn == conn and p.direction == d)
            end = 1
            for s, e in iv:
                assert s <= end, "hole at DSN %d in conn %d dir %d" % (end, conn, d)
                end = max(end, e)
            assert end == size + 1, (conn, d, end)


@pytest.mark.parametrize("name", [n for n in ALL if n != "v1-midstream.pcap"])
def test_truth_matches_dss_mappings(name):
    """The payload-derived 64-bit DSN equals the DSS mapping of the same packet (RFC 8684)."""
    t = T(name)
    checked = 0
    for p in t.data_packets:
        o = p.option(2)
        sf = t.subflows[p.subflow]
        isn = sf.isn.get((p.src, p.sport))
        mpc = p.option(0)
        if mpc is not None and mpc.length >= 22 and isn is not None and p.raw_dsn is not None:
            # MP_CAPABLE + data: implicit mapping SSN 1 -> IDSN + 1 of the sender, DLL bytes
            dll = struct.unpack("!H", mpc.raw[20:22])[0]
            rel = (p.seq - isn) % 2 ** 32
            assert 1 <= rel < 1 + dll
            assert (t.connections[p.conn].idsn[p.direction] + rel) % 2 ** 64 == p.raw_dsn
            checked += 1
            continue
        if o is None or o.dss is None or "ssn" not in o.dss or isn is None or p.raw_dsn is None:
            continue
        d = o.dss
        rel = (p.seq - isn) % 2 ** 32
        if not d["ssn"] <= rel < d["ssn"] + d["dll"]:
            continue
        exp = d["dsn"] + rel - d["ssn"]
        got = p.raw_dsn if d["dsn_len"] == 8 else p.raw_dsn % 2 ** 32
        assert exp % 2 ** 64 == got, p
        checked += 1
    assert checked > 0.8 * len(t.data_packets) or name == "v1-nosynack.pcap"


@pytest.mark.parametrize("name", [n for n in ALL if n != "v1-midstream.pcap"])
def test_data_acks_plausible(name):
    """Relative Data ACKs stay within [1, bytes + 2] of the acknowledged direction (+1 DATA_FIN)."""
    t = T(name)
    acks = [p for p in t.packets if p.data_ack is not None]
    assert acks
    for p in acks:
        c = t.connections[p.conn]
        assert 1 <= p.data_ack <= c.bytes[1 - p.direction] + 2, p


def _options(name):
    return {(o.name, o.length) for p in T(name).packets for o in p.mptcp}


def test_scenario_features():
    assert ("MP_CAPABLE", 22) in _options("v1-mpc-data.pcap")
    csum = _options("v1-csum.pcap")
    assert ("DSS", 28) in csum or ("DSS", 24) in csum
    assert ("DSS", 26) not in csum
    assert any(n == "MP_PRIO" for n, _ in _options("v1-prio.pcap"))
    fc = _options("v1-fastclose.pcap")
    assert any(n == "MP_FASTCLOSE" for n, _ in fc) and any(n == "MP_TCPRST" for n, _ in fc)
    assert all(":" in p.src for p in T("v1-ipv6.pcapng").packets)
    assert len(T("v1-blackhole.pcap").reinjections) >= 20
    assert len(T("v1-4sub.pcap").reinjections) >= 10
    assert sum(p.retransmission for p in T("v1-loss.pcap").packets) >= 3
    for name in ALL:
        if name not in ("v1-midstream.pcap",):
            # (two paths, no server 'signal' endpoint: the [dataorder] captures)
            assert ("ADD_ADDR", 8) in _options(name) or ("ADD_ADDR", 20) in _options(name) \
                or name in ("v1-mpc-data.pcap", "v1-slowread.pcap", "v1-hol-client.pcap", "v1-hol-server.pcap")
    nosyn = T("v1-nosynack.pcap")
    assert not any(p.syn and p.ack_flag and p.mptcp_capable for p in nosyn.packets)
    mid = T("v1-midstream.pcap")
    assert not any(p.syn for p in mid.packets)
    assert len(mid.connections) == 2


def _reinjection_consistency(t):
    for p in t.packets:
        for f in p.reinjection_of:
            q = t.by_frame[f]
            assert f < p.frame and q.subflow != p.subflow and q.conn == p.conn
            assert q.direction == p.direction and p.frame in q.reinjected_in


@pytest.mark.parametrize("name", ALL)
def test_reinjection_lists_symmetric(name):
    _reinjection_consistency(T(name))


def _seg_key(p):
    return (p.src, p.sport, p.dst, p.dport, p.seq, p.tcp_len)


def test_pair_client_server_agree():
    c, s = T("v1-pair-client.pcap"), T("v1-pair-server.pcap")
    cm = {_seg_key(p): p for p in c.data_packets}
    sm = {_seg_key(p): p for p in s.data_packets}
    common = set(cm) & set(sm)
    assert len(common) >= 0.95 * max(len(cm), len(sm))
    for k in common:
        a, b = cm[k], sm[k]
        assert (a.dsn, a.conn, a.direction) == (b.dsn, b.conn, b.direction), k
    # same subflows and the same keys/tokens on both sides
    assert set(c.subflows) == set(s.subflows)
    assert c.connections[1].tokens == s.connections[1].tokens


def _match_parent(child, parent):
    idx = {(round(p.ts, 6), _seg_key(p), p.flags): p for p in parent.packets}
    out = []
    for p in child.packets:
        q = idx.get((round(p.ts, 6), _seg_key(p), p.flags))
        assert q is not None, p
        out.append((p, q))
    return out


def test_midstream_consistent_with_parent():
    pairs = _match_parent(T("v1-midstream.pcap"), T("v1-2conn.pcap"))
    offset = {q.frame - p.frame for p, q in pairs}
    assert len(offset) == 1 and offset.pop() > 0
    for p, q in pairs:
        if p.is_data:
            assert (p.dsn, p.conn, p.direction) == (q.dsn, q.conn, q.direction)
        if p.conn is not None:
            assert p.conn == q.conn
        # a reinjection in the cut is one in the parent too (the parent may know more)
        assert set(p.reinjection_of) <= {f - (q.frame - p.frame) for f in q.reinjection_of}


def test_nosynack_consistent_with_parent():
    child, parent = T("v1-nosynack.pcap"), T("v1-3sub.pcap")
    pairs = _match_parent(child, parent)
    assert len(pairs) == len(parent.packets) - 1
    missing = set(p.frame for p in parent.packets) - {q.frame for _, q in pairs}
    (m,) = missing
    assert parent.by_frame[m].syn and parent.by_frame[m].ack_flag and parent.by_frame[m].mptcp_capable
    for p, q in pairs:
        assert (p.dsn, p.conn, p.direction, p.reinjection) == (q.dsn, q.conn, q.direction, q.reinjection)


# ------------------------------------------------------------------ payload encoding
def test_traffic_and_truth_encode_identically():
    import traffic
    for conn, d, off, n in [(1, 0, 0, 64), (2, 1, 13, 100), (255, 1, 8 * (1 << 30) + 5, 40)]:
        assert traffic.stream_bytes(conn, d, off, n) == truth.stream_bytes(conn, d, off, n)


def test_any_16_bytes_decode_uniquely():
    rnd = random.Random(4)
    for _ in range(300):
        conn, d, off = rnd.randrange(256), rnd.randrange(2), rnd.randrange(10 ** 9)
        b = truth.stream_bytes(conn, d, off, 16)
        assert truth.decode_payload(b) == {(conn, d, off)}
    assert truth.decode_payload(b"\x00" * 32) == set()


def test_token_and_idsn():
    # RFC 8684 v1: token = SHA-256(key)[0:4], IDSN = SHA-256(key)[24:32]
    import hashlib
    key = 0x0123456789ABCDEF
    h = hashlib.sha256(struct.pack("!Q", key)).digest()
    assert truth.key_token_idsn(key, 1) == (int.from_bytes(h[:4], "big"), int.from_bytes(h[-8:], "big"))
    h0 = hashlib.sha1(struct.pack("!Q", key)).digest()
    assert truth.key_token_idsn(key, 0)[0] == int.from_bytes(h0[:4], "big")


# ------------------------------------------------------------------ link types and formats
def _ip_packets(name):
    out = []
    for _f, lt, ts, data, orig in truth.read_frames(str(CAPTURES / name)):
        off, ver = truth._l3_offset(lt, data)
        out.append((ts, data[off:], orig - off, ver))
    return out


def _write_pcap(path, linktype, frames, endian="<", nano=False):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    with open(path, "wb") as f:
        f.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for ts, data, orig in frames:
            sec = int(ts)
            frac = int(round((ts - sec) * (1e9 if nano else 1e6)))
            f.write(struct.pack(endian + "IIII", sec, frac, len(data), orig))
            f.write(data)


def _write_pcapng(path, linktype, frames, endian="<"):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)
    with open(path, "wb") as f:
        shb = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
        f.write(block(0x0A0D0D0A, shb))
        idb = struct.pack(endian + "HHI", linktype, 0, 0) + struct.pack(endian + "HHB3x", 9, 1, 9) + b"\0" * 4
        f.write(block(1, idb))
        for ts, data, orig in frames:
            t = int(round(ts * 1e9))
            f.write(block(6, struct.pack(endian + "IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(data), orig) + data))


def _l2(kind, ver, ip):
    et = b"\x08\x00" if ver == 4 else b"\x86\xdd"
    if kind == "eth":
        return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + et + ip
    if kind == "vlan":
        return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x81\x00\x00\x05" + et + ip
    if kind == "sll":
        return b"\x00\x04\x00\x01\x00\x06" + b"\x02\0\0\0\0\x01\0\0" + et + ip
    if kind == "null":
        return struct.pack("<I", 2 if ver == 4 else 10) + ip
    if kind == "ppp":
        return b"\xff\x03" + (b"\x00\x21" if ver == 4 else b"\x00\x57") + ip
    return ip


LINKTYPES = [("eth", 1, 14), ("vlan", 1, 18), ("sll", 113, 16), ("raw", 101, 0), ("raw", 12, 0),
             ("null", 0, 4), ("ppp", 9, 4)]


def _sig(t):
    return [(p.frame, p.tuple, p.tcp_len, p.conn, p.direction, p.dsn, tuple(p.reinjection_of))
            for p in t.packets]


@pytest.mark.parametrize("kind,lt,hl", LINKTYPES)
def test_linktypes(tmp_path, kind, lt, hl):
    for name in ("v1-3sub.pcap", "v1-ipv6.pcapng"):
        ref = T(name)
        frames = [(ts, _l2(kind, ver, ip), orig + hl) for ts, ip, orig, ver in _ip_packets(name)]
        p = tmp_path / ("x-%s-%d.pcap" % (kind, lt))
        _write_pcap(p, lt, frames)
        assert _sig(truth.analyze(str(p))) == _sig(ref)


@pytest.mark.parametrize("fmt", ["pcap-be", "pcap-ns", "pcapng-le", "pcapng-be"])
def test_formats(tmp_path, fmt):
    ref = T("v1-3sub.pcap")
    frames = [(ts, _l2("raw", ver, ip), orig) for ts, ip, orig, ver in _ip_packets("v1-3sub.pcap")]
    p = tmp_path / ("x." + fmt)
    if fmt == "pcap-be":
        _write_pcap(p, 228, frames, ">")
    elif fmt == "pcap-ns":
        _write_pcap(p, 101, frames, "<", nano=True)
    else:
        _write_pcapng(p, 101, frames, "<" if fmt.endswith("le") else ">")
    t = truth.analyze(str(p))
    assert _sig(t) == _sig(ref)
    assert abs(t.packets[-1].ts - ref.packets[-1].ts) < 1e-5


def test_snaplen_short_payload(tmp_path):
    """With 160-byte snaplen (the benchmark capture) every data packet still resolves."""
    ref = T("v1-blackhole.pcap")
    frames = [(ts, d[:160], orig) for _f, _lt, ts, d, orig in truth.read_frames(str(CAPTURES / "v1-blackhole.pcap"))]
    p = tmp_path / "snap.pcap"
    _write_pcap(p, 276, frames)
    t = truth.analyze(str(p))
    assert not t.unresolved
    assert _sig(t) == _sig(ref)


# ------------------------------------------------------------------ truthcmp.compare
def _perfect_rows(t, stream_of=None):
    stream_of = stream_of or {c: i for i, c in enumerate(sorted(t.connections))}
    rows = []
    for p in t.packets:
        rows.append({"frame.number": str(p.frame), "tcp.stream": "",
                     "mptcp.stream": "" if p.conn is None else str(stream_of[p.conn]),
                     "mptcp.dsn": "" if p.dsn is None else str(p.dsn),
                     "mptcp.reinjection_of": ",".join(map(str, p.reinjection_of)),
                     "mptcp.reinjected_in": ",".join(map(str, p.reinjected_in)),
                     "mptcp.ack": "" if p.data_ack is None else str(p.data_ack)})
    return rows


def test_compare_perfect_and_wrong():
    t = T("v1-2conn.pcap")
    m = truthcmp.compare(t, _perfect_rows(t, {1: 7, 2: 3}))
    for k in truthcmp.METRICS + truthcmp.INFO_METRICS:
        assert m[k].percent == 100.0, (k, m[k])
    assert m["reinj_recall"].total == len(t.reinjections) > 0
    assert m["ack"].total > 0
    # both connections in one stream: the smaller one is wrong
    rows = _perfect_rows(t, {1: 0, 2: 0})
    m = truthcmp.compare(t, rows)
    n2 = sum(1 for p in t.packets if p.conn == 2)
    assert m["grouping"].correct == m["grouping"].total - n2
    # one stream per subflow (the built-in on a mid-stream capture): below 100 %
    rows = _perfect_rows(t)
    sub_ids = {k: i for i, k in enumerate(t.subflows)}
    for r, p in zip(rows, t.packets):
        r["mptcp.stream"] = str(sub_ids[p.subflow])
        r["mptcp.dsn"] = str(p.dsn + 1) if p.dsn and p.frame % 2 else r["mptcp.dsn"]
        r["mptcp.reinjection_of"] = ""
    m = truthcmp.compare(t, rows)
    assert m["grouping"].percent < 60
    assert 0 < m["dsn"].percent < 100
    assert m["reinj_recall"].percent == 0 and m["reinj_precision"].total == 0


def test_parse_fields():
    rows = truthcmp.parse_fields("frame.number\ttcp.stream\tmptcp.stream\tmptcp.dsn\n1\t0\t\t\n2\t0\t0\t5,6\n")
    assert rows[1]["mptcp.dsn"] == "5,6" and rows[0]["mptcp.stream"] == ""
