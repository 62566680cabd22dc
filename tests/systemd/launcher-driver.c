/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* launcher-driver: runs the unit launcher (src/oraivisor/launcher-unit.c) on an sd-event loop and prints its
 * callbacks, for the sandbox tests of the launcher on its own (tests/systemd/run.sh).
 *
 *   launcher-driver [OPTIONS] [-- BINARY ARGS...]
 *     --adopt            adopt a running daemon unit first; start BINARY only when there is none
 *     --adopt-only       adopt, or exit 3 when there is none
 *     --version TEXT     the LaunchSpec version (goes into the unit's Description)
 *     --stop-on TEXT     stop the daemon when one of its lines contains TEXT
 *     --stop-after MS    stop the daemon MS ms after it started
 *     --kill-after MS:SIG  send SIG (a number) to the daemon MS ms after it started
 *     --grace MS         the grace for stops (default DAEMON_SHUTDOWN_GRACE)
 *     --count-lines      print only the number of lines at the end, not each line
 *     --count-match TEXT also count the lines that contain TEXT ("matched=N" at the end)
 *     --echo             echo_output: the launcher also copies the daemon's lines to stdout
 *     --state-dir DIR    the launcher's state folder (default ORAIVISOR_STATE_DIR, else /run/launcher-driver)
 *
 * The configuration comes from the environment (DAEMON_NAME, DAEMON_HOME, DAEMON_USER, ...), as for
 * oraivisor. The daemon gets the driver's environment. Output, one event per line on stdout:
 *     driver pid=N | unit NAME | adopted | adopt none | started pid=N | line TEXT |
 *     exited code=C status=S lines=N needed=K matched=M | failed error=E message=TEXT
 * "needed" counts lines holding an upgrade announcement (UPGRADE "…" NEEDED). SIGTERM/SIGINT stop the
 * daemon and exit once it is gone. Exit status: 0 after "exited", 2 after "failed", 3 for "adopt none"
 * with --adopt-only, 1 for a usage or set-up error. */

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "launcher-unit.h"
#include "log.h"
#include "parse-util.h"
#include "string-util.h"
#include "strv.h"

typedef struct Driver {
        sd_event *event;
        Launcher *launcher;
        Config config;
        const char *stop_on;
        uint64_t stop_after_ms;
        uint64_t kill_after_ms;
        int kill_signal;
        usec_t grace;
        bool count_lines;
        const char *count_match;
        uint64_t matched;
        uint64_t lines;
        uint64_t needed;
        bool stop_sent;
        sd_event_source *timer_stop;
        sd_event_source *timer_kill;
        int exit_status;
} Driver;

static void driver_stop(Driver *d, const char *why) {
        if (d->stop_sent)
                return;
        d->stop_sent = true;
        printf("stopping (%s)\n", why);
        int r = launcher_stop(d->launcher, d->grace);
        if (r < 0) {
                printf("stop-error %d\n", r);
                (void) sd_event_exit(d->event, 1);
        }
}

static int on_line(Launcher *l, const char *line, size_t len, bool stderr_stream, void *userdata) {
        Driver *d = userdata;
        d->lines++;
        if (memmem_str(line, len, "UPGRADE \"") && memmem_str(line, len, "NEEDED"))
                d->needed++;
        if (d->count_match && memmem_str(line, len, d->count_match))
                d->matched++;
        if (!d->count_lines)
                printf("line %.*s\n", (int) len, line);
        if (d->stop_on && memmem_str(line, len, d->stop_on))
                driver_stop(d, "line");
        return 0;
}

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        driver_stop(userdata, "timer");
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Driver *d = userdata;
        int r = launcher_kill(d->launcher, d->kill_signal);
        printf("kill signal=%d r=%d\n", d->kill_signal, r);
        return 0;
}

static void on_started(Launcher *l, pid_t pid, void *userdata) {
        Driver *d = userdata;
        printf("started pid=%d\n", (int) pid);
        if (d->stop_after_ms > 0)
                (void) sd_event_add_time_relative(d->event, &d->timer_stop, CLOCK_MONOTONIC,
                        d->stop_after_ms * USEC_PER_MSEC, 0, on_stop_timer, d);
        if (d->kill_after_ms > 0)
                (void) sd_event_add_time_relative(d->event, &d->timer_kill, CLOCK_MONOTONIC,
                        d->kill_after_ms * USEC_PER_MSEC, 0, on_kill_timer, d);
}

static void on_exited(Launcher *l, const DaemonExit *e, void *userdata) {
        Driver *d = userdata;
        printf("exited code=%d status=%d lines=%" PRIu64 " needed=%" PRIu64 " matched=%" PRIu64 "\n", e->code,
                e->status, d->lines, d->needed, d->matched);
        (void) sd_event_exit(d->event, 0);
}

static void on_failed(Launcher *l, int error, const char *message, void *userdata) {
        Driver *d = userdata;
        printf("failed error=%d message=%s\n", error, strna(message));
        (void) sd_event_exit(d->event, 2);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Driver *d = userdata;
        if (launcher_is_running(d->launcher))
                driver_stop(d, "signal");
        else
                (void) sd_event_exit(d->event, 0);
        return 0;
}

int main(int argc, char *argv[]) {
        enum { ARG_ADOPT = 0x100, ARG_ADOPT_ONLY, ARG_VERSION, ARG_STOP_ON, ARG_STOP_AFTER, ARG_KILL_AFTER, ARG_GRACE,
               ARG_COUNT_LINES, ARG_COUNT_MATCH, ARG_ECHO, ARG_STATE_DIR };
        static const struct option options[] = {
                { "adopt", no_argument, NULL, ARG_ADOPT },
                { "adopt-only", no_argument, NULL, ARG_ADOPT_ONLY },
                { "version", required_argument, NULL, ARG_VERSION },
                { "stop-on", required_argument, NULL, ARG_STOP_ON },
                { "stop-after", required_argument, NULL, ARG_STOP_AFTER },
                { "kill-after", required_argument, NULL, ARG_KILL_AFTER },
                { "grace", required_argument, NULL, ARG_GRACE },
                { "count-lines", no_argument, NULL, ARG_COUNT_LINES },
                { "count-match", required_argument, NULL, ARG_COUNT_MATCH },
                { "echo", no_argument, NULL, ARG_ECHO },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {},
        };
        Driver d = { .kill_signal = SIGTERM };
        _cleanup_(config_diagnostics_done) ConfigDiagnostics diag = {};
        bool adopt = false, adopt_only = false, echo = false, grace_set = false;
        const char *version = "genesis", *state_dir = NULL;
        uint64_t grace_ms = 0;
        int c, r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("driver pid=%d\n", (int) getpid());
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case ARG_ADOPT: adopt = true; break;
                case ARG_ADOPT_ONLY: adopt = adopt_only = true; break;
                case ARG_VERSION: version = optarg; break;
                case ARG_STOP_ON: d.stop_on = optarg; break;
                case ARG_STOP_AFTER:
                        if (parse_uint64(optarg, &d.stop_after_ms) < 0)
                                return fprintf(stderr, "bad --stop-after '%s'\n", optarg), 1;
                        break;
                case ARG_KILL_AFTER: {
                        const char *colon = strchr(optarg, ':');
                        _cleanup_free_ char *ms = colon ? strndup(optarg, (size_t) (colon - optarg)) : NULL;
                        unsigned sig;
                        if (!ms || parse_uint64(ms, &d.kill_after_ms) < 0 || parse_unsigned(colon + 1, &sig) < 0)
                                return fprintf(stderr, "bad --kill-after '%s', expected MS:SIGNUM\n", optarg), 1;
                        d.kill_signal = (int) sig;
                        break;
                }
                case ARG_GRACE:
                        if (parse_uint64(optarg, &grace_ms) < 0)
                                return fprintf(stderr, "bad --grace '%s'\n", optarg), 1;
                        grace_set = true;
                        break;
                case ARG_COUNT_LINES: d.count_lines = true; break;
                case ARG_COUNT_MATCH: d.count_match = optarg; break;
                case ARG_ECHO: echo = true; break;
                case ARG_STATE_DIR: state_dir = optarg; break;
                default: return 1;
                }
        }

        r = config_parse(environ, &d.config, &diag);
        STRV_FOREACH(e, diag.errors)
                fprintf(stderr, "config: %s\n", *e);
        if (r < 0)
                return 1;
        log_set_max_level(d.config.log_level);
        d.grace = grace_set ? grace_ms * USEC_PER_MSEC : d.config.shutdown_grace;
        if (!state_dir)
                state_dir = d.config.state_dir ?: "/run/launcher-driver";

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&d.event);
        if (r < 0)
                return 1;
        (void) sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d);
        (void) sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d);

        LauncherCallbacks cb = { .on_line = on_line, .on_started = on_started, .on_exited = on_exited,
                                 .on_failed = on_failed };
        UnitLauncherOptions o = { .config = &d.config, .state_dir = state_dir, .echo_output = echo };
        r = launcher_unit_new(d.event, &o, &cb, &d, &d.launcher);
        if (r < 0)
                return 1;
        printf("unit %s\n", launcher_unit_name(d.launcher));

        bool adopted = false;
        if (adopt) {
                r = launcher_adopt(d.launcher);
                if (r < 0)
                        return 1;
                adopted = r > 0;
                if (adopted)
                        printf("adopted\n");
                else {
                        printf("adopt none\n");
                        if (adopt_only)
                                return 3;
                }
        }
        if (!adopted) {
                if (optind >= argc)
                        return fprintf(stderr, "nothing to start: give -- BINARY ARGS...\n"), 1;
                LaunchSpec spec = {
                        .binary = argv[optind],
                        .argv = argv + optind,
                        .env = environ,
                        .working_directory = d.config.home,
                        .version = version,
                };
                r = launcher_start(d.launcher, &spec);
                if (r < 0) {
                        printf("start-error %d\n", r);
                        return 1;
                }
        }

        r = sd_event_loop(d.event);
        int status = r < 0 ? 1 : r;
        launcher_free(d.launcher);
        sd_event_source_disable_unref(d.timer_stop);
        sd_event_source_disable_unref(d.timer_kill);
        sd_event_unref(d.event);
        config_done(&d.config);
        return status;
}
