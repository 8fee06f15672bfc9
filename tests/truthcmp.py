#!/usr/bin/env python3
"""Compare tshark ``-T fields`` output with the ground truth of tests/truth.py.

Stable API (used by other tests with their own tshark command, e.g. the plugin-loaded one)::

    import truth, truthcmp
    t = truth.analyze(capture)
    rows = truthcmp.tshark_rows(capture, tshark_cmd, env=None, extra_args=[])
    metrics = truthcmp.compare(t, rows)          # dict name -> Metric
    assert metrics["dsn"].percent == 100.0, truthcmp.format_table(metrics)

``tshark_rows(capture, tshark_cmd, env=None, extra_args=())`` runs::

    tshark_cmd + ['-r', capture, '-T', 'fields', '-E', 'header=y', '-E', 'separator=/t',
                  '-E', 'occurrence=a', '-E', 'aggregator=,',
                  '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'mptcp.stream', '-e', 'mptcp.dsn',
                  '-e', 'mptcp.reinjection_of', '-e', 'mptcp.reinjected_in', '-e', 'mptcp.ack']
                 + extra_args

(``tshark_cmd`` is a list such as ``['tshark', '-o', 'mptcp.analyze_mappings:TRUE']``; None means
DEFAULT_TSHARK; ``env`` None inherits the environment) and returns one dict per output line,
keyed by the header (field names, plus any ``-e`` given in extra_args), values are the raw
strings ('' when absent, several occurrences joined by ','). It raises RuntimeError when
tshark fails.

``compare(truth, rows)`` returns, as Metric(correct, total) with ``.percent`` (100.0 when
total is 0) and ``.wrong`` (up to 20 example frame numbers):

* ``grouping``: every TCP packet of a subflow whose true connection is known must have an
  ``mptcp.stream``, and the streams must partition the packets like the true connections.
  Each connection is mapped to its majority stream (injective: pairs are assigned greedily by
  packet count, a connection whose majority stream is taken by a bigger one gets no stream);
  a packet is correct if its (single) mptcp.stream is its connection's stream.
* ``dsn``: data packets (tcp_len > 0) whose first ``mptcp.dsn`` equals the true relative DSN.
* ``reinj_precision``: packets with a non-empty ``mptcp.reinjection_of`` that are true
  cross-subflow reinjections.
* ``reinj_recall``: true cross-subflow reinjections that have a non-empty ``mptcp.reinjection_of``.
* informational: ``stream_present`` (packets of known subflows with any mptcp.stream),
  ``dsn_present`` (data packets with any mptcp.dsn), ``reinj_of_exact`` (true reinjections whose
  reinjection_of frame set equals the truth's), ``reinjected_in_recall``, ``ack`` (packets with
  a DSS Data ACK whose first ``mptcp.ack`` equals the true relative Data ACK; needs the keys).

CLI::

    python3 tests/truthcmp.py CAPTURE... [--two-pass] [--tshark 'CMD ...'] [--markdown] [-- extra tshark args]

runs the system tshark (the built-in dissector) by default with
``-o mptcp.analyze_mappings:TRUE -o mptcp.intersubflows_retransmission:TRUE`` and prints a table.
``--both`` prints single-pass and ``-2`` results side by side.
"""
import os
import shlex
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth as _truth  # noqa: E402

DEFAULT_TSHARK = ["tshark", "-o", "mptcp.analyze_mappings:TRUE",
                  "-o", "mptcp.intersubflows_retransmission:TRUE"]
FIELDS = ["frame.number", "tcp.stream", "mptcp.stream", "mptcp.dsn", "mptcp.reinjection_of",
          "mptcp.reinjected_in", "mptcp.ack"]
METRICS = ["grouping", "dsn", "reinj_precision", "reinj_recall"]
INFO_METRICS = ["stream_present", "dsn_present", "reinj_of_exact", "reinjected_in_recall", "ack"]


class Metric:
    __slots__ = ("correct", "total", "wrong")

    def __init__(self, correct=0, total=0, wrong=None):
        self.correct, self.total = correct, total
        self.wrong = wrong if wrong is not None else []

    @property
    def percent(self):
        return 100.0 if self.total == 0 else 100.0 * self.correct / self.total

    def add(self, ok, frame):
        self.total += 1
        if ok:
            self.correct += 1
        elif len(self.wrong) < 20:
            self.wrong.append(frame)

    def __repr__(self):
        return "Metric(%d/%d = %.2f%%)" % (self.correct, self.total, self.percent)

    def __str__(self):
        return "%d/%d (%.2f%%)" % (self.correct, self.total, self.percent)


def tshark_args(capture, extra_args=()):
    args = ["-r", str(capture), "-T", "fields", "-E", "header=y", "-E", "separator=/t",
            "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        args += ["-e", f]
    return args + list(extra_args)


def tshark_rows(capture, tshark_cmd=None, env=None, extra_args=()):
    """Run tshark on capture and return its -T fields output as a list of dicts (see module doc)."""
    cmd = list(tshark_cmd if tshark_cmd is not None else DEFAULT_TSHARK) + tshark_args(capture, extra_args)
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("tshark failed (rc %d): %s\n%s" % (r.returncode, " ".join(cmd),
                                                              r.stderr.decode(errors="replace")[-3000:]))
    return parse_fields(r.stdout.decode(errors="replace"))


def parse_fields(text):
    lines = text.split("\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return []
    header = lines[0].split("\t")
    rows = []
    for ln in lines[1:]:
        vals = ln.split("\t")
        vals += [""] * (len(header) - len(vals))
        rows.append(dict(zip(header, vals)))
    return rows


def _ints(v):
    out = []
    for x in (v or "").split(","):
        x = x.strip()
        if x:
            try:
                out.append(int(x, 0))
            except ValueError:
                pass
    return out


def compare(truth, rows):
    """Per-metric accuracy of tshark rows against a truth.Truth (see module doc)."""
    by_frame = {}
    for r in rows:
        try:
            by_frame[int(r.get("frame.number", ""))] = r
        except ValueError:
            continue
    m = {k: Metric() for k in METRICS + INFO_METRICS}

    # grouping
    known = [p for p in truth.packets if p.conn is not None]
    streams = {}
    pair_count = Counter()
    for p in known:
        s = set(_ints(by_frame.get(p.frame, {}).get("mptcp.stream")))
        streams[p.frame] = s
        if len(s) == 1:
            pair_count[(p.conn, next(iter(s)))] += 1
    conn_stream, used = {}, set()
    for (conn, s), _n in sorted(pair_count.items(), key=lambda kv: (-kv[1], kv[0])):
        if conn in conn_stream or s in used:
            continue
        conn_stream[conn] = s
        used.add(s)
    for p in known:
        s = streams[p.frame]
        m["stream_present"].add(bool(s), p.frame)
        m["grouping"].add(len(s) == 1 and conn_stream.get(p.conn) == next(iter(s)), p.frame)

    # DSN
    for p in truth.packets:
        if p.tcp_len <= 0 or p.dsn is None:
            continue
        d = _ints(by_frame.get(p.frame, {}).get("mptcp.dsn"))
        m["dsn_present"].add(bool(d), p.frame)
        m["dsn"].add(bool(d) and d[0] == p.dsn, p.frame)

    # reinjections
    for p in truth.packets:
        r = by_frame.get(p.frame, {})
        of = _ints(r.get("mptcp.reinjection_of"))
        inn = _ints(r.get("mptcp.reinjected_in"))
        if of:
            m["reinj_precision"].add(bool(p.reinjection_of), p.frame)
        if p.reinjection_of:
            m["reinj_recall"].add(bool(of), p.frame)
            m["reinj_of_exact"].add(set(of) == set(p.reinjection_of), p.frame)
        if p.reinjected_in:
            m["reinjected_in_recall"].add(bool(inn), p.frame)

    # Data ACK
    for p in truth.packets:
        if p.data_ack is None:
            continue
        a = _ints(by_frame.get(p.frame, {}).get("mptcp.ack"))
        m["ack"].add(bool(a) and a[0] == p.data_ack, p.frame)
    return m


def format_table(metrics, title=None):
    lines = []
    if title:
        lines.append(title)
    for k, v in metrics.items():
        lines.append("  %-22s %8d / %-8d %7.2f %%%s" % (
            k, v.correct, v.total, v.percent,
            "   wrong e.g. " + ",".join(map(str, v.wrong[:8])) if v.wrong else ""))
    return "\n".join(lines)


def evaluate(capture, tshark_cmd=None, env=None, extra_args=()):
    """Convenience: (truth, rows, metrics) for one capture."""
    t = _truth.analyze(capture)
    rows = tshark_rows(capture, tshark_cmd, env, extra_args)
    return t, rows, compare(t, rows)


def main(argv=None):
    import argparse
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description="tshark vs. ground truth, per metric")
    ap.add_argument("capture", nargs="+")
    ap.add_argument("--two-pass", action="store_true", help="run tshark with -2")
    ap.add_argument("--both", action="store_true", help="single pass and -2")
    ap.add_argument("--tshark", help="tshark command (shell words), default: %s" % " ".join(DEFAULT_TSHARK))
    ap.add_argument("--markdown", action="store_true", help="one markdown table row per capture")
    a = ap.parse_args(argv)
    cmd = shlex.split(a.tshark) if a.tshark else DEFAULT_TSHARK
    passes = [False, True] if a.both else [a.two_pass]
    names = METRICS + INFO_METRICS
    if a.markdown:
        hdr = ["capture", "pass"] + names
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
    for cap in a.capture:
        t = _truth.analyze(cap)
        for two in passes:
            rows = tshark_rows(cap, cmd, None, (["-2"] if two else []) + extra)
            met = compare(t, rows)
            if a.markdown:
                cells = [os.path.basename(cap), "-2" if two else "1"]
                for k in names:
                    v = met[k]
                    cells.append("n/a" if v.total == 0 else "%.1f (%d/%d)" % (v.percent, v.correct, v.total))
                print("| " + " | ".join(cells) + " |")
            else:
                print(format_table(met, "%s (%s)" % (cap, "two-pass -2" if two else "single pass")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
