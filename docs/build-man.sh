#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds one manual page from its scdoc(5) source (docs/meson.build runs it):
#   docs/build-man.sh SCDOC INPUT.scd OUTPUT VERSION DOCDIR UNITDIR
# %VERSION%, %DOCDIR% and %UNITDIR% in the source become the build's values. scdoc puts its .nh and .ad l
# before .TH, which resets them: they are repeated after it, so that variable names, options and paths
# are never hyphenated or stretched (an operator copies them from the page).
set -eu
scdoc=$1 in=$2 out=$3
tmp="$out.tmp"
trap 'rm -f "$tmp" "$tmp.scd"' EXIT
sed -e "s|%VERSION%|$4|g" -e "s|%DOCDIR%|$5|g" -e "s|%UNITDIR%|$6|g" "$in" >"$tmp.scd"
"$scdoc" <"$tmp.scd" >"$tmp"
sed -i '/^\.TH /a .nh\n.ad l\n.cflags 0 -' "$tmp"
grep -A1 '^\.TH ' "$tmp" | grep -qx '\.nh' || { echo "$0: no .TH line in scdoc's output for $in" >&2; exit 1; }
mv "$tmp" "$out"
