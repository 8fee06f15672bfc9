#!/usr/bin/env python3
"""MPTCP plugin benchmark ([perf] issue): ratios against tshark with MPTCP disabled, in one run.

    bench/bench.py [--capture FILE] [--repeat N] [--callgrind SMALLFILE] [--no-builtin] [--no-timing]
                   [--scale CAP...] [--scale-2pass] [--scale-instr CAP[:N]...] [--flood FLOOD.pcap]
                   [--conns-rss CONNSN.pcap...] [--conns-split N...] [--cachesim CAP [--cachesim-1pass]] [--fixed-seed]
                   [--reasm HTTPCAP...]

Configurations, run interleaved and repeated (min and median reported):
  floor     the plugin loaded, --disable-protocol mptcp (plain TCP dissection)
  plugin    the plugin with full analysis (defaults: mappings and reinjections on)
  builtin   Wireshark's built-in MPTCP code (plugin not loaded) with
            -o mptcp.analyze_mappings:TRUE -o mptcp.intersubflows_retransmission:TRUE
each in two modes: "filter" (-q -Y tcp.len>=0, forces dissection) and "fields"
(-T fields of frame.number tcp.stream mptcp.stream mptcp.dsn mptcp.ack mptcp.reinjection_of),
single pass and with -2. Prints wall time, max RSS and the ratios to the floor.
--callgrind runs valgrind --tool=callgrind on a smaller capture for instruction counts (filter mode
single pass and -2, fields mode single pass).
--scale-instr: the plugin's extra instructions per packet (callgrind inside the TCP hook, plugin
minus floor) on each capture or its first N packets: the load-independent scaling table.
--conns-rss: extra max RSS per connection (plugin minus floor, divided by the N of connsN.pcap),
single pass and -2: the [scale] table.
--conns-split: per connection and per data packet, apart: for each N, two bench/synth.py conns
captures of N connections (made in a temporary directory) with 2 and 20 data segments per direction
(6 handshake packets and 4 or 42 data packets a connection); extra max RSS = N x (C + D x P) solved
for C (a connection with its 6 handshake packets) and P (a data packet: its result and its index
entries), single pass and -2; each max RSS the median of --repeat runs.
--cachesim: cachegrind's cache model (32 KiB L1i and L1d, 512 KiB last level) on CAP, filter mode,
single pass and -2, per packet (the run minus a 10-packet run): instructions, L1 and last-level
misses, model cycles = instructions + 12 x L1 misses + 40 x last-level misses, ratios to the floor.
--fixed-seed: g_random_int() made a constant (bench/fixed-seed.c, preloaded), so that wmem maps hash
alike in every run and instruction counts repeat exactly: for comparing two builds step by step.
--reasm: max RSS of the data-level reassembly (mptcp.reassemble_data) with an application
dissector, on captures from `bench/synth.py http` (HTTP over two subflows, half of the segments
out of DSN order): memory must grow with what is outstanding, not with what was delivered.
Captures for --scale/--reasm (not committed, 20-380 MB):
  captures/gen/generate.sh big OUT N          real v1 traffic, N = 100000 / 340000 / 1000000 (root)
  bench/synth.py conns OUT --conns N          N = 1000 / 4000 / 16000 interleaved connections
  bench/synth.py http OUT --requests R        R = 500 / 2000 HTTP exchanges of 64 KiB
The JOIN flood is the external capture dpi-mptcp/flood.pcap (10,000 MP_JOIN SYNs).
Without --capture it uses /srv/bench/big.pcap, generating it first with
captures/gen/generate.sh big (>= 300 k packets; needs root).
"""
import argparse
import os
import shutil
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
    if FIXED_SEED:
        e["LD_PRELOAD"] = FIXED_SEED
    e.update(HOME=tmp, WIRESHARK_CONFIG_DIR=str(cfg), TZ="UTC",
             WIRESHARK_PLUGIN_DIR=str(Path(tmp) / "plugins") if with_plugin else str(empty))
    return e


def copy_plugin(tmp):
    """The built plugin tree copied into tmp: every run loads it from a path of the same length
    wherever the checkout is (the cache model's counts move with the process's address layout)."""
    shutil.copytree(BUILD / "plugins", Path(tmp) / "plugins")
    subprocess.run(["chmod", "-R", "a+rX", str(Path(tmp) / "plugins")], check=True)


EXTRA = []      # --tshark-arg: the same arguments for every configuration
FIXED_SEED = None   # --fixed-seed: the preload library that makes g_random_int() a constant


def config_args(name):
    if name == "floor":
        return True, ["--disable-protocol", "mptcp"] + EXTRA
    if name == "plugin":
        return True, list(EXTRA)
    return False, ["-o", "mptcp.analyze_mappings:TRUE", "-o", "mptcp.intersubflows_retransmission:TRUE"] + EXTRA


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


def callgrind_count(cfg, tshark_args, out, tmp, valgrind_args=()):
    """Instructions that callgrind collects for one tshark run in configuration cfg (None if it
    failed); the profile goes to out."""
    with_plugin, cargs = config_args(cfg)
    cmd = prefix() + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *valgrind_args,
                      "tshark", "-n"] + tshark_args + cargs
    p = subprocess.run(cmd, env=env_for(with_plugin, tmp), capture_output=True, text=True)
    line = [l for l in p.stderr.splitlines() if "Collected" in l]
    return int(line[-1].split()[-1].replace(",", "")) if line else None


def callgrind(cap, tmp, keep=None):
    """Instructions (callgrind, whole tshark run) per configuration: filter mode single pass and -2,
    fields mode single pass. keep: a directory for the profiles (callgrind_annotate)."""
    res = {}
    for mode, tp in (("filter", False), ("filter", True), ("fields", False)):
        for cfg in ("floor", "plugin", "builtin"):
            out = Path(keep or tmp) / f"cg.{cfg}.{mode}.{int(tp)}"
            res[(mode, cfg, tp)] = callgrind_count(cfg, ["-r", str(cap)] + mode_args(mode, tp), out, tmp)
    return res


CACHE_MODEL = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=524288,8,64"]   # RESULTS.md's model machine


def cachegrind_events(cfg, tshark_args, out, tmp):
    """cachegrind's totals (Ir, I1mr, D1mr, D1mw, LLmr, ...) for one tshark run in configuration cfg."""
    with_plugin, cargs = config_args(cfg)
    cmd = prefix() + ["valgrind", "--tool=cachegrind", "--cache-sim=yes", *CACHE_MODEL,
                      f"--cachegrind-out-file={out}", "tshark", "-n"] + tshark_args + cargs
    subprocess.run(cmd, env=env_for(with_plugin, tmp), capture_output=True, text=True)
    ev = summary = None
    for line in Path(out).read_text().splitlines():
        if line.startswith("events:"):
            ev = line.split()[1:]
        elif line.startswith("summary:"):
            summary = [int(x) for x in line.split()[1:]]
    return dict(zip(ev, summary))


def model_cycles(e):
    """instructions + 12 x L1 misses + 40 x last-level misses (the latencies of an L2 and an L3 hit)."""
    l1 = e["I1mr"] + e["D1mr"] + e["D1mw"]
    ll = e["ILmr"] + e["DLmr"] + e["DLmw"]
    return e["Ir"] + 12 * l1 + 40 * ll


def cachesim(cap, tmp, cfgs, passes=(False, True)):
    """Per packet, the run minus a 10-packet run (start-up): instructions, misses, model cycles."""
    n = packets(cap)
    print(f"cache model ({' '.join(CACHE_MODEL)}), {cap.name} ({n} packets), filter mode, per packet:")
    print(f"  {'pass':<4} {'config':<8} {'instr':>9} {'L1i miss':>9} {'L1d miss':>9} {'LL miss':>8} "
          f"{'cycles':>10} {'instr ratio':>11} {'cycles ratio':>12}")
    for tp in passes:
        per = {}
        for cfg in cfgs:
            full = cachegrind_events(cfg, ["-r", str(cap)] + mode_args("filter", tp), Path(tmp) / "cg.full", tmp)
            start = cachegrind_events(cfg, ["-r", str(cap), "-c", "10"] + mode_args("filter", tp),
                                      Path(tmp) / "cg.start", tmp)
            d = {k: (full[k] - start[k]) / (n - 10) for k in full}
            per[cfg] = (d, model_cycles(d))
        for cfg in cfgs:
            d, cyc = per[cfg]
            fd, fcyc = per["floor"]
            print(f"  {'-2' if tp else '1':<4} {cfg:<8} {d['Ir']:9.0f} {d['I1mr']:9.0f} {d['D1mr'] + d['D1mw']:9.0f} "
                  f"{d['ILmr'] + d['DLmr'] + d['DLmw']:8.0f} {cyc:10.0f} {d['Ir'] / fd['Ir']:11.4f} "
                  f"{cyc / fcyc:12.4f}")


REASM_CFGS = [
    ("off, no HTTP", ["-o", "mptcp.reassemble_data:FALSE", "--disable-protocol", "http"]),
    ("on, data dissector", ["-o", "mptcp.reassemble_data:TRUE", "--disable-protocol", "http"]),
    ("on, HTTP, body PDUs", ["-o", "mptcp.reassemble_data:TRUE", "-o", "http.desegment_body:TRUE"]),
    ("on, HTTP, no body PDUs", ["-o", "mptcp.reassemble_data:TRUE", "-o", "http.desegment_body:FALSE"]),
]


def reasm(caps, tmp):
    """Wall time and max RSS of the data-level reassembly configurations (one run each)."""
    print("reassembly memory (single pass, -q, one run each):")
    print(f"{'capture':<16} {'packets':>8} {'payload MiB':>11} {'configuration':<24} {'s':>7} {'max RSS MiB':>11}")
    for cap in caps:
        n = packets(cap)
        payload = os.path.getsize(cap) / 2**20
        for name, args in REASM_CFGS:
            cmd = ["/usr/bin/time", "-f", "%e %M"] + prefix() + ["tshark", "-n", "-r", str(cap), "-q", "-Y",
                                                               "tcp.len>=0"] + args
            p = subprocess.run(cmd, env=env_for(True, tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
            wall, rss = p.stderr.strip().splitlines()[-1].split()
            print(f"{cap.name:<16} {n:>8} {payload:11.1f} {name:<24} {float(wall):7.2f} {int(rss) / 1024:11.1f}")


def first_packets(cap, tmp, npk):
    """cap itself if npk is None, else a copy of its first npk packets in tmp (made once)."""
    if npk is None:
        return cap
    cut = Path(tmp) / f"{cap.stem}.first{npk}.pcap"
    if not cut.exists():
        subprocess.run(["editcap", "-r", str(cap), str(cut), f"1-{npk}"], check=True, capture_output=True)
        os.chmod(cut, 0o644)
    return cut


def hook_instructions(cap, tmp, npk, cfg="plugin"):
    """Instructions inside the plugin's TCP hook (dissect_tcp_wrapper, TCP included) for the first
    npk packets of cap (all if npk is None), with the plugin or the floor (MPTCP disabled: the
    wrapper only calls TCP): the JOIN-flood and instruction-scaling measure."""
    cut = first_packets(cap, tmp, npk)
    return callgrind_count(cfg, ["-r", str(cut)] + mode_args("filter", False), Path(tmp) / f"cg.hook{npk}.{cfg}",
                           tmp, ["--toggle-collect=dissect_tcp_wrapper"])


def scale_instructions(specs, tmp):
    """Deterministic scaling table: the plugin's extra instructions per packet (hook with the
    plugin minus hook of the floor) on CAP or the first N packets of CAP (CAP:N)."""
    print("instruction scaling (callgrind, inside the TCP hook, filter mode, single pass):")
    print(f"{'capture':<28} {'packets':>9} {'floor/pkt':>10} {'plugin/pkt':>11} {'extra/pkt':>10} {'ratio':>6}")
    for spec in specs:
        cap, _, npk = str(spec).partition(":")
        cap = Path(cap)
        n = int(npk) if npk else packets(cap)
        fl = hook_instructions(cap, tmp, int(npk) if npk else None, "floor")
        pl = hook_instructions(cap, tmp, int(npk) if npk else None, "plugin")
        if not fl or not pl:
            print(f"{cap.name + (':' + npk if npk else ''):<28} failed")
            continue
        print(f"{cap.name + (':' + npk if npk else ''):<28} {n:>9} {fl / n:10.0f} {pl / n:11.0f} "
              f"{(pl - fl) / n:10.0f} {pl / fl:6.3f}", flush=True)


def conns_rss(caps, tmp):
    """Max RSS per connection on bench/synth.py conns captures (connsN.pcap: N connections): the
    floor and the plugin, filter mode, single pass and -2 (memory does not depend on load: once)."""
    print("memory per connection (filter mode; KiB = extra max RSS / connections):")
    print(f"{'capture':<20} {'conns':>7} {'pass':<4} {'floor MiB':>10} {'plugin MiB':>10} {'ratio':>6} "
          f"{'extra KiB/conn':>14}")
    for cap in caps:
        n = int("".join(ch for ch in cap.stem if ch.isdigit()))
        for tp in (False, True):
            fr = run_once(cap, "floor", "filter", tp, tmp)[1]
            pr = run_once(cap, "plugin", "filter", tp, tmp)[1]
            print(f"{cap.name:<20} {n:>7} {'-2' if tp else '1':<4} {fr:10.1f} {pr:10.1f} {pr / fr:6.3f} "
                  f"{(pr - fr) * 1024 / n:14.2f}", flush=True)


def conns_split(ns, tmp, repeat):
    """Extra max RSS split into per connection (C) and per data packet (P), from two captures of
    N connections that differ only in the data segments per direction (--conns-split). Each max
    RSS is the median of repeat runs, floor and plugin interleaved: one run's max RSS moves by
    up to +-0.4 MiB (address-space layout), which at 1,000 connections is +-0.4 KiB a connection."""
    print(f"memory per connection and per data packet (filter mode; extra = N x (C + D x P); "
          f"median max RSS of {repeat} runs):")
    print(f"{'conns':>7} {'pass':<4} {'D':>3} {'floor MiB':>10} {'plugin MiB':>10} {'extra KiB/conn':>14} "
          f"{'C KiB':>7} {'P bytes':>8}")
    for n in ns:
        caps = {}
        for k in (2, 20):
            cap = Path(tmp) / f"split{n}s{k}.pcap"
            subprocess.run([sys.executable, str(REPO / "bench" / "synth.py"), "conns", str(cap), "--conns", str(n),
                            "--segments", str(k)], check=True, capture_output=True)
            caps[k] = (cap, packets(cap) // n - 6)
        for tp in (False, True):
            extra = {}
            for k, (cap, d) in caps.items():
                runs = [(run_once(cap, "floor", "filter", tp, tmp)[1], run_once(cap, "plugin", "filter", tp, tmp)[1])
                        for _ in range(repeat)]
                fr = statistics.median(f for f, _ in runs)
                pr = statistics.median(p for _, p in runs)
                extra[d] = (pr - fr) * 1024 / n
                print(f"{n:>7} {'-2' if tp else '1':<4} {d:>3} {fr:10.1f} {pr:10.1f} {extra[d]:14.2f}", flush=True)
            (d1, e1), (d2, e2) = sorted(extra.items())
            per_pkt = (e2 - e1) / (d2 - d1)
            print(f"{n:>7} {'-2' if tp else '1':<4} {'':>3} {'':>10} {'':>10} {'':>14} {e1 - d1 * per_pkt:7.2f} "
                  f"{per_pkt * 1024:8.0f}", flush=True)


def packets(cap):
    out = subprocess.run(["capinfos", "-c", "-M", str(cap)], capture_output=True, text=True).stdout
    return int(out.split()[-1])


def scale(caps, repeat, two_pass, tmp):
    """Floor and plugin (filter mode) on each capture, interleaved: wall time per packet."""
    rows = {}
    for _ in range(repeat):
        for cap in caps:
            for cfg in ("floor", "plugin"):
                rows.setdefault((cap, cfg), []).append(run_once(cap, cfg, "filter", two_pass, tmp))
    print(f"scaling ({'-2' if two_pass else 'single pass'}, filter mode, min of {repeat}):")
    print(f"{'capture':<28} {'packets':>9} {'floor us/pkt':>12} {'plugin us/pkt':>13} {'extra us/pkt':>12} "
          f"{'ratio':>6} {'floor RSS':>9} {'plugin RSS':>10} {'RSS ratio':>9}")
    for cap in caps:
        n = packets(cap)
        fw = min(w for w, _ in rows[(cap, "floor")])
        pw = min(w for w, _ in rows[(cap, "plugin")])
        fr = max(r for _, r in rows[(cap, "floor")])
        pr = max(r for _, r in rows[(cap, "plugin")])
        print(f"{cap.name:<28} {n:>9} {fw / n * 1e6:12.2f} {pw / n * 1e6:13.2f} {(pw - fw) / n * 1e6:12.2f} "
              f"{pw / fw:6.3f} {fr:9.1f} {pr:10.1f} {pr / fr:9.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", type=Path, default=Path("/srv/bench/big.pcap"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--callgrind", type=Path, help="smaller capture for instruction counts")
    ap.add_argument("--no-builtin", action="store_true")
    ap.add_argument("--no-builtin-2pass", action="store_true",
                    help="the built-in single pass only (its -2 takes minutes on 300 k packets)")
    ap.add_argument("--tshark-arg", action="append", default=[], metavar="ARG",
                    help="extra tshark argument for every configuration (repeatable), e.g. "
                         "--tshark-arg=--disable-heuristic --tshark-arg=drda_tcp")
    ap.add_argument("--no-timing", action="store_true", help="skip the wall-time runs on --capture")
    ap.add_argument("--scale", type=Path, nargs="+", help="captures for the scaling table (floor vs plugin)")
    ap.add_argument("--scale-2pass", action="store_true", help="the scaling table with -2 too")
    ap.add_argument("--scale-instr", nargs="+", metavar="CAP[:N]",
                    help="instruction scaling table: plugin's extra instructions per packet on each capture "
                         "(or its first N packets)")
    ap.add_argument("--flood", type=Path, help="JOIN flood capture: instructions in the hook for 1/4, 1/2, all")
    ap.add_argument("--reasm", type=Path, nargs="+", help="bench/synth.py http captures: reassembly memory")
    ap.add_argument("--conns-rss", type=Path, nargs="+", metavar="CONNSN.pcap",
                    help="bench/synth.py conns captures: extra max RSS per connection, single pass and -2")
    ap.add_argument("--conns-split", type=int, nargs="+", metavar="N",
                    help="per connection and per data packet apart, N connections (synthetic captures)")
    ap.add_argument("--cachesim", type=Path, metavar="CAP",
                    help="cachegrind cache model on CAP: instructions, misses and model cycles per packet")
    ap.add_argument("--cachesim-1pass", action="store_true", help="--cachesim: single pass only")
    ap.add_argument("--keep", type=Path, help="directory to keep the callgrind profiles in")
    ap.add_argument("--fixed-seed", action="store_true",
                    help="a constant g_random_int() (bench/fixed-seed.c preloaded): wmem maps hash the same "
                         "way in every run, so instruction counts repeat exactly (A/B steps)")
    args = ap.parse_args()
    EXTRA.extend(args.tshark_arg)
    subprocess.run(["cmake", "--build", str(BUILD)], check=True, capture_output=True)
    cfgs = ["floor", "plugin"] + ([] if args.no_builtin else ["builtin"])
    cases = [(m, tp) for m in ("filter", "fields") for tp in (False, True)]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        copy_plugin(tmp)
        if args.fixed_seed:
            global FIXED_SEED
            FIXED_SEED = str(Path(tmp) / "fixed-seed.so")
            subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", FIXED_SEED, str(REPO / "bench/fixed-seed.c")],
                           check=True)
        if not args.no_timing:
            ensure_capture(args.capture)
            results = {}
            for _ in range(args.repeat):
                for mode, tp in cases:
                    for cfg in cfgs:
                        if cfg == "builtin" and tp and (_ > 0 or args.no_builtin_2pass):
                            continue        # the built-in's -2 is quadratic (minutes): once is enough
                        results.setdefault((mode, tp, cfg), []).append(run_once(args.capture, cfg, mode, tp, tmp))
            print(f"capture: {args.capture} ({packets(args.capture)} packets), repeat {args.repeat}")
            print(f"{'mode':<8} {'pass':<5} {'config':<8} {'min s':>7} {'median s':>9} {'ratio':>6} "
                  f"{'max RSS MiB':>12} {'RSS ratio':>9}")
            for mode, tp in cases:
                fl = results[(mode, tp, "floor")]
                fmin = min(w for w, _ in fl)
                frss = max(r for _, r in fl)
                for cfg in cfgs:
                    if (mode, tp, cfg) not in results:
                        continue
                    r = results[(mode, tp, cfg)]
                    walls = [w for w, _ in r]
                    rss = max(x for _, x in r)
                    print(f"{mode:<8} {'-2' if tp else '1':<5} {cfg:<8} {min(walls):7.2f} "
                          f"{statistics.median(walls):9.2f} {min(walls) / fmin:6.3f} {rss:12.1f} {rss / frss:9.3f}")
        if args.scale:
            scale(args.scale, args.repeat, False, tmp)
            if args.scale_2pass:
                scale(args.scale, args.repeat, True, tmp)
        if args.scale_instr:
            scale_instructions(args.scale_instr, tmp)
        if args.flood:
            n = packets(args.flood)
            hook = {k: hook_instructions(args.flood, tmp, k) for k in (n // 4, n // 2, n)}
            print(f"JOIN flood {args.flood.name}: instructions in the TCP hook (plugin + TCP)")
            for k, v in hook.items():
                print(f"  {k:>7} packets {v:>14,}  {v / k:10.0f} per packet")
        if args.reasm:
            reasm(args.reasm, tmp)
        if args.conns_rss:
            conns_rss(args.conns_rss, tmp)
        if args.conns_split:
            conns_split(args.conns_split, tmp, args.repeat)
        if args.cachesim:
            cachesim(args.cachesim, tmp, cfgs, (False,) if args.cachesim_1pass else (False, True))
        if args.callgrind:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                os.chmod(args.keep, 0o777)      # tshark runs as nobody (prefix())
            cg = callgrind(args.callgrind, tmp, args.keep)
            print(f"callgrind instructions, {args.callgrind.name} ({packets(args.callgrind)} packets):")
            for (mode, cfg, tp), n in cg.items():
                fl = cg[(mode, "floor", tp)]
                print(f"  {mode:<7} {'-2' if tp else '1':<3} {cfg:<8} {n:>16,}  ratio {n / fl:.3f}" if n and fl
                      else f"  {mode:<7} {'-2' if tp else '1':<3} {cfg:<8} failed")


if __name__ == "__main__":
    sys.exit(main())
