#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The exec-mode demo: oraivisor runs fakechaind v1 as a child process; at height 15 the chain announces
# upgrade v2; oraivisor stops v1, switches current to upgrades/v2 and starts v2.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# The build folder, relative to the source tree (as `make demo-exec` gives it) or absolute.
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
bin=$(find "$build/destdir" -path '*/bin/oraivisor' | head -1)
[ -x "$bin" ] || { echo "no installed oraivisor under $build/destdir: run make demo" >&2; exit 1; }

home=$(mktemp -d /tmp/oraivisor-demo.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$home"' EXIT
mkdir -p "$home/oraivisor/genesis/bin" "$home/oraivisor/upgrades/v2/bin"
cp "$build/tests/fakechaind/fakechaind-v1" "$home/oraivisor/genesis/bin/fakechaind"
cp "$build/tests/fakechaind/fakechaind-v2" "$home/oraivisor/upgrades/v2/bin/fakechaind"

echo "== $home/oraivisor before:"
(cd "$home/oraivisor" && find . -type f | sort)
echo "== oraivisor start (fakechaind v1 announces upgrade v2 at height 15)"
# No metrics file: a demo's would be left behind in a node-exporter folder of this machine.
DAEMON_HOME=$home DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
        ORAIVISOR_LAUNCHER=exec ORAIVISOR_METRICS_DIR=off FAKECHAIN_PLANS="v2@15" FAKECHAIN_BLOCK_INTERVAL=100 \
        "$bin" start --home "$home" &
pid=$!
for _ in $(seq 100); do
        grep -qs '^20$' "$home/data/height" && break
        sleep 0.1
done
kill -TERM $pid
wait $pid && rc=0 || rc=$?
echo "== oraivisor exited with status $rc"
current=$(readlink "$home/oraivisor/current")
echo "== current -> $current"
if [ "$current" != upgrades/v2 ]; then
        echo "the demo failed: current is not upgrades/v2 (oraivisor's output is above)" >&2
        exit 1
fi
echo "== recorded plan: $(cat "$home/oraivisor/upgrades/v2/upgrade-info.json")"
