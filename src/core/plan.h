/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Upgrade plans and where they come from: the announcement the Cosmos SDK's x/upgrade module logs when
 * the chain reaches a plan's height ("UPGRADE \"<name>\" NEEDED at height: <h>: <info>"), in plain text,
 * with ANSI colours, inside logfmt quoting or inside a JSON log line; and the upgrade-info.json file the
 * module writes just before. Pure: buffers in, plans out. */

#include "macro.h"

typedef enum PlanSource {
        PLAN_SOURCE_LOG,      /* an announcement line in the daemon's output */
        PLAN_SOURCE_FILE,     /* $DAEMON_HOME/data/upgrade-info.json */
        PLAN_SOURCE_STARTUP,  /* upgrade-info.json found pending when oraivisor started */
        PLAN_SOURCE_RECORD,   /* an interrupted upgrade resumed from its record */
        _PLAN_SOURCE_MAX,
        _PLAN_SOURCE_INVALID = -EINVAL,
} PlanSource;

const char *plan_source_to_string(PlanSource s) _const_;

typedef struct UpgradePlan {
        char *name;     /* as the chain spells it, never empty */
        int64_t height; /* > 0 for a plan by height; 0 for a plan by time */
        char *time;     /* the time as announced, for a plan by time; NULL otherwise */
        char *info;     /* never NULL; "" when the plan has none */
} UpgradePlan;

UpgradePlan *upgrade_plan_free(UpgradePlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(UpgradePlan *, upgrade_plan_free);

/* Copies the strings. info may be NULL (stored as ""). */
int upgrade_plan_new(const char *name, int64_t height, const char *time, const char *info, UpgradePlan **ret);
int upgrade_plan_dup(const UpgradePlan *p, UpgradePlan **ret);

/* Two announcements of the same upgrade: same name and same height (or time). The info is not compared:
 * the log line and the file may render it differently. */
bool upgrade_plan_same(const UpgradePlan *a, const UpgradePlan *b) _pure_;

/* Scans one line of daemon output (not NUL-terminated, without its newline): plain text, ANSI colours,
 * logfmt-quoted values ('err="UPGRADE \"v2\" NEEDED …"') and JSON strings, for the first announcement
 * of a plan by height ('… NEEDED at height: <h>: <info>', h > 0) or by time ('… at time: <RFC 3339>:
 * <info>'). The info runs to the end of the message: a JSON object whole, else the text without the
 * logger's trailing key=value pairs and whitespace. Returns 1 and a plan when the line carries an
 * announcement, 0 when it does not, -ENOMEM. A line cut short never yields another plan than the whole
 * line, only a shorter info (upgrade-info.json holds it whole) or none. Linear in len; lines without
 * the words UPGRADE and NEEDED are rejected with two memmem() calls, so this is cheap on ordinary output. */
int plan_parse_log_line(const char *line, size_t len, UpgradePlan **ret);

/* A copy of a log line without its ANSI escape sequences and carriage returns (NULL: out of memory). */
char *log_line_strip_ansi(const char *s, size_t n, size_t *ret_len);

/* Parses upgrade-info.json. Returns 0, or -EBADMSG with *ret_reason (a static string) saying what is
 * wrong, or -ENOMEM. Accepts the height as a number or a decimal string, ignores unknown keys. */
int plan_parse_json(const char *data, size_t len, UpgradePlan **ret, const char **ret_reason);

/* Serialises a plan as {"name":…,"height":…,"info":…} (plus "time" for plans by time). */
int plan_to_json(const UpgradePlan *p, char **ret);

/* A short human description: 'v2' at height 100. Caller frees. */
char *upgrade_plan_describe(const UpgradePlan *p);
