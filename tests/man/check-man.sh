#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The built manual pages: each renders without a single warning, as lintian renders it (man --warnings,
# UTF-8, 80 columns) and with groff -ww; each has its NAME, DESCRIPTION and SEE ALSO; oraivisorctl(1)
# documents every command and every option that `oraivisorctl --help` and each command's --help show;
# oraivisor(8) every variable oraivisor knows (`oraivisorctl config --json`, i.e. src/core/config.c's
# table) and every exit status of EXIT-STATUS-H; oraivisor.conf(5) names every variable too. A command,
# option, variable or exit status added without its documentation fails here.
#   tests/man/check-man.sh ORAIVISORCTL EXIT-STATUS-H PAGE...
set -uo pipefail
usage="usage: check-man.sh ORAIVISORCTL EXIT-STATUS-H PAGE..."
ctl=${1:?$usage}
exit_status_h=${2:?$usage}
shift 2
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render PAGE WIDTH: the page as text, without overstriking.
render() { LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=$2 man -E UTF-8 -l "$1" 2>/dev/null | col -bx; }

# section NAME: the lines of that section of $text (up to the next heading at column 0).
section() { awk -v s="$1" '$0 == s { on = 1; next } on && /^[^ ]/ { exit } on' <<<"$text"; }
# term WORD: a term line of a definition list (7 columns in) that names WORD, alone or in a list.
term_re() { echo "^ {7}([^ ].*, )?$1( |,|\$)"; }

ctl_page="" daemon_page="" conf_page=""
for page in "$@"; do
        [ -s "$page" ] || { fail "$page is missing or empty"; continue; }
        # As lintian's manpage check does.
        LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" \
                >/dev/null 2>"$tmp/man.err" || fail "man cannot render $page: $(cat "$tmp/man.err")"
        [ ! -s "$tmp/man.err" ] || fail "man --warnings on $page: $(head -n 5 "$tmp/man.err")"
        groff -man -Tutf8 -ww -z "$page" 2>"$tmp/groff.err" || fail "groff cannot render $page"
        [ ! -s "$tmp/groff.err" ] || fail "groff -ww on $page: $(head -n 5 "$tmp/groff.err")"
        text=$(render "$page" 80)
        for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
                grep -qx "$section" <<<"$text" || fail "$page has no $section section"
        done
        # No placeholder left by docs/build-man.sh, no line wider than the terminal.
        grep -n '%[A-Z]*%' <<<"$text" && fail "$page has a placeholder left (above)"
        wide=$(awk 'length($0) > 80 { print NR ": " $0 }' <<<"$text")
        [ -z "$wide" ] || fail "$page has lines wider than 80 columns: $wide"
        case $page in
        */oraivisorctl.1) ctl_page=$page ;;
        */oraivisor.8) daemon_page=$page ;;
        */oraivisor.conf.5) conf_page=$page ;;
        esac
done

# oraivisorctl(1) against oraivisorctl --help.
if [ -z "$ctl_page" ]; then
        fail "oraivisorctl.1 is not among the pages"
else
        text=$(render "$ctl_page" 200)
        commands=$(section COMMANDS)
        options=$(section OPTIONS)
        help=$("$ctl" --help) || fail "'$ctl --help' failed"
        listed=$(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$help")
        [ -n "$listed" ] || fail "no command found in '$ctl --help'"
        for c in $listed; do
                # A command's entry: its name at the start of a term line of COMMANDS.
                grep -qE "^ {7}$c( |\$)" <<<"$commands" ||
                        fail "command '$c' of 'oraivisorctl --help' has no entry under COMMANDS in oraivisorctl(1) (docs/oraivisorctl.1.scd)"
                for o in $("$ctl" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
                        grep -qE "$(term_re "$o")" <<<"$options" ||
                                fail "option '$o' of 'oraivisorctl $c --help' has no entry under OPTIONS in oraivisorctl(1)"
                done
        done
        for o in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
                grep -qE "$(term_re "$o")" <<<"$options" ||
                        fail "option '$o' of 'oraivisorctl --help' has no entry under OPTIONS in oraivisorctl(1)"
        done
        # The exit statuses of --help's last lines are all documented.
        for s in $(sed -n '/exit statuses/,$p' <<<"$help" | grep -oE '\b[0-9]+ [a-z]' | cut -d' ' -f1); do
                section "EXIT STATUS" | grep -qx " \{7\}$s" ||
                        fail "exit status $s of 'oraivisorctl --help' is not under EXIT STATUS in oraivisorctl(1)"
        done
fi

# oraivisor(8) and oraivisor.conf(5) against the variables oraivisor knows and its exit statuses.
mkdir -p "$tmp/home"
variables=$(env -i PATH="$PATH" "$ctl" config --json --home "$tmp/home" --name oraid |
        python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["variables"]))') ||
        fail "'oraivisorctl config --json' did not list the variables"
[ -n "$variables" ] || fail "no variable in 'oraivisorctl config --json'"
statuses=$(sed -nE 's/^[[:space:]]*EXIT_[A-Z_]+ = ([0-9]+),.*/\1/p' "$exit_status_h" | sort -un)
[ -n "$statuses" ] || fail "no exit status found in $exit_status_h"
if [ -z "$daemon_page" ]; then
        fail "oraivisor.8 is not among the pages"
else
        text=$(render "$daemon_page" 200)
        environment=$(section ENVIRONMENT)
        for v in $variables; do
                grep -qE "$(term_re "$v")" <<<"$environment" ||
                        fail "variable $v (oraivisorctl config --json) has no entry under ENVIRONMENT in oraivisor(8) (docs/oraivisor.8.scd)"
        done
        exits=$(section "EXIT STATUS")
        for s in $statuses; do
                grep -qE "$(term_re "$s")" <<<"$exits" ||
                        fail "exit status $s of $exit_status_h has no entry under EXIT STATUS in oraivisor(8)"
        done
fi
if [ -z "$conf_page" ]; then
        fail "oraivisor.conf.5 is not among the pages"
else
        text=$(render "$conf_page" 200)
        for v in $variables; do
                section VARIABLES | grep -qw -- "$v" ||
                        fail "variable $v (oraivisorctl config --json) is not named under VARIABLES in oraivisor.conf(5) (docs/oraivisor.conf.5.scd)"
        done
fi

if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
fi
echo "manual pages: $# rendered without warnings; they document every command, option, variable and exit status"
