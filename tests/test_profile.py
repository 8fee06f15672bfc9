"""The MPTCP configuration profile (profiles/MPTCP): every display filter in it compiles with the
plugin loaded, every I/O graph plots exactly the packets and values the captures' ground truth
(tests/truth.py; tests/dataorder_truth.py for the [dataorder] fields, tests/vantage_truth.py for
the [vantage] ones on a client/server pair, with mptcp.peer_capture set) says it should, and
`tshark -C MPTCP` with the profile in the configuration folder shows its columns and colours.

The files are Wireshark's own formats, read by 4.0, 4.4 and 4.6 alike: io_graphs is the UAT of
ui/qt/io_graph_dialog.cpp with the 9 columns of 4.0 (4.6 added a 10th, "asAOT", and fills it from
its defaults when a line has 9), colorfilters the @name@filter@[fg][bg] list of
epan/color_filters.c, dfilter_buttons the UAT of epan/filter_expressions.c, preferences the
gui.column.format list of epan/prefs.c.

Each graph is one line of GRAPHS below: its name, the capture it must match, the truth check.
Wireshark's I/O graph taps "(filter) && (Y field)" and plots the calculation over the Y field
values of the matching packets per interval (IOGraph::setFilter); the tests run the same filter.
"""
import re
import shutil

import pytest

import dataorder_truth as DT
import truth
import vantage_truth as VT
from conftest import CAPTURES, REPO, Tshark

PROFILE = REPO / "profiles" / "MPTCP"


# ----------------------------------------------------------------------------- the profile's files
def _uat_rows(name):
    """Rows of a UAT file: lists of the quoted, comma-separated fields (\\xNN unescaped)."""
    rows = []
    for line in (PROFILE / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
        assert ",".join(f'"{f}"' for f in fields) == line.strip(), f"{name}: not a UAT line: {line}"
        rows.append([re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), f) for f in fields])
    return rows


IO_COLUMNS = ["enabled", "name", "dfilter", "color", "style", "yaxis", "yfield", "sma_period", "y_axis_factor"]


def io_graphs():
    return [dict(zip(IO_COLUMNS, r)) for r in _uat_rows("io_graphs")]


def color_rules():
    """(name, filter, background, foreground) of the enabled coloring rules, in order."""
    rules = []
    for line in (PROFILE / "colorfilters").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r"(!?)@([^@]+)@([^@]+)@\[(\d+),(\d+),(\d+)\]\[(\d+),(\d+),(\d+)\]", line)
        assert m, f"colorfilters: not a rule: {line}"
        rgb = [int(v) for v in m.groups()[3:]]
        assert all(v <= 65535 for v in rgb), line
        if not m.group(1):
            rules.append((m.group(2), m.group(3), rgb[:3], rgb[3:]))
    return rules


def dfilter_buttons():
    return [dict(zip(["enabled", "label", "expression", "comment"], r)) for r in _uat_rows("dfilter_buttons")]


def columns():
    """(title, format) pairs of the preferences' gui.column.format."""
    text = (PROFILE / "preferences").read_text()
    m = re.search(r"^gui\.column\.format:\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    assert m, "no gui.column.format in preferences"
    values = re.findall(r'"([^"]*)"', m.group(1))
    assert len(values) % 2 == 0
    return list(zip(values[0::2], values[1::2]))


def column_fields():
    return [fmt.split(":")[1] for _, fmt in columns() if fmt.startswith("%Cus:")]


def all_filters():
    """Every display filter of the profile, with where it comes from."""
    out = [(f"io_graphs {g['name']}", g["dfilter"]) for g in io_graphs()]
    out += [(f"io_graphs {g['name']} Y field", g["yfield"]) for g in io_graphs() if g["yfield"]]
    out += [(f"colorfilters {name}", flt) for name, flt, _, _ in color_rules()]
    out += [(f"dfilter_buttons {b['label']}", b["expression"]) for b in dfilter_buttons()]
    out += [(f"column {f}", f) for f in column_fields()]
    return out


# ----------------------------------------------------------------------------- truth of the graphs
_truths = {}


def T(name):
    if name not in _truths:
        _truths[name] = truth.analyze(str(CAPTURES / name))
    return _truths[name]


def _stream0(t):
    """Packets of mptcp.stream 0: the connection of the capture's first packet."""
    conn = t.packets[0].conn
    return [p for p in t.packets if p.conn == conn]


def _subflow_index(t, p):
    """mptcp.subflow counts a connection's subflows in the order of their first packet."""
    return t.connections[p.conn].subflows.index(p.subflow)


def dsn_of_subflow(n):
    """Dots: the true relative DSN of every client data packet on subflow n."""
    def check(t, got):
        want = {p.frame: p.dsn for p in _stream0(t) if p.is_data and p.direction == 0 and _subflow_index(t, p) == n}
        assert got == want
    return check


def reinjections(t, got):
    """Crosses: the true DSN of every client data packet that carries bytes sent before on another subflow."""
    assert got == {p.frame: p.dsn for p in _stream0(t) if p.direction == 0 and p.reinjection_of}


def server_data_ack(t, got):
    """Line: the true relative DATA_ACK of every server packet that carries one."""
    assert got == {p.frame: p.data_ack for p in _stream0(t) if p.direction == 1 and p.data_ack is not None}


def bytes_of_subflow(n):
    """Throughput: the TCP payload of every client packet on subflow n (SUM per interval)."""
    def check(t, got):
        want = {p.frame: p.tcp_len for p in _stream0(t) if p.direction == 0 and _subflow_index(t, p) == n}
        assert got == want and sum(want.values()) > 0
    return check


def latency(t, got):
    """Dots: the latency of a first transmission = time until the first server DATA_ACK covering its bytes."""
    pkts = _stream0(t)
    acks = [(p.ts, p.data_ack) for p in pkts if p.direction == 1 and p.data_ack is not None]
    firsts = [p for p in pkts if p.is_data and p.direction == 0 and not p.retransmission and not p.reinjection_of]
    checked = 0
    for p in firsts:
        if p.frame not in got:
            continue
        ack_ts = next(ts for ts, a in acks if ts >= p.ts and a >= p.dsn + p.tcp_len)
        assert got[p.frame] == pytest.approx(ack_ts - p.ts, abs=2e-6), p.frame
        checked += 1
    assert set(got) <= {p.frame for p in pkts if p.is_data and p.direction == 0}
    assert checked >= 0.9 * len(firsts) and checked > 0


def client_data(t, got):
    """At least: the graph taps client data packets of stream 0 only (for a graph whose values
    have no truth of their own yet)."""
    assert got and set(got) <= {p.frame for p in _stream0(t) if p.is_data and p.direction == 0}


_dataorder = {}


def dataorder(name, direction, tolerance=0):
    """A [dataorder] field (tests/dataorder_truth.py, its semantics): the truth's value on every
    packet of stream 0 in the direction (0 = client to server) that has one."""
    def check(t, got):
        if t.path not in _dataorder:
            _dataorder[t.path] = DT.analyze(t.path)
        conn = t.packets[0].conn
        want = {f: v for f, v in _dataorder[t.path].values(name).items()
                if t.by_frame[f].conn == conn and t.by_frame[f].direction == direction}
        assert want and set(got) == set(want)
        for f in want:
            assert got[f] == pytest.approx(want[f], abs=tolerance), f
    return check


PEER = CAPTURES / "v1-vantage-server.pcap"     # the other end of v1-vantage-client.pcap
WITH_PEER = ["-o", f"mptcp.peer_capture:{PEER}"]
_vantage = {}


def owd_of_subflow(n):
    """Dots (AVG per interval): the one-way delay (tests/vantage_truth.py: the server's timestamp
    of the same segment minus the client's) of every client packet of subflow n found in the
    server's capture."""
    def check(t, got):
        if t.path not in _vantage:
            _vantage[t.path] = VT.analyze(t.path, str(PEER), "client")
        v = _vantage[t.path]
        want = {p.frame: v.owd[p.frame] for p in _stream0(t)
                if p.direction == 0 and _subflow_index(t, p) == n and p.frame in v.owd}
        assert want and set(got) == set(want)
        for f in want:
            assert got[f] == pytest.approx(want[f], abs=2e-6), f
    return check


# One line per graph of profiles/MPTCP/io_graphs: its name, the committed capture it must match,
# extra tshark arguments, the truth check of {frame: Y value} of the packets the graph taps.
GRAPHS = [
    ("DSN subflow 0 c2s", "v1-4sub.pcap", [], dsn_of_subflow(0)),
    ("DSN subflow 1 c2s", "v1-4sub.pcap", [], dsn_of_subflow(1)),
    ("DSN subflow 2 c2s", "v1-4sub.pcap", [], dsn_of_subflow(2)),
    ("DSN subflow 3 c2s", "v1-4sub.pcap", [], dsn_of_subflow(3)),
    ("Reinjections c2s", "v1-blackhole.pcap", [], reinjections),
    ("DATA_ACK s2c", "v1-blackhole.pcap", [], server_data_ack),
    ("Throughput subflow 0 c2s", "v1-4sub.pcap", [], bytes_of_subflow(0)),
    ("Throughput subflow 1 c2s", "v1-4sub.pcap", [], bytes_of_subflow(1)),
    ("Throughput subflow 2 c2s", "v1-4sub.pcap", [], bytes_of_subflow(2)),
    ("Throughput subflow 3 c2s", "v1-4sub.pcap", [], bytes_of_subflow(3)),
    ("Latency c2s", "v1-blackhole.pcap", ["-2"], latency),     # known once the DATA_ACK is seen
    ("Flight c2s", "v1-hol-client.pcap", [], dataorder("flight", 0)),
    ("Data window s2c", "v1-hol-client.pcap", [], dataorder("data_window", 1)),
    ("Flight s2c", "v1-slowread.pcap", [], dataorder("flight", 1)),
    ("Data window c2s", "v1-slowread.pcap", [], dataorder("data_window", 0)),
    ("HoL wait c2s", "v1-hol-server.pcap", ["-2"], dataorder("hol_wait", 0, 2e-6)),  # known when the gap closes
    ("HoL wait s2c", "v1-hol-client.pcap", ["-2"], dataorder("hol_wait", 1, 2e-6)),
    ("One-way delay subflow 0 c2s", "v1-vantage-client.pcap", WITH_PEER, owd_of_subflow(0)),
    ("One-way delay subflow 1 c2s", "v1-vantage-client.pcap", WITH_PEER, owd_of_subflow(1)),
    ("One-way delay subflow 2 c2s", "v1-vantage-client.pcap", WITH_PEER, owd_of_subflow(2)),
]

# The values every version's I/O graph dialog accepts (graph_style_vs and y_axis_vs of 4.0's
# io_graph_dialog.cpp; 4.4 and 4.6 keep them and add more)
STYLES = {"Line", "Impulse", "Bar", "Stacked Bar", "Dot", "Square", "Diamond", "Cross", "Circle", "Plus"}
YAXES = {"Packets", "Bytes", "Bits", "SUM(Y Field)", "COUNT FRAMES(Y Field)", "COUNT FIELDS(Y Field)",
         "MAX(Y Field)", "MIN(Y Field)", "AVG(Y Field)", "LOAD(Y Field)"}
NUMERIC = {"FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32", "FT_UINT64", "FT_INT8", "FT_INT16", "FT_INT24",
           "FT_INT32", "FT_INT64", "FT_RELATIVE_TIME", "FT_FLOAT", "FT_DOUBLE"}


@pytest.fixture(scope="module")
def profile_tshark(plugin_build, tmp_path_factory):
    """tshark with the plugin and the profile copied into its configuration folder's profiles/."""
    t = Tshark(plugin_build / "plugins", tmp_path_factory.mktemp("tshark-profile"))
    shutil.copytree(PROFILE, t.cfg / "profiles" / "MPTCP")
    for p in [t.cfg, *t.cfg.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)      # tshark runs as uid 65534
    return t


def _ftypes(tshark):
    return {c[2]: c[3] for c in (l.split("\t") for l in tshark.run("-G", "fields").splitlines())
            if len(c) > 3 and c[0] == "F"}


# ----------------------------------------------------------------------------- the files' formats
def test_io_graphs_format_reads_in_every_version(tshark):
    graphs = io_graphs()
    ftypes = _ftypes(tshark)
    assert graphs
    for g in graphs:
        assert len(g) == 9, g
        assert g["enabled"] in ("Enabled", "Disabled"), g
        assert re.fullmatch(r"#[0-9a-f]{6}", g["color"]), g
        assert g["style"] in STYLES and g["yaxis"] in YAXES, g
        assert g["sma_period"] == "None" and g["y_axis_factor"] == "1", g
        if "Y Field" in g["yaxis"]:
            assert ftypes.get(g["yfield"]) in NUMERIC, g
    assert len({g["name"] for g in graphs}) == len(graphs)


def test_every_graph_has_its_line_in_GRAPHS():
    assert [g["name"] for g in io_graphs()] == [name for name, *_ in GRAPHS]


def test_every_column_field_is_registered(tshark):
    ftypes = _ftypes(tshark)
    assert set(column_fields()) >= {"mptcp.stream", "mptcp.subflow", "mptcp.dsn", "mptcp.ack",
                                    "mptcp.analysis.latency"}
    for f in column_fields():
        assert f in ftypes, f


@pytest.mark.parametrize("where,dfilter", all_filters(), ids=[w for w, _ in all_filters()])
def test_every_filter_compiles_with_the_plugin(tshark, where, dfilter):
    tshark.run("-r", CAPTURES / "v1-3sub.pcap", "-c", "1", "-Y", dfilter)
    assert "deprecated" not in tshark.last_stderr.lower(), tshark.last_stderr


# ----------------------------------------------------------------------------- the graphs
@pytest.mark.parametrize("name,capture,extra,check", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_graph_plots_the_truth(tshark, name, capture, extra, check):
    g = next(g for g in io_graphs() if g["name"] == name)
    tapped = f"({g['dfilter']}) && ({g['yfield']})"
    rows = tshark.fields(CAPTURES / capture, ["frame.number", g["yfield"]], "-Y", tapped, *extra)
    assert rows, f"{name}: no packet of {capture} matches"
    got = {int(r[0]): (float(r[1]) if "." in r[1] else int(r[1])) for r in rows}
    check(T(capture), got)
    # tshark's I/O statistics (the same calculation over the whole capture) accept the Y field
    calc = g["yaxis"].split("(")[0]
    out = tshark.run("-r", CAPTURES / capture, "-q", "-z", f"io,stat,0,{calc}({g['yfield']}){tapped}", *extra)
    row = next(line for line in out.splitlines() if "<>" in line)
    value = float([c for c in row.split("|") if c.strip()][1])
    want = {"MAX": max(got.values()), "SUM": sum(got.values()), "AVG": sum(got.values()) / len(got)}[calc]
    assert value == pytest.approx(want, abs=1e-6), row


@pytest.mark.parametrize("role", ["client", "server"])
def test_lost_on_path_button_selects_the_truth(tshark, role):
    """The "Lost on path" button: with the other end's capture as peer, exactly the data segments
    sent here that never reach it (tests/vantage_truth.py); nothing without a peer."""
    (b,) = [b for b in dfilter_buttons() if b["label"] == "Lost on path"]
    this, peer = CAPTURES / "v1-vantage-client.pcap", CAPTURES / "v1-vantage-server.pcap"
    if role == "server":
        this, peer = peer, this
    v = VT.analyze(str(this), str(peer), role)
    rows = tshark.fields(this, ["frame.number"], "-Y", b["expression"], "-o", f"mptcp.peer_capture:{peer}")
    assert {int(r[0]) for r in rows} == v.lost and v.lost
    assert tshark.count(this, b["expression"]) == 0


# ----------------------------------------------------------------------------- tshark -C MPTCP
def test_tshark_loads_the_profile_without_complaint(profile_tshark):
    profile_tshark.run("-C", "MPTCP", "--color", "-r", CAPTURES / "v1-3sub.pcap", "-c", "1")
    assert profile_tshark.last_stderr.strip() == "", profile_tshark.last_stderr


def test_tshark_C_prints_the_profile_columns(profile_tshark, tshark):
    cap = CAPTURES / "v1-blackhole.pcap"
    psml = profile_tshark.run("-C", "MPTCP", "-r", cap, "-2", "-T", "psml")
    sections = lambda xml: [re.sub(r"&[a-z]+;", "", s) for s in re.findall(r"<section>(.*?)</section>", xml)]
    structure = sections(psml.split("</structure>")[0])
    assert structure == [title for title, _ in columns()]
    packets = [sections(p) for p in psml.split("<packet>")[1:]]
    # the custom columns hold the fields' values (the same as -T fields without the profile)
    fields = column_fields()
    at = [i for i, (_, fmt) in enumerate(columns()) if fmt.startswith("%Cus:")]
    values = tshark.fields(cap, fields, "-2")
    assert len(packets) == len(values)
    for pkt, row in zip(packets, values):
        for i, f, v in zip(at, fields, row):
            if f == "mptcp.analysis.latency" and v:
                assert float(pkt[i].split()[0]) == pytest.approx(float(v), abs=1e-9)
            else:
                assert pkt[i] == v, (pkt[0], f)
    assert sum(1 for r in values if r[fields.index("mptcp.dsn")]) > 500
    # the default text output has them too: frame number, ..., DSN and DATA_ACK of each data packet
    text = profile_tshark.run("-C", "MPTCP", "-r", cap, "-2")
    for line, pkt in zip(text.splitlines(), packets):
        dsn, ack = pkt[[t for t, _ in columns()].index("DSN")], pkt[[t for t, _ in columns()].index("DATA_ACK")]
        assert line.split()[0] == pkt[0]
        if dsn:
            assert f" {dsn} {ack} " in line, line
    # without the profile: Wireshark's default columns
    plain = sections(tshark.run("-r", cap, "-c", "1", "-T", "psml").split("</structure>")[0])
    assert "DSN" not in plain and "DSN" in structure


def test_tshark_C_colours_subflows_and_reinjections(profile_tshark):
    cap = "v1-4sub.pcap"
    t = T(cap)
    rules = {name: (bg, fg) for name, _, bg, fg in color_rules()}
    assert {"MPTCP reinjection", "MPTCP subflow 0", "MPTCP subflow 3"} <= set(rules)
    luma = lambda rgb: 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    for n in range(4):                    # light rows with dark text ([background][foreground])
        bg, fg = rules[f"MPTCP subflow {n}"]
        assert luma(bg) > 0.7 * 65535 > luma(fg)
    rows = profile_tshark.fields(CAPTURES / cap, ["frame.number", "frame.coloring_rule.name"], "-C", "MPTCP",
                                 "--color", "-2")
    seen = set()
    for frame, rule in ((int(r[0]), r[1]) for r in rows):
        p = t.by_frame[frame]
        if p.reinjection_of:
            assert rule == "MPTCP reinjection", frame
        elif rule != "Bad TCP":            # TCP's retransmissions, duplicate ACKs: Wireshark's rule
            assert rule == f"MPTCP subflow {_subflow_index(t, p)}", frame
        seen.add(rule)
    assert {"MPTCP reinjection", "MPTCP subflow 0", "MPTCP subflow 1", "MPTCP subflow 2", "MPTCP subflow 3"} <= seen
