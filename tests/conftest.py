"""pytest harness for the MPTCP plugin.

Fixtures
--------
plugin_build   builds the plugin once per session (cmake) and returns the build dir.
tshark         a Tshark runner with the plugin loaded from the build tree.
tshark_builtin a Tshark runner without the plugin (Wireshark's built-in MPTCP code).

Both runners use an empty config dir (WIRESHARK_CONFIG_DIR), TZ=UTC and
WIRESHARK_ABORT_ON_DISSECTOR_BUG=1. tshark ignores plugin dirs when run as root, so as
root tshark runs as uid 65534 in a user namespace (file access stays root's).

Environment: MPTCP_BUILD_DIR (default <repo>/build), MPTCP_EXTERNAL_CAPTURES (default
<repo>/../shared/captures/external), MPTCP_CMAKE_ARGS (extra cmake arguments),
MPTCP_TSHARK_ENV (blank-separated KEY=VALUE settings for tshark only, e.g. LD_PRELOAD of the
ASan runtime: scripts/sanitize.sh; then any sanitizer report on tshark's stderr fails the run).
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
CAPTURES = REPO / "captures"
EXTERNAL = Path(os.environ.get("MPTCP_EXTERNAL_CAPTURES", REPO.parent / "shared" / "captures" / "external"))
BUILD = Path(os.environ.get("MPTCP_BUILD_DIR", REPO / "build"))

sys.path.insert(0, str(TESTS))
from runas import unpriv_prefix  # noqa: E402


class Tshark:
    """Runs tshark hermetically; `plugin_dir` None means the built-in dissector only."""

    def __init__(self, plugin_dir, workdir):
        self.plugin_dir = plugin_dir
        self.home = Path(workdir) / "home"
        self.cfg = Path(workdir) / "config"
        self.home.mkdir(parents=True, exist_ok=True)
        self.cfg.mkdir(parents=True, exist_ok=True)
        empty = Path(workdir) / "no-plugins"
        empty.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRESHARK_", "XDG_"))}
        env.update(HOME=str(self.home), WIRESHARK_CONFIG_DIR=str(self.cfg), TZ="UTC", LC_ALL="C.UTF-8",
                   WIRESHARK_ABORT_ON_DISSECTOR_BUG="1",
                   WIRESHARK_PLUGIN_DIR=str(plugin_dir) if plugin_dir else str(empty))
        env.update(item.split("=", 1) for item in shlex.split(os.environ.get("MPTCP_TSHARK_ENV", "")) if "=" in item)
        self.env = env
        self.cmd = unpriv_prefix() + ["tshark"]

    def run(self, *args, check=True, timeout=600):
        p = subprocess.run(self.cmd + [str(a) for a in args], env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"tshark {' '.join(map(str, args))} failed rc={p.returncode}:\n{p.stderr[-4000:]}")
        if "ERROR: AddressSanitizer" in p.stderr or "runtime error:" in p.stderr:
            raise AssertionError(f"tshark {' '.join(map(str, args))}: sanitizer report:\n{p.stderr[-6000:]}")
        self.last_stderr = p.stderr
        return p.stdout

    def fields(self, capture, fields, *extra):
        """Rows (lists of strings, one per field) of -T fields; multiple occurrences comma-joined."""
        args = ["-r", capture, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
        for f in fields:
            args += ["-e", f]
        # Wireshark >= 4.2 prints FT_BOOLEAN values as True/False, 4.0 as 1/0: normalise to 1/0.
        bools = [i for i, f in enumerate(fields) if f in self.boolean_fields()]
        out = self.run(*args, *extra)
        rows = [line.split("\t") for line in out.splitlines()]
        for row in rows:
            for i in bools:
                if i < len(row) and row[i]:
                    row[i] = ",".join({"True": "1", "False": "0"}.get(v, v) for v in row[i].split(","))
        return rows

    def boolean_fields(self):
        """Abbreviations of every FT_BOOLEAN field (from -G fields, cached)."""
        if getattr(self, "_bools", None) is None:
            self._bools = {c[2] for c in (l.split("\t") for l in self.run("-G", "fields").splitlines())
                           if len(c) > 3 and c[0] == "F" and c[3] == "FT_BOOLEAN"}
        return self._bools

    def count(self, capture, dfilter, *extra):
        out = self.run("-r", capture, "-Y", dfilter, "-T", "fields", "-e", "frame.number", *extra)
        return len(out.splitlines())


@pytest.fixture(scope="session")
def plugin_build():
    BUILD.mkdir(parents=True, exist_ok=True)
    args = os.environ.get("MPTCP_CMAKE_ARGS", "").split()
    subprocess.run(["cmake", "-S", str(REPO), "-B", str(BUILD)] + args, check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2)], check=True,
                   capture_output=True)
    return BUILD


@pytest.fixture(scope="session")
def tshark(plugin_build, tmp_path_factory):
    t = Tshark(plugin_build / "plugins", tmp_path_factory.mktemp("tshark-plugin"))
    assert "mptcp.so" in t.run("-G", "plugins"), "plugin not loaded from the build tree"
    return t


@pytest.fixture(scope="session")
def tshark_builtin(tmp_path_factory):
    t = Tshark(None, tmp_path_factory.mktemp("tshark-builtin"))
    if "mptcp.so" in t.run("-G", "plugins"):
        pytest.skip("the plugin is installed system-wide: no built-in baseline available")
    return t


def external(*parts):
    """Path of an external capture, or skip the test when the folder is absent."""
    p = EXTERNAL.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"external capture {p} not present")
    return p


def external_captures():
    if not EXTERNAL.exists():
        return []
    return sorted(p for p in EXTERNAL.rglob("*") if p.suffix in (".pcap", ".pcapng"))
