/* mptcp-stats.c
 * Per-connection and per-subflow statistics of MPTCP connections:
 *
 *   tshark -z mptcp,stat[,text|,csv|,json][,FILTER]
 *   Wireshark: Statistics > MPTCP Statistics (the same numbers, one table per connection)
 *
 * Fed by the "mptcp_segment" tap, which the TCP wrapper queues for every packet of a subflow
 * linked to an MPTCP connection (mptcp_stats_tap()). Every number comes from the packet's
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
#include "mptcp-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <epan/tap.h>
#include <epan/stat_tap_ui.h>
#include <epan/to_str.h>
#include <epan/dissectors/packet-tcp.h>

static int segment_tap = -1;

/* {{{ the tap */
void
mptcp_stats_tap(tvbuff_t *tvb, packet_info *pinfo, const mptcp_pkt_t *pkt)
{
    mptcp_segment_tap_t *st;
    unsigned cap, end;

    if (!pkt->conn || pkt->ep < 0 || !have_tap_listener(segment_tap))
        return;
    cap = tvb_captured_length(tvb);
    if (cap < 20)
        return;
    st = wmem_new0(pinfo->pool, mptcp_segment_tap_t);
    st->pkt = pkt;
    st->tvb = tvb;
    st->tcp_flags = (uint16_t)(tvb_get_ntohs(tvb, 12) & 0x0fff);
    st->hlen = (unsigned)(mptcp_tvb_u8(tvb, 12) >> 4) * 4;
    end = MIN(st->hlen, cap);
    for (unsigned off = 20; off < end;) {
        uint8_t kind = mptcp_tvb_u8(tvb, off), len;

        if (kind == 0)
            break;
        if (kind == 1) {
            off++;
            continue;
        }
        if (off + 1 >= end)
            break;
        len = mptcp_tvb_u8(tvb, off + 1);
        if (len < 2)
            break;
        if (kind == MPTCP_TCPOPT_KIND && len >= 3 && off + 2 < end)
            st->subtypes |= (uint16_t)(1u << (mptcp_tvb_u8(tvb, off + 2) >> 4));
        off += len;
    }
    tap_queue_packet(segment_tap, pinfo, st);
}
/* }}} */

/* {{{ accumulators */

/** Union of [lo, hi) ranges: sorted, disjoint, non-touching. */
typedef struct {
    uint64_t *lo, *hi;
    unsigned n, cap;
} ivset_t;

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
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->lo = (uint64_t *)g_realloc(s->lo, s->cap * sizeof(uint64_t));
            s->hi = (uint64_t *)g_realloc(s->hi, s->cap * sizeof(uint64_t));
        }
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

/** Exact running nearest-rank percentile: a max-heap of the ceil(p n / 100) smallest values and
 * a min-heap of the others (both as min-heaps, the lower one of negated values). */
typedef struct {
    unsigned pct;
    GArray *low, *high;            /* int64_t */
    uint64_t n;
} qtrack_t;

static void
heap_up(GArray *h, int64_t v)
{
    unsigned i;

    g_array_append_val(h, v);
    i = h->len - 1;
    while (i > 0 && g_array_index(h, int64_t, (i - 1) / 2) > v) {
        g_array_index(h, int64_t, i) = g_array_index(h, int64_t, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    g_array_index(h, int64_t, i) = v;
}

static int64_t
heap_take(GArray *h)
{
    int64_t top = g_array_index(h, int64_t, 0), last = g_array_index(h, int64_t, h->len - 1);
    unsigned i = 0, n = h->len - 1;

    g_array_set_size(h, n);
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && g_array_index(h, int64_t, c + 1) < g_array_index(h, int64_t, c))
            c++;
        if (g_array_index(h, int64_t, c) >= last)
            break;
        g_array_index(h, int64_t, i) = g_array_index(h, int64_t, c);
        i = c;
    }
    if (n)
        g_array_index(h, int64_t, i) = last;
    return top;
}

static void
qtrack_add(qtrack_t *q, int64_t v)
{
    uint64_t k;

    if (!q->low) {
        q->low = g_array_new(FALSE, FALSE, sizeof(int64_t));
        q->high = g_array_new(FALSE, FALSE, sizeof(int64_t));
    }
    q->n++;
    k = (q->n * q->pct + 99) / 100;      /* nearest rank: ceil(p n / 100) */
    if (q->low->len && v <= -g_array_index(q->low, int64_t, 0))
        heap_up(q->low, -v);
    else
        heap_up(q->high, v);
    while (q->low->len > k)
        heap_up(q->high, -heap_take(q->low));
    while (q->low->len < k && q->high->len)
        heap_up(q->low, -heap_take(q->high));
}

static int64_t
qtrack_value(const qtrack_t *q)
{
    return q->low && q->low->len ? -g_array_index(q->low, int64_t, 0) : 0;
}

static void
qtrack_free(qtrack_t *q)
{
    if (q->low) {
        g_array_free(q->low, TRUE);
        g_array_free(q->high, TRUE);
    }
    q->low = q->high = NULL;
    q->n = 0;
}

static const unsigned pcts[] = { 50, 90, 99 };
#define NPCT G_N_ELEMENTS(pcts)

typedef struct {
    uint64_t n, unacked;
    int64_t min, max, sum;         /* ns */
    qtrack_t q[NPCT];
} lat_stat_t;

static void
lat_add(lat_stat_t *l, int64_t v)
{
    if (!l->n || v < l->min)
        l->min = v;
    if (!l->n || v > l->max)
        l->max = v;
    l->sum += v;
    l->n++;
    for (unsigned i = 0; i < NPCT; i++) {
        l->q[i].pct = pcts[i];
        qtrack_add(&l->q[i], v);
    }
}

static void
lat_free(lat_stat_t *l)
{
    for (unsigned i = 0; i < NPCT; i++)
        qtrack_free(&l->q[i]);
    memset(l, 0, sizeof(*l));
}

/** A time of first occurrence (relative to the capture's first packet, ns). */
typedef struct {
    bool set;
    int64_t t;
} when_t;

static void
when_first(when_t *w, int64_t t)
{
    if (!w->set) {
        w->set = true;
        w->t = t;
    }
}

/** One direction of a connection or of a subflow. */
typedef struct {
    uint64_t packets, data_packets, bytes;
    uint64_t reinj_pkts, reinj_bytes;          /* sent */
    uint64_t caused_pkts, caused_bytes;        /* subflows: reinjections elsewhere of data first sent here */
    when_t first_pkt, first_data, data_fin, fin, rst, fastclose;
    int64_t last_pkt, last_data;
} dir_stat_t;

typedef struct {
    const mptcp_subflow_t *sf;
    dir_stat_t d[2];
    bool backup;
    bool join_syn, join_synack, join_ack, unknown_token;
    int row[2];                                /* GUI table rows (-1 = none yet) */
} sf_stat_t;

typedef struct {
    const mptcp_conn_t *conn;
    dir_stat_t d[2];
    int64_t first, last;                       /* first and last packet, both directions */
    bool fallback;
    uint64_t hmac_join_bad, hmac_add_bad;
    ivset_t uniq[2];                           /* relative DSN offsets */
    bool ubase_set[2];
    uint64_t ubase[2];
    uint64_t unique[2];
    GPtrArray *lat_pkts[2];                    /* CLI: segments with new data, latency read when drawn */
    lat_stat_t lat[2];                         /* GUI: accumulated as tapped (the first pass is over) */
    GPtrArray *sfs;                            /* sf_stat_t * by subflow index (holes NULL) */
    stat_tap_table *table;                     /* GUI */
} conn_stat_t;

typedef struct {
    GHashTable *conns;                         /* mptcp_conn_t * -> conn_stat_t * */
} stats_t;

static void
conn_stat_free(gpointer p)
{
    conn_stat_t *c = (conn_stat_t *)p;

    for (int d = 0; d < 2; d++) {
        ivset_free(&c->uniq[d]);
        if (c->lat_pkts[d])
            g_ptr_array_free(c->lat_pkts[d], TRUE);
        lat_free(&c->lat[d]);
    }
    g_ptr_array_free(c->sfs, TRUE);
    g_free(c);
}

static void
stats_init(stats_t *s)
{
    s->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, conn_stat_free);
}

static void
stats_clear(stats_t *s)
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
        c->sfs = g_ptr_array_new_with_free_func(g_free);
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
    const mptcp_conn_t *c = pkt->conn;

    if (!of->n)
        return NULL;
    u.frame = of->v[0];
    for (uint32_t i = 1; i < of->n; i++)
        u.frame = MIN(u.frame, of->v[i]);
    /* the sender's index of transmissions names each frame's subflow */
    mptcp_sent_foreach_overlap(&c->ep[pkt->ep].sent, pkt->dsn64, pkt->dsn64 + pkt->seglen, origin_cb, &u);
    if (u.sf_index < 0 || (guint)u.sf_index >= wmem_array_get_count(c->subflows))
        return NULL;
    return *(mptcp_subflow_t **)wmem_array_index(c->subflows, (guint)u.sf_index);
}

static void
dir_count(dir_stat_t *d, const mptcp_segment_tap_t *st, int64_t t)
{
    const mptcp_pkt_t *pkt = st->pkt;

    d->packets++;
    when_first(&d->first_pkt, t);
    d->last_pkt = t;
    if (pkt->seglen) {
        d->data_packets++;
        d->bytes += pkt->seglen;
        when_first(&d->first_data, t);
        d->last_data = t;
    }
    if (pkt->flags & MPTCP_PF_REINJECTION) {
        d->reinj_pkts++;
        d->reinj_bytes += pkt->seglen;
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

/** Adds one tapped segment; returns the connection and subflow entries it changed. */
static void
stats_packet(stats_t *s, packet_info *pinfo, const mptcp_segment_tap_t *st, bool gui, conn_stat_t **cp,
             sf_stat_t **sp, sf_stat_t **origin_sp, bool *created)
{
    const mptcp_pkt_t *pkt = st->pkt;
    int e = pkt->ep;
    int64_t t = rel_ns(pinfo);
    conn_stat_t *c = conn_stat_get(s, pkt->conn, created);
    sf_stat_t *ss = sf_stat_get(c, pkt->sf);
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

    if (pkt->flags & MPTCP_PF_REINJECTION) {
        const mptcp_subflow_t *o = reinjection_origin(pkt);
        if (o) {
            sf_stat_t *os = sf_stat_get(c, o);
            os->d[e].caused_pkts++;
            os->d[e].caused_bytes += pkt->seglen;
            *origin_sp = os;
        }
    }
    if ((pkt->flags & MPTCP_PF_HAS_DSN) && pkt->seglen) {
        const mptcp_latency_t *lat = mptcp_latency_get(pkt);
        uint64_t lo;

        if (!c->ubase_set[e]) {
            /* relative offsets: headroom for data below the first DSN seen */
            c->ubase[e] = pkt->dsn64 - (UINT64_C(1) << 40);
            c->ubase_set[e] = true;
        }
        lo = pkt->dsn64 - c->ubase[e];
        c->unique[e] += ivset_add(&c->uniq[e], lo, lo + pkt->seglen);
        if (lat && lat->first_frame == pkt->frame) {
            if (gui) {
                if (lat->ack_frame)
                    lat_add(&c->lat[e], lat->ns);
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
    if (pkt->flags & MPTCP_PF_ADD_HMAC_BAD)
        c->hmac_add_bad++;
    if (pkt->flags & MPTCP_PF_FALLBACK)
        c->fallback = true;
}

static bool
sf_join_failed(const sf_stat_t *ss)
{
    return ss->join_syn && (ss->unknown_token || !ss->join_synack || !ss->join_ack);
}

static uint64_t
conn_failed_joins(const conn_stat_t *c)
{
    uint64_t n = 0;

    for (guint i = 0; i < c->sfs->len; i++) {
        const sf_stat_t *ss = (const sf_stat_t *)g_ptr_array_index(c->sfs, i);
        if (ss && sf_join_failed(ss))
            n++;
    }
    return n;
}

static const char *
sf_role(const conn_stat_t *c, const sf_stat_t *ss)
{
    if (c->conn->master == ss->sf)
        return "initial";
    return ss->sf->is_join ? "join" : "inferred";
}

/** Client (side 0) and server (side 1) address and port of a subflow. */
static void
sf_ends(const mptcp_subflow_t *sf, char addr[2][WS_INET6_ADDRSTRLEN], uint16_t port[2])
{
    int c = sf->client_dir;

    address_to_str_buf(&sf->addr[c], addr[0], WS_INET6_ADDRSTRLEN);
    address_to_str_buf(&sf->addr[1 - c], addr[1], WS_INET6_ADDRSTRLEN);
    port[0] = sf->port[c];
    port[1] = sf->port[1 - c];
}

static double
share_pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

static double
goodput(const conn_stat_t *c, int d)
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

static GPtrArray *
sorted_conns(stats_t *s)
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

/* {{{ CLI: tshark -z mptcp,stat[,text|csv|json][,filter] */

enum { OUT_TEXT, OUT_CSV, OUT_JSON };

typedef struct {
    stats_t s;
    int mode;
    char *filter;
} cli_t;

static const char *const dir_names[2] = { "client->server", "server->client" };
static const char *const dir_keys[2] = { "c2s", "s2c" };

/** Seconds with 9 decimals from ns; sign-aware. */
static char *
fmt_s(char *buf, size_t len, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000, a % 1000000000);
    return buf;
}

/** Like fmt_s, or `none` when the event did not happen. */
static const char *
fmt_when(char *buf, size_t len, const when_t *w, const char *none)
{
    return w->set ? fmt_s(buf, len, w->t) : none;
}

/** Computes the latency summary of a direction from the stored per-segment results. */
static void
cli_latency(const conn_stat_t *c, int d, lat_stat_t *l)
{
    memset(l, 0, sizeof(*l));
    for (guint i = 0; c->lat_pkts[d] && i < c->lat_pkts[d]->len; i++) {
        const mptcp_latency_t *lat = mptcp_latency_get((const mptcp_pkt_t *)g_ptr_array_index(c->lat_pkts[d], i));
        if (lat && lat->ack_frame)
            lat_add(l, lat->ns);
        else
            l->unacked++;
    }
}

static double
ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static void
print_totals(GPtrArray *v, uint64_t *conns, uint64_t *sfs, uint64_t *failed, uint64_t *hmac, uint64_t *fallbacks)
{
    *conns = v->len;
    *sfs = *failed = *hmac = *fallbacks = 0;
    for (guint i = 0; i < v->len; i++) {
        const conn_stat_t *c = (const conn_stat_t *)g_ptr_array_index(v, i);
        for (guint k = 0; k < c->sfs->len; k++)
            if (g_ptr_array_index(c->sfs, k))
                (*sfs)++;
        *failed += conn_failed_joins(c);
        *hmac += c->hmac_join_bad + c->hmac_add_bad;
        if (c->fallback)
            (*fallbacks)++;
    }
}

static void
draw_text(cli_t *cli, GPtrArray *v)
{
    char b1[40], b2[40], b3[40], b4[40], b5[40], b6[40];
    uint64_t nconns, nsfs, failed, hmac, fallbacks;

    print_totals(v, &nconns, &nsfs, &failed, &hmac, &fallbacks);
    printf("\n===================================================================================================\n");
    printf("MPTCP Statistics\n");
    printf("Filter: %s\n", cli->filter ? cli->filter : "<none>");
    printf("Connections: %" PRIu64 ", subflows: %" PRIu64 ", failed joins: %" PRIu64 ", HMAC failures: %" PRIu64
           ", fallbacks: %" PRIu64 "\n", nconns, nsfs, failed, hmac, fallbacks);
    printf("Times: seconds since the first packet of the capture. Bytes: TCP payload. Unique: DSN coverage.\n");
    for (guint i = 0; i < v->len; i++) {
        const conn_stat_t *c = (const conn_stat_t *)g_ptr_array_index(v, i);
        const mptcp_conn_t *conn = c->conn;
        const mptcp_subflow_t *sf0 = *(mptcp_subflow_t **)wmem_array_index(conn->subflows, 0);
        char a[2][WS_INET6_ADDRSTRLEN];
        uint16_t p[2];

        sf_ends(sf0, a, p);
        printf("---------------------------------------------------------------------------------------------------\n");
        printf("Connection %u (mptcp.stream == %u): %s:%u <-> %s:%u, ", conn->stream, conn->stream, a[0], p[0], a[1],
               p[1]);
        if (conn->version >= 0)
            printf("MPTCP v%d", conn->version);
        else
            printf("MPTCP version unknown");
        printf("%s, %u subflows\n", conn->inferred ? " (inferred: handshake not captured)" : "",
               wmem_array_get_count(conn->subflows));
        printf("  First packet %s, last packet %s, duration %s\n", fmt_s(b1, sizeof b1, c->first),
               fmt_s(b2, sizeof b2, c->last), fmt_s(b3, sizeof b3, c->last - c->first));
        printf("  Failed joins %" PRIu64 ", HMAC failures %" PRIu64 " (MP_JOIN %" PRIu64 ", ADD_ADDR %" PRIu64
               "), fallback %s\n", conn_failed_joins(c), c->hmac_join_bad + c->hmac_add_bad, c->hmac_join_bad,
               c->hmac_add_bad, c->fallback ? "yes" : "no");
        printf("  %-15s %9s %9s %14s %14s %11s %12s %15s %14s %14s\n", "Direction", "Packets", "Data pkts",
               "Payload bytes", "Unique bytes", "Reinj pkts", "Reinj bytes", "Goodput (B/s)", "DATA_FIN",
               "MP_FASTCLOSE");
        for (int d = 0; d < 2; d++) {
            const dir_stat_t *ds = &c->d[d];
            printf("  %-15s %9" PRIu64 " %9" PRIu64 " %14" PRIu64 " %14" PRIu64 " %11" PRIu64 " %12" PRIu64
                   " %15.1f %14s %14s\n", dir_names[d], ds->packets, ds->data_packets, ds->bytes, c->unique[d],
                   ds->reinj_pkts, ds->reinj_bytes, goodput(c, d), fmt_when(b1, sizeof b1, &ds->data_fin, "-"),
                   fmt_when(b2, sizeof b2, &ds->fastclose, "-"));
        }
        printf("  %-15s %9s %9s %10s %10s %10s %10s %10s %10s\n", "Latency (ms)", "Samples", "Unacked", "Min",
               "Mean", "P50", "P90", "P99", "Max");
        for (int d = 0; d < 2; d++) {
            lat_stat_t l;
            cli_latency(c, d, &l);
            printf("  %-15s %9" PRIu64 " %9" PRIu64 " %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", dir_names[d],
                   l.n, l.unacked, ms(l.min), l.n ? ms(l.sum) / (double)l.n : 0.0, ms(qtrack_value(&l.q[0])),
                   ms(qtrack_value(&l.q[1])), ms(qtrack_value(&l.q[2])), ms(l.max));
            lat_free(&l);
        }
        for (guint k = 0; k < c->sfs->len; k++) {
            const sf_stat_t *ss = (const sf_stat_t *)g_ptr_array_index(c->sfs, k);
            if (!ss)
                continue;
            sf_ends(ss->sf, a, p);
            printf("  Subflow %u: %s%s%s, %s:%u <-> %s:%u", ss->sf->index, sf_role(c, ss), ss->backup ? ", backup" : "",
                   sf_join_failed(ss) ? ", join failed" : "", a[0], p[0], a[1], p[1]);
            if (ss->sf->tcp_stream_known)
                printf(", tcp.stream %u", ss->sf->tcp_stream);
            printf("\n");
            printf("    %-15s %9s %14s %7s %10s %12s %10s %12s %12s %12s %12s %12s %12s %12s\n", "Direction",
                   "Packets", "Payload bytes", "Share%", "Reinj sent", "Sent bytes", "Caused", "Caused bytes",
                   "First data", "Last data", "DATA_FIN", "FIN", "RST", "MP_FASTCLOSE");
            for (int d = 0; d < 2; d++) {
                const dir_stat_t *ds = &ss->d[d];
                printf("    %-15s %9" PRIu64 " %14" PRIu64 " %7.2f %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
                       " %12s %12s %12s %12s %12s %12s\n", dir_names[d], ds->packets, ds->bytes,
                       share_pct(ds->bytes, c->d[d].bytes), ds->reinj_pkts, ds->reinj_bytes, ds->caused_pkts,
                       ds->caused_bytes, fmt_when(b1, sizeof b1, &ds->first_data, "-"),
                       ds->first_data.set ? fmt_s(b2, sizeof b2, ds->last_data) : "-",
                       fmt_when(b3, sizeof b3, &ds->data_fin, "-"), fmt_when(b4, sizeof b4, &ds->fin, "-"),
                       fmt_when(b5, sizeof b5, &ds->rst, "-"), fmt_when(b6, sizeof b6, &ds->fastclose, "-"));
            }
        }
    }
    printf("===================================================================================================\n");
}

/* CSV: one row per connection direction ("connection") and per subflow direction ("subflow");
 * cells that do not apply to a row kind are empty. */
static const char *const csv_cols[] = {
    "record", "stream", "subflow", "role", "backup", "join_failed", "tcp_stream", "client_addr", "client_port",
    "server_addr", "server_port", "direction", "packets", "data_packets", "payload_bytes", "unique_bytes",
    "share_percent", "reinjected_packets", "reinjected_bytes", "reinj_caused_packets", "reinj_caused_bytes",
    "first_packet", "last_packet", "duration", "goodput_Bps", "first_data", "last_data", "data_fin", "fin", "rst",
    "fastclose", "latency_samples", "latency_unacked", "latency_min", "latency_mean", "latency_p50",
    "latency_p90", "latency_p99", "latency_max", "version", "inferred", "subflows", "failed_joins",
    "hmac_failures", "fallback",
};

/** One CSV row: a cell per column, set by name. */
typedef struct {
    char *cell[G_N_ELEMENTS(csv_cols)];
} csv_row_t;

static void G_GNUC_PRINTF(3, 4)
csv_set(csv_row_t *r, const char *col, const char *fmt, ...)
{
    va_list ap;

    for (size_t i = 0; i < G_N_ELEMENTS(csv_cols); i++) {
        if (!strcmp(csv_cols[i], col)) {
            g_free(r->cell[i]);
            va_start(ap, fmt);
            r->cell[i] = g_strdup_vprintf(fmt, ap);
            va_end(ap);
            return;
        }
    }
    DISSECTOR_ASSERT_NOT_REACHED();
}

static void
csv_time(csv_row_t *r, const char *col, int64_t ns)
{
    char b[40];

    csv_set(r, col, "%s", fmt_s(b, sizeof b, ns));
}

static void
csv_when(csv_row_t *r, const char *col, const when_t *w)
{
    if (w->set)
        csv_time(r, col, w->t);
}

static void
csv_emit(csv_row_t *r)
{
    for (size_t i = 0; i < G_N_ELEMENTS(csv_cols); i++) {
        printf("%s%s", i ? "," : "", r->cell[i] ? r->cell[i] : "");
        g_free(r->cell[i]);
        r->cell[i] = NULL;
    }
    printf("\n");
}

/** Cells common to connection and subflow rows of one direction. */
static void
csv_dir(csv_row_t *r, const dir_stat_t *ds)
{
    csv_set(r, "packets", "%" PRIu64, ds->packets);
    csv_set(r, "data_packets", "%" PRIu64, ds->data_packets);
    csv_set(r, "payload_bytes", "%" PRIu64, ds->bytes);
    csv_set(r, "reinjected_packets", "%" PRIu64, ds->reinj_pkts);
    csv_set(r, "reinjected_bytes", "%" PRIu64, ds->reinj_bytes);
    csv_when(r, "first_data", &ds->first_data);
    if (ds->first_data.set)
        csv_time(r, "last_data", ds->last_data);
    csv_when(r, "data_fin", &ds->data_fin);
    csv_when(r, "fastclose", &ds->fastclose);
}

static void
draw_csv(cli_t *cli _U_, GPtrArray *v)
{
    csv_row_t r;

    memset(&r, 0, sizeof(r));
    for (size_t i = 0; i < G_N_ELEMENTS(csv_cols); i++)
        printf("%s%s", i ? "," : "", csv_cols[i]);
    printf("\n");
    for (guint i = 0; i < v->len; i++) {
        const conn_stat_t *c = (const conn_stat_t *)g_ptr_array_index(v, i);
        const mptcp_conn_t *conn = c->conn;
        const mptcp_subflow_t *sf0 = *(mptcp_subflow_t **)wmem_array_index(conn->subflows, 0);
        char a[2][WS_INET6_ADDRSTRLEN];
        uint16_t p[2];

        sf_ends(sf0, a, p);
        for (int d = 0; d < 2; d++) {
            const dir_stat_t *ds = &c->d[d];
            lat_stat_t l;

            csv_set(&r, "record", "connection");
            csv_set(&r, "stream", "%u", conn->stream);
            csv_set(&r, "client_addr", "%s", a[0]);
            csv_set(&r, "client_port", "%u", p[0]);
            csv_set(&r, "server_addr", "%s", a[1]);
            csv_set(&r, "server_port", "%u", p[1]);
            csv_set(&r, "direction", "%s", dir_keys[d]);
            csv_dir(&r, ds);
            csv_set(&r, "unique_bytes", "%" PRIu64, c->unique[d]);
            csv_set(&r, "share_percent", "%.2f", ds->bytes ? 100.0 : 0.0);
            csv_time(&r, "first_packet", c->first);
            csv_time(&r, "last_packet", c->last);
            csv_time(&r, "duration", c->last - c->first);
            csv_set(&r, "goodput_Bps", "%.3f", goodput(c, d));
            cli_latency(c, d, &l);
            csv_set(&r, "latency_samples", "%" PRIu64, l.n);
            csv_set(&r, "latency_unacked", "%" PRIu64, l.unacked);
            if (l.n) {
                csv_time(&r, "latency_min", l.min);
                csv_set(&r, "latency_mean", "%.9f", (double)l.sum / (double)l.n / 1e9);
                csv_time(&r, "latency_p50", qtrack_value(&l.q[0]));
                csv_time(&r, "latency_p90", qtrack_value(&l.q[1]));
                csv_time(&r, "latency_p99", qtrack_value(&l.q[2]));
                csv_time(&r, "latency_max", l.max);
            }
            lat_free(&l);
            if (conn->version >= 0)
                csv_set(&r, "version", "%d", conn->version);
            csv_set(&r, "inferred", "%d", conn->inferred ? 1 : 0);
            csv_set(&r, "subflows", "%u", wmem_array_get_count(conn->subflows));
            csv_set(&r, "failed_joins", "%" PRIu64, conn_failed_joins(c));
            csv_set(&r, "hmac_failures", "%" PRIu64, c->hmac_join_bad + c->hmac_add_bad);
            csv_set(&r, "fallback", "%d", c->fallback ? 1 : 0);
            csv_emit(&r);
        }
        for (guint k = 0; k < c->sfs->len; k++) {
            const sf_stat_t *ss = (const sf_stat_t *)g_ptr_array_index(c->sfs, k);
            if (!ss)
                continue;
            sf_ends(ss->sf, a, p);
            for (int d = 0; d < 2; d++) {
                const dir_stat_t *ds = &ss->d[d];

                csv_set(&r, "record", "subflow");
                csv_set(&r, "stream", "%u", conn->stream);
                csv_set(&r, "subflow", "%u", ss->sf->index);
                csv_set(&r, "role", "%s", sf_role(c, ss));
                csv_set(&r, "backup", "%d", ss->backup ? 1 : 0);
                csv_set(&r, "join_failed", "%d", sf_join_failed(ss) ? 1 : 0);
                if (ss->sf->tcp_stream_known)
                    csv_set(&r, "tcp_stream", "%u", ss->sf->tcp_stream);
                csv_set(&r, "client_addr", "%s", a[0]);
                csv_set(&r, "client_port", "%u", p[0]);
                csv_set(&r, "server_addr", "%s", a[1]);
                csv_set(&r, "server_port", "%u", p[1]);
                csv_set(&r, "direction", "%s", dir_keys[d]);
                csv_dir(&r, ds);
                csv_set(&r, "share_percent", "%.2f", share_pct(ds->bytes, c->d[d].bytes));
                csv_set(&r, "reinj_caused_packets", "%" PRIu64, ds->caused_pkts);
                csv_set(&r, "reinj_caused_bytes", "%" PRIu64, ds->caused_bytes);
                csv_when(&r, "first_packet", &ds->first_pkt);
                if (ds->first_pkt.set)
                    csv_time(&r, "last_packet", ds->last_pkt);
                csv_when(&r, "fin", &ds->fin);
                csv_when(&r, "rst", &ds->rst);
                csv_emit(&r);
            }
        }
    }
}

static void
json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void
json_when(const char *key, const when_t *w, bool comma)
{
    char b[40];

    printf("\"%s\": %s%s", key, w->set ? fmt_s(b, sizeof b, w->t) : "null", comma ? ", " : "");
}

static void
json_dir(const dir_stat_t *ds)
{
    char b[40];

    printf("\"packets\": %" PRIu64 ", \"data_packets\": %" PRIu64 ", \"payload_bytes\": %" PRIu64
           ", \"reinjected_packets\": %" PRIu64 ", \"reinjected_bytes\": %" PRIu64 ", ", ds->packets,
           ds->data_packets, ds->bytes, ds->reinj_pkts, ds->reinj_bytes);
    json_when("first_packet", &ds->first_pkt, true);
    printf("\"last_packet\": %s, ", ds->first_pkt.set ? fmt_s(b, sizeof b, ds->last_pkt) : "null");
    json_when("first_data", &ds->first_data, true);
    printf("\"last_data\": %s, ", ds->first_data.set ? fmt_s(b, sizeof b, ds->last_data) : "null");
    json_when("data_fin", &ds->data_fin, true);
    json_when("fastclose", &ds->fastclose, false);
}

static void
draw_json(cli_t *cli, GPtrArray *v)
{
    char b1[40], b2[40], b3[40];
    uint64_t nconns, nsfs, failed, hmac, fallbacks;

    print_totals(v, &nconns, &nsfs, &failed, &hmac, &fallbacks);
    printf("{\"filter\": ");
    if (cli->filter)
        json_str(cli->filter);
    else
        printf("null");
    printf(",\n \"connections_count\": %" PRIu64 ", \"subflows_count\": %" PRIu64 ", \"failed_joins\": %" PRIu64
           ", \"hmac_failures\": %" PRIu64 ", \"fallbacks\": %" PRIu64 ",\n \"connections\": [", nconns, nsfs, failed,
           hmac, fallbacks);
    for (guint i = 0; i < v->len; i++) {
        const conn_stat_t *c = (const conn_stat_t *)g_ptr_array_index(v, i);
        const mptcp_conn_t *conn = c->conn;
        const mptcp_subflow_t *sf0 = *(mptcp_subflow_t **)wmem_array_index(conn->subflows, 0);
        char a[2][WS_INET6_ADDRSTRLEN];
        uint16_t p[2];
        bool first_sf = true;

        sf_ends(sf0, a, p);
        printf("%s\n  {\"stream\": %u, \"version\": ", i ? "," : "", conn->stream);
        if (conn->version >= 0)
            printf("%d", conn->version);
        else
            printf("null");
        printf(", \"inferred\": %s, \"client\": {\"addr\": \"%s\", \"port\": %u}, \"server\": {\"addr\": \"%s\", "
               "\"port\": %u}, \"subflows_count\": %u,\n", conn->inferred ? "true" : "false", a[0], p[0], a[1], p[1],
               wmem_array_get_count(conn->subflows));
        printf("   \"first_packet\": %s, \"last_packet\": %s, \"duration\": %s, \"failed_joins\": %" PRIu64
               ", \"hmac_failures\": {\"join\": %" PRIu64 ", \"add_addr\": %" PRIu64 "}, \"fallback\": %s,\n",
               fmt_s(b1, sizeof b1, c->first), fmt_s(b2, sizeof b2, c->last), fmt_s(b3, sizeof b3, c->last - c->first),
               conn_failed_joins(c), c->hmac_join_bad, c->hmac_add_bad, c->fallback ? "true" : "false");
        printf("   \"directions\": {");
        for (int d = 0; d < 2; d++) {
            lat_stat_t l;

            cli_latency(c, d, &l);
            printf("%s\n    \"%s\": {", d ? "," : "", dir_keys[d]);
            json_dir(&c->d[d]);
            printf(", \"unique_bytes\": %" PRIu64 ", \"goodput_Bps\": %.3f,\n     \"latency\": {\"samples\": %" PRIu64
                   ", \"unacked\": %" PRIu64, c->unique[d], goodput(c, d), l.n, l.unacked);
            if (l.n) {
                printf(", \"min\": %s, \"mean\": %.9f", fmt_s(b1, sizeof b1, l.min), (double)l.sum / (double)l.n / 1e9);
                for (unsigned q = 0; q < NPCT; q++)
                    printf(", \"p%u\": %s", pcts[q], fmt_s(b1, sizeof b1, qtrack_value(&l.q[q])));
                printf(", \"max\": %s", fmt_s(b1, sizeof b1, l.max));
            } else {
                printf(", \"min\": null, \"mean\": null");
                for (unsigned q = 0; q < NPCT; q++)
                    printf(", \"p%u\": null", pcts[q]);
                printf(", \"max\": null");
            }
            printf("}}");
            lat_free(&l);
        }
        printf("},\n   \"subflows\": [");
        for (guint k = 0; k < c->sfs->len; k++) {
            const sf_stat_t *ss = (const sf_stat_t *)g_ptr_array_index(c->sfs, k);
            if (!ss)
                continue;
            sf_ends(ss->sf, a, p);
            printf("%s\n    {\"index\": %u, \"role\": \"%s\", \"backup\": %s, \"join_failed\": %s, \"tcp_stream\": ",
                   first_sf ? "" : ",", ss->sf->index, sf_role(c, ss), ss->backup ? "true" : "false",
                   sf_join_failed(ss) ? "true" : "false");
            first_sf = false;
            if (ss->sf->tcp_stream_known)
                printf("%u", ss->sf->tcp_stream);
            else
                printf("null");
            printf(", \"client\": {\"addr\": \"%s\", \"port\": %u}, \"server\": {\"addr\": \"%s\", \"port\": %u},\n"
                   "     \"directions\": {", a[0], p[0], a[1], p[1]);
            for (int d = 0; d < 2; d++) {
                const dir_stat_t *ds = &ss->d[d];
                printf("%s\n      \"%s\": {", d ? "," : "", dir_keys[d]);
                json_dir(ds);
                printf(", \"share_percent\": %.4f, \"reinj_caused_packets\": %" PRIu64 ", \"reinj_caused_bytes\": %" PRIu64
                       ", ", share_pct(ds->bytes, c->d[d].bytes), ds->caused_pkts, ds->caused_bytes);
                json_when("fin", &ds->fin, true);
                json_when("rst", &ds->rst, false);
                printf("}");
            }
            printf("}}");
        }
        printf("]}");
    }
    printf("\n]}\n");
}

static tap_packet_status
cli_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    cli_t *cli = (cli_t *)tapdata;
    conn_stat_t *c;
    sf_stat_t *ss, *os;
    bool created;

    stats_packet(&cli->s, pinfo, (const mptcp_segment_tap_t *)data, false, &c, &ss, &os, &created);
    return TAP_PACKET_REDRAW;
}

static void
cli_reset(void *tapdata)
{
    stats_clear(&((cli_t *)tapdata)->s);
}

static void
cli_draw(void *tapdata)
{
    cli_t *cli = (cli_t *)tapdata;
    GPtrArray *v = sorted_conns(&cli->s);

    if (cli->mode == OUT_CSV)
        draw_csv(cli, v);
    else if (cli->mode == OUT_JSON)
        draw_json(cli, v);
    else
        draw_text(cli, v);
    g_ptr_array_free(v, TRUE);
}

static void
cli_finish(void *tapdata)
{
    cli_t *cli = (cli_t *)tapdata;

    g_hash_table_destroy(cli->s.conns);
    g_free(cli->filter);
    g_free(cli);
}

static mptcp_stat_init_ret_t
cli_init(const char *opt_arg, void *userdata _U_)
{
    cli_t *cli = g_new0(cli_t, 1);
    const char *rest = opt_arg + strlen("mptcp,stat");
    GString *err;

    cli->mode = OUT_TEXT;
    if (*rest == ',') {
        const char *arg = rest + 1;
        size_t n = strcspn(arg, ",");
        if ((n == 4 && !strncmp(arg, "text", 4)) || (n == 3 && !strncmp(arg, "csv", 3)) ||
            (n == 4 && !strncmp(arg, "json", 4))) {
            cli->mode = arg[0] == 't' ? OUT_TEXT : arg[0] == 'c' ? OUT_CSV : OUT_JSON;
            rest = arg + n;
        }
    }
    if (*rest == ',' && rest[1])
        cli->filter = g_strdup(rest + 1);
    else if (*rest && strcmp(rest, ",") != 0) {
        fprintf(stderr, "tshark: invalid \"-z %s\": use -z mptcp,stat[,text|,csv|,json][,filter]\n", opt_arg);
        exit(1);
    }
    stats_init(&cli->s);
    err = register_tap_listener(MPTCP_SEGMENT_TAP, cli, cli->filter, TL_REQUIRES_NOTHING, cli_reset, cli_packet,
                                cli_draw, cli_finish);
    if (err) {
        fprintf(stderr, "tshark: couldn't register the mptcp,stat tap: %s\n", err->str);
        g_string_free(err, TRUE);
        g_hash_table_destroy(cli->s.conns);
        g_free(cli->filter);
        g_free(cli);
        exit(1);
    }
    MPTCP_STAT_INIT_RETURN(true);
}
/* }}} */

/* {{{ GUI: Statistics > MPTCP Statistics (a simple statistics table per connection) */

enum {
    COL_SCOPE, COL_PACKETS, COL_BYTES, COL_UNIQUE, COL_SHARE, COL_REINJ_PKTS, COL_REINJ_BYTES, COL_CAUSED_PKTS,
    COL_CAUSED_BYTES, COL_GOODPUT, COL_LAT_N, COL_LAT_MIN, COL_LAT_MEAN, COL_LAT_P50, COL_LAT_P90, COL_LAT_P99,
    COL_LAT_MAX, COL_FIRST_DATA, COL_LAST_DATA, COL_DATA_FIN, COL_FIN, COL_RST, COL_FASTCLOSE, NCOLS
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

    return g_strdup(w->set ? fmt_s(b, sizeof b, w->t) : "");
}

static void
gui_fill_dir(stat_tap_table *t, guint row, const dir_stat_t *ds, uint64_t conn_bytes)
{
    char b[40];

    gui_set(t, row, COL_PACKETS, g_strdup_printf("%" PRIu64, ds->packets));
    gui_set(t, row, COL_BYTES, g_strdup_printf("%" PRIu64, ds->bytes));
    gui_set(t, row, COL_SHARE, g_strdup_printf("%.2f", share_pct(ds->bytes, conn_bytes)));
    gui_set(t, row, COL_REINJ_PKTS, g_strdup_printf("%" PRIu64, ds->reinj_pkts));
    gui_set(t, row, COL_REINJ_BYTES, g_strdup_printf("%" PRIu64, ds->reinj_bytes));
    gui_set(t, row, COL_FIRST_DATA, gui_when(&ds->first_data));
    gui_set(t, row, COL_LAST_DATA, g_strdup(ds->first_data.set ? fmt_s(b, sizeof b, ds->last_data) : ""));
    gui_set(t, row, COL_DATA_FIN, gui_when(&ds->data_fin));
    gui_set(t, row, COL_FASTCLOSE, gui_when(&ds->fastclose));
}

static void
gui_fill_conn(conn_stat_t *c)
{
    for (int d = 0; d < 2; d++) {
        const lat_stat_t *l = &c->lat[d];
        gui_fill_dir(c->table, (guint)d, &c->d[d], c->d[d].bytes);
        gui_set(c->table, (guint)d, COL_UNIQUE, g_strdup_printf("%" PRIu64, c->unique[d]));
        gui_set(c->table, (guint)d, COL_GOODPUT, g_strdup_printf("%.1f", goodput(c, d)));
        gui_set(c->table, (guint)d, COL_LAT_N, g_strdup_printf("%" PRIu64 " (%" PRIu64 " unacked)", l->n, l->unacked));
        gui_set(c->table, (guint)d, COL_LAT_MIN, g_strdup_printf("%.3f", ms(l->min)));
        gui_set(c->table, (guint)d, COL_LAT_MEAN, g_strdup_printf("%.3f", l->n ? ms(l->sum) / (double)l->n : 0.0));
        gui_set(c->table, (guint)d, COL_LAT_P50, g_strdup_printf("%.3f", ms(qtrack_value(&l->q[0]))));
        gui_set(c->table, (guint)d, COL_LAT_P90, g_strdup_printf("%.3f", ms(qtrack_value(&l->q[1]))));
        gui_set(c->table, (guint)d, COL_LAT_P99, g_strdup_printf("%.3f", ms(qtrack_value(&l->q[2]))));
        gui_set(c->table, (guint)d, COL_LAT_MAX, g_strdup_printf("%.3f", ms(l->max)));
    }
}

static char *
gui_sf_scope(const conn_stat_t *c, const sf_stat_t *ss, int d)
{
    char a[2][WS_INET6_ADDRSTRLEN];
    uint16_t p[2];

    sf_ends(ss->sf, a, p);
    return g_strdup_printf("Subflow %u (%s%s%s) %s:%u <-> %s:%u, %s", ss->sf->index, sf_role(c, ss),
                           ss->backup ? ", backup" : "", sf_join_failed(ss) ? ", join failed" : "", a[0], p[0], a[1],
                           p[1], dir_names[d]);
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

    stats_packet(&gui_stats, pinfo, (const mptcp_segment_tap_t *)data, true, &c, &ss, &os, &created);
    if (!c->table) {
        const mptcp_conn_t *conn = c->conn;
        const mptcp_subflow_t *sf0 = *(mptcp_subflow_t **)wmem_array_index(conn->subflows, 0);
        char a[2][WS_INET6_ADDRSTRLEN];
        uint16_t p[2];
        char *title;

        sf_ends(sf0, a, p);
        title = g_strdup_printf("MPTCP connection %u: %s:%u <-> %s:%u", conn->stream, a[0], p[0], a[1], p[1]);
        g_ptr_array_add(gui_titles, title);
        c->table = stat_tap_init_table(title, NCOLS, 0, "mptcp.stream");
        stat_tap_add_table(sd->stat_tap_data, c->table);
        for (int d = 0; d < 2; d++)
            gui_new_row(c->table, (guint)d, g_strdup_printf("Connection, %s", dir_names[d]));
        gui_new_row(c->table, GUI_ROW_COUNTERS, g_strdup(""));
    }
    gui_set(c->table, GUI_ROW_COUNTERS, COL_SCOPE,
            g_strdup_printf("Connection: failed joins %" PRIu64 ", HMAC failures %" PRIu64 ", fallback %s%s",
                            conn_failed_joins(c), c->hmac_join_bad + c->hmac_add_bad, c->fallback ? "yes" : "no",
                            c->conn->inferred ? ", inferred (handshake not captured)" : ""));
    gui_sf_rows(c, ss);
    gui_fill_conn(c);
    if (((const mptcp_segment_tap_t *)data)->pkt->seglen) {
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
        stats_init(&gui_stats);
    stats_clear(&gui_stats);
    gui_tables_free(stu);
    /* tables are created per connection as packets come; reset_stat_table() needs the array */
    if (!stu->tables)
        stu->tables = g_array_new(FALSE, TRUE, sizeof(stat_tap_table *));
}

static void
gui_reset_table(stat_tap_table *t _U_)
{
    /* tables are per connection: the next pass creates them again */
    stats_clear(&gui_stats);
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
    static stat_tap_ui cli_ui = {
        REGISTER_PACKET_STAT_GROUP_UNSORTED,   /* Qt: the Statistics menu */
        "MPTCP Statistics",
        "mptcp,stat",
        cli_init,
        0,
        NULL,
    };
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

    segment_tap = register_tap(MPTCP_SEGMENT_TAP);
    /* tshark: the CLI form (registered first, so tshark's generic table printer for the GUI
     * table below, which has the same -z string, is not used). Wireshark: the table only, so
     * that "wireshark -z mptcp,stat[,filter]" opens the dialog (ws_log_init() sets the
     * program name before the dissectors register). */
    if (g_ascii_strcasecmp(g_get_prgname() ? g_get_prgname() : "", "wireshark") != 0)
        register_stat_tap_ui(&cli_ui, NULL);
    register_stat_tap_table_ui(&gui_ui);
}
