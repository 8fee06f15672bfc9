/* mptcp-compat.h
 * The only place where differences between Wireshark 4.0, 4.4 and 4.6 are handled.
 * Every plugin source includes it (directly or through mptcp-int.h) before any epan header.
 *
 * Measured against 4.0.17 (bookworm, gcc 12), 4.4.19 (trixie, gcc 14) and 4.6.9 (sid, gcc 16);
 * see README.md "Supported Wireshark versions" and scripts/matrix.sh.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_COMPAT_H
#define MPTCP_COMPAT_H

#include <wireshark.h>
#include <ws_version.h>
/* 4.6's epan/packet.h no longer includes tfs.h (true_false_string, TFS()); it exists in all three. */
#include <epan/tfs.h>

#define MPTCP_WS_VERSION (WIRESHARK_VERSION_MAJOR * 100 + WIRESHARK_VERSION_MINOR)

#if MPTCP_WS_VERSION >= 404
/* 4.4 deprecates tvb_get_guint8 in favour of tvb_get_uint8; 4.0 only has the former. */
#define mptcp_tvb_u8(tvb, off) tvb_get_uint8((tvb), (off))
/* Boolean preferences and heuristic dissectors use C99 bool from 4.2 on (a gboolean callback is
 * an -Wincompatible-pointer-types error with gcc 14). */
typedef bool mptcp_pref_bool_t;
typedef bool mptcp_heur_ret_t;
/* wsutil/plugins.h with plugin_describe() and WS_PLUGIN_DESC_DISSECTOR: 4.4 and later only
 * (without it 4.4/4.6 list the plugin as type "unknown"). */
#define MPTCP_HAVE_PLUGIN_DESCRIBE 1
#else
#define mptcp_tvb_u8(tvb, off) tvb_get_guint8((tvb), (off))
typedef gboolean mptcp_pref_bool_t;
typedef gboolean mptcp_heur_ret_t;
#define MPTCP_HAVE_PLUGIN_DESCRIBE 0
#endif

#if MPTCP_WS_VERSION >= 406
/* 4.6 renames dissector_try_uint_new (now deprecated) to dissector_try_uint_with_data. */
#define mptcp_dissector_try_uint(table, val, tvb, pinfo, tree, add_proto_name, data) \
    dissector_try_uint_with_data((table), (val), (tvb), (pinfo), (tree), (add_proto_name), (data))
#else
#define mptcp_dissector_try_uint(table, val, tvb, pinfo, tree, add_proto_name, data) \
    dissector_try_uint_new((table), (val), (tvb), (pinfo), (tree), (add_proto_name), (data))
#endif

/* [stats] (mptcp-stats.c, mptcp-follow.c) */
#if MPTCP_WS_VERSION >= 406
/* 4.6: a stat_tap_ui's init callback reports success. */
typedef bool mptcp_stat_init_ret_t;
#define MPTCP_STAT_INIT_RETURN(v) return (v)
#else
typedef void mptcp_stat_init_ret_t;
#define MPTCP_STAT_INIT_RETURN(v) return
#endif
#if MPTCP_WS_VERSION >= 404
/* 4.4: register_follow_stream takes a stream counter and a sub-stream id function too. */
#define mptcp_register_follow_stream(proto, tap, conv, index, addr, port, handler, count) \
    register_follow_stream((proto), (tap), (conv), (index), (addr), (port), (handler), (count), NULL)
#else
#define mptcp_register_follow_stream(proto, tap, conv, index, addr, port, handler, count) \
    ((void)(count), register_follow_stream((proto), (tap), (conv), (index), (addr), (port), (handler)))
#endif

/* [vantage] (mptcp-peer.c): reading the peer capture. 4.6 moves the record's data Buffer into
 * wtap_rec (wtap_read() loses its Buffer argument, wtap_rec_init() takes a size); 4.0 and 4.4
 * read into a Buffer of the caller's. A file that reads captures defines MPTCP_COMPAT_WTAP
 * before it includes this header. */
#ifdef MPTCP_COMPAT_WTAP
#include <wiretap/wtap.h>
typedef struct {
    wtap_rec rec;
#if MPTCP_WS_VERSION < 406
    Buffer buf;
#endif
} mptcp_wtap_reader_t;
#if MPTCP_WS_VERSION >= 406
#define mptcp_wtap_reader_init(rd) wtap_rec_init(&(rd)->rec, 2048)
#define mptcp_wtap_reader_cleanup(rd) wtap_rec_cleanup(&(rd)->rec)
#define mptcp_wtap_read(wth, rd, err, err_info, off) wtap_read((wth), &(rd)->rec, (err), (err_info), (off))
#define mptcp_wtap_data(rd) ws_buffer_start_ptr(&(rd)->rec.data)
#else
#define mptcp_wtap_reader_init(rd) (wtap_rec_init(&(rd)->rec), ws_buffer_init(&(rd)->buf, 2048))
#define mptcp_wtap_reader_cleanup(rd) (wtap_rec_cleanup(&(rd)->rec), ws_buffer_free(&(rd)->buf))
#define mptcp_wtap_read(wth, rd, err, err_info, off) \
    wtap_read((wth), &(rd)->rec, &(rd)->buf, (err), (err_info), (off))
#define mptcp_wtap_data(rd) ws_buffer_start_ptr(&(rd)->buf)
#endif
#endif /* MPTCP_COMPAT_WTAP */

#endif /* MPTCP_COMPAT_H */
