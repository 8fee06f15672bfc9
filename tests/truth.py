#!/usr/bin/env python3
"""Ground truth for the MPTCP captures in captures/ (Python standard library only).

The truth comes from the capture itself, independent of any dissector: the traffic program
(captures/gen/traffic.py) sends, per connection and direction, consecutive 8-byte big-endian
words ``0x4D50 << 48 | conn << 40 | dir << 39 | k`` (word k sits at stream offset 8*k;
dir 0 = client->server, 1 = server->client).  Any >= 15 captured payload bytes therefore give
the connection, the direction and the stream offset of the first byte, i.e. the true relative
DSN (= offset + 1).  Shorter payloads are resolved from a neighbouring segment of the same
TCP flow (same sequence space) and checked byte by byte against the stream.

API (stable; other tests import it)::

    import truth
    t = truth.analyze("captures/v1-3sub.pcap")      # -> Truth
    t.packets        # list[Packet], every TCP packet in frame order
    t.by_frame       # dict frame number -> Packet
    t.data_packets   # packets with TCP payload (tcp_len > 0)
    t.connections    # dict conn number -> Connection
    t.subflows       # dict SubflowKey -> Subflow
    t.frame_count    # number of frames in the file (TCP or not)
    t.unresolved     # data packets whose DSN could not be derived (should be empty)

Packet attributes: ``frame`` (1-based, as Wireshark), ``ts``, ``src``, ``sport``, ``dst``,
``dport``, ``tuple`` (src, sport, dst, dport), ``subflow`` (SubflowKey), ``seq``, ``ack``,
``flags`` and ``syn``/``ack_flag``/``fin``/``rst``, ``window`` (the TCP window field, unscaled), ``tcp_len`` (payload length from the IP
header), ``captured_len`` (payload bytes present in the capture), ``options`` (list of (kind,
bytes)), ``mptcp`` (list of MptcpOption), ``mptcp_capable`` / ``mptcp_join`` (bool),
``conn`` (true connection number or None: set on EVERY packet of a subflow whose connection
is known), ``direction`` (0 client->server, 1 server->client, or None), ``is_data``
(tcp_len > 0), ``dsn`` (true relative DSN of the first payload byte, data packets only),
``raw_dsn`` (64-bit DSN = IDSN + dsn when the connection's keys were captured),
``resolved_by`` ("payload" or "context"), ``reinjection`` (bool: carries bytes already sent
earlier in the capture on ANOTHER subflow of the same connection and direction),
``reinjection_of`` (sorted earlier frames on other subflows that overlap it),
``reinjected_in`` (later frames on other subflows that overlap it), ``retransmission``
(bool: overlaps an earlier packet of the same subflow and direction), ``data_ack`` (relative
Data ACK of a DSS with the A flag = raw ack - IDSN of the other direction's key, when known),
``corrupt`` (list of (stream offset, byte captured) where the payload differs from the generated
stream: bytes rewritten in flight, e.g. by captures/gen/sc-kernel.sh's MP_FAIL scenarios; such a
packet is placed from its neighbours and ``resolved_by`` is "corrupted"; ``t.corrupted`` lists them).
Data in a SYN (TCP Fast Open) starts at the SYN's sequence number + 1.

A subflow (SubflowKey = (client_ip, client_port, server_ip, server_port), oriented by the SYN
sender, else by the data direction, else sorted) is mapped to its connection from its data
packets; subflows without data are mapped through MPTCP keys and tokens parsed here from the
TCP options (MP_CAPABLE keys -> token = first 4 bytes of SHA-256 (v1) / SHA-1 (v0) of the
8-byte big-endian key; MP_JOIN SYN carries the receiver's token).

CLI: ``python3 tests/truth.py CAPTURE [--packets] [--json]`` prints a summary (and the
per-packet table).  Link types: Ethernet (1), Linux SLL (113), SLL2 (276), raw IP (101, 12,
14, 228, 229), PPP (9), NULL/LOOP (0, 108); pcap (us/ns, both byte orders) and pcapng.
"""
import bisect
import hashlib
import struct
import sys
from array import array
from collections import Counter, defaultdict, namedtuple

MAGIC = 0x4D50
K_MASK = (1 << 39) - 1

MPTCP_SUBTYPES = {0: "MP_CAPABLE", 1: "MP_JOIN", 2: "DSS", 3: "ADD_ADDR", 4: "REMOVE_ADDR",
                  5: "MP_PRIO", 6: "MP_FAIL", 7: "MP_FASTCLOSE", 8: "MP_TCPRST"}

SubflowKey = namedtuple("SubflowKey", "client_ip client_port server_ip server_port")


# ----------------------------------------------------------------------------- payload stream
def word(conn, direction, k):
    return (MAGIC << 48) | ((conn & 0xFF) << 40) | ((direction & 1) << 39) | (k & K_MASK)


def stream_bytes(conn, direction, offset, length):
    """Bytes [offset, offset+length) of the self-describing stream of (conn, direction)."""
    if length <= 0:
        return b""
    k0 = offset // 8
    k1 = (offset + length + 7) // 8
    base = word(conn, direction, 0)
    a = array("Q", range(base + k0, base + k1))
    if sys.byteorder == "little":
        a.byteswap()
    s = offset - 8 * k0
    return a.tobytes()[s:s + length]


def decode_payload(payload):
    """Return the set of (conn, direction, offset) consistent with the payload bytes.

    Exactly one element for >= 15 bytes of a generated stream; possibly several or none for
    shorter payloads."""
    n = len(payload)
    out = set()
    for p in range(0, min(8, n - 7)):
        w = int.from_bytes(payload[p:p + 8], "big")
        if w >> 48 != MAGIC:
            continue
        conn, d, k = (w >> 40) & 0xFF, (w >> 39) & 1, w & K_MASK
        off = 8 * k - p
        if off < 0:
            continue
        if stream_bytes(conn, d, off, n) == payload:
            out.add((conn, d, off))
    return out


# ----------------------------------------------------------------------------- file reading
class CaptureError(Exception):
    pass


def _read_pcap(f, head):
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise CaptureError("not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    rest = f.read(20)
    if len(rest) < 20:
        raise CaptureError("truncated pcap header")
    linktype = struct.unpack(e + "I", rest[16:20])[0] & 0x0FFFFFFF
    div = 1e9 if nano else 1e6
    rec = struct.Struct(e + "IIII")
    while True:
        h = f.read(16)
        if len(h) < 16:
            return
        sec, frac, incl, orig = rec.unpack(h)
        data = f.read(incl)
        if len(data) < incl:
            return
        yield linktype, sec + frac / div, data, orig


def _read_pcapng(f, hdr):
    e = "<"
    ifaces = []
    while len(hdr) == 8:
        if hdr[:4] == b"\x0a\x0d\x0d\x0a":               # section header: byte order, new interfaces
            bom = f.read(4)
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(e + "I", hdr[4:8])[0]
            f.read(blen - 12)
            ifaces = []
            hdr = f.read(8)
            continue
        btype, blen = struct.unpack(e + "II", hdr)
        body = f.read(blen - 8)
        hdr = f.read(8)
        if len(body) < blen - 8 or blen < 12:
            return
        body = body[:-4]   # trailing block length
        if btype == 1:     # IDB
            lt, _res, snap = struct.unpack(e + "HHI", body[:8])
            div = 10 ** 6
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    v = body[o + 4]
                    div = 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((lt, div, snap))
        elif btype == 6:   # EPB
            iid, tsh, tsl, cap, orig = struct.unpack(e + "IIIII", body[:20])
            lt, div, _ = ifaces[iid]
            v = (tsh << 32) | tsl
            yield lt, v // div + (v % div) / div, body[20:20 + cap], orig
        elif btype == 3:   # SPB
            orig = struct.unpack(e + "I", body[:4])[0]
            lt, div, snap = ifaces[0]
            cap = min(orig, snap) if snap else orig
            yield lt, 0.0, body[4:4 + cap], orig
        elif btype == 2:   # obsolete PB
            iid, _drops, tsh, tsl, cap, orig = struct.unpack(e + "HHIIII", body[:20])
            lt, div, _ = ifaces[iid]
            v = (tsh << 32) | tsl
            yield lt, v // div + (v % div) / div, body[20:20 + cap], orig


def read_frames(path):
    """Yield (frame_number, linktype, timestamp, data, orig_len) for every frame of a pcap/pcapng."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head == b"\x0a\x0d\x0d\x0a":
            gen = _read_pcapng(f, head + f.read(4))
        else:
            gen = _read_pcap(f, head)
        for i, (lt, ts, data, orig) in enumerate(gen, 1):
            yield i, lt, ts, data, orig


# ----------------------------------------------------------------------------- decoding
def _l3_offset(lt, data):
    """(offset of the IP header, IP version or None)."""
    if lt == 1:                                   # Ethernet
        if len(data) < 14:
            return None, None
        et = struct.unpack("!H", data[12:14])[0]
        o = 14
        while et in (0x8100, 0x88A8, 0x9100) and len(data) >= o + 4:
            et = struct.unpack("!H", data[o + 2:o + 4])[0]
            o += 4
        return o, {0x0800: 4, 0x86DD: 6}.get(et)
    if lt == 113:                                 # Linux SLL
        if len(data) < 16:
            return None, None
        return 16, {0x0800: 4, 0x86DD: 6}.get(struct.unpack("!H", data[14:16])[0])
    if lt == 276:                                 # Linux SLL2
        if len(data) < 20:
            return None, None
        return 20, {0x0800: 4, 0x86DD: 6}.get(struct.unpack("!H", data[0:2])[0])
    if lt in (101, 12, 14, 228, 229):             # raw IP
        if not data:
            return None, None
        return 0, {4: 4, 6: 6}.get(data[0] >> 4)
    if lt == 9:                                   # PPP
        o = 2 if data[:2] == b"\xff\x03" else 0
        if len(data) < o + 2:
            return None, None
        proto = data[o]
        if proto & 1:
            return o + 1, {0x21: 4, 0x57: 6}.get(proto)
        return o + 2, {0x0021: 4, 0x0057: 6}.get(struct.unpack("!H", data[o:o + 2])[0])
    if lt in (0, 108):                            # NULL / LOOP
        if len(data) < 4:
            return None, None
        fam = struct.unpack("<I" if lt == 0 and data[0] else "!I", data[:4])[0]
        return 4, 4 if fam == 2 else (6 if fam in (10, 24, 28, 30) else None)
    return None, None


def _ntop(b):
    if len(b) == 4:
        return "%d.%d.%d.%d" % tuple(b)
    import ipaddress
    return str(ipaddress.IPv6Address(b))


def _parse_ip_tcp(lt, data):
    """-> (src, dst, tcp_bytes_captured, tcp_total_len) or None."""
    o, ver = _l3_offset(lt, data)
    if o is None or ver is None:
        return None
    if ver == 4:
        if len(data) < o + 20 or data[o] >> 4 != 4:
            return None
        ihl = (data[o] & 0x0F) * 4
        tot = struct.unpack("!H", data[o + 2:o + 4])[0]
        frag = struct.unpack("!H", data[o + 6:o + 8])[0]
        if data[o + 9] != 6 or frag & 0x3FFF:
            return None
        src, dst = _ntop(data[o + 12:o + 16]), _ntop(data[o + 16:o + 20])
        return src, dst, data[o + ihl:o + tot], tot - ihl
    if len(data) < o + 40 or data[o] >> 4 != 6:
        return None
    plen = struct.unpack("!H", data[o + 4:o + 6])[0]
    nh = data[o + 6]
    src, dst = _ntop(data[o + 8:o + 24]), _ntop(data[o + 24:o + 40])
    p = o + 40
    end = p + plen
    while nh in (0, 43, 60, 44, 51):
        if len(data) < p + 8:
            return None
        if nh == 44:
            fo = struct.unpack("!H", data[p + 2:p + 4])[0]
            if fo & 0xFFF9:
                return None
            nh, p = data[p], p + 8
        elif nh == 51:
            nh, p = data[p], p + (data[p + 1] + 2) * 4
        else:
            nh, p = data[p], p + (data[p + 1] + 1) * 8
    if nh != 6:
        return None
    return src, dst, data[p:end], end - p


class MptcpOption:
    """One MPTCP option (TCP kind 30), decoded enough for the truth."""
    __slots__ = ("subtype", "length", "raw", "version", "flags", "keys", "token", "backup",
                 "addr_id", "dss")

    def __init__(self, raw):
        self.raw = raw
        self.length = len(raw)
        self.subtype = raw[2] >> 4 if len(raw) > 2 else -1
        self.version = raw[2] & 0x0F if len(raw) > 2 else None
        self.flags = raw[3] if len(raw) > 3 else 0
        self.keys = ()
        self.token = None
        self.backup = None
        self.addr_id = None
        self.dss = None
        st, n = self.subtype, self.length
        if st == 0:                                       # MP_CAPABLE
            if n >= 12:
                self.keys = (struct.unpack("!Q", raw[4:12])[0],)
            if n >= 20:
                self.keys += (struct.unpack("!Q", raw[12:20])[0],)
        elif st == 1:                                     # MP_JOIN
            self.backup = bool(raw[2] & 1)
            if n == 12:
                self.addr_id = raw[3]
                self.token = struct.unpack("!I", raw[4:8])[0]
            elif n == 16:
                self.addr_id = raw[3]
        elif st == 2 and n >= 4:                          # DSS
            fl = raw[3]
            o = 4
            d = {"F": bool(fl & 0x10), "m": bool(fl & 0x08), "M": bool(fl & 0x04),
                 "a": bool(fl & 0x02), "A": bool(fl & 0x01)}
            if d["A"]:
                w = 8 if d["a"] else 4
                d["data_ack"] = int.from_bytes(raw[o:o + w], "big")
                o += w
            if d["M"]:
                w = 8 if d["m"] else 4
                d["dsn"] = int.from_bytes(raw[o:o + w], "big")
                d["dsn_len"] = w
                o += w
                if n >= o + 6:
                    d["ssn"] = struct.unpack("!I", raw[o:o + 4])[0]
                    d["dll"] = struct.unpack("!H", raw[o + 4:o + 6])[0]
                    o += 6
                if n >= o + 2:
                    d["csum"] = struct.unpack("!H", raw[o:o + 2])[0]
            self.dss = d
        elif st == 5:                                     # MP_PRIO
            self.backup = bool(raw[2] & 1)

    @property
    def name(self):
        return MPTCP_SUBTYPES.get(self.subtype, "unknown(%d)" % self.subtype)

    def __repr__(self):
        return "<%s len %d>" % (self.name, self.length)


def key_token_idsn(key, version=1):
    """(token, idsn) of an 8-byte MPTCP key: SHA-256 for v1, SHA-1 for v0."""
    h = (hashlib.sha256 if version >= 1 else hashlib.sha1)(struct.pack("!Q", key)).digest()
    return struct.unpack("!I", h[:4])[0], struct.unpack("!Q", h[-8:])[0]


class Packet:
    __slots__ = ("frame", "ts", "src", "sport", "dst", "dport", "seq", "ack", "flags", "tcp_len",
                 "captured_len", "payload", "options", "mptcp", "subflow", "conn", "direction",
                 "dsn", "raw_dsn", "resolved_by", "reinjection_of", "reinjected_in",
                 "retransmission", "data_ack", "corrupt", "window")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))
        self.reinjection_of = []
        self.reinjected_in = []
        self.retransmission = False
        self.corrupt = []

    tuple = property(lambda s: (s.src, s.sport, s.dst, s.dport))
    syn = property(lambda s: bool(s.flags & 0x02))
    fin = property(lambda s: bool(s.flags & 0x01))
    rst = property(lambda s: bool(s.flags & 0x04))
    data_seq = property(lambda s: (s.seq + (1 if s.flags & 0x02 else 0)) % 2 ** 32)   # SYN data: ISN + 1
    ack_flag = property(lambda s: bool(s.flags & 0x10))
    is_data = property(lambda s: s.tcp_len > 0)
    reinjection = property(lambda s: bool(s.reinjection_of))
    mptcp_capable = property(lambda s: any(o.subtype == 0 for o in s.mptcp))
    mptcp_join = property(lambda s: any(o.subtype == 1 for o in s.mptcp))
    mptcp_subtypes = property(lambda s: [o.subtype for o in s.mptcp])

    def option(self, subtype):
        for o in self.mptcp:
            if o.subtype == subtype:
                return o
        return None

    def as_dict(self):
        return {"frame": self.frame, "src": self.src, "sport": self.sport, "dst": self.dst,
                "dport": self.dport, "tcp_len": self.tcp_len, "conn": self.conn,
                "direction": self.direction, "dsn": self.dsn, "raw_dsn": self.raw_dsn,
                "reinjection_of": list(self.reinjection_of),
                "reinjected_in": list(self.reinjected_in),
                "retransmission": self.retransmission, "data_ack": self.data_ack,
                "corrupt": list(self.corrupt),
                "mptcp": [o.name for o in self.mptcp]}

    def __repr__(self):
        return "<Packet %d %s:%d->%s:%d len %d conn %s dir %s dsn %s>" % (
            self.frame, self.src, self.sport, self.dst, self.dport, self.tcp_len, self.conn,
            self.direction, self.dsn)


class Subflow:
    def __init__(self, key):
        self.key = key
        self.conn = None
        self.conn_source = None        # "data" | "token" | None
        self.packets = []
        self.syn_frame = None
        self.isn = {}                  # (ip, port) -> ISN
        self.keys = {}                 # (ip, port) -> MPTCP key
        self.version = None
        self.join_token = None         # token carried in the MP_JOIN SYN (receiver's)
        self.join_sender = None        # (ip, port) of the MP_JOIN SYN sender
        self.initial = False           # MP_CAPABLE subflow
        self.join = False
        self.dir_of = {}               # (ip, port) -> direction of the data it sends

    frames = property(lambda s: [p.frame for p in s.packets])

    def __repr__(self):
        return "<Subflow %s:%d->%s:%d conn %s %d pkts>" % (
            self.key.client_ip, self.key.client_port, self.key.server_ip, self.key.server_port,
            self.conn, len(self.packets))


class Connection:
    def __init__(self, conn):
        self.conn = conn
        self.subflows = []             # SubflowKey list, in order of first packet
        self.keys = {}                 # direction -> key (0: client's key, 1: server's key)
        self.tokens = {}               # direction -> token of that side's key
        self.idsn = {}                 # direction -> IDSN of that side's key
        self.version = None
        self.bytes = {0: 0, 1: 0}      # highest stream end seen per direction
        self.data_packets = 0

    def __repr__(self):
        return "<Connection %d: %d subflows, %d/%d bytes>" % (
            self.conn, len(self.subflows), self.bytes[0], self.bytes[1])


class Truth:
    def __init__(self, path):
        self.path = path
        self.packets = []
        self.by_frame = {}
        self.connections = {}
        self.subflows = {}
        self.frame_count = 0
        self.unresolved = []
        self.corrupted = []            # packets placed although some payload bytes differ (Packet.corrupt)
        self.conflicts = []            # subflows whose data packets name several connections

    data_packets = property(lambda s: [p for p in s.packets if p.tcp_len > 0])
    reinjections = property(lambda s: [p for p in s.packets if p.reinjection_of])

    def summary(self):
        d = self.data_packets
        return {"path": self.path, "frames": self.frame_count, "tcp_packets": len(self.packets),
                "data_packets": len(d), "unresolved": len(self.unresolved),
                "connections": len(self.connections), "subflows": len(self.subflows),
                "subflows_unmapped": sum(1 for s in self.subflows.values() if s.conn is None),
                "reinjections": len(self.reinjections),
                "retransmissions": sum(1 for p in d if p.retransmission)}


# ----------------------------------------------------------------------------- analysis
def _parse_tcp(tcp):
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, off_fl = struct.unpack("!HHIIH", tcp[:14])
    doff = (off_fl >> 12) * 4
    flags = off_fl & 0x1FF
    opts = []
    o = 20
    end = min(doff, len(tcp))
    while o < end:
        k = tcp[o]
        if k == 0:
            break
        if k == 1:
            o += 1
            continue
        if o + 1 >= end:
            break
        ln = tcp[o + 1]
        if ln < 2:
            break
        opts.append((k, tcp[o:o + ln]))
        o += ln
    return sport, dport, seq, ack, flags, doff, opts


def _place_corrupted(p, cands, max_bad=8):
    """Place a payload that differs from the stream in a few bytes (rewritten in flight) from the
    same neighbours; record the differing bytes in p.corrupt."""
    for _a, _b, _c, diff, q in cands:
        off = q.dsn - 1 + diff
        if off < 0:
            continue
        exp = stream_bytes(q.conn, q.direction, off, p.captured_len)
        bad = [(off + i, b) for i, (a, b) in enumerate(zip(exp, p.payload)) if a != b]
        if len(bad) <= max_bad:
            p.conn, p.direction, p.dsn, p.resolved_by, p.corrupt = q.conn, q.direction, off + 1, "corrupted", bad
            return


def _tcp_window(tcp):
    return struct.unpack("!H", tcp[14:16])[0]


def analyze(path):
    """Read a capture and return its Truth (see the module docstring)."""
    t = Truth(path)
    pairs = {}                 # frozenset of endpoints -> list of packets
    for frame, lt, ts, data, _orig in read_frames(path):
        t.frame_count = frame
        r = _parse_ip_tcp(lt, data)
        if r is None:
            continue
        src, dst, tcp, total = r
        h = _parse_tcp(tcp)
        if h is None:
            continue
        sport, dport, seq, ack, flags, doff, opts = h
        payload = tcp[doff:total]
        p = Packet(frame=frame, ts=ts, src=src, sport=sport, dst=dst, dport=dport, seq=seq, ack=ack,
                   flags=flags, window=_tcp_window(tcp), tcp_len=max(0, total - doff), captured_len=len(payload),
                   payload=payload, options=opts,
                   mptcp=[MptcpOption(b) for k, b in opts if k == 30])
        t.packets.append(p)
        t.by_frame[frame] = p
        pairs.setdefault(frozenset(((src, sport), (dst, dport))), []).append(p)

    # 1. payload decoding (per packet)
    for p in t.packets:
        if p.tcp_len > 0 and p.captured_len >= 8:
            c = decode_payload(p.payload)
            if len(c) == 1:
                p.conn, p.direction, off = c.pop()
                p.dsn = off + 1
                p.resolved_by = "payload"
    # 2. short payloads: from a resolved neighbour of the same TCP flow
    by_flow = defaultdict(list)
    for p in t.packets:
        if p.tcp_len > 0:
            by_flow[p.tuple].append(p)
    for flow in by_flow.values():
        res = [q for q in flow if q.dsn is not None]
        for p in flow:
            if p.dsn is not None:
                continue
            cands = []
            for q in res:
                diff = (p.data_seq - q.data_seq + 2 ** 31) % 2 ** 32 - 2 ** 31
                if abs(diff) <= 1 << 20:
                    # prefer the segment that ends exactly where this one starts (same mapping)
                    cands.append((diff != q.tcp_len, abs(diff), q.frame, diff, q))
            cands.sort(key=lambda c: c[:3])
            for _a, _b, _c, diff, q in cands:
                off = q.dsn - 1 + diff
                if off >= 0 and stream_bytes(q.conn, q.direction, off, p.captured_len) == p.payload:
                    p.conn, p.direction, p.dsn, p.resolved_by = q.conn, q.direction, off + 1, "context"
                    break
            if p.dsn is None and p.captured_len >= 16:
                _place_corrupted(p, cands)
    t.unresolved = [p for p in t.packets if p.tcp_len > 0 and p.dsn is None]
    t.corrupted = [p for p in t.packets if p.corrupt]

    # 3. subflows: orientation, connection
    for pkts in pairs.values():
        syn = next((p for p in pkts if p.syn and not p.ack_flag), None)
        dirs = Counter(((p.src, p.sport), p.direction) for p in pkts if p.direction is not None)
        if syn is not None:
            a, b = (syn.src, syn.sport), (syn.dst, syn.dport)
        elif dirs:
            (ep, d), _ = dirs.most_common(1)[0]
            p0 = pkts[0]
            other = (p0.dst, p0.dport) if ep == (p0.src, p0.sport) else (p0.src, p0.sport)
            a, b = (ep, other) if d == 0 else (other, ep)
        else:
            a, b = sorted(((pkts[0].src, pkts[0].sport), (pkts[0].dst, pkts[0].dport)))
        key = SubflowKey(a[0], a[1], b[0], b[1])
        sf = Subflow(key)
        sf.packets = pkts
        sf.syn_frame = syn.frame if syn is not None else None
        for (ep, d), _n in dirs.items():
            sf.dir_of.setdefault(ep, d)
        conns = Counter(p.conn for p in pkts if p.conn is not None)
        if conns:
            sf.conn = conns.most_common(1)[0][0]
            sf.conn_source = "data"
            if len(conns) > 1:
                t.conflicts.append(key)
        for p in pkts:
            p.subflow = key
            ep = (p.src, p.sport)
            if p.syn:
                sf.isn.setdefault(ep, p.seq)
            for o in p.mptcp:
                if o.subtype == 0:
                    sf.initial = True
                    if o.version is not None and sf.version is None:
                        sf.version = o.version
                    if o.keys:
                        sf.keys.setdefault(ep, o.keys[0])
                    if len(o.keys) > 1:
                        sf.keys.setdefault((p.dst, p.dport), o.keys[1])
                elif o.subtype == 1:
                    sf.join = True
                    if o.token is not None and p.syn and not p.ack_flag:
                        sf.join_token = o.token
                        sf.join_sender = ep
        t.subflows[key] = sf

    # 4. connections: keys/tokens from subflows with data
    for sf in t.subflows.values():
        if sf.conn is None:
            continue
        c = t.connections.setdefault(sf.conn, Connection(sf.conn))
        if sf.initial and sf.keys:
            if c.version is None:
                c.version = sf.version
            for ep, key in sf.keys.items():
                d = sf.dir_of.get(ep)
                if d is None:   # no data from this endpoint: the other one's opposite, else SYN sender = client
                    others = [v for e, v in sf.dir_of.items() if e != ep]
                    d = 1 - others[0] if others else (0 if ep == (sf.key.client_ip, sf.key.client_port) else 1)
                c.keys.setdefault(d, key)
    for c in t.connections.values():
        for d, key in c.keys.items():
            c.tokens[d], c.idsn[d] = key_token_idsn(key, c.version if c.version is not None else 1)
    token_to = {}
    for c in t.connections.values():
        for d, tok in c.tokens.items():
            token_to[tok] = (c.conn, d)
    # subflows without data: MP_JOIN token, or MP_CAPABLE keys of a known connection
    for sf in t.subflows.values():
        if sf.conn is not None:
            continue
        if sf.join_token is not None and sf.join_token in token_to:
            conn, d = token_to[sf.join_token]
            sf.conn, sf.conn_source = conn, "token"
            # the SYN goes to the owner of the token (direction d's sender), so its sender sends 1-d
            sf.dir_of.setdefault(sf.join_sender, 1 - d)
            other = [e for e in ((sf.key.client_ip, sf.key.client_port), (sf.key.server_ip, sf.key.server_port))
                     if e != sf.join_sender]
            if other:
                sf.dir_of.setdefault(other[0], d)
        elif sf.keys:
            for ep, key in sf.keys.items():
                tok = key_token_idsn(key, sf.version if sf.version is not None else 1)[0]
                if tok in token_to:
                    conn, d = token_to[tok]
                    sf.conn, sf.conn_source = conn, "token"
                    sf.dir_of.setdefault(ep, d)
                    break
    for sf in t.subflows.values():
        if sf.conn is None:
            continue
        c = t.connections.setdefault(sf.conn, Connection(sf.conn))
        c.subflows.append(sf.key)
        eps = ((sf.key.client_ip, sf.key.client_port), (sf.key.server_ip, sf.key.server_port))
        if len(sf.dir_of) == 1:
            (ep, d), = sf.dir_of.items()
            for e in eps:
                if e != ep:
                    sf.dir_of[e] = 1 - d
        for p in sf.packets:
            p.conn = sf.conn if p.conn is None else p.conn
            if p.direction is None:
                p.direction = sf.dir_of.get((p.src, p.sport))
    for c in t.connections.values():
        c.subflows.sort(key=lambda k: t.subflows[k].packets[0].frame)

    # 5. relative Data ACKs (DSS 'A'): raw ack - IDSN of the acknowledged (opposite) direction
    for p in t.packets:
        o = p.option(2)
        if o is None or o.dss is None or "data_ack" not in o.dss or p.conn is None or p.direction is None:
            continue
        c = t.connections.get(p.conn)
        idsn = c.idsn.get(1 - p.direction) if c else None
        if idsn is None:
            continue
        if o.dss["a"]:
            p.data_ack = (o.dss["data_ack"] - idsn) % 2 ** 64
        else:                      # 32-bit ack: fine while a direction carries < 4 GiB
            p.data_ack = (o.dss["data_ack"] - idsn) % 2 ** 32

    # 6. per connection/direction: bytes, raw DSN, reinjections and retransmissions
    groups = defaultdict(list)
    for p in t.packets:
        if p.dsn is None:
            continue
        c = t.connections[p.conn]
        c.data_packets += 1
        c.bytes[p.direction] = max(c.bytes[p.direction], p.dsn - 1 + p.tcp_len)
        if p.direction in c.idsn:
            p.raw_dsn = (c.idsn[p.direction] + p.dsn) % 2 ** 64
        groups[(p.conn, p.direction)].append(p)
    for pkts in groups.values():
        pkts.sort(key=lambda p: p.dsn)
        starts = [p.dsn for p in pkts]
        maxlen = max(p.tcp_len for p in pkts)
        for p in pkts:
            s, e = p.dsn, p.dsn + p.tcp_len
            i = bisect.bisect_left(starts, s - maxlen + 1)
            j = bisect.bisect_left(starts, e)
            for q in pkts[i:j]:
                if q is p or q.dsn + q.tcp_len <= s:
                    continue
                if q.frame < p.frame:
                    if q.subflow == p.subflow:
                        p.retransmission = True
                    else:
                        p.reinjection_of.append(q.frame)
                elif q.frame > p.frame and q.subflow != p.subflow:
                    p.reinjected_in.append(q.frame)
        for p in pkts:
            p.reinjection_of.sort()
            p.reinjected_in.sort()
    return t


# ----------------------------------------------------------------------------- CLI
def main(argv=None):
    import argparse
    import json
    ap = argparse.ArgumentParser(description="MPTCP ground truth of a capture made by captures/gen")
    ap.add_argument("capture", nargs="+")
    ap.add_argument("--packets", action="store_true", help="print one line per TCP packet")
    ap.add_argument("--json", action="store_true", help="JSON output")
    a = ap.parse_args(argv)
    rc = 0
    for path in a.capture:
        t = analyze(path)
        s = t.summary()
        if t.unresolved:
            rc = 1
        if a.json:
            out = dict(s)
            out["connection_list"] = [
                {"conn": c.conn, "subflows": [list(k) for k in c.subflows], "bytes": c.bytes,
                 "tokens": c.tokens, "data_packets": c.data_packets} for c in t.connections.values()]
            if a.packets:
                out["packets"] = [p.as_dict() for p in t.packets]
            print(json.dumps(out, indent=1))
            continue
        print("%s: %d frames, %d TCP, %d data (%d unresolved), %d connections, %d subflows "
              "(%d unmapped), %d reinjections, %d retransmissions" % (
                  path, s["frames"], s["tcp_packets"], s["data_packets"], s["unresolved"],
                  s["connections"], s["subflows"], s["subflows_unmapped"], s["reinjections"],
                  s["retransmissions"]))
        for c in t.connections.values():
            print("  conn %d: %d subflows, %d B c->s, %d B s->c, tokens %s" % (
                c.conn, len(c.subflows), c.bytes[0], c.bytes[1],
                {d: "%08x" % v for d, v in c.tokens.items()}))
            for k in c.subflows:
                sf = t.subflows[k]
                print("    %s:%d -> %s:%d  %d pkts%s%s (%s)" % (
                    k.client_ip, k.client_port, k.server_ip, k.server_port, len(sf.packets),
                    " MP_CAPABLE" if sf.initial else "", " MP_JOIN" if sf.join else "",
                    sf.conn_source))
        if a.packets:
            print("frame\tsrc\tsport\tdst\tdport\tlen\tconn\tdir\tdsn\treinjection_of\treinjected_in\tmptcp")
            for p in t.packets:
                print("%d\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s" % (
                    p.frame, p.src, p.sport, p.dst, p.dport, p.tcp_len,
                    "" if p.conn is None else p.conn, "" if p.direction is None else p.direction,
                    "" if p.dsn is None else p.dsn, ",".join(map(str, p.reinjection_of)),
                    ",".join(map(str, p.reinjected_in)), ",".join(o.name for o in p.mptcp)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
