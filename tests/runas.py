"""How to run tshark so that it loads plugins from a build tree: tshark run as root ignores
WIRESHARK_PLUGIN_DIR, so as root it runs as uid 65534 in a user namespace (file access stays
root's), or with setpriv where user namespaces are not available.
SPDX-License-Identifier: GPL-2.0-or-later"""
import os
import subprocess


def unpriv_prefix():
    """The command prefix for tshark (empty when not root)."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["unshare", "--user", "--map-user=65534", "--map-group=65534", "true"],
                      capture_output=True).returncode == 0:
        return ["unshare", "--user", "--map-user=65534", "--map-group=65534"]
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
