/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager's state, shared by the files of the manager: manager.c (start-up, launch, the daemon's
 * callbacks, the upgrade), manager-plan.c (the arbiter's facts and decisions carried out),
 * manager-height.c (upgrades scheduled at a height: --halt-height and the schedule's watch),
 * manager-metrics.c and manager-signal.c. Nothing outside src/oraivisor/manager*.c includes it. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "chain-watch.h"
#include "config.h"
#include "credentials.h"
#include "height-line.h"
#include "launcher.h"
#include "manager.h"
#include "layout.h"
#include "metrics-file.h"
#include "plan-arbiter.h"
#include "plan-watch.h"
#include "ready-watch.h"
#include "reaper.h"
#include "upgrade.h"
#include "upgrade-record.h"

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
        ReadyWatch *ready_watch;      /* the readiness of the known future plans (ready-watch.h) */
        MetricsScheduled metrics_scheduled[16]; /* what metrics_refresh() lends the metrics */
        /* An upgrade at a height without governance (height-plan.h): the --halt-height the daemon runs with,
         * whether it said it halted there, and the plan built for the upgrade once it did. */
        int64_t halt_height;
        char *halt_name;
        bool halt_seen;
        HeightLineKind halt_kind;     /* the halt line seen: which style of BaseApp (core/height-line.h) */
        int64_t halt_known;           /* the node's known committed height when it was started with the flag */
        int64_t halt_governance;      /* the chain's plan's height the flag was decided with, 0 none known */
        int64_t height_seen;          /* the highest committed height its output showed (height lines), 0 none */
        int64_t height_saved;         /* the last one written to oraivisor/node-height */
        bool passed_reported;
        UpgradePlan *height_plan;
        sd_event_source *schedule_watch; /* inotify on $DAEMON_HOME/oraivisor for scheduled-upgrades.json */
};

/* manager.c */
void manager_exit(Manager *m, int status);
void manager_extend_timeout(Manager *m, bool on);
int manager_launch(Manager *m);
void manager_start_upgrade(Manager *m, const UpgradeRecord *resume);

/* manager-plan.c */
const PlanFacts *manager_plan_facts(Manager *m);
void manager_log_notes(Manager *m, const PlanDecision *d);
void manager_handle_plan(Manager *m, const UpgradePlan *p, PlanSource source);
void manager_on_plan_file(PlanWatch *w, const UpgradePlan *p, void *userdata);

/* manager-height.c */
int manager_height_args(Manager *m, char ***argv);
void manager_height_line(Manager *m, const char *line, size_t len);
void manager_height_started(Manager *m);
void manager_height_save_seen(Manager *m);
int manager_height_exited(Manager *m, const DaemonExit *e);
int manager_height_pending(Manager *m);
void manager_height_upgraded(Manager *m);
void manager_height_watch(Manager *m);
void manager_height_chain_changed(Manager *m);

/* manager-metrics.c */
int manager_metrics_setup(Manager *m);
void manager_metrics_changed(Manager *m);
void manager_metrics_count_upgrade(Manager *m, Upgrade *u, int error);

/* manager-signal.c */
int manager_add_signal(Manager *m, size_t slot, int sig);
int manager_setup_signals(Manager *m);
