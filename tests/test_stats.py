"""[stats] tshark -z mptcp,stat[,text|csv|json][,filter] and the MPTCP latency field, against the
ground truth of the committed v1 captures (tests/truth.py: computed from the self-describing
payload, no dissector involved).

Checked per capture, single pass and -2 (which must print the same):
  * per subflow and direction: packets, TCP payload bytes, first FIN / RST time;
  * per connection and direction: packets, payload bytes, unique bytes (DSN coverage = the
    generated stream's length), reinjected packets/bytes (the truth's cross-subflow
    reinjections), reinjections caused per subflow, duration, goodput, DATA_FIN time;
  * counters: failed joins (v1-2conn's rejected join), HMAC failures, fallbacks;
  * mptcp.analysis.latency per data segment and the latency summary (min/mean/percentiles/max)
    against an independent computation from the truth's DSNs and Data ACKs;
  * the CSV and JSON forms parse and agree; an empty direction prints zeros.
"""
import csv
import io
import json
import math
import re
from collections import defaultdict

import pytest

import truth
from conftest import CAPTURES

CAPS = sorted(p for p in CAPTURES.glob("v1-*.pcap*") if not p.with_suffix(".json").exists())
NO_KEYS = {"v1-midstream.pcap"}      # no handshake: raw DSNs, only the DSNs the [dsn] analysis can place
TOL = 2e-6                           # timestamps: pcap microseconds, truth floats of epoch seconds

_truths = {}


def get_truth(path):
    if path not in _truths:
        _truths[path] = truth.analyze(str(path))
    return _truths[path]


def first_ts(path):
    for _n, _lt, ts, _data, _orig in truth.read_frames(str(path)):
        return ts


def stat(tshark, cap, mode="json", flt=None, two_pass=False):
    arg = "mptcp,stat," + mode + ("," + flt if flt else "")
    out = tshark.run("-r", cap, "-q", "-z", arg, *(["-2"] if two_pass else []))
    if mode == "json":
        return json.loads(out)
    if mode == "csv":
        return list(csv.DictReader(io.StringIO(out)))
    return out


def ep_key(ip, port):
    return (str(ip), int(port))


def sf_pair(a, b):
    return frozenset((a, b))


class Expected:
    """What the statistics must say, from the truth alone."""

    def __init__(self, path):
        t = get_truth(path)
        t0 = first_ts(path)
        self.t = t
        self.sf = defaultdict(lambda: {d: defaultdict(int) for d in (0, 1)})   # pair -> dir -> counters
        self.sf_conn = {}
        self.sf_when = defaultdict(dict)      # (pair, dir, what) -> first time
        self.conn = {c: {d: defaultdict(int) for d in (0, 1)} for c in t.connections}
        self.conn_first, self.conn_last = {}, {}
        self.unique = {c: {0: set(), 1: set()} for c in t.connections}
        sf_of_frame = {}
        for key, sf in t.subflows.items():
            pair = sf_pair(ep_key(key.client_ip, key.client_port), ep_key(key.server_ip, key.server_port))
            for p in sf.packets:
                sf_of_frame[p.frame] = pair
        for p in t.packets:
            if p.conn is None or p.direction is None:
                continue
            pair = sf_of_frame[p.frame]
            self.sf_conn[pair] = p.conn
            d = p.direction
            rel = p.ts - t0
            for tgt in (self.sf[pair][d], self.conn[p.conn][d]):
                tgt["packets"] += 1
                tgt["payload_bytes"] += p.tcp_len
            self.conn_first[p.conn] = min(self.conn_first.get(p.conn, rel), rel)
            self.conn_last[p.conn] = max(self.conn_last.get(p.conn, rel), rel)
            if p.fin:
                self.sf_when[(pair, d, "fin")] = self.sf_when.get((pair, d, "fin"), rel)
            if p.rst:
                self.sf_when[(pair, d, "rst")] = self.sf_when.get((pair, d, "rst"), rel)
            dss = p.option(2)
            if dss is not None and dss.dss is not None and dss.dss["F"]:
                self.sf_when[(pair, d, "data_fin")] = self.sf_when.get((pair, d, "data_fin"), rel)
            if p.dsn is not None and p.tcp_len:
                self.unique[p.conn][d].update(range(p.dsn - 1, p.dsn - 1 + p.tcp_len))
                if p.reinjection:
                    c = self.conn[p.conn][d]
                    c["reinjected_packets"] += 1
                    c["reinjected_bytes"] += p.tcp_len
                    s = self.sf[pair][d]
                    s["reinjected_packets"] += 1
                    s["reinjected_bytes"] += p.tcp_len
                    origin = sf_of_frame[min(p.reinjection_of)]
                    o = self.sf[origin][d]
                    o["reinj_caused_packets"] += 1
                    o["reinj_caused_bytes"] += p.tcp_len


def conn_map(exp, j):
    """plugin stream -> truth connection, from the subflows' 4-tuples."""
    m = {}
    for c in j["connections"]:
        for s in c["subflows"]:
            pair = sf_pair(ep_key(s["client"]["addr"], s["client"]["port"]),
                           ep_key(s["server"]["addr"], s["server"]["port"]))
            if pair in exp.sf_conn:
                m.setdefault(c["stream"], exp.sf_conn[pair])
                assert m[c["stream"]] == exp.sf_conn[pair], "a plugin connection mixes truth connections"
    return m


def dir_flip(exp, c, tc):
    """Directions are oriented by the MP_CAPABLE SYN; an inferred connection (no handshake) may
    name them the other way round: find the orientation from the payload bytes."""
    if not c["inferred"]:
        return False
    b = [c["directions"][k]["payload_bytes"] for k in ("c2s", "s2c")]
    t = [exp.conn[tc][d]["payload_bytes"] for d in (0, 1)]
    return b != t and b == t[::-1]


@pytest.mark.parametrize("two_pass", [False, True], ids=["1pass", "2pass"])
@pytest.mark.parametrize("cap", CAPS, ids=[p.name for p in CAPS])
def test_stat_numbers_equal_truth(tshark, cap, two_pass):
    exp = Expected(cap)
    j = stat(tshark, cap, "json", two_pass=two_pass)
    cm = conn_map(exp, j)
    assert sorted(set(cm.values())) == sorted(exp.t.connections), "every truth connection is reported"
    keys = cap.name not in NO_KEYS
    checked_sf = 0
    for c in j["connections"]:
        if c["stream"] not in cm:
            continue
        tc = cm[c["stream"]]
        flip = dir_flip(exp, c, tc)
        assert not flip or not keys
        dmap = {("c2s", "s2c")[d]: (1 - d if flip else d) for d in (0, 1)}
        assert c["duration"] == pytest.approx(exp.conn_last[tc] - exp.conn_first[tc], abs=TOL)
        # v1-midstream: the plugin places the truth's unmappable subflow (no data) in a connection
        unmapped = [s for s in c["subflows"] if sf_pair(ep_key(s["client"]["addr"], s["client"]["port"]),
                                                         ep_key(s["server"]["addr"], s["server"]["port"]))
                    not in exp.sf_conn]
        assert not unmapped or not keys
        for k, d in dmap.items():
            got, want = c["directions"][k], exp.conn[tc][d]
            extra = sum(s["directions"][k]["packets"] for s in unmapped)
            assert got["packets"] == want["packets"] + extra, (c["stream"], k)
            assert got["payload_bytes"] == want["payload_bytes"], (c["stream"], k)
            uniq = len(exp.unique[tc][d])
            if keys:
                # = the stream length, except where bytes were never captured (v1-fastclose)
                assert got["unique_bytes"] == uniq, (c["stream"], k)
                if cap.name != "v1-fastclose.pcap":
                    assert uniq == exp.t.connections[tc].bytes[d]
                assert got["reinjected_packets"] == want["reinjected_packets"], (c["stream"], k)
                assert got["reinjected_bytes"] == want["reinjected_bytes"], (c["stream"], k)
            else:
                # only the segments whose DSN the [dsn] analysis could place without the handshake
                assert got["unique_bytes"] <= uniq and (got["unique_bytes"] > 0) == (uniq > 0)
                assert got["reinjected_bytes"] <= want["reinjected_bytes"]
            dur = c["duration"]
            assert got["goodput_Bps"] == pytest.approx(got["unique_bytes"] / dur if dur > 0 else 0, rel=1e-6)
        for s in c["subflows"]:
            pair = sf_pair(ep_key(s["client"]["addr"], s["client"]["port"]),
                           ep_key(s["server"]["addr"], s["server"]["port"]))
            if pair not in exp.sf_conn:
                # v1-midstream: one subflow of which only a FIN/ACK exchange remains (no data)
                assert all(s["directions"][k]["payload_bytes"] == 0 for k in ("c2s", "s2c"))
                continue
            checked_sf += 1
            for k, d in dmap.items():
                got, want = s["directions"][k], exp.sf[pair][d]
                where = (cap.name, s["index"], k)
                assert got["packets"] == want["packets"], where
                assert got["payload_bytes"] == want["payload_bytes"], where
                total = exp.conn[tc][d]["payload_bytes"]
                assert got["share_percent"] == pytest.approx(100.0 * want["payload_bytes"] / total if total else 0,
                                                             abs=1e-4), where
                if keys:
                    for f in ("reinjected_packets", "reinjected_bytes", "reinj_caused_packets", "reinj_caused_bytes"):
                        assert got[f] == want[f], (where, f)
                for what in ("fin", "rst", "data_fin"):
                    w = exp.sf_when.get((pair, d, what))
                    if w is None:
                        assert got[what] is None, (where, what)
                    else:
                        assert got[what] == pytest.approx(w, abs=TOL), (where, what)
            # shares of one direction add up to 100 % (or 0 for an empty direction)
        for k in ("c2s", "s2c"):
            tot = sum(s["directions"][k]["share_percent"] for s in c["subflows"])
            assert tot == pytest.approx(100.0 if c["directions"][k]["payload_bytes"] else 0.0, abs=1e-3)
    assert checked_sf == len(exp.sf_conn)
    # counters
    assert j["hmac_failures"] == 0 and j["fallbacks"] == 0
    assert j["failed_joins"] == (1 if cap.name == "v1-2conn.pcap" else 0)


def test_failed_join_is_the_rejected_one(tshark):
    """v1-2conn: connection 2's join to 10.31.3.2 gets MP_JOIN SYN/ACK, then the client's third
    ACK is a RST with MP_TCPRST: the only failed join."""
    j = stat(tshark, CAPTURES / "v1-2conn.pcap")
    failed = [(c["stream"], s["client"]["addr"], s["server"]["addr"]) for c in j["connections"]
              for s in c["subflows"] if s["join_failed"]]
    assert failed == [(1, "10.31.3.1", "10.31.3.2")]
    c1 = [c for c in j["connections"] if c["stream"] == 1][0]
    assert c1["failed_joins"] == 1
    s = [s for s in c1["subflows"] if s["join_failed"]][0]
    assert s["directions"]["c2s"]["rst"] is not None and s["directions"]["c2s"]["payload_bytes"] == 0


@pytest.mark.parametrize("cap", CAPS, ids=[p.name for p in CAPS])
def test_single_pass_equals_two_pass(tshark, cap):
    for mode in ("text", "csv", "json"):
        assert stat(tshark, cap, mode) == stat(tshark, cap, mode, two_pass=True), mode


@pytest.mark.parametrize("cap", [CAPTURES / "v1-2conn.pcap", CAPTURES / "v1-blackhole.pcap"], ids=lambda p: p.name)
def test_csv_parses_and_agrees_with_json(tshark, cap):
    rows = stat(tshark, cap, "csv")
    j = stat(tshark, cap, "json")
    header = rows[0].keys()
    assert "payload_bytes" in header and "unique_bytes" in header
    assert {r["record"] for r in rows} == {"connection", "subflow"}
    for r in rows:
        assert None not in r, "a row has more cells than the header"
        assert all(v is not None for v in r.values()), "a row has fewer cells than the header"
    by = {}
    for c in j["connections"]:
        for k in ("c2s", "s2c"):
            by[("connection", str(c["stream"]), "", k)] = c["directions"][k]
            for s in c["subflows"]:
                by[("subflow", str(c["stream"]), str(s["index"]), k)] = dict(s["directions"][k],
                                                                         join_failed=s["join_failed"])
    assert len(by) == len(rows)
    for r in rows:
        want = by[(r["record"], r["stream"], r["subflow"], r["direction"])]
        for f in ("packets", "data_packets", "payload_bytes", "reinjected_packets", "reinjected_bytes"):
            assert int(r[f]) == want[f], (r["record"], f)
        if r["record"] == "connection":
            assert int(r["unique_bytes"]) == want["unique_bytes"]
            assert float(r["goodput_Bps"]) == pytest.approx(want["goodput_Bps"], rel=1e-6)
            if want["latency"]["samples"]:
                assert float(r["latency_p90"]) == pytest.approx(want["latency"]["p90"], abs=1e-9)
        else:
            assert float(r["share_percent"]) == pytest.approx(want["share_percent"], abs=0.01)
            assert int(r["reinj_caused_bytes"]) == want["reinj_caused_bytes"]
            for f in ("fin", "rst"):
                assert (r[f] == "") == (want[f] is None)


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


@pytest.mark.parametrize("flt", ["ip.src==10.31.1.1 || ip.src==10.31.2.1 || ip.src==10.31.3.1", "tcp.stream==1"])
def test_empty_direction_prints_zeros(tshark, flt):
    """Only the client's packets (or one subflow): the other direction must be all zeros, not
    2^32-1, not NaN, not a ratio without x100."""
    cap = CAPTURES / "v1-3sub.pcap"
    j = stat(tshark, cap, "json", flt)
    assert j["filter"] == flt
    for n in _numbers(j):
        assert math.isfinite(n) and 0 <= n < 2 ** 40, n
    c = j["connections"][0]
    if flt.startswith("ip.src"):
        s2c = c["directions"]["s2c"]
        assert s2c["packets"] == s2c["payload_bytes"] == s2c["unique_bytes"] == 0
        assert s2c["goodput_Bps"] == 0 and s2c["latency"]["samples"] == 0
        assert s2c["first_packet"] is None and s2c["latency"]["p50"] is None
        for s in c["subflows"]:
            assert s["directions"]["s2c"]["share_percent"] == 0
            assert s["directions"]["s2c"]["payload_bytes"] == 0
        assert c["directions"]["c2s"]["unique_bytes"] == 300000
    else:
        assert len(c["subflows"]) == 1
        s = c["subflows"][0]
        for k in ("c2s", "s2c"):
            assert s["directions"][k]["share_percent"] == pytest.approx(100.0)
    text = stat(tshark, cap, "text", flt)
    assert not re.search(r"nan|inf|4294967295|18446744073709551615", text, re.I)
    rows = stat(tshark, cap, "csv", flt)
    assert rows and all(None not in r for r in rows)


def test_text_form(tshark):
    out = stat(tshark, CAPTURES / "v1-3sub.pcap", "text")
    assert "Connection 0 (mptcp.stream == 0): 10.31.1.1:" in out
    assert re.search(r"client->server\s+\d+\s+\d+\s+300000\s+300000\s", out)
    assert re.search(r"server->client\s+\d+\s+\d+\s+\d+\s+200000\s", out)
    assert out.count("Subflow ") == 3
    # the default mode is text; a filter without a mode works
    assert tshark.run("-r", CAPTURES / "v1-3sub.pcap", "-q", "-z", "mptcp,stat") == out
    assert "Filter: tcp.stream==2" in tshark.run("-r", CAPTURES / "v1-3sub.pcap", "-q", "-z", "mptcp,stat,tcp.stream==2")


def test_fastclose_and_backup(tshark):
    j = stat(tshark, CAPTURES / "v1-fastclose.pcap")
    c = j["connections"][0]
    assert c["directions"]["c2s"]["fastclose"] is not None          # the client's RSTs carry MP_FASTCLOSE
    assert c["directions"]["s2c"]["fastclose"] is None
    assert all(s["directions"]["c2s"]["fastclose"] is not None for s in c["subflows"])
    j = stat(tshark, CAPTURES / "v1-prio.pcap")
    backup = [s["client"]["addr"] for s in j["connections"][0]["subflows"] if s["backup"]]
    assert backup == ["10.31.2.1"]                                   # MP_PRIO B=1 on that subflow


def test_registered(tshark):
    out = tshark.run("-z", "help", check=False) + tshark.last_stderr
    assert "mptcp,stat" in out and "follow,mptcp" in out
    p = tshark.run("-r", CAPTURES / "v1-3sub.pcap", "-q", "-z", "mptcp,stat,csv,this is no filter", check=False)
    assert "mptcp,stat" in tshark.last_stderr or p == ""


# {{{ latency
def expected_latency(t):
    """frame -> (latency, first transmission frame) from the truth: first transmission of the
    segment's first byte (any subflow) to the first Data ACK (any subflow, capture order) that
    covers the segment's end."""
    out = {}
    for conn in t.connections:
        for d in (0, 1):
            data = [p for p in t.packets if p.conn == conn and p.direction == d and p.dsn is not None and p.tcp_len]
            acks = [p for p in t.packets if p.conn == conn and p.direction == 1 - d and p.data_ack is not None]
            for p in data:
                first = next(q for q in data if q.dsn <= p.dsn < q.dsn + q.tcp_len)   # frame order
                end = p.dsn + p.tcp_len
                a = next((q for q in acks if q.data_ack >= end), None)
                if a is not None and a.ts - first.ts >= -TOL:
                    out[p.frame] = (a.ts - first.ts, first.frame, a.frame)
                else:
                    out[p.frame] = (None, first.frame, None)
    return out


@pytest.mark.parametrize("cap", [p for p in CAPS if p.name not in NO_KEYS], ids=lambda p: p.name)
def test_latency_field_equals_truth(tshark, cap):
    t = get_truth(cap)
    want = expected_latency(t)
    rows = tshark.fields(cap, ["frame.number", "mptcp.analysis.latency", "mptcp.analysis.latency_ack_frame",
                               "mptcp.analysis.first_sent_frame"], "-2")
    got = {int(r[0]): r[1:] for r in rows}
    n = 0
    for frame, (lat, first, ackf) in want.items():
        g_lat, g_ack, g_first = got[frame]
        assert (int(g_first) if g_first else frame) == first, frame
        if lat is None:
            assert g_lat == "", frame
            continue
        n += 1
        assert float(g_lat) == pytest.approx(lat, abs=TOL), frame
        assert int(g_ack) == ackf, frame
    assert n > 0
    # no latency on anything but data segments
    assert set(f for f, r in got.items() if r[0]) <= set(want)


def _nearest_rank(v, p):
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


@pytest.mark.parametrize("cap", [CAPTURES / "v1-3sub.pcap", CAPTURES / "v1-blackhole.pcap",
                                 CAPTURES / "v1-2conn.pcap"], ids=lambda p: p.name)
def test_latency_summary_equals_truth(tshark, cap):
    t = get_truth(cap)
    want = expected_latency(t)
    j = stat(tshark, cap, "json")
    exp = Expected(cap)
    cm = conn_map(exp, j)
    for c in j["connections"]:
        for d, k in enumerate(("c2s", "s2c")):
            frames = [p.frame for p in t.packets if p.conn == cm[c["stream"]] and p.direction == d
                      and p.dsn is not None and p.tcp_len and want[p.frame][1] == p.frame]
            v = sorted(want[f][0] for f in frames if want[f][0] is not None)
            lat = c["directions"][k]["latency"]
            assert lat["samples"] == len(v)
            assert lat["unacked"] == len(frames) - len(v)
            assert lat["min"] == pytest.approx(v[0], abs=TOL)
            assert lat["max"] == pytest.approx(v[-1], abs=TOL)
            assert lat["mean"] == pytest.approx(sum(v) / len(v), abs=TOL)
            for p in (50, 90, 99):
                assert lat["p%d" % p] == pytest.approx(_nearest_rank(v, p), abs=TOL), p
# }}}


def test_counters_on_synthetic_capture(tshark, tmp_path):
    """Failed joins (unknown token; no SYN/ACK), HMAC failures and fallback on a hand-made
    capture (tests/frames.py)."""
    import frames as F
    srv2 = "192.0.2.20"
    ka, kb = F.KEY_A, F.KEY_B
    tok_b, idsn_b = F.token_idsn(kb, 1)
    idsn_a = F.token_idsn(ka, 1)[1]
    c = F.Conversation()
    fr = c.handshake(F.mp_capable(1, 0x81), F.mp_capable(1, 0x81, sendkey=kb),
                     F.mp_capable(1, 0x81, sendkey=ka, recvkey=kb))
    fr.append(c.send(True, b"x" * 100, F.dss(ack=idsn_b + 1, ack8=True, dsn=idsn_a + 1, dsn8=True, ssn=1, dll=100)))
    fr.append(c.send(False, b"y" * 60, F.dss(ack=idsn_a + 101, ack8=True, dsn=idsn_b + 1, dsn8=True, ssn=1,
                                             dll=60)))
    # a join with wrong HMACs (SYN/ACK and third ACK): 2 HMAC failures
    j = F.Conversation(client=(F.CLIENT4, 41000), server=(srv2, 5001), isn_c=7000, isn_s=9000)
    fr += [j.syn(F.mp_join_syn(token=tok_b, nonce=1)), j.synack(F.mp_join_synack(trunc_hmac=1, nonce=2)),
           j.ack(F.mp_join_ack(hmac=bytes(20)))]
    # a join SYN that is never answered: failed
    k = F.Conversation(client=(F.CLIENT4, 41001), server=(srv2, 5001), isn_c=1, isn_s=2)
    s = k.syn(F.mp_join_syn(token=tok_b, nonce=3))
    fr += [s, s]                                    # and retransmitted
    # a join SYN with a token of no connection: failed (in an inferred connection)
    u = F.Conversation(client=(F.CLIENT4, 41002), server=(srv2, 5001))
    fr.append(u.syn(F.mp_join_syn(token=0xDEADBEEF)))
    # a second connection that falls back (SYN/ACK without MP_CAPABLE)
    f = F.Conversation(client=(F.CLIENT4, 46000), server=(F.SERVER4, 5001))
    fr += [f.syn(F.mp_capable(1, 0x81)), f.synack(b""), f.ack(b""), f.send(True, b"plain")]
    path = F.write_pcap(tmp_path / "counters.pcap", fr)
    for two in (False, True):
        j_ = stat(tshark, path, "json", two_pass=two)
        assert j_["failed_joins"] == 2 and j_["hmac_failures"] == 2 and j_["fallbacks"] == 1, j_
        c0 = j_["connections"][0]
        assert c0["failed_joins"] == 1 and c0["hmac_failures"] == {"join": 2, "add_addr": 0}
        assert [s["join_failed"] for s in c0["subflows"]] == [False, False, True]
        assert c0["directions"]["c2s"]["unique_bytes"] == 100 and c0["directions"]["s2c"]["unique_bytes"] == 60
        # the server's DATA_ACK covers the client's 100 bytes: one latency sample, 0 unacked
        assert c0["directions"]["c2s"]["latency"]["samples"] == 1
        assert c0["directions"]["s2c"]["latency"]["unacked"] == 1
        assert sorted(c["fallback"] for c in j_["connections"]) == [False, False, True]


def test_64bit_counters_and_dsn_wrap(tshark, tmp_path):
    """More than 2^32 payload bytes in one direction, with raw DSNs that wrap past 2^64 - 1:
    the counters must not wrap (66,100 segments of 65,000 bytes, captured headers only)."""
    import struct
    import frames as F
    n, seg = 66100, 65000
    dsn0 = 2 ** 64 - 2 ** 31          # no handshake: raw DSNs, crossing 2^64 half-way
    isn = 0xFFFF0000
    out = tmp_path / "big.pcap"
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i in range(n):
            off = i * seg
            opt = F.dss(dsn=(dsn0 + off) % 2 ** 64, dsn8=True, ssn=(1 + off) % 2 ** 32, dll=seg)
            fr = bytearray(F.frame(options=opt, seq=(isn + 1 + off) % 2 ** 32, ack=1, flags="A"))
            tl = struct.unpack("!H", fr[16:18])[0] + seg
            fr[16:18] = struct.pack("!H", tl)
            fr[24:26] = b"\0\0"
            fr[24:26] = struct.pack("!H", F.csum16(bytes(fr[14:34])))
            ts = 1_600_000_000 + i // 1000
            f.write(struct.pack("<IIII", ts, (i % 1000) * 1000, len(fr), len(fr) + seg))
            f.write(fr)
    total = n * seg
    assert total > 2 ** 32
    # (TCP's own sequence analysis is slow on these huge truncated segments: not needed here)
    out_json = tshark.run("-r", out, "-q", "-o", "tcp.analyze_sequence_numbers:FALSE", "-z", "mptcp,stat,json",
                          "-z", "mptcp,stat,csv")
    i = out_json.index('{"filter"')             # tshark draws the later -z first: CSV, then JSON
    j = json.loads(out_json[i:])
    c = j["connections"][0]["directions"]["c2s"]
    assert c["packets"] == n and c["payload_bytes"] == total and c["unique_bytes"] == total
    assert j["connections"][0]["subflows"][0]["directions"]["c2s"]["share_percent"] == pytest.approx(100.0)
    rows = list(csv.DictReader(io.StringIO(out_json[:i])))
    assert any(r["payload_bytes"] == str(total) and r["unique_bytes"] == str(total) for r in rows)
