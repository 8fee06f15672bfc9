/* mptcp-analysis.c
 * The "[MPTCP analysis]" subtree of the TCP tree, rendered on every pass from the packet's
 * first-pass result (mptcp-firstpass.c decides, this file draws), with its fields and expert
 * infos. Items inside an option's subtree are mptcp-options.c's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/dissectors/packet-tcp.h>
#include <epan/to_str.h>

static int hf_analysis = -1;
static int hf_master = -1;
static int hf_stream = -1;
static int hf_subflows = -1;
static int hf_subflow = -1;
static int hf_version = -1;
static int hf_inferred = -1;
static int hf_client_key = -1;
static int hf_server_key = -1;
static int hf_client_token = -1;
static int hf_server_token = -1;
static int hf_sf_join = -1;
static int hf_sf_backup = -1;
static int hf_sf_initiator = -1;
static int hf_rawdsn64 = -1;
static int hf_dsn = -1;
static int hf_related_mapping = -1;
static int hf_reinjection_of = -1;
static int hf_reinjected_in = -1;
static int hf_fallback = -1;
static int hf_data_fin = -1;
static int hf_csum_dropped = -1;
static int hf_rm_addr_address = -1;
static int hf_sf_addrid[2] = { -1, -1 };

static gint ett_analysis = -1;

/** Longest subflow list shown per packet (a JOIN flood can make a connection of thousands). */
#define MPTCP_MAX_LISTED_SUBFLOWS 64

static expert_field ei_missing_mapping = EI_INIT;
static expert_field ei_echoed_key_mismatch = EI_INIT;
static expert_field ei_fallback = EI_INIT;
static expert_field ei_fastclose_key = EI_INIT;
static expert_field ei_reinjection = EI_INIT;
static expert_field ei_addr_id_reused = EI_INIT;
static expert_field ei_join_rejected = EI_INIT;

static const true_false_string tfs_initiator = { "Server (passive opener of the connection)",
                                                 "Client (active opener of the connection)" };

static void
render_connection(proto_tree *t, tvbuff_t *tvb, packet_info *pinfo, const mptcp_pkt_t *pkt)
{
    const mptcp_subflow_t *sf = mptcp_pkt_sf(pkt);
    const mptcp_conn_t *c = mptcp_pkt_conn(pkt);
    proto_item *ti;
    wmem_strbuf_t *sb;

    ti = proto_tree_add_boolean(t, hf_master, tvb, 0, 0, c->master == sf);
    proto_item_set_generated(ti);
    ti = proto_tree_add_uint(t, hf_stream, tvb, 0, 0, c->stream);
    proto_item_set_generated(ti);
    ti = proto_tree_add_uint(t, hf_subflow, tvb, 0, 0, sf->index);
    proto_item_set_generated(ti);
    if (proto_field_is_referenced(t, hf_subflows)) {     /* O(subflows): only when shown or used */
        uint32_t nsf = mptcp_pkt_nsubflows(pkt);
        sb = wmem_strbuf_new(pinfo->pool, "");
        for (uint32_t i = 0; i < nsf && i < MPTCP_MAX_LISTED_SUBFLOWS; i++) {
            const mptcp_subflow_t *s = mptcp_conn_subflow(c, i);
            if (s->tcp_stream_known)
                wmem_strbuf_append_printf(sb, "%s%u", i ? " " : "", s->tcp_stream);
        }
        if (nsf > MPTCP_MAX_LISTED_SUBFLOWS)
            wmem_strbuf_append_printf(sb, " ... (%u subflows)", nsf);
        ti = proto_tree_add_string(t, hf_subflows, tvb, 0, 0, wmem_strbuf_get_str(sb));
        proto_item_set_generated(ti);
    }
    if (mptcp_pkt_version(pkt) >= 0) {
        ti = proto_tree_add_uint(t, hf_version, tvb, 0, 0, (uint32_t)mptcp_pkt_version(pkt));
        proto_item_set_generated(ti);
    }
    if (c->inferred) {
        ti = proto_tree_add_boolean(t, hf_inferred, tvb, 0, 0, TRUE);
        proto_item_append_text(ti, " (handshake not captured: grouped by data sequence numbers)");
        proto_item_set_generated(ti);
    }
    if (mptcp_pkt_keys(pkt) & 1) {
        ti = proto_tree_add_uint64(t, hf_client_key, tvb, 0, 0, c->ep[0].key);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint(t, hf_client_token, tvb, 0, 0, c->ep[0].token);
        proto_item_set_generated(ti);
    }
    if (mptcp_pkt_keys(pkt) & 2) {
        ti = proto_tree_add_uint64(t, hf_server_key, tvb, 0, 0, c->ep[1].key);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint(t, hf_server_token, tvb, 0, 0, c->ep[1].token);
        proto_item_set_generated(ti);
    }
    ti = proto_tree_add_boolean(t, hf_sf_join, tvb, 0, 0, sf->is_join);
    proto_item_set_generated(ti);
    ti = proto_tree_add_boolean(t, hf_sf_initiator, tvb, 0, 0, sf->client_dir != 0);
    proto_item_set_generated(ti);
    ti = proto_tree_add_boolean(t, hf_sf_backup, tvb, 0, 0, (pkt->flags & MPTCP_PF_BACKUP) != 0);
    proto_item_set_generated(ti);
    for (int d = 0; d < 2; d++) {
        if (mptcp_pkt_addr_ids_known(pkt) & (1u << d)) {
            ti = proto_tree_add_uint(t, hf_sf_addrid[d], tvb, 0, 0, mptcp_pkt_addr_id(pkt, d));
            proto_item_set_generated(ti);
        }
    }
}

static void
render_frames(proto_tree *t, int hf, tvbuff_t *tvb, const mptcp_frames_t *f)
{
    for (uint32_t i = 0; i < f->n; i++) {
        proto_item *ti = proto_tree_add_uint(t, hf, tvb, 0, 0, f->v[i]);
        proto_item_set_generated(ti);
    }
}

/** Flags for which mptcp_analysis_render() adds an expert info or a column note. */
#define RENDER_NOTE_FLAGS (MPTCP_PF_NO_MAPPING | MPTCP_PF_FALLBACK | MPTCP_PF_REINJECTION | \
                           MPTCP_PF_ZERO_WINDOW | MPTCP_PF_LOST_ON_PATH | MPTCP_PF_PEER_NOTE)
#define RENDER_NOTE_XFLAGS (MPTCP_PX_ECHO_MISMATCH | MPTCP_PX_FASTCLOSE_BAD | MPTCP_PX_ADDR_ID_REUSED | \
                            MPTCP_PX_JOIN_REJECTED)

/* The subtree, its expert infos and column notes. Not inlined: the tests in front of it
 * (mptcp_analysis_render) run on every packet and mostly end there. */
static G_GNUC_NO_INLINE void
render_analysis(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tcp_tree, mptcp_pkt_t *pkt)
{
    proto_item *ai, *ti;
    proto_tree *t;

    ai = proto_tree_add_item(tcp_tree, hf_analysis, tvb, 0, 0, ENC_NA);
    proto_item_set_generated(ai);
    t = proto_item_add_subtree(ai, ett_analysis);
    if (mptcp_pkt_conn(pkt))
        render_connection(t, tvb, pinfo, pkt);
    if ((pkt->flags & MPTCP_PF_HAS_DSN) && !(pkt->flags & MPTCP_PF_FB_POS)) {
        ti = proto_tree_add_uint64(t, hf_rawdsn64, tvb, 0, 0, mptcp_pkt_dsn64(pkt));
        proto_item_set_generated(ti);
        mptcp_pkt_add_dsn_item(t, hf_dsn, tvb, pkt, mptcp_pkt_dsn64(pkt), false);
        if (mptcp_pkt_map_frame(pkt)) {
            ti = proto_tree_add_uint(t, hf_related_mapping, tvb, 0, 0, mptcp_pkt_map_frame(pkt));
            proto_item_set_generated(ti);
        }
    }
    if (pkt->flags & MPTCP_PF_DATA_FIN) {
        ti = proto_tree_add_boolean(t, hf_data_fin, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
    }
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_CSUM_DROPPED)) {
        ti = proto_tree_add_boolean(t, hf_csum_dropped, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
    }
    if (pkt->flags & MPTCP_PF_NO_MAPPING)
        expert_add_info(pinfo, ai, &ei_missing_mapping);
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_ECHO_MISMATCH))
        expert_add_info(pinfo, ai, &ei_echoed_key_mismatch);
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_FASTCLOSE_BAD))
        expert_add_info(pinfo, ai, &ei_fastclose_key);
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_ADDR_ID_REUSED))
        expert_add_info(pinfo, ai, &ei_addr_id_reused);
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_JOIN_REJECTED))
        expert_add_info(pinfo, ai, &ei_join_rejected);
    if (pkt->flags & MPTCP_PF_FALLBACK) {
        ti = proto_tree_add_boolean(t, hf_fallback, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
        expert_add_info(pinfo, ti, &ei_fallback);
    }
    for (guint i = 0; mptcp_pkt_ext_const(pkt)->rm_addrs && i < wmem_array_get_count(mptcp_pkt_ext_const(pkt)->rm_addrs); i++) {
        const mptcp_addr_t *a = *(const mptcp_addr_t **)wmem_array_index(mptcp_pkt_ext_const(pkt)->rm_addrs, i);
        ti = proto_tree_add_string_format_value(t, hf_rm_addr_address, tvb, 0, 0, address_to_str(pinfo->pool, &a->addr),
                                                "%s (announced in frame %u)", address_to_str(pinfo->pool, &a->addr),
                                                a->frame);
        proto_item_set_generated(ti);
    }
    render_frames(t, hf_reinjection_of, tvb, &mptcp_pkt_ext_const(pkt)->reinj_of);
    render_frames(t, hf_reinjected_in, tvb, &mptcp_pkt_ext_const(pkt)->reinj_in);
    mptcp_latency_render(tvb, t, pkt);      /* [stats] mptcp-latency.c */
    mptcp_dataorder_render(tvb, pinfo, t, ai, pkt);   /* [dataorder] mptcp-dataorder.c */
    mptcp_vantage_render(tvb, pinfo, t, ai, pkt);   /* [vantage] mptcp-vantage.c */
    if (pkt->flags & MPTCP_PF_REINJECTION) {
        expert_add_info(pinfo, ai, &ei_reinjection);
        col_append_str(pinfo->cinfo, COL_INFO, " [MPTCP Reinjection]");
    }
}

void
mptcp_analysis_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tcp_tree, mptcp_pkt_t *pkt)
{
    if (!pkt->sf_ref || !mptcp_prefs.analyze)      /* on no subflow: mptcp_pkt_sf() NULL */
        return;
    if (!tcp_tree && !(pkt->flags & RENDER_NOTE_FLAGS) && !mptcp_pkt_xflag(pkt, RENDER_NOTE_XFLAGS) &&
        !mptcp_dataorder_has_note(pkt))
        return;     /* no items wanted (packet-mptcp.c) and no expert info or column note */
    render_analysis(tvb, pinfo, tcp_tree, pkt);
}

void
mptcp_analysis_register(void)
{
    static hf_register_info hf[] = {
        { &hf_analysis, { "MPTCP analysis", "mptcp.analysis", FT_NONE, BASE_NONE, NULL, 0x0,
            "This frame has some of the MPTCP analysis shown", HFILL } },
        { &hf_master, { "Master flow", "mptcp.master", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "This subflow is the connection's initial (MP_CAPABLE) subflow", HFILL } },
        { &hf_stream, { "Stream index", "mptcp.stream", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MPTCP connection index, on every packet of every subflow", HFILL } },
        { &hf_subflows, { "TCP subflow stream id(s)", "mptcp.analysis.subflows", FT_STRING, BASE_NONE, NULL, 0x0,
            "List all TCP connections mapped to this MPTCP connection", HFILL } },
        { &hf_subflow, { "Subflow number", "mptcp.subflow", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Number of this subflow within its MPTCP connection (0 = the first seen)", HFILL } },
        { &hf_version, { "MPTCP version", "mptcp.version", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Negotiated MPTCP version (0 = RFC 6824, 1 = RFC 8684)", HFILL } },
        { &hf_inferred, { "Connection inferred", "mptcp.analysis.inferred", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "Keys not captured: subflows grouped by their data sequence space", HFILL } },
        { &hf_client_key, { "Client key", "mptcp.client_key", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Key of the host that sent the MP_CAPABLE SYN", HFILL } },
        { &hf_server_key, { "Server key", "mptcp.server_key", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Key of the host that answered the MP_CAPABLE SYN", HFILL } },
        { &hf_client_token, { "Client token", "mptcp.client_token", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_server_token, { "Server token", "mptcp.server_token", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_sf_join, { "Join subflow", "mptcp.subflow.join", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "Subflow opened with MP_JOIN (else the initial MP_CAPABLE subflow)", HFILL } },
        { &hf_sf_backup, { "Backup subflow", "mptcp.subflow.backup", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "A side asked for backup priority (MP_JOIN B flag or MP_PRIO)", HFILL } },
        { &hf_sf_initiator, { "Subflow opened by", "mptcp.subflow.opened_by_server", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_initiator), 0x0, NULL, HFILL } },
        { &hf_rawdsn64, { "Raw Data Sequence Number", "mptcp.rawdsn64", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Data Sequence Number mapped to this TCP sequence number", HFILL } },
        { &hf_dsn, { "Data Sequence Number", "mptcp.dsn", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Data Sequence Number mapped to this TCP sequence number", HFILL } },
        { &hf_related_mapping, { "Related mapping", "mptcp.related_mapping", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "Packet in which current packet DSS mapping was sent", HFILL } },
        { &hf_reinjection_of, { "Reinjection of", "mptcp.reinjection_of", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
            "This is a retransmission of data sent on another subflow", HFILL } },
        { &hf_reinjected_in, { "Data reinjected in", "mptcp.reinjected_in", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_NEXT), 0x0,
            "This was retransmitted on another subflow (a forward link: complete only with -2 or in the GUI)",
            HFILL } },
                                                        { &hf_fallback, { "Fallback to TCP", "mptcp.fallback", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "The connection fell back to plain TCP (RFC 8684 section 3.7)", HFILL } },
        { &hf_sf_addrid[0], { "Initiator's address id", "mptcp.subflow.initiator_addrid", FT_UINT8, BASE_DEC,
            NULL, 0x0, "Address id of the host that opened this subflow (0 on the initial subflow)", HFILL } },
        { &hf_sf_addrid[1], { "Responder's address id", "mptcp.subflow.responder_addrid", FT_UINT8, BASE_DEC,
            NULL, 0x0, "Address id of the host that accepted this subflow (0 on the initial subflow)", HFILL } },
        { &hf_rm_addr_address, { "Removed address", "mptcp.rm_addr.address", FT_STRING, BASE_NONE, NULL, 0x0,
            "Address that the REMOVE_ADDR's id had been announced for (RFC 8684 section 3.4.2)", HFILL } },
        { &hf_csum_dropped, { "Not delivered (DSS checksum failed, sent again)", "mptcp.dss.checksum_dropped",
            FT_BOOLEAN, BASE_NONE, NULL, 0x0, "This segment's mapping failed its DSS checksum and its data was sent "
            "again: the receiver discards this copy (RFC 8684 section 3.3.1)", HFILL } },
        { &hf_data_fin, { "DATA_FIN", "mptcp.data_fin", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "This segment carries the data-level FIN (RFC 8684 section 3.3.3)", HFILL } },
    };
    static gint *ett[] = { &ett_analysis };
    static ei_register_info ei[] = {
        { &ei_missing_mapping, { "mptcp.dss.missing_mapping", PI_SEQUENCE, PI_WARN,
            "No mapping available", EXPFILL } },
        { &ei_echoed_key_mismatch, { "mptcp.connection.echoed_key_mismatch", PI_PROTOCOL, PI_WARN,
            "The echoed key in the ACK of the MPTCP handshake does not match the key of the SYN/ACK", EXPFILL } },
                                { &ei_fallback, { "mptcp.fallback.expert", PI_PROTOCOL, PI_WARN,
            "MPTCP connection fell back to plain TCP", EXPFILL } },
        { &ei_fastclose_key, { "mptcp.fastclose.key_mismatch", PI_PROTOCOL, PI_WARN,
            "MP_FASTCLOSE key is not the receiver's key", EXPFILL } },
        { &ei_addr_id_reused, { "mptcp.add_addr.id_reused", PI_PROTOCOL, PI_WARN,
            "ADD_ADDR reuses an address id for another address without REMOVE_ADDR", EXPFILL } },
        { &ei_join_rejected, { "mptcp.join.rejected", PI_PROTOCOL, PI_WARN,
            "MP_JOIN not answered with MP_JOIN: subflow rejected", EXPFILL } },
        { &ei_reinjection, { "mptcp.reinjection", PI_SEQUENCE, PI_NOTE,
            "MPTCP reinjection: data already sent on another subflow", EXPFILL } },
    };
    expert_module_t *em;

    proto_register_field_array(proto_mptcp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    em = expert_register_protocol(proto_mptcp);
    expert_register_field_array(em, ei, array_length(ei));
}
