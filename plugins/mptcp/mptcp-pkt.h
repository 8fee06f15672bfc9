/* mptcp-pkt.h
 * The per-packet result (mptcp_pkt_t) and everything every layer of the plugin shares:
 * the protocol ids, the preferences, where results are stored and found, the segment TCP is
 * dissecting now, and whether a tree's items are wanted. Implemented in mptcp-pkt.c, the
 * model layer: it calls no other file of the plugin except mptcp-epan.c (see README.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_PKT_H
#define MPTCP_PKT_H

#include "mptcp-compat.h"

#include <epan/packet.h>

typedef struct mptcp_connection mptcp_conn_t;
typedef struct mptcp_sf mptcp_subflow_t;
typedef struct mptcp_pkt_s mptcp_pkt_t;

/* ---------------------------------------------------------------------------------------- */
/* Protocols and preferences (registered and adopted in packet-mptcp.c, read once per file   */
/* in the init routine)                                                                      */

typedef struct {
    bool analyze;          /**< mptcp.analyze_mptcp: connection tracking and the analysis tree */
    bool relative;         /**< mptcp.relative_sequence_numbers */
    bool mappings;         /**< mptcp.analyze_mappings: DSN of every data packet */
    bool reinjections;     /**< mptcp.intersubflows_retransmission */
} mptcp_prefs_t;

extern mptcp_prefs_t mptcp_prefs;
extern int proto_mptcp;          /**< the built-in protocol, whose fields and prefs we reuse */
extern int proto_mptcp_plugin;   /**< the plugin's own protocol (handles, tap, decodes) */

/* ---------------------------------------------------------------------------------------- */
/* The result                                                                                */


enum {
    MPTCP_PF_HAS_DSN        = 1u << 0,   /**< dsn64 valid */
    MPTCP_PF_HAS_ACK        = 1u << 1,   /**< ack64 valid */
    MPTCP_PF_NO_MAPPING     = 1u << 2,   /**< data without covering mapping */
    MPTCP_PF_MAP_IN_PKT     = 1u << 3,   /**< DSN from the packet's own DSS */
    MPTCP_PF_REINJECTION    = 1u << 4,
    MPTCP_PF_JOIN_HMAC_OK   = 1u << 5,
    MPTCP_PF_JOIN_HMAC_BAD  = 1u << 6,
    MPTCP_PF_ADD_HMAC_OK    = 1u << 7,
    MPTCP_PF_SHORT          = 1u << 8,   /**< a short result: no dsn32_, reasm_ref_, seglen_ */
    MPTCP_PF_UNKNOWN_TOKEN  = 1u << 9,
    MPTCP_PF_FALLBACK       = 1u << 10,
    MPTCP_PF_INFINITE_MAP   = 1u << 11,
    MPTCP_PF_DATA_FIN       = 1u << 12,
    MPTCP_PF_CSUM_OK        = 1u << 13,
    MPTCP_PF_CSUM_BAD       = 1u << 14,
    MPTCP_PF_CSUM_UNVERIFIED = 1u << 15,
    MPTCP_PF_DSS_DSN        = 1u << 16,  /**< the DSS option's DSN is known (mptcp_pkt_dss_dsn64()) */
    MPTCP_PF_DSS_ACK        = 1u << 17,
    MPTCP_PF_BACKUP         = 1u << 18,  /**< a side of the subflow had asked for backup priority */
    MPTCP_PF_DSS_DSN_EXT    = 1u << 19,  /**< the DSS mapping's DSN is ext->dss_dsn64, not the
                                          * option's (mptcp_pkt_dss_dsn64()) */
    MPTCP_PF_LAT_SLOT       = 1u << 20,  /**< an mptcp_dslot_t follows the result (payload) */
    MPTCP_PF_LAT            = 1u << 21,  /**< ... and holds the segment's latency */
    MPTCP_PF_FB_POS         = 1u << 22,  /**< dsn64 is the byte's position (1 = first) in the
                                          * plain TCP stream of a connection that fell back
                                          * before any key was seen: no DSN exists */
    MPTCP_PF_LATE_DSN       = 1u << 23,  /**< dsn64 was learnt after this packet's first pass
                                          * (its subflow's ISN pinned later): shown with -2 and
                                          * in the GUI; Follow and the statistics, fed on the
                                          * first pass, leave it out on every pass */
    MPTCP_PF_ZERO_WINDOW    = 1u << 24,  /**< DATA_ACK with window 0 (mptcp-dataorder.c) */
    MPTCP_PF_LOST_ON_PATH   = 1u << 25,  /**< sent here, never in the peer capture (mptcp-vantage.c) */
    MPTCP_PF_PEER_NOTE      = 1u << 26,  /**< carries the peer capture's error message */
    /* bits 27-28: the subflow direction, 29-30: the endpoint (mptcp_pkt_dir(), mptcp_pkt_ep()) */
};
/** Where mptcp_pkt_dir() and mptcp_pkt_ep() keep their 2 bits (two's complement) in the flags. */
#define MPTCP_PF_DIR_SHIFT 27
#define MPTCP_PF_EP_SHIFT 29
#define MPTCP_PF_EXT (1u << 31)

typedef struct {
    uint32_t n;
    uint32_t *v;
} mptcp_frames_t;

/** Rare per-packet results, allocated only for the packets that have one. */
typedef struct {
    mptcp_frames_t reinj_of;   /**< earlier frames (other subflows) with the same data */
    mptcp_frames_t reinj_in;   /**< later frames (other subflows); filled on later packets' first pass */
    uint64_t add_expected_hmac;
    wmem_array_t *rm_addrs;    /**< REMOVE_ADDR: the mptcp_addr_t * each removed id stood for */
    uint64_t dss_dsn64;        /**< MPTCP_PF_DSS_DSN_EXT: the DSS mapping's DSN, when its 32-bit form
                                * is not within 2^31 of the packet's own DSN (e.g. no payload) or the
                                * packet's DSS options carry different ones */
    int64_t sent_ns;           /**< MPTCP_PX_SENT_EXT: the data slot's time did not fit */
    int64_t first_ns;          /**< MPTCP_PX_FIRST_EXT: the first transmission's time */
    uint64_t flight;           /**< MPTCP_PX_FLIGHT_EXT: the data slot's flight did not fit */
    int64_t hol_ns;            /**< MPTCP_PX_HOL_EXT: the head-of-line wait (no room for it) */
    uint32_t hol_frame;        /**< ... and the frame that closed the gap */
    uint32_t first_frame;      /**< MPTCP_PX_FIRST_EXT: first transmission, another frame */
    uint16_t csum_computed;    /**< DSS checksum that the completed mapping should carry */
    uint64_t dsn64;            /**< MPTCP_PX_DSN_EXT: the DSN did not fit the result's 32 bits */
    uint64_t ack64;            /**< MPTCP_PX_ACK_EXT: the DATA_ACK did not */
    uint16_t flags;            /**< MPTCP_PX_*: rare flags (the result's 32 flag bits are taken) */
} mptcp_pkt_ext_t;

/** Rare flags, in mptcp_pkt_ext_t (mptcp_pkt_xflag()). */
enum {
    MPTCP_PX_CSUM_MAP_BAD   = 1u << 0,   /**< in a mapping whose DSS checksum failed */
    MPTCP_PX_CSUM_DROPPED   = 1u << 1,   /**< ... and its data was sent again: not delivered */
    MPTCP_PX_CSUM_REPAIR    = 1u << 2,   /**< sends again data of a mapping that failed */
    /* where a data slot's value did not fit its compact form (mptcp-pkt.c) */
    MPTCP_PX_SENT_EXT       = 1u << 3,   /**< ext->sent_ns */
    MPTCP_PX_FLIGHT_EXT     = 1u << 5,   /**< ext->flight */
    MPTCP_PX_HOL_EXT        = 1u << 6,   /**< ext->hol_ns, ext->hol_frame */
    MPTCP_PX_FIRST_EXT      = 1u << 7,   /**< ext->first_frame, ext->first_ns */
    MPTCP_PX_DSN_EXT        = 1u << 8,   /**< ext->dsn64 (mptcp_pkt_dsn64()) */
    MPTCP_PX_ACK_EXT        = 1u << 9,   /**< ext->ack64 */
    /* rare notes of the connection analysis (mptcp-conn.c) */
    MPTCP_PX_ECHO_MISMATCH  = 1u << 10,
    MPTCP_PX_FASTCLOSE_BAD  = 1u << 11,
    MPTCP_PX_ADD_HMAC_BAD   = 1u << 4,   /**< the ADD_ADDR HMAC (ext->add_expected_hmac) is wrong */
    MPTCP_PX_ADDR_ID_REUSED = 1u << 12,  /**< ADD_ADDR announces a known id with another address */
    MPTCP_PX_JOIN_REJECTED  = 1u << 13,  /**< SYN/ACK on a join subflow without MP_JOIN */
    MPTCP_PX_KEY0           = 1u << 14,  /**< endpoint 0's key known at this packet although the
                                          * subflow's log says not (an MP_CAPABLE SYN's data
                                          * placed later, mptcp-dsn.c); MPTCP_PX_KEY0 << 1 for
                                          * endpoint 1 */
};


/** Latency of one data segment: first transmission of its bytes -> first covering DATA_ACK
 * (mptcp-latency.c). The read form (mptcp_latency_get()): the times and the first frame from
 * the data slot (mptcp_pkt_latency()), the DATA_ACK from the connection's DATA_ACK history. */
typedef struct {
    int64_t sent_ns;           /**< absolute time of this transmission (ns) */
    int64_t ns;                /**< latency (valid when acked) */
    uint32_t first_frame;      /**< frame of that first transmission (this frame if new data) */
    uint32_t ack_frame;        /**< frame of the covering DATA_ACK; 0 = not acked */
} mptcp_latency_t;

/** What a data segment stores behind its result (MPTCP_PF_LAT_SLOT): 8 bytes, for the latency
 * (its DATA_ACK is found again in the connection's history, mptcp-latency.c) and the data order;
 * a value that does not fit its field here goes to ext (MPTCP_PX_*_EXT). Only the accessors
 * below (mptcp-pkt.c) read and write it. */
typedef struct {
    uint32_t sent_us;          /**< this transmission's time: microseconds above the file's base */
    uint32_t flight;           /**< bits 0-27: bytes in flight; bits 28-31: MPTCP_DO_* */
} mptcp_dslot_t;

/** First-pass result for one TCP segment of an MPTCP subflow; compact, one per packet
 * (28 bytes, 16 without payload and DSS mapping (MPTCP_PF_SHORT): the 64-bit DSN and DATA_ACK in 32 bits each, the subflow and the reassembly record
 * by 4-byte references, the rare part found by a flag, the direction and the endpoint in flag
 * bits; what changes only at a few frames of the subflow (the connection's subflow count and
 * version, the keys and address ids known, the TCP layer number) in a log of the subflow; the
 * DSS mapping's DSN derived again from the option when rendered, the frame of a mapping used by
 * a later segment in a side list (mptcp_pkt_dss_dsn64(), mptcp_pkt_map_frame());
 * 4-byte aligned, so that no padding rounds it up). */
#pragma pack(push, 4)
struct mptcp_pkt_s {
    uint32_t frame;            /**< this packet's frame number */
    uint32_t flags;            /**< MPTCP_PF_* */
    uint32_t sf_ref;           /**< its subflow: 1 + index in mptcp_pkt_sfs, 0 = none;
                                * read with mptcp_pkt_sf(), its connection with mptcp_pkt_conn() */
    uint32_t ack32_;           /**< raw 64-bit DATA_ACK (MPTCP_PF_HAS_ACK): mptcp_pkt_ack64() */
    /* a short result (MPTCP_PF_SHORT: no payload, no DSS mapping) ends here (MPTCP_PKT_SHORT_SIZE) */
    uint32_t dsn32_;           /**< raw 64-bit DSN of the first payload byte, valid with
                                * MPTCP_PF_HAS_DSN: mptcp_pkt_dsn64(), mptcp_pkt_set_dsn64() */
    uint32_t reasm_ref_;       /**< mptcp-reasm.c: the frame's reassembly record (a reference or
                                * a compact value, 0 = none): mptcp_pkt_reasm_ref() */
    uint32_t seglen_;          /**< the payload's length: mptcp_pkt_seglen() */
};
#pragma pack(pop)
G_STATIC_ASSERT(sizeof(struct mptcp_pkt_s) == 28);
/** The size of a short result: a segment without payload and without a DSS mapping (a pure
 * DATA_ACK), 19% of the packets of a bulk transfer. */
#define MPTCP_PKT_SHORT_SIZE 16
G_STATIC_ASSERT(offsetof(struct mptcp_pkt_s, dsn32_) == MPTCP_PKT_SHORT_SIZE);

/** Data-level order of one data segment (mptcp-dataorder.c). The read form
 * (mptcp_pkt_dataorder()): stored in the data slot. */
typedef struct {
    uint64_t flight;           /**< bytes in flight after this segment (MPTCP_DO_FLIGHT) */
    int64_t hol_ns;            /**< head-of-line wait (valid when hol_frame != 0) */
    uint32_t hol_frame;        /**< frame that closed the gap ahead of this segment; 0 = none */
    uint32_t flags;            /**< MPTCP_DO_* */
} mptcp_dataorder_t;

enum {
    MPTCP_DO_FLIGHT       = 1u << 0,   /**< flight is set */
    MPTCP_DO_WINDOW_FULL  = 1u << 1,   /**< the segment reaches the peer's data-level right edge */
    MPTCP_DO_SPURIOUS     = 1u << 2,   /**< a reinjection whose bytes were all DATA_ACKed before */
    MPTCP_DO_HOL_SLOT     = 1u << 3,   /**< (stored form) 8 bytes for the HoL wait follow the slot */
};

/* ---------------------------------------------------------------------------------------- */
/* Accessors                                                                                 */

/* The data slot (mptcp-pkt.c): setters on the first pass (of the packet itself or of a later
 * one: the forward values), getters on every pass. */

/** Records the time of this data segment (t, ns) and the frame that first carried its data, with
 * that frame's time first_ns (t if it is this frame). */
void mptcp_pkt_set_sent(mptcp_pkt_t *pkt, int64_t t, uint32_t first_frame, int64_t first_ns);
/** The time mptcp_pkt_set_sent() recorded. */
int64_t mptcp_pkt_sent_ns(const mptcp_pkt_t *pkt);
/** The time of the first transmission of the segment's data. */
int64_t mptcp_pkt_first_ns(const mptcp_pkt_t *pkt);
/** What the slot of a data segment with a latency (MPTCP_PF_LAT) holds: the times and the first
 * frame (ns and ack_frame 0: mptcp_latency_get() finds them); false without one. */
bool mptcp_pkt_latency(const mptcp_pkt_t *pkt, mptcp_latency_t *out);
/** Adds MPTCP_DO_WINDOW_FULL or MPTCP_DO_SPURIOUS to the data slot (the packet's first pass). */
void mptcp_pkt_set_do_flag(mptcp_pkt_t *pkt, unsigned f);
/** Records the bytes in flight after this segment (MPTCP_DO_FLIGHT). */
void mptcp_pkt_set_flight(mptcp_pkt_t *pkt, uint64_t flight);
/** Makes room for a head-of-line wait behind the data slot, on the packet's own first pass
 * (when it is ahead of a gap); without it the wait goes to ext. */
void mptcp_pkt_reserve_hol(mptcp_pkt_t *pkt);
/** Records the head-of-line wait and the frame that closed the gap. */
void mptcp_pkt_set_hol(mptcp_pkt_t *pkt, int64_t ns, uint32_t frame);
/** The data order of a data segment (false without a data slot). */
bool mptcp_pkt_dataorder(const mptcp_pkt_t *pkt, mptcp_dataorder_t *out);

/** The rare part of a result with MPTCP_PF_EXT (kept aside, by the result's address). */
mptcp_pkt_ext_t *mptcp_pkt_ext_find(const mptcp_pkt_t *pkt);

/** The slabs results are carved from (file scope), by a reference's upper bits. */
extern uint8_t **mptcp_pkt_slabs;

/* A result's reference: 4 bytes instead of a pointer in the frame table and the indexes that
 * hold a result per data segment (mptcp-pkt.c). */
#ifdef __SANITIZE_ADDRESS__
#define MPTCP_PKT_REF_OFF_BITS 0           /* one allocation per result: numbered */
#else
#define MPTCP_PKT_REF_OFF_BITS 14          /* 1 + slab number << 14 | offset in 4-byte units */
#endif

/** The reference to pkt (never 0: a result is carved from one of the first 2^18 - 1 slabs,
 * 16 GiB of results; 0 beyond). */
uint32_t mptcp_pkt_ref(const mptcp_pkt_t *pkt);

/** The result a reference (not 0) stands for. */
static inline mptcp_pkt_t *
mptcp_pkt_deref(uint32_t ref)
{
    ref--;
    return (mptcp_pkt_t *)(uintptr_t)(mptcp_pkt_slabs[ref >> MPTCP_PKT_REF_OFF_BITS] +
                                      ((size_t)(ref & ((UINT32_C(1) << MPTCP_PKT_REF_OFF_BITS) - 1)) << 2));
}

/** Every subflow of the file (mptcp-conn.c creates them), by mptcp_pkt_t.sf_ref - 1 (file
 * scope): a result refers to its subflow with 4 bytes instead of a pointer. */
extern mptcp_subflow_t **mptcp_pkt_sfs;

/** Lists a new subflow; returns its reference (mptcp_pkt_t.sf_ref). */
uint32_t mptcp_pkt_sf_add(mptcp_subflow_t *sf);

/** The result's subflow (NULL: none, the segment is not on an MPTCP subflow). */
static inline mptcp_subflow_t *
mptcp_pkt_sf(const mptcp_pkt_t *pkt)
{
    return pkt->sf_ref ? mptcp_pkt_sfs[pkt->sf_ref - 1] : NULL;
}

/** The packet's rare part, NULL if it has none. */
static inline mptcp_pkt_ext_t *
mptcp_pkt_ext_get(const mptcp_pkt_t *pkt)
{
    return (pkt->flags & MPTCP_PF_EXT) ? mptcp_pkt_ext_find(pkt) : NULL;
}

/** Whether the packet has the rare flag f (MPTCP_PX_*). */
static inline bool
mptcp_pkt_xflag(const mptcp_pkt_t *pkt, unsigned f)
{
    return (pkt->flags & MPTCP_PF_EXT) && (mptcp_pkt_ext_find(pkt)->flags & f);
}

/** A 2-bit field of the flags at shift sh, as -2..1 (two's complement). */
static inline int
mptcp_pkt_flag2(const mptcp_pkt_t *pkt, unsigned sh)
{
    return (int)((pkt->flags >> sh & 3u) ^ 2u) - 2;
}

/** Sets it (v in -2..1). */
static inline void
mptcp_pkt_set_flag2(mptcp_pkt_t *pkt, unsigned sh, int v)
{
    pkt->flags = (pkt->flags & ~(3u << sh)) | ((uint32_t)v & 3u) << sh;
}

/** The subflow direction of this segment (0 = from the SYN sender). */
static inline int
mptcp_pkt_dir(const mptcp_pkt_t *pkt)
{
    return mptcp_pkt_flag2(pkt, MPTCP_PF_DIR_SHIFT);
}

/** The connection endpoint that sent it (0 client, 1 server, -1 unknown). */
static inline int
mptcp_pkt_ep(const mptcp_pkt_t *pkt)
{
    return mptcp_pkt_flag2(pkt, MPTCP_PF_EP_SHIFT);
}

/** The payload's length (0 in a short result). */
static inline uint32_t
mptcp_pkt_seglen(const mptcp_pkt_t *pkt)
{
    return (pkt->flags & MPTCP_PF_SHORT) ? 0 : pkt->seglen_;
}

/** The reassembly record of a short result (mptcp-pkt.c; rare: a DATA_ACK that delivers data). */
uint32_t mptcp_pkt_short_reasm_ref(const mptcp_pkt_t *pkt);

/** The frame's reassembly record, for mptcp-reasm.c (0 = none). */
static inline uint32_t
mptcp_pkt_reasm_ref(const mptcp_pkt_t *pkt)
{
    return (pkt->flags & MPTCP_PF_SHORT) ? mptcp_pkt_short_reasm_ref(pkt) : pkt->reasm_ref_;
}

/** Sets it (a short result's goes to a side table). */
void mptcp_pkt_set_reasm_ref(mptcp_pkt_t *pkt, uint32_t v);

/* What the subflow's log holds at the packet's frame (mptcp-pkt.c; every pass). */

/** The connection's MPTCP version when analysed (-1 unknown). */
int mptcp_pkt_version(const mptcp_pkt_t *pkt);
/** Bit e set: endpoint e's key was known when analysed. */
unsigned mptcp_pkt_keys(const mptcp_pkt_t *pkt);
/** Bit d set: mptcp_pkt_addr_id(pkt, d) is known (subflow direction d). */
unsigned mptcp_pkt_addr_ids_known(const mptcp_pkt_t *pkt);
/** The address id of the subflow's initiator (d 0) or responder (d 1). */
unsigned mptcp_pkt_addr_id(const mptcp_pkt_t *pkt, int d);

/** Records the connection state the packet is rendered with (its own first pass, after sf_ref
 * and frame): the version, the keys known (bit e: endpoint e) and the address ids. */
void mptcp_pkt_set_state(mptcp_pkt_t *pkt, int version, unsigned keys, unsigned addr_ids_known,
                         const uint8_t addr_id[2]);
/** Orphans adopted (mptcp-conn.c): the results of subflow sf_ref up to frame last read
 * version from now on. */
void mptcp_pkt_adopt_version(uint32_t sf_ref, uint32_t last, int version);

/* The 64-bit DSN and DATA_ACK in 32 bits: the low bits, expanded around an anchor of the data
 * space on the result's subflow (its direction for the DSN, the other one for the DATA_ACK) that
 * holds from a frame on and never changes once set, so every pass decodes the same value; a
 * value too far from it goes to ext (mptcp-pkt.c). */

/** One subflow direction's anchors (mptcp-pkt.c). */
typedef struct {
    uint64_t v0;               /**< values are expanded around it (from the first frame on) */
    struct mptcp_pkt_anchor *more; /**< later anchors, by ascending frame (a value 2^30 away) */
    uint32_t nmore;
    uint32_t last_frame;       /**< newest frame with a value in this space; 0 = none yet */
} mptcp_pkt_space_t;

/** Two spaces per subflow, by mptcp_pkt_t.sf_ref - 1 and direction (file scope). */
extern mptcp_pkt_space_t *mptcp_pkt_spaces;

/** The 64-bit value v32 stands for in space s of the result's subflow, or in ext (flag f). */
uint64_t mptcp_pkt_wide_slow(const mptcp_pkt_t *pkt, uint32_t v32, unsigned s, unsigned f);

static inline uint64_t
mptcp_pkt_wide(const mptcp_pkt_t *pkt, uint32_t v32, unsigned s, unsigned f)
{
    const mptcp_pkt_space_t *sp;

    if (pkt->sf_ref && !(pkt->flags & MPTCP_PF_EXT) && !(sp = &mptcp_pkt_spaces[2 * (pkt->sf_ref - 1) + s])->nmore)
        return sp->v0 + (uint64_t)(int64_t)(int32_t)(v32 - (uint32_t)sp->v0);
    return mptcp_pkt_wide_slow(pkt, v32, s, f);
}

/** Raw 64-bit DSN of the first payload byte (0 without MPTCP_PF_HAS_DSN). Out of line (mptcp-pkt.c),
 * as mptcp_pkt_ack64(): read by every stage, one copy of the code stays in the cache. */
uint64_t mptcp_pkt_dsn64(const mptcp_pkt_t *pkt);
/** Raw 64-bit DATA_ACK (0 without MPTCP_PF_HAS_ACK). */
uint64_t mptcp_pkt_ack64(const mptcp_pkt_t *pkt);

/** Sets the DSN and MPTCP_PF_HAS_DSN (first pass: of this packet, or later for an earlier one;
 * after sf_ref, dir and frame). */
void mptcp_pkt_set_dsn64(mptcp_pkt_t *pkt, uint64_t dsn);
/** Sets the DATA_ACK and MPTCP_PF_HAS_ACK (the packet's first pass). */
void mptcp_pkt_set_ack64(mptcp_pkt_t *pkt, uint64_t ack);

/** The number of subflows of the packet's connection known at it (first pass; 0 if not set). */
uint32_t mptcp_pkt_nsubflows(const mptcp_pkt_t *pkt);
/** Sets it (the packet's own first pass, before mptcp_pkt_store()). */
void mptcp_pkt_set_nsubflows(mptcp_pkt_t *pkt, uint32_t n);

/** The packet's rare-results part, created on first use (first pass only). */
mptcp_pkt_ext_t *mptcp_pkt_ext(mptcp_pkt_t *pkt);

/** Read access to the rare results: a zeroed static when the packet has none. */
const mptcp_pkt_ext_t *mptcp_pkt_ext_const(const mptcp_pkt_t *pkt);

/** The frame that carried the mapping of the packet's first payload byte (0 = none or this one;
 * every pass). */
uint32_t mptcp_pkt_map_frame(const mptcp_pkt_t *pkt);
/** Sets it (the packet's own first pass, after its DSN and MPTCP_PF_MAP_IN_PKT; once). */
void mptcp_pkt_set_map_frame(mptcp_pkt_t *pkt, uint32_t frame);

/** Records the raw 64-bit DSN of the packet's DSS mapping (after dsn64 and its flag are set),
 * which every DSS mapping option of the packet carries as raw (its low 32 bits unless raw64);
 * one_raw false: they carry different ones. Kept in ext only when mptcp_pkt_dss_dsn64() would
 * not derive it from raw. */
void mptcp_pkt_set_dss_dsn64(mptcp_pkt_t *pkt, uint64_t dss_dsn, uint64_t raw, bool raw64, bool one_raw);

/** Raw 64-bit DSN of the packet's DSS mapping (valid with MPTCP_PF_DSS_DSN), for a DSS option of
 * the packet that carries raw (raw64: all 64 bits). */
uint64_t mptcp_pkt_dss_dsn64(const mptcp_pkt_t *pkt, uint64_t raw, bool raw64);

/** Adds a generated 64-bit data-level item (DSN or DATA_ACK) in the data space of the packet's
 * sender (peer false) or receiver (peer true): relative to that endpoint's IDSN when its key
 * was known at this packet and relative sequence numbers are on, raw otherwise. */
void mptcp_pkt_add_dsn_item(proto_tree *t, int hf, tvbuff_t *tvb, const mptcp_pkt_t *pkt, uint64_t raw, bool peer);

/* ---------------------------------------------------------------------------------------- */
/* Storage                                                                                   */

/** Forgets every result (the file scope that held them is gone): at each file open. */
void mptcp_pkt_init(void);
/** A zeroed file-scope per-packet result of size bytes (mptcp_pkt_t, with a latency slot). */
mptcp_pkt_t *mptcp_pkt_new(size_t size);
/** Gives back the result mptcp_pkt_new() just returned (nothing may point to it). */
void mptcp_pkt_discard(mptcp_pkt_t *pkt, size_t size);
/** Keeps pkt as the result of this frame's current TCP layer (first pass). */
void mptcp_pkt_store(packet_info *pinfo, mptcp_pkt_t *pkt);
/** The result stored for this frame's TCP layer number layer, or NULL (every pass). */
mptcp_pkt_t *mptcp_pkt_stored(packet_info *pinfo, uint32_t layer);

/* ---------------------------------------------------------------------------------------- */
/* The segment TCP is dissecting now, for the option handler and the reassembly.             */

typedef struct {
    packet_info *pinfo;
    mptcp_pkt_t *pkt;
    const void *tree_data;     /**< the tree that `wanted` was found for */
    bool wanted;               /**< mptcp_pkt_tree_wanted() for it, found once per TCP layer */
} mptcp_pkt_current_t;

/** Makes pkt the result of the segment TCP dissects next, in tree; returns the one it replaces
 * (a TCP layer nested in the payload, e.g. a tunnel, gets its own; mptcp_pkt_leave() puts the
 * outer one back). */
mptcp_pkt_current_t mptcp_pkt_enter(packet_info *pinfo, mptcp_pkt_t *pkt, proto_tree *tree);
/** Puts saved back; returns whether the tree of the layer left was wanted. */
bool mptcp_pkt_leave(const mptcp_pkt_current_t *saved);
/** The per-packet result of the segment TCP is dissecting now (NULL outside a TCP layer). */
mptcp_pkt_t *mptcp_pkt_current(const packet_info *pinfo);
/** Whether items added to tree can be seen: a visible tree, or a filter, column or -e field
 * that uses an MPTCP field (the watch list of mptcp-epan.c); found once per TCP layer of a
 * dissection, since the loop over the fields is not free. Renderers pass NULL instead of a
 * tree that is not wanted (expert infos and columns are still set): no item work per packet
 * for a filter that uses no MPTCP field. */
bool mptcp_pkt_tree_wanted(const packet_info *pinfo, proto_tree *tree);

#endif /* MPTCP_PKT_H */
