/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher: StopUnit with our own grace, KillUnit, and stopping while the bus is away. */

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

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata);

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
void unit_stop_without_bus(UnitLauncher *u) {
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

/* ---- stop and kill ------------------------------------------------------------------------------------ */

static int on_stop_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitLauncher *u = userdata;
        u->call_stop = sd_bus_slot_unref(u->call_stop);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                int r = sd_bus_message_get_errno(m);
                if (unit_reply_is_disconnect(u, m)) {
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
                        unit_set_phase(u, UNIT_PHASE_IDLE);
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
        if (unit_bus_usable(u))
                (void) unit_call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "all", (int32_t) SIGKILL);
        else if (u->pidfd >= 0)
                (void) pidfd_send_signal(u->pidfd, SIGKILL, NULL, 0);
        return 0;
}

int unit_issue_stop(UnitLauncher *u) {
        int r;

        u->stop_pending = false;
        if (u->stop_grace == 0) {
                /* At once: SIGKILL to everything in the unit, and the stop job for the state. */
                (void) unit_call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "all", (int32_t) SIGKILL);
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

int unit_launcher_stop(Launcher *l, usec_t grace) {
        UnitLauncher *u = (UnitLauncher *) l;

        switch (u->phase) {
        case UNIT_PHASE_IDLE:
                /* Nothing runs: report the last end at once (asynchronously, as promised). */
                unit_defer_callback(u, DEFER_EXITED);
                return 0;
        case UNIT_PHASE_DRAINING:
                return 0; /* on_exited is on its way */
        default:
                break;
        }

        u->stop_requested = true;
        u->stop_grace = grace;
        if (u->phase == UNIT_PHASE_RUNNING)
                unit_set_phase(u, UNIT_PHASE_STOPPING);
        if (!unit_bus_usable(u)) {
                u->stop_pending = true; /* sent once reconnected */
                unit_stop_without_bus(u);
                return 0;
        }
        char buf[FORMAT_TIMESPAN_MAX];
        log_debug("Stopping daemon unit '%s' (grace %s).", u->unit, format_timespan(buf, sizeof(buf), grace));
        return unit_issue_stop(u);
}

int unit_launcher_kill(Launcher *l, int sig) {
        UnitLauncher *u = (UnitLauncher *) l;
        if (!IN_SET_PHASE(u->phase, UNIT_PHASE_STARTING, UNIT_PHASE_RUNNING, UNIT_PHASE_STOPPING))
                return -ESRCH;
        if (!unit_bus_usable(u))
                return -ENOTCONN;
        return unit_call_forget(u, "KillUnit", "KillUnit", "ssi", u->unit, "main", (int32_t) sig);
}
