/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher: the run of the unit (its phase, its main process, its end) and the evaluation of its
 * state. */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "fd-util.h"
#include "launcher-unit-internal.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

void unit_set_phase(UnitLauncher *u, UnitPhase p) {
        u->phase = p;
}

/* ---- the end of a run --------------------------------------------------------------------------------- */

static void on_drained(JournalFollow *f, void *userdata) {
        UnitLauncher *u = userdata;
        if (u->phase != UNIT_PHASE_DRAINING)
                return;
        unit_set_phase(u, UNIT_PHASE_IDLE);
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
void unit_set_main_pid(UnitLauncher *u, pid_t pid) {
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
void unit_end(UnitLauncher *u) {
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
        (void) unit_call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
        (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);

        unit_set_phase(u, UNIT_PHASE_DRAINING);
        unit_set_main_pid(u, 0);
        u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
        if (!u->journal || journal_follow_finish(u->journal, DRAIN_MAX, on_drained) < 0)
                unit_defer_callback(u, DEFER_EXITED);
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

int unit_follow_invocation(UnitLauncher *u, const char *invocation, pid_t main_pid, bool resume) {
        memcpy(u->invocation, invocation, sizeof(u->invocation));
        int r = journal_follow_start(u->journal, u->unit, invocation, main_pid, resume);
        if (r < 0)
                log_warning_errno(r, "Not reading the output of '%s': upgrade announcements in its log will be missed (upgrade-info.json still works).",
                        u->unit);
        return r;
}

static void became_running(UnitLauncher *u) {
        UnitState *s = &u->state;

        (void) unit_follow_invocation(u, s->invocation, (pid_t) (s->main_pid ?: s->exec_main_pid), false);
        unit_set_main_pid(u, (pid_t) (s->main_pid ?: s->exec_main_pid));
        unit_set_phase(u, u->stop_requested ? UNIT_PHASE_STOPPING : UNIT_PHASE_RUNNING);
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
                if (u->stop_pending && unit_bus_usable(u))
                        (void) unit_issue_stop(u);
                return;
        case UNIT_ACTION_EXEC_FAILED:
                return unit_start_failed_exec(u, s->exec_main_status, unit_exec_status_to_string(s->exec_main_status));
        case UNIT_ACTION_STARTED_AND_ENDED:
                became_running(u);
                return unit_end(u);
        case UNIT_ACTION_STOPPED_UNSTARTED:
                (void) unit_call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
                (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
                u->exit = (DaemonExit) {};
                unit_set_phase(u, UNIT_PHASE_DRAINING);
                unit_defer_callback(u, DEFER_EXITED);
                return;
        case UNIT_ACTION_START_FAILED:
                return unit_start_failed(u, -EIO,
                        "The daemon unit '%s' did not start (job result '%s', unit %s, result '%s'): see 'systemctl status %s' and 'journalctl -u %s'.",
                        u->unit, strna(u->start_job_result), strna(s->active_state), strna(s->result), u->unit, u->unit);
        case UNIT_ACTION_RESTARTED:
                log_notice("The daemon unit '%s' was restarted outside oraivisor (invocation %s); following the new run.",
                        u->unit, s->invocation);
                (void) unit_follow_invocation(u, s->invocation, (pid_t) s->main_pid, false);
                unit_set_main_pid(u, (pid_t) s->main_pid);
                return;
        case UNIT_ACTION_ENDED:
                return unit_end(u);
        case UNIT_ACTION_MAIN_PID:
                if (s->main_pid > 0)
                        unit_set_main_pid(u, (pid_t) s->main_pid);
                return;
        default:
                return;
        }
}

/* ---- the unit's state, read again --------------------------------------------------------------------- */

static int on_get_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_get = sd_bus_slot_unref(u->call_get);

        if (sd_bus_message_is_method_error(m, NULL)) {
                if (unit_reply_is_disconnect(u, m))
                        return 0;
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (u->phase == UNIT_PHASE_STARTING && !u->call_start && !u->start_job && !u->clearing)
                        unit_start_failed(u, -abs(r), "Failed to read the state of the daemon unit '%s': %s", u->unit,
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
void unit_request_state(UnitLauncher *u) {
        if (!unit_bus_usable(u))
                return;
        u->call_get = sd_bus_slot_unref(u->call_get);
        int r = sd_bus_call_method_async(u->bus, &u->call_get, SYSTEMD_DESTINATION, u->unit_path,
                "org.freedesktop.DBus.Properties", "GetAll", on_get_reply, u, "s", "");
        if (r < 0)
                log_warning_errno(r, "Failed to ask for the state of the daemon unit '%s': %m", u->unit);
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
                        unit_set_phase(u, UNIT_PHASE_IDLE);
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

void unit_defer_callback(UnitLauncher *u, Deferred what) {
        u->deferred = what;
        if (u->defer)
                return;
        if (sd_event_add_defer(u->base.event, &u->defer, on_defer, u) < 0) {
                /* Out of memory for an event source: deliver now rather than never. */
                on_defer(NULL, u);
        }
}

/* ---- the launcher ------------------------------------------------------------------------------------- */

static bool unit_is_running(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        return u->phase != UNIT_PHASE_IDLE;
}

static void unit_free(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        journal_follow_free(u->journal);
        unit_disconnect(u);
        unit_start_request_done(u);
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
        .start = unit_launcher_start,
        .stop = unit_launcher_stop,
        .kill = unit_launcher_kill,
        .adopt = unit_launcher_adopt,
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
