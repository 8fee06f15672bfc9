/* mptcp-pkt.c
 * The per-packet result's home (see mptcp-pkt.h): allocation, the table by frame number,
 * the segment TCP is dissecting now, the accessors, and the protocol and preference globals
 * every layer reads. The model layer: nothing here knows about options, connections or trees
 * beyond what a result stores.
 *
 * Memory (bench/RESULTS.md): results are carved from 64 KiB slabs (28 bytes, 16 for a packet
 * without payload or DSS mapping, 36 with a data segment's slot for its latency and data order),
 * a frame-indexed table holds 4 bits per frame (a reference per 32 frames and the size class of
 * each frame's result), the DSS mapping's DSN is derived again from the option when it is shown;
 * rare values go to mptcp_pkt_ext_t.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_LOG_DOMAIN "mptcp"
#include "mptcp-int.h"
#include "mptcp-epan.h"

#include <wsutil/bits_count_ones.h>

int proto_mptcp = -1;
mptcp_subflow_t **mptcp_pkt_sfs;
mptcp_pkt_space_t *mptcp_pkt_spaces;
uint8_t **mptcp_pkt_slabs;
int proto_mptcp_plugin = -1;
mptcp_prefs_t mptcp_prefs;

/** The segment TCP is dissecting now (for the option handler); saved and restored around each
 * TCP call (mptcp_pkt_enter/leave). A static instead of pinfo proto data: no list insert or
 * removal per packet. */
static mptcp_pkt_current_t current;

/** The frame table's group of PKT_GROUP frames (mptcp_pkt_store()): 16 bytes instead of a
 * 4-byte reference per frame. */
#define PKT_GROUP 32
typedef struct {
    uint32_t base;             /**< the group's first stored reference (0: none yet;
                                * PKT_GROUP_LISTED: the references are in pkt_listed) */
    uint32_t lo, hi, top;      /**< bit i of the three: frame i's size code (0: no result) */
} pkt_group_t;

static uint32_t pkt_table_len;     /**< allocated groups */
static wmem_map_t *pkt_listed;     /**< 1 + group -> its PKT_GROUP references (file scope) */
static wmem_map_t *exts;           /**< result -> its rare part (MPTCP_PF_EXT; file scope) */
static uint32_t nsfs, capsfs;      /**< mptcp_pkt_sfs: used and allocated entries */
static uint32_t capspaces;         /**< mptcp_pkt_spaces: allocated entries (2 * nsfs used) */

/** What a subflow's results share until it changes: from frame on, the connection's subflow
 * count, the TCP layer number and the connection state results are rendered with (8 bytes
 * less in every result). */
#pragma pack(push, 4)
typedef struct {
    uint32_t frame;
    uint32_t nsubflows;
    uint8_t layer;
    int8_t version;            /**< the connection's MPTCP version (-1 unknown) */
    uint8_t keys;              /**< bit e set: endpoint e's key known */
    uint8_t addr_ids_known;    /**< bit d set: addr_id[d] known (subflow direction d) */
    uint8_t addr_id[2];        /**< address ids of the subflow's initiator [0] and responder [1] */
} sf_log_ent_t;
#pragma pack(pop)

typedef struct {
    sf_log_ent_t *e;           /**< by ascending frame (file scope) */
    uint32_t n;
} sf_log_t;

/** What every packet's first pass reads and writes here (file scope), on one 64-byte line
 * instead of four: a packet's analysis evicts it between the calls. */
static struct {
    pkt_group_t *table;        /**< the frame table: by frame number / PKT_GROUP */
    uint8_t *slab;             /**< next free byte of the newest slab of results; its base is
                                * slab + slab_left - PKT_SLAB_SIZE */
    sf_log_t *sf_logs;         /**< by mptcp_pkt_t.sf_ref - 1, nsfs used */
    const mptcp_pkt_t *new_pkt;    /**< the result mptcp_pkt_new() made last (NULL: discarded) */
    sf_log_ent_t *log_e;       /**< the log entry that holds at new_pkt's frame, if log_ok (its
                                * setters run one after the other on its first pass) */
    uint32_t new_ref;          /**< new_pkt's reference (mptcp_pkt_ref()) */
    uint32_t next_group;       /**< the group whose sizes next_dist sums (UINT32_MAX: none) */
    uint32_t next_dist;        /**< the sum of its size codes: the next result's distance */
    uint32_t slab_left;
    uint32_t slab_ref;         /**< the newest slab's number, if a reference can name it
                                * (else UINT32_MAX) */
    bool log_ok;
} hot __attribute__((aligned(64)));

static uint32_t capsflogs;
static uint32_t nslabs, capslabs;
static uint32_t pkt_table_used;    /**< groups [0, used) are written; the rest of the allocation is
                                    * never touched, so it costs no memory */
static int64_t time_base;          /**< data slots' times are microseconds above it */
static bool time_base_set;

/** The frame of a mapping that a later segment's DSN comes from: rare on Linux, whose segments
 * carry their own mapping (MPTCP_PF_MAP_IN_PKT), so a list of them instead of 4 bytes in every
 * result; set on the packets' first passes, i.e. by ascending frame. */
#pragma pack(push, 4)
typedef struct {
    const mptcp_pkt_t *pkt;
    uint32_t frame;            /**< the mapping's */
} map_frame_t;
#pragma pack(pop)

static map_frame_t *mapfs;         /**< by ascending result frame (file scope) */
static uint32_t nmapfs, capmapfs;
static wmem_map_t *short_reasm;    /**< short result -> its reassembly record (file scope; rare) */

void
mptcp_pkt_init(void)
{
    memset(&hot, 0, sizeof(hot));   /* the file scope that held its arrays is gone */
    hot.next_group = UINT32_MAX;
    hot.slab_ref = UINT32_MAX;
    pkt_table_len = 0;
    pkt_table_used = 0;
    pkt_listed = NULL;
    mptcp_pkt_slabs = NULL;
    nslabs = capslabs = 0;
    exts = NULL;
    mptcp_pkt_sfs = NULL;
    mptcp_pkt_spaces = NULL;
    nsfs = capsfs = capspaces = capsflogs = 0;
    time_base_set = false;
    mapfs = NULL;
    nmapfs = capmapfs = 0;
    short_reasm = NULL;
}

/* {{{ the subflow's log: a result reads the entry that holds at its frame. Entries are written
 * only on the newest frame's first pass (the connection state when the packet is analysed, the
 * count when its analysis ends, the layer when it is stored), so no earlier result ever reads
 * another value; except the version of orphans, rewritten when they are adopted, as their
 * results were before (mptcp_pkt_adopt_version()). */

/** The entry of pkt's subflow that holds at its frame (NULL: none yet, nothing set). */
static const sf_log_ent_t *
sf_log_at(const mptcp_pkt_t *pkt)
{
    const sf_log_t *l = &hot.sf_logs[pkt->sf_ref - 1];
    uint32_t a = 0, b = l->n;

    if (b && l->e[b - 1].frame <= pkt->frame)
        return &l->e[b - 1];    /* mostly */
    while (a < b) {             /* the number of entries at or below the frame */
        uint32_t m = a + (b - a) / 2;
        if (l->e[m].frame <= pkt->frame)
            a = m + 1;
        else
            b = m;
    }
    return a ? &l->e[a - 1] : NULL;
}

/** sf_log_at() for the getters: also NULL for a result without a subflow. */
static const sf_log_ent_t *
sf_log_of(const mptcp_pkt_t *pkt)
{
    return pkt->sf_ref ? sf_log_at(pkt) : NULL;
}

/** The entry for pkt's frame, to be written: the last one if it is this frame's, else a copy of
 * it added for this frame. */
static sf_log_ent_t *
sf_log_put(const mptcp_pkt_t *pkt)
{
    sf_log_t *l = &hot.sf_logs[pkt->sf_ref - 1];

    if (l->n && l->e[l->n - 1].frame == pkt->frame)
        return &l->e[l->n - 1];
    l->e = (sf_log_ent_t *)mptcp_grow_counted(wmem_file_scope(), l->e, l->n, l->n + 1, sizeof(*l->e));
    if (l->n)
        l->e[l->n] = l->e[l->n - 1];
    else
        memset(&l->e[0], 0, sizeof(l->e[0]));
    l->e[l->n].frame = pkt->frame;
    hot.log_e = &l->e[l->n];    /* the entries may have moved */
    hot.log_ok = pkt == hot.new_pkt;
    return &l->e[l->n++];
}

/** sf_log_at() for the setters, on the packet's own first pass: for the newest result, the
 * entry the last of its setters found (they run one after the other, set_state first). */
static const sf_log_ent_t *
sf_log_cur(const mptcp_pkt_t *pkt)
{
    if (pkt != hot.new_pkt)
        return sf_log_at(pkt);
    if (!hot.log_ok) {
        hot.log_e = (sf_log_ent_t *)(uintptr_t)sf_log_at(pkt);
        hot.log_ok = true;
    }
    return hot.log_e;
}

uint32_t
mptcp_pkt_nsubflows(const mptcp_pkt_t *pkt)
{
    const sf_log_ent_t *e = sf_log_of(pkt);

    return e ? e->nsubflows : 0;
}

/** The subflow's last entry if pkt is the newest result (it holds at its frame: entries are
 * added only at the newest frame), else NULL: the setters' test for an unchanged value, mostly
 * true, without the search. */
static inline const sf_log_ent_t *
sf_log_newest(const mptcp_pkt_t *pkt)
{
    const sf_log_t *l = &hot.sf_logs[pkt->sf_ref - 1];

    return pkt == hot.new_pkt && l->n ? &l->e[l->n - 1] : NULL;
}

void
mptcp_pkt_set_nsubflows(mptcp_pkt_t *pkt, uint32_t n)
{
    const sf_log_ent_t *e = sf_log_newest(pkt);

    if (e && e->nsubflows == n)
        return;
    e = sf_log_cur(pkt);
    if (!e || e->nsubflows != n)
        sf_log_put(pkt)->nsubflows = n;
}

/** Records the result's TCP layer number (mptcp_pkt_store()). */
static void
sf_log_set_layer(const mptcp_pkt_t *pkt, uint8_t layer)
{
    const sf_log_ent_t *e = sf_log_newest(pkt);

    if (e && e->layer == layer)
        return;
    e = sf_log_cur(pkt);
    if (!e || e->layer != layer)
        sf_log_put(pkt)->layer = layer;
}

static uint8_t
pkt_layer(const mptcp_pkt_t *pkt)
{
    return sf_log_at(pkt)->layer;
}

int
mptcp_pkt_version(const mptcp_pkt_t *pkt)
{
    const sf_log_ent_t *e = sf_log_of(pkt);

    return e ? e->version : -1;
}

unsigned
mptcp_pkt_keys(const mptcp_pkt_t *pkt)
{
    const sf_log_ent_t *e = sf_log_of(pkt);
    unsigned k = e ? e->keys : 0;

    if (pkt->flags & MPTCP_PF_EXT)
        k |= (mptcp_pkt_ext_find(pkt)->flags / MPTCP_PX_KEY0) & 3u;
    return k;
}

unsigned
mptcp_pkt_addr_ids_known(const mptcp_pkt_t *pkt)
{
    const sf_log_ent_t *e = sf_log_of(pkt);

    return e ? e->addr_ids_known : 0;
}

unsigned
mptcp_pkt_addr_id(const mptcp_pkt_t *pkt, int d)
{
    const sf_log_ent_t *e = sf_log_of(pkt);

    return e ? e->addr_id[d & 1] : 0;
}

void
mptcp_pkt_set_state(mptcp_pkt_t *pkt, int version, unsigned keys, unsigned addr_ids_known, const uint8_t addr_id[2])
{
    const sf_log_ent_t *e = sf_log_cur(pkt);
    sf_log_ent_t *w;

    if (e && e->version == version && e->keys == keys && e->addr_ids_known == addr_ids_known &&
        e->addr_id[0] == addr_id[0] && e->addr_id[1] == addr_id[1])
        return;
    w = sf_log_put(pkt);
    w->version = (int8_t)version;
    w->keys = (uint8_t)keys;
    w->addr_ids_known = (uint8_t)addr_ids_known;
    w->addr_id[0] = addr_id[0];
    w->addr_id[1] = addr_id[1];
}

void
mptcp_pkt_adopt_version(uint32_t sf_ref, uint32_t last, int version)
{
    sf_log_t *l = &hot.sf_logs[sf_ref - 1];

    for (uint32_t i = 0; i < l->n && l->e[i].frame <= last; i++)
        l->e[i].version = (int8_t)version;
}
/* }}} */

/* {{{ allocation and storage */

/* Per-packet results are carved from file-scope slabs: a wmem allocation each would add a
 * 16-byte chunk header and round up to 16 bytes (the block allocator), 15-20 % of a result.
 * Address sanitizer builds keep one allocation each, so overruns stay visible (each one is
 * then a slab of its own). */
#define PKT_SLAB_SIZE (64 * 1024)
#define PKT_SLAB_ROUND(size) (((size) + 3) & ~(size_t)3)  /* results are 4-byte aligned */
#ifdef __SANITIZE_ADDRESS__
#define PKT_SLAB_SPAN 1                    /* a result is its own slab: found by its address */
#else
#define PKT_SLAB_SPAN PKT_SLAB_SIZE
#endif
/* A result's reference (the frame table, the per-connection indexes), 4 bytes instead of a
 * pointer: 1 + its slab's number above 14 bits of its offset in 4-byte units (64 KiB slabs;
 * 2^18 - 1 slabs, 16 GiB of results, far beyond what tshark's own per-frame state lets fit in
 * memory). Address sanitizer builds number the results (a slab each). Beyond that, or for a
 * result of a second TCP layer, the frame's results go to proto data. */
#ifdef __SANITIZE_ADDRESS__
G_STATIC_ASSERT(MPTCP_PKT_REF_OFF_BITS == 0);
#else
G_STATIC_ASSERT((UINT32_C(1) << MPTCP_PKT_REF_OFF_BITS) * 4 == PKT_SLAB_SIZE);
#endif
#define PKT_REF_MAX_SLABS ((uint32_t)((UINT64_C(1) << (32 - MPTCP_PKT_REF_OFF_BITS)) - 1))
#define PKT_REF_PROTO_DATA UINT32_MAX      /**< this frame's results are all in proto data */

/** The head-of-line wait behind a data slot (MPTCP_DO_HOL_SLOT). */
typedef struct {
    uint32_t ns;
    uint32_t frame;
} dslot_hol_t;

static void
slab_add(uint8_t *slab)
{
    mptcp_pkt_slabs = (uint8_t **)mptcp_grow(wmem_file_scope(), mptcp_pkt_slabs, &capslabs, nslabs + 1,
                                             sizeof(*mptcp_pkt_slabs));
    mptcp_pkt_slabs[nslabs++] = slab;
    hot.slab_ref = nslabs - 1 < PKT_REF_MAX_SLABS ? nslabs - 1 : UINT32_MAX;
}

uint32_t
mptcp_pkt_ref(const mptcp_pkt_t *pkt)
{
    const uint8_t *p = (const uint8_t *)pkt;

    if (pkt == hot.new_pkt)
        return hot.new_ref;     /* mostly: the packet being analysed */
    for (uint32_t i = nslabs; i-- > 0;) {
        const uint8_t *slab = mptcp_pkt_slabs[i];

        if (p >= slab && p < slab + PKT_SLAB_SPAN)
            return i < PKT_REF_MAX_SLABS ? ((i << MPTCP_PKT_REF_OFF_BITS) | (uint32_t)((p - slab) >> 2)) + 1 : 0;
    }
    return 0;
}

mptcp_pkt_t *
mptcp_pkt_new(size_t size)
{
#ifdef __SANITIZE_ADDRESS__
    mptcp_pkt_t *pkt = (mptcp_pkt_t *)wmem_alloc0(wmem_file_scope(), size);

    G_STATIC_ASSERT(PKT_SLAB_SIZE >= sizeof(mptcp_pkt_t) + sizeof(mptcp_dslot_t) + 8);
    slab_add((uint8_t *)pkt);
    hot.new_pkt = pkt;
    hot.new_ref = nslabs;       /* numbered: 1 + its slab's */
    hot.log_ok = false;
    return pkt;
#else
    uint8_t *p;

    size = PKT_SLAB_ROUND(size);
    if (size > hot.slab_left) {
        hot.slab = (uint8_t *)wmem_alloc(wmem_file_scope(), PKT_SLAB_SIZE);
        hot.slab_left = PKT_SLAB_SIZE;
        slab_add(hot.slab);
    }
    p = hot.slab;
    hot.new_pkt = (const mptcp_pkt_t *)p;
    hot.new_ref = hot.slab_ref != UINT32_MAX ?
        ((hot.slab_ref << MPTCP_PKT_REF_OFF_BITS) | (PKT_SLAB_SIZE - hot.slab_left) >> 2) + 1 : 0;
    hot.log_ok = false;
    hot.slab += size;
    hot.slab_left -= (uint32_t)size;
    memset(p, 0, size);
    return (mptcp_pkt_t *)p;
#endif
}

void
mptcp_pkt_discard(mptcp_pkt_t *pkt, size_t size)
{
    if (pkt == hot.new_pkt)
        hot.new_pkt = NULL;     /* its reference and log entry are no more */
    if (pkt->flags & MPTCP_PF_EXT)
        wmem_map_remove(exts, pkt);     /* the next result may take its address */
#ifdef __SANITIZE_ADDRESS__
    (void)size;
    if (nslabs && mptcp_pkt_slabs[nslabs - 1] == (uint8_t *)pkt)
        nslabs--;
    wmem_free(wmem_file_scope(), pkt);
#else
    size = PKT_SLAB_ROUND(size);
    if ((uint8_t *)pkt + size == hot.slab) {
        hot.slab -= size;
        hot.slab_left += (uint32_t)size;
    }
#endif
}

/* Per-packet results by frame number instead of a proto-data list node per packet. Results are
 * carved in frame order, one after the other, so in a group of PKT_GROUP frames a frame's first
 * result is the group's first reference plus the sizes of the results stored before it: each
 * frame keeps its result's size code in three bits, and the sum is four bit counts. A frame's
 * code is written only above all others, once its reference is checked against the sum, so no
 * stored frame's sum ever changes. A group whose references do not follow so (it crosses into a
 * new slab, a second TCP layer's result lies between, one is in proto data, a result grew after
 * it was stored) lists them in pkt_listed instead: about one group a slab. A second MPTCP layer
 * in the same frame (tunnels) goes to proto data. */

/* A result's size in reference units, by size code (pkt_size_code()): 4-byte units; address
 * sanitizer builds number the results. Codes 1-3 in lo and hi, 4 alone in top. */
#ifdef __SANITIZE_ADDRESS__
#define PKT_UNITS(size) 1u
#else
#define PKT_UNITS(size) ((uint32_t)(PKT_SLAB_ROUND(size) / 4))
#endif
#define PKT_U1 PKT_UNITS(MPTCP_PKT_SHORT_SIZE)
#define PKT_U2 PKT_UNITS(sizeof(mptcp_pkt_t))
#define PKT_U3 PKT_UNITS(sizeof(mptcp_pkt_t) + sizeof(mptcp_dslot_t))
#define PKT_U4 PKT_UNITS(sizeof(mptcp_pkt_t) + sizeof(mptcp_dslot_t) + sizeof(dslot_hol_t))
/* by size code c (a shift instead of a table: no data line to load) */
#define PKT_UNITS_OF(c) ((uint32_t)(((uint64_t)PKT_U1 << 8 | (uint64_t)PKT_U2 << 16 | (uint64_t)PKT_U3 << 24 | \
                                     (uint64_t)PKT_U4 << 32) >> (8 * (c))) & 0xffu)
#define PKT_GROUP_LISTED UINT32_MAX        /**< pkt_group_t.base: the group is in pkt_listed */

static unsigned pkt_size_code(const mptcp_pkt_t *pkt);

/** The distance of the result of group gr's frame k above its base: the sizes before it. */
static uint32_t
pkt_group_dist(const pkt_group_t *gr, unsigned k)
{
    uint32_t m = (UINT32_C(1) << k) - 1, lo = gr->lo & m, hi = gr->hi & m;

    return PKT_U1 * (uint32_t)ws_count_ones(lo & ~hi) + PKT_U2 * (uint32_t)ws_count_ones(hi & ~lo) +
           PKT_U3 * (uint32_t)ws_count_ones(lo & hi) + PKT_U4 * (uint32_t)ws_count_ones(gr->top & m);
}

/** The group of frame n, written (groups up to n's zeroed first). */
static pkt_group_t *
pkt_group_put(uint32_t n)
{
    uint32_t g = n / PKT_GROUP;

    hot.table = (pkt_group_t *)mptcp_grow(wmem_file_scope(), hot.table, &pkt_table_len, g + 1,
                                          sizeof(*hot.table));
    if (g >= pkt_table_used) {
        memset(hot.table + pkt_table_used, 0, (g + 1 - pkt_table_used) * sizeof(*hot.table));
        pkt_table_used = g + 1;
    }
    return &hot.table[g];
}

/** Moves group gr (number g) to pkt_listed; returns its references by frame. */
static uint32_t *
pkt_group_list(pkt_group_t *gr, uint32_t g)
{
    uint32_t *refs = wmem_alloc0_array(wmem_file_scope(), uint32_t, PKT_GROUP);

    for (unsigned k = 0; k < PKT_GROUP; k++)
        if (((gr->lo | gr->hi | gr->top) >> k) & 1)
            refs[k] = gr->base + pkt_group_dist(gr, k);
    if (!pkt_listed)
        pkt_listed = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    wmem_map_insert(pkt_listed, GUINT_TO_POINTER(g + 1), refs);
    gr->base = PKT_GROUP_LISTED;
    gr->lo = gr->hi = gr->top = 0;
    if (hot.next_group == g)
        hot.next_group = UINT32_MAX;    /* mptcp_pkt_store()'s common case: never a listed group */
    return refs;
}

/** Records ref (PKT_REF_PROTO_DATA: proto data) as the first result of frame n (group gr),
 * whose size code is c. */
static void
pkt_table_set(pkt_group_t *gr, uint32_t n, uint32_t ref, unsigned c)
{
    unsigned k = n % PKT_GROUP;
    uint32_t dist;

    if (gr->base != PKT_GROUP_LISTED && ref != PKT_REF_PROTO_DATA) {
        if (!gr->base)
            gr->base = ref;
        /* all codes are below k: the distance is their sum, kept for the group being filled */
        dist = n / PKT_GROUP == hot.next_group ? hot.next_dist : pkt_group_dist(gr, k);
        if (((gr->lo | gr->hi | gr->top) >> k) == 0 && ref == gr->base + dist) {
            gr->lo |= (uint32_t)(c & 1) << k;
            gr->hi |= (uint32_t)(c >> 1 & 1) << k;
            gr->top |= (uint32_t)(c >> 2) << k;
            hot.next_group = n / PKT_GROUP;
            hot.next_dist = dist + PKT_UNITS_OF(c);
            return;
        }
    }
    if (gr->base == PKT_GROUP_LISTED)
        ((uint32_t *)wmem_map_lookup(pkt_listed, GUINT_TO_POINTER(n / PKT_GROUP + 1)))[k] = ref;
    else
        pkt_group_list(gr, n / PKT_GROUP)[k] = ref;
}

/** Whether frame n (group gr) has a result. */
static bool
pkt_table_has(const pkt_group_t *gr, uint32_t n)
{
    unsigned k = n % PKT_GROUP;

    if (gr->base == PKT_GROUP_LISTED)
        return ((const uint32_t *)wmem_map_lookup(pkt_listed, GUINT_TO_POINTER(n / PKT_GROUP + 1)))[k] != 0;
    return (((gr->lo | gr->hi | gr->top) >> k) & 1) != 0;
}

/** The reference of frame n's first result: 0 none, PKT_REF_PROTO_DATA. */
static uint32_t
pkt_table_get(uint32_t n)
{
    const pkt_group_t *gr;
    unsigned k = n % PKT_GROUP;

    if (n / PKT_GROUP >= pkt_table_used)
        return 0;
    gr = &hot.table[n / PKT_GROUP];
    if (gr->base == PKT_GROUP_LISTED)
        return ((const uint32_t *)wmem_map_lookup(pkt_listed, GUINT_TO_POINTER(n / PKT_GROUP + 1)))[k];
    return (((gr->lo | gr->hi | gr->top) >> k) & 1) ? gr->base + pkt_group_dist(gr, k) : 0;
}

/** mptcp_pkt_store() but for the common case below. */
static MPTCP_NOINLINE void
pkt_store_slow(packet_info *pinfo, mptcp_pkt_t *pkt)
{
    uint32_t n = pinfo->num, ref;
    pkt_group_t *gr;

    gr = pkt_group_put(n);
    if (!pkt_table_has(gr, n)) {
        ref = mptcp_pkt_ref(pkt);
        pkt_table_set(gr, n, ref ? ref : PKT_REF_PROTO_DATA, pkt_size_code(pkt));
        if (ref)
            return;
    }
    p_add_proto_data(wmem_file_scope(), pinfo, proto_mptcp_plugin, pinfo->curr_layer_num, pkt);
}

void
mptcp_pkt_store(packet_info *pinfo, mptcp_pkt_t *pkt)
{
    uint32_t n = pinfo->num, k = n % PKT_GROUP;

    sf_log_set_layer(pkt, (uint8_t)pinfo->curr_layer_num);
    /* mostly: the newest result, for the next frame of the group being filled (never a listed
     * one), at the reference that follows the group's last one */
    if (pkt == hot.new_pkt && n / PKT_GROUP == hot.next_group) {
        pkt_group_t *gr = &hot.table[n / PKT_GROUP];

        if (hot.new_ref == gr->base + hot.next_dist && ((gr->lo | gr->hi | gr->top) >> k) == 0) {
            unsigned c = pkt_size_code(pkt);

            gr->lo |= (uint32_t)(c & 1) << k;
            gr->hi |= (uint32_t)(c >> 1 & 1) << k;
            gr->top |= (uint32_t)(c >> 2) << k;
            hot.next_dist += PKT_UNITS_OF(c);
            return;
        }
    }
    pkt_store_slow(pinfo, pkt);
}

mptcp_pkt_t *
mptcp_pkt_stored(packet_info *pinfo, uint32_t layer)
{
    uint32_t ref = pkt_table_get(pinfo->num);
    mptcp_pkt_t *pkt;

    if (!ref)
        return NULL;
    if (ref != PKT_REF_PROTO_DATA && pkt_layer(pkt = mptcp_pkt_deref(ref)) == (uint8_t)layer)
        return pkt;
    return (mptcp_pkt_t *)p_get_proto_data(wmem_file_scope(), pinfo, proto_mptcp_plugin, layer);
}
/* }}} */

/* {{{ the current segment */

mptcp_pkt_current_t
mptcp_pkt_enter(packet_info *pinfo, mptcp_pkt_t *pkt, proto_tree *tree)
{
    mptcp_pkt_current_t saved = current;

    current.pinfo = pinfo;
    current.pkt = pkt;
    current.tree_data = mptcp_epan_tree_data(tree);
    current.wanted = pkt && mptcp_epan_tree_wanted(tree, pinfo->num);
    return saved;
}

bool
mptcp_pkt_leave(const mptcp_pkt_current_t *saved)
{
    bool wanted = current.wanted;

    current = *saved;
    return wanted;
}

mptcp_pkt_t *
mptcp_pkt_current(const packet_info *pinfo)
{
    return current.pinfo == pinfo ? current.pkt : NULL;
}

bool
mptcp_pkt_tree_wanted(const packet_info *pinfo, proto_tree *tree)
{
    if (!tree)
        return false;
    if (current.pinfo == pinfo && current.pkt && current.tree_data == mptcp_epan_tree_data(tree))
        return current.wanted;
    return mptcp_epan_tree_wanted(tree, pinfo->num);
}
/* }}} */

/* {{{ accessors */

mptcp_pkt_ext_t *
mptcp_pkt_ext(mptcp_pkt_t *pkt)
{
    if (pkt->flags & MPTCP_PF_EXT)
        return mptcp_pkt_ext_find(pkt);
    pkt->flags |= MPTCP_PF_EXT;
    return (mptcp_pkt_ext_t *)mptcp_side_new(wmem_file_scope(), &exts, pkt, sizeof(mptcp_pkt_ext_t));
}

mptcp_pkt_ext_t *
mptcp_pkt_ext_find(const mptcp_pkt_t *pkt)
{
    return (mptcp_pkt_ext_t *)wmem_map_lookup(exts, pkt);
}

uint32_t
mptcp_pkt_sf_add(mptcp_subflow_t *sf)
{
    mptcp_pkt_sfs = (mptcp_subflow_t **)mptcp_grow(wmem_file_scope(), mptcp_pkt_sfs, &capsfs, nsfs + 1,
                                                   sizeof(*mptcp_pkt_sfs));
    mptcp_pkt_sfs[nsfs++] = sf;
    mptcp_pkt_spaces = (mptcp_pkt_space_t *)mptcp_grow(wmem_file_scope(), mptcp_pkt_spaces, &capspaces, 2 * nsfs,
                                                       sizeof(*mptcp_pkt_spaces));
    memset(&mptcp_pkt_spaces[2 * (nsfs - 1)], 0, 2 * sizeof(*mptcp_pkt_spaces));
    hot.sf_logs = (sf_log_t *)mptcp_grow(wmem_file_scope(), hot.sf_logs, &capsflogs, nsfs, sizeof(*hot.sf_logs));
    memset(&hot.sf_logs[nsfs - 1], 0, sizeof(*hot.sf_logs));
    return nsfs;
}

const mptcp_pkt_ext_t *
mptcp_pkt_ext_const(const mptcp_pkt_t *pkt)
{
    static const mptcp_pkt_ext_t none;
    const mptcp_pkt_ext_t *x = mptcp_pkt_ext_get(pkt);

    return x ? x : &none;
}

/** The packet's rare part, created if needed, with the rare flag f set (a value that does not fit
 * the result or its data slot goes there). */
static mptcp_pkt_ext_t *
ext_set(mptcp_pkt_t *pkt, unsigned f)
{
    mptcp_pkt_ext_t *e = mptcp_pkt_ext(pkt);

    e->flags |= f;
    return e;
}

/* {{{ the 64-bit DSN and DATA_ACK in 32 bits. A value is its low 32 bits, expanded around the
 * anchor of its data space on the result's subflow that holds at the result's frame: the first
 * value the space saw, then one more each time a value of the newest frame is 2^30 or more away
 * (a transfer of over a GiB). An anchor holds from its frame on and is added only at the newest
 * frame with a value in the space, so no stored value ever decodes differently on a later pass;
 * a value that does not fit (2^31 or more away, or set for an older frame after a new anchor, or
 * without a subflow) goes to ext. */

#define WIDE_SPAN (UINT64_C(1) << 31)      /* values within +-2^31 of the anchor decode */
#define WIDE_NEAR (UINT64_C(1) << 30)      /* farther: a new anchor, where one may be added */

#pragma pack(push, 4)
struct mptcp_pkt_anchor {
    uint64_t v;
    uint32_t frame;            /**< from this frame on */
};
#pragma pack(pop)

/** The anchor of sp at frame. */
static uint64_t
space_anchor(const mptcp_pkt_space_t *sp, uint32_t frame)
{
    uint32_t a = 0, b = sp->nmore;

    while (a < b) {             /* the number of later anchors at or below frame */
        uint32_t m = a + (b - a) / 2;
        if (sp->more[m].frame <= frame)
            a = m + 1;
        else
            b = m;
    }
    return a ? sp->more[a - 1].v : sp->v0;
}

uint64_t
mptcp_pkt_wide_slow(const mptcp_pkt_t *pkt, uint32_t v32, unsigned s, unsigned f)
{
    uint64_t a;

    if (mptcp_pkt_xflag(pkt, f))
        return f == MPTCP_PX_DSN_EXT ? mptcp_pkt_ext_get(pkt)->dsn64 : mptcp_pkt_ext_get(pkt)->ack64;
    if (!pkt->sf_ref)
        return 0;               /* never set: a value without a subflow goes to ext */
    a = space_anchor(&mptcp_pkt_spaces[2 * (pkt->sf_ref - 1) + s], pkt->frame);
    return a + (uint64_t)(int64_t)(int32_t)(v32 - (uint32_t)a);
}

uint64_t
mptcp_pkt_dsn64(const mptcp_pkt_t *pkt)
{
    unsigned s = pkt->flags >> MPTCP_PF_DIR_SHIFT & 1u;      /* mptcp_pkt_dir() & 1 */

    return (pkt->flags & MPTCP_PF_HAS_DSN) ? mptcp_pkt_wide(pkt, pkt->dsn32_, s, MPTCP_PX_DSN_EXT) : 0;
}

uint64_t
mptcp_pkt_ack64(const mptcp_pkt_t *pkt)
{
    unsigned s = 1u - (pkt->flags >> MPTCP_PF_DIR_SHIFT & 1u);

    return (pkt->flags & MPTCP_PF_HAS_ACK) ? mptcp_pkt_wide(pkt, pkt->ack32_, s, MPTCP_PX_ACK_EXT) : 0;
}

/** Packs v into *v32 in space s of pkt's subflow (adding an anchor if needed); false if it does
 * not fit. */
static bool
wide_pack(const mptcp_pkt_t *pkt, uint64_t v, unsigned s, uint32_t *v32)
{
    mptcp_pkt_space_t *sp;
    uint64_t a;

    if (!pkt->sf_ref)
        return false;
    sp = &mptcp_pkt_spaces[2 * (pkt->sf_ref - 1) + s];
    if (!sp->last_frame) {
        sp->v0 = v;
    } else if (v - (a = sp->nmore ? space_anchor(sp, pkt->frame) : sp->v0) + WIDE_NEAR >= 2 * WIDE_NEAR) {
        if (pkt->frame >= sp->last_frame) {
            sp->more = (struct mptcp_pkt_anchor *)mptcp_grow_counted(wmem_file_scope(), sp->more, sp->nmore,
                                                                     sp->nmore + 1, sizeof(*sp->more));
            sp->more[sp->nmore].v = v;
            sp->more[sp->nmore++].frame = pkt->frame;
        } else if (v - a + WIDE_SPAN >= 2 * WIDE_SPAN) {
            return false;
        }
    }
    sp->last_frame = MAX(sp->last_frame, pkt->frame);
    *v32 = (uint32_t)v;
    return true;
}

/** Sets a wide value: *v32 or ext (rare flag f), clearing the other. */
static void
wide_set(mptcp_pkt_t *pkt, uint64_t v, unsigned s, uint32_t *v32, unsigned f)
{
    mptcp_pkt_ext_t *e;

    if (wide_pack(pkt, v, s, v32)) {
        if (mptcp_pkt_xflag(pkt, f))
            mptcp_pkt_ext(pkt)->flags &= (uint16_t)~f;
        return;
    }
    e = ext_set(pkt, f);
    if (f == MPTCP_PX_DSN_EXT)
        e->dsn64 = v;
    else
        e->ack64 = v;
}

/** wide_set()'s common case, in line: a result without ext, a space whose one anchor v is near;
 * false for the others. */
static inline bool
wide_fast(const mptcp_pkt_t *pkt, uint64_t v, unsigned s)
{
    mptcp_pkt_space_t *sp;

    if (!pkt->sf_ref || (pkt->flags & MPTCP_PF_EXT))
        return false;
    sp = &mptcp_pkt_spaces[2 * (pkt->sf_ref - 1) + s];
    if (!sp->last_frame || sp->nmore || v - sp->v0 + WIDE_NEAR >= 2 * WIDE_NEAR)
        return false;
    sp->last_frame = MAX(sp->last_frame, pkt->frame);
    return true;
}

void
mptcp_pkt_set_dsn64(mptcp_pkt_t *pkt, uint64_t dsn)
{
    unsigned s = pkt->flags >> MPTCP_PF_DIR_SHIFT & 1u;      /* mptcp_pkt_dir() & 1 */
    uint32_t v32 = (uint32_t)dsn;

    DISSECTOR_ASSERT(!(pkt->flags & MPTCP_PF_SHORT));     /* a DSN comes with payload */
    if (!wide_fast(pkt, dsn, s)) {
        v32 = 0;
        wide_set(pkt, dsn, s, &v32, MPTCP_PX_DSN_EXT);
    }
    pkt->dsn32_ = v32;
    pkt->flags |= MPTCP_PF_HAS_DSN;
}

void
mptcp_pkt_set_ack64(mptcp_pkt_t *pkt, uint64_t ack)
{
    unsigned s = 1u - (pkt->flags >> MPTCP_PF_DIR_SHIFT & 1u);
    uint32_t v32 = (uint32_t)ack;

    if (!wide_fast(pkt, ack, s)) {
        v32 = 0;
        wide_set(pkt, ack, s, &v32, MPTCP_PX_ACK_EXT);
    }
    pkt->ack32_ = v32;
    pkt->flags |= MPTCP_PF_HAS_ACK;
}
/* }}} */

/* The DSS mapping's DSN: derived again, when rendered, from the DSN the option carries and the
 * packet's own DSN (4 bytes less in every result); rare other cases go to the packet's ext part.
 * RFC 8684 section 3.3: with flag m clear the option carries the low 32 bits of the 64-bit
 * DSN, so it stands for the value with those bits nearest the packet's own DSN (the payload's
 * mapping covers it, at most 64 KiB below it on Linux). */
static uint64_t
dss_derive(const mptcp_pkt_t *pkt, uint64_t raw, bool raw64)
{
    uint64_t dsn = mptcp_pkt_dsn64(pkt);

    return raw64 ? raw : dsn + (uint64_t)(int64_t)(int32_t)((uint32_t)raw - (uint32_t)dsn);
}

void
mptcp_pkt_set_dss_dsn64(mptcp_pkt_t *pkt, uint64_t dss_dsn, uint64_t raw, bool raw64, bool one_raw)
{
    /* without a DSN now, a later one (an ISN pinned later) would change the derivation */
    if (one_raw && (raw64 || (pkt->flags & MPTCP_PF_HAS_DSN)) && dss_derive(pkt, raw, raw64) == dss_dsn)
        return;
    mptcp_pkt_ext(pkt)->dss_dsn64 = dss_dsn;
    pkt->flags |= MPTCP_PF_DSS_DSN_EXT;
}

uint64_t
mptcp_pkt_dss_dsn64(const mptcp_pkt_t *pkt, uint64_t raw, bool raw64)
{
    if (pkt->flags & MPTCP_PF_DSS_DSN_EXT)
        return mptcp_pkt_ext_const(pkt)->dss_dsn64;
    return dss_derive(pkt, raw, raw64);
}

/* The reassembly record of a short result: a DATA_ACK rarely gets one (it declares a hole or
 * delivers bytes that waited), so a map instead of 4 bytes in every short result. */
uint32_t
mptcp_pkt_short_reasm_ref(const mptcp_pkt_t *pkt)
{
    return short_reasm ? GPOINTER_TO_UINT(wmem_map_lookup(short_reasm, pkt)) : 0;
}

void
mptcp_pkt_set_reasm_ref(mptcp_pkt_t *pkt, uint32_t v)
{
    if (!(pkt->flags & MPTCP_PF_SHORT)) {
        pkt->reasm_ref_ = v;
        return;
    }
    if (!short_reasm)
        short_reasm = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    if (v)
        wmem_map_insert(short_reasm, pkt, GUINT_TO_POINTER(v));
    else
        wmem_map_remove(short_reasm, pkt);
}

/* The frames of the mappings that later segments' DSNs come from (mptcp_pkt_map_frame()). */

void
mptcp_pkt_set_map_frame(mptcp_pkt_t *pkt, uint32_t frame)
{
    if (nmapfs && mapfs[nmapfs - 1].pkt == pkt) {     /* set again on the packet's first pass */
        if (frame)
            mapfs[nmapfs - 1].frame = frame;
        else
            nmapfs--;
        return;
    }
    if (!frame)
        return;                 /* the default */
    DISSECTOR_ASSERT(!nmapfs || mapfs[nmapfs - 1].pkt->frame <= pkt->frame);
    mapfs = (map_frame_t *)mptcp_grow(wmem_file_scope(), mapfs, &capmapfs, nmapfs + 1, sizeof(*mapfs));
    mapfs[nmapfs].pkt = pkt;
    mapfs[nmapfs++].frame = frame;
}

uint32_t
mptcp_pkt_map_frame(const mptcp_pkt_t *pkt)
{
    uint32_t a = 0, b = nmapfs;

    if (!b || (pkt->flags & MPTCP_PF_MAP_IN_PKT))
        return 0;
    while (a < b) {             /* the first entry at or above the packet's frame */
        uint32_t m = a + (b - a) / 2;
        if (mapfs[m].pkt->frame < pkt->frame)
            a = m + 1;
        else
            b = m;
    }
    for (; a < nmapfs && mapfs[a].pkt->frame == pkt->frame; a++) {
        if (mapfs[a].pkt == pkt)
            return mapfs[a].frame;
    }
    return 0;
}

/* {{{ the data slot: 8 bytes behind a data segment's result, for its latency and data order
 * (a 24-byte latency and a 24-byte data-order part before; the latency's DATA_ACK is found again
 * in the connection's history, mptcp-latency.c). Times and values that do not fit the compact
 * fields go to the packet's ext part (MPTCP_PX_*_EXT): a time not on a whole microsecond or more
 * than 71 minutes above the file's first data segment, a head-of-line wait of 2.1 s or more that
 * is not a whole number of microseconds, or of 35 min or more, a flight of 256 MiB or more, a
 * first transmission in another frame. */

#define DSLOT_FLIGHT_BITS 28
#define DSLOT_FLIGHT_MASK ((UINT32_C(1) << DSLOT_FLIGHT_BITS) - 1)

/* A duration in 32 bits: below 2^31 ns (2.1 s) as is, else in microseconds (up to 35 min)
 * with the top bit set when it is a whole number of them (pcap's resolution). */
#define NS32_US UINT32_C(0x80000000)

static bool
ns32_pack(int64_t ns, uint32_t *out)
{
    if (ns < 0)
        return false;
    if (ns < (int64_t)NS32_US) {
        *out = (uint32_t)ns;
        return true;
    }
    if (ns % 1000 == 0 && ns / 1000 < (int64_t)NS32_US) {
        *out = (uint32_t)(ns / 1000) | NS32_US;
        return true;
    }
    return false;
}

static int64_t
ns32_unpack(uint32_t v)
{
    return (v & NS32_US) ? (int64_t)(v & ~NS32_US) * 1000 : (int64_t)v;
}

static mptcp_dslot_t *
dslot(const mptcp_pkt_t *pkt)
{
    return (pkt->flags & MPTCP_PF_LAT_SLOT) ? (mptcp_dslot_t *)(uintptr_t)(pkt + 1) : NULL;
}

static unsigned
dslot_flags(const mptcp_dslot_t *s)
{
    return s->flight >> DSLOT_FLIGHT_BITS;
}

/** The frame table's size code of a stored result: 1 a short one (MPTCP_PF_SHORT), 2 the result
 * alone, 3 with its data slot, 4 with the head-of-line wait behind that too. */
static unsigned
pkt_size_code(const mptcp_pkt_t *pkt)
{
    const mptcp_dslot_t *s = dslot(pkt);

    if (pkt->flags & MPTCP_PF_SHORT)
        return 1;
    return !s ? 2 : (dslot_flags(s) & MPTCP_DO_HOL_SLOT) ? 4 : 3;
}

/** mptcp_pkt_set_sent() for any value (out of line: the common one's path stays a leaf). */
static MPTCP_NOINLINE void
set_sent_any(mptcp_pkt_t *pkt, int64_t t, uint32_t first_frame, int64_t first_ns)
{
    mptcp_dslot_t *s = dslot(pkt);

    if (!time_base_set) {
        time_base = t;
        time_base_set = true;
    }
    if (t >= time_base && (t - time_base) % 1000 == 0 && (t - time_base) / 1000 <= UINT32_MAX) {
        s->sent_us = (uint32_t)((t - time_base) / 1000);
    } else {
        ext_set(pkt, MPTCP_PX_SENT_EXT)->sent_ns = t;
    }
    if (first_frame != pkt->frame) {
        mptcp_pkt_ext_t *e = ext_set(pkt, MPTCP_PX_FIRST_EXT);

        e->first_frame = first_frame;
        e->first_ns = first_ns;
    }
}

void
mptcp_pkt_set_sent(mptcp_pkt_t *pkt, int64_t t, uint32_t first_frame, int64_t first_ns)
{
    /* mostly: a first transmission, a whole number of microseconds above the base */
    if (MPTCP_LIKELY(time_base_set && t >= time_base && first_frame == pkt->frame)) {
        uint64_t d = (uint64_t)(t - time_base);

        if (d % 1000 == 0 && d / 1000 <= UINT32_MAX) {
            dslot(pkt)->sent_us = (uint32_t)(d / 1000);
            return;
        }
    }
    set_sent_any(pkt, t, first_frame, first_ns);
}

int64_t
mptcp_pkt_sent_ns(const mptcp_pkt_t *pkt)
{
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_SENT_EXT))
        return mptcp_pkt_ext_get(pkt)->sent_ns;
    return time_base + (int64_t)dslot(pkt)->sent_us * 1000;
}

int64_t
mptcp_pkt_first_ns(const mptcp_pkt_t *pkt)
{
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_FIRST_EXT))
        return mptcp_pkt_ext_get(pkt)->first_ns;
    return mptcp_pkt_sent_ns(pkt);
}

bool
mptcp_pkt_latency(const mptcp_pkt_t *pkt, mptcp_latency_t *out)
{
    const mptcp_dslot_t *s = dslot(pkt);

    if (!s || !(pkt->flags & MPTCP_PF_LAT))
        return false;
    out->sent_ns = mptcp_pkt_sent_ns(pkt);
    out->ns = 0;
    out->first_frame = mptcp_pkt_xflag(pkt, MPTCP_PX_FIRST_EXT) ? mptcp_pkt_ext_get(pkt)->first_frame : pkt->frame;
    out->ack_frame = 0;
    return true;
}

void
mptcp_pkt_set_do_flag(mptcp_pkt_t *pkt, unsigned f)
{
    dslot(pkt)->flight |= (uint32_t)f << DSLOT_FLIGHT_BITS;
}

void
mptcp_pkt_set_flight(mptcp_pkt_t *pkt, uint64_t flight)
{
    mptcp_dslot_t *s = dslot(pkt);

    if (flight <= DSLOT_FLIGHT_MASK) {
        s->flight = (s->flight & ~DSLOT_FLIGHT_MASK) | (uint32_t)flight;
    } else {
        ext_set(pkt, MPTCP_PX_FLIGHT_EXT)->flight = flight;
    }
    mptcp_pkt_set_do_flag(pkt, MPTCP_DO_FLIGHT);
}

void
mptcp_pkt_reserve_hol(mptcp_pkt_t *pkt)
{
#ifndef __SANITIZE_ADDRESS__
    /* the result is the last one carved from the slab (its own first pass): grow it in place */
    size_t size = PKT_SLAB_ROUND(sizeof(mptcp_pkt_t) + sizeof(mptcp_dslot_t));

    G_STATIC_ASSERT(sizeof(dslot_hol_t) % sizeof(uint32_t) == 0);
    if ((uint8_t *)pkt + size != hot.slab || hot.slab_left < sizeof(dslot_hol_t))
        return;
    memset(hot.slab, 0, sizeof(dslot_hol_t));
    hot.slab += sizeof(dslot_hol_t);
    hot.slab_left -= (uint32_t)sizeof(dslot_hol_t);
    mptcp_pkt_set_do_flag(pkt, MPTCP_DO_HOL_SLOT);
#else
    (void)pkt;     /* one allocation per result: the wait goes to ext */
#endif
}

void
mptcp_pkt_set_hol(mptcp_pkt_t *pkt, int64_t ns, uint32_t frame)
{
    mptcp_dslot_t *s = dslot(pkt);
    dslot_hol_t *h = (dslot_hol_t *)(s + 1);

    if ((dslot_flags(s) & MPTCP_DO_HOL_SLOT) && ns32_pack(ns, &h->ns)) {
        h->frame = frame;
    } else {
        mptcp_pkt_ext_t *e = ext_set(pkt, MPTCP_PX_HOL_EXT);

        e->hol_ns = ns;
        e->hol_frame = frame;
    }
}

bool
mptcp_pkt_dataorder(const mptcp_pkt_t *pkt, mptcp_dataorder_t *out)
{
    const mptcp_dslot_t *s = dslot(pkt);
    const dslot_hol_t *h;

    if (!s)
        return false;
    out->flags = dslot_flags(s) & (MPTCP_DO_FLIGHT | MPTCP_DO_WINDOW_FULL | MPTCP_DO_SPURIOUS);
    out->flight = mptcp_pkt_xflag(pkt, MPTCP_PX_FLIGHT_EXT) ? mptcp_pkt_ext_get(pkt)->flight : (s->flight & DSLOT_FLIGHT_MASK);
    out->hol_ns = 0;
    out->hol_frame = 0;
    if (mptcp_pkt_xflag(pkt, MPTCP_PX_HOL_EXT)) {
        out->hol_ns = mptcp_pkt_ext_get(pkt)->hol_ns;
        out->hol_frame = mptcp_pkt_ext_get(pkt)->hol_frame;
    } else if (dslot_flags(s) & MPTCP_DO_HOL_SLOT) {
        h = (const dslot_hol_t *)(s + 1);
        out->hol_ns = ns32_unpack(h->ns);
        out->hol_frame = h->frame;
    }
    return true;
}
/* }}} */

/** The sending (or, with peer, receiving) endpoint, if its key was known at this packet. */
static const mptcp_endpoint_t *
pkt_endpoint(const mptcp_pkt_t *pkt, bool peer)
{
    int e;

    if (!pkt || !mptcp_pkt_conn(pkt) || mptcp_pkt_ep(pkt) < 0)
        return NULL;
    e = peer ? 1 - mptcp_pkt_ep(pkt) : mptcp_pkt_ep(pkt);
    return (mptcp_pkt_keys(pkt) & (1u << e)) ? &mptcp_pkt_conn(pkt)->ep[e] : NULL;
}

void
mptcp_pkt_add_dsn_item(proto_tree *t, int hf, tvbuff_t *tvb, const mptcp_pkt_t *pkt, uint64_t raw, bool peer)
{
    const mptcp_endpoint_t *e = pkt_endpoint(pkt, peer);
    proto_item *ti;

    if (e && e->key_known && mptcp_prefs.relative) {
        /* formatted in one call: skipped entirely when the item is not shown */
        ti = proto_tree_add_uint64_format_value(t, hf, tvb, 0, 0, raw - mptcp_ep_rel_base(e),
                                                "%" PRIu64 " (Relative)", raw - mptcp_ep_rel_base(e));
    } else {
        ti = proto_tree_add_uint64(t, hf, tvb, 0, 0, raw);
    }
    proto_item_set_generated(ti);
}
/* }}} */
