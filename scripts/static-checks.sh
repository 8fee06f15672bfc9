#!/bin/bash
# scripts/static-checks.sh
#
# Static checks of plugins/mptcp, the ones a Wireshark reviewer runs, plus cppcheck:
#   checkAPIs.pl              prohibited/deprecated APIs (with the groups Wireshark's own plugins use:
#                             dissectors-prohibited, dissectors-restricted), hf/ett/TRY checks
#   checkhf.pl                hf_ variables without an hf[] entry, or never used
#   check_typed_item_calls.py --mask --label --consecutive --missing-items: item calls vs field types
#   cppcheck                  warning, style, performance, portability, with Wireshark's headers
# Every finding fails the run; there is no baseline. Suppressions, each with its reason:
#   checkAPIs --nocheck-shadow   it flags identifiers named like libc functions (a struct member
#                                and a macro parameter called "index"); shadowing proper is
#                                checked by the compiler (-Wshadow -Werror). Wireshark's Qt code
#                                is checked the same way.
#   CLI_FILES (checkAPIs)        mptcp-stats.c, mptcp-stats-print.c (and mptcp-stats-vantage.c,
#                                the peer-capture part) hold the `tshark -z mptcp,stat` handlers, the
#                                counterpart of Wireshark's ui/cli/tap-*.c: those print with
#                                printf and exit(1) on a bad -z argument, and Wireshark checks
#                                them without the dissector groups; so do we (default groups).
#   cppcheck variableScope       "the scope of X can be reduced": the code declares its locals
#                                at the top of a block on purpose (Wireshark's style).
#   cppcheck *:/usr/include/*    findings inside Wireshark's and GLib's installed headers.
#
# The Wireshark tools come from the source package of the installed Wireshark version
# (dpkg-query libwireshark-dev). Looked up in order: $MPTCP_WSSRC (a source tree), the cache
# ($MPTCP_CACHE_DIR, default ${XDG_CACHE_HOME:-~/.cache}/mptcp-plugin/wireshark-<version>), else
# fetched with `apt-get source --download-only` through a private apt configuration in the cache
# dir (its own deb-src list built from the host's Debian mirror, own lists and archives; the
# system's apt configuration and state are not touched) and only tools/ is unpacked. If that is
# not possible (offline, no such version on the mirror), the three Wireshark checks are SKIPPED
# with a message (exit 0 unless MPTCP_STATIC_STRICT=1) and cppcheck still runs.
#
# env: MPTCP_WSSRC, MPTCP_CACHE_DIR, MPTCP_STATIC_STRICT=1 (a skipped check fails),
#      MPTCP_SKIP_DEPS=1 (do not install cppcheck with scripts/setup-deps.sh)
# Exit status: 0 clean (or skipped), 1 findings, 2 setup errors.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$REPO/plugins/mptcp
CLI_FILES="mptcp-stats.c mptcp-stats-print.c mptcp-stats-vantage.c"
STRICT=${MPTCP_STATIC_STRICT:-0}
cd "$REPO"

[ "${MPTCP_SKIP_DEPS:-0}" = 1 ] || "$REPO/scripts/setup-deps.sh" cppcheck

rc=0
skipped=0
fail() { echo "static-checks: FAIL: $*" >&2; rc=1; }
skip() { echo "static-checks: SKIP: $*" >&2; skipped=1; }

# ---------------------------------------------------------------------------------------------
# The Wireshark source tools of the installed version
VER=$(dpkg-query -W -f='${Version}' libwireshark-dev 2>/dev/null || true)
UPSTREAM=${VER%%-*}
UPSTREAM=${UPSTREAM#*:}
CACHE=${MPTCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mptcp-plugin}

host_uri() {  # first URI of the host's apt sources whose path ends in $1 (as run-matrix.sh)
    { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
      awk '$1=="deb"{print ($2 ~ /^\[/) ? $3 : $2}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -E "$1/?\$" | head -n1 || true
}

fetch_tools() {  # $1 = destination dir (…/wireshark-<upstream>); prints why on failure
    local dest=$1 a=$CACHE/apt codename mirror sec kr list
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || { echo "no VERSION_CODENAME in /etc/os-release"; return 1; }
    mirror=$(host_uri /debian); mirror=${mirror:-http://deb.debian.org/debian}
    sec=$(host_uri /debian-security); sec=${sec:-http://deb.debian.org/debian-security}
    kr=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$kr" ] || { echo "no $kr"; return 1; }
    mkdir -p "$a/etc/sources.list.d" "$a/etc/preferences.d" "$a/state/lists/partial" "$a/cache/archives/partial" \
        "$a/src"
    list="deb-src [signed-by=$kr] $mirror $codename main"
    case $codename in
        sid|unstable|experimental) ;;
        *) list="$list
deb-src [signed-by=$kr] $mirror $codename-updates main
deb-src [signed-by=$kr] $sec $codename-security main" ;;
    esac
    printf '%s\n' "$list" > "$a/etc/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$a/etc/sources.list" -o "Dir::Etc::SourceParts=$a/etc/sources.list.d"
                -o "Dir::Etc::Preferences=$a/etc/preferences" -o "Dir::Etc::PreferencesParts=$a/etc/preferences.d"
                -o "Dir::State=$a/state" -o "Dir::State::Lists=$a/state/lists" -o "Dir::Cache=$a/cache"
                -o "Dir::State::status=/var/lib/dpkg/status" -o "APT::Sandbox::User=$(id -un)"
                -o "Acquire::Languages=none" -o "APT::Get::Only-Source=true" -q)
    echo "static-checks: fetching the source package wireshark $VER (private apt config in $a)" >&2
    apt-get "${opts[@]}" update >"$a/update.log" 2>&1 || { echo "apt-get update failed: $(tail -n3 "$a/update.log")"; return 1; }
    if ! ls "$a/state/lists/"*Sources* >/dev/null 2>&1; then    # apt-get update exits 0 when offline
        echo "apt-get update fetched no source index ($(grep -m1 -E '^(Err|W|E):' "$a/update.log" || echo '?'))"
        return 1
    fi
    rm -f "$a/src"/wireshark_*
    if ! (cd "$a/src" && apt-get "${opts[@]}" source --download-only "wireshark=$VER") >"$a/source.log" 2>&1; then
        echo "apt-get source wireshark=$VER failed: $(tail -n2 "$a/source.log")"
        return 1
    fi
    local orig
    orig=$(ls "$a/src"/wireshark_"$UPSTREAM".orig.tar.* 2>/dev/null | head -n1)
    [ -n "$orig" ] || { echo "no orig tarball in $a/src"; return 1; }
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    tar -xf "$orig" -C "$dest.tmp" --strip-components=1 --wildcards '*/tools/*' || { echo "tar failed"; return 1; }
    rm -rf "$dest" && mv "$dest.tmp" "$dest"
    rm -f "$a/src"/wireshark_*                                       # keep the cache small
}

TOOLS=
if [ -n "${MPTCP_WSSRC:-}" ]; then
    TOOLS=$MPTCP_WSSRC/tools
elif [ -z "$UPSTREAM" ]; then
    skip "libwireshark-dev is not installed: no Wireshark version to fetch the tools for"
elif [ -f "$CACHE/wireshark-$UPSTREAM/tools/checkAPIs.pl" ]; then
    TOOLS=$CACHE/wireshark-$UPSTREAM/tools
elif ! command -v apt-get >/dev/null; then
    skip "no apt-get: cannot fetch the Wireshark $UPSTREAM source package (set MPTCP_WSSRC)"
elif why=$(fetch_tools "$CACHE/wireshark-$UPSTREAM"); then
    TOOLS=$CACHE/wireshark-$UPSTREAM/tools
else
    skip "could not fetch the Wireshark $VER source package ($why); set MPTCP_WSSRC to a source tree"
fi
for t in checkAPIs.pl checkhf.pl check_typed_item_calls.py; do
    [ -z "$TOOLS" ] || [ -f "$TOOLS/$t" ] || { skip "$TOOLS/$t not found"; TOOLS=; }
done

C_FILES=$(cd "$SRC" && ls ./*.c | sed 's|^\./||')
H_FILES=$(cd "$SRC" && ls ./*.h | sed 's|^\./||')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ -n "$TOOLS" ]; then
    echo "== Wireshark tools from $TOOLS (installed Wireshark: ${VER:-?})"

    # checkAPIs.pl: dissector groups for the dissector code, default groups for the CLI tap code
    diss=() cli=()
    for f in $C_FILES $H_FILES; do
        case " $CLI_FILES " in *" $f "*) cli+=("$f") ;; *) diss+=("$f") ;; esac
    done
    (cd "$SRC" && perl "$TOOLS/checkAPIs.pl" --nocheck-shadow --group dissectors-prohibited \
        --group dissectors-restricted "${diss[@]}") > "$TMP/capi.out" 2>&1 || true
    if [ ${#cli[@]} -gt 0 ]; then
        (cd "$SRC" && perl "$TOOLS/checkAPIs.pl" --nocheck-shadow "${cli[@]}") >> "$TMP/capi.out" 2>&1 || true
    fi
    if [ -s "$TMP/capi.out" ]; then
        cat "$TMP/capi.out"; fail "checkAPIs.pl"
    else
        echo "checkAPIs.pl: clean (${#diss[@]} files with the dissector groups, ${#cli[@]} CLI tap file(s): ${cli[*]})"
    fi

    # checkhf.pl works per file
    : > "$TMP/hf.out"
    for f in $C_FILES; do (cd "$SRC" && perl "$TOOLS/checkhf.pl" "$f") >> "$TMP/hf.out" 2>&1 || true; done
    if [ -s "$TMP/hf.out" ]; then cat "$TMP/hf.out"; fail "checkhf.pl"; else echo "checkhf.pl: clean"; fi

    # check_typed_item_calls.py prepends epan/dissectors/ unless a path starts with "epan"
    ln -s "$SRC" "$TMP/epan"
    args=()
    for f in $C_FILES; do args+=(--file "epan/$f"); done
    if (cd "$TMP" && python3 "$TOOLS/check_typed_item_calls.py" --mask --label --consecutive --missing-items \
            "${args[@]}") > "$TMP/tic.out" 2>&1 && grep -qx '0 warnings' "$TMP/tic.out"; then
        echo "check_typed_item_calls.py: clean"
    else
        cat "$TMP/tic.out"; fail "check_typed_item_calls.py"
    fi
fi

# ---------------------------------------------------------------------------------------------
# cppcheck with the real headers (TRY/CATCH and the tvb/proto APIs expand as in the build)
if command -v cppcheck >/dev/null; then
    incs=(-I "$SRC")
    for d in $(pkg-config --cflags-only-I wireshark glib-2.0 2>/dev/null | tr ' ' '\n' | sed -n 's/^-I//p'); do
        incs+=(-I "$d")
    done
    echo "== $(cppcheck --version)"
    if cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr --quiet --error-exitcode=1 \
            -DHAVE_SSIZE_T -DMPTCP_PLUGIN_VERSION='"0"' "${incs[@]}" \
            --suppress=missingIncludeSystem --suppress='*:/usr/include/*' --suppress=variableScope \
            "$SRC" > "$TMP/cppcheck.out" 2>&1; then
        echo "cppcheck: clean"
    else
        cat "$TMP/cppcheck.out"; fail "cppcheck"
    fi
else
    skip "cppcheck is not installed"
fi

if [ "$rc" -ne 0 ]; then
    echo "static-checks: FAILED" >&2
elif [ "$skipped" = 1 ] && [ "$STRICT" = 1 ]; then
    echo "static-checks: a check was skipped (MPTCP_STATIC_STRICT=1)" >&2
    rc=1
else
    echo "static-checks: ok$([ "$skipped" = 1 ] && echo ' (some checks skipped, see above)')"
fi
exit "$rc"
