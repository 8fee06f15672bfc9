/* test_peer.c
 * Driver of the two-vantage-point code (plugins/mptcp/mptcp-peer*.c) without a dissection:
 * reads THIS and PEER with libwiretap, feeds THIS's segments to the matcher in frame order and
 * prints one line per TCP frame of THIS, for tests/test_vantage.py to compare with the truth
 * of tests/vantage_truth.py:
 *
 *   test_peer THIS PEER [CLOCK_OFFSET_S]
 *     frame peer_frame|- owd_ns|- sent_here(1/0/-) lost(1/0) reinj_useful(1/0/-) peer_conn
 *   test_peer --index FILE       counts of the index (segments, connections, data with a DSN,
 *                                reinjections, first arrivals), or the reader's one error line
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define MPTCP_COMPAT_WTAP 1
#include "mptcp-compat.h"

#include <wsutil/wslog.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcp-peer.h"

typedef struct {
    mptcp_peer_matcher_t *m;
} drive_t;

static void
match_cb(const mptcp_peer_seg_t *seg, void *ud)
{
    drive_t *d = (drive_t *)ud;
    mptcp_peer_result_t r;

    mptcp_peer_match(d->m, seg, &r);
    printf("%u ", seg->frame);
    if (r.has_peer)
        printf("%u %" PRId64 " ", r.peer_frame, r.owd_ns);
    else
        printf("- - ");
    printf("%s %d %s %d\n", r.sender_known ? (r.sent_here ? "1" : "0") : "-", r.lost_on_path,
           r.has_reinj_useful ? (r.reinj_useful ? "1" : "0") : "-", r.peer_conn);
}

typedef struct {
    mptcp_peer_index_t *idx;
    unsigned data, dsn, reinj, first;
} count_t;

static void
count_cb(const mptcp_peer_seg_t *seg, void *ud)
{
    count_t *c = (count_t *)ud;
    const mptcp_peer_rec_t *r = mptcp_peer_index_add(c->idx, seg);

    c->data += seg->len > 0;
    c->dsn += r->has_dsn;
    c->reinj += r->reinjection;
    c->first += r->first_arrival;
}

static int
index_only(const char *path)
{
    count_t c = { mptcp_peer_index_new(), 0, 0, 0, 0 };
    char *err = NULL;
    bool ok = mptcp_peer_foreach(path, count_cb, &c, &err);

    if (!ok)
        printf("error: %s\n", err);
    mptcp_peer_index_finish(c.idx);
    printf("segments %u connections %u data %u dsn %u reinjections %u first_arrivals %u\n",
           mptcp_peer_index_count(c.idx), mptcp_peer_index_connections(c.idx), c.data, c.dsn, c.reinj,
           c.first);
    g_free(err);
    mptcp_peer_index_free(c.idx);
    return ok ? 0 : 3;
}

int
main(int argc, char **argv)
{
    char *err = NULL;
    mptcp_peer_index_t *peer;
    drive_t d;

    ws_log_set_level(LOG_LEVEL_WARNING);   /* wiretap's debug lines otherwise (no ws_log_init) */
    wtap_init(FALSE);
    if (argc == 3 && strcmp(argv[1], "--index") == 0)
        return index_only(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: test_peer THIS PEER [CLOCK_OFFSET_S] | test_peer --index FILE\n");
        return 2;
    }
    peer = mptcp_peer_read(argv[2], &err);
    if (!peer) {
        printf("error: %s\n", err);
        g_free(err);
        return 3;
    }
    d.m = mptcp_peer_matcher_new(peer, argc > 3 ? (int64_t)llround(atof(argv[3]) * 1e9) : 0);
    if (!mptcp_peer_foreach(argv[1], match_cb, &d, &err)) {
        printf("error: %s\n", err);
        g_free(err);
        mptcp_peer_matcher_free(d.m);
        return 3;
    }
    {
        int64_t est;
        if (mptcp_peer_offset_estimate(d.m, &est))
            fprintf(stderr, "offset_estimate_ns %" PRId64 "\n", est);
    }
    mptcp_peer_matcher_free(d.m);
    wtap_cleanup();
    return 0;
}
