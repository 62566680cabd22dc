/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "events.h"
#include "exit-status.h"
#include "fd-util.h"
#include "launcher-exec.h"
#include "layout.h"
#include "lock.h"
#include "log.h"
#include "manager.h"
#include "net-probe.h"
#include "notify.h"
#include "plan-watch.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade.h"
#include "upgrade-name.h"

#include "launcher-unit.h"
#include "obtain.h"
#include "backup.h"

/* How often EXTEND_TIMEOUT_USEC= is sent while a long step runs before READY=1 or during a stop, and by
 * how much each time. */
#define EXTEND_INTERVAL (5 * USEC_PER_SEC)
#define EXTEND_BY (30 * USEC_PER_SEC)
/* How long an announcement seen in the daemon's output waits for upgrade-info.json to confirm it when the
 * file exists but names another plan or cannot be parsed (the node may be rewriting it). */
#define LOG_PLAN_CONFIRM_USEC (3 * USEC_PER_SEC)

typedef enum ManagerState {
        STATE_STARTING,      /* start-up checks */
        STATE_PREPARING,     /* stopping a daemon found running before an upgrade due at start-up */
        STATE_LAUNCHING,     /* start requested, not running yet */
        STATE_RUNNING,
        STATE_STOPPING,      /* stopping the daemon for an upgrade */
        STATE_UPGRADING,
        STATE_SHUTTING_DOWN, /* asked to exit: stopping the daemon */
        STATE_EXITING,
} ManagerState;

struct Manager {
        const Config *config;
        char **args;
        sd_event *event;
        Layout *layout;
        Launcher *launcher;
        bool unit_mode;
        int lock_fd;
        Credentials credentials;      /* DAEMON_USER/GROUP, for the exec daemon and the upgrade hooks */
        PlanWatch *plan_watch;
        Upgrade *upgrade;
        UpgradeRecord *resume;        /* an interrupted upgrade to resume once the daemon is stopped */
        UpgradePlan *acting;          /* the plan being acted on (stopping for it, or upgrading to it) */
        UpgradePlan *last_ignored;    /* to say "ignoring" once per plan, not per line */
        UpgradePlan *unconfirmed;     /* announced in the output, not (yet) confirmed by upgrade-info.json */
        sd_event_source *confirm_timer;
        CurrentVersion current;
        char *version_label;          /* "genesis" or the upgrade's name */
        int64_t *skip_heights;
        size_t n_skip_heights;
        ManagerState state;
        bool ready_sent;
        bool shutdown_requested;
        int exit_status;
        sd_event_source *signals[3];
        sd_event_source *extend_timer;
        sd_event_source *shutdown_kill_timer;
};

static void manager_exit(Manager *m, int status) {
        if (m->state == STATE_EXITING)
                return;
        m->state = STATE_EXITING;
        m->exit_status = status;
        notify_stopping(NULL);
        (void) sd_event_exit(m->event, status);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        upgrade_free(m->upgrade);
        plan_watch_free(m->plan_watch);
        launcher_free(m->launcher);
        for (size_t i = 0; i < ELEMENTSOF(m->signals); i++)
                sd_event_source_disable_unref(m->signals[i]);
        sd_event_source_disable_unref(m->extend_timer);
        sd_event_source_disable_unref(m->shutdown_kill_timer);
        sd_event_unref(m->event);
        upgrade_record_free(m->resume);
        upgrade_plan_free(m->acting);
        upgrade_plan_free(m->last_ignored);
        upgrade_plan_free(m->unconfirmed);
        sd_event_source_disable_unref(m->confirm_timer);
        current_version_done(&m->current);
        free(m->version_label);
        layout_free(m->layout);
        safe_close(m->lock_fd);
        strv_free(m->args);
        free(m->skip_heights);
        credentials_done(&m->credentials);
        return mfree(m);
}

/* ---- EXTEND_TIMEOUT_USEC while a long step holds up start-up or stop ----------------------------------- */

static int on_extend(sd_event_source *s, uint64_t usec, void *userdata) {
        notify_extend_timeout(EXTEND_BY);
        (void) sd_event_source_set_time_relative(s, EXTEND_INTERVAL);
        return 0;
}

static void extend_timeout(Manager *m, bool on) {
        if (!on) {
                m->extend_timer = sd_event_source_disable_unref(m->extend_timer);
                return;
        }
        if (m->extend_timer || !getenv("NOTIFY_SOCKET"))
                return;
        notify_extend_timeout(EXTEND_BY);
        if (sd_event_add_time_relative(m->event, &m->extend_timer, CLOCK_MONOTONIC, EXTEND_INTERVAL, 0, on_extend, m) >= 0)
                (void) sd_event_source_set_enabled(m->extend_timer, SD_EVENT_ON);
}

/* ---- launching ---------------------------------------------------------------------------------------- */

static int refresh_current(Manager *m) {
        current_version_done(&m->current);
        int r = layout_read_current(m->layout, &m->current);
        if (r < 0)
                return r;
        free(m->version_label);
        m->version_label = current_version_label(&m->current);
        return m->version_label ? 0 : log_oom();
}

/* The daemon's environment: ours, minus what systemd set for oraivisor itself, with the version's lib/
 * first on LD_LIBRARY_PATH (CosmWasm chains ship libwasmvm beside the binary). */
static char **daemon_env(const Manager *m) {
        _cleanup_strv_free_ char **env = strv_env_filter(environ,
                STRV_MAKE("NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_PID", "LISTEN_FDS",
                        "LISTEN_FDNAMES", "INVOCATION_ID", "JOURNAL_STREAM", "MANAGERPID", "SYSTEMD_EXEC_PID"),
                NULL);
        if (!env)
                return NULL;
        if (m->current.lib_dir) {
                const char *old = strv_env_get(env, "LD_LIBRARY_PATH");
                _cleanup_free_ char *v = NULL;
                if (asprintf(&v, "%s%s%s", m->current.lib_dir, isempty(old) ? "" : ":", strempty(old)) < 0 ||
                        strv_env_set(&env, "LD_LIBRARY_PATH", v) < 0)
                        return NULL;
        }
        /* systemd's User= sets these for the unit launcher. */
        if (!m->unit_mode && credentials_env(&m->credentials, &env) < 0)
                return NULL;
        return TAKE_PTR(env);
}

static int exit_status_for_launch_error(int r) {
        switch (r) {
        case -ENOENT: case -EACCES: case -ENOEXEC: case -ENOLINK: case -ELIBBAD: case -EISDIR:
                return EXIT_LAYOUT;
        case -ESRCH:   /* DAEMON_USER/DAEMON_GROUP does not exist */
        case -EEXIST:  /* the daemon unit's name is taken: a unit file, a unit running outside us, one systemd keeps */
                return EXIT_CONFIG;
        case -ENOMEM:
                return EXIT_INTERNAL;
        default:
                return EXIT_SYSTEM;
        }
}

static int manager_launch(Manager *m) {
        int r = refresh_current(m);
        if (r < 0) {
                manager_exit(m, r == -ENOMEM ? EXIT_INTERNAL : EXIT_LAYOUT);
                return r;
        }

        _cleanup_strv_free_ char **argv = NULL, **env = daemon_env(m);
        if (!env || strv_extend(&argv, m->current.binary) < 0)
                goto oom;
        STRV_FOREACH(a, m->args)
                if (strv_extend(&argv, *a) < 0)
                        goto oom;

        LaunchSpec spec = {
                .binary = m->current.binary,
                .argv = argv,
                .env = env,
                .working_directory = m->unit_mode ? m->config->home : NULL,
                .version = m->version_label,
                .credentials = &m->credentials,
        };
        log_info("Starting %s (%s): %s", m->config->name, m->version_label, m->current.binary);
        notify_status("starting %s (%s)", m->config->name, m->version_label);
        m->state = STATE_LAUNCHING;
        r = launcher_start(m->launcher, &spec);
        if (r < 0) {
                log_event(EVENT_DAEMON_EXITED, LOG_ERR, r, m->config->name, m->current.plan, NULL,
                        "The daemon '%s' could not be started: %s", m->current.binary, strerror(-r));
                manager_exit(m, exit_status_for_launch_error(r));
                return r;
        }
        return 0;
oom:
        manager_exit(m, EXIT_INTERNAL);
        return log_oom();
}

static void set_running_status(Manager *m) {
        notify_status("%s (%s%s) running; watching for upgrade plans", m->config->name,
                m->current.folder ? "upgrade " : "", m->version_label);
}

/* ---- upgrades ----------------------------------------------------------------------------------------- */

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata);

static void start_upgrade(Manager *m, const UpgradeRecord *resume) {
        const UpgradePlan *plan = resume ? resume->plan : m->acting;
        m->state = STATE_UPGRADING;
        if (!m->ready_sent)
                extend_timeout(m, true);
        int r = upgrade_start(m->event, m->config, m->layout, &m->credentials, plan, resume, on_upgrade_done, m, &m->upgrade);
        if (r < 0) {
                log_event(EVENT_UPGRADE_FAILED, LOG_ERR, r, m->config->name, plan, NULL,
                        "Upgrade '%s' could not be started. '%s/current' is unchanged.", plan->name, m->layout->root);
                manager_exit(m, r == -ENOMEM ? EXIT_INTERNAL : EXIT_UPGRADE_FAILED);
        }
}

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata) {
        Manager *m = userdata;
        m->upgrade = upgrade_free(m->upgrade);
        m->resume = upgrade_record_free(m->resume);
        extend_timeout(m, false);

        if (error < 0)
                return manager_exit(m, exit_status);

        if (m->shutdown_requested)
                return manager_exit(m, 0);

        if (!m->config->restart_after_upgrade) {
                const char *name = m->acting ? m->acting->name : "";
                if (m->config->under_systemd) {
                        /* systemd is the supervisor, and the shipped unit restarts nothing that exits 0: the
                         * node stays down, so the unit must not look cleanly stopped. STATUS= outlives us in
                         * `systemctl status`; 82 is in the unit's RestartPreventExitStatus=. */
                        notify_status("upgrade %s installed; %s stopped as DAEMON_RESTART_AFTER_UPGRADE=false asks: start this unit to run it",
                                name, m->config->name);
                        log_event(EVENT_NODE_LEFT_STOPPED, LOG_WARNING, 0, m->config->name, m->acting, NULL,
                                "Upgrade '%s' is installed; %s is left stopped because DAEMON_RESTART_AFTER_UPGRADE=false: start this unit again to run the new binary (exit status %d).",
                                name, m->config->name, EXIT_UPGRADE_INSTALLED_STOPPED);
                        return manager_exit(m, EXIT_UPGRADE_INSTALLED_STOPPED);
                }
                notify_status("upgrade %s installed; start oraivisor again to run it", name);
                log_event(EVENT_NODE_LEFT_STOPPED, LOG_NOTICE, 0, m->config->name, m->acting, NULL,
                        "Upgrade '%s' is installed. DAEMON_RESTART_AFTER_UPGRADE is false: start oraivisor again to run the new binary.",
                        name);
                return manager_exit(m, EXIT_UPGRADE_INSTALLED);
        }
        m->acting = upgrade_plan_free(m->acting);
        (void) manager_launch(m);
}

/* Whether a plan still has to be carried out, judged against what `current` runs. Logs why not, once per
 * plan. */
static bool plan_is_due(Manager *m, const UpgradePlan *p, PlanSource source) {
        _cleanup_free_ char *folder = NULL;
        const char *why = NULL;
        bool skipped = false;

        int r = layout_find_upgrade(m->layout, p->name, &folder);
        if (r < 0)
                return true; /* a name that cannot be a folder: the upgrade fails loudly, never silently */
        if (m->current.folder && streq(folder, m->current.folder))
                return false; /* the version running is this plan's */
        if (m->current.plan && p->height > 0 && m->current.plan->height >= p->height)
                why = "it is not newer than the plan of the version running";
        else if (p->height > 0 && skip_heights_contain(m->skip_heights, m->n_skip_heights, p->height)) {
                why = "its height is listed in --unsafe-skip-upgrades";
                skipped = true;
        }
        if (!why)
                return true;

        if (!upgrade_plan_same(m->last_ignored, p)) {
                m->last_ignored = upgrade_plan_free(m->last_ignored);
                (void) upgrade_plan_dup(p, &m->last_ignored);
                if (skipped)
                        log_event(EVENT_UPGRADE_SKIPPED, LOG_NOTICE, 0, m->config->name, p, NULL,
                                "Not upgrading to '%s' (from %s): %s.", p->name, plan_source_to_string(source), why);
                else
                        log_notice("Ignoring plan '%s' (from %s): %s.", p->name, plan_source_to_string(source), why);
        }
        return false;
}

static void manager_act_on_plan(Manager *m, const UpgradePlan *p, PlanSource source) {
        m->unconfirmed = upgrade_plan_free(m->unconfirmed);
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);

        if (upgrade_plan_dup(p, &m->acting) < 0) {
                log_oom();
                return manager_exit(m, EXIT_INTERNAL);
        }
        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, p, NULL,
                "Upgrade plan '%s' detected (from %s)%s%s.", p->name, plan_source_to_string(source),
                isempty(p->info) ? "" : ", info: ", strempty(p->info));

        char buf[FORMAT_TIMESPAN_MAX];
        log_info("Stopping %s for upgrade '%s' (DAEMON_SHUTDOWN_GRACE=%s).", m->config->name, p->name,
                format_timespan(buf, sizeof(buf), m->config->shutdown_grace));
        notify_status("upgrade %s: stopping %s", p->name, m->config->name);
        m->state = STATE_STOPPING;
        int r = launcher_stop(m->launcher, m->config->shutdown_grace);
        if (r < 0) {
                log_error_errno(r, "Failed to stop the daemon for the upgrade: %m");
                manager_exit(m, EXIT_SYSTEM);
        }
}

/* An announcement in the output not confirmed by upgrade-info.json in time. The node writes the file
 * before it logs the line, so a chain that writes the file at all (it holds an earlier plan) and did not
 * write this one did not announce it: the text came from elsewhere (a logged transaction, a contract's
 * debug output). Without any file, the chain may predate the file (SDK < v0.44) or run with a --home that
 * is not DAEMON_HOME: the line is all there is. */
static void confirm_timeout(Manager *m) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = TAKE_PTR(m->unconfirmed), *f = NULL;
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        if (!p || m->acting || (m->state != STATE_RUNNING && m->state != STATE_LAUNCHING))
                return;

        int r = layout_read_plan_file(m->layout, &f);
        if (r > 0 && upgrade_plan_same(f, p))
                return manager_act_on_plan(m, f, PLAN_SOURCE_FILE);
        if (r > 0) {
                log_warning("Ignoring the announcement of upgrade '%s' in %s's output: %s/data/upgrade-info.json names '%s' instead, so the node did not announce it (the text may come from a logged transaction).",
                        p->name, m->config->name, m->config->home, f->name);
                m->last_ignored = upgrade_plan_free(m->last_ignored);
                m->last_ignored = TAKE_PTR(p);
                return;
        }
        log_notice("No %s/data/upgrade-info.json confirms upgrade '%s' (an SDK older than v0.44, or the node's --home is not DAEMON_HOME): acting on the log line.",
                m->config->home, p->name);
        manager_act_on_plan(m, p, PLAN_SOURCE_LOG);
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        confirm_timeout(userdata);
        return 0;
}

/* The one entry point of every plan source. Idempotent: the same plan seen again is ignored. */
static void manager_handle_plan(Manager *m, const UpgradePlan *p, PlanSource source) {
        if (m->acting) {
                if (!upgrade_plan_same(m->acting, p) && !upgrade_plan_same(m->last_ignored, p)) {
                        log_warning("Ignoring plan '%s' (from %s) while upgrade '%s' is under way.", p->name,
                                plan_source_to_string(source), m->acting->name);
                        m->last_ignored = upgrade_plan_free(m->last_ignored);
                        (void) upgrade_plan_dup(p, &m->last_ignored);
                } else if (upgrade_plan_same(m->acting, p) && source == PLAN_SOURCE_FILE &&
                           !streq(m->acting->info, p->info) && m->state == STATE_STOPPING) {
                        /* The file holds the info exactly as the chain wrote it; a log line may have been cut. */
                        char *info = strdup(p->info);
                        if (info)
                                free_and_replace(m->acting->info, info);
                }
                return;
        }
        if (m->state != STATE_RUNNING && m->state != STATE_LAUNCHING)
                return;
        if (upgrade_plan_same(m->last_ignored, p))
                return;
        if (!plan_is_due(m, p, source))
                return;

        if (source == PLAN_SOURCE_LOG) {
                /* Trust the file the node writes, not text in its output: confirm first. */
                _cleanup_(upgrade_plan_freep) UpgradePlan *f = NULL;
                int r = layout_read_plan_file(m->layout, &f);
                if (r > 0 && upgrade_plan_same(f, p))
                        return manager_act_on_plan(m, f, PLAN_SOURCE_LOG);
                if (r == 0) {
                        /* No file at all: the node writes it before it logs the line, so none will come
                         * (an SDK older than v0.44, or --home is not DAEMON_HOME). Waiting would only delay
                         * the upgrade: the line is all there is. */
                        log_notice("No %s/data/upgrade-info.json confirms upgrade '%s' (an SDK older than v0.44, or the node's --home is not DAEMON_HOME): acting on the log line.",
                                m->config->home, p->name);
                        return manager_act_on_plan(m, p, PLAN_SOURCE_LOG);
                }
                /* A file naming another plan, or one being rewritten (the SDK does not write it atomically):
                 * give the node a moment to finish writing it. */
                if (upgrade_plan_same(m->unconfirmed, p))
                        return;
                upgrade_plan_free(m->unconfirmed);
                if (upgrade_plan_dup(p, &m->unconfirmed) < 0) {
                        log_oom();
                        return manager_exit(m, EXIT_INTERNAL);
                }
                log_info("%s announced upgrade '%s' in its output; waiting for %s/data/upgrade-info.json to confirm it.",
                        m->config->name, p->name, m->config->home);
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                if (sd_event_add_time_relative(m->event, &m->confirm_timer, CLOCK_MONOTONIC, LOG_PLAN_CONFIRM_USEC, 0,
                            on_confirm_timer, m) < 0)
                        confirm_timeout(m);
                return;
        }
        manager_act_on_plan(m, p, source);
}

static void on_plan_file(PlanWatch *w, const UpgradePlan *p, void *userdata) {
        manager_handle_plan(userdata, p, PLAN_SOURCE_FILE);
}

/* ---- launcher callbacks ------------------------------------------------------------------------------- */

static int on_line(Launcher *l, const char *line, size_t len, bool stderr_stream, void *userdata) {
        Manager *m = userdata;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        int r = plan_parse_log_line(line, len, &p);
        if (r <= 0)
                return r;
        manager_handle_plan(m, p, PLAN_SOURCE_LOG);
        return 0;
}

static void on_started(Launcher *l, pid_t pid, void *userdata) {
        Manager *m = userdata;
        if (m->state != STATE_LAUNCHING)
                return;
        m->state = STATE_RUNNING;
        log_event(EVENT_DAEMON_STARTED, LOG_INFO, 0, m->config->name, m->current.plan, NULL,
                "%s (%s) is running as pid %d.", m->config->name, m->version_label, (int) pid);
        set_running_status(m);
        if (!m->ready_sent) {
                notify_ready(NULL);
                m->ready_sent = true;
                extend_timeout(m, false);
        }
        if (m->shutdown_requested) {
                /* Asked to stop while it was starting. */
                m->state = STATE_SHUTTING_DOWN;
                (void) launcher_stop(m->launcher, m->config->shutdown_grace);
        }
}

static void on_exited(Launcher *l, const DaemonExit *e, void *userdata) {
        Manager *m = userdata;
        char buf[128];
        int status = daemon_exit_to_status(e);

        switch (m->state) {
        case STATE_STOPPING:
                log_info("%s stopped (%s).", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                if (m->shutdown_requested)
                        return manager_exit(m, m->unit_mode ? 0 : status);
                return start_upgrade(m, NULL);

        case STATE_PREPARING:
                log_info("%s stopped (%s).", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                if (m->shutdown_requested)
                        return manager_exit(m, 0);
                return start_upgrade(m, m->resume);

        case STATE_SHUTTING_DOWN:
                log_event(EVENT_DAEMON_EXITED, LOG_INFO, 0, m->config->name, m->current.plan, NULL,
                        "%s %s.", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                /* Under systemd a stop is a clean stop; in a terminal the daemon's own status tells. */
                return manager_exit(m, m->unit_mode ? 0 : status);

        case STATE_LAUNCHING:
        case STATE_RUNNING: {
                /* It ended by itself. It may have halted at an upgrade height: look once. */
                _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
                if (layout_read_plan_file(m->layout, &p) > 0 && plan_is_due(m, p, PLAN_SOURCE_FILE)) {
                        log_info("%s %s at the height of upgrade '%s'.", m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)), p->name);
                        m->acting = TAKE_PTR(p);
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->acting, NULL,
                                "Upgrade plan '%s' detected (from %s).", m->acting->name,
                                plan_source_to_string(PLAN_SOURCE_FILE));
                        return start_upgrade(m, NULL);
                }
                if (m->unconfirmed) {
                        /* It announced a plan and then ended: the announcement was the node's own. */
                        m->acting = TAKE_PTR(m->unconfirmed);
                        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->acting, NULL,
                                "Upgrade plan '%s' detected (from %s, and %s %s after it).", m->acting->name,
                                plan_source_to_string(PLAN_SOURCE_LOG), m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)));
                        return start_upgrade(m, NULL);
                }
                log_event(EVENT_DAEMON_EXITED, status == 0 ? LOG_INFO : LOG_ERR, 0, m->config->name, m->current.plan, NULL,
                        "%s %s; oraivisor exits with status %d.", m->config->name,
                        daemon_exit_describe(e, buf, sizeof(buf)), status);
                return manager_exit(m, status);
        }

        default:
                return;
        }
}

static void on_failed(Launcher *l, int error, const char *message, void *userdata) {
        Manager *m = userdata;
        log_event(EVENT_DAEMON_EXITED, LOG_ERR, error, m->config->name, m->current.plan, NULL, "%s",
                strna(message));
        manager_exit(m, exit_status_for_launch_error(error));
}

/* ---- signals ------------------------------------------------------------------------------------------ */

static int on_shutdown_kill(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        m->shutdown_kill_timer = sd_event_source_disable_unref(m->shutdown_kill_timer);
        if (launcher_is_running(m->launcher)) {
                log_warning("%s did not exit within DAEMON_SHUTDOWN_GRACE, killing it.", m->config->name);
                (void) launcher_stop(m->launcher, 0);
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int sig = (int) si->ssi_signo;

        if (sig == SIGQUIT) {
                /* Go dumps its goroutines on SIGQUIT: pass it on, the exit follows as usual. */
                if (m->state == STATE_RUNNING || m->state == STATE_LAUNCHING)
                        (void) launcher_kill(m->launcher, SIGQUIT);
                return 0;
        }

        if (m->shutdown_requested) {
                /* A second request: pass it on (in a terminal, a second Ctrl-C means "now"). */
                if (launcher_is_running(m->launcher))
                        (void) launcher_kill(m->launcher, sig);
                return 0;
        }
        m->shutdown_requested = true;
        log_info("Received SIG%s, stopping %s.", sigabbrev_np(sig), m->config->name);
        notify_stopping(NULL);
        extend_timeout(m, true);

        switch (m->state) {
        case STATE_RUNNING:
        case STATE_LAUNCHING:
                m->state = STATE_SHUTTING_DOWN;
                if (m->unit_mode) {
                        (void) launcher_stop(m->launcher, m->config->shutdown_grace);
                        return 0;
                }
                /* A terminal user's signal goes to the daemon as it is, with SIGKILL after the grace. */
                if (launcher_kill(m->launcher, sig) < 0)
                        (void) launcher_stop(m->launcher, m->config->shutdown_grace);
                else if (m->config->shutdown_grace > 0)
                        (void) sd_event_add_time_relative(m->event, &m->shutdown_kill_timer, CLOCK_MONOTONIC,
                                m->config->shutdown_grace, 0, on_shutdown_kill, m);
                return 0;
        case STATE_STOPPING:
        case STATE_PREPARING:
                /* Already stopping; once it is down we exit instead of upgrading (the next start will). */
                return 0;
        case STATE_UPGRADING:
                log_notice("Interrupting upgrade '%s' at step %s; the next start resumes it.",
                        upgrade_plan(m->upgrade)->name, upgrade_step_to_string(upgrade_current_step(m->upgrade)));
                m->upgrade = upgrade_free(m->upgrade);
                manager_exit(m, 0);
                return 0;
        default:
                manager_exit(m, 0);
                return 0;
        }
}

/* ---- start-up ----------------------------------------------------------------------------------------- */

static int setup_launcher(Manager *m) {
        LauncherCallbacks cb = {
                .on_line = on_line,
                .on_started = on_started,
                .on_exited = on_exited,
                .on_failed = on_failed,
        };
        LauncherKind k = m->config->launcher;
        if (k == LAUNCHER_AUTO)
                k = (getenv("INVOCATION_ID") || getenv("NOTIFY_SOCKET")) ? LAUNCHER_UNIT : LAUNCHER_EXEC;

        if (k == LAUNCHER_UNIT) {
                _cleanup_free_ char *state = NULL;
                const char *sd = m->config->state_dir ?: getenv("STATE_DIRECTORY");
                /* STATE_DIRECTORY may list several folders separated by ':'; ours is the first. */
                if (sd)
                        state = strndup(sd, strcspn(sd, ":"));
                else if (asprintf(&state, "%s/.state", m->layout->root) < 0)
                        state = NULL;
                if (!state)
                        return log_oom();
                UnitLauncherOptions o = {
                        .config = m->config,
                        .state_dir = state,
                        .echo_output = !getenv("INVOCATION_ID") && isatty(STDOUT_FILENO),
                };
                m->unit_mode = true;
                return launcher_unit_new(m->event, &o, &cb, m, &m->launcher);
        }
        int r = launcher_exec_new(m->event, &cb, m, m->lock_fd, &m->launcher);
        if (r < 0)
                return log_oom();
        return 0;
}

static int setup_signals(Manager *m) {
        static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT };
        sigset_t mask;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                int r = sd_event_add_signal(m->event, &m->signals[i], sigs[i], on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch SIG%s: %m", sigabbrev_np(sigs[i]));
        }
        return 0;
}

static int cleanup_leftovers(Manager *m) {
        (void) layout_cleanup_stale(m->layout);
        _cleanup_close_ int ufd = openat(m->layout->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *upath = NULL;
        if (ufd >= 0 && asprintf(&upath, "%s/upgrades", m->layout->root) >= 0)
                (void) obtain_cleanup_stale(ufd, upath);
        if (!m->config->unsafe_skip_backup)
                (void) backup_cleanup_partial(m->config->backup_dir ?: m->config->home);
        return 0;
}

/* What to do first: resume an interrupted upgrade, carry out a plan that became due while we were down,
 * adopt a running daemon, or launch. */
static int manager_startup(Manager *m) {
        int r;

        r = upgrade_record_load(m->layout, &m->resume);
        if (r < 0)
                return EXIT_LAYOUT;

        if (!m->resume) {
                r = layout_ensure_current(m->layout);
                if (r < 0)
                        return r == -ENOMEM ? EXIT_INTERNAL : EXIT_LAYOUT;
                r = refresh_current(m);
                if (r < 0)
                        return r == -ENOMEM ? EXIT_INTERNAL : EXIT_LAYOUT;

                /* The node may have halted at an upgrade height while we were down. */
                _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
                r = layout_read_plan_file(m->layout, &p);
                if (r > 0 && plan_is_due(m, p, PLAN_SOURCE_STARTUP)) {
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, p, NULL,
                                "Upgrade plan '%s' is pending (%s names it, '%s/current' runs %s): upgrading before the daemon starts.",
                                p->name, "data/upgrade-info.json", m->layout->root, m->version_label);
                        m->acting = TAKE_PTR(p);
                }
        } else {
                r = upgrade_plan_dup(m->resume->plan, &m->acting);
                if (r < 0)
                        return EXIT_INTERNAL;
                /* current is read again once the upgrade is through; a broken one must not stop the resume. */
                if (layout_read_current(m->layout, &m->current) >= 0)
                        m->version_label = current_version_label(&m->current);
        }

        /* A daemon left running by an earlier oraivisor (unit mode): adopt it, or stop it before upgrading. */
        r = launcher_adopt(m->launcher);
        if (r == -EADDRINUSE)
                return EXIT_CONFIG; /* another node's daemon has our unit name: restarting cannot help */
        if (r < 0)
                return EXIT_SYSTEM;
        bool adopted = r > 0;

        if (m->acting) {
                if (adopted) {
                        log_info("Stopping the running %s before upgrade '%s'.", m->config->name, m->acting->name);
                        m->state = STATE_PREPARING;
                        extend_timeout(m, true);
                        /* on_started of the adoption is ignored in this state; on_exited starts the upgrade. */
                        r = launcher_stop(m->launcher, m->config->shutdown_grace);
                        return r < 0 ? EXIT_SYSTEM : -1;
                }
                start_upgrade(m, m->resume);
                return -1;
        }
        if (adopted) {
                m->state = STATE_LAUNCHING; /* on_started (with the adopted pid) completes it */
                log_event(EVENT_DAEMON_ADOPTED, LOG_NOTICE, 0, m->config->name, m->current.plan, NULL,
                        "Adopted the running %s (%s) left by an earlier oraivisor.", m->config->name, m->version_label);
                return -1;
        }
        r = manager_launch(m);
        return -1;
}

int manager_new(const Config *config, char *const *args, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = new0(Manager, 1);
        if (!m)
                return log_oom();
        m->config = config;
        m->lock_fd = -EBADF;
        m->args = strv_copy(args ?: STRV_MAKE(NULL));
        if (!m->args)
                return log_oom();

        const char *bad = NULL;
        int r = args_skip_heights(m->args, &m->skip_heights, &m->n_skip_heights, &bad);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "The daemon argument '%s' is not a valid --unsafe-skip-upgrades height.", bad);

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        *ret = TAKE_PTR(m);
        return 0;
}

int manager_run(Manager *m) {
        int r;

        _cleanup_free_ char *error = NULL;
        r = credentials_resolve(m->config->daemon_user, m->config->daemon_group, &m->credentials, &error);
        if (r == -ENOMEM)
                return log_oom(), EXIT_INTERNAL;
        if (r < 0) {
                log_error("%s", error ?: "DAEMON_USER or DAEMON_GROUP cannot be used: fix them.");
                return EXIT_CONFIG;
        }

        /* Downloads under a unit without network fail at the upgrade height, the worst moment: now instead. */
        r = net_check_config(m->config);
        if (r == -ENOMEM)
                return EXIT_INTERNAL;
        if (r < 0)
                return EXIT_CONFIG;

        r = layout_open(m->config->home, m->config->name, &m->layout);
        if (r < 0)
                return r == -ENOMEM ? EXIT_INTERNAL : EXIT_LAYOUT;

        /* A new oraivisor may be started while the previous one's daemon still shuts down: wait for it. */
        m->lock_fd = lock_acquire(m->layout->root_fd, m->layout->root, m->config->shutdown_grace + 15 * USEC_PER_SEC);
        if (m->lock_fd < 0)
                return m->lock_fd == -EWOULDBLOCK ? EXIT_LOCKED : EXIT_SYSTEM;

        r = setup_signals(m);
        if (r < 0)
                return EXIT_SYSTEM;
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        (void) cleanup_leftovers(m);

        r = setup_launcher(m);
        if (r < 0)
                return r == -ENOMEM ? EXIT_INTERNAL : EXIT_SYSTEM;
        r = plan_watch_new(m->event, m->config->home, m->config->poll_interval, on_plan_file, m, &m->plan_watch);
        if (r < 0)
                return EXIT_SYSTEM;

        m->state = STATE_STARTING;
        r = manager_startup(m);
        if (r >= 0) {
                notify_stopping(NULL);
                return r;
        }
        if (m->state == STATE_EXITING)
                return m->exit_status;

        r = sd_event_loop(m->event);
        if (r < 0) {
                log_error_errno(r, "The event loop failed: %m");
                return EXIT_INTERNAL;
        }
        return m->exit_status;
}
