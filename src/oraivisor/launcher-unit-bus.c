/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher: the connection to the system bus, its signals and the reconnect. */

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

/* ---- small helpers ------------------------------------------------------------------------------------ */

bool unit_bus_usable(UnitLauncher *u) {
        return u->bus && sd_bus_is_open(u->bus) > 0;
}

/* A reply that is only the bus going away: the reconnect logic deals with it. */
bool unit_reply_is_disconnect(UnitLauncher *u, sd_bus_message *m) {
        return sd_bus_message_is_method_error(m, NULL) && !unit_bus_usable(u);
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
int unit_call_forget(UnitLauncher *u, const char *description, const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!unit_bus_usable(u))
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

/* ---- systemd's signals and the connection ------------------------------------------------------------- */

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
        if (unit_reply_is_disconnect(u, m))
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
                unit_schedule_start_retry(u, 0);
                return 0;
        }
        if (u->phase == UNIT_PHASE_STARTING && u->call_start == NULL && !u->state.active_state) {
                /* The start request itself may have been lost with the connection. */
                unit_request_state(u);
                return 0;
        }
        if (u->stop_pending && (u->phase == UNIT_PHASE_RUNNING || u->phase == UNIT_PHASE_STOPPING))
                (void) unit_issue_stop(u);
        if (u->phase != UNIT_PHASE_IDLE)
                unit_request_state(u);
        return 0;
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
                unit_stop_without_bus(u);
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

void unit_disconnect(UnitLauncher *u) {
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

int unit_connect(UnitLauncher *u) {
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
