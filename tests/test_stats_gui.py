"""Statistics > MPTCP Statistics (the GUI dialog's tables, stat_tap_table_ui in
plugins/mptcp/mptcp-stats.c) with a peer capture ([vantage], issue 21): the cells the dialog shows
against the truth.

The dialog's tables are printed by tshark's generic table printer (ui/cli/tap-simple_stattable.c:
a header of the column names, then per table its title and one line per row, cells separated by
" |") when MPTCP_STATS_GUI_TABLE is set: the plugin then leaves "-z mptcp,stat" to the table
(mptcp_stats_print_register). The cells are the strings the dialog displays, filled by the same
gui_init / gui_packet code. Wireshark taps the dialog after the first pass, so forward-linked
values are complete there; tshark does the same with -2 (the peer capture's values are known on
the first pass, so single pass gives the same vantage cells).

Truth: tests/vantage_truth.py (segments joined by their bytes; delays from the two files'
timestamps) and, for the clock offset estimate, the shift given to editcap -t.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import Tshark
from test_vantage import OWD_TOL, _nearest_rank, paths, vtruth

PEER_COLS = ["Peer stream", "Clock offset estimate (s)", "One-way delay min (ms)", "One-way delay mean (ms)",
             "One-way delay P50 (ms)", "One-way delay P99 (ms)", "One-way delay max (ms)", "Lost on path",
             "Useful reinj.", "Wasted reinj."]
DIRS = ("client->server", "server->client")
SCOPE = re.compile(r"Subflow (\d+) \([^)]*\) (\S+):(\d+) <-> (\S+):(\d+), (client->server|server->client)$")
MS_TOL = 0.0005 + OWD_TOL * 1e3            # 3 decimals in ms, plus the pcap resolution


@pytest.fixture(scope="module")
def gui_tshark(plugin_build, tmp_path_factory):
    t = Tshark(plugin_build / "plugins", tmp_path_factory.mktemp("tshark-gui-table"))
    t.env = dict(t.env, MPTCP_STATS_GUI_TABLE="1")
    return t


@pytest.fixture(scope="module")
def shared_tmp(tmp_path_factory):
    """A directory tshark (uid 65534) can read."""
    d = tmp_path_factory.mktemp("gui-vantage")
    os.chmod(d, 0o755)
    return d


def gui_tables(out):
    """{table title: [row dicts by column name]} of tshark's generic table printer."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Scope |"))
    cols = [c.strip() for c in lines[head].split("|")[:-1]]
    tables, rows = {}, None
    for line in lines[head + 1:]:
        if line.startswith("====="):
            break
        if "|" not in line:
            rows = tables.setdefault(line.strip(), [])
            continue
        cells = [c.strip() for c in line.split("|")[:-1]]
        assert len(cells) == len(cols), line
        rows.append(dict(zip(cols, cells)))
    return cols, tables


def gui_run(gui_tshark, this, peer, *extra):
    args = ["-r", str(this), "-q", "-z", "mptcp,stat"] + list(extra)
    if peer:
        args += ["-o", "mptcp.peer_capture:%s" % peer]
    cols, tables = gui_tables(gui_tshark.run(*args))
    assert cols[-len(PEER_COLS):] == PEER_COLS
    return tables


def _shifted(shared_tmp, src, shift):
    dst = str(shared_tmp / ("shift%s-%s" % (shift, src.name)))
    subprocess.run(["editcap", "-t", repr(shift), str(src), dst], check=True, capture_output=True)
    os.chmod(dst, 0o644)
    return dst


@pytest.mark.parametrize("shift", [0.75, -3.0])
@pytest.mark.parametrize("role", ["client", "server"])
def test_gui_clock_offset_estimate(gui_tshark, tshark, shared_tmp, role, shift):
    """The dialog's "Clock offset estimate (s)" with a peer capture shifted by editcap -t: within
    1 ms of the value that undoes the shift, on both rows of the connection, the same digits as
    -z mptcp,stat prints; empty on the subflows' rows (a connection's value)."""
    this, peer = paths("vantage", role)
    dst = _shifted(shared_tmp, peer, shift)
    for extra in ([], ["-2"]):
        (rows,) = gui_run(gui_tshark, this, dst, *extra).values()
        conn = [r for r in rows if r["Scope"].startswith("Connection, ")]
        assert [r["Scope"] for r in conn] == ["Connection, " + d for d in DIRS]
        est = {r["Clock offset estimate (s)"] for r in conn}
        assert len(est) == 1
        (cell,) = est
        assert abs(float(cell) + shift) < 1e-3, cell
        assert all(r["Clock offset estimate (s)"] == "" for r in rows if r not in conn)
        assert all(r["Peer stream"] == "0" for r in rows if r["Scope"].startswith(("Connection, ", "Subflow ")))
    text = tshark.run("-r", str(this), "-o", "mptcp.peer_capture:%s" % dst, "-q", "-z", "mptcp,stat")
    assert "clock offset estimate %s s" % cell in text
    j = json.loads(tshark.run("-r", str(this), "-o", "mptcp.peer_capture:%s" % dst, "-q", "-z", "mptcp,stat,json"))
    assert j["connections"][0]["peer"]["clock_offset_estimate"] == float(cell)


def _owd_cells_ok(row, owds, where):
    if not owds:
        assert all(row["One-way delay %s (ms)" % k] == "" for k in ("min", "mean", "P50", "P99", "max")), where
        return
    want = {"min": min(owds), "mean": sum(owds) / len(owds), "P50": _nearest_rank(owds, 50),
            "P99": _nearest_rank(owds, 99), "max": max(owds)}
    for k, w in want.items():
        got = float(row["One-way delay %s (ms)" % k])
        assert abs(got - w * 1e3) <= MS_TOL, (where, k, got, w * 1e3)


def _check_rows(v, rows, pkts_of, where):
    """The peer cells of the two rows (client->server, server->client) of one scope."""
    for d, row in enumerate(rows):
        pk = [p for p in pkts_of if p.direction == d]
        _owd_cells_ok(row, [v.owd[p.frame] for p in pk if p.frame in v.owd], (where, d))
        reinj = [v.reinjection_useful[p.frame] for p in pk if p.frame in v.reinjection_useful]
        assert row["Lost on path"] == str(sum(1 for p in pk if p.frame in v.lost)), (where, d)
        assert row["Useful reinj."] == str(sum(reinj)), (where, d)
        assert row["Wasted reinj."] == str(len(reinj) - sum(reinj)), (where, d)


@pytest.mark.parametrize("role", ["client", "server"])
def test_gui_vantage_columns_against_truth(gui_tshark, role):
    """Per connection and per subflow, both directions: one-way delay min / mean / P50 / P99 / max
    (ms), lost on the path, useful and wasted reinjections; the estimate is 0 within 1 ms on the
    same clock."""
    this, peer = paths("vantage", role)
    v = vtruth("vantage", role)
    (rows,) = gui_run(gui_tshark, this, peer, "-2").values()
    conn = [r for r in rows if r["Scope"].startswith("Connection, ")]
    _check_rows(v, conn, v.this.packets, "connection")
    assert abs(float(conn[0]["Clock offset estimate (s)"])) < 1e-3
    sfs = {}
    for r in rows:
        m = SCOPE.match(r["Scope"])
        if m:
            sfs.setdefault((m.group(2), int(m.group(3))), []).append((DIRS.index(m.group(6)), r))
    assert len(sfs) == 3
    for (addr, port), pair in sfs.items():
        pk = [p for p in v.this.packets if p.subflow.client_ip == addr and p.subflow.client_port == port]
        assert pk
        _check_rows(v, [r for _d, r in sorted(pair, key=lambda x: x[0])], pk, (addr, port))


def test_gui_without_peer_the_columns_are_empty(gui_tshark):
    this, _ = paths("vantage", "client")
    (rows,) = gui_run(gui_tshark, this, None, "-2").values()
    assert rows and all(r[c] == "" for r in rows for c in PEER_COLS)
    assert any(r["Packets"] for r in rows)
