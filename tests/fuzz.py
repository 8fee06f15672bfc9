#!/usr/bin/python3
"""Fuzzing of the MPTCP plugin: mutated captures and MPTCP-targeted generated captures.

Inputs
  - every committed capture (captures/*.pcap*) and every external one
    (MPTCP_EXTERNAL_CAPTURES, default ../shared/captures/external; skipped when absent),
    mutated with `editcap -E <rate> --seed <n> [-o <offset>]` (deterministic: fixed rates,
    seeds and offsets; offset 34 leaves Ethernet+IPv4 intact so more mutations land in TCP);
  - captures built by tests/fuzzgen.py (random MPTCP options and whole connections, see there).

Each file is dissected twice (long mode: in batches, see below) by tshark with the plugin: `-n -V -r F` (single pass) and
`-n -V -2 -r F` (two passes), with WIRESHARK_ABORT_ON_DISSECTOR_BUG=1,
WIRESHARK_DEBUG_WMEM_OVERRIDE=strict, WIRESHARK_ABORT_ON_TOO_MANY_ITEMS=1 (as Wireshark's
tools/fuzz-test.sh). Every 2nd file also gets one of a few preference/statistics variants (see
VARIANTS). A run fails on: a non-zero exit or a signal (crash; a dissector bug aborts tshark
with these settings), a timeout (hang), or "Dissector bug", a sanitizer report or a GLib
CRITICAL on stderr. The -V text itself goes to /dev/null (tshark still builds all of it).

Modes (N = number of captures: 15 committed + 25 external here):
  ci    3 mutations per whole capture + 40 generated files (3N + 40 files, 2 tshark runs
        each). tests/test_fuzz.py runs this mode in the test suite.
  long  8 rates x 2 offsets x 16 seeds per capture (captures of more than 150 packets in a
        100-packet window that moves with the seed: more starting points, shorter runs)
        + 2000 generated files (256N + 2000 files: 12,240 here). To fit well under an hour
        on 2 cores, consecutive files are appended 10 at a time into one pcapng
        (mergecap -a; they also meet each other's state, which only adds hostility): every
        batch single pass, one batch in 4 (deterministic) also -2, every other batch with
        a variant. A failing batch is re-run file by file (both passes) to name the culprit.

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
# and, for the external captures (other stacks, crafted attacks), four more at a high rate on
# their first CI_EXTERNAL_PACKETS packets (the large ones cut so that the suite stays short)
CI_EXTERNAL_MUTATIONS = [(0.05, s, 0) for s in (11, 12, 13, 14)]
CI_EXTERNAL_PACKETS, CI_EXTERNAL_CUT_BYTES = 600, 200_000
LONG_RATES = (0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
LONG_MUTATIONS = [(r, 100 + s, o) for r in LONG_RATES for o in (0, 34) for s in range(16)]
LONG_WINDOW, LONG_WHOLE_MAX = 100, 150   # long mode: packets per window; whole captures up to this size
LONG_BATCH = 10                          # long mode: mutated files appended into one tshark input
CI_GENERATED = 40
LONG_GENERATED = 2000

# a dissector bug's place: the assertion (aborted: WIRESHARK_ABORT_ON_DISSECTOR_BUG) or the message
DISSECTOR_BUG = re.compile(r"\S+\.c:\d+: failed assertion \"[^\"\n]*\"|Dissector bug, protocol [^\n]*")
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
            if mode == "ci" and capture_id(cap).startswith("external/"):
                window = (1, CI_EXTERNAL_PACKETS) if cap.stat().st_size > CI_EXTERNAL_CUT_BYTES else None
                for rate, seed, offset in CI_EXTERNAL_MUTATIONS:
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

    def floor_has(self, args, stderr):
        """Whether a dissector bug that the run with args hit is Wireshark's own: the same
        assertion (protocol, file and line) without MPTCP (--disable-protocol mptcp: plain TCP,
        the plugin's code not run), e.g. TLS's on a TCP stream that TCP itself hands to it."""
        m = DISSECTOR_BUG.search(stderr)
        if not m or "mptcp" in m.group(0).lower():
            return False
        problem, floor_stderr = self.tshark(args[:-2] + ["--disable-protocol", "mptcp"] + args[-2:])
        return problem is not None and m.group(0) in floor_stderr

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
                if problem and self.floor_has(args, stderr):
                    res.setdefault("wireshark_own", []).append({"mode": mode, "problem": problem, "stderr": stderr})
                elif problem:
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


    def run_batch(self, batch):
        """Long mode: the batch's files appended into one pcapng (mergecap -a), dissected single
        pass (and -2 when batch.two_pass) with the batch's variant. If a run fails, every file of
        the batch is run on its own (run_job, both passes) to find the culprits. One result per
        file; "runs" counts the batch's tshark runs on its first file."""
        tmp = Path(tempfile.mkdtemp(prefix="batch-", dir=self.workdir))
        os.chmod(tmp, 0o755)
        paths, results = [], []
        try:
            for k, job in enumerate(batch.jobs):
                path = tmp / f"{k:02d}{'.pcap' if job.kind == 'generated' else Path(job.src).suffix}"
                job.make(path)
                paths.append(path)
                results.append({"label": job.label, "name": job.name, "kind": job.kind, "runs": 0,
                                "packets": count_packets(path), "failures": []})
            merged = tmp / "batch.pcapng"
            subprocess.run(["mergecap", "-a", "-F", "pcapng", "-w", str(merged)] + [str(p) for p in paths],
                           check=True, capture_output=True)
            os.chmod(merged, 0o644)
            batch_failures = []
            for mode, margs in MODES.items():
                if mode == "two_pass" and not batch.two_pass:
                    continue
                args = margs + VARIANTS[batch.variant] + ["-r", merged]
                problem, stderr = self.tshark(args)
                results[0]["runs"] += 1
                if problem:
                    batch_failures.append({"mode": mode + " (batch)", "problem": problem, "stderr": stderr,
                                           "args": [str(x) for x in args]})
            if batch_failures:          # find the file(s): each on its own, both passes, its variant
                for k, job in enumerate(batch.jobs):
                    job.variant, job.two_pass = batch.variant, True
                    r = self.run_job(job)
                    results[k]["runs"] += r["runs"]
                    results[k]["failures"] = r["failures"]
                    if r.get("wireshark_own"):
                        results[k]["wireshark_own"] = r["wireshark_own"]
                    if r.get("kept"):
                        results[k]["kept"] = r["kept"]
                # only the combination fails (not a file alone, nor Wireshark without MPTCP): keep it
                if not any(r["failures"] or r.get("wireshark_own") for r in results):
                    results[0]["failures"] = batch_failures
                    if self.failures:
                        with self.lock:
                            self.failures.mkdir(parents=True, exist_ok=True)
                            dst = self.failures / f"batch-{batch.jobs[0].name.replace('/', '_')}-{os.getpid()}-{id(batch)}.pcapng"
                            shutil.copy(merged, dst)
                            dst.with_suffix(".txt").write_text(
                                "batch of: " + "; ".join(j.label for j in batch.jobs) + "\n"
                                + "\n".join(f"[{f['mode']}] {f['problem']}\n{f['stderr']}" for f in batch_failures))
                        results[0]["kept"] = str(dst)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return results


class Batch:
    def __init__(self, jobs, variant, two_pass):
        self.jobs, self.variant, self.two_pass = jobs, variant, two_pass


def batches(jobs, size=LONG_BATCH):
    """Long mode: consecutive files in batches; every other batch with a variant (rotating), one
    batch in 4 also -2 (two of every 8, with and without a variant)."""
    out = []
    for k in range(0, len(jobs), size):
        i = k // size
        out.append(Batch(jobs[k:k + size], 0 if i % 2 == 0 else 1 + (i // 2) % (len(VARIANTS) - 1), i % 8 in (0, 3)))
    return out


def run(jobs, runner: Runner, parallel=2, progress=None):
    results = []
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        for r in ex.map(runner.run_job, jobs):
            results.append(r)
            if progress:
                progress(len(results), len(jobs), r)
    return results


def run_batches(bs, runner: Runner, parallel=2, progress=None):
    results = []
    total = sum(len(b.jobs) for b in bs)
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        for rs in ex.map(runner.run_batch, bs):
            for r in rs:
                results.append(r)
                if progress:
                    progress(len(results), total, r)
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
        # dissector bugs that Wireshark hits without MPTCP too (Runner.floor_has): not failures
        "wireshark_own": [r["label"] for r in results if r.get("wireshark_own")],
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
    bs = batches(jobs) if a.mode == "long" else None
    runs = sum(1 + b.two_pass for b in bs) if bs else sum(1 + j.two_pass for j in jobs)
    print(f"fuzz: mode {a.mode}, {len(jobs)} files ({len(caps)} captures)"
          + (f" in {len(bs)} batches of {LONG_BATCH}" if bs else "")
          + f", {a.jobs} in parallel, {runs} tshark runs", flush=True)
    t0 = time.monotonic()
    step = max(1, len(jobs) // 20)

    def progress(n, total, r):
        for f in r["failures"]:
            print(f"FAIL {r['label']} [{f['mode']}]: {f['problem']}" + (f" -> {r.get('kept')}" if r.get("kept") else ""),
                  flush=True)
        if n % step == 0 or n == total:
            print(f"  {n}/{total} files, {round(time.monotonic() - t0)}s", flush=True)

    try:
        results = run_batches(bs, runner, a.jobs, progress) if bs else run(jobs, runner, a.jobs, progress)
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
