/* mptcp-stats.c
 * Per-connection and per-subflow statistics of MPTCP connections:
 *
 *   tshark -z mptcp,stat[,text|,csv|,json][,FILTER]
 *   Wireshark: Statistics > MPTCP Statistics (the same numbers, one table per connection)
 *
 * This file: the tap listener, the accumulators and the GUI tables; the tshark printers are in
 * mptcp-stats-print.c. Fed by the "mptcp_segment" tap, which the TCP wrapper queues for every
 * packet of a subflow linked to an MPTCP connection (mptcp-tap.c). Every number comes from the packet's
 * stored first-pass result (mptcp_pkt_t) plus its raw TCP header, so one pass and two passes
 * (-2, the GUI) give the same output. Forward-looking values (the MPTCP latency of a segment
 * is known only when its DATA_ACK has been seen) are read when the output is drawn, after the
 * first pass has ended.
 *
 * Definitions (per connection, per direction client->server / server->client; the client is the
 * host that sent the MP_CAPABLE SYN):
 *   packets        every TCP segment of every subflow sent in that direction
 *   payload bytes  sum of the TCP payload lengths (retransmissions and reinjections included)
 *   unique bytes   size of the union of the segments' [DSN, DSN + length) ranges (DSN coverage)
 *   reinjected     data segments sent on a subflow although an earlier segment of another
 *                  subflow carried (some of) the same data: count and their payload bytes
 *   goodput        unique bytes / connection duration (first to last packet, both directions)
 *   share          a subflow's payload bytes / the connection's payload bytes x 100 (per direction)
 *   caused         a reinjection on B of data first sent on A is caused by A
 *   latency        first transmission of a segment's bytes -> first covering DATA_ACK
 *                  (mptcp.analysis.latency), over the segments that carry new data;
 *                  percentiles are nearest-rank
 *   data order     (mptcp-dataorder.c) max and median (nearest rank) of mptcp.analysis.flight
 *                  over the data segments, time window-limited (from a window-full segment to
 *                  the DATA_ACK that opens the window again; first pass, unfiltered), zero
 *                  windows the peer advertised (first pass, unfiltered), segments ahead of a
 *                  gap and their mptcp.analysis.hol_wait (P50, P99, max, total), spurious
 *                  reinjections (segments, bytes)
 *   failed join    an MP_JOIN SYN whose token matches no connection, or that gets no SYN/ACK
 *                  with MP_JOIN, or no third ACK with MP_JOIN (e.g. reset in the handshake)
 *   HMAC failures  MP_JOIN and ADD_ADDR HMACs that do not match the keys
 *   fallback       the connection fell back to plain TCP (RFC 8684 section 3.7)
 * All counters are 64-bit; an empty direction prints zeros. Times are seconds relative to the
 * first packet of the capture (frame.time_relative).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-stats.h"

#include <stdio.h>

#include <epan/tap.h>
#include <epan/to_str.h>
#include <epan/dissectors/packet-tcp.h>

/* {{{ accumulators */


/** Adds [a, b); returns the number of values it newly covers. */
static uint64_t
ivset_add(ivset_t *s, uint64_t a, uint64_t b)
{
    unsigned i, j, l = 0, h;
    uint64_t covered = 0, na = a, nb = b;

    if (b <= a)
        return 0;
    h = s->n;
    while (l < h) {                 /* first range that ends at or after a */
        unsigned m = l + (h - l) / 2;
        if (s->hi[m] < a)
            l = m + 1;
        else
            h = m;
    }
    i = j = l;
    while (j < s->n && s->lo[j] <= b) {
        uint64_t ol = MAX(a, s->lo[j]), oh = MIN(b, s->hi[j]);
        if (oh > ol)
            covered += oh - ol;
        na = MIN(na, s->lo[j]);
        nb = MAX(nb, s->hi[j]);
        j++;
    }
    if (j == i) {
        unsigned cap = s->cap;

        s->lo = (uint64_t *)mptcp_grow(NULL, s->lo, &cap, s->n + 1, sizeof(uint64_t));
        s->hi = (uint64_t *)mptcp_grow(NULL, s->hi, &s->cap, s->n + 1, sizeof(uint64_t));
        memmove(&s->lo[i + 1], &s->lo[i], (s->n - i) * sizeof(uint64_t));
        memmove(&s->hi[i + 1], &s->hi[i], (s->n - i) * sizeof(uint64_t));
        s->n++;
    } else if (j > i + 1) {
        memmove(&s->lo[i + 1], &s->lo[j], (s->n - j) * sizeof(uint64_t));
        memmove(&s->hi[i + 1], &s->hi[j], (s->n - j) * sizeof(uint64_t));
        s->n -= j - i - 1;
    }
    s->lo[i] = na;
    s->hi[i] = nb;
    return (b - a) - covered;
}

static void
ivset_free(ivset_t *s)
{
    g_free(s->lo);
    g_free(s->hi);
    memset(s, 0, sizeof(*s));
}

static void
when_first(when_t *w, int64_t t)
{
    if (!w->set) {
        w->set = true;
        w->t = t;
    }
}


static void
gui_do_add(gui_do_t *g, const mptcp_pkt_t *pkt)
{
    mptcp_dataorder_t rr;
    const mptcp_dataorder_t *r = &rr;

    if (!mptcp_dataorder_get(pkt, &rr))
        return;
    if (r->flags & MPTCP_DO_FLIGHT) {
        g->flight_n++;
        g->flight_max = MAX(g->flight_max, r->flight);
        g->flight_med.pct = 50;
        mptcp_stats_qtrack_add(&g->flight_med, (int64_t)r->flight);
    }
    if (r->hol_frame)
        mptcp_stats_lat_add(&g->hol, r->hol_ns);
    if (r->flags & MPTCP_DO_SPURIOUS) {
        g->spur_pkts++;
        g->spur_bytes += mptcp_pkt_seglen(pkt);
    }
}

static void
gui_do_free(gui_do_t *g)
{
    mptcp_stats_qtrack_free(&g->flight_med);
    mptcp_stats_lat_free(&g->hol);
}

/** A data segment for the data-order statistics: accumulated now (GUI) or kept to be read
 * when drawn (CLI). */
static void
dataorder_packet(conn_stat_t *c, int e, const mptcp_pkt_t *pkt, bool gui)
{
    if (gui) {
        gui_do_add(&c->gdo[e], pkt);
        return;
    }
    if (!c->do_pkts[e])
        c->do_pkts[e] = g_ptr_array_new();
    g_ptr_array_add(c->do_pkts[e], (gpointer)pkt);
}

static void
conn_stat_free(gpointer p)
{
    conn_stat_t *c = (conn_stat_t *)p;

    for (int d = 0; d < 2; d++) {
        ivset_free(&c->uniq[d]);
        if (c->lat_pkts[d])
            g_ptr_array_free(c->lat_pkts[d], TRUE);
        mptcp_stats_lat_free(&c->lat[d]);
        if (c->do_pkts[d])
            g_ptr_array_free(c->do_pkts[d], TRUE);
        gui_do_free(&c->gdo[d]);
    }
    g_ptr_array_free(c->sfs, TRUE);
    mptcp_vstats_free(c->vantage);
    g_free(c);
}

static void
sf_stat_free(gpointer p)
{
    sf_stat_t *ss = (sf_stat_t *)p;

    if (ss)                    /* holes in the by-index array are NULL */
        mptcp_vstats_free(ss->vantage);
    g_free(ss);
}

void
mptcp_stats_init(stats_t *s)
{
    s->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, conn_stat_free);
}

void
mptcp_stats_clear(stats_t *s)
{
    if (s->conns)
        g_hash_table_remove_all(s->conns);
}

static int64_t
rel_ns(const packet_info *pinfo)
{
    return (int64_t)pinfo->rel_ts.secs * 1000000000 + pinfo->rel_ts.nsecs;
}

static conn_stat_t *
conn_stat_get(stats_t *s, const mptcp_conn_t *conn, bool *created)
{
    conn_stat_t *c = (conn_stat_t *)g_hash_table_lookup(s->conns, conn);

    *created = false;
    if (!c) {
        c = g_new0(conn_stat_t, 1);
        c->conn = conn;
        c->sfs = g_ptr_array_new_with_free_func(sf_stat_free);
        g_hash_table_insert(s->conns, (gpointer)conn, c);
        *created = true;
    }
    return c;
}

static sf_stat_t *
sf_stat_get(conn_stat_t *c, const mptcp_subflow_t *sf)
{
    sf_stat_t *ss;

    if (sf->index >= c->sfs->len)
        g_ptr_array_set_size(c->sfs, sf->index + 1);
    ss = (sf_stat_t *)g_ptr_array_index(c->sfs, sf->index);
    if (!ss) {
        ss = g_new0(sf_stat_t, 1);
        ss->sf = sf;
        ss->row[0] = ss->row[1] = -1;
        g_ptr_array_index(c->sfs, sf->index) = ss;
    }
    return ss;
}

typedef struct {
    uint32_t frame;
    int sf_index;
} origin_ud_t;

static void
origin_cb(mptcp_pkt_t *p, uint32_t sf_index, void *ud)
{
    origin_ud_t *u = (origin_ud_t *)ud;

    if (p->frame == u->frame)
        u->sf_index = (int)sf_index;
}

/** The subflow that first sent the data a reinjection repeats: that of its earliest original. */
static const mptcp_subflow_t *
reinjection_origin(const mptcp_pkt_t *pkt)
{
    const mptcp_frames_t *of = &mptcp_pkt_ext_const(pkt)->reinj_of;
    origin_ud_t u = { 0, -1 };
    const mptcp_conn_t *c = mptcp_pkt_conn(pkt);
    uint64_t dsn;

    if (!of->n)
        return NULL;
    u.frame = of->v[0];
    for (uint32_t i = 1; i < of->n; i++)
        u.frame = MIN(u.frame, of->v[i]);
    /* the sender's index of transmissions names each frame's subflow */
    dsn = mptcp_pkt_dsn64(pkt);
    mptcp_sent_foreach_overlap(&c->ep[mptcp_pkt_ep(pkt)].sent, dsn, dsn + mptcp_pkt_seglen(pkt), origin_cb, &u);
    if (u.sf_index < 0 || (uint32_t)u.sf_index >= c->nsubflows)
        return NULL;
    return mptcp_conn_subflow(c, (uint32_t)u.sf_index);
}

static void
dir_count(dir_stat_t *d, const mptcp_segment_tap_t *st, int64_t t)
{
    const mptcp_pkt_t *pkt = st->pkt;

    d->packets++;
    when_first(&d->first_pkt, t);
    d->last_pkt = t;
    if (mptcp_pkt_seglen(pkt)) {
        d->data_packets++;
        d->bytes += mptcp_pkt_seglen(pkt);
        when_first(&d->first_data, t);
        d->last_data = t;
    }
    if (pkt->flags & MPTCP_PF_REINJECTION) {
        d->reinj_pkts++;
        d->reinj_bytes += mptcp_pkt_seglen(pkt);
    }
    if (pkt->flags & MPTCP_PF_DATA_FIN)
        when_first(&d->data_fin, t);
    if (st->tcp_flags & TH_FIN)
        when_first(&d->fin, t);
    if (st->tcp_flags & TH_RST)
        when_first(&d->rst, t);
    if (st->subtypes & (1u << MPTCP_SUB_FASTCLOSE))
        when_first(&d->fastclose, t);
}

/** Adds [dsn64, + len) of direction e to the connection's unique bytes. */
static void
unique_add(conn_stat_t *c, int e, uint64_t dsn64, uint64_t len)
{
    uint64_t lo;

    if (!c->ubase_set[e]) {
        /* relative offsets: headroom for data below the first DSN seen */
        c->ubase[e] = dsn64 - MPTCP_REL_BASE_HEADROOM;
        c->ubase_set[e] = true;
    }
    lo = dsn64 - c->ubase[e];
    c->unique[e] += ivset_add(&c->uniq[e], lo, lo + len);
}

/* A TCP Fast Open SYN's payload gets its DSN after the SYN's first pass (mptcp-dsn.c): counted
 * once it has one, on every pass alike (as Follow does). */
static void
unique_syn_data(conn_stat_t *c, const mptcp_conn_t *conn, uint32_t frame)
{
    for (int k = 0; k < 2; k++) {
        const mptcp_syn_data_t *sd;
        const mptcp_pkt_t *syn;

        if (c->syn_counted[k] || !conn->ep[k].syn_data)
            continue;
        sd = mptcp_ep_syn_data(&conn->ep[k]);
        syn = sd->pkt;
        if ((syn->flags & MPTCP_PF_HAS_DSN) && syn->frame <= frame) {
            c->syn_counted[k] = true;
            unique_add(c, k, mptcp_pkt_dsn64(syn), mptcp_pkt_seglen(syn));
        }
    }
}

/** Adds one tapped segment; returns the connection and subflow entries it changed. */
void
mptcp_stats_packet(stats_t *s, packet_info *pinfo, const mptcp_segment_tap_t *st, bool gui, conn_stat_t **cp,
             sf_stat_t **sp, sf_stat_t **origin_sp, bool *created)
{
    const mptcp_pkt_t *pkt = st->pkt;
    int e = mptcp_pkt_ep(pkt);
    int64_t t = rel_ns(pinfo);
    conn_stat_t *c = conn_stat_get(s, mptcp_pkt_conn(pkt), created);
    sf_stat_t *ss = sf_stat_get(c, mptcp_pkt_sf(pkt));
    bool syn = st->tcp_flags & TH_SYN, ack = st->tcp_flags & TH_ACK;

    *cp = c;
    *sp = ss;
    *origin_sp = NULL;
    if (!c->d[0].packets && !c->d[1].packets)
        c->first = t;
    c->first = MIN(c->first, t);
    c->last = MAX(c->last, t);
    dir_count(&c->d[e], st, t);
    dir_count(&ss->d[e], st, t);
    mptcp_vstats_add(&c->vantage, &ss->vantage, pinfo->num, e, mptcp_pkt_seglen(pkt));

    if (pkt->flags & MPTCP_PF_REINJECTION) {
        const mptcp_subflow_t *o = reinjection_origin(pkt);
        if (o) {
            sf_stat_t *os = sf_stat_get(c, o);
            os->d[e].caused_pkts++;
            os->d[e].caused_bytes += mptcp_pkt_seglen(pkt);
            *origin_sp = os;
        }
    }
    unique_syn_data(c, mptcp_pkt_conn(pkt), pkt->frame);
    if ((pkt->flags & MPTCP_PF_HAS_DSN) && !(pkt->flags & MPTCP_PF_LATE_DSN) && mptcp_pkt_seglen(pkt)) {
        mptcp_latency_t ll;
        const mptcp_latency_t *lat = mptcp_latency_get(pkt, &ll) ? &ll : NULL;

        unique_add(c, e, mptcp_pkt_dsn64(pkt), mptcp_pkt_seglen(pkt));
        dataorder_packet(c, e, pkt, gui);
        if (lat && lat->first_frame == pkt->frame) {
            if (gui) {
                if (lat->ack_frame)
                    mptcp_stats_lat_add(&c->lat[e], lat->ns);
                else
                    c->lat[e].unacked++;
            } else {
                if (!c->lat_pkts[e])
                    c->lat_pkts[e] = g_ptr_array_new();
                g_ptr_array_add(c->lat_pkts[e], (gpointer)pkt);
            }
        }
    }
    if (pkt->flags & MPTCP_PF_BACKUP)
        ss->backup = true;
    if (st->subtypes & (1u << MPTCP_SUB_JOIN)) {
        if (syn && !ack)
            ss->join_syn = true;
        else if (syn && ack)
            ss->join_synack = true;
        else if (ack && !(st->tcp_flags & TH_RST))
            ss->join_ack = true;
    }
    if (pkt->flags & MPTCP_PF_UNKNOWN_TOKEN)
        ss->unknown_token = true;
    if (pkt->flags & MPTCP_PF_JOIN_HMAC_BAD)
        c->hmac_join_bad++;
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_ADD_HMAC_BAD))
        c->hmac_add_bad++;
    if (pkt->flags & MPTCP_PF_FALLBACK)
        c->fallback = true;
}

bool
mptcp_stats_sf_join_failed(const sf_stat_t *ss)
{
    return ss->join_syn && (ss->unknown_token || !ss->join_synack || !ss->join_ack);
}

uint64_t
mptcp_stats_failed_joins(const conn_stat_t *c)
{
    uint64_t n = 0;

    for (guint i = 0; i < c->sfs->len; i++) {
        const sf_stat_t *ss = (const sf_stat_t *)g_ptr_array_index(c->sfs, i);
        if (ss && mptcp_stats_sf_join_failed(ss))
            n++;
    }
    return n;
}

const char *
mptcp_stats_sf_role(const conn_stat_t *c, const sf_stat_t *ss)
{
    if (c->conn->master == ss->sf)
        return "initial";
    return ss->sf->is_join ? "join" : "inferred";
}

void
mptcp_stats_sf_ends(const mptcp_subflow_t *sf, char addr[2][WS_INET6_ADDRSTRLEN], uint16_t port[2])
{
    address a[2];

    mptcp_subflow_ends(sf, a, port);
    address_to_str_buf(&a[0], addr[0], WS_INET6_ADDRSTRLEN);
    address_to_str_buf(&a[1], addr[1], WS_INET6_ADDRSTRLEN);
}

double
mptcp_stats_share_pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

double
mptcp_stats_goodput(const conn_stat_t *c, int d)
{
    int64_t dur = c->last - c->first;

    return dur > 0 ? (double)c->unique[d] * 1e9 / (double)dur : 0.0;
}

static int
conn_cmp(gconstpointer a, gconstpointer b)
{
    const conn_stat_t *x = *(const conn_stat_t *const *)a, *y = *(const conn_stat_t *const *)b;

    return x->conn->stream < y->conn->stream ? -1 : x->conn->stream > y->conn->stream ? 1 : 0;
}

GPtrArray *
mptcp_stats_sorted(stats_t *s)
{
    GPtrArray *v = g_ptr_array_new();
    GHashTableIter it;
    gpointer val;

    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, NULL, &val))
        g_ptr_array_add(v, val);
    g_ptr_array_sort(v, conn_cmp);
    return v;
}
/* }}} */

char *
mptcp_stats_fmt_s(char *buf, size_t len, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000, a % 1000000000);
    return buf;
}

double
mptcp_stats_ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* {{{ GUI: Statistics > MPTCP Statistics (a simple statistics table per connection) */

enum {
    COL_SCOPE, COL_PACKETS, COL_BYTES, COL_UNIQUE, COL_SHARE, COL_REINJ_PKTS, COL_REINJ_BYTES, COL_CAUSED_PKTS,
    COL_CAUSED_BYTES, COL_GOODPUT, COL_LAT_N, COL_LAT_MIN, COL_LAT_MEAN, COL_LAT_P50, COL_LAT_P90, COL_LAT_P99,
    COL_LAT_MAX, COL_FIRST_DATA, COL_LAST_DATA, COL_DATA_FIN, COL_FIN, COL_RST, COL_FASTCLOSE,
    COL_FLIGHT_MAX, COL_FLIGHT_MED, COL_WIN_LIMITED, COL_ZERO_WND, COL_AHEAD, COL_HOL_P50, COL_HOL_P99,
    COL_HOL_MAX, COL_HOL_TOTAL, COL_SPUR_PKTS, COL_SPUR_BYTES,
    COL_PEER_FIRST, COL_PEER_LAST = COL_PEER_FIRST + MPTCP_VSTATS_GUI_COLS - 1, NCOLS
};

static stat_tap_table_item gui_fields[NCOLS] = {
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Scope", "%-40s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Packets", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Payload bytes", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Unique bytes", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Share %", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Reinj. pkts", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Reinj. bytes", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Caused reinj. pkts", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Caused reinj. bytes", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Goodput (B/s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Latency samples", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Min (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Mean (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "P50 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "P90 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "P99 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Max (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "First data (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Last data (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "DATA_FIN (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "FIN (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "RST (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "MP_FASTCLOSE (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Flight max", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Flight median", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Window-limited (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Zero windows", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Ahead of a gap", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "HoL P50 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "HoL P99 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "HoL max (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "HoL total (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Spurious reinj. pkts", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Spurious reinj. bytes", "%s" },
    /* with a peer capture (mptcp.peer_capture), else empty: mptcp_vstats_gui_cells() */
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Peer stream", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Clock offset estimate (s)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "One-way delay min (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "One-way delay mean (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "One-way delay P50 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "One-way delay P99 (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "One-way delay max (ms)", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Lost on path", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Useful reinj.", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Wasted reinj.", "%s" },
};

static stats_t gui_stats;          /**< the dialog's state (one table set per stat_tap_table_ui) */
static GPtrArray *gui_titles;      /**< table titles (stat_tap_table does not own them) */

static void
gui_set(stat_tap_table *t, guint row, guint col, char *s)
{
    stat_tap_table_item_type *f = stat_tap_get_field_data(t, row, col);

    g_free((char *)f->value.string_value);
    f->type = TABLE_ITEM_STRING;
    f->value.string_value = s;
}

static char *
gui_when(const when_t *w)
{
    char b[40];

    return g_strdup(w->set ? mptcp_stats_fmt_s(b, sizeof b, w->t) : "");
}

static void
gui_fill_dir(stat_tap_table *t, guint row, const dir_stat_t *ds, uint64_t conn_bytes)
{
    char b[40];

    gui_set(t, row, COL_PACKETS, g_strdup_printf("%" PRIu64, ds->packets));
    gui_set(t, row, COL_BYTES, g_strdup_printf("%" PRIu64, ds->bytes));
    gui_set(t, row, COL_SHARE, g_strdup_printf("%.2f", mptcp_stats_share_pct(ds->bytes, conn_bytes)));
    gui_set(t, row, COL_REINJ_PKTS, g_strdup_printf("%" PRIu64, ds->reinj_pkts));
    gui_set(t, row, COL_REINJ_BYTES, g_strdup_printf("%" PRIu64, ds->reinj_bytes));
    gui_set(t, row, COL_FIRST_DATA, gui_when(&ds->first_data));
    gui_set(t, row, COL_LAST_DATA, g_strdup(ds->first_data.set ? mptcp_stats_fmt_s(b, sizeof b, ds->last_data) : ""));
    gui_set(t, row, COL_DATA_FIN, gui_when(&ds->data_fin));
    gui_set(t, row, COL_FASTCLOSE, gui_when(&ds->fastclose));
}

static void
gui_fill_dataorder(conn_stat_t *c, int d)
{
    const gui_do_t *g = &c->gdo[d];
    mptcp_do_dir_stats_t ds;
    char b[40];
    guint row = (guint)d;

    mptcp_dataorder_dir_stats(c->conn, d, &ds);
    gui_set(c->table, row, COL_FLIGHT_MAX, g_strdup_printf("%" PRIu64, g->flight_max));
    gui_set(c->table, row, COL_FLIGHT_MED, g_strdup_printf("%" PRId64, mptcp_stats_quantile(&g->flight_med)));
    gui_set(c->table, row, COL_WIN_LIMITED, g_strdup(mptcp_stats_fmt_s(b, sizeof b, ds.window_limited_ns)));
    gui_set(c->table, row, COL_ZERO_WND, g_strdup_printf("%" PRIu64, ds.zero_windows));
    gui_set(c->table, row, COL_AHEAD, g_strdup_printf("%" PRIu64, g->hol.n));
    gui_set(c->table, row, COL_HOL_P50, g_strdup_printf("%.3f", mptcp_stats_ms(mptcp_stats_quantile(&g->hol.q[0]))));
    gui_set(c->table, row, COL_HOL_P99, g_strdup_printf("%.3f", mptcp_stats_ms(mptcp_stats_quantile(&g->hol.q[2]))));
    gui_set(c->table, row, COL_HOL_MAX, g_strdup_printf("%.3f", mptcp_stats_ms(g->hol.max)));
    gui_set(c->table, row, COL_HOL_TOTAL, g_strdup(mptcp_stats_fmt_s(b, sizeof b, g->hol.sum)));
    gui_set(c->table, row, COL_SPUR_PKTS, g_strdup_printf("%" PRIu64, g->spur_pkts));
    gui_set(c->table, row, COL_SPUR_BYTES, g_strdup_printf("%" PRIu64, g->spur_bytes));
}

static void
gui_fill_peer(stat_tap_table *t, guint row, const mptcp_vstats_t *v, int d, bool conn_row)
{
    char *cells[MPTCP_VSTATS_GUI_COLS];

    mptcp_vstats_gui_cells(v, d, conn_row, cells);
    for (int i = 0; i < MPTCP_VSTATS_GUI_COLS; i++)
        gui_set(t, row, (guint)(COL_PEER_FIRST + i), cells[i]);
}

static void
gui_fill_conn(conn_stat_t *c)
{
    for (int d = 0; d < 2; d++) {
        const lat_stat_t *l = &c->lat[d];
        gui_fill_dir(c->table, (guint)d, &c->d[d], c->d[d].bytes);
        gui_set(c->table, (guint)d, COL_UNIQUE, g_strdup_printf("%" PRIu64, c->unique[d]));
        gui_set(c->table, (guint)d, COL_GOODPUT, g_strdup_printf("%.1f", mptcp_stats_goodput(c, d)));
        gui_set(c->table, (guint)d, COL_LAT_N, g_strdup_printf("%" PRIu64 " (%" PRIu64 " unacked)", l->n, l->unacked));
        gui_set(c->table, (guint)d, COL_LAT_MIN, g_strdup_printf("%.3f", mptcp_stats_ms(l->min)));
        gui_set(c->table, (guint)d, COL_LAT_MEAN, g_strdup_printf("%.3f", l->n ? mptcp_stats_ms(l->sum) / (double)l->n : 0.0));
        gui_set(c->table, (guint)d, COL_LAT_P50, g_strdup_printf("%.3f", mptcp_stats_ms(mptcp_stats_quantile(&l->q[0]))));
        gui_set(c->table, (guint)d, COL_LAT_P90, g_strdup_printf("%.3f", mptcp_stats_ms(mptcp_stats_quantile(&l->q[1]))));
        gui_set(c->table, (guint)d, COL_LAT_P99, g_strdup_printf("%.3f", mptcp_stats_ms(mptcp_stats_quantile(&l->q[2]))));
        gui_set(c->table, (guint)d, COL_LAT_MAX, g_strdup_printf("%.3f", mptcp_stats_ms(l->max)));
        gui_fill_dataorder(c, d);
        gui_fill_peer(c->table, (guint)d, c->vantage, d, true);
    }
}

static char *
gui_sf_scope(const conn_stat_t *c, const sf_stat_t *ss, int d)
{
    char a[2][WS_INET6_ADDRSTRLEN];
    uint16_t p[2];

    mptcp_stats_sf_ends(ss->sf, a, p);
    return g_strdup_printf("Subflow %u (%s%s%s) %s:%u <-> %s:%u, %s", ss->sf->index, mptcp_stats_sf_role(c, ss),
                           ss->backup ? ", backup" : "", mptcp_stats_sf_join_failed(ss) ? ", join failed" : "", a[0], p[0], a[1],
                           p[1], mptcp_stats_dir_names[d]);
}

static void
gui_fill_sf(conn_stat_t *c, sf_stat_t *ss)
{
    for (int d = 0; d < 2; d++) {
        const dir_stat_t *ds = &ss->d[d];
        guint row = (guint)ss->row[d];
        gui_set(c->table, row, COL_SCOPE, gui_sf_scope(c, ss, d));
        gui_fill_dir(c->table, row, ds, c->d[d].bytes);
        gui_set(c->table, row, COL_CAUSED_PKTS, g_strdup_printf("%" PRIu64, ds->caused_pkts));
        gui_set(c->table, row, COL_CAUSED_BYTES, g_strdup_printf("%" PRIu64, ds->caused_bytes));
        gui_set(c->table, row, COL_FIN, gui_when(&ds->fin));
        gui_set(c->table, row, COL_RST, gui_when(&ds->rst));
        gui_fill_peer(c->table, row, ss->vantage, d, false);
    }
}

static void
gui_new_row(stat_tap_table *t, guint row, char *scope)
{
    stat_tap_table_item_type items[NCOLS];

    memset(items, 0, sizeof(items));
    for (int i = 0; i < NCOLS; i++) {
        items[i].type = TABLE_ITEM_STRING;
        items[i].value.string_value = g_strdup("");
    }
    g_free((char *)items[COL_SCOPE].value.string_value);
    items[COL_SCOPE].value.string_value = scope;
    stat_tap_init_table_row(t, row, NCOLS, items);
}

static void
gui_sf_rows(conn_stat_t *c, sf_stat_t *ss)
{
    if (ss->row[0] >= 0)
        return;
    for (int d = 0; d < 2; d++) {
        ss->row[d] = (int)c->table->num_elements;
        gui_new_row(c->table, (guint)ss->row[d], gui_sf_scope(c, ss, d));
    }
}

#define GUI_ROW_COUNTERS 2         /**< rows 0, 1: the connection's directions; 2: its counters */

static tap_packet_status
gui_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    stat_data_t *sd = (stat_data_t *)tapdata;
    conn_stat_t *c;
    sf_stat_t *ss, *os;
    bool created;

    mptcp_stats_packet(&gui_stats, pinfo, (const mptcp_segment_tap_t *)data, true, &c, &ss, &os, &created);
    if (!c->table) {
        const mptcp_conn_t *conn = c->conn;
        const mptcp_subflow_t *sf0 = mptcp_conn_first_subflow(conn);
        char a[2][WS_INET6_ADDRSTRLEN];
        uint16_t p[2];
        char *title;

        mptcp_stats_sf_ends(sf0, a, p);
        title = g_strdup_printf("MPTCP connection %u: %s:%u <-> %s:%u", conn->stream, a[0], p[0], a[1], p[1]);
        g_ptr_array_add(gui_titles, title);
        c->table = stat_tap_init_table(title, NCOLS, 0, "mptcp.stream");
        stat_tap_add_table(sd->stat_tap_data, c->table);
        for (int d = 0; d < 2; d++)
            gui_new_row(c->table, (guint)d, g_strdup_printf("Connection, %s", mptcp_stats_dir_names[d]));
        gui_new_row(c->table, GUI_ROW_COUNTERS, g_strdup(""));
    }
    gui_set(c->table, GUI_ROW_COUNTERS, COL_SCOPE,
            g_strdup_printf("Connection: failed joins %" PRIu64 ", HMAC failures %" PRIu64 ", fallback %s%s",
                            mptcp_stats_failed_joins(c), c->hmac_join_bad + c->hmac_add_bad, c->fallback ? "yes" : "no",
                            c->conn->inferred ? ", inferred (handshake not captured)" : ""));
    gui_sf_rows(c, ss);
    gui_fill_conn(c);
    if (mptcp_pkt_seglen(((const mptcp_segment_tap_t *)data)->pkt)) {
        /* the share of every subflow changes with the connection's bytes */
        for (guint k = 0; k < c->sfs->len; k++) {
            sf_stat_t *s2 = (sf_stat_t *)g_ptr_array_index(c->sfs, k);
            if (s2) {
                gui_sf_rows(c, s2);
                gui_fill_sf(c, s2);
            }
        }
    } else {
        gui_fill_sf(c, ss);             /* (a reinjection, which changes its origin too, has data) */
    }
    return TAP_PACKET_REDRAW;
}

static void
gui_tables_free(stat_tap_table_ui *stu)
{
    if (stu->tables && stu->tables->len)
        free_stat_tables(stu);
    if (gui_titles)
        g_ptr_array_set_size(gui_titles, 0);
}

static void
gui_init(stat_tap_table_ui *stu)
{
    if (!gui_titles)
        gui_titles = g_ptr_array_new_with_free_func(g_free);
    if (!gui_stats.conns)
        mptcp_stats_init(&gui_stats);
    mptcp_stats_clear(&gui_stats);
    gui_tables_free(stu);
    /* tables are created per connection as packets come; reset_stat_table() needs the array */
    if (!stu->tables)
        stu->tables = g_array_new(FALSE, TRUE, sizeof(stat_tap_table *));
}

static void
gui_reset_table(stat_tap_table *t _U_)
{
    /* tables are per connection: the next pass creates them again */
    mptcp_stats_clear(&gui_stats);
}

static void
gui_free_item(stat_tap_table *t _U_, guint row _U_, guint col _U_, stat_tap_table_item_type *f)
{
    if (f->type == TABLE_ITEM_STRING) {
        g_free((char *)f->value.string_value);
        f->value.string_value = NULL;
    }
}
/* }}} */

void
mptcp_stats_register(void)
{
    static tap_param gui_params[] = {
        { PARAM_FILTER, "filter", "Filter", NULL, TRUE },
    };
    static stat_tap_table_ui gui_ui = {
        REGISTER_PACKET_STAT_GROUP_UNSORTED,
        "MPTCP Statistics",
        MPTCP_SEGMENT_TAP,
        "mptcp,stat",
        gui_init,
        gui_packet,
        gui_reset_table,
        gui_free_item,
        NULL,
        G_N_ELEMENTS(gui_fields),
        gui_fields,
        G_N_ELEMENTS(gui_params),
        gui_params,
        NULL,
        0,
    };

    /* after mptcp_stats_print_register() (tshark's CLI form of the same -z string) */
    register_stat_tap_table_ui(&gui_ui);
}

