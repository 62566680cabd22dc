#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmarks of the systemd side, measured side by side in one throw-away container (tests/systemd/
# sandbox.sh) with fakechaind as the node, printed as one table with ratios:
#
#  1. Switchover: from the moment the node announces the upgrade to the new binary's first line (binary
#     pre-installed, no backup), oraivisor@.service against a shell watcher doing the same with
#     `journalctl -f | grep -m1`, `systemctl stop`, `ln -sfn` and `systemd-run`. oraivisor is measured
#     twice: with the announcement only in the log, and as the SDK does it (data/upgrade-info.json written
#     first, then the log line: the inotify source wins). "Overhead" is the total minus the node's own stop
#     (PID 1's "Stopping" to "Stopped") and start (PID 1's "Starting" to the node's first line). All times
#     are journald's receive timestamps (the file's mtime for the file source).
#  2. CPU time per 100,000 node lines: oraivisor against `journalctl -f -o cat -u UNIT | grep PATTERN` on
#     the same lines (CPU time from /proc/PID/schedstat; a run without the burst is subtracted).
#  3. Idle: oraivisor's RSS and its wake-ups (context switches) over 30 s with a silent node.
#
#   bench/systemd/run.sh [BUILDDIR]      (default: build; root and systemd-container needed)
# Environment: BENCH_RUNS (switchover repetitions, default 7), BENCH_IDLE_SECONDS (default 30),
# ORAIVISOR_TEST_BINARY=PATH installs that oraivisor instead of the built one.

set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
FK="$BUILD/tests/fakechaind"
RUNS=${BENCH_RUNS:-7}
IDLE=${BENCH_IDLE_SECONDS:-30}
LINES=100000

# shellcheck source=tests/systemd/sandbox.sh
. "$SRC/tests/systemd/sandbox.sh"
trap 'exit 143' TERM INT

die() { echo "bench: $*" >&2; exit 1; }

sbx_boot oraivisor-bench "$SRC" "$BUILD" || die "the container could not boot"
sbx_install "$BUILD" || die "installing the build failed"
if [ -n "${ORAIVISOR_TEST_BINARY:-}" ]; then
        sbx install -m 0755 "$(cd "$(dirname "$ORAIVISOR_TEST_BINARY")" && pwd)/$(basename "$ORAIVISOR_TEST_BINARY")" /usr/local/bin/oraivisor
fi

# ---- helpers -------------------------------------------------------------------------------------------

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# ts_of UNIT-ARGS... -- TEXT: the short-unix timestamp (s.us) of the first journal line containing TEXT
ts_of() {
        local args=()
        while [ "$1" != "--" ]; do args+=("$1"); shift; done
        shift
        sbx journalctl -q --no-pager -o short-unix "${args[@]}" | grep -F -m1 -- "$1" | awk '{ print $1 }'
}
ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "nan"; else printf "%.1f\n", (b - a) * 1000 }'; }
cpu_ns() { sbx cat "/proc/$1/schedstat" 2>/dev/null | awk '{ print $1 }'; }
wait_journal() { # wait_journal SECONDS UNIT-ARGS... -- TEXT
        local t="$1"; shift
        local end=$((SECONDS + t))
        while [ $SECONDS -le $end ]; do
                [ -n "$(ts_of "$@")" ] && return 0
                sleep 0.2
        done
        return 1
}

make_home() { # make_home HOME
        local h="$1"
        sbx rm -rf "$h"
        sbx mkdir -p "$h/oraivisor/genesis/bin" "$h/oraivisor/upgrades/v2/bin" "$h/data"
        sbx cp "$FK/fakechaind-v1" "$h/oraivisor/genesis/bin/fakechaind"
        sbx cp "$FK/fakechaind-v2" "$h/oraivisor/upgrades/v2/bin/fakechaind"
        sbx ln -sfn genesis "$h/oraivisor/current"
}

# ---- 1. switchover --------------------------------------------------------------------------------------

# One oraivisor switchover; prints "total stop start overhead detect hook" in ms (hook: the new binary's
# pre-upgrade, which the upgrade engine runs and the shell watcher does not).
switch_oraivisor() { # switch_oraivisor RUN ANNOUNCE
        local i="b$1$2" h="/var/lib/bench-$1-$2"
        make_home "$h"
        printf '%s\n' DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                DAEMON_SHUTDOWN_GRACE=10s DAEMON_ARGS=start FAKECHAIN_PLANS=v2@10 FAKECHAIN_BLOCK_INTERVAL=100 \
                FAKECHAIN_ANNOUNCE=$2 | sbx tee /etc/oraivisor/$i.conf >/dev/null
        sbx systemctl start oraivisor@$i
        local node=oraivisor-daemon@$i.service
        wait_journal 20 _SYSTEMD_UNIT=$node -- "fakechaind v2 starting" || { echo "nan nan nan nan nan"; return; }
        sleep 0.3
        local t0 t_end t_stop0 t_stop1 t_start0 t_det
        if [ "$2" = log ]; then
                t0=$(ts_of _SYSTEMD_UNIT=$node -- 'UPGRADE "v2" NEEDED')
        else
                t0=$(sbx stat -c %.6Y $h/data/upgrade-info.json)
        fi
        t_det=$(ts_of -u oraivisor@$i -- "Upgrade plan 'v2' detected")
        t_end=$(ts_of _SYSTEMD_UNIT=$node -- "fakechaind v2 starting")
        t_stop0=$(ts_of _PID=1 UNIT=$node -- "Stopping $node")
        t_stop1=$(ts_of _PID=1 UNIT=$node -- "Stopped $node")
        t_start0=$(ts_of _PID=1 UNIT=$node -- "Starting $node - fakechaind chain node (v2)")
        local t_hook0 t_hook1 t_seen t_launch
        t_hook0=$(ts_of -u oraivisor@$i -- "bin/fakechaind pre-upgrade'.")
        t_hook1=$(ts_of -u oraivisor@$i -- "bin/fakechaind pre-upgrade' succeeded")
        t_seen=$(ts_of -u oraivisor@$i -- "fakechaind stopped (")
        t_launch=$(ts_of -u oraivisor@$i -- "Starting fakechaind (v2)")
        sbx systemctl stop oraivisor@$i
        local total stop start hook
        total=$(ms "$t0" "$t_end"); stop=$(ms "$t_stop0" "$t_stop1"); start=$(ms "$t_start0" "$t_end")
        hook=$(ms "$t_hook0" "$t_hook1")
        # Fields 7-10: detection -> PID 1 Stopping; PID 1 Stopped -> oraivisor saw the end (lines drained);
        # the engine (end seen -> launch); launch -> PID 1 Starting (StartTransientUnit).
        echo "$total $stop $start $(awk -v a="$total" -v b="$stop" -v c="$start" 'BEGIN { printf "%.1f", a - b - c }') $(ms "$t0" "$t_det") $hook" \
                "$(ms "$t_det" "$t_stop0") $(ms "$t_stop1" "$t_seen") $(ms "$t_seen" "$t_launch") $(ms "$t_launch" "$t_start0")"
}

# The same with a shell watcher; prints "total stop start overhead detect 0".
switch_shell() { # switch_shell RUN
        local h="/var/lib/bench-sh-$1" node="bench-sh-$1.service"
        make_home "$h"
        local envs=(-E DAEMON_HOME=$h -E FAKECHAIN_PLANS=v2@10 -E FAKECHAIN_BLOCK_INTERVAL=100 -E FAKECHAIN_ANNOUNCE=log)
        sbx tee /run/bench-watch-$1.sh >/dev/null <<EOF
#!/bin/bash
grep -m1 -q 'UPGRADE "v2" NEEDED' < <(journalctl -f -n0 -o cat -u $node)
echo "watcher: detected" | systemd-cat -t bench-watch-$1
systemctl stop $node
ln -sfn upgrades/v2 $h/oraivisor/current
systemd-run -q --unit=$node -p Type=exec -p LogRateLimitBurst=500000000 -p WorkingDirectory=$h ${envs[*]} $h/oraivisor/current/bin/fakechaind start
EOF
        sbx chmod +x /run/bench-watch-$1.sh
        sbx systemd-run -q --unit=bench-watch-$1 /run/bench-watch-$1.sh
        sleep 0.3 # journalctl -f is up
        sbx systemd-run -q --unit=$node -p Type=exec -p LogRateLimitBurst=500000000 -p WorkingDirectory=$h "${envs[@]}" \
                $h/oraivisor/current/bin/fakechaind start
        wait_journal 30 _SYSTEMD_UNIT=$node -- "fakechaind v2 starting" || { echo "nan nan nan nan nan"; return; }
        sleep 0.3
        local t0 t_end t_stop0 t_stop1 t_start0 t_det
        t0=$(ts_of _SYSTEMD_UNIT=$node -- 'UPGRADE "v2" NEEDED')
        t_det=$(ts_of SYSLOG_IDENTIFIER=bench-watch-$1 -- "watcher: detected")
        t_end=$(ts_of _SYSTEMD_UNIT=$node -- "fakechaind v2 starting")
        t_stop0=$(ts_of _PID=1 UNIT=$node -- "Stopping $node")
        t_stop1=$(ts_of _PID=1 UNIT=$node -- "Stopped $node")
        t_start0=$(sbx journalctl -q --no-pager -o short-unix _PID=1 UNIT=$node | grep -F "Starting $node" | sed -n 2p | awk '{ print $1 }')
        [ -n "$t_start0" ] || t_start0=$(sbx journalctl -q --no-pager -o short-unix _PID=1 UNIT=$node | grep -F "Started $node" | sed -n 2p | awk '{ print $1 }')
        sbx systemctl stop $node
        local total stop start
        total=$(ms "$t0" "$t_end"); stop=$(ms "$t_stop0" "$t_stop1"); start=$(ms "$t_start0" "$t_end")
        echo "$total $stop $start $(awk -v a="$total" -v b="$stop" -v c="$start" 'BEGIN { printf "%.1f", a - b - c }') $(ms "$t0" "$t_det") 0"
}

echo "bench: switchover, $RUNS runs each (oraivisor log source, oraivisor file source, shell watcher)"
declare -A SW
for r in $(seq 1 "$RUNS"); do
        SW[log,$r]=$(switch_oraivisor "$r" log)
        SW[file,$r]=$(switch_oraivisor "$r" both)
        SW[shell,$r]=$(switch_shell "$r")
        echo "  run $r: log ${SW[log,$r]} | file ${SW[file,$r]} | shell ${SW[shell,$r]}"
done
col() { # col KIND FIELD: the median of that field over the runs
        for r in $(seq 1 "$RUNS"); do echo "${SW[$1,$r]}" | awk -v f="$2" '{ print $f }'; done | grep -v nan | median
}

# ---- 2. CPU per 100,000 lines -----------------------------------------------------------------------------

# oraivisor's CPU time (ms) from its start to the detection of the plan announced after BURST lines.
cpu_oraivisor() { # cpu_oraivisor TAG BURST
        local i="cpu$1" h="/var/lib/bench-cpu-$1"
        make_home "$h"
        printf '%s\n' DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true DAEMON_ARGS=start \
                DAEMON_RESTART_AFTER_UPGRADE=true FAKECHAIN_PLANS=v2@1 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=hang \
                FAKECHAIN_BURST=$2 | sbx tee /etc/oraivisor/$i.conf >/dev/null
        sbx systemctl start oraivisor@$i
        local pid; pid=$(sbx systemctl show -P MainPID oraivisor@$i)
        wait_journal 60 -u oraivisor@$i -- "Upgrade plan 'v2' detected" || { echo nan; return; }
        local ns; ns=$(cpu_ns "$pid")
        sbx systemctl stop oraivisor@$i
        awk -v n="$ns" 'BEGIN { printf "%.1f\n", n / 1e6 }'
}

# journalctl -f -o cat -u UNIT | grep: CPU time (ms) of both until grep has seen the announcement. The
# pipeline starts right after the node with --lines=all, so that it reads every line of the run whatever
# the timing (journalctl -f -n0 started before a unit's first entry can miss what follows on v252).
cpu_pipeline() { # cpu_pipeline TAG BURST
        local h="/var/lib/bench-cpup-$1" node="bench-cpup-$1.service"
        make_home "$h"
        printf '#!/bin/bash\njournalctl -f --lines=all -o cat -u %s | grep --line-buffered %s > /run/bench-pipe-%s.out\n' \
                "$node" "'UPGRADE \"v2\" NEEDED'" "$1" | sbx tee /run/bench-pipe-$1.sh >/dev/null
        sbx chmod +x /run/bench-pipe-$1.sh
        sbx systemd-run -q --unit=$node -p Type=exec -p LogRateLimitBurst=500000000 -p WorkingDirectory=$h \
                -E DAEMON_HOME=$h -E FAKECHAIN_PLANS=v2@1 -E FAKECHAIN_BLOCK_INTERVAL=100 -E FAKECHAIN_ANNOUNCE=log \
                -E FAKECHAIN_HALT=hang -E FAKECHAIN_BURST=$2 $h/oraivisor/current/bin/fakechaind start
        sbx systemd-run -q --unit=bench-pipe-$1 /run/bench-pipe-$1.sh
        local end=$((SECONDS + 60))
        until sbx test -s /run/bench-pipe-$1.out; do
                [ $SECONDS -lt $end ] || { echo nan; return; }
                sleep 0.2
        done
        local total=0 p
        # The pipeline's processes: journalctl and grep, children of the script.
        local script; script=$(sbx systemctl show -P MainPID bench-pipe-$1.service)
        for p in $(sbx pgrep -P "$script"); do
                total=$((total + $(cpu_ns "$p")))
        done
        sbx systemctl stop $node bench-pipe-$1.service
        awk -v n="$total" 'BEGIN { printf "%.1f\n", n / 1e6 }'
}

echo "bench: CPU time per $LINES lines"
cpu_o_burst=$(cpu_oraivisor burst $LINES); cpu_o_base=$(cpu_oraivisor base 0)
cpu_p_burst=$(cpu_pipeline burst $LINES); cpu_p_base=$(cpu_pipeline base 0)
echo "  oraivisor: $cpu_o_burst ms with the burst, $cpu_o_base ms without; pipeline: $cpu_p_burst ms, $cpu_p_base ms"
cpu_o=$(awk -v a="$cpu_o_burst" -v b="$cpu_o_base" 'BEGIN { printf "%.1f", a - b }')
cpu_p=$(awk -v a="$cpu_p_burst" -v b="$cpu_p_base" 'BEGIN { printf "%.1f", a - b }')

# ---- 3. idle ---------------------------------------------------------------------------------------------

echo "bench: idle for $IDLE s"
h=/var/lib/bench-idle
make_home $h
printf '%s\n' DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_ARGS=start FAKECHAIN_BLOCK_INTERVAL=3600000 |
        sbx tee /etc/oraivisor/idle.conf >/dev/null
sbx systemctl start oraivisor@idle
sleep 2
ipid=$(sbx systemctl show -P MainPID oraivisor@idle)
cs() { sbx awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$ipid/status"; }
c0=$(cs)
sleep "$IDLE"
c1=$(cs)
rss=$(sbx awk '/^VmRSS/ { print $2 }' "/proc/$ipid/status")
rss_anon=$(sbx awk '/^RssAnon/ { print $2 }' "/proc/$ipid/status")
pss=$(sbx awk '/^Pss:/ { print $2 }' "/proc/$ipid/smaps_rollup")
private=$(sbx awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n }' "/proc/$ipid/smaps_rollup")
journal_map=$(sbx awk '/^[0-9a-f]/ { j = ($6 ~ /\.journal(~)?$/) } /^Rss:/ && j { n += $2 } END { print n + 0 }' "/proc/$ipid/smaps")
wd=$(sbx systemctl show -P WatchdogUSec oraivisor@idle)
sbx systemctl stop oraivisor@idle
wakeups=$((c1 - c0))

# ---- the table -------------------------------------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "nan" || b == "nan") print "n/a"; else printf "%.2fx", a / b }'; }
lt=$(col log 1); ft=$(col file 1); st=$(col shell 1)
lo=$(col log 4); fo=$(col file 4); so=$(col shell 4)
echo
echo "| Measure (median of $RUNS runs, ms unless noted) | oraivisor, log line | oraivisor, upgrade-info.json | shell watcher | ratio log/shell | ratio file/shell |"
echo "|---|---|---|---|---|---|"
echo "| Switchover: announcement -> new binary's first line | $lt | $ft | $st | $(ratio "$lt" "$st") | $(ratio "$ft" "$st") |"
echo "| ... detection (announcement -> watcher acts) | $(col log 5) | $(col file 5) | $(col shell 5) | | |"
echo "| ... the node's stop (PID 1 Stopping -> Stopped) | $(col log 2) | $(col file 2) | $(col shell 2) | | |"
echo "| ... the node's start (PID 1 Starting -> first line) | $(col log 3) | $(col file 3) | $(col shell 3) | | |"
echo "| ... overhead beyond the node's stop and start (target <= 50) | $lo | $fo | $so | $(ratio "$lo" "$so") | $(ratio "$fo" "$so") |"
lh=$(col log 6); fh=$(col file 6)
lx=$(awk -v a="$lo" -v b="$lh" 'BEGIN { printf "%.1f", a - b }'); fx=$(awk -v a="$fo" -v b="$fh" 'BEGIN { printf "%.1f", a - b }')
echo "| ... of which: detection -> StopUnit reaches PID 1 | $(col log 7) | $(col file 7) | | | |"
echo "| ... of which: node stopped -> oraivisor has its exit and last lines | $(col log 8) | $(col file 8) | | | |"
echo "| ... of which: upgrade engine (incl. the hook) | $(col log 9) | $(col file 9) | | | |"
echo "| ... of which: launch -> PID 1 starts the unit (StartTransientUnit) | $(col log 10) | $(col file 10) | | | |"
echo "| ... of which the new binary's pre-upgrade hook | $lh | $fh | (not run) | | |"
echo "| ... overhead without the hook | $lx | $fx | $so | $(ratio "$lx" "$so") | $(ratio "$fx" "$so") |"
echo "| CPU time per $LINES node lines (target <= 0.5x) | $cpu_o | | $cpu_p (journalctl -f \\| grep) | $(ratio "$cpu_o" "$cpu_p") | |"
echo "| Idle RSS (target <= 4 MiB): VmRSS | $rss KiB | | | | |"
echo "| ... of which anonymous (heap, stacks) / private to oraivisor / PSS | $rss_anon / $private / $pss KiB | | | | |"
echo "| ... of which journal files mapped by sd-journal (shared with journald) | $journal_map KiB | | | | |"
echo "| Idle wake-ups in $IDLE s (watchdog: WatchdogSec=$wd, pinged every half) | $wakeups | | | | |"
sbx_teardown
