/* mptcp-peer.h
 * Two vantage points (issue 21): the capture taken at the other end of the connections.
 *
 *   mptcp-peer.c        reads a capture with libwiretap and parses each frame's link layer,
 *                       IPv4/IPv6 and TCP header (mptcp_peer_parse_frame(): pure, no epan).
 *   mptcp-peer-index.c  an index of one capture's TCP segments, fed in frame order: flows,
 *                       MPTCP connections (keys -> tokens, RFC 8684 section 3.1), subflows
 *                       (MP_JOIN token, section 3.2), the DSN of every data segment (DSS,
 *                       section 3.3.1), whether it is a reinjection (bytes sent earlier on
 *                       another subflow) and whether it carries bytes seen for the first time
 *                       at this capture point.
 *   mptcp-peer-match.c  joins a segment of this capture to the same segment of the peer
 *                       capture (flow, TCP sequence number, length, TCP timestamp, IPv4 id)
 *                       and derives the one-way delay, loss on the path and whether a
 *                       reinjection was useful.
 * Everything here uses GLib and wiretap only (no epan state), so it is unit-tested on its own
 * (tests/unit/test_peer.c). Memory is g_malloc'ed and freed by mptcp_peer_index_free().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_PEER_H
#define MPTCP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "mptcp-optparse.h"

#define MPTCP_PEER_MAX_OPTS 6

/* Link-layer direction of a frame, when the format records it (Linux SLL/SLL2 packet type,
 * pcapng flags): who sent it relative to the capturing host. */
typedef enum {
    MPTCP_PEER_DIR_UNKNOWN = 0,
    MPTCP_PEER_DIR_IN,
    MPTCP_PEER_DIR_OUT
} mptcp_peer_dir_t;

/** One TCP segment as parsed from a frame. */
typedef struct {
    uint32_t frame;            /**< 1-based frame number in its capture */
    int64_t ts_ns;             /**< capture time, ns since the epoch */
    mptcp_peer_dir_t dir;
    uint8_t ipver;             /**< 4 or 6 */
    uint8_t src[16], dst[16];  /**< IPv4 addresses in the first 4 bytes */
    uint16_t sport, dport;
    uint16_t ipid;             /**< IPv4 identification (0 for IPv6) */
    uint16_t flags;            /**< TCP flags (9 bits) */
    uint32_t seq, ack;
    uint32_t len;              /**< TCP payload length from the IP header */
    bool has_ts;
    uint32_t tsval, tsecr;
    unsigned nopts;
    mptcp_opt_t opts[MPTCP_PEER_MAX_OPTS];
} mptcp_peer_seg_t;

typedef enum {
    MPTCP_PEER_PARSE_OK = 0,
    MPTCP_PEER_PARSE_NOT_TCP,  /**< not an unfragmented TCP segment over IPv4/IPv6 */
    MPTCP_PEER_PARSE_LINKTYPE  /**< a link layer this reader does not know */
} mptcp_peer_parse_t;

/**
 * Parses link layer (wiretap encapsulation: Ethernet with VLAN tags, Linux SLL, SLL2, raw IP,
 * NULL/LOOP), IPv4/IPv6 (extension headers skipped) and the TCP header with its options.
 * Reads only within data[0, caplen). seg->frame and seg->ts_ns (zeroed) are the caller's to set.
 */
mptcp_peer_parse_t mptcp_peer_parse_frame(int wtap_encap, const uint8_t *data, unsigned caplen,
                                          mptcp_peer_seg_t *seg);

/* ---------------------------------------------------------------------------------------- */
/* Index of one capture */

/** What the index knows about one segment (one per TCP frame of the capture). */
typedef struct {
    uint32_t frame;
    uint32_t flow;             /**< index of the directed 4-tuple */
    uint32_t seq, len, tsval;
    uint32_t next_same;        /**< 1 + index of the next segment with the same match key, or 0 */
    uint32_t next_ts;          /**< data: 1 + index of the next data segment of the flow with this TSval */
    int64_t ts_ns;
    uint64_t rdsn;             /**< relative DSN of the first payload byte (valid if has_dsn) */
    uint16_t ipid;
    uint16_t flags;
    uint8_t dir;               /**< mptcp_peer_dir_t */
    bool has_ts : 1;
    bool has_dsn : 1;
    bool reinjection : 1;      /**< carries bytes sent earlier on another subflow */
    bool first_arrival : 1;    /**< carries a byte no earlier frame of the connection-direction had */
    bool matched : 1;          /**< taken by a segment of the other capture (matcher) */
} mptcp_peer_rec_t;

typedef struct mptcp_peer_index mptcp_peer_index_t;

mptcp_peer_index_t *mptcp_peer_index_new(void);
void mptcp_peer_index_free(mptcp_peer_index_t *idx);
/** Adds the next TCP segment (frame order). Returns its record (valid until the next add). */
const mptcp_peer_rec_t *mptcp_peer_index_add(mptcp_peer_index_t *idx, const mptcp_peer_seg_t *seg);
/** Builds the lookup table; after it, no more adds. */
void mptcp_peer_index_finish(mptcp_peer_index_t *idx);
unsigned mptcp_peer_index_count(const mptcp_peer_index_t *idx);
unsigned mptcp_peer_index_connections(const mptcp_peer_index_t *idx);
/** Segments that carry at least one (well-formed) MPTCP option. */
unsigned mptcp_peer_index_mptcp_segments(const mptcp_peer_index_t *idx);
/** MPTCP connection number (0-based, order of the first packet) of a record, or -1. */
int mptcp_peer_index_conn_of(const mptcp_peer_index_t *idx, const mptcp_peer_rec_t *rec);
/** Sending side of a record's flow: 0 = the MP_CAPABLE SYN sender, 1 = the other, -1 unknown. */
int mptcp_peer_index_side_of(const mptcp_peer_index_t *idx, const mptcp_peer_rec_t *rec);
/** 1 + index of the flow (directed 4-tuple) of seg, or 0 if the capture has none. */
uint32_t mptcp_peer_index_flow_find(const mptcp_peer_index_t *idx, const mptcp_peer_seg_t *seg);
/** Earliest and latest time stamp of the indexed segments. */
void mptcp_peer_index_span(const mptcp_peer_index_t *idx, int64_t *first_ns, int64_t *last_ns);
/**
 * 1 + index of the flow of idx that is other_flow of the index other with its addresses or
 * ports rewritten (NAT): the same MP_JOIN SYN token and nonce, or the same server key of the
 * MP_CAPABLE SYN/ACK, and the same direction; 0 if none.
 */
uint32_t mptcp_peer_index_flow_by_sig(const mptcp_peer_index_t *idx, const mptcp_peer_index_t *other,
                                      uint32_t other_flow);
/** 1 + index of the opposite direction of flow, or 0. */
uint32_t mptcp_peer_index_reverse(const mptcp_peer_index_t *idx, uint32_t flow);
/**
 * The first copy not yet taken of seg (same flow, TCP sequence number, length, TSval, IPv4 id
 * and flags) in a finished index; marks it taken. NULL if none is left. O(1).
 */
mptcp_peer_rec_t *mptcp_peer_index_take(mptcp_peer_index_t *idx, uint32_t flow, const mptcp_peer_seg_t *seg);
/**
 * The data segments of flow with seg's TSval whose sequence ranges overlap seg's (one
 * transmission segmented differently at the two ends: TSO at the sender, GRO at the
 * receiver), in frame order, at most max (and no more than 256 are looked at). Finished index.
 */
unsigned mptcp_peer_index_pieces(mptcp_peer_index_t *idx, uint32_t flow, const mptcp_peer_seg_t *seg,
                                 const mptcp_peer_rec_t **out, unsigned max);
/** Tokens of connection conn (side 0 / side 1; 0 when the key is unknown). */
void mptcp_peer_index_tokens(const mptcp_peer_index_t *idx, unsigned conn, uint32_t tok[2]);

/* ---------------------------------------------------------------------------------------- */
/* Reading a peer file */

typedef void (*mptcp_peer_frame_cb)(const mptcp_peer_seg_t *seg, void *ud);

/**
 * Calls cb for every TCP segment of the capture at path, in frame order. False (and *err_msg,
 * g_free it) when the file cannot be opened, is cut or damaged, or has only link types this
 * reader does not parse; the segments before a read error have been passed to cb.
 */
bool mptcp_peer_foreach(const char *path, mptcp_peer_frame_cb cb, void *ud, char **err_msg);

/**
 * Reads every frame of path with wiretap into a finished index. On failure returns NULL and
 * sets *err_msg (g_free it) to one sentence naming the file and what is wrong; a file without
 * any MPTCP option also fails. Linear in the file size.
 */
mptcp_peer_index_t *mptcp_peer_read(const char *path, char **err_msg);

/* ---------------------------------------------------------------------------------------- */
/* Matching this capture against the peer's */

typedef struct {
    bool has_peer;             /**< a copy of this segment is in the peer capture */
    uint32_t peer_frame;
    bool sender_known;
    bool sent_here;            /**< sent by this capture's host */
    int64_t owd_ns;            /**< receiver time - sender time (after the clock offset) */
    bool lost_on_path;         /**< data sent here that never reached the peer capture */
    bool has_reinj_useful;     /**< the segment is a reinjection of its sender */
    bool reinj_useful;
    int peer_conn;             /**< the peer's MPTCP connection number, or -1 */
} mptcp_peer_result_t;

typedef struct mptcp_peer_matcher mptcp_peer_matcher_t;

/** A matcher of this capture (fed in frame order) against peer (owned by the matcher). */
mptcp_peer_matcher_t *mptcp_peer_matcher_new(mptcp_peer_index_t *peer, int64_t clock_offset_ns);
void mptcp_peer_matcher_free(mptcp_peer_matcher_t *m);
/** The next segment of this capture (frame order, first pass only). */
void mptcp_peer_match(mptcp_peer_matcher_t *m, const mptcp_peer_seg_t *seg, mptcp_peer_result_t *res);
/**
 * The clock offset to put into mptcp.peer_clock_offset, estimated from the segments matched so
 * far: the current offset minus half the difference of the minimum one-way delays of the two
 * directions (equal minimum delays assumed). False until both directions have a delay.
 */
bool mptcp_peer_offset_estimate(const mptcp_peer_matcher_t *m, int64_t *offset_ns);

#endif /* MPTCP_PEER_H */
