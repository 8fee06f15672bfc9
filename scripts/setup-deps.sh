#!/bin/bash
# scripts/setup-deps.sh [EXTRA_PACKAGE...]
#
# Installs the Debian packages that building, the demo and the tests need, if any is missing
# (written for Debian bookworm; also works on trixie and sid). Idempotent: when everything is
# installed it only checks (dpkg-query) and never calls apt, so it also works as a normal user.
# When something is missing: as root it runs `apt-get update` once and installs the missing
# packages non-interactively; as a normal user it uses `sudo -n` if that works, and otherwise
# prints the command to run and fails.
#
# env: MPTCP_EXTRA_PKGS  more packages to require (blank-separated)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config          # compiler and build system
    tshark wireshark-common                   # tshark, editcap, mergecap, text2pcap
    wireshark-dev libwireshark-dev            # headers, WiresharkConfig.cmake, wireshark.pc
    libgcrypt20-dev libglib2.0-dev            # MPTCP key/token hashing; glib (4.0's -dev lacks the dep)
    python3 python3-pytest                    # the test suite (Debian's /usr/bin/python3)
    util-linux                                # unshare: tshark as uid 65534 when run as root
    tcpdump                                   # used by the test suite and the capture generator
    dpkg-dev file                             # the .deb test (cpack -G DEB: dpkg-shlibdeps, file)
)
# shellcheck disable=SC2206
PKGS+=(${MPTCP_EXTRA_PKGS:-} "$@")

missing=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case $st in ii*) ;; *) missing+=("$p") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: missing Debian packages: ${missing[*]}" >&2
install_cmd() {
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
if [ "$(id -u)" = 0 ]; then
    install_cmd "${missing[@]}"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | sudo -n debconf-set-selections
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -q
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "setup-deps: not root and no password-less sudo; run as root:" >&2
    echo "  apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

# Check again: a package that apt could not install must not pass silently.
for p in "${missing[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case $st in ii*) ;; *) echo "setup-deps: $p is still not installed" >&2; exit 1 ;; esac
done
echo "setup-deps: installed ${missing[*]}" >&2
