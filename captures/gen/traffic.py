#!/usr/bin/env python3
"""MPTCP traffic program for the capture generator (Python 3 standard library only).

Every connection carries, in each direction, a *self-describing* byte stream: consecutive
8-byte big-endian words, the word at stream offset 8*k being

    MAGIC(16 bit) << 48 | conn(8 bit) << 40 | dir(1 bit) << 39 | k(39 bit)

with MAGIC = 0x4D50 ("MP"), dir 0 = client->server, 1 = server->client.  Any 16 consecutive
bytes of a stream therefore identify the connection, the direction and the stream offset.

  traffic.py server --port 5201 [--reply CONN:BYTES,...] [--default-reply BYTES] [--rate B/S]
                    [--unread-close CONN,...] [--max-conns N] [--verify/--no-verify]
  traffic.py client --dst ADDR --port 5201 --conn N --up BYTES [--down BYTES]
                    [--src ADDR] [--rate BYTES_PER_S] [--abort-after BYTES]
                    [--hook 'CMD ARGS' --hook-after BYTES] [--fastopen] [--record FILE]
                    [--rcvbuf BYTES] [--read-size BYTES] [--read-pause SEC]
                    [--stall BYTES:SEC,...] [--read-log FILE]
  traffic.py merge OUT.json CAPTURE_NAME RECORD...

Options of the kernel scenarios (captures/gen/sc-kernel.sh; without them nothing changes):
--fastopen (server) sets TCP_FASTOPEN on the listener, (client) sends its first chunk with
sendto(MSG_FASTOPEN) instead of connect() (data in the SYN once a TFO cookie is cached).
--tcp (server) listens with a plain TCP socket instead of an MPTCP one (the client falls back).
--record FILE appends one JSON line per connection and direction to FILE: what this side
wrote ("sent" bytes of its stream) and read ("read" bytes, and "diff": [[offset, byte], ...]
wherever a byte read differs from the generated stream, e.g. after an infinite mapping
delivered a corrupted segment); with --record, payload mismatches do not fail the client.
"merge" joins the records of both sides into the capture's truth file (JSON).

The server never sends first: it reads the first word of a connection to learn the
connection number and only then starts sending its reply (so the client's first data goes
with MP_CAPABLE).  Reply size comes from --reply/--default-reply (the client does not tell
it).  Each side half-closes (shutdown SHUT_WR -> DATA_FIN) after sending and closes after
reading EOF.  --abort-after makes the client close with SO_LINGER 0 after it has received
that many bytes (abortive close, MP_FASTCLOSE); --unread-close makes the server close
the connection without reading the client's data (unread data -> abortive close).

A slow reader (client, [dataorder]): --rcvbuf sets SO_RCVBUF before connect (so also the
window scale of the SYN), --read-size caps each recv(), --read-pause sleeps after each recv(),
--stall BYTES:SEC sleeps SEC once BYTES have been read, and --read-log writes every recv()
as JSON ({"rcvbuf": getsockopt value, "reads": [[time.time(), bytes], ...]}).  Without
these options the client reads as before (recv(65536) in a loop).
"""
import argparse
import socket
import struct
import sys
import threading
import time
from array import array

IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)
MAGIC = 0x4D50
CHUNK_WORDS = 2048          # 16 KiB per write


def word(conn, direction, k):
    return (MAGIC << 48) | ((conn & 0xFF) << 40) | ((direction & 1) << 39) | (k & ((1 << 39) - 1))


def stream_bytes(conn, direction, offset, length):
    """Bytes [offset, offset+length) of the stream of (conn, direction)."""
    if length <= 0:
        return b""
    k0 = offset // 8
    k1 = (offset + length + 7) // 8
    base = word(conn, direction, 0)
    a = array("Q", range(base + k0, base + k1))
    if sys.byteorder == "little":
        a.byteswap()
    b = a.tobytes()
    s = offset - 8 * k0
    return b[s:s + length]


def log(*a):
    print("[traffic %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def send_stream(sock, conn, direction, total, rate=None, hook=None, off=0):
    """hook = (bytes, argv): run argv (in the background) once that many bytes were written;
    off: bytes already written (with the SYN)."""
    t0 = time.monotonic()
    while off < total:
        n = min(CHUNK_WORDS * 8, total - off)
        data = stream_bytes(conn, direction, off, n)
        sock.sendall(data)
        off += n
        if hook and off >= hook[0]:
            import subprocess
            log("conn %d: %d bytes written, running %s" % (conn, off, " ".join(hook[1])))
            subprocess.Popen(hook[1])
            hook = None
        if rate:
            ahead = off / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    return off


class Receiver:
    def __init__(self, conn, direction, verify=True):
        self.conn, self.direction, self.verify = conn, direction, verify
        self.count = 0
        self.errors = 0
        self.diff = []

    def feed(self, data):
        if self.verify and data:
            exp = stream_bytes(self.conn, self.direction, self.count, len(data))
            if exp != data:
                self.errors += 1
                self.diff += [[self.count + i, b] for i, (a, b) in enumerate(zip(exp, data)) if a != b]
                if self.errors < 5:
                    log("conn %d dir %d: payload mismatch at offset %d" % (self.conn, self.direction, self.count))
        self.count += len(data)


def recv_all(sock, rcv, abort_after=None, slow=None):
    """slow: None, or dict(size, pause, stalls [(bytes, sec)], log list) for a slow reader."""
    size = slow["size"] if slow else 65536
    while True:
        try:
            data = sock.recv(size)
        except OSError as e:
            log("conn %d: recv error %s after %d bytes" % (rcv.conn, e, rcv.count))
            return False
        if slow is not None:
            slow["log"].append([time.time(), len(data)])
        if not data:
            return True
        before = rcv.count
        rcv.feed(data)
        if abort_after is not None and rcv.count >= abort_after:
            return None
        if slow:
            for at, sec in slow["stalls"]:
                if before < at <= rcv.count:
                    time.sleep(sec)
            if slow["pause"]:
                time.sleep(slow["pause"])


def mksock(family, proto=IPPROTO_MPTCP):
    return socket.socket(family, socket.SOCK_STREAM, proto)


def record(path, conn, direction, sent, rcv):
    """Append what one side wrote (direction) and read (the other direction) to path."""
    if not path:
        return
    import json
    with open(path, "a") as f:
        f.write(json.dumps({"conn": conn, "dir": direction, "sent": sent}) + "\n")
        f.write(json.dumps({"conn": conn, "dir": rcv.direction, "read": rcv.count, "diff": rcv.diff}) + "\n")


def merge(out, capname, paths):
    """Truth of a capture: per connection and direction, bytes sent, read and read differently."""
    import json
    conns = {}
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            d = conns.setdefault(str(r.pop("conn")), {}).setdefault(str(r.pop("dir")), {})
            d.update(r)
    with open(out, "w") as f:
        json.dump({"capture": capname, "connections": conns}, f, indent=1, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------- server
def server_conn(s, peer, args, done):
    conn = None
    try:
        first = b""
        while len(first) < 8:
            d = s.recv(8 - len(first))
            if not d:
                break
            first += d
        if len(first) < 8:
            log("server: short first read from", peer)
            return
        w = struct.unpack(">Q", first)[0]
        if w >> 48 != MAGIC or (w >> 39) & 1 or w & ((1 << 39) - 1):
            log("server: bad first word %016x from %s" % (w, peer))
            return
        conn = (w >> 40) & 0xFF
        reply = args.reply.get(conn, args.default_reply)
        log("server: conn %d from %s, reply %d bytes" % (conn, peer, reply))
        if conn in args.unread_close:
            time.sleep(args.unread_delay)
            s.close()
            log("server: conn %d closed with unread data" % conn)
            return
        rcv = Receiver(conn, 0, args.verify)
        rcv.feed(first)
        sent = [0]

        def writer():
            try:
                sent[0] = send_stream(s, conn, 1, reply, args.rate)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                log("server: conn %d send error %s" % (conn, e))

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        recv_all(s, rcv)
        t.join()
        log("server: conn %d received %d bytes (%d errors), sent %d" % (conn, rcv.count, rcv.errors, sent[0]))
        record(args.record, conn, 1, sent[0], rcv)
        s.close()
    except OSError as e:
        log("server: conn %s error %s" % (conn, e))
    finally:
        done.release()


def run_server(args):
    ls = mksock(socket.AF_INET6, socket.IPPROTO_TCP if args.tcp else IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", args.port))
    if args.fastopen:
        ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    ls.listen(16)
    log("server: listening on port %d" % args.port)
    if args.ready_file:
        open(args.ready_file, "w").write("ready\n")
    done = threading.Semaphore(0)
    threads = []
    for _ in range(args.max_conns):
        s, peer = ls.accept()
        t = threading.Thread(target=server_conn, args=(s, peer, args, done))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    ls.close()
    log("server: done")


# ---------------------------------------------------------------- client
def run_client(args):
    fam = socket.AF_INET6 if ":" in args.dst else socket.AF_INET
    s = mksock(fam)
    if args.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    if args.src:
        s.bind((args.src, 0))
    slow = None
    if args.rcvbuf or args.read_size or args.read_pause or args.stall or args.read_log:
        slow = {"size": args.read_size or 65536, "pause": args.read_pause or 0.0,
                "stalls": args.stall or [], "log": []}
    first = 0
    if args.fastopen:
        # the first chunk goes with the SYN (TFO) when the kernel holds a cookie for the server
        first = s.sendto(stream_bytes(args.conn, 0, 0, min(CHUNK_WORDS * 8, args.up)), socket.MSG_FASTOPEN,
                         (args.dst, args.port))
    else:
        s.connect((args.dst, args.port))
    log("client: conn %d connected %s -> %s" % (args.conn, s.getsockname()[:2], s.getpeername()[:2]))
    rcv = Receiver(args.conn, 1, args.verify)
    res = {}

    def writer():
        try:
            hook = (args.hook_after, args.hook.split()) if args.hook else None
            res["sent"] = send_stream(s, args.conn, 0, args.up, args.rate, hook, first)
            if args.abort_after is None:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            log("client: conn %d send error %s" % (args.conn, e))

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    r = recv_all(s, rcv, args.abort_after, slow)
    if args.read_log:
        import json
        with open(args.read_log, "w") as f:
            json.dump({"rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), "read_size": slow["size"],
                       "read_pause": slow["pause"], "stalls": slow["stalls"], "reads": slow["log"]}, f)
    if r is None:
        log("client: conn %d abortive close after %d bytes received" % (args.conn, rcv.count))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return 0
    t.join()
    s.close()
    log("client: conn %d sent %s received %d (%d errors)" % (args.conn, res.get("sent"), rcv.count, rcv.errors))
    record(args.record, args.conn, 0, res.get("sent"), rcv)
    errors = rcv.errors if not args.record else 0
    return 1 if errors or (args.down is not None and rcv.count != args.down) else 0


def parse_reply(s):
    out = {}
    for part in filter(None, (s or "").split(",")):
        c, n = part.split(":")
        out[int(c)] = int(n)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    sp = sub.add_parser("server")
    sp.add_argument("--port", type=int, default=5201)
    sp.add_argument("--reply", type=parse_reply, default={})
    sp.add_argument("--default-reply", type=int, default=0)
    sp.add_argument("--unread-close", type=lambda s: {int(x) for x in s.split(",") if x}, default=set())
    sp.add_argument("--unread-delay", type=float, default=0.5)
    sp.add_argument("--max-conns", type=int, default=1)
    sp.add_argument("--no-verify", dest="verify", action="store_false")
    sp.add_argument("--ready-file")
    sp.add_argument("--rate", type=float, help="pace each reply to BYTES_PER_S")
    sp.add_argument("--tcp", action="store_true", help="plain TCP listener (no MPTCP)")
    sp.add_argument("--fastopen", action="store_true", help="TCP_FASTOPEN on the listener")
    sp.add_argument("--record", help="append what was sent and read to this file (JSON lines)")
    cp = sub.add_parser("client")
    cp.add_argument("--dst", required=True)
    cp.add_argument("--src")
    cp.add_argument("--port", type=int, default=5201)
    cp.add_argument("--conn", type=int, required=True)
    cp.add_argument("--up", type=int, required=True)
    cp.add_argument("--down", type=int)
    cp.add_argument("--rate", type=float)
    cp.add_argument("--abort-after", type=int)
    cp.add_argument("--hook", help="command (split on spaces) to run once --hook-after bytes are written")
    cp.add_argument("--hook-after", type=int, default=0)
    cp.add_argument("--no-verify", dest="verify", action="store_false")
    cp.add_argument("--fastopen", action="store_true", help="first chunk with sendto(MSG_FASTOPEN)")
    cp.add_argument("--record", help="append what was sent and read to this file (JSON lines)")
    cp.add_argument("--rcvbuf", type=int, help="SO_RCVBUF before connect")
    cp.add_argument("--read-size", type=int, help="bytes per recv() (default 65536)")
    cp.add_argument("--read-pause", type=float, help="seconds to sleep after every recv()")
    cp.add_argument("--stall", type=lambda v: [tuple((int(a), float(b))) for a, b in
                                              (x.split(":") for x in v.split(",") if x)],
                    help="BYTES:SEC,...: sleep SEC once BYTES have been read")
    cp.add_argument("--read-log", help="write every recv() (time.time(), bytes) as JSON")
    mp = sub.add_parser("merge")
    mp.add_argument("out")
    mp.add_argument("capture")
    mp.add_argument("records", nargs="+")
    args = ap.parse_args()
    if args.mode == "merge":
        merge(args.out, args.capture, args.records)
        return 0
    if args.mode == "server":
        run_server(args)
        return 0
    return run_client(args)


if __name__ == "__main__":
    sys.exit(main())
