#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian package from a copy of this tree (dpkg-buildpackage writes its results next to the
# source folder, so the copy keeps them out of the tree's parent): OUTDIR/oraivisor_<version>_<arch>.deb.
#   tools/build-deb.sh OUTDIR [VERSION]    VERSION: a changelog entry of that version is added first
#                                          (the package test builds a newer package this way)
# Needs tools/install-deps.sh deb.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "${1:?usage: tools/build-deb.sh OUTDIR [VERSION]}"
out=$(cd "$1" && pwd)
version=${2:-}
for p in dpkg-buildpackage dh fakeroot; do
        command -v "$p" >/dev/null || { echo "'$p' is missing: tools/install-deps.sh deb installs it" >&2; exit 1; }
done

work="$out/src"
rm -rf "$work" "$out"/oraivisor_*.deb "$out"/oraivisor_*.changes "$out"/oraivisor_*.buildinfo \
        "$out"/oraivisor-dbgsym_*.deb
mkdir -p "$work"
# The tree without its VCS data and build folders (make's build*, and OUTDIR when it is inside the tree).
excl=(--exclude-vcs --exclude='./build*')
case "$out/" in "$src"/*) excl+=(--exclude="./${out#"$src"/}") ;; esac
tar -C "$src" "${excl[@]}" -cf - . | tar -C "$work" -xf -

if [ -n "$version" ]; then
        { printf 'oraivisor (%s) unstable; urgency=medium\n\n  * Build %s.\n\n -- %s  %s\n\n' \
                "$version" "$version" "$(sed -n 's/^Maintainer: //p' "$work/debian/control")" "$(date -R)"
          cat "$work/debian/changelog"; } >"$work/debian/changelog.new"
        mv "$work/debian/changelog.new" "$work/debian/changelog"
fi

(cd "$work" && dpkg-buildpackage -us -uc -b)
rm -rf "$work"
ls "$out"/oraivisor_*.deb
