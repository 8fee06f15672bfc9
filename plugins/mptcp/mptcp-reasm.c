/* mptcp-reasm.c
 * Data-level reassembly: the application protocol of an MPTCP connection (HTTP, TLS, ...) is
 * handed the byte stream that the application wrote, once and in DSN order (RFC 8684
 * section 3.3, the data sequence space), instead of each subflow's share of it.
 *
 * How it works (hooks in packet-mptcp.c):
 *  - Claim. On the first pass, after TCP has handled the first packet of a subflow of an MPTCP
 *    connection, the subflow's TCP conversation gets a dissector from the next frame on (TCP
 *    tries a conversation's dissector before its port tables). That dissector accepts the
 *    payload of the segments this file placed in the data stream, so TCP's per-subflow payload
 *    dissection no longer runs for them, and declines all others (fallback, no DSN, truncated
 *    capture): TCP then goes on exactly as before. Plain TCP is never touched.
 *  - Placement (first pass, before TCP runs, whatever TCP then does with the payload). Every
 *    segment's bytes go to their DSN (the [dsn] analysis) in the sender's direction. Bytes
 *    already delivered (TCP retransmissions, reinjections) are dropped; bytes beyond the next
 *    expected DSN are copied and wait until the gap is filled. The frame that fills it delivers
 *    the contiguous run (a "chunk"). A hole (bytes never captured) is declared when the
 *    receiver's Data ACK covers bytes that were never seen (they are not going to be sent
 *    again), or when more than MAX_WAITING bytes wait.
 *  - Checksums (RFC 8684 section 3.3.1). Where DSS checksums are in use, the bytes of a mapping
 *    wait until the checksum over the whole mapping is verified (the receiver delivers nothing
 *    of a mapping that fails). A failed mapping's bytes are kept aside: another copy sent later
 *    is delivered instead; if the receiver answers with MP_FAIL on an ACK instead of a RST, it
 *    fell back to TCP and kept them (section 3.7; what Linux does), and they are delivered then.
 *  - Application dissection (after TCP, every pass). A chunk goes to the dissector that TCP
 *    would choose for the connection: its first subflow's conversation dissector (one set before
 *    the claim, or one that a dissector such as HTTP's heuristic sets while dissecting the
 *    stream; the claim is put back behind it), then that subflow's ports (Decode As, server port,
 *    lower port, higher port, heuristics, as decode_tcp_ports does), with pinfo's addresses and
 *    ports set to the first subflow's, so that conversation-based state (TLS sessions, HTTP
 *    request/response matching) is per connection. TCP's desegmentation contract applies
 *    (pinfo->desegment_offset/len, DESEGMENT_ONE_MORE_SEGMENT = the next chunk,
 *    DESEGMENT_UNTIL_FIN = until the DATA_FIN). PDUs that span segments and subflows are
 *    reassembled in a reassembly table; the fragments name the frames that carried the bytes.
 *  - Pass independence. Every decision is taken on the first pass and stored with the frame as
 *    a list of operations (call the dissector on these bytes, add these bytes to PDU n, call
 *    it on the first k bytes of PDU n, ...). Later passes replay them with the same tvbs.
 *  - Memory. Waiting bytes are freed when delivered. A delivering frame keeps a copy of the
 *    bytes it took from other frames only if a dissector was called on them directly (bytes
 *    that went into a reassembled PDU live in the reassembly table, as with TCP).
 *  - Limits. Bytes still waiting at the end of the capture are never dissected. A direction
 *    with a truncated segment (snap length) falls back to per-subflow dissection from there on,
 *    with a note. A conversation dissector that another dissector sets later on the first
 *    subflow's conversation takes precedence there.
 *
 * Preference mptcp.reassemble_data (default on); when off nothing here runs. It needs the
 * DSNs, i.e. mptcp.analyze_mappings.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"
#include "mptcp-epan.h"

#include <epan/prefs.h>
#include <epan/conversation.h>
#include <epan/reassemble.h>
#include <epan/exceptions.h>
#include <epan/show_exception.h>
#include <epan/dissectors/packet-tcp.h>

#define MAX_WAITING (16u << 20)               /**< bytes waiting for a gap: more = a hole */

static mptcp_pref_bool_t pref_reassemble = TRUE;
static bool reasm_on;                         /**< pref_reassemble when the file was opened */

static dissector_handle_t claim_handle;

static reassembly_table reasm_table;

static int hf_data = -1;
static int hf_data_dsn = -1;
static int hf_data_len = -1;
static int hf_data_delivered_in = -1;
static int hf_data_duplicate = -1;
static int hf_data_waiting = -1;
static int hf_data_unplaced = -1;
static int hf_data_csum_held = -1;
static int hf_data_csum_failed = -1;
static int hf_data_hole = -1;
static int hf_data_skipped = -1;
static int hf_data_pdu_part = -1;
static int hf_segments = -1;
static int hf_segment = -1;
static int hf_segment_overlap = -1;
static int hf_segment_overlap_conflict = -1;
static int hf_segment_multiple_tails = -1;
static int hf_segment_too_long = -1;
static int hf_segment_error = -1;
static int hf_segment_count = -1;
static int hf_reassembled_in = -1;
static int hf_reassembled_length = -1;
static int hf_reassembled_data = -1;

static gint ett_data = -1;
static gint ett_segment = -1;
static gint ett_segments = -1;

static expert_field ei_hole = EI_INIT;
static expert_field ei_truncated = EI_INIT;

static const fragment_items reasm_items = {
    &ett_segment, &ett_segments,
    &hf_segments, &hf_segment, &hf_segment_overlap, &hf_segment_overlap_conflict,
    &hf_segment_multiple_tails, &hf_segment_too_long, &hf_segment_error, &hf_segment_count,
    &hf_reassembled_in, &hf_reassembled_length, &hf_reassembled_data,
    "MPTCP data segments"
};

/* {{{ state */

/** What a frame does with the bytes it delivers; replayed on every pass. */
enum {
    OP_HOLE,          /**< bytes before the chunk were never captured */
    OP_SKIP,          /**< rest of a PDU cut by a hole: not dissected */
    OP_CALL,          /**< dissector called on chunk bytes [from, to) */
    OP_ADD,           /**< chunk bytes [from, to) belong to PDU id */
    OP_CALL_REASM,    /**< chunk bytes [from, to) complete PDU id: dissector called on its first len bytes */
};

#define OPF_NOTHING  0x01   /**< the dissector took none of the bytes (all wait for more data) */
#define OPF_PARTIAL  0x02   /**< the dissector wanted more after all: the PDU goes on */

typedef struct {
    uint8_t kind;
    uint8_t flags;
    uint32_t from, to;       /**< chunk offsets */
    uint32_t id;             /**< reassembly id */
    uint32_t len;            /**< OP_CALL_REASM: bytes given to the dissector */
    uint64_t dsn;            /**< DSN of the first byte given to the dissector; OP_HOLE: hole start */
    uint64_t n;              /**< OP_HOLE: bytes missing */
} reasm_op_t;

typedef struct {
    uint32_t off, len;       /**< chunk offsets */
    uint32_t frame;          /**< frame that carried these bytes */
} reasm_piece_t;

/** The contiguous bytes one frame delivers in one direction. */
typedef struct {
    uint64_t dsn;            /**< DSN of byte 0 */
    uint32_t len;
    uint32_t own_tvb_off;    /**< where the frame's own bytes (chunk bytes [0, own_len)) start in its TCP tvb */
    uint32_t own_len;
    uint8_t *extra;          /**< chunk bytes [own_len, len), taken from earlier frames; kept only if needed */
    uint32_t extra_cap;
    reasm_piece_t *pieces;   /**< first pass only */
    uint32_t npieces, pieces_cap;
    reasm_op_t *ops;
    uint32_t nops;
    bool fin;                /**< the DATA_FIN is reached with this chunk */
} reasm_chunk_t;

enum {
    RF_CLAIMED = 1u << 0,    /**< the frame's payload is placed here (TCP's payload dissection replaced) */
    RF_DUP = 1u << 1,        /**< every byte of it was delivered before */
    RF_WAITING = 1u << 2,    /**< beyond the next expected DSN: delivered by a later frame */
    RF_TRUNCATED = 1u << 3,  /**< first truncated segment of its direction: per-subflow from here on */
    RF_UNPLACED = 1u << 4,   /**< payload without a known DSN: cannot be placed, not dissected */
    RF_TCP_OWN = 1u << 5,    /**< TCP handed the payload to a dissector itself (not to the claim):
                              * this frame's deliveries go to the data dissector only */
    RF_CSUM_HELD = 1u << 6,  /**< held until its mapping's DSS checksum is verified (3.3.1) */
    RF_CSUM_FAILED = 1u << 7,/**< its mapping failed the checksum and another copy was delivered */
};
#define RF_WAITS (RF_WAITING | RF_CSUM_HELD)   /**< bytes of the frame may still wait */

typedef struct {
    uint32_t flags;
    uint32_t delivered_in;   /**< RF_WAITS: the frame that delivered it (known once it happened) */
    reasm_chunk_t *chunk[2]; /**< deliveries in this frame, by sending endpoint (0 client, 1 server) */
} reasm_rec_t;

typedef struct {
    uint64_t dsn;
    uint32_t len;
    uint32_t frame;
    mptcp_pkt_t *pkt;            /**< the frame's result: its record gets delivered_in */
    uint8_t *data;
} waiting_t;

enum { MSP_EXACT, MSP_ONE_MORE, MSP_UNTIL_FIN };

/** What a direction needs only while bytes wait or a PDU is open (first pass; allocated the
 * first time: in-order data that no dissector asks more for never needs it). */
typedef struct {
    waiting_t *w;                /**< sorted, non-overlapping, all beyond next */
    uint32_t nw, wcap;
    uint64_t waiting_bytes;
    /* the PDU the application dissector waits for */
    bool msp_open;
    uint8_t msp_mode;
    uint32_t msp_id;
    uint64_t msp_start, msp_have, msp_end;
    uint64_t skip_until;         /**< after a hole: the rest of the cut PDU is not dissected */
    struct reasm_failed *failed; /**< bytes of mappings that failed the DSS checksum (rare) */
} reasm_more_t;

/** One direction of a connection's data stream (first pass, except seq_base). */
typedef struct {
    uint64_t next;               /**< DSN of the next byte to deliver */
    uint64_t seq_base;           /**< tcpinfo sequence numbers are relative to this (fixed at start) */
    uint64_t fin_dsn;
    reasm_more_t *more;          /**< NULL until bytes wait or a PDU opens */
    bool started, truncated;
    bool fin_known, fin_done;
} reasm_dir_t;

/** RFC 8684 sections 3.3.1 and 3.7: bytes whose mapping failed the DSS checksum. Not delivered
 * unless the receiver then falls back to TCP and keeps them (MP_FAIL on an ACK, not on a RST).
 * And the other copies of bytes that wait for a checksum: the receiver keeps a copy whose
 * mapping is complete while another copy's mapping is not verified yet, so if that mapping
 * fails, the other copy takes its place (alt). */
struct reasm_failed {
    waiting_t *w;                /**< in the order they failed, may overlap */
    uint32_t n, cap;
    uint64_t bytes;              /**< at most MAX_WAITING: older ones are dropped (not delivered) */
    waiting_t *alt;              /**< other copies of bytes waiting for a checksum, may overlap */
    uint32_t nalt, altcap;
    uint64_t alt_bytes;          /**< at most MAX_WAITING: further copies are not kept */
};

typedef struct {
    reasm_dir_t dir[2];          /**< by sending endpoint */
    dissector_handle_t conv_handle;   /**< set by a dissector on the first subflow's conversation */
    uint32_t conv_handle_from;        /**< ... in this frame (first pass) */
} reasm_conn_t;

/* The claim of a subflow (mptcp_subflow_t.claim_conv, claim_from): from frame claim_from on,
 * the dissector of its TCP conversation claim_conv is ours. */

/** The dissector the claimed conversation had before the claim (e.g. one a heuristic set on it),
 * which TCP would try first without the plugin; NULL if none. Not inlined: call_app() uses it
 * before a TRY, where an inlined local would be reported as clobbered by longjmp. */
static G_GNUC_NO_INLINE dissector_handle_t
claim_prior_handle(const mptcp_subflow_t *sf)
{
    dissector_handle_t h;

    if (!sf || !sf->claim_conv || sf->claim_from <= 1)
        return NULL;
    h = conversation_get_dissector((conversation_t *)sf->claim_conv, sf->claim_from - 1);
    return h == claim_handle ? NULL : h;
}

/* Per subflow: the claim in mptcp_subflow_t; per frame: mptcp_pkt_reasm_ref() (reasm_rec_t,
 * by a 4-byte reference); per connection: mptcp_conn_t.reasm_priv (reasm_conn_t). Direct
 * pointers or table indexes: no map lookup per packet. */
static uint32_t claim_called_in; /**< the last frame in which TCP called the claim handler */
static uint32_t next_id;
/* The full records, by index (a result's mptcp_pkt_reasm_ref() >> 1, minus 1): the indexes of
 * records made compact are used again. And the delivered_in values of compact records (file scope). */
static reasm_rec_t **recs;
static uint32_t nrecs, caprecs;
static uint32_t *recs_free;
static uint32_t nfree, capfree;
static uint32_t *delivs;
static uint32_t ndelivs, capdelivs;
static wmem_map_t *delivs_more;  /**< mptcp_pkt_t * -> delivered_in, once delivs is full */

static void
reasm_init(void)
{
    reasm_on = pref_reassemble;
    claim_called_in = 0;
    next_id = 1;
    recs = NULL;
    recs_free = NULL;
    delivs = NULL;
    delivs_more = NULL;
    nrecs = caprecs = nfree = capfree = ndelivs = capdelivs = 0;
}

/* mptcp_pkt_reasm_ref(pkt): 0 none; bit 0 clear: a full record, 1 + its index in recs above bit 0;
 * bit 0 set: a record in its compact form (most data frames, once their first pass is over):
 * the RF_* flags, whether the frame delivers exactly its own payload in its sender's direction
 * with one dissector call on it (the in-order case: the chunk and its operation follow from the
 * result and the TCP header), that call's OPF_NOTHING, and delivered_in by 1 + its index in
 * delivs in the upper 21 bits (0: none; all ones: in delivs_more). 0 bytes instead of ~200 a
 * data frame. */
#define REC_TAG         UINT32_C(1)
#define REC_FLAGS_SHIFT 1
#define REC_FLAGS_MASK  0xffu             /**< RF_* */
#define REC_OWN_CALL    (UINT32_C(1) << 9)
#define REC_NOTHING     (UINT32_C(1) << 10)
#define REC_DELIV_SHIFT 11
#define REC_DELIV_MORE  (UINT32_MAX >> REC_DELIV_SHIFT)

static bool
rec_is_compact(const mptcp_pkt_t *pkt)
{
    return (mptcp_pkt_reasm_ref(pkt) & REC_TAG) != 0;
}

/** A compact record's delivered_in (v: its value). */
static uint32_t
rec_delivered(const mptcp_pkt_t *pkt, uint32_t v)
{
    uint32_t i = v >> REC_DELIV_SHIFT;

    if (i == REC_DELIV_MORE)
        return GPOINTER_TO_UINT(wmem_map_lookup(delivs_more, pkt));
    return i ? delivs[i - 1] : 0;
}

/** The compact value v with delivered_in set to frame. */
static uint32_t
rec_with_delivered(const mptcp_pkt_t *pkt, uint32_t v, uint32_t frame)
{
    uint32_t i = v >> REC_DELIV_SHIFT;

    if (!i && !frame)
        return v;
    if (!i && ndelivs < REC_DELIV_MORE - 1) {
        delivs = (uint32_t *)mptcp_grow(wmem_file_scope(), delivs, &capdelivs, ndelivs + 1, sizeof(*delivs));
        delivs[ndelivs++] = 0;
        i = ndelivs;
    } else if (!i) {
        i = REC_DELIV_MORE;
    }
    if (i == REC_DELIV_MORE) {
        if (!delivs_more)
            delivs_more = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
        wmem_map_insert(delivs_more, pkt, GUINT_TO_POINTER(frame));
    } else {
        delivs[i - 1] = frame;
    }
    return (v & ((UINT32_C(1) << REC_DELIV_SHIFT) - 1)) | i << REC_DELIV_SHIFT;
}

/** The full record of pkt (not compact), NULL if none. */
static reasm_rec_t *
rec_full(const mptcp_pkt_t *pkt)
{
    uint32_t v = mptcp_pkt_reasm_ref(pkt);

    return v ? recs[(v >> 1) - 1] : NULL;
}

/** Gives up the full record's index (it is freed or made compact). */
static void
rec_release(const mptcp_pkt_t *pkt)
{
    uint32_t idx = (mptcp_pkt_reasm_ref(pkt) >> 1) - 1;

    recs[idx] = NULL;
    recs_free = (uint32_t *)mptcp_grow(wmem_file_scope(), recs_free, &capfree, nfree + 1, sizeof(*recs_free));
    recs_free[nfree++] = idx;
}

/** The full record of a frame in its first pass or whose bytes still wait (never compact). */
static reasm_rec_t *
rec_get(const mptcp_pkt_t *pkt, bool create)
{
    reasm_rec_t *r;
    uint32_t idx;

    DISSECTOR_ASSERT(!rec_is_compact(pkt));
    r = rec_full(pkt);
    if (!r && create) {
        r = wmem_new0(wmem_file_scope(), reasm_rec_t);
        if (nfree) {
            idx = recs_free[--nfree];
        } else {
            DISSECTOR_ASSERT(nrecs < UINT32_MAX >> 1);
            recs = (reasm_rec_t **)mptcp_grow(wmem_file_scope(), recs, &caprecs, nrecs + 1, sizeof(*recs));
            idx = nrecs++;
        }
        recs[idx] = r;
        mptcp_pkt_set_reasm_ref((mptcp_pkt_t *)pkt, (idx + 1) << 1);   /* this module's part of the result */
    }
    return r;
}

/** The frame's record, allocated on first use (most packets never need one). */
typedef struct {
    const mptcp_pkt_t *pkt;
    reasm_rec_t *rec;
} rec_ref_t;

static reasm_rec_t *
rec_of(rec_ref_t *rr)
{
    if (!rr->rec)
        rr->rec = rec_get(rr->pkt, true);
    return rr->rec;
}

static reasm_conn_t *
conn_get(const mptcp_conn_t *c)
{
    reasm_conn_t *rc = (reasm_conn_t *)c->reasm_priv;

    if (!rc) {
        rc = (reasm_conn_t *)mptcp_conn_alloc0(sizeof(reasm_conn_t));
        ((mptcp_conn_t *)c)->reasm_priv = rc;
    }
    return rc;
}

static reasm_more_t *
more_of(reasm_dir_t *d)
{
    if (!d->more)
        d->more = wmem_new0(wmem_file_scope(), reasm_more_t);
    return d->more;
}

static reasm_chunk_t *
chunk_get(reasm_rec_t *r, int ep, uint64_t dsn)
{
    if (!r->chunk[ep]) {
        r->chunk[ep] = wmem_new0(wmem_file_scope(), reasm_chunk_t);
        r->chunk[ep]->dsn = dsn;
    }
    return r->chunk[ep];
}

static void
chunk_add_piece(reasm_chunk_t *ch, uint32_t off, uint32_t len, uint32_t frame)
{
    if (ch->npieces && ch->pieces[ch->npieces - 1].frame == frame &&
        ch->pieces[ch->npieces - 1].off + ch->pieces[ch->npieces - 1].len == off) {
        ch->pieces[ch->npieces - 1].len += len;
        return;
    }
    ch->pieces = (reasm_piece_t *)mptcp_grow(wmem_file_scope(), ch->pieces, &ch->pieces_cap, ch->npieces + 1,
                                             sizeof(reasm_piece_t));
    ch->pieces[ch->npieces].off = off;
    ch->pieces[ch->npieces].len = len;
    ch->pieces[ch->npieces].frame = frame;
    ch->npieces++;
}

/** Appends bytes taken from an earlier frame to the chunk. */
static void
chunk_append(reasm_chunk_t *ch, const uint8_t *p, uint32_t len, uint32_t frame)
{
    uint32_t have = ch->len - ch->own_len;

    ch->extra = (uint8_t *)mptcp_grow(wmem_file_scope(), ch->extra, &ch->extra_cap, have + len, 1);
    memcpy(ch->extra + have, p, len);
    chunk_add_piece(ch, ch->len, len, frame);
    ch->len += len;
}

static reasm_op_t *
op_add(reasm_chunk_t *ch, uint8_t kind, uint32_t from, uint32_t to)
{
    reasm_op_t *op;

    ch->ops = (reasm_op_t *)mptcp_grow_counted(wmem_file_scope(), ch->ops, ch->nops, ch->nops + 1, sizeof(reasm_op_t));
    op = &ch->ops[ch->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->from = from;
    op->to = to;
    return op;
}

/** The TCP header length of the segment in tvb (TCP's tvb: the same on every pass). */
static uint32_t
tcp_hlen(tvbuff_t *tvb)
{
    return (uint32_t)(mptcp_tvb_u8(tvb, 12) >> 4) * 4;
}

/** Whether ch is the frame's own payload, delivered as it is with one dissector call. */
static bool
chunk_is_own_call(const reasm_chunk_t *ch, const mptcp_pkt_t *pkt, tvbuff_t *tvb)
{
    const reasm_op_t *op = ch->ops;

    return ch->dsn == mptcp_pkt_dsn64(pkt) && ch->len == mptcp_pkt_seglen(pkt) && ch->own_len == ch->len && !ch->extra &&
           ch->len > 0 && tvb_captured_length(tvb) >= 13 && ch->own_tvb_off == tcp_hlen(tvb) && ch->nops == 1 &&
           op->kind == OP_CALL && op->from == 0 && op->to == ch->len && op->dsn == ch->dsn && op->id == 0 &&
           op->len == 0 && op->n == 0 && (op->flags & ~OPF_NOTHING) == 0;
}

static void
chunk_free(reasm_chunk_t *ch)
{
    wmem_free(wmem_file_scope(), ch->ops);
    wmem_free(wmem_file_scope(), ch->pieces);
    wmem_free(wmem_file_scope(), ch);
}

/** After the frame's first pass (and once none of its bytes wait): the compact form of its
 * record when it has one. tvb: the frame's TCP segment. */
static void
rec_compact(mptcp_pkt_t *pkt, tvbuff_t *tvb)
{
    reasm_rec_t *r;
    reasm_chunk_t *own;
    uint32_t v;

    if (rec_is_compact(pkt))
        return;
    r = rec_full(pkt);
    if (!r || mptcp_pkt_ep(pkt) < 0 || r->chunk[1 - mptcp_pkt_ep(pkt)] || (r->flags & ~REC_FLAGS_MASK))
        return;
    own = r->chunk[mptcp_pkt_ep(pkt)];
    if (own && (!tvb || !chunk_is_own_call(own, pkt, tvb)))
        return;
    v = REC_TAG | r->flags << REC_FLAGS_SHIFT;
    if (own) {
        v |= REC_OWN_CALL | ((own->ops[0].flags & OPF_NOTHING) ? REC_NOTHING : 0);
        chunk_free(own);
    }
    v = rec_with_delivered(pkt, v, r->delivered_in);
    rec_release(pkt);
    wmem_free(wmem_file_scope(), r);
    mptcp_pkt_set_reasm_ref(pkt, v == REC_TAG ? 0 : v);
}

/** The record, full or compact, for reading (every pass): a compact one is expanded into buf.
 * tvb: the frame's TCP segment (NULL: the chunk is not needed). */
typedef struct {
    reasm_rec_t rec;
    reasm_chunk_t ch;
    reasm_op_t op;
} rec_buf_t;

static const reasm_rec_t *
rec_view(const mptcp_pkt_t *pkt, tvbuff_t *tvb, rec_buf_t *buf)
{
    uint32_t v = mptcp_pkt_reasm_ref(pkt);

    if (!rec_is_compact(pkt))
        return rec_full(pkt);
    memset(buf, 0, sizeof(*buf));
    buf->rec.flags = (v >> REC_FLAGS_SHIFT) & REC_FLAGS_MASK;
    buf->rec.delivered_in = rec_delivered(pkt, v);
    if ((v & REC_OWN_CALL) && tvb) {
        buf->ch.dsn = mptcp_pkt_dsn64(pkt);
        buf->ch.len = buf->ch.own_len = mptcp_pkt_seglen(pkt);
        buf->ch.own_tvb_off = tcp_hlen(tvb);
        buf->ch.ops = &buf->op;
        buf->ch.nops = 1;
        buf->op.kind = OP_CALL;
        buf->op.flags = (v & REC_NOTHING) ? OPF_NOTHING : 0;
        buf->op.to = mptcp_pkt_seglen(pkt);
        buf->op.dsn = mptcp_pkt_dsn64(pkt);
        buf->rec.chunk[mptcp_pkt_ep(pkt)] = &buf->ch;
    }
    return &buf->rec;
}
/* }}} */

/* {{{ placement (first pass, before TCP) */

/** Whether pkt's copy of bytes that w holds is kept aside (alt): w's mapping waits for its DSS
 * checksum (RFC 8684 section 3.3.1) and pkt's has not failed. */
static bool
alt_wanted(const waiting_t *w, const mptcp_pkt_t *pkt)
{
    const mptcp_conn_t *c = mptcp_pkt_conn(pkt);

    return w->pkt != pkt && c && c->csum && mptcp_dsn_csum_state(w->pkt) == MPTCP_CSUM_PENDING &&
           mptcp_dsn_csum_state(pkt) != MPTCP_CSUM_BAD;
}

static void
alt_add(reasm_more_t *m, uint64_t s, uint64_t e, const uint8_t *p, uint32_t frame, mptcp_pkt_t *pkt)
{
    struct reasm_failed *f = m->failed;
    waiting_t *a;

    if (!f)
        f = m->failed = wmem_new0(wmem_file_scope(), struct reasm_failed);
    if (f->alt_bytes + (e - s) > MAX_WAITING)
        return;
    f->alt = (waiting_t *)mptcp_grow(wmem_file_scope(), f->alt, &f->altcap, f->nalt + 1, sizeof(waiting_t));
    a = &f->alt[f->nalt++];
    a->dsn = s;
    a->len = (uint32_t)(e - s);
    a->frame = frame;
    a->pkt = pkt;
    a->data = (uint8_t *)wmem_memdup(wmem_file_scope(), p, a->len);
    f->alt_bytes += a->len;
}

/** Waiting bytes: keeps [s, e) minus what already waits (the first copy wins, but a copy of
 * bytes waiting for a checksum is kept aside: alt_wanted()). Returns the bytes kept. */
static uint64_t
waiting_insert(reasm_dir_t *d, uint64_t s, uint64_t e, const uint8_t *p, uint32_t frame, mptcp_pkt_t *pkt)
{
    reasm_more_t *m = more_of(d);
    uint64_t pos = s, kept = 0;
    uint32_t i = 0, lo = 0, hi = m->nw;

    while (lo < hi) {               /* first entry ending after s */
        uint32_t mid = (lo + hi) / 2;
        if (m->w[mid].dsn + m->w[mid].len <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    i = lo;
    while (pos < e) {
        uint64_t end;
        waiting_t *w;

        if (i < m->nw && m->w[i].dsn <= pos) {
            uint64_t wend = m->w[i].dsn + m->w[i].len;

            if (wend > pos && alt_wanted(&m->w[i], pkt))
                alt_add(m, pos, MIN(e, wend), p + (pos - s), frame, pkt);
            pos = MAX(pos, wend);
            i++;
            continue;
        }
        end = i < m->nw ? MIN(e, m->w[i].dsn) : e;
        m->w = (waiting_t *)mptcp_grow(wmem_file_scope(), m->w, &m->wcap, m->nw + 1, sizeof(waiting_t));
        memmove(&m->w[i + 1], &m->w[i], (m->nw - i) * sizeof(waiting_t));
        m->nw++;
        w = &m->w[i];
        w->dsn = pos;
        w->len = (uint32_t)(end - pos);
        w->frame = frame;
        w->pkt = pkt;
        w->data = (uint8_t *)wmem_memdup(wmem_file_scope(), p + (pos - s), w->len);
        m->waiting_bytes += w->len;
        kept += w->len;
        pos = end;
        i++;
    }
    return kept;
}

/** Whether an entry from i on holds bytes of pkt's segment (they lie in its DSN range). */
static bool
waiting_refers(const reasm_more_t *m, uint32_t i, const mptcp_pkt_t *pkt)
{
    for (; i < m->nw && m->w[i].dsn < mptcp_pkt_dsn64(pkt) + mptcp_pkt_seglen(pkt); i++) {
        if (m->w[i].pkt == pkt)
            return true;
    }
    return false;
}

/** RFC 8684 section 3.3.1: the bytes of a mapping whose DSS checksum is not verified yet are
 * not delivered (unless more than MAX_WAITING bytes wait: the capture may never complete it). */
static bool
waiting_held(const reasm_more_t *m, const waiting_t *w)
{
    const mptcp_conn_t *c = mptcp_pkt_conn(w->pkt);

    return c && c->csum && m->waiting_bytes <= MAX_WAITING && mptcp_dsn_csum_state(w->pkt) == MPTCP_CSUM_PENDING;
}

static void failed_prune(reasm_dir_t *d, bool limit);

/** The frame whose bytes wait in pkt's copy is delivered in frame: recorded in its record, or,
 * for an alt copy (rec_mark_waiting()) whose frame's record is compact by now, in that. */
static void
rec_set_delivered(mptcp_pkt_t *pkt, uint32_t frame)
{
    uint32_t v = mptcp_pkt_reasm_ref(pkt);

    if (!rec_is_compact(pkt))
        rec_get(pkt, true)->delivered_in = frame;
    else if ((v >> REC_FLAGS_SHIFT) & RF_WAITING)
        mptcp_pkt_set_reasm_ref(pkt, rec_with_delivered(pkt, v, frame));
}

/** An alt copy's bytes wait in the place of a failed copy's: its frame shows them as waiting
 * (its record may be compact, or none, since its own first pass is over). */
static void
rec_mark_waiting(mptcp_pkt_t *pkt)
{
    uint32_t v = mptcp_pkt_reasm_ref(pkt);

    if (!rec_is_compact(pkt)) {
        reasm_rec_t *r = rec_get(pkt, true);
        if (!(r->flags & RF_WAITS))
            r->flags |= RF_WAITING;
    } else if (!((v >> REC_FLAGS_SHIFT) & RF_WAITS)) {
        mptcp_pkt_set_reasm_ref(pkt, v | (uint32_t)RF_WAITING << REC_FLAGS_SHIFT);
    }
}

/** Drops the alt copies of bytes below next (delivered). */
static void
alt_prune(struct reasm_failed *f, uint64_t next)
{
    uint32_t k = 0;

    for (uint32_t i = 0; i < f->nalt; i++) {
        if (f->alt[i].dsn + f->alt[i].len > next) {
            f->alt[k++] = f->alt[i];
            continue;
        }
        f->alt_bytes -= f->alt[i].len;
        wmem_free(wmem_file_scope(), f->alt[i].data);
    }
    f->nalt = k;
}

/** RFC 8684 section 3.3.1: a mapping failed its checksum and its copies were taken away: the
 * other copies of those bytes kept aside wait in their place. */
static void
alt_restore(reasm_dir_t *d)
{
    struct reasm_failed *f = d->more->failed;
    waiting_t *a = f->alt;
    uint32_t n = f->nalt;

    f->alt = NULL;
    f->nalt = f->altcap = 0;
    f->alt_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        waiting_t *w = &a[i];
        uint64_t s = MAX(w->dsn, d->next), e = w->dsn + w->len;

        if (e > s && mptcp_dsn_csum_state(w->pkt) != MPTCP_CSUM_BAD &&
            waiting_insert(d, s, e, w->data + (s - w->dsn), w->frame, w->pkt))
            rec_mark_waiting(w->pkt);
        wmem_free(wmem_file_scope(), w->data);
    }
    wmem_free(wmem_file_scope(), a);
}

/** Moves the waiting bytes that have become contiguous into the chunk, up to bytes held for
 * their checksum. */
static void
waiting_flush(reasm_dir_t *d, reasm_chunk_t *ch, uint32_t frame)
{
    reasm_more_t *m = d->more;
    uint32_t k = 0;

    if (!m)
        return;
    while (k < m->nw && m->w[k].dsn <= d->next) {
        waiting_t *w = &m->w[k];
        uint64_t end = w->dsn + w->len;

        if (end > d->next && waiting_held(m, w))
            break;
        if (end > d->next) {
            chunk_append(ch, w->data + (d->next - w->dsn), (uint32_t)(end - d->next), w->frame);
            d->next = end;
        }
        m->waiting_bytes -= w->len;
        wmem_free(wmem_file_scope(), w->data);
        rec_set_delivered(w->pkt, frame);
        /* a frame whose first pass is over and whose bytes no longer wait */
        if (!rec_is_compact(w->pkt) && w->frame != frame && !waiting_refers(m, k + 1, w->pkt))
            rec_compact(w->pkt, NULL);
        k++;
    }
    if (k) {
        memmove(&m->w[0], &m->w[k], (m->nw - k) * sizeof(waiting_t));
        m->nw -= k;
    }
    if (m->failed) {
        failed_prune(d, false);
        alt_prune(m->failed, d->next);
    }
}

/** The end of the bytes that wait contiguously from the next expected DSN (held ones). */
static uint64_t
waiting_reach(const reasm_dir_t *d)
{
    const reasm_more_t *m = d->more;
    uint64_t r = d->next;

    for (uint32_t i = 0; m && i < m->nw && m->w[i].dsn <= r; i++)
        r = MAX(r, m->w[i].dsn + m->w[i].len);
    return r;
}

/** Delivers in this frame what no longer waits (a checksum verified, a failed copy kept). */
static bool
deliver_ready(reasm_dir_t *d, int ep, rec_ref_t *rr, uint32_t frame)
{
    const reasm_more_t *m = d->more;
    reasm_rec_t *rec;

    if (!m || !m->nw || m->w[0].dsn > d->next || (m->w[0].dsn + m->w[0].len > d->next && waiting_held(m, &m->w[0])))
        return false;
    rec = rec_of(rr);
    waiting_flush(d, rec->chunk[ep] ? rec->chunk[ep] : chunk_get(rec, ep, d->next), frame);
    return true;
}
/* }}} */

/* {{{ copies that failed the DSS checksum (first pass) */

/** RFC 8684 section 3.3.1: the mapping that pkt completed failed its checksum: its bytes stop
 * waiting and are kept aside (sections 3.7: delivered only if the receiver falls back). */
static void
failed_take(reasm_dir_t *d)
{
    reasm_more_t *m = more_of(d);
    struct reasm_failed *f = m->failed;
    uint32_t k = 0;

    if (!f)
        f = m->failed = wmem_new0(wmem_file_scope(), struct reasm_failed);
    for (uint32_t i = 0; i < m->nw; i++) {
        waiting_t *w = &m->w[i];

        if (mptcp_dsn_csum_state(w->pkt) != MPTCP_CSUM_BAD) {
            m->w[k++] = *w;
            continue;
        }
        f->w = (waiting_t *)mptcp_grow(wmem_file_scope(), f->w, &f->cap, f->n + 1, sizeof(waiting_t));
        f->w[f->n++] = *w;
        f->bytes += w->len;
        m->waiting_bytes -= w->len;
    }
    m->nw = k;
    if (f->bytes > MAX_WAITING)
        failed_prune(d, true);
    if (f->nalt)
        alt_restore(d);
}

/** Failed copies the data stream has passed (another copy was delivered): not delivered; with
 * limit, also the oldest ones beyond MAX_WAITING bytes (hostile input: all mappings fail). */
static void
failed_prune(reasm_dir_t *d, bool limit)
{
    struct reasm_failed *f = d->more->failed;
    uint32_t k = 0;

    for (uint32_t i = 0; i < f->n; i++) {
        waiting_t w = f->w[i];
        bool more = false;

        if (w.dsn + w.len > d->next && !(limit && f->bytes > MAX_WAITING)) {
            f->w[k++] = w;
            continue;
        }
        f->bytes -= w.len;
        wmem_free(wmem_file_scope(), w.data);
        if (rec_is_compact(w.pkt))
            continue;
        rec_get(w.pkt, false)->flags |= RF_CSUM_FAILED;
        for (uint32_t j = 0; j < f->n && !more; j++)
            more = j != i && (j < k || j > i) && f->w[j].pkt == w.pkt;
        if (!more && !waiting_refers(d->more, 0, w.pkt))
            rec_compact(w.pkt, NULL);
    }
    f->n = k;
}

/** RFC 8684 section 3.7: an MP_FAIL that is not on a RST: the receiver falls back to TCP and
 * Linux keeps the data of the failed mapping: it is delivered after all. */
static void
failed_restore(reasm_dir_t *d)
{
    struct reasm_failed *f = d->more ? d->more->failed : NULL;

    for (uint32_t i = 0; f && i < f->n; i++) {
        waiting_t *w = &f->w[i];

        waiting_insert(d, w->dsn, w->dsn + w->len, w->data, w->frame, w->pkt);
        wmem_free(wmem_file_scope(), w->data);
    }
    if (f) {
        f->n = 0;
        f->bytes = 0;
    }
}

static bool
mp_fail_with_fallback(const mptcp_seg_t *seg)
{
    if (seg->flags & TH_RST)
        return false;
    for (unsigned i = 0; i < seg->nopts; i++) {
        if (seg->opts[i].subtype == MPTCP_SUB_FAIL)
            return true;
    }
    return false;
}

static void
waiting_drop(reasm_dir_t *d)
{
    reasm_more_t *m = d->more;

    if (!m)
        return;
    for (uint32_t k = 0; k < m->nw; k++)
        wmem_free(wmem_file_scope(), m->w[k].data);
    m->nw = 0;
    m->waiting_bytes = 0;
}

/** Bytes [next, end) will never be captured: the frame reports the hole and delivers what follows. */
static void
declare_hole(reasm_dir_t *d, int ep, rec_ref_t *rr, uint64_t end, uint32_t frame)
{
    reasm_rec_t *rec = rec_of(rr);
    reasm_chunk_t *ch;
    reasm_op_t *op;

    if (rec->chunk[ep])
        return;                     /* one delivery per frame and direction */
    ch = chunk_get(rec, ep, end);
    op = op_add(ch, OP_HOLE, 0, 0);
    op->dsn = d->next;
    op->n = end - d->next;
    d->next = end;
    waiting_flush(d, ch, frame);
}

static void
check_fin(reasm_dir_t *d, int ep, rec_ref_t *rr)
{
    if (d->started && d->fin_known && !d->fin_done && d->next >= d->fin_dsn) {
        d->fin_done = true;
        chunk_get(rec_of(rr), ep, d->next)->fin = true;
    }
}

static bool
subflow_claimed(const mptcp_subflow_t *sf, uint32_t frame)
{
    return sf->claim_conv && sf->claim_from <= frame;
}

/** The segment's own bytes, [s, e) in its sender's direction. */
static void
place(reasm_dir_t *d, int ep, const mptcp_conn_t *c, packet_info *pinfo, const mptcp_seg_t *seg,
      const mptcp_pkt_t *pkt, rec_ref_t *rr)
{
    uint64_t s = mptcp_pkt_dsn64(pkt), e = s + mptcp_pkt_seglen(pkt);
    reasm_rec_t *rec = rec_of(rr);
    mptcp_csum_state_t st;
    reasm_chunk_t *ch;

    if (!d->started) {
        /* RFC 8684 section 3.3: the first data byte has DSN IDSN + 1. Without the key (capture
         * started later), the receiver's last Data ACK tells where the bytes in flight begin. */
        const mptcp_endpoint_t *me = &c->ep[ep], *peer = &c->ep[1 - ep];
        uint64_t first = me->key_known ? me->idsn + 1 : peer->ack_ref_known && peer->ack_ref <= s ? peer->ack_ref : s;

        d->started = true;
        d->next = (s >= first && s - first < MPTCP_ACK_TRUST_WINDOW) ? first : s;
        d->seq_base = me->key_known ? me->idsn : 0;
    }
    rec->flags |= RF_CLAIMED;
    if (e <= d->next) {
        rec->flags |= RF_DUP;
        return;
    }
    /* RFC 8684 section 3.3.1: bytes of a mapping not verified yet wait for its checksum */
    st = c->csum ? mptcp_dsn_csum_state(pkt) : MPTCP_CSUM_NONE;
    if (st == MPTCP_CSUM_PENDING || st == MPTCP_CSUM_BAD)
        rec->flags |= RF_CSUM_HELD;
    if (s > d->next && s > waiting_reach(d))
        rec->flags |= RF_WAITING;
    if (s > d->next || (rec->flags & RF_CSUM_HELD)) {
        uint64_t from = MAX(s, d->next);

        waiting_insert(d, from, e, tvb_get_ptr(seg->tvb, seg->hlen + (gint)(from - s), (gint)(e - from)), pinfo->num,
                       (mptcp_pkt_t *)pkt);
        if (st == MPTCP_CSUM_BAD)
            failed_take(d);
        if (d->more->waiting_bytes > MAX_WAITING && d->more->nw && d->more->w[0].dsn > d->next)
            declare_hole(d, ep, rr, d->more->w[0].dsn, pinfo->num);
        else
            deliver_ready(d, ep, rr, pinfo->num);
        return;
    }
    if (rec->chunk[ep])
        return;                     /* cannot happen: one segment per frame and direction */
    ch = chunk_get(rec, ep, d->next);
    ch->own_tvb_off = seg->hlen + (uint32_t)(d->next - s);
    ch->own_len = ch->len = (uint32_t)(e - d->next);
    chunk_add_piece(ch, 0, ch->len, pinfo->num);
    d->next = e;
    waiting_flush(d, ch, pinfo->num);
}

/** The peer's direction in this frame: its Data ACK acknowledges the peer's data (acknowledged
 * bytes never captured are a hole), and bytes of it no longer held are delivered. */
static void
peer_direction(reasm_dir_t *pd, int pep, const mptcp_pkt_t *pkt, rec_ref_t *rr, uint32_t frame)
{
    bool acked = (pkt->flags & MPTCP_PF_HAS_ACK) != 0;

    if (acked) {
        uint64_t end = mptcp_pkt_ack64(pkt);

        if (pd->fin_known && end > pd->fin_dsn)
            end = pd->fin_dsn;      /* the DATA_FIN takes a DSN, but carries no byte */
        if (pd->more && pd->more->nw && end > pd->more->w[0].dsn)
            end = pd->more->w[0].dsn;
        /* an ack of one byte more than delivered may be the ack of a DATA_FIN not captured */
        if (pd->started && !pd->truncated && end > pd->next && end - pd->next < MPTCP_ACK_TRUST_WINDOW &&
            !(end == pd->next + 1 && !(pd->more && pd->more->nw) && mptcp_pkt_ack64(pkt) == end))
            declare_hole(pd, pep, rr, end, frame);
    }
    if (deliver_ready(pd, pep, rr, frame) || acked)
        check_fin(pd, pep, rr);
}

/** The frame's first pass when it may have something to do (see mptcp_reasm_first_pass()). */
static G_GNUC_NO_INLINE void
first_pass_work(const mptcp_fp_t *fp, reasm_conn_t *rc, int ep)
{
    packet_info *pinfo = fp->pinfo;
    const mptcp_seg_t *seg = fp->seg;
    mptcp_pkt_t *pkt = fp->pkt;
    const mptcp_conn_t *c = fp->c;
    rec_ref_t rr = { pkt, NULL };

    if (rc->dir[1 - ep].more && rc->dir[1 - ep].more->failed && mp_fail_with_fallback(seg))
        failed_restore(&rc->dir[1 - ep]);

    peer_direction(&rc->dir[1 - ep], 1 - ep, pkt, &rr, pinfo->num);

    if (mptcp_pkt_seglen(pkt) > 0 && !(pkt->flags & MPTCP_PF_HAS_DSN) && !(pkt->flags & MPTCP_PF_FALLBACK) &&
        !rc->dir[ep].truncated) {
        /* no mapping known for it (e.g. the subflow's ISN is not pinned down yet in a capture that
         * misses the handshake): handing it to the application out of place would mix streams */
        rec_of(&rr)->flags |= RF_CLAIMED | RF_UNPLACED;
    }
    if (mptcp_pkt_seglen(pkt) > 0 && (pkt->flags & MPTCP_PF_HAS_DSN) && !(pkt->flags & MPTCP_PF_FALLBACK)) {
        reasm_dir_t *d = &rc->dir[ep];

        if (!d->truncated && tvb_captured_length_remaining(seg->tvb, seg->hlen) < (int)mptcp_pkt_seglen(pkt)) {
            /* snap length: no bytes to place from here on; per-subflow dissection as before */
            d->truncated = true;
            rec_of(&rr)->flags |= RF_TRUNCATED;
            waiting_drop(d);
            if (d->more)
                d->more->msp_open = false;
        }
        if (!d->truncated)
            place(d, ep, c, pinfo, seg, pkt, &rr);
    }
    if (pkt->flags & MPTCP_PF_DATA_FIN) {
        reasm_dir_t *d = &rc->dir[ep];

        if (!d->fin_known) {
            d->fin_known = true;
            d->fin_dsn = c->ep[ep].data_fin_dsn;
        }
        check_fin(d, ep, &rr);
    } else if (rr.rec && rr.rec->chunk[ep]) {
        check_fin(&rc->dir[ep], ep, &rr);
    }
}

/** Whether the peer's direction pd has nothing to do in a frame: no bytes wait (nothing to
 * deliver or restore), and no byte was placed yet (no hole, no DATA_FIN to reach: check_fin())
 * or it is truncated (no hole) with no DATA_FIN to reach. */
static inline bool
peer_quiet(const reasm_dir_t *pd)
{
    return !pd->more && (!pd->started || (pd->truncated && (!pd->fin_known || pd->fin_done)));
}

void
mptcp_reasm_first_pass(const mptcp_fp_t *fp)
{
    const mptcp_conn_t *c = fp->c;
    const mptcp_pkt_t *pkt = fp->pkt;
    int ep = mptcp_pkt_ep(pkt);
    reasm_conn_t *rc;

    if (!reasm_on || !c || ep < 0 || c->fallback || !subflow_claimed(fp->sf, fp->pinfo->num))
        return;
    rc = conn_get(c);
    /* the common packets once a capture's directions are truncated (snap length) or before data
     * flows: a pure DATA_ACK or a segment with no byte to place, and no DATA_FIN */
    if (peer_quiet(&rc->dir[1 - ep]) && !(pkt->flags & MPTCP_PF_DATA_FIN) &&
        (mptcp_pkt_seglen(pkt) == 0 || (pkt->flags & MPTCP_PF_FALLBACK) || rc->dir[ep].truncated))
        return;
    first_pass_work(fp, rc, ep);
}
/* }}} */

/* {{{ application dissection */

typedef struct {
    packet_info *pinfo;
    proto_tree *tree;
    tvbuff_t *seg_tvb;           /**< the TCP segment */
    const mptcp_conn_t *conn;
    reasm_conn_t *rc;
    reasm_dir_t *d;
    int ep;
    proto_tree *dt;              /**< the "MPTCP data stream" subtree */
    uint32_t ncalls;             /**< dissector calls so far in this frame */
    bool pdu_part;               /**< bytes of this frame belong to a PDU not dissected here */
    bool dissected;              /**< a dissector took some of this frame's data */
    bool raw_only;               /**< RF_TCP_OWN: no application dissector in this frame */
} app_ctx_t;

/** TCP's choice of dissector (decode_tcp_ports): the conversation's, then ports and heuristics. */
static void
dispatch(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, struct tcpinfo *ti, uint32_t server_port,
         dissector_handle_t conv_handle)
{
    if (conv_handle && call_dissector_only(conv_handle, tvb, pinfo, tree, ti))
        return;
    mptcp_epan_tcp_dispatch(tvb, pinfo, tree, ti, server_port);
}

/** pinfo's addresses and ports while an application dissector runs. */
typedef struct {
    address src, dst;
    uint32_t sport, dport;
} endpoints_t;

/** Makes pinfo look like the first subflow's segment from the sending endpoint (the old values
 * go to save); returns the server port TCP would try first (none for an inferred connection). */
static uint32_t
as_first_subflow(const app_ctx_t *x, packet_info *pinfo, endpoints_t *save)
{
    address addr[2];
    uint16_t port[2];
    int e = x->ep == 0 ? 0 : 1;

    mptcp_conn_ends(x->conn, addr, port);
    copy_address_shallow(&save->src, &pinfo->src);
    copy_address_shallow(&save->dst, &pinfo->dst);
    save->sport = pinfo->srcport;
    save->dport = pinfo->destport;
    copy_address_shallow(&pinfo->src, &addr[e]);
    copy_address_shallow(&pinfo->dst, &addr[1 - e]);
    pinfo->srcport = port[e];
    pinfo->destport = port[1 - e];
    return x->conn->inferred ? 0 : port[1];
}

static void
restore_endpoints(packet_info *pinfo, const endpoints_t *save)
{
    copy_address_shallow(&pinfo->src, &save->src);
    copy_address_shallow(&pinfo->dst, &save->dst);
    pinfo->srcport = save->sport;
    pinfo->destport = save->dport;
}

/** After the call: a dissector that made itself the first subflow's conversation dissector (e.g.
 * HTTP's heuristic) becomes the connection's, and TCP goes on handing that subflow's segments to
 * the claim (else it would dissect them per subflow from here on). */
static void
keep_claim(app_ctx_t *x, const mptcp_subflow_t *sf0)
{
    packet_info *pinfo = x->pinfo;
    conversation_t *conv = (conversation_t *)sf0->claim_conv;
    dissector_handle_t h = conversation_get_dissector(conv, pinfo->num);

    if (h != claim_handle) {
        if (h && !PINFO_FD_VISITED(pinfo) && !x->rc->conv_handle) {
            x->rc->conv_handle = h;
            x->rc->conv_handle_from = pinfo->num;
        }
        conversation_set_dissector_from_frame_number(conv, pinfo->num, claim_handle);
    }
}

/** Calls the application dissector on tvb (whose first byte has DSN dsn) as the connection's
 * first subflow; returns what it asked for in *doff / *dlen (0: nothing more). */
static void
call_app(app_ctx_t *x, tvbuff_t *tvb, uint64_t dsn, bool reassembled, int *doff, uint32_t *dlen)
{
    packet_info *pinfo = x->pinfo;
    const mptcp_subflow_t *sf0 = mptcp_conn_first_subflow(x->conn);
    guint16 save_can = pinfo->can_desegment;
    const char *volatile saved_proto = pinfo->current_proto;
    dissector_handle_t conv_handle;
    endpoints_t save;
    uint32_t server_port;
    struct tcpinfo ti;

    /* TCP tries the conversation's dissector first: one that a dissector set on the first
     * subflow's conversation during this dissection, else one it had before the claim */
    if (x->rc->conv_handle && pinfo->num >= x->rc->conv_handle_from)
        conv_handle = x->rc->conv_handle;       /* never claim_handle (see keep_claim) */
    else
        conv_handle = claim_prior_handle(sf0);
    server_port = as_first_subflow(x, pinfo, &save);
    memset(&ti, 0, sizeof(ti));
    ti.seq = (uint32_t)(dsn - x->d->seq_base);
    ti.nxtseq = ti.seq + tvb_reported_length(tvb);
    ti.is_reassembled = reassembled;
    ti.flags = TH_ACK;

    if (x->ncalls++)
        col_set_fence(pinfo->cinfo, COL_INFO);
    pinfo->can_desegment = 2;
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    TRY {
        if (x->raw_only)
            call_data_dissector(tvb, pinfo, x->tree);
        else
            dispatch(tvb, pinfo, x->tree, &ti, server_port, conv_handle);
    }
    CATCH_BOUNDS_AND_DISSECTOR_ERRORS {
        show_exception(tvb, pinfo, x->tree, EXCEPT_CODE, GET_MESSAGE);
        pinfo->current_proto = saved_proto;
        pinfo->desegment_offset = 0;
        pinfo->desegment_len = 0;
    }
    ENDTRY;
    *doff = pinfo->desegment_offset;
    *dlen = pinfo->desegment_len;
    if (*dlen && (*doff < 0 || (unsigned)*doff > tvb_reported_length(tvb)))
        *dlen = 0;                  /* nonsense: take it as dissected */
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    pinfo->can_desegment = save_can;
    if (sf0->claim_conv)
        keep_claim(x, sf0);
    restore_endpoints(pinfo, &save);
}

/** What the dissector asked for (desegment_len dlen): one more segment, everything up to the
 * DATA_FIN, or dlen bytes more than it had up to have_end. */
static void
msp_need(reasm_more_t *d, uint64_t have_end, uint32_t dlen)
{
    if (dlen == DESEGMENT_ONE_MORE_SEGMENT) {
        d->msp_mode = MSP_ONE_MORE;
    } else if (dlen == DESEGMENT_UNTIL_FIN) {
        d->msp_mode = MSP_UNTIL_FIN;
    } else {
        d->msp_mode = MSP_EXACT;
        d->msp_end = have_end + dlen;
    }
}

/** Opens the PDU that the dissector waits for, starting at DSN start (first pass). */
static void
msp_open(reasm_dir_t *dir, uint64_t start, uint64_t have_end, uint32_t dlen)
{
    reasm_more_t *d = more_of(dir);

    d->msp_open = true;
    d->msp_id = next_id++;
    d->msp_start = start;
    d->msp_have = start;
    msp_need(d, have_end, dlen);
}

/** The PDU needs more than it was thought to: new end (first pass). */
static void
msp_extend(reasm_dir_t *dir, uint32_t dlen)
{
    reasm_more_t *d = more_of(dir);

    msp_need(d, d->msp_have, dlen);
}

/** Adds chunk bytes [from, from+len) to the open PDU (first pass); the fragment head once complete. */
static fragment_head *
msp_add(app_ctx_t *x, reasm_chunk_t *ch, tvbuff_t *ctvb, uint32_t from, uint32_t len, bool last)
{
    reasm_more_t *d = more_of(x->d);
    fragment_head *fh = NULL;
    uint32_t end = from + len;

    if (len == 0) {
        if (last && d->msp_have > d->msp_start)   /* the DATA_FIN ends the PDU */
            fh = fragment_add_out_of_order(&reasm_table, x->seg_tvb, 0, x->pinfo, d->msp_id, NULL,
                                           (uint32_t)(d->msp_have - d->msp_start), 0, FALSE, x->pinfo->num);
        return fh;
    }
    for (uint32_t i = 0; i < ch->npieces; i++) {
        const reasm_piece_t *p = &ch->pieces[i];
        uint32_t a = MAX(from, p->off), b = MIN(end, p->off + p->len);

        if (a >= b)
            continue;
        fh = fragment_add_out_of_order(&reasm_table, ctvb, a, x->pinfo, d->msp_id, NULL,
                                       (uint32_t)(ch->dsn + a - d->msp_start), b - a, !(last && b == end),
                                       p->frame);
    }
    d->msp_have = ch->dsn + end;
    return fh;
}

/** A PDU whose dissection stopped at byte doff of the reassembled data goes on as a new PDU
 * (first pass): the bytes from doff on move over, with the frames that carried them. */
static void
msp_restart(app_ctx_t *x, fragment_head *fh, uint32_t doff, uint32_t dlen)
{
    reasm_more_t *d = more_of(x->d);
    uint64_t start = d->msp_start + doff, have = d->msp_have;

    msp_open(x->d, start, have, dlen);
    for (fragment_item *fd = fh->next; fd; fd = fd->next) {
        uint32_t a = MAX(doff, fd->offset), b = MIN(fh->datalen, fd->offset + fd->len);

        if (a < b)
            fragment_add_out_of_order(&reasm_table, fh->tvb_data, a, x->pinfo, d->msp_id, NULL, a - doff, b - a,
                                      TRUE, fd->frame);
    }
    d->msp_have = have;
}

static void
add_rel_dsn(proto_tree *t, int hf, tvbuff_t *tvb, const reasm_dir_t *d, uint64_t dsn)
{
    proto_item *ti;

    if (d->seq_base && mptcp_prefs.relative)
        ti = proto_tree_add_uint64_format_value(t, hf, tvb, 0, 0, dsn - d->seq_base, "%" PRIu64 " (Relative)",
                                                dsn - d->seq_base);
    else
        ti = proto_tree_add_uint64(t, hf, tvb, 0, 0, dsn);
    proto_item_set_generated(ti);
}

/** Shows an operation that calls no dissector (every pass, in operation order). */
static void
op_show(app_ctx_t *x, tvbuff_t *ctvb, const reasm_op_t *op)
{
    proto_item *ti;
    bool have = ctvb && tvb_captured_length(ctvb) >= op->to;
    tvbuff_t *t = have ? ctvb : NULL;
    int off = have ? (int)op->from : 0, len = have ? (int)(op->to - op->from) : 0;

    switch (op->kind) {
    case OP_HOLE:
        ti = proto_tree_add_uint64(x->dt, hf_data_hole, NULL, 0, 0, op->n);
        proto_item_set_generated(ti);
        expert_add_info_format(x->pinfo, ti, &ei_hole,
                               "%" PRIu64 " bytes of the MPTCP data stream are missing (never captured, or "
                               "captured without a known DSN): the dissection resumes at the next PDU boundary "
                               "found", op->n);
        break;
    case OP_SKIP:
        ti = proto_tree_add_uint(x->dt, hf_data_skipped, t, off, len, op->to - op->from);
        proto_item_set_generated(ti);
        break;
    case OP_ADD: {
        fragment_head *fh = fragment_get(&reasm_table, x->pinfo, op->id, NULL);

        ti = proto_tree_add_uint(x->dt, hf_data_pdu_part, t, off, len, op->to - op->from);
        proto_item_set_generated(ti);
        if (fh && (fh->flags & FD_DEFRAGMENTED) && !(fh->flags & FD_PARTIAL_REASSEMBLY) &&
            fh->reassembled_in != x->pinfo->num) {
            ti = proto_tree_add_uint(x->dt, hf_reassembled_in, NULL, 0, 0, fh->reassembled_in);
            proto_item_set_generated(ti);
        }
        if (op->to > op->from)
            x->pdu_part = true;
        break;
    }
    default:
        break;
    }
}

/** After a dissector call (every pass): what the call did for the columns and the fragment tree. */
static void
op_after_call(app_ctx_t *x, const reasm_op_t *op, tvbuff_t *rtvb)
{
    if (op->kind == OP_CALL && (op->flags & OPF_NOTHING))
        return;
    x->dissected = true;
    if (op->kind == OP_CALL_REASM && !(op->flags & OPF_PARTIAL)) {
        fragment_head *fh = fragment_get(&reasm_table, x->pinfo, op->id, NULL);
        proto_item *fi;

        if (fh && rtvb)
            show_fragment_tree(fh, &reasm_items, x->tree, x->pinfo, rtvb, &fi);
    }
}

/** The reassembled PDU of a OP_CALL_REASM, as its dissector saw it (NULL if gone). */
static tvbuff_t *
reasm_tvb(app_ctx_t *x, const reasm_op_t *op)
{
    fragment_head *fh = fragment_get(&reasm_table, x->pinfo, op->id, NULL);
    tvbuff_t *r;

    if (!fh || !fh->tvb_data || tvb_captured_length(fh->tvb_data) < op->len)
        return NULL;
    /* a copy: a PDU that goes on is reassembled again later in the same frame, which frees the
     * reassembly's current buffer */
    r = tvb_new_child_real_data(x->seg_tvb, (const guint8 *)wmem_memdup(x->pinfo->pool,
                                tvb_get_ptr(fh->tvb_data, 0, op->len), op->len), op->len, op->len);
    add_new_data_source(x->pinfo, r, "Reassembled MPTCP data");
    return r;
}

/** The open PDU takes the chunk's bytes from pos on (first pass); returns the position after
 * them. *fin: the chunk's DATA_FIN, used up when it ends a PDU that runs until it. */
static uint32_t
msp_continue(app_ctx_t *x, reasm_chunk_t *ch, tvbuff_t *ctvb, uint32_t pos, bool *fin)
{
    reasm_more_t *d = more_of(x->d);
    uint64_t at = ch->dsn + pos;
    uint32_t n = ch->len, take = n - pos, id = d->msp_id, oi, dlen;
    bool complete;
    fragment_head *fh;
    reasm_op_t *op;
    tvbuff_t *r;
    int doff;

    switch (d->msp_mode) {
    case MSP_EXACT:
        complete = ch->dsn + n >= d->msp_end;
        if (complete)
            take = (uint32_t)(d->msp_end - at);
        break;
    case MSP_ONE_MORE:
        complete = take > 0;
        break;
    default:
        complete = *fin;
        *fin = false;                   /* the DATA_FIN ends one PDU */
        break;
    }
    fh = msp_add(x, ch, ctvb, pos, take, complete);
    if (!complete || !fh || !fh->tvb_data) {
        op = op_add(ch, OP_ADD, pos, pos + take);
        op->id = id;
        op_show(x, ctvb, op);
        if (complete)
            d->msp_open = false;        /* nothing to complete (no data at all) */
        return pos + take;
    }
    op = op_add(ch, OP_CALL_REASM, pos, pos + take);
    op->id = id;
    op->len = fh->datalen;
    op->dsn = d->msp_start;
    oi = ch->nops - 1;
    r = reasm_tvb(x, op);
    call_app(x, r, d->msp_start, true, &doff, &dlen);
    op = &ch->ops[oi];
    if (dlen && (uint32_t)doff < fh->datalen) {
        op->flags |= OPF_PARTIAL;
        if (doff == 0) {
            /* the same PDU goes on (as TCP's partial reassembly) */
            fragment_set_partial_reassembly(&reasm_table, x->pinfo, id, NULL);
            msp_extend(x->d, dlen);
        } else {
            msp_restart(x, fh, (uint32_t)doff, dlen);
        }
    } else if (dlen) {
        uint64_t end = d->msp_start + fh->datalen;
        msp_open(x->d, end, end, dlen);
    } else {
        d->msp_open = false;
    }
    op_after_call(x, op, r);
    return pos + take;
}

/** No PDU is open: the dissector gets the rest of the chunk from pos (first pass); what it asks
 * for more opens one. */
static void
fresh_call(app_ctx_t *x, reasm_chunk_t *ch, tvbuff_t *ctvb, uint32_t pos)
{
    reasm_dir_t *d = x->d;
    uint32_t n = ch->len, oi, dlen;
    reasm_op_t *op = op_add(ch, OP_CALL, pos, n);
    int doff;

    op->dsn = ch->dsn + pos;
    oi = ch->nops - 1;
    call_app(x, tvb_new_subset_remaining(ctvb, pos), op->dsn, false, &doff, &dlen);
    op = &ch->ops[oi];
    if (!dlen) {
        op_after_call(x, op, NULL);
        return;
    }
    uint32_t at = pos + (uint32_t)doff;

    if (doff == 0)
        op->flags |= OPF_NOTHING;
    msp_open(d, ch->dsn + at, ch->dsn + n, dlen);
    op_after_call(x, op, NULL);
    if (at < n) {
        msp_add(x, ch, ctvb, at, n - at, false);
        op = op_add(ch, OP_ADD, at, n);
        op->id = d->more->msp_id;
        op_show(x, ctvb, op);
    }
}

/** Runs a chunk through the dissector and records what happened (first pass). */
static void
chunk_first_pass(app_ctx_t *x, reasm_chunk_t *ch, tvbuff_t *ctvb)
{
    reasm_dir_t *dir = x->d;
    uint32_t pos = 0, n = ch->len;
    bool fin = ch->fin;

    for (uint32_t i = 0; i < ch->nops; i++)      /* the hole found by the placement */
        op_show(x, ctvb, &ch->ops[i]);
    if (ch->nops && ch->ops[0].kind == OP_HOLE && dir->more && dir->more->msp_open) {
        /* a PDU cut by the hole: if its end is known, that is where the next one begins */
        reasm_more_t *d = dir->more;
        if (d->msp_mode == MSP_EXACT && d->msp_end > ch->dsn)
            d->skip_until = d->msp_end;
        d->msp_open = false;
    }
    if (dir->more && dir->more->skip_until > ch->dsn && n) {
        uint32_t k = (uint32_t)MIN((uint64_t)n, dir->more->skip_until - ch->dsn);
        op_show(x, ctvb, op_add(ch, OP_SKIP, 0, k));
        pos = k;
    }
    while (pos < n || (fin && dir->more && dir->more->msp_open && dir->more->msp_mode == MSP_UNTIL_FIN)) {
        if (dir->more && dir->more->msp_open) {
            pos = msp_continue(x, ch, ctvb, pos, &fin);
        } else {
            fresh_call(x, ch, ctvb, pos);
            pos = n;
        }
    }
}

/** Later passes: the same calls with the same tvbs, the same items. */
static void
chunk_replay(app_ctx_t *x, const reasm_chunk_t *ch, tvbuff_t *ctvb)
{
    int doff;
    uint32_t dlen;

    for (uint32_t i = 0; i < ch->nops; i++) {
        const reasm_op_t *op = &ch->ops[i];
        tvbuff_t *r;

        switch (op->kind) {
        case OP_CALL:
            if (ctvb) {
                call_app(x, tvb_new_subset_remaining(ctvb, op->from), op->dsn, false, &doff, &dlen);
                op_after_call(x, op, NULL);
            }
            break;
        case OP_CALL_REASM:
            r = reasm_tvb(x, op);
            if (r) {
                call_app(x, r, op->dsn, true, &doff, &dlen);
                op_after_call(x, op, r);
            }
            break;
        default:
            op_show(x, ctvb, op);
            break;
        }
    }
}

static tvbuff_t *
chunk_tvb(app_ctx_t *x, const reasm_chunk_t *ch)
{
    uint8_t *buf;
    tvbuff_t *t;

    if (!ch->len)
        return NULL;
    if (!ch->extra)
        return ch->own_len ? tvb_new_subset_length(x->seg_tvb, ch->own_tvb_off, ch->own_len) : NULL;
    buf = (uint8_t *)wmem_alloc(x->pinfo->pool, ch->len);
    if (ch->own_len)
        tvb_memcpy(x->seg_tvb, buf, ch->own_tvb_off, ch->own_len);
    memcpy(buf + ch->own_len, ch->extra, ch->len - ch->own_len);
    t = tvb_new_child_real_data(x->seg_tvb, buf, ch->len, ch->len);
    add_new_data_source(x->pinfo, t, "MPTCP data stream");
    return t;
}

/** Every pass: the chunk delivered in direction x->ep, and what the dissector makes of it. */
static void
chunk_dissect(app_ctx_t *x, reasm_chunk_t *ch)
{
    tvbuff_t *ctvb = chunk_tvb(x, ch);
    proto_item *ti;

    if (ch->len) {
        add_rel_dsn(x->dt, hf_data_dsn, NULL, x->d, ch->dsn);
        ti = proto_tree_add_uint(x->dt, hf_data_len, ctvb, 0, ctvb ? (int)MIN(ch->len, tvb_captured_length(ctvb)) : 0,
                                 ch->len);
        proto_item_set_generated(ti);
    }
    if (PINFO_FD_VISITED(x->pinfo)) {
        chunk_replay(x, ch, ctvb);
        return;
    }
    if (ch->len && !ctvb)
        return;                     /* cannot happen */
    chunk_first_pass(x, ch, ctvb);
    /* keep the bytes taken from other frames only if a dissector is called on them directly */
    {
        bool keep = false;
        for (uint32_t i = 0; i < ch->nops; i++)
            keep |= ch->ops[i].kind == OP_CALL && ch->ops[i].to > ch->own_len;
        if (!keep && ch->extra) {
            wmem_free(wmem_file_scope(), ch->extra);
            ch->extra = NULL;
        }
        wmem_free(wmem_file_scope(), ch->pieces);
        ch->pieces = NULL;
        ch->npieces = ch->pieces_cap = 0;
    }
}

/** First pass, after TCP ran: the claim of the segment's subflow follows the TCP conversation
 * TCP uses for it, and a frame whose payload TCP handed to a dissector itself is marked. */
static G_GNUC_NO_INLINE void
claim_update(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt, mptcp_subflow_t *sf)
{
    bool claimed = sf->claim_conv != NULL;
    bool not_called = claimed && sf->claim_from <= pinfo->num && mptcp_pkt_seglen(pkt) > 0 && claim_called_in != pinfo->num;
    conversation_t *conv = NULL;
    reasm_rec_t *rec;

    /* (the claim handler not called for a data segment of a claimed subflow: TCP uses
     * another conversation for it now, e.g. after a port reuse it detected, or it skipped
     * the payload, e.g. a retransmission) */
    if (!claimed || (seg->flags & TH_SYN) || not_called)
        conv = find_conversation(pinfo->num, &seg->src, &seg->dst, CONVERSATION_TCP, seg->sport, seg->dport, 0);
    if (!PINFO_FD_VISITED(pinfo) && not_called && conv && conv != sf->claim_conv && (rec = rec_get(pkt, false)) != NULL) {
        /* TCP gave this claimed subflow's payload to a dissector itself: it uses another
         * conversation for the 4-tuple now (e.g. after a SYN the plugin did not take for
         * MPTCP). Handing this frame's data-level bytes to the application dissector as well
         * would call it twice in one frame for two different streams, which dissectors that
         * keep per-frame state do not expect (iPerf3 asserts on the second pass): they go
         * to the data dissector. Stored, so every pass does the same. */
        rec->flags |= RF_TCP_OWN;
    }
    /* from the next frame on, TCP hands this subflow's payload to claim_handle. A SYN may make
     * TCP start a new conversation for the same 4-tuple (Wireshark 4.2+ on a retransmitted
     * SYN): the claim moves to it, else TCP would hand the payload to the port's dissector as
     * well (twice in a frame for it). */
    if (conv && (!claimed || conv != sf->claim_conv)) {
        if (!claimed)
            sf->claim_from = pinfo->num + 1;
        sf->claim_conv = conv;
        conversation_set_dissector_from_frame_number(conv, pinfo->num + 1, claim_handle);
    }
}

/** The frame's data-level items: truncation, duplicate, unplaced, waiting or held bytes. */
static void
render_rec(app_ctx_t *x, const reasm_rec_t *rec, tvbuff_t *tvb, proto_item *di)
{
    static const struct {
        uint32_t flag;
        int *hf;
    } marks[] = {
        { RF_DUP, &hf_data_duplicate },
        { RF_UNPLACED, &hf_data_unplaced },
        { RF_WAITING, &hf_data_waiting },
        { RF_CSUM_HELD, &hf_data_csum_held },
        { RF_CSUM_FAILED, &hf_data_csum_failed },
    };

    if (rec->flags & RF_TRUNCATED)
        expert_add_info(x->pinfo, di, &ei_truncated);
    for (size_t i = 0; i < G_N_ELEMENTS(marks); i++) {
        if (rec->flags & marks[i].flag)
            proto_item_set_generated(proto_tree_add_boolean(x->dt, *marks[i].hf, tvb, 0, 0, TRUE));
    }
    if ((rec->flags & RF_WAITS) && rec->delivered_in)
        proto_item_set_generated(proto_tree_add_uint(x->dt, hf_data_delivered_in, tvb, 0, 0, rec->delivered_in));
}

/** The frame's data-level items and deliveries, from its record (every pass). */
static G_GNUC_NO_INLINE void
dissect_rec(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, mptcp_pkt_t *pkt, const mptcp_conn_t *conn)
{
    const reasm_rec_t *rec;
    rec_buf_t buf;
    proto_item *di;
    app_ctx_t x;

    rec = rec_view(pkt, tvb, &buf);
    if (!rec || (!rec->flags && !rec->chunk[0] && !rec->chunk[1])) {
        if (!PINFO_FD_VISITED(pinfo))
            rec_compact(pkt, tvb);
        return;
    }

    memset(&x, 0, sizeof(x));
    x.pinfo = pinfo;
    x.tree = tree;
    x.seg_tvb = tvb;
    x.conn = conn;
    x.rc = conn_get(conn);
    x.raw_only = (rec->flags & RF_TCP_OWN) != 0;
    di = proto_tree_add_item(tree, hf_data, tvb, 0, 0, ENC_NA);
    proto_item_set_generated(di);
    x.dt = proto_item_add_subtree(di, ett_data);
    render_rec(&x, rec, tvb, di);
    /* the peer's direction first: its deliveries come from this frame's Data ACK */
    for (int k = 0; k < 2; k++) {
        int ep = k == 0 ? 1 - mptcp_pkt_ep(pkt) : mptcp_pkt_ep(pkt);

        if (!rec->chunk[ep])
            continue;
        x.ep = ep;
        x.d = &x.rc->dir[ep];
        chunk_dissect(&x, rec->chunk[ep]);
    }
    /* like TCP's "[TCP segment of a reassembled PDU]" */
    if (x.pdu_part && !x.dissected) {
        col_set_str(pinfo->cinfo, COL_PROTOCOL, "TCP");
        col_append_sep_str(pinfo->cinfo, COL_INFO, " ", "[MPTCP segment of a reassembled PDU]");
    }
    /* a record still waiting for earlier bytes is compacted once they arrive (waiting_flush) */
    if (!PINFO_FD_VISITED(pinfo) && !(rec->flags & RF_WAITS))
        rec_compact(pkt, tvb);
}

void
mptcp_reasm_dissect(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const mptcp_seg_t *seg, mptcp_pkt_t *pkt)
{
    mptcp_subflow_t *sf = mptcp_pkt_sf(pkt);

    if (!reasm_on || !sf || !sf->conn || mptcp_pkt_ep(pkt) < 0)   /* a connection: a subflow */
        return;
    /* claim_update() has something to do for an unclaimed subflow, a SYN, or a data segment of
     * a claimed subflow whose payload TCP did not hand to the claim */
    if (seg && !sf->conn->fallback &&
        (!sf->claim_conv || (seg->flags & TH_SYN) ||
         (claim_called_in != pinfo->num && sf->claim_from <= pinfo->num && mptcp_pkt_seglen(pkt) > 0)))
        claim_update(pinfo, seg, pkt, sf);
    if (mptcp_pkt_reasm_ref(pkt))   /* no record: nothing to show, nothing to compact */
        dissect_rec(tvb, pinfo, tree, pkt, sf->conn);
}

/** The RF_* flags of the frame's record, full or compact (0: none). */
static uint32_t
rec_flags(const mptcp_pkt_t *pkt)
{
    uint32_t v = mptcp_pkt_reasm_ref(pkt);
    const reasm_rec_t *r;

    if (v & REC_TAG)
        return (v >> REC_FLAGS_SHIFT) & REC_FLAGS_MASK;
    r = v ? recs[(v >> 1) - 1] : NULL;
    return r ? r->flags : 0;
}

/** The subflow conversation's dissector, tried by TCP before its port tables. */
static int
dissect_claim(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    mptcp_pkt_t *pkt = mptcp_pkt_current(pinfo);
    dissector_handle_t h;

    claim_called_in = pinfo->num;
    if (pkt && reasm_on && (rec_flags(pkt) & RF_CLAIMED))
        return MAX(1, (int)tvb_captured_length(tvb));
    /* not placed (e.g. cut by the snap length): TCP dissects the segment as it would without
     * the claim, starting with the dissector the conversation has under it (one a heuristic
     * set, e.g. on an earlier declined segment); else TCP goes on to its port tables */
    h = pkt ? claim_prior_handle(mptcp_pkt_sf(pkt)) : NULL;
    return h ? call_dissector_only(h, tvb, pinfo, tree, data) : 0;
}
/* }}} */

/* {{{ registration */
static guint
key_hash(gconstpointer k)
{
    return GPOINTER_TO_UINT(k);
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    return a == b;
}

static gpointer
key_make(const packet_info *pinfo _U_, const guint32 id, const void *data _U_)
{
    return GUINT_TO_POINTER(id);
}

static void
key_free(gpointer p _U_)
{
}

/* ids are unique in a file: the key is the id alone (a PDU's segments come from several subflows) */
static const reassembly_table_functions reasm_table_functions = {
    key_hash, key_equal, key_make, key_make, key_free, key_free
};

void
mptcp_reasm_register(void)
{
    static hf_register_info hf[] = {
        { &hf_data, { "MPTCP data stream", "mptcp.data", FT_NONE, BASE_NONE, NULL, 0x0,
            "Data-level (DSN-ordered) stream of the connection: what this frame contributes", HFILL } },
        { &hf_data_dsn, { "Delivered from DSN", "mptcp.data.dsn", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Data sequence number of the first byte that becomes contiguous in this frame", HFILL } },
        { &hf_data_len, { "Delivered bytes", "mptcp.data.len", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Bytes of the data stream that become contiguous in this frame (its own and earlier frames')",
            HFILL } },
        { &hf_data_delivered_in, { "Delivered in", "mptcp.data.delivered_in", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_NONE), 0x0,
            "This segment's bytes arrived ahead of earlier data: the frame that delivers them "
            "(a forward link: complete only with -2 or in the GUI)", HFILL } },
        { &hf_data_duplicate, { "Already delivered", "mptcp.data.duplicate", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "Every byte of this segment was delivered before (retransmission or reinjection): not dissected "
            "again", HFILL } },
        { &hf_data_waiting, { "Out of order", "mptcp.data.out_of_order", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "This segment's bytes come after bytes not seen yet: they wait", HFILL } },
        { &hf_data_unplaced, { "Not placed", "mptcp.data.unplaced", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "No data sequence number is known for this payload (no mapping yet): it cannot be placed in the "
            "data stream and is not dissected", HFILL } },
        { &hf_data_csum_held, { "Held for the DSS checksum", "mptcp.data.checksum_held", FT_BOOLEAN, BASE_NONE,
            NULL, 0x0, "This segment's mapping carries a DSS checksum: its bytes are delivered once the "
            "checksum over the whole mapping is verified (RFC 8684 section 3.3.1)", HFILL } },
        { &hf_data_csum_failed, { "Not delivered: DSS checksum failed", "mptcp.data.checksum_failed", FT_BOOLEAN,
            BASE_NONE, NULL, 0x0, "This segment's mapping failed its DSS checksum: its bytes were not delivered, "
            "another copy was (RFC 8684 section 3.3.1; known once that copy arrives: -2 or the GUI)", HFILL } },
        { &hf_data_hole, { "Missing bytes", "mptcp.data.hole", FT_UINT64, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_data_skipped, { "Bytes of a PDU cut by a hole", "mptcp.data.skipped", FT_UINT32, BASE_DEC, NULL,
            0x0, "The rest of a PDU whose beginning was never captured: not dissected", HFILL } },
        { &hf_data_pdu_part, { "Bytes of a reassembled PDU", "mptcp.data.pdu_part", FT_UINT32, BASE_DEC, NULL,
            0x0, "Bytes that belong to a PDU completed in another frame", HFILL } },
        { &hf_segments, { "Reassembled MPTCP data segments", "mptcp.data.segments", FT_NONE, BASE_NONE, NULL, 0x0,
            "The segments (of any subflow) that carried this PDU", HFILL } },
        { &hf_segment, { "MPTCP data segment", "mptcp.data.segment", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_segment_overlap, { "Segment overlap", "mptcp.data.segment.overlap", FT_BOOLEAN, BASE_NONE, NULL,
            0x0, NULL, HFILL } },
        { &hf_segment_overlap_conflict, { "Conflicting data in segment overlap",
            "mptcp.data.segment.overlap.conflict", FT_BOOLEAN, BASE_NONE, NULL, 0x0, NULL, HFILL } },
        { &hf_segment_multiple_tails, { "Multiple tail segments found", "mptcp.data.segment.multipletails",
            FT_BOOLEAN, BASE_NONE, NULL, 0x0, NULL, HFILL } },
        { &hf_segment_too_long, { "Segment too long", "mptcp.data.segment.toolongfragment", FT_BOOLEAN,
            BASE_NONE, NULL, 0x0, NULL, HFILL } },
        { &hf_segment_error, { "Reassembly error", "mptcp.data.segment.error", FT_FRAMENUM, BASE_NONE, NULL,
            0x0, NULL, HFILL } },
        { &hf_segment_count, { "Segment count", "mptcp.data.segment.count", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_reassembled_in, { "Reassembled PDU in frame", "mptcp.data.reassembled_in", FT_FRAMENUM, BASE_NONE,
            NULL, 0x0, "The PDU these bytes belong to is dissected in this frame", HFILL } },
        { &hf_reassembled_length, { "Reassembled MPTCP length", "mptcp.data.reassembled.length", FT_UINT32,
            BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_reassembled_data, { "Reassembled MPTCP data", "mptcp.data.reassembled.data", FT_BYTES, BASE_NONE,
            NULL, 0x0, NULL, HFILL } },
    };
    static gint *ett[] = { &ett_data, &ett_segment, &ett_segments };
    static ei_register_info ei[] = {
        { &ei_hole, { "mptcp.data.hole.expert", PI_SEQUENCE, PI_WARN,
            "Bytes of the MPTCP data stream are missing", EXPFILL } },
        { &ei_truncated, { "mptcp.data.truncated", PI_UNDECODED, PI_NOTE,
            "Capture truncated (snap length): no data-level reassembly in this direction from here on; the "
            "payload is dissected per subflow, as by TCP", EXPFILL } },
    };
    expert_module_t *em;
    module_t *m;

    proto_register_field_array(proto_mptcp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    em = expert_register_protocol(proto_mptcp);
    expert_register_field_array(em, ei, array_length(ei));

    m = prefs_find_module("mptcp");
    if (m)
        prefs_register_bool_preference(m, "reassemble_data", "Reassemble the MPTCP data stream",
                                       "Hand application dissectors (HTTP, TLS, ...) the connection's data-level "
                                       "byte stream in DSN order, with PDUs reassembled across segments and "
                                       "subflows, instead of each subflow's bytes. Needs \"analyze_mappings\".",
                                       &pref_reassemble);
    reassembly_table_register(&reasm_table, &reasm_table_functions);
    register_init_routine(reasm_init);
}

void
mptcp_reasm_handoff(void)
{
    /* no protocol: TCP's call adds no layer; the application's call (after TCP) does */
    claim_handle = create_dissector_handle(dissect_claim, -1);
}
/* }}} */
