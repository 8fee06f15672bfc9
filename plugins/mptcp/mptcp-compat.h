/* mptcp-compat.h
 * The only place where differences between Wireshark 4.0, 4.4 and 4.6 are handled.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MPTCP_COMPAT_H
#define MPTCP_COMPAT_H

#include <wireshark.h>
#include <ws_version.h>

#define MPTCP_WS_VERSION (WIRESHARK_VERSION_MAJOR * 100 + WIRESHARK_VERSION_MINOR)

#if MPTCP_WS_VERSION >= 404
/* 4.4 deprecates tvb_get_guint8 in favour of tvb_get_uint8; 4.0 only has the former. */
#define mptcp_tvb_u8(tvb, off) tvb_get_uint8((tvb), (off))
/* Boolean preferences and heuristic dissectors use C99 bool from 4.2 on. */
typedef bool mptcp_pref_bool_t;
typedef bool mptcp_heur_ret_t;
#define MPTCP_HAVE_PLUGIN_DESCRIBE 1
#else
#define mptcp_tvb_u8(tvb, off) tvb_get_guint8((tvb), (off))
typedef gboolean mptcp_pref_bool_t;
typedef gboolean mptcp_heur_ret_t;
#define MPTCP_HAVE_PLUGIN_DESCRIBE 0
#endif

#endif /* MPTCP_COMPAT_H */
