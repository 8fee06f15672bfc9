/* mptcp-optparse.h
 * Stateless parsing of one MPTCP option (TCP option kind 30) into a plain struct.
 * Pure C (no libwireshark), so it is shared by the first-pass analysis and the
 * option renderer, and unit-tested on its own.
 *
 * RFC 8684 section 3 (v1) and RFC 6824 section 3 (v0) define the layouts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_OPTPARSE_H
#define MPTCP_OPTPARSE_H

#include <stdbool.h>
#include <stdint.h>

#define MPTCP_TCPOPT_KIND 30

enum mptcp_subtype {
    MPTCP_SUB_CAPABLE   = 0x0,
    MPTCP_SUB_JOIN      = 0x1,
    MPTCP_SUB_DSS       = 0x2,
    MPTCP_SUB_ADD_ADDR  = 0x3,
    MPTCP_SUB_RM_ADDR   = 0x4,
    MPTCP_SUB_PRIO      = 0x5,
    MPTCP_SUB_FAIL      = 0x6,
    MPTCP_SUB_FASTCLOSE = 0x7,
    MPTCP_SUB_TCPRST    = 0x8,
    MPTCP_SUB_EXPERIMENTAL = 0xf
};

/* DSS flags (RFC 8684 section 3.3, figure 9) */
#define MPTCP_DSS_F   0x10  /**< DATA_FIN */
#define MPTCP_DSS_m   0x08  /**< DSN is 8 octets */
#define MPTCP_DSS_M   0x04  /**< mapping present */
#define MPTCP_DSS_a   0x02  /**< DATA_ACK is 8 octets */
#define MPTCP_DSS_A   0x01  /**< DATA_ACK present */

/* MP_CAPABLE flags (RFC 8684 section 3.1) */
#define MPTCP_CAP_A   0x80  /**< checksum required */
#define MPTCP_CAP_B   0x40  /**< extensibility */
#define MPTCP_CAP_C   0x20  /**< v1: do not attempt new subflows to this address */
#define MPTCP_CAP_H   0x01  /**< HMAC-SHA256 (v1) / HMAC-SHA1 (v0) */

typedef enum {
    MPTCP_OPT_OK = 0,
    MPTCP_OPT_BAD_LENGTH,      /**< length byte not legal for this subtype/version */
    MPTCP_OPT_TRUNCATED,       /**< fewer captured bytes than the length byte says */
    MPTCP_OPT_TOO_SHORT,       /**< length < 3: not even a subtype */
    MPTCP_OPT_UNKNOWN_SUBTYPE
} mptcp_opt_status_t;

typedef enum {
    MPTCP_JOIN_SYN = 1,     /**< length 12: token + nonce */
    MPTCP_JOIN_SYNACK,      /**< length 16: truncated HMAC + nonce */
    MPTCP_JOIN_ACK          /**< length 24: full HMAC */
} mptcp_join_kind_t;

/** One parsed MPTCP option. Offsets are from the start of the option (kind byte). */
typedef struct {
    uint8_t subtype;
    uint8_t len;               /**< the option's length byte */
    mptcp_opt_status_t status;
    uint8_t flags;             /**< MP_CAPABLE/DSS: byte 3; JOIN/PRIO/TCPRST/ADD_ADDR: low nibble of byte 2 */

    union {
        struct {
            uint8_t version;
            bool has_sendkey, has_recvkey, has_dll, has_csum;
            uint64_t sendkey, recvkey;
            uint16_t dll, csum;
        } cap;
        struct {
            mptcp_join_kind_t kind;
            bool backup;
            uint8_t addr_id;
            uint32_t token;            /**< SYN: receiver's token */
            uint32_t nonce;            /**< SYN, SYN/ACK: sender's random number */
            uint64_t trunc_hmac;       /**< SYN/ACK */
            uint8_t hmac[20];          /**< ACK */
        } join;
        struct {
            bool has_ack, ack8, has_map, dsn8, has_csum, fin;
            uint64_t ack;              /**< raw DATA_ACK, 4 or 8 octets (a flag) */
            uint64_t dsn;              /**< raw DSN, 4 or 8 octets (m flag) */
            uint32_t ssn;              /**< relative subflow sequence number */
            uint16_t dll;              /**< data-level length */
            uint16_t csum;
            uint8_t ack_off, dsn_off, ssn_off, dll_off, csum_off;
        } dss;
        struct {
            bool v1;                   /**< v1 layout (echo flag, HMAC) or v0 (IPVer) */
            bool echo, ipv6, has_port, has_hmac;
            uint8_t ipver;             /**< v0 only */
            uint8_t addr_id;
            uint8_t addr[16];
            uint16_t port;
            uint64_t hmac;
            uint8_t port_off, hmac_off;
        } add;
        struct {
            uint8_t count;             /**< number of address ids, starting at offset 3 */
        } rm;
        struct {
            bool backup, has_addr_id;
            uint8_t addr_id;
        } prio;
        struct {
            uint64_t dsn;
        } fail;
        struct {
            uint64_t key;              /**< receiver's key */
        } fastclose;
        struct {
            uint8_t reason;
        } tcprst;
    } u;
} mptcp_opt_t;

/**
 * Parse one MPTCP option.
 * @param p        the option bytes, starting at the kind byte
 * @param caplen   bytes available at p (may be less than the length byte)
 * @param version  negotiated MPTCP version of the connection: 0, 1, or -1 if unknown
 *                 (decides the ADD_ADDR layout where the length is ambiguous)
 * @param o        result; always initialised, fields valid only when status is OK
 * @return o->status
 */
mptcp_opt_status_t mptcp_opt_parse(const uint8_t *p, unsigned caplen, int version, mptcp_opt_t *o);

/** The TCP option at or after *off in a TCP header p[0, end) (NOPs skipped; start at 20): sets
 * *off to its offset and *len to its length, and the caller goes on at *off + *len. false at
 * the end of the captured options, at End of Option List, or at a length below 2. Inline: it
 * runs for every option of every TCP segment. */
static inline bool
mptcp_tcpopt_next(const uint8_t *p, unsigned end, unsigned *off, uint8_t *len)
{
    while (*off < end && p[*off] == 1)         /* NOP */
        (*off)++;
    if (*off >= end || p[*off] == 0 || *off + 1 >= end || p[*off + 1] < 2)
        return false;
    *len = p[*off + 1];
    return true;
}

/** Expected DSS length for the given flags, without the optional checksum. */
unsigned mptcp_dss_expected_len(uint8_t flags);

#endif /* MPTCP_OPTPARSE_H */
