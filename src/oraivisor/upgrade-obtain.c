/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The upgrade engine's obtain step: the version installed, or downloaded through shared/obtain; then its
 * readiness on this host; and the install lock held from here to the switch. */

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

#define RECORD_FILE UPGRADE_RECORD_FILE

/* ---- obtain ------------------------------------------------------------------------------------------- */

int upgrade_check_binary(Upgrade *u) {
        free(u->binary);
        u->binary = NULL;
        int r = layout_check_binary(u->layout, u->version_dir, &u->binary);
        u->binary_present = r >= 0;
        return r;
}

/* Installed is not enough: the new version must start on this host (its libraries, its glibc, its
 * architecture, `version` answering), or the switch would leave the node down at the height with a binary
 * that cannot run. A version that is not ready stops the upgrade here, before hooks, pre-upgrade and the
 * switch, and 'current' is unchanged. */
static void on_ready(Readiness *r, const ReadinessResult *res, void *userdata) {
        Upgrade *u = userdata;
        if (res->ready) {
                /* res belongs to the check: said before it goes. */
                if (res->unit)
                        log_info("'%s' is ready: it will start on this host, in the node's sandbox (checked in '%s').",
                                u->binary, res->unit);
                else
                        log_info("'%s' is ready: it will start on this host.", u->binary);
                u->readiness = readiness_free(u->readiness);
                return upgrade_step_next(u);
        }
        _cleanup_free_ char *why = strdup(strna(res->reason));
        u->readiness = readiness_free(u->readiness);
        log_event(EVENT_VERSION_NOT_READY, LOG_ERR, 0, u->layout->daemon_name, u->record->plan, NULL,
                "Upgrade '%s': its binary '%s' will not start on this host: it %s.", u->record->plan->name, u->binary,
                strna(why));
        return upgrade_finish(u, -ENOEXEC, EXIT_UPGRADE_FAILED,
                "its binary '%s' will not start on this host: it %s. Install a working one (oraivisorctl check %s says when it is), then start oraivisor again.",
                u->binary, strna(why), u->record->plan->name);
}

static void check_ready(Upgrade *u) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/%s", u->layout->root, u->version_dir) < 0)
                return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
        ReadinessSpec spec = {
                .version_dir = dir,
                .daemon_name = u->layout->daemon_name,
                .credentials = u->run_as,
                .env = environ,
                .working_directory = u->layout->home,
                .node_unit = u->node_unit,
                .config = u->config,
        };
        notify_status("%s: checking that the new binary starts on this host", u->label);
        int r = readiness_start(u->event, &spec, on_ready, u, &u->readiness);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the readiness check of '%s' could not start: %s.", u->binary,
                        strerror(-r));
}

static void on_obtain_progress(Obtain *o, const char *line, void *userdata) {
        notify_status("%s", line);
}

static void on_obtain_done(Obtain *o, int error, const char *message, void *userdata) {
        Upgrade *u = userdata;
        /* message belongs to the Obtain: keep a copy before freeing it. */
        _cleanup_free_ char *m = message ? strdup(message) : NULL;
        u->obtain = obtain_free(u->obtain);
        if (error < 0)
                return upgrade_finish(u, error, EXIT_UPGRADE_FAILED, "%s", strna(m));
        int r = upgrade_check_binary(u);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the download finished but '%s' cannot be used: %s.",
                        u->binary, strerror(-r));
        log_info("Downloaded and verified '%s'.", u->binary);
        check_ready(u);
}

void upgrade_step_obtain(Upgrade *u) {
        if (upgrade_check_binary(u) >= 0)
                return check_ready(u);
        _cleanup_close_ int ufd = open_or_create_dir_at(u->layout->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return upgrade_finish(u, ufd, EXIT_UPGRADE_FAILED, "'%s/upgrades' cannot be opened: %s.", u->layout->root,
                        strerror(-ufd));
        _cleanup_free_ char *upath = NULL;
        if (asprintf(&upath, "%s/upgrades", u->layout->root) < 0)
                return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
        ObtainSpec spec = {
                .upgrades_fd = ufd,
                .upgrades_path = upath,
                .folder = u->record->folder,
                .daemon_name = u->layout->daemon_name,
                .plan = u->record->plan,
                .config = u->config,
        };
        notify_status("%s: downloading", u->label);
        int r = obtain_start(u->event, &spec, on_obtain_done, on_obtain_progress, u, &u->obtain);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the download could not be started: %s.", strerror(-r));
}

/* ---- the install lock ---------------------------------------------------------------------------------- */

/* How long the engine waits for the install lock: oraivisorctl holds it for seconds (the time to unpack a
 * file); a holder that keeps it longer is stuck, and the upgrade fails saying whom it waited for. */
#define INSTALL_LOCK_WAIT_MAX (5 * USEC_PER_MINUTE)
#define INSTALL_LOCK_RETRY (100 * USEC_PER_MSEC)


static int on_lock_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Upgrade *u = userdata;
        u->lock_timer = sd_event_source_disable_unref(u->lock_timer);
        upgrade_step_dispatch(u);
        return 0;
}

/* Before the obtain step and every later one (also when resumed there): 1 when we hold the install lock,
 * 0 while waiting for it (a timer dispatches the step again), negative when the upgrade was finished. */
int upgrade_install_lock_take(Upgrade *u) {
        char t[FORMAT_TIMESPAN_MAX];
        if (u->install_lock_fd >= 0)
                return 1;

        _cleanup_free_ char *what = NULL, *holder = NULL;
        if (asprintf(&what, "oraivisor upgrading %s", u->record->plan->name) < 0) {
                upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                return -ENOMEM;
        }
        int fd = install_lock_acquire(u->layout->root_fd, what, 0, &holder);
        usec_t n = now(CLOCK_MONOTONIC);
        if (fd >= 0) {
                u->install_lock_fd = fd;
                if (u->lock_wait_start > 0)
                        log_info("Got the install lock '%s/.install-lock' after %s; upgrade '%s' goes on.",
                                u->layout->root, format_timespan(t, sizeof(t), n - u->lock_wait_start),
                                u->record->plan->name);
                u->lock_wait_start = 0;
                return 1;
        }
        if (fd != -EBUSY) {
                upgrade_finish(u, fd, EXIT_UPGRADE_FAILED, "the install lock '%s/.install-lock' cannot be taken: %s.",
                        u->layout->root, strerror(-fd));
                return fd;
        }
        _cleanup_free_ char *who = holder ? string_escape_for_log(holder, strlen(holder), 200) : NULL;
        if (u->lock_wait_start == 0) {
                u->lock_wait_start = n;
                log_notice("Upgrade '%s' waits for the install lock '%s/.install-lock', held by '%s' (at most %s).",
                        u->record->plan->name, u->layout->root, strna(who),
                        format_timespan(t, sizeof(t), INSTALL_LOCK_WAIT_MAX));
                notify_status("%s: waiting for '%s' (install lock)", u->label, strna(who));
        } else if (n - u->lock_wait_start >= INSTALL_LOCK_WAIT_MAX) {
                upgrade_finish(u, -EBUSY, EXIT_UPGRADE_FAILED,
                        "'%s' still holds the install lock '%s/.install-lock' after %s; stop it and start oraivisor again.",
                        strna(who), u->layout->root, format_timespan(t, sizeof(t), INSTALL_LOCK_WAIT_MAX));
                return -EBUSY;
        }
        int r = sd_event_add_time_relative(u->event, &u->lock_timer, CLOCK_MONOTONIC, INSTALL_LOCK_RETRY, 0,
                on_lock_retry, u);
        if (r < 0) {
                upgrade_finish(u, r, EXIT_INTERNAL, "the event loop refused a timer: %s.", strerror(-r));
                return r;
        }
        return 0;
}

