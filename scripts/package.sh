#!/bin/bash
# scripts/package.sh [--verify]
#
# Builds the Debian package of the plugin (CPack, cmake/Packaging.cmake) against the installed
# Wireshark: a release build in build-pkg/ (MPTCP_BUILD_DIR), then `cpack -G DEB`. Checks that the
# package holds exactly <Wireshark's global plugin dir>/<maj.min>/epan/mptcp.so and the files of
# profiles/MPTCP in <Wireshark's data dir>/profiles/MPTCP, and depends on the libwireshark package of
# the build within the same major.minor, and prints its control fields.
#
# --verify (root): installs the .deb with apt into a clean chroot of the host's Debian release and
# checks that `tshark -G plugins` there lists mptcp.so in the global plugin dir, that TCP option 30
# goes to the plugin (`tshark -G decodes`), that a committed capture dissects with mptcp.stream and
# that `tshark -C MPTCP` finds the installed profile (its DSN column).
# The chroot is a debootstrap --variant=minbase of the host's codename from the host's Debian mirror,
# made once in MPTCP_PKG_CHROOT (default /srv/mptcp-pkg/<codename>, about 1-2 minutes) and never
# changed afterwards: every check runs on a throw-away overlay (private mount namespace; the overlay
# and its mounts disappear with it), so each install starts from the clean minbase system.
#
# env: MPTCP_BUILD_DIR (default build-pkg), MPTCP_SKIP_DEPS=1, MPTCP_PKG_CHROOT, MPTCP_MIRROR,
#      MPTCP_SECURITY_MIRROR ("none" = no -security/-updates entries)
# Output: the path of the .deb on the last line.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${MPTCP_BUILD_DIR:-$REPO/build-pkg}
VERIFY=0
case ${1:-} in
    --verify) VERIFY=1 ;;
    "") ;;
    *) echo "usage: $0 [--verify]" >&2; exit 2 ;;
esac
die() { echo "package.sh: $*" >&2; exit 1; }

[ "${MPTCP_SKIP_DEPS:-0}" = 1 ] || "$REPO/scripts/setup-deps.sh" dpkg-dev

echo "== build ($BUILD)"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMPTCP_INSTALL_PERSONAL=OFF -DMPTCP_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
[ -f "$BUILD/CPackConfig.cmake" ] || die "no CPack configuration (see the Packaging: line of cmake's output)"
rm -f "$BUILD"/wireshark-plugin-mptcp_*.deb
(cd "$BUILD" && cpack -G DEB >/dev/null)
DEB=$(ls "$BUILD"/wireshark-plugin-mptcp_*.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] || die "cpack made no .deb"

# What the package must look like, from the build's own view of Wireshark
PLUGDIR=$(sed -n 's|.*file(INSTALL DESTINATION "\([^"]*\)/epan".*|\1|p' "$BUILD/plugins/mptcp/cmake_install.cmake" |
          head -n1)
MAJMIN=${PLUGDIR##*/}
[[ $MAJMIN =~ ^[0-9]+\.[0-9]+$ ]] || die "cannot tell the plugin dir from $BUILD/plugins/mptcp/cmake_install.cmake"
echo "== $DEB"
dpkg-deb -f "$DEB" Package Version Architecture Depends Recommends
files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $NF}')
echo "files: $files"
DATADIR=$(sed -n 's/^WS_DATA_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
[ -n "$DATADIR" ] || die "no WS_DATA_DIR in $BUILD/CMakeCache.txt"
want=$( { echo "./${PLUGDIR#/}/epan/mptcp.so"
          for f in "$REPO"/profiles/MPTCP/*; do echo "./${DATADIR#/}/profiles/MPTCP/${f##*/}"; done; } | sort)
[ "$(sort <<< "$files")" = "$want" ] || die "expected exactly these files in the package: $want"
dep=$(dpkg-deb -f "$DEB" Depends)
next="${MAJMIN%.*}.$(( ${MAJMIN#*.} + 1 ))"
grep -Eq "libwireshark[0-9]+ \(>= $MAJMIN\)" <<< "$dep" && grep -Eq "libwireshark[0-9]+ \(<< $next\)" <<< "$dep" ||
    die "Depends does not pin libwireshark to $MAJMIN: $dep"
echo "package.sh: package ok (plugin dir $PLUGDIR/epan, profile $DATADIR/profiles/MPTCP, libwireshark $MAJMIN.x)"

if [ "$VERIFY" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "--verify needs root (debootstrap, chroot, mounts)"
    CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
    BASE=${MPTCP_PKG_CHROOT:-/srv/mptcp-pkg/$CODENAME}
    host_uri() {  # first URI of the host's apt sources whose path ends in $1 (as run-matrix.sh)
        { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
          awk '$1=="deb"{print ($2 ~ /^\[/) ? $3 : $2}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
        } | grep -E "$1/?\$" | head -n1 || true
    }
    if [ ! -e "$BASE/.mptcp-pkg-ready" ]; then
        MIRROR=${MPTCP_MIRROR:-$(host_uri /debian)}
        SEC=${MPTCP_SECURITY_MIRROR:-$(host_uri /debian-security)}
        [ -n "$MIRROR" ] || die "no Debian mirror in the host's apt sources; set MPTCP_MIRROR"
        command -v debootstrap >/dev/null || "$REPO/scripts/setup-deps.sh" debootstrap
        if [ -e "$BASE" ]; then
            ! grep -q " $BASE/" /proc/mounts || die "$BASE is incomplete and has mounts under it"
            rm -rf --one-file-system "$BASE"
        fi
        echo "== debootstrap --variant=minbase $CODENAME $BASE $MIRROR"
        mkdir -p "$(dirname "$BASE")"
        debootstrap --variant=minbase "$CODENAME" "$BASE" "$MIRROR" > "$BASE.debootstrap.log" 2>&1 ||
            die "debootstrap failed, see $BASE.debootstrap.log"
        printf '%s\n' 'Acquire::Check-Valid-Until "false";' 'Dpkg::Use-Pty "false";' \
            > "$BASE/etc/apt/apt.conf.d/99mptcp-pkg"
        case $CODENAME in
            sid|unstable) ;;
            *) [ -z "$SEC" ] || [ "$SEC" = none ] ||
                   printf 'deb %s %s main\n' "$MIRROR" "$CODENAME-updates" "$SEC" "$CODENAME-security" \
                       >> "$BASE/etc/apt/sources.list" ;;
        esac
        touch "$BASE/.mptcp-pkg-ready"
    fi
    echo "== clean $CODENAME chroot $BASE (overlay): apt-get install $(basename "$DEB") tshark"
    WORK=$(mktemp -d "$(dirname "$BASE")/overlay.XXXXXX")
    trap 'rm -rf --one-file-system "$WORK"' EXIT
    mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root"
    cp "$DEB" "$WORK/upper.deb"
    CAP=$REPO/captures/v1-3sub.pcap
    [ -f "$CAP" ] || CAP=$(ls "$REPO"/captures/*.pcap | head -n1)
    cp "$CAP" "$WORK/cap.pcap"
    export BASE WORK DEBNAME=$(basename "$DEB") PLUGDIR
    unshare --mount --propagation private sh -euc '
        M=$WORK/root
        mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$WORK/upper,workdir=$WORK/work" "$M"
        mount -t proc proc "$M/proc"
        cp "$WORK/upper.deb" "$M/tmp/$DEBNAME"
        cp "$WORK/cap.pcap" "$M/tmp/cap.pcap"
        chmod 0644 "$M/tmp/$DEBNAME" "$M/tmp/cap.pcap"
        exec chroot "$M" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBNAME="$DEBNAME" \
            PLUGDIR="$PLUGDIR" sh -euc "
            echo wireshark-common wireshark-common/install-setuid boolean false | debconf-set-selections
            apt-get update -q >/tmp/apt-update.log 2>&1 || { cat /tmp/apt-update.log; exit 1; }
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                /tmp/\$DEBNAME tshark >/tmp/apt-install.log 2>&1 || { tail -n 30 /tmp/apt-install.log; exit 1; }
            grep -E \"^(Unpacking|Setting up) wireshark-plugin-mptcp\" /tmp/apt-install.log
            echo \"installed: \$(dpkg-query -W -f=\"\\\${Package} \\\${Version} \\\${db:Status-Abbrev}\" wireshark-plugin-mptcp)\"
            echo \"libwireshark: \$(dpkg-query -W -f=\"\\\${Package} \\\${Version}\" \"libwireshark[0-9]*\")\"
            dpkg -L wireshark-plugin-mptcp | grep mptcp.so
            mkdir -p /tmp/h && chmod 0777 /tmp/h
            run() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp/h tshark \"\$@\"; }
            echo \"\$(run --version | head -n1)\"
            echo \"tshark -G plugins:\"; run -G plugins | grep -E \"^mptcp\\.so\" | tee /tmp/plug.txt
            grep -q \"\$PLUGDIR/epan/mptcp.so\" /tmp/plug.txt || { echo \"mptcp.so not listed from \$PLUGDIR/epan\"; exit 1; }
            run -G decodes | grep -P \"^tcp\\.option\\t30\\tmptcp\$\" || { echo \"tcp.option 30 is not mptcp\"; exit 1; }
            run -G fields | grep -qP \"\\tmptcp\\.analysis\\.latency\\t\" || { echo \"no plugin-only field: the plugin is not active\"; exit 1; }
            n=\$(run -r /tmp/cap.pcap -Y mptcp.stream -T fields -e mptcp.stream | wc -l)
            echo \"capture: \$n packets with mptcp.stream\"
            [ \"\$n\" -gt 0 ]
            run -C MPTCP -r /tmp/cap.pcap -c 1 -T psml | grep -q \"<section>DSN</section>\" ||
                { echo \"tshark -C MPTCP: no DSN column (profile not installed?)\"; exit 1; }
            echo \"tshark -C MPTCP: profile columns shown\"
        "'
    echo "package.sh: verified in a clean $CODENAME chroot: tshark -G plugins lists mptcp.so"
fi
echo "$DEB"
