/* test_optparse.c
 * Unit tests of mptcp_opt_parse() (plugins/mptcp/mptcp-optparse.c): every subtype, every legal
 * length for v0 (RFC 6824 section 3) and v1 (RFC 8684 section 3), illegal lengths, truncation
 * and flags. Expected values come from the RFC byte layouts built here.
 *
 * Every option is parsed from a heap buffer of exactly the captured length, so with the
 * sanitizers (tests/unit/CMakeLists.txt) any read past the captured bytes fails.
 * Exit code = number of failed checks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcp-optparse.h"

static int failures;
static int checks;
static const char *current = "";

#define CHECK(cond) do { \
        checks++; \
        if (!(cond)) { \
            failures++; \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, current, #cond); \
        } \
    } while (0)

#define CHECK_EQ(a, b) do { \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
        checks++; \
        if (a_ != b_) { \
            failures++; \
            fprintf(stderr, "%s:%d: [%s] %s == %s: 0x%" PRIx64 " != 0x%" PRIx64 "\n", __FILE__, __LINE__, \
                    current, #a, #b, a_, b_); \
        } \
    } while (0)

/* {{{ option builder */

typedef struct {
    uint8_t b[64];
    unsigned n;
} opt_t;

static void
put8(opt_t *o, unsigned v)
{
    o->b[o->n++] = (uint8_t)v;
}

static void
put16(opt_t *o, unsigned v)
{
    put8(o, v >> 8);
    put8(o, v);
}

static void
put32(opt_t *o, uint32_t v)
{
    put16(o, v >> 16);
    put16(o, v & 0xffff);
}

static void
put64(opt_t *o, uint64_t v)
{
    put32(o, (uint32_t)(v >> 32));
    put32(o, (uint32_t)v);
}

/** kind 30, length (fixed up by finish()), subtype << 4 | nibble */
static opt_t
begin(unsigned subtype, unsigned nibble)
{
    opt_t o;

    memset(&o, 0, sizeof(o));
    put8(&o, MPTCP_TCPOPT_KIND);
    put8(&o, 0);
    put8(&o, (subtype << 4) | (nibble & 0x0f));
    return o;
}

static opt_t
finish(opt_t o)
{
    o.b[1] = (uint8_t)o.n;
    return o;
}

/** Parses the first caplen octets of o from a heap buffer of exactly caplen octets. */
static mptcp_opt_status_t
parse_n(const opt_t *o, unsigned caplen, int version, mptcp_opt_t *r)
{
    uint8_t *p = malloc(caplen ? caplen : 1);
    mptcp_opt_status_t st;

    memcpy(p, o->b, caplen);
    st = mptcp_opt_parse(p, caplen, version, r);
    free(p);
    CHECK_EQ(r->status, st);
    return st;
}

static mptcp_opt_status_t
parse(const opt_t *o, int version, mptcp_opt_t *r)
{
    return parse_n(o, o->n, version, r);
}

/** Every proper prefix of a well-formed option is reported truncated (or too short). */
static void
check_prefixes(const opt_t *o, int version)
{
    mptcp_opt_t r;

    for (unsigned c = 0; c < o->n; c++) {
        mptcp_opt_status_t st = parse_n(o, c, version, &r);
        CHECK(st == MPTCP_OPT_TRUNCATED);
    }
}

/* }}} */

static const uint64_t KEY_A = 0x0123456789abcdefULL, KEY_B = 0xfedcba9876543210ULL;

/* {{{ MP_CAPABLE: RFC 8684 section 3.1 figure 4, RFC 6824 section 3.1 */

static opt_t
capable(unsigned version, unsigned flags, int nkeys, int dll, int csum)
{
    opt_t o = begin(MPTCP_SUB_CAPABLE, version);

    put8(&o, flags);
    if (nkeys >= 1)
        put64(&o, KEY_A);
    if (nkeys >= 2)
        put64(&o, KEY_B);
    if (dll >= 0)
        put16(&o, (unsigned)dll);
    if (csum >= 0)
        put16(&o, (unsigned)csum);
    return finish(o);
}

static void
test_capable(void)
{
    static const struct {
        unsigned version, len, flags;
        int nkeys, dll, csum;
        mptcp_opt_status_t st;
    } cases[] = {
        { 1, 4, 0x81, 0, -1, -1, MPTCP_OPT_OK },          /* v1 SYN */
        { 1, 12, 0x01, 1, -1, -1, MPTCP_OPT_OK },         /* v1 SYN/ACK */
        { 1, 20, 0x21, 2, -1, -1, MPTCP_OPT_OK },         /* v1 third ACK */
        { 1, 22, 0x01, 2, 1000, -1, MPTCP_OPT_OK },       /* v1 ACK + data */
        { 1, 24, 0x81, 2, 0, 0xbeef, MPTCP_OPT_OK },      /* v1 ACK + data + checksum */
        { 0, 12, 0x81, 1, -1, -1, MPTCP_OPT_OK },         /* v0 SYN, SYN/ACK */
        { 0, 20, 0x01, 2, -1, -1, MPTCP_OPT_OK },         /* v0 third ACK */
        { 0, 4, 0x81, 0, -1, -1, MPTCP_OPT_BAD_LENGTH },  /* v0 has no 4-octet form */
        { 0, 22, 0x81, 2, 5, -1, MPTCP_OPT_BAD_LENGTH },
        { 0, 24, 0x81, 2, 5, 1, MPTCP_OPT_BAD_LENGTH },
        { 2, 12, 0x01, 1, -1, -1, MPTCP_OPT_OK },         /* unknown version: parsed, flagged by the renderer */
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        opt_t o = capable(cases[i].version, cases[i].flags, cases[i].nkeys, cases[i].dll, cases[i].csum);
        mptcp_opt_t r;
        char name[64];

        snprintf(name, sizeof(name), "MP_CAPABLE v%u len %u", cases[i].version, cases[i].len);
        current = name;
        CHECK_EQ(o.n, cases[i].len);
        CHECK_EQ(parse(&o, -1, &r), cases[i].st);
        CHECK_EQ(r.len, cases[i].len);
        CHECK_EQ(r.subtype, MPTCP_SUB_CAPABLE);
        check_prefixes(&o, -1);
        if (cases[i].st != MPTCP_OPT_OK)
            continue;
        CHECK_EQ(r.u.cap.version, cases[i].version);
        CHECK_EQ(r.flags, cases[i].flags);
        CHECK_EQ(r.u.cap.has_sendkey, cases[i].nkeys >= 1);
        CHECK_EQ(r.u.cap.has_recvkey, cases[i].nkeys >= 2);
        if (cases[i].nkeys >= 1)
            CHECK_EQ(r.u.cap.sendkey, KEY_A);
        if (cases[i].nkeys >= 2)
            CHECK_EQ(r.u.cap.recvkey, KEY_B);
        CHECK_EQ(r.u.cap.has_dll, cases[i].dll >= 0);
        if (cases[i].dll >= 0)
            CHECK_EQ(r.u.cap.dll, cases[i].dll);
        CHECK_EQ(r.u.cap.has_csum, cases[i].csum >= 0);
        if (cases[i].csum >= 0)
            CHECK_EQ(r.u.cap.csum, cases[i].csum);
    }

    /* wrong lengths for v1: every length 3..40 except 4/12/20/22/24 */
    for (unsigned len = 3; len <= 40; len++) {
        opt_t o = begin(MPTCP_SUB_CAPABLE, 1);
        mptcp_opt_t r;
        bool legal = len == 4 || len == 12 || len == 20 || len == 22 || len == 24;

        current = "MP_CAPABLE v1 lengths";
        while (o.n < len)
            put8(&o, 0x5a);
        o = finish(o);
        CHECK_EQ(parse(&o, -1, &r) == MPTCP_OPT_OK, legal);
    }
}

/* }}} */
/* {{{ MP_JOIN: RFC 8684 section 3.2 figures 5-7 */

static void
test_join(void)
{
    opt_t o;
    mptcp_opt_t r;
    uint8_t hmac[20];

    for (unsigned b = 0; b < 2; b++) {
        current = "MP_JOIN SYN";
        o = begin(MPTCP_SUB_JOIN, b);
        put8(&o, 7);
        put32(&o, 0xa1b2c3d4);
        put32(&o, 0x01020304);
        o = finish(o);
        CHECK_EQ(o.n, 12);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
        CHECK_EQ(r.u.join.kind, MPTCP_JOIN_SYN);
        CHECK_EQ(r.u.join.backup, b);
        CHECK_EQ(r.flags, b);
        CHECK_EQ(r.u.join.addr_id, 7);
        CHECK_EQ(r.u.join.token, 0xa1b2c3d4);
        CHECK_EQ(r.u.join.nonce, 0x01020304);
        check_prefixes(&o, -1);

        current = "MP_JOIN SYN/ACK";
        o = begin(MPTCP_SUB_JOIN, b);
        put8(&o, 255);
        put64(&o, 0x8899aabbccddeeffULL);
        put32(&o, 0xffffffff);
        o = finish(o);
        CHECK_EQ(o.n, 16);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
        CHECK_EQ(r.u.join.kind, MPTCP_JOIN_SYNACK);
        CHECK_EQ(r.u.join.backup, b);
        CHECK_EQ(r.u.join.addr_id, 255);
        CHECK_EQ(r.u.join.trunc_hmac, 0x8899aabbccddeeffULL);
        CHECK_EQ(r.u.join.nonce, 0xffffffff);
        check_prefixes(&o, -1);
    }

    current = "MP_JOIN ACK";
    o = begin(MPTCP_SUB_JOIN, 0);
    put8(&o, 0);
    for (unsigned i = 0; i < 20; i++) {
        hmac[i] = (uint8_t)(0xa0 + i);
        put8(&o, hmac[i]);
    }
    o = finish(o);
    CHECK_EQ(o.n, 24);
    CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
    CHECK_EQ(r.u.join.kind, MPTCP_JOIN_ACK);
    CHECK(memcmp(r.u.join.hmac, hmac, 20) == 0);
    check_prefixes(&o, -1);

    current = "MP_JOIN lengths";
    for (unsigned len = 3; len <= 40; len++) {
        o = begin(MPTCP_SUB_JOIN, 0);
        while (o.n < len)
            put8(&o, 0);
        o = finish(o);
        CHECK_EQ(parse(&o, -1, &r) == MPTCP_OPT_OK, len == 12 || len == 16 || len == 24);
    }
}

/* }}} */
/* {{{ DSS: RFC 8684 section 3.3 figure 9 */

static void
test_dss(void)
{
    const uint32_t ack32 = 0x11223344, dsn32 = 0x99aabbcc, ssn = 0x01020304;
    const uint64_t ack64 = 0x1122334455667788ULL, dsn64 = 0x99aabbccddeeff00ULL;
    const uint16_t dll = 1000, csum = 0xbeef;

    for (unsigned flags = 0; flags < 32; flags++) {
        bool A = flags & MPTCP_DSS_A, a = flags & MPTCP_DSS_a, M = flags & MPTCP_DSS_M, m = flags & MPTCP_DSS_m;
        unsigned exp = 4 + (A ? (a ? 8 : 4) : 0) + (M ? (m ? 8 : 4) + 6 : 0);

        current = "mptcp_dss_expected_len";
        CHECK_EQ(mptcp_dss_expected_len((uint8_t)flags), exp);

        for (int with_csum = 0; with_csum <= (M ? 1 : 0); with_csum++) {
            opt_t o = begin(MPTCP_SUB_DSS, 0);
            mptcp_opt_t r;
            unsigned off = 4;
            char name[64];

            snprintf(name, sizeof(name), "DSS flags 0x%02x%s", flags, with_csum ? " csum" : "");
            current = name;
            put8(&o, flags);
            if (A) {
                if (a)
                    put64(&o, ack64);
                else
                    put32(&o, ack32);
            }
            if (M) {
                if (m)
                    put64(&o, dsn64);
                else
                    put32(&o, dsn32);
                put32(&o, ssn);
                put16(&o, dll);
                if (with_csum)
                    put16(&o, csum);
            }
            o = finish(o);
            CHECK_EQ(o.n, exp + (with_csum ? 2 : 0));
            CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
            CHECK_EQ(r.flags, flags);
            CHECK_EQ(r.u.dss.fin, (flags & MPTCP_DSS_F) != 0);
            CHECK_EQ(r.u.dss.has_ack, A);
            CHECK_EQ(r.u.dss.has_map, M);
            CHECK_EQ(r.u.dss.has_csum, with_csum);
            if (A) {
                CHECK_EQ(r.u.dss.ack8, a);
                CHECK_EQ(r.u.dss.ack, a ? ack64 : ack32);          /* width from the a flag */
                CHECK_EQ(r.u.dss.ack_off, off);
                off += a ? 8 : 4;
            }
            if (M) {
                CHECK_EQ(r.u.dss.dsn8, m);
                CHECK_EQ(r.u.dss.dsn, m ? dsn64 : dsn32);          /* width from the m flag */
                CHECK_EQ(r.u.dss.dsn_off, off);
                off += m ? 8 : 4;
                CHECK_EQ(r.u.dss.ssn, ssn);
                CHECK_EQ(r.u.dss.ssn_off, off);
                CHECK_EQ(r.u.dss.dll, dll);
                CHECK_EQ(r.u.dss.dll_off, off + 4);
                if (with_csum) {
                    CHECK_EQ(r.u.dss.csum, csum);
                    CHECK_EQ(r.u.dss.csum_off, off + 6);
                }
            }
            check_prefixes(&o, -1);

            /* one octet more or less is a bad length; two more only with a mapping */
            for (int d = -3; d <= 3; d++) {
                opt_t w = o;
                unsigned len = (unsigned)((int)o.n + d);

                if (d == 0 || len < 3)
                    continue;
                w.n = len;
                w.b[1] = (uint8_t)len;
                if (d > 0)
                    memset(w.b + o.n, 0, (size_t)d);
                parse(&w, -1, &r);
                if (!with_csum && M && d == 2)
                    CHECK_EQ(r.status, MPTCP_OPT_OK);
                else if (with_csum && d == -2)
                    CHECK_EQ(r.status, MPTCP_OPT_OK);
                else
                    CHECK_EQ(r.status, MPTCP_OPT_BAD_LENGTH);
            }
        }
    }
}

/* }}} */
/* {{{ ADD_ADDR: RFC 6824 section 3.4.1 (v0), RFC 8684 section 3.4.1 figure 12 (v1) */

static opt_t
add_addr(unsigned nibble, bool v6, bool port, bool hmac)
{
    opt_t o = begin(MPTCP_SUB_ADD_ADDR, nibble);

    put8(&o, 9);                                  /* address id */
    if (v6) {
        for (unsigned i = 0; i < 16; i++)
            put8(&o, 0x20 + i);
    } else {
        put32(&o, 0x0a141e28);                    /* 10.20.30.40 */
    }
    if (port)
        put16(&o, 8080);
    if (hmac)
        put64(&o, 0xdeadbeef01234567ULL);
    return finish(o);
}

static void
check_add_fields(const mptcp_opt_t *r, bool v6, bool port, bool hmac)
{
    CHECK_EQ(r->u.add.addr_id, 9);
    CHECK_EQ(r->u.add.ipv6, v6);
    if (v6) {
        for (unsigned i = 0; i < 16; i++)
            CHECK_EQ(r->u.add.addr[i], 0x20 + i);
    } else {
        CHECK_EQ(r->u.add.addr[0], 10);
        CHECK_EQ(r->u.add.addr[3], 40);
    }
    CHECK_EQ(r->u.add.has_port, port);
    if (port) {
        CHECK_EQ(r->u.add.port, 8080);
        CHECK_EQ(r->u.add.port_off, v6 ? 20 : 8);
    }
    CHECK_EQ(r->u.add.has_hmac, hmac);
    if (hmac) {
        CHECK_EQ(r->u.add.hmac, 0xdeadbeef01234567ULL);
        CHECK_EQ(r->u.add.hmac_off, (v6 ? 20 : 8) + (port ? 2 : 0));
    }
}

static void
test_add_addr(void)
{
    for (int v6 = 0; v6 <= 1; v6++) {
        for (int port = 0; port <= 1; port++) {
            unsigned alen = v6 ? 16 : 4;
            opt_t o;
            mptcp_opt_t r;

            /* v0: IPVer 4/6, lengths 8, 10, 20, 22 */
            current = "ADD_ADDR v0";
            o = add_addr(v6 ? 6 : 4, v6, port, false);
            CHECK_EQ(o.n, 4 + alen + (port ? 2 : 0));
            for (int ver = -1; ver <= 0; ver++) {
                CHECK_EQ(parse(&o, ver, &r), MPTCP_OPT_OK);
                CHECK(!r.u.add.v1);
                CHECK_EQ(r.u.add.ipver, v6 ? 6 : 4);
                check_add_fields(&r, v6, port, false);
            }
            /* on a v1 connection the same octets are a v1 ADD_ADDR with E=0 and no HMAC */
            CHECK_EQ(parse(&o, 1, &r), MPTCP_OPT_BAD_LENGTH);
            check_prefixes(&o, -1);

            /* v1 with HMAC (E=0): 16, 18, 28, 30 */
            current = "ADD_ADDR v1 HMAC";
            o = add_addr(0, v6, port, true);
            CHECK_EQ(o.n, 4 + alen + (port ? 2 : 0) + 8);
            for (int ver = -1; ver <= 1; ver += 2) {
                CHECK_EQ(parse(&o, ver, &r), MPTCP_OPT_OK);
                CHECK(r.u.add.v1);
                CHECK(!r.u.add.echo);
                check_add_fields(&r, v6, port, true);
            }
            check_prefixes(&o, -1);

            /* v1 echo (E=1, no HMAC): 8, 10, 20, 22 */
            current = "ADD_ADDR v1 echo";
            o = add_addr(1, v6, port, false);
            for (int ver = -1; ver <= 1; ver += 2) {
                CHECK_EQ(parse(&o, ver, &r), MPTCP_OPT_OK);
                CHECK(r.u.add.v1);
                CHECK(r.u.add.echo);
                check_add_fields(&r, v6, port, false);
            }
            /* on a v0 connection nibble 1 is no IPVer */
            CHECK_EQ(parse(&o, 0, &r), MPTCP_OPT_BAD_LENGTH);

            /* E and HMAC presence disagree: E=1 with an HMAC, E=0 without one */
            current = "ADD_ADDR v1 E/HMAC mismatch";
            o = add_addr(1, v6, port, true);
            CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_BAD_LENGTH);
            CHECK_EQ(parse(&o, 1, &r), MPTCP_OPT_BAD_LENGTH);
            o = add_addr(0, v6, port, false);
            CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_BAD_LENGTH);
            CHECK_EQ(parse(&o, 1, &r), MPTCP_OPT_BAD_LENGTH);

            /* v0 IPVer that does not match the length */
            current = "ADD_ADDR v0 IPVer/length mismatch";
            o = add_addr(v6 ? 4 : 6, v6, port, false);
            CHECK_EQ(parse(&o, 0, &r), MPTCP_OPT_BAD_LENGTH);
        }
    }

    current = "ADD_ADDR lengths";
    for (unsigned len = 3; len <= 40; len++) {
        opt_t o = begin(MPTCP_SUB_ADD_ADDR, 1);
        mptcp_opt_t r;

        while (o.n < len)
            put8(&o, 1);
        o = finish(o);
        /* E=1: only the HMAC-less lengths are legal */
        CHECK_EQ(parse(&o, -1, &r) == MPTCP_OPT_OK, len == 8 || len == 10 || len == 20 || len == 22);
    }
}

/* }}} */
/* {{{ REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE, MP_TCPRST */

static void
test_others(void)
{
    opt_t o;
    mptcp_opt_t r;

    current = "REMOVE_ADDR";
    for (unsigned n = 0; n <= 37; n++) {
        o = begin(MPTCP_SUB_RM_ADDR, 0);
        for (unsigned i = 0; i < n; i++)
            put8(&o, i);
        o = finish(o);
        if (n == 0) {
            CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_BAD_LENGTH);
            continue;
        }
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
        CHECK_EQ(r.u.rm.count, n);
        check_prefixes(&o, -1);
    }

    current = "MP_PRIO";
    for (unsigned b = 0; b < 2; b++) {
        o = finish(begin(MPTCP_SUB_PRIO, b));
        CHECK_EQ(o.n, 3);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
        CHECK_EQ(r.u.prio.backup, b);
        CHECK(!r.u.prio.has_addr_id);
        check_prefixes(&o, -1);
        o = begin(MPTCP_SUB_PRIO, b);
        put8(&o, 42);
        o = finish(o);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
        CHECK_EQ(r.u.prio.backup, b);
        CHECK(r.u.prio.has_addr_id);
        CHECK_EQ(r.u.prio.addr_id, 42);
        put8(&o, 0);
        o = finish(o);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_BAD_LENGTH);
    }

    current = "MP_FAIL";
    o = begin(MPTCP_SUB_FAIL, 0);
    put8(&o, 0);
    put64(&o, 0x0102030405060708ULL);
    o = finish(o);
    CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
    CHECK_EQ(r.u.fail.dsn, 0x0102030405060708ULL);
    check_prefixes(&o, -1);

    current = "MP_FASTCLOSE";
    o = begin(MPTCP_SUB_FASTCLOSE, 0);
    put8(&o, 0);
    put64(&o, KEY_B);
    o = finish(o);
    CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
    CHECK_EQ(r.u.fastclose.key, KEY_B);
    check_prefixes(&o, -1);

    current = "MP_FAIL/MP_FASTCLOSE lengths";
    for (unsigned st = MPTCP_SUB_FAIL; st <= MPTCP_SUB_FASTCLOSE; st++) {
        for (unsigned len = 3; len <= 40; len++) {
            o = begin(st, 0);
            while (o.n < len)
                put8(&o, 0);
            o = finish(o);
            CHECK_EQ(parse(&o, -1, &r) == MPTCP_OPT_OK, len == 12);
        }
    }

    current = "MP_TCPRST";
    for (unsigned nib = 0; nib < 16; nib++) {
        for (unsigned reason = 0; reason < 256; reason += 51) {
            o = begin(MPTCP_SUB_TCPRST, nib);
            put8(&o, reason);
            o = finish(o);
            CHECK_EQ(o.n, 4);
            CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_OK);
            CHECK_EQ(r.flags, nib);
            CHECK_EQ(r.u.tcprst.reason, reason);
        }
    }
    check_prefixes(&o, -1);
    put8(&o, 0);
    o = finish(o);
    CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_BAD_LENGTH);
}

/* }}} */
/* {{{ generic: short lengths, unknown subtypes, exhaustive robustness */

static void
test_generic(void)
{
    mptcp_opt_t r;
    opt_t o;

    current = "length < 3";
    for (unsigned len = 0; len < 3; len++) {
        o = begin(MPTCP_SUB_DSS, 0);
        put8(&o, 0);
        o.b[1] = (uint8_t)len;
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_TOO_SHORT);
        CHECK_EQ(parse_n(&o, 2, -1, &r), MPTCP_OPT_TOO_SHORT);
    }
    current = "caplen < 2";
    CHECK_EQ(parse_n(&o, 0, -1, &r), MPTCP_OPT_TRUNCATED);
    CHECK_EQ(parse_n(&o, 1, -1, &r), MPTCP_OPT_TRUNCATED);

    current = "unknown subtypes";
    for (unsigned st = 9; st <= 15; st++) {
        o = begin(st, 0);
        put8(&o, 0);
        put32(&o, 0);
        o = finish(o);
        CHECK_EQ(parse(&o, -1, &r), MPTCP_OPT_UNKNOWN_SUBTYPE);
        CHECK_EQ(r.subtype, st);
    }

    /* every subtype, nibble, length byte and captured length over pseudo-random contents: the
     * parser returns a known status, never reads past caplen (sanitizers), and on OK the
     * offsets it reports lie inside the option */
    current = "exhaustive";
    uint32_t seed = 8684;
    for (unsigned st = 0; st < 16; st++) {
        for (unsigned nib = 0; nib < 16; nib++) {
            for (unsigned len = 0; len <= 44; len++) {
                o = begin(st, nib);
                while (o.n < 44) {
                    seed = seed * 1103515245u + 12345u;
                    put8(&o, seed >> 16);
                }
                o.b[1] = (uint8_t)len;
                for (unsigned cap = 0; cap <= 44; cap += (cap < len + 2 ? 1 : 7)) {
                    mptcp_opt_status_t s = parse_n(&o, cap, (int)(len % 3) - 1, &r);
                    CHECK(s <= MPTCP_OPT_UNKNOWN_SUBTYPE);
                    if (s != MPTCP_OPT_OK)
                        continue;
                    CHECK(cap >= r.len);
                    CHECK(r.len >= 3);
                    if (st == MPTCP_SUB_DSS) {
                        if (r.u.dss.has_ack)
                            CHECK(r.u.dss.ack_off + (r.u.dss.ack8 ? 8u : 4u) <= r.len);
                        if (r.u.dss.has_map)
                            CHECK(r.u.dss.dll_off + 2u + (r.u.dss.has_csum ? 2u : 0u) == r.len);
                    } else if (st == MPTCP_SUB_ADD_ADDR) {
                        if (r.u.add.has_hmac)
                            CHECK(r.u.add.hmac_off + 8u == r.len);
                        if (r.u.add.has_port)
                            CHECK(r.u.add.port_off + 2u <= r.len);
                    }
                }
            }
        }
    }
}

/* }}} */

int
main(void)
{
    test_capable();
    test_join();
    test_dss();
    test_add_addr();
    test_others();
    test_generic();
    printf("optparse: %d checks, %d failed\n", checks, failures);
    return failures > 255 ? 255 : failures;
}
