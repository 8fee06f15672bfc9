"""Runs the C unit tests (ctest) from pytest, so the one test command covers them too."""
import subprocess


def test_ctest_optparse(plugin_build):
    p = subprocess.run(["ctest", "--output-on-failure", "-R", "optparse"], cwd=plugin_build, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "1/1 Test" in p.stdout


def test_ctest_ranges(plugin_build):
    """tests/unit/test_ranges.c: the interval index against a brute-force scan."""
    p = subprocess.run(["ctest", "--output-on-failure", "-R", "ranges"], cwd=plugin_build, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "1/1 Test" in p.stdout


def test_ctest_sent(plugin_build):
    """tests/unit/test_sent.c: the index of sent data against a linear scan, visit order included."""
    p = subprocess.run(["ctest", "--output-on-failure", "-R", "sent"], cwd=plugin_build, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "1/1 Test" in p.stdout


def test_ctest_peer(plugin_build):
    """tests/unit/test_peer.c on the committed v1-vantage pair: the peer reader, index and matcher
    run to the end (their values are checked against the truth in tests/test_vantage.py)."""
    p = subprocess.run(["ctest", "--output-on-failure", "-R", "^peer$"], cwd=plugin_build, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "1/1 Test" in p.stdout
