/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "bus-util.h"
#include "fd-util.h"
#include "journal-follow.h"
#include "launcher-unit.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"
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

static int unit_connect(UnitLauncher *u);
static void unit_disconnect(UnitLauncher *u);
static void unit_request_state(UnitLauncher *u);
static int issue_stop(UnitLauncher *u);
static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata);
static int send_start(UnitLauncher *u);
static void schedule_start_retry(UnitLauncher *u, usec_t delay);

/* Copies src (NULL stays NULL) into *dst. */
static int strdup_to(char **dst, const char *src) {
        *dst = src ? strdup(src) : NULL;
        return src && !*dst ? -ENOMEM : 0;
}

static void start_request_done(UnitLauncher *u) {
        u->req_binary = mfree(u->req_binary);
        u->req_working_directory = mfree(u->req_working_directory);
        u->req_version = mfree(u->req_version);
        u->req_argv = strv_free(u->req_argv);
        u->req_env = strv_free(u->req_env);
        u->call_exists = sd_bus_slot_unref(u->call_exists);
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        u->clearing = false;
}

/* ---- small helpers ------------------------------------------------------------------------------------ */

static bool bus_usable(UnitLauncher *u) {
        return u->bus && sd_bus_is_open(u->bus) > 0;
}

/* A reply that is only the bus going away: the reconnect logic deals with it. */
static bool reply_is_disconnect(UnitLauncher *u, sd_bus_message *m) {
        return sd_bus_message_is_method_error(m, NULL) && !bus_usable(u);
}

static int on_reply_log(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *what = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                log_debug("%s failed, ignoring: %s", what, bus_error_text(e, sd_bus_message_get_errno(m)));
        return 0;
}

/* A call whose result does not change what we do next (its failure is logged at debug level). The
 * description must be a string constant. */
static int call_forget(UnitLauncher *u, const char *description, const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!bus_usable(u))
                return -ENOTCONN;
        r = sd_bus_message_new_method_call(u->bus, &m, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                member);
        if (r < 0)
                return r;
        va_list ap;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return sd_bus_call_async(u->bus, NULL, m, on_reply_log, (void *) description, 0);
}

static void defer_callback(UnitLauncher *u, Deferred what);

#define IN_SET_PHASE(p, a, b, c) ((p) == (a) || (p) == (b) || (p) == (c))

static void set_phase(UnitLauncher *u, UnitPhase p) {
        u->phase = p;
}

/* ---- the end of a run --------------------------------------------------------------------------------- */

static void on_drained(JournalFollow *f, void *userdata) {
        UnitLauncher *u = userdata;
        if (u->phase != UNIT_PHASE_DRAINING)
                return;
        set_phase(u, UNIT_PHASE_IDLE);
        u->stop_requested = u->stop_pending = false;
        u->start_job = mfree(u->start_job);
        u->stop_job = mfree(u->stop_job);
        DaemonExit e = u->exit;
        if (u->base.cb.on_exited)
                u->base.cb.on_exited(&u->base, &e, u->base.userdata);
}

/* Records the daemon's main pid and takes a pidfd on it right away: every later signal goes through that
 * fd, never through the number, which the kernel may give to another process once the daemon is gone
 * (PID 1's word on it is out of reach while the bus is). pid 0: forget it. */
static void set_main_pid(UnitLauncher *u, pid_t pid) {
        if (pid == u->main_pid)
                return; /* never re-opened by number: a closed pidfd stays closed */
        u->pidfd_source = sd_event_source_disable_unref(u->pidfd_source);
        u->pidfd = safe_close(u->pidfd);
        u->main_pid = pid > 0 ? pid : 0;
        if (pid <= 0)
                return;
        u->pidfd = pidfd_open(pid, 0);
        if (u->pidfd < 0)
                /* Gone already (PropertiesChanged will say so), or no pidfd support: no direct signals. */
                log_debug_errno(errno, "Cannot open a pidfd on the daemon's main process %d: %m", (int) pid);
}

/* The unit ended (u->state says how, as far as PID 1 still knows): deliver the last lines, then
 * on_exited. */
static void unit_end(UnitLauncher *u) {
        UnitState *s = &u->state;
        char buf[128];

        if (u->phase == UNIT_PHASE_DRAINING || u->phase == UNIT_PHASE_IDLE)
                return;

        bool same_run = !streq_ptr(s->load_state, "not-found") && (!u->invocation[0] || !s->invocation[0] ||
                streq(s->invocation, u->invocation));
        if (same_run && s->have_exec_main && s->exec_main_code > 0)
                u->exit = (DaemonExit) { .code = s->exec_main_code, .status = s->exec_main_status };
        else {
                /* Collected before we could read it (we reconnected, or adopted it without a reference):
                 * PID 1 also logs the outcome. */
                int code = 0, status = 0;
                if (journal_lookup_unit_exit(u->unit, u->invocation, &code, &status) > 0)
                        u->exit = (DaemonExit) { .code = code, .status = status };
                else {
                        u->exit = (DaemonExit) {};
                        log_warning("Could not learn how the daemon unit '%s' ended (it was already gone); reporting an unknown end.",
                                u->unit);
                }
        }
        log_debug("Daemon unit '%s' ended (%s, result '%s').", u->unit, daemon_exit_describe(&u->exit, buf, sizeof(buf)),
                strna(s->result));

        /* Let go of it: the reference from AddRef/RefUnit, and a failed state that would block the name. */
        (void) call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
        (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);

        set_phase(u, UNIT_PHASE_DRAINING);
        set_main_pid(u, 0);
        u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
        if (!u->journal || journal_follow_finish(u->journal, DRAIN_MAX, on_drained) < 0)
                defer_callback(u, DEFER_EXITED);
}

static void start_failed(UnitLauncher *u, int error, const char *format, ...) _printf_(3, 4);
static void start_failed(UnitLauncher *u, int error, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, format);
        if (vasprintf(&msg, format, ap) < 0)
                msg = NULL;
        va_end(ap);

        start_request_done(u);
        (void) call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
        (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
        if (u->journal)
                journal_follow_stop(u->journal);
        u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
        set_phase(u, UNIT_PHASE_IDLE);
        u->start_job = mfree(u->start_job);
        u->stop_job = mfree(u->stop_job);
        u->stop_requested = u->stop_pending = false;
        if (u->base.cb.on_failed)
                u->base.cb.on_failed(&u->base, error, msg ?: "The daemon unit failed to start.", u->base.userdata);
}

/* systemd could not run the binary at all (status 200..245 from its own exec code). */
static void start_failed_exec(UnitLauncher *u, int status, const char *name) {
        switch (status) {
        case 203:
                return start_failed(u, -ENOEXEC,
                        "systemd could not execute the daemon's binary in unit '%s' (status 203/EXEC): check that the file 'current' resolves to exists and is executable ('journalctl -u %s' says why).",
                        u->unit, u->unit);
        case 200:
                return start_failed(u, -ENOENT,
                        "systemd could not enter the daemon's working directory in unit '%s' (status 200/CHDIR): check that DAEMON_HOME='%s' exists and DAEMON_USER can enter it.",
                        u->unit, strna(u->config->home));
        case 217:
                return start_failed(u, -ESRCH,
                        "systemd could not run the daemon unit '%s' as DAEMON_USER='%s' (status 217/USER): create that user or fix DAEMON_USER.",
                        u->unit, strna(u->config->daemon_user));
        case 216:
                return start_failed(u, -ESRCH,
                        "systemd could not run the daemon unit '%s' with DAEMON_GROUP='%s' (status 216/GROUP): create that group or fix DAEMON_GROUP.",
                        u->unit, strna(u->config->daemon_group));
        case 226:
                return start_failed(u, -ENOENT,
                        "systemd could not set up the sandbox of the daemon unit '%s' (status 226/NAMESPACE): a folder it makes writable or binds (DAEMON_HOME, or a path of ORAIVISOR_DAEMON_PROPERTIES) does not exist or lies in a hidden one such as /home: create it, write it as '-/path' to ignore a missing one, or set ORAIVISOR_DAEMON_SANDBOX=off ('journalctl -u %s' names it).",
                        u->unit, u->unit);
        default:
                return start_failed(u, -EIO,
                        "systemd could not start the daemon unit '%s' (status %d/%s): see 'systemctl status %s' and 'journalctl -u %s'.",
                        u->unit, status, name, u->unit, u->unit);
        }
}

/* ---- the unit runs ------------------------------------------------------------------------------------ */

static void on_journal_line(JournalFollow *f, const char *line, size_t len, void *userdata) {
        UnitLauncher *u = userdata;

        if (u->echo && !u->echo_broken) {
                struct iovec iov[2] = { { (void *) line, len }, { (void *) "\n", 1 } };
                ssize_t n = writev(STDOUT_FILENO, iov, 2);
                if (n >= 0 && (size_t) n < len + 1) {
                        /* A short write to a pipe: finish it the slow way. */
                        size_t done = (size_t) n;
                        int r = done < len ? loop_write(STDOUT_FILENO, line + done, len - done) : 0;
                        if (r >= 0)
                                r = loop_write(STDOUT_FILENO, "\n", 1);
                        if (r < 0)
                                n = -1;
                }
                if (n < 0) {
                        log_debug_errno(errno, "Failed to copy the daemon's output to stdout, not copying any more: %m");
                        u->echo_broken = true;
                }
        }
        if (u->base.cb.on_line) {
                int r = u->base.cb.on_line(&u->base, line, len, false, u->base.userdata);
                if (r < 0)
                        log_debug_errno(r, "Line handler failed, ignoring: %m");
        }
}

static int follow_invocation(UnitLauncher *u, const char *invocation, pid_t main_pid, bool resume) {
        memcpy(u->invocation, invocation, sizeof(u->invocation));
        int r = journal_follow_start(u->journal, u->unit, invocation, main_pid, resume);
        if (r < 0)
                log_warning_errno(r, "Not reading the output of '%s': upgrade announcements in its log will be missed (upgrade-info.json still works).",
                        u->unit);
        return r;
}

static void became_running(UnitLauncher *u) {
        UnitState *s = &u->state;

        (void) follow_invocation(u, s->invocation, (pid_t) (s->main_pid ?: s->exec_main_pid), false);
        set_main_pid(u, (pid_t) (s->main_pid ?: s->exec_main_pid));
        set_phase(u, u->stop_requested ? UNIT_PHASE_STOPPING : UNIT_PHASE_RUNNING);
        log_debug("Daemon unit '%s' is %s, main pid %d, invocation %s.", u->unit, strna(s->active_state),
                (int) u->main_pid, u->invocation);
        if (u->base.cb.on_started)
                u->base.cb.on_started(&u->base, u->main_pid, u->base.userdata);
}

/* The unit's state as core/unit-evaluate.c needs it. */
static UnitFacts unit_facts(const UnitLauncher *u) {
        const UnitState *s = &u->state;
        bool gone = streq_ptr(s->load_state, "not-found") || !s->active_state;
        bool valid = invocation_id_is_valid(s->invocation);
        return (UnitFacts) {
                .gone = gone,
                .ended = gone || unit_active_state_is_ended(s->active_state),
                .running = unit_active_state_is_running(s->active_state),
                .job_pending = s->job && !streq(s->job, "/"),
                .has_pid = s->main_pid > 0 || s->exec_main_pid > 0,
                .ran = s->exec_main_pid > 0,
                .exec_failed = s->have_exec_main && s->exec_main_code == CLD_EXITED &&
                        unit_exec_status_to_string(s->exec_main_status),
                .invocation_valid = valid,
                .other_invocation = valid && u->invocation[0] && !streq(s->invocation, u->invocation),
        };
}

/* Carries out what core/unit-evaluate.c decides the latest full state of the unit means. */
static void unit_evaluate_apply(UnitLauncher *u) {
        UnitState *s = &u->state;
        UnitFacts f = unit_facts(u);

        switch (unit_evaluate(u->phase, u->call_start || u->start_job || u->clearing, u->stop_requested, &f)) {
        case UNIT_ACTION_STARTED:
                became_running(u);
                if (u->stop_pending && bus_usable(u))
                        (void) issue_stop(u);
                return;
        case UNIT_ACTION_EXEC_FAILED:
                return start_failed_exec(u, s->exec_main_status, unit_exec_status_to_string(s->exec_main_status));
        case UNIT_ACTION_STARTED_AND_ENDED:
                became_running(u);
                return unit_end(u);
        case UNIT_ACTION_STOPPED_UNSTARTED:
                (void) call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
                (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
                u->exit = (DaemonExit) {};
                set_phase(u, UNIT_PHASE_DRAINING);
                defer_callback(u, DEFER_EXITED);
                return;
        case UNIT_ACTION_START_FAILED:
                return start_failed(u, -EIO,
                        "The daemon unit '%s' did not start (job result '%s', unit %s, result '%s'): see 'systemctl status %s' and 'journalctl -u %s'.",
                        u->unit, strna(u->start_job_result), strna(s->active_state), strna(s->result), u->unit, u->unit);
        case UNIT_ACTION_RESTARTED:
                log_notice("The daemon unit '%s' was restarted outside oraivisor (invocation %s); following the new run.",
                        u->unit, s->invocation);
                (void) follow_invocation(u, s->invocation, (pid_t) s->main_pid, false);
                set_main_pid(u, (pid_t) s->main_pid);
                return;
        case UNIT_ACTION_ENDED:
                return unit_end(u);
        case UNIT_ACTION_MAIN_PID:
                if (s->main_pid > 0)
                        set_main_pid(u, (pid_t) s->main_pid);
                return;
        default:
                return;
        }
}

/* ---- D-Bus replies and signals ------------------------------------------------------------------------ */

static int on_get_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_get = sd_bus_slot_unref(u->call_get);

        if (sd_bus_message_is_method_error(m, NULL)) {
                if (reply_is_disconnect(u, m))
                        return 0;
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (u->phase == UNIT_PHASE_STARTING && !u->call_start && !u->start_job && !u->clearing)
                        start_failed(u, -abs(r), "Failed to read the state of the daemon unit '%s': %s", u->unit,
                                bus_error_text(e, r));
                else
                        log_warning("Failed to read the state of the daemon unit '%s', ignoring: %s", u->unit,
                                bus_error_text(e, r));
                return 0;
        }

        UnitState fresh = UNIT_STATE_INIT;
        int r = unit_state_read_properties(m, &fresh);
        if (r < 0) {
                unit_state_done(&fresh);
                log_warning_errno(r, "Failed to parse the state of the daemon unit '%s', ignoring: %m", u->unit);
                return 0;
        }
        unit_state_done(&u->state);
        u->state = fresh;
        unit_evaluate_apply(u);
        return 0;
}

/* Reads every property of the unit again; unit_evaluate() follows. A newer request replaces an older one. */
static void unit_request_state(UnitLauncher *u) {
        if (!bus_usable(u))
                return;
        u->call_get = sd_bus_slot_unref(u->call_get);
        int r = sd_bus_call_method_async(u->bus, &u->call_get, SYSTEMD_DESTINATION, u->unit_path,
                "org.freedesktop.DBus.Properties", "GetAll", on_get_reply, u, "s", "");
        if (r < 0)
                log_warning_errno(r, "Failed to ask for the state of the daemon unit '%s': %m", u->unit);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        uint32_t id;
        const char *job, *unit, *result;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (u->start_job && streq(job, u->start_job)) {
                u->start_job = mfree(u->start_job);
                free(u->start_job_result);
                u->start_job_result = strdup(result);
                log_debug("Start job of '%s' finished: %s.", u->unit, result);
                unit_request_state(u);
        } else if (u->stop_job && streq(job, u->stop_job)) {
                u->stop_job = mfree(u->stop_job);
                log_debug("Stop job of '%s' finished: %s.", u->unit, result);
                unit_request_state(u);
        }
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        const char *iface;

        if (sd_bus_message_read(m, "s", &iface) < 0)
                return 0;
        _cleanup_free_ char *old_active = u->state.active_state ? strdup(u->state.active_state) : NULL;
        if (unit_state_read_properties(m, &u->state) < 0)
                return 0;
        if (!streq(iface, SYSTEMD_UNIT_INTERFACE) || streq_ptr(old_active, u->state.active_state))
                return 0;

        /* The generic Unit interface comes after the Service one (PID 1 sends them in this order): by
         * now ExecMain* and Result are up to date too. Read everything once more anyway: the unit is
         * pinned by our reference, and a full view rules out stale values. */
        switch (u->phase) {
        case UNIT_PHASE_RUNNING:
        case UNIT_PHASE_STOPPING:
                if (unit_active_state_is_ended(u->state.active_state) ||
                        unit_active_state_is_running(u->state.active_state))
                        unit_request_state(u);
                break;
        case UNIT_PHASE_STARTING:
                if (!u->start_job && !u->call_start && !u->clearing)
                        unit_request_state(u);
                break;
        default:
                break;
        }
        return 0;
}

static int on_reloading(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        int active;
        if (sd_bus_message_read(m, "b", &active) < 0)
                return 0;
        /* Signals can be lost over a reload or re-exec of PID 1: look again afterwards. */
        if (!active && u->phase != UNIT_PHASE_IDLE)
                unit_request_state(u);
        return 0;
}

static int on_subscribe_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_subscribe = sd_bus_slot_unref(u->call_subscribe);
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (reply_is_disconnect(u, m))
                return 0;
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed"))
                log_warning("Failed to subscribe to systemd's unit changes, ignoring: %s",
                        bus_error_text(e, sd_bus_message_get_errno(m)));
        /* PID 1 answered: the connection works (a bus socket can accept connections and drop them at
         * once, during shutdown for example: only now does the reconnect count as done). */
        if (u->disconnect_logged)
                log_info("Reconnected to the system bus; checking the daemon unit '%s' again.", u->unit);
        u->disconnect_logged = false;
        u->reconnect_delay = RECONNECT_FIRST;
        return 0;
}

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitLauncher *u = userdata;
        int r = unit_connect(u);
        if (r < 0) {
                u->reconnect_delay = MIN(u->reconnect_delay * 2, RECONNECT_MAX);
                char buf[FORMAT_TIMESPAN_MAX];
                log_debug_errno(r, "Reconnecting to the system bus failed, trying again in %s: %m",
                        format_timespan(buf, sizeof(buf), u->reconnect_delay));
                (void) sd_event_source_set_time_relative(s, u->reconnect_delay);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        /* Until Subscribe() is answered, the next loss backs off further. */
        u->reconnect_delay = MIN(u->reconnect_delay * 2, RECONNECT_MAX);
        log_debug("Connected to the system bus again.");
        /* Signals and replies from the gap are lost: the jobs we waited for are over or unknowable. */
        u->start_job = mfree(u->start_job);
        u->stop_job = mfree(u->stop_job);
        if (u->phase == UNIT_PHASE_STARTING && u->clearing) {
                /* Clearing a blocking unit was cut short: look at it again through a new start (or end,
                 * if a stop came meanwhile). */
                schedule_start_retry(u, 0);
                return 0;
        }
        if (u->phase == UNIT_PHASE_STARTING && u->call_start == NULL && !u->state.active_state) {
                /* The start request itself may have been lost with the connection. */
                unit_request_state(u);
                return 0;
        }
        if (u->stop_pending && (u->phase == UNIT_PHASE_RUNNING || u->phase == UNIT_PHASE_STOPPING))
                (void) issue_stop(u);
        if (u->phase != UNIT_PHASE_IDLE)
                unit_request_state(u);
        return 0;
}

/* ---- stopping without the bus ------------------------------------------------------------------------- */

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        UnitLauncher *u = userdata;
        u->pidfd_source = sd_event_source_disable_unref(u->pidfd_source);
        u->pidfd = safe_close(u->pidfd);
        if (u->phase != UNIT_PHASE_STOPPING && u->phase != UNIT_PHASE_RUNNING)
                return 0;
        log_info("The daemon's main process %d is gone; the system bus is still away, reading its end from the journal.",
                (int) u->main_pid);
        /* Whatever PID 1 knew is out of reach: the journal tells (unit_end() looks there). */
        unit_state_done(&u->state);
        u->state.load_state = strdup("not-found");
        unit_end(u);
        return 0;
}

/* A stop was asked for while the bus is away (D-Bus restarting, or gone for good during a shutdown that
 * orders it before us): ask the main process directly and watch it, so that the stop finishes instead
 * of waiting for a bus that may never come back. Signalling a DAEMON_USER process needs CAP_KILL, which
 * the shipped unit does not grant; then PID 1's own stop (at shutdown) or a reconnect ends it. */
static void stop_without_bus(UnitLauncher *u) {
        if (u->main_pid <= 0 || u->pidfd_source)
                return;
        if (u->pidfd < 0) {
                /* Never a pidfd_open() now on a pid learned earlier: it may be another process by now. */
                log_notice("The system bus is away and there is no handle on the daemon's main process %d: waiting for the bus to return to stop it.",
                        (int) u->main_pid);
                return;
        }
        if (sd_event_add_io(u->base.event, &u->pidfd_source, u->pidfd, EPOLLIN, on_pidfd, u) < 0)
                return;
        int sig = u->stop_grace == 0 ? SIGKILL : SIGTERM;
        if (pidfd_send_signal(u->pidfd, sig, NULL, 0) < 0)
                log_warning_errno(errno, "The system bus is away and signalling the daemon (pid %d) directly failed: %m. Waiting for it to end or for the bus to return.",
                        (int) u->main_pid);
        else
                log_notice("The system bus is away: sent SIG%s to the daemon (pid %d) directly.", sigabbrev_np(sig),
                        (int) u->main_pid);
        if (sig == SIGTERM && !u->kill_timer)
                (void) sd_event_add_time_relative(u->base.event, &u->kill_timer, CLOCK_MONOTONIC, u->stop_grace, 0,
                        on_kill_timer, u);
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        if (!u->disconnect_logged)
                log_warning("Lost the connection to the system bus; reconnecting. The daemon unit '%s' keeps running.",
                        u->unit);
        u->disconnect_logged = true;
        unit_disconnect(u);
        if (u->stop_requested && (u->phase == UNIT_PHASE_RUNNING || u->phase == UNIT_PHASE_STOPPING || u->phase == UNIT_PHASE_STARTING)) {
                u->stop_pending = true;
                stop_without_bus(u);
        }
        if (!u->reconnect_timer) {
                if (sd_event_add_time_relative(u->base.event, &u->reconnect_timer, CLOCK_MONOTONIC, u->reconnect_delay,
                            0, on_reconnect_timer, u) < 0)
                        log_error("Failed to schedule reconnecting to the system bus: the daemon unit '%s' is no longer watched.",
                                u->unit);
        } else {
                (void) sd_event_source_set_time_relative(u->reconnect_timer, u->reconnect_delay);
                (void) sd_event_source_set_enabled(u->reconnect_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void unit_disconnect(UnitLauncher *u) {
        u->match_job_removed = sd_bus_slot_unref(u->match_job_removed);
        u->match_properties = sd_bus_slot_unref(u->match_properties);
        u->match_reloading = sd_bus_slot_unref(u->match_reloading);
        u->match_disconnected = sd_bus_slot_unref(u->match_disconnected);
        u->call_subscribe = sd_bus_slot_unref(u->call_subscribe);
        u->call_start = sd_bus_slot_unref(u->call_start);
        u->call_stop = sd_bus_slot_unref(u->call_stop);
        u->call_get = sd_bus_slot_unref(u->call_get);
        u->call_exists = sd_bus_slot_unref(u->call_exists);
        if (u->bus) {
                (void) sd_bus_detach_event(u->bus);
                u->bus = sd_bus_flush_close_unref(u->bus);
        }
}

static int unit_connect(UnitLauncher *u) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* The system bus through the broker (not PID 1's private socket): AddRef and PropertiesChanged
         * need a bus name. */
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        (void) sd_bus_set_description(bus, "oraivisor-unit-launcher");
        r = sd_bus_attach_event(bus, u->base.event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        u->bus = TAKE_PTR(bus);

        /* The matches first, then Subscribe(), then (later) StartTransientUnit: one connection's messages
         * stay in order, so nothing about our unit can slip past. */
        r = sd_bus_match_signal_async(u->bus, &u->match_job_removed, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                SYSTEMD_MANAGER_INTERFACE, "JobRemoved", on_job_removed, NULL, u);
        if (r >= 0)
                r = sd_bus_match_signal_async(u->bus, &u->match_properties, SYSTEMD_DESTINATION, u->unit_path,
                        "org.freedesktop.DBus.Properties", "PropertiesChanged", on_properties_changed, NULL, u);
        if (r >= 0)
                r = sd_bus_match_signal_async(u->bus, &u->match_reloading, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                        SYSTEMD_MANAGER_INTERFACE, "Reloading", on_reloading, NULL, u);
        if (r >= 0)
                r = sd_bus_match_signal_async(u->bus, &u->match_disconnected, NULL, "/org/freedesktop/DBus/Local",
                        "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, NULL, u);
        if (r >= 0)
                r = sd_bus_call_method_async(u->bus, &u->call_subscribe, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                        SYSTEMD_MANAGER_INTERFACE, "Subscribe", on_subscribe_reply, u, NULL);
        if (r < 0) {
                unit_disconnect(u);
                return r;
        }
        return 0;
}

/* ---- deferred callbacks ------------------------------------------------------------------------------- */

static int on_defer(sd_event_source *s, void *userdata) {
        UnitLauncher *u = userdata;
        Deferred what = u->deferred;
        u->deferred = DEFER_NONE;
        u->defer = sd_event_source_disable_unref(u->defer);

        switch (what) {
        case DEFER_STARTED:
                if ((u->phase == UNIT_PHASE_RUNNING || u->phase == UNIT_PHASE_STOPPING) && u->base.cb.on_started)
                        u->base.cb.on_started(&u->base, u->main_pid, u->base.userdata);
                break;
        case DEFER_EXITED:
                if (u->phase == UNIT_PHASE_DRAINING || u->phase == UNIT_PHASE_IDLE) {
                        set_phase(u, UNIT_PHASE_IDLE);
                        u->stop_requested = u->stop_pending = false;
                        DaemonExit e = u->exit;
                        if (u->base.cb.on_exited)
                                u->base.cb.on_exited(&u->base, &e, u->base.userdata);
                }
                break;
        default:
                break;
        }
        return 0;
}

static void defer_callback(UnitLauncher *u, Deferred what) {
        u->deferred = what;
        if (u->defer)
                return;
        if (sd_event_add_defer(u->base.event, &u->defer, on_defer, u) < 0) {
                /* Out of memory for an event source: deliver now rather than never. */
                on_defer(NULL, u);
        }
}

/* ---- the launcher operations -------------------------------------------------------------------------- */

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitLauncher *u = userdata;
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        if (u->phase != UNIT_PHASE_STARTING || !u->clearing)
                return 0;
        if (u->stop_requested) {
                /* Stopped while we were clearing the way: nothing of ours ran. */
                start_request_done(u);
                u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
                u->stop_job = mfree(u->stop_job);
                u->exit = (DaemonExit) {};
                set_phase(u, UNIT_PHASE_DRAINING);
                defer_callback(u, DEFER_EXITED);
                return 0;
        }
        if (!bus_usable(u))
                return 0; /* the reconnect starts again */
        int r = send_start(u);
        if (r < 0)
                start_failed(u, r, "Failed to send StartTransientUnit for '%s' again: %s", u->unit, strerror(-r));
        return 0;
}

static void schedule_start_retry(UnitLauncher *u, usec_t delay) {
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        int r = sd_event_add_time_relative(u->base.event, &u->retry_timer, CLOCK_MONOTONIC, delay, 0,
                on_retry_timer, u);
        if (r < 0)
                start_failed(u, r, "Failed to schedule starting the daemon unit '%s' again: %s", u->unit, strerror(-r));
}

static void start_failed_exists(UnitLauncher *u) {
        start_failed(u, -EEXIST,
                "The daemon unit '%s' already exists: an earlier daemon still runs, or systemd kept its stopped unit loaded ('systemctl stop %s' clears either), or a unit file of that name shadows it (remove it, or set ORAIVISOR_DAEMON_UNIT to another name).",
                u->unit, u->unit);
}

/* What is the unit that blocked StartTransientUnit? A stopped one that systemd kept loaded (systemd 252
 * now and then does not collect an inactive transient unit although nothing references it) is stopped
 * once more, which gets it collected, and the start is sent again. Anything else is an error. */
static int on_exists_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_exists = sd_bus_slot_unref(u->call_exists);
        if (u->phase != UNIT_PHASE_STARTING || !u->clearing)
                return 0;

        if (sd_bus_message_is_method_error(m, NULL)) {
                if (reply_is_disconnect(u, m))
                        return 0; /* the reconnect starts again */
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (sd_bus_error_has_names(e, "org.freedesktop.systemd1.NoSuchUnit",
                            "org.freedesktop.DBus.Error.UnknownObject")) {
                        /* Collected meanwhile: the name is free. */
                        schedule_start_retry(u, 0);
                        return 0;
                }
                start_failed(u, -abs(r), "The daemon unit '%s' already exists and its state cannot be read: %s", u->unit,
                        bus_error_text(e, r));
                return 0;
        }

        _cleanup_(unit_state_done) UnitState s = UNIT_STATE_INIT;
        int r = unit_state_read_properties(m, &s);
        if (r < 0) {
                start_failed(u, r, "The daemon unit '%s' already exists and its state cannot be parsed: %s", u->unit,
                        strerror(-r));
                return 0;
        }
        if (streq_ptr(s.load_state, "not-found") || !s.active_state) {
                schedule_start_retry(u, 0);
                return 0;
        }
        if (s.transient == 0) {
                start_failed(u, -EEXIST,
                        "A unit file named '%s' shadows the daemon unit oraivisor creates: remove that file (and run 'systemctl daemon-reload'), or set ORAIVISOR_DAEMON_UNIT to another name.",
                        u->unit);
                return 0;
        }
        if (!unit_active_state_is_ended(s.active_state)) {
                start_failed(u, -EEXIST,
                        "The daemon unit '%s' already runs (%s, pid %u, '%s'), started outside this oraivisor: stop it with 'systemctl stop %s', or set ORAIVISOR_DAEMON_UNIT to another name.",
                        u->unit, s.active_state, s.main_pid, strna(s.exec_path), u->unit);
                return 0;
        }
        if (u->start_tries >= START_TRIES_MAX) {
                start_failed_exists(u);
                return 0;
        }

        if (u->start_tries == 1)
                log_notice("systemd kept the stopped daemon unit '%s' loaded (%s, %s); stopping it once more so that it is collected, then starting the daemon.",
                        u->unit, s.active_state, strna(s.sub_state));
        bool job_pending = s.job && !streq(s.job, "/");
        if (!job_pending) {
                (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
                (void) call_forget(u, "StopUnit", "StopUnit", "ss", u->unit, "replace");
        }
        schedule_start_retry(u, START_RETRY_DELAY);
        return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_start = sd_bus_slot_unref(u->call_start);

        if (u->phase != UNIT_PHASE_STARTING)
                return 0;
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (reply_is_disconnect(u, m)) {
                        start_failed(u, -ECONNRESET,
                                "Lost the connection to the system bus while starting the daemon unit '%s': restart oraivisor.",
                                u->unit);
                        return 0;
                }
                if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists")) {
                        if (u->start_tries >= START_TRIES_MAX || !bus_usable(u)) {
                                start_failed_exists(u);
                                return 0;
                        }
                        u->clearing = true;
                        u->call_exists = sd_bus_slot_unref(u->call_exists);
                        r = sd_bus_call_method_async(u->bus, &u->call_exists, SYSTEMD_DESTINATION, u->unit_path,
                                "org.freedesktop.DBus.Properties", "GetAll", on_exists_state, u, "s", "");
                        if (r < 0)
                                start_failed_exists(u);
                        return 0;
                }
                start_failed(u, -abs(r), "systemd refused to start the daemon unit '%s': %s", u->unit,
                        bus_error_text(e, r));
                return 0;
        }

        if (u->clearing)
                log_info("Cleared the stopped daemon unit '%s' that systemd had kept; the daemon starts.", u->unit);
        start_request_done(u);

        const char *job;
        int r = sd_bus_message_read(m, "o", &job);
        if (r < 0) {
                start_failed(u, r, "Unexpected reply from systemd to starting '%s'.", u->unit);
                return 0;
        }
        u->start_job = strdup(job);
        if (!u->start_job) {
                /* Without the job's path we cannot recognise its end: look at the unit instead. */
                log_oom();
                unit_request_state(u);
        }
        return 0;
}

/* Sends StartTransientUnit for the request kept in u (again, after clearing a blocking unit). */
static int send_start(UnitLauncher *u) {
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec ds = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = daemon_unit_spec_build(u->unit, u->config->name, u->req_version, u->req_binary, u->req_argv, u->req_env,
                u->req_working_directory, u->config->daemon_user, u->config->daemon_group, u->config->shutdown_grace,
                u->config->limit_nofile, u->config->memory_max, u->config->daemon_sandbox, u->config->home,
                &u->config->daemon_properties, &ds);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "Cannot start the daemon unit '%s': the binary '%s' is not an absolute path.",
                        u->unit, strna(u->req_binary));
        if (ds.n_invalid_env > 0 && u->start_tries == 0)
                log_notice("%zu environment variable%s not valid for systemd (name or value) and %s not passed to the daemon.",
                        ds.n_invalid_env, ds.n_invalid_env == 1 ? " is" : "s are", ds.n_invalid_env == 1 ? "is" : "are");

        r = sd_bus_message_new_method_call(u->bus, &m, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", u->unit, "fail");
        if (r >= 0)
                r = bus_append_daemon_unit_properties(m, &ds);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return log_error_errno(r, "Failed to build the StartTransientUnit request for '%s': %m", u->unit);

        /* A failed unit of that name left by an earlier run would block the name: clear it first (PID 1
         * handles our messages in order). */
        (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);

        /* A state asked for before this start (the previous run's end) says nothing about this one. */
        u->call_get = sd_bus_slot_unref(u->call_get);
        u->call_start = sd_bus_slot_unref(u->call_start);
        r = sd_bus_call_async(u->bus, &u->call_start, m, on_start_reply, u, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to send StartTransientUnit for '%s': %m", u->unit);
        u->start_tries++;
        return 0;
}

static int unit_start(Launcher *l, const LaunchSpec *spec) {
        UnitLauncher *u = (UnitLauncher *) l;
        int r;

        if (u->phase != UNIT_PHASE_IDLE)
                return -EBUSY;
        if (!bus_usable(u))
                return log_error_errno(ENOTCONN, "Cannot start the daemon unit '%s': not connected to the system bus (reconnecting).",
                        u->unit);

        start_request_done(u);
        u->start_tries = 0;
        if (strdup_to(&u->req_binary, spec->binary) < 0 ||
                strdup_to(&u->req_working_directory, spec->working_directory) < 0 ||
                strdup_to(&u->req_version, spec->version) < 0 ||
                !(u->req_argv = strv_copy(spec->argv)) || !(u->req_env = strv_copy(spec->env))) {
                start_request_done(u);
                return log_oom();
        }
        r = send_start(u);
        if (r < 0) {
                start_request_done(u);
                return r;
        }

        unit_state_done(&u->state);
        u->invocation[0] = 0;
        set_main_pid(u, 0);
        u->exit = (DaemonExit) {};
        u->start_job = mfree(u->start_job);
        u->start_job_result = mfree(u->start_job_result);
        u->stop_job = mfree(u->stop_job);
        u->stop_requested = u->stop_pending = false;
        set_phase(u, UNIT_PHASE_STARTING);
        log_debug("Starting daemon unit '%s': %s (%s).", u->unit, spec->binary, strna(spec->version));
        return 0;
}

static int on_stop_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_stop = sd_bus_slot_unref(u->call_stop);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (reply_is_disconnect(u, m)) {
                        u->stop_pending = true;
                        return 0;
                }
                if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit")) {
                        /* Not loaded any more: it already stopped. */
                        unit_request_state(u);
                        return 0;
                }
                log_error("Failed to stop the daemon unit '%s': %s. Stop it with 'systemctl stop %s'.", u->unit,
                        bus_error_text(e, r), u->unit);
                if (u->phase == UNIT_PHASE_RUNNING || u->phase == UNIT_PHASE_STOPPING || u->phase == UNIT_PHASE_STARTING) {
                        if (u->journal)
                                journal_follow_stop(u->journal);
                        set_phase(u, UNIT_PHASE_IDLE);
                        if (u->base.cb.on_failed)
                                u->base.cb.on_failed(&u->base, -abs(r), "The daemon unit could not be stopped.",
                                        u->base.userdata);
                }
                return 0;
        }
        const char *job;
        if (sd_bus_message_read(m, "o", &job) >= 0) {
                free(u->stop_job);
                u->stop_job = strdup(job);
        }
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitLauncher *u = userdata;
        u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
        if (u->phase != UNIT_PHASE_STOPPING && u->phase != UNIT_PHASE_STARTING)
                return 0;
        char buf[FORMAT_TIMESPAN_MAX];
        log_warning("The daemon unit '%s' did not stop within %s, killing it (SIGKILL).", u->unit,
                format_timespan(buf, sizeof(buf), u->stop_grace));
        if (bus_usable(u))
                (void) call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "all", (int32_t) SIGKILL);
        else if (u->pidfd >= 0)
                (void) pidfd_send_signal(u->pidfd, SIGKILL, NULL, 0);
        return 0;
}

static int issue_stop(UnitLauncher *u) {
        int r;

        u->stop_pending = false;
        if (u->stop_grace == 0) {
                /* At once: SIGKILL to everything in the unit, and the stop job for the state. */
                (void) call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "all", (int32_t) SIGKILL);
        } else if (u->state.timeout_stop_usec == 0 || u->stop_grace < u->state.timeout_stop_usec) {
                /* A shorter grace than the unit's TimeoutStopUSec (which cannot be changed once the unit is
                 * loaded): our own deadline, then SIGKILL. A longer one cannot be granted: systemd kills
                 * at the unit's own timeout, the grace it was created with. */
                u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
                r = sd_event_add_time_relative(u->base.event, &u->kill_timer, CLOCK_MONOTONIC, u->stop_grace, 0,
                        on_kill_timer, u);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the stop deadline of '%s', systemd's own applies: %m", u->unit);
        }

        u->call_stop = sd_bus_slot_unref(u->call_stop);
        /* replace: also cancels a start job still queued. */
        r = sd_bus_call_method_async(u->bus, &u->call_stop, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                SYSTEMD_MANAGER_INTERFACE, "StopUnit", on_stop_reply, u, "ss", u->unit, "replace");
        if (r < 0)
                return log_error_errno(r, "Failed to ask systemd to stop '%s': %m", u->unit);
        return 0;
}

static int unit_stop(Launcher *l, usec_t grace) {
        UnitLauncher *u = (UnitLauncher *) l;

        switch (u->phase) {
        case UNIT_PHASE_IDLE:
                /* Nothing runs: report the last end at once (asynchronously, as promised). */
                defer_callback(u, DEFER_EXITED);
                return 0;
        case UNIT_PHASE_DRAINING:
                return 0; /* on_exited is on its way */
        default:
                break;
        }

        u->stop_requested = true;
        u->stop_grace = grace;
        if (u->phase == UNIT_PHASE_RUNNING)
                set_phase(u, UNIT_PHASE_STOPPING);
        if (!bus_usable(u)) {
                u->stop_pending = true; /* sent once reconnected */
                stop_without_bus(u);
                return 0;
        }
        char buf[FORMAT_TIMESPAN_MAX];
        log_debug("Stopping daemon unit '%s' (grace %s).", u->unit, format_timespan(buf, sizeof(buf), grace));
        return issue_stop(u);
}

static int unit_kill(Launcher *l, int sig) {
        UnitLauncher *u = (UnitLauncher *) l;
        if (!IN_SET_PHASE(u->phase, UNIT_PHASE_STARTING, UNIT_PHASE_RUNNING, UNIT_PHASE_STOPPING))
                return -ESRCH;
        if (!bus_usable(u))
                return -ENOTCONN;
        return call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "main", (int32_t) sig);
}

static bool unit_is_running(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        return u->phase != UNIT_PHASE_IDLE;
}

/* Synchronous on purpose: see the header. */
static int call_sync(UnitLauncher *u, const char *path, const char *iface, const char *member, sd_bus_error *error,
        sd_bus_message **reply, const char *types, const char *arg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(u->bus, &m, SYSTEMD_DESTINATION, path, iface, member);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, types, arg);
        if (r < 0)
                return r;
        return sd_bus_call(u->bus, m, ADOPT_CALL_TIMEOUT, error, reply);
}

/* Whether the binary a running unit was started with is one of this DAEMON_HOME's versions (by path as
 * given, or once symlinks are resolved: DAEMON_HOME may be reached through a link). */
static bool unit_runs_below_home(UnitLauncher *u, const char *exec_path) {
        _cleanup_free_ char *root = NULL, *real_root = NULL, *real_exec = NULL;

        if (!exec_path || !u->config->home || asprintf(&root, "%s/oraivisor", u->config->home) < 0)
                return false;
        if (path_startswith_dir(exec_path, root))
                return true;
        real_root = realpath(root, NULL);
        real_exec = realpath(exec_path, NULL);
        return real_root && real_exec && path_startswith_dir(real_exec, real_root);
}

static int unit_adopt(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (u->phase != UNIT_PHASE_IDLE)
                return -EBUSY;
        if (!bus_usable(u))
                return log_error_errno(ENOTCONN, "Cannot look for a running daemon unit '%s': not connected to the system bus.",
                        u->unit);

        r = call_sync(u, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE, "GetUnit", &error, &reply, "s", u->unit);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        return 0;
                return log_error_errno(r, "Failed to look for a running daemon unit '%s': %s", u->unit,
                        bus_error_text(&error, r));
        }
        reply = sd_bus_message_unref(reply);

        r = call_sync(u, u->unit_path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s", "");
        if (r < 0)
                return log_error_errno(r, "Failed to read the state of the daemon unit '%s': %s", u->unit,
                        bus_error_text(&error, r));
        UnitState s = UNIT_STATE_INIT;
        r = unit_state_read_properties(reply, &s);
        if (r < 0) {
                unit_state_done(&s);
                return log_error_errno(r, "Failed to parse the state of the daemon unit '%s': %m", u->unit);
        }
        unit_state_done(&u->state);
        u->state = s;

        if (!unit_active_state_is_running(s.active_state) || s.main_pid == 0 || !invocation_id_is_valid(s.invocation)) {
                if (streq_ptr(s.active_state, "failed"))
                        (void) call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
                log_debug("Daemon unit '%s' exists but does not run (%s), not adopting it.", u->unit,
                        strna(s.active_state));
                unit_state_done(&u->state);
                return 0;
        }

        /* Only a daemon of this DAEMON_HOME is ours: another home's oraivisor may use the same unit name
         * (ORAIVISOR_DAEMON_UNIT, or DAEMON_NAME as the instance outside oraivisor@.service), and
         * adopting its node would mean upgrading the wrong one. */
        if (!unit_runs_below_home(u, s.exec_path)) {
                _cleanup_free_ char *exec_path = s.exec_path ? strdup(s.exec_path) : NULL;
                unit_state_done(&u->state);
                return log_error_errno(EADDRINUSE,
                        "The daemon unit '%s' runs '%s', which is not below DAEMON_HOME='%s/oraivisor': it belongs to another node. Stop it ('systemctl stop %s') if it is a leftover of this node's old DAEMON_HOME, else set ORAIVISOR_DAEMON_UNIT to a name of this node's own.",
                        u->unit, strna(exec_path), strna(u->config->home), u->unit);
        }

        /* Pin it like AddRef does at creation, so that its exit status can be read when it ends. */
        (void) call_forget(u, "RefUnit", "RefUnit", "s", u->unit);

        memcpy(u->invocation, s.invocation, sizeof(u->invocation));
        set_main_pid(u, (pid_t) s.main_pid);
        u->exit = (DaemonExit) {};
        u->stop_requested = u->stop_pending = false;
        set_phase(u, streq(s.active_state, "deactivating") ? UNIT_PHASE_STOPPING : UNIT_PHASE_RUNNING);
        r = follow_invocation(u, s.invocation, (pid_t) s.main_pid, true);
        log_info("Found the daemon unit '%s' running (pid %d, invocation %s): adopting it; its journal is read %s.",
                u->unit, (int) u->main_pid, u->invocation,
                r > 0 ? "from where the previous oraivisor stopped" : "from the start of that run");
        defer_callback(u, DEFER_STARTED);
        return 1;
}

static void unit_free(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        journal_follow_free(u->journal);
        unit_disconnect(u);
        start_request_done(u);
        sd_event_source_disable_unref(u->reconnect_timer);
        sd_event_source_disable_unref(u->kill_timer);
        sd_event_source_disable_unref(u->pidfd_source);
        safe_close(u->pidfd);
        sd_event_source_disable_unref(u->defer);
        unit_state_done(&u->state);
        free(u->start_job);
        free(u->start_job_result);
        free(u->stop_job);
        free(u->unit);
        free(u->unit_path);
        free(u);
}

static const LauncherVTable unit_vtable = {
        .name = "unit",
        .start = unit_start,
        .stop = unit_stop,
        .kill = unit_kill,
        .adopt = unit_adopt,
        .is_running = unit_is_running,
        .free = unit_free,
};

const char *launcher_unit_name(Launcher *l) {
        if (!l || l->vtable != &unit_vtable)
                return NULL;
        return ((UnitLauncher *) l)->unit;
}

int launcher_unit_new(sd_event *e, const UnitLauncherOptions *o, const LauncherCallbacks *cb, void *userdata,
        Launcher **ret) {
        int r;

        assert(e);
        assert(o);
        assert(o->config);
        assert(cb);
        assert(ret);

        UnitLauncher *u = new0(UnitLauncher, 1);
        if (!u)
                return log_oom();
        u->base = (Launcher) {
                .vtable = &unit_vtable,
                .event = e,
                .cb = *cb,
                .userdata = userdata,
        };
        _cleanup_(launcher_freep) Launcher *l = &u->base;
        u->config = o->config;
        u->echo = o->echo_output;
        u->reconnect_delay = RECONNECT_FIRST;
        u->pidfd = -EBADF;

        _cleanup_free_ char *own = NULL;
        if (!o->config->daemon_unit)
                (void) sd_pid_get_unit(0, &own);
        r = daemon_unit_name(o->config->daemon_unit, own, o->config->name, &u->unit);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                if (o->config->daemon_unit)
                        return log_error_errno(r, "ORAIVISOR_DAEMON_UNIT='%s' is not a valid service unit name: use letters, digits and ':-_.\\', optionally one '@', ending in '.service'.",
                                o->config->daemon_unit);
                return log_error_errno(r, "Cannot derive the daemon unit's name from DAEMON_NAME='%s': set ORAIVISOR_DAEMON_UNIT.",
                        strna(o->config->name));
        }
        r = bus_unit_path(u->unit, &u->unit_path);
        if (r < 0)
                return log_oom();

        r = journal_follow_new(e, o->state_dir, on_journal_line, u, &u->journal);
        if (r < 0)
                return r;

        r = unit_connect(u);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m. The unit launcher needs systemd and D-Bus; without them set ORAIVISOR_LAUNCHER=exec.");

        log_debug("Unit launcher ready; the daemon runs as '%s'.", u->unit);
        *ret = TAKE_PTR(l);
        return 0;
}
