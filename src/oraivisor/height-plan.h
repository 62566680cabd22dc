/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Upgrades at a height without governance (scheduled-upgrades.json, shared/height-schedule-file.h), as the
 * supervisor carries them out: the node is started with --halt-height of the nearest one; when it says it
 * halted there ("halting node per configuration", the SDK's BaseApp) and exits, that upgrade is carried out
 * as a governance plan would be. A governance plan wins: the SDK halts at the start of its block, before
 * the commit a --halt-height at the same height waits for, and after its upgrade the scheduled ones at or
 * below its height are dropped as superseded. */

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "plan.h"

typedef struct HeightPick {
        int64_t height;    /* 0: none to pass */
        char *name;
        int64_t known;     /* the chain's height as last known (chain-state.json), 0 unknown */
        unsigned n_passed; /* entries at or below the known height: reported, not acted on */
        char *halted_name; /* the node stopped at this one's height and its upgrade is not done: due now */
        int64_t halted_height;
} HeightPick;

void height_pick_done(HeightPick *p);

/* The upgrade to pass as --halt-height at the next start of the node. Logs a damaged file (no pick), and,
 * when report_passed, each entry the chain has passed. Never fails the start: a problem leaves *ret empty. */
void height_plan_pick(Layout *l, const CurrentVersion *cur, bool report_passed, HeightPick *ret);

/* Records that the node stopped at name's height (before its upgrade starts), so that a failed or
 * interrupted upgrade is carried out at the next start instead of the node running on past the height.
 * 0, or a negative errno (logged). */
int height_plan_mark_halted(Layout *l, const char *name);

/* Whether name is still scheduled at height (a cancel while the node ran must not be carried out). A file
 * that cannot be read says no. */
bool height_plan_still_scheduled(Layout *l, const char *name, int64_t height);

/* The SDK's line at a --halt-height: "halting node per configuration" (v0.47) or "halt per configuration"
 * (v0.50). */
bool height_plan_is_halt_line(const char *line, size_t len);

/* After the upgrade to plan (by_height: a scheduled one) was switched to: removes it and, superseded, the
 * scheduled ones at or below its height, under the install lock. Logs what it did; never fails. */
void height_plan_done(Layout *l, const char *daemon_name, const UpgradePlan *plan, bool by_height);
