#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The built manual pages: each renders without a single warning, as lintian renders it (man --warnings,
# UTF-8, 80 columns) and with groff -ww; each has its NAME, DESCRIPTION and SEE ALSO; and oraivisorctl(1)
# documents every command and every option that `oraivisorctl --help` and each command's --help show, so
# that a command or option added without its documentation fails here.
#   tests/man/check-man.sh ORAIVISORCTL PAGE...
set -uo pipefail
ctl=${1:?usage: check-man.sh ORAIVISORCTL PAGE...}
shift
[ $# -gt 0 ] || { echo "usage: check-man.sh ORAIVISORCTL PAGE..." >&2; exit 2; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render PAGE WIDTH: the page as text, without overstriking.
render() { LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=$2 man -E UTF-8 -l "$1" 2>/dev/null | col -bx; }

ctl_page=""
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
        case $page in */oraivisorctl.1) ctl_page=$page ;; esac
done

# oraivisorctl(1) against oraivisorctl --help.
if [ -z "$ctl_page" ]; then
        fail "oraivisorctl.1 is not among the pages"
else
        text=$(render "$ctl_page" 200)
        # section NAME: the lines of that section (up to the next heading at column 0).
        section() { awk -v s="$1" '$0 == s { on = 1; next } on && /^[^ ]/ { exit } on' <<<"$text"; }
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
                        grep -qE "^ {7}(-[a-z], )?$o( |,|\$)" <<<"$options" ||
                                fail "option '$o' of 'oraivisorctl $c --help' has no entry under OPTIONS in oraivisorctl(1)"
                done
        done
        for o in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
                grep -qE "^ {7}(-[a-z], )?$o( |,|\$)" <<<"$options" ||
                        fail "option '$o' of 'oraivisorctl --help' has no entry under OPTIONS in oraivisorctl(1)"
        done
        # The exit statuses of --help's last lines are all documented.
        for s in $(sed -n '/exit statuses/,$p' <<<"$help" | grep -oE '\b[0-9]+ [a-z]' | cut -d' ' -f1); do
                section "EXIT STATUS" | grep -qx " \{7\}$s" ||
                        fail "exit status $s of 'oraivisorctl --help' is not under EXIT STATUS in oraivisorctl(1)"
        done
fi

if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
fi
echo "manual pages: $# rendered without warnings; oraivisorctl(1) documents every command and option of --help"
