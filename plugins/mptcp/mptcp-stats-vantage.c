/* mptcp-stats-vantage.c
 * The peer capture's numbers in `tshark -z mptcp,stat` (issue 21), fed by mptcp-stats.c for
 * every tapped segment and printed inside its text, CSV and JSON output, only while a peer
 * capture is in use (mptcp.peer_capture): without one the output is unchanged.
 *
 * Definitions (per connection and per subflow, per direction client->server / server->client):
 *   one-way delay    mptcp.analysis.owd of the segments found in both captures:
 *                    samples, min, P50, P99 (nearest rank), max
 *   lost on path     data segments sent by this capture's host that the peer never saw; loss %
 *                    = lost / data segments sent here and checked against the peer capture
 *   reinjections     useful / wasted (mptcp.analysis.reinjection_useful), packets and bytes
 *   peer stream      the connection's number in the peer capture
 *   clock offset     estimate for mptcp.peer_clock_offset: the offset in force minus half the
 *   estimate         difference of the minimum one-way delays of the segments sent here and
 *                    of those sent by the peer (equal minimum delays both ways assumed)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-stats.h"          /* lat_stat_t: min/max/mean and exact nearest-rank quantiles */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    lat_stat_t owd;            /* ns; quantiles P50/P90/P99 kept as samples come (GUI: per packet) */
    uint64_t sent, lost_pkts, lost_bytes;
    uint64_t useful_pkts, useful_bytes, wasted_pkts, wasted_bytes;
} vdir_t;

struct mptcp_vstats {
    vdir_t d[2];
    int32_t peer_conn;
    bool has_min[2];
    int64_t min_owd[2];        /* [0] segments sent here, [1] sent by the peer */
};

static const char *const vdir_names[2] = { "client->server", "server->client" };
static const char *const vdir_keys[2] = { "c2s", "s2c" };

static mptcp_vstats_t *
vstats_new(void)
{
    mptcp_vstats_t *v = g_new0(mptcp_vstats_t, 1);

    v->peer_conn = -1;
    return v;
}

static void
vstats_count(mptcp_vstats_t *v, const mptcp_vantage_info_t *vi, int dir, uint32_t seglen)
{
    vdir_t *d = &v->d[dir];

    if (vi->peer_conn >= 0)
        v->peer_conn = vi->peer_conn;
    if (vi->has_owd) {
        int w = vi->sent_here ? 0 : 1;
        mptcp_stats_lat_add(&d->owd, vi->owd_ns);
        if (!v->has_min[w] || vi->owd_ns < v->min_owd[w]) {
            v->has_min[w] = true;
            v->min_owd[w] = vi->owd_ns;
        }
    }
    if (seglen && ((vi->has_owd && vi->sent_here) || vi->lost))
        d->sent++;
    if (vi->lost) {
        d->lost_pkts++;
        d->lost_bytes += seglen;
    }
    if (vi->has_reinj && vi->useful) {
        d->useful_pkts++;
        d->useful_bytes += seglen;
    } else if (vi->has_reinj) {
        d->wasted_pkts++;
        d->wasted_bytes += seglen;
    }
}

void
mptcp_vstats_add(mptcp_vstats_t **conn, mptcp_vstats_t **sf, uint32_t frame, int dir, uint32_t seglen)
{
    mptcp_vantage_info_t vi;

    if (dir < 0 || dir > 1 || !mptcp_vantage_lookup(frame, &vi))
        return;
    if (!*conn)
        *conn = vstats_new();
    if (!*sf)
        *sf = vstats_new();
    vstats_count(*conn, &vi, dir, seglen);
    vstats_count(*sf, &vi, dir, seglen);
}

void
mptcp_vstats_free(mptcp_vstats_t *v)
{
    if (!v)
        return;
    for (int d = 0; d < 2; d++)
        mptcp_stats_lat_free(&v->d[d].owd);
    g_free(v);
}

/* ---------------------------------------------------------------------------- summaries */
typedef struct {
    unsigned n;
    int64_t min, p50, p99, max;
} owd_sum_t;

static owd_sum_t
owd_summary(const vdir_t *d)
{
    owd_sum_t s;

    s.n = (unsigned)d->owd.n;
    s.min = d->owd.n ? d->owd.min : 0;
    s.max = d->owd.n ? d->owd.max : 0;
    s.p50 = mptcp_stats_quantile(&d->owd.q[0]);        /* mptcp_stats_pcts: 50, 90, 99 */
    s.p99 = mptcp_stats_quantile(&d->owd.q[2]);
    return s;
}

static bool
estimate(const mptcp_vstats_t *v, int64_t *ns)
{
    if (!v || !v->has_min[0] || !v->has_min[1])
        return false;
    *ns = mptcp_vantage_offset_ns() - (v->min_owd[0] - v->min_owd[1]) / 2;
    return true;
}

static const char *
secs(char *buf, size_t len, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000, a % 1000000000);
    return buf;
}

static const vdir_t *
vdir(const mptcp_vstats_t *v, int d)
{
    static const vdir_t empty;
    return v ? &v->d[d] : &empty;
}

/* ---------------------------------------------------------------------------- text */
void
mptcp_vstats_text_conn(const mptcp_vstats_t *v)
{
    char b1[40], b2[40];
    int64_t est;

    if (!mptcp_vantage_active())
        return;
    printf("  Peer capture: ");
    if (v && v->peer_conn >= 0)
        printf("mptcp.stream %d there", v->peer_conn);
    else
        printf("connection not found there");
    if (estimate(v, &est))
        printf(", clock offset estimate %s s", secs(b1, sizeof b1, est));
    printf(" (mptcp.peer_clock_offset in force: %s s)\n", secs(b2, sizeof b2, mptcp_vantage_offset_ns()));
    printf("  %-15s %11s %12s %11s %12s\n", "Reinjections", "Useful pkts", "Useful bytes", "Wasted pkts",
           "Wasted bytes");
    for (int d = 0; d < 2; d++) {
        const vdir_t *x = vdir(v, d);
        printf("  %-15s %11" PRIu64 " %12" PRIu64 " %11" PRIu64 " %12" PRIu64 "\n", vdir_names[d], x->useful_pkts,
               x->useful_bytes, x->wasted_pkts, x->wasted_bytes);
    }
}

void
mptcp_vstats_text_sf(const mptcp_vstats_t *v)
{
    if (!mptcp_vantage_active())
        return;
    printf("    %-15s %9s %10s %10s %10s %10s %9s %8s\n", "One-way delay", "Samples", "Min (ms)", "P50 (ms)",
           "P99 (ms)", "Max (ms)", "Lost", "Loss %");
    for (int d = 0; d < 2; d++) {
        const vdir_t *x = vdir(v, d);
        owd_sum_t s = owd_summary(x);
        char rate[16] = "-";
        if (x->sent)
            snprintf(rate, sizeof rate, "%.2f", 100.0 * (double)x->lost_pkts / (double)x->sent);
        printf("    %-15s %9u %10.3f %10.3f %10.3f %10.3f %9" PRIu64 " %8s\n", vdir_names[d], s.n,
               (double)s.min / 1e6, (double)s.p50 / 1e6, (double)s.p99 / 1e6, (double)s.max / 1e6, x->lost_pkts,
               rate);
    }
}

/* ---------------------------------------------------------------------------- CSV */
static const char *const vcsv_cols[] = {
    "peer_stream", "clock_offset_estimate", "owd_samples", "owd_min", "owd_p50", "owd_p99", "owd_max",
    "lost_on_path", "lost_on_path_bytes", "loss_percent", "reinj_useful_packets", "reinj_useful_bytes",
    "reinj_wasted_packets", "reinj_wasted_bytes",
};

void
mptcp_vstats_csv_header(void)
{
    if (!mptcp_vantage_active())
        return;
    for (size_t i = 0; i < G_N_ELEMENTS(vcsv_cols); i++)
        printf(",%s", vcsv_cols[i]);
}

void
mptcp_vstats_csv_cells(const mptcp_vstats_t *v, int d, bool conn_row)
{
    char b[5][40];
    const vdir_t *x = vdir(v, d);
    owd_sum_t s = owd_summary(x);
    int64_t est;

    if (!mptcp_vantage_active())
        return;
    if (v && v->peer_conn >= 0)
        printf(",%d", v->peer_conn);
    else
        printf(",");
    printf(",%s", conn_row && estimate(v, &est) ? secs(b[0], sizeof b[0], est) : "");
    if (s.n)
        printf(",%u,%s,%s,%s,%s", s.n, secs(b[1], sizeof b[1], s.min), secs(b[2], sizeof b[2], s.p50),
               secs(b[3], sizeof b[3], s.p99), secs(b[4], sizeof b[4], s.max));
    else
        printf(",0,,,,");
    printf(",%" PRIu64 ",%" PRIu64 ",", x->lost_pkts, x->lost_bytes);
    if (x->sent)
        printf("%.4f", 100.0 * (double)x->lost_pkts / (double)x->sent);
    printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, x->useful_pkts, x->useful_bytes, x->wasted_pkts,
           x->wasted_bytes);
}

/* ---------------------------------------------------------------------------- JSON */
void
mptcp_vstats_json_conn(const mptcp_vstats_t *v)
{
    char b[40];
    int64_t est;

    if (!mptcp_vantage_active())
        return;
    printf("   \"peer\": {\"stream\": ");
    if (v && v->peer_conn >= 0)
        printf("%d", v->peer_conn);
    else
        printf("null");
    printf(", \"clock_offset_estimate\": %s, \"clock_offset\": ", estimate(v, &est) ? secs(b, sizeof b, est) : "null");
    printf("%s, \"reinjections\": {", secs(b, sizeof b, mptcp_vantage_offset_ns()));
    for (int d = 0; d < 2; d++) {
        const vdir_t *x = vdir(v, d);
        printf("%s\"%s\": {\"useful_packets\": %" PRIu64 ", \"useful_bytes\": %" PRIu64 ", \"wasted_packets\": %"
               PRIu64 ", \"wasted_bytes\": %" PRIu64 "}", d ? ", " : "", vdir_keys[d], x->useful_pkts,
               x->useful_bytes, x->wasted_pkts, x->wasted_bytes);
    }
    printf("}},\n");
}

void
mptcp_vstats_json_dir(const mptcp_vstats_t *v, int d)
{
    char b[4][40];
    const vdir_t *x = vdir(v, d);
    owd_sum_t s = owd_summary(x);

    if (!mptcp_vantage_active())
        return;
    printf(", \"owd\": {\"samples\": %u", s.n);
    if (s.n)
        printf(", \"min\": %s, \"p50\": %s, \"p99\": %s, \"max\": %s", secs(b[0], sizeof b[0], s.min),
               secs(b[1], sizeof b[1], s.p50), secs(b[2], sizeof b[2], s.p99), secs(b[3], sizeof b[3], s.max));
    else
        printf(", \"min\": null, \"p50\": null, \"p99\": null, \"max\": null");
    printf("}, \"lost_on_path\": %" PRIu64 ", \"lost_on_path_bytes\": %" PRIu64 ", \"loss_percent\": ",
           x->lost_pkts, x->lost_bytes);
    if (x->sent)
        printf("%.4f", 100.0 * (double)x->lost_pkts / (double)x->sent);
    else
        printf("null");
}

/* ---------------------------------------------------------------------------- GUI */
void
mptcp_vstats_gui_cells(const mptcp_vstats_t *v, int d, bool conn_row, char *cells[MPTCP_VSTATS_GUI_COLS])
{
    const vdir_t *x = vdir(v, d);
    owd_sum_t s = owd_summary(x);
    char b[40];
    int64_t est;
    int i = 0;

    if (!mptcp_vantage_active()) {
        for (i = 0; i < MPTCP_VSTATS_GUI_COLS; i++)
            cells[i] = g_strdup("");
        return;
    }
    cells[i++] = v && v->peer_conn >= 0 ? g_strdup_printf("%d", v->peer_conn) : g_strdup("");
    /* the same value (and digits) as the text, CSV and JSON outputs */
    cells[i++] = g_strdup(conn_row && estimate(v, &est) ? secs(b, sizeof b, est) : "");
    cells[i++] = s.n ? g_strdup_printf("%.3f", (double)s.min / 1e6) : g_strdup("");
    cells[i++] = s.n ? g_strdup_printf("%.3f", (double)x->owd.sum / (double)s.n / 1e6) : g_strdup("");
    cells[i++] = s.n ? g_strdup_printf("%.3f", (double)s.p50 / 1e6) : g_strdup("");
    cells[i++] = s.n ? g_strdup_printf("%.3f", (double)s.p99 / 1e6) : g_strdup("");
    cells[i++] = s.n ? g_strdup_printf("%.3f", (double)s.max / 1e6) : g_strdup("");
    cells[i++] = g_strdup_printf("%" PRIu64, x->lost_pkts);
    cells[i++] = g_strdup_printf("%" PRIu64, x->useful_pkts);
    cells[i] = g_strdup_printf("%" PRIu64, x->wasted_pkts);
}
