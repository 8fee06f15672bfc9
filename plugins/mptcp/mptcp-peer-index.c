/* mptcp-peer-index.c
 * An index of one capture's TCP segments for the two-vantage-point analysis (issue 21): flows
 * (directed 4-tuples), MPTCP connections and subflows, the DSN of each data segment, and a
 * hash table from (flow, TCP seq, length, TSval, IPv4 id, flags) to the segments, so that a
 * segment of the other capture finds its copy in O(1). Built in one pass in frame order; time
 * and memory are linear in the number of segments (coverage sets and the DSS mappings a subflow
 * announced before its current one are balanced trees, the reinjection check looks at no more
 * than PEER_MAX_FLOWS subflows of a connection).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

#include <string.h>

#include "mptcp-peer.h"

#define PEER_MAX_FLOWS 64          /* directed flows of a connection checked for reinjections */

typedef struct {
    uint64_t lo, hi;               /* [lo, hi) of relative DSNs */
} cov_iv_t;

typedef struct {
    uint32_t ssn, len;             /* relative subflow sequence number, data-level length */
    uint64_t dsn;                  /* raw DSN of the mapping's first byte */
} map_iv_t;

typedef struct {
    uint8_t ipver, pad;
    uint16_t sport, dport;
    uint8_t src[16], dst[16];
} flow_key_t;

typedef struct {
    flow_key_t key;
    uint32_t reverse;              /* 1 + index of the opposite direction, 0 none yet */
    int conn, side;                /* -1: unknown */
    bool has_isn, has_map;
    bool has_sig;                  /* the subflow's signature (flow_set_sig()) is known */
    bool has_syn_sig;              /* the signature of its first SYN (ISN, TSval) */
    uint8_t sig_dir;               /* 0: this direction is the subflow's SYN sender's */
    uint64_t sig, syn_sig;
    uint32_t isn;
    uint64_t map_dsn;              /* raw DSN of the current mapping */
    uint32_t map_ssn, map_len;
    GTree *old_maps;               /* earlier mappings the current one does not continue: ssn -> map_iv_t */
    GTree *sent;                   /* relative DSNs this flow carried */
} flow_t;

typedef struct {
    bool has_key[2];
    uint64_t key[2], idsn[2];
    uint32_t token[2];
    int version;
    GTree *arrived[2];             /* relative DSNs seen at this capture point, per sending side */
    GArray *flows;                 /* uint32_t flow indexes */
} conn_t;

struct mptcp_peer_index {
    GArray *recs, *flows, *conns;
    GHashTable *flow_ht;           /* flow_key_t -> 1 + flow index */
    GHashTable *token_ht;          /* token -> 1 + conn index */
    GHashTable *sig_ht;            /* subflow signature, direction -> 1 + flow index */
    uint32_t *slots;               /* open addressing: 1 + record index of the first unmatched copy */
    size_t nslots;
    uint32_t *ts_slots;            /* (flow, TSval) of data segments -> 1 + first record index */
    size_t nts_slots;
    int64_t first_ns, last_ns;     /* time span of the capture */
    unsigned mptcp_segs;           /* segments with at least one MPTCP option */
};

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* ---------------------------------------------------------------------------- coverage sets */
static gint
cov_cmp(gconstpointer a, gconstpointer b, gpointer ud _U_)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static GTree *
cov_new(void)
{
    return g_tree_new_full(cov_cmp, NULL, g_free, NULL);
}

/* The interval with the largest lo <= x, or NULL. */
static cov_iv_t *
cov_floor(GTree *t, uint64_t x)
{
    GTreeNode *n = g_tree_upper_bound(t, &x);

    n = n ? g_tree_node_previous(n) : g_tree_node_last(t);
    return n ? (cov_iv_t *)g_tree_node_value(n) : NULL;
}

static bool
cov_covers(GTree *t, uint64_t lo, uint64_t hi)
{
    cov_iv_t *f = cov_floor(t, lo);
    return f && f->hi >= hi;       /* touching intervals are merged, so one must hold it all */
}

static bool
cov_overlaps(GTree *t, uint64_t lo, uint64_t hi)
{
    cov_iv_t *f = cov_floor(t, hi - 1);
    return f && f->hi > lo;
}

static void
cov_add(GTree *t, uint64_t lo, uint64_t hi)
{
    cov_iv_t *f, *n;

    while ((f = cov_floor(t, hi)) != NULL && f->hi >= lo) {
        lo = MIN(lo, f->lo);
        hi = MAX(hi, f->hi);
        g_tree_remove(t, f);       /* frees f (the key is the interval) */
    }
    n = g_new(cov_iv_t, 1);
    n->lo = lo;
    n->hi = hi;
    g_tree_insert(t, n, n);
}

/* ---------------------------------------------------------------------------- DSS mappings */
static gint
map_cmp(gconstpointer a, gconstpointer b, gpointer ud _U_)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A new mapping of the flow (RFC 8684 section 3.3.1). One that continues the current one (same
 * DSN - subflow sequence offset, starting inside it or where it ends) extends it; any other
 * becomes the current one and the old one is kept, so that a segment sent later under it (a
 * retransmission, which carries no mapping of its own) still gets its DSN. */
static void
flow_set_map(flow_t *f, uint64_t dsn, uint32_t ssn, uint32_t len)
{
    uint32_t off = ssn - f->map_ssn;
    map_iv_t *m;

    if (f->has_map && off <= f->map_len && dsn == f->map_dsn + off && (uint64_t)off + len <= UINT32_MAX) {
        f->map_len = MAX(f->map_len, off + len);
        return;
    }
    if (f->has_map && f->map_len) {
        m = g_new(map_iv_t, 1);
        m->ssn = f->map_ssn;
        m->len = f->map_len;
        m->dsn = f->map_dsn;
        if (!f->old_maps)
            f->old_maps = g_tree_new_full(map_cmp, NULL, NULL, g_free);
        g_tree_replace(f->old_maps, &m->ssn, m);   /* the key lives in the value: replace both */
    }
    f->has_map = true;
    f->map_dsn = dsn;
    f->map_ssn = ssn;
    f->map_len = len;
}

/* Raw DSN of relative subflow sequence number rel: through the current mapping, else a kept one
 * (the one starting last at or before rel, or one of the 3 before it where kept ones overlap). */
static bool
flow_dsn_of(const flow_t *f, uint32_t rel, uint64_t *dsn)
{
    GTreeNode *n;

    if (f->has_map && rel - f->map_ssn < f->map_len) {
        *dsn = f->map_dsn + (rel - f->map_ssn);
        return true;
    }
    if (!f->old_maps)
        return false;
    n = g_tree_upper_bound(f->old_maps, &rel);
    n = n ? g_tree_node_previous(n) : g_tree_node_last(f->old_maps);
    for (int i = 0; n && i < 4; i++, n = g_tree_node_previous(n)) {
        const map_iv_t *m = (const map_iv_t *)g_tree_node_value(n);
        if (rel - m->ssn < m->len) {
            *dsn = m->dsn + (rel - m->ssn);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------------------- flows, conns */
static void
flow_key_of(const mptcp_peer_seg_t *seg, bool reverse, flow_key_t *k)
{
    unsigned alen = seg->ipver == 6 ? 16 : 4;

    memset(k, 0, sizeof(*k));
    k->ipver = seg->ipver;
    k->sport = reverse ? seg->dport : seg->sport;
    k->dport = reverse ? seg->sport : seg->dport;
    memcpy(k->src, reverse ? seg->dst : seg->src, alen);
    memcpy(k->dst, reverse ? seg->src : seg->dst, alen);
}

static guint
flow_hash(gconstpointer p)
{
    const uint8_t *b = (const uint8_t *)p;
    guint h = 2166136261u;

    for (size_t i = 0; i < sizeof(flow_key_t); i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean
flow_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(flow_key_t)) == 0;
}

static flow_t *
flow_at(const mptcp_peer_index_t *idx, uint32_t i)
{
    return &g_array_index(idx->flows, flow_t, i);
}

static conn_t *
conn_at(const mptcp_peer_index_t *idx, int c)
{
    return &g_array_index(idx->conns, conn_t, c);
}

static void
flow_set_conn(mptcp_peer_index_t *idx, uint32_t fi, int c, int side)
{
    for (int k = 0; k < 2; k++) {
        flow_t *f = flow_at(idx, fi);
        if (f->conn < 0) {
            f->conn = c;
            f->side = side;
            if (!conn_at(idx, c)->flows)
                conn_at(idx, c)->flows = g_array_new(FALSE, FALSE, sizeof(uint32_t));
            g_array_append_val(conn_at(idx, c)->flows, fi);
        }
        if (!f->reverse)
            return;
        fi = f->reverse - 1;
        side = 1 - side;
    }
}

/* A subflow's signature survives address and port rewriting (NAT): the token and nonce of its
 * MP_JOIN SYN (RFC 8684 section 3.2), or the server's key of the MP_CAPABLE SYN/ACK (3.1). */
static void
flow_set_sig(mptcp_peer_index_t *idx, uint32_t fi, uint64_t sig, bool dir)
{
    flow_t *f = flow_at(idx, fi);
    uint64_t k = sig ^ (uint64_t)dir;          /* sig has its low bit clear */

    if (f->has_sig)
        return;
    f->has_sig = true;
    f->sig = sig;
    f->sig_dir = dir;
    if (!g_hash_table_contains(idx->sig_ht, &k))
        g_hash_table_insert(idx->sig_ht, g_memdup2(&k, sizeof(k)), GUINT_TO_POINTER(fi + 1));
    if (f->reverse && !flow_at(idx, f->reverse - 1)->has_sig)
        flow_set_sig(idx, f->reverse - 1, sig, !dir);
}

/* An MP_CAPABLE SYN comes before any key: its ISN and TSval (which NATs leave alone as a rule)
 * name the subflow until the SYN/ACK's key does. Every SYN is entered (retransmissions too). */
static void
flow_add_syn_sig(mptcp_peer_index_t *idx, uint32_t fi, const mptcp_peer_seg_t *seg)
{
    flow_t *f = flow_at(idx, fi);
    uint64_t k = (mix64((uint64_t)seg->seq << 32 | seg->tsval) | 1) ^ 0x2;    /* odd: no clash with sig */

    if (!f->has_syn_sig) {
        f->has_syn_sig = true;
        f->syn_sig = k;
    }
    if (!g_hash_table_contains(idx->sig_ht, &k))
        g_hash_table_insert(idx->sig_ht, g_memdup2(&k, sizeof(k)), GUINT_TO_POINTER(fi + 1));
}

static uint32_t
flow_get(mptcp_peer_index_t *idx, const mptcp_peer_seg_t *seg)
{
    flow_key_t k, rk;
    gpointer v;
    flow_t nf;
    uint32_t fi;

    flow_key_of(seg, false, &k);
    if ((v = g_hash_table_lookup(idx->flow_ht, &k)) != NULL)
        return GPOINTER_TO_UINT(v) - 1;
    memset(&nf, 0, sizeof(nf));
    nf.key = k;
    nf.conn = nf.side = -1;
    fi = idx->flows->len;
    g_array_append_val(idx->flows, nf);
    g_hash_table_insert(idx->flow_ht, g_memdup2(&k, sizeof(k)), GUINT_TO_POINTER(fi + 1));
    flow_key_of(seg, true, &rk);
    if ((v = g_hash_table_lookup(idx->flow_ht, &rk)) != NULL) {
        flow_t *r = flow_at(idx, GPOINTER_TO_UINT(v) - 1);
        r->reverse = fi + 1;
        flow_at(idx, fi)->reverse = GPOINTER_TO_UINT(v);
        if (r->conn >= 0)
            flow_set_conn(idx, fi, r->conn, 1 - r->side);
        if (r->has_sig)
            flow_set_sig(idx, fi, r->sig, !r->sig_dir);
    }
    return fi;
}

static int
conn_new(mptcp_peer_index_t *idx, int version)
{
    conn_t c;

    memset(&c, 0, sizeof(c));
    c.version = version;       /* flows and arrived[]: on first use (forged SYNs cost little) */
    g_array_append_val(idx->conns, c);
    return (int)idx->conns->len - 1;
}

/* RFC 8684 section 3.1: token and IDSN are derived from the key (SHA-256; SHA-1 for v0). */
static void
conn_set_key(mptcp_peer_index_t *idx, int ci, int side, uint64_t key)
{
    conn_t *c = conn_at(idx, ci);

    if (c->has_key[side])
        return;
    c->has_key[side] = true;
    c->key[side] = key;
    mptcp_key_to_token_idsn(c->version == 0 ? 0 : 1, key, &c->token[side], &c->idsn[side]);
    if (!g_hash_table_contains(idx->token_ht, GUINT_TO_POINTER(c->token[side])))
        g_hash_table_insert(idx->token_ht, GUINT_TO_POINTER(c->token[side]), GINT_TO_POINTER(ci + 1));
}

/* MP_CAPABLE (RFC 8684 section 3.1): the SYN opens a connection (its sender is side 0), the
 * SYN/ACK carries the server's key, the third ACK and the first data both keys. */
static void
seg_capable(mptcp_peer_index_t *idx, uint32_t fi, const mptcp_peer_seg_t *seg, const mptcp_opt_t *o)
{
    flow_t *f = flow_at(idx, fi);
    bool syn = seg->flags & 0x02, ack = seg->flags & 0x10;

    if (f->conn < 0) {
        if (syn && ack)
            flow_set_conn(idx, fi, conn_new(idx, o->u.cap.version), 1);
        else
            flow_set_conn(idx, fi, conn_new(idx, o->u.cap.version), 0);
        f = flow_at(idx, fi);
    }
    if (o->u.cap.has_sendkey)
        conn_set_key(idx, f->conn, f->side, o->u.cap.sendkey);
    if (o->u.cap.has_recvkey)
        conn_set_key(idx, f->conn, 1 - f->side, o->u.cap.recvkey);
    if (o->u.cap.has_dll && seg->len > 0 && conn_at(idx, f->conn)->has_key[f->side]) {
        /* data with MP_CAPABLE: implicit mapping from DSN IDSN + 1, subflow sequence 1 */
        flow_set_map(f, conn_at(idx, f->conn)->idsn[f->side] + 1, 1, o->u.cap.dll);
    }
}

/* 4-octet DSN (no m flag): the 64-bit value closest to ref with these low 32 bits. */
static uint64_t
expand32(uint32_t low, uint64_t ref)
{
    uint64_t v = (ref & ~(uint64_t)0xffffffff) | low;

    if (v + 0x80000000u < ref)
        v += (uint64_t)1 << 32;
    else if (v > ref + 0x80000000u && v >= ((uint64_t)1 << 32))
        v -= (uint64_t)1 << 32;
    return v;
}

static void
seg_options(mptcp_peer_index_t *idx, uint32_t fi, const mptcp_peer_seg_t *seg)
{
    for (unsigned i = 0; i < seg->nopts; i++) {
        const mptcp_opt_t *o = &seg->opts[i];
        flow_t *f = flow_at(idx, fi);
        gpointer v;

        if (o->subtype == MPTCP_SUB_CAPABLE && (seg->flags & 0x12) == 0x02)
            flow_add_syn_sig(idx, fi, seg);
        if (o->subtype == MPTCP_SUB_JOIN && o->u.join.kind == MPTCP_JOIN_SYN)
            flow_set_sig(idx, fi, mix64((uint64_t)o->u.join.token << 32 | o->u.join.nonce) & ~(uint64_t)1, false);
        if (o->subtype == MPTCP_SUB_CAPABLE && (seg->flags & 0x12) == 0x12 && o->u.cap.has_sendkey)
            flow_set_sig(idx, fi, mix64(o->u.cap.sendkey ^ 0x4d50u) & ~(uint64_t)1, true);
        if (o->subtype == MPTCP_SUB_CAPABLE) {
            seg_capable(idx, fi, seg, o);
        } else if (o->subtype == MPTCP_SUB_JOIN && o->u.join.kind == MPTCP_JOIN_SYN && f->conn < 0
                   && (v = g_hash_table_lookup(idx->token_ht, GUINT_TO_POINTER(o->u.join.token)))) {
            /* RFC 8684 section 3.2: the SYN carries the receiver's token */
            int ci = GPOINTER_TO_INT(v) - 1;
            conn_t *c = conn_at(idx, ci);
            int owner = c->has_key[0] && c->token[0] == o->u.join.token ? 0 : 1;
            flow_set_conn(idx, fi, ci, 1 - owner);
        } else if (o->subtype == MPTCP_SUB_DSS && o->u.dss.has_map && f->conn >= 0) {
            /* RFC 8684 section 3.3.1: DSN, relative subflow sequence number, data-level length */
            conn_t *c = conn_at(idx, f->conn);
            uint64_t ref = f->has_map ? f->map_dsn : c->idsn[f->side];
            flow_set_map(f, o->u.dss.dsn8 ? o->u.dss.dsn : expand32((uint32_t)o->u.dss.dsn, ref), o->u.dss.ssn,
                         o->u.dss.dll);
        }
    }
}

/* DSN of the segment's first byte, its reinjection and first-arrival flags. */
static void
seg_data(mptcp_peer_index_t *idx, uint32_t fi, const mptcp_peer_seg_t *seg, mptcp_peer_rec_t *r)
{
    flow_t *f = flow_at(idx, fi);
    conn_t *c;
    uint64_t dsn, lo, hi;
    unsigned n;

    if (seg->len == 0 || f->conn < 0 || !f->has_isn || !flow_dsn_of(f, seg->seq - f->isn, &dsn))
        return;
    c = conn_at(idx, f->conn);
    lo = dsn - (c->has_key[f->side] ? c->idsn[f->side] : 0);
    hi = lo + seg->len < lo ? UINT64_MAX : lo + seg->len;
    r->has_dsn = true;
    r->rdsn = lo;
    if (!c->arrived[f->side])
        c->arrived[f->side] = cov_new();
    r->first_arrival = !cov_covers(c->arrived[f->side], lo, hi);
    cov_add(c->arrived[f->side], lo, hi);
    n = c->flows->len;
    for (unsigned i = 0; i < n && i < PEER_MAX_FLOWS && !r->reinjection; i++) {
        flow_t *g = flow_at(idx, g_array_index(c->flows, uint32_t, i));
        if (g != f && g->side == f->side && g->sent && cov_overlaps(g->sent, lo, hi))
            r->reinjection = true;
    }
    if (!f->sent)
        f->sent = cov_new();
    cov_add(f->sent, lo, hi);
}

const mptcp_peer_rec_t *
mptcp_peer_index_add(mptcp_peer_index_t *idx, const mptcp_peer_seg_t *seg)
{
    uint32_t fi = flow_get(idx, seg);
    flow_t *f = flow_at(idx, fi);
    mptcp_peer_rec_t r;

    if ((seg->flags & 0x02) && !f->has_isn) {
        f->has_isn = true;
        f->isn = seg->seq;
    }
    seg_options(idx, fi, seg);
    idx->mptcp_segs += seg->nopts > 0;
    if (idx->recs->len == 0 || seg->ts_ns < idx->first_ns)
        idx->first_ns = seg->ts_ns;
    if (idx->recs->len == 0 || seg->ts_ns > idx->last_ns)
        idx->last_ns = seg->ts_ns;
    memset(&r, 0, sizeof(r));
    r.frame = seg->frame;
    r.flow = fi;
    r.seq = seg->seq;
    r.len = seg->len;
    r.tsval = seg->tsval;
    r.has_ts = seg->has_ts;
    r.ts_ns = seg->ts_ns;
    r.ipid = seg->ipid;
    r.flags = seg->flags;
    r.dir = (uint8_t)seg->dir;
    seg_data(idx, fi, seg, &r);
    g_array_append_val(idx->recs, r);
    return &g_array_index(idx->recs, mptcp_peer_rec_t, idx->recs->len - 1);
}

/* ---------------------------------------------------------------------------- match keys */
static uint64_t
key_hash(uint32_t flow, uint32_t seq, uint32_t len, uint32_t tsval, uint16_t ipid, uint16_t flags)
{
    return mix64(mix64(((uint64_t)flow << 32 | seq) ^ mix64((uint64_t)len << 32 | tsval))
                 ^ ((uint64_t)ipid << 16 | flags));
}

static bool
key_equal(const mptcp_peer_rec_t *a, uint32_t flow, uint32_t seq, uint32_t len, uint32_t tsval,
          uint16_t ipid, uint16_t flags)
{
    return a->flow == flow && a->seq == seq && a->len == len && a->tsval == tsval && a->ipid == ipid
           && a->flags == flags;
}

/* Slot of the key: the one holding an equal key, or the empty one where it would go. */
static size_t
slot_of(const mptcp_peer_index_t *idx, uint32_t flow, uint32_t seq, uint32_t len, uint32_t tsval,
        uint16_t ipid, uint16_t flags)
{
    size_t mask = idx->nslots - 1, s = key_hash(flow, seq, len, tsval, ipid, flags) & mask;

    while (idx->slots[s]) {
        const mptcp_peer_rec_t *r = &g_array_index(idx->recs, mptcp_peer_rec_t, idx->slots[s] - 1);
        if (key_equal(r, flow, seq, len, tsval, ipid, flags))
            return s;
        s = (s + 1) & mask;
    }
    return s;
}

/* Slot of (flow, TSval) in the table of data segments: holding it, or the empty one. */
static size_t
ts_slot_of(const mptcp_peer_index_t *idx, uint32_t flow, uint32_t tsval)
{
    size_t mask = idx->nts_slots - 1, s = mix64((uint64_t)flow << 32 | tsval) & mask;

    while (idx->ts_slots[s]) {
        const mptcp_peer_rec_t *r = &g_array_index(idx->recs, mptcp_peer_rec_t, idx->ts_slots[s] - 1);
        if (r->flow == flow && r->tsval == tsval)
            return s;
        s = (s + 1) & mask;
    }
    return s;
}

/** Buckets of a chained table of n records: a power of two, at least 2 n (and 16). */
static size_t
chain_slots(size_t n)
{
    size_t s = 16;

    while (s < 2 * n)
        s *= 2;
    return s;
}

static void
ts_table_build(mptcp_peer_index_t *idx)
{
    size_t n = idx->recs->len;

    idx->nts_slots = chain_slots(n);
    idx->ts_slots = g_new0(uint32_t, idx->nts_slots);
    for (size_t i = n; i-- > 0;) {     /* chains in frame order */
        mptcp_peer_rec_t *r = &g_array_index(idx->recs, mptcp_peer_rec_t, i);
        size_t s;
        if (!r->len)
            continue;
        s = ts_slot_of(idx, r->flow, r->tsval);
        r->next_ts = idx->ts_slots[s];
        idx->ts_slots[s] = (uint32_t)i + 1;
    }
}

unsigned
mptcp_peer_index_pieces(mptcp_peer_index_t *idx, uint32_t flow, const mptcp_peer_seg_t *seg,
                        const mptcp_peer_rec_t **out, unsigned max)
{
    uint32_t tsval = seg->has_ts ? seg->tsval : 0, next;
    unsigned n = 0, looked = 0;

    if (!idx->ts_slots || !seg->len)
        return 0;
    next = idx->ts_slots[ts_slot_of(idx, flow, tsval)];
    for (; next && n < max && looked < 256; looked++) {
        const mptcp_peer_rec_t *r = &g_array_index(idx->recs, mptcp_peer_rec_t, next - 1);
        next = r->next_ts;
        if (r->matched || (r->seq == seg->seq && r->len == seg->len))
            continue;              /* its own copy on this side, or another transmission of the
                                    * same range: not a piece of this one */
        if (r->seq - seg->seq < seg->len || seg->seq - r->seq < r->len)
            out[n++] = r;
    }
    return n;
}

void
mptcp_peer_index_finish(mptcp_peer_index_t *idx)
{
    size_t n = idx->recs->len;

    idx->nslots = chain_slots(n);
    idx->slots = g_new0(uint32_t, idx->nslots);
    /* from the last record to the first, so that each chain of equal keys is in frame order */
    for (size_t i = n; i-- > 0;) {
        mptcp_peer_rec_t *r = &g_array_index(idx->recs, mptcp_peer_rec_t, i);
        size_t s = slot_of(idx, r->flow, r->seq, r->len, r->tsval, r->ipid, r->flags);
        r->next_same = idx->slots[s];
        idx->slots[s] = (uint32_t)i + 1;
    }
    ts_table_build(idx);
}

uint32_t
mptcp_peer_index_flow_find(const mptcp_peer_index_t *idx, const mptcp_peer_seg_t *seg)
{
    flow_key_t k;

    flow_key_of(seg, false, &k);
    return GPOINTER_TO_UINT(g_hash_table_lookup(idx->flow_ht, &k));
}

mptcp_peer_rec_t *
mptcp_peer_index_take(mptcp_peer_index_t *idx, uint32_t flow, const mptcp_peer_seg_t *seg)
{
    size_t s;
    mptcp_peer_rec_t *r;

    if (!idx->slots)
        return NULL;
    s = slot_of(idx, flow, seg->seq, seg->len, seg->has_ts ? seg->tsval : 0, seg->ipid, seg->flags);
    if (!idx->slots[s])
        return NULL;
    r = &g_array_index(idx->recs, mptcp_peer_rec_t, idx->slots[s] - 1);
    if (r->matched)
        return NULL;               /* every copy with this key is taken */
    r->matched = true;
    if (r->next_same)
        idx->slots[s] = r->next_same;
    return r;
}

/* ---------------------------------------------------------------------------- lifetime */
mptcp_peer_index_t *
mptcp_peer_index_new(void)
{
    mptcp_peer_index_t *idx = g_new0(mptcp_peer_index_t, 1);

    idx->recs = g_array_new(FALSE, FALSE, sizeof(mptcp_peer_rec_t));
    idx->flows = g_array_new(FALSE, FALSE, sizeof(flow_t));
    idx->conns = g_array_new(FALSE, FALSE, sizeof(conn_t));
    idx->flow_ht = g_hash_table_new_full(flow_hash, flow_equal, g_free, NULL);
    idx->token_ht = g_hash_table_new(g_direct_hash, g_direct_equal);
    idx->sig_ht = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    return idx;
}

void
mptcp_peer_index_free(mptcp_peer_index_t *idx)
{
    if (!idx)
        return;
    for (unsigned i = 0; i < idx->flows->len; i++) {
        if (flow_at(idx, i)->sent)
            g_tree_destroy(flow_at(idx, i)->sent);
        if (flow_at(idx, i)->old_maps)
            g_tree_destroy(flow_at(idx, i)->old_maps);
    }
    for (unsigned i = 0; i < idx->conns->len; i++) {
        conn_t *c = conn_at(idx, (int)i);
        for (int s = 0; s < 2; s++)
            if (c->arrived[s])
                g_tree_destroy(c->arrived[s]);
        if (c->flows)
            g_array_free(c->flows, TRUE);
    }
    g_array_free(idx->recs, TRUE);
    g_array_free(idx->flows, TRUE);
    g_array_free(idx->conns, TRUE);
    g_hash_table_destroy(idx->flow_ht);
    g_hash_table_destroy(idx->token_ht);
    g_hash_table_destroy(idx->sig_ht);
    g_free(idx->slots);
    g_free(idx->ts_slots);
    g_free(idx);
}

unsigned
mptcp_peer_index_count(const mptcp_peer_index_t *idx)
{
    return idx->recs->len;
}

unsigned
mptcp_peer_index_mptcp_segments(const mptcp_peer_index_t *idx)
{
    return idx->mptcp_segs;
}

unsigned
mptcp_peer_index_connections(const mptcp_peer_index_t *idx)
{
    return idx->conns->len;
}

int
mptcp_peer_index_conn_of(const mptcp_peer_index_t *idx, const mptcp_peer_rec_t *rec)
{
    return flow_at(idx, rec->flow)->conn;
}

int
mptcp_peer_index_side_of(const mptcp_peer_index_t *idx, const mptcp_peer_rec_t *rec)
{
    return flow_at(idx, rec->flow)->side;
}

uint32_t
mptcp_peer_index_flow_by_sig(const mptcp_peer_index_t *idx, const mptcp_peer_index_t *other, uint32_t other_flow)
{
    const flow_t *of = flow_at(other, other_flow);
    uint64_t k;
    uint32_t r = 0;

    if (of->has_sig) {
        k = of->sig ^ (uint64_t)of->sig_dir;
        r = GPOINTER_TO_UINT(g_hash_table_lookup(idx->sig_ht, &k));
    }
    if (!r && of->has_syn_sig)
        r = GPOINTER_TO_UINT(g_hash_table_lookup(idx->sig_ht, &of->syn_sig));
    return r;
}

void
mptcp_peer_index_span(const mptcp_peer_index_t *idx, int64_t *first_ns, int64_t *last_ns)
{
    *first_ns = idx->first_ns;
    *last_ns = idx->last_ns;
}

uint32_t
mptcp_peer_index_reverse(const mptcp_peer_index_t *idx, uint32_t flow)
{
    return flow_at(idx, flow)->reverse;
}

void
mptcp_peer_index_tokens(const mptcp_peer_index_t *idx, unsigned conn, uint32_t tok[2])
{
    const conn_t *c = conn_at(idx, (int)conn);

    tok[0] = c->has_key[0] ? c->token[0] : 0;
    tok[1] = c->has_key[1] ? c->token[1] : 0;
}
