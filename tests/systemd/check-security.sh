#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-security.sh UNIT_FILE THRESHOLD: fails when `systemd-analyze security --offline=true` rates the
# unit's exposure above THRESHOLD/10 (systemd-analyze's --threshold is on a 0..100 scale).
set -euo pipefail
unit="${1:?unit file}"
threshold="${2:?threshold 0..100}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing: apt-get install systemd" >&2; exit 1; }
# An instance name, so that %i resolves; the file is copied because the name must end in .service.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$unit" "$tmp/oraivisor@check.service"
out=$(cd "$tmp" && systemd-analyze security --offline=true --threshold="$threshold" --no-pager ./oraivisor@check.service 2>&1) && rc=0 || rc=$?
echo "$out" | grep -E '✗|Overall exposure' || true
if [ "$rc" -ne 0 ]; then
        echo "FAIL: the exposure of $unit is above $threshold/100 (see the ✗ lines above)" >&2
        exit 1
fi
echo "OK: $(echo "$out" | grep 'Overall exposure' | sed 's/.*: //')"
