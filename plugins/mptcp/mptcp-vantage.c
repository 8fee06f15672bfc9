/* mptcp-vantage.c
 * Both ends in one view (issue 21): with mptcp.peer_capture set, the capture taken at the other
 * end is read once per file load, before the first packet (mptcp-peer.c, no second dissection),
 * and each segment of this capture is joined to its copy there on the first pass
 * (mptcp-peer-match.c). Rendered on every pass from the stored result:
 *   mptcp.analysis.peer_stream         the peer's MPTCP connection number
 *   mptcp.analysis.peer_frame          the same segment's frame in the peer capture
 *   mptcp.analysis.owd                 receiver time - sender time (signed)
 *   mptcp.analysis.lost_on_path        sent here, never in the peer capture (+ expert info)
 *   mptcp.analysis.reinjection_useful  on reinjections: some byte reached the receiver first
 * A peer file that cannot be used gives one message (console / dialog) and an expert info on
 * the first MPTCP packet; the analysis goes on without it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <math.h>
#include <string.h>

#include <epan/prefs.h>
#include <wsutil/report_message.h>

#include "mptcp-peer.h"

static int hf_peer_stream = -1;
static int hf_peer_frame = -1;
static int hf_owd = -1;
static int hf_lost = -1;
static int hf_reinj_useful = -1;
static expert_field ei_lost = EI_INIT;
static expert_field ei_peer_error = EI_INIT;

static const char *pref_peer_capture = "";
static const char *pref_clock_offset = "0";

static mptcp_peer_matcher_t *matcher;      /* while a file with a usable peer is open */
static char *peer_error;                   /* why the peer capture is not used (g_malloc) */
static uint32_t error_frame;               /* the first MPTCP frame: carries peer_error */
static wmem_map_t *results;                /* frame -> vantage_res_t, file scope */

enum {
    VR_PEER = 1u << 0,
    VR_SENDER = 1u << 1,
    VR_REINJ = 1u << 2,
    VR_USEFUL = 1u << 3,
    VR_LOST = 1u << 4,
    VR_HERE = 1u << 5
};

typedef struct {
    int64_t owd_ns;
    uint32_t peer_frame;
    int32_t peer_conn;
    uint32_t flags;            /* VR_* */
} vantage_res_t;

static int64_t offset_in_force;            /* ns */

bool mptcp_vantage_pending;                /* a matcher, or peer_error still to note */

static void
vantage_reset(void)
{
    mptcp_peer_matcher_free(matcher);
    matcher = NULL;
    g_free(peer_error);
    peer_error = NULL;
    error_frame = 0;
    results = NULL;
    mptcp_vantage_pending = false;
}

static void
vantage_cleanup(void)
{
    vantage_reset();
}

/* Seconds (decimal, signed) -> ns; false if the text is not a number. */
static bool
parse_offset(const char *s, int64_t *ns)
{
    char *end;
    double d;

    if (!s || !*s) {
        *ns = 0;
        return true;
    }
    d = g_ascii_strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || !isfinite(d) || fabs(d) > 1e9)
        return false;
    *ns = (int64_t)llround(d * 1e9);
    return true;
}

void
mptcp_vantage_init(void)
{
    mptcp_peer_index_t *idx;
    int64_t offset_ns;

    vantage_reset();
    if (!pref_peer_capture || !*pref_peer_capture)
        return;
    if (!parse_offset(pref_clock_offset, &offset_ns)) {
        peer_error = g_strdup_printf("MPTCP: mptcp.peer_clock_offset \"%s\" is not a number of seconds; "
                                     "the peer capture is not used", pref_clock_offset);
    } else if ((idx = mptcp_peer_read(pref_peer_capture, &peer_error)) != NULL) {
        matcher = mptcp_peer_matcher_new(idx, offset_ns);
        offset_in_force = offset_ns;
        results = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
        mptcp_vantage_pending = true;
        return;
    }
    mptcp_vantage_pending = true;              /* the note on the first MPTCP packet */
    report_warning("%s", peer_error);
}

/* This capture's segment in the form the peer reader gives (mptcp-peer.h). */
static void
seg_to_peer(const packet_info *pinfo, const mptcp_seg_t *seg, mptcp_peer_seg_t *ps)
{
    memset(ps, 0, offsetof(mptcp_peer_seg_t, opts));
    ps->frame = pinfo->num;
    ps->ts_ns = (int64_t)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
    ps->dir = pinfo->p2p_dir == P2P_DIR_SENT ? MPTCP_PEER_DIR_OUT
            : pinfo->p2p_dir == P2P_DIR_RECV ? MPTCP_PEER_DIR_IN : MPTCP_PEER_DIR_UNKNOWN;
    ps->ipver = seg->src.type == AT_IPv6 ? 6 : 4;
    memcpy(ps->src, seg->src.data, MIN((unsigned)seg->src.len, 16u));
    memcpy(ps->dst, seg->dst.data, MIN((unsigned)seg->dst.len, 16u));
    ps->sport = seg->sport;
    ps->dport = seg->dport;
    ps->ipid = seg->has_ipid ? seg->ipid : 0;
    ps->flags = seg->flags & 0x1ff;
    ps->seq = seg->seq;
    ps->ack = seg->ack;
    ps->len = seg->seglen;
    ps->has_ts = seg->has_ts;
    ps->tsval = seg->tsval;
    for (unsigned i = 0; i < seg->nopts && ps->nopts < MPTCP_PEER_MAX_OPTS; i++)
        if (seg->opts[i].status == MPTCP_OPT_OK)    /* as the peer reader keeps them */
            ps->opts[ps->nopts++] = seg->opts[i];
}

/* The segment matched against the peer capture (a matcher is loaded). Not inlined: without a
 * peer capture, mptcp_vantage_first_pass() is a test or two on every packet. */
static G_GNUC_NO_INLINE void
vantage_match(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt)
{
    mptcp_peer_seg_t ps;
    mptcp_peer_result_t r;
    vantage_res_t *v;

    if (seg->src.type != AT_IPv4 && seg->src.type != AT_IPv6)
        return;
    seg_to_peer(pinfo, seg, &ps);
    mptcp_peer_match(matcher, &ps, &r);
    if (!r.has_peer && !r.lost_on_path && !r.has_reinj_useful)
        return;
    v = wmem_new0(wmem_file_scope(), vantage_res_t);
    v->peer_frame = r.peer_frame;
    v->peer_conn = r.peer_conn;
    v->owd_ns = r.owd_ns;
    v->flags = (r.has_peer ? VR_PEER : 0) | (r.sender_known ? VR_SENDER : 0)
             | (r.has_reinj_useful ? VR_REINJ : 0) | (r.reinj_useful ? VR_USEFUL : 0)
             | (r.lost_on_path ? VR_LOST : 0) | (r.sent_here ? VR_HERE : 0);
    if (r.lost_on_path)
        pkt->flags |= MPTCP_PF_LOST_ON_PATH;
    wmem_map_insert(results, GUINT_TO_POINTER(pinfo->num), v);
}

void
mptcp_vantage_first_pass(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt)
{
    if (matcher) {
        vantage_match(pinfo, seg, pkt);
    } else if (peer_error && !error_frame) {
        error_frame = pinfo->num;
        pkt->flags |= MPTCP_PF_PEER_NOTE;
        mptcp_vantage_pending = false;
    }
}

bool
mptcp_vantage_active(void)
{
    return results != NULL;
}

int64_t
mptcp_vantage_offset_ns(void)
{
    return offset_in_force;
}

bool
mptcp_vantage_lookup(uint32_t frame, mptcp_vantage_info_t *vi)
{
    const vantage_res_t *v = results ? (const vantage_res_t *)wmem_map_lookup(results, GUINT_TO_POINTER(frame)) : NULL;

    if (!v)
        return false;
    vi->has_peer = v->flags & VR_PEER;
    vi->has_owd = (v->flags & (VR_PEER | VR_SENDER)) == (VR_PEER | VR_SENDER);
    vi->sent_here = v->flags & VR_HERE;
    vi->lost = v->flags & VR_LOST;
    vi->has_reinj = v->flags & VR_REINJ;
    vi->useful = v->flags & VR_USEFUL;
    vi->owd_ns = v->owd_ns;
    vi->peer_frame = v->peer_frame;
    vi->peer_conn = v->peer_conn;
    return true;
}

void
mptcp_vantage_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *ai, const mptcp_pkt_t *pkt)
{
    const vantage_res_t *v;
    proto_item *ti;

    if ((pkt->flags & MPTCP_PF_PEER_NOTE) && peer_error)
        expert_add_info_format(pinfo, ai, &ei_peer_error, "%s", peer_error);
    if (!results || !(v = (const vantage_res_t *)wmem_map_lookup(results, GUINT_TO_POINTER(pinfo->num))))
        return;
    if (v->peer_conn >= 0) {
        ti = proto_tree_add_uint(t, hf_peer_stream, tvb, 0, 0, (uint32_t)v->peer_conn);
        proto_item_set_generated(ti);
    }
    if (v->flags & VR_PEER) {
        ti = proto_tree_add_uint(t, hf_peer_frame, tvb, 0, 0, v->peer_frame);
        proto_item_set_generated(ti);
    }
    if ((v->flags & (VR_PEER | VR_SENDER)) == (VR_PEER | VR_SENDER)) {
        nstime_t d;
        d.secs = (time_t)(v->owd_ns / 1000000000);     /* same sign for both parts */
        d.nsecs = (int)(v->owd_ns % 1000000000);
        ti = proto_tree_add_time(t, hf_owd, tvb, 0, 0, &d);
        proto_item_set_generated(ti);
    }
    if (v->flags & VR_LOST) {
        ti = proto_tree_add_boolean(t, hf_lost, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
        expert_add_info(pinfo, ti ? ti : ai, &ei_lost);
    }
    if (v->flags & VR_REINJ) {
        ti = proto_tree_add_boolean(t, hf_reinj_useful, tvb, 0, 0, (v->flags & VR_USEFUL) != 0);
        proto_item_set_generated(ti);
    }
}

void
mptcp_vantage_register(void)
{
    static hf_register_info hf[] = {
        { &hf_peer_stream, { "Peer's stream index", "mptcp.analysis.peer_stream", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MPTCP connection number of this connection in the peer capture (mptcp.peer_capture)", HFILL } },
        { &hf_peer_frame, { "Frame in the peer capture", "mptcp.analysis.peer_frame", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Number of the same segment's frame in the peer capture (not a link into this file)", HFILL } },
        { &hf_owd, { "One-way delay", "mptcp.analysis.owd", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Receiver's time minus sender's time of this segment, the peer's times shifted by "
            "mptcp.peer_clock_offset (negative: the clocks disagree)", HFILL } },
        { &hf_lost, { "Lost on the path", "mptcp.analysis.lost_on_path", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "Data sent by this capture's host that never appears in the peer capture", HFILL } },
        { &hf_reinj_useful, { "Reinjection useful", "mptcp.analysis.reinjection_useful", FT_BOOLEAN, BASE_NONE,
            NULL, 0x0, "True: some of its bytes reached the receiver first through this copy; false: all had "
            "already arrived through another copy, or it was lost", HFILL } },
    };
    static ei_register_info ei[] = {
        { &ei_lost, { "mptcp.analysis.lost_on_path.expert", PI_SEQUENCE, PI_WARN,
            "Segment lost on the path: it never appears in the peer capture", EXPFILL } },
        { &ei_peer_error, { "mptcp.analysis.peer_capture_error", PI_UNDECODED, PI_WARN,
            "The peer capture could not be used", EXPFILL } },
    };
    expert_module_t *em;
    module_t *m;

    proto_register_field_array(proto_mptcp, hf, array_length(hf));
    em = expert_register_protocol(proto_mptcp);
    expert_register_field_array(em, ei, array_length(ei));
    m = prefs_find_module("mptcp");
    if (m) {
        prefs_register_filename_preference(m, "peer_capture", "Peer capture (other end of the connections)",
            "Capture of the same traffic taken at the other end (any format Wireshark reads). "
            "Each segment then shows its frame there, its one-way delay, whether it was lost on the "
            "path and whether a reinjection was useful. Empty: off.", &pref_peer_capture, FALSE);
        prefs_register_string_preference(m, "peer_clock_offset", "Peer capture clock offset (seconds)",
            "Seconds added to the peer capture's time stamps (0: clocks synchronised). "
            "-z mptcp,stat prints an estimate.", &pref_clock_offset);
    }
    register_cleanup_routine(vantage_cleanup);
}
