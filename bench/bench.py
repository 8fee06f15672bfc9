#!/usr/bin/env python3
"""MPTCP plugin benchmark ([perf] issue): ratios against tshark with MPTCP disabled, in one run.

    bench/bench.py [--capture FILE] [--repeat N] [--callgrind SMALLFILE] [--markdown]

Configurations, run interleaved and repeated (min and median reported):
  floor     the plugin loaded, --disable-protocol mptcp (plain TCP dissection)
  plugin    the plugin with full analysis (defaults: mappings and reinjections on)
  builtin   Wireshark's built-in MPTCP code (plugin not loaded) with
            -o mptcp.analyze_mappings:TRUE -o mptcp.intersubflows_retransmission:TRUE
each in two modes: "filter" (-q -Y tcp.len>=0, forces dissection) and "fields"
(-T fields of frame.number tcp.stream mptcp.stream mptcp.dsn mptcp.ack mptcp.reinjection_of),
single pass and with -2. Prints wall time, max RSS and the ratios to the floor.
--callgrind runs valgrind --tool=callgrind on a smaller capture for instruction counts.
Without --capture it uses /srv/bench/big.pcap, generating it first with
captures/gen/generate.sh big (>= 300 k packets; needs root).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("MPTCP_BUILD_DIR", REPO / "build"))
FIELDS = ["frame.number", "tcp.stream", "mptcp.stream", "mptcp.dsn", "mptcp.ack", "mptcp.reinjection_of"]


def prefix():
    if os.geteuid() == 0:
        return ["unshare", "--user", "--map-user=65534", "--map-group=65534"]
    return []


def env_for(with_plugin, tmp):
    e = {k: v for k, v in os.environ.items() if not k.startswith("WIRESHARK_")}
    cfg = Path(tmp) / "cfg"
    cfg.mkdir(exist_ok=True)
    empty = Path(tmp) / "empty"
    empty.mkdir(exist_ok=True)
    e.update(HOME=tmp, WIRESHARK_CONFIG_DIR=str(cfg), TZ="UTC",
             WIRESHARK_PLUGIN_DIR=str(BUILD / "plugins") if with_plugin else str(empty))
    return e


def config_args(name):
    if name == "floor":
        return True, ["--disable-protocol", "mptcp"]
    if name == "plugin":
        return True, []
    return False, ["-o", "mptcp.analyze_mappings:TRUE", "-o", "mptcp.intersubflows_retransmission:TRUE"]


def mode_args(mode, two_pass):
    a = ["-2"] if two_pass else []
    if mode == "filter":
        return a + ["-q", "-Y", "tcp.len>=0"]
    out = a + ["-T", "fields"]
    for f in FIELDS:
        out += ["-e", f]
    return out


def run_once(cap, cfg, mode, two_pass, tmp):
    with_plugin, cargs = config_args(cfg)
    cmd = ["/usr/bin/time", "-f", "%e %M"] + prefix() + ["tshark", "-n", "-r", str(cap)] + cargs + \
        mode_args(mode, two_pass)
    p = subprocess.run(cmd, env=env_for(with_plugin, tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    last = p.stderr.strip().splitlines()[-1]
    wall, rss = last.split()
    return float(wall), int(rss) / 1024.0


def ensure_capture(path):
    if path.exists():
        return
    subprocess.run(["bash", str(REPO / "captures/gen/generate.sh"), "big", str(path), "300000"], check=True)


def callgrind(cap, tmp):
    res = {}
    for cfg in ("floor", "plugin", "builtin"):
        with_plugin, cargs = config_args(cfg)
        out = Path(tmp) / f"cg.{cfg}"
        cmd = prefix() + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "tshark", "-n", "-r",
                          str(cap)] + cargs + ["-q", "-Y", "tcp.len>=0"]
        p = subprocess.run(cmd, env=env_for(with_plugin, tmp), capture_output=True, text=True)
        line = [l for l in p.stderr.splitlines() if "Collected" in l]
        res[cfg] = int(line[-1].split()[-1].replace(",", "")) if line else None
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", type=Path, default=Path("/srv/bench/big.pcap"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--callgrind", type=Path)
    ap.add_argument("--no-builtin", action="store_true")
    args = ap.parse_args()
    ensure_capture(args.capture)
    subprocess.run(["cmake", "--build", str(BUILD)], check=True, capture_output=True)
    cfgs = ["floor", "plugin"] + ([] if args.no_builtin else ["builtin"])
    cases = [(m, tp) for m in ("filter", "fields") for tp in (False, True)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        for _ in range(args.repeat):
            for mode, tp in cases:
                for cfg in cfgs:
                    results.setdefault((mode, tp, cfg), []).append(run_once(args.capture, cfg, mode, tp, tmp))
        cg = callgrind(args.callgrind, tmp) if args.callgrind else None
    npk = subprocess.run(["capinfos", "-c", "-M", str(args.capture)], capture_output=True, text=True).stdout
    print(f"capture: {args.capture} ({' '.join(npk.split()[-2:])}), repeat {args.repeat}")
    print(f"{'mode':<8} {'pass':<5} {'config':<8} {'min s':>7} {'median s':>9} {'ratio':>6} {'max RSS MiB':>12} "
          f"{'RSS ratio':>9}")
    for mode, tp in cases:
        fl = results[(mode, tp, "floor")]
        fmin = min(w for w, _ in fl)
        frss = max(r for _, r in fl)
        for cfg in cfgs:
            r = results[(mode, tp, cfg)]
            walls = [w for w, _ in r]
            rss = max(x for _, x in r)
            print(f"{mode:<8} {'-2' if tp else '1':<5} {cfg:<8} {min(walls):7.2f} {statistics.median(walls):9.2f} "
                  f"{min(walls) / fmin:6.3f} {rss:12.1f} {rss / frss:9.3f}")
    if cg:
        print("callgrind instructions (filter mode, single pass):")
        for cfg, n in cg.items():
            print(f"  {cfg:<8} {n:>16,}  ratio {n / cg['floor']:.3f}" if n else f"  {cfg:<8} failed")


if __name__ == "__main__":
    sys.exit(main())
