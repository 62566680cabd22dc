#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each tools/install-deps.sh group, alone on a minimal Debian: what a newcomer's fresh machine has. A
# minbase chroot of the machine's own release (mmdebstrap, from the machine's apt sources) is made once and
# cached; each group then runs in a throw-away overlay of it (a tmpfs on top, in a private mount
# namespace: nothing it installs or builds outlives it), with the source copied in, and does what README
# tells a newcomer to do with that group:
#   build   make build                      (no Criterion: the build says the tests are not built, and
#                                            -Dtests=enabled stops with what to install)
#   demo    make demo-exec                  (the demo's non-systemd part: a real upgrade v1 -> v2)
#   test    install the group; make build TESTS=enabled (the test suites compile)
#   bench   what make bench does before the benchmarks (the group, then the build with the tests)
#   fuzz    install the group; the libFuzzer build of make fuzz (clang, -Dfuzz=true)
#   deb     install the group; make deb     (dpkg-buildpackage with the package's Build-Depends only)
#
#   tests/deps/run.sh [GROUP...]            (default: all of the above)
# Needs root, mmdebstrap (tools/install-deps.sh test) and the machine's apt sources. The cache is
# $ORAIVISOR_DEPS_CACHE (default /var/cache/oraivisor-tests): the chroot (made again after 7 days), apt's
# lists and the downloaded packages, so a second run downloads almost nothing.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${ORAIVISOR_DEPS_CACHE:-/var/cache/oraivisor-tests}
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build demo test bench fuzz deb)

fail() { echo "deps: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root (it makes a chroot and installs packages into it)"
for p in mmdebstrap unshare chroot git flock; do
        command -v "$p" >/dev/null || fail "'$p' is missing: tools/install-deps.sh test installs it"
done
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
base="$CACHE/$suite-minbase"
mkdir -p "$CACHE/archives/partial" "$CACHE/lists/partial"
# One run at a time on a machine: the chroot and apt's cache are shared.
exec 9>"$CACHE/.lock"
flock 9

# The base: minbase of the machine's release, from the machine's own apt sources.
if [ ! -e "$base/.complete" ] || [ -n "$(find "$base/.complete" -mtime +7)" ]; then
        sources=()
        [ -s /etc/apt/sources.list ] && grep -q '^deb' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
        for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
                [ -s "$f" ] && sources+=("$f")
        done
        [ ${#sources[@]} -gt 0 ] || fail "no apt sources on this machine (/etc/apt/sources.list{,.d})"
        t0=$SECONDS
        rm -rf "$base" "$base.new"
        echo "deps: making a minbase $suite chroot in $base (cached)"
        mmdebstrap --quiet --variant=minbase "$suite" "$base.new" "${sources[@]}"
        touch "$base.new/.complete"
        mv "$base.new" "$base"
        echo "deps: chroot made in $((SECONDS - t0)) s"
fi

# The source as committed plus what is not yet (tracked and untracked files, not the ignored build folders).
srclist=$(mktemp /var/tmp/deps-src.XXXXXX)
trap 'rm -f "$srclist"' EXIT
git -C "$SRC" ls-files -z --cached --others --exclude-standard >"$srclist"

run_group() {
        local group="$1" log="$2"
        # In a private mount namespace: the tmpfs, the overlay and the binds vanish when it ends.
        unshare --mount --propagation private bash -euo pipefail -c '
                base=$1 cache=$2 src=$3 srclist=$4 group=$5
                W=$(mktemp -d /var/tmp/deps-overlay.XXXXXX)
                trap "umount -R \$W 2>/dev/null || true; rmdir \$W" EXIT
                mount -t tmpfs -o mode=755 deps "$W"
                mkdir -p "$W/upper" "$W/work" "$W/root"
                mount -t overlay overlay -o "lowerdir=$base,upperdir=$W/upper,workdir=$W/work" "$W/root"
                R=$W/root
                mount --bind "$cache/archives" "$R/var/cache/apt/archives"
                mount --bind "$cache/lists" "$R/var/lib/apt/lists"
                mount -t proc proc "$R/proc"
                mount --rbind /dev "$R/dev"
                mount -t tmpfs tmpfs "$R/tmp"
                cp -L /etc/resolv.conf "$R/etc/resolv.conf"
                # Keep what apt downloads (the shared cache); apt runs as root here (a bind of a root folder).
                printf "%s\n" "Binary::apt::APT::Keep-Downloaded-Packages \"true\";" "APT::Keep-Downloaded-Packages \"true\";" \
                        "APT::Sandbox::User \"root\";" >"$R/etc/apt/apt.conf.d/99oraivisor-tests"
                rm -f "$R/etc/apt/apt.conf.d/docker-clean"
                mkdir -p "$R/src/oraivisor"
                (cd "$src" && tar --null -T "$srclist" -cf -) | tar -C "$R/src/oraivisor" -xf -
                chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                        DEBIAN_FRONTEND=noninteractive bash /src/oraivisor/tests/deps/in-chroot.sh "$group"
        ' deps "$base" "$CACHE" "$SRC" "$srclist" "$group" >"$log" 2>&1
}

failed=()
for g in "${groups[@]}"; do
        case "$g" in build|demo|test|bench|fuzz|deb) ;; *) fail "unknown group '$g'" ;; esac
        log=$(mktemp /var/tmp/deps-$g-log.XXXXXX)
        t0=$SECONDS
        if run_group "$g" "$log"; then
                echo "ok   $g ($((SECONDS - t0)) s)"
        else
                echo "FAIL $g ($((SECONDS - t0)) s); the last lines of its log:"
                tail -n 40 "$log" | sed 's/^/    /'
                failed+=("$g")
        fi
        rm -f "$log"
done
echo "$(( ${#groups[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
