/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Upgrades at a height without governance (scheduled-upgrades.json, shared/height-schedule-file.h), as the
 * supervisor carries them out: the node is started with --halt-height of the nearest one that its known
 * height (shared/known-height.h) has not passed; when it says it halts there (core/height-line.h: the SDK's
 * BaseApp, per version) and stops, that upgrade is carried out as a governance plan would be, unless its
 * height lines show it was past the height already. A governance plan known at the same height wins: the
 * node is not given that --halt-height at all (SDK v0.50.10+ would refuse the block before x/upgrade sees
 * the plan; older ones halt for the plan before the commit the flag waits for), and after its upgrade the
 * scheduled ones at or below its height are dropped as superseded. An unknown one is met by the scheduled
 * version at its height (docs/chain-watch.md, "A governance plan and a scheduled upgrade"). */

#include <stdbool.h>
#include <stdint.h>

#include "chain-state.h"
#include "known-height.h"
#include "layout.h"
#include "plan.h"

typedef struct HeightPick {
        int64_t height;    /* 0: none to pass */
        char *name;
        int64_t known;     /* the node's committed height as known (shared/known-height.h), 0 unknown */
        KnownHeightSource known_source;
        unsigned n_passed; /* entries at or below the known height: reported, not acted on */
        char *halted_name; /* the node stopped at this one's height and its upgrade is not done: due now */
        int64_t halted_height;
        char *superseded_name; /* left to the governance plan at its height: no --halt-height there */
        int64_t superseded_height;
} HeightPick;

void height_pick_done(HeightPick *p);

/* The upgrade to pass as --halt-height at the next start of the node. seen: a committed height oraivisor
 * saw in the node's output since it started (0: none), taken with the known height. governance: the chain's
 * plan as the chain watcher knows it (NULL: none known); an entry at its height is not picked (superseded_*
 * names it) but the next one above is. Logs a damaged file (no pick), and, when report, each entry the node
 * has passed and a damaged source of its height. Never fails the start: a problem leaves *ret empty. */
void height_plan_pick(Layout *l, const CurrentVersion *cur, bool report, int64_t seen,
        const ScheduledUpgrade *governance, HeightPick *ret);

/* Records that the node stopped at name's height (before its upgrade starts), so that a failed or
 * interrupted upgrade is carried out at the next start instead of the node running on past the height.
 * 0, or a negative errno (logged). */
int height_plan_mark_halted(Layout *l, const char *name);

/* Whether name is still scheduled at height (a cancel while the node ran must not be carried out). A file
 * that cannot be read says no. */
bool height_plan_still_scheduled(Layout *l, const char *name, int64_t height);

/* After the upgrade to plan (by_height: a scheduled one) was switched to: removes it and, superseded, the
 * scheduled ones at or below its height, under the install lock. Logs what it did; never fails. */
void height_plan_done(Layout *l, const char *daemon_name, const UpgradePlan *plan, bool by_height);
