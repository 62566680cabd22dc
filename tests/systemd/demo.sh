#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd demo (`make demo`): boots a throw-away systemd container, installs the build into it as an
# operator would (meson install), configures /etc/oraivisor/fakechaind.conf, runs
# `systemctl start oraivisor@fakechaind`, lets fakechaind v1 reach its upgrade height and shows the switch
# to v2 through `systemctl status` and the journal. Then tears everything down. About half a minute.
#
#   tests/systemd/demo.sh [BUILDDIR]        (default: build)
# Needs root and systemd-container. ORAIVISOR_TEST_BINARY=PATH installs that oraivisor instead.

set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
FK="$BUILD/tests/fakechaind"
HEIGHT=20

# shellcheck source=tests/systemd/sandbox.sh
. "$SRC/tests/systemd/sandbox.sh"
trap 'exit 143' TERM INT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m# %s\033[0m\n' "$*"; sbx "$@"; }

t0=$SECONDS
step "Booting a throw-away systemd container"
sbx_boot oraivisor-demo "$SRC" "$BUILD"

step "Installing the build (meson install into the container's /usr/local)"
sbx_install "$BUILD"
if [ -n "${ORAIVISOR_TEST_BINARY:-}" ]; then
        sbx install -m 0755 "$(cd "$(dirname "$ORAIVISOR_TEST_BINARY")" && pwd)/$(basename "$ORAIVISOR_TEST_BINARY")" /usr/local/bin/oraivisor
fi
show systemctl cat oraivisor@fakechaind.service --no-pager | sed -n '1,3p;/^\[Service\]/,/^StateDirectory=/p' | grep -v '^#' | grep -v '^$'

step "Preparing the node: user 'fakechaind', home /var/lib/fakechaind, genesis = fakechaind v1, upgrades/v2 = v2"
H=/var/lib/fakechaind
sbx useradd --system --home-dir $H --no-create-home --shell /usr/sbin/nologin fakechaind
sbx mkdir -p $H/oraivisor/genesis/bin $H/oraivisor/upgrades/v2/bin $H/data
sbx cp "$FK/fakechaind-v1" $H/oraivisor/genesis/bin/fakechaind
sbx cp "$FK/fakechaind-v2" $H/oraivisor/upgrades/v2/bin/fakechaind
sbx chown -R fakechaind: $H

step "Configuring /etc/oraivisor/fakechaind.conf"
sbx tee /etc/oraivisor/fakechaind.conf >/dev/null <<EOF
# The node
DAEMON_HOME=$H
DAEMON_NAME=fakechaind
DAEMON_USER=fakechaind
DAEMON_ARGS=start --home $H
# Upgrades
DAEMON_RESTART_AFTER_UPGRADE=true
DAEMON_SHUTDOWN_GRACE=10s
# The fake chain: a block every 200 ms, governance upgrade 'v2' at height $HEIGHT
FAKECHAIN_PLANS=v2@$HEIGHT
FAKECHAIN_BLOCK_INTERVAL=200
EOF
show cat /etc/oraivisor/fakechaind.conf

step "systemctl start oraivisor@fakechaind"
show systemctl start oraivisor@fakechaind
sleep 1
show systemctl status --no-pager -n 0 oraivisor@fakechaind oraivisor-daemon@fakechaind

step "Waiting for fakechaind v1 to reach height $HEIGHT and for oraivisor to switch to v2"
end=$((SECONDS + 40))
until sbx journalctl -q -o cat _SYSTEMD_UNIT=oraivisor-daemon@fakechaind.service | grep -F "fakechaind v2 starting" >/dev/null; do
        [ $SECONDS -lt $end ] || { echo "v2 did not start within 40 s" >&2; sbx journalctl --no-pager -n 40 -u oraivisor@fakechaind; exit 1; }
        sleep 0.5
done
sleep 1

step "After the upgrade: systemctl status"
show systemctl status --no-pager -n 0 oraivisor@fakechaind oraivisor-daemon@fakechaind
show readlink $H/oraivisor/current

step "The journal around the switch (oraivisor and the node's unit)"
printf '\033[2m# journalctl -u oraivisor@fakechaind -u oraivisor-daemon@fakechaind\033[0m\n'
sbx journalctl -q --no-pager -o short-precise -u oraivisor@fakechaind -u oraivisor-daemon@fakechaind |
        awk -v h="$HEIGHT" '
                /committed state height=/ { n = $0; sub(/.*height=/, "", n); sub(/ .*/, "", n); if (n + 0 < h - 2 && n + 0 > 1) next }
                { print }'

step "Every finished upgrade of this machine, with its catalog entry"
show journalctl -x --no-pager -q -o short MESSAGE_ID=79952004deb14f5b91e6f3f4c5252a11

step "Tearing down"
sbx_teardown
echo "demo done in $((SECONDS - t0)) s"
