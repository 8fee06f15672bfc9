"""Differential test over the external captures: every stateless option field with the plugin
equals Wireshark's built-in value, except for the documented fixes below; no malformed packet
and no dissector bug with the plugin.

Where the two differ, a difference is accepted only when (1) a documented fix explains it for
that frame and field, and (2) the plugin's value is the one the RFC byte layout gives, computed
here from the raw option bytes (tcp.options) with an independent decoder.
"""
import struct
from collections import defaultdict

import pytest

from conftest import external_captures
from frames import dss_len, token_idsn

P = "tcp.options.mptcp."
OPTION_FIELDS = [P + f for f in (
    "subtype", "version", "flags", "checksumreq.flags", "extensibility.flag", "nomoresubflows.flag", "sha1.flag",
    "sha256.flag", "reserved.flag", "backup.flag", "datafin.flag", "dseqn8.flag", "dseqnpresent.flag",
    "dataack8.flag", "dataackpresent.flag", "flag_U.flag", "flag_V.flag", "flag_W.flag", "flag_T.flag",
    "rst_reason", "addrid", "sendkey", "recvkey", "recvtok", "sendrand", "sendtrunchmac", "sendhmac",
    "addaddrtrunchmac", "rawdataack", "rawdataseqno", "subflowseqno", "datalvllen", "checksum", "ipver", "echo",
    "ipv4", "ipv6", "port", "reserved")]
# mptcp.* items that both put inside the option and that depend on the option bytes alone
STATELESS_MPTCP = ["mptcp.expected_token", "mptcp.expected_idsn", "mptcp.rm_addr.count"]
FIELDS = OPTION_FIELDS + STATELESS_MPTCP
RAW = "tcp.options"
EXTRA = ["_ws.malformed", RAW]      # RAW stays last (_ws.malformed.dissector_bug is 4.0 only)

# The documented fixes (issue 3 section 3, builtin-mptcp.md sections 1 and 4), by name -> reason.
FIXES = {
    "dss_checksum": "The DSS checksum is shown for every DSS length that carries one (length = flags' "
                    "length + 2). The built-in shows it only when optlen >= offset + 4, i.e. never for the "
                    "4-octet-aligned layouts (20 in v0, 24/28 in Linux v1): builtin-mptcp.md 1a, 4 #6.",
    "token_of_own_key": "mptcp.expected_token/expected_idsn are computed from the sender's key in this "
                        "option. The built-in shows those of the key it stored first for the connection, "
                        "which differs when a third ACK echoes other keys (dpi-mptcp/mp_key_change.pcap).",
    "invalid_option": "An option whose length is not legal for its subtype (or for the connection's version, "
                      "e.g. ADD_ADDR v0/v1) gets mptcp.option.bad_length and no value fields; the built-in "
                      "reads fields at the wrong offsets or throws (tcpdump-tests/mptcp-dss-oobr.pcap).",
    "v1_c_flag": "The v1 C flag (and the unassigned D-G bits, RFC 8684 3.1) do not raise "
                 "mptcp.connection.unsupported_algorithm; the built-in tests (flags & 0x3f) != 1: "
                 "builtin-mptcp.md 1d, 4 #11.",
}

CAPTURES = external_captures()


# ------------------------------------------------------------------------------------------------
# Independent decoder of the raw options (RFC 8684 section 3, RFC 6824 section 3)

def mptcp_options(raw_hex):
    """The MPTCP options (bytes from the kind octet) in a tcp.options value, in order."""
    out = []
    for part in raw_hex.split(",") if raw_hex else []:
        b = bytes.fromhex(part)
        i = 0
        while i < len(b):
            kind = b[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            if i + 1 >= len(b) or b[i + 1] < 2 or i + b[i + 1] > len(b):
                break                      # TCP stops here too
            if kind == 30:
                out.append(b[i:i + b[i + 1]])
            i += b[i + 1]
    return out


def add_addr_valid(o, version):
    nib, n = o[2] & 0xF, o[1]
    v0 = (nib == 4 and n in (8, 10)) or (nib == 6 and n in (20, 22))
    hmac = n in (16, 18, 28, 30)
    v1 = n in (8, 10, 20, 22, 16, 18, 28, 30) and hmac == (not nib & 1)
    if version == 0:
        return v0
    if version == 1:
        return v1
    return v0 if nib in (4, 6) else v1


def option_valid(o, version=None):
    """Is the option's length legal for its subtype (and the connection's version, when known)?"""
    n = o[1]
    if n < 3:
        return False
    st = o[2] >> 4
    if st == 0:
        if n < 4:
            return False
        return n in ((12, 20) if (o[2] & 0xF) == 0 else (4, 12, 20, 22, 24))
    if st == 1:
        return n in (12, 16, 24)
    if st == 2:
        if n < 4:
            return False
        exp = dss_len(o[3] & 0x1F)
        return n == exp or (bool(o[3] & 0x04) and n == exp + 2)
    if st == 3:
        return add_addr_valid(o, version)
    if st == 4:
        return n >= 4
    if st == 5:
        return n in (3, 4)
    if st in (6, 7):
        return n == 12
    if st == 8:
        return n == 4
    return True                            # unknown subtype: only the subtype is shown


def checksums(opts):
    """Checksums carried by MP_CAPABLE (length 24) and DSS (flags' length + 2) options."""
    out = []
    for o in opts:
        if not option_valid(o):
            continue
        st = o[2] >> 4
        if st == 0 and o[1] == 24:
            out.append(struct.unpack("!H", o[22:24])[0])
        elif st == 2 and o[1] == dss_len(o[3] & 0x1F) + 2:
            out.append(struct.unpack("!H", o[o[1] - 2:o[1]])[0])
    return out


def dss_with_checksum(opts):
    return any(o[2] >> 4 == 2 and option_valid(o) and o[1] == dss_len(o[3] & 0x1F) + 2 for o in opts)


def key_hashes(opts):
    """(token, idsn) of the sender's key of every MP_CAPABLE that carries one."""
    out = []
    for o in opts:
        if o[2] >> 4 == 0 and option_valid(o) and o[1] >= 12:
            out.append(token_idsn(struct.unpack("!Q", o[4:12])[0], o[2] & 0xF))
    return out


# ------------------------------------------------------------------------------------------------

def _vals(s):
    return s.split(",") if s else []


def _ints(s):
    return [int(v, 0) for v in _vals(s)]


def _frames(t, cap, dfilter):
    return {int(x) for x in t.run("-r", cap, "-Y", dfilter, "-T", "fields", "-e", "frame.number").split()}


def _versions(rows):
    """MPTCP versions of the MP_CAPABLE options in a capture (the ADD_ADDR layout depends on it)."""
    vs = {o[2] & 0xF for r in rows for o in mptcp_options(r[-1]) if o[2] >> 4 == 0 and len(o) > 2}
    return vs


@pytest.fixture(scope="module")
def dissected(tshark, tshark_builtin):
    cache = {}

    def get(cap):
        if cap not in cache:
            ours = tshark.fields(cap, FIELDS + EXTRA)
            theirs = tshark_builtin.fields(cap, FIELDS + EXTRA)
            assert len(ours) == len(theirs)
            cache[cap] = (ours, theirs)
        return cache[cap]
    return get


@pytest.mark.skipif(not CAPTURES, reason="external captures not present")
@pytest.mark.parametrize("cap", CAPTURES, ids=[f"{c.parent.name}/{c.name}" for c in CAPTURES])
def test_stateless_fields_equal_builtin(tshark, dissected, cap):
    ours, theirs = dissected(cap)
    versions = _versions(ours)
    version = versions.pop() if len(versions) == 1 else None
    bad_length = None
    unexplained = []
    used = defaultdict(int)
    for num, (ro, rt) in enumerate(zip(ours, theirs), 1):
        assert ro[-1] == rt[-1], f"frame {num}: different raw options"
        opts = mptcp_options(ro[-1])
        for f, vo, vt in zip(FIELDS, ro, rt):
            if vo == vt:
                continue
            fix = None
            if f == P + "checksum" and dss_with_checksum(opts):
                assert _ints(vo) == checksums(opts), f"frame {num}: checksum {vo} vs raw {checksums(opts)}"
                fix = "dss_checksum"
            elif f in ("mptcp.expected_token", "mptcp.expected_idsn") and any(
                    o[2] >> 4 == 0 and o[1] >= 20 for o in opts):
                k = 0 if f == "mptcp.expected_token" else 1
                assert _ints(vo) == [h[k] for h in key_hashes(opts)], f"frame {num}: {f} {vo}"
                fix = "token_of_own_key"
            elif not all(option_valid(o, version) for o in opts):
                if bad_length is None:
                    bad_length = _frames(tshark, cap, "mptcp.option.bad_length")
                assert num in bad_length, f"frame {num}: invalid option without mptcp.option.bad_length"
                fix = "invalid_option"
            if fix is None:
                unexplained.append(f"frame {num} {f}: plugin {vo!r} built-in {vt!r} options {ro[-1]}")
            else:
                used[fix] += 1
    assert unexplained == [], "\n".join(unexplained[:30])
    # for the report: which documented fixes this capture exercised
    print(cap.name, dict(used))


@pytest.mark.skipif(not CAPTURES, reason="external captures not present")
@pytest.mark.parametrize("cap", CAPTURES, ids=[f"{c.parent.name}/{c.name}" for c in CAPTURES])
def test_algorithm_experts_vs_builtin(tshark, tshark_builtin, dissected, cap):
    """mptcp.connection.missing/unsupported_algorithm: as the RFC flags say, and equal to the
    built-in except on v1 options with C or D-G set (fix 'v1_c_flag')."""
    ours, theirs_rows = dissected(cap)
    if not any(o[2] >> 4 == 0 for r in ours + theirs_rows for o in mptcp_options(r[-1])):
        return                             # no MP_CAPABLE: no algorithm expert can be raised
    want_missing, want_unsupported, c_flag = set(), set(), set()
    for num, r in enumerate(ours, 1):
        for o in mptcp_options(r[-1]):
            if o[2] >> 4 != 0 or not option_valid(o):
                continue
            ver, fl = o[2] & 0xF, o[3]
            if ver == 0:
                if fl & 0x3F == 0:
                    want_missing.add(num)
                elif fl & 0x3F != 1:
                    want_unsupported.add(num)
            else:
                if not fl & 0x01:
                    want_missing.add(num)
                if fl & 0x3E:
                    c_flag.add(num)
    assert _frames(tshark, cap, "mptcp.connection.missing_algorithm") == want_missing
    assert _frames(tshark, cap, "mptcp.connection.unsupported_algorithm") == want_unsupported
    theirs = _frames(tshark_builtin, cap, "mptcp.connection.unsupported_algorithm")
    assert theirs - c_flag == want_unsupported, FIXES["v1_c_flag"]


@pytest.mark.skipif(not CAPTURES, reason="external captures not present")
@pytest.mark.parametrize("cap", CAPTURES, ids=[f"{c.parent.name}/{c.name}" for c in CAPTURES])
def test_no_malformed_no_dissector_bug(tshark, dissected, cap):
    """No _ws.malformed and no dissector bug with the plugin (tshark also aborts on a dissector
    bug: WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 fails the run). Frames that the built-in reports
    malformed for reasons outside MPTCP (IP/TCP header) may stay malformed; frames it reports
    malformed in MPTCP get our option expert instead."""
    ours, theirs = dissected(cap)
    mal = len(FIELDS)
    assert not any("issector bug" in r[mal] for r in ours), "dissector bug"
    ours_bad = {n for n, r in enumerate(ours, 1) if r[mal]}
    not_ours = {n for n, r in enumerate(theirs, 1) if r[mal] and "MPTCP" not in r[mal]}
    theirs_mptcp = {n for n, r in enumerate(theirs, 1) if r[mal] and "MPTCP" in r[mal]}
    assert ours_bad <= not_ours, f"malformed with the plugin: {sorted(ours_bad - not_ours)[:20]}"
    if theirs_mptcp:
        experts = _frames(tshark, cap, "mptcp.option.bad_length || mptcp.option.truncated")
        assert theirs_mptcp <= experts, sorted(theirs_mptcp - experts)[:20]


SMALL = [c for c in CAPTURES if c.stat().st_size < 100_000]


@pytest.mark.skipif(not SMALL, reason="external captures not present")
@pytest.mark.parametrize("cap", SMALL, ids=[f"{c.parent.name}/{c.name}" for c in SMALL])
def test_two_pass_same_option_fields(tshark, dissected, cap):
    """The option fields do not depend on the pass (-2 re-dissects with the first pass's state)."""
    ours, _ = dissected(cap)
    two = tshark.fields(cap, FIELDS + EXTRA, "-2")
    assert [r[:len(FIELDS)] for r in two] == [r[:len(FIELDS)] for r in ours]


def test_dss_oobr_gets_expert_not_malformed(tshark, tshark_builtin):
    """tcpdump's CVE-2017-13040 regression capture: a 3-octet DSS. The built-in throws (malformed),
    the plugin gives mptcp.option.bad_length and dissects the rest."""
    from conftest import external
    cap = external("tcpdump-tests", "mptcp-dss-oobr.pcap")
    assert tshark_builtin.count(cap, "_ws.malformed") == 1
    assert tshark.count(cap, "_ws.malformed") == 0
    assert tshark.count(cap, "mptcp.option.bad_length && tcp.options.mptcp.subtype == 2") == 1
    assert tshark.count(cap, "tcp.options.timestamp.tsval == 597120308") == 1


@pytest.mark.parametrize("name", ["short.pcapng", "longer.pcapng"])
def test_no_checksum_verdict_without_64bit_dsn(tshark, name):
    """RFC 8684 section 3.3.1: the DSS checksum covers a pseudo-header with the full 64-bit DSN.
    These captures start mid-connection with only 4-octet DSNs and DATA_ACKs and no MP_CAPABLE,
    so the upper 32 bits are unknown and no checksum can be called bad (or good). The checksums of
    short.pcapng frames 5 and 7 (one subflow direction) even agree with one common upper half."""
    from conftest import external
    cap = external("dpi-mptcp", name)
    rows = tshark.fields(cap, [RAW])
    assert not any(o[2] >> 4 == 0 for r in rows for o in mptcp_options(r[0])), "capture has an MP_CAPABLE"
    assert not any(o[2] >> 4 == 2 and o[3] & 0x0A for r in rows for o in mptcp_options(r[0])), "64-bit DSN/ACK"
    assert tshark.count(cap, "mptcp.dss.checksum_bad") == 0
