"""[kernel] What Linux sends besides plain transfers (issue #19): captures/kern-*.pcap.

Captures from captures/gen/sc-kernel.sh (real kernel traffic): TCP Fast Open to an MPTCP and to
a plain-TCP server, fallback at the handshake, MP_FAIL -> infinite mapping, MP_FAIL ->
MP_TCPRST, ADD_ADDR/REMOVE_ADDR/MP_PRIO during a transfer, and a cut of the last one that starts
mid-connection. Truth, independent of the plugin: the self-describing payload (tests/truth.py,
which also finds the bytes rewritten in flight) and what the applications wrote and read
(kern-*.json, recorded by traffic.py on both sides). Every check runs single pass and with -2.
"""
import json
import os
import re
from collections import Counter, defaultdict

import pytest

import truth
from conftest import CAPTURES

NAMES = ["kern-tfo", "kern-tfo-tcp", "kern-fallback", "kern-fail-inf", "kern-fail-rst", "kern-addr"]
CUT = "kern-addr-cut"
UNMODIFIED = ["kern-tfo", "kern-tfo-tcp", "kern-fallback", "kern-addr"]
FAIL = ["kern-fail-inf", "kern-fail-rst"]
PASSES = pytest.mark.parametrize("two_pass", [False, True], ids=["1pass", "2pass"])
GAP = re.compile(rb"^\[(\d+) bytes missing in capture file\]$")

_truths = {}


def cap(name):
    return CAPTURES / (name + ".pcap")


def get_truth(name):
    if name not in _truths:
        _truths[name] = truth.analyze(str(cap(name)))
    return _truths[name]


def app(name):
    return json.loads((CAPTURES / (name + ".json")).read_text())


def app_read(name, conn, d):
    """The bytes the receiving application read in direction d of connection conn."""
    rec = app(name)["connections"][str(conn)][str(d)]
    b = bytearray(truth.stream_bytes(conn, d, 0, rec["read"]))
    for off, byte in rec["diff"]:
        b[off] = byte
    return bytes(b)


def opt(two_pass):
    return ["-2"] if two_pass else []


def stream_conn_map(tshark, name, two_pass):
    t = get_truth(name)
    votes = defaultdict(Counter)
    for frame, s in tshark.fields(cap(name), ["frame.number", "mptcp.stream"], *opt(two_pass)):
        p = t.by_frame.get(int(frame))
        if s and p is not None and p.conn is not None and p.is_data:
            votes[int(s.split(",")[0])][p.conn] += 1
    return {s: c.most_common(1)[0][0] for s, c in votes.items()}


def follow(tshark, name, stream, two_pass):
    out = tshark.run("-r", cap(name), "-q", "-z", "follow,mptcp,raw,%d" % stream, *opt(two_pass))
    lines = out.split("\n")
    start = [i for i, ln in enumerate(lines) if ln.startswith("Node 1:")][0] + 1
    data = {0: bytearray(), 1: bytearray()}
    gaps = {0: 0, 1: 0}
    for ln in lines[start:]:
        if ln.startswith("====="):
            break
        d = 1 if ln.startswith("\t") else 0
        b = bytes.fromhex(ln.strip())
        m = GAP.match(b)
        if m:
            gaps[d] += int(m.group(1))
        else:
            data[d] += b
    return data, gaps


def experts(tshark, name, two_pass):
    """frame -> list of expert messages."""
    rows = tshark.run("-r", cap(name), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
                      "-e", "frame.number", "-e", "_ws.expert.message", *opt(two_pass))
    out = {}
    for ln in rows.splitlines():
        f, _, msgs = ln.partition("\t")
        out[int(f)] = [m for m in msgs.split("|") if m]
    return out


def test_captures_and_records_consistent():
    """The generator's records: what was sent was read (same length) and only the infinite
    mapping capture delivered rewritten bytes to an application, exactly the bytes the truth
    finds rewritten in the capture."""
    for name in NAMES + [CUT]:
        t = get_truth(name)
        assert not t.unresolved, name
        conns = app(name)["connections"]
        assert sorted(int(c) for c in conns) == sorted(t.connections), name
        for c, dirs in conns.items():
            for d, rec in dirs.items():
                assert rec["sent"] == rec["read"] == t.connections[int(c)].bytes[int(d)], (name, c, d)
                if name != "kern-fail-inf":
                    assert rec["diff"] == [], (name, c, d)
    inf = get_truth("kern-fail-inf")
    diff = app("kern-fail-inf")["connections"]["1"]["0"]["diff"]
    assert [tuple(x) for x in diff] == [x for p in inf.corrupted for x in p.corrupt] and diff
    rst = get_truth("kern-fail-rst")
    assert len(rst.corrupted) == 1 and rst.corrupted[0].reinjected_in
    tfo = get_truth("kern-tfo")
    assert [(p.conn, p.dsn) for p in tfo.packets if p.syn and p.is_data] == [(2, 1)]


@PASSES
@pytest.mark.parametrize("name", NAMES)
def test_follow_equals_application_bytes(tshark, name, two_pass):
    """Items 1-5: Follow MPTCP Stream gives, per connection and direction, exactly what the
    receiving application read: the TFO SYN's bytes first, the whole stream of a connection
    that fell back, the rest of the subflow after an infinite mapping (with the bytes the
    middlebox rewrote, as delivered), and the resent copy instead of one that failed its
    checksum."""
    t = get_truth(name)
    smap = stream_conn_map(tshark, name, two_pass)
    assert sorted(smap.values()) == sorted(t.connections)
    for stream, conn in smap.items():
        data, gaps = follow(tshark, name, stream, two_pass)
        for d in (0, 1):
            want = app_read(name, conn, d)
            got = bytes(data[d])
            where = (name, conn, d)
            assert gaps[d] == 0, where
            assert len(got) == len(want), where
            assert got == want, (where, next(i for i, (a, b) in enumerate(zip(got, want)) if a != b))


def corrupted_mappings(t):
    """{(subflow, direction, relative DSN of the mapping): frames of that mapping} for every
    mapping (DSS of the segment itself, as Linux sends them) that holds rewritten bytes."""
    out = {}
    for p in t.corrupted:
        dss = p.option(2).dss
        start = (dss["dsn"] - t.connections[p.conn].idsn[p.direction]) % 2 ** 64
        out[(p.subflow, p.direction, start)] = {
            q.frame for q in t.data_packets if q.subflow == p.subflow and q.direction == p.direction
            and q.option(2) is not None and q.option(2).dss.get("dsn") == dss["dsn"]}
    return out


@PASSES
@pytest.mark.parametrize("name", NAMES)
def test_stats_unique_bytes_equal_application_bytes(tshark, name, two_pass):
    """Items 1-4: -z mptcp,stat counts as unique bytes, per connection and direction, what the
    receiving application read: the TFO SYN's payload included, a connection that fell back
    included, the rest of the subflow after an infinite mapping included."""
    smap = stream_conn_map(tshark, name, two_pass)
    out = json.loads(tshark.run("-r", cap(name), "-q", "-z", "mptcp,stat,json", *opt(two_pass)))
    seen = set()
    for c in out["connections"]:
        conn = smap[c["stream"]]
        for d, k in ((0, "c2s"), (1, "s2c")):
            assert c["directions"][k]["unique_bytes"] == len(app_read(name, conn, d)), (name, conn, k)
        seen.add(conn)
    assert seen == set(get_truth(name).connections)


@PASSES
@pytest.mark.parametrize("name", NAMES)
def test_no_spurious_experts(tshark, name, two_pass):
    """No "No mapping available" and no missing-bytes warning on traffic where every byte was
    captured; "Bad DSS checksum" once for every mapping that holds bytes the truth finds
    rewritten (on a segment of that mapping: the checksum covers the whole mapping, RFC 8684
    section 3.3.1) and nowhere else."""
    t = get_truth(name)
    maps = corrupted_mappings(t)
    bad = defaultdict(list)
    csum = set()
    for f, msgs in experts(tshark, name, two_pass).items():
        for m in msgs:
            if m.startswith("No mapping available") or "data stream are missing" in m:
                bad[f].append(m)
            if m.startswith("Bad DSS checksum"):
                csum.add(f)
    assert dict(bad) == {}
    assert len(csum) == len(maps)
    assert all(any(f in frames for frames in maps.values()) for f in csum), (csum, maps)


@PASSES
@pytest.mark.parametrize("name", FAIL)
def test_failed_copy_not_delivered(tshark, name, two_pass):
    """Item 5: a segment whose mapping failed the DSS checksum and whose data was sent again is
    shown as not delivered (mptcp.dss.checksum_dropped, RFC 8684 section 3.3.1): the rewritten
    segment of kern-fail-rst (resent on the other subflow) and only segments of that mapping;
    none in kern-fail-inf, where the infinite mapping delivered the rewritten bytes. The copy
    sent again comes later: a single pass cannot know it yet (a value only known later), -2
    shows it."""
    t = get_truth(name)
    maps = corrupted_mappings(t)
    rows = tshark.fields(cap(name), ["frame.number", "mptcp.dss.checksum_dropped"], *opt(two_pass))
    dropped = {int(f) for f, v in rows if v == "1"}
    if name == "kern-fail-inf" or not two_pass:
        assert dropped == set()
        return
    assert {p.frame for p in t.corrupted} <= dropped
    assert all(any(f in frames for frames in maps.values()) for f in dropped)
    # each was sent again later (on this subflow or another)
    for f in dropped:
        p = t.by_frame[f]
        assert p.reinjected_in or any(q.frame > f and q.dsn < p.dsn + p.tcp_len and p.dsn < q.dsn + q.tcp_len
                                      for q in t.data_packets if q.conn == p.conn and q.direction == p.direction)


@PASSES
@pytest.mark.parametrize("name", NAMES)
def test_dsn_of_every_data_packet(tshark, name, two_pass):
    """mptcp.dsn is the true relative DSN on every data packet of every connection whose keys
    were exchanged: the TFO SYN's payload is DSN 1, and the DSN continues after an infinite
    mapping (RFC 8684 section 3.7). A v1 client's key comes after its SYN: a single pass
    cannot know the SYN's DSN yet (a value only known later), -2 shows it."""
    t = get_truth(name)
    wrong = []
    for frame, dsn in tshark.fields(cap(name), ["frame.number", "mptcp.dsn"], *opt(two_pass)):
        p = t.by_frame[int(frame)]
        if not p.is_data or not t.connections[p.conn].idsn:
            continue
        if p.syn and not two_pass and dsn == "":
            continue
        if dsn.split(",")[0] != str(p.dsn):
            wrong.append((p.frame, dsn, p.dsn))
    assert wrong == []


@PASSES
@pytest.mark.parametrize("name", NAMES + [CUT])
def test_dup_ack_marks_equal_builtin(tshark, tshark_builtin, name, two_pass):
    """Item 6: TCP's "Duplicate ACK" marks are the built-in's: pure ACKs that carry an MPTCP
    signal (ADD_ADDR and its echo, REMOVE_ADDR, MP_PRIO, MP_FAIL) or move the DATA_ACK are not
    duplicates."""
    args = ["-Y", "tcp.analysis.duplicate_ack", "-T", "fields", "-e", "frame.number"] + opt(two_pass)
    mine = tshark.run("-r", cap(name), *args).split()
    builtin = tshark_builtin.run("-r", cap(name), *args).split()
    assert mine == builtin


def test_dup_ack_marks_equal_builtin_without_mptcp_analysis(tshark, tshark_builtin):
    """With mptcp.analyze_mptcp off the built-in never leaves a mark out: neither does the plugin."""
    args = ["-o", "mptcp.analyze_mptcp:FALSE", "-Y", "tcp.analysis.duplicate_ack", "-T", "fields",
            "-e", "frame.number"]
    mine = tshark.run("-r", cap("kern-addr"), *args).split()
    assert mine == tshark_builtin.run("-r", cap("kern-addr"), *args).split() and mine


def test_mid_capture_cut_two_pass(tshark):
    """Item 7: on a capture that starts mid-connection (no SYN, no key), with -2 every packet
    of every subflow has mptcp.stream and every data packet a raw DSN, consistent with the
    truth (raw - true relative DSN is one constant per direction)."""
    t = get_truth(CUT)
    rows = tshark.fields(cap(CUT), ["frame.number", "mptcp.stream", "mptcp.rawdsn64"], "-2")
    no_stream, no_raw = [], []
    idsn = defaultdict(Counter)
    for frame, s, raw in rows:
        p = t.by_frame[int(frame)]
        if p.conn is None:
            continue
        if not s:
            no_stream.append(p.frame)
        if p.is_data:
            if not raw:
                no_raw.append(p.frame)
            else:
                idsn[p.direction][(int(raw.split(",")[0]) - p.dsn) % 2 ** 64] += 1
    assert no_stream == []
    assert no_raw == []
    assert all(len(c) == 1 for c in idsn.values()), idsn


@PASSES
@pytest.mark.parametrize("name", FAIL)
def test_mp_fail_expert_text(tshark, name, two_pass):
    """Item 8: the MP_FAIL expert reads "from DSN N onwards"; N is the option's DSN (raw, or
    relative to the IDSN of the failed direction), and the failed mapping holds the rewritten
    bytes."""
    t = get_truth(name)
    fails = [p for p in t.packets if p.option(6)]
    assert fails
    ex = experts(tshark, name, two_pass)
    first_bad = min(p.dsn for p in t.corrupted)
    for p in fails:
        raw = int.from_bytes(p.option(6).raw[4:12], "big")
        idsn = t.connections[p.conn].idsn[1 - p.direction]
        rel = (raw - idsn) % 2 ** 64
        assert rel <= first_bad < rel + 65536
        msgs = [m for m in ex.get(p.frame, []) if m.startswith("MP_FAIL")]
        assert msgs and all(m in ("MP_FAIL: data corrupted from DSN %d onwards" % raw,
                                  "MP_FAIL: data corrupted from DSN %d onwards" % rel) for m in msgs), msgs


def app_dissector_streams(tshark, name, two_pass):
    """{(conn, direction): bytes} as the application dissector ("data", Decode As on port 5201)
    received them, in the order it was called (data-level deliveries and TCP's own)."""
    rows = tshark.fields(cap(name), ["data.data"], "-Y", "data", "-d", "tcp.port==5201,data", *opt(two_pass))
    got = {}
    for (hexes,) in rows:
        for h in hexes.split(","):
            b = bytes.fromhex(h)
            where = None
            for ph in range(min(len(b) - 7, 64)):   # a self-describing word gives conn, direction, offset
                w = int.from_bytes(b[ph:ph + 8], "big")
                if w >> 48 == truth.MAGIC:
                    where = ((w >> 40) & 0xFF, (w >> 39) & 1, (w & ((1 << 39) - 1)) * 8 - ph)
                    break
            assert where, (name, b[:16].hex())
            conn, d, off = where
            s = got.setdefault((conn, d), bytearray())
            assert off == len(s), (name, conn, d, off, len(s))
            s += b
    return got


@PASSES
@pytest.mark.parametrize("name", NAMES)
def test_application_dissector_gets_application_bytes(tshark, name, two_pass):
    """Item 5 (and 1-4): the application dissector is handed, per connection and direction,
    exactly the bytes the receiving application read, once and in order: the copy sent again
    instead of one whose mapping failed the DSS checksum (RFC 8684 section 3.3.1: not
    delivered) in kern-fail-rst; the rewritten bytes that Linux delivered when it fell back
    after MP_FAIL in kern-fail-inf."""
    got = app_dissector_streams(tshark, name, two_pass)
    for conn, dirs in app(name)["connections"].items():
        for d in dirs:
            want = app_read(name, int(conn), int(d))
            have = bytes(got.get((int(conn), int(d)), b""))
            assert len(have) == len(want), (name, conn, d)
            assert have == want, (name, conn, d, next(i for i, (a, b) in enumerate(zip(have, want)) if a != b))


@PASSES
@pytest.mark.parametrize("name", FAIL)
def test_failed_copy_shown_not_delivered_in_data_stream(tshark, name, two_pass):
    """Item 5: in the data stream tree, the segments of the mapping that failed its checksum
    are held (mptcp.data.checksum_held) and then either not delivered (kern-fail-rst:
    mptcp.data.checksum_failed, known once the copy sent again is delivered: -2) or, after an
    MP_FAIL on an ACK (the receiver fell back and kept them, RFC 8684 section 3.7),
    delivered in that MP_FAIL's frame (kern-fail-inf)."""
    t = get_truth(name)
    maps = corrupted_mappings(t)
    bad_frames = set().union(*maps.values())
    rows = tshark.fields(cap(name), ["frame.number", "mptcp.data.checksum_held", "mptcp.data.checksum_failed",
                                     "mptcp.data.delivered_in"], "-d", "tcp.port==5201,data", *opt(two_pass))
    held = {int(f) for f, h, _, _ in rows if h == "1"}
    failed = {int(f) for f, _, x, _ in rows if x == "1"}
    delivered_in = {int(f): int(d) for f, _, _, d in rows if d}
    assert bad_frames and bad_frames <= held
    if name == "kern-fail-rst":
        assert failed == (bad_frames if two_pass else set())
        assert not bad_frames & set(delivered_in)
    else:
        fail_acks = [p.frame for p in t.packets if p.option(6) and not p.rst]
        assert failed == set() and fail_acks
        got = {delivered_in.get(f) for f in bad_frames}
        assert got == {fail_acks[0]} if two_pass else got <= {fail_acks[0], None}


@PASSES
def test_failed_copies_kept_aside_are_bounded(tshark, tmp_path, two_pass):
    """Item 5, hostile input: a connection with DSS checksums whose every mapping fails (17.5 MB,
    one 1,400-byte mapping a segment, none sent again). The failed copies kept aside (for an
    MP_FAIL that would make the receiver keep them) are bounded by 16 MiB a direction: the
    oldest beyond it are dropped, shown as not delivered (mptcp.data.checksum_failed, -2), the
    rest only as held; nothing is handed to the application dissector."""
    import frames as F
    from fuzzgen import dss_checksum
    key_c, key_s = 0x1111222233334444, 0x5555666677778888
    idsn = F.token_idsn(key_c, 1)[1]
    c = F.Conversation()
    c.syn(F.mp_capable(1, 0x81))
    c.synack(F.mp_capable(1, 0x81, sendkey=key_s))
    c.ack(F.mp_capable(1, 0x81, sendkey=key_c, recvkey=key_s))
    n, size = 12500, 1400
    for i in range(n):
        payload = bytes([i & 0xFF]) * size
        dsn = (idsn + 1 + i * size) % 2 ** 64
        good = dss_checksum(dsn, 1 + i * size, size, payload)
        c.send(True, payload, F.dss(dsn=dsn, dsn8=True, ssn=1 + i * size, dll=size, csum=good ^ 0x0101))
    pcap = tmp_path / "allfail.pcap"
    F.write_pcap(pcap, c.frames)
    os.chmod(pcap, 0o644)
    rows = tshark.fields(pcap, ["frame.number", "mptcp.data.checksum_held", "mptcp.data.checksum_failed",
                                "data.len"], *opt(two_pass))
    data = [r for r in rows if int(r[0]) > 3]
    assert len(data) == n and all(r[1] == "1" and r[3] == "" for r in data)
    kept = (16 << 20) // size                   # the newest copies that fit in 16 MiB
    failed = [int(r[0]) - 3 for r in data if r[2] == "1"]
    assert failed == (list(range(1, n - kept + 1)) if two_pass else [])


@PASSES
def test_other_copy_replaces_failed_mapping(tshark, tmp_path, two_pass):
    """RFC 8684 section 3.3.1, a copy racing a checksum: bytes [1000, 2000) of a 2,000-byte mapping
    on subflow 1 wait for its checksum (bytes [0, 1000) are not there yet) when subflow 2 sends
    them again under a mapping of their own, complete and right. The mapping of subflow 1 then
    fails: its copies are not delivered, subflow 2's copy takes their place, so the application
    dissector gets all 3,000 bytes once and in order (before the fix the second copy had been
    dropped as "already waiting" and the bytes were lost)."""
    import frames as F
    from fuzzgen import dss_checksum
    key_c, key_s = 0x1111222233334444, 0x5555666677778888
    idsn = F.token_idsn(key_c, 1)[1]
    data = bytes((i * 7 + 3) & 0xFF for i in range(3000))

    def dss(off, ssn, dll, ok=True):
        dsn = (idsn + 1 + off) % 2 ** 64
        good = dss_checksum(dsn, ssn, dll, data[off:off + dll])
        return F.dss(dsn=dsn, dsn8=True, ssn=ssn, dll=dll, csum=good if ok else good ^ 0x0101)

    c1 = F.Conversation(client=(F.CLIENT4, 45000))
    c2 = F.Conversation(client=(F.CLIENT4, 45001), isn_c=70000, isn_s=90000)
    frames = c1.handshake(F.mp_capable(1, 0x81), F.mp_capable(1, 0x81, sendkey=key_s),
                          F.mp_capable(1, 0x81, sendkey=key_c, recvkey=key_s))
    frames += c2.handshake(F.mp_join_syn(token=F.token_idsn(key_s, 1)[0]), F.mp_join_synack(), F.mp_join_ack())
    bad = dss(1000, 1, 2000, ok=False)
    frames += [c1.send(True, data[1000:2000], bad),            # 7: waits for the checksum
               c2.send(True, data[1000:2000], dss(1000, 1, 1000)),  # 8: the other copy
               c1.send(True, data[2000:3000], bad),            # 9: the mapping fails
               c2.send(True, data[0:1000], dss(0, 1001, 1000)),     # 10: fills the gap
               c2.send(True, data[2000:3000], dss(2000, 2001, 1000))]  # 11: sent again
    pcap = tmp_path / "racing.pcap"
    F.write_pcap(pcap, frames)
    os.chmod(pcap, 0o644)
    rows = tshark.fields(pcap, ["frame.number", "data.data", "mptcp.data.delivered_in",
                                "mptcp.data.checksum_failed"], *opt(two_pass))
    got = b"".join(bytes.fromhex(h) for r in rows for h in r[1].split(",") if h)
    assert got == data
    by_frame = {int(r[0]): r for r in rows}
    assert [int(r[0]) for r in rows if r[1]] == [10, 11]
    if two_pass:
        assert by_frame[8][2] == "10"
        assert {f for f in by_frame if by_frame[f][3] == "1"} == {7, 9}
