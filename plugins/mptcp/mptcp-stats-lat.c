/* mptcp-stats-lat.c
 * The delay summaries of the statistics (lat_stat_t, mptcp-stats.h): min, max, sum and exact
 * nearest-rank quantiles kept as the samples come (two heaps per quantile, mptcp-util.h's
 * min-heap). Shared by the latency (mptcp-stats.c) and the peer capture's one-way delays
 * (mptcp-stats-vantage.c), below both.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-stats.h"

static void
heap_put(mptcp_heap_t *h, int64_t v)
{
    uint64_t k = mptcp_heap_key_i64(v);

    mptcp_heap_push(h, NULL, &k, sizeof(k));
}

static int64_t
heap_take(mptcp_heap_t *h)
{
    int64_t v = mptcp_heap_i64(*(const uint64_t *)mptcp_heap_top(h));

    mptcp_heap_pop(h, sizeof(uint64_t));
    return v;
}

static int64_t
heap_peek(const mptcp_heap_t *h)
{
    return mptcp_heap_i64(*(const uint64_t *)mptcp_heap_top(h));
}

void
mptcp_stats_qtrack_add(qtrack_t *q, int64_t v)
{
    uint64_t k;

    q->n++;
    k = (q->n * q->pct + 99) / 100;      /* nearest rank: ceil(p n / 100) */
    if (q->low.n && v <= -heap_peek(&q->low))
        heap_put(&q->low, -v);
    else
        heap_put(&q->high, v);
    while (q->low.n > k)
        heap_put(&q->high, -heap_take(&q->low));
    while (q->low.n < k && q->high.n)
        heap_put(&q->low, -heap_take(&q->high));
}

int64_t
mptcp_stats_quantile(const qtrack_t *q)
{
    return q->low.n ? -heap_peek(&q->low) : 0;
}

void
mptcp_stats_qtrack_free(qtrack_t *q)
{
    mptcp_heap_free(&q->low, NULL);
    mptcp_heap_free(&q->high, NULL);
    q->n = 0;
}

const unsigned mptcp_stats_pcts[NPCT] = { 50, 90, 99 };
const char *const mptcp_stats_dir_names[2] = { "client->server", "server->client" };


void
mptcp_stats_lat_add(lat_stat_t *l, int64_t v)
{
    if (!l->n || v < l->min)
        l->min = v;
    if (!l->n || v > l->max)
        l->max = v;
    l->sum += v;
    l->n++;
    for (unsigned i = 0; i < NPCT; i++) {
        l->q[i].pct = mptcp_stats_pcts[i];
        mptcp_stats_qtrack_add(&l->q[i], v);
    }
}

void
mptcp_stats_lat_free(lat_stat_t *l)
{
    for (unsigned i = 0; i < NPCT; i++)
        mptcp_stats_qtrack_free(&l->q[i]);
    memset(l, 0, sizeof(*l));
}
