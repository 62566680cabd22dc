/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signals: SIGTERM, SIGINT (and SIGHUP in exec mode) stop the node and then oraivisor, in whatever state
 * the manager is; SIGQUIT is passed on; a second request means "now". */

#include <signal.h>
#include <string.h>

#include "exit-status.h"
#include "log.h"
#include "manager-internal.h"
#include "notify.h"


static int on_shutdown_kill(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        m->shutdown_kill_timer = sd_event_source_disable_unref(m->shutdown_kill_timer);
        if (launcher_is_running(m->launcher)) {
                log_warning("%s did not exit within DAEMON_SHUTDOWN_GRACE, killing it.", m->config->name);
                (void) launcher_stop(m->launcher, 0);
        }
        return 0;
}

static void on_upgrade_stopped(Upgrade *u, void *userdata) {
        Manager *m = userdata;
        m->upgrade = upgrade_free(m->upgrade);
        manager_exit(m, 0);
}

static const char *signal_to_string(int sig) {
        switch (sig) {
        case SIGTERM:
                return "SIGTERM";
        case SIGINT:
                return "SIGINT";
        default:
                return "a signal";
        }
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int sig = (int) si->ssi_signo;
        /* SIGHUP (a closed terminal, or a container's stop) stops the node as SIGTERM does: a Cosmos node
         * shuts down gracefully on SIGTERM and SIGINT only, SIGHUP would kill it on the spot. */
        int forward = sig == SIGHUP ? SIGTERM : sig;

        if (sig == SIGQUIT) {
                /* Go dumps its goroutines on SIGQUIT: pass it on, the exit follows as usual. */
                if (m->state == STATE_RUNNING || m->state == STATE_LAUNCHING)
                        (void) launcher_kill(m->launcher, SIGQUIT);
                return 0;
        }

        if (m->shutdown_requested) {
                /* A second request: pass it on (in a terminal, a second Ctrl-C means "now"). */
                if (m->state == STATE_UPGRADING && m->upgrade)
                        (void) upgrade_stop(m->upgrade, signal_to_string(sig), 0, on_upgrade_stopped);
                else if (launcher_is_running(m->launcher))
                        (void) launcher_kill(m->launcher, forward);
                return 0;
        }
        m->shutdown_requested = true;
        log_info("Received SIG%s, stopping %s.", sigabbrev_np(sig), m->config->name);
        notify_stopping(NULL);
        manager_extend_timeout(m, true);

        switch (m->state) {
        case STATE_RUNNING:
        case STATE_LAUNCHING:
                m->state = STATE_SHUTTING_DOWN;
                if (m->unit_mode) {
                        (void) launcher_stop(m->launcher, m->config->shutdown_grace);
                        return 0;
                }
                /* A terminal user's signal goes to the daemon as it is, with SIGKILL after the grace. */
                if (launcher_kill(m->launcher, forward) < 0)
                        (void) launcher_stop(m->launcher, m->config->shutdown_grace);
                else if (m->config->shutdown_grace > 0)
                        (void) sd_event_add_time_relative(m->event, &m->shutdown_kill_timer, CLOCK_MONOTONIC,
                                m->config->shutdown_grace, 0, on_shutdown_kill, m);
                return 0;
        case STATE_STOPPING:
        case STATE_PREPARING:
        case STATE_RESTARTING:
                /* Already stopping; once it is down we exit instead of upgrading (the next start will). */
                return 0;
        case STATE_UPGRADING:
                log_notice("Interrupting upgrade '%s' at step %s; the next start resumes it.",
                        upgrade_plan(m->upgrade)->name, upgrade_step_to_string(upgrade_current_step(m->upgrade)));
                /* A hook may be writing data/ (a migration): SIGTERM, DAEMON_SHUTDOWN_GRACE, then SIGKILL,
                 * with EXTEND_TIMEOUT_USEC= sent all along (above). */
                if (upgrade_stop(m->upgrade, signal_to_string(sig), m->config->shutdown_grace, on_upgrade_stopped) < 0) {
                        m->upgrade = upgrade_free(m->upgrade);
                        manager_exit(m, 0);
                }
                return 0;
        default:
                manager_exit(m, 0);
                return 0;
        }
}

int manager_add_signal(Manager *m, size_t slot, int sig) {
        assert(slot < ELEMENTSOF(m->signals));
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, sig);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block SIG%s: %m", sigabbrev_np(sig));
        int r = sd_event_add_signal(m->event, &m->signals[slot], sig, on_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIG%s: %m", sigabbrev_np(sig));
        return 0;
}

/* As PID 1 (a container's entrypoint) a signal without a handler is dropped rather than fatal: the ones
 * that matter have handlers here, SIGCHLD is the reaper's. */
int manager_setup_signals(Manager *m) {
        static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT };
        sigset_t mask;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                int r = manager_add_signal(m, i, sigs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}