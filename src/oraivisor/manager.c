/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager (manager.h). Every part (start-up, launch, the plan decisions carried out, signals, the
 * upgrade, the exit) acts on the one Manager and its event sources, and the decisions themselves already
 * live in core (plan-arbiter, upgrade-steps, height-plan). XXX: about 1,100 lines since the upgrades
 * scheduled at a height were wired in (--halt-height, the schedule file's watch): that wiring is the next
 * part to move to a file of its own (issue 16). */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "args.h"
#include "chain-watch.h"
#include "child-env.h"
#include "events.h"
#include "exit-status.h"
#include "fd-util.h"
#include "height-plan.h"
#include "height-schedule.h"
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
#include "obtain.h"
#include "backup.h"

/* How often EXTEND_TIMEOUT_USEC= is sent while a long step runs before READY=1 or during a stop, and by
 * how much each time. */
#define EXTEND_INTERVAL (5 * USEC_PER_SEC)
#define EXTEND_BY (30 * USEC_PER_SEC)
/* How long an announcement seen in the daemon's output waits for upgrade-info.json to confirm it, or for
 * the node to exit, before it is acted on (no file) or ignored (a file naming another plan). SDK v0.44+
 * writes the file before it logs the line, so there is nothing to wait for; v0.40-v0.43 log the line,
 * then write the file, then panic: stopping the node at the line may kill it before it writes the file
 * that the new binary's store migrations read. */
#define LOG_PLAN_CONFIRM_USEC (3 * USEC_PER_SEC)

typedef enum ManagerState {
        STATE_STARTING,      /* start-up checks */
        STATE_PREPARING,     /* stopping a daemon found running before an upgrade due at start-up */
        STATE_LAUNCHING,     /* start requested, not running yet */
        STATE_RUNNING,
        STATE_STOPPING,      /* stopping the daemon for an upgrade */
        STATE_UPGRADING,
        STATE_SHUTTING_DOWN, /* asked to exit: stopping the daemon */
        STATE_RESTARTING,    /* stopping the daemon to start it again with another --halt-height */
        STATE_EXITING,
} ManagerState;

struct Manager {
        const Config *config;
        char **args;
        sd_event *event;
        Layout *layout;
        Launcher *launcher;
        Reaper *reaper;               /* exec mode (a subreaper), or PID 1: reaps orphans */
        bool unit_mode;
        int lock_fd;
        Credentials credentials;      /* DAEMON_USER/GROUP, for the exec daemon and the upgrade hooks */
        PlanWatch *plan_watch;
        Upgrade *upgrade;
        UpgradeRecord *resume;        /* an interrupted upgrade to resume once the daemon is stopped */
        PlanArbiter *arbiter;         /* when a plan is acted on (core/plan-arbiter.c) */
        UpgradePlan *file_plan;       /* the last reading of upgrade-info.json made for the arbiter */
        sd_event_source *confirm_timer; /* runs while the arbiter waits for a line's confirmation */
        CurrentVersion current;
        char *version_label;          /* "genesis" or the upgrade's name */
        int64_t *skip_heights;
        size_t n_skip_heights;
        ManagerState state;
        bool ready_sent;
        bool shutdown_requested;
        int exit_status;
        sd_event_source *signals[4];
        sd_event_source *extend_timer;
        sd_event_source *shutdown_kill_timer;
        MetricsFile *metrics;         /* NULL: metrics are off */
        ChainWatch *chain_watch;      /* NULL: chain watching is off */
        MetricsScheduled metrics_scheduled[8]; /* what metrics_refresh() lends the metrics */
        /* An upgrade at a height without governance (height-plan.h): the --halt-height the daemon runs with,
         * whether it said it halted there, and the plan built for the upgrade once it did. */
        int64_t halt_height;
        char *halt_name;
        bool halt_seen;
        bool passed_reported;
        UpgradePlan *height_plan;
        sd_event_source *schedule_watch; /* inotify on $DAEMON_HOME/oraivisor for scheduled-upgrades.json */
};

static void metrics_changed(Manager *m);

static void manager_exit(Manager *m, int status) {
        if (m->state == STATE_EXITING)
                return;
        m->state = STATE_EXITING;
        m->exit_status = status;
        metrics_changed(m);
        notify_stopping(NULL);
        (void) sd_event_exit(m->event, status);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        upgrade_free(m->upgrade);
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

/* ---- metrics (docs/metrics.md) ----------------------------------------------------------------------- */

static void metrics_refresh(Metrics *mm, void *userdata) {
        Manager *m = userdata;
        mm->daemon = m->config->name;
        mm->current = m->version_label;
        mm->version = PACKAGE_VERSION;
        /* Up from its start until it is seen to exit (a stop for an upgrade or a shutdown included). */
        mm->daemon_up = m->state == STATE_RUNNING || m->state == STATE_STOPPING || m->state == STATE_SHUTTING_DOWN;
        mm->upgrade_step = m->upgrade && m->state == STATE_UPGRADING ? upgrade_current_step(m->upgrade)
                                                                     : _UPGRADE_STEP_INVALID;
        if (m->chain_watch) {
                const ChainState *cs = chain_watch_state(m->chain_watch);
                mm->chain_height = cs->reachable ? cs->height : 0;
                size_t n = 0;
                for (size_t i = 0; i < cs->n_upgrades && n < ELEMENTSOF(m->metrics_scheduled); i++)
                        m->metrics_scheduled[n++] = (MetricsScheduled) {
                                .upgrade = cs->upgrades[i].name,
                                .height = cs->upgrades[i].height,
                                .binary_ready = cs->upgrades[i].binary == BINARY_INSTALLED,
                        };
                mm->scheduled = m->metrics_scheduled;
                mm->n_scheduled = n;
        }
}

/* At every change of what the metrics show; the file's own timer rewrites it every minute as well. */
static void metrics_changed(Manager *m) {
        metrics_file_write(m->metrics);
}

static int setup_metrics(Manager *m) {
        const char *dir = metrics_file_dir(m->config->metrics_dir, m->config->metrics_off);
        if (!dir) {
                log_debug("Metrics are off (ORAIVISOR_METRICS_DIR=off, or no '" CONFIG_DEFAULT_METRICS_DIR "').");
                return 0;
        }
        _cleanup_free_ char *own = NULL, *instance = NULL;
        if (m->config->under_systemd)
                (void) sd_pid_get_unit(0, &own);
        if (metrics_file_instance(own, m->config->name, &instance) < 0)
                return log_oom();
        return metrics_file_new(m->event, dir, instance, m->config->home, metrics_refresh, m, &m->metrics);
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

static int manager_launch(Manager *m) {
        /* Declared before the first goto: a jump may not enter the scope of a cleanup variable. */
        _cleanup_(height_pick_done) HeightPick pick = {};
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

        /* The nearest upgrade scheduled at a height: the node commits that block and stops. */
        height_plan_pick(m->layout, &m->current, !m->passed_reported, &pick);
        m->passed_reported = true;
        m->halt_height = 0;
        m->halt_name = mfree(m->halt_name);
        m->halt_seen = false;
        if (pick.height > 0) {
                bool own = false;
                STRV_FOREACH(a, m->args)
                        if (startswith(*a, "--halt-height") || startswith(*a, "-halt-height"))
                                own = true;
                _cleanup_free_ char *shown = string_escape_for_log(pick.name, strlen(pick.name), 200);
                if (own)
                        log_warning("The daemon's arguments set a halt height of their own: upgrade '%s' scheduled at height %" PRId64 " is not acted on; drop that argument.",
                                strna(shown), pick.height);
                else {
                        char h[32];
                        snprintf(h, sizeof h, "%" PRId64, pick.height);
                        if (strv_extend(&argv, "--halt-height") < 0 || strv_extend(&argv, h) < 0)
                                goto oom;
                        m->halt_height = pick.height;
                        m->halt_name = TAKE_PTR(pick.name);
                        log_info("Upgrade '%s' is scheduled at height %" PRId64 " (no governance): %s runs with --halt-height %" PRId64 ".",
                                strna(shown), m->halt_height, m->config->name, m->halt_height);
                }
        }

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
        metrics_changed(m);
        return 0;
oom:
        manager_exit(m, EXIT_INTERNAL);
        return log_oom();
}

static void set_running_status(Manager *m) {
        _cleanup_free_ char *next = NULL;
        if (m->chain_watch && chain_state_describe_next(chain_watch_state(m->chain_watch), &next) < 0)
                next = NULL;
        notify_status("%s (%s%s) running; watching for upgrade plans%s%s", m->config->name,
                m->current.folder ? "upgrade " : "", m->version_label, next ? "; " : "", strempty(next));
}

/* The chain watcher learnt something that STATUS= or the metrics show. */
static void on_chain_changed(ChainWatch *w, void *userdata) {
        Manager *m = userdata;
        if (m->state == STATE_RUNNING)
                set_running_status(m);
        metrics_changed(m);
}

/* ---- upgrades ----------------------------------------------------------------------------------------- */

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata);

static void on_upgrade_step(Upgrade *u, void *userdata) {
        metrics_changed(userdata);
}

/* Counts an upgrade that ended (not one stopped to be resumed) in the metrics; u: NULL when it could not
 * even start. */
static void metrics_count_upgrade(Manager *m, Upgrade *u, int error) {
        MetricsHistory *h = metrics_file_history(m->metrics);
        if (!h)
                return;
        h->upgrades[error < 0 ? METRICS_RESULT_FAILURE : METRICS_RESULT_SUCCESS]++;
        if (!u)
                return;
        if (error >= 0) {
                usec_t t = now(CLOCK_REALTIME), started = upgrade_started_usec(u);
                h->last_upgrade_usec = t;
                h->last_upgrade_duration = t > started ? t - started : 0;
        }
        if (upgrade_backup_made(u, &h->last_backup_bytes, &h->last_backup_duration))
                h->have_backup = true;
}

static void start_upgrade(Manager *m, const UpgradeRecord *resume) {
        const UpgradePlan *plan = resume ? resume->plan : m->height_plan ?: plan_arbiter_acting(m->arbiter);
        m->state = STATE_UPGRADING;
        chain_watch_set_upgrading(m->chain_watch, true);
        if (!m->ready_sent)
                extend_timeout(m, true);
        int r = upgrade_start(m->event, m->config, m->layout, &m->credentials, plan, resume, on_upgrade_done, m, &m->upgrade);
        if (r < 0) {
                log_event(EVENT_UPGRADE_FAILED, LOG_ERR, r, m->config->name, plan, NULL,
                        "Upgrade '%s' could not be started. '%s/current' is unchanged.", plan->name, m->layout->root);
                metrics_count_upgrade(m, NULL, r);
                return manager_exit(m, r == -ENOMEM ? EXIT_INTERNAL : EXIT_UPGRADE_FAILED);
        }
        upgrade_set_step_begun(m->upgrade, on_upgrade_step);
        if (m->unit_mode && upgrade_set_node_unit(m->upgrade, launcher_unit_name(m->launcher)) < 0) {
                (void) log_oom();
                m->upgrade = upgrade_free(m->upgrade);
                return manager_exit(m, EXIT_INTERNAL);
        }
        metrics_changed(m);
}

static void on_upgrade_done(Upgrade *u, int error, int exit_status, void *userdata) {
        Manager *m = userdata;
        if (error >= 0) {
                /* The schedule at heights: this one done, and those it supersedes. */
                const UpgradePlan *p = m->height_plan ?: m->resume ? m->resume->plan : plan_arbiter_acting(m->arbiter);
                if (p)
                        height_plan_done(m->layout, m->config->name, p, m->height_plan);
        }
        _cleanup_(upgrade_plan_freep) UpgradePlan *height_plan = TAKE_PTR(m->height_plan);
        metrics_count_upgrade(m, u, error);
        m->upgrade = upgrade_free(m->upgrade);
        m->resume = upgrade_record_free(m->resume);
        chain_watch_set_upgrading(m->chain_watch, false);
        extend_timeout(m, false);
        if (error >= 0 && refresh_current(m) < 0)
                log_debug("'current' cannot be read for the metrics; the launch says why.");
        metrics_changed(m);

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

/* ---- upgrades at a height: a change of the schedule while the node runs ------------------------------ */

static int on_schedule_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        if (ev->len == 0 || !streq(ev->name, HEIGHT_SCHEDULE_FILE) || m->state != STATE_RUNNING)
                return 0;
        _cleanup_(height_pick_done) HeightPick pick = {};
        height_plan_pick(m->layout, &m->current, false, &pick);
        if (pick.height == m->halt_height && streq_ptr(pick.name, m->halt_name))
                return 0;
        _cleanup_free_ char *shown = pick.name ? string_escape_for_log(pick.name, strlen(pick.name), 200) : NULL;
        if (!m->config->height_restart) {
                log_notice("The upgrades scheduled at a height changed; %s keeps its %s until its next start (ORAIVISOR_HEIGHT_RESTART=false).",
                        m->config->name, m->halt_height > 0 ? "--halt-height" : "run without --halt-height");
                return 0;
        }
        if (pick.height > 0)
                log_notice("Upgrade '%s' is now scheduled at height %" PRId64 ": restarting %s with --halt-height %" PRId64 ".",
                        strna(shown), pick.height, m->config->name, pick.height);
        else
                log_notice("No upgrade is scheduled at a height any more: restarting %s without --halt-height.", m->config->name);
        m->state = STATE_RESTARTING;
        if (launcher_stop(m->launcher, m->config->shutdown_grace) < 0)
                manager_exit(m, EXIT_SYSTEM);
        return 0;
}

static int setup_schedule_watch(Manager *m) {
        int r = sd_event_add_inotify(m->event, &m->schedule_watch, m->layout->root,
                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR, on_schedule_event, m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch '%s' for upgrades scheduled at a height; they take effect at the next start of the node: %m",
                        m->layout->root);
        return 0;
}

/* ---- plans: the facts the arbiter needs, and carrying out its decisions ------------------------------ */

/* Whether a plan still has to be carried out, judged against what `current` runs. */
static PlanVerdict judge_plan(const UpgradePlan *p, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *folder = NULL;

        if (layout_find_upgrade(m->layout, p->name, &folder) < 0)
                return PLAN_VERDICT_DUE; /* a name that cannot be a folder: the upgrade fails loudly, never silently */
        if (m->current.folder && streq(folder, m->current.folder))
                return PLAN_VERDICT_RUNNING;
        if (m->current.plan && p->height > 0 && m->current.plan->height >= p->height)
                return PLAN_VERDICT_NOT_NEWER;
        if (p->height > 0 && skip_heights_contain(m->skip_heights, m->n_skip_heights, p->height))
                return PLAN_VERDICT_SKIPPED;
        return PLAN_VERDICT_DUE;
}

static int read_plan_file(PlanFile *ret, void *userdata) {
        Manager *m = userdata;
        const char *reason = NULL;

        m->file_plan = upgrade_plan_free(m->file_plan);
        int r = layout_read_plan_file(m->layout, &m->file_plan, &reason);
        if (r == -ENOMEM)
                return r;
        *ret = (PlanFile) { .r = r, .plan = r > 0 ? m->file_plan : NULL, .reason = reason };
        return 0;
}

static DaemonPhase daemon_phase(const Manager *m) {
        switch (m->state) {
        case STATE_RUNNING:
        case STATE_LAUNCHING:
                return DAEMON_PHASE_UP;
        case STATE_STOPPING:
                return DAEMON_PHASE_STOPPING;
        default:
                return DAEMON_PHASE_OTHER;
        }
}

static const PlanFacts *plan_facts(Manager *m) {
        static PlanFacts facts = { .judge = judge_plan, .read_file = read_plan_file };
        facts.userdata = m;
        return &facts;
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Says what the arbiter noted about a decision. */
static void log_notes(Manager *m, const PlanDecision *d) {
        const char *from = plan_source_to_string(d->source), *name = d->plan ? d->plan->name : "";
        char buf[FORMAT_TIMESPAN_MAX];

        if (d->notes & PLAN_NOTE_IGNORED_BUSY)
                log_warning("Ignoring plan '%s' (from %s) while upgrade '%s' is under way.", name, from, d->other->name);
        if (d->notes & PLAN_NOTE_NOT_NEWER)
                log_notice("Ignoring plan '%s' (from %s): it is not newer than the plan of the version running.", name, from);
        if (d->notes & PLAN_NOTE_SKIPPED)
                log_event(EVENT_UPGRADE_SKIPPED, LOG_NOTICE, 0, m->config->name, d->plan, NULL,
                        "Not upgrading to '%s' (from %s): its height is listed in --unsafe-skip-upgrades.", name, from);
        if (d->notes & PLAN_NOTE_WAITING)
                log_info("%s announced upgrade '%s' in its output; waiting for %s/data/upgrade-info.json to confirm it or for %s to halt.",
                        m->config->name, name, m->config->home, m->config->name);
        if (d->notes & PLAN_NOTE_UNANNOUNCED)
                log_warning("Ignoring the announcement of upgrade '%s' in %s's output: %s/data/upgrade-info.json names '%s' instead, so the node did not announce it (the text may come from a logged transaction).",
                        name, m->config->name, m->config->home, d->other->name);
        if (d->notes & PLAN_NOTE_LINE_BAD_FILE)
                log_warning("%s/data/upgrade-info.json is still not a valid plan (%s) %s after %s announced upgrade '%s': acting on the log line.",
                        m->config->home, d->reason, format_timespan(buf, sizeof(buf), LOG_PLAN_CONFIRM_USEC),
                        m->config->name, name);
        if (d->notes & PLAN_NOTE_LINE_NO_FILE)
                log_notice("No %s/data/upgrade-info.json confirms upgrade '%s' and %s still runs (an SDK older than v0.40, or the node's --home is not DAEMON_HOME): acting on the log line.",
                        m->config->home, name, m->config->name);
        if (d->notes & PLAN_NOTE_BAD_FILE)
                log_warning("%s/data/upgrade-info.json is not a valid upgrade plan (%s), ignoring it.", m->config->home, d->reason);
        if (d->notes & PLAN_NOTE_INFO_UPDATED)
                log_debug("Plan '%s' info: %s", name, d->plan->info);
}

/* Carries out a decision taken while the daemon runs (STOP, ARM_TIMER or NONE), and keeps the confirmation
 * timer running exactly while the arbiter waits. */
static void apply_decision(Manager *m, int r, const PlanDecision *d) {
        if (r < 0) {
                log_oom();
                return manager_exit(m, EXIT_INTERNAL);
        }
        log_notes(m, d);
        if (!plan_arbiter_waiting(m->arbiter))
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);

        if (d->action == PLAN_ACTION_ARM_TIMER) {
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                if (sd_event_add_time_relative(m->event, &m->confirm_timer, CLOCK_MONOTONIC, LOG_PLAN_CONFIRM_USEC, 0,
                            on_confirm_timer, m) < 0)
                        (void) on_confirm_timer(NULL, 0, m);
                return;
        }
        if (d->action != PLAN_ACTION_STOP)
                return;

        const UpgradePlan *p = d->plan;
        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, p, NULL,
                "Upgrade plan '%s' detected (from %s)%s%s.", p->name, plan_source_to_string(d->source),
                isempty(p->info) ? "" : ", info: ", strempty(p->info));

        char buf[FORMAT_TIMESPAN_MAX];
        log_info("Stopping %s for upgrade '%s' (DAEMON_SHUTDOWN_GRACE=%s).", m->config->name, p->name,
                format_timespan(buf, sizeof(buf), m->config->shutdown_grace));
        notify_status("upgrade %s: stopping %s", p->name, m->config->name);
        m->state = STATE_STOPPING;
        r = launcher_stop(m->launcher, m->config->shutdown_grace);
        if (r < 0) {
                log_error_errno(r, "Failed to stop the daemon for the upgrade: %m");
                manager_exit(m, EXIT_SYSTEM);
        }
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        PlanDecision d;
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        int r = plan_arbiter_timeout(m->arbiter, plan_facts(m), daemon_phase(m), &d);
        apply_decision(m, r, &d);
        return 0;
}

/* The one entry point of every plan source while the daemon runs. */
static void manager_handle_plan(Manager *m, const UpgradePlan *p, PlanSource source) {
        PlanDecision d;
        int r = plan_arbiter_seen(m->arbiter, plan_facts(m), daemon_phase(m), source, p, &d);
        apply_decision(m, r, &d);
}

static void on_plan_file(PlanWatch *w, const UpgradePlan *p, void *userdata) {
        manager_handle_plan(userdata, p, PLAN_SOURCE_FILE);
}

/* ---- launcher callbacks ------------------------------------------------------------------------------- */

static int on_line(Launcher *l, const char *line, size_t len, bool stderr_stream, void *userdata) {
        Manager *m = userdata;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        if (m->halt_height > 0 && !m->halt_seen && height_plan_is_halt_line(line, len)) {
                log_info("%s says it halts at its --halt-height %" PRId64 ".", m->config->name, m->halt_height);
                m->halt_seen = true;
        }
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
        metrics_changed(m);
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
                int r = plan_arbiter_daemon_exited(m->arbiter, plan_facts(m), &d);
                if (r < 0) {
                        log_oom();
                        return manager_exit(m, EXIT_INTERNAL);
                }
                log_notes(m, &d);
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                if (d.action == PLAN_ACTION_UPGRADE && d.source == PLAN_SOURCE_FILE) {
                        log_info("%s %s at the height of upgrade '%s'.", m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)), d.plan->name);
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' detected (from %s).", d.plan->name,
                                plan_source_to_string(PLAN_SOURCE_FILE));
                        return start_upgrade(m, NULL);
                }
                if (d.action == PLAN_ACTION_UPGRADE) {
                        /* It announced a plan and then ended: the announcement was the node's own. */
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' detected (from %s, and %s %s after it).", d.plan->name,
                                plan_source_to_string(PLAN_SOURCE_LOG), m->config->name,
                                daemon_exit_describe(e, buf, sizeof(buf)));
                        return start_upgrade(m, NULL);
                }
                if (m->halt_height > 0 && m->halt_seen && !height_plan_still_scheduled(m->layout, m->halt_name, m->halt_height)) {
                        log_notice("%s %s at its --halt-height %" PRId64 ", but upgrade '%s' is no longer scheduled there: starting it again as it is.",
                                m->config->name, daemon_exit_describe(e, buf, sizeof(buf)), m->halt_height, m->halt_name);
                        (void) manager_launch(m);
                        return;
                }
                if (m->halt_height > 0 && m->halt_seen) {
                        /* It committed the scheduled height and stopped: that upgrade, as a governance one. */
                        if (upgrade_plan_new(m->halt_name, m->halt_height, NULL, NULL, &m->height_plan) < 0) {
                                log_oom();
                                return manager_exit(m, EXIT_INTERNAL);
                        }
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->height_plan, NULL,
                                "%s %s at its --halt-height %" PRId64 ": upgrade '%s' scheduled there (no governance) is due.",
                                m->config->name, daemon_exit_describe(e, buf, sizeof(buf)), m->halt_height, m->halt_name);
                        /* Should the upgrade fail, the next start carries it out: never the old binary past H. */
                        if (height_plan_mark_halted(m->layout, m->halt_name) < 0)
                                log_warning("Should upgrade '%s' not finish, remove it with 'oraivisorctl remove-upgrade' or it is reported as passed at the next start.",
                                        m->halt_name);
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

static void on_upgrade_stopped(Upgrade *u, void *userdata) {
        Manager *m = userdata;
        m->upgrade = upgrade_free(m->upgrade);
        manager_exit(m, 0);
}

static const char *signal_to_string(int sig) {
        switch (sig) {
        case SIGTERM:
                return "SIGTERM";
        case SIGINT:
                return "SIGINT";
        default:
                return "a signal";
        }
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int sig = (int) si->ssi_signo;
        /* SIGHUP (a closed terminal, or a container's stop) stops the node as SIGTERM does: a Cosmos node
         * shuts down gracefully on SIGTERM and SIGINT only, SIGHUP would kill it on the spot. */
        int forward = sig == SIGHUP ? SIGTERM : sig;

        if (sig == SIGQUIT) {
                /* Go dumps its goroutines on SIGQUIT: pass it on, the exit follows as usual. */
                if (m->state == STATE_RUNNING || m->state == STATE_LAUNCHING)
                        (void) launcher_kill(m->launcher, SIGQUIT);
                return 0;
        }

        if (m->shutdown_requested) {
                /* A second request: pass it on (in a terminal, a second Ctrl-C means "now"). */
                if (m->state == STATE_UPGRADING && m->upgrade)
                        (void) upgrade_stop(m->upgrade, signal_to_string(sig), 0, on_upgrade_stopped);
                else if (launcher_is_running(m->launcher))
                        (void) launcher_kill(m->launcher, forward);
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
                if (launcher_kill(m->launcher, forward) < 0)
                        (void) launcher_stop(m->launcher, m->config->shutdown_grace);
                else if (m->config->shutdown_grace > 0)
                        (void) sd_event_add_time_relative(m->event, &m->shutdown_kill_timer, CLOCK_MONOTONIC,
                                m->config->shutdown_grace, 0, on_shutdown_kill, m);
                return 0;
        case STATE_STOPPING:
        case STATE_PREPARING:
        case STATE_RESTARTING:
                /* Already stopping; once it is down we exit instead of upgrading (the next start will). */
                return 0;
        case STATE_UPGRADING:
                log_notice("Interrupting upgrade '%s' at step %s; the next start resumes it.",
                        upgrade_plan(m->upgrade)->name, upgrade_step_to_string(upgrade_current_step(m->upgrade)));
                /* A hook may be writing data/ (a migration): SIGTERM, DAEMON_SHUTDOWN_GRACE, then SIGKILL,
                 * with EXTEND_TIMEOUT_USEC= sent all along (above). */
                if (upgrade_stop(m->upgrade, signal_to_string(sig), m->config->shutdown_grace, on_upgrade_stopped) < 0) {
                        m->upgrade = upgrade_free(m->upgrade);
                        manager_exit(m, 0);
                }
                return 0;
        default:
                manager_exit(m, 0);
                return 0;
        }
}

/* ---- start-up ----------------------------------------------------------------------------------------- */

static int add_signal(Manager *m, size_t slot, int sig);

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
        return add_signal(m, 3, SIGHUP);
}

static int add_signal(Manager *m, size_t slot, int sig) {
        assert(slot < ELEMENTSOF(m->signals));
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, sig);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block SIG%s: %m", sigabbrev_np(sig));
        int r = sd_event_add_signal(m->event, &m->signals[slot], sig, on_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIG%s: %m", sigabbrev_np(sig));
        return 0;
}

/* As PID 1 (a container's entrypoint) a signal without a handler is dropped rather than fatal: the ones
 * that matter have handlers here, SIGCHLD is the reaper's. */
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
                int r = add_signal(m, i, sigs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
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
                r = plan_arbiter_startup(m->arbiter, plan_facts(m), &d);
                if (r < 0)
                        return log_oom(), EXIT_INTERNAL;
                log_notes(m, &d);
                if (d.action == PLAN_ACTION_UPGRADE)
                        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, d.plan, NULL,
                                "Upgrade plan '%s' is pending (%s names it, '%s/current' runs %s): upgrading before the daemon starts.",
                                d.plan->name, "data/upgrade-info.json", m->layout->root, m->version_label);
                else {
                        /* The node stopped at a scheduled height, and that upgrade did not finish. */
                        _cleanup_(height_pick_done) HeightPick pick = {};
                        height_plan_pick(m->layout, &m->current, false, &pick);
                        if (pick.halted_name) {
                                if (upgrade_plan_new(pick.halted_name, pick.halted_height, NULL, NULL, &m->height_plan) < 0)
                                        return log_oom(), EXIT_INTERNAL;
                                log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->height_plan, NULL,
                                        "Upgrade '%s' scheduled at height %" PRId64 " is pending (%s stopped there, '%s/current' runs %s): upgrading before the daemon starts.",
                                        pick.halted_name, pick.halted_height, m->config->name, m->layout->root, m->version_label);
                        }
                }
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
        /* Metrics never stop the node: without them (logged), it runs all the same. */
        if (setup_metrics(m) < 0)
                log_warning("Going on without a metrics file.");
        r = plan_watch_new(m->event, m->config->home, m->config->poll_interval, on_plan_file, m, &m->plan_watch);
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

        (void) setup_schedule_watch(m);
        m->state = STATE_STARTING;
        metrics_changed(m);
        r = manager_startup(m);
        if (r >= 0) {
                notify_stopping(NULL);
                metrics_changed(m);
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
