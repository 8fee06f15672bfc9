/* mptcp-options.c
 * Rendering of MPTCP options (TCP option kind 30) with the built-in's field names
 * (tcp.options.mptcp.*), with every item inside an option's subtree. Parsing is in
 * mptcp-optparse.c; connection-dependent values (relative DSN/ACK, HMAC checks) come from
 * the first-pass result (mptcp-conn.c and mptcp-dsn.c decide, this file draws).
 *
 * Fixes over the built-in (RFC 8684 section 3): the DSS checksum is shown for every
 * length that carries one; the v1 C flag is not an algorithm; the DSN width follows the
 * m flag and the DATA_ACK width the a flag; ADD_ADDR v0/v1 follows the connection's
 * version and the length; wrong lengths and truncation give expert info instead of
 * throwing, so the following options and the payload still dissect.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"
#include "mptcp-epan.h"

#include <epan/dissectors/packet-tcp.h>

/* tcp.options.mptcp.* (parent: tcp, as the built-in) */
static int hf_opt_subtype = -1;
static int hf_opt_version = -1;
static int hf_opt_reserved = -1;
static int hf_opt_flags = -1;
static int hf_opt_backup_flag = -1;
static int hf_opt_checksumreq_flag = -1;
static int hf_opt_extensibility_flag = -1;
static int hf_opt_nomoresubflows_flag = -1;
static int hf_opt_sha1_flag = -1;
static int hf_opt_sha256_flag = -1;
static int hf_opt_datafin_flag = -1;
static int hf_opt_dseqn8_flag = -1;
static int hf_opt_dseqnpresent_flag = -1;
static int hf_opt_dataack8_flag = -1;
static int hf_opt_dataackpresent_flag = -1;
static int hf_opt_reserved_v0_flag = -1;
static int hf_opt_reserved_v1_flag = -1;
static int hf_opt_U_flag = -1;
static int hf_opt_V_flag = -1;
static int hf_opt_W_flag = -1;
static int hf_opt_T_flag = -1;
static int hf_opt_rst_reason = -1;
static int hf_opt_addrid = -1;
static int hf_opt_sendkey = -1;
static int hf_opt_recvkey = -1;
static int hf_opt_recvtok = -1;
static int hf_opt_sendrand = -1;
static int hf_opt_sendtrunchmac = -1;
static int hf_opt_sendhmac = -1;
static int hf_opt_addaddrtrunchmac = -1;
static int hf_opt_rawdataack = -1;
static int hf_opt_rawdataseqno = -1;
static int hf_opt_subflowseqno = -1;
static int hf_opt_datalvllen = -1;
static int hf_opt_checksum = -1;
static int hf_opt_ipver = -1;
static int hf_opt_echo = -1;
static int hf_opt_ipv4 = -1;
static int hf_opt_ipv6 = -1;
static int hf_opt_port = -1;

/* mptcp.* items that the built-in shows inside the option */
static int hf_expected_token = -1;
static int hf_expected_idsn = -1;
static int hf_rm_addr_count = -1;
static int hf_checksum_status = -1;
/* mptcp.* items that depend on the connection (first-pass result) */
static int hf_ack = -1;
static int hf_dss_dsn = -1;
static int hf_join_hmac_valid = -1;
static int hf_join_expected_hmac = -1;
static int hf_add_hmac_valid = -1;
static int hf_add_expected_hmac = -1;

static gint ett_mptcp_opt = -1;
static gint ett_mptcp_opt_flags = -1;

static expert_field ei_bad_length = EI_INIT;
static expert_field ei_truncated = EI_INIT;
static expert_field ei_unknown_subtype = EI_INIT;
static expert_field ei_reserved = EI_INIT;
static expert_field ei_unknown_version = EI_INIT;
static expert_field ei_missing_algorithm = EI_INIT;
static expert_field ei_unsupported_algorithm = EI_INIT;
static expert_field ei_infinite_mapping = EI_INIT;
static expert_field ei_tcprst_reason = EI_INIT;
static expert_field ei_csum_bad = EI_INIT;
static expert_field ei_mp_fail = EI_INIT;
static expert_field ei_unknown_token = EI_INIT;
static expert_field ei_join_hmac_bad = EI_INIT;
static expert_field ei_add_hmac_bad = EI_INIT;

static int hf_tcp_option_kind = -1;
static int hf_tcp_option_len = -1;

static const char dss_name[] = "Data Sequence Signal";
static const value_string mptcp_subtype_vals[] = {
    { MPTCP_SUB_CAPABLE,   "Multipath Capable" },
    { MPTCP_SUB_JOIN,      "Join Connection" },
    { MPTCP_SUB_DSS,       dss_name },
    { MPTCP_SUB_ADD_ADDR,  "Add Address" },
    { MPTCP_SUB_RM_ADDR,   "Remove Address" },
    { MPTCP_SUB_PRIO,      "Change Subflow Priority" },
    { MPTCP_SUB_FAIL,      "TCP Fallback" },
    { MPTCP_SUB_FASTCLOSE, "Fast Close" },
    { MPTCP_SUB_TCPRST,    "TCP Reset" },
    { MPTCP_SUB_EXPERIMENTAL, "Experimental" },
    { 0, NULL }
};

/* RFC 8684 section 3.6 */
static const value_string mptcp_tcprst_reason_vals[] = {
    { 0x0, "Unspecified error" },
    { 0x1, "MPTCP-specific error" },
    { 0x2, "Lack of resources" },
    { 0x3, "Administratively prohibited" },
    { 0x4, "Too much outstanding data" },
    { 0x5, "Unacceptable performance" },
    { 0x6, "Middlebox interference" },
    { 0, NULL }
};

static int * const capable_v0_flags[] = {
    &hf_opt_checksumreq_flag, &hf_opt_extensibility_flag, &hf_opt_sha1_flag, &hf_opt_reserved_v0_flag, NULL
};
static int * const capable_v1_flags[] = {
    &hf_opt_checksumreq_flag, &hf_opt_extensibility_flag, &hf_opt_nomoresubflows_flag,
    &hf_opt_sha256_flag, &hf_opt_reserved_v1_flag, NULL
};
static int * const join_flags[] = { &hf_opt_backup_flag, NULL };
static int * const dss_flags[] = {
    &hf_opt_datafin_flag, &hf_opt_dseqn8_flag, &hf_opt_dseqnpresent_flag,
    &hf_opt_dataack8_flag, &hf_opt_dataackpresent_flag, NULL
};
static int * const tcprst_flags[] = { &hf_opt_U_flag, &hf_opt_V_flag, &hf_opt_W_flag, &hf_opt_T_flag, NULL };

/* {{{ connection-dependent items inside an option: what the first pass decided (conn.c, dsn.c) */

static void
render_dss_ack(tvbuff_t *tvb, proto_tree *t, const mptcp_pkt_t *pkt)
{
    if (pkt && (pkt->flags & MPTCP_PF_DSS_ACK))
        mptcp_pkt_add_dsn_item(t, hf_ack, tvb, pkt, mptcp_pkt_ack64(pkt), true);
}

static void
render_dss_dsn(tvbuff_t *tvb, proto_tree *t, const mptcp_opt_t *o, const mptcp_pkt_t *pkt)
{
    if (pkt && (pkt->flags & MPTCP_PF_DSS_DSN))
        mptcp_pkt_add_dsn_item(t, hf_dss_dsn, tvb, pkt, mptcp_pkt_dss_dsn64(pkt, o->u.dss.dsn, o->u.dss.dsn8), false);
}

/** RFC 8684 section 3.4.1: the ADD_ADDR HMAC checked with the connection's keys. */
static void
render_add_addr_hmac(packet_info *pinfo, proto_tree *t, proto_item *hmac_item, const mptcp_pkt_t *pkt)
{
    proto_item *ti;

    if (!pkt || !((pkt->flags & MPTCP_PF_ADD_HMAC_OK) || mptcp_pkt_xflag(pkt, MPTCP_PX_ADD_HMAC_BAD)))
        return;
    ti = proto_tree_add_boolean(t, hf_add_hmac_valid, NULL, 0, 0, (pkt->flags & MPTCP_PF_ADD_HMAC_OK) != 0);
    proto_item_set_generated(ti);
    ti = proto_tree_add_uint64(t, hf_add_expected_hmac, NULL, 0, 0, mptcp_pkt_ext_const(pkt)->add_expected_hmac);
    proto_item_set_generated(ti);
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_ADD_HMAC_BAD))
        expert_add_info(pinfo, hmac_item, &ei_add_hmac_bad);
}

/** RFC 8684 section 3.2: the token's connection and the HMACs checked with its keys. */
static void
render_join_check(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o, const mptcp_pkt_t *pkt)
{
    proto_item *ti;

    if (!pkt)
        return;
    if (o->u.join.kind == MPTCP_JOIN_SYN && (pkt->flags & MPTCP_PF_UNKNOWN_TOKEN))
        expert_add_info(pinfo, t, &ei_unknown_token);
    if (o->u.join.kind != MPTCP_JOIN_SYN && (pkt->flags & (MPTCP_PF_JOIN_HMAC_OK | MPTCP_PF_JOIN_HMAC_BAD))) {
        ti = proto_tree_add_boolean(t, hf_join_hmac_valid, tvb, 0, 0, (pkt->flags & MPTCP_PF_JOIN_HMAC_OK) != 0);
        proto_item_set_generated(ti);
        if (o->u.join.kind == MPTCP_JOIN_SYNACK) {
            ti = proto_tree_add_uint64(t, hf_join_expected_hmac, tvb, 0, 0,
                                       mptcp_conn_join_expected(pkt, o->u.join.trunc_hmac));
            proto_item_set_generated(ti);
        }
        if (pkt->flags & MPTCP_PF_JOIN_HMAC_BAD)
            expert_add_info(pinfo, ti, &ei_join_hmac_bad);
    }
}
/* }}} */

/* {{{ per-subtype rendering: each gets the parsed option (status OK) */

/* RFC 8684 section 3: reserved bits "MUST be set to zero" by the sender and are ignored by
 * the receiver, so a set bit only gets an expert item. mask covers octets 2 and 3 of the
 * option (octet 3 is only read when the mask uses it: MP_PRIO can be 3 octets long). */
static void
check_reserved(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, uint16_t mask, const char *what)
{
    uint16_t v = (uint16_t)(mptcp_tvb_u8(tvb, 2) << 8);

    if ((mask & 0x00ff) && tvb_captured_length(tvb) > 3)
        v |= mptcp_tvb_u8(tvb, 3);
    if (v & mask)
        expert_add_info_format(pinfo, t, &ei_reserved, "%s reserved bits are not zero (0x%03x)", what,
                               (unsigned)(v & mask));
}

static void
render_capable(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o, mptcp_pkt_t *pkt)
{
    proto_item *fi, *ti;
    uint8_t ver = o->u.cap.version;

    ti = proto_tree_add_item(t, hf_opt_version, tvb, 2, 1, ENC_BIG_ENDIAN);
    if (ver > 1)
        expert_add_info_format(pinfo, ti, &ei_unknown_version, "Unknown MPTCP version %u", ver);
    fi = proto_tree_add_bitmask(t, tvb, 3, hf_opt_flags, ett_mptcp_opt_flags,
                                ver == 0 ? capable_v0_flags : capable_v1_flags, ENC_BIG_ENDIAN);
    if (ver == 0) {
        /* RFC 6824 section 3.1: C..H select the crypto algorithm; only H (HMAC-SHA1) exists. */
        if ((o->flags & 0x3f) == 0)
            expert_add_info(pinfo, fi, &ei_missing_algorithm);
        else if ((o->flags & 0x3f) != MPTCP_CAP_H)
            expert_add_info(pinfo, fi, &ei_unsupported_algorithm);
    } else {
        /* RFC 8684 section 3.1: C is "no more subflows to this address", D..G are
         * unassigned, H selects HMAC-SHA256. */
        if (!(o->flags & MPTCP_CAP_H))
            expert_add_info(pinfo, fi, &ei_missing_algorithm);
        if (o->flags & 0x1e)
            expert_add_info_format(pinfo, fi, &ei_reserved, "Unassigned MP_CAPABLE flags D-G set (0x%02x)",
                                   o->flags & 0x1e);
    }
    if (o->u.cap.has_sendkey) {
        uint32_t token;
        uint64_t idsn;

        proto_tree_add_item(t, hf_opt_sendkey, tvb, 4, 8, ENC_BIG_ENDIAN);
        mptcp_key_to_token_idsn(ver, o->u.cap.sendkey, &token, &idsn);
        ti = proto_tree_add_uint(t, hf_expected_token, tvb, 4, 8, token);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint64(t, hf_expected_idsn, tvb, 4, 8, idsn);
        proto_item_set_generated(ti);
    }
    if (o->u.cap.has_recvkey)
        proto_tree_add_item(t, hf_opt_recvkey, tvb, 12, 8, ENC_BIG_ENDIAN);
    if (o->u.cap.has_dll) {
        ti = proto_tree_add_item(t, hf_opt_datalvllen, tvb, 20, 2, ENC_BIG_ENDIAN);
        if (o->u.cap.dll == 0)
            expert_add_info(pinfo, ti, &ei_infinite_mapping);
    }
    if (o->u.cap.has_csum)
        proto_tree_add_checksum(t, tvb, 22, hf_opt_checksum, hf_checksum_status, &ei_csum_bad, pinfo,
                                pkt ? mptcp_pkt_ext_const(pkt)->csum_computed : 0, ENC_BIG_ENDIAN,
                                (pkt && (pkt->flags & (MPTCP_PF_CSUM_OK | MPTCP_PF_CSUM_BAD)))
                                    ? PROTO_CHECKSUM_VERIFY : PROTO_CHECKSUM_NO_FLAGS);
}

static void
render_join(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o)
{
    /* RFC 8684 section 3.2, figures 5-7: 3 reserved bits before B (SYN, SYN/ACK), 12 in the ACK */
    check_reserved(tvb, pinfo, t, o->u.join.kind == MPTCP_JOIN_ACK ? 0x0fff : 0x0e00, "MP_JOIN");
    switch (o->u.join.kind) {
    case MPTCP_JOIN_SYN:
        proto_tree_add_bitmask(t, tvb, 2, hf_opt_flags, ett_mptcp_opt_flags, join_flags, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_addrid, tvb, 3, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_recvtok, tvb, 4, 4, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_sendrand, tvb, 8, 4, ENC_BIG_ENDIAN);
        break;
    case MPTCP_JOIN_SYNACK:
        proto_tree_add_bitmask(t, tvb, 2, hf_opt_flags, ett_mptcp_opt_flags, join_flags, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_addrid, tvb, 3, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_sendtrunchmac, tvb, 4, 8, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_sendrand, tvb, 12, 4, ENC_BIG_ENDIAN);
        break;
    case MPTCP_JOIN_ACK:
        proto_tree_add_item(t, hf_opt_reserved, tvb, 2, 2, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_sendhmac, tvb, 4, 20, ENC_NA);
        break;
    }
}

/** The DSS option's reserved bits (p: its bytes, at least 4). */
static void
dss_reserved(const uint8_t *p, packet_info *pinfo, proto_tree *t)
{
    if (G_UNLIKELY((p[2] & 0x0f) || (p[3] & 0xe0)))
        expert_add_info_format(pinfo, t, &ei_reserved, "DSS reserved bits are not zero");
}

static void
dss_checksum(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o, const mptcp_pkt_t *pkt)
{
    proto_tree_add_checksum(t, tvb, o->u.dss.csum_off, hf_opt_checksum, hf_checksum_status, &ei_csum_bad,
                            pinfo, pkt ? mptcp_pkt_ext_const(pkt)->csum_computed : 0, ENC_BIG_ENDIAN,
                            (pkt && (pkt->flags & (MPTCP_PF_CSUM_OK | MPTCP_PF_CSUM_BAD)))
                                ? PROTO_CHECKSUM_VERIFY : PROTO_CHECKSUM_NO_FLAGS);
}

/* A DSS option on a tree nobody sees or filters on (the usual case of tshark -Y or -T fields
 * without MPTCP fields): what render_dss() would leave behind without items, i.e. its expert
 * infos and the checksum's. The option parsed OK, so no item could have thrown. The result is
 * only looked up for a checksum. */
static void
dss_untreed(tvbuff_t *tvb, const uint8_t *p, packet_info *pinfo, const mptcp_opt_t *o)
{
    dss_reserved(p, pinfo, NULL);
    if (o->u.dss.has_map) {
        if (G_UNLIKELY(o->u.dss.dll == 0))
            expert_add_info(pinfo, NULL, &ei_infinite_mapping);
        if (G_UNLIKELY(o->u.dss.has_csum))
            dss_checksum(tvb, pinfo, NULL, o, mptcp_pkt_current(pinfo));
    }
}

static void
render_dss(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o, mptcp_pkt_t *pkt)
{
    proto_item *ti;

    dss_reserved(tvb_get_ptr(tvb, 0, 4), pinfo, t);
    proto_tree_add_bitmask(t, tvb, 3, hf_opt_flags, ett_mptcp_opt_flags, dss_flags, ENC_BIG_ENDIAN);
    if (o->u.dss.has_ack) {
        if (o->u.dss.ack8)
            proto_tree_add_uint64_format_value(t, hf_opt_rawdataack, tvb, o->u.dss.ack_off, 8, o->u.dss.ack,
                                               "%" PRIu64 " (64bits)", o->u.dss.ack);
        else
            proto_tree_add_item(t, hf_opt_rawdataack, tvb, o->u.dss.ack_off, 4, ENC_BIG_ENDIAN);
        render_dss_ack(tvb, t, pkt);
    }
    if (o->u.dss.has_map) {
        unsigned w = o->u.dss.dsn8 ? 8 : 4;

        proto_tree_add_uint64_format_value(t, hf_opt_rawdataseqno, tvb, o->u.dss.dsn_off, w, o->u.dss.dsn,
                                           "%" PRIu64 "  (%ubits version)", o->u.dss.dsn, w * 8);
        proto_tree_add_item(t, hf_opt_subflowseqno, tvb, o->u.dss.ssn_off, 4, ENC_BIG_ENDIAN);
        ti = proto_tree_add_item(t, hf_opt_datalvllen, tvb, o->u.dss.dll_off, 2, ENC_BIG_ENDIAN);
        /* RFC 8684 section 3.3.1: a data-level length of 0 is the infinite mapping */
        if (o->u.dss.dll == 0)
            expert_add_info(pinfo, ti, &ei_infinite_mapping);
        render_dss_dsn(tvb, t, o, pkt);
        if (o->u.dss.has_csum)
            dss_checksum(tvb, pinfo, t, o, pkt);
    }
}

static void
render_add_addr(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, const mptcp_opt_t *o, mptcp_pkt_t *pkt)
{
    if (o->u.add.v1) {
        proto_tree_add_item(t, hf_opt_echo, tvb, 2, 1, ENC_BIG_ENDIAN);
        /* RFC 8684 section 3.4.1, figure 12: (rvd) bits before E */
        check_reserved(tvb, pinfo, t, 0x0e00, "ADD_ADDR");
    } else
        proto_tree_add_item(t, hf_opt_ipver, tvb, 2, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item(t, hf_opt_addrid, tvb, 3, 1, ENC_BIG_ENDIAN);
    if (o->u.add.ipv6)
        proto_tree_add_item(t, hf_opt_ipv6, tvb, 4, 16, ENC_NA);
    else
        proto_tree_add_item(t, hf_opt_ipv4, tvb, 4, 4, ENC_BIG_ENDIAN);
    if (o->u.add.has_port)
        proto_tree_add_item(t, hf_opt_port, tvb, o->u.add.port_off, 2, ENC_BIG_ENDIAN);
    if (o->u.add.has_hmac) {
        proto_item *ti = proto_tree_add_item(t, hf_opt_addaddrtrunchmac, tvb, o->u.add.hmac_off, 8, ENC_BIG_ENDIAN);
        render_add_addr_hmac(pinfo, t, ti, pkt);
    }
}

static void
render_option(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *len_item, const mptcp_opt_t *o,
              mptcp_pkt_t *pkt)
{
    proto_item *ti;

    switch (o->subtype) {
    case MPTCP_SUB_CAPABLE:
        render_capable(tvb, pinfo, t, o, pkt);
        break;
    case MPTCP_SUB_JOIN:
        render_join(tvb, pinfo, t, o);
        render_join_check(tvb, pinfo, t, o, pkt);
        break;
    case MPTCP_SUB_DSS:
        render_dss(tvb, pinfo, t, o, pkt);
        break;
    case MPTCP_SUB_ADD_ADDR:
        render_add_addr(tvb, pinfo, t, o, pkt);
        break;
    case MPTCP_SUB_RM_ADDR:
        check_reserved(tvb, pinfo, t, 0x0f00, "REMOVE_ADDR");      /* section 3.4.2, figure 13 */
        ti = proto_tree_add_uint(t, hf_rm_addr_count, tvb, 2, 1, o->u.rm.count);
        proto_item_set_generated(ti);
        for (unsigned i = 0; i < o->u.rm.count; i++)
            proto_tree_add_item(t, hf_opt_addrid, tvb, 3 + i, 1, ENC_BIG_ENDIAN);
        break;
    case MPTCP_SUB_PRIO:
        check_reserved(tvb, pinfo, t, 0x0e00, "MP_PRIO");          /* section 3.3.8, figure 11 */
        proto_tree_add_bitmask(t, tvb, 2, hf_opt_flags, ett_mptcp_opt_flags, join_flags, ENC_BIG_ENDIAN);
        if (o->u.prio.has_addr_id)
            proto_tree_add_item(t, hf_opt_addrid, tvb, 3, 1, ENC_BIG_ENDIAN);
        break;
    case MPTCP_SUB_FAIL:
        check_reserved(tvb, pinfo, t, 0x0fff, "MP_FAIL");          /* section 3.7, figure 16 */
        proto_tree_add_item(t, hf_opt_reserved, tvb, 2, 2, ENC_BIG_ENDIAN);
        ti = proto_tree_add_item(t, hf_opt_rawdataseqno, tvb, 4, 8, ENC_BIG_ENDIAN);
        /* RFC 8684 section 3.7: MP_FAIL reports a checksum failure from this DSN on */
        expert_add_info_format(pinfo, ti, &ei_mp_fail, "MP_FAIL: data corrupted from DSN %" PRIu64 " onwards",
                               o->u.fail.dsn);
        break;
    case MPTCP_SUB_FASTCLOSE:
        check_reserved(tvb, pinfo, t, 0x0fff, "MP_FASTCLOSE");     /* section 3.5, figure 14 */
        proto_tree_add_item(t, hf_opt_reserved, tvb, 2, 2, ENC_BIG_ENDIAN);
        proto_tree_add_item(t, hf_opt_recvkey, tvb, 4, 8, ENC_BIG_ENDIAN);
        break;
    case MPTCP_SUB_TCPRST:
        proto_tree_add_bitmask(t, tvb, 2, hf_opt_flags, ett_mptcp_opt_flags, tcprst_flags, ENC_BIG_ENDIAN);
        ti = proto_tree_add_item(t, hf_opt_rst_reason, tvb, 3, 1, ENC_BIG_ENDIAN);
        if (o->u.tcprst.reason > 6)
            expert_add_info_format(pinfo, ti, &ei_reserved, "Unassigned MP_TCPRST reason code 0x%02x",
                                   o->u.tcprst.reason);
        else
            expert_add_info_format(pinfo, ti, &ei_tcprst_reason, "MP_TCPRST: %s",
                                   val_to_str_const(o->u.tcprst.reason, mptcp_tcprst_reason_vals, "Unknown"));
        break;
    default:
        break;
    }
    (void)len_item;
}

/* }}} */

const mptcp_seg_t *mptcp_options_parsed_seg;     /* mptcp-int.h */

/** The wrapper's parse of the DSS option at p (the same bytes), if it parsed OK and the handler's
 * caplen bytes hold all of it: what mptcp_opt_parse() would give again. */
static const mptcp_opt_t *
parsed_dss(const uint8_t *p, unsigned caplen)
{
    const mptcp_seg_t *seg = mptcp_options_parsed_seg;

    for (unsigned i = 0; seg && i < seg->nopts; i++) {
        if (seg->raw + seg->opt_offset[i] == p) {
            const mptcp_opt_t *o = &seg->opts[i];
            return o->status == MPTCP_OPT_OK && o->subtype == MPTCP_SUB_DSS && caplen >= o->len ? o : NULL;
        }
    }
    return NULL;
}

/** The option's items (t NULL: on no tree) and the expert infos of an option that did not parse. */
static void
render_main(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *main_item, const mptcp_opt_t *o,
            mptcp_pkt_t *pkt, unsigned caplen)
{
    proto_item *len_item;

    proto_tree_add_item(t, hf_tcp_option_kind, tvb, 0, 1, ENC_BIG_ENDIAN);
    len_item = proto_tree_add_item(t, hf_tcp_option_len, tvb, 1, 1, ENC_BIG_ENDIAN);
    if (caplen >= 3) {
        proto_tree_add_item(t, hf_opt_subtype, tvb, 2, 1, ENC_BIG_ENDIAN);
        proto_item_append_text(main_item, ": %s",
                               val_to_str_const(o->subtype, mptcp_subtype_vals, "Unknown"));
    }

    switch (o->status) {
    case MPTCP_OPT_OK:
        render_option(tvb, pinfo, t, len_item, o, pkt);
        break;
    case MPTCP_OPT_TOO_SHORT:
        /* no subtype octet: every MPTCP option has at least 3 (RFC 8684 section 3) */
        expert_add_info_format(pinfo, len_item, &ei_bad_length, "Invalid length %u for an MPTCP option (no subtype)",
                               o->len);
        break;
    case MPTCP_OPT_BAD_LENGTH:
        expert_add_info_format(pinfo, len_item, &ei_bad_length, "Invalid length %u for MPTCP %s option",
                               o->len, val_to_str_const(o->subtype, mptcp_subtype_vals, "Unknown"));
        break;
    case MPTCP_OPT_TRUNCATED:
        expert_add_info_format(pinfo, len_item, &ei_truncated,
                               "MPTCP option truncated: length %u, %u bytes captured", o->len, caplen);
        break;
    case MPTCP_OPT_UNKNOWN_SUBTYPE:
        expert_add_info_format(pinfo, main_item, &ei_unknown_subtype, "Unknown MPTCP option subtype %u",
                               o->subtype);
        break;
    }
}

/** Option-30 handler, called by TCP for each MPTCP option (data = struct tcpheader *). */
int
dissect_mptcp_option(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    proto_item *main_item;
    proto_tree *t;
    mptcp_opt_t parsed;
    const mptcp_opt_t *o;
    mptcp_pkt_t *pkt;
    unsigned caplen = tvb_captured_length(tvb);
    const uint8_t *p;

    /* no test of proto_mptcp being enabled: TCP calls this handle only then (call_dissector_work) */
    mptcp_epan_tcp_dupack_disarm();      /* TCP's sequence analysis is done (packet-mptcp.c) */

    p = tvb_get_ptr(tvb, 0, caplen);
    if (!(o = parsed_dss(p, caplen))) {
        pkt = mptcp_pkt_current(pinfo);
        mptcp_opt_parse(p, caplen, pkt ? mptcp_pkt_version(pkt) : -1, &parsed);
        o = &parsed;
    }

    if (pinfo->cinfo)      /* without columns (tshark -q), col_set_str() still checks the string's scope */
        col_set_str(pinfo->cinfo, COL_PROTOCOL, "MPTCP");
    /* the protocol item always (Wireshark 4.4+ builds frame.protocols from it); the option's
     * items only on a tree somebody sees or filters on (expert infos and the column always) */
    main_item = proto_tree_add_item(tree, proto_mptcp, tvb, 0, -1, ENC_NA);
    if (!mptcp_pkt_tree_wanted(pinfo, tree)) {
        if (MPTCP_LIKELY(o->status == MPTCP_OPT_OK && o->subtype == MPTCP_SUB_DSS)) {
            /* the items below would all go to a NULL tree, and the main item's text to an
             * item nobody sees (a hidden tree's, faked: mptcp is not referenced) */
            dss_untreed(tvb, p, pinfo, o);
            return caplen;
        }
        t = NULL;
    } else {
        t = proto_item_add_subtree(main_item, ett_mptcp_opt);
    }
    render_main(tvb, pinfo, t, main_item, o, mptcp_pkt_current(pinfo), caplen);
    return caplen;
}

static const hf_register_info *watch_hf;     /**< the plugin's tcp.options.mptcp.* fields */
static unsigned watch_n;

void
mptcp_options_watch(void (*add)(header_field_info *hfi))
{
    for (unsigned i = 0; i < watch_n; i++)
        add(proto_registrar_get_nth((guint)*watch_hf[i].p_id));
}

void
mptcp_options_register(void)
{
    int proto_tcp = proto_get_id_by_filter_name("tcp");

    static hf_register_info hf_tcp[] = {
        { &hf_opt_subtype, { "Multipath TCP subtype", "tcp.options.mptcp.subtype", FT_UINT8, BASE_DEC,
            VALS(mptcp_subtype_vals), 0xf0, NULL, HFILL } },
        { &hf_opt_version, { "Multipath TCP version", "tcp.options.mptcp.version", FT_UINT8, BASE_DEC,
            NULL, 0x0f, NULL, HFILL } },
        { &hf_opt_reserved, { "Reserved", "tcp.options.mptcp.reserved", FT_UINT16, BASE_HEX,
            NULL, 0x0fff, NULL, HFILL } },
        { &hf_opt_flags, { "Multipath TCP flags", "tcp.options.mptcp.flags", FT_UINT8, BASE_HEX,
            NULL, 0x0, NULL, HFILL } },
        { &hf_opt_backup_flag, { "Backup flag", "tcp.options.mptcp.backup.flag", FT_UINT8, BASE_DEC,
            NULL, 0x01, NULL, HFILL } },
        { &hf_opt_checksumreq_flag, { "Checksum required", "tcp.options.mptcp.checksumreq.flags", FT_UINT8,
            BASE_DEC, NULL, 0x80, NULL, HFILL } },
        { &hf_opt_extensibility_flag, { "Extensibility", "tcp.options.mptcp.extensibility.flag", FT_UINT8,
            BASE_DEC, NULL, 0x40, NULL, HFILL } },
        { &hf_opt_nomoresubflows_flag, { "Do not attempt to establish new subflows to this address and port",
            "tcp.options.mptcp.nomoresubflows.flag", FT_UINT8, BASE_DEC, NULL, 0x20, NULL, HFILL } },
        { &hf_opt_sha1_flag, { "Use HMAC-SHA1", "tcp.options.mptcp.sha1.flag", FT_UINT8, BASE_DEC,
            NULL, 0x01, NULL, HFILL } },
        { &hf_opt_sha256_flag, { "Use HMAC-SHA256", "tcp.options.mptcp.sha256.flag", FT_UINT8, BASE_DEC,
            NULL, 0x01, NULL, HFILL } },
        { &hf_opt_datafin_flag, { "DATA_FIN", "tcp.options.mptcp.datafin.flag", FT_UINT8, BASE_DEC,
            NULL, MPTCP_DSS_F, NULL, HFILL } },
        { &hf_opt_dseqn8_flag, { "Data Sequence Number is 8 octets", "tcp.options.mptcp.dseqn8.flag", FT_UINT8,
            BASE_DEC, NULL, MPTCP_DSS_m, NULL, HFILL } },
        { &hf_opt_dseqnpresent_flag, { "Data Sequence Number, Subflow Sequence Number, Data-level Length, "
            "Checksum present", "tcp.options.mptcp.dseqnpresent.flag", FT_UINT8, BASE_DEC, NULL, MPTCP_DSS_M,
            NULL, HFILL } },
        { &hf_opt_dataack8_flag, { "Data ACK is 8 octets", "tcp.options.mptcp.dataack8.flag", FT_UINT8,
            BASE_DEC, NULL, MPTCP_DSS_a, NULL, HFILL } },
        { &hf_opt_dataackpresent_flag, { "Data ACK is present", "tcp.options.mptcp.dataackpresent.flag",
            FT_UINT8, BASE_DEC, NULL, MPTCP_DSS_A, NULL, HFILL } },
        { &hf_opt_reserved_v0_flag, { "Reserved", "tcp.options.mptcp.reserved.flag", FT_UINT8, BASE_HEX,
            NULL, 0x3e, NULL, HFILL } },
        { &hf_opt_reserved_v1_flag, { "Reserved", "tcp.options.mptcp.reserved.flag", FT_UINT8, BASE_HEX,
            NULL, 0x1e, NULL, HFILL } },
        { &hf_opt_U_flag, { "Flag U", "tcp.options.mptcp.flag_U.flag", FT_BOOLEAN, 4, NULL, 0x8, NULL, HFILL } },
        { &hf_opt_V_flag, { "Flag V", "tcp.options.mptcp.flag_V.flag", FT_BOOLEAN, 4, NULL, 0x4, NULL, HFILL } },
        { &hf_opt_W_flag, { "Flag W", "tcp.options.mptcp.flag_W.flag", FT_BOOLEAN, 4, NULL, 0x2, NULL, HFILL } },
        { &hf_opt_T_flag, { "Transient", "tcp.options.mptcp.flag_T.flag", FT_BOOLEAN, 4, NULL, 0x1, NULL,
            HFILL } },
        { &hf_opt_rst_reason, { "TCPRST Reason", "tcp.options.mptcp.rst_reason", FT_UINT8, BASE_HEX,
            VALS(mptcp_tcprst_reason_vals), 0x0, "Multipath TCPRST Reason Code", HFILL } },
        { &hf_opt_addrid, { "Address ID", "tcp.options.mptcp.addrid", FT_UINT8, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_opt_sendkey, { "Sender's Key", "tcp.options.mptcp.sendkey", FT_UINT64, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_opt_recvkey, { "Receiver's Key", "tcp.options.mptcp.recvkey", FT_UINT64, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_opt_recvtok, { "Receiver's Token", "tcp.options.mptcp.recvtok", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_opt_sendrand, { "Sender's Random Number", "tcp.options.mptcp.sendrand", FT_UINT32, BASE_DEC, NULL,
            0x0, NULL, HFILL } },
        { &hf_opt_sendtrunchmac, { "Sender's Truncated HMAC", "tcp.options.mptcp.sendtrunchmac", FT_UINT64,
            BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_opt_sendhmac, { "Sender's HMAC", "tcp.options.mptcp.sendhmac", FT_BYTES, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_opt_addaddrtrunchmac, { "Truncated HMAC", "tcp.options.mptcp.addaddrtrunchmac", FT_UINT64,
            BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_opt_rawdataack, { "Original MPTCP Data ACK", "tcp.options.mptcp.rawdataack", FT_UINT64, BASE_DEC,
            NULL, 0x0, NULL, HFILL } },
        { &hf_opt_rawdataseqno, { "Data Sequence Number", "tcp.options.mptcp.rawdataseqno", FT_UINT64,
            BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_opt_subflowseqno, { "Subflow Sequence Number", "tcp.options.mptcp.subflowseqno", FT_UINT32,
            BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_opt_datalvllen, { "Data-level Length", "tcp.options.mptcp.datalvllen", FT_UINT16, BASE_DEC, NULL,
            0x0, NULL, HFILL } },
        { &hf_opt_checksum, { "Checksum", "tcp.options.mptcp.checksum", FT_UINT16, BASE_HEX, NULL, 0x0, NULL,
            HFILL } },
        { &hf_opt_ipver, { "IP version", "tcp.options.mptcp.ipver", FT_UINT8, BASE_DEC, NULL, 0x0f, NULL,
            HFILL } },
        { &hf_opt_echo, { "Echo", "tcp.options.mptcp.echo", FT_UINT8, BASE_DEC, NULL, 0x01, NULL, HFILL } },
        { &hf_opt_ipv4, { "Advertised IPv4 Address", "tcp.options.mptcp.ipv4", FT_IPv4, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_opt_ipv6, { "Advertised IPv6 Address", "tcp.options.mptcp.ipv6", FT_IPv6, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_opt_port, { "Advertised port", "tcp.options.mptcp.port", FT_UINT16, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
    };
    static hf_register_info hf_mptcp[] = {
        { &hf_expected_token, { "Subflow token generated from key", "mptcp.expected_token", FT_UINT32, BASE_DEC,
            NULL, 0x0, NULL, HFILL } },
        { &hf_expected_idsn, { "Subflow expected IDSN", "mptcp.expected_idsn", FT_UINT64, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_rm_addr_count, { "Number of removed addresses", "mptcp.rm_addr.count", FT_UINT8, BASE_DEC, NULL,
            0x0, NULL, HFILL } },
        { &hf_checksum_status, { "Checksum Status", "mptcp.checksum.status", FT_UINT8, BASE_NONE,
            VALS(proto_checksum_vals), 0x0, "Result of the DSS checksum verification (RFC 8684 section 3.3.1)",
            HFILL } },
        { &hf_ack, { "Multipath TCP Data ACK", "mptcp.ack", FT_UINT64, BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_dss_dsn, { "DSS Data Sequence Number", "mptcp.dss.dsn", FT_UINT64, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_join_hmac_valid, { "HMAC valid", "mptcp.join.hmac_valid", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "MP_JOIN HMAC verified with the connection's keys (RFC 8684 section 3.2)", HFILL } },
        { &hf_join_expected_hmac, { "Expected truncated HMAC", "mptcp.join.expected_hmac", FT_UINT64, BASE_DEC,
            NULL, 0x0, NULL, HFILL } },
        { &hf_add_hmac_valid, { "ADD_ADDR HMAC valid", "mptcp.add_addr.hmac_valid", FT_BOOLEAN, BASE_NONE, NULL,
            0x0, "ADD_ADDR HMAC verified with the connection's keys (RFC 8684 section 3.4.1)", HFILL } },
        { &hf_add_expected_hmac, { "Expected ADD_ADDR HMAC", "mptcp.add_addr.expected_hmac", FT_UINT64, BASE_DEC,
            NULL, 0x0, NULL, HFILL } },
    };
    static gint *ett[] = { &ett_mptcp_opt, &ett_mptcp_opt_flags };
    static ei_register_info ei[] = {
        /* PI_PROTOCOL, not PI_MALFORMED: a malformed-group expert adds a hidden _ws.malformed
         * item, while the packet is fully dissected (the option is skipped by its length). */
        { &ei_bad_length, { "mptcp.option.bad_length", PI_PROTOCOL, PI_ERROR,
            "Invalid MPTCP option length", EXPFILL } },
        { &ei_truncated, { "mptcp.option.truncated", PI_PROTOCOL, PI_ERROR,
            "MPTCP option truncated", EXPFILL } },
        { &ei_unknown_subtype, { "mptcp.option.unknown_subtype", PI_PROTOCOL, PI_WARN,
            "Unknown MPTCP option subtype", EXPFILL } },
        { &ei_reserved, { "mptcp.option.reserved", PI_PROTOCOL, PI_WARN,
            "Reserved or unassigned value used", EXPFILL } },
        { &ei_unknown_version, { "mptcp.option.unknown_version", PI_PROTOCOL, PI_WARN,
            "Unknown MPTCP version", EXPFILL } },
        { &ei_missing_algorithm, { "mptcp.connection.missing_algorithm", PI_PROTOCOL, PI_WARN,
            "No crypto algorithm specified", EXPFILL } },
        { &ei_unsupported_algorithm, { "mptcp.connection.unsupported_algorithm", PI_PROTOCOL, PI_WARN,
            "Unsupported algorithm", EXPFILL } },
        { &ei_infinite_mapping, { "mptcp.dss.infinite_mapping", PI_PROTOCOL, PI_WARN,
            "Fallback to infinite mapping", EXPFILL } },
        { &ei_tcprst_reason, { "mptcp.tcprst", PI_RESPONSE_CODE, PI_NOTE,
            "MP_TCPRST: subflow reset", EXPFILL } },
        { &ei_mp_fail, { "mptcp.mp_fail", PI_PROTOCOL, PI_WARN,
            "MP_FAIL: checksum failure reported", EXPFILL } },
        { &ei_csum_bad, { "mptcp.dss.checksum_bad", PI_CHECKSUM, PI_ERROR,
            "Bad DSS checksum", EXPFILL } },
        { &ei_unknown_token, { "mptcp.join.unknown_token", PI_PROTOCOL, PI_WARN,
            "MP_JOIN token matches no known connection", EXPFILL } },
        { &ei_join_hmac_bad, { "mptcp.join.hmac_bad", PI_PROTOCOL, PI_WARN,
            "MP_JOIN HMAC does not match the connection's keys", EXPFILL } },
        { &ei_add_hmac_bad, { "mptcp.add_addr.hmac_bad", PI_PROTOCOL, PI_WARN,
            "ADD_ADDR HMAC does not match the connection's keys", EXPFILL } },
    };
    expert_module_t *em;

    proto_register_field_array(proto_tcp, hf_tcp, array_length(hf_tcp));
    watch_hf = hf_tcp;
    watch_n = array_length(hf_tcp);
    proto_register_field_array(proto_mptcp, hf_mptcp, array_length(hf_mptcp));
    proto_register_subtree_array(ett, array_length(ett));
    em = expert_register_protocol(proto_mptcp);
    expert_register_field_array(em, ei, array_length(ei));
}

void
mptcp_options_handoff(void)
{
    hf_tcp_option_kind = proto_registrar_get_id_byname("tcp.option_kind");
    hf_tcp_option_len = proto_registrar_get_id_byname("tcp.option_len");
}
