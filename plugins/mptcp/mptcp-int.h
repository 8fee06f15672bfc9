/* mptcp-int.h
 * Private types and cross-file prototypes of the MPTCP plugin. Never included outside it.
 *
 * State model (RFC 8684 section 2):
 *   mptcp_conn_t     one MPTCP connection = one key pair; endpoint 0 is the client
 *                    (the MP_CAPABLE SYN sender), endpoint 1 the server.
 *   mptcp_subflow_t  one TCP connection that belongs to an MPTCP connection.
 *   mptcp_pkt_t      the first-pass analysis result of one TCP segment, rendered on
 *                    every pass (a table by frame number, file scope).
 * All of it lives in wmem_file_scope() and is only created or changed on the first pass.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_INT_H
#define MPTCP_INT_H

#include "mptcp-compat.h"

#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/address.h>
#include <epan/proto_data.h>

#include "mptcp-hint.h"
#include "mptcp-optparse.h"
#include "mptcp-util.h"
#include "mptcp-pkt.h"

#define MPTCP_MAX_OPTS 8           /**< MPTCP options kept per segment (40 option bytes allow 10 of 4) */

/* ---------------------------------------------------------------------------------------- */
/* Raw TCP segment, parsed by the plugin itself (independent of TCP's preferences).         */

typedef struct {
    address src, dst;          /**< shallow copies of pinfo->src/dst */
    uint16_t sport, dport;
    uint32_t seq, ack;         /**< raw sequence and acknowledgement numbers */
    uint16_t flags;            /**< TH_* flags */
    uint16_t window;           /**< window field (unscaled) */
    uint32_t seglen;           /**< payload length (reported) */
    unsigned hlen;             /**< header length */
    unsigned nopts;
    uint16_t kinds;            /**< bit s set: an option of subtype s (parsed or not) */
    bool dss_map;              /**< a DSS option that parsed carries a mapping (RFC 8684 section 3.3) */
    mptcp_opt_t opts[MPTCP_MAX_OPTS];
    unsigned opt_offset[MPTCP_MAX_OPTS];  /**< option offset within the TCP header */
    tvbuff_t *tvb;             /**< the TCP segment */
    const uint8_t *raw;        /**< its captured bytes (the options are at raw + opt_offset[i]) */
    bool has_ts;               /**< TCP timestamps option (kind 8) present: tsval */
    bool has_ipid;             /**< carried by IPv4: ipid */
    uint32_t tsval;
    uint16_t ipid;
} mptcp_seg_t;

/* ---------------------------------------------------------------------------------------- */
/* Interval index: sorted ranges [low, high) of 64-bit sequence space with a payload.        */

/* 28 bytes an entry, not 32: 4-byte alignment (one entry per DSS mapping of every subflow
 * direction; x86 and ARMv8 load 8 bytes from a 4-byte boundary at full speed) */
#pragma pack(push, 4)
typedef struct {
    uint64_t low;              /**< [low, low + len) */
    uint64_t val;              /**< mapping: DSN of low; sent-data run: see mptcp-sent.c */
    uint32_t len;
    union {                    /**< the entry's tag (mptcp_ranges_insert()) */
        uint32_t frame;        /**< mapping: the frame that carried it (mptcp_maps_t: or a run's
                                * pieces, mptcp-ranges.c) */
        uint32_t aux;          /**< sent-data run: a run of one's subflow number */
    };
    uint32_t reach;            /**< max(high) over this entry and all before it, minus low (> 0;
                                * fits: no range is longer than 2^32 - 1) */
} mptcp_range_t;
#pragma pack(pop)

typedef struct {
    mptcp_range_t *v;
    unsigned n, cap;
} mptcp_ranges_t;

static inline uint64_t
mptcp_range_high(const mptcp_range_t *r)
{
    return r->low + r->len;
}

typedef bool (*mptcp_range_visit_cb)(const mptcp_range_t *r, void *ud);

/** Adds [low, high) with val and tag (frame or aux); an entry with the same low, length and val
 * is a repeat and is not added (the first owner stays). */
void mptcp_ranges_insert(mptcp_ranges_t *rs, uint64_t low, uint64_t high, uint64_t val, uint32_t tag);
const mptcp_range_t *mptcp_ranges_find_covering(const mptcp_ranges_t *rs, uint64_t pos);
void mptcp_ranges_foreach_overlap(const mptcp_ranges_t *rs, uint64_t low, uint64_t high,
                                  mptcp_range_visit_cb cb, void *ud);

/** Frees the entries (on the GLib heap: at the file's cleanup, mptcp_conn_cleanup()). */
void mptcp_ranges_free(mptcp_ranges_t *rs);

/** Grows the last entry (in low order) to end at high (>= its end); false if it would be
 * longer than 2^32 - 1. */
bool mptcp_ranges_extend_last(mptcp_ranges_t *rs, uint64_t high);

/** A subflow direction's DSS mappings (mptcp-ranges.c): an interval index whose entry is a
 * mapping [ssn, ssn + dll) -> DSN (64-bit raw) with the frame that carried it, or a run of
 * mappings that continue each other, their lengths and frames in pieces. */
typedef struct {
    mptcp_ranges_t r;
    uint32_t *pieces;          /**< [0] the words used after it, then the runs' (mptcp-ranges.c) */
} mptcp_maps_t;

/** Adds the mapping [low, high) -> dsn carried by frame; a repeat (same low, length and DSN) is
 * not added (the first frame stays its owner). */
void mptcp_maps_insert(mptcp_maps_t *m, uint64_t low, uint64_t high, uint64_t dsn, uint32_t frame);
/** The mapping that covers pos: the latest-starting one (ties: the earliest frame); false if none. */
bool mptcp_maps_find_covering(const mptcp_maps_t *m, uint64_t pos, mptcp_range_t *out);
/** The mapping with the highest low (the last added of those); false if there is none. */
bool mptcp_maps_last(const mptcp_maps_t *m, mptcp_range_t *out);
/** Frees the index (on the GLib heap: at the file's cleanup, mptcp_conn_cleanup()). */
void mptcp_maps_free(mptcp_maps_t *m);

/* ---------------------------------------------------------------------------------------- */
/* Index of the data an endpoint sent (mptcp-sent.c): every transmission by DSN range.       */

typedef struct {
    mptcp_ranges_t runs;       /**< runs of contiguous segments: val = the segment's reference (a
                                * run of one) or where in the sequence below */
    /* the segments of runs of two or more (mptcp_pkt_ref()), run by run, in groups of
     * MPTCP_SENT_GROUP: a group's first reference whole, the others as deltas (mptcp-sent.c) */
    mptcp_gseq_t seq;          /**< the groups one after the other: the first reference (4 bytes),
                                * then the difference of each other to the one before, varint */
    uint32_t n;                /**< segments in the sequence */
    uint32_t nbytes;           /**< bytes used in seq */
    uint32_t last;             /**< the last segment's reference */
    bool tail_open;            /**< the last segment added went to the last run in DSN order */
} mptcp_sent_t;

/** Frees the index (its arrays are on the GLib heap: at the file's cleanup). */
void mptcp_sent_free(mptcp_sent_t *s);

/** Adds a transmission: [its DSN, + pkt->seglen) on its subflow (first pass). */
void mptcp_sent_add(mptcp_sent_t *s, mptcp_pkt_t *pkt);

/** Adds a transmission of len bytes from its DSN low if nothing sent before overlaps it (mostly:
 * new data); false, adding nothing, otherwise. */
bool mptcp_sent_add_new(mptcp_sent_t *s, mptcp_pkt_t *pkt, uint64_t low, uint32_t len);

typedef void (*mptcp_sent_visit_cb)(mptcp_pkt_t *p, uint32_t sf_index, void *ud);

/** Calls cb for every transmission overlapping [low, high), by descending DSN, then frame. */
void mptcp_sent_foreach_overlap(const mptcp_sent_t *s, uint64_t low, uint64_t high, mptcp_sent_visit_cb cb,
                                void *ud);

/* RFC 8684 section 3.3: "the 64-bit DSN is ... inferred from the 32 least significant bits":
 * the value with those low bits closest to the reference, from -2^31 to 2^31 - 1 away (wrap
 * aware, modulo 2^64; in line: a few instructions on every segment's path). */
static inline uint64_t
mptcp_expand32(uint64_t ref, uint32_t v32)
{
    return ref + (uint64_t)(int64_t)(int32_t)(v32 - (uint32_t)ref);
}

/* ---------------------------------------------------------------------------------------- */
/* Connections and subflows                                                                 */

/** Data in an endpoint's MP_CAPABLE SYN (TCP Fast Open, RFC 8684 appendix B): rare, so kept
 * beside its connection (mptcp_ep_syn_data()), not in every endpoint. */
typedef struct {
    mptcp_pkt_t *pkt;          /**< the SYN (its subflow: mptcp_pkt_sf(pkt)), placed once the key is
                                * known or at fallback */
    const uint8_t *bytes;      /**< its captured payload (file scope), for Follow's first pass */
    uint32_t len;
} mptcp_syn_data_t;

/** One side of an MPTCP connection (fields ordered by size: no padding between them). */
typedef struct {
    uint64_t key;
    uint64_t idsn;             /**< least significant 64 bits of H(key) */
    /* first pass only: */
    uint64_t dsn_ref;          /**< last 64-bit DSN sent by this endpoint (for expansion) */
    uint64_t ack_ref;          /**< last 64-bit DATA_ACK sent by this endpoint */
    uint64_t data_fin_dsn;
    mptcp_sent_t sent;         /**< everything this endpoint sent (reinjections, latency) */
    uint32_t token;            /**< most significant 32 bits of H(key) (RFC 8684 section 3.1) */
    uint32_t syn_rel;          /**< the length of data in its SYN (mptcp_ep_syn_data()): Linux
                                * numbers the data after it from IDSN + 1, so the SYN's bytes sit
                                * just below and relative DSNs count from IDSN - syn_rel (the
                                * SYN's first byte is relative DSN 1) */
    bool key_known : 1;        /**< key seen in MP_CAPABLE (set once) */
    bool dsn_ref_known : 1, ack_ref_known : 1;
    bool dsn_ref_exact : 1;    /**< dsn_ref's upper 32 bits are known (64-bit DSN or key seen) */
    bool data_fin_seen : 1;
    bool syn_data : 1;         /**< its SYN had data: mptcp_ep_syn_data() has it */
    bool syn_data_open : 1;    /**< ... which has no DSN yet (first pass, mptcp-dsn.c) */
} mptcp_endpoint_t;

/** Raw DSN that relative DSNs of endpoint e count from (relative DSN 1 is its first byte). */
static inline uint64_t
mptcp_ep_rel_base(const mptcp_endpoint_t *e)
{
    return e->idsn - e->syn_rel;
}

typedef struct {
    address addr;
    uint16_t port;
    bool removed;
    uint32_t frame;            /**< ADD_ADDR frame */
} mptcp_addr_t;

struct mptcp_connection {
    uint32_t stream;           /**< mptcp.stream */
    uint32_t first_frame;
    int8_t version;            /**< 0, 1, or -1 when not seen (inferred connections) */
    bool inferred;             /**< grouped without keys (capture misses the handshake) */
    bool csum;                 /**< DSS checksums negotiated (A flag) */
    bool fallback;             /**< fell back to plain TCP */
    uint8_t dupack_ops;        /**< bit per MPTCP option kind seen (mptcp_epan_tcp_dupack_arm) */
    uint8_t keys_known;        /**< bit e: ep[e].key_known (read per packet without ep[]'s lines) */
    mptcp_endpoint_t ep[2];    /**< [0] client, [1] server */
    mptcp_subflow_t **subflows; /**< in creation order (mptcp_conn_subflow()) */
    uint32_t nsubflows, subflows_cap;
    mptcp_subflow_t *master;   /**< the MP_CAPABLE subflow, if seen */
    /* per-connection state of other modules, reached without a map lookup per packet */
    void *lat_priv;            /**< mptcp-latency.c */
    void *reasm_priv;          /**< mptcp-reasm.c */
    void *do_priv;             /**< mptcp-dataorder.c */
};

/** A subflow direction whose SYN was not captured, until its ISN is known (first pass only,
 * mptcp-dsn.c; allocated when first needed). */
typedef struct {
    int64_t isn_lo, isn_hi;    /**< ISN in [anchor + lo, anchor + hi] */
    wmem_array_t *undated;     /**< data segments seen before the ISN was known */
    uint32_t isn_anchor;       /**< raw value the bounds are relative to */
    bool isn_bounded;          /**< ISN narrowed down from DSS mappings (the bounds are set) */
} mptcp_isn_search_t;

/** One direction of a subflow. Index 0 = from the subflow's SYN sender. Fields ordered by size. */
typedef struct {
    uint64_t ssn_ref;          /**< last 64-bit relative subflow seq (first pass only) */
    mptcp_maps_t maps;         /**< DSS mappings: [ssn, ssn+dll) -> dsn (64-bit raw) */
    mptcp_isn_search_t *search; /**< SYN not captured: the ISN's search (NULL: not needed) */
    uint32_t isn;              /**< raw ISN; relative subflow seq = raw - isn (RFC 8684 section 3.3.1) */
    uint32_t nonce;
    uint32_t syn_data;         /**< payload of this direction's MP_CAPABLE SYN (TFO): Linux's DSS
                                * subflow sequence numbers leave it out */
    uint8_t addr_id;
    bool isn_known : 1;
    bool ssn_ref_known : 1;
    bool backup : 1;           /**< backup priority requested by this side (JOIN B flag / MP_PRIO) */
    bool fin_seen : 1, rst_seen : 1;
} mptcp_sfdir_t;

/** A subflow's TCP 4-tuple: [0] the SYN sender (or the first sender seen), [1] its peer. The
 * addresses' bytes follow the subflow in its allocation, [0]'s first (mptcp_subflow_addr()):
 * 16 bytes instead of two 24-byte address structures. */
typedef struct {
    uint32_t len[2];           /**< address lengths */
    uint16_t port[2];
    uint8_t type[2];           /**< address_type (< 256: AT_END_OF_LIST plus the registered ones) */
} mptcp_tuple_t;

struct mptcp_sf {
    mptcp_conn_t *conn;        /**< NULL until linked (JOIN with unknown token) */
    void *claim_conv;          /**< mptcp-reasm.c: the subflow's TCP conversation it claimed
                                * (conversation_t *; NULL: none yet) */
    uint32_t index;            /**< subflow number within its connection (0 = initial) */
    uint32_t ref;              /**< 1 + its index in mptcp_pkt_sfs (mptcp_pkt_t.sf_ref) */
    uint32_t tcp_stream;       /**< tcp.stream, once TCP has seen it */
    uint32_t claim_from;       /**< mptcp-reasm.c: the claim holds from this frame on */
    uint32_t wscale_frame;     /**< the frame after which both are known (0: not yet) */
    mptcp_tuple_t t;           /**< the 4-tuple (the key of the subflow table, mptcp-conn.c) */
    uint8_t wscale[2];         /**< per direction, its first SYN: MPTCP_WS_* (mptcp-dataorder.c) */
    uint8_t client_dir : 1;    /**< which subflow direction (0/1) the connection's client sends on */
    uint8_t addr_ids_known : 2; /**< bit d set: dir[d].addr_id was announced (JOIN) or is 0 (initial) */
    bool tcp_stream_known : 1;
    bool is_join : 1;          /**< MP_JOIN subflow (else MP_CAPABLE or inferred) */
    bool syn_seen : 1, synack_seen : 1;
    bool dupack_attached : 1;  /**< a segment with an MPTCP option was seen (first pass) */
    bool backup_any : 1;       /**< dir[0].backup || dir[1].backup (mptcp-conn.c) */
    uint8_t state_logged;      /**< mptcp-conn.c: the state last handed to mptcp_pkt_set_state() (first pass) */
    uint8_t dupack_ops[2];     /**< per direction: the connection's dupack_ops at its last segment
                                * (packet-mptcp.c; here, not in dir[]: read on every segment) */
    uint32_t nsubflows_logged; /**< mptcp-firstpass.c: 1 + the count last handed to
                                * mptcp_pkt_set_nsubflows() (0: none yet; first pass) */
    mptcp_sfdir_t dir[2];
};

/** Address i of the subflow's 4-tuple (mptcp_tuple_t): valid as long as the subflow (file scope). */
static inline void
mptcp_subflow_addr(const mptcp_subflow_t *sf, int i, address *out)
{
    const uint8_t *bytes = (const uint8_t *)(sf + 1) + (i ? sf->t.len[0] : 0);

    set_address(out, sf->t.type[i], (int)sf->t.len[i], sf->t.len[i] ? bytes : NULL);
}

/** The connection of a result's subflow (NULL while it has none): a subflow is linked at most
 * once, and the results analysed before that are its orphans, adopted then, so this is the
 * connection every pass renders the packet with. */
static inline mptcp_conn_t *
mptcp_pkt_conn(const mptcp_pkt_t *pkt)
{
    return pkt->sf_ref ? mptcp_pkt_sfs[pkt->sf_ref - 1]->conn : NULL;
}

enum {
    MPTCP_WS_UNSEEN = 0,       /**< no SYN of this direction captured */
    MPTCP_WS_NONE = 1,         /**< its SYN had no window scale option */
    MPTCP_WS_SHIFT0 = 2,       /**< its SYN offered shift (value - MPTCP_WS_SHIFT0) */
};

/* ---------------------------------------------------------------------------------------- */
/* One segment's first pass (mptcp-firstpass.c)                                              */

/** What the first-pass stages of one segment share, found once instead of by every stage. */
typedef struct {
    packet_info *pinfo;
    const mptcp_seg_t *seg;
    mptcp_pkt_t *pkt;
    mptcp_subflow_t *sf;       /**< the segment's subflow (mptcp_pkt_sf(pkt)), after mptcp_conn_update */
    mptcp_conn_t *c;           /**< the subflow's connection (NULL: none yet) */
    int64_t t;                 /**< capture time (ns) */
    bool no_earlier_copy;      /**< mptcp-dsn.c: no earlier transmission of the sender overlaps the
                                * segment's data (known from the reinjection search) */
    uint64_t dsn64, ack64;     /**< mptcp-dsn.c: mptcp_pkt_dsn64(pkt) and mptcp_pkt_ack64(pkt), decoded
                                * once for the later stages (0 before or without mptcp_dsn_update) */
} mptcp_fp_t;

/** A capture time in ns. */
static inline int64_t
mptcp_ts_ns(const nstime_t *t)
{
    return (int64_t)t->secs * 1000000000 + t->nsecs;
}

/* ---------------------------------------------------------------------------------------- */
/* Cross-file functions                                                                      */

/* mptcp-crypto.c */
void mptcp_key_to_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn);
uint64_t mptcp_join_synack_hmac(int version, uint64_t key_b, uint64_t key_a, uint32_t nonce_b, uint32_t nonce_a);
void mptcp_join_ack_hmac(int version, uint64_t key_a, uint64_t key_b, uint32_t nonce_a, uint32_t nonce_b, uint8_t out[20]);
uint64_t mptcp_add_addr_hmac(uint64_t key_sender, uint64_t key_peer, uint8_t addr_id,
                             const uint8_t *addr, unsigned addr_len, bool has_port, uint16_t port);

/* mptcp-options.c */
void mptcp_options_register(void);
void mptcp_options_handoff(void);
/** Calls add for each of the plugin's fields registered under TCP (tcp.options.mptcp.*). */
void mptcp_options_watch(void (*add)(header_field_info *hfi));
int dissect_mptcp_option(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data);
/** The segment TCP dissects now as the wrapper parsed it (first pass; NULL otherwise): the
 * option handler takes its DSS options from there instead of parsing them again. */
extern const mptcp_seg_t *mptcp_options_parsed_seg;
/** Makes seg (NULL: none) the segment whose parsed options the handler may take while TCP
 * dissects it; returns the one it replaces (nested TCP layers), to be put back after. Inline:
 * twice a packet. */
static inline const mptcp_seg_t *
mptcp_options_parsed(const mptcp_seg_t *seg)
{
    const mptcp_seg_t *outer = mptcp_options_parsed_seg;

    mptcp_options_parsed_seg = seg;
    return outer;
}

/* mptcp-conn.c */
void mptcp_conn_init(void);
/** At the file's cleanup (its file scope still there): frees the connections' and subflows'
 * indexes, which are on the GLib heap, and forgets the connections. */
void mptcp_conn_cleanup(void);
mptcp_subflow_t *mptcp_conn_update(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt);
bool mptcp_conn_any(void);
/** size zeroed bytes of file scope for a connection's or subflow's state (never freed alone). */
void *mptcp_conn_alloc0(size_t size);
mptcp_conn_t *mptcp_conn_by_stream(uint32_t stream);
uint32_t mptcp_conn_count(void);
/** The connection's first subflow (the initial one when its handshake was captured). */
const mptcp_subflow_t *mptcp_conn_first_subflow(const mptcp_conn_t *c);

/** The connection's subflow number i (< c->nsubflows), in creation order. */
static inline mptcp_subflow_t *
mptcp_conn_subflow(const mptcp_conn_t *c, uint32_t i)
{
    return c->subflows[i];
}
/** Client end [0] and server end [1] of a subflow: the client is the connection's client. The
 * addresses' bytes are the subflow's (file scope). */
void mptcp_subflow_ends(const mptcp_subflow_t *sf, address addr[2], uint16_t port[2]);
/** The connection's ends: those of its first subflow. */
void mptcp_conn_ends(const mptcp_conn_t *c, address addr[2], uint16_t port[2]);
mptcp_subflow_t *mptcp_subflow_lookup(const mptcp_seg_t *seg, int *dir);
/** The truncated HMAC the first pass expected on pkt's MP_JOIN SYN/ACK option, which carries
 * carried (RFC 8684 section 3.2). */
uint64_t mptcp_conn_join_expected(const mptcp_pkt_t *pkt, uint64_t carried);
/** The data of e's SYN (NULL: none). */
const mptcp_syn_data_t *mptcp_ep_syn_data(const mptcp_endpoint_t *e);
/** A record of the data of e's SYN, new (first pass; e has none yet). */
mptcp_syn_data_t *mptcp_ep_syn_data_new(mptcp_endpoint_t *e);

/* mptcp-dsn.c */
void mptcp_dsn_init(void);
/** Data sequence analysis of a segment of a linked subflow; false if it has no connection
 * endpoint to analyse (first pass). */
bool mptcp_dsn_update(mptcp_fp_t *fp);
/** RFC 8684 section 3.3.1: the DSS checksum of the mapping that carries pkt's data, as known
 * now (first pass): none to verify (not negotiated, or unverifiable: bytes missing or cut),
 * not complete yet, matched, failed. */
typedef enum {
    MPTCP_CSUM_NONE,
    MPTCP_CSUM_PENDING,
    MPTCP_CSUM_OK,
    MPTCP_CSUM_BAD
} mptcp_csum_state_t;
mptcp_csum_state_t mptcp_dsn_csum_state(const mptcp_pkt_t *pkt);

/* mptcp-conv.c */
/** What the plugin queues on the "mptcp" tap, for every packet of a linked subflow. */
typedef struct {
    const mptcp_pkt_t *pkt;    /**< file-scope first-pass result (pkt->conn is set) */
} mptcp_tap_info_t;

void mptcp_conv_register(void);

/* mptcp-analysis.c */
void mptcp_analysis_register(void);
void mptcp_analysis_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tcp_tree, mptcp_pkt_t *pkt);

/* mptcp-firstpass.c: the first-pass pipeline */
/** Analyses a parsed segment in order (connection, data sequence, latency, reassembly
 * placement) and stores its result, *sf its subflow; NULL for a segment that is not part of
 * MPTCP (*sf NULL). */
mptcp_pkt_t *mptcp_first_pass(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_subflow_t **sf);

/* mptcp-reasm.c: data-level reassembly for the application dissectors (mptcp.reassemble_data) */
void mptcp_reasm_register(void);
void mptcp_reasm_handoff(void);
/** First pass, before TCP runs: places the segment's bytes in its connection's data stream. */
void mptcp_reasm_first_pass(const mptcp_fp_t *fp);
/** Every pass, after TCP: the application dissection of the data this frame delivers (seg:
 * the parsed segment on the first pass, NULL after). */
void mptcp_reasm_dissect(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const mptcp_seg_t *seg,
                         mptcp_pkt_t *pkt);

/* ---------------------------------------------------------------------------------------- */
/* [stats]: MPTCP-level latency, statistics (-z mptcp,stat), Follow MPTCP Stream            */

/* mptcp-vantage.c: the peer capture (mptcp.peer_capture); first pass from mptcp_first_pass,
 * rendered into the analysis subtree */
void mptcp_vantage_register(void);
void mptcp_vantage_init(void);
/** mptcp_vantage_first_pass() has something to do (a peer capture, or its error to note): tested
 * inline, most files have no peer capture. */
extern bool mptcp_vantage_pending;
void mptcp_vantage_first_pass(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt);
void mptcp_vantage_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *ai, const mptcp_pkt_t *pkt);

/** What the peer capture says about one frame (first-pass result). */
typedef struct {
    bool has_peer;             /**< a copy is in the peer capture */
    bool has_owd;              /**< owd_ns valid (copy found, sender known) */
    bool sent_here;            /**< sent by this capture's host (valid with has_owd or lost) */
    bool lost;                 /**< lost on the path */
    bool has_reinj, useful;    /**< a reinjection of its sender; useful */
    int64_t owd_ns;
    uint32_t peer_frame;
    int32_t peer_conn;         /**< -1: unknown */
} mptcp_vantage_info_t;

/** True while a peer capture is in use for the open file. */
bool mptcp_vantage_active(void);
/** The mptcp.peer_clock_offset in force (ns). */
int64_t mptcp_vantage_offset_ns(void);
/** The result of frame; false if the peer capture says nothing about it. */
bool mptcp_vantage_lookup(uint32_t frame, mptcp_vantage_info_t *vi);

/* mptcp-stats-vantage.c: the peer capture's numbers in -z mptcp,stat (per connection and per
 * subflow; printed only while a peer capture is in use, so the output is unchanged without) */
typedef struct mptcp_vstats mptcp_vstats_t;
void mptcp_vstats_add(mptcp_vstats_t **conn, mptcp_vstats_t **sf, uint32_t frame, int dir, uint32_t seglen);
void mptcp_vstats_free(mptcp_vstats_t *v);
void mptcp_vstats_text_conn(const mptcp_vstats_t *v);
void mptcp_vstats_text_sf(const mptcp_vstats_t *v);
void mptcp_vstats_csv_header(void);
void mptcp_vstats_csv_cells(const mptcp_vstats_t *v, int dir, bool conn_row);
void mptcp_vstats_json_conn(const mptcp_vstats_t *v);
void mptcp_vstats_json_dir(const mptcp_vstats_t *v, int dir);
/** The GUI table's peer cells of direction dir: the peer's stream, on the connection's rows
 * (conn_row) the clock offset estimate (s), one-way delay min / mean / P50 / P99 / max (ms), lost
 * on the path, useful and wasted reinjections (empty without a peer capture); g_strdup'ed. */
#define MPTCP_VSTATS_GUI_COLS 10
void mptcp_vstats_gui_cells(const mptcp_vstats_t *v, int dir, bool conn_row, char *cells[MPTCP_VSTATS_GUI_COLS]);

/* mptcp-latency.c: first pass from mptcp_first_pass; rendered into the analysis subtree */
void mptcp_latency_register(void);
void mptcp_latency_update(const mptcp_fp_t *fp);
/** At the file's cleanup, before mptcp_conn_cleanup(): frees the arrays on the GLib heap. */
void mptcp_latency_cleanup(void);
void mptcp_latency_render(tvbuff_t *tvb, proto_tree *t, const mptcp_pkt_t *pkt);
/** The data segment's latency record, expanded into out (false if it has none); forward links complete after the first pass. */
bool mptcp_latency_get(const mptcp_pkt_t *pkt, mptcp_latency_t *out);

/* mptcp-dataorder.c: first pass from mptcp_first_pass; rendered into the analysis subtree */
void mptcp_dataorder_register(void);
void mptcp_dataorder_update(const mptcp_fp_t *fp);
/** At the file's cleanup, before mptcp_conn_cleanup(): frees the arrays on the GLib heap. */
void mptcp_dataorder_cleanup(void);
void mptcp_dataorder_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *t, proto_item *ai,
                            const mptcp_pkt_t *pkt);
/** The data segment's data-order record, expanded into out (false without payload); hol_* complete after the first pass. */
bool mptcp_dataorder_get(const mptcp_pkt_t *pkt, mptcp_dataorder_t *out);
/** Window shift of subflow direction dir (-1: a SYN is missing). */
int mptcp_dataorder_shift(const mptcp_subflow_t *sf, int dir);
/** Whether the data-order stage has an expert info for the packet (rendered without a tree too). */
bool mptcp_dataorder_has_note(const mptcp_pkt_t *pkt);

/** What the first pass accumulated for one direction of data (by sending endpoint). */
typedef struct {
    int64_t window_limited_ns; /**< from each window-full packet to the DATA_ACK that reopens */
    uint64_t zero_windows;     /**< the peer's DATA_ACKs with window 0 */
    uint64_t spurious_pkts, spurious_bytes;
} mptcp_do_dir_stats_t;

bool mptcp_dataorder_dir_stats(const mptcp_conn_t *conn, int ep, mptcp_do_dir_stats_t *out);

/** The data-order statistics of one direction (-z mptcp,stat): from its data segments (read
 * after the first pass: HoL waits are forward links) and the first-pass totals. */
typedef struct {
    uint64_t flight_samples, flight_max, flight_median;  /**< median: nearest rank */
    int64_t window_limited_ns;
    uint64_t zero_windows;
    uint64_t ahead_of_gap;     /**< data segments with a head-of-line wait */
    int64_t hol_p50, hol_p99, hol_max, hol_total;        /**< ns; nearest rank */
    uint64_t spurious_pkts, spurious_bytes;
} mptcp_do_summary_t;

void mptcp_dataorder_summary(const mptcp_conn_t *conn, int ep, const GPtrArray *data_pkts, mptcp_do_summary_t *out);

/* mptcp-stats.c: the "mptcp_segment" tap, queued from the TCP wrapper for every packet of a
 * subflow linked to a connection, with what the statistics and the follower need besides pkt */
typedef struct {
    const mptcp_pkt_t *pkt;    /**< file-scope first-pass result (pkt->conn is set) */
    tvbuff_t *tvb;             /**< the TCP segment */
    const uint8_t *raw;        /**< its captured bytes (the options are at raw + opt_offset[i]) */
    unsigned hlen;             /**< TCP header length: the payload starts there */
    uint16_t tcp_flags;        /**< TH_* */
    uint16_t subtypes;         /**< bit s set: an MPTCP option of subtype s is present */
} mptcp_segment_tap_t;

#define MPTCP_SEGMENT_TAP "mptcp_segment"

/* mptcp-tap.c */
void mptcp_tap_register(void);
/** Queues the "mptcp_segment" tap for a packet of a linked subflow, and the "mptcp" conversation
 * tap (mptcp-conv.c), every pass. */
void mptcp_tap_segment(tvbuff_t *tvb, packet_info *pinfo, const mptcp_pkt_t *pkt);

/* mptcp-stats.c: Statistics > MPTCP Statistics (GUI table) */
void mptcp_stats_register(void);
/* mptcp-stats-print.c: tshark -z mptcp,stat[,text|,csv|,json][,filter]; registered before
 * mptcp_stats_register(), so that tshark does not use its generic printer of the GUI table */
void mptcp_stats_print_register(void);

/* mptcp-follow.c */
void mptcp_follow_register(void);

#endif /* MPTCP_INT_H */
