"""MPTCP-targeted frame generator for fuzzing (tests/fuzz.py). Standard library only.

gen_capture(seed) returns the frames of one capture, fully determined by the seed. Three kinds
(seed % 3):

  options      single segments with random option lists: every MPTCP subtype (0x0-0xf) with
               random flags, lengths, values, truncations (length byte vs bytes present, snap
               length cuts), options split across the end of the TCP header (data offset
               smaller than the option list), header lengths past the segment, between random
               plain TCP options; some frames on a few 4-tuples so the state code sees them.
  connections  whole MPTCP connections with random event sequences: MP_CAPABLE handshakes
               (v0/v1, checksums, v1 data on the third ACK, missing SYN / SYN/ACK / ACK), MP_JOIN
               subflows with the right, a random or another connection's token and right or
               random HMACs, DSS with consistent or random DSNs (32/64-bit), DATA_ACKs, DATA_FIN,
               infinite mappings, reinjections, right/wrong DSS checksums, ADD_ADDR (v0/v1,
               echo, ports, right/wrong HMAC), REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE,
               MP_TCPRST, plain FIN/RST, retransmissions, reordering, drops, 4-tuple reuse;
               payloads for HTTP/TLS ports so the data-level reassembly and application
               dissectors run; then a few random byte flips in TCP headers.
  mixed        both in one capture, interleaved.
"""
import hashlib
import hmac
import random
import struct

from frames import (CLIENT4, SERVER4, CLIENT6, SERVER6, Packet, csum16, frame, mptcp_opt, nop, eol, mss,
                    wscale, sack_perm, timestamp, token_idsn)

KINDS = ("options", "connections", "mixed")

# server ports: application dissectors (HTTP, TLS, SMTP, SSH-like text) and unclaimed ones
SERVER_PORTS = (80, 443, 8080, 25, 5001, 45001, 45002)


def u64(rnd):
    return rnd.getrandbits(64)


def pick_weighted(rnd, table):
    total = sum(w for _, w in table)
    x = rnd.uniform(0, total)
    for v, w in table:
        x -= w
        if x <= 0:
            return v
    return table[-1][0]


# ----------------------------------------------------------------------------------------------
# Option-level mutations

def mutate_option(rnd, opt: bytes) -> bytes:
    """One random malformation of an MPTCP option (kind byte first)."""
    b = bytearray(opt)
    m = rnd.randrange(9)
    if m == 0:                                    # any length byte
        b[1] = rnd.randrange(256)
    elif m == 1 and len(b) > 1:                   # length off by a little
        b[1] = max(0, min(255, b[1] + rnd.choice((-4, -2, -1, 1, 2, 4))))
    elif m == 2 and len(b) > 2:                   # cut, length byte kept (claims more than present)
        b = b[:rnd.randrange(2, len(b))]
    elif m == 3 and len(b) > 2:                   # cut, length byte = what is left
        b = b[:rnd.randrange(2, len(b))]
        b[1] = len(b)
    elif m == 4:                                  # grown with random bytes, length fixed up
        b += bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 8)))
        b[1] = min(255, len(b))
    elif m == 5 and len(b) > 2:                   # subtype/nibble byte random
        b[2] = rnd.randrange(256)
    elif m == 6 and len(b) > 3:                   # flag byte random
        b[3] = rnd.randrange(256)
    elif m == 7 and len(b) > 2:                   # flip bits anywhere after the kind byte
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(1, len(b))
            b[i] ^= 1 << rnd.randrange(8)
    else:                                         # random body, layout kept
        for i in range(3, len(b)):
            b[i] = rnd.randrange(256)
    return bytes(b)


def random_mptcp_option(rnd, ctx=None) -> bytes:
    """A well-formed-looking option of a random subtype with random values (ctx may give keys,
    tokens and DSNs so that some of them mean something to the connection analysis)."""
    ctx = ctx or {}
    st = pick_weighted(rnd, [(0, 3), (1, 3), (2, 6), (3, 3), (4, 2), (5, 1), (6, 1), (7, 1), (8, 1),
                             (rnd.randint(9, 14), 1), (15, 1)])
    key = ctx.get("key") if rnd.random() < 0.5 and ctx.get("key") is not None else u64(rnd)
    if st == 0:
        ver = rnd.choice((0, 1, 1, 1, rnd.randrange(16)))
        flags = rnd.choice((0x01, 0x81, 0x21, 0xA1, 0x00, rnd.randrange(256)))
        ln = rnd.choice((4, 12, 20, 22, 24) if ver else (12, 20))
        body = bytes([flags])
        if ln >= 12:
            body += struct.pack("!Q", key)
        if ln >= 20:
            body += struct.pack("!Q", u64(rnd))
        if ln >= 22:
            body += struct.pack("!H", rnd.randrange(65536))
        if ln >= 24:
            body += struct.pack("!H", rnd.randrange(65536))
        return mptcp_opt(0, ver, body)
    if st == 1:
        k = rnd.randrange(3)
        nib = rnd.choice((0, 1, rnd.randrange(16)))
        if k == 0:
            tok = ctx.get("token") if ctx.get("token") is not None and rnd.random() < 0.6 else rnd.getrandbits(32)
            return mptcp_opt(1, nib, struct.pack("!BII", rnd.randrange(256), tok, rnd.getrandbits(32)))
        if k == 1:
            return mptcp_opt(1, nib, struct.pack("!BQI", rnd.randrange(256), u64(rnd), rnd.getrandbits(32)))
        return mptcp_opt(1, nib, bytes([rnd.choice((0, rnd.randrange(256)))])
                         + bytes(rnd.getrandbits(8) for _ in range(20)))
    if st == 2:
        return random_dss(rnd, ctx)
    if st == 3:
        v6 = rnd.random() < 0.3
        addr = bytes(rnd.getrandbits(8) for _ in range(16 if v6 else 4))
        port = struct.pack("!H", rnd.randrange(65536)) if rnd.random() < 0.4 else b""
        hm = struct.pack("!Q", u64(rnd)) if rnd.random() < 0.6 else b""
        nib = rnd.choice((0, 1, 4, 6, rnd.randrange(16)))
        return mptcp_opt(3, nib, bytes([rnd.randrange(256)]) + addr + port + hm)
    if st == 4:
        n = rnd.choice((0, 1, 1, 2, 3, rnd.randint(4, 30)))
        return mptcp_opt(4, rnd.choice((0, rnd.randrange(16))), bytes(rnd.randrange(256) for _ in range(n)))
    if st == 5:
        return mptcp_opt(5, rnd.choice((0, 1, rnd.randrange(16))), bytes([rnd.randrange(256)]) if rnd.random() < 0.3
                         else b"")
    if st in (6, 7):
        val = ctx.get("dsn", u64(rnd)) if st == 6 else key
        return mptcp_opt(st, 0, bytes([rnd.choice((0, rnd.randrange(256)))]) + struct.pack("!Q", val & (2**64 - 1)))
    if st == 8:
        return mptcp_opt(8, rnd.randrange(16), bytes([rnd.choice((0, 1, 2, 3, 4, 5, 6, rnd.randrange(256)))]))
    return mptcp_opt(st, rnd.randrange(16), bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 20))))


def random_dss(rnd, ctx=None, flags=None, csum=None) -> bytes:
    ctx = ctx or {}
    f = rnd.randrange(32) if flags is None else flags
    if rnd.random() < 0.05:
        f |= rnd.randrange(8) << 5          # reserved flag bits
    body = bytes([f])
    if f & 0x01:
        a = ctx.get("ack", u64(rnd)) + rnd.choice((0, 0, 1, -1, rnd.randint(-5000, 5000), 2**32, u64(rnd)))
        body += struct.pack("!Q", a % 2**64) if f & 0x02 else struct.pack("!I", a % 2**32)
    if f & 0x04:
        d = ctx.get("dsn", u64(rnd)) + rnd.choice((0, 0, 1, rnd.randint(-5000, 5000), 2**32, u64(rnd)))
        body += struct.pack("!Q", d % 2**64) if f & 0x08 else struct.pack("!I", d % 2**32)
        body += struct.pack("!IH", rnd.choice((0, 1, rnd.getrandbits(32))), rnd.choice((0, 1, 100, rnd.randrange(65536))))
        if csum if csum is not None else rnd.random() < 0.3:
            body += struct.pack("!H", rnd.randrange(65536))
    return mptcp_opt(2, rnd.choice((0, 0, 0, rnd.randrange(16))), body)


def random_plain_option(rnd) -> bytes:
    c = rnd.randrange(9)
    if c == 0:
        return nop()
    if c == 1:
        return eol()
    if c == 2:
        return mss(rnd.randrange(65536))
    if c == 3:
        return wscale(rnd.randrange(256))
    if c == 4:
        return sack_perm()
    if c == 5:
        return timestamp(rnd.getrandbits(32), rnd.getrandbits(32))
    if c == 6:                                    # SACK blocks
        n = rnd.randint(1, 3)
        return bytes([5, 2 + 8 * n]) + bytes(rnd.getrandbits(8) for _ in range(8 * n))
    if c == 7:                                    # unknown kind
        n = rnd.randint(2, 8)
        return bytes([rnd.choice((31, 34, 253, 254, rnd.randrange(6, 256))), n]) + bytes(n - 2)
    return nop() + nop()


def option_list(rnd, ctx=None, n_mptcp=None) -> bytes:
    """A TCP option list with 1..3 MPTCP options (some mutated) among plain ones."""
    items = []
    for _ in range(n_mptcp if n_mptcp is not None else rnd.choice((1, 1, 1, 2, 3))):
        o = random_mptcp_option(rnd, ctx)
        if rnd.random() < 0.35:
            o = mutate_option(rnd, o)
        items.append(o)
    for _ in range(rnd.choice((0, 0, 1, 2, 3))):
        items.insert(rnd.randint(0, len(items)), random_plain_option(rnd))
    return b"".join(items)


def segment_frame(rnd, opts: bytes, payload=b"", **kw):
    """A frame with `opts` where the option list may overflow the header: options longer
    than 40 octets or a random data offset leave the rest as payload (split across the
    header end); some frames are cut by the snap length. Returns bytes or a Packet."""
    data_offset = None
    if len(opts) > 40 or rnd.random() < 0.15:
        data_offset = rnd.randint(5, 15)
    elif len(opts) % 4 and rnd.random() < 0.2:
        data_offset = (20 + len(opts)) // 4      # header ends inside the last option
    f = frame(options=opts, payload=payload, data_offset=data_offset, **kw)
    if rnd.random() < 0.1:
        hdr = 14 + (40 if kw.get("v6") or ":" in str(kw.get("src", "")) else 20)
        return Packet(f, caplen=rnd.randint(hdr, max(hdr, len(f) - 1)))
    return f


def options_frames(rnd, n):
    """Single segments with random option lists on a few 4-tuples."""
    out = []
    tuples = [(rnd.randint(45000, 45100), rnd.choice(SERVER_PORTS), rnd.random() < 0.3) for _ in range(rnd.randint(1, 6))]
    ctx = {"key": u64(rnd), "token": rnd.getrandbits(32), "dsn": u64(rnd), "ack": u64(rnd)}
    for _ in range(n):
        sport, dport, v6 = rnd.choice(tuples)
        if rnd.random() < 0.5:
            sport, dport = dport, sport
            src, dst = (SERVER6, CLIENT6) if v6 else (SERVER4, CLIENT4)
        else:
            src, dst = (CLIENT6, SERVER6) if v6 else (CLIENT4, SERVER4)
        opts = option_list(rnd, ctx)
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((0, 0, 1, 10, rnd.randint(0, 300)))))
        flags = rnd.choice(("S", "SA", "A", "PA", "FA", "RA", "R", "A", rnd.randrange(256)))
        out.append(segment_frame(rnd, opts, payload, src=src, dst=dst, sport=sport, dport=dport, flags=flags,
                                 seq=rnd.getrandbits(32), ack=rnd.getrandbits(32)))
    return out


# ----------------------------------------------------------------------------------------------
# Whole connections

def hmac_join(version, key1, key2, r1, r2):
    h = hashlib.sha1 if version == 0 else hashlib.sha256
    return hmac.new(struct.pack("!QQ", key1, key2), struct.pack("!II", r1, r2), h).digest()


def hmac_add_addr(key1, key2, addr_id, addr: bytes, port: int):
    d = hmac.new(struct.pack("!QQ", key1, key2), bytes([addr_id]) + addr + struct.pack("!H", port),
                 hashlib.sha256).digest()
    return struct.unpack("!Q", d[-8:])[0]


def dss_checksum(dsn, ssn, dll, payload):
    pseudo = struct.pack("!QIHH", dsn % 2**64, ssn % 2**32, dll, 0)
    return csum16(pseudo + payload)


class Subflow:
    """One TCP connection of an MPTCP connection. Side 0 = the subflow's initiator."""

    def __init__(self, rnd, addrs, ports):
        self.addrs, self.ports = addrs, ports
        self.isn = [rnd.getrandbits(32), rnd.getrandbits(32)]
        self.nxt = list(self.isn)
        self.nonce = [rnd.getrandbits(32), rnd.getrandbits(32)]
        self.open = True

    def seg(self, side, flags, opts=b"", payload=b"", advance=True, seq=None):
        src, dst = (0, 1) if side == 0 else (1, 0)
        ack = self.nxt[1 - side] if "A" in flags else 0
        f = dict(options=opts, payload=payload, src=self.addrs[src], dst=self.addrs[dst], sport=self.ports[src],
                 dport=self.ports[dst], seq=self.nxt[side] if seq is None else seq, ack=ack, flags=flags)
        if advance:
            self.nxt[side] += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        return f

    def ssn(self, side):
        """Relative subflow sequence number of the next byte."""
        return (self.nxt[side] - self.isn[side]) % 2**32


class MptcpConn:
    def __init__(self, rnd, idx, addr_pool):
        self.rnd = rnd
        self.version = 0 if rnd.random() < 0.2 else 1
        self.keys = [u64(rnd), u64(rnd)]           # [client, server]
        self.tokens, self.idsn = [], []
        for k in self.keys:
            t, i = token_idsn(k, self.version)
            self.tokens.append(t)
            self.idsn.append(i)
        self.dsn = [(i + 1) % 2**64 for i in self.idsn]      # next data-level byte per direction
        self.csum = rnd.random() < 0.25
        self.addr_pool = addr_pool
        self.subflows = []
        self.idx = idx
        self.out = []                              # frame kwargs or bytes, in order
        self.sent = []                             # (side, dsn, payload) for reinjections
        v6 = rnd.random() < 0.25
        c, s = (CLIENT6, SERVER6) if v6 else (CLIENT4, SERVER4)
        sport = 45000 + rnd.randrange(500) if rnd.random() < 0.9 else 45000 + idx   # collisions sometimes
        self.server_port = rnd.choice(SERVER_PORTS)
        self.first = Subflow(rnd, (c, s), (sport, self.server_port))

    # -- helpers
    def emit(self, f):
        self.out.append(f)

    def maybe(self, p):
        return self.rnd.random() < p

    def payload(self, side):
        rnd = self.rnd
        if self.server_port in (80, 8080):
            if side == 0:
                return rnd.choice((b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % rnd.randrange(1000),
                                   b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % rnd.randrange(5000),
                                   bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))))
            return rnd.choice((b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % rnd.randrange(4000),
                               b"x" * rnd.randint(1, 1400),
                               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % rnd.randrange(4000)))
        if self.server_port == 443:
            body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
            ln = len(body) if rnd.random() < 0.5 else rnd.randrange(65536)
            return bytes([rnd.choice((0x16, 0x17, 0x15, 0x14)), 3, rnd.choice((1, 3)), ln >> 8, ln & 0xFF]) + body
        if self.server_port == 25:
            return rnd.choice((b"EHLO x\r\n", b"220 hi\r\n", b"DATA\r\n", b"x" * rnd.randint(1, 100)))
        return bytes(rnd.getrandbits(8) for _ in range(rnd.choice((1, 10, 100, rnd.randint(1, 1400)))))

    def dss_for(self, sf, side, payload, dsn=None, dsn8=None, with_ack=True, fin=False, dll=None):
        rnd = self.rnd
        dsn = self.dsn[side] if dsn is None else dsn
        dsn8 = (rnd.random() < 0.5) if dsn8 is None else dsn8
        ack8 = rnd.random() < 0.3
        dll = (len(payload) + (1 if fin else 0)) if dll is None else dll
        ssn = sf.ssn(side) if payload else 0
        f = 0x04 | (0x08 if dsn8 else 0) | (0x10 if fin else 0)
        body = b""
        if with_ack:
            f |= 0x01 | (0x02 if ack8 else 0)
            a = self.dsn[1 - side]
            body += struct.pack("!Q", a) if ack8 else struct.pack("!I", a % 2**32)
        body += struct.pack("!Q", dsn % 2**64) if dsn8 else struct.pack("!I", dsn % 2**32)
        body += struct.pack("!IH", ssn, dll)
        if self.csum:
            c = dss_checksum(dsn, ssn, dll, payload)
            if self.maybe(0.1):
                c ^= 1 << rnd.randrange(16)
            body += struct.pack("!H", c)
        return mptcp_opt(2, 0, bytes([f]) + body)

    def ack_only_dss(self, side):
        a = self.dsn[1 - side] + self.rnd.choice((0, 0, 0, -1, 1, self.rnd.randint(-3000, 3000)))
        if self.maybe(0.5):
            return mptcp_opt(2, 0, bytes([0x03]) + struct.pack("!Q", a % 2**64))
        return mptcp_opt(2, 0, bytes([0x01]) + struct.pack("!I", a % 2**32))

    def ts(self):
        return nop() + nop() + timestamp(self.rnd.getrandbits(32), self.rnd.getrandbits(32)) if self.maybe(0.5) else b""

    # -- events
    def handshake(self):
        rnd, sf, v = self.rnd, self.first, self.version
        self.subflows.append(sf)
        fl = rnd.choice((0x01, 0x01, 0x81, 0x21)) | (0x80 if self.csum else 0)
        syn = mptcp_opt(0, v, bytes([fl]) + (struct.pack("!Q", self.keys[0]) if v == 0 else b""))
        synack = mptcp_opt(0, v, bytes([fl]) + struct.pack("!Q", self.keys[1]))
        if not self.maybe(0.1):
            self.emit(sf.seg(0, "S", mss() + sack_perm() + self.ts() + syn))
        else:
            sf.nxt[0] += 1
        if self.maybe(0.1):                        # a retransmitted SYN
            self.emit(sf.seg(0, "S", syn, advance=False, seq=sf.isn[0]))
        if not self.maybe(0.1):
            self.emit(sf.seg(1, "SA", mss() + self.ts() + synack))
        else:
            sf.nxt[1] += 1
        keys = struct.pack("!QQ", self.keys[0], self.keys[1])
        if v == 1 and self.maybe(0.3):             # v1: data on the third ACK (length 22/24)
            p = self.payload(0)
            body = bytes([fl]) + keys + struct.pack("!H", len(p))
            if self.csum:
                body += struct.pack("!H", dss_checksum(self.dsn[0], 1, len(p), p))
            self.emit(sf.seg(0, "PA", self.ts() + mptcp_opt(0, v, body), p))
            self.dsn[0] = (self.dsn[0] + len(p)) % 2**64
        elif not self.maybe(0.1):
            self.emit(sf.seg(0, "A", self.ts() + mptcp_opt(0, v, bytes([fl]) + keys)))

    def join(self):
        rnd = self.rnd
        if len(self.subflows) > 8:
            return
        a_side = 0 if self.maybe(0.85) else 1       # who initiates (client usually)
        base = self.first.addrs
        if self.maybe(0.5):
            addrs = (self.addr_pool(base[0]), base[1]) if a_side == 0 else (base[1], self.addr_pool(base[0]))
        else:
            addrs = base if a_side == 0 else (base[1], base[0])
        ports = (rnd.randint(46000, 65000), self.server_port if a_side == 0 else rnd.randint(46000, 65000))
        sf = Subflow(rnd, addrs, ports)
        self.subflows.append(sf)
        ka, kb = self.keys[a_side], self.keys[1 - a_side]
        tok = self.tokens[1 - a_side]
        r = rnd.random()
        if r < 0.1:
            tok = rnd.getrandbits(32)
        elif r < 0.15:
            tok = self.tokens[a_side]
        backup = 1 if self.maybe(0.2) else 0
        aid = rnd.randrange(256) if self.maybe(0.2) else len(self.subflows)
        ra, rb = sf.nonce
        if not self.maybe(0.05):
            self.emit(sf.seg(0, "S", mss() + self.ts() + mptcp_opt(1, backup, struct.pack("!BII", aid, tok, ra))))
        else:
            sf.nxt[0] += 1
        h_b = hmac_join(self.version, kb, ka, rb, ra)
        trunc = struct.unpack("!Q", h_b[:8])[0] if not self.maybe(0.1) else u64(rnd)
        if not self.maybe(0.1):
            self.emit(sf.seg(1, "SA", mss() + self.ts() + mptcp_opt(1, backup, struct.pack("!BQI", aid, trunc, rb))))
        else:
            sf.nxt[1] += 1
        h_a = hmac_join(self.version, ka, kb, ra, rb)[:20]
        if self.maybe(0.1):
            h_a = bytes(rnd.getrandbits(8) for _ in range(20))
        if self.maybe(0.1):                        # JOIN ACK lost
            return
        self.emit(sf.seg(0, "A", self.ts() + mptcp_opt(1, 0, b"\0" + h_a)))
        if self.maybe(0.5):                        # the fourth ACK (the responder's first DSS)
            self.emit(sf.seg(1, "A", self.ack_only_dss(1)))

    def data(self):
        rnd = self.rnd
        sf = rnd.choice(self.subflows)
        side = rnd.randrange(2)
        p = self.payload(side)
        r = rnd.random()
        if r < 0.08 and self.sent:                 # reinjection on another subflow
            s, dsn, old = rnd.choice(self.sent)
            opts = self.dss_for(sf, s, old, dsn=dsn)
            self.emit(sf.seg(s, "PA", self.ts() + opts, old))
            return
        if r < 0.13:                               # mapping over two segments
            p2 = self.payload(side)
            opts = self.dss_for(sf, side, p + p2)
            self.emit(sf.seg(side, "PA", self.ts() + opts, p))
            self.emit(sf.seg(side, "PA", self.ts() + self.ack_only_dss(side), p2))
            self.sent.append((side, self.dsn[side], p + p2))
            self.dsn[side] = (self.dsn[side] + len(p) + len(p2)) % 2**64
            return
        if r < 0.16:                               # infinite mapping (fallback)
            opts = self.dss_for(sf, side, p, dll=0)
        elif r < 0.22:                             # random DSN
            opts = self.dss_for(sf, side, p, dsn=u64(rnd) if self.maybe(0.5) else self.dsn[side] + rnd.randint(-10**6, 10**6))
        elif r < 0.27:                             # no DSS at all on data
            opts = self.ts()
        elif r < 0.35:                             # a random (maybe broken) DSS
            opts = random_dss(rnd, {"dsn": self.dsn[side], "ack": self.dsn[1 - side]})
            if self.maybe(0.3):
                opts = mutate_option(rnd, opts)
        else:
            opts = self.dss_for(sf, side, p)
        self.emit(sf.seg(side, "PA", self.ts() + opts if len(opts) <= 28 else opts, p))
        self.sent.append((side, self.dsn[side], p))
        self.dsn[side] = (self.dsn[side] + len(p)) % 2**64
        if len(self.sent) > 50:
            self.sent.pop(0)
        if self.maybe(0.5):                        # the receiver's ACK
            self.emit(sf.seg(1 - side, "A", self.ts() + self.ack_only_dss(1 - side)))

    def signal(self):
        rnd = self.rnd
        sf = rnd.choice(self.subflows)
        side = rnd.randrange(2)
        k = rnd.randrange(8)
        if k <= 2:                                 # ADD_ADDR
            v6 = self.maybe(0.3)
            addr = bytes(rnd.getrandbits(8) for _ in range(16 if v6 else 4))
            aid = rnd.randrange(256) if self.maybe(0.3) else rnd.randint(1, 8)
            port = rnd.randrange(65536) if self.maybe(0.3) else 0
            pb = struct.pack("!H", port) if port else b""
            if self.version == 0:
                o = mptcp_opt(3, 6 if v6 else 4, bytes([aid]) + addr + pb)
            elif self.maybe(0.3):                  # echo
                o = mptcp_opt(3, 1, bytes([aid]) + addr + pb)
            else:
                h = hmac_add_addr(self.keys[side], self.keys[1 - side], aid, addr, port)
                if self.maybe(0.2):
                    h = u64(rnd)
                o = mptcp_opt(3, 0, bytes([aid]) + addr + pb + struct.pack("!Q", h))
            if len(o) <= 30:
                self.emit(sf.seg(side, "A", (nop() + nop() + o) if len(o) <= 38 else o))
        elif k == 3:                               # REMOVE_ADDR
            ids = bytes(rnd.randint(0, 8) for _ in range(rnd.randint(1, 5)))
            self.emit(sf.seg(side, "A", mptcp_opt(4, 0, ids)))
        elif k == 4:                               # MP_PRIO
            self.emit(sf.seg(side, "A", mptcp_opt(5, rnd.randrange(2), bytes([rnd.randrange(8)]) if self.version == 0
                                                  and self.maybe(0.5) else b"")))
        elif k == 5:                               # MP_FAIL
            self.emit(sf.seg(side, "A", mptcp_opt(6, 0, b"\0" + struct.pack("!Q", (self.dsn[side] - rnd.randrange(3000))
                                                                              % 2**64))))
        elif k == 6:                               # a random option on the subflow
            kw = sf.seg(side, "A")
            del kw["options"], kw["payload"]
            self.emit(segment_frame(rnd, option_list(rnd, {"key": self.keys[side], "token": self.tokens[side],
                                                           "dsn": self.dsn[side], "ack": self.dsn[1 - side]}),
                                    b"", **kw))
        else:                                      # DATA_FIN (data-less, then acked)
            opts = self.dss_for(sf, side, b"", fin=True, dll=1)
            self.emit(sf.seg(side, "A", opts))

    def close(self):
        rnd = self.rnd
        k = rnd.randrange(4)
        sf = rnd.choice(self.subflows)
        side = rnd.randrange(2)
        if k == 0:                                 # MP_FASTCLOSE + RST on every subflow
            key = self.keys[1 - side] if not self.maybe(0.2) else u64(rnd)
            self.emit(sf.seg(side, "A", mptcp_opt(7, 0, b"\0" + struct.pack("!Q", key))))
            for s in self.subflows:
                self.emit(s.seg(side, "RA", mptcp_opt(7, 0, b"\0" + struct.pack("!Q", key)) if self.maybe(0.5) else b""))
        elif k == 1:                               # MP_TCPRST on one subflow
            self.emit(sf.seg(side, "RA", mptcp_opt(8, rnd.randrange(16), bytes([rnd.randrange(8)]))))
        elif k == 2:                               # DATA_FIN + FIN on every subflow
            self.emit(sf.seg(side, "A", self.dss_for(sf, side, b"", fin=True, dll=1)))
            self.dsn[side] = (self.dsn[side] + 1) % 2**64
            for s in self.subflows:
                self.emit(s.seg(0, "FA", self.ack_only_dss(0)))
                self.emit(s.seg(1, "FA", self.ack_only_dss(1)))
                self.emit(s.seg(0, "A"))
        # k == 3: the capture just ends

    def build(self, n_events):
        self.handshake()
        for _ in range(n_events):
            e = pick_weighted(self.rnd, [("data", 10), ("join", 1), ("signal", 2)])
            getattr(self, e)()
        self.close()
        return self.out


def _disorder(rnd, frames):
    """Retransmissions (duplicates), reordering and drops."""
    out = []
    for f in frames:
        r = rnd.random()
        if r < 0.03:
            continue
        out.append(f)
        if r > 0.97:
            out.append(f)
    for _ in range(len(out) // 20):
        i = rnd.randrange(len(out))
        j = min(len(out) - 1, i + rnd.randint(1, 4))
        out[i], out[j] = out[j], out[i]
    return out


def _corrupt(rnd, data: bytes) -> bytes:
    """A few random bytes changed in the TCP header and options (after Ethernet + IP)."""
    b = bytearray(data)
    ip = 14 + (40 if b[12:14] == b"\x86\xdd" else 20)
    if len(b) <= ip:
        return data
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(ip, min(len(b), ip + 60))
        b[i] = rnd.randrange(256)
    return bytes(b)


def connection_frames(rnd, n_conns=None):
    pool_counter = [0]

    def addr_pool(base):
        pool_counter[0] += 1
        if ":" in base:
            return "2001:db8:1::%x" % pool_counter[0]
        return "10.9.%d.%d" % (pool_counter[0] // 250, pool_counter[0] % 250 + 1)

    conns = [MptcpConn(rnd, i, addr_pool) for i in range(n_conns or rnd.choice((1, 1, 2, 3, 4)))]
    if len(conns) > 1 and rnd.random() < 0.3:      # a connection with another's token on its join
        conns[1].tokens = list(conns[0].tokens)
    streams = [c.build(rnd.randint(5, 60)) for c in conns]
    frames = []
    if rnd.random() < 0.5:
        for s in streams:
            frames += s
    else:                                          # interleaved
        idx = [0] * len(streams)
        while any(i < len(s) for i, s in zip(idx, streams)):
            k = rnd.choice([n for n, s in enumerate(streams) if idx[n] < len(s)])
            frames.append(streams[k][idx[k]])
            idx[k] += 1
    frames = _disorder(rnd, frames)
    out = []
    for f in frames:
        if isinstance(f, dict):
            if len(f["options"]) > 40:             # a mutated option made the list too long: split it
                f = dict(f, data_offset=15)
            f = frame(**f)
        if rnd.random() < 0.03:
            f = _corrupt(rnd, f.data if isinstance(f, Packet) else f)
        out.append(f)
    return out


def gen_capture(seed):
    """Frames (bytes or Packet) of one generated capture; deterministic in `seed`."""
    rnd = random.Random(0x4D505443 ^ seed)
    kind = KINDS[seed % len(KINDS)]
    if kind == "options":
        return options_frames(rnd, rnd.randint(50, 300))
    if kind == "connections":
        return connection_frames(rnd)
    a = options_frames(rnd, rnd.randint(20, 100))
    b = connection_frames(rnd)
    out = []
    while a or b:
        src = a if (a and (not b or rnd.random() < 0.3)) else b
        out.append(src.pop(0))
    return out


def random_options_capture(path, seed=8684, n=1500):
    """A capture of random MPTCP options (every subtype, lengths 2..40, some with a wrong length
    byte) between NOPs and timestamps, in n frames of 50 connections then one, followed by the
    malformed-option catalogue of frames.py."""
    from frames import malformed_options, timestamp, write_pcap
    rnd = random.Random(seed)
    frames = []
    for i in range(n):
        k = rnd.randint(3, 28)
        body = bytes(rnd.getrandbits(8) for _ in range(k - 3))
        opt = mptcp_opt(rnd.randint(0, 15), rnd.randint(0, 15), body)
        if rnd.random() < 0.2:
            opt = opt[:1] + bytes([rnd.randint(0, 40)]) + opt[2:]
        opts = ((nop() + nop() + timestamp() if rnd.random() < 0.5 else b"") + opt)[:40]
        sport = 45000 + (i % 50) if i < 1000 else 45100   # first many connections, then one
        flags = rnd.choice(["S", "SA", "A", "PA", "FA", "RA"])
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
        frames.append(frame(options=opts, payload=payload, sport=sport, flags=flags, seq=rnd.getrandbits(32),
                            ack=rnd.getrandbits(32), v6=rnd.random() < 0.3))
    for i, d in enumerate(malformed_options().values()):
        frames.append(frame(options=d["options"], data_offset=d["data_offset"], payload=b"x" * 10, sport=45100,
                            seq=7 + i))
    return write_pcap(path, frames)
