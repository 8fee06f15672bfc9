/* mptcp-conn.c
 * Connection tracking (first pass only): subflows by TCP 4-tuple, MPTCP connections by key
 * pair, tokens, MP_JOIN linking by token ownership, handshake checks, inferred grouping for
 * captures that miss the handshake.
 *
 * RFC 8684 section 3.1 (MP_CAPABLE), 3.2 (MP_JOIN), 3.4 (ADD_ADDR / REMOVE_ADDR),
 * 3.5 (MP_FASTCLOSE), 3.7 (fallback).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"

#include <epan/dissectors/packet-tcp.h>

static mptcp_htab_t subflows_by_tuple; /**< tuple_hash() -> the ref of the latest subflow on its tuple */
/* the map's answers for recently seen 4-tuples, by port bits: comparing a subflow's tuple is
 * cheaper than hashing two addresses per packet; emptied whenever the map changes */
#define SF_CACHE_SIZE 16
static mptcp_subflow_t *sf_cache[SF_CACHE_SIZE];
/* token -> (1 + the stream of the connection that registered it) << 1, or, once two did,
 * (its index in token_lists) << 1 | TOKEN_LIST: a wmem_array_t of the connections in
 * registration order; no array for the usual lone owner */
#define TOKEN_LIST UINT32_C(1)
static mptcp_htab_t conns_by_token;
static wmem_array_t *token_lists;      /**< wmem_array_t * of mptcp_conn_t *, by index */
static wmem_map_t *orphan_tokens;      /**< JOIN token of no captured handshake -> inferred mptcp_conn_t * */
static wmem_array_t *all_conns;        /**< mptcp_conn_t *, by stream */
static uint32_t next_stream;
/* The truncated HMAC expected on an MP_JOIN SYN/ACK is the one it carries when it checks out:
 * kept (mptcp_pkt_t * -> uint64_t *) only for the packets where it is not, or that carry more
 * than one MP_JOIN, instead of in a rare part for the SYN/ACK of every joined subflow. */
static wmem_map_t *join_exps;
/* mptcp_endpoint_t * -> mptcp_syn_data_t *: the endpoints whose SYN had data (TCP Fast Open) */
static wmem_map_t *syn_datas;
/* first pass, by (stream << 1 | endpoint) + 1: address id -> mptcp_addr_t announced by the
 * endpoint (a wmem_map_t each); most connections announce none */
static wmem_map_t *ep_addrs;
/* first pass, by subflow ref: the results (mptcp_pkt_t *, a wmem_array_t) analysed before the
 * subflow had a connection, filled in when it gets one (most subflows have one from the start) */
static wmem_map_t *orphans;
static mptcp_slab_t conn_slab;        /**< connections, subflows, the other modules' per-connection state */

/** Is address i of sf's 4-tuple a (addresses_equal())? The IPv4 and IPv6 lengths are compared
 * inline (no memcmp call): it runs for every segment (the subflow lookup). */
static inline bool
sf_addr_is(const mptcp_subflow_t *sf, int i, const address *a)
{
    const uint8_t *bytes = (const uint8_t *)(sf + 1) + (i ? sf->t.len[0] : 0);

    if (sf->t.type[i] != a->type || sf->t.len[i] != (uint32_t)a->len)
        return false;
    if (a->len == 4)
        return memcmp(bytes, a->data, 4) == 0;
    if (a->len == 16)
        return memcmp(bytes, a->data, 16) == 0;
    return a->len == 0 || memcmp(bytes, a->data, (size_t)a->len) == 0;
}

/** tuple_dir() for any address type. */
static MPTCP_NOINLINE int
tuple_dir_any(const mptcp_subflow_t *sf, const address *src, uint16_t sport, const address *dst, uint16_t dport)
{
    for (int d = 0; d < 2; d++) {
        if (sf->t.port[d] == sport && sf->t.port[1 - d] == dport && sf_addr_is(sf, d, src) &&
            sf_addr_is(sf, 1 - d, dst))
            return d;
    }
    return -1;
}

/** Direction of the 4-tuple (src, dst) on sf (0 = from its address 0), or -1 if it is not sf's. */
static inline int
tuple_dir(const mptcp_subflow_t *sf, const address *src, uint16_t sport, const address *dst, uint16_t dport)
{
    uint32_t a[2], s, t;

    /* IPv4 both ends (the usual; an AT_IPv4 address is 4 bytes): words instead of the generic
     * compare, which runs for every segment (the subflow lookup) */
    if (src->type != AT_IPv4 || dst->type != AT_IPv4 || sf->t.type[0] != AT_IPv4 || sf->t.type[1] != AT_IPv4)
        return tuple_dir_any(sf, src, sport, dst, dport);
    memcpy(a, sf + 1, 8);
    memcpy(&s, src->data, 4);
    memcpy(&t, dst->data, 4);
    if (sf->t.port[0] == sport && sf->t.port[1] == dport && a[0] == s && a[1] == t)
        return 0;
    return sf->t.port[1] == sport && sf->t.port[0] == dport && a[1] == s && a[0] == t ? 1 : -1;
}

/* the subflow table: either direction of a 4-tuple finds its subflow (symmetric hash) */
static uint32_t
tuple_hash(const address *a, uint16_t pa, const address *b, uint16_t pb)
{
    return add_address_to_hash(pa, a) + add_address_to_hash(pb, b);
}

void
mptcp_conn_init(void)
{
    memset(&subflows_by_tuple, 0, sizeof(subflows_by_tuple));  /* its arrays went with the file */
    memset(sf_cache, 0, sizeof(sf_cache));
    memset(&conns_by_token, 0, sizeof(conns_by_token));
    orphan_tokens = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    token_lists = NULL;        /* file scope, made when first needed */
    ep_addrs = NULL;
    orphans = NULL;
    all_conns = wmem_array_new(wmem_file_scope(), sizeof(mptcp_conn_t *));
    next_stream = 0;
    join_exps = NULL;          /* file scope, made when first needed */
    syn_datas = NULL;          /* file scope, made when first needed */
    memset(&conn_slab, 0, sizeof(conn_slab));
}

void
mptcp_conn_cleanup(void)
{
    for (uint32_t i = 0; i < mptcp_conn_count(); i++) {
        mptcp_conn_t *c = mptcp_conn_by_stream(i);

        mptcp_sent_free(&c->ep[0].sent);
        mptcp_sent_free(&c->ep[1].sent);
        for (uint32_t k = 0; k < c->nsubflows; k++) {     /* a subflow with mappings is linked */
            mptcp_maps_free(&c->subflows[k]->dir[0].maps);
            mptcp_maps_free(&c->subflows[k]->dir[1].maps);
        }
    }
    all_conns = NULL;          /* the file scope goes next */
    ep_addrs = orphans = NULL;
    memset(&subflows_by_tuple, 0, sizeof(subflows_by_tuple));
    memset(&conns_by_token, 0, sizeof(conns_by_token));
    memset(sf_cache, 0, sizeof(sf_cache));
    memset(&conn_slab, 0, sizeof(conn_slab));
}

void *
mptcp_conn_alloc0(size_t size)
{
    return mptcp_slab_alloc0(&conn_slab, wmem_file_scope(), size);
}

bool
mptcp_conn_any(void)
{
    return subflows_by_tuple.n > 0;
}

mptcp_conn_t *
mptcp_conn_by_stream(uint32_t stream)
{
    if (!all_conns || stream >= wmem_array_get_count(all_conns))
        return NULL;
    return *(mptcp_conn_t **)wmem_array_index(all_conns, stream);
}

uint32_t
mptcp_conn_count(void)
{
    return all_conns ? wmem_array_get_count(all_conns) : 0;
}

const mptcp_subflow_t *
mptcp_conn_first_subflow(const mptcp_conn_t *c)
{
    return c->subflows[0];
}

void
mptcp_subflow_ends(const mptcp_subflow_t *sf, address addr[2], uint16_t port[2])
{
    int cd = sf->client_dir;

    mptcp_subflow_addr(sf, cd, &addr[0]);
    port[0] = sf->t.port[cd];
    mptcp_subflow_addr(sf, 1 - cd, &addr[1]);
    port[1] = sf->t.port[1 - cd];
}

void
mptcp_conn_ends(const mptcp_conn_t *c, address addr[2], uint16_t port[2])
{
    mptcp_subflow_ends(mptcp_conn_first_subflow(c), addr, port);
}

static unsigned
sf_cache_slot(const mptcp_seg_t *seg)
{
    unsigned p = (unsigned)(seg->sport ^ seg->dport);

    return (p ^ (p >> 4) ^ (p >> 8)) % SF_CACHE_SIZE;
}

/** Direction of seg on sf (0 = from addr[0]), or -1 if seg is not on sf's 4-tuple. */
static int
sf_tuple_dir(const mptcp_subflow_t *sf, const mptcp_seg_t *seg)
{
    return tuple_dir(sf, &seg->src, seg->sport, &seg->dst, seg->dport);
}

/** mptcp_subflow_lookup() past the cache: the table, whose answer the cache keeps in slot. */
static MPTCP_NOINLINE mptcp_subflow_t *
subflow_lookup_table(const mptcp_seg_t *seg, unsigned slot, int *dir)
{
    mptcp_subflow_t *sf;
    unsigned i = UINT_MAX;
    uint32_t h = tuple_hash(&seg->src, seg->sport, &seg->dst, seg->dport), *v;
    int d;

    while ((v = mptcp_htab_next(&subflows_by_tuple, h, &i)) != NULL) {
        sf = mptcp_pkt_sfs[*v - 1];
        if ((d = sf_tuple_dir(sf, seg)) >= 0) {
            sf_cache[slot] = sf;
            if (dir)
                *dir = d;
            return sf;
        }
    }
    return NULL;
}

/** mptcp_subflow_lookup(), inline where it runs for every segment (mptcp_conn_update()). */
static inline mptcp_subflow_t *
subflow_find(const mptcp_seg_t *seg, int *dir)
{
    unsigned slot = sf_cache_slot(seg);
    mptcp_subflow_t *sf = sf_cache[slot];
    int d;

    if (sf && (d = sf_tuple_dir(sf, seg)) >= 0) {
        if (dir)
            *dir = d;
        return sf;
    }
    return subflow_lookup_table(seg, slot, dir);
}

mptcp_subflow_t *
mptcp_subflow_lookup(const mptcp_seg_t *seg, int *dir)
{
    return subflow_find(seg, dir);
}

/** Makes sf the subflow of its 4-tuple in the table (replacing an earlier one on it). */
static void
subflow_index(mptcp_subflow_t *sf)
{
    address a[2];
    uint32_t h, *v;
    unsigned i = UINT_MAX;

    mptcp_subflow_addr(sf, 0, &a[0]);
    mptcp_subflow_addr(sf, 1, &a[1]);
    h = tuple_hash(&a[0], sf->t.port[0], &a[1], sf->t.port[1]);
    while ((v = mptcp_htab_next(&subflows_by_tuple, h, &i)) != NULL) {
        if (tuple_dir(mptcp_pkt_sfs[*v - 1], &a[0], sf->t.port[0], &a[1], sf->t.port[1]) >= 0) {
            *v = sf->ref;
            return;
        }
    }
    mptcp_htab_add(&subflows_by_tuple, wmem_file_scope(), h, sf->ref);
}

/** A new subflow on the segment's 4-tuple, whose source is end 0 if src_is_initiator. */
static mptcp_subflow_t *
subflow_new(const mptcp_seg_t *seg, bool src_is_initiator)
{
    size_t alen = (size_t)MAX(seg->src.len, 0) + (size_t)MAX(seg->dst.len, 0);
    mptcp_subflow_t *sf = (mptcp_subflow_t *)mptcp_conn_alloc0(sizeof(mptcp_subflow_t) + alen);
    const address *end[2];
    uint8_t *bytes = (uint8_t *)(sf + 1);
    int i = src_is_initiator ? 0 : 1;

    end[i] = &seg->src;
    end[1 - i] = &seg->dst;
    for (int k = 0; k < 2; k++) {
        sf->t.type[k] = (uint8_t)end[k]->type;
        sf->t.len[k] = (uint32_t)MAX(end[k]->len, 0);
        if (sf->t.len[k])
            memcpy(bytes, end[k]->data, sf->t.len[k]);
        bytes += sf->t.len[k];
    }
    sf->t.port[i] = seg->sport;
    sf->t.port[1 - i] = seg->dport;
    sf->client_dir = 0;
    sf->ref = mptcp_pkt_sf_add(sf);
    subflow_index(sf);
    memset(sf_cache, 0, sizeof(sf_cache));
    return sf;
}

static mptcp_conn_t *
conn_new(packet_info *pinfo, int version)
{
    mptcp_conn_t *c = (mptcp_conn_t *)mptcp_conn_alloc0(sizeof(mptcp_conn_t));

    c->stream = next_stream++;
    c->version = (int8_t)version;
    c->first_frame = pinfo->num;
    wmem_array_append_one(all_conns, c);
    return c;
}

/** Attach sf to c; the subflow direction client_dir carries data sent by the client. */
static int sender_ep(const mptcp_subflow_t *sf, int dir);

/* A subflow linked late (e.g. an MP_JOIN third ACK whose SYN was not captured: HMAC only, no
 * token) leaves its earlier packets without a connection on the first pass; what is learnt
 * now fills their stored results, so that -2 and the GUI show them. */
static void
adopt_orphans(mptcp_conn_t *c, mptcp_subflow_t *sf)
{
    wmem_array_t *arr = orphans ? (wmem_array_t *)wmem_map_remove(orphans, GUINT_TO_POINTER(sf->ref)) : NULL;

    guint n = arr ? wmem_array_get_count(arr) : 0;

    for (guint i = 0; i < n; i++) {
        mptcp_pkt_t *p = *(mptcp_pkt_t **)wmem_array_index(arr, i);

        mptcp_pkt_set_flag2(p, MPTCP_PF_EP_SHIFT, sender_ep(sf, mptcp_pkt_dir(p)));
    }
    /* every earlier result of the subflow is an orphan: its entries of the subflow's log */
    if (n)
        mptcp_pkt_adopt_version(sf->ref, (*(mptcp_pkt_t **)wmem_array_index(arr, n - 1))->frame, c->version);
}                              /* the array is file scope: freed with the file */

/** Keeps pkt, analysed while its subflow sf has no connection, for adopt_orphans(). */
static void
orphan_add(const mptcp_subflow_t *sf, mptcp_pkt_t *pkt)
{
    wmem_array_t *arr;

    if (!orphans)
        orphans = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    arr = (wmem_array_t *)wmem_map_lookup(orphans, GUINT_TO_POINTER(sf->ref));
    if (!arr) {
        arr = wmem_array_new(wmem_file_scope(), sizeof(mptcp_pkt_t *));
        wmem_map_insert(orphans, GUINT_TO_POINTER(sf->ref), arr);
    }
    wmem_array_append_one(arr, pkt);
}

static void
conn_attach(mptcp_conn_t *c, mptcp_subflow_t *sf, int client_dir)
{
    if (sf->conn == c)
        return;
    sf->conn = c;
    sf->client_dir = (uint8_t)client_dir;
    sf->index = c->nsubflows;
    c->subflows = (mptcp_subflow_t **)mptcp_grow(wmem_file_scope(), c->subflows, &c->subflows_cap,
                                                 c->nsubflows + 1, sizeof(mptcp_subflow_t *));
    c->subflows[c->nsubflows++] = sf;
    adopt_orphans(c, sf);
}

static void
token_register(mptcp_conn_t *c, int ep)
{
    uint32_t tok = c->ep[ep].token;
    unsigned i = UINT_MAX;
    uint32_t *v = mptcp_htab_next(&conns_by_token, tok, &i);   /* one slot per token */
    wmem_array_t *arr;

    if (!v) {
        mptcp_htab_add(&conns_by_token, wmem_file_scope(), tok, (c->stream + 1) << 1);
        return;
    }
    if (*v & TOKEN_LIST) {
        arr = *(wmem_array_t **)wmem_array_index(token_lists, *v >> 1);
    } else {
        mptcp_conn_t *first = mptcp_conn_by_stream((*v >> 1) - 1);

        if (!token_lists)
            token_lists = wmem_array_new(wmem_file_scope(), sizeof(wmem_array_t *));
        arr = wmem_array_new(wmem_file_scope(), sizeof(mptcp_conn_t *));
        wmem_array_append_one(arr, first);
        *v = wmem_array_get_count(token_lists) << 1 | TOKEN_LIST;
        wmem_array_append_one(token_lists, arr);
    }
    wmem_array_append_one(arr, c);
}

/** The connections that registered token, in registration order: *n of them. */
static mptcp_conn_t *const *
token_owners(uint32_t token, guint *n)
{
    unsigned i = UINT_MAX;
    uint32_t *v = mptcp_htab_next(&conns_by_token, token, &i);
    wmem_array_t *arr;

    if (!v) {
        *n = 0;
        return NULL;
    }
    if (!(*v & TOKEN_LIST)) {  /* the lone owner, in the table of all connections */
        *n = 1;
        return (mptcp_conn_t *const *)wmem_array_index(all_conns, (*v >> 1) - 1);
    }
    arr = *(wmem_array_t **)wmem_array_index(token_lists, *v >> 1);
    *n = wmem_array_get_count(arr);
    return (mptcp_conn_t *const *)wmem_array_get_raw(arr);
}

/** A direction's backup priority (JOIN B flag, MP_PRIO); backup_any is what every packet reads. */
static void
set_backup(mptcp_subflow_t *sf, int d, bool backup)
{
    sf->dir[d].backup = backup;
    sf->backup_any = sf->dir[0].backup || sf->dir[1].backup;
}

/** Record an endpoint's key (once); keys never change a connection's identity. */
static void
endpoint_set_key(mptcp_conn_t *c, int ep, uint64_t key)
{
    mptcp_endpoint_t *e = &c->ep[ep];

    if (e->key_known)
        return;
    e->key_known = true;
    c->keys_known |= (uint8_t)(1u << ep);
    e->key = key;
    mptcp_key_to_token_idsn(c->version < 0 ? 1 : c->version, key, &e->token, &e->idsn);
    token_register(c, ep);
}

/* RFC 8684 section 3.2: the MP_JOIN SYN carries the token of its *receiver*. Among the
 * connections whose endpoint owns that token, prefer one whose addresses match the
 * subflow, then the most recent one (token reuse over time). Returns the receiver's
 * endpoint index in *ep_out. */
static mptcp_conn_t *
conn_by_token(uint32_t token, const mptcp_seg_t *seg, int *ep_out)
{
    guint n;
    mptcp_conn_t *const *owners = token_owners(token, &n);
    mptcp_conn_t *best = NULL;
    int best_ep = 0, best_score = -1;

    for (guint i = 0; i < n; i++) {
        mptcp_conn_t *c = owners[i];
        for (int ep = 0; ep < 2; ep++) {
            int score = 0;

            if (!c->ep[ep].key_known || c->ep[ep].token != token)
                continue;
            if (c->master) {
                mptcp_subflow_t *m = c->master;
                int srv_side = m->client_dir == 0 ? 1 : 0;   /* subflow side of endpoint 1 */
                if (sf_addr_is(m, ep == 1 ? srv_side : 1 - srv_side, &seg->dst))
                    score = 2;
            }
            if (score >= best_score) {   /* later connections win ties */
                best = c;
                best_ep = ep;
                best_score = score;
            }
        }
    }
    *ep_out = best_ep;
    return best;
}

/** Endpoint (0 client, 1 server) that sends in subflow direction dir. */
static int
sender_ep(const mptcp_subflow_t *sf, int dir)
{
    return dir == sf->client_dir ? 0 : 1;
}

/* {{{ MP_CAPABLE */
static void
handle_capable(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_subflow_t *sf, int d, const mptcp_opt_t *o,
               mptcp_pkt_t *pkt)
{
    bool syn = seg->flags & TH_SYN, ack = seg->flags & TH_ACK;
    mptcp_conn_t *c = sf->conn;
    int ep;

    if (!c) {
        /* The MP_CAPABLE SYN (or, when it is missing, the SYN/ACK or third ACK) opens the
         * connection; the client is the SYN sender, which also sends the third ACK. */
        c = conn_new(pinfo, o->u.cap.version);
        if (syn && ack)
            conn_attach(c, sf, 1 - d);
        else
            conn_attach(c, sf, d);
        c->master = sf;
    }
    if (syn && ack && o->u.cap.version < c->version)
        c->version = (int8_t)o->u.cap.version;   /* RFC 8684 section 3.1: the server may downgrade */
    if (o->flags & MPTCP_CAP_A)
        c->csum = true;
    ep = sender_ep(sf, d);
    if (o->u.cap.has_sendkey)
        endpoint_set_key(c, ep, o->u.cap.sendkey);
    if (o->u.cap.has_recvkey) {
        mptcp_endpoint_t *peer = &c->ep[1 - ep];
        if (peer->key_known && peer->key != o->u.cap.recvkey)
            mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_ECHO_MISMATCH;
        else
            endpoint_set_key(c, 1 - ep, o->u.cap.recvkey);
    }
}
/* }}} */

/* {{{ MP_JOIN */
/** Records the expected HMAC of an MP_JOIN SYN/ACK that carries another one (or whose packet had
 * an MP_JOIN checked already: the last one computed is shown for each). */
static void
join_exp_note(const mptcp_pkt_t *pkt, uint64_t exp, uint64_t carried)
{
    bool again = (pkt->flags & (MPTCP_PF_JOIN_HMAC_OK | MPTCP_PF_JOIN_HMAC_BAD)) != 0;
    uint64_t *v;

    if (exp == carried && !again)
        return;
    v = join_exps ? (uint64_t *)wmem_map_lookup(join_exps, pkt) : NULL;
    if (!v)
        v = (uint64_t *)mptcp_side_new(wmem_file_scope(), &join_exps, pkt, sizeof(uint64_t));
    *v = exp;
}

const mptcp_syn_data_t *
mptcp_ep_syn_data(const mptcp_endpoint_t *e)
{
    return e->syn_data ? (const mptcp_syn_data_t *)wmem_map_lookup(syn_datas, e) : NULL;
}

mptcp_syn_data_t *
mptcp_ep_syn_data_new(mptcp_endpoint_t *e)
{
    e->syn_data = true;
    return (mptcp_syn_data_t *)mptcp_side_new(wmem_file_scope(), &syn_datas, e, sizeof(mptcp_syn_data_t));
}

uint64_t
mptcp_conn_join_expected(const mptcp_pkt_t *pkt, uint64_t carried)
{
    const uint64_t *v = join_exps ? (const uint64_t *)wmem_map_lookup(join_exps, pkt) : NULL;

    return v ? *v : carried;
}

static void
handle_join(packet_info *pkt_pinfo, const mptcp_seg_t *seg, mptcp_subflow_t *sf, int d, const mptcp_opt_t *o,
            mptcp_pkt_t *pkt)
{
    mptcp_conn_t *c;

    sf->is_join = true;
    switch (o->u.join.kind) {
    case MPTCP_JOIN_SYN: {
        int recv_ep;

        sf->dir[d].nonce = o->u.join.nonce;
        sf->dir[d].addr_id = o->u.join.addr_id;
        sf->addr_ids_known |= (uint8_t)(1u << d);
        set_backup(sf, d, o->u.join.backup);
        c = conn_by_token(o->u.join.token, seg, &recv_ep);
        if (!c)
            pkt->flags |= MPTCP_PF_UNKNOWN_TOKEN;   /* also on every retransmitted SYN */
        if (sf->conn)
            break;
        if (!c) {
            /* The handshake of the connection that owns this token is not in the capture. The
             * token still names one connection at its receiver (RFC 8684 section 3.2), so all
             * joins carrying it belong together: an inferred connection, the receiver being
             * endpoint 1. */
            c = (mptcp_conn_t *)wmem_map_lookup(orphan_tokens, GUINT_TO_POINTER(o->u.join.token));
            if (!c) {
                c = conn_new(pkt_pinfo, -1);
                c->inferred = true;
                c->ep[1].token = o->u.join.token;
                wmem_map_insert(orphan_tokens, GUINT_TO_POINTER(o->u.join.token), c);
            }
            recv_ep = 1;
        }
        /* the SYN sender is the other endpoint */
        conn_attach(c, sf, (1 - recv_ep) == 0 ? d : 1 - d);
        break;
    }
    case MPTCP_JOIN_SYNACK:
        sf->dir[d].nonce = o->u.join.nonce;
        sf->dir[d].addr_id = o->u.join.addr_id;
        sf->addr_ids_known |= (uint8_t)(1u << d);
        set_backup(sf, d, o->u.join.backup);
        c = sf->conn;
        if (c && c->ep[0].key_known && c->ep[1].key_known) {
            int b = sender_ep(sf, d);       /* B answers the SYN */
            uint64_t exp = mptcp_join_synack_hmac(c->version, c->ep[b].key, c->ep[1 - b].key,
                                                  o->u.join.nonce, sf->dir[1 - d].nonce);
            join_exp_note(pkt, exp, o->u.join.trunc_hmac);
            pkt->flags |= exp == o->u.join.trunc_hmac ? MPTCP_PF_JOIN_HMAC_OK : MPTCP_PF_JOIN_HMAC_BAD;
        }
        break;
    case MPTCP_JOIN_ACK:
        c = sf->conn;
        if (c && c->ep[0].key_known && c->ep[1].key_known) {
            int a = sender_ep(sf, d);       /* A sent the SYN and sends this ACK */
            uint8_t exp[20];
            mptcp_join_ack_hmac(c->version, c->ep[a].key, c->ep[1 - a].key, sf->dir[d].nonce,
                                sf->dir[1 - d].nonce, exp);
            pkt->flags |= memcmp(exp, o->u.join.hmac, 20) == 0 ? MPTCP_PF_JOIN_HMAC_OK : MPTCP_PF_JOIN_HMAC_BAD;
        }
        break;
    }
}
/* }}} */

/* {{{ addresses, priority, close */
/** The addresses endpoint ep of c announced (address id -> mptcp_addr_t); NULL if none yet and
 * not create. */
static wmem_map_t *
ep_addr_map(const mptcp_conn_t *c, int ep, bool create)
{
    void *key = GUINT_TO_POINTER((c->stream << 1 | (uint32_t)ep) + 1);
    wmem_map_t *m = ep_addrs ? (wmem_map_t *)wmem_map_lookup(ep_addrs, key) : NULL;

    if (!m && create) {
        if (!ep_addrs)
            ep_addrs = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
        m = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
        wmem_map_insert(ep_addrs, key, m);
    }
    return m;
}

static void
handle_add_addr(packet_info *pinfo, mptcp_subflow_t *sf, int d, const mptcp_opt_t *o, mptcp_pkt_t *pkt)
{
    mptcp_conn_t *c = sf->conn;
    mptcp_endpoint_t *e;
    mptcp_addr_t *a;
    wmem_map_t *addrs;
    int ep;

    if (!c || o->u.add.echo)
        return;
    ep = sender_ep(sf, d);
    e = &c->ep[ep];
    if (o->u.add.has_hmac && c->ep[0].key_known && c->ep[1].key_known) {
        uint64_t exp = mptcp_add_addr_hmac(e->key, c->ep[1 - ep].key, o->u.add.addr_id, o->u.add.addr,
                                           o->u.add.ipv6 ? 16 : 4, o->u.add.has_port, o->u.add.port);
        mptcp_pkt_ext(pkt)->add_expected_hmac = exp;
        if (exp == o->u.add.hmac)
            pkt->flags |= MPTCP_PF_ADD_HMAC_OK;
        else
            mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_ADD_HMAC_BAD;
    }
    addrs = ep_addr_map(c, ep, true);
    /* RFC 8684 section 3.4.1: an address id identifies one address until it is removed */
    a = (mptcp_addr_t *)wmem_map_lookup(addrs, GUINT_TO_POINTER(o->u.add.addr_id));
    if (a && !a->removed && (a->addr.len != (o->u.add.ipv6 ? 16 : 4) ||
                             memcmp(a->addr.data, o->u.add.addr, a->addr.len) != 0 || a->port != o->u.add.port))
        mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_ADDR_ID_REUSED;
    a = wmem_new0(wmem_file_scope(), mptcp_addr_t);
    alloc_address_wmem(wmem_file_scope(), &a->addr, o->u.add.ipv6 ? AT_IPv6 : AT_IPv4,
                       o->u.add.ipv6 ? 16 : 4, o->u.add.addr);
    a->port = o->u.add.port;
    a->frame = pinfo->num;
    wmem_map_insert(addrs, GUINT_TO_POINTER(o->u.add.addr_id), a);
}

static void
handle_rm_addr(const mptcp_seg_t *seg, mptcp_subflow_t *sf, int d, unsigned optoff, const mptcp_opt_t *o,
               mptcp_pkt_t *pkt)
{
    mptcp_conn_t *c = sf->conn;
    wmem_map_t *addrs;

    if (!c)
        return;
    addrs = ep_addr_map(c, sender_ep(sf, d), false);
    for (unsigned i = 0; i < o->u.rm.count && addrs; i++) {
        uint8_t id = mptcp_tvb_u8(seg->tvb, optoff + 3 + i);
        mptcp_addr_t *a = (mptcp_addr_t *)wmem_map_lookup(addrs, GUINT_TO_POINTER(id));
        if (a) {
            a->removed = true;
            mptcp_pkt_ext_t *x = mptcp_pkt_ext(pkt);
            if (!x->rm_addrs)
                x->rm_addrs = wmem_array_new(wmem_file_scope(), sizeof(mptcp_addr_t *));
            wmem_array_append_one(x->rm_addrs, a);
        }
    }
}

/* RFC 8684 section 3.5: MP_FASTCLOSE carries the key of the option's receiver. */
static void
handle_fastclose(mptcp_subflow_t *sf, int d, const mptcp_opt_t *o, mptcp_pkt_t *pkt)
{
    mptcp_conn_t *c = sf->conn;
    mptcp_endpoint_t *peer;

    if (!c)
        return;
    peer = &c->ep[1 - sender_ep(sf, d)];
    if (peer->key_known && peer->key != o->u.fastclose.key)
        mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_FASTCLOSE_BAD;
}
/* }}} */

/* {{{ inferred grouping (no keys in the capture) */

/* RFC 8684 section 3.3: each direction's 64-bit data sequence space starts at a random
 * IDSN, so the DSNs and DATA_ACKs of all subflows of one connection lie close together,
 * and far (~2^63 on average) from any other connection's. */
#define MPTCP_INFER_WINDOW (UINT64_C(1) << 32)

static bool
near64(uint64_t a, uint64_t b)
{
    uint64_t diff = a > b ? a - b : b - a;
    return diff < MPTCP_INFER_WINDOW;
}

/** Is v (64-bit when wide, else only its low 32 bits are known) close to ref? */
static bool
near_ref(uint64_t v, bool wide, uint64_t ref)
{
    if (wide)
        return near64(v, ref);
    /* 32-bit values: compare the low halves, in a window small enough to keep the chance
     * of a false match between unrelated connections at 2^-8 of a 64-bit match's */
    return (uint32_t)(v - ref) < (1u << 24) || (uint32_t)(ref - v) < (1u << 24);
}

/** Try to link an unlinked subflow from a DSS's DSN (sent by this side) or DATA_ACK
 * (acknowledging the peer's data). Creates an inferred connection when nothing matches. */
static void
infer_link(packet_info *pinfo, mptcp_subflow_t *sf, int d, const mptcp_opt_t *o)
{
    guint n = wmem_array_get_count(all_conns);

    for (guint i = n; i-- > 0;) {
        mptcp_conn_t *c = *(mptcp_conn_t **)wmem_array_index(all_conns, i);
        for (int ep = 0; ep < 2; ep++) {
            const mptcp_endpoint_t *e = &c->ep[ep];
            uint64_t ref = e->dsn_ref_known ? e->dsn_ref : e->idsn;
            if (!e->dsn_ref_known && !e->key_known)
                continue;
            /* this side sends in ep's space */
            if (o->u.dss.has_map && near_ref(o->u.dss.dsn, o->u.dss.dsn8, ref)) {
                conn_attach(c, sf, ep == 0 ? d : 1 - d);
                return;
            }
            /* this side acknowledges ep's space: it is the other endpoint */
            if (o->u.dss.has_ack && near_ref(o->u.dss.ack, o->u.dss.ack8, ref)) {
                conn_attach(c, sf, ep == 1 ? d : 1 - d);
                return;
            }
        }
    }
    if (o->u.dss.has_map || (o->u.dss.has_ack && o->u.dss.ack8)) {
        /* a new connection: this side is endpoint 0 (who is the client is unknown) */
        mptcp_conn_t *c = conn_new(pinfo, -1);
        c->inferred = true;
        conn_attach(c, sf, d);
        if (!o->u.dss.has_map) {
            /* only a 64-bit DATA_ACK: remember where the peer's data space is */
            c->ep[1].dsn_ref = o->u.dss.ack;
            c->ep[1].dsn_ref_known = true;
            c->ep[1].dsn_ref_exact = true;
        }
    }
}
/* }}} */

/** The segment's subflow, found or new (NULL: plain TCP), and its TCP-level state: ISNs,
 * SYN/FIN/RST seen. *d: the segment's subflow direction. */
static mptcp_subflow_t *
subflow_for_segment(const mptcp_seg_t *seg, int *d)
{
    bool syn = seg->flags & TH_SYN, ack = seg->flags & TH_ACK;
    mptcp_subflow_t *sf = subflow_find(seg, d);

    /* A new SYN with another ISN on a known tuple starts a new TCP connection. */
    if (sf && syn && !ack && sf->syn_seen && sf->dir[0].isn != seg->seq)
        sf = NULL;
    if (!sf) {
        if (seg->nopts == 0)
            return NULL;
        sf = subflow_new(seg, !(syn && ack));
        *d = (syn && ack) ? 1 : 0;
    }
    if (syn) {
        sf->dir[*d].isn_known = true;
        sf->dir[*d].isn = seg->seq;
        if (ack)
            sf->synack_seen = true;
        else
            sf->syn_seen = true;
    }
    /* SYN/ACK (or SYN) not captured: the other side's first ACK acknowledges ISN + 1 */
    if (ack && !syn && !sf->dir[1 - *d].isn_known && sf->dir[*d].isn_known && seg->seq == sf->dir[*d].isn + 1) {
        sf->dir[1 - *d].isn_known = true;
        sf->dir[1 - *d].isn = seg->ack - 1;
    }
    if (seg->flags & TH_FIN)
        sf->dir[*d].fin_seen = true;
    if (seg->flags & TH_RST)
        sf->dir[*d].rst_seen = true;
    return sf;
}

/** Option i of the segment as the connection reads it: ADD_ADDR lengths 8/10/20/22 are v0 or
 * the v1 echo, and the connection's version decides (RFC 8684 section 3.4.1). */
static const mptcp_opt_t *
option_for_conn(const mptcp_seg_t *seg, unsigned i, const mptcp_subflow_t *sf, mptcp_opt_t *reparsed)
{
    const mptcp_opt_t *o = &seg->opts[i];
    unsigned off = seg->opt_offset[i];

    if (o->subtype != MPTCP_SUB_ADD_ADDR || !sf->conn || sf->conn->version < 0)
        return o;
    mptcp_opt_parse(tvb_get_ptr(seg->tvb, off, -1), tvb_captured_length_remaining(seg->tvb, off),
                    sf->conn->version, reparsed);
    return reparsed;
}

/** Runs the handler of each MPTCP option; sets *has_capable / *has_join. */
static void
handle_options(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_subflow_t *sf, int d, mptcp_pkt_t *pkt,
               bool *has_capable, bool *has_join)
{
    for (unsigned i = 0; i < seg->nopts; i++) {
        mptcp_opt_t reparsed;
        const mptcp_opt_t *o = option_for_conn(seg, i, sf, &reparsed);

        if (o->status != MPTCP_OPT_OK)
            continue;
        switch (o->subtype) {
        case MPTCP_SUB_CAPABLE:
            *has_capable = true;
            /* a MP_CAPABLE on a JOIN subflow, or on a subflow already linked elsewhere, is ignored */
            if (!sf->is_join)
                handle_capable(pinfo, seg, sf, d, o, pkt);
            break;
        case MPTCP_SUB_JOIN:
            *has_join = true;
            handle_join(pinfo, seg, sf, d, o, pkt);
            break;
        case MPTCP_SUB_DSS:
            if (!sf->conn)
                infer_link(pinfo, sf, d, o);
            break;
        case MPTCP_SUB_ADD_ADDR:
            handle_add_addr(pinfo, sf, d, o, pkt);
            break;
        case MPTCP_SUB_RM_ADDR:
            handle_rm_addr(seg, sf, d, seg->opt_offset[i], o, pkt);
            break;
        case MPTCP_SUB_PRIO:
            set_backup(sf, d, o->u.prio.backup);        /* RFC 8684 section 3.3.8 */
            break;
        case MPTCP_SUB_FASTCLOSE:
            handle_fastclose(sf, d, o, pkt);
            break;
        default:
            break;
        }
    }
}

/** What the handshake and signalling say once every option is handled. */
static void
post_handshake_checks(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_subflow_t *sf, int d, mptcp_pkt_t *pkt,
                      bool has_capable, bool has_join)
{
    bool syn = seg->flags & TH_SYN, ack = seg->flags & TH_ACK;

    /* Signalling (ADD_ADDR, MP_PRIO, MP_TCPRST, ...) on a subflow of no known connection, with
     * no DSS to place it: the subflow still belongs to some MPTCP connection. */
    if (!sf->conn && !sf->is_join && !has_capable) {
        for (unsigned i = 0; i < seg->nopts; i++) {
            if (seg->opts[i].subtype > MPTCP_SUB_DSS && seg->opts[i].subtype <= MPTCP_SUB_TCPRST) {
                mptcp_conn_t *c = conn_new(pinfo, -1);
                c->inferred = true;
                conn_attach(c, sf, d);
                break;
            }
        }
    }
    /* RFC 8684 section 3.7: a SYN/ACK without MP_CAPABLE answering an MP_CAPABLE SYN means
     * the server does not do MPTCP: the connection falls back to plain TCP. */
    if (syn && ack && sf->conn && sf == sf->conn->master && !has_capable && !sf->is_join) {
        sf->conn->fallback = true;
        pkt->flags |= MPTCP_PF_FALLBACK;
    }
    /* RFC 8684 section 3.2: a SYN/ACK answering an MP_JOIN SYN must carry MP_JOIN */
    if (syn && ack && sf->is_join && !has_join)
        mptcp_pkt_ext(pkt)->flags |= MPTCP_PX_JOIN_REJECTED;
    /* RFC 8684 section 3.4: the initial subflow's addresses have id 0 */
    if (sf->conn && sf == sf->conn->master)
        sf->addr_ids_known = 3;
}

/** The connection state this packet is rendered with, on every pass (first-pass snapshot).
 * ids_may_change: the segment had an option that may have set an address id (MP_JOIN). */
static void
snapshot_into_pkt(mptcp_subflow_t *sf, int d, mptcp_pkt_t *pkt, bool ids_may_change)
{
    const mptcp_conn_t *c = sf->conn;
    int version = c ? c->version : -1;
    unsigned keys = c ? c->keys_known : 0u;
    /* what the subflow's log holds since its last call, short: the address ids only change with
     * an MP_JOIN, an unusual version (> 1) always calls */
    uint8_t logged = (uint8_t)(0x80u | (version <= 1 ? (unsigned)(version + 1) : 3u) << 4 | keys << 2 |
                               sf->addr_ids_known);

    if (sf->backup_any)
        pkt->flags |= MPTCP_PF_BACKUP;
    mptcp_pkt_set_flag2(pkt, MPTCP_PF_EP_SHIFT, c ? sender_ep(sf, d) : -1);
    if (logged != sf->state_logged || ids_may_change || version > 1) {
        const uint8_t ids[2] = {sf->dir[0].addr_id, sf->dir[1].addr_id};

        mptcp_pkt_set_state(pkt, version, keys, sf->addr_ids_known, ids);
        sf->state_logged = logged;
    }
}

/** The common segment: no SYN, on a linked subflow, DSS options only (RFC 8684 section 3.3):
 * no option handler or handshake check has anything to do (the initial subflow's address ids
 * were marked known with its MP_CAPABLE). */
static bool
dss_only(const mptcp_seg_t *seg, const mptcp_subflow_t *sf)
{
    return !(seg->flags & TH_SYN) && sf->conn && (seg->kinds & ~(1u << MPTCP_SUB_DSS)) == 0;
}

mptcp_subflow_t *
mptcp_conn_update(packet_info *pinfo, const mptcp_seg_t *seg, mptcp_pkt_t *pkt)
{
    mptcp_subflow_t *sf;
    int d = 0;
    bool has_capable = false, has_join = false;

    /* first pass only: mptcp_first_pass() asserts it */
    sf = subflow_for_segment(seg, &d);
    if (!sf)
        return NULL;
    pkt->sf_ref = sf->ref;
    mptcp_pkt_set_flag2(pkt, MPTCP_PF_DIR_SHIFT, d);
    if (!dss_only(seg, sf)) {
        handle_options(pinfo, seg, sf, d, pkt, &has_capable, &has_join);
        post_handshake_checks(pinfo, seg, sf, d, pkt, has_capable, has_join);
    }
    snapshot_into_pkt(sf, d, pkt, has_join);
    if (!sf->conn)
        orphan_add(sf, pkt);
    return sf;
}
