/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small sd-bus helpers for talking to PID 1 about one unit: the StartTransientUnit property array of the
 * daemon's unit (from a DaemonUnitSpec), a UnitState filled from GetAll replies and PropertiesChanged
 * payloads, and readable error text. Nothing here blocks or logs above debug. */

#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "unit-spec.h"

#define SYSTEMD_DESTINATION "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_INTERFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE_INTERFACE "org.freedesktop.systemd1.Service"

/* What we know about the unit, merged from every GetAll reply and PropertiesChanged payload. Strings
 * are owned. */
typedef struct UnitState {
        char *load_state;       /* "loaded", "not-found", … */
        char *active_state;     /* "active", "inactive", "failed", "activating", "deactivating", … */
        char *sub_state;
        char *result;           /* Service.Result: "success", "exit-code", "signal", "timeout", … */
        char *job;              /* Unit.Job object path, "/" when none */
        char invocation[33];    /* "" when unknown */
        uint32_t main_pid;
        uint32_t exec_main_pid;
        int exec_main_code;     /* CLD_* */
        int exec_main_status;
        uint64_t timeout_stop_usec;
        bool have_exec_main;    /* ExecMainCode/Status were part of what was read */
        int transient;          /* Unit.Transient: 1, 0, or -1 when not read */
        char *exec_path;        /* the binary of the first ExecStart= entry, NULL when not read or none */
        uint64_t active_enter_usec; /* Unit.ActiveEnterTimestamp (CLOCK_REALTIME), 0 when never or not read */
} UnitState;

#define UNIT_STATE_INIT { .transient = -1 }

void unit_state_done(UnitState *s);
/* Reads an a{sv} at the message's current position into s; properties we do not need are skipped. */
int unit_state_read_properties(sd_bus_message *m, UnitState *s);

/* Reads the state of unit from PID 1 synchronously and read-only (GetUnit, then GetAll: a unit PID 1 has
 * not loaded is not loaded for the question). 1 and *s filled, 0 when PID 1 has no such unit loaded, or
 * a negative errno with *error set. For oraivisorctl status. */
int bus_unit_get_state(sd_bus *bus, const char *unit, UnitState *s, sd_bus_error *error);

static inline bool unit_active_state_is_running(const char *s) {
        return s && (streq(s, "active") || streq(s, "activating") || streq(s, "reloading") ||
                streq(s, "deactivating") || streq(s, "refreshing"));
}
static inline bool unit_active_state_is_ended(const char *s) {
        return s && (streq(s, "inactive") || streq(s, "failed"));
}

/* LogRateLimitBurst= of the daemon's unit: effectively no limit (see bus-util.c). */
#define DAEMON_UNIT_LOG_RATE_LIMIT_BURST 500000000U

/* Appends the a(sv) properties of the daemon unit (or of a check derived from it, check_unit_spec_build())
 * to a StartTransientUnit message: Description, Type=exec, Restart=no, AddRef, CollectMode=inactive-or-failed,
 * ExecStart (each '$' as "$$"), Environment, WorkingDirectory, User/Group, KillMode (mixed for the node),
 * KillSignal, TimeoutStopUSec, SyslogIdentifier, RuntimeMaxUSec when set, then StandardOutput/StandardError
 * =journal with LogRateLimitBurst (no limit), or a check's Standard{Output,Error}FileDescriptor, then
 * LimitNOFILE, MemoryMax, the sandbox and the operator's properties. */
int bus_append_daemon_unit_properties(sd_bus_message *m, const DaemonUnitSpec *s);
/* One (sv) of a StartTransientUnit property array. */
int bus_append_unit_property(sd_bus_message *m, const UnitProperty *p);

/* The object path of a unit ("/org/freedesktop/systemd1/unit/…"). */
int bus_unit_path(const char *unit, char **ret);

/* The error's message, or strerror(-r) when the error carries none. */
const char *bus_error_text(const sd_bus_error *e, int r);
