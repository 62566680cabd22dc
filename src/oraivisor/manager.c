/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager (manager.h): start-up, launch, the daemon's callbacks, the upgrade and the exit, acting on
 * the one Manager (manager-internal.h). The decisions live in core (plan-arbiter, upgrade-steps,
 * height-schedule); the plans carried out are in manager-plan.c, the upgrades at a height in
 * manager-height.c, metrics and signals in manager-metrics.c and manager-signal.c. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "chain-watch.h"
#include "child-env.h"
#include "events.h"
#include "exit-status.h"
#include "fd-util.h"
#include "height-plan.h"
#include "launcher-exec.h"
#include "layout.h"
#include "lock.h"
#include "log.h"
#include "manager.h"
#include "metrics-file.h"
#include "net-probe.h"
#include "notify.h"
#include "plan-arbiter.h"
#include "plan-watch.h"
#include "reaper.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade.h"
#include "upgrade-name.h"

#include "launcher-unit.h"
#include "manager-internal.h"
#include "obtain.h"
#include "backup.h"

/* How often EXTEND_TIMEOUT_USEC= is sent while a long step runs before READY=1 or during a stop, and by
 * how much each time. */
#define EXTEND_INTERVAL (5 * USEC_PER_SEC)
#define EXTEND_BY (30 * USEC_PER_SEC)

void manager_exit(Manager *m, int status) {
        if (m->state == STATE_EXITING)
                return;
        m->state = STATE_EXITING;
        m->exit_status = status;
        manager_metrics_changed(m);
        notify_stopping(NULL);
        (void) sd_event_exit(m->event, status);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        upgrade_free(m->upgrade);
        ready_watch_free(m->ready_watch); /* it borrows the chain watcher */
        chain_watch_free(m->chain_watch);
        plan_watch_free(m->plan_watch);
        launcher_free(m->launcher);
        reaper_free(m->reaper);
        for (size_t i = 0; i < ELEMENTSOF(m->signals); i++)
                sd_event_source_disable_unref(m->signals[i]);
        sd_event_source_disable_unref(m->extend_timer);
        sd_event_source_disable_unref(m->shutdown_kill_timer);
        sd_event_unref(m->event);
        upgrade_record_free(m->resume);
        plan_arbiter_free(m->arbiter);
        upgrade_plan_free(m->file_plan);
        sd_event_source_disable_unref(m->confirm_timer);
        metrics_file_free(m->metrics);
        current_version_done(&m->current);
        free(m->version_label);
        free(m->halt_name);
        upgrade_plan_free(m->height_plan);
        sd_event_source_disable_unref(m->schedule_watch);
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

void manager_extend_timeout(Manager *m, bool on) {
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

/* The daemon's environment (core/child-env.c), with DAEMON_USER's HOME, USER... in exec mode (systemd's
 * User= sets them for the unit launcher). */
static char **daemon_env(const Manager *m) {
        _cleanup_strv_free_ char **env = NULL;
        if (child_env_for_node(environ, m->current.lib_dir, &env) < 0)
                return NULL;
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

int manager_launch(Manager *m) {
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

        if (manager_height_args(m, &argv) < 0)
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
        MetricsHistory *h = metrics_file_history(m->metrics);
        if (h)
                h->daemon_starts++;
        manager_metrics_changed(m);
        return 0;
oom:
        manager_exit(m, EXIT_INTERNAL);
        return log_oom();
}

static void set_running_status(Manager *m) {
        _cleanup_free_ char *next = NULL, *height = NULL;
        if (m->chain_watch && chain_state_describe_next(chain_watch_state(m->chain_watch), &next) < 0)
                next = NULL;
        if (ready_watch_describe_height(m->ready_watch, &height) < 0)
                height = NULL;
        notify_status("%s (%s%s) running; watching for upgrade plans%s%s%s%s", m->config->name,
                m->current.folder ? "upgrade " : "", m->version_label, next ? "; " : "", strempty(next),
                height ? "; " : "", strempty(height));
}

/* The chain watcher learnt something that STATUS= or the metrics show (a plan, a staged binary...): its
 * readiness may be due too. */
static void on_chain_changed(ChainWatch *w, void *userdata) {
        Manager *m = userdata;
        if (m->state == STATE_RUNNING)
                set_running_status(m);
        manager_metrics_changed(m);
        ready_watch_look(m->ready_watch);
        manager_height_chain_changed(m);
}

/* A readiness result changed. */
static void on_ready_changed(ReadyWatch *rw, void *userdata) {
        Manager *m = userdata;
        if (m->state == STATE_RUNNING)
                set_running_status(m);
        manager_metrics_changed(m);
}

/* ---- upgrades ----------------------------------------------------------------------------------------- */

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata);

static void on_upgrade_step(Upgrade *u, void *userdata) {
        manager_metrics_changed(userdata);
}

void manager_start_upgrade(Manager *m, const UpgradeRecord *resume) {
        const UpgradePlan *plan = resume ? resume->plan : m->height_plan ?: plan_arbiter_acting(m->arbiter);
        m->state = STATE_UPGRADING;
        chain_watch_set_upgrading(m->chain_watch, true);
        ready_watch_set_upgrading(m->ready_watch, true);
        if (!m->ready_sent)
                manager_extend_timeout(m, true);
        int r = upgrade_start(m->event, m->config, m->layout, &m->credentials, plan, resume, on_upgrade_done, m, &m->upgrade);
        if (r < 0) {
                log_event(EVENT_UPGRADE_FAILED, LOG_ERR, r, m->config->name, plan, NULL,
                        "Upgrade '%s' could not be started. '%s/current' is unchanged.", plan->name, m->layout->root);
                manager_metrics_count_upgrade(m, NULL, r);
                return manager_exit(m, r == -ENOMEM ? EXIT_INTERNAL : EXIT_UPGRADE_FAILED);
        }
        upgrade_set_step_begun(m->upgrade, on_upgrade_step);
        if (m->unit_mode && upgrade_set_node_unit(m->upgrade, launcher_unit_name(m->launcher)) < 0) {
                (void) log_oom();
                m->upgrade = upgrade_free(m->upgrade);
                return manager_exit(m, EXIT_INTERNAL);
        }
        manager_metrics_changed(m);
}

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata) {
        Manager *m = userdata;
        if (error >= 0)
                manager_height_upgraded(m);
        _cleanup_(upgrade_plan_freep) UpgradePlan *height_plan = TAKE_PTR(m->height_plan);
        manager_metrics_count_upgrade(m, u, error);
        m->upgrade = upgrade_free(m->upgrade);
        m->resume = upgrade_record_free(m->resume);
        chain_watch_set_upgrading(m->chain_watch, false);
        ready_watch_set_upgrading(m->ready_watch, false);
        manager_extend_timeout(m, false);
        if (error >= 0 && refresh_current(m) < 0)
                log_debug("'current' cannot be read for the metrics; the launch says why.");
        manager_metrics_changed(m);

        if (error < 0)
                return manager_exit(m, exit_status);

        if (m->shutdown_requested)
                return manager_exit(m, 0);

        if (!m->config->restart_after_upgrade) {
                const UpgradePlan *acting = height_plan ?: plan_arbiter_acting(m->arbiter);
                const char *name = acting ? acting->name : "";
                if (m->config->under_systemd) {
                        /* systemd is the supervisor, and the shipped unit restarts nothing that exits 0: the
                         * node stays down, so the unit must not look cleanly stopped. STATUS= outlives us in
                         * `systemctl status`; 82 is in the unit's RestartPreventExitStatus=. */
                        notify_status("upgrade %s installed; %s stopped as DAEMON_RESTART_AFTER_UPGRADE=false asks: start this unit to run it",
                                name, m->config->name);
                        log_event(EVENT_NODE_LEFT_STOPPED, LOG_WARNING, 0, m->config->name, acting, NULL,
                                "Upgrade '%s' is installed; %s is left stopped because DAEMON_RESTART_AFTER_UPGRADE=false: start this unit again to run the new binary (exit status %d).",
                                name, m->config->name, EXIT_UPGRADE_INSTALLED_STOPPED);
                        return manager_exit(m, EXIT_UPGRADE_INSTALLED_STOPPED);
                }
                notify_status("upgrade %s installed; start oraivisor again to run it", name);
                log_event(EVENT_NODE_LEFT_STOPPED, LOG_NOTICE, 0, m->config->name, acting, NULL,
                        "Upgrade '%s' is installed. DAEMON_RESTART_AFTER_UPGRADE is false: start oraivisor again to run the new binary.",
                        name);
                return manager_exit(m, EXIT_UPGRADE_INSTALLED);
        }
        plan_arbiter_done(m->arbiter);
        (void) manager_launch(m);
}

/* ---- launcher callbacks ------------------------------------------------------------------------------- */

static int on_line(Launcher *l, const char *line, size_t len, bool stderr_stream, void *userdata) {
        Manager *m = userdata;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        manager_height_line(m, line, len);
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
        manager_metrics_changed(m);
        if (!m->ready_sent) {
                notify_ready(NULL);
                m->ready_sent = true;
                manager_extend_timeout(m, false);
        }
        if (m->shutdown_requested) {
                /* Asked to stop while it was starting. */
                m->state = STATE_SHUTTING_DOWN;
                (void) launcher_stop(m->launcher, m->config->shutdown_grace);
        } else {
                manager_height_started(m);
                /* The chain's plan may have changed while it was starting. */
                manager_height_chain_changed(m);
        }
}

static void on_exited(Launcher *l, const DaemonExit *e, void *userdata) {
        Manager *m = userdata;
        char buf[128];
        int status = daemon_exit_to_status(e);

        manager_height_save_seen(m);
        switch (m->state) {
        case STATE_STOPPING:
                log_info("%s stopped (%s).", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                if (m->shutdown_requested)
                        return manager_exit(m, m->unit_mode ? 0 : status);
                return manager_start_upgrade(m, NULL);

        case STATE_PREPARING:
                log_info("%s stopped (%s).", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                if (m->shutdown_requested)
                        return manager_exit(m, 0);
                return manager_start_upgrade(m, m->resume);

        case STATE_RESTARTING:
                log_info("%s stopped (%s).", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                if (m->shutdown_requested)
                        return manager_exit(m, m->unit_mode ? 0 : status);
                (void) manager_launch(m);
                return;

        case STATE_SHUTTING_DOWN:
                log_event(EVENT_DAEMON_EXITED, LOG_INFO, 0, m->config->name, m->current.plan, NULL,
                        "%s %s.", m->config->name, daemon_exit_describe(e, buf, sizeof(buf)));
                /* Under systemd a stop is a clean stop; in a terminal the daemon's own status tells. */
                return manager_exit(m, m->unit_mode ? 0 : status);

        case STATE_LAUNCHING:
        case STATE_RUNNING: {
                /* It ended by itself: it may have halted at an upgrade height. */
                PlanDecision d;
                int r = plan_arbiter_daemon_exited(m->arbiter, manager_plan_facts(m), &d);
                if (r < 0) {
                        log_oom();
                        return manager_exit(m, EXIT_INTERNAL);
                }
                manager_log_notes(m, &d);
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                if (d.action == PLAN_ACTION_UPGRADE && d.source == PLAN_SOURCE_FILE) {
                        log_info("%s %s at the height of upgrade '%s'.", m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)), d.plan->name);
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' detected (from %s).", d.plan->name,
                                plan_source_to_string(PLAN_SOURCE_FILE));
                        return manager_start_upgrade(m, NULL);
                }
                if (d.action == PLAN_ACTION_UPGRADE) {
                        /* It announced a plan and then ended: the announcement was the node's own. */
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' detected (from %s, and %s %s after it).", d.plan->name,
                                plan_source_to_string(PLAN_SOURCE_LOG), m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)));
                        return manager_start_upgrade(m, NULL);
                }
                if (manager_height_exited(m, e) > 0)
                        return;
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
                /* systemd is there: the node runs in a unit of its own, its leftovers die with the unit. But
                 * a PID 1 reaps whatever orphan comes to it, whatever runs the node. */
                if (getpid() == 1) {
                        int r = reaper_new(m->event, false, &m->reaper);
                        if (r < 0)
                                return r;
                }
                return launcher_unit_new(m->event, &o, &cb, m, &m->launcher);
        }
        /* The node's double-forked helpers stay below us (a subreaper), to be reaped and stopped with it. */
        int r = reaper_new(m->event, true, &m->reaper);
        if (r < 0)
                return r;
        r = launcher_exec_new(m->event, &cb, m, m->lock_fd, m->reaper, &m->launcher);
        if (r < 0)
                return log_oom();
        /* A terminal's hangup, or a container runtime's SIGHUP. Under systemd SIGHUP is left as it was. */
        return manager_add_signal(m, 3, SIGHUP);
}

static int cleanup_leftovers(Manager *m) {
        (void) layout_cleanup_stale(m->layout);
        _cleanup_close_ int ufd = openat(m->layout->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *upath = NULL;
        if (ufd >= 0 && asprintf(&upath, "%s/upgrades", m->layout->root) >= 0)
                (void) obtain_cleanup_stale(ufd, upath);
        if (!m->config->unsafe_skip_backup) {
                _cleanup_(backup_owner_done) BackupOwner owner = {};
                if (backup_owner_get(m->config->name, m->config->home, m->config->backup_dir, &owner) >= 0)
                        (void) backup_cleanup_partial(m->config->backup_dir ?: m->config->home, &owner);
        }
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
                PlanDecision d;
                r = plan_arbiter_startup(m->arbiter, manager_plan_facts(m), &d);
                if (r < 0)
                        return log_oom(), EXIT_INTERNAL;
                manager_log_notes(m, &d);
                if (d.action == PLAN_ACTION_UPGRADE)
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' is pending (%s names it, '%s/current' runs %s): upgrading before the daemon starts.",
                                d.plan->name, "data/upgrade-info.json", m->layout->root, m->version_label);
                else if (manager_height_pending(m) < 0)
                        return EXIT_INTERNAL;
        } else {
                r = plan_arbiter_resume(m->arbiter, m->resume->plan);
                if (r < 0)
                        return log_oom(), EXIT_INTERNAL;
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

        const UpgradePlan *acting = plan_arbiter_acting(m->arbiter) ?: m->height_plan;
        if (acting) {
                if (adopted) {
                        log_info("Stopping the running %s before upgrade '%s'.", m->config->name, acting->name);
                        m->state = STATE_PREPARING;
                        manager_extend_timeout(m, true);
                        /* on_started of the adoption is ignored in this state; on_exited starts the upgrade. */
                        r = launcher_stop(m->launcher, m->config->shutdown_grace);
                        return r < 0 ? EXIT_SYSTEM : -1;
                }
                manager_start_upgrade(m, m->resume);
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
        if (!m->args || plan_arbiter_new(&m->arbiter) < 0)
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

        r = manager_setup_signals(m);
        if (r < 0)
                return EXIT_SYSTEM;
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        (void) cleanup_leftovers(m);

        r = setup_launcher(m);
        if (r < 0)
                return r == -ENOMEM ? EXIT_INTERNAL : EXIT_SYSTEM;
        /* Metrics never stop the node: without them (logged), it runs all the same. */
        if (manager_metrics_setup(m) < 0)
                log_warning("Going on without a metrics file.");
        r = plan_watch_new(m->event, m->config->home, m->config->poll_interval, manager_on_plan_file, m, &m->plan_watch);
        if (r < 0)
                return EXIT_SYSTEM;
        /* The chain watcher: an explicit RPC the sandbox cannot reach is a configuration error (78). */
        _cleanup_(node_rpc_done) NodeRpc rpc = {};
        r = chain_watch_resolve(m->config, m->layout, &rpc);
        if (r == -EINVAL)
                return EXIT_CONFIG;
        if (r < 0)
                return EXIT_INTERNAL;
        if (r > 0 && chain_watch_new(m->event, m->config, m->layout, &rpc, on_chain_changed, m, &m->chain_watch) < 0)
                return EXIT_INTERNAL;
        /* Its first look is made once the loop runs: after the node's start or an upgrade's. */
        if (ready_watch_new(m->event, m->config, m->layout, &m->credentials, &m->current, on_ready_changed, m,
                    &m->ready_watch) < 0)
                return EXIT_INTERNAL;
        ready_watch_set_chain(m->ready_watch, m->chain_watch);
        if (m->unit_mode && ready_watch_set_node_unit(m->ready_watch, launcher_unit_name(m->launcher)) < 0)
                return log_oom(), EXIT_INTERNAL;

        manager_height_watch(m);
        m->state = STATE_STARTING;
        manager_metrics_changed(m);
        r = manager_startup(m);
        if (r >= 0) {
                notify_stopping(NULL);
                manager_metrics_changed(m);
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
