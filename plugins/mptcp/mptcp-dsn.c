/* mptcp-dsn.c
 * Data-level sequence analysis (first pass only): 64-bit DSN and DATA_ACK, DSS mappings
 * per subflow direction, the DSN of every data segment, and cross-subflow reinjections.
 *
 * RFC 8684 section 3.3 (DSS), 3.3.1 (mappings), 3.3.3 (DATA_FIN), 3.3.6 (reinjection).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/dissectors/packet-tcp.h>

static void
frames_add(mptcp_frames_t *f, uint32_t frame)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (f->v[i] == frame)
            return;
    f->v = (uint32_t *)mptcp_grow_counted(wmem_file_scope(), f->v, f->n, f->n + 1, sizeof(uint32_t));
    f->v[f->n++] = frame;
}

/** Relative subflow sequence number of seq, 64-bit, in subflow direction d. */
static bool
rel_ssn64(mptcp_sfdir_t *sd, uint32_t seq, uint64_t *out)
{
    uint32_t rel;

    if (!sd->isn_known)
        return false;
    rel = seq - sd->isn - sd->syn_data;
    *out = sd->ssn_ref_known ? mptcp_expand32(sd->ssn_ref, rel) : rel;
    sd->ssn_ref = *out;
    sd->ssn_ref_known = true;
    return true;
}

/** Reference for expanding a 32-bit value in endpoint e's data sequence space. */
static bool
dsn_space_ref(const mptcp_endpoint_t *e, uint64_t *ref)
{
    if (e->dsn_ref_known)
        *ref = e->dsn_ref;
    else if (e->key_known)
        *ref = e->idsn;
    else
        return false;
    return true;
}

static uint64_t
expand_in_space(const mptcp_endpoint_t *e, uint64_t raw, bool wide)
{
    uint64_t ref;

    if (wide || !dsn_space_ref(e, &ref))
        return raw;
    return mptcp_expand32(ref, (uint32_t)raw);
}

/* Capture without this direction's SYN: the relative subflow sequence numbers of the DSS
 * mappings (RFC 8684 section 3.3.1) still pin the ISN down. A segment [S, S+len) inside a
 * mapping [ssn, ssn+dll) gives ISN in [S+len-ssn-dll, S-ssn]; the intersection over the
 * segments becomes exact at the first mapping boundary (Linux maps up to 64 KiB per DSS
 * and repeats it on every segment). Until then no DSN is given: a guess could be wrong. */
static mptcp_isn_search_t *
isn_search(mptcp_sfdir_t *sd)
{
    if (!sd->search)
        sd->search = wmem_new0(wmem_file_scope(), mptcp_isn_search_t);
    return sd->search;
}

static void
narrow_isn(mptcp_sfdir_t *sd, const mptcp_seg_t *seg)
{
    for (unsigned i = 0; i < seg->nopts; i++) {
        const mptcp_opt_t *o = &seg->opts[i];
        mptcp_isn_search_t *s;
        uint32_t dlen;
        int64_t hi, lo;

        if (o->status != MPTCP_OPT_OK || o->subtype != MPTCP_SUB_DSS || !o->u.dss.has_map || o->u.dss.ssn == 0)
            continue;
        dlen = o->u.dss.dll - (o->u.dss.fin && o->u.dss.dll ? 1 : 0);
        if (dlen < seg->seglen)
            continue;       /* inconsistent mapping: ignore */
        s = isn_search(sd);
        if (!s->isn_bounded) {
            s->isn_bounded = true;
            s->isn_anchor = seg->seq - o->u.dss.ssn;
            s->isn_lo = INT64_MIN;
            s->isn_hi = INT64_MAX;
        }
        hi = (int32_t)(seg->seq - o->u.dss.ssn - s->isn_anchor);
        lo = hi + (int64_t)seg->seglen - (int64_t)dlen;
        if (lo > s->isn_hi || hi < s->isn_lo) {
            s->isn_lo = lo;     /* contradicts what we had (a remapping): start over */
            s->isn_hi = hi;
        } else {
            s->isn_lo = MAX(s->isn_lo, lo);
            s->isn_hi = MIN(s->isn_hi, hi);
        }
        if (s->isn_lo == s->isn_hi) {
            sd->isn_known = true;
            sd->isn = s->isn_anchor + (uint32_t)s->isn_lo;
        }
        return;
    }
}

/** A data segment seen before its subflow direction's ISN was known, and its own mapping. */
typedef struct {
    mptcp_pkt_t *pkt;
    uint32_t seq;              /**< raw sequence number */
    bool has_map;
    uint32_t ssn, dlen;        /**< its DSS mapping: relative subflow seq and data length */
    uint64_t dsn;              /**< the mapping's 64-bit DSN */
} undated_t;

static void
undated_keep(mptcp_sfdir_t *sd, const mptcp_endpoint_t *me, const mptcp_seg_t *seg, mptcp_pkt_t *pkt)
{
    undated_t u = { pkt, seg->seq, false, 0, 0, 0 };

    for (unsigned i = 0; i < seg->nopts; i++) {
        const mptcp_opt_t *o = &seg->opts[i];
        if (o->status == MPTCP_OPT_OK && o->subtype == MPTCP_SUB_DSS && o->u.dss.has_map && o->u.dss.dll &&
            (o->u.dss.dsn8 || me->key_known || (me->dsn_ref_known && me->dsn_ref_exact))) {
            u.has_map = true;
            u.ssn = o->u.dss.ssn;
            u.dlen = o->u.dss.dll - (o->u.dss.fin ? 1 : 0);
            u.dsn = expand_in_space(me, o->u.dss.dsn, o->u.dss.dsn8);
        }
    }
    if (!isn_search(sd)->undated)
        sd->search->undated = wmem_array_new(wmem_file_scope(), sizeof(undated_t));
    wmem_array_append_one(sd->search->undated, u);
}

/* Capture without the SYN: the first data segments of a subflow direction come before a
 * mapping boundary pins its ISN (narrow_isn). Once it is known, their DSNs (from their own
 * DSS mapping, RFC 8684 section 3.3.1, or one covering them) fill their stored results, so that
 * -2 and the GUI show them (MPTCP_PF_LATE_DSN). */
static void
undated_fill(mptcp_sfdir_t *sd, uint64_t ref)
{
    for (guint i = 0; i < wmem_array_get_count(sd->search->undated); i++) {
        const undated_t *u = (const undated_t *)wmem_array_index(sd->search->undated, i);
        uint64_t rel = mptcp_expand32(ref, u->seq - sd->isn - sd->syn_data), ssn64;
        mptcp_range_t m;

        if (u->has_map && rel >= (ssn64 = mptcp_expand32(rel, u->ssn)) && rel < ssn64 + u->dlen) {
            mptcp_pkt_set_dsn64(u->pkt, u->dsn + (rel - ssn64));
        } else if (mptcp_maps_find_covering(&sd->maps, rel, &m)) {
            mptcp_pkt_set_dsn64(u->pkt, m.val + (rel - m.low));
        } else {
            continue;
        }
        u->pkt->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_LATE_DSN;
        u->pkt->flags &= ~MPTCP_PF_NO_MAPPING;
    }
    sd->search->undated = NULL;   /* file scope: freed with the file */
}

typedef struct {
    mptcp_pkt_t *pkt;
    uint32_t sf_index;
    uint32_t copies;           /**< earlier transmissions visited */
} reinj_ud_t;

static void
reinj_cb(mptcp_pkt_t *earlier, uint32_t sf_index, void *ud)
{
    reinj_ud_t *u = (reinj_ud_t *)ud;

    u->copies++;
    if (sf_index != u->sf_index) {
        frames_add(&mptcp_pkt_ext(u->pkt)->reinj_of, earlier->frame);
        frames_add(&mptcp_pkt_ext(earlier)->reinj_in, u->pkt->frame);
    }
}

/* RFC 8684 section 3.3.1: the DSS checksum is the TCP checksum algorithm over a
 * pseudo-header (64-bit DSN, 32-bit relative subflow sequence number, 16-bit data-level
 * length, 16-bit zero) followed by the whole mapped payload, which Linux spreads over many
 * segments. The ones' complement sum is accumulated per mapping as its bytes arrive in
 * order; the segment that completes the mapping shows the result. A hole (bytes never
 * captured) leaves the checksum unverified. */
typedef struct {
    uint32_t sum;              /**< ones' complement sum of the payload bytes so far */
    uint32_t next;             /**< mapping offset of the next byte expected */
    bool broken;               /**< a gap or a cut payload: cannot verify */
    bool done;
    bool bad;                  /**< done, and the checksum did not match */
    wmem_array_t *pkts;        /**< mptcp_pkt_t * of the mapping's segments */
} csum_acc_t;

static wmem_map_t *csum_accs;      /**< mapping's first frame -> csum_acc_t */
static wmem_map_t *csum_of_pkt;    /**< mptcp_pkt_t * -> csum_acc_t of its mapping */

static uint32_t
sum_bytes(const uint8_t *p, unsigned n, bool odd_start)
{
    uint32_t sum = 0;
    unsigned i = 0;

    if (odd_start && n) {          /* the first byte is the low half of a 16-bit word */
        sum += p[0];
        i = 1;
    }
    for (; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/** Adds this segment's share of a checksummed mapping; data_len excludes a DATA_FIN. */
static void
checksum_segment(const mptcp_seg_t *seg, mptcp_pkt_t *pkt, uint32_t map_frame, uint64_t dsn64, uint32_t ssn,
                 uint16_t dll, uint16_t csum, uint32_t data_len, uint64_t offset)
{
    csum_acc_t *acc = (csum_acc_t *)wmem_map_lookup(csum_accs, GUINT_TO_POINTER(map_frame));
    uint32_t have, from;
    int cap;

    if (!acc) {
        acc = wmem_new0(wmem_file_scope(), csum_acc_t);
        acc->pkts = wmem_array_new(wmem_file_scope(), sizeof(mptcp_pkt_t *));
        wmem_map_insert(csum_accs, GUINT_TO_POINTER(map_frame), acc);
    }
    if (!acc->done)
        wmem_array_append_one(acc->pkts, pkt);
    wmem_map_insert(csum_of_pkt, pkt, acc);      /* a copy sent after it is done has its result */
    if (acc->done || acc->broken) {
        pkt->flags |= MPTCP_PF_CSUM_UNVERIFIED;
        return;
    }
    if (offset > acc->next) {
        acc->broken = true;        /* a hole: bytes of this mapping were not captured (yet) */
        pkt->flags |= MPTCP_PF_CSUM_UNVERIFIED;
        return;
    }
    have = mptcp_pkt_seglen(pkt);
    if (offset + have > data_len)
        have = (uint32_t)(data_len - offset);
    from = (uint32_t)(acc->next - offset);          /* skip bytes already summed */
    cap = tvb_captured_length_remaining(seg->tvb, seg->hlen);
    if (from < have) {
        if (cap < (int)have) {
            acc->broken = true;    /* snap length cut the payload */
            pkt->flags |= MPTCP_PF_CSUM_UNVERIFIED;
            return;
        }
        acc->sum += sum_bytes(tvb_get_ptr(seg->tvb, seg->hlen + from, have - from), have - from, acc->next & 1);
        acc->sum = fold(acc->sum);
        acc->next = (uint32_t)offset + have;
    }
    if (acc->next == data_len) {
        /* the pseudo-header of the DSS that completes the mapping: Linux grows the length
         * by one on the segments that also carry the DATA_FIN */
        uint8_t ph[16] = { 0 };
        for (int i = 0; i < 8; i++)
            ph[i] = (uint8_t)(dsn64 >> (56 - 8 * i));
        ph[8] = (uint8_t)(ssn >> 24);
        ph[9] = (uint8_t)(ssn >> 16);
        ph[10] = (uint8_t)(ssn >> 8);
        ph[11] = (uint8_t)ssn;
        ph[12] = (uint8_t)(dll >> 8);
        ph[13] = (uint8_t)dll;
        acc->done = true;
        uint16_t computed = (uint16_t)~fold(acc->sum + sum_bytes(ph, sizeof(ph), false));
        mptcp_pkt_ext(pkt)->csum_computed = computed;
        acc->bad = computed != csum;
        pkt->flags |= acc->bad ? MPTCP_PF_CSUM_BAD : MPTCP_PF_CSUM_OK;
        for (guint i = 0; acc->bad && i < wmem_array_get_count(acc->pkts); i++)
            mptcp_pkt_ext(*(mptcp_pkt_t **)wmem_array_index(acc->pkts, i))->flags |= MPTCP_PX_CSUM_MAP_BAD;
    } else {
        pkt->flags |= MPTCP_PF_CSUM_UNVERIFIED;
    }
}

void
mptcp_dsn_init(void)
{
    csum_accs = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    csum_of_pkt = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
}

mptcp_csum_state_t
mptcp_dsn_csum_state(const mptcp_pkt_t *pkt)
{
    const csum_acc_t *acc = (const csum_acc_t *)wmem_map_lookup(csum_of_pkt, pkt);

    if (!acc || acc->broken)
        return MPTCP_CSUM_NONE;
    if (!acc->done)
        return MPTCP_CSUM_PENDING;
    return acc->bad ? MPTCP_CSUM_BAD : MPTCP_CSUM_OK;
}

/* RFC 8684 section 3.3.1: a copy of data whose mapping failed its checksum was not delivered */
static void
repair_cb(mptcp_pkt_t *earlier, uint32_t sf_index _U_, void *ud)
{
    mptcp_pkt_t *pkt = (mptcp_pkt_t *)ud;

    if (earlier != pkt && mptcp_pkt_xflag(earlier, MPTCP_PX_CSUM_MAP_BAD)) {
        mptcp_pkt_ext(earlier)->flags |= MPTCP_PX_CSUM_DROPPED;
        mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_CSUM_REPAIR;
    }
}

/* RFC 8684 section 3.3.6: data sent on one subflow that was already sent on another
 * subflow of the connection is a reinjection; repeats on the same subflow are TCP's. The
 * index of sent data is kept without the reinjection analysis too: the latency takes the
 * first transmission of a segment's data from it (mptcp-latency.c). Returns true if it knows
 * that no earlier transmission overlaps the segment's data (then the latency need not look). */
static bool
record_copy(const mptcp_conn_t *c, mptcp_endpoint_t *e, mptcp_subflow_t *sf, mptcp_pkt_t *pkt, uint64_t low)
{
    reinj_ud_t u = { pkt, sf->index, 0 };
    uint64_t high = low + mptcp_pkt_seglen(pkt);

    /* RFC 8684 section 3.3.1: data of a mapping that failed its checksum is not delivered;
     * the copy sent again (on this subflow or, after MP_FAIL and a reset, another) is */
    if (c->csum)
        mptcp_sent_foreach_overlap(&e->sent, low, high, repair_cb, pkt);

    if (mptcp_prefs.reinjections) {
        mptcp_sent_foreach_overlap(&e->sent, low, high, reinj_cb, &u);
        if (MPTCP_UNLIKELY(u.copies) && mptcp_pkt_ext_const(pkt)->reinj_of.n)
            pkt->flags |= MPTCP_PF_REINJECTION;
    }
    /* every transmission is kept (its per-packet result, for the reinjected_in link), so a
     * reinjection lists all earlier copies */
    mptcp_sent_add(&e->sent, pkt);
    return mptcp_prefs.reinjections && u.copies == 0;
}

/** Records pkt's data, from its DSN low (record_copy() when an earlier transmission may overlap it). */
static bool
record_sent(const mptcp_conn_t *c, mptcp_endpoint_t *e, mptcp_subflow_t *sf, mptcp_pkt_t *pkt, uint64_t low)
{
    if (mptcp_sent_add_new(&e->sent, pkt, low, mptcp_pkt_seglen(pkt)))
        return mptcp_prefs.reinjections;        /* new data: no earlier copy */
    return record_copy(c, e, sf, pkt, low);
}

/** What the handlers of one segment share. */
typedef struct {
    packet_info *pinfo;
    const mptcp_seg_t *seg;
    mptcp_pkt_t *pkt;
    mptcp_conn_t *c;
    mptcp_sfdir_t *sd;         /**< the segment's subflow direction */
    mptcp_endpoint_t *me, *peer;
    uint64_t relseq;           /**< 64-bit relative subflow sequence number of the segment */
    bool have_relseq;
    uint64_t dss_dsn;          /**< the DSS mapping's 64-bit DSN (MPTCP_PF_DSS_DSN) */
    uint64_t dss_raw;          /**< ... as the option carries it (dss_raw64: all 64 bits) */
    bool dss_raw64;
    bool dss_one_raw;          /**< the packet's DSS mappings all carry the same one */
} dsn_ctx_t;

/* The data of an MP_CAPABLE SYN (TCP Fast Open, RFC 8684 appendix B) gets its place once the
 * sender's key is known (a v1 client's key comes in the third ACK): Linux numbers the data
 * after the SYN from IDSN + 1 (its DSS mappings, DATA_ACKs and DATA_FIN say so), so the SYN's
 * bytes are the ones just below; or, when the connection fell back before, position 1 of the
 * plain TCP stream (section 3.7). */
static void
syn_data_resolve_now(mptcp_conn_t *c, mptcp_endpoint_t *e, const mptcp_pkt_t *cur)
{
    mptcp_pkt_t *p = mptcp_ep_syn_data(e)->pkt;

    if (p->flags & MPTCP_PF_HAS_DSN) {
        e->syn_data_open = false;
        return;
    }
    if (e->key_known) {
        mptcp_pkt_set_dsn64(p, mptcp_ep_rel_base(e) + 1);
        p->flags |= MPTCP_PF_HAS_DSN;
        /* the DSN is relative to that key */
        mptcp_pkt_ext(p)->flags |= (uint16_t)(MPTCP_PX_KEY0 << mptcp_pkt_ep(p));
    } else if (c->fallback) {
        mptcp_pkt_set_dsn64(p, 1);
        p->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_FB_POS;
    } else {
        return;
    }
    e->syn_data_open = false;
    p->flags &= ~MPTCP_PF_NO_MAPPING;
    if (p != cur) {              /* the SYN's own update records it otherwise */
        p->flags |= MPTCP_PF_LATE_DSN;          /* Follow places it itself (place_syn_data) */
        record_sent(c, e, mptcp_pkt_sf(p), p, mptcp_pkt_dsn64(p));
    }
}

/** The SYN's data placed when its DSN becomes known (a SYN with data whose DSN is not). */
static inline void
syn_data_resolve(mptcp_conn_t *c, mptcp_endpoint_t *e, const mptcp_pkt_t *cur)
{
    if (MPTCP_UNLIKELY(e->syn_data_open))
        syn_data_resolve_now(c, e, cur);
}

/* RFC 8684 appendix B: with TCP Fast Open the SYN's payload starts the data stream, before any
 * mapping; Linux's DSS subflow sequence numbers leave it out (subflow sequence 1 is the first
 * byte after it). */
static void
syn_data(dsn_ctx_t *x)
{
    mptcp_endpoint_t *me = x->me;
    int cap = tvb_captured_length_remaining(x->seg->tvb, x->seg->hlen);
    uint32_t n = cap > 0 ? MIN((uint32_t)cap, mptcp_pkt_seglen(x->pkt)) : 0;
    mptcp_syn_data_t *sd;

    if (me->syn_data)
        return;                  /* a retransmitted SYN: the first one holds the place */
    sd = mptcp_ep_syn_data_new(me);
    sd->pkt = x->pkt;
    sd->len = n;
    sd->bytes = n ? (const uint8_t *)wmem_memdup(wmem_file_scope(), tvb_get_ptr(x->seg->tvb, x->seg->hlen, n), n)
                  : NULL;
    x->sd->syn_data = mptcp_pkt_seglen(x->pkt);
    me->syn_rel = mptcp_pkt_seglen(x->pkt);
    me->syn_data_open = true;
    syn_data_resolve(x->c, me, x->pkt);
}

/* RFC 8684 section 3.3.2: DATA_ACK acknowledges the peer's data; the a flag gives its width
 * (inline: on almost every segment's path) */
static inline void
dss_ack(mptcp_pkt_t *pkt, mptcp_endpoint_t *me, mptcp_endpoint_t *peer, const mptcp_opt_t *o)
{
    uint64_t ack = o->u.dss.ack8 ? o->u.dss.ack
                 : me->ack_ref_known ? mptcp_expand32(me->ack_ref, (uint32_t)o->u.dss.ack)
                 : expand_in_space(peer, o->u.dss.ack, false);

    mptcp_pkt_set_ack64(pkt, ack);
    pkt->flags |= MPTCP_PF_HAS_ACK | MPTCP_PF_DSS_ACK;
    me->ack_ref = ack;
    me->ack_ref_known = true;
    if (!peer->dsn_ref_known && (o->u.dss.ack8 || peer->key_known)) {
        /* where the peer's data space is, even if the peer's data is not captured */
        peer->dsn_ref = ack;
        peer->dsn_ref_known = true;
        peer->dsn_ref_exact = true;
    }
}

/* RFC 8684 section 3.3.3: the DATA_FIN takes the last DSN of the mapping; with subflow
 * sequence 0 and length 1 it carries no data. Returns the mapping's data length. */
static uint32_t
dss_data_fin(dsn_ctx_t *x, const mptcp_opt_t *o, uint64_t dsn)
{
    uint32_t dlen = o->u.dss.dll;

    x->pkt->flags |= MPTCP_PF_DATA_FIN;
    x->me->data_fin_seen = true;
    x->me->data_fin_dsn = dsn + (dlen ? dlen - 1 : 0);
    if (dlen)
        dlen--;
    if (o->u.dss.ssn == 0)
        dlen = 0;
    return dlen;
}

/* RFC 8684 section 3.3.1: a mapping of subflow bytes [ssn, ssn + dlen) to the data sequence
 * space, with the checksum over the mapped payload when negotiated */
static void
dss_place(dsn_ctx_t *x, const mptcp_opt_t *o, uint64_t dsn, uint32_t dlen, bool exact)
{
    mptcp_pkt_t *pkt = x->pkt;
    uint64_t relseq = x->relseq, ssn64 = mptcp_expand32(relseq, o->u.dss.ssn);

    if (MPTCP_UNLIKELY(o->u.dss.has_csum) && !exact) {
        pkt->flags |= MPTCP_PF_CSUM_UNVERIFIED;   /* the pseudo-header needs all 64 bits */
    } else if (o->u.dss.has_csum && relseq >= ssn64 && relseq < ssn64 + dlen) {
        mptcp_range_t m;
        bool found = mptcp_maps_find_covering(&x->sd->maps, ssn64, &m);
        checksum_segment(x->seg, pkt, found && m.low == ssn64 ? m.frame : x->pinfo->num, dsn, o->u.dss.ssn,
                         o->u.dss.dll, o->u.dss.csum, dlen, relseq - ssn64);
    }
    mptcp_maps_insert(&x->sd->maps, ssn64, ssn64 + dlen, dsn, x->pinfo->num);
    /* a mapping carried by the packet itself is used first */
    if (mptcp_pkt_seglen(pkt) > 0 && relseq >= ssn64 && relseq < ssn64 + dlen) {
        mptcp_pkt_set_dsn64(pkt, dsn + (relseq - ssn64));
        pkt->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_MAP_IN_PKT;
    }
}

/* RFC 8684 section 3.7: an infinite mapping maps everything from its subflow sequence on */
static void
infinite_place(dsn_ctx_t *x, const mptcp_opt_t *o, uint64_t dsn)
{
    uint64_t ssn64 = mptcp_expand32(x->relseq, o->u.dss.ssn);
    mptcp_range_t m;

    if (!mptcp_maps_find_covering(&x->sd->maps, ssn64, &m) || m.val + (ssn64 - m.low) != dsn ||
        mptcp_range_high(&m) - ssn64 < UINT32_MAX / 2)
        mptcp_maps_insert(&x->sd->maps, ssn64, ssn64 + UINT32_MAX, dsn, x->pinfo->num);
    if (mptcp_pkt_seglen(x->pkt) > 0 && x->relseq >= ssn64) {
        mptcp_pkt_set_dsn64(x->pkt, dsn + (x->relseq - ssn64));
        x->pkt->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_MAP_IN_PKT;
    }
}

/* RFC 8684 section 3.3: the DSS mapping; the m flag gives the DSN width */
static void
dss_map(dsn_ctx_t *x, const mptcp_opt_t *o)
{
    mptcp_endpoint_t *me = x->me;
    uint64_t dsn = expand_in_space(me, o->u.dss.dsn, o->u.dss.dsn8);
    uint32_t dlen = o->u.dss.dll;
    /* the upper half of a 32-bit DSN is a guess until a 64-bit DSN or the key is seen */
    bool exact = o->u.dss.dsn8 || me->key_known || (me->dsn_ref_known && me->dsn_ref_exact);

    /* each DSS option renders the packet's mapping DSN, derived from its own raw DSN */
    if ((x->pkt->flags & MPTCP_PF_DSS_DSN) && (x->dss_raw != o->u.dss.dsn || x->dss_raw64 != o->u.dss.dsn8))
        x->dss_one_raw = false;
    x->dss_dsn = dsn;
    x->dss_raw = o->u.dss.dsn;
    x->dss_raw64 = o->u.dss.dsn8;
    x->pkt->flags |= MPTCP_PF_DSS_DSN;
    me->dsn_ref = dsn;
    me->dsn_ref_known = true;
    me->dsn_ref_exact = exact;
    if (o->u.dss.fin)
        dlen = dss_data_fin(x, o, dsn);
    if (dlen == 0 && o->u.dss.dll == 0) {
        /* RFC 8684 section 3.7: the infinite mapping: fallback from here on; the rest of the
         * subflow continues the data stream from the mapping's DSN and subflow sequence */
        x->pkt->flags |= MPTCP_PF_INFINITE_MAP | MPTCP_PF_FALLBACK;
        x->c->fallback = true;
        if (x->have_relseq)
            infinite_place(x, o, dsn);
    }
    if (dlen && x->have_relseq)
        dss_place(x, o, dsn, dlen, exact);
}

/* RFC 8684 section 3.1: MP_CAPABLE with data maps subflow sequence 1 to IDSN+1; every
 * retransmitted copy describes the same mapping */
static void
capable_data_map(dsn_ctx_t *x, const mptcp_opt_t *o)
{
    mptcp_endpoint_t *me = x->me;
    uint64_t relseq = x->relseq, dsn = me->idsn + 1;

    mptcp_maps_insert(&x->sd->maps, 1, 1 + (uint64_t)o->u.cap.dll, dsn, x->pinfo->num);
    if (o->u.cap.has_csum && relseq >= 1 && relseq < 1 + (uint64_t)o->u.cap.dll) {
        mptcp_range_t m;
        checksum_segment(x->seg, x->pkt, mptcp_maps_find_covering(&x->sd->maps, 1, &m) ? m.frame : x->pinfo->num, dsn, 1, o->u.cap.dll,
                         o->u.cap.csum, o->u.cap.dll, relseq - 1);
    }
    if (!me->dsn_ref_known) {
        me->dsn_ref = dsn;
        me->dsn_ref_known = true;
        me->dsn_ref_exact = true;
    }
}

/* RFC 8684 section 3.7: after a fallback the subflow is plain TCP and its bytes continue the
 * data stream: beyond the direction's last mapping (the other direction of an infinite
 * mapping, or a fallback after data), or, before any mapping, from the start: its first byte
 * is DSN IDSN + 1 when the sender's key is known, else only a position (MPTCP_PF_FB_POS) that
 * Follow and the statistics use. */
static void
fallback_place(dsn_ctx_t *x)
{
    uint64_t pos = x->relseq + x->sd->syn_data;
    mptcp_range_t m;

    if (mptcp_maps_last(&x->sd->maps, &m)) {
        if (x->relseq >= m.low) {
            mptcp_pkt_set_dsn64(x->pkt, m.val + (x->relseq - m.low));
            x->pkt->flags |= MPTCP_PF_HAS_DSN;
            mptcp_pkt_set_map_frame(x->pkt, m.frame);
        }
    } else if (x->me->key_known) {
        mptcp_pkt_set_dsn64(x->pkt, mptcp_ep_rel_base(x->me) + pos);
        x->pkt->flags |= MPTCP_PF_HAS_DSN;
    } else {
        mptcp_pkt_set_dsn64(x->pkt, pos);
        x->pkt->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_FB_POS;
    }
}

/* The DSN of a data segment whose own DSS did not map it: an earlier mapping covers it, or
 * there is none and either none is expected (fallback) or one is missing. */
static void
dsn_from_mappings(dsn_ctx_t *x)
{
    mptcp_pkt_t *pkt = x->pkt;
    mptcp_range_t m;

    if (x->have_relseq && mptcp_maps_find_covering(&x->sd->maps, x->relseq, &m)) {
        mptcp_pkt_set_dsn64(pkt, m.val + (x->relseq - m.low));
        pkt->flags |= MPTCP_PF_HAS_DSN;
        mptcp_pkt_set_map_frame(pkt, m.frame == x->pinfo->num ? 0 : m.frame);
    } else if (x->c->fallback && x->have_relseq && (x->sd->maps.r.n || mptcp_pkt_sf(pkt) == x->c->master)) {
        fallback_place(x);
    } else if (x->c->fallback || (!x->have_relseq && x->seg->nopts)) {
        /* plain TCP after fallback: no data-level mapping is expected; or the subflow's
         * ISN is not known yet (SYN not captured), so its mappings cannot be placed */
    } else if (x->seg->nopts == 0) {
        /* RFC 8684 section 3.7: data without any DSS where a mapping is needed means the
         * peers fell back to plain TCP (e.g. the MP_CAPABLE third ACK was lost) */
        x->c->fallback = true;
        pkt->flags |= MPTCP_PF_FALLBACK;
    } else {
        pkt->flags |= MPTCP_PF_NO_MAPPING;
    }
}

/* The common segment: a DSS option alone (RFC 8684 section 3.3), without DATA_FIN or checksum,
 * on a subflow direction whose ISN is known, not a SYN: its DATA_ACK, and its mapping, which
 * covers its payload (Linux repeats a mapping on every segment it covers), or no payload without
 * a mapping. What the general path below does for it, in fewer steps; false (nothing changed)
 * for any other segment. */
static bool
dsn_fast(mptcp_fp_t *fp, mptcp_sfdir_t *sd, mptcp_endpoint_t *me, mptcp_endpoint_t *peer)
{
    const mptcp_seg_t *seg = fp->seg;
    const mptcp_opt_t *o = &seg->opts[0];
    mptcp_pkt_t *pkt = fp->pkt;
    uint32_t seglen = mptcp_pkt_seglen(pkt);
    uint64_t relseq, ssn64 = 0, dsn = 0;

    if (seg->nopts != 1 || o->status != MPTCP_OPT_OK || o->subtype != MPTCP_SUB_DSS || o->u.dss.fin ||
        o->u.dss.has_csum || !sd->isn_known || !sd->ssn_ref_known || (seg->flags & TH_SYN) ||
        (o->u.dss.has_map ? o->u.dss.dll == 0 : seglen > 0))
        return false;
    relseq = mptcp_expand32(sd->ssn_ref, seg->seq - sd->isn - sd->syn_data);
    if (o->u.dss.has_map) {
        ssn64 = mptcp_expand32(relseq, o->u.dss.ssn);
        if (seglen > 0 && (relseq < ssn64 || relseq - ssn64 >= o->u.dss.dll))
            return false;
    }
    sd->ssn_ref = relseq;
    if (o->u.dss.has_ack) {
        dss_ack(pkt, me, peer, o);
        fp->ack64 = me->ack_ref;
    }
    if (o->u.dss.has_map) {
        dsn = expand_in_space(me, o->u.dss.dsn, o->u.dss.dsn8);
        me->dsn_ref_exact = o->u.dss.dsn8 || me->key_known || (me->dsn_ref_known && me->dsn_ref_exact);
        me->dsn_ref = dsn;
        me->dsn_ref_known = true;
        pkt->flags |= MPTCP_PF_DSS_DSN;
        mptcp_maps_insert(&sd->maps, ssn64, ssn64 + o->u.dss.dll, dsn, fp->pinfo->num);
        if (seglen > 0) {
            fp->dsn64 = dsn + (relseq - ssn64);
            mptcp_pkt_set_dsn64(pkt, fp->dsn64);
            pkt->flags |= MPTCP_PF_HAS_DSN | MPTCP_PF_MAP_IN_PKT;
        }
    }
    syn_data_resolve(fp->c, &fp->c->ep[0], pkt);
    syn_data_resolve(fp->c, &fp->c->ep[1], pkt);
    if (o->u.dss.has_map && !o->u.dss.dsn8)     /* with all 64 bits the option's DSN is the mapping's */
        mptcp_pkt_set_dss_dsn64(pkt, dsn, o->u.dss.dsn, false, true);
    if (!(pkt->flags & MPTCP_PF_HAS_DSN))
        return true;
    if (mptcp_sent_add_new(&me->sent, pkt, fp->dsn64, seglen))   /* record_sent(), in line */
        fp->no_earlier_copy = mptcp_prefs.reinjections;
    else
        fp->no_earlier_copy = record_copy(fp->c, me, fp->sf, pkt, fp->dsn64);
    return true;
}

/* Any segment: the general path (out of line: the fast one stays short). */
static MPTCP_NOINLINE void
dsn_general(mptcp_fp_t *fp, mptcp_sfdir_t *sd, mptcp_endpoint_t *me, mptcp_endpoint_t *peer)
{
    const mptcp_seg_t *seg = fp->seg;
    mptcp_pkt_t *pkt = fp->pkt;
    dsn_ctx_t x = { fp->pinfo, seg, pkt, fp->c, sd, me, peer, 0, false, 0, 0, false, true };
    bool isn_was_known = sd->isn_known;

    if (!x.sd->isn_known && mptcp_pkt_seglen(pkt) > 0)
        narrow_isn(x.sd, seg);
    x.have_relseq = rel_ssn64(x.sd, seg->seq, &x.relseq);

    for (unsigned i = 0; i < seg->nopts; i++) {
        const mptcp_opt_t *o = &seg->opts[i];

        if (o->status != MPTCP_OPT_OK)
            continue;
        if (o->subtype == MPTCP_SUB_DSS) {
            if (o->u.dss.has_ack)
                dss_ack(pkt, x.me, x.peer, o);
            if (o->u.dss.has_map)
                dss_map(&x, o);
        } else if (o->subtype == MPTCP_SUB_CAPABLE && o->u.cap.has_dll && o->u.cap.dll && x.me->key_known &&
                   x.have_relseq) {
            capable_data_map(&x, o);
        }
    }
    syn_data_resolve(x.c, &x.c->ep[0], pkt);
    syn_data_resolve(x.c, &x.c->ep[1], pkt);
    if (mptcp_pkt_seglen(pkt) > 0 && (seg->flags & TH_SYN) && !x.sd->maps.r.n && fp->sf == x.c->master)
        syn_data(&x);
    else if (mptcp_pkt_seglen(pkt) > 0 && !(pkt->flags & MPTCP_PF_HAS_DSN))
        dsn_from_mappings(&x);
    if (!isn_was_known && x.have_relseq && x.sd->search && x.sd->search->undated)
        undated_fill(x.sd, x.relseq);
    else if (!x.have_relseq && mptcp_pkt_seglen(pkt) > 0 && !(pkt->flags & MPTCP_PF_HAS_DSN))
        undated_keep(x.sd, x.me, seg, pkt);
    if (pkt->flags & MPTCP_PF_DSS_DSN)
        mptcp_pkt_set_dss_dsn64(pkt, x.dss_dsn, x.dss_raw, x.dss_raw64, x.dss_one_raw);
    if (pkt->flags & MPTCP_PF_HAS_DSN)
        fp->no_earlier_copy = record_sent(x.c, x.me, fp->sf, pkt, mptcp_pkt_dsn64(pkt));
}

bool
mptcp_dsn_update(mptcp_fp_t *fp)
{
    mptcp_pkt_t *pkt = fp->pkt;
    int ep = mptcp_pkt_ep(pkt);
    mptcp_sfdir_t *sd;

    DISSECTOR_ASSERT(!PINFO_FD_VISITED(fp->pinfo));
    if (!fp->c || ep < 0)
        return false;
    sd = &fp->sf->dir[mptcp_pkt_dir(pkt)];
    if (!dsn_fast(fp, sd, &fp->c->ep[ep], &fp->c->ep[1 - ep])) {
        dsn_general(fp, sd, &fp->c->ep[ep], &fp->c->ep[1 - ep]);
        fp->dsn64 = mptcp_pkt_dsn64(pkt);
        fp->ack64 = mptcp_pkt_ack64(pkt);
    }
    return true;
}
