"""Connection tracking and data sequence analysis on frames built by the test itself.

Each scenario is a small MPTCP exchange with known keys, so every expected value (tokens,
IDSNs, relative DSNs, HMACs) is computed here from RFC 8684 independently of the plugin.
"""
import hashlib
import hmac
import struct

import pytest

import frames as F

KEY_C = 0x1122334455667788      # client key
KEY_S = 0x99AABBCCDDEEFF00      # server key
SRV2 = "192.0.2.20"             # a second server address (for joins)


def idsn(key, version=1):
    return F.token_idsn(key, version)[1]


def token(key, version=1):
    return F.token_idsn(key, version)[0]


def hmac_full(version, key1, key2, msg):
    algo = hashlib.sha1 if version == 0 else hashlib.sha256
    return hmac.new(struct.pack("!QQ", key1, key2), msg, algo).digest()


def v1_handshake(c, with_synack=True):
    fr = [c.syn(F.mp_capable(1, 0x81))]
    if with_synack:
        fr.append(c.synack(F.mp_capable(1, 0x81, sendkey=KEY_S)))
    else:
        c.nxt[1] += 1          # the SYN/ACK happened, it is just not in the capture
    fr.append(c.ack(F.mp_capable(1, 0x81, sendkey=KEY_C, recvkey=KEY_S)))
    return fr


def rows(tshark, path, fields, *extra):
    out = tshark.fields(path, ["frame.number"] + fields, *extra)
    return {int(r[0]): r[1:] for r in out}


def both_passes(tshark, path, fields):
    one = rows(tshark, path, fields)
    two = rows(tshark, path, fields, "-2")
    assert one == two, "single pass and -2 differ"
    return one


def test_dsn_32bit_wraps_to_64bit(tshark, tmp_path):
    """RFC 8684 section 3.3: 32-bit DSNs are expanded next to the last 64-bit one, across a wrap."""
    c = F.Conversation()
    fr = v1_handshake(c)
    base = idsn(KEY_C)
    # a first 64-bit DSN whose low 32 bits are just below the wrap
    start = (base & ~0xffffffff) + 0xffffff00
    if start <= base:
        start += 1 << 32
    rel0 = start - base
    payload = b"x" * 200
    fr.append(c.send(True, payload, F.dss(ack=1, dsn=start, dsn8=True, ssn=1, dll=200)))
    expected = {len(fr): rel0}
    ssn = 201
    dsn = start + 200
    for i in range(3):   # 32-bit DSNs from here: 0xffffffc8, then wrapped values
        fr.append(c.send(True, payload, F.dss(ack=1, dsn=dsn & 0xffffffff, dsn8=False, ssn=ssn, dll=200)))
        expected[len(fr)] = dsn - base
        ssn += 200
        dsn += 200
    path = F.write_pcap(tmp_path / "wrap.pcap", fr)
    got = both_passes(tshark, path, ["mptcp.dsn", "mptcp.rawdsn64"])
    for frame, rel in expected.items():
        assert int(got[frame][0]) == rel, frame
        assert int(got[frame][1]) == (base + rel) & 0xffffffffffffffff


def test_mp_capable_data_mapping_and_related_mapping(tshark, tmp_path):
    """RFC 8684 section 3.1: MP_CAPABLE with data maps subflow seq 1 to IDSN+1; its copies on
    later segments describe the same mapping and must not shift it."""
    c = F.Conversation()
    fr = [c.syn(F.mp_capable(1, 0x81)), c.synack(F.mp_capable(1, 0x81, sendkey=KEY_S))]
    total = 3000
    first = len(fr) + 1
    for i in range(3):
        fr.append(c.send(True, b"d" * 1000, F.mp_capable(1, 0x81, sendkey=KEY_C, recvkey=KEY_S, dll=total)))
    # data-less DATA_FIN (subflow sequence 0, length 1): RFC 8684 section 3.3.3
    fr.append(c.ack(F.dss(ack=1, dsn=idsn(KEY_C) + 1 + total, dsn8=True, ssn=0, dll=1, fin=True)))
    # a pure ACK from the server: never a "no mapping" warning
    fr.append(c.ack(F.dss(ack=idsn(KEY_C) + 1 + total + 1, ack8=True), side=1))
    path = F.write_pcap(tmp_path / "mpcdata.pcap", fr)
    got = both_passes(tshark, path, ["mptcp.dsn", "mptcp.related_mapping", "mptcp.data_fin", "mptcp.ack",
                                     "mptcp.dss.missing_mapping"])
    assert [got[first + i][0] for i in range(3)] == ["1", "1001", "2001"]
    # the mapping was carried first by frame `first`; the later copies name it, it names nobody
    assert got[first][1] == ""
    assert got[first + 1][1] == str(first) and got[first + 2][1] == str(first)
    fin = first + 3
    assert got[fin][0] == "" and got[fin][2] == "1"
    assert got[fin + 1][3] == str(total + 2)          # relative DATA_ACK after the DATA_FIN
    assert all(r[4] == "" for r in got.values())


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("server_opens_join", [False, True])
@pytest.mark.parametrize("with_synack", [True, False])
def test_join_binds_by_token_ownership(tshark, tmp_path, version, server_opens_join, with_synack):
    """RFC 8684 section 3.2: the JOIN SYN carries its receiver's token; the join subflow's
    directions follow from who owns it, whoever opened the join and whatever was captured."""
    c = F.Conversation()
    if version == 1:
        fr = v1_handshake(c, with_synack)
    else:
        fr = [c.syn(F.mp_capable(0, 0x81, sendkey=KEY_C))]
        if with_synack:
            fr.append(c.synack(F.mp_capable(0, 0x81, sendkey=KEY_S)))
        else:
            c.nxt[1] += 1
        fr.append(c.ack(F.mp_capable(0, 0x81, sendkey=KEY_C, recvkey=KEY_S)))
    ic, i_s = idsn(KEY_C, version), idsn(KEY_S, version)
    fr.append(c.send(True, b"a" * 100, F.dss(ack=i_s + 1, ack8=True, dsn=ic + 1, dsn8=True, ssn=1, dll=100)))
    fr.append(c.send(False, b"b" * 50, F.dss(ack=ic + 101, ack8=True, dsn=i_s + 1, dsn8=True, ssn=1, dll=50)))
    # the join: opened by the client towards SRV2 (token of the server), or by the server
    # towards the client (token of the client)
    if server_opens_join:
        j = F.Conversation(client=(SRV2, 5002), server=(F.CLIENT4, 41000), isn_c=7000, isn_s=9000)
        opener_key, answer_key = KEY_S, KEY_C
    else:
        j = F.Conversation(client=(F.CLIENT4, 41000), server=(SRV2, 5001), isn_c=7000, isn_s=9000)
        opener_key, answer_key = KEY_C, KEY_S
    na, nb = 0x0A0B0C0D, 0x01020304
    mac_b = hmac_full(version, answer_key, opener_key, struct.pack("!II", nb, na))
    mac_a = hmac_full(version, opener_key, answer_key, struct.pack("!II", na, nb))
    fr.append(j.syn(F.mp_join_syn(addr_id=2, token=token(answer_key, version), nonce=na)))
    fr.append(j.synack(F.mp_join_synack(addr_id=0, trunc_hmac=struct.unpack("!Q", mac_b[:8])[0], nonce=nb)))
    fr.append(j.ack(F.mp_join_ack(hmac=mac_a[:20])))
    join_synack, join_ack = len(fr) - 1, len(fr)
    # data on the join, in both directions: the opener's data is in the opener's space
    op_idsn, ans_idsn = (i_s, ic) if server_opens_join else (ic, i_s)
    op_rel = 51 if server_opens_join else 101
    ans_rel = 101 if server_opens_join else 51
    fr.append(j.send(True, b"c" * 40, F.dss(dsn=op_idsn + op_rel, dsn8=True, ssn=1, dll=40)))
    fr.append(j.send(False, b"e" * 30, F.dss(dsn=ans_idsn + ans_rel, dsn8=True, ssn=1, dll=30)))
    path = F.write_pcap(tmp_path / "join.pcap", fr)
    got = both_passes(tshark, path, ["mptcp.stream", "mptcp.subflow", "mptcp.dsn", "mptcp.join.hmac_valid",
                                     "mptcp.subflow.join", "mptcp.subflow.opened_by_server",
                                     "mptcp.subflow.initiator_addrid", "mptcp.subflow.responder_addrid"])
    n = len(fr)
    assert all(got[i][0] == "0" for i in range(1, n + 1)), "every packet in connection 0"
    assert got[n - 1][1] == "1" and got[n - 1][4] == "1"
    assert got[n - 1][2] == str(op_rel)
    assert got[n][2] == str(ans_rel)
    assert got[join_synack][3] == "1" and got[join_ack][3] == "1"
    exp = both_passes(tshark, path, ["mptcp.join.expected_hmac"])
    assert exp[join_synack] == [str(struct.unpack("!Q", mac_b[:8])[0])]
    assert got[n][5] == ("1" if server_opens_join else "0")
    assert got[n][6:8] == ["2", "0"]           # address ids from the JOIN SYN and SYN/ACK
    assert got[1][6:8] == ["0", "0"]           # the initial subflow: id 0 on both sides


def test_join_hmac_mismatch_gives_expert(tshark, tmp_path):
    c = F.Conversation()
    fr = v1_handshake(c)
    j = F.Conversation(client=(F.CLIENT4, 41000), server=(SRV2, 5001), isn_c=7000, isn_s=9000)
    fr.append(j.syn(F.mp_join_syn(token=token(KEY_S), nonce=1)))
    fr.append(j.synack(F.mp_join_synack(trunc_hmac=0x0123456789ABCDEF, nonce=2)))
    fr.append(j.ack(F.mp_join_ack(hmac=bytes(20))))
    path = F.write_pcap(tmp_path / "badhmac.pcap", fr)
    got = rows(tshark, path, ["mptcp.join.hmac_valid", "mptcp.join.hmac_bad"])
    assert got[len(fr) - 1][0] == "0" and got[len(fr)][0] == "0"
    assert tshark.count(path, "mptcp.join.hmac_bad") == 2
    # the SYN/ACK shows the HMAC the keys and nonces give, not the one it carries, on both passes
    mac_b = hmac_full(1, KEY_S, KEY_C, struct.pack("!II", 2, 1))
    exp = both_passes(tshark, path, ["mptcp.join.expected_hmac"])
    assert exp[len(fr) - 1] == [str(struct.unpack("!Q", mac_b[:8])[0])]


def test_unknown_token_and_fallback(tshark, tmp_path):
    c = F.Conversation()
    fr = [c.syn(F.mp_capable(1, 0x81)), c.synack(b""), c.ack(b""), c.send(True, b"plain tcp")]
    j = F.Conversation(client=(F.CLIENT4, 41000), server=(SRV2, 5001))
    fr.append(j.syn(F.mp_join_syn(token=0xDEADBEEF)))
    path = F.write_pcap(tmp_path / "fallback.pcap", fr)
    assert tshark.count(path, "mptcp.fallback") == 1
    assert tshark.count(path, "mptcp.join.unknown_token") == 1
    # the fallen-back connection keeps its stream on every packet and gets no mapping warning
    got = rows(tshark, path, ["mptcp.stream", "mptcp.dss.missing_mapping"])
    assert [got[i][0] for i in range(1, 5)] == ["0"] * 4
    assert all(r[1] == "" for r in got.values())


def test_midstream_grouping_is_inferred_and_raw(tshark, tmp_path):
    """No handshake: subflows of one connection are grouped by their data sequence space,
    marked as inferred, and their DSNs are raw (never labelled relative)."""
    base_c, base_s = 0x0123456700000000, 0x7654321000000000
    fr = []
    convs = [F.Conversation(client=(F.CLIENT4, 41000 + i), server=(F.SERVER4, 5001), isn_c=100 * i, isn_s=999)
             for i in range(3)]
    for i, cv in enumerate(convs):
        fr.append(cv.send(True, b"q" * 100, F.dss(ack=base_s + 1, ack8=True, dsn=base_c + 1 + 100 * i, dsn8=True,
                                                  ssn=1 + 100 * i, dll=100)))
    other = F.Conversation(client=(F.CLIENT4, 42000), server=(F.SERVER4, 5001))
    fr.append(other.send(True, b"z" * 10, F.dss(ack=5, ack8=True, dsn=0x5555555500000000, dsn8=True, ssn=1, dll=10)))
    for cv in convs:
        fr.append(cv.ack(F.dss(ack=base_c + 1000, ack8=True), side=1))
    path = F.write_pcap(tmp_path / "mid.pcap", fr)
    got = both_passes(tshark, path, ["mptcp.stream", "mptcp.analysis.inferred", "mptcp.dsn"])
    assert [got[i][0] for i in (1, 2, 3, 5, 6, 7)] == ["0"] * 6
    assert got[4][0] == "1"
    assert got[1][1] == "1"
    assert got[2][2] == str(base_c + 101)
    out = tshark.run("-r", path, "-V")
    assert "(Relative)" not in out


def test_token_collision_resolved_by_address(tshark, tmp_path):
    """Two connections whose servers have the same key (so the same token): a JOIN goes to
    the one whose server address it is sent to, not to whichever key came last."""
    a = F.Conversation(client=(F.CLIENT4, 40001), server=(F.SERVER4, 5001))
    b = F.Conversation(client=(F.CLIENT4, 40002), server=(SRV2, 5001))
    fr = [a.syn(F.mp_capable(1, 0x81)), a.synack(F.mp_capable(1, 0x81, sendkey=KEY_S)),
          a.ack(F.mp_capable(1, 0x81, sendkey=KEY_C, recvkey=KEY_S)),
          b.syn(F.mp_capable(1, 0x81)), b.synack(F.mp_capable(1, 0x81, sendkey=KEY_S)),
          b.ack(F.mp_capable(1, 0x81, sendkey=KEY_C + 1, recvkey=KEY_S))]
    j = F.Conversation(client=("198.51.100.7", 41000), server=(F.SERVER4, 5001))
    fr.append(j.syn(F.mp_join_syn(token=token(KEY_S))))
    path = F.write_pcap(tmp_path / "collision.pcap", fr)
    got = rows(tshark, path, ["mptcp.stream"])
    assert got[1][0] == "0" and got[4][0] == "1"
    assert got[7][0] == "0"


def test_infinite_mapping_and_missing_dss_fall_back(tshark, tmp_path):
    """RFC 8684 section 3.7: a DSS with data-level length 0 (infinite mapping), and data
    without any DSS where a mapping is needed, are fallbacks to plain TCP."""
    fr = []
    for port, last in ((40001, F.dss(ack=1, dsn=idsn(KEY_C) + 1, dsn8=True, ssn=1, dll=0)), (40002, b"")):
        c = F.Conversation(client=(F.CLIENT4, port))
        fr += v1_handshake(c)
        fr.append(c.send(True, b"x" * 50, last))
        fr.append(c.send(True, b"y" * 50))
    path = F.write_pcap(tmp_path / "fallback2.pcap", fr)
    got = rows(tshark, path, ["mptcp.fallback", "mptcp.dss.infinite_mapping", "mptcp.dss.missing_mapping"])
    assert got[4][0] == "1" and got[4][1] != ""
    assert got[9][0] == "1"                 # first data without DSS on the second connection
    assert all(r[2] == "" for r in got.values())


def test_reset_fastclose_fail_experts(tshark, tmp_path):
    c = F.Conversation()
    fr = v1_handshake(c)
    fr.append(c.ack(F.mp_fail(idsn(KEY_C) + 77)))
    fr.append(c.rst(True, F.mp_fastclose(KEY_C)))                    # wrong: must carry the server's key
    fr.append(c.rst(False, F.mp_fastclose(KEY_C) + F.mp_tcprst(reason=4)))   # right key, TCPRST reason 4
    path = F.write_pcap(tmp_path / "close.pcap", fr)
    assert tshark.count(path, "mptcp.mp_fail") == 1
    assert tshark.count(path, "mptcp.fastclose.key_mismatch") == 1
    got = rows(tshark, path, ["mptcp.tcprst", "_ws.expert.message"])
    assert "Too much outstanding data" in got[6][1]


def test_addresses_tracked_by_id(tshark, tmp_path):
    c = F.Conversation()
    fr = v1_handshake(c)
    fr.append(c.ack(F.add_addr_v1(5, "203.0.113.9", hmac=0), side=1))
    fr.append(c.ack(F.remove_addr(5), side=1))
    fr.append(c.ack(F.add_addr_v1(5, "203.0.113.10", hmac=0), side=1))
    fr.append(c.ack(F.add_addr_v1(5, "203.0.113.11", hmac=0), side=1))
    path = F.write_pcap(tmp_path / "addrs.pcap", fr)
    got = rows(tshark, path, ["mptcp.rm_addr.address", "mptcp.add_addr.id_reused", "mptcp.add_addr.hmac_valid"])
    assert got[5][0] == "203.0.113.9"
    assert got[6][1] == ""                    # id reused after its removal: fine
    assert got[7][1] != ""                    # reused while still announced
    assert got[4][2] == "0"                   # the zero HMACs do not verify


def test_reinjection_marked_in_info_column(tshark, tmp_path):
    c = F.Conversation()
    fr = v1_handshake(c)
    j = F.Conversation(client=(F.CLIENT4, 41000), server=(SRV2, 5001), isn_c=7000, isn_s=9000)
    fr.append(j.syn(F.mp_join_syn(token=token(KEY_S))))
    fr.append(j.synack(F.mp_join_synack()))
    fr.append(j.ack(F.mp_join_ack()))
    fr.append(c.send(True, b"r" * 100, F.dss(dsn=idsn(KEY_C) + 1, dsn8=True, ssn=1, dll=100)))
    fr.append(j.send(True, b"r" * 100, F.dss(dsn=idsn(KEY_C) + 1, dsn8=True, ssn=1, dll=100)))
    path = F.write_pcap(tmp_path / "reinj.pcap", fr)
    got = rows(tshark, path, ["mptcp.reinjection_of", "_ws.col.Info"])
    assert got[8][0] == "7" and "[MPTCP Reinjection]" in got[8][1]
    assert "[MPTCP Reinjection]" not in got[7][1]
    two = rows(tshark, path, ["mptcp.reinjected_in"], "-2")
    assert two[7][0] == "8"
    assert tshark.count(path, "mptcp.reinjection") == 1
