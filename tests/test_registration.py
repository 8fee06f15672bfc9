"""The plugin loads as a drop-in replacement of the built-in MPTCP analysis."""
import csv
from pathlib import Path

from conftest import REPO, external

BUILTIN_FIELDS = REPO / "docs" / "builtin-fields-4.0.tsv"


def _fields(t):
    rows = {}
    for line in t.run("-G", "fields").splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and (cols[2].startswith("mptcp.") or cols[2].startswith("tcp.options.mptcp.")):
            rows.setdefault(cols[2], []).append(cols[3])
    return rows


def test_plugin_listed_as_dissector(tshark):
    line = [l for l in tshark.run("-G", "plugins").splitlines() if "mptcp.so" in l][0]
    cols = line.split()
    assert cols[1] == "0.1.0" or cols[1][0].isdigit()
    assert "dissector" in line


def test_option_30_goes_to_plugin(tshark):
    decodes = tshark.run("-G", "decodes").splitlines()
    # the plugin's handle replaces the built-in's, on the same "mptcp" protocol
    assert "tcp.option\t30\tmptcp" in decodes
    # TCP itself still owns IP protocol 6 (the plugin's wrapper reports as tcp)
    assert "ip.proto\t6\ttcp" in decodes
    # and it is the plugin that renders the option: a field only the plugin has is there
    cap = external("tcpdump-tests", "mptcp-v1.pcap")
    rows = tshark.fields(cap, ["frame.protocols", "mptcp.client_key"], "-Y", "tcp.options.mptcp.subtype == 0")
    assert rows and any(r[1] for r in rows)


def test_layers_read_tcp_mptcp_as_with_builtin(tshark, tshark_builtin):
    """frame.protocols (and so the GUI's Follow menu, which reads the layers) names "mptcp"."""
    cap = external("tcpdump-tests", "mptcp-v1.pcap")
    ours = tshark.fields(cap, ["frame.protocols"])
    theirs = tshark_builtin.fields(cap, ["frame.protocols"])
    assert ours == theirs
    assert any(r[0].endswith(":tcp:mptcp") for r in ours)


def test_same_field_names_and_types_as_builtin(tshark):
    """Every built-in mptcp.*/tcp.options.mptcp.* field is registered by the plugin with the same type."""
    ours = _fields(tshark)
    with open(BUILTIN_FIELDS) as f:
        for row in csv.reader(f, delimiter="\t"):
            if row[0] != "F":
                continue
            name, ftype = row[2], row[3]
            assert name in ours, name
            # the built-in's own registration plus ours: all must share the type
            assert set(ours[name]) == {ftype}, (name, ours[name], ftype)


def test_builtin_prefs_accepted(tshark):
    """pymptcpanalyzer's four -o prefs are accepted, and analyze_mappings still switches DSNs off."""
    cap = external("tcpdump-tests", "mptcp-v1.pcap")
    on = tshark.fields(cap, ["mptcp.dsn"], "-o", "mptcp.analyze_mptcp:TRUE", "-o",
                       "mptcp.relative_sequence_numbers:TRUE", "-o", "mptcp.analyze_mappings:TRUE",
                       "-o", "mptcp.intersubflows_retransmission:TRUE")
    off = tshark.fields(cap, ["mptcp.dsn"], "-o", "mptcp.analyze_mappings:FALSE")
    assert sum(1 for r in on if r[0]) > 0
    assert sum(1 for r in off if r[0]) == 0


def test_default_prefs_enable_dsn_and_reinjections(tshark):
    out = tshark.run("-G", "currentprefs")
    assert "mptcp.analyze_mappings: TRUE" in out
    assert "mptcp.intersubflows_retransmission: TRUE" in out
