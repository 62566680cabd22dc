#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package, as an operator gets it. Builds it twice (tools/build-deb.sh: the tree's version, and
# the same with a newer version), runs lintian on it (no error, no warning that is not overridden with a
# reason), checks that it holds the manual pages and the bash completion, then in the throw-away systemd
# container (tests/systemd/sandbox.sh):
#   1. apt-get install ./oraivisor_<version>_<arch>.deb: the binary, the template unit (neither enabled nor
#      started), /etc/oraivisor from the tmpfiles entry, the catalog (journalctl --update-catalog through
#      systemd's trigger), the example configuration;
#   2. one real upgrade of fakechaind (v1 -> v2) under oraivisor@fakechaind;
#   3. the newer package installed while oraivisor@fakechaind runs: oraivisor is restarted (a new MainPID,
#      the new version) and adopts the node, whose unit keeps its MainPID;
#   4. apt-get purge: oraivisor and its node stop, its own state goes, the node's home, its versions and
#      its backup, and /etc/oraivisor/fakechaind.conf stay.
#   tests/deb/run.sh            (ORAIVISOR_BUILD_ROOT: the build with fakechaind, default build/)
# Needs root, tools/install-deps.sh test (debhelper, lintian, systemd-container).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${ORAIVISOR_BUILD_ROOT:-$SRC/build}" && pwd)
OUT="$BUILD/tests/deb"
FK="$BUILD/tests/fakechaind"
H=/var/lib/fakechaind
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$FK/fakechaind-v1" ] || fail "no $FK/fakechaind-v1: build first (meson compile -C $BUILD)"

t0=$SECONDS
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
newer="$version+test1"
echo "== building the package $version and $newer"
mkdir -p "$OUT"
arch=$(dpkg --print-architecture)
# DEB_TEST_REUSE=1 (by hand, while working on the test): keep the packages of the previous run.
if [ "${DEB_TEST_REUSE:-0}" != 1 ] || [ ! -f "$OUT/new/oraivisor_${newer}_$arch.deb" ]; then
        "$SRC/tools/build-deb.sh" "$OUT/old" >"$OUT/build-old.log" 2>&1 || { tail -n 30 "$OUT/build-old.log"; fail "dpkg-buildpackage $version"; }
        "$SRC/tools/build-deb.sh" "$OUT/new" "$newer" >"$OUT/build-new.log" 2>&1 || { tail -n 30 "$OUT/build-new.log"; fail "dpkg-buildpackage $newer"; }
fi
old_deb="$OUT/old/oraivisor_${version}_$arch.deb"
new_deb="$OUT/new/oraivisor_${newer}_$arch.deb"
[ -f "$old_deb" ] && [ -f "$new_deb" ] || fail "expected $old_deb and $new_deb"
echo "built in $((SECONDS - t0)) s"

echo "== lintian"
t1=$SECONDS
lintian --pedantic --show-overrides --fail-on error,warning "$OUT/old/oraivisor_${version}_$arch.changes" 2>&1 |
        grep -v "running with root privileges" || true
lintian --pedantic --fail-on error,warning "$OUT/old/oraivisor_${version}_$arch.changes" >/dev/null 2>&1 ||
        fail "lintian reports an error or a warning without an override (above)"
echo "lintian clean in $((SECONDS - t1)) s"

# The manual pages (lintian's no-manual-page has no override any more) and the bash completion.
contents=$(dpkg-deb -c "$old_deb")
for f in usr/share/man/man1/oraivisorctl.1.gz usr/share/man/man5/oraivisor.conf.5.gz \
        usr/share/man/man8/oraivisor.8.gz usr/share/bash-completion/completions/oraivisorctl; do
        grep -q " \./$f\$" <<<"$contents" || fail "the package has no /$f"
done
echo "manual pages and bash completion in the package"

# shellcheck source=tests/systemd/sandbox.sh
. "$SRC/tests/systemd/sandbox.sh"
trap 'exit 143' TERM INT
sbx_boot oraivisor-deb "$SRC" "$BUILD"

prop() { sbx systemctl show -P "$2" "$1"; }
wait_for() { # DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds
        local what="$1" end=$((SECONDS + $2)); shift 2
        until "$@" >/dev/null 2>&1; do
                if [ $SECONDS -ge $end ]; then
                        sbx systemctl status --no-pager -n 0 oraivisor@fakechaind oraivisor-daemon@fakechaind >&2 || true
                        sbx journalctl --no-pager -n 40 -u oraivisor@fakechaind >&2 || true
                        fail "$what"
                fi
                sleep 0.3
        done
}

echo "== 1. apt-get install $old_deb"
# The container's root is this machine's, as it is now: finish a dpkg run caught in the middle (another
# apt-get on the machine), in the container only.
sbx dpkg --configure -a >/dev/null 2>&1 || true
sbx env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$old_deb" >"$OUT/install-old.log" 2>&1 ||
        { cat "$OUT/install-old.log"; fail "apt-get install of the package"; }
sbx test -x /usr/bin/oraivisor || fail "no /usr/bin/oraivisor"
sbx test -f /lib/systemd/system/oraivisor@.service || fail "no /lib/systemd/system/oraivisor@.service"
sbx test -f /usr/share/doc/oraivisor/oraivisor.conf.example || fail "no example configuration"
[ "$(sbx stat -c %a:%U /etc/oraivisor)" = 750:root ] || fail "/etc/oraivisor was not made by the tmpfiles entry (0750 root)"
sbx journalctl --list-catalog 79952004deb14f5b91e6f3f4c5252a11 | grep -q . || fail "the catalog is not in journald's database"
[ -z "$(sbx systemctl list-units --no-legend --all 'oraivisor@*')" ] || fail "the package started an instance"
echo "installed: binary, template unit (not started), /etc/oraivisor, catalog, example"

echo "== 2. a real upgrade of fakechaind under oraivisor@fakechaind"
sbx useradd --system --home-dir $H --no-create-home --shell /usr/sbin/nologin fakechaind
sbx mkdir -p $H/oraivisor/genesis/bin $H/oraivisor/upgrades/v2/bin $H/data
sbx cp "$FK/fakechaind-v1" $H/oraivisor/genesis/bin/fakechaind
sbx cp "$FK/fakechaind-v2" $H/oraivisor/upgrades/v2/bin/fakechaind
sbx chown -R fakechaind: $H
sbx tee /etc/oraivisor/fakechaind.conf >/dev/null <<CONF
DAEMON_HOME=$H
DAEMON_NAME=fakechaind
DAEMON_USER=fakechaind
DAEMON_ARGS=start --home $H
DAEMON_SHUTDOWN_GRACE=10s
FAKECHAIN_PLANS=v2@20
FAKECHAIN_BLOCK_INTERVAL=200
CONF
sbx systemctl start oraivisor@fakechaind
v2_started() { sbx journalctl -q -o cat _SYSTEMD_UNIT=oraivisor-daemon@fakechaind.service | grep -q "fakechaind v2 starting"; }
wait_for "fakechaind v2 did not start within 60 s" 60 v2_started
[ "$(sbx readlink $H/oraivisor/current)" = upgrades/v2 ] || fail "current is not upgrades/v2 after the upgrade"
sbx sh -c "ls -d $H/data-backup-*-v2-*" >/dev/null || fail "no backup of data/ after the upgrade"
echo "upgraded to v2; backup $(sbx sh -c "ls -d $H/data-backup-*-v2-*")"

echo "== 3. the package upgraded to $newer while oraivisor@fakechaind runs"
wait_for "oraivisor@fakechaind is not active after the upgrade" 30 \
        sh -c "[ \"\$(nsenter -t $SBX_PID1 -a systemctl is-active oraivisor@fakechaind)\" = active ]"
node_pid=$(prop oraivisor-daemon@fakechaind.service MainPID)
old_pid=$(prop oraivisor@fakechaind.service MainPID)
[ "$node_pid" -gt 0 ] && [ "$old_pid" -gt 0 ] || fail "no MainPID (node $node_pid, oraivisor $old_pid)"
cursor_before=$(sbx journalctl --show-cursor -n 0 -q | sed -n 's/^-- cursor: //p')
sbx env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$new_deb" >"$OUT/install-new.log" 2>&1 ||
        { cat "$OUT/install-new.log"; fail "apt-get install of the newer package"; }
cat "$OUT/install-new.log" | grep "^oraivisor:" || true
[ "$(sbx dpkg-query -W -f='${Version}' oraivisor)" = "$newer" ] || fail "the newer package is not installed"
adopted() { sbx journalctl -q -o cat --after-cursor="$cursor_before" -u oraivisor@fakechaind.service | grep -F "Adopted the running fakechaind (v2)" >/dev/null; }
wait_for "the new oraivisor did not adopt the node within 60 s" 60 adopted
new_pid=$(prop oraivisor@fakechaind.service MainPID)
[ "$new_pid" -gt 0 ] && [ "$new_pid" != "$old_pid" ] || fail "oraivisor was not restarted (MainPID $old_pid -> $new_pid)"
[ "$(prop oraivisor-daemon@fakechaind.service MainPID)" = "$node_pid" ] ||
        fail "the node's unit changed its MainPID ($node_pid -> $(prop oraivisor-daemon@fakechaind.service MainPID)): the package upgrade stopped the node"
[ "$(prop oraivisor-daemon@fakechaind.service ActiveState)" = active ] || fail "the node's unit is not active"
sbx journalctl -q -o cat --after-cursor="$cursor_before" -u oraivisor@fakechaind.service | grep -F "Received SIG" &&
        fail "the old oraivisor was asked to stop (which stops the node)"
echo "oraivisor restarted (MainPID $old_pid -> $new_pid) and adopted the node; node MainPID $node_pid unchanged"

echo "== 4. apt-get purge oraivisor"
sbx env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q oraivisor >"$OUT/purge.log" 2>&1 ||
        { cat "$OUT/purge.log"; fail "apt-get purge"; }
[ "$(sbx systemctl is-active oraivisor@fakechaind oraivisor-daemon@fakechaind | sort -u)" = inactive ] ||
        fail "oraivisor@fakechaind or its node still runs after the package was removed"
sbx test ! -e /usr/bin/oraivisor || fail "/usr/bin/oraivisor is still there"
sbx test ! -e /var/lib/oraivisor/fakechaind/journal-cursor || fail "purge left oraivisor's journal position"
for p in $H/oraivisor/genesis/bin/fakechaind $H/oraivisor/upgrades/v2/bin/fakechaind $H/oraivisor/current \
        $H/data /etc/oraivisor/fakechaind.conf; do
        sbx test -e "$p" || fail "purge removed $p"
done
sbx sh -c "ls -d $H/data-backup-*-v2-*" >/dev/null || fail "purge removed the backup"
echo "purged: the node's home, versions, backup and configuration are still there"

sbx_teardown
echo "package test passed in $((SECONDS - t0)) s"
