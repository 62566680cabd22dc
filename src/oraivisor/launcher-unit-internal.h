/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The unit launcher's state, shared by the files it is split into (one concern each, see the titles below).
 * Not an API: only src/oraivisor/launcher-unit*.c include it. Everything runs on the event loop's thread;
 * each function takes the UnitLauncher it acts on and reports to the manager through u->base.cb. */

#include <systemd/sd-bus.h>

#include "bus-util.h"
#include "journal-follow.h"
#include "launcher-unit.h"
#include "outcome.h"
#include "unit-evaluate.h"
#include "unit-spec.h"

/* adopt() runs before READY=1, so the watchdog cannot fire, but systemd's start timeout still runs. */
#define ADOPT_CALL_TIMEOUT (20 * USEC_PER_SEC)
/* How long the last lines may take to arrive after the unit stopped. */
#define DRAIN_MAX (2 * USEC_PER_SEC)
#define RECONNECT_FIRST (500 * USEC_PER_MSEC)
#define RECONNECT_MAX (10 * USEC_PER_SEC)
/* A stopped unit that systemd kept loaded blocks its name: how often, and how far apart, we clear it and
 * start again before giving up. */
#define START_TRIES_MAX 20
#define START_RETRY_DELAY (100 * USEC_PER_MSEC)

typedef enum Deferred {
        DEFER_NONE,
        DEFER_STARTED,
        DEFER_EXITED,
} Deferred;

typedef struct UnitLauncher {
        Launcher base;
        const Config *config;
        char *unit;
        char *unit_path;
        bool echo;
        bool echo_broken;

        sd_bus *bus;
        sd_bus_slot *match_job_removed;
        sd_bus_slot *match_properties;
        sd_bus_slot *match_reloading;
        sd_bus_slot *match_disconnected;
        sd_bus_slot *call_subscribe;
        sd_bus_slot *call_start;
        sd_bus_slot *call_stop;
        sd_bus_slot *call_get;
        sd_bus_slot *call_exists;      /* the state of a unit that blocked our start */
        sd_event_source *reconnect_timer;
        sd_event_source *retry_timer;  /* the next StartTransientUnit after clearing a blocking unit */
        sd_event_source *kill_timer;   /* a stop's grace, when shorter than the unit's TimeoutStopUSec */
        int pidfd;                     /* the main process, opened when its pid is learned (a pid read later
                                        * may have been reused); watched while stopping without the bus */
        sd_event_source *pidfd_source;
        usec_t reconnect_delay;
        bool disconnect_logged;

        UnitPhase phase;
        /* What the current start asked for, kept until systemd took it, so that it can be sent again. */
        char *req_binary, *req_working_directory, *req_version;
        char **req_argv, **req_env;
        unsigned start_tries;
        bool clearing;                 /* a blocking unit of our name is being cleared out of the way */
        char *start_job;
        char *start_job_result;
        char *stop_job;
        bool stop_requested;
        usec_t stop_grace;
        bool stop_pending;             /* asked while the bus was away: sent once it is back */
        UnitState state;               /* last known properties of the unit */
        char invocation[33];           /* the invocation we follow ("" before it is known) */
        pid_t main_pid;
        DaemonExit exit;               /* the last one */
        JournalFollow *journal;

        sd_event_source *defer;
        Deferred deferred;
} UnitLauncher;

#define IN_SET_PHASE(p, a, b, c) ((p) == (a) || (p) == (b) || (p) == (c))

/* launcher-unit.c: the run of the unit (its phase, its main process, its end) and the evaluation of its state */
void unit_set_phase(UnitLauncher *u, UnitPhase p);
void unit_set_main_pid(UnitLauncher *u, pid_t pid);
void unit_end(UnitLauncher *u);
int unit_follow_invocation(UnitLauncher *u, const char *invocation, pid_t main_pid, bool resume);
void unit_request_state(UnitLauncher *u);
void unit_defer_callback(UnitLauncher *u, Deferred what);

/* launcher-unit-bus.c: the connection to the system bus, its signals and the reconnect */
bool unit_bus_usable(UnitLauncher *u);
bool unit_reply_is_disconnect(UnitLauncher *u, sd_bus_message *m);
int unit_call_forget(UnitLauncher *u, const char *description, const char *member, const char *types, ...);
void unit_disconnect(UnitLauncher *u);
int unit_connect(UnitLauncher *u);

/* launcher-unit-start.c: StartTransientUnit, clearing a blocking unit and trying again, start failures */
void unit_start_request_done(UnitLauncher *u);
void unit_start_failed(UnitLauncher *u, int error, const char *format, ...) _printf_(3, 4);
void unit_start_failed_exec(UnitLauncher *u, int status, const char *name);
void unit_schedule_start_retry(UnitLauncher *u, usec_t delay);
int unit_launcher_start(Launcher *l, const LaunchSpec *spec);

/* launcher-unit-stop.c: StopUnit with our own grace, KillUnit, and stopping while the bus is away */
void unit_stop_without_bus(UnitLauncher *u);
int unit_issue_stop(UnitLauncher *u);
int unit_launcher_stop(Launcher *l, usec_t grace);
int unit_launcher_kill(Launcher *l, int sig);

/* launcher-unit-adopt.c: taking over a unit left running by an earlier oraivisor */
int unit_launcher_adopt(Launcher *l);
