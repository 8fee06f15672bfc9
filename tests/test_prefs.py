"""Preferences: the built-in names still work, defaults give full analysis, and results do not
depend on TCP's preferences ([dsn] item 7)."""
from conftest import CAPTURES

CAP = CAPTURES / "v1-blackhole.pcap"
FIELDS = ["frame.number", "mptcp.stream", "mptcp.dsn", "mptcp.ack", "mptcp.reinjection_of", "mptcp.related_mapping"]


def test_defaults_give_dsn_and_reinjections(tshark):
    rows = tshark.fields(CAP, FIELDS)
    assert sum(1 for r in rows if r[2]) > 500
    assert sum(1 for r in rows if r[4]) > 10


def test_independent_of_tcp_prefs(tshark):
    base = tshark.fields(CAP, FIELDS)
    for prefs in (["-o", "tcp.relative_sequence_numbers:FALSE"], ["-o", "tcp.analyze_sequence_numbers:FALSE"],
                  ["-o", "tcp.desegment_tcp_streams:FALSE"], ["-o", "tcp.calculate_timestamps:FALSE"]):
        assert tshark.fields(CAP, FIELDS, *prefs) == base, prefs


def test_costly_parts_can_be_switched_off(tshark):
    no_reinj = tshark.fields(CAP, FIELDS, "-o", "mptcp.intersubflows_retransmission:FALSE")
    assert sum(1 for r in no_reinj if r[4]) == 0
    assert sum(1 for r in no_reinj if r[2]) > 500
    no_map = tshark.fields(CAP, FIELDS, "-o", "mptcp.analyze_mappings:FALSE")
    assert sum(1 for r in no_map if r[2] or r[4]) == 0
    # the connection tracking and the stateless option fields stay
    no_analysis = tshark.fields(CAP, ["mptcp.stream", "tcp.options.mptcp.subtype", "mptcp.analysis"],
                                "-o", "mptcp.analyze_mptcp:FALSE")
    assert sum(1 for r in no_analysis if r[0] or r[2]) == 0
    assert sum(1 for r in no_analysis if r[1]) > 500


def test_relative_off_gives_raw_values(tshark):
    rel = tshark.fields(CAP, ["mptcp.dsn", "mptcp.rawdsn64"], "-Y", "mptcp.dsn")
    raw = tshark.fields(CAP, ["mptcp.dsn", "mptcp.rawdsn64"], "-Y", "mptcp.dsn",
                        "-o", "mptcp.relative_sequence_numbers:FALSE")
    assert all(r[0] != r[1] for r in rel)
    assert all(r[0] == r[1] for r in raw)
