/* mptcp-stats.h
 * The statistics model shared by the tap listener and accumulators (mptcp-stats.c, which also
 * fills the GUI tables) and the tshark printers (mptcp-stats-print.c). Private to those two.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_STATS_H
#define MPTCP_STATS_H

#include "mptcp-int.h"

#include <epan/stat_tap_ui.h>

/** Union of [lo, hi) ranges: sorted, disjoint, non-touching. */
typedef struct {
    uint64_t *lo, *hi;
    unsigned n, cap;
} ivset_t;

/** Exact running nearest-rank percentile: a max-heap of the ceil(p n / 100) smallest values and
 * a min-heap of the others (both as min-heaps, the lower one of negated values). */
typedef struct {
    unsigned pct;
    mptcp_heap_t low, high;        /* keys: -value and value (order-preserving, see mptcp_heap_key_i64) */
    uint64_t n;
} qtrack_t;

extern const unsigned mptcp_stats_pcts[3];
#define NPCT 3

typedef struct {
    uint64_t n, unacked;
    int64_t min, max, sum;         /* ns */
    qtrack_t q[NPCT];
} lat_stat_t;

/** GUI: the data order of a direction accumulated segment by segment (the first pass is over
 * when the GUI taps, so the forward-linked HoL waits are known then). */
typedef struct {
    uint64_t flight_n, flight_max;
    qtrack_t flight_med;                       /* P50 */
    lat_stat_t hol;                            /* n = segments ahead of a gap, sum = total */
    uint64_t spur_pkts, spur_bytes;
} gui_do_t;

/** A time of first occurrence (relative to the capture's first packet, ns). */
typedef struct {
    bool set;
    int64_t t;
} when_t;

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
    mptcp_vstats_t *vantage;                   /* the peer capture's numbers (mptcp-stats-vantage.c) */
} sf_stat_t;

typedef struct {
    const mptcp_conn_t *conn;
    dir_stat_t d[2];
    int64_t first, last;                       /* first and last packet, both directions */
    bool fallback;
    uint64_t hmac_join_bad, hmac_add_bad;
    ivset_t uniq[2];                           /* relative DSN offsets */
    bool ubase_set[2];
    bool syn_counted[2];       /**< a TCP Fast Open SYN's payload was added to unique */
    uint64_t ubase[2];
    uint64_t unique[2];
    GPtrArray *lat_pkts[2];                    /* CLI: segments with new data, latency read when drawn */
    lat_stat_t lat[2];                         /* GUI: accumulated as tapped (the first pass is over) */
    GPtrArray *do_pkts[2];                     /* CLI: data segments, data order read when drawn */
    gui_do_t gdo[2];                           /* GUI: data order accumulated as tapped */
    GPtrArray *sfs;                            /* sf_stat_t * by subflow index (holes NULL) */
    stat_tap_table *table;                     /* GUI */
    mptcp_vstats_t *vantage;                   /* the peer capture's numbers (mptcp-stats-vantage.c) */
} conn_stat_t;

typedef struct {
    GHashTable *conns;                         /* mptcp_conn_t * -> conn_stat_t * */
} stats_t;

extern const char *const mptcp_stats_dir_names[2];   /**< "client->server", "server->client" */

/* accumulating (mptcp-stats.c) */
void mptcp_stats_init(stats_t *s);
void mptcp_stats_clear(stats_t *s);
/** Adds one tapped segment (gui: accumulate latencies now; else keep the segments to read their
 * latency when drawn); returns the connection and subflow entries it changed. */
void mptcp_stats_packet(stats_t *s, packet_info *pinfo, const mptcp_segment_tap_t *st, bool gui, conn_stat_t **cp,
                        sf_stat_t **sp, sf_stat_t **origin_sp, bool *created);
void mptcp_stats_lat_add(lat_stat_t *l, int64_t v);
void mptcp_stats_lat_free(lat_stat_t *l);
int64_t mptcp_stats_quantile(const qtrack_t *q);
/** Adds a value to a running percentile (q->pct set by the caller); frees its heaps. */
void mptcp_stats_qtrack_add(qtrack_t *q, int64_t v);
void mptcp_stats_qtrack_free(qtrack_t *q);

/* reading (mptcp-stats.c) */
bool mptcp_stats_sf_join_failed(const sf_stat_t *ss);
uint64_t mptcp_stats_failed_joins(const conn_stat_t *c);
const char *mptcp_stats_sf_role(const conn_stat_t *c, const sf_stat_t *ss);
/** Client (side 0) and server (side 1) address and port of a subflow, as text. */
void mptcp_stats_sf_ends(const mptcp_subflow_t *sf, char addr[2][WS_INET6_ADDRSTRLEN], uint16_t port[2]);
double mptcp_stats_share_pct(uint64_t part, uint64_t whole);
double mptcp_stats_goodput(const conn_stat_t *c, int d);
/** The connections by stream number (free with g_ptr_array_free(v, TRUE)). */
GPtrArray *mptcp_stats_sorted(stats_t *s);
/** Seconds with 9 decimals from ns; sign-aware. */
char *mptcp_stats_fmt_s(char *buf, size_t len, int64_t ns);
double mptcp_stats_ms(int64_t ns);

#endif /* MPTCP_STATS_H */
