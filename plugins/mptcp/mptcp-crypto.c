/* mptcp-crypto.c
 * Key -> token/IDSN hashes and the HMACs of MP_JOIN and ADD_ADDR, via libgcrypt.
 * v0 (RFC 6824) uses SHA-1 / HMAC-SHA1, v1 (RFC 8684) SHA-256 / HMAC-SHA256.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "mptcp-int.h"

#include <wsutil/wsgcrypt.h>   /* gcrypt.h, as Wireshark code must include it (checkAPIs.pl) */

static int
md_algo(int version)
{
    return version == 0 ? GCRY_MD_SHA1 : GCRY_MD_SHA256;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* RFC 8684 section 3.1: "The token ... is the most significant 32 bits of the SHA-256 hash
 * of the key"; "the IDSN ... is the least significant 64 bits of the SHA-256 hash". */
void
mptcp_key_to_token_idsn(int version, uint64_t key, uint32_t *token, uint64_t *idsn)
{
    uint8_t in[8], out[32];
    unsigned dlen = version == 0 ? 20 : 32;

    put_be64(in, key);
    gcry_md_hash_buffer(md_algo(version), out, in, sizeof(in));
    *token = (uint32_t)(get_be64(out) >> 32);
    *idsn = get_be64(out + dlen - 8);
}

/* HMAC over msg with the 16-byte key (key1 || key2); out gets the full digest (<= 32 bytes). */
static void
mptcp_hmac(int version, uint64_t key1, uint64_t key2, const uint8_t *msg, size_t msglen, uint8_t *out)
{
    uint8_t key[16];
    gcry_md_hd_t h;
    int algo = md_algo(version);

    put_be64(key, key1);
    put_be64(key + 8, key2);
    memset(out, 0, 32);
    if (gcry_md_open(&h, algo, GCRY_MD_FLAG_HMAC) != 0)
        return;
    if (gcry_md_setkey(h, key, sizeof(key)) == 0) {
        gcry_md_write(h, msg, msglen);
        memcpy(out, gcry_md_read(h, algo), gcry_md_get_algo_dlen(algo));
    }
    gcry_md_close(h);
}

/* RFC 8684 section 3.2: B's SYN/ACK carries the leftmost 64 bits of
 * HMAC(Key=(Key-B+Key-A), Msg=(R-B+R-A)); A is the host that sent the MP_JOIN SYN. */
uint64_t
mptcp_join_synack_hmac(int version, uint64_t key_b, uint64_t key_a, uint32_t nonce_b, uint32_t nonce_a)
{
    uint8_t msg[8], out[32];

    put_be32(msg, nonce_b);
    put_be32(msg + 4, nonce_a);
    mptcp_hmac(version, key_b, key_a, msg, sizeof(msg), out);
    return get_be64(out);
}

/* RFC 8684 section 3.2: A's third ACK carries HMAC(Key=(Key-A+Key-B), Msg=(R-A+R-B)),
 * truncated to its leftmost 160 bits. */
void
mptcp_join_ack_hmac(int version, uint64_t key_a, uint64_t key_b, uint32_t nonce_a, uint32_t nonce_b,
                    uint8_t out20[20])
{
    uint8_t msg[8], out[32];

    put_be32(msg, nonce_a);
    put_be32(msg + 4, nonce_b);
    mptcp_hmac(version, key_a, key_b, msg, sizeof(msg), out);
    memcpy(out20, out, 20);
}

/* RFC 8684 section 3.4.1: the rightmost 64 bits of HMAC(Key=(Key-A+Key-B),
 * Msg=(Address ID + IP Address + Port)), A being the announcing host. Linux always
 * appends the 2-octet port, 0 when the option carries none. */
uint64_t
mptcp_add_addr_hmac(uint64_t key_sender, uint64_t key_peer, uint8_t addr_id, const uint8_t *addr,
                    unsigned addr_len, bool has_port, uint16_t port)
{
    uint8_t msg[1 + 16 + 2], out[32];
    size_t n = 0;

    msg[n++] = addr_id;
    memcpy(msg + n, addr, addr_len);
    n += addr_len;
    if (!has_port)
        port = 0;
    msg[n++] = (uint8_t)(port >> 8);
    msg[n++] = (uint8_t)port;
    mptcp_hmac(1, key_sender, key_peer, msg, n, out);
    return get_be64(out + 32 - 8);
}
