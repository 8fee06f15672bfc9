"""Whole frames (Ethernet + IPv4/IPv6 + TCP) with arbitrary TCP options, MPTCP option
builders and a pcap writer. Standard library only.

Every MPTCP builder returns the option bytes starting at the kind byte (30), laid out as
RFC 8684 section 3 (v1) and RFC 6824 section 3 (v0) describe them. The length byte is
computed from the content unless `length=` overrides it (malformed variants).

    from frames import *
    f = frame(options=mp_capable(1, 0x81, sendkey=K), flags="SA")
    write_pcap(tmp_path / "x.pcap", [f])
"""
import hashlib
import ipaddress
import struct

__all__ = [
    # framing
    "csum16", "ether", "ipv4", "ipv6", "tcp_segment", "frame", "write_pcap", "Packet",
    # plain TCP options
    "eol", "nop", "mss", "wscale", "sack_perm", "timestamp", "pad4",
    # MPTCP options
    "mptcp_opt", "mp_capable", "mp_join_syn", "mp_join_synack", "mp_join_ack", "dss", "add_addr_v0",
    "add_addr_v1", "remove_addr", "mp_prio", "mp_fail", "mp_fastclose", "mp_tcprst", "with_length", "with_bits",
    "dss_flags", "dss_len",
    # malformed variants
    "malformed_options",
    # crypto helpers
    "token_idsn",
    # conversations
    "Conversation",
    # constants
    "CLIENT4", "SERVER4", "CLIENT6", "SERVER6", "KEY_A", "KEY_B",
]

CLIENT4, SERVER4 = "10.1.1.1", "10.2.2.2"
CLIENT6, SERVER6 = "2001:db8::1", "2001:db8::2"
KEY_A = 0x0123456789ABCDEF      # client key in the examples
KEY_B = 0xFEDCBA9876543210      # server key

TCP_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}

# ----------------------------------------------------------------------------------------------
# Framing


def csum16(data: bytes) -> int:
    """Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ether(payload: bytes, ethertype: int, src=b"\x02\0\0\0\0\x01", dst=b"\x02\0\0\0\0\x02") -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl=64, ident=0x1234, total_length=None) -> bytes:
    tl = 20 + len(payload) if total_length is None else total_length
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, 0x4000, ttl, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    hdr = hdr[:10] + struct.pack("!H", csum16(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src: str, dst: str, nh: int, payload: bytes, hlim=64) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + payload


def _flags(flags) -> int:
    if isinstance(flags, int):
        return flags
    v = 0
    for c in flags:
        v |= TCP_FLAGS[c]
    return v


def pad4(options: bytes, fill=b"\0") -> bytes:
    """Pads an option list to a multiple of 4 octets (EOL by default, NOP with fill=b'\\x01')."""
    return options + fill * (-len(options) % 4)


def tcp_segment(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags="A",
                options=b"", payload=b"", window=65535, data_offset=None) -> bytes:
    """A TCP segment with a correct checksum over the IPv4/IPv6 pseudo-header.

    `options` are padded with EOL to 4 octets. With `data_offset` (in 32-bit words) the bytes
    after the fixed header are options+payload unpadded, and the header length says
    data_offset*4: that is how an option gets split across the end of the header."""
    if data_offset is None:
        opts = pad4(options)
        data_offset = (20 + len(opts)) // 4
        body = opts + payload
    else:
        body = options + payload
    if data_offset > 15:
        raise ValueError("TCP header longer than 60 octets")
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      data_offset << 4, _flags(flags), window, 0, 0)
    seg = hdr + body
    v6 = ":" in src
    if v6:
        pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
                  + struct.pack("!IxxxB", len(seg), 6))
    else:
        pseudo = (ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
                  + struct.pack("!xBH", 6, len(seg)))
    c = csum16(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


# Default client port 45000: claimed by no dissector in Wireshark 4.0, 4.4 or 4.6 (4.4 gave
# 40000 to SAP NI, which then swallowed test payloads), so payloads stay "data".
def frame(options=b"", payload=b"", src=None, dst=None, sport=45000, dport=5001, seq=1000, ack=2000,
          flags="A", v6=False, window=65535, data_offset=None) -> bytes:
    """A whole Ethernet frame carrying one TCP segment (IPv4 unless v6 or the addresses are IPv6)."""
    if src is None:
        src = CLIENT6 if v6 else CLIENT4
    if dst is None:
        dst = SERVER6 if v6 else SERVER4
    seg = tcp_segment(src, dst, sport, dport, seq, ack, flags, options, payload, window, data_offset)
    if ":" in src:
        return ether(ipv6(src, dst, 6, seg), 0x86DD)
    return ether(ipv4(src, dst, 6, seg), 0x0800)


class Packet:
    """A frame with an optional capture length (snaplen truncation) and timestamp."""

    def __init__(self, data: bytes, caplen=None, ts=None):
        self.data, self.caplen, self.ts = data, caplen, ts


def write_pcap(path, frames, linktype=1, snaplen=262144, t0=1_600_000_000.0):
    """Writes a classic pcap (microseconds). `frames`: bytes or Packet; one ms apart by default."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, fr in enumerate(frames):
            if not isinstance(fr, Packet):
                fr = Packet(fr)
            ts = t0 + i / 1000.0 if fr.ts is None else fr.ts
            sec, usec = int(ts), int(round((ts - int(ts)) * 1e6))
            data = fr.data if fr.caplen is None else fr.data[:fr.caplen]
            f.write(struct.pack("<IIII", sec, usec, len(data), len(fr.data)))
            f.write(data)
    return path


# ----------------------------------------------------------------------------------------------
# Plain TCP options

def eol() -> bytes:
    return b"\x00"


def nop() -> bytes:
    return b"\x01"


def mss(v=1460) -> bytes:
    return struct.pack("!BBH", 2, 4, v)


def wscale(n=7) -> bytes:
    return struct.pack("!BBB", 3, 3, n)


def sack_perm() -> bytes:
    return b"\x04\x02"


def timestamp(tsval=0x11223344, tsecr=0x55667788) -> bytes:
    return struct.pack("!BBII", 8, 10, tsval, tsecr)


# ----------------------------------------------------------------------------------------------
# MPTCP options (kind 30)

def mptcp_opt(subtype: int, nibble: int, body: bytes, length=None) -> bytes:
    """Generic option: kind 30, length, subtype<<4 | nibble, then body (from octet 3)."""
    n = 3 + len(body)
    return struct.pack("!BBB", 30, n if length is None else length, (subtype << 4) | (nibble & 0xF)) + body


def with_length(opt: bytes, length: int) -> bytes:
    """The same option bytes with another length byte."""
    return opt[:1] + bytes([length]) + opt[2:]


def with_bits(opt: bytes, octet: int, bits: int) -> bytes:
    """The same option with `bits` OR-ed into octet `octet` (counted from the kind byte)."""
    b = bytearray(opt)
    b[octet] |= bits
    return bytes(b)


def mp_capable(version=1, flags=0x01, sendkey=None, recvkey=None, dll=None, csum=None, length=None) -> bytes:
    """MP_CAPABLE (RFC 8684 section 3.1, RFC 6824 section 3.1). Length 4 (v1 SYN), 12 (+ sender key),
    20 (+ receiver key), 22 (+ data-level length), 24 (+ checksum)."""
    body = bytes([flags])
    if sendkey is not None:
        body += struct.pack("!Q", sendkey)
    if recvkey is not None:
        body += struct.pack("!Q", recvkey)
    if dll is not None:
        body += struct.pack("!H", dll)
    if csum is not None:
        body += struct.pack("!H", csum)
    return mptcp_opt(0, version, body, length)


def mp_join_syn(addr_id=1, token=0xA1B2C3D4, nonce=0x01020304, backup=False, length=None) -> bytes:
    """MP_JOIN SYN, length 12 (RFC 8684 section 3.2, figure 5)."""
    return mptcp_opt(1, 1 if backup else 0, struct.pack("!BII", addr_id, token, nonce), length)


def mp_join_synack(addr_id=1, trunc_hmac=0x1122334455667788, nonce=0x05060708, backup=False,
                   length=None) -> bytes:
    """MP_JOIN SYN/ACK, length 16 (figure 6)."""
    return mptcp_opt(1, 1 if backup else 0, struct.pack("!BQI", addr_id, trunc_hmac, nonce), length)


def mp_join_ack(hmac=bytes(range(0xA0, 0xB4)), length=None) -> bytes:
    """MP_JOIN third ACK, length 24 (figure 7): 12 reserved bits, 160-bit HMAC."""
    assert len(hmac) == 20
    return mptcp_opt(1, 0, b"\0" + hmac, length)


def dss_flags(ack=False, ack8=False, mapping=False, dsn8=False, fin=False) -> int:
    return (0x10 if fin else 0) | (0x08 if dsn8 else 0) | (0x04 if mapping else 0) | \
        (0x02 if ack8 else 0) | (0x01 if ack else 0)


def dss_len(flags: int, csum=False) -> int:
    """DSS length for the flags (RFC 8684 section 3.3, figure 9)."""
    n = 4
    if flags & 0x01:
        n += 8 if flags & 0x02 else 4
    if flags & 0x04:
        n += (8 if flags & 0x08 else 4) + 4 + 2 + (2 if csum else 0)
    return n


def dss(ack=None, ack8=False, dsn=None, dsn8=False, ssn=1, dll=100, csum=None, fin=False, flags=None,
        reserved=0, length=None) -> bytes:
    """DSS (RFC 8684 section 3.3, figure 9). `ack` present -> A (a = ack8); `dsn` present -> M
    (m = dsn8) with ssn/dll and the checksum if `csum` is not None. `flags` overrides the flag
    octet (the fields follow the keyword arguments regardless); `reserved` fills the 4-bit
    nibble of octet 2 (must be 0)."""
    f = dss_flags(ack is not None, ack8, dsn is not None, dsn8, fin) if flags is None else flags
    body = bytes([f])
    if ack is not None:
        body += struct.pack("!Q" if ack8 else "!I", ack)
    if dsn is not None:
        body += struct.pack("!Q" if dsn8 else "!I", dsn) + struct.pack("!IH", ssn, dll)
        if csum is not None:
            body += struct.pack("!H", csum)
    return mptcp_opt(2, reserved, body, length)


def _addr(ip):
    a = ipaddress.ip_address(ip)
    return a.packed, a.version


def add_addr_v0(addr_id, ip, port=None, length=None, ipver=None) -> bytes:
    """ADD_ADDR v0 (RFC 6824 section 3.4.1): IPVer nibble 4/6, address, optional port.
    Lengths 8, 10, 20, 22."""
    packed, ver = _addr(ip)
    body = bytes([addr_id]) + packed + (struct.pack("!H", port) if port is not None else b"")
    return mptcp_opt(3, ver if ipver is None else ipver, body, length)


def add_addr_v1(addr_id, ip, port=None, hmac=None, echo=False, length=None) -> bytes:
    """ADD_ADDR v1 (RFC 8684 section 3.4.1, figure 12): E flag, address, optional port,
    8-octet truncated HMAC (absent when echo). Lengths 8/10/20/22 (echo) and 16/18/28/30."""
    packed, _ = _addr(ip)
    body = bytes([addr_id]) + packed + (struct.pack("!H", port) if port is not None else b"")
    if hmac is not None:
        body += struct.pack("!Q", hmac)
    return mptcp_opt(3, 1 if echo else 0, body, length)


def remove_addr(*ids, length=None) -> bytes:
    """REMOVE_ADDR (section 3.4.2): one octet per address id, length 3 + n."""
    return mptcp_opt(4, 0, bytes(ids), length)


def mp_prio(backup=True, addr_id=None, length=None) -> bytes:
    """MP_PRIO (section 3.3.8): length 3; v0 (RFC 6824) could add an address id (length 4)."""
    return mptcp_opt(5, 1 if backup else 0, b"" if addr_id is None else bytes([addr_id]), length)


def mp_fail(dsn, length=None) -> bytes:
    """MP_FAIL (section 3.7, figure 16): 12 reserved bits, 64-bit DSN. Length 12."""
    return mptcp_opt(6, 0, b"\0" + struct.pack("!Q", dsn), length)


def mp_fastclose(key, length=None) -> bytes:
    """MP_FASTCLOSE (section 3.5, figure 14): 12 reserved bits, receiver's key. Length 12."""
    return mptcp_opt(7, 0, b"\0" + struct.pack("!Q", key), length)


def mp_tcprst(reason=0, u=False, v=False, w=False, t=False, length=None) -> bytes:
    """MP_TCPRST (section 3.6, figure 15): flags U V W T in the low nibble, reason. Length 4."""
    nib = (8 if u else 0) | (4 if v else 0) | (2 if w else 0) | (1 if t else 0)
    return mptcp_opt(8, nib, bytes([reason]), length)


# ----------------------------------------------------------------------------------------------
# Malformed variants: name -> (options bytes, data_offset or None, what is wrong)

def _cut(opt: bytes, n: int) -> bytes:
    """The first n octets of an option, with length byte n."""
    return with_length(opt[:n], n)


def _grow(opt: bytes, n: int) -> bytes:
    """An option padded with zero octets to n octets, with length byte n."""
    return with_length(opt + b"\0" * (n - len(opt)), n)


def malformed_options():
    """Malformed MPTCP options. Each is followed where possible by NOP NOP timestamp, so a test
    can check that the options after it still dissect. Returns {name: dict(options, data_offset,
    expect)} where expect is the class of problem:
      'bad_length'      length not legal for the subtype (RFC 8684 section 3 fixes them all)
      'unknown_subtype' subtype 0x9..0xe (unassigned, RFC 8684 section 8)
      'reserved'        reserved bits or unassigned values
      'unknown_version' MP_CAPABLE version 2
      'too_short'       length byte 0/1: TCP rejects it before calling the option dissector
      'header_end'      the length runs past the TCP header: TCP stops before the option
    """
    ts = timestamp()
    m = {}

    def add(name, opt, expect, data_offset=None, trailer=True):
        opts = opt + (nop() + nop() + ts if trailer else b"")
        assert len(opts) <= 40 or data_offset is not None, name
        m[name] = dict(options=opts, data_offset=data_offset, expect=expect)

    # wrong length for the subtype
    add("mpc_v1_len_8", _cut(mp_capable(1, 0x01, sendkey=KEY_A), 8), "bad_length")
    add("mpc_v1_len_16", _grow(mp_capable(1, 0x01, sendkey=KEY_A), 16), "bad_length")
    add("mpc_v1_len_26", _grow(mp_capable(1, 0x81, sendkey=KEY_A, recvkey=KEY_B, dll=1, csum=2), 26),
        "bad_length")
    add("mpc_v0_len_4", mp_capable(0, 0x01), "bad_length")
    add("mpc_v0_len_22", mp_capable(0, 0x01, sendkey=KEY_A, recvkey=KEY_B, dll=10), "bad_length")
    add("mpc_v0_len_24", mp_capable(0, 0x81, sendkey=KEY_A, recvkey=KEY_B, dll=10, csum=1), "bad_length")
    add("mpc_len_3", _cut(mp_capable(1, 0x01), 3), "bad_length")
    add("join_len_4", _cut(mp_join_syn(), 4), "bad_length")
    add("join_len_13", _grow(mp_join_syn(), 13), "bad_length")
    add("join_len_20", _grow(mp_join_synack(), 20), "bad_length")
    add("dss_len_3", _cut(dss(ack=1), 3), "bad_length")
    add("dss_A_len_4", dss(flags=0x01), "bad_length")
    add("dss_AM_len_10", _cut(dss(ack=1, dsn=2), 10), "bad_length")
    add("dss_M_csum_len_18", _grow(dss(dsn=2, csum=0x1234), 18), "bad_length")
    add("dss_A_len_10", _grow(dss(ack=1), 10), "bad_length")
    add("dss_none_len_6", _grow(dss(), 6), "bad_length")
    add("add_addr_len_4", _cut(add_addr_v1(1, "10.0.0.9"), 4), "bad_length")
    add("add_addr_len_12", _grow(add_addr_v1(1, "10.0.0.9"), 12), "bad_length")
    # ADD_ADDR v1: the HMAC is there exactly when E=0 (RFC 8684 figure 12; Linux mptcp_parse_option)
    add("add_addr_v1_echo_with_hmac", add_addr_v1(1, "10.0.0.9", hmac=1, echo=True), "bad_length")
    add("add_addr_v1_no_echo_no_hmac", add_addr_v1(1, "10.0.0.9", port=80), "bad_length")
    add("add_addr_v0_ipver6_len8", add_addr_v0(1, "10.0.0.9", ipver=6), "bad_length")
    add("add_addr_v0_ipver4_len20", add_addr_v0(1, "2001:db8::9", ipver=4), "bad_length")
    add("rm_addr_len_3", remove_addr(), "bad_length")
    add("prio_len_5", _grow(mp_prio(True, 1), 5), "bad_length")
    add("fail_len_8", _cut(mp_fail(1), 8), "bad_length")
    add("fail_len_4", _cut(mp_fail(1), 4), "bad_length")
    add("fastclose_len_16", _grow(mp_fastclose(KEY_B), 16), "bad_length")
    add("fastclose_len_3", _cut(mp_fastclose(KEY_B), 3), "bad_length")
    add("tcprst_len_3", _cut(mp_tcprst(1), 3), "bad_length")
    add("tcprst_len_6", _grow(mp_tcprst(1), 6), "bad_length")
    add("len_2", bytes([30, 2]), "bad_length")
    # unknown subtypes 0x9..0xe (0xf is for private use, RFC 8684 section 8)
    for st in range(0x9, 0xF):
        add(f"subtype_{st:x}", mptcp_opt(st, 0, b"\0" * 5), "unknown_subtype")
    # reserved bits / unassigned values
    add("mpc_v1_reserved_flags", mp_capable(1, 0x01 | 0x1E, sendkey=KEY_A), "reserved")
    add("mpc_version_2", mp_capable(2, 0x01, sendkey=KEY_A), "unknown_version")
    add("mpc_version_f", mp_capable(0xF, 0x01), "unknown_version")
    add("tcprst_reason_7", mp_tcprst(7), "reserved")
    add("tcprst_reason_ff", mp_tcprst(0xFF), "reserved")
    add("dss_reserved_nibble", dss(ack=1, reserved=0x5), "reserved")
    add("dss_reserved_flags", dss(ack=1, flags=0xE1), "reserved")
    add("join_syn_reserved", with_bits(mp_join_syn(), 2, 0x2), "reserved")
    add("join_synack_reserved", with_bits(mp_join_synack(), 2, 0x8), "reserved")
    add("join_ack_reserved", with_bits(mp_join_ack(), 3, 0x10), "reserved")
    # a nibble that is no v0 IPVer on an ADD_ADDR of unknown version: v1, E=1, (rvd) bit 0x4 set
    add("add_addr_nibble_5", add_addr_v0(1, "10.0.0.9", ipver=5), "reserved")
    add("add_addr_v1_reserved", with_bits(add_addr_v1(1, "10.0.0.9", hmac=7), 2, 0x8), "reserved")
    add("rm_addr_reserved", with_bits(remove_addr(3), 2, 0x4), "reserved")
    add("prio_reserved", with_bits(mp_prio(True), 2, 0x2), "reserved")
    add("fail_reserved", with_bits(mp_fail(5), 3, 0x1), "reserved")
    add("fastclose_reserved", with_bits(mp_fastclose(KEY_B), 2, 0x8), "reserved")
    # length byte 0 or 1
    add("len_0", bytes([30, 0, 0x20, 0x01]), "too_short", trailer=False)
    add("len_1", bytes([30, 1, 0x20, 0x01]), "too_short", trailer=False)
    # past the end of the TCP header: a length byte larger than what is left, and an option
    # whose bytes are all in the segment but cut by the header length (data offset)
    add("past_header_end", ts + nop() + nop() + with_length(dss(ack=1)[:8], 20), "header_end", trailer=False)
    split = ts + nop() + nop() + dss(ack=1, dsn=2, ssn=1, dll=100)       # 12 + 18 octets
    m["split_at_header_end"] = dict(options=split, data_offset=(20 + 24) // 4, expect="header_end")
    return m


# ----------------------------------------------------------------------------------------------
# Crypto (RFC 8684 section 3.1: token = most significant 32 bits of H(key), IDSN = least
# significant 64 bits; H = SHA-256 for v1, SHA-1 for v0 (RFC 6824)).

def token_idsn(key: int, version: int):
    h = (hashlib.sha1 if version == 0 else hashlib.sha256)(struct.pack("!Q", key)).digest()
    return struct.unpack("!I", h[:4])[0], struct.unpack("!Q", h[-8:])[0]


# ----------------------------------------------------------------------------------------------
# Conversations

class Conversation:
    """Builds the frames of one TCP connection (a subflow), tracking sequence numbers.

        c = Conversation(isn_c=1000, isn_s=5000)
        frames = [c.syn(mp_capable(1, 0x81)), c.synack(mp_capable(1, 0x81, sendkey=KEY_B)),
                  c.ack(mp_capable(1, 0x81, sendkey=KEY_A, recvkey=KEY_B)),
                  c.send(True, b"hello", dss(ack=1, dsn=1, ssn=1, dll=5))]
    """

    def __init__(self, client=(CLIENT4, 45000), server=(SERVER4, 5001), isn_c=1000, isn_s=5000):
        self.client, self.server = client, server
        self.isn = [isn_c, isn_s]
        self.nxt = [isn_c, isn_s]          # next sequence number per side (0 client, 1 server)
        self.window = 65535                # TCP window field of the next frames
        self.frames = []

    def _emit(self, side, flags, options, payload):
        src, dst = (self.client, self.server) if side == 0 else (self.server, self.client)
        ack = self.nxt[1 - side] if "A" in flags else 0
        f = frame(options=options, payload=payload, src=src[0], dst=dst[0], sport=src[1], dport=dst[1],
                  seq=self.nxt[side], ack=ack, flags=flags, window=self.window)
        self.nxt[side] += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        self.frames.append(f)
        return f

    def syn(self, options=b""):
        return self._emit(0, "S", options, b"")

    def synack(self, options=b""):
        return self._emit(1, "SA", options, b"")

    def ack(self, options=b"", side=0):
        return self._emit(side, "A", options, b"")

    def send(self, from_client: bool, payload: bytes, options=b"", flags="PA"):
        return self._emit(0 if from_client else 1, flags, options, payload)

    def fin(self, from_client: bool, options=b""):
        return self._emit(0 if from_client else 1, "FA", options, b"")

    def rst(self, from_client: bool, options=b""):
        return self._emit(0 if from_client else 1, "RA", options, b"")

    def handshake(self, syn_opts=b"", synack_opts=b"", ack_opts=b""):
        return [self.syn(syn_opts), self.synack(synack_opts), self.ack(ack_opts)]
