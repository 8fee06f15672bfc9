"""Robustness: fuzzed copies of the external captures (editcap -E 0.05 --seed N) dissected with
the plugin, -V single pass and -V -2 (two passes), WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 (set by the
fixture): tshark must exit 0 and print no "Dissector bug".

Also the hand-made malformed frames of frames.py with random option bytes around them.
Runtime: the runs go through a thread pool (one tshark per core); large captures are cut to
their first MAX_PACKETS packets before fuzzing, so the file stays well under two minutes.
"""
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import external_captures
from frames import frame, malformed_options, mptcp_opt, nop, timestamp, write_pcap

SEEDS = (1, 2, 3, 4)
ERROR_RATE = "0.05"
MAX_PACKETS = 600
MODES = {"single": ["-V"], "two_pass": ["-V", "-2"]}

# captures with MPTCP options (the tcp_only ones only exercise the wrapper: one of each pair is enough)
CAPTURES = [c for c in external_captures() if "tcp_only" not in c.name or c.name == "client_1_tcp_only.pcap"]


def _run(t, args):
    p = subprocess.run(t.cmd + [str(a) for a in args], env=t.env, capture_output=True, text=True,
                       errors="replace", timeout=300)
    bug = "Dissector bug" in p.stdout or "Dissector bug" in p.stderr or "DISSECTOR_BUG" in p.stderr
    return p.returncode, bug, p.stderr[-2000:]


def _fuzz(src, dst, seed):
    cmd = ["editcap", "-E", ERROR_RATE, "--seed", str(seed)]
    if src.stat().st_size > 200_000:
        cmd += ["-r", str(src), str(dst), f"1-{MAX_PACKETS}"]
    else:
        cmd += [str(src), str(dst)]
    subprocess.run(cmd, check=True, capture_output=True)
    return dst


@pytest.fixture(scope="module")
def fuzz_results(tshark, tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    os.chmod(d, 0o755)                # tshark may run as another uid (root -> 65534)
    jobs = []
    for cap in CAPTURES:
        for seed in SEEDS:
            f = _fuzz(cap, d / f"{cap.parent.name}-{cap.stem}-{seed}{cap.suffix}", seed)
            os.chmod(f, 0o644)
            for mode, args in MODES.items():
                jobs.append(((cap.name, seed, mode), ["-r", f] + args))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        results = dict(zip([k for k, _ in jobs], ex.map(lambda j: _run(tshark, j[1]), jobs)))
    return results


@pytest.mark.skipif(not CAPTURES, reason="external captures not present")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("cap", CAPTURES, ids=[f"{c.parent.name}/{c.name}" for c in CAPTURES])
def test_fuzzed_capture(fuzz_results, cap, mode):
    failures = []
    for seed in SEEDS:
        rc, bug, err = fuzz_results[(cap.name, seed, mode)]
        if rc != 0 or bug:
            failures.append(f"seed {seed}: rc={rc} dissector_bug={bug}\n{err}")
    assert failures == [], "\n".join(failures)


def test_random_mptcp_options(tshark, tmp_path):
    """Random MPTCP options of every subtype and length 2..40 between other options, plus the
    malformed catalogue, in one TCP connection per frame and then all in one connection (so the
    connection analysis sees them too)."""
    rnd = random.Random(8684)
    frames = []
    for i in range(1500):
        n = rnd.randint(3, 28)
        body = bytes(rnd.getrandbits(8) for _ in range(n - 3))
        opt = mptcp_opt(rnd.randint(0, 15), rnd.randint(0, 15), body)
        if rnd.random() < 0.2:
            opt = opt[:1] + bytes([rnd.randint(0, 40)]) + opt[2:]
        opts = (nop() + nop() + timestamp() if rnd.random() < 0.5 else b"") + opt
        opts = opts[:40]
        sport = 45000 + (i % 50) if i < 1000 else 45100   # first many connections, then one
        flags = rnd.choice(["S", "SA", "A", "PA", "FA", "RA"])
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
        frames.append(frame(options=opts, payload=payload, sport=sport, flags=flags, seq=rnd.getrandbits(32),
                            ack=rnd.getrandbits(32), v6=rnd.random() < 0.3))
    for i, d in enumerate(malformed_options().values()):
        frames.append(frame(options=d["options"], data_offset=d["data_offset"], payload=b"x" * 10, sport=45100,
                            seq=7 + i))
    cap = write_pcap(tmp_path / "random.pcap", frames)
    os.chmod(tmp_path, 0o755)
    os.chmod(cap, 0o644)
    for args in MODES.values():
        rc, bug, err = _run(tshark, ["-r", cap] + args)
        assert rc == 0 and not bug, err
    assert tshark.count(cap, "_ws.malformed") == 0
