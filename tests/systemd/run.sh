#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd suite: boots a real systemd in a throw-away container once (sandbox.sh), installs the build
# into it with `meson install` as an operator would, and runs every scenario through real systemctl and
# journalctl with fakechaind as the node:
#   launcher-*  the unit launcher on its own, driven by launcher-driver (start, properties, exit statuses,
#               adoption after the driver is SIGKILLed with the journal resumed at the saved cursor, a
#               30,000-line burst, a Description that looks like an announcement, DAEMON_USER with a
#               user-UID journal file, exec failures, stop grace, kill, stale and clashing units, echo,
#               PID 1 reloads);
#   oraivisor-* the installed oraivisor@.service (upgrade through the log and through upgrade-info.json,
#               SIGKILL and adoption, a plan that became due while oraivisor was stopped, systemctl stop,
#               bad or missing configuration, the burst, the announcement at the end of 1 to 64 MiB lines,
#               the bait Description, DAEMON_USER and LD_LIBRARY_PATH, a restart of D-Bus under a running
#               oraivisor; what follows an upgrade with DAEMON_HOME alone and with
#               DAEMON_RESTART_AFTER_UPGRADE=false; downloads from a loopback mirror through the drop-in of
#               docs/systemd.md, a bad checksum, no drop-in at all and an IPAddressDeny= on the unit or its
#               slice (refused at start); oraivisorctl -i NAME prepare-upgrade with downloads off, ahead of
#               the height, and the upgrade with what it installed; an upgrade scheduled at a height without
#               governance (oraivisorctl add-upgrade --height) stopped exactly there; loopback TCP from the unit's sandbox to the host's 127.0.0.1 with
#               the RPC drop-in of docs/systemd.md; the chain watcher on the node's unix socket under the
#               shipped unit, and on TCP (78 when explicit, a notice when derived, watched with the drop-in); a backup of a data/ that is a btrfs subvolume, a
#               snapshot taken and an older one pruned within the unit's seccomp filter and capabilities; the
#               recovery after a failed upgrade with `oraivisorctl -i NAME backups restore`);
#   oraivisor_fleet_journal  docs/fleet.md's recipe: systemd-journal-upload to systemd-journal-remote over
#               HTTPS on loopback, an upgrade found in the central journal with its fields;
#   oraivisorctl-* the installed oraivisorctl against oraivisor@NAME (`-i NAME status` while it runs);
#   torture_unit tests/torture/torture.py with the unit launcher (TORTURE_UNIT_RUNS runs, default 10).
# It fails (never skips) when the container cannot boot.
#
#   ORAIVISOR_BUILD_ROOT=build tests/systemd/run.sh [SCENARIO-GLOB...]
# Environment: SYSTEMD_TEST_KEEP_LOGS=1 keeps the per-scenario logs (their folder is printed);
# TORTURE_UNIT_RUNS=N (default 10) and TORTURE_SEED=S for torture_unit;
# ORAIVISOR_TEST_BINARY=PATH installs that oraivisor binary over the one from `meson install` (to try a
# variant build without reconfiguring).

set -uo pipefail

SRC=${ORAIVISOR_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${ORAIVISOR_BUILD_ROOT:?set ORAIVISOR_BUILD_ROOT to the meson build folder}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$SRC" && pwd)
DRV="$BUILD/tests/systemd/launcher-driver"
FK="$BUILD/tests/fakechaind"

# shellcheck source=tests/systemd/sandbox.sh
. "$SRC/tests/systemd/sandbox.sh"
SBX_OWN_TRAP=1

for f in "$DRV" "$FK/fakechaind-v1" "$FK/fakechaind-v2" "$FK/fakechaind-v3" "$BUILD/src/oraivisor/oraivisor" \
        "$BUILD/src/oraivisorctl/oraivisorctl"; do
        [ -x "$f" ] || { echo "FAIL: '$f' is not built: run ninja -C '$BUILD' first" >&2; exit 1; }
done

OUT=$(mktemp -d /var/tmp/oraivisor-systemd-test.XXXXXX)
PASSED=()
FAILED=()
CURRENT=
T_FAILS=0

# A btrfs file system for the snapshot scenario, loop-mounted on the host below the build folder, which
# the container binds with its submounts (the container has no loop devices of its own).
BTRFS_MNT=
btrfs_setup() {
        local img="$OUT/btrfs.img"
        truncate -s 512M "$img" && mkfs.btrfs -q -f "$img" >/dev/null && mkdir -p "$BUILD/sbx-btrfs" &&
                mount -o loop "$img" "$BUILD/sbx-btrfs" && BTRFS_MNT="$BUILD/sbx-btrfs"
}

cleanup() {
        local rc=$?
        sbx_teardown
        if [ -n "$BTRFS_MNT" ]; then
                umount "$BTRFS_MNT" 2>/dev/null || umount -l "$BTRFS_MNT" 2>/dev/null || true
                rmdir "$BTRFS_MNT" 2>/dev/null || true
        fi
        if [ "${SYSTEMD_TEST_KEEP_LOGS:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
                echo "logs kept in $OUT"
        else
                rm -rf "$OUT"
        fi
        exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- assertions ---------------------------------------------------------------------------------------

fail() {
        echo "    FAIL [$CURRENT]: $*" >&2
        T_FAILS=$((T_FAILS + 1))
}
ok() {
        echo "    ok: $*"
}
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() {
        local what="$1"; shift
        if "$@"; then ok "$what"; else fail "$what"; fi
}
# contains FILE TEXT / lacks FILE TEXT (fixed strings)
contains() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
not() { ! "$@"; }

# wait_for SECONDS COMMAND...: polls every 0.1 s.
wait_for() {
        local t="$1"; shift
        local end=$((SECONDS + t))
        while [ $SECONDS -le $end ]; do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

# ---- helpers inside the container ----------------------------------------------------------------------

prop() { # prop UNIT PROPERTY
        sbx systemctl show -P "$2" "$1" 2>/dev/null
}
prop_is() { # prop_is UNIT PROPERTY VALUE
        [ "$(prop "$1" "$2")" = "$3" ]
}
# settled_failed UNIT: the unit has come to rest as failed, never restarted. With Restart=, systemd decides
# when the main process exits: a restart to come shows as ActiveState=activating, SubState=auto-restart for
# RestartSec=, and only a unit it will not restart is failed/failed. So waiting for this state proves "no
# restart loop" at once, however slow the machine, where sleeping past RestartSec= proved it only on a
# fast one.
settled_failed() {
        [ "$(prop "$1" ActiveState)/$(prop "$1" SubState)" = failed/failed ] && [ "$(prop "$1" NRestarts)" = 0 ]
}

# A home with the fake chain: genesis = v1, upgrades/v2 (with lib/), upgrades/v3. Owner: $3 (default root).
make_home() {
        local home="$1" name="$2" owner="${3:-root}"
        sbx mkdir -p "$home/oraivisor/genesis/bin" "$home/oraivisor/upgrades/v2/bin" "$home/oraivisor/upgrades/v2/lib" \
                "$home/oraivisor/upgrades/v3/bin" "$home/data"
        sbx cp "$FK/fakechaind-v1" "$home/oraivisor/genesis/bin/$name"
        sbx cp "$FK/fakechaind-v2" "$home/oraivisor/upgrades/v2/bin/$name"
        sbx cp "$FK/fakechaind-v3" "$home/oraivisor/upgrades/v3/bin/$name"
        sbx chown -R "$owner:" "$home"
}

# Starts the driver in the background: driver_bg OUTFILE ENV... -- DRIVER-ARGS...
driver_bg() {
        local out="$1"; shift
        local envs=()
        while [ "$1" != "--" ]; do envs+=("$1"); shift; done
        shift
        sbx env "${envs[@]}" "$DRV" "$@" >"$out" 2>&1 &
}
driver_pid() { sed -n 's/^driver pid=//p' "$1" | head -n1; }
# Heights of the "committed state height=N" lines the driver delivered, one per line.
heights() { sed -n 's/^line .*committed state height=\([0-9]*\).*/\1/p' "$1"; }

daemon_journal() { # daemon_journal UNIT: the unit's own lines
        sbx journalctl -q -o cat --no-pager "_SYSTEMD_UNIT=$1" "_TRANSPORT=stdout"
}

# ---- launcher scenarios ---------------------------------------------------------------------------------

t_launcher_start_properties() {
        local h=/var/lib/l1 u=oraivisor-daemon@l1.service o="$OUT/l1.out"
        make_home $h fk
        driver_bg "$o" DAEMON_HOME=$h DAEMON_NAME=l1 DAEMON_SHUTDOWN_GRACE=7s DAEMON_MEMORY_MAX=512M \
                FAKECHAIN_BLOCK_INTERVAL=100 NOTIFY_SOCKET=/run/x WATCHDOG_USEC=1000 INVOCATION_ID=0123 LISTEN_FDS=1 \
                JOURNAL_STREAM=1:2 KEEP_ME=yes -- --state-dir /run/l1 -- $h/oraivisor/genesis/bin/fk start '$HOME' '${PATH}'
        expect "driver reports started" wait_for 15 contains "$o" "started pid="
        expect "unit name derived from DAEMON_NAME" contains "$o" "unit $u"
        local pid; pid=$(sed -n 's/^started pid=//p' "$o")
        expect "MainPID is the started pid" test "$(prop $u MainPID)" = "$pid"
        expect "Type=exec" test "$(prop $u Type)" = exec
        expect "Restart=no" test "$(prop $u Restart)" = no
        expect "KillSignal=SIGTERM" test "$(prop $u KillSignal)" = 15
        expect "KillMode=mixed" test "$(prop $u KillMode)" = mixed
        expect "TimeoutStopUSec = DAEMON_SHUTDOWN_GRACE" test "$(prop $u TimeoutStopUSec)" = 7s
        expect "LimitNOFILE=65536" test "$(prop $u LimitNOFILE)" = 65536
        expect "MemoryMax = DAEMON_MEMORY_MAX" test "$(prop $u MemoryMax)" = 536870912
        expect "journald's rate limit out of reach (LogRateLimitBurst=500000000)" test "$(prop $u LogRateLimitBurst)" = 500000000
        expect "CollectMode=inactive-or-failed" test "$(prop $u CollectMode)" = inactive-or-failed
        expect "Description is not the command line" test "$(prop $u Description)" = "l1 chain node (genesis), run by oraivisor"
        expect "WorkingDirectory=DAEMON_HOME" test "$(prop $u WorkingDirectory)" = $h
        expect "StandardOutput=journal" test "$(prop $u StandardOutput)" = journal
        expect "SyslogIdentifier=DAEMON_NAME" test "$(prop $u SyslogIdentifier)" = l1
        local env; env=$(prop $u Environment)
        expect "Environment keeps the daemon's variables" grep -q "KEEP_ME=yes" <<<"$env"
        expect "Environment drops NOTIFY_SOCKET, WATCHDOG_*, INVOCATION_ID, LISTEN_*, JOURNAL_STREAM" \
                bash -c '! grep -Eq "NOTIFY_SOCKET|WATCHDOG_|INVOCATION_ID|LISTEN_|JOURNAL_STREAM" <<<"$1"' _ "$env"
        expect "arguments passed without \$ expansion" wait_for 5 contains "$o" 'args: start $HOME ${PATH}'
        local log="$OUT/l1.journal"
        sbx journalctl -q -o cat --no-pager -u $u >"$log"
        expect "systemd's Starting line shows the Description" contains "$log" "Starting $u - l1 chain node (genesis), run by oraivisor..."
        sbx kill -TERM "$(driver_pid "$o")"
        expect "exited cleanly (status 0)" wait_for 15 grep -q "^exited code=1 status=0 " "$o"
        expect "the daemon's shutdown line was delivered" contains "$o" "received signal, shutting down gracefully"
        local order; order=$(grep -nE "^exited|shutting down gracefully" "$o" | cut -d: -f1 | tr '\n' ' ')
        expect "... and before on_exited" test "$(echo $order | awk '{print ($1 < $2)}')" = 1
        expect "the unit is collected afterwards (name free)" wait_for 5 prop_is $u LoadState not-found
}

t_launcher_exit_status() {
        local h=/var/lib/l2 o="$OUT/l2a.out"
        make_home $h fk
        sbx env DAEMON_HOME=$h DAEMON_NAME=l2 FAKECHAIN_BLOCK_INTERVAL=50 FAKECHAIN_STOP_AT=3 FAKECHAIN_STOP_EXIT=7 \
                timeout 30 "$DRV" --state-dir /run/l2 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "exit status 7 propagates (CLD_EXITED)" grep -q "^exited code=1 status=7 " "$o"
        expect "its last line is delivered" contains "$o" "committed state height=3"
        o="$OUT/l2b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l2 FAKECHAIN_BLOCK_INTERVAL=50 FAKECHAIN_STOP_AT=5 FAKECHAIN_CRASH_SIGNAL=SEGV \
                timeout 30 "$DRV" --state-dir /run/l2 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "death by SIGSEGV propagates (same name reused at once)" grep -Eq "^exited code=(2|3) status=11 " "$o"
        # Already past its stop height when it starts: it exits at once. journald often stores such a
        # process's lines without an invocation ID (it cannot read the cgroup of a process that is gone):
        # they must still be delivered. Ten runs, since it is a race.
        echo 100 | sbx tee $h/data/height >/dev/null
        local k lost=0
        for k in $(seq 1 10); do
                o="$OUT/l2c.$k.out"
                sbx env DAEMON_HOME=$h DAEMON_NAME=l2 FAKECHAIN_BLOCK_INTERVAL=50 FAKECHAIN_STOP_AT=50 FAKECHAIN_STOP_EXIT=3 \
                        timeout 30 "$DRV" --state-dir /run/l2 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
                grep -q "^started pid=" "$o" && grep -q "^exited code=1 status=3 " "$o" ||
                        fail "run $k: a daemon that exits at once must still start, then exit 3: $(cat "$o")"
                contains "$o" "fakechaind v1 starting" || lost=$((lost + 1))
        done
        expect "a daemon that exits at once: its lines delivered in every run (lost in $lost of 10)" test "$lost" -eq 0
}

t_launcher_adopt_cursor() {
        local h=/var/lib/l3 u=oraivisor-daemon@l3.service o1="$OUT/l3a.out" o2="$OUT/l3b.out"
        make_home $h fk
        local envs=(DAEMON_HOME=$h DAEMON_NAME=l3 FAKECHAIN_BLOCK_INTERVAL=100)
        driver_bg "$o1" "${envs[@]}" -- --state-dir /run/l3 -- $h/oraivisor/genesis/bin/fk start
        expect "started" wait_for 15 contains "$o1" "started pid="
        expect "20 blocks read" wait_for 15 bash -c '[ "$(grep -c "committed state" "$1")" -ge 20 ]' _ "$o1"
        local pid inv
        pid=$(prop $u MainPID)
        inv=$(prop $u InvocationID)
        local before; before=$(daemon_journal $u | grep -c "committed state")
        sbx kill -KILL "$(driver_pid "$o1")"
        # The node goes on printing while nobody reads: 10 more blocks in its journal prove it lived on.
        expect "the node survives the launcher's SIGKILL (10 more blocks)" wait_for 15 \
                bash -c '[ "$(nsenter -t "$1" -a journalctl -q -o cat --no-pager "_SYSTEMD_UNIT=$2" _TRANSPORT=stdout | grep -c "committed state")" -ge "$3" ]' \
                _ "$SBX_PID1" "$u" $((before + 10))
        expect "... still active" test "$(prop $u ActiveState)" = active
        driver_bg "$o2" "${envs[@]}" -- --adopt-only --state-dir /run/l3 --stop-after 1500
        expect "adopted" wait_for 15 contains "$o2" "adopted"
        expect "same main PID, no restart" wait_for 5 contains "$o2" "started pid=$pid"
        expect "same invocation" test "$(prop $u InvocationID)" = "$inv"
        expect "stopped after adoption" wait_for 15 grep -q "^exited code=1 status=0 " "$o2"
        local a b last first
        a=$(heights "$o1"); b=$(heights "$o2")
        last=$(tail -n1 <<<"$a"); first=$(head -n1 <<<"$b")
        expect "resumed at the saved cursor, not from the start (first height $first > 1)" test "${first:-0}" -gt 1
        expect "no gap between the two readers (first $first <= last $last + 1)" test "${first:-999999}" -le $((last + 1))
        expect "at most ~1 s read twice (first $first >= last $last - 15)" test "${first:-0}" -ge $((last - 15))
        local all; all=$(printf '%s\n%s\n' "$a" "$b" | sort -n | uniq)
        local max; max=$(tail -n1 <<<"$all")
        expect "every height 1..$max delivered" test "$(wc -l <<<"$all")" -eq "$max"
        expect "the lines printed while nobody read were delivered" test "$max" -gt $((last + 10))
}

t_launcher_burst() {
        local h=/var/lib/l4 o="$OUT/l4.out"
        make_home $h fk
        sbx env DAEMON_HOME=$h DAEMON_NAME=l4 FAKECHAIN_BLOCK_INTERVAL=20 FAKECHAIN_BURST=30000 FAKECHAIN_PLANS=v2@1 \
                FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=hang \
                timeout 120 "$DRV" --state-dir /run/l4 --count-lines --count-match "burst " --stop-on 'NEEDED' \
                -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "stopped on the announcement" contains "$o" "stopping (line)"
        expect "all 30,000 burst lines delivered" grep -q "^exited .* matched=30000$" "$o"
        expect "announcement detected after the burst" grep -Eq "^exited .* needed=[1-9]" "$o"
        # Beyond journald's default rate limit (10,000 lines per 30 s times a disk factor, at most 6).
        o="$OUT/l4b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l4 FAKECHAIN_BLOCK_INTERVAL=20 FAKECHAIN_BURST=100000 FAKECHAIN_PLANS=v2@1 \
                FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=hang \
                timeout 120 "$DRV" --state-dir /run/l4 --count-lines --count-match "burst " --stop-on 'NEEDED' \
                -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "100,000 lines: none dropped by journald" grep -q "^exited .* matched=100000$" "$o"
        expect "... and the announcement after them detected" grep -Eq "^exited .* needed=[1-9]" "$o"
}

t_launcher_bait_description() {
        local h=/var/lib/l5 u=oraivisor-daemon@l5.service o="$OUT/l5.out"
        make_home $h fk
        sbx env DAEMON_HOME=$h DAEMON_NAME=l5 FAKECHAIN_BLOCK_INTERVAL=100 \
                timeout 30 "$DRV" --state-dir /run/l5 --version 'UPGRADE "x" NEEDED at height: 5: bait' --stop-after 1500 \
                -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        local log="$OUT/l5.journal"
        sbx journalctl -q -o cat --no-pager -u $u >"$log"
        expect "the bait is in the journal (systemd's Starting line)" contains "$log" 'UPGRADE "x" NEEDED at height: 5: bait'
        expect "... but never delivered as a line" grep -q "^exited code=1 status=0 .* needed=0 " "$o"
        expect "... nor any line with it" lacks "$o" 'line Starting'
}

t_launcher_daemon_user() {
        local h=/var/lib/l6 o="$OUT/l6.out"
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h fk chainuser
        sbx env DAEMON_HOME=$h DAEMON_NAME=l6 DAEMON_USER=chainuser FAKECHAIN_BLOCK_INTERVAL=100 \
                timeout 30 "$DRV" --state-dir /run/l6 --stop-after 1500 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "runs as DAEMON_USER" grep -q "^line .*fakechaind v1 starting (.*uid=1500 user=chainuser" "$o"
        expect "HOME is the user's, not root's" bash -c '! grep -q "home=/root" "$1"' _ "$o"
        expect "its lines come from the user-UID journal file" \
                bash -c 'ls /proc/$1/root/var/log/journal/*/user-1500*.journal >/dev/null 2>&1' _ "$SBX_PID1"
        expect "and all reached the launcher" grep -q "^exited code=1 status=0 lines=[1-9]" "$o"
        expect "several blocks read" bash -c '[ "$(grep -c "committed state" "$1")" -ge 5 ]' _ "$o"
}

t_launcher_exec_failure() {
        local h=/var/lib/l7 u=oraivisor-daemon@l7.service o="$OUT/l7.out"
        make_home $h fk
        sbx chmod a-x $h/oraivisor/genesis/bin/fk
        sbx env DAEMON_HOME=$h DAEMON_NAME=l7 timeout 30 "$DRV" --state-dir /run/l7 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "start fails with ENOEXEC" grep -q "^failed error=-8 " "$o"
        expect "message names 203/EXEC and the fix" grep -q "status 203/EXEC): check that the file" "$o"
        expect "the failed unit is cleaned up" wait_for 5 prop_is $u LoadState not-found
        o="$OUT/l7b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l7 DAEMON_USER=nosuchuser timeout 30 "$DRV" --state-dir /run/l7 \
                -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "an unknown DAEMON_USER is named" grep -q "DAEMON_USER='nosuchuser' (status 217/USER)" "$o"
}

t_launcher_grace_kill() {
        local h=/var/lib/l8 o="$OUT/l8.out"
        make_home $h fk
        local t0=$SECONDS
        sbx env DAEMON_HOME=$h DAEMON_NAME=l8 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_IGNORE_TERM=1 \
                timeout 60 "$DRV" --state-dir /run/l8 --grace 1000 --stop-after 500 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "a daemon ignoring SIGTERM is killed after the grace" grep -q "^exited code=2 status=9 " "$o"
        expect "... within a few seconds" test $((SECONDS - t0)) -le 8
        o="$OUT/l8b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l8 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_IGNORE_TERM=1 \
                timeout 60 "$DRV" --state-dir /run/l8 --grace 0 --stop-after 500 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "grace 0 kills at once" grep -q "^exited code=2 status=9 " "$o"
}

t_launcher_kill() {
        local h=/var/lib/l9 o="$OUT/l9.out"
        make_home $h fk
        sbx env DAEMON_HOME=$h DAEMON_NAME=l9 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_QUIT_EXIT=4 \
                timeout 30 "$DRV" --state-dir /run/l9 --kill-after 800:3 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "kill() sends the signal to the main process" contains "$o" "SIGQUIT: quit"
        expect "... and its exit is reported" grep -q "^exited code=1 status=4 " "$o"
}

t_launcher_stale_units() {
        local h=/var/lib/l10 o="$OUT/l10.out"
        make_home $h fk
        # A failed unit of the same name, left by an earlier run.
        sbx systemd-run -q --unit=oraivisor-daemon@l10 -p CollectMode=inactive /bin/false
        expect "a stale failed unit exists" wait_for 5 prop_is oraivisor-daemon@l10.service ActiveState failed
        sbx env DAEMON_HOME=$h DAEMON_NAME=l10 FAKECHAIN_BLOCK_INTERVAL=100 timeout 30 "$DRV" --state-dir /run/l10 \
                --stop-after 500 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "it is reset and the daemon starts" bash -c 'grep -q "^started pid=" "$1" && grep -q "^exited code=1 status=0 " "$1"' _ "$o"
        # A running unit of that name that is not ours to adopt (start without adopt): a clear error.
        sbx systemd-run -q --unit=oraivisor-daemon@l10b sleep 300
        o="$OUT/l10b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l10b timeout 30 "$DRV" --state-dir /run/l10 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "an existing unit is refused with the fix" grep -q "^failed error=-17 .*already runs (active, pid [0-9]*, '/usr/bin/sleep').*systemctl stop oraivisor-daemon@l10b.service" "$o"
        expect "... and left alone" test "$(prop oraivisor-daemon@l10b.service ActiveState)" = active
        sbx systemctl stop oraivisor-daemon@l10b.service
        # A unit file of that name shadows the transient unit: named as such.
        printf '[Service]\nExecStart=/bin/true\n' | sbx tee /run/systemd/system/oraivisor-daemon@l10d.service >/dev/null
        sbx systemctl daemon-reload
        o="$OUT/l10d.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l10d timeout 30 "$DRV" --state-dir /run/l10 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "a shadowing unit file is named, with the fix" grep -q "^failed error=-17 .*A unit file named 'oraivisor-daemon@l10d.service' shadows.*remove that file" "$o"
        sbx rm -f /run/systemd/system/oraivisor-daemon@l10d.service
        sbx systemctl daemon-reload
}

# A stopped daemon unit that systemd keeps loaded (systemd 252 does so now and then with nothing
# referencing it; here another unit's Before= keeps it, released after a second): the launcher stops it
# once more, waits for it to be collected and starts the daemon; it gives up with the fix after ~2 s.
t_launcher_lingering_unit() {
        local h=/var/lib/l12 u=oraivisor-daemon@l12.service o="$OUT/l12a.out"
        make_home $h fk
        sbx systemd-run -q --unit=oraivisor-test-holder-l12 -p Before=$u sleep 300
        sbx env DAEMON_HOME=$h DAEMON_NAME=l12 FAKECHAIN_BLOCK_INTERVAL=100 timeout 30 "$DRV" --state-dir /run/l12 \
                --stop-after 300 -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "a first run ends" grep -q "^exited code=1 status=0 " "$o"
        expect "its stopped unit stays loaded (held by another unit)" \
                bash -c '[ "$(nsenter -t $1 -a systemctl show -P LoadState $2)/$(nsenter -t $1 -a systemctl show -P ActiveState $2)" = loaded/inactive ]' _ "$SBX_PID1" "$u"
        o="$OUT/l12b.out"
        sbx env DAEMON_HOME=$h DAEMON_NAME=l12 FAKECHAIN_BLOCK_INTERVAL=100 timeout 30 "$DRV" --state-dir /run/l12 \
                -- $h/oraivisor/genesis/bin/fk start >"$o" 2>&1
        expect "held for good: the start gives up with the fix" grep -q "^failed error=-17 .*already exists.*systemctl stop $u" "$o"
        expect "... after clearing it was tried" contains "$o" "systemd kept the stopped daemon unit '$u' loaded"
        # A stop while the way is being cleared: nothing starts, the stop completes.
        o="$OUT/l12s.out"
        driver_bg "$o" DAEMON_HOME=$h DAEMON_NAME=l12 FAKECHAIN_BLOCK_INTERVAL=100 -- --state-dir /run/l12 \
                -- $h/oraivisor/genesis/bin/fk start
        expect "(stop case) the start meets the kept unit" wait_for 10 contains "$o" "systemd kept the stopped daemon unit '$u' loaded"
        sbx kill -TERM "$(driver_pid "$o")"
        expect "... a stop then ends it without starting the daemon" wait_for 10 grep -q "^exited " "$o"
        expect "... (no start)" lacks "$o" "started pid="
        expect "... the kept unit is still stopped" test "$(prop $u ActiveState)" = inactive
        o="$OUT/l12c.out"
        driver_bg "$o" DAEMON_HOME=$h DAEMON_NAME=l12 FAKECHAIN_BLOCK_INTERVAL=100 -- --state-dir /run/l12 --stop-after 500 \
                -- $h/oraivisor/genesis/bin/fk start
        expect "the start meets the kept unit" wait_for 10 contains "$o" "systemd kept the stopped daemon unit '$u' loaded"
        sleep 0.5
        sbx systemctl stop oraivisor-test-holder-l12
        expect "released: the daemon starts" wait_for 15 contains "$o" "started pid="
        expect "... saying so" contains "$o" "Cleared the stopped daemon unit '$u'"
        expect "... and runs to its end" wait_for 15 grep -q "^exited code=1 status=0 " "$o"
        expect "the unit is collected afterwards" wait_for 5 prop_is $u LoadState not-found
}

t_launcher_echo_reload() {
        local h=/var/lib/l11 u=oraivisor-daemon@l11.service o="$OUT/l11.out"
        make_home $h fk
        driver_bg "$o" DAEMON_HOME=$h DAEMON_NAME=l11 FAKECHAIN_BLOCK_INTERVAL=100 -- --echo --state-dir /run/l11 \
                -- $h/oraivisor/genesis/bin/fk start
        expect "started" wait_for 15 contains "$o" "started pid="
        expect "echo_output copies the daemon's lines to stdout" wait_for 5 grep -q "^[0-9:]*[AP]M INF fakechaind v1 starting" "$o"
        sbx systemctl daemon-reload
        sbx systemctl daemon-reexec
        # systemctl daemon-reexec returns once PID 1 answers again; then 5 more lines prove the launcher
        # still follows the node.
        local n; n=$(grep -c "^line .*committed state" "$o")
        expect "lines keep coming after daemon-reload and daemon-reexec" wait_for 15 \
                bash -c '[ "$(grep -c "^line .*committed state" "$1")" -ge "$2" ]' _ "$o" $((n + 5))
        expect "... and the node is still active" test "$(prop $u ActiveState)" = active
        sbx kill -TERM "$(driver_pid "$o")"
        expect "stop after reexec still reports the exit" wait_for 15 grep -q "^exited code=1 status=0 " "$o"
}

# ---- oraivisor@.service scenarios ----------------------------------------------------------------------

# oraivisor_conf INSTANCE LINES...: writes /etc/oraivisor/INSTANCE.conf
oraivisor_conf() {
        local i="$1"; shift
        printf '%s\n' "$@" | sbx tee "/etc/oraivisor/$i.conf" >/dev/null
}
status_text() { prop "oraivisor@$1.service" StatusText; }
status_has() { [[ "$(status_text "$1")" == *"$2"* ]]; }
dj() { daemon_journal "oraivisor-daemon@$1.service"; }
# grep without -q reads to the end: with pipefail, an early exit would fail journalctl with SIGPIPE.
dj_has() { dj "$1" | grep -F -- "$2" >/dev/null; }
ov_journal_has() { sbx journalctl -q -o cat --no-pager -u "oraivisor@$1.service" | grep -F -- "$2" >/dev/null; }

upgrade_scenario() { # upgrade_scenario INSTANCE ANNOUNCE
        local i="$1" announce="$2" h=/var/lib/$1
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true \
                UNSAFE_SKIP_BACKUP=true DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@30 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=$announce
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "oraivisor is active" test "$(prop oraivisor@$i.service ActiveState)" = active
        expect "genesis runs as DAEMON_USER" wait_for 10 dj_has $i "fakechaind v1 starting"
        expect "... uid 1500" bash -c 'grep -q "fakechaind v1 starting (.*uid=1500 user=chainuser" <<<"$1"' _ "$(dj $i)"
        expect "STATUS: genesis running" wait_for 5 status_has $i "fakechaind (genesis) running; watching for upgrade plans"
        local pid1; pid1=$(prop oraivisor-daemon@$i.service MainPID)
        expect "v2 starts after the announcement ($announce)" wait_for 30 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "STATUS: v2 running" wait_for 5 status_has $i "fakechaind (upgrade v2) running; watching for upgrade plans"
        expect "new main PID" test "$(prop oraivisor-daemon@$i.service MainPID)" != "$pid1"
        expect "daemon unit active" test "$(prop oraivisor-daemon@$i.service ActiveState)" = active
        expect "v2 goes on from v1's height" wait_for 10 dj_has $i "height=30 "
        expect "LD_LIBRARY_PATH starts with upgrades/v2/lib" \
                bash -c 'grep -q "fakechaind v2 starting (.*ld_library_path=$2" <<<"$1"' _ "$(dj $i)" "$h/oraivisor/upgrades/v2/lib"
        expect "v2 runs as DAEMON_USER too" bash -c 'grep -q "fakechaind v2 starting (.*user=chainuser" <<<"$1"' _ "$(dj $i)"
        expect "the new binary's pre-upgrade ran as DAEMON_USER (its file in data/ is chainuser's)" \
                test "$(sbx stat -c %U $h/data/pre-upgrade.count)" = chainuser
        expect "upgrade-finished message with its fields in the journal" \
                bash -c 'nsenter -t $1 -a journalctl -q -o cat MESSAGE_ID=79952004deb14f5b91e6f3f4c5252a11 ORAIVISOR_UPGRADE_NAME=v2 DAEMON_NAME=fakechaind _SYSTEMD_UNIT=oraivisor@$2.service | grep -q .' _ "$SBX_PID1" "$i"
        expect "one upgrade only" test "$(sbx journalctl -q -o cat MESSAGE_ID=a4bd8e18025146e5918dab27c0b3e302 _SYSTEMD_UNIT=oraivisor@$i.service | wc -l)" -eq 1
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_upgrade_log() { upgrade_scenario s1 log; }
t_oraivisor_upgrade_file() { upgrade_scenario s2 file; }

# The order of the announcement line and upgrade-info.json as each SDK generation writes them, raced in a
# loop of runs under the unit launcher (tests/e2e/test_order.py is the exec-mode twin): every run upgrades
# once, with the plan's info, and a node that writes the file must have written it before it was stopped.
order_run() { # order_run INSTANCE EXPECT_FILE FAKECHAIN_VAR=...
        local i="$1" want_file="$2" h=/var/lib/$1 fails=$T_FAILS; shift 2
        local info="https://example.com/v2.json"
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@8 FAKECHAIN_BLOCK_INTERVAL=20 \
                "FAKECHAIN_PLAN_INFO=$info" "$@"
        sbx systemctl start oraivisor@$i
        if ! wait_for 30 dj_has $i "fakechaind v2 starting"; then
                fail "$i ($*): v2 did not start"
                sbx systemctl stop oraivisor@$i
                return
        fi
        [ "$(sbx readlink $h/oraivisor/current)" = upgrades/v2 ] || fail "$i ($*): current is not upgrades/v2"
        wait_for 10 status_has $i "fakechaind (upgrade v2) running" ||
                fail "$i ($*): oraivisor does not report v2 running: $(prop oraivisor@$i.service ActiveState) '$(status_text $i)'"
        local n
        n=$(sbx journalctl -q -o cat MESSAGE_ID=a4bd8e18025146e5918dab27c0b3e302 _SYSTEMD_UNIT=oraivisor@$i.service | wc -l)
        [ "$n" -eq 1 ] || fail "$i ($*): $n plan detections, not 1"
        sbx grep -qF "\"info\":\"$info\"" $h/oraivisor/upgrades/v2/upgrade-info.json ||
                fail "$i ($*): the recorded plan lacks the info: $(sbx cat $h/oraivisor/upgrades/v2/upgrade-info.json)"
        if [ "$want_file" = yes ]; then
                sbx grep -qF '"name":"v2"' $h/data/upgrade-info.json 2>/dev/null ||
                        fail "$i ($*): the node was stopped before it wrote data/upgrade-info.json"
        fi
        sbx systemctl stop oraivisor@$i
        [ "$(prop oraivisor-daemon@$i.service ActiveState)" != active ] ||
                fail "$i ($*): the node's unit still runs after systemctl stop oraivisor@$i"
        [ "$T_FAILS" -ne "$fails" ] || ok "$i: $*"
}

t_oraivisor_announce_order() {
        local k delays=(0 0 1 5 20 100 400) runs=${ORDER_UNIT_RUNS:-6}
        for k in $(seq 1 "$runs"); do
                order_run o$k yes FAKECHAIN_ANNOUNCE_ORDER=log-first FAKECHAIN_ANNOUNCE_FILE_DELAY=${delays[$((k % 7))]}
                order_run oe$k yes FAKECHAIN_ANNOUNCE_ORDER=log-first FAKECHAIN_ANNOUNCE_FILE_DELAY=${delays[$(((k + 3) % 7))]} \
                        FAKECHAIN_HALT=exit
        done
        order_run of1 yes FAKECHAIN_ANNOUNCE=both
        order_run ol1 no FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=exit
        order_run ol2 no FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=exit
}

t_oraivisor_sigkill_adopt() {
        local i=s3 h=/var/lib/s3
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@150 FAKECHAIN_BLOCK_INTERVAL=100 \
                FAKECHAIN_ANNOUNCE=log
        sbx systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "height=10 "
        local dpid inv opid
        dpid=$(prop oraivisor-daemon@$i.service MainPID)
        inv=$(prop oraivisor-daemon@$i.service InvocationID)
        opid=$(prop oraivisor@$i.service MainPID)
        sbx systemctl kill -s KILL --kill-whom=main oraivisor@$i
        expect "systemd restarts oraivisor" wait_for 20 prop_is oraivisor@$i.service NRestarts 1
        expect "... and it is active again" wait_for 20 prop_is oraivisor@$i.service ActiveState active
        expect "new oraivisor pid" test "$(prop oraivisor@$i.service MainPID)" != "$opid"
        expect "it adopted the node: same main PID" test "$(prop oraivisor-daemon@$i.service MainPID)" = "$dpid"
        expect "same invocation (no restart)" test "$(prop oraivisor-daemon@$i.service InvocationID)" = "$inv"
        expect "adoption logged" wait_for 5 ov_journal_has $i "Adopted the running fakechaind"
        expect "the later upgrade is still carried out" wait_for 30 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        sbx systemctl stop oraivisor@$i
}

# A daemon-reload (which every package installed with a unit does) while the node runs, then oraivisor
# killed: the node's transient unit keeps its command line through the reload (systemd 252 lost an
# ExecStartEx= there, and the next oraivisor refused to adopt a unit running "n/a"), a '$' in the node's
# arguments stays a '$', and the new oraivisor adopts the node.
t_oraivisor_reload_adopt() {
        local i=s40 h=/var/lib/s40
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true DAEMON_SHUTDOWN_GRACE=5s \
                'DAEMON_ARGS=start $HOME' FAKECHAIN_BLOCK_INTERVAL=100
        sbx systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "height=10 "
        expect "the node got a literal \$HOME" dj_has $i 'args: start $HOME'
        local dpid opid
        dpid=$(prop oraivisor-daemon@$i.service MainPID)
        opid=$(prop oraivisor@$i.service MainPID)
        sbx systemctl daemon-reload
        expect "the node's unit is still loaded after daemon-reload" prop_is oraivisor-daemon@$i.service LoadState loaded
        expect "... with its command line" bash -c '[[ "$1" == *"path=$2/oraivisor/genesis/bin/fakechaind"* ]]' _ \
                "$(prop oraivisor-daemon@$i.service ExecStart)" $h
        sbx systemctl kill -s KILL --kill-whom=main oraivisor@$i
        expect "systemd restarts oraivisor" wait_for 20 prop_is oraivisor@$i.service NRestarts 1
        expect "... and it is active again" wait_for 20 prop_is oraivisor@$i.service ActiveState active
        expect "new oraivisor pid" test "$(prop oraivisor@$i.service MainPID)" != "$opid"
        expect "it adopted the node: same main PID" test "$(prop oraivisor-daemon@$i.service MainPID)" = "$dpid"
        expect "adoption logged" wait_for 5 ov_journal_has $i "Adopted the running fakechaind"
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_due_while_stopped() {
        local i=s4 h=/var/lib/s4
        make_home $h fakechaind
        # The node alone, halting at the height with oraivisor not running.
        sbx env DAEMON_HOME=$h FAKECHAIN_PLANS=v2@5 FAKECHAIN_BLOCK_INTERVAL=50 FAKECHAIN_HALT=exit \
                timeout 30 $h/oraivisor/genesis/bin/fakechaind start >/dev/null 2>&1
        expect "the node wrote upgrade-info.json and halted" sbx test -s $h/data/upgrade-info.json
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@5 FAKECHAIN_BLOCK_INTERVAL=100
        sbx systemctl start oraivisor@$i
        expect "v2 runs" wait_for 20 dj_has $i "fakechaind v2 starting"
        expect "v1 was never launched by oraivisor" bash -c '! grep -q "fakechaind v1 starting" <<<"$1"' _ "$(dj $i)"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_stop() {
        local i=s5 h=/var/lib/s5
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_SHUTDOWN_GRACE=10s "DAEMON_ARGS=start" \
                FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_TERM_DELAY=1500
        sbx systemctl start oraivisor@$i
        expect "running" wait_for 10 dj_has $i "height=5 "
        local t0; t0=$(date +%s%N)
        expect "systemctl stop returns" sbx timeout 60 systemctl stop oraivisor@$i
        local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        expect "the daemon got SIGTERM and shut down gracefully" dj_has $i "received signal, shutting down gracefully"
        expect "... and finished (its last line)" dj_has $i "exiting at height"
        expect "stop took the daemon's time (${ms} ms), within its 10 s grace" test "$ms" -ge 1400 -a "$ms" -lt 10000
        expect "oraivisor ended cleanly" test "$(prop oraivisor@$i.service Result)" = success
        expect "oraivisor inactive, not failed" test "$(prop oraivisor@$i.service ActiveState)" = inactive
        expect "the daemon's unit is gone" test "$(prop oraivisor-daemon@$i.service LoadState)" = not-found
}

# The helper that replaced "sleep past RestartSec=" must see a restart that is coming: a unit that will be
# restarted is never settled_failed, one that will not be is, at once.
t_oraivisor_settled_failed_sees_restarts() {
        sbx systemd-run -q --unit=oraivisor-test-restarting -p Restart=on-failure -p RestartSec=1h sh -c 'exit 3'
        expect "a failing unit with Restart= waits to restart" wait_for 10 prop_is oraivisor-test-restarting.service SubState auto-restart
        expect "... and is not settled_failed" not settled_failed oraivisor-test-restarting.service
        sbx systemctl stop oraivisor-test-restarting.service
        sbx systemctl reset-failed oraivisor-test-restarting.service 2>/dev/null
        sbx systemd-run -q --unit=oraivisor-test-prevented -p Restart=on-failure -p RestartSec=1h \
                -p RestartPreventExitStatus=3 sh -c 'exit 3'
        expect "one whose status prevents the restart is settled_failed" wait_for 10 settled_failed oraivisor-test-prevented.service
        sbx systemctl reset-failed oraivisor-test-prevented.service 2>/dev/null
        true
}

t_oraivisor_bad_config() {
        local i=s6 h=/var/lib/s6
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_SHUTDOWN_GRACE=banana
        sbx systemctl start oraivisor@$i 2>/dev/null
        expect "unit failed, no restart coming" wait_for 10 settled_failed oraivisor@$i.service
        expect "exit status 78" test "$(prop oraivisor@$i.service ExecMainStatus)" = 78
        expect "no restart loop" test "$(prop oraivisor@$i.service NRestarts)" = 0
        # journald may store oraivisor's own message a moment after systemd's lines about the exit.
        expect "the error is readable in systemctl status" wait_for 10 status_shows oraivisor@$i.service "DAEMON_SHUTDOWN_GRACE='banana'"
        expect "the daemon never started" test "$(prop oraivisor-daemon@$i.service LoadState)" = not-found
        sbx systemctl reset-failed oraivisor@$i
        # No configuration file at all: a clear message, no loop either.
        sbx systemctl start oraivisor@s6missing 2>/dev/null
        expect "unit failed, no restart coming" wait_for 10 settled_failed oraivisor@s6missing.service
        expect "a missing /etc/oraivisor/<name>.conf is named" wait_for 10 status_shows oraivisor@s6missing.service "/etc/oraivisor/s6missing.conf is missing: create it"
        expect "... oraivisor stopped with status 78" test "$(prop oraivisor@s6missing.service ExecMainStatus)" = 78
        expect "... and not restarted" test "$(prop oraivisor@s6missing.service NRestarts)" = 0
        sbx systemctl reset-failed oraivisor@s6missing 2>/dev/null
}

# A daemon unit of our name that runs another home's binary (two nodes configured with one
# ORAIVISOR_DAEMON_UNIT, or a DAEMON_HOME changed while the old node runs) is not adopted.
t_oraivisor_foreign_unit() {
        local i=s13 h=/var/lib/s13 h2=/var/lib/s13other
        make_home $h fakechaind
        make_home $h2 fakechaind
        sbx systemd-run -q --unit=oraivisor-daemon@$i -p WorkingDirectory=$h2 -E FAKECHAIN_BLOCK_INTERVAL=100 \
                $h2/oraivisor/genesis/bin/fakechaind start --home $h2
        expect "another home's node runs under our unit name" wait_for 10 prop_is oraivisor-daemon@$i.service ActiveState active
        local dpid; dpid=$(prop oraivisor-daemon@$i.service MainPID)
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "DAEMON_ARGS=start" FAKECHAIN_BLOCK_INTERVAL=100
        sbx systemctl start oraivisor@$i 2>/dev/null
        expect "oraivisor refuses it: unit failed" wait_for 10 prop_is oraivisor@$i.service ActiveState failed
        expect "... with status 78" test "$(prop oraivisor@$i.service ExecMainStatus)" = 78
        local st="$OUT/s13.status"
        sbx systemctl status --no-pager -l -n 20 oraivisor@$i >"$st" 2>&1
        expect "the reason and the fix are in systemctl status" \
                contains "$st" "runs '$h2/oraivisor/genesis/bin/fakechaind', which is not below DAEMON_HOME='$h/oraivisor'"
        expect "the other node is left alone (same main PID)" test "$(prop oraivisor-daemon@$i.service MainPID)" = "$dpid"
        expect "no restart loop" wait_for 10 settled_failed oraivisor@$i.service
        sbx systemctl stop oraivisor-daemon@$i.service
        sbx systemctl reset-failed oraivisor@$i
        # Once it is gone, this node starts normally.
        sbx systemctl start oraivisor@$i
        expect "then our own daemon runs" wait_for 15 dj_has $i "fakechaind v1 starting (version=v1"
        expect "... from this home" bash -c '[[ "$(nsenter -t $1 -a systemctl show -P ExecMainPID oraivisor-daemon@$2.service)" != 0 ]] && nsenter -t $1 -a systemctl show -P ExecStart oraivisor-daemon@$2.service | grep -qF "path=$3/oraivisor/genesis/bin/fakechaind"' _ "$SBX_PID1" "$i" "$h"
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_burst() {
        local i=s7 h=/var/lib/s7
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@1 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_BURST=30000 \
                FAKECHAIN_ANNOUNCE=log
        sbx systemctl start oraivisor@$i
        expect "the announcement after 30,000 lines is detected: v2 runs" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        sbx systemctl stop oraivisor@$i
}

# The announcement at the end of one long line (1 MiB, the 4,194,723 bytes of issue 11, 16 and 64 MiB; plain
# and JSON), the only announcement in the output and no upgrade-info.json: journald cuts the line into
# entries of LineMax (48K) and the last one holds the announcement. The upgrade is carried out with the
# plan of the short line, and oraivisor's peak resident set (VmHWM, journal pages it mapped included) stays
# bounded; the figures are printed.
t_oraivisor_long_line() {
        local info='{"binaries": {"linux/amd64": "https://example.com/oraid v2?checksum=sha256:00"}}'
        local n=0 fmt size i h pid hwm got
        for fmt in plain json; do
                for size in 1M 4194723 16M 64M; do
                        n=$((n + 1)); i=s15-$n; h=/var/lib/$i
                        make_home $h fakechaind
                        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true \
                                UNSAFE_SKIP_BACKUP=true "DAEMON_ARGS=start --log_format $fmt" FAKECHAIN_PLANS=v2@5 \
                                FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=log FAKECHAIN_HALT=exit \
                                FAKECHAIN_LONG_ANNOUNCE=$size "FAKECHAIN_PLAN_INFO='$info'"
                        sbx systemctl start oraivisor@$i
                        expect "$fmt, $size-byte line: v2 starts" wait_for 120 dj_has $i "fakechaind v2 starting"
                        expect "... detected from the log line" ov_journal_has $i "Upgrade plan 'v2' detected (from log line"
                        expect "... current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
                        expect "... journald cut the line into entries" \
                                test "$(dj $i | grep -c 'wasm contract error')" -gt 1
                        got=$(sbx cat $h/oraivisor/upgrades/v2/upgrade-info.json)
                        expect "... the plan of the short line, info included" \
                                python3 -c 'import json, sys; p = json.loads(sys.argv[1]); sys.exit(not (p["info"] == sys.argv[2] and p["height"] == 5))' "$got" "$info"
                        pid=$(prop oraivisor@$i.service MainPID)
                        hwm=$(sbx awk '/^VmHWM/ { print $2 }' /proc/$pid/status)
                        if [ -n "$SANITIZER_BUILD" ]; then
                                # ASan keeps freed memory in its quarantine (256 MiB by default): the peak
                                # measures ASan, not oraivisor. The plain build's run of this scenario holds
                                # oraivisor to the bound.
                                expect "... oraivisor VmHWM $hwm KiB (sanitizer build: not bounded)" test -n "$hwm"
                        else
                                expect "... oraivisor VmHWM $hwm KiB, at most 65536" test "${hwm:-999999999}" -le 65536
                        fi
                        sbx systemctl stop oraivisor@$i
                        sbx rm -rf $h
                done
        done
}

# After reading a burst, oraivisor lets go of the journal pages sd-journal mapped (they are journald's
# page cache): its resident set stays what it owns.
# Resident KiB of the journal files sd-journal mapped into process $1.
journal_kib() { sbx awk '/^[0-9a-f]/ { j = ($6 ~ /\.journal(~)?$/) } /^Rss:/ && j { n += $2 } END { print n + 0 }' "/proc/$1/smaps"; }
journal_kib_at_most() { [ "$(journal_kib "$1")" -le "$2" ]; }

t_oraivisor_journal_pages() {
        local i=s14 h=/var/lib/s14
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "DAEMON_ARGS=start" FAKECHAIN_BLOCK_INTERVAL=3600000 \
                FAKECHAIN_BURST=30000
        sbx systemctl start oraivisor@$i
        expect "the node printed its burst" wait_for 60 dj_has $i "burst 30000/30000"
        # The cursor is saved (and the pages let go) a second after the last line the loop reads: wait for
        # that, with a generous bound for a loaded machine.
        local pid; pid=$(prop oraivisor@$i.service MainPID)
        local jr rss
        wait_for 30 journal_kib_at_most "$pid" 256
        jr=$(journal_kib "$pid")
        rss=$(sbx awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
        expect "journal pages resident in oraivisor after 30,000 lines: $jr KiB (of VmRSS $rss KiB), at most 256" test "$jr" -le 256
        expect "oraivisor still active" test "$(prop oraivisor@$i.service ActiveState)" = active
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_bait_description() {
        local i=s8 h=/var/lib/s8 name='UPGRADE "x" NEEDED at height: 2: bait'
        sbx mkdir -p "$h/oraivisor/genesis/bin" "$h/data"
        sbx cp "$FK/fakechaind-v1" "$h/oraivisor/genesis/bin/$name"
        oraivisor_conf $i "DAEMON_HOME=$h" "DAEMON_NAME='$name'" "DAEMON_ARGS=start" FAKECHAIN_BLOCK_INTERVAL=100
        sbx systemctl start oraivisor@$i
        expect "running" wait_for 10 dj_has $i "height=20 "
        expect "the bait is in systemd's Starting line" \
                bash -c 'nsenter -t $1 -a journalctl -q -o cat -u oraivisor-daemon@s8.service | grep -qF "UPGRADE \"x\" NEEDED at height: 2: bait chain node (genesis)"' _ "$SBX_PID1"
        expect "no plan detected" test "$(sbx journalctl -q -o cat MESSAGE_ID=507b9dbac44e48688b0f65d42495a62c _SYSTEMD_UNIT=oraivisor@$i.service | wc -l)" -eq 0
        expect "oraivisor still active" test "$(prop oraivisor@$i.service ActiveState)" = active
        sbx systemctl stop oraivisor@$i
}

t_oraivisor_dbus_restart() {
        local i=s9 h=/var/lib/s9
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@60 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=log
        sbx systemctl start oraivisor@$i
        expect "running" wait_for 10 dj_has $i "height=5 "
        local dpid; dpid=$(prop oraivisor-daemon@$i.service MainPID)
        sbx systemctl restart dbus.service
        expect "oraivisor reconnects to the restarted bus" wait_for 15 ov_journal_has $i "Reconnected to the system bus"
        expect "the node was not touched" test "$(prop oraivisor-daemon@$i.service MainPID)" = "$dpid"
        expect "the upgrade still happens after the reconnect" wait_for 20 dj_has $i "fakechaind v2 starting"
        expect "oraivisor active" prop_is oraivisor@$i.service ActiveState active
        sbx systemctl stop oraivisor@$i
        expect "the stop through the new connection completes" prop_is oraivisor@$i.service ActiveState inactive
        expect "... and the node's unit is gone" prop_is oraivisor-daemon@$i.service LoadState not-found
}

# The bus goes away, the node's main process dies, and its pid is given to another process: the stop
# without the bus must signal the node through the pidfd taken when its pid was learned, never whatever
# process now has that number.
t_oraivisor_nobus_recycled_pid() {
        local i=s15 h=/var/lib/s15
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start" \
                FAKECHAIN_BLOCK_INTERVAL=100
        sbx systemctl start oraivisor@$i
        expect "running" wait_for 10 dj_has $i "height=5 "
        local dpid; dpid=$(prop oraivisor-daemon@$i.service MainPID)
        sbx systemctl stop dbus.socket dbus.service
        expect "oraivisor lost the bus" wait_for 15 ov_journal_has $i "Lost the connection to the system bus"
        sbx kill -KILL "$dpid"
        expect "the node's main process is gone" wait_for 10 bash -c '! nsenter -t "$1" -a kill -0 "$2" 2>/dev/null' _ "$SBX_PID1" "$dpid"
        # A decoy with the node's old pid: the next pid after ns_last_pid is dpid (retried when another
        # fork of the container takes it first). The container's /proc/sys is read-only: only its pid
        # namespace is entered, so that the machine's /proc/sys is written, which acts on the pid
        # namespace of the writer.
        local decoy= n
        for n in $(seq 1 50); do
                decoy=$(nsenter -t "$SBX_PID1" --pid sh -c 'echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid; setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!' _ "$dpid")
                [ "$decoy" = "$dpid" ] && break
                [ -n "$decoy" ] && sbx kill "$decoy" 2>/dev/null
                decoy=
        done
        if [ -z "$decoy" ]; then
                fail "no process could be given the node's old pid $dpid"
        else
                sbx systemctl stop --no-block oraivisor@$i
                expect "oraivisor's stop finished without the bus" wait_for 30 prop_is oraivisor@$i.service ActiveState inactive
                expect "the process that has the node's old pid was not signalled" sbx kill -0 "$decoy"
                expect "... and it is still the decoy" test "$(sbx cat /proc/$decoy/comm)" = sleep
                sbx kill "$decoy" 2>/dev/null
        fi
        sbx systemctl start dbus.socket dbus.service
        sbx systemctl stop oraivisor-daemon@$i.service 2>/dev/null
        sbx systemctl reset-failed oraivisor-daemon@$i.service oraivisor@$i.service 2>/dev/null
        true
}

# ---- what happens after an upgrade (DAEMON_RESTART_AFTER_UPGRADE under systemd) ----------------------------

# fakechain_dropin INSTANCE VAR=VALUE...: the fake node's own settings (its plans, its pace) in a drop-in of
# oraivisor@INSTANCE, so that /etc/oraivisor/INSTANCE.conf holds only what the operator configures.
fakechain_dropin() {
        local i="$1" d="/run/systemd/system/oraivisor@$1.service.d"; shift
        sbx mkdir -p "$d"
        { echo "[Service]"; printf 'Environment=%s\n' "$@"; } | sbx tee "$d/fakechain.conf" >/dev/null
        sbx systemctl daemon-reload
}
MESSAGE_ID_NODE_LEFT_STOPPED=0bb123fe9f46448dad191a9825116888
left_stopped_events() { # left_stopped_events INSTANCE: the "node left stopped" messages of oraivisor@INSTANCE
        sbx journalctl -q -o cat --no-pager MESSAGE_ID=$MESSAGE_ID_NODE_LEFT_STOPPED "_SYSTEMD_UNIT=oraivisor@$1.service"
}

# The least configuration: DAEMON_HOME only (DAEMON_NAME is the instance name, DAEMON_ARGS `start`). The
# upgrade ends with v2 running, started by oraivisor itself: the unit restarts nothing that exits 0.
t_oraivisor_upgrade_least_config() {
        local i=s19 h=/var/lib/s19 u=oraivisor@s19.service
        make_home $h s19
        oraivisor_conf $i DAEMON_HOME=$h
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "/etc/oraivisor/$i.conf holds DAEMON_HOME only" test "$(sbx cat /etc/oraivisor/$i.conf)" = "DAEMON_HOME=$h"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting"
        expect "v2 runs after the upgrade" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "STATUS: v2 running" wait_for 5 status_has $i "s19 (upgrade v2) running; watching for upgrade plans"
        expect "v2 goes on past the upgrade height" wait_for 10 dj_has $i "height=21 "
        expect "oraivisor is still active: it started v2 itself" prop_is $u ActiveState active
        expect "... systemd did not have to restart it" prop_is $u NRestarts 0
        expect "the node's unit is active" prop_is oraivisor-daemon@$i.service ActiveState active
        expect "no node-left-stopped message" test -z "$(left_stopped_events $i)"
        sbx systemctl stop oraivisor@$i
}

# A pre-upgrade hook that runs as DAEMON_USER and hangs: ORAIVISOR_HOOK_TIMEOUT must stop it (SIGTERM, then
# SIGKILL) from inside oraivisor@'s sandbox, where root may signal another user's process only with CAP_KILL;
# the upgrade then fails with 81, current unchanged, nothing of the hook left running.
t_oraivisor_hook_timeout_other_user() {
        local i=s31 h=/var/lib/s31 u=oraivisor@s31.service
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser UNSAFE_SKIP_BACKUP=true \
                ORAIVISOR_HOOK_TIMEOUT=2s "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@10 FAKECHAIN_BLOCK_INTERVAL=50 \
                FAKECHAIN_PREUPGRADE_SLEEP=600000
        sbx systemctl start oraivisor@$i
        expect "the hook runs as chainuser" wait_for 30 bash -c 'nsenter -t "$1" -a pgrep -u chainuser -f "fakechaind pre-upgrade" >/dev/null' _ "$SBX_PID1"
        expect "the timeout stops the upgrade: the unit fails, no restart" wait_for 60 settled_failed $u
        expect "... with status 81" test "$(prop $u ExecMainStatus)" = 81
        expect "... saying why" ov_journal_has $i "did not finish within ORAIVISOR_HOOK_TIMEOUT"
        expect "nothing of the hook is left" wait_for 10 bash -c '! nsenter -t "$1" -a pgrep -u chainuser -f "fakechaind pre-upgrade" >/dev/null' _ "$SBX_PID1"
        expect "current unchanged" test "$(sbx readlink $h/oraivisor/current)" = genesis
        sbx systemctl stop oraivisor@$i 2>/dev/null
        sbx pkill -KILL -u chainuser -f "fakechaind pre-upgrade" 2>/dev/null
        sbx systemctl reset-failed $u 2>/dev/null
        true
}

# DAEMON_RESTART_AFTER_UPGRADE=false said explicitly: v2 installed, the node stopped, and the unit says so
# (failed with status 82 and a status text, a structured message), never a clean stop. The next start runs v2.
t_oraivisor_upgrade_stay_down() {
        local i=s16 h=/var/lib/s16 u=oraivisor@s16.service
        make_home $h s16
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_RESTART_AFTER_UPGRADE=false
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting"
        expect "the unit ends failed" wait_for 60 prop_is $u ActiveState failed
        expect "... with status 82" test "$(prop $u ExecMainStatus)" = 82
        expect "... Result=exit-code, not success" test "$(prop $u Result)" = exit-code
        expect "v2 is installed: current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "the node is stopped, its unit gone" prop_is oraivisor-daemon@$i.service LoadState not-found
        expect "v2 never ran" bash -c '! grep -q "fakechaind v2 starting" <<<"$1"' _ "$(dj $i)"
        local want="upgrade v2 installed; s16 stopped as DAEMON_RESTART_AFTER_UPGRADE=false asks: start this unit to run it"
        expect "StatusText says so" test "$(status_text $i)" = "$want"
        local st="$OUT/$i.status"
        sbx systemctl status --no-pager -l -n 20 $u >"$st" 2>&1
        expect "systemctl status: failed, status 82" grep -Eq "Active: failed \(Result: exit-code\)" "$st"
        expect "systemctl status: the status text" contains "$st" "Status: \"$want\""
        expect "one node-left-stopped message, with the upgrade's fields" wait_for 10 bash -c '[ "$(nsenter -t $1 -a journalctl -q -o cat \
                MESSAGE_ID=$2 ORAIVISOR_UPGRADE_NAME=v2 DAEMON_NAME=s16 _SYSTEMD_UNIT=$3 | grep -c "is left stopped because DAEMON_RESTART_AFTER_UPGRADE=false")" = 1 ]' \
                _ "$SBX_PID1" "$MESSAGE_ID_NODE_LEFT_STOPPED" "$u"
        expect "no restart" wait_for 10 settled_failed $u
        expect "... the node still stopped" prop_is oraivisor-daemon@$i.service LoadState not-found
        expect "systemctl start runs v2" sbx timeout 30 systemctl start oraivisor@$i
        expect "... v2 runs" wait_for 10 dj_has $i "fakechaind v2 starting"
        expect "... STATUS: v2 running" wait_for 5 status_has $i "s16 (upgrade v2) running; watching for upgrade plans"
        sbx systemctl stop oraivisor@$i
}

# Readiness under the unit (issue 17): v2's binary is installed but cut short. The check runs inside
# oraivisor's own sandbox, as DAEMON_USER; the upgrade stops before the switch with status 81, the reason in
# the journal with its MESSAGE_ID, 'current' unchanged, the node not moved to a binary that cannot run.
t_oraivisor_upgrade_not_ready() {
        local i=rdy1 h=/var/lib/rdy1 u=oraivisor@rdy1.service
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h rdy1 chainuser
        sbx sh -c "head -c 4000 $FK/fakechaind-v2 > $h/oraivisor/upgrades/v2/bin/rdy1 && chmod 755 $h/oraivisor/upgrades/v2/bin/rdy1"
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_USER=chainuser
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "the unit ends failed" wait_for 60 prop_is $u ActiveState failed
        expect "... with status 81" test "$(prop $u ExecMainStatus)" = 81
        expect "current is still genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "v2 never ran" bash -c '! grep -q "fakechaind v2 starting" <<<"$1"' _ "$(dj $i)"
        expect "one version-not-ready message with the upgrade's fields and the reason" wait_for 10 bash -c '[ "$(nsenter -t $1 -a journalctl -q -o cat \
                MESSAGE_ID=$2 ORAIVISOR_UPGRADE_NAME=v2 _SYSTEMD_UNIT=$3 | grep -c "will not start on this host: it is truncated")" = 1 ]' \
                _ "$SBX_PID1" "$MESSAGE_ID_VERSION_NOT_READY" "$u"
        expect "no restart" wait_for 10 settled_failed $u
}

# The readiness check before the switch runs where the node runs: in a unit made like the node's. v2 needs a
# library that only a RUNPATH into /home provides: oraivisor's own unit sees /home (ProtectHome=no), so a
# check run as oraivisor's child passes, but the node's unit hides it (ProtectHome=yes for a home outside
# /home) and v2 would not start at the height. The upgrade stops before `current` changes, naming the library.
t_oraivisor_upgrade_check_node_sandbox() {
        local i=rdy2 h=/var/lib/rdy2 u=oraivisor@rdy2.service lib=/home/chainuser/rdy2-lib
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h rdy2 chainuser
        sbx mkdir -p $lib
        printf 'int rdy2_answer(void) { return 42; }\n' | sbx tee $lib/rdy2.c >/dev/null
        printf '#include <stdio.h>\n#include <string.h>\nint rdy2_answer(void);\nint main(int c, char **v) {\n if (c > 1 && !strcmp(v[1], "version")) { printf("v2-lib %%d\\n", rdy2_answer()); return 0; }\n return 1;\n}\n' \
                | sbx tee $lib/main.c >/dev/null
        sbx cc -shared -fPIC -o $lib/librdy2.so $lib/rdy2.c || { fail "cc failed"; return; }
        sbx cc -o $h/oraivisor/upgrades/v2/bin/rdy2 $lib/main.c -L$lib -lrdy2 -Wl,-rpath,$lib || { fail "cc failed"; return; }
        sbx chown -R chainuser: $lib $h/oraivisor/upgrades/v2/bin/rdy2
        expect "v2's version works outside the node's sandbox, as DAEMON_USER" \
                sbx setpriv --reuid=1500 --regid=1500 --clear-groups $h/oraivisor/upgrades/v2/bin/rdy2 version
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_USER=chainuser
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "the unit ends failed" wait_for 60 prop_is $u ActiveState failed
        expect "... with status 81" test "$(prop $u ExecMainStatus)" = 81
        expect "current is still genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "the version-not-ready message names the library the node's sandbox hides" wait_for 10 bash -c '[ "$(nsenter -t $1 -a journalctl -q -o cat \
                MESSAGE_ID=$2 ORAIVISOR_UPGRADE_NAME=v2 _SYSTEMD_UNIT=$3 | grep -c "will not start on this host: it needs librdy2.so")" = 1 ]' \
                _ "$SBX_PID1" "$MESSAGE_ID_VERSION_NOT_READY" "$u"
        expect "the check ran in a unit of its own, named after the node's" wait_for 10 bash -c \
                'nsenter -t $1 -a journalctl -q -o cat _PID=1 | grep -q "oraivisor-daemon@rdy2-check-v2-[0-9a-f]\{16\}\.service"' _ "$SBX_PID1"
        expect "... which is gone" wait_for 10 bash -c '[ -z "$(nsenter -t $1 -a systemctl list-units --all --plain --no-legend "oraivisor-daemon@rdy2-check-*")" ]' _ "$SBX_PID1"
        expect "no restart" wait_for 10 settled_failed $u
        # The operator's `oraivisorctl -i NAME check`, as root with the system bus: the same verdict.
        local o="$OUT/rdy2-check.out" rc=0
        sbx timeout 60 oraivisorctl -i $i check v2 >"$o" 2>&1 || rc=$?
        expect "oraivisorctl -i $i check v2: not ready, status 3 (got $rc: $(head -c 300 "$o"))" test "$rc" = 3
        expect "... naming the library the node's sandbox hides" contains "$o" "needs librdy2.so"
        expect "... its check units are gone too" wait_for 10 bash -c '[ -z "$(nsenter -t $1 -a systemctl list-units --all --plain --no-legend "oraivisor-daemon@rdy2-check-*")" ]' _ "$SBX_PID1"
}

# The check passes in the node's unit and the upgrade goes on. v2's `version` proves where it runs: in the
# check's unit (its cgroup, in the node's slice), as DAEMON_USER, in DAEMON_HOME, with the node's sandbox
# (/home hidden, /usr read-only); as a child of oraivisor it would exit 3 and the upgrade would stop.
t_oraivisor_upgrade_check_node_unit() {
        local i=rdy3 h=/var/lib/rdy3 u=oraivisor@rdy3.service
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h rdy3 chainuser
        sbx mv $h/oraivisor/upgrades/v2/bin/rdy3 $h/oraivisor/upgrades/v2/bin/rdy3.real
        cat <<EOS | sbx tee $h/oraivisor/upgrades/v2/bin/rdy3 >/dev/null
#!/bin/sh
if [ "\$1" = version ]; then
        grep -q '/system-oraivisor.x2ddaemon\.slice/oraivisor-daemon@rdy3-check-v2-[0-9a-f]*\.service\$' /proc/self/cgroup || { echo "not in a check unit: \$(cat /proc/self/cgroup)"; exit 3; }
        [ "\$(id -u)" = 1500 ] || { echo "not DAEMON_USER"; exit 3; }
        ls /home/chainuser >/dev/null 2>&1 && { echo "sees /home"; exit 3; }
        touch /usr/local/rdy3-probe 2>/dev/null && { echo "writes /usr"; exit 3; }
        [ "\$PWD" = $h ] || { echo "not in DAEMON_HOME"; exit 3; }
        echo "v2 checked in \$(cat /proc/self/cgroup)"
fi
exec $h/oraivisor/upgrades/v2/bin/rdy3.real "\$@"
EOS
        sbx chmod 755 $h/oraivisor/upgrades/v2/bin/rdy3
        sbx chown -R chainuser: $h/oraivisor/upgrades/v2
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "the upgrade goes through: v2 starts" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "... current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "oraivisor says where v2 was checked" ov_journal_has $i "will start on this host, in the node's sandbox (checked in 'oraivisor-daemon@rdy3-check-v2-"
        expect "the check units are gone" wait_for 10 bash -c '[ -z "$(nsenter -t $1 -a systemctl list-units --all --plain --no-legend "oraivisor-daemon@rdy3-check-*")" ]' _ "$SBX_PID1"
        expect "oraivisor runs on" prop_is $u ActiveState active
        expect "the node's unit is in the slice the check ran in" bash -c '[[ "$1" == /system.slice/system-oraivisor*daemon.slice/oraivisor-daemon@rdy3.service ]]' _ \
                "$(prop oraivisor-daemon@rdy3.service ControlGroup)"
        sbx systemctl stop oraivisor@$i
}

# hang_home INSTANCE: v2 whose `version` hangs (and leaves a child behind), as the node's user.
hang_home() {
        local i="$1" h=/var/lib/$1
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h $i chainuser
        printf '#!/bin/sh\nif [ "$1" = version ]; then sleep 1000 & sleep 1000; fi\nexit 1\n' | sbx tee $h/oraivisor/upgrades/v2/bin/$i >/dev/null
        sbx chmod 755 $h/oraivisor/upgrades/v2/bin/$i
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_USER=chainuser
        fakechain_dropin $i FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
}
check_units() { sbx systemctl list-units --all --plain --no-legend "oraivisor-daemon@$1-check-*"; }
no_check_units() { [ -z "$(check_units "$1")" ]; }
check_unit_running() { check_units "$1" | grep -q " active running "; }

# A `version` that hangs in the check's unit: RuntimeMaxSec= ends it (with the child it left), the reason
# says so, the unit is gone, and `current` is unchanged.
t_oraivisor_upgrade_check_unit_timeout() {
        local i=rdy4 h=/var/lib/rdy4 u=oraivisor@rdy4.service
        hang_home $i
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "the check's unit runs" wait_for 30 check_unit_running $i
        expect "the unit ends failed, status 81" wait_for 60 prop_is $u ActiveState failed
        expect "... with status 81" test "$(prop $u ExecMainStatus)" = 81
        expect "current is still genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "the reason: version does not finish within 10s" ov_journal_has $i "will not start on this host: it does not finish \`version\` within 10s (killed)"
        expect "systemd ended it at its RuntimeMaxSec=" bash -c 'nsenter -t $1 -a journalctl -q -o cat _PID=1 | grep -q "oraivisor-daemon@rdy4-check-v2-.*runtime time limit"' _ "$SBX_PID1"
        expect "the check unit is gone" wait_for 10 no_check_units $i
        expect "... and no sleep of it is left" bash -c '! nsenter -t $1 -a pgrep -u 1500 -f "sleep 1000" >/dev/null' _ "$SBX_PID1"
}

# oraivisor stopped while the check's unit runs: the unit is stopped with it (not left to RuntimeMaxSec=).
t_oraivisor_upgrade_check_unit_stop() {
        local i=rdy5 h=/var/lib/rdy5 u=oraivisor@rdy5.service
        hang_home $i
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "the check's unit runs" wait_for 30 check_unit_running $i
        expect "systemctl stop oraivisor@$i" sbx timeout 60 systemctl stop oraivisor@$i
        expect "the check unit is gone" wait_for 15 no_check_units $i
        expect "... stopped by oraivisor, not by its time limit" bash -c '! nsenter -t $1 -a journalctl -q -o cat _PID=1 | grep -q "oraivisor-daemon@rdy5-check-v2-.*runtime time limit"' _ "$SBX_PID1"
        expect "... and no sleep of it is left" bash -c '! nsenter -t $1 -a pgrep -u 1500 -f "sleep 1000" >/dev/null' _ "$SBX_PID1"
        expect "current is still genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "oraivisor says the check was cancelled" ov_journal_has $i "the readiness check of the new binary was cancelled"
}

# ---- downloads under oraivisor@.service ------------------------------------------------------------------

# A home with genesis only (fakechaind v1): upgrades/ holds nothing, v2 must be downloaded.
make_genesis_home() { # make_genesis_home HOME OWNER
        sbx mkdir -p "$1/oraivisor/genesis/bin" "$1/data"
        sbx cp "$FK/fakechaind-v1" "$1/oraivisor/genesis/bin/fakechaind"
        sbx chown -R "$2:" "$1"
}

# mirror_start NAME ROOT: tests/http/server.py serving ROOT as a transient unit of the container; its port
# (printed by the server as "PORT n") in $MIRROR_PORT.
MIRROR_PORT=
mirror_start() {
        local unit="oraivisor-test-mirror-$1.service" i
        MIRROR_PORT=
        sbx systemd-run -q --unit="$unit" -p Type=exec -p "Description=test mirror $1" \
                python3 "$SRC/tests/http/server.py" --root "$2" || return 1
        for i in $(seq 1 100); do
                MIRROR_PORT=$(sbx journalctl -q -o cat --no-pager "_SYSTEMD_UNIT=$unit" | sed -n 's/^PORT \([0-9]*\)$/\1/p' | head -n1)
                [ -n "$MIRROR_PORT" ] && return 0
                sleep 0.1
        done
        return 1
}
mirror_stop() { sbx systemctl stop "oraivisor-test-mirror-$1.service" 2>/dev/null; }

# mirror_archive ROOT FILE TAR-FLAG: FILE (in ROOT) is an archive of fakechaind v2 as bin/fakechaind with a
# library beside it in lib/, as a release would ship it.
mirror_archive() {
        local st="$1/.stage"
        sbx mkdir -p "$st/bin" "$st/lib"
        sbx install -m 0755 "$FK/fakechaind-v2" "$st/bin/fakechaind"
        printf '\177ELF not really a library\n' | sbx tee "$st/lib/libwasmvm.x86_64.so" >/dev/null
        # Modes a careless release has: installed 0755/0644 all the same.
        sbx chmod 0777 "$st/lib" && sbx chmod 0666 "$st/lib/libwasmvm.x86_64.so"
        sbx tar -C "$st" "$3" -cf "$1/$2" bin lib && sbx rm -rf "$st"
}
sha256_in() { sbx sha256sum "$1" | cut -d' ' -f1; }

# docs_download_dropin INSTANCE: runs the shell block of docs/systemd.md's "Downloads" section, as an
# operator would paste it, for this instance (docs_dropin below).
docs_download_dropin() { docs_dropin "## Downloads" download.conf "$1"; }

# download_setup INSTANCE BINARY-CHECKSUM SLOW-RATE: home, mirror (v2.tar.zst, its manifest) and
# /etc/oraivisor/INSTANCE.conf with downloads on and checksums required. Sets DL_URL (the binary's URL as
# in the manifest, without its checksum), DL_SUM (the archive's real sha256), DL_INFO (the plan info: the
# manifest's URL with its checksum).
DL_URL= DL_SUM= DL_INFO=
download_setup() {
        local i="$1" sum="$2" rate="$3" h=/var/lib/$1 m=/srv/mirror-$1
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_genesis_home $h chainuser
        sbx mkdir -p $m
        mirror_archive $m v2.tar.zst --zstd
        DL_SUM=$(sha256_in $m/v2.tar.zst)
        mirror_start $i $m || { fail "the loopback mirror did not start"; return 1; }
        local base="http://127.0.0.1:$MIRROR_PORT"
        DL_URL="$base${rate:+/slow/$rate}/v2.tar.zst"
        local entry="$DL_URL?checksum=sha256:${sum:-$DL_SUM}"
        # This machine's entry, and a broken one for another platform, which must be ignored.
        printf '{"binaries": {"linux/amd64": "%s", "linux/arm64": "%s", "darwin/arm64": "%s/status/404/x?checksum=md5:00"}}\n' \
                "$entry" "$entry" "$base" | sbx tee $m/manifest.json >/dev/null
        DL_INFO="$base/manifest.json?checksum=sha256:$(sha256_in $m/manifest.json)"
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true \
                UNSAFE_SKIP_BACKUP=true DAEMON_ALLOW_DOWNLOAD_BINARIES=true DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true \
                DAEMON_SHUTDOWN_GRACE=5s ORAIVISOR_DOWNLOAD_RETRIES=1 "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100 "FAKECHAIN_PLAN_INFO=$DL_INFO"
}

exposure() { # exposure UNIT: systemd-analyze security's overall figure
        sbx systemd-analyze security --no-pager "$1" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }

no_staging_left() { # no_staging_left HOME: nothing but finished upgrades in upgrades/
        [ -z "$(sbx find "$1/oraivisor/upgrades" -mindepth 1 -maxdepth 1 -name '.*' 2>/dev/null)" ]
}

t_oraivisor_download() {
        local i=s10 h=/var/lib/s10 u=oraivisor@s10.service
        download_setup $i "" 24000 || return
        # docs/systemd.md gives the exposure score without and with the drop-in: "from X to Y".
        local doc before after
        doc=$(sed -n '/^## Downloads$/,/^## Hardening/p' "$SRC/docs/systemd.md" | tr '\n' ' ' |
                sed -n 's/.*exposure score (`systemd-analyze security`) from \([0-9.]*\) to \([0-9.]*\)\..*/\1 \2/p')
        before=$(exposure $u)
        docs_download_dropin $i || return
        after=$(exposure $u)
        expect "the documented drop-in is in effect: PrivateNetwork=no" prop_is $u PrivateNetwork no
        expect "... and AF_INET allowed" bash -c '[[ " $1 " == *" AF_INET "* ]]' _ "$(prop $u RestrictAddressFamilies)"
        expect "exposure without the drop-in ($before) is at most the documented ${doc% *}" at_most "$before" "${doc% *}"
        expect "exposure with the drop-in ($after) is at most the documented ${doc#* }" at_most "$after" "${doc#* }"
        expect "no upgrades/v2 before the upgrade" sbx test ! -e $h/oraivisor/upgrades/v2
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting"
        # The download takes about 3 s (a throttled mirror): STATUS= must follow it.
        local seen="$OUT/$i.status" st last= end=$((SECONDS + 60))
        : >"$seen"
        while [ $SECONDS -lt $end ]; do
                st=$(status_text $i)
                [ "$st" != "$last" ] && { echo "$st" >>"$seen"; last=$st; }
                dj_has $i "fakechaind v2 starting" && break
                sleep 0.05
        done
        expect "v2 runs (its version line in the daemon unit's journal)" dj_has $i "fakechaind v2 starting"
        expect "STATUS said the download started" grep -q "^upgrade v2: downloading" "$seen"
        expect "STATUS showed its progress" grep -Eq "^upgrade v2: downloading [0-9]+/[0-9]+ (bytes|KiB) \([0-9]+%\)$" "$seen"
        expect "STATUS: v2 running" wait_for 5 status_has $i "fakechaind (upgrade v2) running; watching for upgrade plans"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "the downloaded binary is bin/fakechaind, executable" sbx test -x $h/oraivisor/upgrades/v2/bin/fakechaind
        expect "... byte for byte fakechaind v2" sbx cmp -s $h/oraivisor/upgrades/v2/bin/fakechaind "$FK/fakechaind-v2"
        expect "the archive's lib/ file is there" sbx grep -q "not really a library" $h/oraivisor/upgrades/v2/lib/libwasmvm.x86_64.so
        # Unpacked by a worker of its own user inside this unit, then given back to oraivisor's (root).
        expect "installed as root's, writable by root only" test \
                "$(sbx stat -c '%u:%g %a' $h/oraivisor/upgrades/v2 $h/oraivisor/upgrades/v2/bin/fakechaind \
                        $h/oraivisor/upgrades/v2/lib $h/oraivisor/upgrades/v2/lib/libwasmvm.x86_64.so |
                        tr '\n' ' ')" = "0:0 755 0:0 755 0:0 755 0:0 644 "
        expect "v2 runs as DAEMON_USER with upgrades/v2/lib first on LD_LIBRARY_PATH" \
                bash -c 'grep -q "fakechaind v2 starting (.*user=chainuser.*ld_library_path=$2" <<<"$1"' _ "$(dj $i)" "$h/oraivisor/upgrades/v2/lib"
        expect "no staging folder left" no_staging_left $h
        local j="$OUT/$i.journal"
        sbx journalctl -q -o cat --no-pager _SYSTEMD_UNIT=$u >"$j"
        expect "journal: the manifest's entry for this machine was chosen" grep -Eq "^Upgrade v2: using the manifest's entry 'linux/(amd64|arm64)'" "$j"
        expect "journal: the download from the mirror is named" contains "$j" "Upgrade v2: downloading '$DL_URL'"
        expect "journal: its progress to 100%" grep -q "^Upgrade v2: downloaded .* (100%) from '$DL_URL'" "$j"
        expect "journal: the checksum matched" contains "$j" "Upgrade v2: the download matches its checksum sha256:$DL_SUM"
        expect "journal: installed" contains "$j" "Upgrade v2: installed '$h/oraivisor/upgrades/v2/bin/fakechaind' from '$DL_URL'"
        expect "one upgrade-finished message" \
                test "$(sbx journalctl -q -o cat MESSAGE_ID=79952004deb14f5b91e6f3f4c5252a11 _SYSTEMD_UNIT=$u | wc -l)" -eq 1
        sbx systemctl stop oraivisor@$i
        expect "stopped cleanly" prop_is $u Result success
        mirror_stop $i
}

# A download that cannot be installed (a wrong checksum): status 81, no restart loop, current unchanged, the
# reason in `systemctl status`.
t_oraivisor_download_bad_checksum() {
        local i=s11 h=/var/lib/s11 u=oraivisor@s11.service
        download_setup $i "$(printf '0%.0s' $(seq 1 64))" "" || return
        docs_download_dropin $i || return
        sbx systemctl start oraivisor@$i 2>/dev/null
        expect "genesis ran up to the upgrade" wait_for 15 dj_has $i "fakechaind v1 starting"
        expect "the unit failed" wait_for 30 prop_is $u ActiveState failed
        expect "with status 81 (an upgrade step failed)" test "$(prop $u ExecMainStatus)" = 81
        expect "no restart loop" wait_for 10 settled_failed $u
        expect "current unchanged (genesis)" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "no upgrades/v2" sbx test ! -e $h/oraivisor/upgrades/v2
        expect "no staging folder left" no_staging_left $h
        expect "the node is stopped, its unit gone" prop_is oraivisor-daemon@$i.service LoadState not-found
        local st="$OUT/$i.status"
        sbx systemctl status --no-pager -l -n 30 $u >"$st" 2>&1
        expect "systemctl status: the failed upgrade and its step" grep -q "Upgrade 'v2' failed at step obtain: " "$st"
        expect "... the URL, the expected and the actual checksum" contains "$st" \
                "The binary downloaded from '$DL_URL' does not match its checksum: expected sha256:$(printf '0%.0s' $(seq 1 64)), got sha256:$DL_SUM"
        expect "... and that current is unchanged" contains "$st" "'$h/oraivisor/current' is unchanged."
        expect "the upgrade-failed message names the step" \
                bash -c 'nsenter -t $1 -a journalctl -q -o cat MESSAGE_ID=18a6ab75951b4dfb81314adffdf42168 ORAIVISOR_UPGRADE_STEP=obtain _SYSTEMD_UNIT=$2 | grep -q "v2"' _ "$SBX_PID1" "$u"
        sbx systemctl reset-failed $u
        mirror_stop $i
}

MESSAGE_ID_CONFIG_INVALID=c325f9eb6f4149669cd319d3a11c1a66
status_shows() { # status_shows UNIT TEXT: `systemctl status UNIT` shows TEXT (fixed string)
        { sbx systemctl status --no-pager -l -n 30 "$1" 2>&1 || true; } | grep -F -- "$2" >/dev/null # status 3: not active
}
# start_refused INSTANCE LINE: `systemctl start` fails at once with status 78, the node never starts,
# systemd does not restart oraivisor, and LINE is in `systemctl status` and is the config-invalid message.
start_refused() {
        local i="$1" line="$2" h=/var/lib/$1 u=oraivisor@$1.service n
        n=$(sbx journalctl -q -o cat MESSAGE_ID=$MESSAGE_ID_CONFIG_INVALID _SYSTEMD_UNIT=$u | wc -l)
        expect "systemctl start fails (before READY=1)" bash -c '! nsenter -t $1 -a timeout 30 systemctl start $2 2>/dev/null' _ "$SBX_PID1" "$u"
        expect "the unit failed" wait_for 10 prop_is $u ActiveState failed
        expect "... with status 78 (invalid configuration)" test "$(prop $u ExecMainStatus)" = 78
        # journald may store oraivisor's own message a moment after systemd's lines about the exit.
        expect "systemctl status names the setting and the fix" wait_for 10 status_shows $u "$line"
        expect "... as the one config-invalid message of this start" wait_for 10 \
                bash -c '[ "$(nsenter -t $1 -a journalctl -q -o cat MESSAGE_ID=$2 _SYSTEMD_UNIT=$3 | tail -n +$4)" = "$5" ]' \
                _ "$SBX_PID1" "$MESSAGE_ID_CONFIG_INVALID" "$u" $((n + 1)) "$line"
        expect "the node was never started" bash -c '[ -z "$(nsenter -t $1 -a journalctl -q -o cat _SYSTEMD_UNIT=oraivisor-daemon@$2.service)" ]' _ "$SBX_PID1" "$i"
        expect "current not switched (genesis, or not created yet)" \
                bash -c 't=$(nsenter -t $1 -a readlink $2/oraivisor/current); [ -z "$t" ] || [ "$t" = genesis ]' _ "$SBX_PID1" "$h"
        expect "no restart loop" wait_for 10 settled_failed $u
        sbx systemctl reset-failed $u
}

# oraivisorctl -i INSTANCE prepare-upgrade while oraivisor@INSTANCE runs genesis with downloads OFF and the
# shipped unit (no network for oraivisor): the ctl, an operator's command, fetches v2 from the loopback mirror
# through the same code, ahead of the height; at the height oraivisor upgrades with it and downloads nothing.
t_oraivisorctl_prepare_upgrade() {
        local i=ctlprep h=/var/lib/ctlprep o="$OUT/ctlprep.ctl" rc=0
        download_setup $i "" "" || return
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true \
                UNSAFE_SKIP_BACKUP=true DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true DAEMON_SHUTDOWN_GRACE=5s \
                "DAEMON_ARGS=start --home $h" FAKECHAIN_PLANS=v2@150 FAKECHAIN_BLOCK_INTERVAL=100 "FAKECHAIN_PLAN_INFO=$DL_INFO"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting"
        sbx oraivisorctl -i $i prepare-upgrade v2 --info "$DL_INFO" --json >"$o" 2>"$o.err" || rc=$?
        expect "oraivisorctl -i $i prepare-upgrade v2 --info <manifest URL>: status 0" test $rc -eq 0
        [ $rc -eq 0 ] || sed 's/^/      /' "$o.err"
        expect "... installed and verified (--json)" python3 -c \
                'import json, sys; d = json.load(open(sys.argv[1])); sys.exit((d["result"], d["verified"]) != ("installed", True))' "$o"
        expect "... upgrades/v2/bin/fakechaind is fakechaind v2" sbx cmp -s $h/oraivisor/upgrades/v2/bin/fakechaind "$FK/fakechaind-v2"
        expect "... with the archive's lib/" sbx grep -q "not really a library" $h/oraivisor/upgrades/v2/lib/libwasmvm.x86_64.so
        expect "... no staging folder left" no_staging_left $h
        expect "genesis still runs (the ctl did not touch it)" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "v2 runs after the height" wait_for 40 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "oraivisor downloaded nothing" not ov_journal_has $i "downloading"
        rc=0
        sbx oraivisorctl -i $i prepare-upgrade v2 --info "$DL_INFO" >"$o" 2>"$o.err" || rc=$?
        expect "prepare-upgrade again: already installed, status 0" bash -c '[ "$1" = 0 ] && grep -q "is already installed" "$2"' _ "$rc" "$o"
        sbx systemctl stop oraivisor@$i
        mirror_stop $i
}

# Downloads on, the shipped unit without the drop-in (no network): refused at start with status 78 and the
# drop-in that fixes it, instead of a download failing at the upgrade height. With the drop-in, the upgrade
# downloads its binary.
t_oraivisor_download_no_network() {
        local i=s12 h=/var/lib/s12 u=oraivisor@s12.service
        download_setup $i "" "" || return
        expect "the shipped unit has no network" prop_is $u PrivateNetwork yes
        start_refused $i "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but $u runs with PrivateNetwork=yes: it has no network but loopback, so downloads cannot leave this machine. Add the drop-in /etc/systemd/system/$u.d/download.conf of the \"Downloads\" section of systemd.md, or set DAEMON_ALLOW_DOWNLOAD_BINARIES=false and install each upgrade's binary before its height."
        expect "no upgrades/v2" sbx test ! -e $h/oraivisor/upgrades/v2
        # The operator's fix, as docs/systemd.md says: the drop-in, then start again.
        docs_download_dropin $i || return
        expect "after the drop-in, systemctl start succeeds" sbx timeout 30 systemctl start oraivisor@$i
        expect "... genesis runs" wait_for 15 dj_has $i "fakechaind v1 starting"
        expect "... v2 was downloaded at the height and runs" wait_for 30 dj_has $i "fakechaind v2 starting"
        expect "... current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "... no staging folder left" no_staging_left $h
        sbx systemctl stop oraivisor@$i
        mirror_stop $i
}

# Downloads on with the drop-in, but an IP firewall (IPAddressDeny=) on the unit, or on a slice above it,
# that lets only loopback through: refused at start, naming the unit or slice that denies.
t_oraivisor_download_ip_deny() {
        local i=s17 h=/var/lib/s17 u=oraivisor@s17.service d=/run/systemd/system/oraivisor@s17.service.d
        download_setup $i "" "" || return
        docs_download_dropin $i || return
        sbx mkdir -p $d
        printf '[Service]\nIPAddressAllow=localhost\nIPAddressDeny=any\n' | sbx tee $d/ipdeny.conf >/dev/null
        sbx systemctl daemon-reload
        start_refused $i "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but IPAddressDeny= of $u lets nothing but loopback through, so downloads cannot leave this machine. Add the drop-in /etc/systemd/system/$u.d/download.conf of the \"Downloads\" section of systemd.md, or set DAEMON_ALLOW_DOWNLOAD_BINARIES=false and install each upgrade's binary before its height."
        # The same deny set on a slice of the unit: systemd merges the lists of the unit and its slices.
        printf '[Slice]\nIPAddressDeny=any\n' | sbx tee /run/systemd/system/oraivisor-test-s17.slice >/dev/null
        printf '[Service]\nSlice=oraivisor-test-s17.slice\n' | sbx tee $d/ipdeny.conf >/dev/null
        sbx systemctl daemon-reload
        start_refused $i "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but IPAddressDeny= of oraivisor-test-s17.slice lets nothing but loopback through, so downloads cannot leave this machine. Add the drop-in /etc/systemd/system/$u.d/download.conf of the \"Downloads\" section of systemd.md, or set DAEMON_ALLOW_DOWNLOAD_BINARIES=false and install each upgrade's binary before its height."
        # An allow on the unit wins over the slice's deny: then the start check lets it start.
        printf '[Service]\nSlice=oraivisor-test-s17.slice\nIPAddressAllow=any\n' | sbx tee $d/ipdeny.conf >/dev/null
        sbx systemctl daemon-reload
        expect "with IPAddressAllow=any on the unit, systemctl start succeeds" sbx timeout 30 systemctl start oraivisor@$i
        expect "... genesis runs" wait_for 15 dj_has $i "fakechaind v1 starting"
        sbx systemctl stop oraivisor@$i
        sbx rm -rf $d/ipdeny.conf /run/systemd/system/oraivisor-test-s17.slice
        sbx systemctl daemon-reload
        mirror_stop $i
}

# docs_dropin SECTION FILE INSTANCE: runs the sh block of docs/systemd.md's SECTION (a "##" or "###"
# heading) that writes oraivisor@oraid.service.d/FILE, for this instance.
docs_dropin() {
        local section="$1" file="$2" i="$3" block
        block=$(awk -v h="$section" '$0 == h { s = 1; next } s && /^##/ { exit } s && /^```sh$/ { b = 1; next }
                     b && /^```$/ { exit } b { print }' "$SRC/docs/systemd.md")
        block=${block//oraivisor@oraid./oraivisor@$i.}
        if ! grep -qF "/etc/systemd/system/oraivisor@$i.service.d/$file" <<<"$block"; then
                fail "docs/systemd.md ($section) has no sh block writing oraivisor@oraid.service.d/$file"
                return 1
        fi
        sbx sh -ec "$block"
}

# Loopback TCP from inside oraivisor@'s sandbox to a listener on the host's 127.0.0.1 (where the node's
# RPC listens, for the chain watcher): the unit's own sandbox, with only its command replaced by an HTTP
# request to the loopback mirror. The shipped unit cannot (its loopback is its own); with the "node's RPC"
# drop-in of docs/systemd.md it can, with the exposure the document gives.
t_oraivisor_loopback_tcp() {
        local i=s18 u=oraivisor@s18.service d=/run/systemd/system/oraivisor@s18.service.d m=/srv/mirror-s18
        sbx mkdir -p $m
        echo "hello from the host's loopback" | sbx tee $m/hello >/dev/null
        mirror_start $i $m || { fail "the loopback mirror did not start"; return; }
        printf '#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/%s || exit 3\nprintf "GET /hello HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" >&3\ncat <&3\n' \
                "$MIRROR_PORT" | sbx tee /run/oraivisor-test-probe-$i.sh >/dev/null
        sbx mkdir -p $d
        printf '[Service]\nType=oneshot\nExecStartPre=\nExecStart=\nExecStart=/bin/bash /run/oraivisor-test-probe-%s.sh\n' $i |
                sbx tee $d/probe.conf >/dev/null
        sbx systemctl daemon-reload
        expect "the sandbox is the shipped unit's (PrivateNetwork=yes)" prop_is $u PrivateNetwork yes
        expect "shipped unit: the host's 127.0.0.1 cannot be reached" bash -c '! nsenter -t $1 -a timeout 30 systemctl start $2 2>/dev/null' _ "$SBX_PID1" "$u"
        expect "... (no answer in its journal)" bash -c '! nsenter -t $1 -a journalctl -q -o cat _SYSTEMD_UNIT=$2 | grep -q "hello from"' _ "$SBX_PID1" "$u"
        sbx systemctl reset-failed $u
        docs_dropin "### The node's RPC on loopback (for the chain watcher)" rpc.conf $i || return
        expect "with the drop-in: IPAddressDeny= in effect" bash -c '[ -n "$(nsenter -t $1 -a systemctl show -P IPAddressDeny $2)" ]' _ "$SBX_PID1" "$u"
        expect "with the drop-in: the request to the host's 127.0.0.1 succeeds" sbx timeout 30 systemctl start $u
        expect "... the mirror's answer is in the unit's journal" \
                bash -c 'nsenter -t $1 -a journalctl -q -o cat _SYSTEMD_UNIT=$2 | grep -q "hello from the host.s loopback"' _ "$SBX_PID1" "$u"
        sbx rm -f $d/probe.conf /run/oraivisor-test-probe-$i.sh
        sbx systemctl daemon-reload
        local doc after
        doc=$(sed -n '/^### The node.s RPC on loopback/,/^## /p' "$SRC/docs/systemd.md" | tr '\n' ' ' |
                sed -n 's/.*Its exposure score is \([0-9.]*\)\..*/\1/p')
        after=$(exposure $u)
        expect "exposure with the RPC drop-in ($after) is at most the documented $doc" at_most "$after" "$doc"
        sbx rm -f /etc/systemd/system/$u.d/rpc.conf
        sbx systemctl daemon-reload
        mirror_stop $i
}

# ---- the chain watcher (docs/chain-watch.md) --------------------------------------------------------------

# rpc_standin_start NAME ARGS...: tests/rpc/standin.py (a CometBFT RPC stand-in) as a transient unit of the
# container; on TCP its port in $RPC_PORT.
RPC_PORT=
rpc_standin_start() {
        local unit="oraivisor-test-rpc-$1.service" n
        shift
        RPC_PORT=
        sbx systemd-run -q --unit="$unit" -p Type=exec -p "Description=test node RPC" \
                python3 "$SRC/tests/rpc/standin.py" "$@" || return 1
        for n in $(seq 1 100); do
                if sbx journalctl -q -o cat --no-pager "_SYSTEMD_UNIT=$unit" | grep -q '^LISTENING'; then
                        RPC_PORT=$(sbx journalctl -q -o cat --no-pager "_SYSTEMD_UNIT=$unit" | sed -n 's/^LISTENING PORT \([0-9]*\)$/\1/p' | head -n1)
                        return 0
                fi
                sleep 0.1
        done
        return 1
}
rpc_standin_stop() { sbx systemctl stop "oraivisor-test-rpc-$1.service" 2>/dev/null; }
MESSAGE_ID_UPGRADE_SCHEDULED=7a51c81050764d31b1cc7781147d294e
MESSAGE_ID_UPGRADE_BINARY_MISSING=735d80b3c8854dc5bd9abe236c375413
MESSAGE_ID_VERSION_NOT_READY=6a8c93d1f4754810b49b708ce5da227d
MESSAGE_ID_SCHEDULED_NOT_READY=f59fcf992c264613895469623abe95b8
MESSAGE_ID_SCHEDULED_READY=dab16d239eb947a799453fa977cce855
# ov_event_has INSTANCE MATCHES... TEXT: a message of oraivisor@INSTANCE with those journal fields holds TEXT.
ov_event_has() {
        local i="$1"; shift
        local text="${*: -1}"
        sbx journalctl -q -o cat --no-pager "${@:1:$#-1}" "_SYSTEMD_UNIT=oraivisor@$i.service" | grep -F -- "$text" >/dev/null
}

# The node's RPC on a unix socket (laddr = "unix:///…" in its config.toml), the setup docs/chain-watch.md
# recommends for validators: the shipped unit reaches it as it is (PrivateNetwork=yes, AF_UNIX only). A plan
# approved far ahead whose binary is missing: the event with its fields, the warning naming the fix,
# STATUS=; then the binary installed by hand shows as ready; replaced by one that does not start, it is
# found not ready (event, STATUS=), and ready again once fixed.
t_oraivisor_chain_watch_unix() {
        local i=cw1 h=/var/lib/cw1 u=oraivisor@cw1.service s=/run/oraivisor-test-cw1/rpc.sock
        make_home $h fakechaind
        sbx rm -rf $h/oraivisor/upgrades/v3
        sbx mkdir -p $h/config /run/oraivisor-test-cw1
        printf '[rpc]\nladdr = "unix://%s"\n' $s | sbx tee $h/config/config.toml >/dev/null
        rpc_standin_start $i --unix $s --height 5000 --block-seconds 5 --plan v3:21600 ||
                { fail "the RPC stand-in did not start"; return; }
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true DAEMON_SHUTDOWN_GRACE=5s \
                "DAEMON_ARGS=start --home $h" FAKECHAIN_PLANS= FAKECHAIN_BLOCK_INTERVAL=100 ORAIVISOR_CHAIN_POLL_INTERVAL=1s
        expect "the shipped unit's sandbox (PrivateNetwork=yes)" prop_is $u PrivateNetwork yes
        expect "systemctl start succeeds" sbx timeout 30 systemctl start $u
        expect "the chain is watched through the socket of config.toml" \
                wait_for 20 ov_journal_has $i "Watching the chain through the node's RPC at 'unix://$s' (height 5000"
        expect "an 'upgrade scheduled' event with its fields" wait_for 10 ov_event_has $i MESSAGE_ID=$MESSAGE_ID_UPGRADE_SCHEDULED \
                ORAIVISOR_UPGRADE_NAME=v3 ORAIVISOR_UPGRADE_HEIGHT=21600 ORAIVISOR_BINARY=missing DAEMON_NAME=fakechaind \
                "Upgrade 'v3' is scheduled on chain at height 21600 (the chain is at 5000), in ~23h"
        expect "a warning that the binary is missing, with the fix" wait_for 10 ov_event_has $i \
                MESSAGE_ID=$MESSAGE_ID_UPGRADE_BINARY_MISSING ORAIVISOR_UPGRADE_NAME=v3 ORAIVISOR_WARNING=day \
                "Install it now: oraivisorctl add-upgrade 'v3' PATH."
        expect "STATUS= shows the upgrade" wait_for 10 status_has $i "running; watching for upgrade plans; upgrade v3 at height 21600 (~23h"
        expect "... binary missing" status_has $i "), binary missing"
        expect "the state file" sbx grep -q '"name":"v3"' $h/oraivisor/chain-state.json
        # oraivisorctl -i status reads it: the plan approved on chain days ahead, its binary checked as the node's.
        local o="$OUT/cw1.status"
        ctl_status_json $i "$o"
        expect "oraivisorctl -i $i status: status 3, the plan approved on chain, binary missing" \
                test "$(cat "$o.rc") $(ctl_json "$o" '[(e["name"], e["height"], e["source"], e["binary"]) for e in d["scheduled"]]')" = \
                "3 [('v3', 21600, 'chain', 'missing')]"
        expect "... the chain through the socket, reachable, not stale" \
                test "$(ctl_json "$o" 'd["chain"]["rpc"], d["chain"]["reachable"], d["chain"]["stale"]')" = "('unix://$s', True, False)"
        expect "... a warning with the fix" grep -qF "install it now: oraivisorctl add-upgrade 'v3' PATH." "$o"
        sbx mkdir -p $h/oraivisor/upgrades/v3/bin
        sbx cp "$FK/fakechaind-v3" $h/oraivisor/upgrades/v3/bin/fakechaind
        expect "installed by hand: STATUS= says ready" wait_for 10 status_has $i "upgrade v3 at height 21600 (~23h"
        expect "... binary ready" wait_for 10 status_has $i "), binary ready"
        expect "oraivisorctl -i $i status: binary ready" wait_for 15 ctl_shows $i "$o" '[e["binary"] for e in d["scheduled"]]' "['ready']"
        # Replaced by one whose `version` fails (checked under the unit, as DAEMON_USER): not ready, and why.
        printf '#!/bin/sh\necho "Error: unknown flag --foo" >&2\nexit 2\n' | sbx tee $h/oraivisor/upgrades/v3/bin/fakechaind >/dev/null
        expect "a 'not ready' event with its fields" wait_for 15 ov_event_has $i MESSAGE_ID=$MESSAGE_ID_SCHEDULED_NOT_READY \
                ORAIVISOR_UPGRADE_NAME=v3 ORAIVISOR_UPGRADE_HEIGHT=21600 ORAIVISOR_UPGRADE_SOURCE=governance \
                "Upgrade 'v3' scheduled on chain at height 21600 is not ready: its binary '$h/oraivisor/upgrades/v3/bin/fakechaind' will not start on this host: it \`version\` exited with status 2"
        expect "STATUS= says why" wait_for 10 status_has $i "), binary not ready: \`version\` exited with status 2"
        expect "oraivisorctl -i $i status: binary not ready, checked as the node's" \
                wait_for 15 ctl_shows $i "$o" '[(e["binary"], "exited with status 2" in e["binary_reason"]) for e in d["scheduled"]]' \
                "[('not_ready', True)]"
        sbx cp "$FK/fakechaind-v3" $h/oraivisor/upgrades/v3/bin/fakechaind
        expect "fixed: a 'ready again' event" wait_for 15 ov_event_has $i MESSAGE_ID=$MESSAGE_ID_SCHEDULED_READY \
                ORAIVISOR_UPGRADE_NAME=v3 "Upgrade 'v3' scheduled on chain at height 21600 is ready again"
        expect "the node ran all along (genesis)" dj_has $i "fakechaind v1 starting"
        sbx systemctl stop $u
        rpc_standin_stop $i
}

# The node's RPC on TCP under the shipped unit (its loopback is its own): set explicitly in
# ORAIVISOR_NODE_RPC, an invalid configuration (78) naming the drop-in and the unix socket; only derived
# from config.toml, one notice and the node runs without the watcher; with the drop-in of docs/systemd.md,
# watched over TCP.
t_oraivisor_chain_watch_tcp() {
        local i=cw2 h=/var/lib/cw2 u=oraivisor@cw2.service
        make_home $h fakechaind
        rpc_standin_start $i --height 7000 --block-seconds 5 || { fail "the RPC stand-in did not start"; return; }
        sbx mkdir -p $h/config
        printf '[rpc]\nladdr = "tcp://0.0.0.0:%s"\n' "$RPC_PORT" | sbx tee $h/config/config.toml >/dev/null
        local base=(DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true DAEMON_SHUTDOWN_GRACE=5s
                "DAEMON_ARGS=start --home $h" FAKECHAIN_PLANS= FAKECHAIN_BLOCK_INTERVAL=100 ORAIVISOR_CHAIN_POLL_INTERVAL=1s)
        oraivisor_conf $i "${base[@]}" ORAIVISOR_NODE_RPC=http://127.0.0.1:$RPC_PORT
        start_refused $i "ORAIVISOR_NODE_RPC='http://127.0.0.1:$RPC_PORT' is set, but $u runs with PrivateNetwork=yes: its loopback is its own, not the host's where the node listens. Add the drop-in /etc/systemd/system/$u.d/rpc.conf of \"The node's RPC on loopback\" in systemd.md, or put the node's RPC on a unix socket (laddr = \"unix:///…\" in its config.toml) and set ORAIVISOR_NODE_RPC=unix:///…, or set ORAIVISOR_NODE_RPC=off."
        oraivisor_conf $i "${base[@]}"
        expect "derived from config.toml: systemctl start succeeds" sbx timeout 30 systemctl start $u
        expect "... one notice: chain watching is off, and how to turn it on" wait_for 10 ov_journal_has $i \
                "Chain watching is off: the node's RPC is at 'http://127.0.0.1:$RPC_PORT' (config.toml's [rpc] laddr), but $u runs with PrivateNetwork=yes: its loopback is its own, not the host's where the node listens. Add the drop-in /etc/systemd/system/$u.d/rpc.conf of \"The node's RPC on loopback\" in systemd.md, or put the node's RPC on a unix socket (laddr = \"unix:///…\" in its config.toml)."
        expect "... the node runs" wait_for 15 dj_has $i "fakechaind v1 starting"
        sbx systemctl stop $u
        docs_dropin "### The node's RPC on loopback (for the chain watcher)" rpc.conf $i || return
        oraivisor_conf $i "${base[@]}" ORAIVISOR_NODE_RPC=http://127.0.0.1:$RPC_PORT
        expect "with the drop-in, explicit: systemctl start succeeds" sbx timeout 30 systemctl start $u
        expect "... watched over TCP" wait_for 20 ov_journal_has $i "Watching the chain through the node's RPC at 'http://127.0.0.1:$RPC_PORT' (height 7"
        sbx systemctl stop $u
        sbx rm -f /etc/systemd/system/$u.d/rpc.conf
        sbx systemctl daemon-reload
        rpc_standin_stop $i
}

# ---- the node's own sandbox (ORAIVISOR_DAEMON_SANDBOX, ORAIVISOR_DAEMON_PROPERTIES) ------------------------

# Files the node must not reach: a second node's home at /var/lib/other (its owner's only), and a user's home
# under /home whose files are world-readable, as useradd's umask leaves them; a world-writable /srv/shared.
other_homes() {
        sbx id otheruser >/dev/null 2>&1 || sbx useradd --uid 1600 --create-home --home-dir /home/otheruser otheruser
        sbx mkdir -p /var/lib/other/config /home/otheruser/.oraid/config /srv/shared
        echo "not for you" | sbx tee /var/lib/other/config/priv_validator_key.json \
                /home/otheruser/.oraid/config/priv_validator_key.json >/dev/null
        sbx chown -R otheruser: /var/lib/other /home/otheruser
        sbx chmod 0700 /var/lib/other
        sbx chmod 0755 /home/otheruser /home/otheruser/.oraid /home/otheruser/.oraid/config
        sbx chmod 0644 /home/otheruser/.oraid/config/priv_validator_key.json
        sbx chmod 1777 /srv/shared
}
OTHER_KEY=/var/lib/other/config/priv_validator_key.json
HOME_KEY=/home/otheruser/.oraid/config/priv_validator_key.json
# probe_result INSTANCE WHAT PATH: what the node of oraivisor@INSTANCE logged for FAKECHAIN_PROBE's WHAT:PATH
# ("ok", or an errno name such as EROFS).
probe_result() { dj "$1" | sed -n "s|.*probe $2 $3: \([^ ]*\).*|\1|p" | head -n1; }
probe_is() { [ "$(probe_result "$1" "$2" "$3")" = "$4" ]; }
probe_denied() { local r; r=$(probe_result "$1" "$2" "$3"); [ -n "$r" ] && [ "$r" != ok ]; }
# words_are UNIT PROPERTY "WORDS": the property's value holds these words, in any order.
sorted_words() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | tr '\n' ' '; }
words_are() { [ "$(sorted_words "$(prop "$1" "$2")")" = "$(sorted_words "$3")" ]; }

# A node doing what nodes do, as DAEMON_USER, inside the default sandbox: it writes its home, listens on
# TCP, maps W+X memory (CosmWasm), and goes through an upgrade with its pre-upgrade; it cannot write /usr or
# a world-writable folder, nor read another node's home or a world-readable file in a user's home. The
# exposure systemd-analyze gives is at most 3.0.
t_oraivisor_node_sandbox() {
        local i=s20 h=/var/lib/s20 u=oraivisor-daemon@s20.service port=26720 e
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        other_homes
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true \
                UNSAFE_SKIP_BACKUP=true DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@30 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_LISTEN=127.0.0.1:$port FAKECHAIN_WX=1 \
                "FAKECHAIN_PROBE=write:$h/data/probe write:/usr/local/probe-$i write:/srv/shared/probe-$i read:$OTHER_KEY read:$HOME_KEY"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs as DAEMON_USER" wait_for 10 dj_has $i "fakechaind v1 starting (version=v1 pid="
        expect "... uid 1500" bash -c 'grep -q "fakechaind v1 starting (.*uid=1500 user=chainuser" <<<"$1"' _ "$(dj $i)"
        expect "NoNewPrivileges=yes" prop_is $u NoNewPrivileges yes
        expect "ProtectSystem=strict" prop_is $u ProtectSystem strict
        expect "ReadWritePaths= the home only" prop_is $u ReadWritePaths $h
        expect "ProtectHome=yes" prop_is $u ProtectHome yes
        expect "PrivateTmp=yes, PrivateDevices=yes" bash -c '[ "$1" = yes ] && [ "$2" = yes ]' _ "$(prop $u PrivateTmp)" "$(prop $u PrivateDevices)"
        expect "ProtectKernelTunables/Modules/Logs, ControlGroups, Clock, Hostname" bash -c '[ "$*" = "yes yes yes yes yes yes" ]' _ \
                "$(prop $u ProtectKernelTunables)" "$(prop $u ProtectKernelModules)" "$(prop $u ProtectKernelLogs)" \
                "$(prop $u ProtectControlGroups)" "$(prop $u ProtectClock)" "$(prop $u ProtectHostname)"
        expect "RestrictSUIDSGID, LockPersonality, RestrictRealtime" bash -c '[ "$*" = "yes yes yes" ]' _ \
                "$(prop $u RestrictSUIDSGID)" "$(prop $u LockPersonality)" "$(prop $u RestrictRealtime)"
        expect "RestrictNamespaces=yes" prop_is $u RestrictNamespaces yes
        expect "SystemCallArchitectures=native" prop_is $u SystemCallArchitectures native
        expect "RestrictAddressFamilies= what a node uses ($(prop $u RestrictAddressFamilies))" \
                words_are $u RestrictAddressFamilies "AF_UNIX AF_INET AF_INET6 AF_NETLINK"
        expect "no capabilities for DAEMON_USER" prop_is $u CapabilityBoundingSet ""
        expect "not MemoryDenyWriteExecute= (CosmWasm)" prop_is $u MemoryDenyWriteExecute no
        expect "it listens on loopback TCP" wait_for 10 dj_has $i "listening on 127.0.0.1:$port"
        expect "... and a client connects" sbx bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
        expect "it maps W+X memory and runs code there" wait_for 10 dj_has $i "mapped W+X memory: ok"
        expect "it writes its home" wait_for 10 probe_is $i write $h/data/probe ok
        expect "it cannot write /usr/local (EROFS)" probe_is $i write /usr/local/probe-$i EROFS
        expect "... nor a world-writable folder (EROFS)" probe_is $i write /srv/shared/probe-$i EROFS
        expect "it cannot read another node's home ($(probe_result $i read $OTHER_KEY))" probe_denied $i read $OTHER_KEY
        expect "... nor a world-readable file in a user's home ($(probe_result $i read $HOME_KEY))" probe_denied $i read $HOME_KEY
        expect "... which the same user outside the sandbox can read" sbx setpriv --reuid=1500 --regid=1500 --clear-groups cat $HOME_KEY
        e=$(exposure $u)
        echo "    exposure of the node's unit with DAEMON_USER: $e"
        expect "systemd-analyze security: exposure $e, at most 3.0" at_most "$e" 3.0
        expect "the upgrade goes through: v2 starts" wait_for 40 dj_has $i "fakechaind v2 starting"
        expect "... current -> upgrades/v2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/v2
        expect "... its pre-upgrade ran (as DAEMON_USER)" test "$(sbx stat -c %U $h/data/pre-upgrade.count)" = chainuser
        expect "... v2 runs in the same sandbox" prop_is $u ProtectSystem strict
        expect "... listens again" wait_for 10 bash -c '[ "$(grep -c "listening on 127.0.0.1:$2" <<<"$1")" -ge 2 ]' _ "$(dj $i)" $port
        expect "... and goes on from v1's height" wait_for 10 dj_has $i "height=31 "
        sbx systemctl stop oraivisor@$i
}

# A root node (no DAEMON_USER) keeps root's capabilities but not the file system: /usr is read-only and users'
# homes are hidden even from root (a sibling of its home outside /home is not: root reads it, which is why
# DAEMON_USER is the advice). The operator's ORAIVISOR_DAEMON_PROPERTIES reach the unit.
t_oraivisor_node_sandbox_root() {
        local i=s21 h=/var/lib/s21 u=oraivisor-daemon@s21.service e
        other_homes
        make_home $h fakechaind
        sbx mkdir -p /srv/extra-$i
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "DAEMON_ARGS=start --home $h" FAKECHAIN_BLOCK_INTERVAL=100 \
                FAKECHAIN_WX=1 "ORAIVISOR_DAEMON_PROPERTIES=CPUWeight=200 IOWeight=50 ReadWritePaths=/srv/extra-$i TasksMax=512" \
                "FAKECHAIN_PROBE=write:/usr/local/probe-$i write:/srv/extra-$i/probe read:$OTHER_KEY read:$HOME_KEY"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs as root" wait_for 10 dj_has $i "fakechaind v1 starting (version=v1 pid="
        expect "ProtectSystem=strict" prop_is $u ProtectSystem strict
        expect "root keeps its capabilities" bash -c '[ -n "$1" ]' _ "$(prop $u CapabilityBoundingSet)"
        expect "ORAIVISOR_DAEMON_PROPERTIES: CPUWeight=200" prop_is $u CPUWeight 200
        expect "... IOWeight=50" prop_is $u IOWeight 50
        expect "... TasksMax=512" prop_is $u TasksMax 512
        expect "... ReadWritePaths= the home, then the operator's" prop_is $u ReadWritePaths "$h /srv/extra-$i"
        expect "W+X memory" wait_for 10 dj_has $i "mapped W+X memory: ok"
        expect "root cannot write /usr/local (EROFS)" wait_for 10 probe_is $i write /usr/local/probe-$i EROFS
        expect "the operator's ReadWritePaths= is writable" probe_is $i write /srv/extra-$i/probe ok
        expect "a user's home is hidden even from root ($(probe_result $i read $HOME_KEY))" probe_denied $i read $HOME_KEY
        e=$(exposure $u)
        echo "    exposure of the node's unit as root: $e"
        expect "systemd-analyze security as root: exposure $e, at most 4.0" at_most "$e" 4.0
        sbx systemctl stop oraivisor@$i
}

# ORAIVISOR_DAEMON_SANDBOX=off: the unit as it was before the sandbox.
t_oraivisor_node_sandbox_off() {
        local i=s22 h=/var/lib/s22 u=oraivisor-daemon@s22.service
        other_homes
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "DAEMON_ARGS=start --home $h" FAKECHAIN_BLOCK_INTERVAL=100 \
                ORAIVISOR_DAEMON_SANDBOX=off "FAKECHAIN_PROBE=write:/usr/local/probe-$i read:$OTHER_KEY"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting (version=v1 pid="
        expect "ProtectSystem=no" prop_is $u ProtectSystem no
        expect "NoNewPrivileges=no, PrivateTmp=no, ProtectHome=no" bash -c '[ "$*" = "no no no" ]' _ \
                "$(prop $u NoNewPrivileges)" "$(prop $u PrivateTmp)" "$(prop $u ProtectHome)"
        expect "no ReadWritePaths= ($(prop $u ReadWritePaths)), no capability taken ($(prop $u CapabilityBoundingSet | wc -w) left)" \
                bash -c '[ -z "$1" ] && [ "$2" -gt 30 ]' _ "$(prop $u ReadWritePaths)" "$(prop $u CapabilityBoundingSet | wc -w)"
        # systemctl shows an empty deny-list ("~") or nothing for "not restricted".
        expect "no RestrictAddressFamilies= ($(prop $u RestrictAddressFamilies)), no SystemCallFilter= ($(prop $u SystemCallFilter | cut -c1-20))" \
                bash -c '[[ "$1" = "~" || -z "$1" ]] && [[ "$2" = "~" || -z "$2" ]]' _ "$(prop $u RestrictAddressFamilies)" "$(prop $u SystemCallFilter)"
        expect "the root node writes /usr/local again" wait_for 10 probe_is $i write /usr/local/probe-$i ok
        expect "... and reads another node's home" probe_is $i read $OTHER_KEY ok
        sbx systemctl stop oraivisor@$i
}

# A home under /home: ProtectHome=tmpfs with the home bound in, other users' homes still hidden.
t_oraivisor_node_sandbox_home_dir() {
        local i=s24 h=/home/chainuser/s24 u=oraivisor-daemon@s24.service
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        other_homes
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_BLOCK_INTERVAL=100 "FAKECHAIN_PROBE=write:$h/data/probe read:$HOME_KEY"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "genesis runs from /home" wait_for 10 dj_has $i "fakechaind v1 starting (version=v1 pid="
        expect "ProtectHome=tmpfs" prop_is $u ProtectHome tmpfs
        expect "BindPaths= the home" bash -c '[[ "$1" == "$2:$2:rbind"* ]]' _ "$(prop $u BindPaths)" $h
        expect "it writes its home" wait_for 10 probe_is $i write $h/data/probe ok
        expect "... commits blocks there" wait_for 10 dj_has $i "height=3 "
        expect "another user's home is hidden ($(probe_result $i read $HOME_KEY))" probe_denied $i read $HOME_KEY
        sbx systemctl stop oraivisor@$i
}

# A malformed or unknown ORAIVISOR_DAEMON_PROPERTIES: refused at start (78), the node never started.
t_oraivisor_node_properties_bad() {
        local i=s23 h=/var/lib/s23
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "ORAIVISOR_DAEMON_PROPERTIES=CPUWeight=200 IOWeight=lots"
        start_refused $i "ORAIVISOR_DAEMON_PROPERTIES: 'IOWeight=lots' is not valid: expected a weight from 1 to 10000 (100 is the default)."
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "ORAIVISOR_DAEMON_PROPERTIES=User=root"
        start_refused $i "ORAIVISOR_DAEMON_PROPERTIES: unknown or unsupported property 'User': expected one of CPUWeight, StartupCPUWeight, CPUQuota, IOWeight, StartupIOWeight, MemoryMin, MemoryLow, MemoryHigh, MemoryMax, MemorySwapMax, TasksMax, Nice, OOMScoreAdjust, ReadWritePaths, ReadOnlyPaths, InaccessiblePaths, BindPaths, BindReadOnlyPaths, NoNewPrivileges, ProtectSystem, ProtectHome, PrivateTmp, PrivateDevices, PrivateMounts, ProtectKernelTunables, ProtectKernelModules, ProtectKernelLogs, ProtectControlGroups, ProtectClock, ProtectHostname, ProtectProc, ProcSubset, RestrictSUIDSGID, RestrictNamespaces, LockPersonality, RestrictRealtime, RestrictAddressFamilies, SystemCallArchitectures, SystemCallFilter, SystemCallErrorNumber, CapabilityBoundingSet, AmbientCapabilities."
}

# A folder of ORAIVISOR_DAEMON_PROPERTIES that does not exist: the node's start fails (226/NAMESPACE), and
# oraivisor says which setting to fix; written '-/path', a missing folder is ignored.
t_oraivisor_node_properties_missing_path() {
        local i=s25 h=/var/lib/s25 u=oraivisor@s25.service
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "ORAIVISOR_DAEMON_PROPERTIES=ReadWritePaths=/srv/missing-$i"
        sbx timeout 30 systemctl start $u 2>/dev/null
        expect "oraivisor fails, not restarted" wait_for 15 settled_failed $u
        expect "it names the status and the fix" wait_for 10 ov_journal_has $i \
                "systemd could not set up the sandbox of the daemon unit 'oraivisor-daemon@$i.service' (status 226/NAMESPACE): a folder it makes writable or binds (DAEMON_HOME, or a path of ORAIVISOR_DAEMON_PROPERTIES) does not exist or lies in a hidden one such as /home: create it, write it as '-/path' to ignore a missing one, or set ORAIVISOR_DAEMON_SANDBOX=off"
        expect "the node never ran" test -z "$(dj $i)"
        sbx systemctl reset-failed $u oraivisor-daemon@$i.service 2>/dev/null
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind "ORAIVISOR_DAEMON_PROPERTIES=ReadWritePaths=-/srv/missing-$i"
        expect "with '-/path': systemctl start succeeds" sbx timeout 30 systemctl start $u
        expect "... the node runs" wait_for 10 dj_has $i "fakechaind v1 starting (version=v1 pid="
        sbx systemctl stop $u
}

# ---- one journal for a fleet (docs/fleet.md) -------------------------------------------------------------

# fleet_block SECTION: the first sh block of docs/fleet.md's "## SECTION", as an operator would paste it on
# this container, which plays every part: the central host is "localhost" (journal.example.net in the
# document), the validator is the container's own host name (validator-1.example.net). The apt-get line
# goes: the container has no network, and the package comes from the machine (tools/install-deps.sh test).
fleet_block() {
        awk -v h="## $1" '$0 == h { s = 1; next } s && /^## / { exit } s && /^```sh$/ { b = 1; next }
                          b && /^```$/ { exit } b { print }' "$SRC/docs/fleet.md" |
                sed -e '/^apt-get install/d' -e 's/journal\.example\.net/localhost/g' \
                    -e "s/validator-1\.example\.net/$2/g"
}
# fleet_run NAME SCRIPT: runs SCRIPT in the container with its output (openssl's chatter) in $OUT/fleet-NAME.log,
# shown when it fails.
fleet_run() {
        sbx bash -ec "$2" >"$OUT/fleet-$1.log" 2>&1 && return 0
        sed 's/^/      /' "$OUT/fleet-$1.log" | tail -n 20 >&2
        return 1
}
FLEET_FINISHED=79952004deb14f5b91e6f3f4c5252a11
FLEET_STARTED=a4bd8e18025146e5918dab27c0b3e302
# remote_has INSTANCE MESSAGE_ID: the central journal holds that message of oraivisor@INSTANCE.
remote_has() {
        sbx journalctl -q -o cat --directory=/var/log/journal/remote "MESSAGE_ID=$2" "_SYSTEMD_UNIT=oraivisor@$1.service" |
                grep . >/dev/null
}
# remote_fields INSTANCE MESSAGE_ID: host, instance, name and height of that message in the central journal,
# tab-separated, as docs/fleet.md's query with -o json --output-fields gives them.
remote_fields() {
        sbx journalctl -q -o json --output-fields=_HOSTNAME,ORAIVISOR_INSTANCE,ORAIVISOR_UPGRADE_NAME,ORAIVISOR_UPGRADE_HEIGHT \
                --directory=/var/log/journal/remote "MESSAGE_ID=$2" "_SYSTEMD_UNIT=oraivisor@$1.service" |
                python3 -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print("\t".join(str(e.get(k, "-")) for k in ("_HOSTNAME", "ORAIVISOR_INSTANCE", "ORAIVISOR_UPGRADE_NAME", "ORAIVISOR_UPGRADE_HEIGHT")))'
}
# upload_retries_past_limit: the uploader, without a central host to talk to, has been restarted more often
# than the shipped unit's start limit allows (5 in 10 s) and is still scheduled for another try.
upload_retries_past_limit() {
        local u=systemd-journal-upload.service
        [ "$(prop $u NRestarts)" -ge 6 ] && [ "$(prop $u ActiveState)" != failed ]
}

# The recipe of docs/fleet.md run for real: certificates, then a validator whose uploader starts while the
# central host is still down (its retry drop-in must keep it trying), then the central host over HTTPS on
# loopback; an upgrade of oraivisor@fleet1 must reach the central journal, where the documented queries find
# it with the host, the instance, the upgrade's name and its height.
t_oraivisor_fleet_journal() {
        local i=fleet1 h=/var/lib/fleet1 host ca=/root/fleet-ca b
        local d=/etc/systemd/system/systemd-journal-upload.service.d
        if ! sbx test -x /lib/systemd/systemd-journal-remote || ! sbx test -x /lib/systemd/systemd-journal-upload; then
                fail "systemd-journal-remote is not installed: tools/install-deps.sh test installs it"
                return
        fi
        host=$(sbx hostname)
        expect "the certificates of docs/fleet.md" fleet_run certs "$(fleet_block Certificates "$host")"
        # Only to keep the test short: retries every second instead of the documented 30 s (sorted after
        # the document's fleet.conf, so it wins; the start limit stays the document's).
        sbx mkdir -p $d
        printf '[Service]\nRestartSec=1s\n' | sbx tee $d/zz-test-retry.conf >/dev/null
        b=$(fleet_block "Each validator host" "$host")
        expect "the validator's block of docs/fleet.md" fleet_run validator "cd $ca; $b"
        expect "with the central host down, the uploader keeps trying past the shipped start limit" \
                wait_for 60 upload_retries_past_limit
        b=$(fleet_block "The central host" "$host")
        expect "the central host's block of docs/fleet.md" fleet_run central "cd $ca; $b"
        expect "journal-remote listens for HTTPS" \
                bash -c '[[ "$1" == *--listen-https=-3* ]]' _ "$(prop systemd-journal-remote.service ExecStart)"

        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser UNSAFE_SKIP_BACKUP=true \
                DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@30 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=log
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "v2 starts after the announcement" wait_for 30 dj_has $i "fakechaind v2 starting"
        expect "the upload reconnected and runs" wait_for 60 prop_is systemd-journal-upload.service ActiveState active
        if ! wait_for 120 remote_has $i $FLEET_FINISHED; then
                fail "the upgrade-finished message did not reach the central journal within 120 s"
                fleet_cleanup $i
                return
        fi
        ok "the upgrade-finished message reaches the central journal"
        expect "... and the upgrade-started message" wait_for 30 remote_has $i $FLEET_STARTED
        local want
        want=$(printf '%s\t%s\t%s\t%s' "$host" $i v2 30)
        expect "finished: host, instance, name and height as fields ($(remote_fields $i $FLEET_FINISHED | tr '\t' ' '))" \
                test "$(remote_fields $i $FLEET_FINISHED)" = "$want"
        expect "started: the same fields ($(remote_fields $i $FLEET_STARTED | tr '\t' ' '))" \
                test "$(remote_fields $i $FLEET_STARTED)" = "$want"

        # docs/fleet.md's queries, as written: the table of every upgrade, and one instance of one host.
        local q table one
        q=$(fleet_block Queries "$host")
        table=$(awk '/^# \.\.\. as a table/ { s = 1; next } s && /^# / { exit } s' <<<"$q")
        [ -n "$table" ] || fail "docs/fleet.md's queries have no '# ... as a table' command"
        sbx bash -ec "$(grep -E '^(D|F)=' <<<"$q"); $table" >"$OUT/fleet-table.txt" 2>&1
        sed 's/^/      /' "$OUT/fleet-table.txt"
        expect "the documented table lists the upgrade with host, instance, name and height" \
                grep -qP "^\S+\t\Q$host\E\t$i\tv2\t30\tUpgrade 'v2' installed" "$OUT/fleet-table.txt"
        expect "... and its start" grep -qP "^\S+\t\Q$host\E\t$i\tv2\t30\tStarting upgrade 'v2'" "$OUT/fleet-table.txt"
        one=$(sbx journalctl -q -o cat --directory=/var/log/journal/remote "_HOSTNAME=$host" "ORAIVISOR_INSTANCE=$i" \
                "MESSAGE_ID=$FLEET_FINISHED")
        expect "one host and instance: _HOSTNAME= ORAIVISOR_INSTANCE= finds exactly that upgrade" \
                test "$(grep -c "Upgrade 'v2' installed" <<<"$one")" = 1

        fleet_cleanup $i
}
# fleet_cleanup INSTANCE: the node stopped, and no upload or central journal left running for the scenarios
# that follow.
fleet_cleanup() {
        sbx systemctl stop oraivisor@$1
        sbx systemctl disable -q --now systemd-journal-upload.service systemd-journal-remote.socket
        sbx systemctl stop systemd-journal-remote.service
        sbx rm -f /etc/systemd/system/systemd-journal-upload.service.d/zz-test-retry.conf
}

# ---- the torture test of the upgrade engine with the unit launcher --------------------------------------

# tests/torture/torture.py --launcher unit inside the container: the daemon runs as a transient unit, and
# oraivisor (killed with SIGKILL at random instants of slow upgrades) must adopt it when restarted.
# TORTURE_UNIT_RUNS (default 10; 200 for the full count of issue 5: about 4 s a run, so run it alone, or give
# meson test --timeout-multiplier 2 for the whole suite), TORTURE_SEED.
t_torture_unit() {
        local n=${TORTURE_UNIT_RUNS:-10} seed=${TORTURE_SEED:-$(date +%s)} o="$OUT/torture-unit.out"
        sbx env ORAIVISOR_SOURCE_ROOT="$SRC" ORAIVISOR_BUILD_ROOT="$BUILD" PYTHONUNBUFFERED=1 \
                timeout $((n * 60 + 300)) python3 "$SRC/tests/torture/torture.py" --launcher unit --runs "$n" \
                --seed "$seed" --oraivisor /usr/local/bin/oraivisor 2>&1 |
                tee "$o" | sed -u -n 's/^\(torture\|run [0-9]*: FAILED\|run [0-9]*: kept by systemd\|  [0-9]*\/\)/    &/p'
        local rc=${PIPESTATUS[0]}
        expect "torture.py --launcher unit: $n runs, exit status $rc" test "$rc" -eq 0
        expect "... its summary reports no failure" grep -q "^torture summary: .* failures=0$" "$o"
        expect "no daemon unit left behind" test -z "$(sbx systemctl list-units --all --plain --no-legend 'oraivisor-daemon@*')"
}

# ---- metrics through Debian's prometheus-node-exporter (docs/metrics.md) ---------------------------------

scrape() { # scrape: node-exporter's /metrics on the container's loopback, as Prometheus reads it
        sbx python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10).read().decode())' 2>/dev/null
}
scrape_has() { scrape | grep -qxF -- "$1"; }
# (Each check below waits for its line, up to 30 s: one scrape can fail on a loaded machine, node-exporter
# answering late.)
# scrape_grep GREP-ARGS...: grep over one scrape, kept in a variable: the scrape (a textfile per instance of
# the suite) outgrows what one argument of a command may hold (128 KiB).
scrape_grep() { local s; s=$(scrape); grep "$@" <<<"$s"; }
# scrape_mtime_names INSTANCE: the stale-file alert's pattern matches the file label node-exporter gives ours.
scrape_mtime_names() {
        local s; s=$(scrape)
        grep -E "^node_textfile_mtime_seconds\{file=\"(.*/)?oraivisor-[^/]*[.]prom\"\}" <<<"$s" | grep -qF "oraivisor-$1.prom"
}

# oraivisor@ with the default ORAIVISOR_METRICS_DIR (node-exporter's folder, which exists once the package
# is installed) upgrades its node; node-exporter, as the package runs it, exports what oraivisor wrote.
t_oraivisor_metrics_node_exporter() {
        local i=metrics1 h=/var/lib/metrics1 f=/var/lib/prometheus/node-exporter/oraivisor-metrics1.prom
        sbx test -x /usr/bin/prometheus-node-exporter ||
                { fail "prometheus-node-exporter is not installed: run tools/install-deps.sh test"; return; }
        expect "node-exporter runs (the package's unit)" sbx systemctl start prometheus-node-exporter.service
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@20 FAKECHAIN_BLOCK_INTERVAL=100
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "v2 runs after the upgrade" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "node-exporter exports one successful upgrade" \
                wait_for 30 scrape_has "oraivisor_upgrades_total{name=\"$i\",result=\"success\"} 1"
        expect "... no failed one" wait_for 30 scrape_has "oraivisor_upgrades_total{name=\"$i\",result=\"failure\"} 0"
        expect "... the node up" wait_for 30 scrape_has "oraivisor_daemon_up{name=\"$i\"} 1"
        expect "... running v2" wait_for 30 scrape_has \
                "oraivisor_info{current=\"v2\",daemon=\"fakechaind\",home=\"$h\",name=\"$i\",version=\"$(sed -n "s/^ *version : '\(.*\)',\$/\1/p" "$SRC/meson.build" | head -n1)\"} 1"
        expect "... started twice (genesis, v2)" wait_for 30 scrape_has "oraivisor_daemon_starts_total{name=\"$i\"} 2"
        expect "... no upgrade in progress" wait_for 30 scrape_has "oraivisor_upgrade_in_progress{name=\"$i\",step=\"switch\"} 0"
        expect "... the last upgrade's time" wait_for 30 scrape_grep -q "^oraivisor_last_upgrade_timestamp_seconds{name=\"$i\"} [0-9.e+]*$"
        expect "... the last backup's size" wait_for 30 scrape_grep -q "^oraivisor_last_backup_bytes{name=\"$i\"} [0-9.e+]*$"
        expect "node-exporter read every text file without error" wait_for 30 scrape_has "node_textfile_scrape_error 0"
        expect "the stale-file alert's pattern matches the file label node-exporter gives ours" wait_for 30 scrape_mtime_names $i
        expect "the file passes promtool's lint" bash -c 'set -o pipefail; nsenter -t $1 -a cat $2 | promtool check metrics' _ "$SBX_PID1" "$f"
        sbx cat "$f" >"$OUT/metrics1.prom" && echo "    (the file after the upgrade: $OUT/metrics1.prom)"
        expect "no temporary file is left beside it" test -z "$(sbx find /var/lib/prometheus/node-exporter -name '.#*')"
        sbx systemctl stop oraivisor@$i
        expect "stopped: node-exporter exports the node down" wait_for 30 scrape_has "oraivisor_daemon_up{name=\"$i\"} 0"
        expect "... and keeps the counters" wait_for 30 scrape_has "oraivisor_upgrades_total{name=\"$i\",result=\"success\"} 1"
}

# ---- main -----------------------------------------------------------------------------------------------

# The backup of a data/ that is a btrfs subvolume, by oraivisor@.service with its SystemCallFilter and
# capability set (no CAP_SYS_ADMIN): a read-only snapshot, and an older snapshot of the node pruned by
# ORAIVISOR_BACKUP_KEEP=1 (made writable and emptied: the unit cannot delete subvolumes outright); then
# `oraivisorctl backups restore` of the snapshot makes data/ a writable snapshot of it.
t_oraivisor_backup_snapshot() {
        local i=s30 m=/srv/sbx-btrfs node old b h
        [ -n "$BTRFS_MNT" ] || { fail "no btrfs file system for the scenario (mkfs.btrfs, loop mount)"; return; }
        # The build folder may lie anywhere, /tmp and /var/tmp included, which oraivisor@'s PrivateTmp= hides:
        # the homes live on the same btrfs seen at a fixed place of the container.
        sbx mkdir -p "$m"
        sbx mountpoint -q "$m" || sbx mount --bind "$BTRFS_MNT" "$m" || { fail "cannot bind $BTRFS_MNT to $m"; return; }
        h="$m/s30"
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        sbx mkdir -p "$h"
        expect "data/ made a subvolume" sbx btrfs -q subvolume create "$h/data"
        make_home "$h" fakechaind chainuser
        sbx sh -c "echo 'state' >$h/data/priv_validator_state.json; chown chainuser: $h/data/priv_validator_state.json"
        # An older backup of this node: DAEMON_NAME, '@' and the FNV-1a hash of DAEMON_HOME.
        node="fakechaind@$(python3 -c 'import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print("%08x" % h)' "$h")"
        old="data-backup-$node-v1-20200101T000000Z"
        expect "an older snapshot backup" sbx btrfs -q subvolume snapshot -r "$h/data" "$h/$old"
        sbx mkdir -p "/run/systemd/system/oraivisor@$i.service.d"
        printf '[Service]\nReadWritePaths=%s\n' "$m" |
                sbx tee "/run/systemd/system/oraivisor@$i.service.d/btrfs.conf" >/dev/null
        sbx systemctl daemon-reload
        oraivisor_conf $i DAEMON_HOME="$h" DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_RESTART_AFTER_UPGRADE=true \
                ORAIVISOR_BACKUP_KEEP=1 DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start --home $h" \
                FAKECHAIN_PLANS=v2@30 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_ANNOUNCE=log
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start oraivisor@$i
        expect "v2 starts after the backup" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "the backup is a read-only btrfs snapshot" ov_journal_has $i "as a read-only btrfs snapshot."
        b=$(sbx sh -c "cd $h && ls -d data-backup-$node-v2-*" 2>/dev/null)
        expect "one new backup of v2" test -n "$b"
        expect "... a subvolume" test "$(sbx stat -c %i "$h/$b")" = 256
        expect "... read-only" test "$(sbx btrfs property get -ts "$h/$b" ro)" = ro=true
        expect "... with the data" test "$(sbx cat "$h/$b/priv_validator_state.json")" = state
        expect "the older snapshot is pruned (ORAIVISOR_BACKUP_KEEP=1)" wait_for 10 ov_journal_has $i "Removed the old backup '$h/$old'"
        expect "... and gone" not sbx test -e "$h/$old"
        sbx systemctl stop oraivisor@$i
        # Restoring the snapshot: data/ becomes a writable snapshot of it, the replaced subvolume is kept.
        sbx sh -c "echo after >$h/data/marker"
        sbx oraivisorctl -i $i backups restore "$b" >"$OUT/$i.restore" 2>&1
        expect "backups restore of the snapshot succeeds" contains "$OUT/$i.restore" "as a writable btrfs snapshot."
        expect "... data/ is a subvolume" test "$(sbx stat -c %i "$h/data")" = 256
        expect "... writable" test "$(sbx btrfs property get -ts "$h/data" ro)" = ro=false
        expect "... with the backup's data" not sbx test -e "$h/data/marker"
        expect "... the replaced data is kept" bash -c 'nsenter -t "$1" -a sh -c "test -e $2/data.replaced-*/marker"' _ "$SBX_PID1" "$h"
}

# The recovery path after a failed upgrade: the new binary's pre-upgrade aborts (status 30) after the backup,
# having written into data/; the operator stops the unit, restores the backup with `oraivisorctl -i NAME
# backups restore NAME --switch-to genesis`, decides to skip the upgrade (--unsafe-skip-upgrades) and starts
# again: genesis runs on the restored data, owned by DAEMON_USER as before. While it runs, a restore is
# refused with the unit to stop.
t_oraivisor_backup_restore() {
        local i=rb1 h=/var/lib/rb1 u=oraivisor@rb1.service b out="$OUT/rb1.restore" rc
        sbx id chainuser >/dev/null 2>&1 || sbx useradd --uid 1500 --create-home chainuser
        make_home $h fakechaind chainuser
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_SHUTDOWN_GRACE=5s \
                "DAEMON_ARGS=start --home $h"
        fakechain_dropin $i FAKECHAIN_PLANS=v2@30 FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_PREUPGRADE_EXITS=30
        sbx systemctl start $u
        expect "genesis runs" wait_for 10 dj_has $i "fakechaind v1 starting"
        expect "the upgrade fails: the unit fails, no restart" wait_for 60 settled_failed $u
        expect "... with status 81" test "$(prop $u ExecMainStatus)" = 81
        expect "... because the pre-upgrade aborted" ov_journal_has $i "asked to abort the upgrade (exit status 30)"
        expect "... after writing into data/" sbx test -e $h/data/pre-upgrade.count
        b=$(sbx sh -c "cd $h && ls -d data-backup-fakechaind@*-v2-*" 2>/dev/null)
        expect "one backup of v2" test -n "$b"
        sbx oraivisorctl -i $i backups --json >"$OUT/rb1.json" 2>&1
        expect "oraivisorctl -i $i backups lists it, complete" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
b = [x for x in d["backups"] if x["name"] == sys.argv[2]]
assert d["backup_dir"] == sys.argv[3] and len(d["backups"]) == 1 and b[0]["complete"] and b[0]["upgrade"] == "v2", d' \
                "$OUT/rb1.json" "$b" "$h"
        sbx systemctl stop $u
        sbx systemctl reset-failed $u 2>/dev/null
        sbx oraivisorctl -i $i backups restore "$b" --switch-to genesis >"$out" 2>&1
        rc=$?
        expect "backups restore succeeds" test "$rc" = 0
        expect "... data/ is the backup's: the pre-upgrade's files are gone" not sbx test -e $h/data/pre-upgrade.count
        expect "... the height is the halt's" test "$(sbx cat $h/data/height)" = 29
        expect "... owned by DAEMON_USER as before" test "$(sbx stat -c %U $h/data $h/data/height | sort -u)" = chainuser
        expect "... the replaced data is kept" bash -c 'nsenter -t "$1" -a sh -c "test -e $2/data.replaced-*/pre-upgrade.count"' _ "$SBX_PID1" "$h"
        expect "... current -> genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "... it says how to undo it" contains "$out" "To undo, with oraivisor stopped:"
        expect "... and how to start again" contains "$out" "systemctl start oraivisor@$i"
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_USER=chainuser DAEMON_SHUTDOWN_GRACE=5s \
                "DAEMON_ARGS=start --home $h --unsafe-skip-upgrades 30"
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start $u
        expect "oraivisor does not upgrade (skipped)" wait_for 20 ov_journal_has $i "Not upgrading to 'v2'"
        expect "genesis runs on the restored data, past the skipped height" wait_for 20 dj_has $i "height=31 "
        expect "... it started from the backup's height" dj_has $i "UPGRADE \"v2\" SKIPPED at height: 30"
        expect "v2 never ran" bash -c '! grep -q "fakechaind v2 starting" <<<"$1"' _ "$(dj $i)"
        sbx oraivisorctl -i $i backups restore "$b" >"$out.busy" 2>&1
        rc=$?
        expect "a restore while it runs is refused (75)" test "$rc" = 75
        expect "... naming the unit to stop" contains "$out.busy" "stop it first with 'systemctl stop oraivisor@$i'"
        sbx systemctl stop $u
}

# oraivisorctl -i NAME status while oraivisor@NAME runs: the daemon's unit as PID 1 sees it (running, its main
# PID), oraivisor's own unit, the current version, before and after an upgrade and once stopped.
# ctl_json FILE PYTHON-EXPRESSION: evaluates the expression over the JSON document d in FILE (host side).
ctl_json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
ctl_status_json() { # ctl_status_json INSTANCE OUTFILE: runs the installed oraivisorctl, keeps its status
        sbx oraivisorctl -i "$1" status --json >"$2" 2>"$2.err"
        echo $? >"$2.rc"
}
ctl_shows() { # ctl_shows INSTANCE OUTFILE EXPRESSION VALUE: a fresh status whose EXPRESSION is VALUE
        ctl_status_json "$1" "$2" && [ "$(ctl_json "$2" "$3" 2>/dev/null)" = "$4" ]
}

t_oraivisorctl_status_unit() {
        local i=ctlst1 h=/var/lib/ctlst1 o="$OUT/ctlst1.json" d=oraivisor-daemon@ctlst1.service
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind DAEMON_RESTART_AFTER_UPGRADE=true UNSAFE_SKIP_BACKUP=true \
                DAEMON_SHUTDOWN_GRACE=5s "DAEMON_ARGS=start" FAKECHAIN_PLANS=v2@40 FAKECHAIN_BLOCK_INTERVAL=100
        expect "oraivisorctl is installed beside oraivisor" sbx sh -c 'test -x "$(dirname "$(command -v oraivisor)")/oraivisorctl"' 
        ctl_status_json $i "$o"
        expect "before the start: status 3 (needs attention)" test "$(cat "$o.rc")" = 3
        expect "... the daemon is not running" test "$(ctl_json "$o" 'd["daemon"]["running"]')" = False
        expect "... the launcher is the unit's" test "$(ctl_json "$o" 'd["launcher"]')" = unit
        expect "... the daemon unit as oraivisor derives it" test "$(ctl_json "$o" 'd["daemon"]["unit"]')" = $d
        expect "... not loaded" test "$(ctl_json "$o" 'd["daemon"]["unit_state"]')" = "not loaded"

        sbx systemctl start oraivisor@$i
        expect "genesis runs" wait_for 15 dj_has $i "fakechaind v1 starting"
        expect "status 0 while the node runs" wait_for 15 ctl_shows $i "$o" 'd["daemon"]["running"]' True
        expect "... exit status 0" test "$(cat "$o.rc")" = 0
        local pid1; pid1=$(prop $d MainPID)
        expect "daemon.pid is the daemon unit's MainPID ($pid1)" test "$(ctl_json "$o" 'd["daemon"]["pid"]')" = "$pid1"
        local since; since=$(sbx date -u -d "$(prop $d ActiveEnterTimestamp)" +%Y-%m-%dT%H:%M:%SZ)
        expect "daemon.since is the daemon unit's ActiveEnterTimestamp ($since)" test "$(ctl_json "$o" 'd["daemon"]["since"]')" = "$since"
        expect "oraivisor.pid is oraivisor@'s MainPID" \
                test "$(ctl_json "$o" 'd["oraivisor"]["pid"]')" = "$(prop oraivisor@$i.service MainPID)"
        expect "current is genesis" test "$(ctl_json "$o" 'd["current"]')" = genesis
        expect "no warnings" test "$(ctl_json "$o" 'd["warnings"]')" = "[]"
        expect "the human form shows the pid" bash -c 'nsenter -t $1 -a oraivisorctl -i $2 status | grep -qF "Daemon: running (pid $3)"' \
                _ "$SBX_PID1" $i "$pid1"

        expect "after the upgrade: current is v2" wait_for 40 ctl_shows $i "$o" 'd["current"]' v2
        expect "... the new daemon runs" wait_for 15 ctl_shows $i "$o" 'd["daemon"]["running"] and d["daemon"]["pid"] != '"$pid1" True
        expect "... its pid is the daemon unit's new MainPID" test "$(ctl_json "$o" 'd["daemon"]["pid"]')" = "$(prop $d MainPID)"
        expect "... the last upgrade is v2 at 40" test "$(ctl_json "$o" 'd["last_upgrade"]["name"], d["last_upgrade"]["height"]')" = "('v2', 40)"
        sbx oraivisorctl -i $i list --json >"$o.list" 2>&1
        expect "list -i: current v2, each version's \`version\` as the unit's environment runs it" \
                test "$(ctl_json "$o.list" '[(v["name"], v["current"], v["version"]["output"]) for v in d["versions"]]')" = \
                "[('genesis', False, 'v1'), ('v2', True, 'v2'), ('v3', False, 'v3')]"
        expect "version -i: the current binary's" bash -c 'nsenter -t $1 -a oraivisorctl -i $2 version | grep -qx "v2 (upgrades/v2): v2"' \
                _ "$SBX_PID1" $i

        sbx systemctl stop oraivisor@$i
        ctl_status_json $i "$o"
        expect "once stopped: status 3" test "$(cat "$o.rc")" = 3
        expect "... nothing runs" test "$(ctl_json "$o" 'd["daemon"]["running"], d["oraivisor"]["running"]')" = "(False, False)"
}

# An upgrade at a height without governance (issue 13): `oraivisorctl -i NAME add-upgrade s2 PATH --height 25`,
# then oraivisor@ starts the node with --halt-height 25; the node commits block 25 and stops, oraivisor
# switches to s2 and starts it without the flag, the schedule entry gone; all without a restart of the unit.
t_oraivisor_height_halt() {
        local i=hhalt h=/var/lib/hhalt u=oraivisor@hhalt.service o="$OUT/hhalt.ctl" rc=0
        make_home $h fakechaind
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true ORAIVISOR_NODE_RPC=off \
                "DAEMON_ARGS=start --home $h"
        fakechain_dropin $i FAKECHAIN_PLANS= FAKECHAIN_BLOCK_INTERVAL=100
        sbx oraivisorctl -i $i add-upgrade s2 "$FK/fakechaind-v2" --height 25 >"$o" 2>"$o.err" || rc=$?
        expect "oraivisorctl -i $i add-upgrade s2 PATH --height 25: status 0" test $rc -eq 0
        [ $rc -eq 0 ] || sed 's/^/      /' "$o.err"
        expect "... scheduled in oraivisor/scheduled-upgrades.json" sbx grep -q '"height":25' $h/oraivisor/scheduled-upgrades.json
        expect "... not in data/upgrade-info.json" not sbx test -e $h/data/upgrade-info.json
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start $u
        expect "genesis runs with --halt-height 25" wait_for 10 dj_has $i "fakechaind v1 args: start --home $h --halt-height 25"
        expect "s2 (fakechaind v2) runs after the halt" wait_for 60 dj_has $i "fakechaind v2 starting"
        expect "current -> upgrades/s2" test "$(sbx readlink $h/oraivisor/current)" = upgrades/s2
        # As the SDK's BaseApp does it: the halt line in the app's Commit of block 25, then CometBFT's line.
        expect "v1 said it halts at 25 in the commit of block 25" bash -c \
                'grep -A1 -F "halting node per configuration height=25 " <<<"$1" | grep -qF "committed state height=25 "' _ "$(dj $i)"
        expect "... and committed no block 26" test "$(dj $i | grep -cF "committed state height=26 " || true)" -le 1
        expect "v2 starts from height 25" bash -c 'grep -q "fakechaind v2 starting (.*height=25 " <<<"$1"' _ "$(dj $i)"
        expect "v2 runs without --halt-height" bash -c 'grep -F "fakechaind v2 args:" <<<"$1" | grep -qvF -- "--halt-height"' _ "$(dj $i)"
        expect "v2 goes on past the height" wait_for 10 dj_has $i "committed state height=27 "
        expect "the schedule entry is gone" not sbx test -e $h/oraivisor/scheduled-upgrades.json
        expect "oraivisor logged the halt and the upgrade" ov_journal_has $i "at its --halt-height 25: upgrade 's2' scheduled there (no governance) is due."
        expect "STATUS: s2 running" wait_for 5 status_has $i "fakechaind (upgrade s2) running"
        expect "oraivisor is still active, not restarted by systemd" prop_is $u NRestarts 0
        { sbx journalctl -q -o short-precise --no-pager -u $u; dj $i; } >"$OUT/hhalt.transcript" 2>&1
        sbx systemctl stop $u
}

# The node's height without the RPC (issue 13), under the unit: SDK v0.50.10+ refuses the block of its
# --halt-height and stays alive; oraivisor stops the node's unit itself. First the node at 30 with s2 at 25
# (nothing on disk says 30): not upgraded, started again without the flag; then s3 at 40 is reached exactly.
t_oraivisor_height_passed() {
        local i=hpass h=/var/lib/hpass u=oraivisor@hpass.service o="$OUT/hpass.ctl" rc=0
        make_home $h fakechaind
        echo 30 | sbx tee $h/data/height >/dev/null
        oraivisor_conf $i DAEMON_HOME=$h DAEMON_NAME=fakechaind UNSAFE_SKIP_BACKUP=true ORAIVISOR_NODE_RPC=off \
                DAEMON_RESTART_AFTER_UPGRADE=true "DAEMON_ARGS=start --home $h"
        fakechain_dropin $i FAKECHAIN_PLANS= FAKECHAIN_BLOCK_INTERVAL=100 FAKECHAIN_SDK=v0.50.10
        sbx oraivisorctl -i $i add-upgrade s2 "$FK/fakechaind-v2" --height 25 >"$o" 2>"$o.err" || rc=$?
        expect "add-upgrade s2 --height 25 (nothing known of the node's height): status 0" test $rc -eq 0
        expect "systemctl start returns once READY=1" sbx timeout 30 systemctl start $u
        expect "genesis runs with --halt-height 25" wait_for 10 dj_has $i "fakechaind v1 args: start --home $h --halt-height 25"
        expect "... which refuses block 31" wait_for 10 dj_has $i "halt per configuration height 25 time 0"
        expect "oraivisor: not carried out, the node was above 25" wait_for 10 ov_journal_has $i \
                "Upgrade 's2' scheduled at height 25 is not carried out: fakechaind was already at height 30, above it"
        expect "... the node runs on without the flag" wait_for 15 dj_has $i "committed state height=32 "
        expect "... its second start has no --halt-height" bash -c \
                'test "$(grep -cF "fakechaind v1 args: start --home '$h'" <<<"$1")" -ge 2 && grep -F "fakechaind v1 args:" <<<"$1" | tail -1 | grep -qvF -- "--halt-height"' _ "$(dj $i)"
        expect "current -> genesis" test "$(sbx readlink $h/oraivisor/current)" = genesis
        expect "the height seen is kept in oraivisor/node-height" sbx test -s $h/oraivisor/node-height
        # A height ahead: the node is stopped at the refused block 40 and upgraded; v2 commits 40.
        rc=0
        sbx oraivisorctl -i $i add-upgrade s3 "$FK/fakechaind-v3" --height 40 >"$o" 2>"$o.err" || rc=$?
        expect "add-upgrade s3 --height 40: status 0" test $rc -eq 0
        expect "... refused at 25 now: the node's height is known" not sbx oraivisorctl -i $i add-upgrade s2 "$FK/fakechaind-v2" --height 25
        expect "restarted with --halt-height 40" wait_for 15 dj_has $i "--halt-height 40"
        expect "s3 (fakechaind v3) runs after the halt" wait_for 60 dj_has $i "fakechaind v3 starting"
        expect "... from height 39" bash -c 'grep -q "fakechaind v3 starting (.*height=39 " <<<"$1"' _ "$(dj $i)"
        expect "current -> upgrades/s3" test "$(sbx readlink $h/oraivisor/current)" = upgrades/s3
        expect "oraivisor logged the halt and the upgrade" ov_journal_has $i \
                "stopped before block 40 (the SDK refused it in FinalizeBlock) at its --halt-height 40: upgrade 's3' scheduled there (no governance) is due."
        expect "v3 commits 40" wait_for 10 dj_has $i "committed state height=40 "
        expect "oraivisor is still active, not restarted by systemd" prop_is $u NRestarts 0
        { sbx journalctl -q -o short-precise --no-pager -u $u; dj $i; } >"$OUT/hpass.transcript" 2>&1
        sbx systemctl stop $u
}

SCENARIOS=(
        launcher_start_properties launcher_exit_status launcher_adopt_cursor launcher_burst
        launcher_bait_description launcher_daemon_user launcher_exec_failure launcher_grace_kill launcher_kill
        launcher_stale_units launcher_lingering_unit launcher_echo_reload
        oraivisor_upgrade_log oraivisor_upgrade_file oraivisor_announce_order oraivisor_sigkill_adopt oraivisor_reload_adopt oraivisor_due_while_stopped
        oraivisor_stop oraivisor_bad_config oraivisor_foreign_unit oraivisor_burst oraivisor_long_line oraivisor_journal_pages oraivisor_bait_description oraivisor_dbus_restart
        oraivisor_nobus_recycled_pid oraivisor_settled_failed_sees_restarts
        oraivisor_upgrade_least_config oraivisor_upgrade_stay_down oraivisor_hook_timeout_other_user
        oraivisor_download oraivisor_download_bad_checksum oraivisor_download_no_network oraivisor_download_ip_deny
        oraivisorctl_prepare_upgrade oraivisor_upgrade_not_ready oraivisor_upgrade_check_node_sandbox
        oraivisor_upgrade_check_node_unit oraivisor_upgrade_check_unit_timeout oraivisor_upgrade_check_unit_stop oraivisor_height_halt
        oraivisor_height_passed
        oraivisor_loopback_tcp oraivisor_chain_watch_unix oraivisor_chain_watch_tcp oraivisor_backup_snapshot oraivisor_backup_restore
        oraivisor_node_sandbox oraivisor_node_sandbox_root oraivisor_node_sandbox_off oraivisor_node_sandbox_home_dir
        oraivisor_node_properties_bad oraivisor_node_properties_missing_path
        oraivisor_fleet_journal
        oraivisorctl_status_unit
        torture_unit
)
# The metrics scenario, kept apart from the list above.
SCENARIOS+=(oraivisor_metrics_node_exporter)

selected() { # selected SCENARIO [GLOB...]: true when no glob is given or one matches
        local s="$1"; shift
        [ $# -eq 0 ] && return 0
        local g
        for g in "$@"; do
                # shellcheck disable=SC2053
                [[ "$s" == $g ]] && return 0
        done
        return 1
}

t0=$SECONDS
if selected oraivisor_backup_snapshot "$@"; then
        btrfs_setup || echo "WARNING: no btrfs file system for oraivisor_backup_snapshot (it will fail)" >&2
fi
sbx_boot oraitest "$SRC" "$BUILD" || { echo "FAIL: the systemd container could not boot; the suite cannot run" >&2; exit 1; }
sbx_install "$BUILD" || { echo "FAIL: installing the build into the container failed" >&2; exit 1; }
if [ -n "${ORAIVISOR_TEST_BINARY:-}" ]; then
        sbx install -m 0755 "$(cd "$(dirname "$ORAIVISOR_TEST_BINARY")" && pwd)/$(basename "$ORAIVISOR_TEST_BINARY")" \
                /usr/local/bin/oraivisor || exit 1
        echo "using ORAIVISOR_TEST_BINARY=$ORAIVISOR_TEST_BINARY as /usr/local/bin/oraivisor"
fi
SANITIZER_BUILD=
if ldd "$BUILD/src/oraivisor/oraivisor" 2>/dev/null | grep -q libasan; then
        SANITIZER_BUILD=1
        # A sanitizer build (make check-asan): memory errors and undefined behaviour abort, which every
        # scenario notices. Leaks are not looked for here: LeakSanitizer cannot stop the world inside
        # oraivisor@'s sandbox (no ptrace), and at the exit of an instrumented fakechaind its tracer is a
        # second process in the node's unit (systemd may kill both). The e2e suites check for leaks.
        san="ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
        read -r -a SBX_ENV <<<"$san"
        sbx mkdir -p /run/systemd/system/oraivisor@.service.d
        printf '[Service]\nEnvironment=%s\n' "$san" | sbx tee /run/systemd/system/oraivisor@.service.d/sanitizer.conf >/dev/null
        # And PID 1's own environment, which every unit started from now on inherits: the transient units
        # of the readiness check too, which oraivisorctl -i starts with the node's environment as the
        # unit's configuration gives it (its drop-ins' Environment= are not part of that view).
        # shellcheck disable=SC2086
        sbx systemctl set-environment $san
        sbx systemctl daemon-reload
        echo "sanitizer build: everything in the container runs with $san"
fi
expect_unit=$(sbx systemctl show -P FragmentPath oraivisor@probe.service)
echo "installed: oraivisor@.service at $expect_unit; boot+install took $((SECONDS - t0)) s"

for s in "${SCENARIOS[@]}"; do
        selected "$s" "$@" || continue
        CURRENT=$s
        T_FAILS=0
        echo "--- $s"
        ts=$SECONDS
        "t_$s"
        if [ "$T_FAILS" -eq 0 ]; then
                PASSED+=("$s")
                echo "PASS $s ($((SECONDS - ts)) s)"
        else
                FAILED+=("$s")
                # The container goes away with the run: keep its journal for the post-mortem.
                sbx journalctl -q --no-pager -o short-precise >"$OUT/$s.journal" 2>&1
                echo "FAIL $s ($T_FAILS checks, $((SECONDS - ts)) s; the container's journal: $OUT/$s.journal)"
        fi
done

# Whatever ran in the container: no sanitizer report anywhere in its journal (a sanitizer build aborts
# on the first one, which the scenario in progress notices; this also catches one in a process no
# scenario waited for).
reports=$(sbx journalctl -q -o cat --no-pager | grep -E "ERROR: (Address|Leak)Sanitizer|runtime error: " | head -n 5)
if [ -n "$reports" ]; then
        FAILED+=("sanitizer reports in the container's journal")
        echo "FAIL: sanitizer reports in the container's journal:"
        echo "$reports" | sed 's/^/    /'
fi

echo "=== systemd suite: ${#PASSED[@]} passed, ${#FAILED[@]} failed, $((SECONDS - t0)) s"
[ $((${#PASSED[@]} + ${#FAILED[@]})) -gt 0 ] || { echo "FAIL: no scenario matched '$*'"; exit 1; }
[ ${#FAILED[@]} -eq 0 ] || { echo "failed: ${FAILED[*]}"; exit 1; }
exit 0
