"""Per-subtype option tests from frames built here (frames.py), v0 and v1, every legal length.

Expectations come from the RFC byte layouts (RFC 8684 section 3 for v1, RFC 6824 section 3
for v0) and from hashlib (token/IDSN), never from what the plugin prints. Each group of cases
goes into one pcap, dissected once per IP version; every case is its own test.

Conventions of the expectation dicts: field -> int (compared numerically, hex or decimal),
bool (flag), str (exact), list (all occurrences, in order) or None (field absent). Every field
of the group's FIELDS list that a case does not mention must be absent, so a value that shows
up in the wrong place fails too.
"""
import struct

import pytest

from frames import (KEY_A, KEY_B, Conversation, Packet, add_addr_v0, add_addr_v1, dss, dss_flags, dss_len,
                    frame, malformed_options, mp_capable, mp_fail, mp_fastclose, mp_join_ack, mp_join_syn,
                    mp_join_synack, mp_prio, mp_tcprst, nop, remove_addr, timestamp, token_idsn, with_length,
                    write_pcap)

P = "tcp.options.mptcp."
# Client ports PORT_BASE.. : no dissector of Wireshark 4.0/4.4/4.6 claims them, so payloads stay
# undissected data (4.4 gives 40000 to SAP NI, 20000 is DNP3, 3001x has several)
PORT_BASE = 45000
TRUE = {"1", "True", "true"}
FALSE = {"0", "False", "false"}


def _num(s):
    return int(s, 0)


def compare(row, exp, fields):
    """List of mismatches between a tshark row (dict) and an expectation dict."""
    errs = []
    for f in fields:
        got = row.get(f, "")
        e = exp.get(f)
        if e is None:
            ok = got == ""
        elif isinstance(e, bool):
            ok = got in (TRUE if e else FALSE)
        elif isinstance(e, int):
            ok = got != "" and "," not in got and _num(got) == e
        elif isinstance(e, list):
            vals = got.split(",") if got else []
            ok = len(vals) == len(e) and all(
                (_num(v) == x if isinstance(x, int) else v == x) for v, x in zip(vals, e))
        else:
            ok = got == e
        if not ok:
            errs.append(f"{f}: got {got!r}, expected {e!r}")
    return errs


def dissect(tshark, path, frames, fields, *extra):
    write_pcap(path, frames)
    rows = tshark.fields(path, fields, *extra)
    assert len(rows) == len(frames)
    return [dict(zip(fields, r)) for r in rows]


class Group:
    """Cases of one subtype: (id, options, tcp flags, payload, expectation)."""

    def __init__(self, fields):
        self.fields = fields
        self.cases = []

    def add(self, cid, options, exp, flags="A", payload=b""):
        assert set(exp) <= set(self.fields), set(exp) - set(self.fields)
        self.cases.append((cid, options, flags, payload, exp))

    def ids(self):
        return [c[0] for c in self.cases]

    def run(self, tshark, path, v6):
        frames = [frame(options=o, flags=fl, payload=pl, v6=v6, sport=PORT_BASE + i, seq=1000 + 7 * i)
                  for i, (_, o, fl, pl, _) in enumerate(self.cases)]
        return dissect(tshark, path, frames, self.fields)


def _run_group(request, tmp_path_factory, tshark, group, name):
    """Dissects a group once per IP version (module-scoped, parametrized fixture)."""
    v6 = request.param
    path = tmp_path_factory.mktemp(name) / f"{name}-{'v6' if v6 else 'v4'}.pcap"
    return group.run(tshark, path, v6)


# ------------------------------------------------------------------------------------------------
# MP_CAPABLE (RFC 8684 section 3.1, figure 4; RFC 6824 section 3.1)

CAP_FIELDS = [P + f for f in ("subtype", "version", "flags", "checksumreq.flags", "extensibility.flag",
                              "nomoresubflows.flag", "sha256.flag", "sha1.flag", "sendkey", "recvkey",
                              "datalvllen", "checksum")] + ["mptcp.expected_token", "mptcp.expected_idsn"]
CAP = Group(CAP_FIELDS)


def _cap_exp(version, flags, sendkey=None, recvkey=None, dll=None, csum=None):
    e = {P + "subtype": 0, P + "version": version, P + "flags": flags,
         P + "checksumreq.flags": (flags >> 7) & 1, P + "extensibility.flag": (flags >> 6) & 1}
    if version == 0:
        e[P + "sha1.flag"] = flags & 1
    else:
        e[P + "nomoresubflows.flag"] = (flags >> 5) & 1
        e[P + "sha256.flag"] = flags & 1
    if sendkey is not None:
        tok, idsn = token_idsn(sendkey, version)
        e.update({P + "sendkey": sendkey, "mptcp.expected_token": tok, "mptcp.expected_idsn": idsn})
    if recvkey is not None:
        e[P + "recvkey"] = recvkey
    if dll is not None:
        e[P + "datalvllen"] = dll
    if csum is not None:
        e[P + "checksum"] = csum
    return e


def _cap(cid, version, flags, tcpflags, payload=b"", **kw):
    CAP.add(cid, mp_capable(version, flags, **kw), _cap_exp(version, flags, **kw), tcpflags, payload)


# v1: 4 (SYN), 12 (SYN/ACK), 20 (third ACK), 22 (ACK + data), 24 (ACK + data + checksum)
_cap("v1_len4_syn_AH", 1, 0x81, "S")
_cap("v1_len4_syn_H", 1, 0x01, "S")
_cap("v1_len4_syn_ABCH", 1, 0xE1, "S")
_cap("v1_len12_synack", 1, 0x01, "SA", sendkey=KEY_B)
_cap("v1_len12_synack_C", 1, 0x21, "SA", sendkey=KEY_B)
_cap("v1_len20_ack", 1, 0x01, "A", sendkey=KEY_A, recvkey=KEY_B)
_cap("v1_len20_ack_maxkey", 1, 0x81, "A", sendkey=0xFFFFFFFFFFFFFFFF, recvkey=0)
_cap("v1_len22_data", 1, 0x01, "PA", b"hello", sendkey=KEY_A, recvkey=KEY_B, dll=5)
_cap("v1_len24_data_csum", 1, 0x81, "PA", b"hello", sendkey=KEY_A, recvkey=KEY_B, dll=5, csum=0xABCD)
# v0: 12 (SYN and SYN/ACK, each with the sender's key), 20 (third ACK)
_cap("v0_len12_syn", 0, 0x81, "S", sendkey=KEY_A)
_cap("v0_len12_synack", 0, 0x01, "SA", sendkey=KEY_B)
_cap("v0_len20_ack", 0, 0x81, "A", sendkey=KEY_A, recvkey=KEY_B)


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4", "ipv6"])
def cap_rows(request, tshark, tmp_path_factory):
    return _run_group(request, tmp_path_factory, tshark, CAP, "cap")


@pytest.mark.parametrize("i", range(len(CAP.cases)), ids=CAP.ids())
def test_mp_capable(cap_rows, i):
    assert compare(cap_rows[i], CAP.cases[i][4], CAP.fields) == []


# ------------------------------------------------------------------------------------------------
# MP_JOIN (RFC 8684 section 3.2, figures 5-7)

JOIN_FIELDS = [P + f for f in ("subtype", "flags", "backup.flag", "addrid", "recvtok", "sendrand",
                               "sendtrunchmac", "sendhmac", "reserved")]
JOIN = Group(JOIN_FIELDS)
HMAC20 = bytes(range(0xA0, 0xB4))
for _b in (False, True):
    JOIN.add(f"syn_len12_backup{int(_b)}", mp_join_syn(addr_id=3, token=0xA1B2C3D4, nonce=0x01020304, backup=_b),
             {P + "subtype": 1, P + "flags": 0x10 | _b, P + "backup.flag": int(_b), P + "addrid": 3,
              P + "recvtok": 0xA1B2C3D4, P + "sendrand": 0x01020304}, "S")
    JOIN.add(f"synack_len16_backup{int(_b)}",
             mp_join_synack(addr_id=250, trunc_hmac=0x8899AABBCCDDEEFF, nonce=0xFFFFFFFF, backup=_b),
             {P + "subtype": 1, P + "flags": 0x10 | _b, P + "backup.flag": int(_b), P + "addrid": 250,
              P + "sendtrunchmac": 0x8899AABBCCDDEEFF, P + "sendrand": 0xFFFFFFFF}, "SA")
JOIN.add("ack_len24", mp_join_ack(HMAC20),
         {P + "subtype": 1, P + "reserved": 0, P + "sendhmac": HMAC20.hex()}, "A")


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4", "ipv6"])
def join_rows(request, tshark, tmp_path_factory):
    return _run_group(request, tmp_path_factory, tshark, JOIN, "join")


@pytest.mark.parametrize("i", range(len(JOIN.cases)), ids=JOIN.ids())
def test_mp_join(join_rows, i):
    assert compare(join_rows[i], JOIN.cases[i][4], JOIN.fields) == []


# ------------------------------------------------------------------------------------------------
# DSS (RFC 8684 section 3.3, figure 9): every combination of F, m, M, a, A, with and without the
# checksum when there is a mapping. The m flag gives the DSN width, the a flag the DATA_ACK width.

DSS_FIELDS = [P + f for f in ("subtype", "flags", "datafin.flag", "dseqn8.flag", "dseqnpresent.flag",
                              "dataack8.flag", "dataackpresent.flag", "rawdataack", "rawdataseqno",
                              "subflowseqno", "datalvllen", "checksum")]
DSS = Group(DSS_FIELDS)
ACK32, ACK64 = 0x11223344, 0x1122334455667788
DSN32, DSN64 = 0x99AABBCC, 0x99AABBCCDDEEFF00
SSN, DLL, CSUM = 0x01020304, 1000, 0xBEEF


def _dss_case(flags, csum):
    A, a, M, m, F = (bool(flags & b) for b in (0x01, 0x02, 0x04, 0x08, 0x10))
    kw = dict(flags=flags, fin=F)
    e = {P + "subtype": 2, P + "flags": flags, P + "datafin.flag": int(F), P + "dseqn8.flag": int(m),
         P + "dseqnpresent.flag": int(M), P + "dataack8.flag": int(a), P + "dataackpresent.flag": int(A)}
    if A:
        kw.update(ack=ACK64 if a else ACK32, ack8=a)
        e[P + "rawdataack"] = ACK64 if a else ACK32
    if M:
        kw.update(dsn=DSN64 if m else DSN32, dsn8=m, ssn=SSN, dll=DLL, csum=CSUM if csum else None)
        e.update({P + "rawdataseqno": DSN64 if m else DSN32, P + "subflowseqno": SSN, P + "datalvllen": DLL})
        if csum:
            e[P + "checksum"] = CSUM
    opt = dss(**kw)
    assert len(opt) == dss_len(flags, csum)
    name = "".join(c for c, b in zip("FmMaA", (F, m, M, a, A)) if b) or "none"
    DSS.add(f"{name}_len{len(opt)}{'_csum' if csum else ''}", opt, e)


for _f in range(32):
    _dss_case(_f, False)
    if _f & 0x04:
        _dss_case(_f, True)


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4", "ipv6"])
def dss_rows(request, tshark, tmp_path_factory):
    return _run_group(request, tmp_path_factory, tshark, DSS, "dss")


@pytest.mark.parametrize("i", range(len(DSS.cases)), ids=DSS.ids())
def test_dss(dss_rows, i):
    assert compare(dss_rows[i], DSS.cases[i][4], DSS.fields) == []


def test_dss_linux_checksum_lengths_covered():
    """Linux with checksums sends A(a=0)+M(m=1)+csum = 24 and A(a=1)+M(m=1)+csum = 28 octets."""
    assert dss_len(dss_flags(ack=True, mapping=True, dsn8=True), csum=True) == 24
    assert dss_len(dss_flags(ack=True, ack8=True, mapping=True, dsn8=True), csum=True) == 28
    assert {"mMA_len24_csum", "mMaA_len28_csum"} <= set(DSS.ids())


# ------------------------------------------------------------------------------------------------
# ADD_ADDR: v0 (RFC 6824 section 3.4.1: IPVer nibble, no HMAC; 8/10/20/22) and v1 (RFC 8684
# section 3.4.1, figure 12: E flag; HMAC when E=0: 16/18/28/30; echo E=1: 8/10/20/22). In a
# single frame the version is unknown, so the nibble decides (4/6 = v0 IPVer).

ADD_FIELDS = [P + f for f in ("subtype", "ipver", "echo", "addrid", "ipv4", "ipv6", "port",
                              "addaddrtrunchmac")]
ADD = Group(ADD_FIELDS)
for _ip in ("10.20.30.40", "2001:db8:1::99"):
    _fam = P + ("ipv6" if ":" in _ip else "ipv4")
    for _port in (None, 8080):
        _base = {P + "subtype": 3, P + "addrid": 7, _fam: _ip}
        if _port:
            _base[P + "port"] = _port
        _o = add_addr_v0(7, _ip, _port)
        ADD.add(f"v0_len{len(_o)}", _o, dict(_base, **{P + "ipver": 6 if ":" in _ip else 4}))
        _o = add_addr_v1(7, _ip, _port, hmac=0xDEADBEEF01234567)
        ADD.add(f"v1_hmac_len{len(_o)}", _o, dict(_base, **{P + "echo": 0, P + "addaddrtrunchmac": 0xDEADBEEF01234567}))
        _o = add_addr_v1(7, _ip, _port, echo=True)
        ADD.add(f"v1_echo_len{len(_o)}", _o, dict(_base, **{P + "echo": 1}))


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4", "ipv6"])
def add_rows(request, tshark, tmp_path_factory):
    return _run_group(request, tmp_path_factory, tshark, ADD, "add")


@pytest.mark.parametrize("i", range(len(ADD.cases)), ids=ADD.ids())
def test_add_addr(add_rows, i):
    assert compare(add_rows[i], ADD.cases[i][4], ADD.fields) == []


# ------------------------------------------------------------------------------------------------
# REMOVE_ADDR (section 3.4.2), MP_PRIO (3.3.8; v0 length 4 with address id), MP_FAIL (3.7),
# MP_FASTCLOSE (3.5), MP_TCPRST (3.6)

MISC_FIELDS = [P + f for f in ("subtype", "flags", "addrid", "backup.flag", "reserved", "rawdataseqno", "recvkey",
                               "flag_U.flag", "flag_V.flag", "flag_W.flag", "flag_T.flag", "rst_reason")] + \
    ["mptcp.rm_addr.count"]
MISC = Group(MISC_FIELDS)
for _ids in ((1,), (0, 255), (1, 2, 3, 4, 5), tuple(range(10, 47))):
    MISC.add(f"rm_addr_{len(_ids)}", remove_addr(*_ids),
             {P + "subtype": 4, P + "addrid": list(_ids), "mptcp.rm_addr.count": len(_ids)})
for _b in (False, True):
    MISC.add(f"prio_len3_backup{int(_b)}", mp_prio(_b),
             {P + "subtype": 5, P + "flags": 0x50 | _b, P + "backup.flag": int(_b)})
MISC.add("prio_len4_v0_addrid", mp_prio(True, 9),
         {P + "subtype": 5, P + "flags": 0x51, P + "backup.flag": 1, P + "addrid": 9})
MISC.add("fail", mp_fail(0x0102030405060708),
         {P + "subtype": 6, P + "reserved": 0, P + "rawdataseqno": 0x0102030405060708})
MISC.add("fastclose", mp_fastclose(KEY_B), {P + "subtype": 7, P + "reserved": 0, P + "recvkey": KEY_B})
for _r in range(7):
    for _fl in ((False, False, False, _r % 2 == 0), (True, True, True, True)):
        _nib = sum(b << s for b, s in zip(_fl, (3, 2, 1, 0)))
        MISC.add(f"tcprst_reason{_r}_flags{_nib:x}", mp_tcprst(_r, *_fl),
                 {P + "subtype": 8, P + "flags": 0x80 | _nib, P + "flag_U.flag": _fl[0], P + "flag_V.flag": _fl[1],
                  P + "flag_W.flag": _fl[2], P + "flag_T.flag": _fl[3], P + "rst_reason": _r}, "RA")


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4", "ipv6"])
def misc_rows(request, tshark, tmp_path_factory):
    return _run_group(request, tmp_path_factory, tshark, MISC, "misc")


@pytest.mark.parametrize("i", range(len(MISC.cases)), ids=MISC.ids())
def test_misc_subtypes(misc_rows, i):
    assert compare(misc_rows[i], MISC.cases[i][4], MISC.fields) == []


# ------------------------------------------------------------------------------------------------
# Several options in one header, and the options around them

def test_several_mptcp_options_and_tcp_options(tshark, tmp_path):
    """MP_PRIO + DSS + NOP NOP timestamp in one header: all dissected, in order."""
    opts = mp_prio(True) + nop() + dss(ack=ACK32, dsn=DSN32, ssn=1, dll=4) + nop() + nop() + timestamp(7, 8)
    rows = dissect(tshark, tmp_path / "multi.pcap", [frame(options=opts, payload=b"abcd")],
                   [P + "subtype", P + "rawdataack", P + "rawdataseqno", "tcp.options.timestamp.tsval", "tcp.payload"])
    assert rows[0] == {P + "subtype": "5,2", P + "rawdataack": str(ACK32), P + "rawdataseqno": str(DSN32),
                       "tcp.options.timestamp.tsval": "7", "tcp.payload": b"abcd".hex()}


# ------------------------------------------------------------------------------------------------
# Algorithm flags and the v1 C flag (RFC 8684 section 3.1: C = "do not attempt new subflows to
# this address", D-G unassigned, H = HMAC-SHA256; RFC 6824: C-H select the algorithm, H = SHA1)

ALGO_CASES = [  # (id, version, flags, missing_algorithm, unsupported_algorithm)
    ("v1_H", 1, 0x01, False, False),
    ("v1_C_H", 1, 0x21, False, False),
    ("v1_A_C_H", 1, 0xA1, False, False),
    ("v1_no_H", 1, 0x80, True, False),
    ("v0_H", 0, 0x81, False, False),
    ("v0_none", 0, 0x80, True, False),
    ("v0_G", 0, 0x02, False, True),
    ("v0_C_H", 0, 0x21, False, True),
]


def _expert_frames(t, cap, name):
    return {int(x) for x in t.run("-r", cap, "-Y", name, "-T", "fields", "-e", "frame.number").split()}


@pytest.fixture(scope="module")
def algo_capture(tmp_path_factory):
    frames = [frame(options=mp_capable(v, fl, sendkey=KEY_B), flags="SA", sport=PORT_BASE + i)
              for i, (_, v, fl, _, _) in enumerate(ALGO_CASES)]
    return write_pcap(tmp_path_factory.mktemp("algo") / "algo.pcap", frames)


@pytest.mark.parametrize("i", range(len(ALGO_CASES)), ids=[c[0] for c in ALGO_CASES])
def test_algorithm_experts(tshark, algo_capture, i):
    _, _, _, missing, unsupported = ALGO_CASES[i]
    assert ((i + 1) in _expert_frames(tshark, algo_capture, "mptcp.connection.missing_algorithm")) == missing
    assert ((i + 1) in _expert_frames(tshark, algo_capture, "mptcp.connection.unsupported_algorithm")) == unsupported


def test_fix_v1_c_flag_vs_builtin(tshark, tshark_builtin, algo_capture):
    """Documented fix (builtin-mptcp.md section 4 #11): the built-in flags v1 C as an unsupported
    algorithm, the plugin does not."""
    frame_c = 2
    assert frame_c not in _expert_frames(tshark, algo_capture, "mptcp.connection.unsupported_algorithm")
    if frame_c not in _expert_frames(tshark_builtin, algo_capture, "mptcp.connection.unsupported_algorithm"):
        pytest.skip("this Wireshark's built-in no longer has the C-flag false positive")


def test_fix_dss_checksum_vs_builtin(tshark, tshark_builtin, tmp_path):
    """Documented fix (section 4 #6): the checksum of 24/28-octet DSS options is shown."""
    frames = [frame(options=dss(ack=ACK32, dsn=DSN64, dsn8=True, ssn=1, dll=4, csum=0x1111), payload=b"abcd"),
              frame(options=dss(ack=ACK64, ack8=True, dsn=DSN64, dsn8=True, ssn=1, dll=4, csum=0x2222),
                    payload=b"abcd", sport=PORT_BASE + 1)]
    rows = dissect(tshark, tmp_path / "csum.pcap", frames, ["tcp.option_len", P + "checksum"])
    assert [r[P + "checksum"] for r in rows] == ["0x1111", "0x2222"]
    assert [r["tcp.option_len"] for r in rows] == ["24", "28"]
    builtin = tshark_builtin.fields(tmp_path / "csum.pcap", [P + "checksum"])
    if any(r[0] for r in builtin):
        pytest.skip("this Wireshark's built-in shows DSS checksums")


def test_infinite_mapping_expert(tshark, tmp_path):
    """RFC 8684 section 3.3.1: a data-level length of 0 is the infinite mapping."""
    cap = write_pcap(tmp_path / "inf.pcap", [frame(options=dss(ack=1, dsn=2, ssn=0, dll=0), payload=b"x"),
                                            frame(options=dss(ack=1, dsn=2, ssn=1, dll=1), payload=b"x",
                                                  sport=PORT_BASE + 1)])
    assert _expert_frames(tshark, cap, "mptcp.dss.infinite_mapping") == {1}


# ------------------------------------------------------------------------------------------------
# Connection-dependent decisions: the DSN width follows m and the DATA_ACK width a; ADD_ADDR v0/v1
# follows the connection's version where known.

def _v1_connection(extra):
    c = Conversation(isn_c=0x10000000, isn_s=0x20000000)
    c.handshake(mp_capable(1, 0x01), mp_capable(1, 0x01, sendkey=KEY_B),
                mp_capable(1, 0x01, sendkey=KEY_A, recvkey=KEY_B))
    extra(c)
    return c.frames


def test_dsn_width_from_m_and_ack_width_from_a(tshark, tmp_path):
    """a=1 with m=0 (8-octet DATA_ACK, 4-octet DSN) and a=0 with m=1: each field read with its own
    flag. The 32-bit values are the low halves of IDSN+1 (RFC 8684 section 3.3.1 / 3.3.2)."""
    _, idsn_a = token_idsn(KEY_A, 1)
    _, idsn_b = token_idsn(KEY_B, 1)
    mask = 0xFFFFFFFFFFFFFFFF

    def data(c):
        c.send(True, b"hello", dss(ack=(idsn_b + 1) & mask, ack8=True, dsn=(idsn_a + 1) & 0xFFFFFFFF, ssn=1, dll=5))
        c.send(False, b"hi", dss(ack=(idsn_a + 6) & 0xFFFFFFFF, dsn=(idsn_b + 1) & mask, dsn8=True, ssn=1, dll=2))

    frames = _v1_connection(data)
    rows = dissect(tshark, tmp_path / "width.pcap", frames,
                   [P + "rawdataack", P + "rawdataseqno", "mptcp.ack", "mptcp.dss.dsn"])
    assert rows[3][P + "rawdataack"] == str((idsn_b + 1) & mask)
    assert rows[3][P + "rawdataseqno"] == str((idsn_a + 1) & 0xFFFFFFFF)
    assert rows[4][P + "rawdataack"] == str((idsn_a + 6) & 0xFFFFFFFF)
    assert rows[4][P + "rawdataseqno"] == str((idsn_b + 1) & mask)
    # relative values (default mptcp.relative_sequence_numbers: TRUE)
    assert (rows[3]["mptcp.dss.dsn"], rows[3]["mptcp.ack"]) == ("1", "1")
    assert (rows[4]["mptcp.dss.dsn"], rows[4]["mptcp.ack"]) == ("1", "6")


def test_add_addr_version_from_connection(tshark, tmp_path):
    """On a v1 connection a length-8 ADD_ADDR with nibble 4 is v1 (E=0 without HMAC: invalid
    length), not v0 IPVer 4; on a v0 connection nibble 1 is not an IPVer (invalid), not a v1 echo.
    Without a known version the nibble decides."""
    v1 = _v1_connection(lambda c: (c.ack(add_addr_v0(5, "10.9.9.9"), side=1),
                                   c.ack(add_addr_v1(5, "10.9.9.9", echo=True), side=0)))
    c0 = Conversation(client=("10.1.1.1", PORT_BASE + 50), isn_c=7, isn_s=9)
    c0.handshake(mp_capable(0, 0x81, sendkey=KEY_A), mp_capable(0, 0x81, sendkey=KEY_B),
                 mp_capable(0, 0x81, sendkey=KEY_A, recvkey=KEY_B))
    c0.ack(add_addr_v1(5, "10.9.9.9", echo=True), side=1)
    c0.ack(add_addr_v0(5, "10.9.9.9"), side=0)
    frames = v1 + c0.frames + [frame(options=add_addr_v0(5, "10.9.9.9"), sport=PORT_BASE + 100),
                               frame(options=add_addr_v1(5, "10.9.9.9", echo=True), sport=PORT_BASE + 101)]
    cap = tmp_path / "addver.pcap"
    rows = dissect(tshark, cap, frames, [P + "ipver", P + "echo", P + "ipv4", "mptcp.version"])
    bad = _expert_frames(tshark, cap, "mptcp.option.bad_length")
    # v1 connection: frames 4 (nibble 4: bad) and 5 (echo: fine)
    assert rows[3][P + "ipver"] == "" and rows[3][P + "ipv4"] == "" and 4 in bad
    assert (rows[4][P + "echo"], rows[4][P + "ipv4"]) == ("1", "10.9.9.9") and 5 not in bad
    # v0 connection: frames 9 (nibble 1: bad) and 10 (IPVer 4: fine)
    assert rows[8][P + "echo"] == "" and rows[8][P + "ipv4"] == "" and 9 in bad
    assert (rows[9][P + "ipver"], rows[9][P + "ipv4"]) == ("4", "10.9.9.9") and 10 not in bad
    # unknown version
    assert (rows[10][P + "ipver"], rows[10][P + "ipv4"]) == ("4", "10.9.9.9") and 11 not in bad
    assert (rows[11][P + "echo"], rows[11][P + "ipv4"]) == ("1", "10.9.9.9") and 12 not in bad


# ------------------------------------------------------------------------------------------------
# Malformed options: an expert item, the options after it and the payload still dissect, and
# no _ws.malformed anywhere.

MALFORMED = malformed_options()
EXPERT_OF = {
    "bad_length": "mptcp.option.bad_length",
    "unknown_subtype": "mptcp.option.unknown_subtype",
    "reserved": "mptcp.option.reserved",
    "unknown_version": "mptcp.option.unknown_version",
    # TCP rejects these itself (packet-tcp.c tcp_dissect_options) and never calls the option
    # dissector: a length 0/1, or a length that runs past the TCP header.
    "too_short": "tcp.option.len.invalid",
    "header_end": "tcp.option.len.invalid",
}
MAL_NAMES = list(MALFORMED)
MAL_PAYLOAD = b"PAYLOAD!"


@pytest.fixture(scope="module")
def malformed(tshark, tmp_path_factory):
    frames = [frame(options=d["options"], data_offset=d["data_offset"], payload=MAL_PAYLOAD, sport=PORT_BASE + i)
              for i, d in enumerate(MALFORMED.values())]
    cap = write_pcap(tmp_path_factory.mktemp("mal") / "malformed.pcap", frames)
    rows = tshark.fields(cap, ["tcp.options.timestamp.tsval", "tcp.payload", "tcp.option_len"])
    experts = {e: _expert_frames(tshark, cap, e) for e in set(EXPERT_OF.values())}
    return cap, rows, experts


@pytest.mark.parametrize("name", MAL_NAMES)
def test_malformed_option(malformed, name):
    _, rows, experts = malformed
    i = MAL_NAMES.index(name)
    d = MALFORMED[name]
    num = i + 1
    assert num in experts[EXPERT_OF[d["expect"]]], f"no {EXPERT_OF[d['expect']]} on frame {num}"
    # no other MPTCP option expert of the classes above
    others = {e for e, fr in experts.items() if num in fr} - {EXPERT_OF[d["expect"]]}
    assert others == set(), others
    tsval, payload, _ = rows[i]
    if d["expect"] != "too_short":
        assert tsval == "287454020", "the timestamp option after the MPTCP option was not dissected"
    # with a data offset that cuts an option, the rest of the option bytes are payload
    spill = d["options"][d["data_offset"] * 4 - 20:] if d["data_offset"] else b""
    assert payload.replace(":", "") == (spill + MAL_PAYLOAD).hex(), "payload not dissected"


def test_malformed_capture_has_no_malformed_packets(tshark, malformed):
    cap, _, _ = malformed
    assert tshark.count(cap, "_ws.malformed") == 0
    assert tshark.count(cap, "_ws.expert.severity == error && !mptcp.option.bad_length") == 0


def test_malformed_does_not_hide_next_mptcp_option(tshark, tmp_path):
    """A bad-length MP_CAPABLE followed by a valid DSS: the DSS is still dissected."""
    opts = with_length(mp_capable(1, 0x01, sendkey=KEY_A)[:8], 8) + dss(ack=77)
    rows = dissect(tshark, tmp_path / "next.pcap", [frame(options=opts)], [P + "subtype", P + "rawdataack"])
    assert rows[0] == {P + "subtype": "0,2", P + "rawdataack": "77"}


def test_snaplen_truncated_option(tshark, tmp_path):
    """The capture ends inside the MPTCP option (snaplen): mptcp.option.truncated, no exception
    beyond TCP's own 'packet size limited during capture'."""
    f = frame(options=nop() + nop() + dss(ack=1, dsn=2, ssn=3, dll=4, csum=5) + nop() + nop() + timestamp(),
              payload=b"x" * 20)
    tcp_off = 14 + 20
    cut = [tcp_off + 20 + 2 + n for n in (2, 3, 10, 19)]       # inside the 20-octet DSS
    cap = write_pcap(tmp_path / "snap.pcap", [Packet(f, caplen=c) for c in cut] + [f])
    assert _expert_frames(tshark, cap, "mptcp.option.truncated") == {1, 2, 3, 4}
    assert tshark.count(cap, "_ws.malformed") == 0
    assert tshark.count(cap, "tcp.options.mptcp.rawdataack") == 1


def test_option_split_across_header_end_reported_by_tcp(tshark, tmp_path):
    """Same frames as the 'header_end' malformed cases: the bytes after the header are payload."""
    d = MALFORMED["split_at_header_end"]
    cap = write_pcap(tmp_path / "split.pcap", [frame(options=d["options"], data_offset=d["data_offset"])])
    rows = tshark.fields(cap, ["tcp.hdr_len", "tcp.len", "tcp.options.mptcp.subtype"])
    assert rows[0][:2] == [str(d["data_offset"] * 4), str(len(d["options"]) - (d["data_offset"] * 4 - 20))]
    assert rows[0][2] == ""


# The plugin adds no items to a tree that is not shown unless a filter, column or -e field uses
# one of its fields ([perf]: packet-mptcp.c mptcp_tree_wanted). Filtering must then find exactly
# what it finds on a visible tree (-V), for option fields (parent TCP), analysis fields (parent
# mptcp), TCP's option_kind, and expert items.
@pytest.mark.parametrize("dfilter", [
    "tcp.option_kind == 30", "tcp.options.mptcp.subtype == 2", "tcp.options.mptcp.rawdataseqno",
    "mptcp.dsn", "mptcp.analysis", "mptcp.stream == 1", "mptcp.reinjection_of", "mptcp.dss.checksum_bad",
    "_ws.expert.severity >= 4194304", "mptcp.dss.missing_mapping", "mptcp.analysis.latency",
])
def test_filter_same_without_visible_tree(tshark, dfilter):
    from pathlib import Path
    cap = Path(__file__).resolve().parent.parent / "captures" / "v1-csum.pcap"
    hidden = tshark.count(cap, dfilter)
    shown = sum(1 for line in tshark.run("-r", cap, "-V", "-Y", dfilter).splitlines() if line.startswith("Frame "))
    assert hidden == shown
    if dfilter in ("tcp.option_kind == 30", "mptcp.dsn", "mptcp.analysis", "tcp.options.mptcp.subtype == 2"):
        assert hidden > 100
