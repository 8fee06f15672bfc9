"""Fuzzing and malformed input in the test suite: the bounded ("ci") mode of tests/fuzz.py, the
one harness (thread pool, mutation, failure patterns) for every robustness test.

Every committed capture (captures/*.pcap*) and every external one (skipped when absent) mutated
with editcap -E at three rates/seeds/offsets, the external ones at four more seeds at a high rate
(their first 600 packets when large), plus 40 captures from the MPTCP-targeted generator
(tests/fuzzgen.py) and one capture of random MPTCP options with the malformed-option catalogue
(fuzzgen.random_options_capture), each dissected with -V single pass and -V -2,
WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 and WIRESHARK_DEBUG_WMEM_OVERRIDE=strict: no crash, no
dissector bug, no hang (timeout), no sanitizer report (scripts/sanitize.sh runs this file with the
ASan/UBSan build). The long mode (>= 10,000 files) is `scripts/fuzz.sh --long`.
"""
import os

import pytest

import fuzz

JOBS = fuzz.plan("ci")
CAPTURE_IDS = sorted({j.name for j in JOBS if j.kind == "capture"})
GEN_GROUPS = 4                      # the generated files, in 4 tests
# A sanitizer build is ~2-3x slower: give each run more time before it counts as a hang.
TIMEOUT = 600 if os.environ.get("MPTCP_TSHARK_ENV") else 180


@pytest.fixture(scope="module")
def fuzz_results(tshark, tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    os.chmod(d, 0o755)                 # tshark may run as another uid (root -> 65534)
    runner = fuzz.Runner(tshark.cmd, tshark.env, d, d / "failures", TIMEOUT)
    results = fuzz.run(JOBS, runner, parallel=max(2, os.cpu_count() or 2))
    return {(r["name"], r["label"]): r for r in results}


def _check(results):
    msgs = []
    for r in results:
        for f in r["failures"]:
            msgs.append(f"{r['label']} [{f['mode']}] {' '.join(f['args'][:-2])}: {f['problem']}"
                        f" (input kept: {r.get('kept')})\n{f['stderr'][-1500:]}")
    assert not msgs, "\n".join(msgs)


@pytest.mark.parametrize("name", CAPTURE_IDS)
def test_fuzzed_capture(fuzz_results, name):
    rs = [r for (n, _), r in fuzz_results.items() if n == name]
    extra = len(fuzz.CI_EXTERNAL_MUTATIONS) if name.startswith("external/") else 0
    assert len(rs) == len(fuzz.CI_MUTATIONS) + extra
    _check(rs)


def test_random_mptcp_options(tshark, tmp_path):
    """Random MPTCP options of every subtype and length 2..40 between other options, plus the
    malformed catalogue (frames.malformed_options), first in many connections, then in one (so
    the connection analysis sees them too): no failure, and no _ws.malformed item."""
    from fuzzgen import random_options_capture
    cap = _dissect_every_mode(tshark, tmp_path, lambda d: random_options_capture(d / "random.pcap"))
    assert tshark.count(cap, "_ws.malformed") == 0


def _dissect_every_mode(tshark, tmp_path, make):
    """Writes a capture with make(dir) and dissects it in every fuzz mode: no failure."""
    os.chmod(tmp_path, 0o755)
    cap = make(tmp_path)
    os.chmod(cap, 0o644)
    runner = fuzz.Runner(tshark.cmd, tshark.env, tmp_path, None, TIMEOUT)
    for margs in fuzz.MODES.values():
        problem, stderr = runner.tshark(margs + ["-r", cap])
        assert problem is None, stderr
    return cap


@pytest.mark.parametrize("group", range(GEN_GROUPS))
def test_generated_mptcp(fuzz_results, group):
    rs = [r for (n, _), r in fuzz_results.items()
          if n.startswith("generated/") and int(n.split("/")[1]) % GEN_GROUPS == group]
    assert rs
    _check(rs)


def test_generator_is_deterministic():
    from fuzzgen import gen_capture
    from frames import Packet

    def raw(frames):
        return [(f.data, f.caplen) if isinstance(f, Packet) else (f, None) for f in frames]
    for seed in (0, 1, 2):
        assert raw(gen_capture(seed)) == raw(gen_capture(seed))


def test_generator_reaches_the_mptcp_code(tshark, tmp_path):
    """The generated captures are not just noise: connections get a stream, joins validate,
    DSNs are mapped, and every subtype shows up."""
    from fuzzgen import gen_capture
    from frames import write_pcap
    os.chmod(tmp_path, 0o755)
    cap = write_pcap(tmp_path / "g.pcap", [f for s in range(1, 13, 3) for f in gen_capture(s)] +
                     [f for s in range(0, 12, 3) for f in gen_capture(s)])
    os.chmod(cap, 0o644)
    rows = tshark.fields(cap, ["mptcp.stream", "mptcp.dsn", "tcp.options.mptcp.subtype"])
    assert sum(1 for r in rows if r[0]) > 100
    assert sum(1 for r in rows if r[1]) > 50
    subtypes = {s for r in rows for s in r[2].split(",") if s}
    assert {str(i) for i in range(9)} <= subtypes


def _gaps_then_cover_capture(path, n=60):
    """One v1 connection: n segments of 10 bytes whose mappings leave 10-byte gaps in the data
    sequence space, then one segment (a reinjection) whose mapping covers all of them and the
    gaps, so the first-transmission index gets n entries inserted while it is walked (and
    grows past its first 64 entries), then a retransmission of a gap near the end."""
    from frames import Conversation, KEY_A, KEY_B, dss, mp_capable, token_idsn, write_pcap
    c = Conversation(isn_c=1000, isn_s=5000)
    c.handshake(mp_capable(1, 0x01), mp_capable(1, 0x01, sendkey=KEY_B),
                mp_capable(1, 0x01, sendkey=KEY_A, recvkey=KEY_B))
    _, idsn_a = token_idsn(KEY_A, 1)
    _, idsn_b = token_idsn(KEY_B, 1)
    base, ack = idsn_a + 1, (idsn_b + 1) & 0xFFFFFFFF
    for k in range(n):
        c.send(True, bytes([k]) * 10, dss(ack=ack, dsn=(base + 20 * k) & 0xFFFFFFFF, ssn=1 + 10 * k, dll=10))
    c.send(True, bytes(20 * n), dss(ack=ack, dsn=base & 0xFFFFFFFF, ssn=1 + 10 * n, dll=20 * n))
    gap = 20 * (n - 5) + 10                         # a gap that the covering segment sent first
    c.send(True, bytes(10), dss(ack=ack, dsn=(base + gap) & 0xFFFFFFFF, ssn=1 + 30 * n, dll=10))
    c.ack(dss(ack=(base + 20 * n) & 0xFFFFFFFF), side=1)
    return write_pcap(path, c.frames)


def test_regression_latency_index_insert_while_walking(tshark, tmp_path):
    """Regression (found by this fuzzing under ASan; fixed in dbeb2c5): mptcp-latency.c kept
    pointers into the range index across inserts into it: after a memmove they named the wrong
    entries (half the gaps were skipped), after the index grew they pointed into freed memory
    (scripts/sanitize.sh fails here on the old code)."""
    cap = _dissect_every_mode(tshark, tmp_path, lambda d: _gaps_then_cover_capture(d / "gaps.pcap"))
    rows = tshark.fields(cap, ["frame.number", "mptcp.analysis.first_sent_frame"], "-2")
    assert len(rows) == 3 + 60 + 3
    covering = 3 + 60 + 1
    assert rows[covering][1] == str(covering)      # the gap's bytes were first sent by the covering segment


def test_wireshark_own_dissector_bug_is_told_apart(tshark, tmp_path):
    """Generated seed 407 (found by `scripts/fuzz.sh --long`): a subflow whose SYN/ACK comes before
    its SYN carries TLS-looking bytes; Wireshark 4.0's TLS (packet-tls.c, handshake reassembly)
    asserts on them, also with --disable-protocol mptcp, where none of the plugin's code runs. The
    harness re-runs such a dissector bug without MPTCP and counts it as Wireshark's own, not as a
    failure; the plugin itself must still have none (and on a version whose TLS does not assert,
    there is nothing to tell apart)."""
    job = [j for j in fuzz.plan("long", only="generated") if j.label == "generated seed 407"][0]
    os.chmod(tmp_path, 0o755)
    runner = fuzz.Runner(tshark.cmd, tshark.env, tmp_path, None, TIMEOUT)
    job.two_pass = True
    res = runner.run_job(job)
    _check([res])
    for own in res.get("wireshark_own", []):
        assert "failed assertion" in own["stderr"] or "Dissector bug" in own["stderr"]
