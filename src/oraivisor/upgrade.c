/* SPDX-License-Identifier: LGPL-2.1-or-later */

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

/* x/upgrade's pre-upgrade protocol (cosmos-sdk docs, "pre-upgrade handling"). */

static void step_begin(Upgrade *u, UpgradeStep step);
void upgrade_step_next(Upgrade *u);

Upgrade *upgrade_free(Upgrade *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->delay);
        sd_event_source_disable_unref(u->defer);
        sd_event_source_disable_unref(u->lock_timer);
        safe_close(u->install_lock_fd);
        sd_event_source_disable_unref(u->stop_timer);
        sd_event_source_disable_unref(u->stop_defer);
        child_free(u->child);
        backup_free(u->backup);
        obtain_free(u->obtain);
        readiness_free(u->readiness);
        free(u->node_unit);
        upgrade_record_free(u->record);
        sd_event_unref(u->event);
        free(u->label);
        free(u->binary);
        free(u->version_dir);
        return mfree(u);
}

const UpgradePlan *upgrade_plan(const Upgrade *u) {
        return u->record->plan;
}

UpgradeStep upgrade_current_step(const Upgrade *u) {
        return u->record->step;
}

usec_t upgrade_started_usec(const Upgrade *u) {
        return u->record->started_usec;
}

bool upgrade_backup_made(const Upgrade *u, uint64_t *ret_bytes, usec_t *ret_duration) {
        if (!u->backup_made)
                return false;
        *ret_bytes = u->backup_bytes;
        *ret_duration = u->backup_duration;
        return true;
}

int upgrade_set_node_unit(Upgrade *u, const char *unit) {
        char *c = unit ? strdup(unit) : NULL;
        if (unit && !c)
                return -ENOMEM;
        free(u->node_unit);
        u->node_unit = c;
        return 0;
}

void upgrade_set_step_begun(Upgrade *u, UpgradeStepBegun cb) {
        u->step_begun = cb;
}

int upgrade_save_record(Upgrade *u) {
        _cleanup_free_ char *json = NULL;
        if (upgrade_record_to_json(u->record, &json) < 0)
                return log_oom();
        int r = write_file_atomic_at(u->layout->root_fd, RECORD_FILE, json, strlen(json), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s/" RECORD_FILE "': %m", u->layout->root);
        return 0;
}

static int record_remove(Upgrade *u) {
        if (unlinkat(u->layout->root_fd, RECORD_FILE, 0) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove '%s/" RECORD_FILE "': %m", u->layout->root);
        return fsync_directory_fd(u->layout->root_fd);
}

static char *height_string(const UpgradePlan *p) {
        char *s = NULL;
        if (p->time)
                return strdup(p->time);
        return asprintf(&s, "%" PRIi64, p->height) < 0 ? NULL : s;
}

/* Ends the upgrade: logs the outcome once and hands it to the owner, who may free us. */
void upgrade_finish(Upgrade *u, int error, int exit_status, const char *format, ...) _printf_(4, 5);
void upgrade_finish(Upgrade *u, int error, int exit_status, const char *format, ...) {
        const UpgradePlan *p = u->record->plan;
        if (error < 0) {
                _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
                _cleanup_free_ char *step = NULL;
                va_list ap;
                va_start(ap, format);
                (void) outcome_failv(&o, error, format, ap);
                va_end(ap);
                const char *step_name = upgrade_step_to_string(u->record->step);
                if (asprintf(&step, "ORAIVISOR_UPGRADE_STEP=%s", step_name) < 0)
                        step = NULL;
                log_event(EVENT_UPGRADE_FAILED, LOG_ERR, error, u->layout->daemon_name, p,
                        step ? STRV_MAKE(step) : NULL, "Upgrade '%s' failed at step %s: %s '%s/current' is unchanged.",
                        p->name, step_name, strna(o.message), u->layout->root);
                notify_status("upgrade %s failed at step %s", p->name, step_name);
                (void) record_remove(u);
        }
        u->lock_timer = sd_event_source_disable_unref(u->lock_timer);
        u->install_lock_fd = safe_close(u->install_lock_fd);
        u->done(u, error, exit_status, u->userdata);
}

/* ---- hooks ------------------------------------------------------------------------------------------ */

/* The node's environment (core/child-env.c) with the new version's lib/, as DAEMON_USER. */
static char **hook_env(Upgrade *u) {
        _cleanup_free_ char *lib = NULL;
        _cleanup_strv_free_ char **env = NULL;
        struct stat st;
        if (asprintf(&lib, "%s/%s/lib", u->layout->root, u->version_dir) < 0)
                return NULL;
        if (child_env_for_node(environ, stat(lib, &st) >= 0 && S_ISDIR(st.st_mode) ? lib : NULL, &env) < 0)
                return NULL;
        if (credentials_env(u->run_as, &env) < 0)
                return NULL;
        return TAKE_PTR(env);
}

static int run_hook(Upgrade *u, char *const *argv, const char *description, ChildDone done) {
        _cleanup_strv_free_ char **env = hook_env(u);
        if (!env)
                return log_oom();
        ChildSpec spec = CHILD_SPEC_INIT;
        spec.argv = argv;
        spec.env = env;
        spec.working_directory = u->layout->home;
        spec.credentials = u->run_as;
        spec.stdout_fd = STDERR_FILENO; /* hook output belongs with our messages, not the daemon's stdout */
        spec.timeout = u->config->hook_timeout;
        spec.description = description;
        u->hook_what = description;
        return child_spawn(u->event, &spec, done, u, &u->child);
}

/* ---- stopping ----------------------------------------------------------------------------------------- */

static const char *describe_result(const ChildResult *r, char *buf, size_t len) {
        DaemonExit e = { .code = r->code, .status = r->status };
        return daemon_exit_describe(&e, buf, len);
}


static bool stop_intercept(Upgrade *u, const ChildResult *res);

static int on_stop_defer(sd_event_source *s, void *userdata) {
        Upgrade *u = userdata;
        u->stop_defer = sd_event_source_disable_unref(u->stop_defer);
        /* May free u. */
        u->stopped(u, u->userdata);
        return 0;
}

/* Records what the stop request did and hands over to the owner (through the loop). */
static void stop_complete(Upgrade *u, char *outcome) {
        UpgradeInterruption *i = u->record->interrupted;
        free(i->outcome);
        i->outcome = outcome;
        i->killed = u->stop_killed;
        u->stop_timer = sd_event_source_disable_unref(u->stop_timer);
        if (upgrade_save_record(u) >= 0)
                log_notice("Upgrade '%s' stopped at step %s (%s): %s. The next start resumes it.",
                        u->record->plan->name, upgrade_step_to_string(i->step), i->by, strna(i->outcome));
        if (sd_event_add_defer(u->event, &u->stop_defer, on_stop_defer, u) < 0)
                /* No loop to go through: the owner frees us right after this returns anyway. */
                u->stopped(u, u->userdata);
}

static int on_stop_grace(sd_event_source *s, uint64_t usec, void *userdata) {
        Upgrade *u = userdata;
        char t[FORMAT_TIMESPAN_MAX];
        u->stop_timer = sd_event_source_disable_unref(u->stop_timer);
        if (!u->child)
                return 0;
        log_warning("%s (pid %d) did not exit within DAEMON_SHUTDOWN_GRACE=%s after SIGTERM, killing it.",
                u->hook_what, (int) child_pid(u->child), format_timespan(t, sizeof(t), u->stop_grace));
        u->stop_killed = true;
        (void) child_kill(u->child, SIGKILL);
        return 0;
}

/* In a hook's done callback: true when a stop request took it over (and u may be gone). */
static bool stop_intercept(Upgrade *u, const ChildResult *res) {
        char buf[128], t[FORMAT_TIMESPAN_MAX];
        if (!u->stopped)
                return false;
        char *outcome = NULL;
        usec_t took = now(CLOCK_MONOTONIC) - u->stop_asked;
        if (u->stop_killed)
                (void) asprintf(&outcome, "%s did not exit within DAEMON_SHUTDOWN_GRACE=%s after SIGTERM and was killed",
                        u->hook_what, format_timespan(t, sizeof(t), u->stop_grace));
        else
                (void) asprintf(&outcome, "%s got SIGTERM and %s %s later", u->hook_what,
                        describe_result(res, buf, sizeof(buf)), format_timespan(t, sizeof(t), took));
        stop_complete(u, outcome);
        return true;
}

int upgrade_stop(Upgrade *u, const char *by, usec_t grace, UpgradeStopped stopped) {
        char t[FORMAT_TIMESPAN_MAX];
        assert(u);
        assert(by);
        assert(stopped);

        if (u->stopped) {
                /* Asked again: a hook still in its grace is killed now. */
                if (u->child && !u->stop_killed) {
                        log_notice("Asked again to stop: killing %s now.", u->hook_what);
                        u->stop_killed = true;
                        (void) child_kill(u->child, SIGKILL);
                }
                return 0;
        }

        _cleanup_(upgrade_interruption_freep) UpgradeInterruption *i = new0(UpgradeInterruption, 1);
        if (!i)
                return -ENOMEM;
        i->by = strdup(by);
        if (!i->by)
                return -ENOMEM;
        i->step = u->record->step;
        i->usec = now(CLOCK_REALTIME);
        upgrade_interruption_free(u->record->interrupted);
        u->record->interrupted = TAKE_PTR(i);
        u->stopped = stopped;
        u->stop_grace = grace;
        u->stop_asked = now(CLOCK_MONOTONIC);

        /* Nothing else starts from here on. */
        u->delay = sd_event_source_disable_unref(u->delay);
        u->defer = sd_event_source_disable_unref(u->defer);
        u->lock_timer = sd_event_source_disable_unref(u->lock_timer);

        if (u->child) {
                if (grace == 0) {
                        u->stop_killed = true;
                        (void) child_kill(u->child, SIGKILL);
                        return 0;
                }
                log_notice("Sending SIGTERM to %s (pid %d); it gets DAEMON_SHUTDOWN_GRACE=%s to finish.", u->hook_what,
                        (int) child_pid(u->child), format_timespan(t, sizeof(t), grace));
                (void) child_kill(u->child, SIGTERM);
                int r = sd_event_add_time_relative(u->event, &u->stop_timer, CLOCK_MONOTONIC, grace, 0, on_stop_grace, u);
                if (r < 0) {
                        u->stop_killed = true;
                        (void) child_kill(u->child, SIGKILL);
                }
                return 0;
        }

        char *outcome = NULL;
        if (u->backup) {
                /* Our own worker: a partial backup is worthless, and is removed. */
                u->backup = backup_free(u->backup);
                outcome = strdup("the backup was cancelled and its partial folder removed");
        } else if (u->obtain) {
                u->obtain = obtain_free(u->obtain);
                outcome = strdup("the download was cancelled");
        } else if (u->readiness) {
                u->readiness = readiness_free(u->readiness);
                outcome = strdup("the readiness check of the new binary was cancelled");
        } else
                outcome = strdup("no hook or worker was running");
        stop_complete(u, outcome);
        return 0;
}

static void hooks_run_next(Upgrade *u);

static void on_hook_done(Child *c, const ChildResult *res, void *userdata) {
        Upgrade *u = userdata;
        char buf[128], t[FORMAT_TIMESPAN_MAX];
        const char *what = u->hook_index == 0 ? "The custom pre-upgrade script" : "The migration script";
        u->child = child_free(u->child);
        if (stop_intercept(u, res))
                return;

        if (res->timed_out)
                return upgrade_finish(u, -ETIME, EXIT_UPGRADE_FAILED, "%s did not finish within ORAIVISOR_HOOK_TIMEOUT=%s.",
                        what, format_timespan(t, sizeof(t), u->config->hook_timeout));
        if (res->code != CLD_EXITED || res->status != 0)
                return upgrade_finish(u, -EPROTO, EXIT_UPGRADE_FAILED, "%s %s; fix it and start oraivisor again.", what,
                        describe_result(res, buf, sizeof(buf)));
        log_info("%s finished successfully.", what);
        u->hook_index++;
        hooks_run_next(u);
}

static void hooks_run_next(Upgrade *u) {
        const UpgradePlan *p = u->record->plan;
        _cleanup_free_ char *h = height_string(p), *path = NULL;
        int r;

        if (!h)
                return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");

        if (u->hook_index == 0) {
                if (!u->config->custom_preupgrade) {
                        u->hook_index++;
                        return hooks_run_next(u);
                }
                if (asprintf(&path, "%s/%s", u->layout->root, u->config->custom_preupgrade) < 0)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                struct stat st;
                if (fstatat(u->layout->root_fd, u->config->custom_preupgrade, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                        !S_ISREG(st.st_mode))
                        return upgrade_finish(u, -ENOENT, EXIT_UPGRADE_FAILED,
                                "ORAIVISOR_CUSTOM_PREUPGRADE names '%s', which is not a regular file. Install the script there or unset the variable.",
                                path);
                if ((st.st_mode & 0100) == 0) {
                        /* As cosmovisor does: the script only has to be put in place. */
                        if (fchmodat(u->layout->root_fd, u->config->custom_preupgrade, st.st_mode | 0100, 0) < 0)
                                return upgrade_finish(u, -errno, EXIT_UPGRADE_FAILED, "'%s' is not executable and chmod u+x failed: %s.",
                                        path, strerror(errno));
                        log_notice("Made '%s' executable (u+x).", path);
                }
                log_info("Running the custom pre-upgrade script: %s %s %s", path, p->name, h);
                notify_status("%s: running the custom pre-upgrade script", u->label);
                r = run_hook(u, STRV_MAKE(path, p->name, h), "the custom pre-upgrade script", on_hook_done);
                if (r < 0)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the custom pre-upgrade script could not be started: %s.", strerror(-r));
                return;
        }

        if (u->hook_index == 1) {
                if (asprintf(&path, "%s/%s/bin/migrate", u->layout->root, u->version_dir) < 0)
                        return upgrade_finish(u, log_oom(), EXIT_INTERNAL, "out of memory.");
                struct stat st;
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                        u->hook_index++;
                        return hooks_run_next(u);
                }
                if (access(path, X_OK) < 0) {
                        log_notice("'%s' is not executable, not running it.", path);
                        u->hook_index++;
                        return hooks_run_next(u);
                }
                log_info("Running the migration script: %s %s %s", path, p->name, h);
                notify_status("%s: running the migration script", u->label);
                r = run_hook(u, STRV_MAKE(path, p->name, h), "the migration script", on_hook_done);
                if (r < 0)
                        return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the migration script could not be started: %s.", strerror(-r));
                return;
        }

        upgrade_step_next(u);
}

/* ---- pre-upgrade -------------------------------------------------------------------------------------- */

static void preupgrade_run(Upgrade *u);

static void on_preupgrade_done(Child *c, const ChildResult *res, void *userdata) {
        Upgrade *u = userdata;
        char buf[128], t[FORMAT_TIMESPAN_MAX];
        u->child = child_free(u->child);
        if (stop_intercept(u, res))
                return;

        if (res->timed_out)
                return upgrade_finish(u, -ETIME, EXIT_UPGRADE_FAILED, "'%s pre-upgrade' did not finish within ORAIVISOR_HOOK_TIMEOUT=%s.",
                        u->binary, format_timespan(t, sizeof(t), u->config->hook_timeout));
        if (res->code != CLD_EXITED)
                return upgrade_finish(u, -EPROTO, EXIT_UPGRADE_FAILED, "'%s pre-upgrade' %s.", u->binary,
                        describe_result(res, buf, sizeof(buf)));

        switch (preupgrade_verdict(res->status, u->preupgrade_attempt, u->config->preupgrade_max_retries)) {
        case PREUPGRADE_DONE:
                log_info("'%s pre-upgrade' succeeded.", u->binary);
                return upgrade_step_next(u);
        case PREUPGRADE_NOT_IMPLEMENTED:
                log_info("'%s pre-upgrade' is not implemented by this binary (exit status 1), going on.", u->binary);
                return upgrade_step_next(u);
        case PREUPGRADE_ABORTED:
                return upgrade_finish(u, -ECANCELED, EXIT_UPGRADE_FAILED,
                        "'%s pre-upgrade' asked to abort the upgrade (exit status 30).", u->binary);
        case PREUPGRADE_RETRY:
                u->preupgrade_attempt++;
                log_notice("'%s pre-upgrade' asked for a retry (exit status 31), attempt %u of %u.", u->binary,
                        u->preupgrade_attempt, u->config->preupgrade_max_retries);
                return preupgrade_run(u);
        case PREUPGRADE_RETRIES_EXHAUSTED:
                return upgrade_finish(u, -EAGAIN, EXIT_UPGRADE_FAILED,
                        "'%s pre-upgrade' still asked for a retry (exit status 31) after DAEMON_PREUPGRADE_MAX_RETRIES=%u retries.",
                        u->binary, u->config->preupgrade_max_retries);
        default:
                return upgrade_finish(u, -EPROTO, EXIT_UPGRADE_FAILED,
                        "'%s pre-upgrade' failed with exit status %d (0 = done, 1 = not implemented, 30 = abort, 31 = retry).",
                        u->binary, res->status);
        }
}

static void preupgrade_run(Upgrade *u) {
        log_info("Running '%s pre-upgrade'.", u->binary);
        notify_status("%s: running %s pre-upgrade", u->label, u->layout->daemon_name);
        int r = run_hook(u, STRV_MAKE(u->binary, "pre-upgrade"), "the pre-upgrade command", on_preupgrade_done);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "'%s pre-upgrade' could not be started: %s.", u->binary, strerror(-r));
}

/* ---- switch ------------------------------------------------------------------------------------------- */

static void step_switch(Upgrade *u) {
        notify_status("%s: switching", u->label);
        int r = layout_switch(u->layout, u->version_dir, NULL, NULL);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "'current' could not be switched: %s.", strerror(-r));
        r = layout_record_plan(u->layout, u->record->folder, u->record->plan);
        if (r < 0)
                /* current already points to the new version: a missing record only means a later start cannot
                 * tell which plan activated it; the plan file check then compares folders. */
                log_warning("The plan could not be recorded in '%s/%s/upgrade-info.json', ignoring.", u->layout->root,
                        u->version_dir);
        r = record_remove(u);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the upgrade record, ignoring: %m");
        u->install_lock_fd = safe_close(u->install_lock_fd);
        /* For `oraivisorctl status`: which upgrade ran last, when, how long, with which backup. */
        LastUpgrade last = {
                .plan = u->record->plan,
                .folder = u->record->folder,
                .backup_name = u->config->unsafe_skip_backup ? NULL : u->record->backup_name,
                .started_usec = u->record->started_usec,
                .finished_usec = now(CLOCK_REALTIME),
        };
        if (last_upgrade_save(u->layout, &last) < 0)
                log_warning("The upgrade could not be recorded in '%s/" LAST_UPGRADE_FILE "', ignoring.", u->layout->root);

        if (!u->config->unsafe_skip_backup && u->config->backup_keep > 0) {
                _cleanup_(backup_owner_done) BackupOwner owner = {};
                if (backup_owner_get(u->layout->daemon_name, u->layout->home, u->config->backup_dir, &owner) >= 0)
                        (void) backup_prune(u->config->backup_dir ?: u->layout->home, &owner, NULL,
                                u->config->backup_keep);
        }
        log_event(EVENT_UPGRADE_FINISHED, LOG_NOTICE, 0, u->layout->daemon_name, u->record->plan, NULL,
                "Upgrade '%s' installed: '%s/current' now points to %s.", u->record->plan->name, u->layout->root,
                u->version_dir);
        u->done(u, 0, 0, u->userdata);
}

/* ---- sequencing --------------------------------------------------------------------------------------- */

static void step_begin(Upgrade *u, UpgradeStep step) {
        u->record->step = step;
        int r = upgrade_save_record(u);
        if (r < 0)
                return upgrade_finish(u, r, EXIT_UPGRADE_FAILED, "the upgrade record could not be written.");
        log_debug("Upgrade '%s': step %s.", u->record->plan->name, upgrade_step_to_string(step));
        if (u->step_begun)
                u->step_begun(u, u->userdata);
        upgrade_step_dispatch(u);
}

void upgrade_step_dispatch(Upgrade *u) {
        UpgradeStep step = u->record->step;
        if (step >= UPGRADE_STEP_OBTAIN && upgrade_install_lock_take(u) <= 0)
                return;

        switch (step) {
        case UPGRADE_STEP_BACKUP:
                return upgrade_step_backup(u);
        case UPGRADE_STEP_OBTAIN:
                return upgrade_step_obtain(u);
        case UPGRADE_STEP_HOOKS:
                u->hook_index = 0;
                return hooks_run_next(u);
        case UPGRADE_STEP_PREUPGRADE:
                u->preupgrade_attempt = 0;
                return preupgrade_run(u);
        case UPGRADE_STEP_SWITCH:
                return step_switch(u);
        default:
                assert(false);
        }
}

static int on_defer_next(sd_event_source *s, void *userdata) {
        Upgrade *u = userdata;
        u->defer = sd_event_source_disable_unref(u->defer);
        step_begin(u, upgrade_step_after(u->record->step));
        return 0;
}

void upgrade_step_next(Upgrade *u) {
        /* Through the loop, so a chain of quick steps does not grow the stack and the watchdog keeps up. */
        int r = sd_event_add_defer(u->event, &u->defer, on_defer_next, u);
        if (r < 0)
                upgrade_finish(u, r, EXIT_INTERNAL, "the event loop refused a deferred step: %s.", strerror(-r));
}

/* Before anything is copied: is the binary there, or may it be fetched? */
static int precheck(Upgrade *u) {
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        bool usable = upgrade_check_binary(u) >= 0;
        if (asprintf(&dir, "%s/%s", u->layout->root, u->version_dir) < 0)
                return log_oom();

        switch (upgrade_begin(usable, !usable && stat(dir, &st) >= 0, u->record->step, u->config->allow_download)) {
        case UPGRADE_BEGIN_FOLDER_ONLY:
                upgrade_finish(u, -ENOENT, EXIT_UPGRADE_MISSING,
                        "'%s' exists but holds no usable binary '%s'. Install the binary there (chmod +x), or remove the folder%s.",
                        dir, u->binary, u->config->allow_download ? " so that it can be downloaded" : "");
                return -ENOENT;
        case UPGRADE_BEGIN_MISSING:
                upgrade_finish(u, -ENOENT, EXIT_UPGRADE_MISSING,
                        "The binary for upgrade '%s' is not installed. Install it as '%s' (chmod +x) and start oraivisor again, or set DAEMON_ALLOW_DOWNLOAD_BINARIES=true.",
                        u->record->plan->name, u->binary);
                return -ENOENT;
        default:
                return 0;
        }
}

static int on_delay_done(sd_event_source *s, uint64_t usec, void *userdata) {
        Upgrade *u = userdata;
        u->delay = sd_event_source_disable_unref(u->delay);
        if (precheck(u) < 0)
                return 0;
        step_begin(u, u->record->step);
        return 0;
}

int upgrade_start(sd_event *e, const Config *c, Layout *l, const Credentials *run_as, const UpgradePlan *plan,
        const UpgradeRecord *resume, UpgradeDone done, void *userdata, Upgrade **ret) {
        int r;

        _cleanup_(upgrade_freep) Upgrade *u = new0(Upgrade, 1);
        if (!u)
                return log_oom();
        u->event = sd_event_ref(e);
        u->config = c;
        u->layout = l;
        u->run_as = run_as;
        u->done = done;
        u->userdata = userdata;
        u->install_lock_fd = -EBADF;
        u->record = new0(UpgradeRecord, 1);
        if (!u->record)
                return log_oom();

        if (resume) {
                r = upgrade_plan_dup(resume->plan, &u->record->plan);
                if (r < 0)
                        return log_oom();
                u->record->folder = strdup(resume->folder);
                u->record->backup_name = resume->backup_name ? strdup(resume->backup_name) : NULL;
                if (!u->record->folder || (resume->backup_name && !u->record->backup_name))
                        return log_oom();
                u->record->step = resume->step;
                u->record->started_usec = resume->started_usec;
        } else {
                r = upgrade_plan_dup(plan, &u->record->plan);
                if (r < 0)
                        return log_oom();
                r = layout_find_upgrade(l, plan->name, &u->record->folder);
                if (r < 0)
                        return r;
                u->record->step = UPGRADE_STEP_BACKUP;
                u->record->started_usec = now(CLOCK_REALTIME);
        }
        if (asprintf(&u->label, "upgrade %s", u->record->plan->name) < 0 ||
                asprintf(&u->version_dir, "upgrades/%s", u->record->folder) < 0)
                return log_oom();

        log_event(EVENT_UPGRADE_STARTED, LOG_NOTICE, 0, l->daemon_name, u->record->plan, NULL,
                resume ? "Resuming the interrupted upgrade '%s' at step %s." : "Starting upgrade '%s'%s.",
                u->record->plan->name, resume ? upgrade_step_to_string(resume->step) : "");
        if (resume && resume->interrupted)
                log_info("The last attempt was stopped by %s at step %s: %s.", resume->interrupted->by,
                        strna(upgrade_step_to_string(resume->interrupted->step)), strna(resume->interrupted->outcome));

        usec_t delay = resume ? 0 : c->restart_delay;
        if (delay > 0) {
                char buf[FORMAT_TIMESPAN_MAX];
                notify_status("%s: waiting DAEMON_RESTART_DELAY=%s", u->label, format_timespan(buf, sizeof(buf), delay));
        }
        r = sd_event_add_time_relative(e, &u->delay, CLOCK_MONOTONIC, delay, 0, on_delay_done, u);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the restart delay: %m");

        *ret = TAKE_PTR(u);
        return 0;
}
