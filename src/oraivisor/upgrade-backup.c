/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The upgrade engine's backup step: the backup name kept in the record (a resumed upgrade reuses it), the
 * worker started, its progress in STATUS=, the outcome. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "child-env.h"
#include "child.h"
#include "events.h"
#include "exit-status.h"
#include "fd-util.h"
#include "fs-util.h"
#include "launcher.h"
#include "lock.h"
#include "log.h"
#include "outcome.h"
#include "notify.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-steps.h"
#include "upgrade-record.h"
#include "upgrade-internal.h"
#include "upgrade.h"

#include "backup-name.h"
#include "backup.h"
#include "obtain.h"
#include "readiness.h"

/* ---- backup ------------------------------------------------------------------------------------------- */

static void on_backup_progress(Backup *b, uint64_t done, uint64_t total, void *userdata) {
        Upgrade *u = userdata;
        if (total > 0)
                notify_status("%s: backing up data (%" PRIu64 "%%)", u->label, done * 100 / total);
}

static void on_backup_done(Backup *b, int error, const char *message, void *userdata) {
        Upgrade *u = userdata;
        /* message belongs to the Backup: keep a copy before freeing it. */
        _cleanup_free_ char *m = message ? strdup(message) : NULL;
        if (error >= 0) {
                u->backup_made = true;
                u->backup_bytes = backup_get_stats(b)->bytes;
                u->backup_duration = now(CLOCK_MONOTONIC) - u->backup_started;
        }
        u->backup = backup_free(u->backup);
        if (error < 0)
                return upgrade_finish(u, error, EXIT_UPGRADE_FAILED, "%s", strna(m));
        /* The backup's own summary: how long, how much was shared or copied, or that it is a snapshot. */
        if (m)
                log_info("%s", m);
        else
                log_info("Backed up '%s/data' to '%s/%s'.", u->layout->home,
                        u->config->backup_dir ?: u->layout->home, u->record->backup_name);
        upgrade_step_next(u);
}

void upgrade_step_backup(Upgrade *u) {
        if (u->config->unsafe_skip_backup) {
                log_notice("UNSAFE_SKIP_BACKUP=true: not backing up '%s/data'.", u->layout->home);
                return upgrade_step_next(u);
        }
        const char *root = u->config->backup_dir ?: u->layout->home;
        _cleanup_free_ char *data = NULL;
        _cleanup_(backup_owner_done) BackupOwner owner = {};
        int r;

        if (asprintf(&data, "%s/data", u->layout->home) < 0)
                return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
        if (access(data, F_OK) < 0 && errno == ENOENT) {
                log_notice("'%s' does not exist, nothing to back up.", data);
                return upgrade_step_next(u);
        }
        if (u->record->backup_name) {
                /* Resumed: a finished backup is kept; an unfinished one was a partial and is redone. */
                _cleanup_free_ char *final = NULL;
                if (asprintf(&final, "%s/%s", root, u->record->backup_name) < 0)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                if (access(final, F_OK) >= 0) {
                        log_info("The backup '%s' was finished before the interruption, keeping it.", final);
                        return upgrade_step_next(u);
                }
        } else {
                r = backup_owner_get(u->layout->daemon_name, u->layout->home, u->config->backup_dir, &owner);
                if (r == -ENOMEM)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                if (r < 0)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "no backup name can be made for DAEMON_NAME='%s': %s.",
                                u->layout->daemon_name, strerror(-r));
                /* A backup of the same upgrade may already bear this second's name (an attempt that failed
                 * after its backup, retried at once): never merge into it nor replace it, take the first
                 * free second after it instead, so that the name stays a plain, sortable time stamp. */
                usec_t t = now(CLOCK_REALTIME);
                for (unsigned i = 0; i < 3600; i++, t += USEC_PER_SEC) {
                        _cleanup_free_ char *final = NULL;
                        u->record->backup_name = mfree(u->record->backup_name);
                        r = backup_name_make(owner.node, u->record->folder, t, &u->record->backup_name);
                        if (r < 0)
                                break;
                        if (asprintf(&final, "%s/%s", root, u->record->backup_name) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        if (access(final, F_OK) < 0 && errno == ENOENT)
                                break;
                }
                if (r == -ENOMEM)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                if (r == -ENAMETOOLONG)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED,
                                "the upgrade's folder name '%s' is too long to name a backup after it; set UNSAFE_SKIP_BACKUP=true to upgrade without a backup.",
                                u->record->folder);
                if (r < 0)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "no backup name can be made (%s): is the system clock set?",
                                strerror(-r));
                r = upgrade_save_record(u);
                if (r < 0)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the upgrade record could not be written.");
        }
        if (!owner.node) {
                r = backup_owner_get(u->layout->daemon_name, u->layout->home, u->config->backup_dir, &owner);
                if (r == -ENOMEM)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
        }
        if (owner.node)
                (void) backup_cleanup_partial(root, &owner);

        BackupSpec spec = {
                .data_path = data,
                .backup_root = root,
                .name = u->record->backup_name,
                /* No limit: ORAIVISOR_HOOK_TIMEOUT is for hooks that may hang; a copy of a big data/ on a
                 * file system without reflinks legitimately takes hours, shows its progress in STATUS=,
                 * and is stopped by SIGTERM like every step. */
                .timeout = 0,
        };
        log_info("Backing up '%s' to '%s/%s'.", data, root, u->record->backup_name);
        notify_status("%s: backing up data", u->label);
        u->backup_started = now(CLOCK_MONOTONIC);
        r = backup_start(u->event, &spec, on_backup_done, on_backup_progress, u, &u->backup);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the backup could not be started: %s.", strerror(-r));
}

