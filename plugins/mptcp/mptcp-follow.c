/* mptcp-follow.c
 * Follow MPTCP Stream: the application byte stream of one MPTCP connection, per direction, in
 * data sequence (DSN) order, each byte once, whatever subflows carried it and however often it
 * was retransmitted or reinjected (RFC 8684 section 3.3).
 *
 *   tshark -z follow,mptcp,ascii|hex|raw|yaml,N     (N = mptcp.stream)
 *
 * Registered with register_follow_stream() on the "mptcp" protocol (the CLI form is
 * follow,<protocol filter name>), fed by the "mptcp_segment" tap (mptcp-stats.c) with the
 * filter "mptcp.stream eq N".
 *
 * The follow_info_t payload list is kept in final form after every packet, because nothing
 * runs after the last packet before the output is drawn: per direction, pieces tile the stream
 * from its start to the highest byte seen, each piece a record of payload, either bytes (from
 * the first segment that carried them) or a gap record "[N bytes missing in capture file]"
 * (the text Wireshark's TCP follower uses). A segment that fills (part of) a gap later splits
 * the gap record and its bytes are inserted in DSN order; bytes already present are skipped.
 * Records of the two directions interleave in the order the data first appeared. The stream
 * starts at IDSN + 1 when the sender's key is known (so missing leading bytes are a gap), else
 * at the lowest DSN seen. A DATA_ACK of the peer beyond the highest byte seen (but not beyond
 * the DATA_FIN) adds a trailing gap: bytes that the receiver got but the capture did not.
 * Bytes cut by the snap length are missing too.
 *
 * After a fallback (RFC 8684 section 3.7) the stream is the subflow's plain TCP stream (mptcp-dsn.c
 * places it), the payload of a TCP Fast Open SYN comes first (placed once the first pass knows
 * its DSN), and bytes of a mapping that failed its DSS checksum are replaced by the copy sent
 * again (section 3.3.1). Segments whose DSN was learnt only after their first pass
 * (MPTCP_PF_LATE_DSN) are left out on every pass, so one pass and -2 print the same.
 *
 * Limitations: the address form (-z follow,mptcp,raw,A:p,B:q) is not supported (use the index).
 * Wireshark 4.0's Analyze > Follow menu lists only the built-in
 * followers (TCP, UDP, DCCP, TLS, HTTP, HTTP/2, QUIC, SIP), so the GUI cannot open it there.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/follow.h>
#include <epan/tap.h>

typedef struct {
    uint64_t lo, hi;           /**< stream offsets [lo, hi) */
    GList *node;               /**< its follow_record_t in follow_info->payload */
    bool gap;
} piece_t;

typedef struct {
    bool started;
    bool syn_placed;           /**< the SYN's payload (TCP Fast Open) was placed */
    uint64_t base;             /**< raw DSN of offset 0 */
    GArray *pieces;            /**< piece_t by lo, tiling [first lo, last hi) */
} fdir_t;

typedef struct {
    fdir_t d[2];               /**< by sender: 0 client, 1 server */
} fstate_t;

static GHashTable *states;     /**< follow_info_t * -> fstate_t * (freed at file cleanup) */

static void
fstate_free(gpointer p)
{
    fstate_t *fs = (fstate_t *)p;

    for (int d = 0; d < 2; d++)
        if (fs->d[d].pieces)
            g_array_free(fs->d[d].pieces, TRUE);
    g_free(fs);
}

static void
follow_cleanup(void)
{
    if (states)
        g_hash_table_remove_all(states);
}

/* {{{ records */
static follow_record_t *
record_new(bool is_server, const packet_info *pinfo, uint64_t lo)
{
    follow_record_t *r = g_new0(follow_record_t, 1);

    r->is_server = is_server;
    r->packet_num = pinfo->num;
    r->abs_ts = pinfo->abs_ts;
    r->seq = (uint32_t)lo;
    r->data = g_byte_array_new();
    return r;
}

static void
gap_text(follow_record_t *r, uint64_t n)
{
    char *s = g_strdup_printf("[%" PRIu64 " bytes missing in capture file]", n);

    g_byte_array_set_size(r->data, 0);
    g_byte_array_append(r->data, (const guint8 *)s, (guint)strlen(s));
    g_free(s);
}

static follow_record_t *
gap_record(bool is_server, const packet_info *pinfo, uint64_t lo, uint64_t hi)
{
    follow_record_t *r = record_new(is_server, pinfo, lo);

    gap_text(r, hi - lo);
    return r;
}

static follow_record_t *
data_record(follow_info_t *fi, bool is_server, const packet_info *pinfo, uint64_t lo, const uint8_t *bytes,
            uint64_t len)
{
    follow_record_t *r = record_new(is_server, pinfo, lo);

    g_byte_array_append(r->data, bytes, (guint)len);
    fi->bytes_written[is_server] += (guint)len;
    return r;
}

static void
record_free(follow_record_t *r)
{
    g_byte_array_free(r->data, TRUE);
    g_free(r);
}

/* payload is in reverse display order: "display after N" = "list before N". */

/** Inserts r right after node n in display order (n NULL: at the display end); its node. */
static GList *
insert_after(follow_info_t *fi, GList *n, follow_record_t *r)
{
    if (!n) {
        fi->payload = g_list_prepend(fi->payload, r);
        return fi->payload;
    }
    fi->payload = g_list_insert_before(fi->payload, n, r);
    return n->prev;
}

/** Inserts r right before node n in display order. */
static GList *
insert_before(follow_info_t *fi, GList *n, follow_record_t *r)
{
    if (n->next) {
        GList *next = n->next;
        fi->payload = g_list_insert_before(fi->payload, next, r);
        return next->prev;
    }
    fi->payload = g_list_append(fi->payload, r);
    return g_list_last(fi->payload);   /* rare: before the very first record */
}
/* }}} */

static piece_t *
P(fdir_t *d, guint i)
{
    return &g_array_index(d->pieces, piece_t, i);
}

static void
piece_insert(fdir_t *d, guint i, uint64_t lo, uint64_t hi, GList *node, bool gap)
{
    piece_t p;

    p.lo = lo;
    p.hi = hi;
    p.node = node;
    p.gap = gap;
    g_array_insert_val(d->pieces, i, p);
}

/** Fills [x, y) of gap piece i with bytes; returns the number of pieces now covering the old gap. */
static guint
fill_gap(follow_info_t *fi, fdir_t *d, guint i, bool is_server, const packet_info *pinfo, uint64_t x, uint64_t y,
         const uint8_t *bytes)
{
    piece_t g = *P(d, i);
    bool left = x > g.lo, right = y < g.hi;
    follow_record_t *r = data_record(fi, is_server, pinfo, x, bytes, y - x);
    GList *n;

    if (!left && !right) {
        record_free((follow_record_t *)g.node->data);
        g.node->data = r;
        P(d, i)->gap = false;
        return 1;
    }
    if (left && !right) {
        gap_text((follow_record_t *)g.node->data, x - g.lo);
        P(d, i)->hi = x;
        n = insert_after(fi, g.node, r);
        piece_insert(d, i + 1, x, y, n, false);
        return 2;
    }
    if (!left && right) {
        gap_text((follow_record_t *)g.node->data, g.hi - y);
        ((follow_record_t *)g.node->data)->seq = (uint32_t)y;
        P(d, i)->lo = y;
        n = insert_before(fi, g.node, r);
        piece_insert(d, i, x, y, n, false);
        return 2;
    }
    gap_text((follow_record_t *)g.node->data, x - g.lo);
    P(d, i)->hi = x;
    n = insert_after(fi, g.node, r);
    piece_insert(d, i + 1, x, y, n, false);
    n = insert_after(fi, n, gap_record(is_server, pinfo, y, g.hi));
    piece_insert(d, i + 2, y, g.hi, n, true);
    return 3;
}

/** Appends [lo, hi) at the end of the direction (a gap first if lo is beyond the end). */
static void
append_end(follow_info_t *fi, fdir_t *d, bool is_server, const packet_info *pinfo, uint64_t lo, uint64_t hi,
           const uint8_t *bytes)
{
    uint64_t end = d->pieces->len ? P(d, d->pieces->len - 1)->hi : lo;
    GList *n;

    if (lo > end) {
        n = insert_after(fi, NULL, gap_record(is_server, pinfo, end, lo));
        piece_insert(d, d->pieces->len, end, lo, n, true);
    }
    if (bytes) {
        n = insert_after(fi, NULL, data_record(fi, is_server, pinfo, lo, bytes, hi - lo));
        piece_insert(d, d->pieces->len, lo, hi, n, false);
    } else if (hi > lo) {
        n = insert_after(fi, NULL, gap_record(is_server, pinfo, lo, hi));
        piece_insert(d, d->pieces->len, lo, hi, n, true);
    }
}

/** Copies bytes of [a, b) over data piece p (a copy that failed the DSS checksum). */
static void
overwrite(const piece_t *p, uint64_t a, uint64_t b, const uint8_t *bytes)
{
    follow_record_t *r = (follow_record_t *)p->node->data;
    uint64_t x = MAX(a, p->lo), y = MIN(b, p->hi);

    if (y > x && y - p->lo <= r->data->len)
        memcpy(r->data->data + (x - p->lo), bytes + (x - a), (size_t)(y - x));
}

/** Places the bytes of stream offsets [a, b); with repair, they replace bytes already placed. */
static void
place(follow_info_t *fi, fdir_t *d, bool is_server, const packet_info *pinfo, uint64_t a, uint64_t b,
      const uint8_t *bytes, bool repair)
{
    uint64_t start, end;
    guint i, l, h;

    if (b <= a)
        return;
    if (!d->pieces->len) {
        append_end(fi, d, is_server, pinfo, a, b, bytes);
        return;
    }
    start = P(d, 0)->lo;
    end = P(d, d->pieces->len - 1)->hi;
    if (a < start) {
        /* before the first byte seen (no IDSN known): [a, x) and a gap [x, start) */
        uint64_t x = MIN(b, start);
        GList *first = P(d, 0)->node, *n = first;
        if (x < start) {
            n = insert_before(fi, first, gap_record(is_server, pinfo, x, start));
            piece_insert(d, 0, x, start, n, true);
        }
        n = insert_before(fi, n, data_record(fi, is_server, pinfo, a, bytes, x - a));
        piece_insert(d, 0, a, x, n, false);
        if (b <= start)
            return;
        bytes += start - a;
        a = start;
    }
    if (b > end) {
        uint64_t y = MAX(a, end);
        append_end(fi, d, is_server, pinfo, y, b, bytes + (y - a));
        if (a >= end)
            return;
        b = end;
    }
    /* [a, b) lies in the tiled range: fill the gaps it overlaps */
    l = 0;
    h = d->pieces->len;
    while (l < h) {
        guint m = l + (h - l) / 2;
        if (P(d, m)->hi <= a)
            l = m + 1;
        else
            h = m;
    }
    for (i = l; i < d->pieces->len && P(d, i)->lo < b;) {
        piece_t *p = P(d, i);
        if (p->gap) {
            uint64_t x = MAX(a, p->lo), y = MIN(b, p->hi);
            guint k = fill_gap(fi, d, i, is_server, pinfo, x, y, bytes + (x - a));
            /* skip the pieces that replaced the gap, except a trailing gap piece left of b */
            i += k;
            continue;
        }
        if (repair)
            overwrite(p, a, b, bytes);
        i++;
    }
}

static fstate_t *
state_for(follow_info_t *fi)
{
    fstate_t *fs;

    if (!states)
        states = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, fstate_free);
    fs = (fstate_t *)g_hash_table_lookup(states, fi);
    if (fs && fi->client_port == 0 && fi->payload == NULL) {
        g_hash_table_remove(states, fi);       /* the follower was reset: a new run */
        fs = NULL;
    }
    if (!fs) {
        fs = g_new0(fstate_t, 1);
        for (int d = 0; d < 2; d++)
            fs->d[d].pieces = g_array_new(FALSE, FALSE, sizeof(piece_t));
        g_hash_table_insert(states, fi, fs);
    }
    return fs;
}

/** Starts direction e at its first data: offset 0 = IDSN + 1 if the sender's key is known. */
static void
dir_start(fdir_t *d, const mptcp_pkt_t *pkt, int e, uint64_t first_dsn)
{
    if (d->started)
        return;
    d->started = true;
    if (mptcp_pkt_keys(pkt) & (1u << e))
        d->base = mptcp_ep_rel_base(&mptcp_pkt_conn(pkt)->ep[e]) + 1;
    else
        d->base = first_dsn - MPTCP_REL_BASE_HEADROOM;
}

/* A TCP Fast Open SYN's payload (RFC 8684 appendix B) gets its DSN only when the sender's key
 * or the fallback is seen, after the SYN went by on the first pass: its bytes, kept by the
 * first pass, are placed then (again later: bytes already present are skipped). */
static bool
place_syn_data(follow_info_t *fi, fstate_t *fs, const mptcp_conn_t *c, int k, packet_info *pinfo)
{
    const mptcp_syn_data_t *sd = mptcp_ep_syn_data(&c->ep[k]);
    const mptcp_pkt_t *syn = sd ? sd->pkt : NULL;
    fdir_t *d = &fs->d[k];
    uint64_t off;

    if (!syn || !sd->len || d->syn_placed || !(syn->flags & MPTCP_PF_HAS_DSN) || syn->frame > pinfo->num)
        return false;
    d->syn_placed = true;
    dir_start(d, syn, k, mptcp_pkt_dsn64(syn));
    off = mptcp_pkt_dsn64(syn) - d->base;
    if (off >= (UINT64_C(1) << 62))
        return false;
    place(fi, d, k == 1, pinfo, off, off + sd->len, sd->bytes, false);
    return true;
}

static tap_packet_status
follow_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    follow_info_t *fi = (follow_info_t *)tapdata;
    const mptcp_segment_tap_t *st = (const mptcp_segment_tap_t *)data;
    const mptcp_pkt_t *pkt = st->pkt;
    const mptcp_conn_t *c = mptcp_pkt_conn(pkt);
    fstate_t *fs = state_for(fi);
    int e = mptcp_pkt_ep(pkt);
    bool changed = false;

    if (fi->client_port == 0) {
        address addr[2];
        uint16_t port[2];

        mptcp_conn_ends(c, addr, port);
        copy_address(&fi->client_ip, &addr[0]);
        fi->client_port = port[0];
        copy_address(&fi->server_ip, &addr[1]);
        fi->server_port = port[1];
    }
    for (int k = 0; k < 2; k++)
        changed |= place_syn_data(fi, fs, c, k, pinfo);
    if ((pkt->flags & MPTCP_PF_HAS_DSN) && !(pkt->flags & MPTCP_PF_LATE_DSN) && mptcp_pkt_seglen(pkt) > 0) {
        fdir_t *d = &fs->d[e];
        unsigned cap = tvb_captured_length(st->tvb);
        unsigned avail = cap > st->hlen ? cap - st->hlen : 0;
        uint64_t n = MIN((uint64_t)avail, (uint64_t)mptcp_pkt_seglen(pkt)), off;

        dir_start(d, pkt, e, mptcp_pkt_dsn64(pkt));
        off = mptcp_pkt_dsn64(pkt) - d->base;
        if (n && off < (UINT64_C(1) << 62)) {
            place(fi, d, e == 1, pinfo, off, off + n, tvb_get_ptr(st->tvb, st->hlen, (gint)n),
                  mptcp_pkt_xflag(pkt, MPTCP_PX_CSUM_REPAIR));
            changed = true;
        }
    }
    if (pkt->flags & MPTCP_PF_HAS_ACK) {
        /* the peer acknowledges data of the other direction beyond what was captured */
        fdir_t *d = &fs->d[1 - e];
        const mptcp_endpoint_t *snd = &c->ep[1 - e];
        if (d->started && d->pieces->len) {
            uint64_t end = P(d, d->pieces->len - 1)->hi, ack = mptcp_pkt_ack64(pkt) - d->base;
            if (snd->data_fin_seen && snd->data_fin_dsn - d->base < ack)
                ack = snd->data_fin_dsn - d->base;      /* the DATA_FIN takes a DSN but no byte */
            if (ack > end && ack - end < MPTCP_ACK_TRUST_WINDOW) {
                append_end(fi, d, e == 0, pinfo, end, ack, NULL);
                changed = true;
            }
        }
    }
    return changed ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

/* {{{ filters */
static char *
follow_conv_filter(epan_dissect_t *edt _U_, packet_info *pinfo, guint *stream, guint *sub_stream _U_)
{
    mptcp_seg_t seg;
    mptcp_subflow_t *sf;

    /* the selected packet's subflow, by its TCP 4-tuple */
    if (pinfo->ptype != PT_TCP)
        return NULL;
    memset(&seg, 0, sizeof(seg));
    copy_address_shallow(&seg.src, &pinfo->src);
    copy_address_shallow(&seg.dst, &pinfo->dst);
    seg.sport = (uint16_t)pinfo->srcport;
    seg.dport = (uint16_t)pinfo->destport;
    sf = mptcp_subflow_lookup(&seg, NULL);
    if (!sf || !sf->conn)
        return NULL;
    *stream = sf->conn->stream;
    return g_strdup_printf("mptcp.stream eq %u", *stream);
}

static char *
follow_index_filter(guint stream, guint sub_stream _U_)
{
    return g_strdup_printf("mptcp.stream eq %u", stream);
}

static char *
follow_address_filter(address *src_addr _U_, address *dst_addr _U_, int src_port _U_, int dst_port _U_)
{
    return NULL;        /* a subflow's 4-tuple does not name a connection before it is dissected */
}

static char *
follow_port_to_display(wmem_allocator_t *allocator, guint port)
{
    return wmem_strdup_printf(allocator, "%u", port);
}

static uint32_t
follow_stream_count(void)
{
    return mptcp_conn_count();
}
/* }}} */

void
mptcp_follow_register(void)
{
    mptcp_register_follow_stream(proto_mptcp, MPTCP_SEGMENT_TAP, follow_conv_filter, follow_index_filter,
                                 follow_address_filter, follow_port_to_display, follow_packet, follow_stream_count);
    register_cleanup_routine(follow_cleanup);
}
