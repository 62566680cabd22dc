#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every benchmark, each printing its table of ratios measured side by side against its baseline in
# the same run (absolute times vary on a shared machine; ratios are what the targets are about).
#   bench/run.sh [BUILD_DIR]        (make bench; needs root for loop mounts and the systemd sandbox)
set -uo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
status=0
run() {
        echo
        echo "==== $1"
        shift
        "$@" || { echo "==== FAILED (or missed its target): $*"; status=1; }
}
run "downloads (issue 4)" python3 bench/download/run.py --build "$build"
run "backups (issue 5)" bench/backup/run.sh "$build"
run "chain watcher idle cost (issue 13)" python3 bench/chain-watch/run.py --build "$build"
if [ -x bench/systemd/run.sh ]; then
        run "systemd supervisor (issue 3)" bench/systemd/run.sh "$build"
fi
exit $status
