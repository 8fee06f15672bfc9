#!/usr/bin/python3
"""Fuzzing of the MPTCP plugin: mutated captures and MPTCP-targeted generated captures.

Inputs
  - every committed capture (captures/*.pcap*) and every external one
    (MPTCP_EXTERNAL_CAPTURES, default ../shared/captures/external; skipped when absent),
    mutated with `editcap -E <rate> --seed <n> [-o <offset>]` (deterministic: fixed rates,
    seeds and offsets; offset 34 leaves Ethernet+IPv4 intact so more mutations land in TCP);
  - captures built by tests/fuzzgen.py (random MPTCP options and whole connections, see there).

Each file is dissected twice (long mode: see below) by tshark with the plugin: `-n -V -r F` (single pass) and
`-n -V -2 -r F` (two passes), with WIRESHARK_ABORT_ON_DISSECTOR_BUG=1,
WIRESHARK_DEBUG_WMEM_OVERRIDE=strict, WIRESHARK_ABORT_ON_TOO_MANY_ITEMS=1 (as Wireshark's
tools/fuzz-test.sh). Every 2nd file also gets one of a few preference/statistics variants (see
VARIANTS). A run fails on: a non-zero exit or a signal (crash; a dissector bug aborts tshark
with these settings), a timeout (hang), or "Dissector bug", a sanitizer report or a GLib
CRITICAL on stderr. The -V text itself goes to /dev/null (tshark still builds all of it).

Modes (N = number of captures: 15 committed + 25 external here):
  ci    3 mutations per whole capture + 40 generated files (3N + 40 files, 2 tshark runs
        each). tests/test_fuzz.py runs this mode in the test suite.
  long  8 rates x 2 offsets x 16 seeds per capture (captures of more than 600 packets in a
        400-packet window that moves with the seed: more starting points, shorter runs)
        + 2000 generated files (256N + 2000 files: 12,240 here). Every file single pass;
        one file in 4 (by plan position, deterministic, half of them with a variant) also -2,
        so that the run fits about an hour on 2 cores (15,300 tshark runs; the CI mode runs
        both passes on every file).

Usage (also via scripts/fuzz.sh, which builds the plugin first):
  tests/fuzz.py [--mode ci|long] [--jobs N] [--build-dir DIR] [--limit N] [--failures DIR]
                [--json FILE] [--only captures|generated]
Prints the counts at the end; exit status 1 if any run failed. Failing inputs are copied to
--failures (default <build>/fuzz-failures) with the command that reproduces each.

env: MPTCP_BUILD_DIR, MPTCP_EXTERNAL_CAPTURES, MPTCP_TSHARK_ENV (extra KEY=VALUE settings for
tshark, e.g. the ASan runtime in LD_PRELOAD: see scripts/sanitize.sh).
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))

from fuzzgen import gen_capture  # noqa: E402
from frames import write_pcap  # noqa: E402
from runas import unpriv_prefix  # noqa: E402

CAPTURES = REPO / "captures"
EXTERNAL = Path(os.environ.get("MPTCP_EXTERNAL_CAPTURES", REPO.parent / "shared" / "captures" / "external"))

FUZZ_ENV = {
    "WIRESHARK_ABORT_ON_DISSECTOR_BUG": "1",
    "WIRESHARK_DEBUG_WMEM_OVERRIDE": "strict",
    "WIRESHARK_ABORT_ON_TOO_MANY_ITEMS": "1",
}
MODES = {"single": ["-n", "-V"], "two_pass": ["-n", "-V", "-2"]}
# Preferences and statistics that switch code paths on or off (all exist in 4.0, 4.4 and 4.6).
VARIANTS = [
    [],
    ["-o", "mptcp.reassemble_data:FALSE"],
    ["-o", "mptcp.analyze_mappings:FALSE"],
    ["-o", "mptcp.relative_sequence_numbers:FALSE", "-o", "mptcp.intersubflows_retransmission:FALSE"],
    ["-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"],
    ["-o", "tcp.try_heuristic_first:TRUE", "-o", "tcp.check_checksum:TRUE"],
    ["-z", "conv,mptcp", "-z", "endpoints,mptcp"],
    ["-z", "mptcp,stat"],
    ["-o", "mptcp.analyze_mptcp:FALSE"],
]
# (error rate, seed, offset) per capture
CI_MUTATIONS = [(0.003, 1, 0), (0.02, 2, 34), (0.1, 3, 0)]
LONG_RATES = (0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
LONG_MUTATIONS = [(r, 100 + s, o) for r in LONG_RATES for o in (0, 34) for s in range(16)]
LONG_WINDOW, LONG_WHOLE_MAX = 400, 600   # long mode: packets per window; whole captures up to this size
CI_GENERATED = 40
LONG_GENERATED = 2000

FAIL_PATTERNS = [
    (re.compile(rb"Dissector bug|DISSECTOR_ASSERT|dissector bug", re.I), "dissector bug"),
    (re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehavior"),
     "sanitizer"),
    (re.compile(rb"-CRITICAL \*\*|CRITICAL \*\*"), "glib critical"),
]


def committed_captures():
    return sorted(p for p in CAPTURES.glob("*.pcap*") if p.is_file())


def external_captures():
    if not EXTERNAL.is_dir():
        return []
    return sorted(p for p in EXTERNAL.rglob("*") if p.suffix in (".pcap", ".pcapng") and p.is_file())


def all_captures():
    return committed_captures() + external_captures()


def count_packets(path):
    """Packets in a pcap or pcapng file (0 if unreadable)."""
    import struct
    try:
        data = Path(path).read_bytes()
    except OSError:
        return 0
    if len(data) < 24:
        return 0
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        n, off = 0, 24
        while off + 16 <= len(data):
            off += 16 + struct.unpack(e + "I", data[off + 8:off + 12])[0]
            n += 1
        return n
    if magic == b"\x0a\x0d\x0d\x0a":
        n, off, e = 0, 0, "<"
        while off + 12 <= len(data):
            if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12:
                break
            n += btype in (2, 3, 6)
            off += blen
        return n
    return 0


def capture_id(p: Path):
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        try:
            return "external/" + str(p.relative_to(EXTERNAL))
        except ValueError:
            return str(p)


class Job:
    """One input file: a mutated capture or a generated one."""

    def __init__(self, kind, name, src=None, rate=None, seed=None, offset=0, variant=0, window=None):
        self.kind, self.name, self.src, self.rate, self.seed, self.offset = kind, name, src, rate, seed, offset
        self.variant, self.window = variant, window
        self.two_pass = True

    @property
    def label(self):
        if self.kind == "capture":
            w = f" packets {self.window[0]}-{self.window[1]}" if self.window else ""
            return f"{self.name}{w} -E {self.rate} --seed {self.seed} -o {self.offset}"
        return f"generated seed {self.seed}"

    def editcap_args(self, dst):
        cmd = ["editcap", "-E", str(self.rate), "--seed", str(self.seed)]
        if self.offset:
            cmd += ["-o", str(self.offset)]
        if self.window:
            return cmd + ["-r", str(self.src), str(dst), f"{self.window[0]}-{self.window[1]}"]
        return cmd + [str(self.src), str(dst)]

    def make(self, path: Path):
        if self.kind == "capture":
            subprocess.run(self.editcap_args(path), check=True, capture_output=True)
        else:
            write_pcap(path, gen_capture(self.seed))
        os.chmod(path, 0o644)

    def recipe(self):
        if self.kind == "capture":
            return " ".join(shlex.quote(a) for a in self.editcap_args("FILE"))
        return f"cd {TESTS} && /usr/bin/python3 -c 'import fuzzgen, frames; " \
               f"frames.write_pcap(\"FILE\", fuzzgen.gen_capture({self.seed}))'"


def plan(mode, captures=None, only=None):
    captures = all_captures() if captures is None else captures
    muts = CI_MUTATIONS if mode == "ci" else LONG_MUTATIONS
    ngen = CI_GENERATED if mode == "ci" else LONG_GENERATED
    jobs = []
    if only in (None, "captures"):
        for cap in captures:
            n = count_packets(cap) if mode == "long" else 0
            for k, (rate, seed, offset) in enumerate(muts):
                window = None
                if n > LONG_WHOLE_MAX:        # long mode: a window that moves with the seed
                    start = 1 + (seed * 7919) % (n - LONG_WINDOW + 1) if seed % 16 else 1
                    window = (start, start + LONG_WINDOW - 1)
                jobs.append(Job("capture", capture_id(cap), cap, rate, seed, offset, window=window))
    if only in (None, "generated"):
        for seed in range(ngen):
            jobs.append(Job("generated", f"generated/{seed}", seed=seed))
    for i, j in enumerate(jobs):      # every other file with a variant, rotating through them
        j.variant = 0 if i % 2 == 0 else 1 + (i // 2) % (len(VARIANTS) - 1)
        j.two_pass = mode == "ci" or i % 8 in (0, 3)      # long: 1 in 4, with and without a variant
    return jobs


def extra_tshark_env():
    """MPTCP_TSHARK_ENV="K=V K2=V2": settings for tshark only (e.g. LD_PRELOAD of the ASan runtime)."""
    env = {}
    for item in shlex.split(os.environ.get("MPTCP_TSHARK_ENV", "")):
        k, _, v = item.partition("=")
        env[k] = v
    return env


def standalone_tshark(build_dir: Path, workdir: Path):
    """(cmd, env) of a hermetic tshark with the plugin from build_dir (as tests/conftest.py)."""
    for d in ("home", "config"):
        (workdir / d).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRESHARK_", "XDG_"))}
    env.update(HOME=str(workdir / "home"), WIRESHARK_CONFIG_DIR=str(workdir / "config"), TZ="UTC",
               LC_ALL="C.UTF-8", WIRESHARK_PLUGIN_DIR=str(build_dir / "plugins"))
    env.update(extra_tshark_env())
    return unpriv_prefix() + ["tshark"], env


class Runner:
    def __init__(self, cmd, env, workdir: Path, failures: Path = None, timeout=180):
        self.cmd, self.env = list(cmd), dict(env)
        self.env.update(FUZZ_ENV)
        self.workdir, self.failures, self.timeout = workdir, failures, timeout
        self.lock = threading.Lock()

    def tshark(self, args):
        """Runs tshark; returns (problem or None, stderr tail). The -V text goes to /dev/null: a
        dissector bug aborts tshark (WIRESHARK_ABORT_ON_DISSECTOR_BUG), so the exit status tells."""
        p = subprocess.Popen(self.cmd + [str(a) for a in args], env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        hung = threading.Event()

        def kill():
            hung.set()
            p.kill()
        timer = threading.Timer(self.timeout, kill)
        timer.start()
        found = None
        try:
            stderr = p.stderr.read()
            rc = p.wait()
        finally:
            timer.cancel()
        if hung.is_set():
            found = f"timeout after {self.timeout}s (hang?)"
        elif rc != 0:
            found = f"exit status {rc}" + (" (signal)" if rc < 0 else "") + (f", {found}" if found else "")
        for rx, what in FAIL_PATTERNS:
            if found is None and rx.search(stderr):
                found = what
        m = re.search(rb"ERROR: AddressSanitizer|runtime error:|Dissector bug|CRITICAL", stderr)
        keep = stderr[max(0, m.start() - 200):m.start() + 5000] if m else stderr[-3000:]
        return found, keep.decode("utf-8", "replace")

    def run_job(self, job: Job):
        fd, name = tempfile.mkstemp(prefix="fuzz-", suffix=".pcap" if job.kind == "generated" else Path(job.src).suffix,
                                    dir=self.workdir)
        os.close(fd)
        path = Path(name)
        res = {"label": job.label, "name": job.name, "kind": job.kind, "runs": 0, "packets": 0, "failures": []}
        try:
            job.make(path)
            res["packets"] = count_packets(path)
            for mode, margs in MODES.items():
                if mode == "two_pass" and not job.two_pass:
                    continue
                args = margs + VARIANTS[job.variant] + ["-r", path]
                problem, stderr = self.tshark(args)
                res["runs"] += 1
                if problem:
                    res["failures"].append({"mode": mode, "problem": problem, "stderr": stderr,
                                            "args": [str(a) for a in args]})
            if res["failures"] and self.failures:
                self.keep(job, path, res)
        finally:
            path.unlink(missing_ok=True)
        return res

    def keep(self, job, path, res):
        with self.lock:
            self.failures.mkdir(parents=True, exist_ok=True)
            n = len(list(self.failures.glob("*.txt")))
            dst = self.failures / f"{n:04d}-{job.name.replace('/', '_')}{path.suffix}"
            shutil.copy(path, dst)
            with open(dst.with_suffix(".txt"), "w") as f:
                f.write(f"input: {job.label}\nmade by: {job.recipe()}\n")
                for fl in res["failures"]:
                    args = " ".join(shlex.quote(a) for a in fl["args"][:-1])
                    f.write(f"\n[{fl['mode']}] {fl['problem']}\nreproduce: "
                            + " ".join(f"{k}={v}" for k, v in FUZZ_ENV.items())
                            + f" WIRESHARK_PLUGIN_DIR=<build>/plugins tshark {args} -r {dst}\n{fl['stderr']}\n")
            res["kept"] = str(dst)


def run(jobs, runner: Runner, parallel=2, progress=None):
    results = []
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        for r in ex.map(runner.run_job, jobs):
            results.append(r)
            if progress:
                progress(len(results), len(jobs), r)
    return results


def summary(results, elapsed=None):
    s = {
        "files": len(results),
        "mutated_captures": sum(r["kind"] == "capture" for r in results),
        "generated": sum(r["kind"] == "generated" for r in results),
        "tshark_runs": sum(r["runs"] for r in results),
        "packets_per_pass": sum(r["packets"] for r in results),
        "failed_files": sum(bool(r["failures"]) for r in results),
        "failed_runs": sum(len(r["failures"]) for r in results),
    }
    kinds = {}
    for r in results:
        for f in r["failures"]:
            k = f["problem"].split(",")[0]
            kinds[k] = kinds.get(k, 0) + 1
    s["failures_by_kind"] = kinds
    if elapsed is not None:
        s["seconds"] = round(elapsed)
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=("ci", "long"), default="ci")
    ap.add_argument("--jobs", type=int, default=2, help="parallel tshark processes (default 2)")
    ap.add_argument("--build-dir", default=os.environ.get("MPTCP_BUILD_DIR", str(REPO / "build")))
    ap.add_argument("--limit", type=int, help="only the first N files of the plan")
    ap.add_argument("--only", choices=("captures", "generated"))
    ap.add_argument("--failures", help="where failing inputs go (default <build>/fuzz-failures)")
    ap.add_argument("--json", help="write the counts and failures to this file")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per tshark run before it counts as a hang")
    a = ap.parse_args(argv)
    build = Path(a.build_dir).resolve()
    if not list(build.glob("plugins/*/epan/mptcp.so")):
        sys.exit(f"fuzz: no plugin in {build}/plugins (build it first, or use scripts/fuzz.sh)")
    caps = all_captures()
    if not external_captures():
        print(f"fuzz: external captures not present ({EXTERNAL}): committed captures only")
    jobs = plan(a.mode, caps, a.only)
    if a.limit:
        jobs = jobs[:a.limit]
    work = Path(tempfile.mkdtemp(prefix="mptcp-fuzz-"))
    os.chmod(work, 0o755)              # tshark may run as another uid (root -> 65534)
    cmd, env = standalone_tshark(build, work / "ts")
    out = subprocess.run(cmd + ["-G", "plugins"], env=env, capture_output=True, text=True)
    if "mptcp.so" not in out.stdout:
        sys.exit(f"fuzz: tshark did not load the plugin from {build}/plugins:\n{out.stderr[-2000:]}")
    runner = Runner(cmd, env, work, Path(a.failures) if a.failures else build / "fuzz-failures", a.timeout)
    print(f"fuzz: mode {a.mode}, {len(jobs)} files ({len(caps)} captures), {a.jobs} in parallel, "
          f"{sum(1 + j.two_pass for j in jobs)} tshark runs", flush=True)
    t0 = time.monotonic()
    step = max(1, len(jobs) // 20)

    def progress(n, total, r):
        for f in r["failures"]:
            print(f"FAIL {r['label']} [{f['mode']}]: {f['problem']}" + (f" -> {r.get('kept')}" if r.get("kept") else ""),
                  flush=True)
        if n % step == 0 or n == total:
            print(f"  {n}/{total} files, {round(time.monotonic() - t0)}s", flush=True)

    try:
        results = run(jobs, runner, a.jobs, progress)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    s = summary(results, time.monotonic() - t0)
    print("fuzz: " + json.dumps(s))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": s, "failures": [r for r in results if r["failures"]]}, f, indent=1)
    return 1 if s["failed_runs"] else 0


if __name__ == "__main__":
    sys.exit(main())
