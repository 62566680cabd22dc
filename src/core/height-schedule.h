/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Upgrades at a height without governance (`oraivisorctl add-upgrade NAME PATH --height H`,
 * `add-batch-upgrade FILE`), kept in $DAEMON_HOME/oraivisor/scheduled-upgrades.json (schema in
 * docs/oraivisorctl.md): oraivisor starts the node with --halt-height of the nearest one and, when the node
 * stops there, upgrades to it as to a governance plan. Never data/upgrade-info.json: the node owns that one.
 * Pure: the file's JSON both ways, and cosmovisor's batch CSV ("name,path,height" a line). */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "time-util.h"

#define HEIGHT_SCHEDULE_FILE "scheduled-upgrades.json"
#define HEIGHT_SCHEDULE_MAX_SIZE (1024U * 1024U)

typedef struct HeightUpgrade {
        char *name;
        int64_t height; /* > 0 */
        usec_t added;   /* CLOCK_REALTIME; 0: unknown */
        bool halted;    /* the node committed this height and stopped there; the upgrade is not done yet */
} HeightUpgrade;

typedef struct HeightSchedule {
        HeightUpgrade *entries; /* ordered by height */
        size_t n_entries;
} HeightSchedule;

void height_schedule_done(HeightSchedule *s);

/* Adds name at height, or moves it there when it is scheduled already (at the same height: still halted
 * if it was). -EEXIST when another upgrade is
 * scheduled at that height (*ret_other names it); -ENOMEM. */
int height_schedule_add(HeightSchedule *s, const char *name, int64_t height, usec_t added, const char **ret_other);
/* Marks name as halted at (1), 0 when it is not scheduled. */
int height_schedule_mark_halted(HeightSchedule *s, const char *name);
/* 1 when name was scheduled (now removed), 0 when not. */
int height_schedule_remove(HeightSchedule *s, const char *name);
const HeightUpgrade *height_schedule_find(const HeightSchedule *s, const char *name);
/* The nearest upgrade strictly above height (0: the nearest at all), or NULL. */
const HeightUpgrade *height_schedule_next(const HeightSchedule *s, int64_t height);

int height_schedule_to_json(const HeightSchedule *s, char **ret);
/* 0, or -EBADMSG with *ret_reason (static); -ENOMEM. */
int height_schedule_from_json(const char *data, size_t len, HeightSchedule *ret, const char **ret_reason);

typedef struct HeightBatchLine {
        unsigned line; /* 1-based, in the file */
        char *name;
        char *path;
        int64_t height;
} HeightBatchLine;

void height_batch_free(HeightBatchLine *lines, size_t n);

/* cosmovisor's add-batch-upgrade file: "name,path,height" a line; blank lines and lines starting with '#'
 * are skipped; spaces around fields are trimmed. Every line is checked (the name as an operator may type
 * it, the path not empty, the height a positive integer, no name or height twice). 0 with the lines;
 * -EINVAL with *ret_line (1-based) and *ret_reason (static) for the first bad line, or no line at all
 * (*ret_line 0); -ENOMEM. */
int height_batch_parse(const char *data, size_t len, HeightBatchLine **ret, size_t *ret_n, unsigned *ret_line,
        const char **ret_reason);
