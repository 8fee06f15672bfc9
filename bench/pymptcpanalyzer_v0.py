#!/usr/bin/env python3
"""pymptcpanalyzer's client/server join on its own v0 pair, in real frame numbers ([vantage], issue 21).

Reads the stdout of pymptcpanalyzer's `qualify_reinjections client_2.pcap C server_2.pcap S --csv`
for the four connections (how it was run: docs/pymptcpanalyzer-v0-pair.md) and writes what it
printed as JSON (tests/data/pymptcpanalyzer-v0-pair.json, read by tests/test_vantage.py):

  pairs         [client frame, server frame, owd in ns as pymptcpanalyzer printed it] for every
                segment it joined (its packetid k is the k-th row tshark exports with
                `-2 -R "mptcp or tcp and not icmp"`; mapped back to the real frame number here, each
                row checked against its printed time stamp)
  subflows      per connection / client port / direction: joined segments and owd min/median/max
  reinjections  [client frame, its "redundant" verdict, whether it was joined]

  python3 bench/pymptcpanalyzer_v0.py RUNS EXTERNAL_DIR > tests/data/pymptcpanalyzer-v0-pair.json
  python3 bench/pymptcpanalyzer_v0.py --table DATA.json STAT.json   # markdown rows beside the plugin's
                                                                    # -z mptcp,stat,json (client capture)
RUNS holds qr_<variant>_c<C>.csv.log (variant "nan_hash" and "as_is") and list_client.txt (its
`list_mptcp_connections` on client_2.pcap).
"""
import calendar
import json
import statistics
import subprocess
import sys
import time
from decimal import Decimal

CONNS = {0: 0, 1: 2, 2: 3, 3: 4}   # client's mptcp.stream -> server's, as its map_mptcp_connection says
CAPS = ("client_2", "server_2")
SERVER_ROLE = "2"                  # its ConnectionRoles.Server: tcpdest of a client -> server segment


def tshark_rows(pcap, *args):
    out = subprocess.run(["tshark", "-r", pcap] + list(args), capture_output=True, text=True, check=True)
    return [l.split("\t") for l in out.stdout.splitlines()]


def exported(pcap):
    """(real frame, epoch) of the rows pymptcpanalyzer's tshark export holds, in its order"""
    return [(int(f), Decimal(t)) for f, t in tshark_rows(pcap, "-Y", "mptcp or tcp and not icmp", "-T", "fields",
                                                       "-e", "frame.number", "-e", "frame.time_epoch")]


def client_ports(pcap):
    """tcp.stream -> the client's port, from the SYNs"""
    rows = tshark_rows(pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
                       "-e", "tcp.stream", "-e", "tcp.srcport")
    return {int(s): int(p) for s, p in rows}


def epoch(s):
    """'2018-06-15 04:44:01.387428522+00:00' -> Decimal seconds"""
    day, clock = s.replace("+00:00", "").split(" ")
    hms, frac = (clock.split(".") + ["0"])[:2]
    return Decimal(calendar.timegm(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))) + Decimal("0." + frac)


def timedelta_s(s):
    """pandas' '0 days 00:00:00.061778784' / '-1 days +23:59:59.949958086' -> Decimal seconds"""
    days, rest = s.split(" days ")
    h, m, sec = rest.lstrip("+").split(":")
    return Decimal(days) * 86400 + Decimal(h) * 3600 + Decimal(m) * 60 + Decimal(sec)


def locate(rows, pid, when, only=None):
    """capture and real frame of packetid pid printed with time `when` (both captures can hold
    a row at the same microsecond: `only` picks one)"""
    for cap in CAPS:
        if only not in (None, cap):
            continue
        if 0 < pid <= len(rows[cap]) and abs(rows[cap][pid - 1][1] - when) < Decimal("0.000001"):
            return cap, rows[cap][pid - 1][0]
    return None, None


def csv_rows(path):
    hdr, out = None, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("abstime|reinjection_of"):
                hdr = line.split("|")
            elif hdr and line.count("|") == len(hdr) - 1:
                out.append(dict(zip(hdr, line.split("|"))))
    return out


def conn_of_port(runs):
    port_conn, cur = {}, None
    with open(runs + "/list_client.txt") as f:
        for line in f:
            if line.startswith("mptcp.stream "):
                cur = int(line.split()[1])
            elif line.strip().startswith(">tcp.stream") and cur is not None:
                port_conn[int(line.split()[2].rsplit(":", 1)[1])] = cur
    return port_conn


def join_row(rows, r):
    """(client frame, server frame, sender capture) of a joined row, or None"""
    for first in CAPS:
        s = locate(rows, int(r["packetid"]), epoch(r["abstime"]), first)
        q = locate(rows, int(float(r["packetid_receiver"])), epoch(r["abstime_receiver"]),
                   CAPS[1] if first == CAPS[0] else CAPS[0])
        if s[0] and q[0]:
            return (s[1], q[1], s[0]) if s[0] == "client_2" else (q[1], s[1], s[0])
    return None


def summarize(ns):
    return {"n": len(ns), "min_ns": min(ns), "median_ns": int(statistics.median(ns)), "max_ns": max(ns)}


def analyze(runs, ext, variant):
    rows = {c: exported("%s/%s.pcap" % (ext, c)) for c in CAPS}
    ports = {c: client_ports("%s/%s.pcap" % (ext, c)) for c in CAPS}
    port_conn = conn_of_port(runs)
    pairs, per, reinj = [], {}, []
    for conn in CONNS:
        for r in csv_rows("%s/qr_%s_c%d.csv.log" % (runs, variant, conn)):
            if not r["packetid"]:
                continue
            joined = r["owd"] != "" and r["packetid_receiver"] != ""
            j = join_row(rows, r) if joined else None
            if r["reinjection_of"]:
                cap, frame = locate(rows, int(r["packetid"]), epoch(r["abstime"]))
                reinj.append([frame if cap == "client_2" else None, r["redundant"] == "True", bool(j)])
            if not j:
                continue
            owd = int(timedelta_s(r["owd"]) * 10**9)
            pairs.append([j[0], j[1], owd])
            # its own labels: direction from tcpdest, subflow from the columns it calls the sender's
            port = ports[j[2]].get(int(r["tcpstream"]))
            key = "%d/%d/%s" % (port_conn.get(port, -1), port or 0, "c2s" if r["tcpdest"] == SERVER_ROLE else "s2c")
            per.setdefault(key, []).append(owd)
    return {"pairs": sorted(pairs), "subflows": {k: summarize(v) for k, v in sorted(per.items())},
            "reinjections": sorted(reinj, key=lambda x: x[0] or 0)}


def table(data_path, stat_path):
    data = json.load(open(data_path))
    stat = json.load(open(stat_path))
    ms = lambda ns: "%.3f" % (ns / 1e6)
    for c in stat["connections"]:
        for sf in c["subflows"]:
            for d in ("c2s", "s2c"):
                o = sf["directions"][d]["owd"]
                p = data["subflows"].get("%d/%d/%s" % (c["stream"], sf["client"]["port"], d))
                if not o["samples"] and not p:
                    continue
                mine = "%d | %s / %s / %s" % (o["samples"], ms(o["min"] * 1e9), ms(o["p50"] * 1e9),
                                              ms(o["max"] * 1e9)) if o["samples"] else "0 | "
                theirs = ("%d | %s / %s / %s" % (p["n"], ms(p["min_ns"]), ms(p["median_ns"]), ms(p["max_ns"]))
                          if p else "0 | ")
                print("| %d | %d | %s | %s | %s |" % (c["stream"], sf["client"]["port"],
                                                       "c->s" if d == "c2s" else "s->c", theirs, mine))


def main():
    if sys.argv[1] == "--table":
        table(sys.argv[2], sys.argv[3])
        return
    runs, ext = sys.argv[1], sys.argv[2]
    out = analyze(runs, ext, "nan_hash")
    as_is = analyze(runs, ext, "as_is")
    out["as_is"] = {"pairs": len(as_is["pairs"]), "negative_owd": sum(1 for p in as_is["pairs"] if p[2] < 0),
                    "reinjections_listed": len(as_is["reinjections"])}
    out["about"] = ("pymptcpanalyzer 0.4.0 (teto/pymptcpanalyzer 685193e) on Debian bookworm (Python 3.11, "
                    "pandas 1.5.3, tshark 4.0.17 built-in MPTCP dissector), `qualify_reinjections client_2.pcap C "
                    "server_2.pcap S --csv` for (C, S) in %s; pairs/subflows/reinjections from the run with "
                    "missing values hashed alike as on Python <= 3.9; as_is: the same run with its hash on "
                    "Python 3.11 (docs/pymptcpanalyzer-v0-pair.md)" % sorted(CONNS.items()))
    # one pair / subflow / reinjection a line
    lines = []
    for k in sorted(out):
        v = out[k]
        if isinstance(v, list):
            body = ",\n".join("  " + json.dumps(x) for x in v)
            lines.append(" %s: [\n%s\n ]" % (json.dumps(k), body))
        elif k == "subflows":
            body = ",\n".join("  %s: %s" % (json.dumps(s), json.dumps(x)) for s, x in v.items())
            lines.append(" %s: {\n%s\n }" % (json.dumps(k), body))
        else:
            lines.append(" %s: %s" % (json.dumps(k), json.dumps(v)))
    print("{\n" + ",\n".join(lines) + "\n}")


if __name__ == "__main__":
    main()
