"""The plugin on public captures of other projects (../shared/captures/external, skipped
when absent): v0 traffic, crafted attacks, a 10,000-SYN join flood."""

import pytest

from conftest import external, external_captures

# Subflows that cannot get an mptcp.stream on every packet, and why:
NO_STREAM_OK = {
    "mptcp-dss-oobr.pcap": "1 malformed packet",
}


@pytest.mark.parametrize("cap", external_captures(), ids=lambda p: p.name)
def test_stream_on_every_packet_of_every_subflow(tshark, cap):
    rows = tshark.fields(cap, ["tcp.stream", "mptcp.stream", "tcp.options.mptcp.subtype"])
    mptcp_streams = {r[0] for r in rows if r[0] and r[2]}
    missing = [r for r in rows if r[0] in mptcp_streams and not r[1]]
    if cap.name in NO_STREAM_OK:
        return
    assert not missing, f"{len(missing)} packets of MPTCP subflows without mptcp.stream"


@pytest.mark.parametrize("cap", external_captures(), ids=lambda p: p.name)
def test_two_pass_equals_single_pass(tshark, cap):
    fields = ["frame.number", "mptcp.stream", "mptcp.subflow", "mptcp.dsn", "mptcp.ack", "mptcp.reinjection_of",
              "mptcp.related_mapping", "mptcp.join.hmac_valid", "_ws.expert.message"]
    # Wireshark 4.4+ DNS adds "DNS response missing" on the first pass only: not MPTCP's business.
    nodns = ("--disable-protocol", "dns")
    assert tshark.fields(cap, fields, *nodns) == tshark.fields(cap, fields, "-2", *nodns)


def test_v0_client_server_pair_same_dsns(tshark):
    """pymptcpanalyzer's client and server captures of the same v0 transfer: a segment seen on
    both sides gets the same relative DSN on both."""
    sides = []
    for name in ("client_2.pcap", "server_2.pcap"):
        cap = external("pymptcpanalyzer", name)
        d = {}
        for r in tshark.fields(cap, ["ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.seq_raw", "tcp.len",
                                     "mptcp.dsn"], "-Y", "tcp.len>0"):
            if r[6]:
                d[tuple(r[:6])] = r[6]
        sides.append(d)
    common = set(sides[0]) & set(sides[1])
    assert len(common) > 1000
    diff = [k for k in common if sides[0][k] != sides[1][k]]
    assert not diff, diff[:5]


def test_v0_dsns_consistent_with_mappings(tshark):
    """v0 DSNs: a packet carrying its own mapping at its first byte has DSN = mapping DSN."""
    cap = external("pymptcpanalyzer", "client_2.pcap")
    n = 0
    for r in tshark.fields(cap, ["mptcp.rawdsn64", "tcp.options.mptcp.rawdataseqno", "tcp.seq",
                                 "tcp.options.mptcp.subflowseqno"], "-Y", "tcp.len>0 && tcp.options.mptcp.subflowseqno"):
        if r[0] and r[2] == r[3]:
            assert int(r[0]) & 0xffffffff == int(r[1]) & 0xffffffff
            n += 1
    assert n > 400


def test_crafted_captures_expert_items(tshark):
    assert tshark.count(external("dpi-mptcp", "mod_tok.pcap"), "mptcp.join.unknown_token") == 1
    assert tshark.count(external("dpi-mptcp", "mp_key_change.pcap"), "mptcp.connection.echoed_key_mismatch") == 1
    assert tshark.count(external("dpi-mptcp", "mp_rejected.pcap"), "mptcp.fallback") == 1
    assert tshark.count(external("dpi-mptcp", "wrongAdd_Addr.pcap"), "mptcp.add_addr.id_reused") == 1


def _instructions(tshark, cap, tmp_path):
    """Instructions executed inside the plugin's TCP hook (callgrind: deterministic, unlike time)."""
    out = tmp_path / f"cg.{cap.name}"
    import subprocess
    cmd = tshark.cmd[:-1] + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             "--toggle-collect=dissect_tcp_wrapper", "tshark", "-n", "-r", str(cap), "-q",
                             "-Y", "mptcp.join.unknown_token"]
    p = subprocess.run(cmd, env=tshark.env, capture_output=True, text=True, timeout=600)
    line = [l for l in p.stderr.splitlines() if "Collected" in l]
    assert line, p.stderr[-2000:]
    return int(line[-1].split()[-1].replace(",", ""))


def test_join_flood_linear(tshark, tmp_path):
    """10,000 JOIN SYNs with an unknown token: each flagged, processed in linear time."""
    import shutil
    import subprocess
    cap = external("dpi-mptcp", "flood.pcap")
    half = tmp_path / "half.pcap"
    subprocess.run(["editcap", "-r", str(cap), str(half), "1-5000"], check=True, capture_output=True)
    assert tshark.count(cap, "mptcp.join.unknown_token") == 10000
    assert tshark.count(half, "mptcp.join.unknown_token") == 5000
    # the joins name one (uncaptured) connection: they are grouped into one inferred connection
    streams = {r[0] for r in tshark.fields(cap, ["mptcp.stream"])}
    assert streams == {"0"}
    if not shutil.which("valgrind"):
        pytest.skip("valgrind not installed")
    if "LD_PRELOAD" in tshark.env:
        pytest.skip("sanitizer run (scripts/sanitize.sh): callgrind cannot run the ASan-instrumented plugin")
    quarter = tmp_path / "quarter.pcap"
    subprocess.run(["editcap", "-r", str(cap), str(quarter), "1-2500"], check=True, capture_output=True)
    ratio = _instructions(tshark, half, tmp_path) / _instructions(tshark, quarter, tmp_path)
    assert ratio < 2.3, f"twice the packets cost {ratio:.2f} times the instructions"


def test_pymptcpanalyzer_command(tshark):
    """pymptcpanalyzer's exact tshark invocation (peers.md section 3.1) works with the plugin."""
    cap = external("pymptcpanalyzer", "client_2.pcap")
    fields = ["frame.number", "frame.interface_name", "frame.time_epoch", "frame.time_relative", "_ws.col.ipsrc",
              "_ws.col.ipdst", "ip.src_host", "ip.dst_host", "tcp.stream", "tcp.srcport", "tcp.dstport",
              "tcp.window_size", "tcp.flags", "tcp.option_kind", "tcp.seq", "tcp.len", "tcp.ack",
              "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "mptcp.expected_token", "mptcp.stream",
              "tcp.options.mptcp.sendkey", "tcp.options.mptcp.recvkey", "tcp.options.mptcp.recvtok",
              "tcp.options.mptcp.datafin.flag", "tcp.options.mptcp.version", "mptcp.ack", "mptcp.dsn",
              "mptcp.related_mapping", "mptcp.reinjection_of", "mptcp.reinjected_in", "tcp.options.mptcp.subtype",
              "tcp.options.mptcp.rawdataseqno", "tcp.options.mptcp.rawdataack", "tcp.options.mptcp.subflowseqno",
              "tcp.options.mptcp.datalvllen", "tcp.options.mptcp.addrid", "mptcp.rawdsn64"]
    if "\t_ws.col.def_src\t" in tshark.run("-G", "fields"):
        # Wireshark 4.2+ names column fields after the column type, not the title: the same
        # command as pymptcpanalyzer would need there
        fields = [{"_ws.col.ipsrc": "_ws.col.def_src", "_ws.col.ipdst": "_ws.col.def_dst"}.get(f, f) for f in fields]
    args = ["-r", cap, "-E", "separator=|", "-o", 'gui.column.format:"Time","%At","ipsrc","%s","ipdst","%d"',
            "-o", "tcp.analyze_sequence_numbers:True", "-o", "mptcp.analyze_mappings:True",
            "-o", "mptcp.relative_sequence_numbers:True", "-o", "mptcp.intersubflows_retransmission:True",
            "-o", "mptcp.analyze_mptcp:True", "-2", "-R", "mptcp or tcp and not icmp", "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = tshark.run(*args).splitlines()
    assert len(out) > 2800
    cols = [l.split("|") for l in out]
    assert all(len(c) == len(fields) for c in cols)
    dsn = fields.index("mptcp.dsn")
    reinj = fields.index("mptcp.reinjection_of")
    assert sum(1 for c in cols if c[dsn]) > 1300
    assert sum(1 for c in cols if c[reinj]) > 0
