/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher: taking over a unit left running by an earlier oraivisor. */

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

int unit_launcher_adopt(Launcher *l) {
        UnitLauncher *u = (UnitLauncher *) l;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (u->phase != UNIT_PHASE_IDLE)
                return -EBUSY;
        if (!unit_bus_usable(u))
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
                        (void) unit_call_forget(u, "ResetFailedUnit", "ResetFailedUnit", "s", u->unit);
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
        (void) unit_call_forget(u, "RefUnit", "RefUnit", "s", u->unit);

        memcpy(u->invocation, s.invocation, sizeof(u->invocation));
        unit_set_main_pid(u, (pid_t) s.main_pid);
        u->exit = (DaemonExit) {};
        u->stop_requested = u->stop_pending = false;
        unit_set_phase(u, streq(s.active_state, "deactivating") ? UNIT_PHASE_STOPPING : UNIT_PHASE_RUNNING);
        r = unit_follow_invocation(u, s.invocation, (pid_t) s.main_pid, true);
        log_info("Found the daemon unit '%s' running (pid %d, invocation %s): adopting it; its journal is read %s.",
                u->unit, (int) u->main_pid, u->invocation,
                r > 0 ? "from where the previous oraivisor stopped" : "from the start of that run");
        unit_defer_callback(u, DEFER_STARTED);
        return 1;
}
