/* packet-mptcp.c
 * Multipath TCP analysis plugin: registration, preferences and the per-segment hook.
 *
 * Replaces Wireshark's built-in MPTCP analysis as a drop-in (same field names, same
 * preference names) with one that is right on Linux MPTCP v1 (RFC 8684) and v0 (RFC 6824).
 *
 * How it hooks in (see ../../README.md):
 *  - TCP option kind 30 goes to the plugin (dissect_mptcp_option), so no built-in MPTCP
 *    code runs: plugin handoffs run after the built-in ones and replace the table entry.
 *  - "ip.proto" 6 goes to a thin wrapper around TCP. Before TCP runs, the wrapper parses
 *    the raw TCP header and options and, on the first pass only, updates the connection
 *    state and stores the per-packet result; after TCP returns it renders the
 *    "[MPTCP analysis]" subtree for every packet of an MPTCP subflow, options or not.
 *    The raw header makes the analysis independent of TCP's preferences.
 *
 * Limitations:
 *  - TCP reached other than through "ip.proto" (e.g. by a "Decode As" of the bare TCP
 *    handle) is not analysed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include "mptcp-epan.h"

#include <epan/prefs.h>
#include <epan/exceptions.h>
#include <epan/dissectors/packet-ip.h>
#include <epan/dissectors/packet-tcp.h>

static int proto_tcp = -1;
static protocol_t *mptcp_protocol;         /**< proto_mptcp's, found once (not on every packet) */
static dissector_handle_t tcp_handle;
static dissector_table_t tcp_call_table;   /**< private table: calls TCP without a second layer */

/** Built-in preferences we keep using (tools pass them with -o). */
static pref_t *pref_analyze, *pref_relative, *pref_mappings, *pref_reinj;

static void watch_init(void);

static void
mptcp_init_routine(void)
{
    mptcp_prefs.analyze = mptcp_epan_pref_bool(pref_analyze, true);
    mptcp_prefs.relative = mptcp_epan_pref_bool(pref_relative, true);
    mptcp_prefs.mappings = mptcp_epan_pref_bool(pref_mappings, true);
    mptcp_prefs.reinjections = mptcp_prefs.mappings && mptcp_epan_pref_bool(pref_reinj, true);
    mptcp_conn_init();
    mptcp_dsn_init();
    mptcp_pkt_init();
    mptcp_vantage_init();      /* reads the peer capture, before the first packet */
    watch_init();              /* here: Wireshark 4.4+ registers the _ws.expert fields after handoff */
}

/* Before the file scope goes: the per-connection arrays that live on the GLib heap (wmem's block
 * allocator leaves each growth step of a small array behind), then the connections. */
static void
mptcp_cleanup_routine(void)
{
    mptcp_latency_cleanup();
    mptcp_dataorder_cleanup();
    mptcp_conn_cleanup();
}

/** Parses the raw TCP header and the MPTCP options; false if it is too short to use. */
static bool
parse_segment(tvbuff_t *tvb, packet_info *pinfo, mptcp_seg_t *seg)
{
    unsigned cap = tvb_captured_length(tvb), rep = tvb_reported_length(tvb), off, end;
    const uint8_t *p;
    uint8_t len;

    if (cap < 20)
        return false;
    p = tvb_get_ptr(tvb, 0, cap);
    memset(seg, 0, offsetof(mptcp_seg_t, opts));
    seg->has_ts = seg->has_ipid = false;
    seg->tvb = tvb;
    seg->raw = p;
    copy_address_shallow(&seg->src, &pinfo->src);
    copy_address_shallow(&seg->dst, &pinfo->dst);
    seg->sport = (uint16_t)(p[0] << 8 | p[1]);
    seg->dport = (uint16_t)(p[2] << 8 | p[3]);
    seg->seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    seg->ack = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    seg->flags = (uint16_t)((p[12] << 8 | p[13]) & 0x0fff);
    seg->window = (uint16_t)(p[14] << 8 | p[15]);
    seg->hlen = (unsigned)(p[12] >> 4) * 4;
    if (seg->hlen < 20)
        return false;
    seg->seglen = rep > seg->hlen ? rep - seg->hlen : 0;
    end = seg->hlen < cap ? seg->hlen : cap;
    off = 20;
    /* Linux's layout: NOP, NOP, timestamps first (what the loop below would find, in one test) */
    if (end >= 32 && ((uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23]) == 0x0101080a) {
        seg->has_ts = true;
        seg->tsval = (uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 | (uint32_t)p[26] << 8 | p[27];
        off = 32;
    }
    for (; seg->nopts < MPTCP_MAX_OPTS && mptcp_tcpopt_next(p, end, &off, &len); off += len) {
        if (p[off] == 8 && len == 10 && off + 10 <= end) {     /* timestamps: [vantage] matching */
            seg->has_ts = true;
            seg->tsval = (uint32_t)p[off + 2] << 24 | (uint32_t)p[off + 3] << 16 | (uint32_t)p[off + 4] << 8 | p[off + 5];
        }
        if (p[off] == MPTCP_TCPOPT_KIND) {
            const mptcp_opt_t *o = &seg->opts[seg->nopts];

            if (mptcp_opt_parse(p + off, end - off, -1, &seg->opts[seg->nopts]) == MPTCP_OPT_OK &&
                o->subtype == MPTCP_SUB_DSS && o->u.dss.has_map)
                seg->dss_map = true;
            seg->kinds |= (uint16_t)(1u << o->subtype);
            seg->opt_offset[seg->nopts] = off;
            seg->nopts++;
        }
    }
    return true;
}

static void
remember_tcp_stream(const mptcp_seg_t *seg, packet_info *pinfo, mptcp_subflow_t *sf)
{
    if (mptcp_epan_tcp_stream(pinfo, &seg->src, &seg->dst, seg->sport, seg->dport, &sf->tcp_stream))
        sf->tcp_stream_known = true;
}

/* Wireshark 4.0's built-in analysis kept, per connection, a bit for each kind of MPTCP option
 * it had seen (MP_CAPABLE 0x01 ... MP_FASTCLOSE 0x80) and, per TCP direction, the bits as of
 * that direction's previous segment; TCP leaves out the Duplicate ACK mark where they differ
 * (RFC 8684 section 4). Same bookkeeping, handed to TCP for the segments with an MPTCP option
 * (mptcp-epan.c); TCP analyses the segment before it dissects the options. First pass only. */
static void
dupack_first_pass(const mptcp_seg_t *seg, packet_info *pinfo, const mptcp_pkt_t *pkt, mptcp_subflow_t *sf)
{
    mptcp_conn_t *c = sf ? sf->conn : NULL;
    uint8_t *sd_ops;

    if (!c || !sf || mptcp_pkt_dir(pkt) < 0 || !mptcp_prefs.analyze)
        return;                /* the built-in updated the bits only with mptcp.analyze_mptcp */
    sd_ops = &sf->dupack_ops[mptcp_pkt_dir(pkt)];
    /* TCP consults the bits only for a pure ACK, and its verdict changes only where they differ:
     * lend the stand-in then (its conversation lookup costs ~1,000 instructions a packet) */
    if (sf->dupack_attached && seg->nopts && seg->seglen == 0 && !(seg->flags & (TH_SYN | TH_FIN | TH_RST)) &&
        c->dupack_ops != *sd_ops)
        mptcp_epan_tcp_dupack_arm(pinfo, &seg->src, &seg->dst, seg->sport, seg->dport, c->dupack_ops,
                                  *sd_ops);
    if (sf->dupack_attached)
        *sd_ops = c->dupack_ops;
    c->dupack_ops |= (uint8_t)seg->kinds;     /* MP_CAPABLE (bit 0) ... MP_FASTCLOSE (bit 7) */
    if (seg->nopts)
        sf->dupack_attached = true;
}

/** The segment's result: the stored one after the first pass, else the first pass's (*sf its
 * subflow); NULL for a segment that is not part of MPTCP. */
static inline mptcp_pkt_t *
segment_result(tvbuff_t *tvb, packet_info *pinfo, void *data, guint32 layer, mptcp_seg_t *seg,
               mptcp_subflow_t **sf)
{
    const ws_ip4 *ip4 = WS_IP4_PTR(data);   /* "ip.proto" data: the IP header (v4 or v6) */

    if (pinfo->flags.in_error_pkt || !proto_is_protocol_enabled(mptcp_protocol))
        return NULL;
    if (PINFO_FD_VISITED(pinfo))
        return mptcp_pkt_stored(pinfo, layer);
    if (!parse_segment(tvb, pinfo, seg))
        return NULL;
    if (ip4 && pinfo->src.type == AT_IPv4) {
        seg->has_ipid = true;
        seg->ipid = ip4->ip_id;
    }
    return mptcp_first_pass(pinfo, seg, sf);
}

/** "ip.proto" 6: the MPTCP analysis around the TCP dissector. */
static int
dissect_tcp_wrapper(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    mptcp_seg_t seg;
    volatile int len = 0;                 /* volatile: set inside TRY, read after (setjmp) */
    /* the others are set once, before TRY: they need no volatile */
    guint32 layer = pinfo->curr_layer_num;
    mptcp_subflow_t *sf = NULL;           /* the first pass's subflow (NULL after) */
    mptcp_pkt_t *pkt = segment_result(tvb, pinfo, data, layer, &seg, &sf);
    /* the parsed segment, for the option handler and the reassembly: first pass, MPTCP only
     * (a segment of no subflow has no MPTCP option the handler could take) */
    const mptcp_seg_t *parsed = sf ? &seg : NULL;
    mptcp_pkt_current_t saved;
    const mptcp_seg_t *outer_seg;

    if (sf)
        dupack_first_pass(&seg, pinfo, pkt, sf);
    saved = mptcp_pkt_enter(pinfo, pkt, tree);
    outer_seg = mptcp_options_parsed(parsed);
    /* FINALLY: a payload dissector's exception that TCP passes on (e.g. iPerf3 on port 5201
     * in Wireshark 4.4+) must not skip the analysis of this segment; it is rethrown after. */
    TRY {
        len = mptcp_dissector_try_uint(tcp_call_table, 6, tvb, pinfo, tree, FALSE, data);
    }
    FINALLY {
        bool wanted = mptcp_pkt_leave(&saved);    /* first: an exception below must not leave it set */

        mptcp_options_parsed(outer_seg);

        mptcp_epan_tcp_dupack_disarm();

        if (pkt) {
            if (sf && !sf->tcp_stream_known)     /* first pass */
                remember_tcp_stream(&seg, pinfo, sf);
            /* a tree nobody sees or filters on gets no items: expert infos and column only */
            mptcp_analysis_render(tvb, pinfo, wanted ?
                                  mptcp_epan_tcp_tree(pinfo, layer) : NULL, pkt);
            mptcp_tap_segment(tvb, pinfo, pkt);    /* conversations, statistics, Follow MPTCP Stream */
            mptcp_reasm_dissect(tvb, pinfo, tree, parsed, pkt);
        }
    }
    ENDTRY;
    return len;
}

/* Fields whose use in a filter, column or -e makes the items of the plugin worth adding to a
 * tree that is not visible (tshark -Y/-T fields): mptcp_pkt_tree_wanted(). */
static void
watch_init(void)
{
    int expert = proto_get_id_by_filter_name("_ws.expert");

    mptcp_epan_watch_reset();   /* found again at each file open (cheap): every field exists by now */
    /* a protocol is marked (indirectly) referenced as soon as one of its fields is: that covers
     * mptcp.* and the expert items; the plugin's tcp.options.mptcp.* fields have TCP as parent,
     * so each is watched (TCP itself is referenced by almost any filter) */
    mptcp_epan_watch_add(proto_registrar_get_nth((guint)proto_mptcp));
    if (expert > 0)
        mptcp_epan_watch_add(proto_registrar_get_nth((guint)expert));
    /* and the expert fields themselves, in case a version marks only the field it filters on */
    mptcp_epan_watch_add(proto_registrar_get_byname("_ws.expert.severity"));
    mptcp_epan_watch_add(proto_registrar_get_byname("_ws.expert.group"));
    mptcp_epan_watch_add(proto_registrar_get_byname("_ws.expert.message"));
    mptcp_epan_watch_add(proto_registrar_get_byname("tcp.option_kind"));
    mptcp_epan_watch_add(proto_registrar_get_byname("tcp.option_len"));
    mptcp_options_watch(mptcp_epan_watch_add);
}

void proto_register_mptcp_plugin(void);
void proto_reg_handoff_mptcp_plugin(void);

void
proto_register_mptcp_plugin(void)
{
    module_t *m;

    proto_mptcp = proto_get_id_by_filter_name("mptcp");
    proto_tcp = proto_get_id_by_filter_name("tcp");
    proto_mptcp_plugin = proto_register_protocol("Multipath TCP analysis (plugin)", "MPTCP-plugin", "mptcp_plugin");
    tcp_call_table = register_dissector_table("mptcp_plugin.tcp", "TCP called by the MPTCP plugin",
                                              proto_mptcp_plugin, FT_UINT8, BASE_DEC);

    mptcp_options_register();
    mptcp_analysis_register();
    mptcp_conv_register();
    mptcp_reasm_register();
    mptcp_latency_register();
    mptcp_tap_register();
    mptcp_stats_print_register();
    mptcp_dataorder_register();
    mptcp_stats_register();
    mptcp_follow_register();
    mptcp_vantage_register();

    m = prefs_find_module("mptcp");
    /* make the built-in preferences' defaults what users of this plugin expect: DSNs and
     * reinjections out of the box; -o and preference files still override them */
    pref_analyze = mptcp_epan_adopt_bool_pref(m, "analyze_mptcp", false);
    pref_relative = mptcp_epan_adopt_bool_pref(m, "relative_sequence_numbers", false);
    pref_mappings = mptcp_epan_adopt_bool_pref(m, "analyze_mappings", true);
    pref_reinj = mptcp_epan_adopt_bool_pref(m, "intersubflows_retransmission", true);
    register_init_routine(mptcp_init_routine);
    register_cleanup_routine(mptcp_cleanup_routine);
}

void
proto_reg_handoff_mptcp_plugin(void)
{
    mptcp_protocol = find_protocol_by_id(proto_mptcp);
    tcp_handle = find_dissector("tcp");
    dissector_add_uint("mptcp_plugin.tcp", 6, tcp_handle);
    dissector_add_uint("ip.proto", 6, create_dissector_handle_with_name_and_description(dissect_tcp_wrapper,
                                          proto_tcp, "tcp_mptcp", "TCP with MPTCP analysis"));
    /* On the built-in's "mptcp" protocol, so that the packet's layers read "tcp:mptcp" as with
     * the built-in (frame.protocols, and the GUI enables Analyze > Follow > MPTCP Stream from
     * the layers); replaces the built-in's handle, since plugin handoffs run later. */
    dissector_add_uint("tcp.option", MPTCP_TCPOPT_KIND,
                       create_dissector_handle_with_name_and_description(dissect_mptcp_option, proto_mptcp,
                           "mptcp_plugin_option", "MPTCP option (plugin)"));
    mptcp_epan_tcp_handoff();
    mptcp_options_handoff();
    mptcp_reasm_handoff();
}
