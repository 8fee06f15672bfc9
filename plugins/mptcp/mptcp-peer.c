/* mptcp-peer.c
 * Reading the peer capture (issue 21): libwiretap gives the records, this file parses the link
 * layer, IPv4/IPv6 and TCP with its options (MPTCP ones through mptcp-optparse.c). No second
 * dissection session: nothing here touches epan.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define MPTCP_COMPAT_WTAP 1
#include "mptcp-compat.h"

#include <string.h>

#include "mptcp-peer.h"

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Linux SLL/SLL2 packet types: 0 to us, 4 outgoing (others: broadcast, multicast, other host). */
static mptcp_peer_dir_t
sll_dir(unsigned pkttype)
{
    if (pkttype == 4)
        return MPTCP_PEER_DIR_OUT;
    return pkttype == 0 ? MPTCP_PEER_DIR_IN : MPTCP_PEER_DIR_UNKNOWN;
}

/* Offset of the IP header and IP version (0: not IP) behind the link layer. */
static mptcp_peer_parse_t
link_layer(int encap, const uint8_t *d, unsigned caplen, unsigned *off, unsigned *ver,
           mptcp_peer_dir_t *dir)
{
    unsigned et = 0, o = 0;

    *dir = MPTCP_PEER_DIR_UNKNOWN;
    switch (encap) {
    case WTAP_ENCAP_ETHERNET:
        o = 12;
        do {
            if (caplen < o + 2)
                return MPTCP_PEER_PARSE_NOT_TCP;
            et = be16(d + o);
            o += (et == 0x8100 || et == 0x88a8 || et == 0x9100) ? 4 : 2;
        } while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && o < 64);
        break;
    case WTAP_ENCAP_SLL:
        if (caplen < 16)
            return MPTCP_PEER_PARSE_NOT_TCP;
        *dir = sll_dir(be16(d));
        et = be16(d + 14);
        o = 16;
        break;
    case WTAP_ENCAP_SLL2:
        if (caplen < 20)
            return MPTCP_PEER_PARSE_NOT_TCP;
        *dir = sll_dir(d[10]);
        et = be16(d);
        o = 20;
        break;
    case WTAP_ENCAP_RAW_IP:
    case WTAP_ENCAP_RAW_IP4:
    case WTAP_ENCAP_RAW_IP6:
        if (caplen < 1)
            return MPTCP_PEER_PARSE_NOT_TCP;
        *off = 0;
        *ver = d[0] >> 4;
        return MPTCP_PEER_PARSE_OK;
    case WTAP_ENCAP_NULL:
    case WTAP_ENCAP_LOOP: {
        uint32_t fam;
        if (caplen < 4)
            return MPTCP_PEER_PARSE_NOT_TCP;
        /* NULL: host byte order of the capturing machine; LOOP: network order */
        fam = encap == WTAP_ENCAP_LOOP ? be32(d)
                                       : (d[0] ? (uint32_t)d[0] | (uint32_t)d[1] << 8 : be32(d));
        *off = 4;
        *ver = fam == 2 ? 4 : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 6 : 0;
        return MPTCP_PEER_PARSE_OK;
    }
    default:
        return MPTCP_PEER_PARSE_LINKTYPE;
    }
    *off = o;
    *ver = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
    return MPTCP_PEER_PARSE_OK;
}

/* IPv4/IPv6 header at d[o]: addresses, id, where TCP starts and how long it is. */
static bool
ip_layer(const uint8_t *d, unsigned caplen, unsigned o, unsigned ver, mptcp_peer_seg_t *seg,
         unsigned *tcp_off, unsigned *tcp_total)
{
    if (ver == 4) {
        unsigned ihl, tot;
        if (caplen < o + 20 || d[o] >> 4 != 4)
            return false;
        ihl = (d[o] & 0x0fu) * 4;
        tot = be16(d + o + 2);
        if (d[o + 9] != 6 || (be16(d + o + 6) & 0x3fff) || ihl < 20 || tot < ihl)
            return false;
        seg->ipver = 4;
        seg->ipid = be16(d + o + 4);
        memcpy(seg->src, d + o + 12, 4);
        memcpy(seg->dst, d + o + 16, 4);
        *tcp_off = o + ihl;
        *tcp_total = tot - ihl;
        return true;
    }
    if (ver == 6) {
        unsigned nh, p = o + 40, end;
        if (caplen < o + 40 || d[o] >> 4 != 6)
            return false;
        nh = d[o + 6];
        end = p + be16(d + o + 4);
        /* hop-by-hop, routing, destination options, fragment (first only), AH */
        while (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51) {
            if (caplen < p + 8)
                return false;
            if (nh == 44 && (be16(d + p + 2) & 0xfff9))
                return false;
            unsigned hl = nh == 44 ? 8 : nh == 51 ? (d[p + 1] + 2u) * 4 : (d[p + 1] + 1u) * 8;
            nh = d[p];
            p += hl;
        }
        if (nh != 6 || end < p)
            return false;
        seg->ipver = 6;
        memcpy(seg->src, d + o + 8, 16);
        memcpy(seg->dst, d + o + 24, 16);
        *tcp_off = p;
        *tcp_total = end - p;
        return true;
    }
    return false;
}

static void
tcp_options(const uint8_t *d, unsigned o, unsigned end, mptcp_peer_seg_t *seg)
{
    uint8_t len;

    for (; mptcp_tcpopt_next(d, end, &o, &len); o += len) {   /* the plugin's one option walker */
        unsigned kind = d[o];

        if (kind == 8 && len == 10 && o + 10 <= end) {
            seg->has_ts = true;
            seg->tsval = be32(d + o + 2);
            seg->tsecr = be32(d + o + 6);
        } else if (kind == MPTCP_TCPOPT_KIND && seg->nopts < MPTCP_PEER_MAX_OPTS) {
            unsigned avail = end - o < len ? end - o : len;
            if (mptcp_opt_parse(d + o, avail, -1, &seg->opts[seg->nopts]) == MPTCP_OPT_OK)
                seg->nopts++;
        }
    }
}

mptcp_peer_parse_t
mptcp_peer_parse_frame(int wtap_encap, const uint8_t *data, unsigned caplen, mptcp_peer_seg_t *seg)
{
    unsigned off = 0, ver = 0, t, total, doff;
    mptcp_peer_dir_t dir;
    mptcp_peer_parse_t r;

    memset(seg, 0, offsetof(mptcp_peer_seg_t, opts));
    r = link_layer(wtap_encap, data, caplen, &off, &ver, &dir);
    if (r != MPTCP_PEER_PARSE_OK)
        return r;
    seg->dir = dir;
    if (!ip_layer(data, caplen, off, ver, seg, &t, &total) || total < 20 || caplen < t + 20)
        return MPTCP_PEER_PARSE_NOT_TCP;
    doff = (data[t + 12] >> 4) * 4u;
    if (doff < 20 || doff > total)
        return MPTCP_PEER_PARSE_NOT_TCP;
    seg->sport = be16(data + t);
    seg->dport = be16(data + t + 2);
    seg->seq = be32(data + t + 4);
    seg->ack = be32(data + t + 8);
    seg->flags = be16(data + t + 12) & 0x1ff;
    seg->len = total - doff;
    tcp_options(data, t + 20, caplen < t + doff ? caplen : t + doff, seg);
    return MPTCP_PEER_PARSE_OK;
}

/* pcapng packet flags (epb_flags): inbound / outbound, when the link layer did not say. */
static mptcp_peer_dir_t
record_dir(const wtap_rec *rec)
{
    uint32_t flags;

    if (!rec->block || wtap_block_get_uint32_option_value(rec->block, OPT_PKT_FLAGS, &flags) != WTAP_OPTTYPE_SUCCESS)
        return MPTCP_PEER_DIR_UNKNOWN;
    switch (PACK_FLAGS_DIRECTION(flags)) {
    case PACK_FLAGS_DIRECTION_INBOUND:
        return MPTCP_PEER_DIR_IN;
    case PACK_FLAGS_DIRECTION_OUTBOUND:
        return MPTCP_PEER_DIR_OUT;
    default:
        return MPTCP_PEER_DIR_UNKNOWN;
    }
}

/* ---------------------------------------------------------------------------------------- */

bool
mptcp_peer_foreach(const char *path, mptcp_peer_frame_cb cb, void *ud, char **err_msg)
{
    int err = 0;
    gchar *err_info = NULL;
    gint64 offset;
    uint32_t frame = 0;
    bool ok = true, some_known = false;
    mptcp_wtap_reader_t rd;
    wtap *wth = wtap_open_offline(path, WTAP_TYPE_AUTO, &err, &err_info, FALSE);

    if (!wth) {
        *err_msg = g_strdup_printf("MPTCP peer capture \"%s\": %s%s%s", path, wtap_strerror(err),
                                   err_info ? ": " : "", err_info ? err_info : "");
        g_free(err_info);
        return false;
    }
    mptcp_wtap_reader_init(&rd);
    while (mptcp_wtap_read(wth, &rd, &err, &err_info, &offset)) {
        const wtap_rec *rec = &rd.rec;
        mptcp_peer_seg_t seg;
        frame++;
        if (rec->rec_type != REC_TYPE_PACKET) {
            wtap_rec_reset(&rd.rec);
            continue;
        }
        switch (mptcp_peer_parse_frame(rec->rec_header.packet_header.pkt_encap, mptcp_wtap_data(&rd),
                                       rec->rec_header.packet_header.caplen, &seg)) {
        case MPTCP_PEER_PARSE_OK:
            some_known = true;
            seg.frame = frame;
            seg.ts_ns = (int64_t)rec->ts.secs * 1000000000 + rec->ts.nsecs;
            if (seg.dir == MPTCP_PEER_DIR_UNKNOWN)
                seg.dir = record_dir(rec);
            cb(&seg, ud);
            break;
        case MPTCP_PEER_PARSE_NOT_TCP:
            some_known = true;
            break;
        case MPTCP_PEER_PARSE_LINKTYPE:
            break;
        }
        wtap_rec_reset(&rd.rec);   /* drops the record's block (options, comments) */
    }
    if (err != 0) {
        *err_msg = g_strdup_printf("MPTCP peer capture \"%s\": %s after frame %u%s%s", path,
                                   wtap_strerror(err), frame, err_info ? ": " : "", err_info ? err_info : "");
        ok = false;
    } else if (!some_known && frame > 0) {
        *err_msg = g_strdup_printf("MPTCP peer capture \"%s\": link type %s not supported "
                                   "(Ethernet, Linux SLL/SLL2, raw IP, NULL/LOOP are)", path,
                                   wtap_encap_name(wtap_file_encap(wth)));
        ok = false;
    }
    g_free(err_info);
    mptcp_wtap_reader_cleanup(&rd);
    wtap_close(wth);
    return ok;
}

static void
index_cb(const mptcp_peer_seg_t *seg, void *ud)
{
    mptcp_peer_index_add((mptcp_peer_index_t *)ud, seg);
}

mptcp_peer_index_t *
mptcp_peer_read(const char *path, char **err_msg)
{
    mptcp_peer_index_t *idx = mptcp_peer_index_new();

    *err_msg = NULL;
    if (!path || !*path) {
        *err_msg = g_strdup("MPTCP peer capture: no file name");
        mptcp_peer_index_free(idx);
        return NULL;
    }
    if (!mptcp_peer_foreach(path, index_cb, idx, err_msg)) {
        mptcp_peer_index_free(idx);
        return NULL;
    }
    mptcp_peer_index_finish(idx);
    if (mptcp_peer_index_mptcp_segments(idx) == 0) {
        *err_msg = g_strdup_printf("MPTCP peer capture \"%s\": no MPTCP option in its %u TCP segments",
                                   path, mptcp_peer_index_count(idx));
        mptcp_peer_index_free(idx);
        return NULL;
    }
    return idx;
}
