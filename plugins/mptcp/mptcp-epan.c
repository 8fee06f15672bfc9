/* mptcp-epan.c
 * Reads of epan internals and of TCP's private state (see mptcp-epan.h): the only file that
 * includes prefs-int.h or reads PTREE_DATA, header_field_info.ref_type or struct tcp_analysis.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-epan.h"
#include "mptcp-util.h"

#include <epan/prefs-int.h>
#include <epan/proto_data.h>
#include <epan/conversation.h>
#include <epan/dissectors/packet-tcp.h>

/* {{{ tree visibility */

/* Fields whose use in a filter, column or -e makes the items of the plugin worth adding to a
 * tree that is not visible (tshark -Y/-T fields). Found at each file open. */
static header_field_info **watched;
static unsigned nwatched, watched_cap;
static bool referenced;     /* a field's ref_type is not reset while a file is open: once seen, for good */
/* The scan's "none referenced" holds for the later frames of the same dissection pass: a filter,
 * column or -e field is primed the same way for every frame of a pass, and a new pass (-2, a new
 * filter in the GUI) starts again at a lower frame number. */
uint32_t mptcp_epan_none_frame;     /* frame of the last scan that found none; 0 = no such scan */

void
mptcp_epan_watch_reset(void)
{
    nwatched = 0;
    referenced = false;
    mptcp_epan_none_frame = 0;
}

void
mptcp_epan_watch_add(header_field_info *hfi)
{
    if (!hfi)
        return;
    watched = (header_field_info **)mptcp_grow(NULL, watched, &watched_cap, nwatched + 1, sizeof(*watched));
    watched[nwatched++] = hfi;
}

bool
mptcp_epan_tree_wanted_scan(proto_tree *tree, uint32_t frame)
{
    if (!tree)
        return false;
    if (PTREE_DATA(tree)->visible || !PTREE_DATA(tree)->fake_protocols || referenced)
        return true;
    if (mptcp_epan_none_frame && frame > mptcp_epan_none_frame) {
        mptcp_epan_none_frame = frame;     /* no scan: ~100 fields, a cache line each, on every packet */
        return false;
    }
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
    mptcp_epan_none_frame = referenced ? 0 : frame;
    return referenced;
}
/* }}} */

/* {{{ TCP */

static int proto_tcp = -1;
static dissector_table_t tcp_port_table;
static heur_dissector_list_t tcp_heur_list;
static pref_t *pref_tcp_heur_first;

bool
mptcp_epan_tcp_stream(const packet_info *pinfo, const address *src, const address *dst, uint16_t sport,
                      uint16_t dport, uint32_t *stream)
{
    conversation_t *conv = find_conversation(pinfo->num, src, dst, CONVERSATION_TCP, sport, dport, 0);
    struct tcp_analysis *tcpd = conv ? (struct tcp_analysis *)conversation_get_proto_data(conv, proto_tcp) : NULL;

    if (!tcpd)
        return false;
    *stream = tcpd->stream;
    return true;
}

/* Wireshark 4.0's packet-tcp.c (tcp_analyze_sequence_number): a pure ACK that repeats the
 * previous window, seq and ack is not a Duplicate ACK when tcpd->mptcp_analysis->mp_operations
 * differs from tcpd->fwd->mp_operations (RFC 8684 section 4: MPTCP signals ride on such ACKs);
 * TCP then copies the former into the latter. The plugin replaces the analysis that set
 * tcpd->mptcp_analysis, so for one segment it lends TCP a stand-in that holds the bits. TCP
 * also queues tcpd on the "mptcp" tap while the pointer is set: disarm before (option
 * handler), and the plugin's listeners skip it (mptcp_epan_tcp_dupack_tap_data). */
static struct tcp_analysis *armed_tcpd;
static const void *armed_tap_data;
bool mptcp_epan_dupack_armed;       /**< armed_tcpd != NULL */
#if MPTCP_WS_VERSION < 404
static struct mptcp_analysis armed_ops;
#endif

void
mptcp_epan_tcp_dupack_arm(packet_info *pinfo, const address *src, const address *dst, uint16_t sport,
                          uint16_t dport, uint8_t conn_ops, uint8_t fwd_ops)
{
#if MPTCP_WS_VERSION < 404
    conversation_t *conv = find_conversation(pinfo->num, src, dst, CONVERSATION_TCP, sport, dport, 0);
    struct tcp_analysis *tcpd = conv ? (struct tcp_analysis *)conversation_get_proto_data(conv, proto_tcp) : NULL;
    int dir;

    mptcp_epan_tcp_dupack_disarm();
    if (!tcpd || tcpd->mptcp_analysis)
        return;
    /* TCP's own choice of flow (get_tcp_conversation_data) */
    dir = cmp_address(src, dst);
    if (dir == 0)
        dir = sport > dport ? 1 : -1;
    (dir >= 0 ? &tcpd->flow1 : &tcpd->flow2)->mp_operations = fwd_ops;
    armed_ops.mp_operations = conn_ops;
    tcpd->mptcp_analysis = &armed_ops;
    armed_tcpd = tcpd;
    mptcp_epan_dupack_armed = true;
    armed_tap_data = tcpd;
#else
    (void)pinfo; (void)src; (void)dst; (void)sport; (void)dport; (void)conn_ops; (void)fwd_ops;
#endif
}

void
mptcp_epan_tcp_dupack_disarm_armed(void)
{
    if (armed_tcpd) {
        armed_tcpd->mptcp_analysis = NULL;
        armed_tcpd = NULL;
    }
    mptcp_epan_dupack_armed = false;
}

bool
mptcp_epan_tcp_dupack_tap_data(const void *data)
{
    return data && data == armed_tap_data;
}

proto_tree *
mptcp_epan_tcp_tree(packet_info *pinfo, uint32_t layer)
{
    return (proto_tree *)p_get_proto_data(pinfo->pool, pinfo, proto_tcp, layer);
}

void
mptcp_epan_tcp_handoff(void)
{
    module_t *tcp_module = prefs_find_module("tcp");

    proto_tcp = proto_get_id_by_filter_name("tcp");
    tcp_port_table = find_dissector_table("tcp.port");
    tcp_heur_list = find_heur_dissector_list("tcp");
    pref_tcp_heur_first = tcp_module ? prefs_find_preference(tcp_module, "try_heuristic_first") : NULL;
}

void
mptcp_epan_tcp_dispatch(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *tcpinfo, uint32_t server_port)
{
    /* TCP tries a port whose entry a user changed (Decode As) before the heuristics, the
     * others after them unless try_heuristic_first: server port, then low, then high port */
    uint32_t port[3] = { server_port, MIN(pinfo->srcport, pinfo->destport), MAX(pinfo->srcport, pinfo->destport) };
    bool later[3] = { false, false, false };
    bool heur_first = pref_tcp_heur_first && prefs_get_bool_value(pref_tcp_heur_first, pref_current);
    heur_dtbl_entry_t *hde;

    if (!tcp_port_table || !tcp_heur_list) {
        call_data_dissector(tvb, pinfo, tree);
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (!port[i])
            continue;
        if (!dissector_is_uint_changed(tcp_port_table, port[i]))
            later[i] = true;
        else if (mptcp_dissector_try_uint(tcp_port_table, port[i], tvb, pinfo, tree, TRUE, tcpinfo))
            return;
    }
    if (heur_first && dissector_try_heuristic(tcp_heur_list, tvb, pinfo, tree, &hde, tcpinfo))
        return;
    for (int i = 0; i < 3; i++)
        if (later[i] && mptcp_dissector_try_uint(tcp_port_table, port[i], tvb, pinfo, tree, TRUE, tcpinfo))
            return;
    if (!heur_first && dissector_try_heuristic(tcp_heur_list, tvb, pinfo, tree, &hde, tcpinfo))
        return;
    call_data_dissector(tvb, pinfo, tree);
}
/* }}} */

/* {{{ preferences */

pref_t *
mptcp_epan_adopt_bool_pref(module_t *m, const char *name, bool set_true)
{
    pref_t *p = m ? prefs_find_preference(m, name) : NULL;

    if (p && set_true) {
        prefs_set_bool_value(p, TRUE, pref_default);
        prefs_set_bool_value(p, TRUE, pref_current);
    }
    return p;
}

bool
mptcp_epan_pref_bool(pref_t *p, bool fallback)
{
    return p ? prefs_get_bool_value(p, pref_current) != 0 : fallback;
}
/* }}} */
