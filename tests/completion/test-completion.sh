#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# oraivisorctl's bash completion, in a bare bash (no bash-completion helpers): COMPREPLY for commands,
# options, instance names, decoded upgrade names, the plan's name and backup names, on a home, a conf
# folder and a backup folder made here; and every command and option of `oraivisorctl --help` (and of
# each command's --help) is offered, so that a command added without completion fails here.
#   tests/completion/test-completion.sh COMPLETION-FILE ORAIVISORCTL
set -uo pipefail
completion=${1:?usage: test-completion.sh COMPLETION-FILE ORAIVISORCTL}
ctl=${2:?usage: test-completion.sh COMPLETION-FILE ORAIVISORCTL}
unset DAEMON_HOME DAEMON_NAME DAEMON_DATA_BACKUP_DIR
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A home with genesis, four upgrades (three whose names need encoding) and a staging folder; backups of
# this node, of another node sharing the folder and a partial one; two instances' conf files.
home="$tmp/node home"
mkdir -p "$home/oraivisor/genesis/bin" "$home/oraivisor/upgrades/v1.0/bin" \
        "$home/oraivisor/upgrades/v2%20final/bin" "$home/oraivisor/upgrades/v3%2Frc1/bin" \
        "$home/oraivisor/upgrades/v5%3afinal/bin" \
        "$home/oraivisor/upgrades/.staging-x" "$home/data"
printf '{"name":"v4 final","height":1200,"info":""}' >"$home/data/upgrade-info.json"
backups="$tmp/backups"
mkdir -p "$backups/data-backup-oraid@5f3c9e21-v1.0-20240920T123456Z" \
        "$backups/data-backup-oraid@5f3c9e21-v2%20final-20241001T000000Z" \
        "$backups/data-backup-other@0badf00d-v1.0-20240920T123456Z" \
        "$backups/.partial-data-backup-oraid@5f3c9e21-v3%2Frc1-20241101T000000Z"
mkdir -p "$home/data-backup-v0.9-20230101T000000Z"
touch "$backups/data-backup-oraid@5f3c9e21-not-a-folder"
export ORAIVISORCTL_CONF_DIR="$tmp/conf"
mkdir -p "$ORAIVISORCTL_CONF_DIR"
printf '# a node\nDAEMON_HOME="%s"\nDAEMON_DATA_BACKUP_DIR = %s  \n' "$home" "$backups" >"$ORAIVISORCTL_CONF_DIR/oraid.conf"
printf 'DAEMON_HOME=/nonexistent\n' >"$ORAIVISORCTL_CONF_DIR/other.conf"
touch "$ORAIVISORCTL_CONF_DIR/README"
mkdir -p "$tmp/files/sub"
touch "$tmp/files/oraid-v2" "$tmp/files/oraid-v2.tar.gz"

# shellcheck source=completions/oraivisorctl.bash
. "$completion" || { echo "FAIL: sourcing $completion" >&2; exit 1; }
[[ $(complete -p oraivisorctl 2>/dev/null) == "complete -F _oraivisorctl oraivisorctl" ]] ||
        fail "'complete -p oraivisorctl' is '$(complete -p oraivisorctl 2>&1)'"

# comp WORD...: COMPREPLY for the command line "oraivisorctl WORD...", the last word being completed,
# sorted, one line, space separated. Words are as bash splits them (an '=' is a word of its own).
comp() {
        COMP_WORDS=(oraivisorctl "$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _oraivisorctl
        printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd ' '
}
# expect DESCRIPTION EXPECTED WORD...
expect() {
        local what=$1 want=$2 got
        shift 2
        got=$(comp "$@")
        [[ $got == "$want" ]] || fail "$what: 'oraivisorctl $*' completes to '$got', expected '$want'"
}

commands="add-batch-upgrade add-upgrade backups check config import-cosmovisor init list prepare-upgrade remove-upgrade show-upgrade-info status version"
expect "commands" "$commands" ""
expect "a command's prefix" "show-upgrade-info status" s
expect "import-cosmovisor" "import-cosmovisor init" i
expect "after the global options" "$commands" --home "$home" --json ""
expect "global options" "--help --home --instance --name --version" --
expect "a command's options" "--help --home --instance --json --name --version" status --
expect "init's options" "--force --help --home --instance --name --version" init --
expect "prepare-upgrade's options" "--info --instance" prepare-upgrade --i
expect "backups restore's options" "--switch-to" backups restore X --s

expect "instances" "oraid other" -i ""
expect "instances, long option" "other" --instance ot
expect "instances after --instance=" "oraid other" --instance = ""

expect "upgrade names, decoded and quoted" 'v1.0 v2\ final v3/rc1 v5:final' --home "$home" remove-upgrade ""
expect "upgrade names, prefix" 'v2\ final' --home "$home" remove-upgrade 'v2\ '
expect "upgrade names from -i's conf file" 'v1.0 v2\ final v3/rc1 v5:final' -i oraid remove-upgrade ""
expect "upgrade names with --home=" 'v1.0 v2\ final v3/rc1 v5:final' --home = "$home" remove-upgrade ""
expect "options after the command" 'v1.0 v2\ final v3/rc1 v5:final' remove-upgrade --home "$home" ""
got=$(DAEMON_HOME=$home comp remove-upgrade "")
[[ $got == 'v1.0 v2\ final v3/rc1 v5:final' ]] || fail "upgrade names from \$DAEMON_HOME: got '$got'"
got=$(DAEMON_HOME=/nonexistent comp -i other remove-upgrade "")
[[ -z $got ]] || fail "-i other (a home that does not exist) offers '$got'"
expect "check: genesis and the upgrades" 'genesis v1.0 v2\ final v3/rc1 v5:final' --home "$home" check ""
expect "check's options" "--json" check --j
expect "no second argument to remove-upgrade" "" --home "$home" remove-upgrade v1.0 ""
expect "--switch-to: genesis and the upgrades" 'genesis v1.0 v2\ final v3/rc1 v5:final' -i oraid backups restore X --switch-to ""
expect "--switch-to=" 'v2\ final' -i oraid backups restore X --switch-to = v2

expect "prepare-upgrade: the plan's name" 'v4\ final' -i oraid prepare-upgrade ""
expect "add-upgrade: an installed name first" 'v1.0' --home "$home" add-upgrade v1
expect "add-upgrade: then a file" "$tmp/files/oraid-v2 $tmp/files/oraid-v2.tar.gz" --home "$home" add-upgrade v5 "$tmp/files/oraid"
expect "init: a file" "$tmp/files/sub" init "$tmp/files/s"
expect "--home: folders only" "$tmp/files/sub" --home "$tmp/files/"

expect "backups: restore" "restore" -i oraid backups ""
expect "backups restore: this node's backups, not another's nor a partial one" \
        'data-backup-oraid@5f3c9e21-v1.0-20240920T123456Z data-backup-oraid@5f3c9e21-v2%20final-20241001T000000Z' \
        -i oraid backups restore ""
expect "backups restore: untagged backups of earlier versions in the home" \
        'data-backup-v0.9-20230101T000000Z' --home "$home" --name oraid backups restore ""
expect "backups restore: only one name" "" -i oraid backups restore data-backup-x ""

# Every command and option of --help is offered.
help=$("$ctl" --help) || fail "'$ctl --help' failed"
listed=$(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$help")
[[ -n $listed ]] || fail "no command found in '$ctl --help'"
for c in $listed; do
        [[ " $commands " == *" $c "* ]] || fail "command '$c' of 'oraivisorctl --help' is not completed: add it to completions/oraivisorctl.bash"
done
# The global options: those outside the command list (a command's own are checked below).
for o in $(awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0; next } !on' <<<"$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        [[ " $(comp --) " == *" $o "* ]] || fail "global option '$o' of 'oraivisorctl --help' is not completed"
done
for c in $listed; do
        offered=" $(comp "$c" --) "
        [[ $c == backups ]] && offered+="$(comp backups restore --) "
        for o in $("$ctl" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
                [[ $offered == *" $o "* ]] || fail "option '$o' of 'oraivisorctl $c --help' is not completed after '$c'"
        done
done

if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
fi
echo "bash completion: all cases pass"
