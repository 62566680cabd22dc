/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>

#include "bus-util.h"
#include "log.h"
#include "string-util.h"
#include "unit-run.h"

/* How long a stop waits for PID 1's answer (it answers once the job is queued). */
#define UNIT_RUN_STOP_CALL_MAX (5 * USEC_PER_SEC)

struct UnitRun {
        sd_event *event;
        sd_bus *bus;
        char *unit;
        char *unit_path;
        UnitRunDone done;
        void *userdata;
        usec_t runtime_max;

        sd_bus_slot *match_job_removed;
        sd_bus_slot *match_properties;
        sd_bus_slot *match_disconnected;
        sd_bus_slot *call_start;
        sd_bus_slot *call_get;
        bool get_again;          /* something changed while GetAll was on its way: ask once more */
        sd_event_source *timer;  /* the backstop: RuntimeMaxUSec + UNIT_RUN_MARGIN */
        sd_event_source *defer;  /* reports the end from the loop, outside the bus's callbacks */

        bool requested;          /* StartTransientUnit was sent: a unit of that name may exist */
        bool started;            /* systemd accepted it: the unit is ours until it ended */
        bool ended;
        bool released;           /* UnrefUnit was sent */
        bool must_stop;          /* our timer ran out: stop it before letting go */
        int error;
        char *message;
        ChildResult result;
};

static void call_forget(UnitRun *r, const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        if (!r->bus || sd_bus_is_open(r->bus) <= 0)
                return;
        int k = sd_bus_message_new_method_call(r->bus, &m, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                SYSTEMD_MANAGER_INTERFACE, member);
        if (k >= 0) {
                va_list ap;
                va_start(ap, types);
                k = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (k >= 0)
                k = sd_bus_send(r->bus, m, NULL);
        if (k < 0)
                log_debug_errno(k, "Failed to send %s for '%s', ignoring: %m", member, r->unit);
}

/* Still running, or about to (oraivisor stops, the caller gives up, our timer ran out): end it, with its
 * processes, and wait for PID 1's answer, bounded. Not a message sent and forgotten: PID 1 looks at the
 * caller's credentials when it handles the request, and refuses one from a connection already closed,
 * which ours is right after this (the unit would then run on to its RuntimeMaxUSec=). PID 1 answers once
 * the stop job is queued, and handles our messages in order, so this comes after the start. */
static void stop_now(UnitRun *r) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        if (!r->bus || sd_bus_is_open(r->bus) <= 0)
                return;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int k = sd_bus_message_new_method_call(r->bus, &m, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                "StopUnit");
        if (k >= 0)
                k = sd_bus_message_append(m, "ss", r->unit, "replace");
        if (k >= 0)
                k = sd_bus_call(r->bus, m, UNIT_RUN_STOP_CALL_MAX, &e, NULL);
        if (k < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                log_warning("Failed to stop the unit '%s' (RuntimeMaxSec= ends it): %s", r->unit, bus_error_text(&e, k));
}

UnitRun *unit_run_free(UnitRun *r) {
        if (!r)
                return NULL;
        r->match_job_removed = sd_bus_slot_unref(r->match_job_removed);
        r->match_properties = sd_bus_slot_unref(r->match_properties);
        r->match_disconnected = sd_bus_slot_unref(r->match_disconnected);
        r->call_start = sd_bus_slot_unref(r->call_start);
        r->call_get = sd_bus_slot_unref(r->call_get);
        if (r->requested && (!r->ended || r->must_stop))
                stop_now(r);
        if (r->requested && !r->released)
                call_forget(r, "UnrefUnit", "s", r->unit);
        if (r->bus) {
                (void) sd_bus_detach_event(r->bus);
                /* Flushed: the messages above reach PID 1 before the connection (and its AddRef) goes. */
                r->bus = sd_bus_flush_close_unref(r->bus);
        }
        sd_event_source_disable_unref(r->timer);
        sd_event_source_disable_unref(r->defer);
        sd_event_unref(r->event);
        free(r->unit);
        free(r->unit_path);
        free(r->message);
        return mfree(r);
}

const char *unit_run_name(const UnitRun *r) {
        return r->unit;
}

static int on_defer(sd_event_source *s, void *userdata) {
        UnitRun *r = userdata;
        r->defer = sd_event_source_disable_unref(r->defer);
        r->done(r, r->error, r->error < 0 ? NULL : &r->result, r->message, r->userdata);
        return 0;
}

/* Ends the run (once): error < 0 with a message, or 0 with r->result filled in. */
_printf_(3, 4) static void finish(UnitRun *r, int error, const char *format, ...) {
        if (r->defer || r->ended)
                return;
        r->ended = true;
        r->error = error;
        if (format) {
                va_list ap;
                va_start(ap, format);
                if (vasprintf(&r->message, format, ap) < 0)
                        r->message = NULL;
                va_end(ap);
        }
        r->timer = sd_event_source_disable_unref(r->timer);
        r->call_get = sd_bus_slot_unref(r->call_get);
        /* Let go of the unit now: with CollectMode=inactive-or-failed systemd removes it. */
        if (r->requested && !r->released && !r->must_stop) {
                call_forget(r, "UnrefUnit", "s", r->unit);
                r->released = true;
        }
        int k = sd_event_add_defer(r->event, &r->defer, on_defer, r);
        if (k < 0) {
                /* Without the loop's help: the caller must not free us from inside this call, and does not. */
                log_debug_errno(k, "Failed to defer the end of '%s': %m", r->unit);
                r->done(r, r->error, r->error < 0 ? NULL : &r->result, r->message, r->userdata);
        }
}

static void request_state(UnitRun *r);

static int on_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitRun *r = userdata;
        r->call_get = sd_bus_slot_unref(r->call_get);
        if (r->ended)
                return 0;
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int k = sd_bus_message_get_errno(m);
                finish(r, -abs(k ?: EIO), "the state of the unit '%s' cannot be read: %s", r->unit, bus_error_text(e, k));
                return 0;
        }
        _cleanup_(unit_state_done) UnitState s = UNIT_STATE_INIT;
        int k = unit_state_read_properties(m, &s);
        if (k < 0) {
                finish(r, k, "the state of the unit '%s' cannot be parsed: %s", r->unit, strerror(-k));
                return 0;
        }
        if (streq_ptr(s.load_state, "not-found")) {
                finish(r, -ESRCH, "the unit '%s' is gone before it could be read (collected by systemd)", r->unit);
                return 0;
        }
        /* Ended, and not merely waiting for its start job. */
        if (!unit_active_state_is_ended(s.active_state) || (s.job && !streq(s.job, "/"))) {
                if (r->get_again) {
                        r->get_again = false;
                        request_state(r);
                }
                return 0;
        }
        if (!s.have_exec_main || s.exec_main_code == 0) {
                /* Failed before its process was forked (a bad property value, no resources). */
                finish(r, -EIO, "systemd could not start the unit '%s' (result '%s'): 'journalctl -u %s' says why",
                        r->unit, strna(s.result), r->unit);
                return 0;
        }
        r->result = (ChildResult) {
                .code = s.exec_main_code,
                .status = s.exec_main_status,
                .timed_out = streq_ptr(s.result, "timeout"),
                /* Type=exec: a unit whose program could not be started never became active, and its status
                 * is systemd's own (203/EXEC, 226/NAMESPACE…). */
                .exec_failed = s.active_enter_usec == 0 && s.exec_main_code == CLD_EXITED &&
                        unit_exec_status_to_string(s.exec_main_status),
        };
        log_debug("Unit '%s' ended: result %s, code %d, status %d.", r->unit, strna(s.result), s.exec_main_code,
                s.exec_main_status);
        finish(r, 0, NULL);
        return 0;
}

static void request_state(UnitRun *r) {
        if (r->ended || !r->started)
                return;
        if (r->call_get) {
                r->get_again = true;
                return;
        }
        int k = sd_bus_call_method_async(r->bus, &r->call_get, SYSTEMD_DESTINATION, r->unit_path,
                "org.freedesktop.DBus.Properties", "GetAll", on_state, r, "s", "");
        if (k < 0)
                finish(r, k, "the state of the unit '%s' cannot be asked for: %s", r->unit, strerror(-k));
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitRun *r = userdata;
        uint32_t id;
        const char *job, *unit, *result;
        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && streq(unit, r->unit))
                request_state(r);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        request_state(userdata);
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitRun *r = userdata;
        /* Our AddRef= went with the connection: RuntimeMaxUSec ends the unit and systemd removes it. */
        r->released = true;
        finish(r, -ECONNRESET, "the connection to the system bus was lost while the unit '%s' ran", r->unit);
        return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitRun *r = userdata;
        r->call_start = sd_bus_slot_unref(r->call_start);
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int k = sd_bus_message_get_errno(m);
                finish(r, -abs(k ?: EIO), "systemd refused to start the unit '%s': %s", r->unit, bus_error_text(e, k));
                return 0;
        }
        r->started = true;
        /* It may have ended already, its signals before our reply: look once. */
        request_state(r);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitRun *r = userdata;
        char buf[FORMAT_TIMESPAN_MAX];
        r->timer = sd_event_source_disable_unref(r->timer);
        r->must_stop = true; /* by unit_run_free(), which follows */
        finish(r, -ETIME, "systemd did not report the end of the unit '%s' within %s; it was stopped", r->unit,
                format_timespan(buf, sizeof buf, r->runtime_max + UNIT_RUN_MARGIN));
        return 0;
}

int unit_run_start(sd_event *e, const DaemonUnitSpec *spec, int stdout_fd, int stderr_fd, UnitRunDone done,
        void *userdata, UnitRun **ret) {
        assert(e);
        assert(spec);
        assert(spec->name);
        assert(spec->runtime_max > 0);
        assert(done);
        assert(ret);

        _cleanup_(unit_run_freep) UnitRun *r = new0(UnitRun, 1);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->done = done;
        r->userdata = userdata;
        r->runtime_max = spec->runtime_max;
        r->unit = strdup(spec->name);
        if (!r->unit)
                return -ENOMEM;
        int k = bus_unit_path(r->unit, &r->unit_path);
        if (k < 0)
                return k;

        /* Through the broker (AddRef= and the signals need a bus name), as the unit launcher. */
        k = sd_bus_open_system(&r->bus);
        if (k < 0)
                return k;
        (void) sd_bus_set_description(r->bus, "oraivisor-unit-run");
        k = sd_bus_attach_event(r->bus, e, SD_EVENT_PRIORITY_NORMAL);
        if (k < 0)
                return k;

        /* The matches, then Subscribe(), then the start: one connection's messages stay in order. */
        k = sd_bus_match_signal_async(r->bus, &r->match_job_removed, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                SYSTEMD_MANAGER_INTERFACE, "JobRemoved", on_job_removed, NULL, r);
        if (k >= 0)
                k = sd_bus_match_signal_async(r->bus, &r->match_properties, SYSTEMD_DESTINATION, r->unit_path,
                        "org.freedesktop.DBus.Properties", "PropertiesChanged", on_properties_changed, NULL, r);
        if (k >= 0)
                k = sd_bus_match_signal_async(r->bus, &r->match_disconnected, NULL, "/org/freedesktop/DBus/Local",
                        "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, NULL, r);
        if (k >= 0)
                k = sd_bus_call_method_async(r->bus, NULL, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                        "Subscribe", NULL, NULL, NULL);
        if (k < 0)
                return k;

        DaemonUnitSpec s = *spec;
        s.stdout_fd = stdout_fd;
        s.stderr_fd = stderr_fd;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        k = sd_bus_message_new_method_call(r->bus, &m, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                "StartTransientUnit");
        if (k >= 0)
                k = sd_bus_message_append(m, "ss", r->unit, "fail");
        if (k >= 0)
                k = bus_append_daemon_unit_properties(m, &s);
        if (k >= 0)
                k = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (k >= 0)
                k = sd_bus_call_async(r->bus, &r->call_start, m, on_start_reply, r, 0);
        if (k < 0)
                return k;
        r->requested = true;
        k = sd_event_add_time_relative(e, &r->timer, CLOCK_MONOTONIC, r->runtime_max + UNIT_RUN_MARGIN, 0, on_timer, r);
        if (k < 0)
                return k;

        log_debug("Starting unit '%s': %s.", r->unit, spec->binary);
        *ret = TAKE_PTR(r);
        return 0;
}
