#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every MESSAGE_ID of src/shared/events.h has its entry in the journal catalog (journalctl -x) and its row in
# docs/fleet.md's table of events, and every one of them is used by events.c.
# Usage: check-events.sh EVENTS_H EVENTS_C CATALOG_IN FLEET_MD
set -eu
events_h=$1 events_c=$2 catalog=$3 fleet=$4
ids=$(sed -n 's/^#define MESSAGE_ID_\([A-Z_]*\) "\([0-9a-f]\{32\}\)"$/\1 \2/p' "$events_h")
[ -n "$ids" ] || { echo "no MESSAGE_ID_* found in $events_h"; exit 1; }
fail=0
while read -r name id; do
        grep -qx -- "-- $id" "$catalog" || { echo "MESSAGE_ID_$name ($id) has no entry in $catalog: add one"; fail=1; }
        grep -q "\`$id\`" "$fleet" || { echo "MESSAGE_ID_$name ($id) is not in the table of $fleet: add a row"; fail=1; }
        grep -q "= MESSAGE_ID_$name," "$events_c" || { echo "MESSAGE_ID_$name is not in the table of $events_c"; fail=1; }
done <<END
$ids
END
n=$(printf '%s\n' "$ids" | wc -l)
[ "$fail" = 0 ] && echo "all $n events are in the catalog and in docs/fleet.md"
exit "$fail"
