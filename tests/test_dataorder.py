"""[dataorder] data-level flight and windows, head-of-line waits, spurious reinjections (issue 20).

Every value is checked against tests/dataorder_truth.py (computed from the self-describing
payload, the DSS options and the capture's timestamps; its docstring defines the semantics) on
every committed capture: with -2 for all of them, single pass for everything but the forward
link hol_wait. v1-http/v1-tls carry application payload (no DSN truth): there only the values
that need no DSN (data_window, zero_window) are compared. The slow-reader capture is also
checked against the application's own read log. Synthetic frames (tests/frames.py) cover
the bad inputs.
"""
import json

import pytest

import dataorder_truth as DT
import frames as F
from conftest import CAPTURES

VALUE_FIELDS = ["mptcp.analysis.flight", "mptcp.analysis.data_window", "mptcp.analysis.hol_wait"]
FLAG_FIELDS = ["mptcp.analysis.window_full", "mptcp.analysis.zero_window", "mptcp.analysis.spurious_reinjection"]
FIELDS = VALUE_FIELDS + FLAG_FIELDS
# truth name of each field
TRUTH = {"mptcp.analysis.flight": "flight", "mptcp.analysis.data_window": "data_window",
         "mptcp.analysis.hol_wait": "hol_wait", "mptcp.analysis.window_full": "window_full",
         "mptcp.analysis.zero_window": "zero_window", "mptcp.analysis.spurious_reinjection": "spurious"}
HOL_TOLERANCE = 2e-6

CAPS = sorted(p for p in CAPTURES.glob("v1-*.pcap*"))
APP = {"v1-http.pcap", "v1-tls.pcap"}          # application payload: no DSN truth
DONOR = {"v1-midstream.pcap": "v1-2conn.pcap"}  # cuts: the keys come from the full capture
# Without the handshake a subflow's first segments cannot be placed when they are dissected (no
# ISN, no key: no mptcp.dsn single pass; see test_captures_truth.py); the data-order stage runs on
# the first pass, and the truth then leaves those segments out as well.
NO_KEYS = {"v1-midstream.pcap"}

_truths = {}


def get_truth(cap, tshark=None):
    if cap.name not in _truths:
        donor = DONOR.get(cap.name)
        placed = None
        if cap.name in NO_KEYS:
            # the first pass's DSNs (a DSN learnt later, shown with -2, came too late for it)
            rows = tshark.fields(str(cap), ["frame.number", "mptcp.dsn"])
            placed = {int(r[0]) for r in rows if r[1]}
        _truths[cap.name] = DT.analyze(str(cap), str(CAPTURES / donor) if donor else None, placed)
    return _truths[cap.name]


def plugin(tshark, path, *extra):
    """{frame: {field: value string}} for the fields present."""
    rows = tshark.fields(str(path), ["frame.number"] + FIELDS, *extra)
    out = {}
    for r in rows:
        vals = {f: v for f, v in zip(FIELDS, r[1:]) if v != ""}
        if vals:
            out[int(r[0])] = vals
    return out


def compare(t, got, fields, frames=None):
    """Differences between the plugin (got) and the truth t, as readable strings."""
    errs = []
    for f in fields:
        name = TRUTH[f]
        want = t.values(name)
        have = {fr: v[f] for fr, v in got.items() if f in v}
        if frames is not None:
            want = {k: v for k, v in want.items() if k in frames}
            have = {k: v for k, v in have.items() if k in frames}
        for fr in sorted(set(want) | set(have)):
            w, h = want.get(fr), have.get(fr)
            if w is None or h is None:
                errs.append("%s frame %d: truth %r plugin %r" % (f, fr, w, h))
            elif name == "hol_wait":
                if abs(float(h) - w) > HOL_TOLERANCE:
                    errs.append("%s frame %d: truth %.9f plugin %s" % (f, fr, w, h))
            elif name in ("flight", "data_window"):
                if int(h) != w:
                    errs.append("%s frame %d: truth %d plugin %s" % (f, fr, w, h))
    return errs


def fields_for(cap):
    if cap.name in APP:
        return ["mptcp.analysis.data_window", "mptcp.analysis.zero_window"]
    return FIELDS


@pytest.mark.parametrize("cap", CAPS, ids=[p.name for p in CAPS])
def test_two_pass_matches_truth(tshark, cap):
    t = get_truth(cap, tshark)
    got = plugin(tshark, cap, "-2")
    errs = compare(t, got, fields_for(cap))
    assert not errs, "%d differences:\n%s" % (len(errs), "\n".join(errs[:30]))


@pytest.mark.parametrize("cap", CAPS, ids=[p.name for p in CAPS])
def test_single_pass_matches_truth(tshark, cap):
    """Everything but hol_wait is known when the packet is dissected: identical single pass."""
    t = get_truth(cap, tshark)
    got = plugin(tshark, cap)
    errs = compare(t, got, [f for f in fields_for(cap) if f != "mptcp.analysis.hol_wait"])
    assert not errs, "%d differences:\n%s" % (len(errs), "\n".join(errs[:30]))
    # a forward link: never a wrong value single pass (a gap closes after the packet ahead of it)
    want = t.values("hol_wait")
    for fr, v in got.items():
        if "mptcp.analysis.hol_wait" in v:
            assert fr in want and abs(float(v["mptcp.analysis.hol_wait"]) - want[fr]) <= HOL_TOLERANCE


def test_captures_exercise_every_field():
    """The committed captures make each value happen for real (and the truth finds it)."""
    def n(name, field):
        return len(get_truth(CAPTURES / name).values(field))
    assert n("v1-slowread.pcap", "zero_window") >= 1
    assert n("v1-slowread.pcap", "window_full") >= 10
    assert n("v1-hol-client.pcap", "hol_wait") >= 50
    # the receiver waits longer than the sender's interleaving shows
    hc = sum(get_truth(CAPTURES / "v1-hol-client.pcap").values("hol_wait").values())
    hs = sum(get_truth(CAPTURES / "v1-hol-server.pcap").values("hol_wait").values())
    assert hc > 2 * hs
    assert n("v1-blackhole.pcap", "spurious") >= 10
    assert n("v1-3sub.pcap", "flight") == len(get_truth(CAPTURES / "v1-3sub.pcap").truth.data_packets)


def test_slowread_sender_stalled_on_the_reader(tshark):
    """The application's read log says when the client did not read: the zero windows fall
    in those pauses, with the client's buffer full of unread bytes, and the sender was
    window-limited just before."""
    cap = CAPTURES / "v1-slowread.pcap"
    log = json.loads((CAPTURES / "v1-slowread.reads.json").read_text())
    reads = log["reads"]
    t = get_truth(cap)
    got = plugin(tshark, cap, "-2")
    zw = sorted(fr for fr, v in got.items() if "mptcp.analysis.zero_window" in v)
    wf = sorted(fr for fr, v in got.items() if "mptcp.analysis.window_full" in v)
    assert zw and wf
    data = [p for p in t.truth.packets if p.direction == 1 and p.dsn is not None]
    for fr in zw:
        p = t.truth.by_frame[fr]
        # bytes of the download captured in order up to this frame, and read by the application
        arrived = max(q.dsn - 1 + q.tcp_len for q in data if q.frame <= fr)
        read = sum(n for ts, n in reads if ts <= p.ts)
        unread = arrived - read
        assert unread >= log["rcvbuf"] // 2, (fr, arrived, read)
        # the server had filled the window before the zero window
        assert any(w < fr for w in wf), fr
    # the application's one long stall (--stall 60000:0.15) holds a zero window
    (stall_at, sec), = log["stalls"]
    gaps = [(a[0], b[0]) for a, b in zip(reads, reads[1:]) if b[0] - a[0] >= sec]
    assert len(gaps) == 1
    assert any(gaps[0][0] <= t.truth.by_frame[fr].ts <= gaps[0][1] for fr in zw)
    # the 0.15 s stall of the application appears as window-limited time
    st = t.stats()[(1, 1)]
    assert st["window_limited"] >= 0.15
    assert st["zero_windows"] == len(zw)


# ----------------------------------------------------------------------------- synthetic bad input
KEY_C = 0x1122334455667788
KEY_S = 0x99AABBCCDDEEFF00


def idsn(key):
    return F.token_idsn(key, 1)[1]


def handshake(c, wscale=(7, 8), with_synack=True):
    ws_c = F.wscale(wscale[0]) if wscale else b""
    ws_s = F.wscale(wscale[1]) if wscale else b""
    fr = [c.syn(F.mp_capable(1, 0x81) + ws_c)]
    if with_synack:
        fr.append(c.synack(F.mp_capable(1, 0x81, sendkey=KEY_S) + ws_s))
    else:
        c.nxt[1] += 1
    fr.append(c.ack(F.mp_capable(1, 0x81, sendkey=KEY_C, recvkey=KEY_S)))
    return fr


def synthetic(tshark, tmp_path, name, fr, *extra):
    path = F.write_pcap(tmp_path / name, fr)
    one = plugin(tshark, path, *extra)
    two = plugin(tshark, path, "-2", *extra)
    return one, two


def test_data_ack_before_any_data(tshark, tmp_path):
    """A DATA_ACK for data never sent gives no flight and no window edge; a valid one does."""
    c = F.Conversation()
    fr = handshake(c)
    base_c, base_s = idsn(KEY_C), idsn(KEY_S)
    # the server acknowledges 5000 bytes the client never sent, window 100 << 8
    c.window = 100
    fr.append(c.ack(F.dss(ack=base_c + 1 + 5000, ack8=True), side=1))
    bogus = len(fr)
    c.window = 65535
    fr.append(c.send(True, b"a" * 1000, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 1, dsn8=True, ssn=1, dll=1000)))
    first = len(fr)
    c.window = 10                                         # edge = 1001 + (10 << 8) = 3561
    fr.append(c.ack(F.dss(ack=base_c + 1 + 1000, ack8=True), side=1))
    good = len(fr)
    c.window = 65535
    fr.append(c.send(True, b"b" * 1000, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 1001, dsn8=True, ssn=1001,
                                               dll=1000)))
    second = len(fr)
    fr.append(c.send(True, b"c" * 1560, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 2001, dsn8=True, ssn=2001,
                                               dll=1560)))
    third = len(fr)
    path_name = "ack_before_data.pcap"
    for got in synthetic(tshark, tmp_path, path_name, fr):
        # the bogus ack: its window is still the window (SYNs known), but nothing builds on it
        assert got[bogus].get("mptcp.analysis.data_window") == str(100 << 8)
        assert "mptcp.analysis.flight" not in got.get(first, {})
        assert "mptcp.analysis.window_full" not in got.get(first, {})
        assert got[good]["mptcp.analysis.data_window"] == str(10 << 8)
        assert got[second]["mptcp.analysis.flight"] == "1000"          # 2001 - 1001
        assert "mptcp.analysis.window_full" not in got[second]          # 2001 < 3561
        assert got[third]["mptcp.analysis.flight"] == "2560"            # 3561 - 1001
        assert "mptcp.analysis.window_full" in got[third]               # reaches 3561
        # no noise on pure ACKs
        for f in (bogus, good):
            for k in ("mptcp.analysis.flight", "mptcp.analysis.window_full", "mptcp.analysis.hol_wait",
                      "mptcp.analysis.spurious_reinjection", "mptcp.analysis.zero_window"):
                assert k not in got.get(f, {}), (f, k)


@pytest.mark.parametrize("missing", ["synack", "both"])
def test_window_without_syn_has_no_scale(tshark, tmp_path, missing):
    """Without the subflow's SYNs the window scale is unknown: no data_window, no window_full;
    a zero window is zero whatever the scale."""
    c = F.Conversation()
    fr = handshake(c, with_synack=False)
    if missing == "both":
        fr = fr[1:]                                       # no SYN either
    base_c, base_s = idsn(KEY_C), idsn(KEY_S)
    fr.append(c.send(True, b"a" * 1000, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 1, dsn8=True, ssn=1, dll=1000)))
    c.window = 8
    fr.append(c.ack(F.dss(ack=base_c + 1 + 1000, ack8=True), side=1))
    ack = len(fr)
    c.window = 65535
    fr.append(c.send(True, b"b" * 1000, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 1001, dsn8=True, ssn=1001,
                                               dll=1000)))
    data = len(fr)
    c.window = 0
    fr.append(c.ack(F.dss(ack=base_c + 1 + 2000, ack8=True), side=1))
    zero = len(fr)
    for got in synthetic(tshark, tmp_path, "nosyn-%s.pcap" % missing, fr):
        for f, v in got.items():
            assert "mptcp.analysis.data_window" not in v, f
            assert "mptcp.analysis.window_full" not in v, f
        assert got[data]["mptcp.analysis.flight"] == "1000"
        assert "mptcp.analysis.zero_window" in got[zero]
        assert "mptcp.analysis.zero_window" not in got.get(ack, {})


def test_32bit_data_acks_that_wrap(tshark, tmp_path):
    """RFC 8684 section 3.3: 32-bit DATA_ACKs are the low bits of the 64-bit one; across a wrap
    of the low 32 bits the flight stays the true byte count."""
    c = F.Conversation()
    fr = handshake(c)
    base_c, base_s = idsn(KEY_C), idsn(KEY_S)
    # the client's data starts 64-bit 0x300 below a wrap of the low 32 bits: a relative start
    # far beyond the first byte is fine for the DSN (the mapping says where the data is)
    start = (base_c & ~0xffffffff) + 0xffffff00
    if start <= base_c:
        start += 1 << 32
    seg = 0x100
    expected = {}
    dsn, ssn = start, 1
    acked = None
    for i in range(5):
        fr.append(c.send(True, b"x" * seg, F.dss(ack=base_s + 1, ack8=True, dsn=dsn, dsn8=True, ssn=ssn, dll=seg)))
        if acked is not None:
            expected[len(fr)] = dsn + seg - acked
        dsn += seg
        ssn += seg
        # the server acknowledges all but the last segment, with a 32-bit DATA_ACK
        acked = dsn - seg // 2
        fr.append(c.ack(F.dss(ack=acked & 0xffffffff, ack8=False), side=1))
    for got in synthetic(tshark, tmp_path, "wrap32.pcap", fr):
        for f, v in expected.items():
            assert got[f]["mptcp.analysis.flight"] == str(v), (f, got.get(f))
        for f, v in got.items():
            assert "mptcp.analysis.window_full" not in v, f
            assert "mptcp.analysis.spurious_reinjection" not in v, f


# ----------------------------------------------------------------------------- -z mptcp,stat
def stat_truth(tshark, cap):
    """{(mptcp.stream, 'c2s'|'s2c'): truth statistics} of a capture."""
    t = get_truth(cap, tshark)
    rows = tshark.fields(str(cap), ["frame.number", "mptcp.stream"])
    stream_of = {int(r[0]): r[1] for r in rows if r[1]}
    out = {}
    for (cn, d), st in t.stats().items():
        frames = [p.frame for p in t.truth.packets if p.conn == cn and p.frame in stream_of]
        if frames:
            out[(int(stream_of[frames[0]]), ("c2s", "s2c")[d])] = st
    return out


def check_stat(want, got_num, label):
    """got_num(key) -> number or None; compares every statistic of one direction."""
    errs = []
    n = want["ahead_of_gap"]
    exact = {"flight_max": want["flight_max"], "flight_median": want["flight_median"],
             "zero_windows": want["zero_windows"], "ahead_of_gap": n,
             "spurious_packets": want["spurious_packets"], "spurious_bytes": want["spurious_bytes"]}
    for k, w in exact.items():
        if got_num(k) != w:
            errs.append("%s %s: truth %r plugin %r" % (label, k, w, got_num(k)))
    times = {"window_limited": (want["window_limited"], 4e-6), "hol_p50": (want["hol_p50"], HOL_TOLERANCE),
             "hol_p99": (want["hol_p99"], HOL_TOLERANCE), "hol_max": (want["hol_max"], HOL_TOLERANCE),
             "hol_total": (want["hol_total"], HOL_TOLERANCE * max(n, 1))}
    for k, (w, tol) in times.items():
        g = got_num(k)
        if (w is None) != (g is None) or (w is not None and abs(g - w) > tol):
            errs.append("%s %s: truth %r plugin %r" % (label, k, w, g))
    return errs


STAT_CAPS = [p for p in CAPS if p.name not in APP]


@pytest.mark.parametrize("cap", STAT_CAPS, ids=[p.name for p in STAT_CAPS])
def test_stat_json_matches_truth(tshark, cap):
    want = stat_truth(tshark, cap)
    js = json.loads(tshark.run("-r", cap, "-q", "-z", "mptcp,stat,json"))
    errs = []
    seen = set()
    for c in js["connections"]:
        for dk, dv in c["directions"].items():
            key = (c["stream"], dk)
            if key not in want:
                continue
            seen.add(key)
            do = dv["dataorder"]
            flat = {"flight_max": do["flight_max"], "flight_median": do["flight_median"],
                    "zero_windows": do["zero_windows"], "ahead_of_gap": do["ahead_of_gap"],
                    "spurious_packets": do["spurious_reinjections"]["packets"],
                    "spurious_bytes": do["spurious_reinjections"]["bytes"],
                    "window_limited": do["window_limited"], "hol_p50": do["hol_wait"]["p50"],
                    "hol_p99": do["hol_wait"]["p99"], "hol_max": do["hol_wait"]["max"],
                    "hol_total": do["hol_wait"]["total"]}
            errs += check_stat(want[key], flat.get, "%s %s" % key)
    assert seen == set(want)
    assert not errs, "\n".join(errs)


@pytest.mark.parametrize("name", ["v1-slowread.pcap", "v1-hol-client.pcap", "v1-blackhole.pcap"])
def test_stat_csv_matches_truth(tshark, name):
    import csv
    import io
    cap = CAPTURES / name
    want = stat_truth(tshark, cap)
    rows = [r for r in csv.DictReader(io.StringIO(tshark.run("-r", cap, "-q", "-z", "mptcp,stat,csv")))
            if r["record"] == "connection"]
    cols = {"flight_max": "flight_max", "flight_median": "flight_median", "zero_windows": "zero_windows",
            "ahead_of_gap": "ahead_of_gap", "spurious_packets": "spurious_reinjected_packets",
            "spurious_bytes": "spurious_reinjected_bytes", "window_limited": "window_limited",
            "hol_p50": "hol_wait_p50", "hol_p99": "hol_wait_p99", "hol_max": "hol_wait_max",
            "hol_total": "hol_wait_total"}
    errs = []
    for r in rows:
        key = (int(r["stream"]), r["direction"])
        def num(k, r=r):
            v = r[cols[k]]
            if v == "":
                return None
            return float(v) if "." in v else int(v)
        errs += check_stat(want[key], num, "%s %s" % key)
    assert len(rows) == len(want) and not errs, "\n".join(errs)


def test_stat_text_has_the_table(tshark):
    out = tshark.run("-r", CAPTURES / "v1-slowread.pcap", "-q", "-z", "mptcp,stat")
    assert "Data order" in out and "Flight max" in out and "HoL P99" in out
