/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher: StartTransientUnit, clearing a blocking unit and trying again, start failures. */

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

static int send_start(UnitLauncher *u);

/* Copies src (NULL stays NULL) into *dst. */
static int strdup_to(char **dst, const char *src) {
        *dst = src ? strdup(src) : NULL;
        return src && !*dst ? -ENOMEM : 0;
}

void unit_start_request_done(UnitLauncher *u) {
        u->req_binary = mfree(u->req_binary);
        u->req_working_directory = mfree(u->req_working_directory);
        u->req_version = mfree(u->req_version);
        u->req_argv = strv_free(u->req_argv);
        u->req_env = strv_free(u->req_env);
        u->call_exists = sd_bus_slot_unref(u->call_exists);
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        u->clearing = false;
}

void unit_start_failed(UnitLauncher *u, int error, const char *format, ...) {
        _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
        va_list ap;
        va_start(ap, format);
        (void) outcome_failv(&o, error, format, ap);
        va_end(ap);

        unit_start_request_done(u);
        (void) unit_call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
        (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
        if (u->journal)
                journal_follow_stop(u->journal);
        u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
        unit_set_phase(u, UNIT_PHASE_IDLE);
        u->start_job = mfree(u->start_job);
        u->stop_job = mfree(u->stop_job);
        u->stop_requested = u->stop_pending = false;
        if (u->base.cb.on_failed)
                u->base.cb.on_failed(&u->base, error, outcome_message(&o, "The daemon unit failed to start."),
                        u->base.userdata);
}

/* systemd could not run the binary at all (status 200..245 from its own exec code). */
void unit_start_failed_exec(UnitLauncher *u, int status, const char *name) {
        switch (status) {
        case 203:
                return unit_start_failed(u, -ENOEXEC,
                        "systemd could not execute the daemon's binary in unit '%s' (status 203/EXEC): check that the file 'current' resolves to exists and is executable ('journalctl -u %s' says why).",
                        u->unit, u->unit);
        case 200:
                return unit_start_failed(u, -ENOENT,
                        "systemd could not enter the daemon's working directory in unit '%s' (status 200/CHDIR): check that DAEMON_HOME='%s' exists and DAEMON_USER can enter it.",
                        u->unit, strna(u->config->home));
        case 217:
                return unit_start_failed(u, -ESRCH,
                        "systemd could not run the daemon unit '%s' as DAEMON_USER='%s' (status 217/USER): create that user or fix DAEMON_USER.",
                        u->unit, strna(u->config->daemon_user));
        case 216:
                return unit_start_failed(u, -ESRCH,
                        "systemd could not run the daemon unit '%s' with DAEMON_GROUP='%s' (status 216/GROUP): create that group or fix DAEMON_GROUP.",
                        u->unit, strna(u->config->daemon_group));
        case 226:
                return unit_start_failed(u, -ENOENT,
                        "systemd could not set up the sandbox of the daemon unit '%s' (status 226/NAMESPACE): a folder it makes writable or binds (DAEMON_HOME, or a path of ORAIVISOR_DAEMON_PROPERTIES) does not exist or lies in a hidden one such as /home: create it, write it as '-/path' to ignore a missing one, or set ORAIVISOR_DAEMON_SANDBOX=off ('journalctl -u %s' names it).",
                        u->unit, u->unit);
        default:
                return unit_start_failed(u, -EIO,
                        "systemd could not start the daemon unit '%s' (status %d/%s): see 'systemctl status %s' and 'journalctl -u %s'.",
                        u->unit, status, name, u->unit, u->unit);
        }
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitLauncher *u = userdata;
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        if (u->phase != UNIT_PHASE_STARTING || !u->clearing)
                return 0;
        if (u->stop_requested) {
                /* Stopped while we were clearing the way: nothing of ours ran. */
                unit_start_request_done(u);
                u->kill_timer = sd_event_source_disable_unref(u->kill_timer);
                u->stop_job = mfree(u->stop_job);
                u->exit = (DaemonExit) {};
                unit_set_phase(u, UNIT_PHASE_DRAINING);
                unit_defer_callback(u, DEFER_EXITED);
                return 0;
        }
        if (!unit_bus_usable(u))
                return 0; /* the reconnect starts again */
        int r = send_start(u);
        if (r < 0)
                unit_start_failed(u, r, "Failed to send StartTransientUnit for '%s' again: %s", u->unit, strerror(-r));
        return 0;
}

void unit_schedule_start_retry(UnitLauncher *u, usec_t delay) {
        u->retry_timer = sd_event_source_disable_unref(u->retry_timer);
        int r = sd_event_add_time_relative(u->base.event, &u->retry_timer, CLOCK_MONOTONIC, delay, 0,
                on_retry_timer, u);
        if (r < 0)
                unit_start_failed(u, r, "Failed to schedule starting the daemon unit '%s' again: %s", u->unit, strerror(-r));
}

static void start_failed_exists(UnitLauncher *u) {
        unit_start_failed(u, -EEXIST,
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
                if (unit_reply_is_disconnect(u, m))
                        return 0; /* the reconnect starts again */
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (sd_bus_error_has_names(e, "org.freedesktop.systemd1.NoSuchUnit",
                            "org.freedesktop.DBus.Error.UnknownObject")) {
                        /* Collected meanwhile: the name is free. */
                        unit_schedule_start_retry(u, 0);
                        return 0;
                }
                unit_start_failed(u, -abs(r), "The daemon unit '%s' already exists and its state cannot be read: %s", u->unit,
                        bus_error_text(e, r));
                return 0;
        }

        _cleanup_(unit_state_done) UnitState s = UNIT_STATE_INIT;
        int r = unit_state_read_properties(m, &s);
        if (r < 0) {
                unit_start_failed(u, r, "The daemon unit '%s' already exists and its state cannot be parsed: %s", u->unit,
                        strerror(-r));
                return 0;
        }
        if (streq_ptr(s.load_state, "not-found") || !s.active_state) {
                unit_schedule_start_retry(u, 0);
                return 0;
        }
        if (s.transient == 0) {
                unit_start_failed(u, -EEXIST,
                        "A unit file named '%s' shadows the daemon unit oraivisor creates: remove that file (and run 'systemctl daemon-reload'), or set ORAIVISOR_DAEMON_UNIT to another name.",
                        u->unit);
                return 0;
        }
        if (!unit_active_state_is_ended(s.active_state)) {
                unit_start_failed(u, -EEXIST,
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
                (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
                (void) unit_call_forget(u, "StopUnit", "StopUnit", "ss", u->unit, "replace");
                /* A reference taken and let go: when the last one of a unit's bus references goes, systemd
                 * queues the unit for collection. A stopped unit whose only reference was an earlier
                 * connection's (the bus daemon restarted meanwhile) may otherwise never be looked at again. */
                (void) unit_call_forget(u, "RefUnit", "RefUnit", "s", u->unit);
                (void) unit_call_forget(u, "UnrefUnit", "UnrefUnit", "s", u->unit);
        }
        unit_schedule_start_retry(u, START_RETRY_DELAY);
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
                if (unit_reply_is_disconnect(u, m)) {
                        unit_start_failed(u, -ECONNRESET,
                                "Lost the connection to the system bus while starting the daemon unit '%s': restart oraivisor.",
                                u->unit);
                        return 0;
                }
                if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists")) {
                        if (u->start_tries >= START_TRIES_MAX || !unit_bus_usable(u)) {
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
                unit_start_failed(u, -abs(r), "systemd refused to start the daemon unit '%s': %s", u->unit,
                        bus_error_text(e, r));
                return 0;
        }

        if (u->clearing)
                log_info("Cleared the stopped daemon unit '%s' that systemd had kept; the daemon starts.", u->unit);
        unit_start_request_done(u);

        const char *job;
        int r = sd_bus_message_read(m, "o", &job);
        if (r < 0) {
                unit_start_failed(u, r, "Unexpected reply from systemd to starting '%s'.", u->unit);
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

        r = daemon_unit_spec_from_config(u->config, u->unit, u->req_version, u->req_binary, u->req_argv, u->req_env,
                u->req_working_directory, &ds);
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
        (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);

        /* A state asked for before this start (the previous run's end) says nothing about this one. */
        u->call_get = sd_bus_slot_unref(u->call_get);
        u->call_start = sd_bus_slot_unref(u->call_start);
        r = sd_bus_call_async(u->bus, &u->call_start, m, on_start_reply, u, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to send StartTransientUnit for '%s': %m", u->unit);
        u->start_tries++;
        return 0;
}

int unit_launcher_start(Launcher *l, const LaunchSpec *spec) {
        UnitLauncher *u = (UnitLauncher *) l;
        int r;

        if (u->phase != UNIT_PHASE_IDLE)
                return -EBUSY;
        if (!unit_bus_usable(u))
                return log_error_errno(ENOTCONN, "Cannot start the daemon unit '%s': not connected to the system bus (reconnecting).",
                        u->unit);

        unit_start_request_done(u);
        u->start_tries = 0;
        if (strdup_to(&u->req_binary, spec->binary) < 0 ||
                strdup_to(&u->req_working_directory, spec->working_directory) < 0 ||
                strdup_to(&u->req_version, spec->version) < 0 ||
                !(u->req_argv = strv_copy(spec->argv)) || !(u->req_env = strv_copy(spec->env))) {
                unit_start_request_done(u);
                return log_oom();
        }
        r = send_start(u);
        if (r < 0) {
                unit_start_request_done(u);
                return r;
        }

        unit_state_done(&u->state);
        u->invocation[0] = 0;
        unit_set_main_pid(u, 0);
        u->exit = (DaemonExit) {};
        u->start_job = mfree(u->start_job);
        u->start_job_result = mfree(u->start_job_result);
        u->stop_job = mfree(u->stop_job);
        u->stop_requested = u->stop_pending = false;
        unit_set_phase(u, UNIT_PHASE_STARTING);
        log_debug("Starting daemon unit '%s': %s (%s).", u->unit, spec->binary, strna(spec->version));
        return 0;
}
