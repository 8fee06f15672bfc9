/* mptcp-optparse.c
 * Stateless parsing of one MPTCP option. See mptcp-optparse.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "mptcp-optparse.h"
#include "mptcp-hint.h"

static inline uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
rd64(const uint8_t *p)
{
    return ((uint64_t)rd32(p) << 32) | rd32(p + 4);
}

/** Fixed-length subtypes: sets the status from the length; true if it is the right one. */
static bool
has_length(mptcp_opt_t *o, unsigned len)
{
    o->status = o->len == len ? MPTCP_OPT_OK : MPTCP_OPT_BAD_LENGTH;
    return o->status == MPTCP_OPT_OK;
}

unsigned
mptcp_dss_expected_len(uint8_t flags)
{
    unsigned len = 4;

    if (flags & MPTCP_DSS_A)
        len += (flags & MPTCP_DSS_a) ? 8 : 4;
    if (flags & MPTCP_DSS_M)
        len += ((flags & MPTCP_DSS_m) ? 8 : 4) + 4 + 2;
    return len;
}

/* RFC 8684 section 3.1: v1 lengths 4 (SYN), 12 (SYN/ACK), 20 (ACK), 22 (ACK + data),
 * 24 (ACK + data + checksum). RFC 6824 section 3.1: v0 lengths 12 (SYN, SYN/ACK), 20 (ACK). */
static mptcp_opt_status_t
parse_capable(const uint8_t *p, mptcp_opt_t *o)
{
    o->u.cap.version = p[2] & 0x0f;
    o->flags = p[3];
    if (o->u.cap.version == 0) {
        if (o->len != 12 && o->len != 20)
            return MPTCP_OPT_BAD_LENGTH;
    } else if (o->len != 4 && o->len != 12 && o->len != 20 && o->len != 22 && o->len != 24) {
        return MPTCP_OPT_BAD_LENGTH;
    }
    if (o->len >= 12) {
        o->u.cap.has_sendkey = true;
        o->u.cap.sendkey = rd64(p + 4);
    }
    if (o->len >= 20) {
        o->u.cap.has_recvkey = true;
        o->u.cap.recvkey = rd64(p + 12);
    }
    if (o->len >= 22) {
        o->u.cap.has_dll = true;
        o->u.cap.dll = rd16(p + 20);
    }
    if (o->len == 24) {
        o->u.cap.has_csum = true;
        o->u.cap.csum = rd16(p + 22);
    }
    return MPTCP_OPT_OK;
}

/* RFC 8684 section 3.2: SYN 12, SYN/ACK 16, third ACK 24 octets. */
static mptcp_opt_status_t
parse_join(const uint8_t *p, mptcp_opt_t *o)
{
    o->flags = p[2] & 0x0f;
    switch (o->len) {
    case 12:
        o->u.join.kind = MPTCP_JOIN_SYN;
        o->u.join.backup = p[2] & 0x01;
        o->u.join.addr_id = p[3];
        o->u.join.token = rd32(p + 4);
        o->u.join.nonce = rd32(p + 8);
        return MPTCP_OPT_OK;
    case 16:
        o->u.join.kind = MPTCP_JOIN_SYNACK;
        o->u.join.backup = p[2] & 0x01;
        o->u.join.addr_id = p[3];
        o->u.join.trunc_hmac = rd64(p + 4);
        o->u.join.nonce = rd32(p + 12);
        return MPTCP_OPT_OK;
    case 24:
        o->u.join.kind = MPTCP_JOIN_ACK;
        memcpy(o->u.join.hmac, p + 4, 20);
        return MPTCP_OPT_OK;
    default:
        return MPTCP_OPT_BAD_LENGTH;
    }
}

/* RFC 8684 section 3.3: the m flag gives the DSN width, the a flag the DATA_ACK width;
 * the checksum is present (2 octets after the data-level length) only when negotiated,
 * which shows as a length 2 octets larger than the flags require. */
static mptcp_opt_status_t
parse_dss(const uint8_t *p, mptcp_opt_t *o)
{
    unsigned exp, off = 4;

    o->flags = p[3] & 0x1f;
    exp = mptcp_dss_expected_len(o->flags);
    if (o->len == exp) {
        o->u.dss.has_csum = false;
    } else if ((o->flags & MPTCP_DSS_M) && o->len == exp + 2) {
        o->u.dss.has_csum = true;
    } else {
        return MPTCP_OPT_BAD_LENGTH;
    }
    o->u.dss.fin = (o->flags & MPTCP_DSS_F) != 0;
    if (o->flags & MPTCP_DSS_A) {
        o->u.dss.has_ack = true;
        o->u.dss.ack8 = (o->flags & MPTCP_DSS_a) != 0;
        o->u.dss.ack_off = (uint8_t)off;
        o->u.dss.ack = o->u.dss.ack8 ? rd64(p + off) : rd32(p + off);
        off += o->u.dss.ack8 ? 8 : 4;
    }
    if (o->flags & MPTCP_DSS_M) {
        o->u.dss.has_map = true;
        o->u.dss.dsn8 = (o->flags & MPTCP_DSS_m) != 0;
        o->u.dss.dsn_off = (uint8_t)off;
        o->u.dss.dsn = o->u.dss.dsn8 ? rd64(p + off) : rd32(p + off);
        off += o->u.dss.dsn8 ? 8 : 4;
        o->u.dss.ssn_off = (uint8_t)off;
        o->u.dss.ssn = rd32(p + off);
        off += 4;
        o->u.dss.dll_off = (uint8_t)off;
        o->u.dss.dll = rd16(p + off);
        off += 2;
        if (o->u.dss.has_csum) {
            o->u.dss.csum_off = (uint8_t)off;
            o->u.dss.csum = rd16(p + off);
        }
    }
    return MPTCP_OPT_OK;
}

/* RFC 8684 section 3.4.1 (v1: E flag, optional port, 8-octet truncated HMAC unless E=1)
 * and RFC 6824 section 3.4.1 (v0: IPVer nibble, optional port, no HMAC). */
static mptcp_opt_status_t
parse_add_addr(const uint8_t *p, int version, mptcp_opt_t *o)
{
    unsigned alen, off;
    uint8_t nib = p[2] & 0x0f;

    o->flags = nib;
    switch (o->len) {
    case 16: case 18: case 28: case 30:
        o->u.add.v1 = true;             /* only v1 carries an HMAC */
        break;
    case 8: case 10: case 20: case 22:
        if (version == 0 || version == 1)
            o->u.add.v1 = (version == 1);
        else
            o->u.add.v1 = !(nib == 4 || nib == 6);
        break;
    default:
        return MPTCP_OPT_BAD_LENGTH;
    }
    if (o->u.add.v1) {
        o->u.add.echo = nib & 0x01;
        o->u.add.ipv6 = (o->len == 20 || o->len == 22 || o->len == 28 || o->len == 30);
        o->u.add.has_hmac = (o->len == 16 || o->len == 18 || o->len == 28 || o->len == 30);
        /* Figure 12: the truncated HMAC is there exactly when E = 0 (an echo carries none);
         * Linux (mptcp_parse_option) also ignores the other combinations. */
        if (o->u.add.has_hmac == o->u.add.echo)
            return MPTCP_OPT_BAD_LENGTH;
    } else {
        o->u.add.ipver = nib;
        if (nib == 4)
            o->u.add.ipv6 = false;
        else if (nib == 6)
            o->u.add.ipv6 = true;
        else
            return MPTCP_OPT_BAD_LENGTH;
        if (o->u.add.ipv6 != (o->len == 20 || o->len == 22))
            return MPTCP_OPT_BAD_LENGTH;
    }
    alen = o->u.add.ipv6 ? 16 : 4;
    o->u.add.has_port = (o->len == (o->u.add.has_hmac ? 4 + alen + 10 : 4 + alen + 2));
    o->u.add.addr_id = p[3];
    memcpy(o->u.add.addr, p + 4, alen);
    off = 4 + alen;
    if (o->u.add.has_port) {
        o->u.add.port_off = (uint8_t)off;
        o->u.add.port = rd16(p + off);
        off += 2;
    }
    if (o->u.add.has_hmac) {
        o->u.add.hmac_off = (uint8_t)off;
        o->u.add.hmac = rd64(p + off);
    }
    return MPTCP_OPT_OK;
}

/* Every option but DSS: the handshakes and the signalling, a few packets of a connection. */
static void
parse_rare(const uint8_t *p, int version, mptcp_opt_t *o)
{
    /* Every fixed layout below needs at least 4 octets except MP_PRIO (3) and REMOVE_ADDR (>= 4). */
    switch (o->subtype) {
    case MPTCP_SUB_CAPABLE:
        o->status = o->len < 4 ? MPTCP_OPT_BAD_LENGTH : parse_capable(p, o);
        break;
    case MPTCP_SUB_JOIN:
        o->status = parse_join(p, o);
        break;
    case MPTCP_SUB_ADD_ADDR:
        o->status = parse_add_addr(p, version, o);
        break;
    case MPTCP_SUB_RM_ADDR:
        if (o->len < 4) {
            o->status = MPTCP_OPT_BAD_LENGTH;
        } else {
            o->u.rm.count = (uint8_t)(o->len - 3);
            o->status = MPTCP_OPT_OK;
        }
        break;
    case MPTCP_SUB_PRIO:
        /* RFC 8684 section 3.3.8: length 3; RFC 6824 allowed an address id (length 4). */
        o->flags = p[2] & 0x0f;
        o->u.prio.backup = p[2] & 0x01;
        if (o->len == 4) {
            o->u.prio.has_addr_id = true;
            o->u.prio.addr_id = p[3];
            o->status = MPTCP_OPT_OK;
        } else {
            o->status = o->len == 3 ? MPTCP_OPT_OK : MPTCP_OPT_BAD_LENGTH;
        }
        break;
    case MPTCP_SUB_FAIL:
        if (has_length(o, 12))
            o->u.fail.dsn = rd64(p + 4);
        break;
    case MPTCP_SUB_FASTCLOSE:
        if (has_length(o, 12))
            o->u.fastclose.key = rd64(p + 4);
        break;
    case MPTCP_SUB_TCPRST:
        o->flags = p[2] & 0x0f;
        if (has_length(o, 4))
            o->u.tcprst.reason = p[3];
        break;
    default:
        o->status = MPTCP_OPT_UNKNOWN_SUBTYPE;
        break;
    }
}

mptcp_opt_status_t
mptcp_opt_parse(const uint8_t *p, unsigned caplen, int version, mptcp_opt_t *o)
{
    memset(o, 0, sizeof(*o));
    if (caplen < 2) {
        o->status = MPTCP_OPT_TRUNCATED;
        return o->status;
    }
    o->len = p[1];
    if (o->len < 3) {
        o->status = MPTCP_OPT_TOO_SHORT;
        return o->status;
    }
    if (caplen < 3) {
        o->status = MPTCP_OPT_TRUNCATED;
        return o->status;
    }
    o->subtype = p[2] >> 4;
    if (caplen < o->len) {
        o->status = MPTCP_OPT_TRUNCATED;
        return o->status;
    }
    if (MPTCP_LIKELY(o->subtype == MPTCP_SUB_DSS))
        o->status = o->len < 4 ? MPTCP_OPT_BAD_LENGTH : parse_dss(p, o);
    else
        parse_rare(p, version, o);
    return o->status;
}
