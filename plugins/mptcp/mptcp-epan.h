/* mptcp-epan.h
 * Every read of epan internals and of other dissectors' private state, in one place (as
 * transum's extractors.c): tree visibility and field references, TCP's conversation data,
 * TCP's port table and heuristics, and preferences of other modules. A Wireshark API
 * change outside the public dissector API lands here (renamed APIs: mptcp-compat.h).
 * A leaf: it calls no other file of the plugin.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_EPAN_H
#define MPTCP_EPAN_H

#include "mptcp-compat.h"

#include <epan/packet.h>
#include <epan/prefs.h>

/* ---- the tree: is anybody looking? ----------------------------------------------------- */

/** Forgets the watch list (at each file open, when every field exists). */
void mptcp_epan_watch_reset(void);
/** Watches hfi (NULL is ignored): its use in a filter, column or -e field makes items wanted. */
void mptcp_epan_watch_add(header_field_info *hfi);
/** What identifies tree's dissection (its tree data). Inline: it runs for every packet. */
static inline const void *
mptcp_epan_tree_data(proto_tree *tree)
{
    return tree ? PTREE_DATA(tree) : NULL;
}
/** mptcp_epan_tree_wanted() past its usual answer (mptcp-epan.c). */
bool mptcp_epan_tree_wanted_scan(proto_tree *tree, uint32_t frame);
/** Frame of the last scan that found no watched field referenced (0: none), mptcp-epan.c. */
extern uint32_t mptcp_epan_none_frame;
/** True for a visible tree, a tree that is not faked, or once a watched field is referenced;
 * frame: the frame dissected (a scan that found no watched field holds for the pass's later
 * frames). Inline: the usual answer (a hidden tree after such a scan: false) for every packet. */
static inline bool
mptcp_epan_tree_wanted(proto_tree *tree, uint32_t frame)
{
    if (tree && mptcp_epan_none_frame && frame > mptcp_epan_none_frame && !PTREE_DATA(tree)->visible &&
        PTREE_DATA(tree)->fake_protocols) {
        mptcp_epan_none_frame = frame;
        return false;
    }
    return mptcp_epan_tree_wanted_scan(tree, frame);
}

/* ---- TCP ------------------------------------------------------------------------------- */

/** tcp.stream of the TCP conversation of this 4-tuple at this frame, if TCP has one. */
bool mptcp_epan_tcp_stream(const packet_info *pinfo, const address *src, const address *dst, uint16_t sport,
                           uint16_t dport, uint32_t *stream);
/** The tree TCP made for its layer number layer of this frame (TCP keeps it in proto data). */
proto_tree *mptcp_epan_tcp_tree(packet_info *pinfo, uint32_t layer);
/** Finds TCP's port table, heuristics list and preference (handoff). */
void mptcp_epan_tcp_handoff(void);
/** TCP's choice of an application dissector by port and heuristics (decode_tcp_ports after its
 * conversation step), server_port first when non-zero; the data dissector when none takes it. */
void mptcp_epan_tcp_dispatch(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *tcpinfo,
                             uint32_t server_port);

/** Wireshark 4.0's TCP leaves the Duplicate ACK mark out when its MPTCP analysis had seen a
 * kind of MPTCP option that this TCP direction had not (the built-in's mp_operations). Before
 * TCP analyses a segment (first pass), hands it those bit sets: conn_ops for the connection,
 * fwd_ops for the segment's direction; nothing on 4.4+, where the built-in never does it. */
void mptcp_epan_tcp_dupack_arm(packet_info *pinfo, const address *src, const address *dst, uint16_t sport,
                               uint16_t dport, uint8_t conn_ops, uint8_t fwd_ops);
/** Whether a stand-in is lent (mptcp_epan_tcp_dupack_disarm() tests it inline: once or twice a packet). */
extern bool mptcp_epan_dupack_armed;
void mptcp_epan_tcp_dupack_disarm_armed(void);
/** Takes it back (after TCP's sequence analysis, before TCP queues its "mptcp" tap). */
static inline void
mptcp_epan_tcp_dupack_disarm(void)
{
    if (mptcp_epan_dupack_armed)
        mptcp_epan_tcp_dupack_disarm_armed();
}
/** True if data is what TCP queued on the "mptcp" tap for an armed segment (not the plugin's). */
bool mptcp_epan_tcp_dupack_tap_data(const void *data);

/* ---- preferences of other modules ------------------------------------------------------ */

/** The boolean preference name of module m (NULL if absent); with set_true, its default and
 * current value become true (-o and preference files still override them). */
pref_t *mptcp_epan_adopt_bool_pref(module_t *m, const char *name, bool set_true);
/** Current value of p, fallback when p is NULL. */
bool mptcp_epan_pref_bool(pref_t *p, bool fallback);

#endif /* MPTCP_EPAN_H */
