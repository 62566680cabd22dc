#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every libFuzzer target of a -Dfuzz=true build for N seconds, starting from its corpus (new inputs
# go to a work folder, not into the source tree) and with its dictionary tests/fuzz/<name>.dict if there
# is one. Fails if any target finds a crash, leak or UB.
#   tests/fuzz/run-libfuzzer.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?build folder}
secs=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
work="$build/fuzz-work"
mkdir -p "$work"
status=0
TIMEFORMAT="cpu: %U s user + %S s sys in %R s"
for bin in "$build"/tests/fuzz/fuzz-*-libfuzzer; do
        t=$(basename "$bin" -libfuzzer)
        t=${t#fuzz-}
        mkdir -p "$work/$t" "$work/artifacts-$t"
        echo "== $t: ${secs}s"
        dict=()
        [ -f "$top/tests/fuzz/$t.dict" ] && dict=(-dict="$top/tests/fuzz/$t.dict")
        # The CPU time it got (on a shared machine, less than the wall time it was given).
        if { time UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                "$bin" "$work/$t" "$top/tests/fuzz/corpus/$t" -max_total_time="$secs" -timeout=10 \
                -rss_limit_mb=2048 -artifact_prefix="$work/artifacts-$t/" -print_final_stats=1 "${dict[@]}" \
                >"$work/log-$t.txt" 2>&1; } 2>"$work/time-$t.txt"; then
                cat "$work/time-$t.txt"
                grep -E "stat::number_of_executed_units" "$work/log-$t.txt" || true
        else
                echo "FAILED: $t found a problem, see $work/log-$t.txt and $work/artifacts-$t/"
                tail -30 "$work/log-$t.txt"
                status=1
        fi
done
exit $status
