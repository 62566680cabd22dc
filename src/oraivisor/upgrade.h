/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The upgrade engine: everything between "the daemon has stopped" and "current points to the new
 * version". Steps, in order: restart delay, backup of data/, obtain the binary (installed, or
 * downloaded), the custom pre-upgrade script and upgrades/<name>/bin/migrate, the new binary's
 * `pre-upgrade`, the switch. Each step runs asynchronously on the event loop (worker and hook processes
 * are children watched by it), is recorded in upgrade-in-progress.json before it starts, and is
 * idempotent, so an upgrade interrupted at any instant (SIGKILL, power loss) is resumed by the next start.
 * The engine knows nothing of launchers. */

#include <systemd/sd-event.h>

#include "config.h"
#include "credentials.h"
#include "layout.h"
#include "plan.h"
#include "record.h"
#include "upgrade-record.h"

typedef struct Upgrade Upgrade;

/* error == 0: switched. error < 0: aborted, `current` unchanged, already logged as an "upgrade failed"
 * event; exit_status is the documented status to exit with (EXIT_UPGRADE_MISSING or
 * EXIT_UPGRADE_FAILED). */
typedef void (*UpgradeDone)(Upgrade *u, int error, int exit_status, void *userdata);

/* Starts an upgrade to plan, or resumes the recorded one when resume is given. The daemon must already
 * be stopped. The hooks (custom script, migrate, pre-upgrade) run as run_as (NULL: as oraivisor), which
 * must outlive the upgrade: they touch the node's data as the node would. */
int upgrade_start(sd_event *e, const Config *c, Layout *l, const Credentials *run_as, const UpgradePlan *plan,
        const UpgradeRecord *resume, UpgradeDone done, void *userdata, Upgrade **ret);
/* Called once an upgrade asked to stop has nothing running any more; the owner frees it. */
typedef void (*UpgradeStopped)(Upgrade *u, void *userdata);

/* Asks the upgrade to stop, for a stop request (by: "SIGTERM"). A running hook (custom script, migrate,
 * pre-upgrade: it may be writing data/) gets SIGTERM, and SIGKILL only when it is still running after grace
 * (0: at once); a backup or download worker is cancelled at once (its partial output is removed). The step
 * is not finished even if the hook then exits 0: the record keeps it, with what happened in "interrupted",
 * and the next start redoes it. stopped is called from the event loop, never from within this call, and
 * done never after it. A second call (a second signal) kills a hook in its grace at once. */
int upgrade_stop(Upgrade *u, const char *by, usec_t grace, UpgradeStopped stopped);

/* Cancels: kills workers, removes partial output, keeps the record so the next start resumes. */
Upgrade *upgrade_free(Upgrade *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(Upgrade *, upgrade_free);

const UpgradePlan *upgrade_plan(const Upgrade *u);
UpgradeStep upgrade_current_step(const Upgrade *u);
/* CLOCK_REALTIME when the upgrade was first started (kept across resumes). */
usec_t upgrade_started_usec(const Upgrade *u);
/* Whether this run made the backup (false when it was skipped, failed, or made before a resume), and its
 * size (BackupStats.bytes) and duration. */
bool upgrade_backup_made(const Upgrade *u, uint64_t *ret_bytes, usec_t *ret_duration);

/* Under the unit launcher: the node's unit, so that the readiness check of the new version runs in a unit
 * like it (shared/readiness.h). Before the first step (right after upgrade_start()). */
int upgrade_set_node_unit(Upgrade *u, const char *unit);

/* Called each time a step begins (after it is recorded), with upgrade_start()'s userdata. For the metrics. */
typedef void (*UpgradeStepBegun)(Upgrade *u, void *userdata);
void upgrade_set_step_begun(Upgrade *u, UpgradeStepBegun cb);
