/* mptcp-stats-print.c
 * tshark -z mptcp,stat[,text|,csv|,json][,FILTER]: the printers of the statistics model
 * (mptcp-stats.h). One walk over the rows (report_walk: connections by stream, then their
 * subflows) and one printer per format with the same five steps, so a new number is added to
 * the model once and to each printer where its row is printed. Definitions: mptcp-stats.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <epan/tap.h>

enum { OUT_TEXT, OUT_CSV, OUT_JSON };

typedef struct {
    stats_t s;
    int mode;
    char *filter;
} cli_t;

static const char *const dir_keys[2] = { "c2s", "s2c" };

/* {{{ the rows */

/** A connection's row: its numbers and what every printer derives from them. */
typedef struct {
    const conn_stat_t *c;
    guint index;                            /**< position in the report */
    char addr[2][WS_INET6_ADDRSTRLEN];      /**< client [0] and server [1] end */
    uint16_t port[2];
    lat_stat_t lat[2];                      /**< latency per direction, read from the stored results */
    mptcp_do_summary_t dord[2];             /**< data order per direction (mptcp-dataorder.c) */
} conn_row_t;

/** A subflow's row. */
typedef struct {
    const sf_stat_t *ss;
    guint index;                            /**< position among the connection's listed subflows */
    char addr[2][WS_INET6_ADDRSTRLEN];
    uint16_t port[2];
} sf_row_t;

/** Totals over the report. */
typedef struct {
    uint64_t conns, sfs, failed, hmac, fallbacks;
} totals_t;

typedef struct {
    void (*begin)(const cli_t *cli, const totals_t *tot);
    void (*conn)(const conn_row_t *r);
    void (*subflow)(const conn_row_t *cr, const sf_row_t *r);
    void (*conn_end)(const conn_row_t *r);
    void (*end)(void);
} printer_t;

/** Seconds with 9 decimals, or `none` when the event did not happen. */
static const char *
fmt_when(char *buf, size_t len, const when_t *w, const char *none)
{
    return w->set ? mptcp_stats_fmt_s(buf, len, w->t) : none;
}

/** The latency summary of a direction from the stored per-segment results. */
static void
row_latency(const conn_stat_t *c, int d, lat_stat_t *l)
{
    memset(l, 0, sizeof(*l));
    for (guint i = 0; c->lat_pkts[d] && i < c->lat_pkts[d]->len; i++) {
        mptcp_latency_t lat;
        if (mptcp_latency_get((const mptcp_pkt_t *)g_ptr_array_index(c->lat_pkts[d], i), &lat) && lat.ack_frame)
            mptcp_stats_lat_add(l, lat.ns);
        else
            l->unacked++;
    }
}

static void
report_totals(GPtrArray *v, totals_t *tot)
{
    memset(tot, 0, sizeof(*tot));
    tot->conns = v->len;
    for (guint i = 0; i < v->len; i++) {
        const conn_stat_t *c = (const conn_stat_t *)g_ptr_array_index(v, i);
        for (guint k = 0; k < c->sfs->len; k++)
            if (g_ptr_array_index(c->sfs, k))
                tot->sfs++;
        tot->failed += mptcp_stats_failed_joins(c);
        tot->hmac += c->hmac_join_bad + c->hmac_add_bad;
        if (c->fallback)
            tot->fallbacks++;
    }
}

static void
report_walk(const printer_t *pr, const cli_t *cli, GPtrArray *v)
{
    totals_t tot;

    report_totals(v, &tot);
    pr->begin(cli, &tot);
    for (guint i = 0; i < v->len; i++) {
        conn_row_t cr;
        sf_row_t sr;

        cr.c = (const conn_stat_t *)g_ptr_array_index(v, i);
        cr.index = i;
        mptcp_stats_sf_ends(mptcp_conn_first_subflow(cr.c->conn), cr.addr, cr.port);
        for (int d = 0; d < 2; d++) {
            row_latency(cr.c, d, &cr.lat[d]);
            mptcp_dataorder_summary(cr.c->conn, d, cr.c->do_pkts[d], &cr.dord[d]);
        }
        pr->conn(&cr);
        sr.index = 0;
        for (guint k = 0; k < cr.c->sfs->len; k++) {
            sr.ss = (const sf_stat_t *)g_ptr_array_index(cr.c->sfs, k);
            if (!sr.ss)
                continue;
            mptcp_stats_sf_ends(sr.ss->sf, sr.addr, sr.port);
            pr->subflow(&cr, &sr);
            sr.index++;
        }
        pr->conn_end(&cr);
        for (int d = 0; d < 2; d++)
            mptcp_stats_lat_free(&cr.lat[d]);
    }
    pr->end();
}

static void
print_nothing(void)
{
}

static void
conn_nothing(const conn_row_t *r _U_)
{
}
/* }}} */

/* {{{ text */

static void
text_begin(const cli_t *cli, const totals_t *tot)
{
    printf("\n===================================================================================================\n");
    printf("MPTCP Statistics\n");
    printf("Filter: %s\n", cli->filter ? cli->filter : "<none>");
    printf("Connections: %" PRIu64 ", subflows: %" PRIu64 ", failed joins: %" PRIu64 ", HMAC failures: %" PRIu64
           ", fallbacks: %" PRIu64 "\n", tot->conns, tot->sfs, tot->failed, tot->hmac, tot->fallbacks);
    printf("Times: seconds since the first packet of the capture. Bytes: TCP payload. Unique: DSN coverage.\n");
}

static void
text_conn_head(const conn_row_t *r)
{
    const conn_stat_t *c = r->c;
    const mptcp_conn_t *conn = c->conn;
    char b1[40], b2[40], b3[40];

    printf("---------------------------------------------------------------------------------------------------\n");
    printf("Connection %u (mptcp.stream == %u): %s:%u <-> %s:%u, ", conn->stream, conn->stream, r->addr[0],
           r->port[0], r->addr[1], r->port[1]);
    if (conn->version >= 0)
        printf("MPTCP v%d", conn->version);
    else
        printf("MPTCP version unknown");
    printf("%s, %u subflows\n", conn->inferred ? " (inferred: handshake not captured)" : "",
           conn->nsubflows);
    printf("  First packet %s, last packet %s, duration %s\n", mptcp_stats_fmt_s(b1, sizeof b1, c->first),
           mptcp_stats_fmt_s(b2, sizeof b2, c->last), mptcp_stats_fmt_s(b3, sizeof b3, c->last - c->first));
    printf("  Failed joins %" PRIu64 ", HMAC failures %" PRIu64 " (MP_JOIN %" PRIu64 ", ADD_ADDR %" PRIu64
           "), fallback %s\n", mptcp_stats_failed_joins(c), c->hmac_join_bad + c->hmac_add_bad, c->hmac_join_bad,
           c->hmac_add_bad, c->fallback ? "yes" : "no");
}

/** The connection's data-order table (flight in bytes, HoL P50/P99/max in ms). */
static void
text_dataorder(const conn_row_t *r)
{
    char b1[40];

    printf("  %-15s %10s %10s %12s %8s %8s %10s %10s %10s %13s %9s %10s\n", "Data order", "Flight max",
           "Flight med", "Win-lim (s)", "Zero wnd", "Ahead", "HoL P50", "HoL P99", "HoL max", "HoL total (s)",
           "Spurious", "Spur bytes");
    for (int d = 0; d < 2; d++) {
        const mptcp_do_summary_t *s = &r->dord[d];
        printf("  %-15s %10" PRIu64 " %10" PRIu64 " %12.6f %8" PRIu64 " %8" PRIu64 " %10.3f %10.3f %10.3f %13s %9"
               PRIu64 " %10" PRIu64 "\n", mptcp_stats_dir_names[d], s->flight_max, s->flight_median,
               (double)s->window_limited_ns / 1e9, s->zero_windows, s->ahead_of_gap, mptcp_stats_ms(s->hol_p50),
               mptcp_stats_ms(s->hol_p99), mptcp_stats_ms(s->hol_max), mptcp_stats_fmt_s(b1, sizeof b1, s->hol_total),
               s->spurious_pkts, s->spurious_bytes);
    }
}

static void
text_conn(const conn_row_t *r)
{
    const conn_stat_t *c = r->c;
    char b1[40], b2[40];

    text_conn_head(r);
    printf("  %-15s %9s %9s %14s %14s %11s %12s %15s %14s %14s\n", "Direction", "Packets", "Data pkts",
           "Payload bytes", "Unique bytes", "Reinj pkts", "Reinj bytes", "Goodput (B/s)", "DATA_FIN",
           "MP_FASTCLOSE");
    for (int d = 0; d < 2; d++) {
        const dir_stat_t *ds = &c->d[d];
        printf("  %-15s %9" PRIu64 " %9" PRIu64 " %14" PRIu64 " %14" PRIu64 " %11" PRIu64 " %12" PRIu64
               " %15.1f %14s %14s\n", mptcp_stats_dir_names[d], ds->packets, ds->data_packets, ds->bytes,
               c->unique[d], ds->reinj_pkts, ds->reinj_bytes, mptcp_stats_goodput(c, d),
               fmt_when(b1, sizeof b1, &ds->data_fin, "-"), fmt_when(b2, sizeof b2, &ds->fastclose, "-"));
    }
    printf("  %-15s %9s %9s %10s %10s %10s %10s %10s %10s\n", "Latency (ms)", "Samples", "Unacked", "Min",
           "Mean", "P50", "P90", "P99", "Max");
    for (int d = 0; d < 2; d++) {
        const lat_stat_t *l = &r->lat[d];
        printf("  %-15s %9" PRIu64 " %9" PRIu64 " %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n",
               mptcp_stats_dir_names[d], l->n, l->unacked, mptcp_stats_ms(l->min),
               l->n ? mptcp_stats_ms(l->sum) / (double)l->n : 0.0, mptcp_stats_ms(mptcp_stats_quantile(&l->q[0])),
               mptcp_stats_ms(mptcp_stats_quantile(&l->q[1])), mptcp_stats_ms(mptcp_stats_quantile(&l->q[2])),
               mptcp_stats_ms(l->max));
    }
    text_dataorder(r);
    mptcp_vstats_text_conn(c->vantage);
}

static void
text_subflow(const conn_row_t *cr, const sf_row_t *r)
{
    const sf_stat_t *ss = r->ss;
    char b1[40], b2[40], b3[40], b4[40], b5[40], b6[40];

    printf("  Subflow %u: %s%s%s, %s:%u <-> %s:%u", ss->sf->index, mptcp_stats_sf_role(cr->c, ss),
           ss->backup ? ", backup" : "", mptcp_stats_sf_join_failed(ss) ? ", join failed" : "", r->addr[0],
           r->port[0], r->addr[1], r->port[1]);
    if (ss->sf->tcp_stream_known)
        printf(", tcp.stream %u", ss->sf->tcp_stream);
    printf("\n");
    printf("    %-15s %9s %14s %7s %10s %12s %10s %12s %12s %12s %12s %12s %12s %12s\n", "Direction",
           "Packets", "Payload bytes", "Share%", "Reinj sent", "Sent bytes", "Caused", "Caused bytes",
           "First data", "Last data", "DATA_FIN", "FIN", "RST", "MP_FASTCLOSE");
    for (int d = 0; d < 2; d++) {
        const dir_stat_t *ds = &ss->d[d];
        printf("    %-15s %9" PRIu64 " %14" PRIu64 " %7.2f %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
               " %12s %12s %12s %12s %12s %12s\n", mptcp_stats_dir_names[d], ds->packets, ds->bytes,
               mptcp_stats_share_pct(ds->bytes, cr->c->d[d].bytes), ds->reinj_pkts, ds->reinj_bytes,
               ds->caused_pkts, ds->caused_bytes, fmt_when(b1, sizeof b1, &ds->first_data, "-"),
               ds->first_data.set ? mptcp_stats_fmt_s(b2, sizeof b2, ds->last_data) : "-",
               fmt_when(b3, sizeof b3, &ds->data_fin, "-"), fmt_when(b4, sizeof b4, &ds->fin, "-"),
               fmt_when(b5, sizeof b5, &ds->rst, "-"), fmt_when(b6, sizeof b6, &ds->fastclose, "-"));
    }
    mptcp_vstats_text_sf(ss->vantage);
}

static void
text_end(void)
{
    printf("===================================================================================================\n");
}

static const printer_t text_printer = { text_begin, text_conn, text_subflow, conn_nothing, text_end };
/* }}} */

/* {{{ CSV: one row per connection direction ("connection") and per subflow direction
 * ("subflow"); cells that do not apply to a row kind are empty */

static const char *const csv_cols[] = {
    "record", "stream", "subflow", "role", "backup", "join_failed", "tcp_stream", "client_addr", "client_port",
    "server_addr", "server_port", "direction", "packets", "data_packets", "payload_bytes", "unique_bytes",
    "share_percent", "reinjected_packets", "reinjected_bytes", "reinj_caused_packets", "reinj_caused_bytes",
    "first_packet", "last_packet", "duration", "goodput_Bps", "first_data", "last_data", "data_fin", "fin", "rst",
    "fastclose", "latency_samples", "latency_unacked", "latency_min", "latency_mean", "latency_p50",
    "latency_p90", "latency_p99", "latency_max", "version", "inferred", "subflows", "failed_joins",
    "hmac_failures", "fallback", "flight_samples", "flight_max", "flight_median", "window_limited",
    "zero_windows", "ahead_of_gap", "hol_wait_p50", "hol_wait_p99", "hol_wait_max", "hol_wait_total",
    "spurious_reinjected_packets", "spurious_reinjected_bytes",
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

    csv_set(r, col, "%s", mptcp_stats_fmt_s(b, sizeof b, ns));
}

static void
csv_when(csv_row_t *r, const char *col, const when_t *w)
{
    if (w->set)
        csv_time(r, col, w->t);
}

/** Prints the row; the peer capture's cells (if one is in use) from v for direction d. */
static void
csv_emit(csv_row_t *r, const mptcp_vstats_t *v, int d, bool conn_row)
{
    for (size_t i = 0; i < G_N_ELEMENTS(csv_cols); i++) {
        printf("%s%s", i ? "," : "", r->cell[i] ? r->cell[i] : "");
        g_free(r->cell[i]);
        r->cell[i] = NULL;
    }
    mptcp_vstats_csv_cells(v, d, conn_row);
    printf("\n");
}

/** Cells common to connection and subflow rows of one direction. */
static void
csv_dir(csv_row_t *r, uint32_t stream, const char addr[2][WS_INET6_ADDRSTRLEN], const uint16_t port[2], int d,
        const dir_stat_t *ds)
{
    csv_set(r, "stream", "%u", stream);
    csv_set(r, "client_addr", "%s", addr[0]);
    csv_set(r, "client_port", "%u", port[0]);
    csv_set(r, "server_addr", "%s", addr[1]);
    csv_set(r, "server_port", "%u", port[1]);
    csv_set(r, "direction", "%s", dir_keys[d]);
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
csv_begin(const cli_t *cli _U_, const totals_t *tot _U_)
{
    for (size_t i = 0; i < G_N_ELEMENTS(csv_cols); i++)
        printf("%s%s", i ? "," : "", csv_cols[i]);
    mptcp_vstats_csv_header();
    printf("\n");
}

/** The data-order cells of a connection direction. */
static void
csv_dataorder(csv_row_t *r, const mptcp_do_summary_t *s)
{
    csv_set(r, "flight_samples", "%" PRIu64, s->flight_samples);
    if (s->flight_samples) {
        csv_set(r, "flight_max", "%" PRIu64, s->flight_max);
        csv_set(r, "flight_median", "%" PRIu64, s->flight_median);
    }
    csv_time(r, "window_limited", s->window_limited_ns);
    csv_set(r, "zero_windows", "%" PRIu64, s->zero_windows);
    csv_set(r, "ahead_of_gap", "%" PRIu64, s->ahead_of_gap);
    if (s->ahead_of_gap) {
        csv_time(r, "hol_wait_p50", s->hol_p50);
        csv_time(r, "hol_wait_p99", s->hol_p99);
        csv_time(r, "hol_wait_max", s->hol_max);
    }
    csv_time(r, "hol_wait_total", s->hol_total);
    csv_set(r, "spurious_reinjected_packets", "%" PRIu64, s->spurious_pkts);
    csv_set(r, "spurious_reinjected_bytes", "%" PRIu64, s->spurious_bytes);
}

static void
csv_latency(csv_row_t *r, const lat_stat_t *l)
{
    csv_set(r, "latency_samples", "%" PRIu64, l->n);
    csv_set(r, "latency_unacked", "%" PRIu64, l->unacked);
    if (l->n) {
        csv_time(r, "latency_min", l->min);
        csv_set(r, "latency_mean", "%.9f", (double)l->sum / (double)l->n / 1e9);
        csv_time(r, "latency_p50", mptcp_stats_quantile(&l->q[0]));
        csv_time(r, "latency_p90", mptcp_stats_quantile(&l->q[1]));
        csv_time(r, "latency_p99", mptcp_stats_quantile(&l->q[2]));
        csv_time(r, "latency_max", l->max);
    }
}

static void
csv_conn(const conn_row_t *cr)
{
    const conn_stat_t *c = cr->c;
    const mptcp_conn_t *conn = c->conn;
    csv_row_t r;

    memset(&r, 0, sizeof(r));
    for (int d = 0; d < 2; d++) {
        csv_set(&r, "record", "connection");
        csv_dir(&r, conn->stream, cr->addr, cr->port, d, &c->d[d]);
        csv_set(&r, "unique_bytes", "%" PRIu64, c->unique[d]);
        csv_set(&r, "share_percent", "%.2f", c->d[d].bytes ? 100.0 : 0.0);
        csv_time(&r, "first_packet", c->first);
        csv_time(&r, "last_packet", c->last);
        csv_time(&r, "duration", c->last - c->first);
        csv_set(&r, "goodput_Bps", "%.3f", mptcp_stats_goodput(c, d));
        csv_latency(&r, &cr->lat[d]);
        csv_dataorder(&r, &cr->dord[d]);
        if (conn->version >= 0)
            csv_set(&r, "version", "%d", conn->version);
        csv_set(&r, "inferred", "%d", conn->inferred ? 1 : 0);
        csv_set(&r, "subflows", "%u", conn->nsubflows);
        csv_set(&r, "failed_joins", "%" PRIu64, mptcp_stats_failed_joins(c));
        csv_set(&r, "hmac_failures", "%" PRIu64, c->hmac_join_bad + c->hmac_add_bad);
        csv_set(&r, "fallback", "%d", c->fallback ? 1 : 0);
        csv_emit(&r, c->vantage, d, true);
    }
}

static void
csv_subflow(const conn_row_t *cr, const sf_row_t *sr)
{
    const sf_stat_t *ss = sr->ss;
    csv_row_t r;

    memset(&r, 0, sizeof(r));
    for (int d = 0; d < 2; d++) {
        const dir_stat_t *ds = &ss->d[d];

        csv_set(&r, "record", "subflow");
        csv_set(&r, "subflow", "%u", ss->sf->index);
        csv_set(&r, "role", "%s", mptcp_stats_sf_role(cr->c, ss));
        csv_set(&r, "backup", "%d", ss->backup ? 1 : 0);
        csv_set(&r, "join_failed", "%d", mptcp_stats_sf_join_failed(ss) ? 1 : 0);
        if (ss->sf->tcp_stream_known)
            csv_set(&r, "tcp_stream", "%u", ss->sf->tcp_stream);
        csv_dir(&r, cr->c->conn->stream, sr->addr, sr->port, d, ds);
        csv_set(&r, "share_percent", "%.2f", mptcp_stats_share_pct(ds->bytes, cr->c->d[d].bytes));
        csv_set(&r, "reinj_caused_packets", "%" PRIu64, ds->caused_pkts);
        csv_set(&r, "reinj_caused_bytes", "%" PRIu64, ds->caused_bytes);
        csv_when(&r, "first_packet", &ds->first_pkt);
        if (ds->first_pkt.set)
            csv_time(&r, "last_packet", ds->last_pkt);
        csv_when(&r, "fin", &ds->fin);
        csv_when(&r, "rst", &ds->rst);
        csv_emit(&r, ss->vantage, d, false);
    }
}

static const printer_t csv_printer = { csv_begin, csv_conn, csv_subflow, conn_nothing, print_nothing };
/* }}} */

/* {{{ JSON */

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

    printf("\"%s\": %s%s", key, w->set ? mptcp_stats_fmt_s(b, sizeof b, w->t) : "null", comma ? ", " : "");
}

static void
json_dir(const dir_stat_t *ds)
{
    char b[40];

    printf("\"packets\": %" PRIu64 ", \"data_packets\": %" PRIu64 ", \"payload_bytes\": %" PRIu64
           ", \"reinjected_packets\": %" PRIu64 ", \"reinjected_bytes\": %" PRIu64 ", ", ds->packets,
           ds->data_packets, ds->bytes, ds->reinj_pkts, ds->reinj_bytes);
    json_when("first_packet", &ds->first_pkt, true);
    printf("\"last_packet\": %s, ", ds->first_pkt.set ? mptcp_stats_fmt_s(b, sizeof b, ds->last_pkt) : "null");
    json_when("first_data", &ds->first_data, true);
    printf("\"last_data\": %s, ", ds->first_data.set ? mptcp_stats_fmt_s(b, sizeof b, ds->last_data) : "null");
    json_when("data_fin", &ds->data_fin, true);
    json_when("fastclose", &ds->fastclose, false);
}

static void
json_begin(const cli_t *cli, const totals_t *tot)
{
    printf("{\"filter\": ");
    if (cli->filter)
        json_str(cli->filter);
    else
        printf("null");
    printf(",\n \"connections_count\": %" PRIu64 ", \"subflows_count\": %" PRIu64 ", \"failed_joins\": %" PRIu64
           ", \"hmac_failures\": %" PRIu64 ", \"fallbacks\": %" PRIu64 ",\n \"connections\": [", tot->conns, tot->sfs,
           tot->failed, tot->hmac, tot->fallbacks);
}

static void
json_latency(const lat_stat_t *l)
{
    char b[40];

    printf("\"latency\": {\"samples\": %" PRIu64 ", \"unacked\": %" PRIu64, l->n, l->unacked);
    if (l->n) {
        printf(", \"min\": %s, \"mean\": %.9f", mptcp_stats_fmt_s(b, sizeof b, l->min),
               (double)l->sum / (double)l->n / 1e9);
        for (unsigned q = 0; q < NPCT; q++)
            printf(", \"p%u\": %s", mptcp_stats_pcts[q], mptcp_stats_fmt_s(b, sizeof b, mptcp_stats_quantile(&l->q[q])));
        printf(", \"max\": %s", mptcp_stats_fmt_s(b, sizeof b, l->max));
    } else {
        printf(", \"min\": null, \"mean\": null");
        for (unsigned q = 0; q < NPCT; q++)
            printf(", \"p%u\": null", mptcp_stats_pcts[q]);
        printf(", \"max\": null");
    }
    printf("}");
}

static void
json_time_or_null(const char *key, bool set, int64_t ns, bool comma)
{
    char b[40];

    printf("\"%s\": %s%s", key, set ? mptcp_stats_fmt_s(b, sizeof b, ns) : "null", comma ? ", " : "");
}

/** "dataorder": {...} of a connection direction. */
static void
json_dataorder(const mptcp_do_summary_t *s)
{
    printf("\"dataorder\": {\"flight_samples\": %" PRIu64 ", ", s->flight_samples);
    if (s->flight_samples)
        printf("\"flight_max\": %" PRIu64 ", \"flight_median\": %" PRIu64 ", ", s->flight_max, s->flight_median);
    else
        printf("\"flight_max\": null, \"flight_median\": null, ");
    json_time_or_null("window_limited", true, s->window_limited_ns, true);
    printf("\"zero_windows\": %" PRIu64 ", \"ahead_of_gap\": %" PRIu64 ",\n      \"hol_wait\": {", s->zero_windows,
           s->ahead_of_gap);
    json_time_or_null("p50", s->ahead_of_gap, s->hol_p50, true);
    json_time_or_null("p99", s->ahead_of_gap, s->hol_p99, true);
    json_time_or_null("max", s->ahead_of_gap, s->hol_max, true);
    json_time_or_null("total", true, s->hol_total, false);
    printf("}, \"spurious_reinjections\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}}", s->spurious_pkts,
           s->spurious_bytes);
}

static void
json_conn(const conn_row_t *r)
{
    const conn_stat_t *c = r->c;
    const mptcp_conn_t *conn = c->conn;
    char b1[40], b2[40], b3[40];

    printf("%s\n  {\"stream\": %u, \"version\": ", r->index ? "," : "", conn->stream);
    if (conn->version >= 0)
        printf("%d", conn->version);
    else
        printf("null");
    printf(", \"inferred\": %s, \"client\": {\"addr\": \"%s\", \"port\": %u}, \"server\": {\"addr\": \"%s\", "
           "\"port\": %u}, \"subflows_count\": %u,\n", conn->inferred ? "true" : "false", r->addr[0], r->port[0],
           r->addr[1], r->port[1], conn->nsubflows);
    printf("   \"first_packet\": %s, \"last_packet\": %s, \"duration\": %s, \"failed_joins\": %" PRIu64
           ", \"hmac_failures\": {\"join\": %" PRIu64 ", \"add_addr\": %" PRIu64 "}, \"fallback\": %s,\n",
           mptcp_stats_fmt_s(b1, sizeof b1, c->first), mptcp_stats_fmt_s(b2, sizeof b2, c->last),
           mptcp_stats_fmt_s(b3, sizeof b3, c->last - c->first), mptcp_stats_failed_joins(c), c->hmac_join_bad,
           c->hmac_add_bad, c->fallback ? "true" : "false");
    mptcp_vstats_json_conn(c->vantage);
    printf("   \"directions\": {");
    for (int d = 0; d < 2; d++) {
        printf("%s\n    \"%s\": {", d ? "," : "", dir_keys[d]);
        json_dir(&c->d[d]);
        printf(", \"unique_bytes\": %" PRIu64 ", \"goodput_Bps\": %.3f,\n     ", c->unique[d],
               mptcp_stats_goodput(c, d));
        json_latency(&r->lat[d]);
        printf(",\n     ");
        json_dataorder(&r->dord[d]);
        mptcp_vstats_json_dir(c->vantage, d);
        printf("}");
    }
    printf("},\n   \"subflows\": [");
}

static void
json_subflow(const conn_row_t *cr, const sf_row_t *r)
{
    const sf_stat_t *ss = r->ss;

    printf("%s\n    {\"index\": %u, \"role\": \"%s\", \"backup\": %s, \"join_failed\": %s, \"tcp_stream\": ",
           r->index ? "," : "", ss->sf->index, mptcp_stats_sf_role(cr->c, ss), ss->backup ? "true" : "false",
           mptcp_stats_sf_join_failed(ss) ? "true" : "false");
    if (ss->sf->tcp_stream_known)
        printf("%u", ss->sf->tcp_stream);
    else
        printf("null");
    printf(", \"client\": {\"addr\": \"%s\", \"port\": %u}, \"server\": {\"addr\": \"%s\", \"port\": %u},\n"
           "     \"directions\": {", r->addr[0], r->port[0], r->addr[1], r->port[1]);
    for (int d = 0; d < 2; d++) {
        const dir_stat_t *ds = &ss->d[d];
        printf("%s\n      \"%s\": {", d ? "," : "", dir_keys[d]);
        json_dir(ds);
        printf(", \"share_percent\": %.4f, \"reinj_caused_packets\": %" PRIu64 ", \"reinj_caused_bytes\": %" PRIu64
               ", ", mptcp_stats_share_pct(ds->bytes, cr->c->d[d].bytes), ds->caused_pkts, ds->caused_bytes);
        json_when("fin", &ds->fin, true);
        json_when("rst", &ds->rst, false);
        mptcp_vstats_json_dir(ss->vantage, d);
        printf("}");
    }
    printf("}}");
}

static void
json_conn_end(const conn_row_t *r _U_)
{
    printf("]}");
}

static void
json_end(void)
{
    printf("\n]}\n");
}

static const printer_t json_printer = { json_begin, json_conn, json_subflow, json_conn_end, json_end };
/* }}} */

/* {{{ the tap listener */

static tap_packet_status
cli_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    cli_t *cli = (cli_t *)tapdata;
    conn_stat_t *c;
    sf_stat_t *ss, *os;
    bool created;

    mptcp_stats_packet(&cli->s, pinfo, (const mptcp_segment_tap_t *)data, false, &c, &ss, &os, &created);
    return TAP_PACKET_REDRAW;
}

static void
cli_reset(void *tapdata)
{
    mptcp_stats_clear(&((cli_t *)tapdata)->s);
}

static void
cli_draw(void *tapdata)
{
    cli_t *cli = (cli_t *)tapdata;
    GPtrArray *v = mptcp_stats_sorted(&cli->s);

    report_walk(cli->mode == OUT_CSV ? &csv_printer : cli->mode == OUT_JSON ? &json_printer : &text_printer, cli, v);
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
    mptcp_stats_init(&cli->s);
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

void
mptcp_stats_print_register(void)
{
    static stat_tap_ui cli_ui = {
        REGISTER_PACKET_STAT_GROUP_UNSORTED,   /* Qt: the Statistics menu */
        "MPTCP Statistics",
        "mptcp,stat",
        cli_init,
        0,
        NULL,
    };

    /* tshark: the CLI form (registered before the GUI table, so tshark's generic table printer
     * for that table, which has the same -z string, is not used). Wireshark: the table only, so
     * that "wireshark -z mptcp,stat[,filter]" opens the dialog (ws_log_init() sets the program
     * name before the dissectors register). MPTCP_STATS_GUI_TABLE set (tests): tshark prints
     * the GUI dialog's tables with its generic printer instead (tests/test_stats_gui.py). */
    if (g_ascii_strcasecmp(g_get_prgname() ? g_get_prgname() : "", "wireshark") != 0 &&
        !g_getenv("MPTCP_STATS_GUI_TABLE"))
        register_stat_tap_ui(&cli_ui, NULL);
}
