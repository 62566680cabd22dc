# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# A real systemd for tests: boots this machine's own root as a throw-away container (an overlay with a
# tmpfs on top, in a private mount namespace: whatever the container writes, /usr/local and /etc
# included, vanishes with it), following ../../shared notes "systemd-sandbox.md". Sourced by run.sh,
# demo.sh and bench/systemd/*.sh.
#
#   sbx_boot NAME PATH...   boot; PATH... are bind-mounted at the same place (the repository, the build)
#   sbx CMD...              run CMD inside, as root, with a clean environment
#   sbx_install BUILDDIR    `meson install` of BUILDDIR into the container's own prefix, then reload
#   sbx_teardown            power off and clean up (also installed as an EXIT trap by sbx_boot, unless
#                           the caller set SBX_OWN_TRAP=1 and calls it from its own)
#
# Never boot systemd on the machine's root directly, and never run systemd-tmpfiles --boot outside the
# container: that empties /tmp.

SBX_NSPAWN_PID=
SBX_PID1=
SBX_DIR=
SBX_NAME=
SBX_LOG=
# Extra VAR=value for every command run in the container (a sanitizer build sets its options here).
SBX_ENV=()

sbx_fail() {
        echo "sandbox: $*" >&2
        return 1
}

sbx() {
        nsenter -t "$SBX_PID1" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "${SBX_ENV[@]}" "$@"
}

sbx_boot() {
        local name="$1"; shift
        local binds=() p
        [ "$(id -u)" -eq 0 ] || { sbx_fail "must run as root (it boots systemd in a container)"; return 1; }
        for p in systemd-nspawn nsenter unshare; do
                command -v "$p" >/dev/null ||
                        { sbx_fail "'$p' is missing: apt-get install systemd-container util-linux"; return 1; }
        done
        for p in "$@"; do
                binds+=("--bind=$p")
        done

        SBX_NAME="$name-$$"
        SBX_LOG=$(mktemp /var/tmp/sbx-log.XXXXXX)
        local state
        state=$(mktemp -d /var/tmp/sbx-state.XXXXXX)
        [ "${SBX_OWN_TRAP:-0}" = 1 ] || trap sbx_teardown EXIT

        # The Prometheus server that tools/install-deps.sh test installs for promtool is enabled by its
        # package: masked here, no test needs it (node-exporter, which tests do use, is left to start).
        # The overlay lives in a private mount namespace: the machine never sees it. Its folder is not
        # under /tmp, which the container's tmpfiles rules would clean. The nspawn PID and the folder are
        # written out before systemd-nspawn replaces the shell.
        setsid unshare --mount --propagation private sh -c '
                set -e
                S=$(mktemp -d /var/tmp/sbx.XXXXXX)
                echo "$S" > "$1/dir"
                mount -t tmpfs -o mode=755 sbx "$S"
                mkdir -p "$S/upper" "$S/work" "$S/merged"
                mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$S/merged"
                echo $$ > "$1/pid"
                shift
                exec systemd-nspawn -D "$S/merged" --boot --machine="$0" --register=no --keep-unit \
                        --private-network --console=pipe --link-journal=no "$@" systemd.mask=prometheus.service
        ' "$SBX_NAME" "$state" "${binds[@]}" </dev/null >"$SBX_LOG" 2>&1 &

        local i
        for i in $(seq 1 100); do
                [ -s "$state/pid" ] && break
                sleep 0.1
        done
        SBX_NSPAWN_PID=$(cat "$state/pid" 2>/dev/null || true)
        SBX_DIR=$(cat "$state/dir" 2>/dev/null || true)
        rm -rf "$state"
        if [ -z "$SBX_NSPAWN_PID" ]; then
                sbx_fail "systemd-nspawn did not start:"; cat "$SBX_LOG" >&2; return 1
        fi
        for i in $(seq 1 200); do
                SBX_PID1=$(pgrep -P "$SBX_NSPAWN_PID" | head -n1 || true)
                if [ -n "$SBX_PID1" ] && [ "$(cat /proc/"$SBX_PID1"/comm 2>/dev/null)" = systemd ]; then
                        break
                fi
                SBX_PID1=
                kill -0 "$SBX_NSPAWN_PID" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$SBX_PID1" ]; then
                sbx_fail "the container's systemd did not come up:"; cat "$SBX_LOG" >&2; return 1
        fi
        # systemctl cannot connect until PID 1 has its socket up: retry until it answers, then --wait.
        local st= end=$((SECONDS + 90))
        while [ $SECONDS -lt $end ] && kill -0 "$SBX_NSPAWN_PID" 2>/dev/null; do
                st=$(timeout 90 nsenter -t "$SBX_PID1" -a systemctl is-system-running --wait 2>/dev/null || true)
                case "$st" in
                running|degraded|maintenance|stopping|offline) break ;;
                esac
                sleep 0.2
        done
        case "$st" in
        running|degraded) ;;
        *)
                sbx_fail "the container did not finish booting (state '$st'):"
                tail -n 40 "$SBX_LOG" >&2
                return 1
                ;;
        esac
        echo "sandbox: container $SBX_NAME booted ($st), nspawn pid $SBX_NSPAWN_PID, PID 1 = $SBX_PID1"
}

sbx_install() {
        local build="$1"
        sbx meson install -C "$build" --no-rebuild --quiet >/dev/null || { sbx_fail "meson install into the container failed"; return 1; }
        sbx systemctl daemon-reload
        sbx systemd-tmpfiles --create /usr/local/lib/tmpfiles.d/oraivisor.conf
        sbx journalctl --update-catalog
}

sbx_teardown() {
        local rc=$?
        [ "${SBX_OWN_TRAP:-0}" = 1 ] || trap - EXIT
        if [ -n "$SBX_NSPAWN_PID" ] && kill -0 "$SBX_NSPAWN_PID" 2>/dev/null; then
                [ -n "$SBX_PID1" ] && timeout 10 nsenter -t "$SBX_PID1" -a systemctl poweroff --no-block >/dev/null 2>&1
                local i
                for i in $(seq 1 150); do
                        kill -0 "$SBX_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.2
                done
                if kill -0 "$SBX_NSPAWN_PID" 2>/dev/null; then
                        kill -TERM "$SBX_NSPAWN_PID" 2>/dev/null
                        sleep 3
                        kill -KILL "$SBX_NSPAWN_PID" 2>/dev/null
                fi
        fi
        # The tmpfs was mounted in the private namespace only: on the machine the folder is empty.
        [ -n "$SBX_DIR" ] && rmdir "$SBX_DIR" 2>/dev/null
        [ -n "$SBX_LOG" ] && rm -f "$SBX_LOG"
        SBX_NSPAWN_PID= SBX_PID1= SBX_DIR= SBX_LOG=
        return $rc
}
