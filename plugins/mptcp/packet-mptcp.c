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

#include <epan/prefs.h>
#include <epan/prefs-int.h>
#include <epan/conversation.h>
#include <epan/exceptions.h>
#include <epan/dissectors/packet-tcp.h>

int proto_mptcp = -1;
int proto_mptcp_plugin = -1;
mptcp_prefs_t mptcp_prefs;

static int proto_tcp = -1;
static dissector_handle_t tcp_handle;
static dissector_table_t tcp_call_table;   /**< private table: calls TCP without a second layer */

/** The segment TCP is dissecting now (for the option handler); saved and restored around each
 * TCP call, so a TCP layer nested in the payload (tunnels) gets its own and the outer one is
 * back afterwards. A static instead of pinfo proto data: no list insert/remove per packet. */
typedef struct {
    packet_info *pinfo;
    mptcp_pkt_t *pkt;
    const void *tree_data;     /**< the tree that `wanted` was found for */
    bool wanted;               /**< mptcp_tree_wanted() for it, found once per TCP layer */
} current_t;
static current_t current;

static bool tree_wanted(proto_tree *tree);
static void watch_init(void);

static mptcp_pkt_t **pkt_table;    /**< frame number -> first stored result (file scope) */
static uint32_t pkt_table_len;     /**< allocated entries */
static uint32_t pkt_table_used;    /**< entries [0, used) are written (NULL or a result); the rest of
                                    * the allocation is never touched, so it costs no memory */
static uint8_t *pkt_slab;          /**< next free byte of the current slab of results (file scope) */
static size_t pkt_slab_left;

/** Built-in preferences we keep using (tools pass them with -o). */
static pref_t *pref_analyze, *pref_relative, *pref_mappings, *pref_reinj;

static bool
pref_value(pref_t *p, bool fallback)
{
    return p ? prefs_get_bool_value(p, pref_current) != 0 : fallback;
}

static void
mptcp_init_routine(void)
{
    mptcp_prefs.analyze = pref_value(pref_analyze, true);
    mptcp_prefs.relative = pref_value(pref_relative, true);
    mptcp_prefs.mappings = pref_value(pref_mappings, true);
    mptcp_prefs.reinjections = mptcp_prefs.mappings && pref_value(pref_reinj, true);
    mptcp_conn_init();
    mptcp_dsn_init();
    pkt_table = NULL;          /* the file scope that held it is gone */
    pkt_table_len = 0;
    pkt_table_used = 0;
    pkt_slab = NULL;
    pkt_slab_left = 0;
    watch_init();              /* here: Wireshark 4.4+ registers the _ws.expert fields after handoff */
}

/** Parses the raw TCP header and the MPTCP options; false if it is too short to use. */
static bool
parse_segment(tvbuff_t *tvb, packet_info *pinfo, mptcp_seg_t *seg)
{
    unsigned cap = tvb_captured_length(tvb), rep = tvb_reported_length(tvb), off, end;
    const uint8_t *p;

    if (cap < 20)
        return false;
    p = tvb_get_ptr(tvb, 0, cap);
    memset(seg, 0, offsetof(mptcp_seg_t, opts));
    seg->tvb = tvb;
    copy_address_shallow(&seg->src, &pinfo->src);
    copy_address_shallow(&seg->dst, &pinfo->dst);
    seg->sport = (uint16_t)(p[0] << 8 | p[1]);
    seg->dport = (uint16_t)(p[2] << 8 | p[3]);
    seg->seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    seg->ack = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    seg->flags = (uint16_t)((p[12] << 8 | p[13]) & 0x0fff);
    seg->hlen = (unsigned)(p[12] >> 4) * 4;
    if (seg->hlen < 20)
        return false;
    seg->seglen = rep > seg->hlen ? rep - seg->hlen : 0;
    end = seg->hlen < cap ? seg->hlen : cap;
    for (off = 20; off < end && seg->nopts < MPTCP_MAX_OPTS;) {
        uint8_t kind = p[off], len;

        if (kind == 0)
            break;
        if (kind == 1) {
            off++;
            continue;
        }
        if (off + 1 >= end)
            break;
        len = p[off + 1];
        if (len < 2)
            break;
        if (kind == MPTCP_TCPOPT_KIND) {
            mptcp_opt_parse(p + off, end - off, -1, &seg->opts[seg->nopts]);
            seg->opt_offset[seg->nopts] = off;
            seg->nopts++;
        }
        off += len;
    }
    return true;
}

static void
remember_tcp_stream(const mptcp_seg_t *seg, packet_info *pinfo, mptcp_subflow_t *sf)
{
    conversation_t *conv = find_conversation(pinfo->num, &seg->src, &seg->dst, CONVERSATION_TCP,
                                             seg->sport, seg->dport, 0);
    struct tcp_analysis *tcpd = conv ? (struct tcp_analysis *)conversation_get_proto_data(conv, proto_tcp) : NULL;

    if (tcpd) {
        sf->tcp_stream = tcpd->stream;
        sf->tcp_stream_known = true;
    }
}

/* Per-packet results are carved from file-scope slabs: a wmem allocation each would add a
 * 16-byte chunk header and round up to 16 bytes (the block allocator), 15-20 % of a result.
 * Address sanitizer builds keep one allocation each, so overruns stay visible. */
#define PKT_SLAB_SIZE (64 * 1024)
#define PKT_SLAB_ROUND(size) (((size) + 7) & ~(size_t)7)  /* results hold 64-bit fields */

mptcp_pkt_t *
mptcp_pkt_new(size_t size)
{
#ifdef __SANITIZE_ADDRESS__
    return (mptcp_pkt_t *)wmem_alloc0(wmem_file_scope(), size);
#else
    uint8_t *p;

    size = PKT_SLAB_ROUND(size);
    if (size > pkt_slab_left) {
        pkt_slab = (uint8_t *)wmem_alloc(wmem_file_scope(), PKT_SLAB_SIZE);
        pkt_slab_left = PKT_SLAB_SIZE;
    }
    p = pkt_slab;
    pkt_slab += size;
    pkt_slab_left -= size;
    memset(p, 0, size);
    return (mptcp_pkt_t *)p;
#endif
}

void
mptcp_pkt_discard(mptcp_pkt_t *pkt, size_t size)
{
#ifdef __SANITIZE_ADDRESS__
    (void)size;
    wmem_free(wmem_file_scope(), pkt);
#else
    size = PKT_SLAB_ROUND(size);
    if ((uint8_t *)pkt + size == pkt_slab) {
        pkt_slab -= size;
        pkt_slab_left += size;
    }
#endif
}

/* Per-packet results by frame number: one pointer per frame instead of a proto-data list
 * node per packet. A second MPTCP layer in the same frame (tunnels) goes to proto data. */

void
mptcp_analysis_store(packet_info *pinfo, mptcp_pkt_t *pkt)
{
    uint32_t n = pinfo->num;

    pkt->layer = (uint8_t)pinfo->curr_layer_num;
    if (n >= pkt_table_len) {
        uint32_t len = MAX(n + 1, pkt_table_len * 2);
        pkt_table = (mptcp_pkt_t **)wmem_realloc(wmem_file_scope(), pkt_table, len * sizeof(*pkt_table));
        pkt_table_len = len;
    }
    if (n >= pkt_table_used) {
        memset(pkt_table + pkt_table_used, 0, (n + 1 - pkt_table_used) * sizeof(*pkt_table));
        pkt_table_used = n + 1;
    }
    if (!pkt_table[n])
        pkt_table[n] = pkt;
    else
        p_add_proto_data(wmem_file_scope(), pinfo, proto_mptcp_plugin, pinfo->curr_layer_num, pkt);
}

static mptcp_pkt_t *
stored_pkt(packet_info *pinfo, guint32 layer)
{
    mptcp_pkt_t *pkt = pinfo->num < pkt_table_used ? pkt_table[pinfo->num] : NULL;

    if (pkt && pkt->layer == (uint8_t)layer)
        return pkt;
    return pkt ? (mptcp_pkt_t *)p_get_proto_data(wmem_file_scope(), pinfo, proto_mptcp_plugin, layer) : NULL;
}

/** "ip.proto" 6: the MPTCP analysis around the TCP dissector. */
static int
dissect_tcp_wrapper(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    mptcp_seg_t seg;
    mptcp_pkt_t *volatile pkt = NULL;      /* volatile: read in FINALLY (setjmp) */
    volatile bool have_seg = false;
    guint32 layer = pinfo->curr_layer_num;
    volatile int len = 0;
    const current_t saved = current;      /* not modified after TRY: needs no volatile */

    if (!pinfo->flags.in_error_pkt && proto_is_protocol_enabled(find_protocol_by_id(proto_mptcp))) {
        if (!PINFO_FD_VISITED(pinfo)) {
            have_seg = parse_segment(tvb, pinfo, &seg);
            if (have_seg)
                mptcp_analysis_first_pass(pinfo, &seg);
        }
        pkt = stored_pkt(pinfo, layer);
        if (pkt && have_seg)
            mptcp_reasm_first_pass(pinfo, &seg, pkt);
    }
    current.pinfo = pinfo;
    current.pkt = pkt;
    current.tree_data = tree ? PTREE_DATA(tree) : NULL;
    current.wanted = pkt && tree_wanted(tree);
    /* FINALLY: a payload dissector's exception that TCP passes on (e.g. iPerf3 on port 5201
     * in Wireshark 4.4+) must not skip the analysis of this segment; it is rethrown after. */
    TRY {
        len = mptcp_dissector_try_uint(tcp_call_table, 6, tvb, pinfo, tree, FALSE, data);
    }
    FINALLY {
        bool wanted = current.wanted;

        current = saved;            /* first: an exception below must not leave it set */
        if (pkt) {
            if (have_seg && pkt->sf && !pkt->sf->tcp_stream_known)
                remember_tcp_stream(&seg, pinfo, pkt->sf);
            /* a tree nobody sees or filters on gets no items: expert infos and column only */
            mptcp_analysis_render(tvb, pinfo, wanted ?
                                  (proto_tree *)p_get_proto_data(pinfo->pool, pinfo, proto_tcp, layer) : NULL, pkt);
            mptcp_conv_tap(pinfo, pkt);
            mptcp_stats_tap(tvb, pinfo, pkt);          /* [stats] statistics and Follow MPTCP Stream */
            mptcp_reasm_dissect(tvb, pinfo, tree, have_seg ? &seg : NULL, pkt);
        }
    }
    ENDTRY;
    return len;
}

/* Fields whose use in a filter, column or -e makes the items of the plugin worth adding to a
 * tree that is not visible (tshark -Y/-T fields). Found at each file open (watch_init). */
static header_field_info **watched;
static unsigned nwatched;

static void
watch_add(header_field_info *hfi)
{
    if (hfi) {
        watched = (header_field_info **)g_realloc(watched, (nwatched + 1) * sizeof(*watched));
        watched[nwatched++] = hfi;
    }
}

static void
watch_init(void)
{
    int expert = proto_get_id_by_filter_name("_ws.expert");

    nwatched = 0;           /* found again at each file open (cheap): every field exists by now */
    /* a protocol is marked (indirectly) referenced as soon as one of its fields is: that covers
     * mptcp.* and the expert items; the plugin's tcp.options.mptcp.* fields have TCP as parent,
     * so each is watched (TCP itself is referenced by almost any filter) */
    watch_add(proto_registrar_get_nth((guint)proto_mptcp));
    if (expert > 0)
        watch_add(proto_registrar_get_nth((guint)expert));
    /* and the expert fields themselves, in case a version marks only the field it filters on */
    watch_add(proto_registrar_get_byname("_ws.expert.severity"));
    watch_add(proto_registrar_get_byname("_ws.expert.group"));
    watch_add(proto_registrar_get_byname("_ws.expert.message"));
    watch_add(proto_registrar_get_byname("tcp.option_kind"));
    watch_add(proto_registrar_get_byname("tcp.option_len"));
    mptcp_options_watch(watch_add);
}

static bool
tree_wanted(proto_tree *tree)
{
    if (!tree)
        return false;
    static bool referenced;     /* a field's ref_type is never reset: once seen, for good */

    if (PTREE_DATA(tree)->visible || !PTREE_DATA(tree)->fake_protocols || referenced)
        return true;
    G_STATIC_ASSERT(HF_REF_TYPE_NONE == 0);
    /* HF_REF_TYPE_NONE is 0: OR them all (no branch per field; this runs on every packet while
     * nothing is referenced, ~100 fields) */
    unsigned any = 0, i = 0;
    for (; i + 4 <= nwatched; i += 4)
        any |= (unsigned)watched[i]->ref_type | (unsigned)watched[i + 1]->ref_type |
               (unsigned)watched[i + 2]->ref_type | (unsigned)watched[i + 3]->ref_type;
    for (; i < nwatched; i++)
        any |= (unsigned)watched[i]->ref_type;
    if (any != HF_REF_TYPE_NONE)
        referenced = true;
    return referenced;
}

bool
mptcp_tree_wanted(const packet_info *pinfo, proto_tree *tree)
{
    if (!tree)
        return false;
    if (current.pinfo == pinfo && current.pkt && current.tree_data == PTREE_DATA(tree))
        return current.wanted;
    return tree_wanted(tree);
}

/** The per-packet result of the segment TCP is dissecting now (for the option handler). */
mptcp_pkt_t *
mptcp_analysis_get(const packet_info *pinfo)
{
    return current.pinfo == pinfo ? current.pkt : NULL;
}


/* Make the built-in preferences' defaults what users of this plugin expect: DSNs and
 * reinjections out of the box. -o and preference files still override them. */
static pref_t *
adopt_bool_pref(module_t *m, const char *name, bool new_default)
{
    pref_t *p = m ? prefs_find_preference(m, name) : NULL;

    if (p && new_default) {
        prefs_set_bool_value(p, TRUE, pref_default);
        prefs_set_bool_value(p, TRUE, pref_current);
    }
    return p;
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
    mptcp_stats_register();
    mptcp_follow_register();

    m = prefs_find_module("mptcp");
    pref_analyze = adopt_bool_pref(m, "analyze_mptcp", false);
    pref_relative = adopt_bool_pref(m, "relative_sequence_numbers", false);
    pref_mappings = adopt_bool_pref(m, "analyze_mappings", true);
    pref_reinj = adopt_bool_pref(m, "intersubflows_retransmission", true);
    register_init_routine(mptcp_init_routine);
}

void
proto_reg_handoff_mptcp_plugin(void)
{
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
    mptcp_options_handoff();
    mptcp_reasm_handoff();
}
