/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The record of an upgrade in progress, $DAEMON_HOME/oraivisor/upgrade-in-progress.json: which plan,
 * which step is running, and the choices made so far (the backup folder's name). The engine rewrites it
 * atomically at every step boundary; after a crash the next start reads it and resumes at that step.
 * Every step is idempotent, so redoing the step that was interrupted is always safe. Pure. */

#include "macro.h"
#include "plan.h"

typedef enum UpgradeStep {
        UPGRADE_STEP_BACKUP,      /* copy data/ (skipped with UNSAFE_SKIP_BACKUP) */
        UPGRADE_STEP_OBTAIN,      /* the binary: installed already, or downloaded */
        UPGRADE_STEP_HOOKS,       /* the custom pre-upgrade script and upgrades/<name>/bin/migrate */
        UPGRADE_STEP_PREUPGRADE,  /* <new binary> pre-upgrade */
        UPGRADE_STEP_SWITCH,      /* current -> upgrades/<name>, plan recorded */
        _UPGRADE_STEP_MAX,
        _UPGRADE_STEP_INVALID = -EINVAL,
} UpgradeStep;

const char *upgrade_step_to_string(UpgradeStep s) _const_;
UpgradeStep upgrade_step_from_string(const char *s) _pure_;

/* What a stop request (SIGTERM to oraivisor) did to the step it interrupted; the next start redoes that
 * step. */
typedef struct UpgradeInterruption {
        char *by;               /* "SIGTERM", "SIGINT" */
        UpgradeStep step;       /* the step that was cut short */
        char *outcome;          /* one sentence: what the running hook or worker did, e.g. "the pre-upgrade
                                 * command exited with status 0 within the grace after SIGTERM" */
        bool killed;            /* it had to be killed (SIGKILL) after the grace */
        uint64_t usec;          /* CLOCK_REALTIME of the request */
} UpgradeInterruption;

UpgradeInterruption *upgrade_interruption_free(UpgradeInterruption *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(UpgradeInterruption *, upgrade_interruption_free);

typedef struct UpgradeRecord {
        UpgradePlan *plan;
        char *folder;           /* the folder under upgrades/ */
        UpgradeStep step;       /* the step running (or about to run) */
        char *backup_name;      /* the backup folder's name once chosen, else NULL */
        uint64_t started_usec;  /* CLOCK_REALTIME when the upgrade began */
        UpgradeInterruption *interrupted; /* the last stop request that cut a step short, else NULL */
} UpgradeRecord;

UpgradeRecord *upgrade_record_free(UpgradeRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(UpgradeRecord *, upgrade_record_free);

int upgrade_record_to_json(const UpgradeRecord *r, char **ret);
/* buf holds len bytes (no terminating NUL needed); -EBADMSG with *ret_reason for a damaged record, which
 * includes a NUL byte inside it or anything after the JSON object but white space. */
int upgrade_record_from_json(const char *buf, size_t len, UpgradeRecord **ret, const char **ret_reason);

/* The last finished upgrade, $DAEMON_HOME/oraivisor/last-upgrade.json: written (atomically) by the upgrade
 * engine right after the switch, replaced by the next one, read by `oraivisorctl status`. Nothing else in
 * the layout says when an upgrade happened, how long it took or which backup it made. */
typedef struct LastUpgrade {
        UpgradePlan *plan;
        char *folder;           /* the folder under upgrades/ */
        char *backup_name;      /* the backup it made, NULL when none (UNSAFE_SKIP_BACKUP) */
        uint64_t started_usec;  /* CLOCK_REALTIME when the upgrade began (0: unknown) */
        uint64_t finished_usec; /* CLOCK_REALTIME of the switch */
} LastUpgrade;

LastUpgrade *last_upgrade_free(LastUpgrade *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(LastUpgrade *, last_upgrade_free);

int last_upgrade_to_json(const LastUpgrade *l, char **ret);
/* Same rules as upgrade_record_from_json(): -EBADMSG with *ret_reason for a damaged file, -ENOMEM. */
int last_upgrade_from_json(const char *buf, size_t len, LastUpgrade **ret, const char **ret_reason);
