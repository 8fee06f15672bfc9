/* plugin.c
 * Entry points that Wireshark's plugin loader looks up. No logic here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "mptcp-compat.h"

#include <epan/packet.h>
#include <epan/proto.h>
#if MPTCP_HAVE_PLUGIN_DESCRIBE
#include <wsutil/plugins.h>
#endif

#ifndef MPTCP_PLUGIN_VERSION
#define MPTCP_PLUGIN_VERSION "0.0.0"
#endif

WS_DLL_PUBLIC_DEF const char plugin_version[] = MPTCP_PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
#if MPTCP_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);

uint32_t
plugin_describe(void)
{
    return WS_PLUGIN_DESC_DISSECTOR;
}
#endif

void proto_register_mptcp_plugin(void);
void proto_reg_handoff_mptcp_plugin(void);

void
plugin_register(void)
{
    static proto_plugin plug;

    plug.register_protoinfo = proto_register_mptcp_plugin;
    plug.register_handoff = proto_reg_handoff_mptcp_plugin;
    proto_register_plugin(&plug);
}
