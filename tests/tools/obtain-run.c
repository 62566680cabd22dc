/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Runs obtain_start() on an sd-event loop, as the upgrade engine does, for the download integration
 * tests and the benchmark. The configuration comes from the environment (DAEMON_HOME, DAEMON_NAME,
 * DAEMON_ALLOW_DOWNLOAD_BINARIES, ORAIVISOR_DOWNLOAD_*...), exactly as oraivisor reads it.
 *
 *   obtain-run <upgrades-dir> <plan-name> <info>    → "OK <path>" (exit 0) or "ERROR: <message>" (exit 1)
 *   obtain-run --cleanup <upgrades-dir>             → "REMOVED <n>"
 *
 * Progress lines go to stderr as "PROGRESS: <status line>". SIGTERM/SIGINT cancel the download (the
 * staging folder is removed) and exit 2. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "obtain.h"
#include "plan.h"
#include "strv.h"
#include "upgrade-name.h"

extern char **environ;

typedef struct Run {
        sd_event *event;
        int error;
        char *message;
        bool finished;
} Run;

static void on_done(Obtain *o, int error, const char *message, void *userdata) {
        Run *run = userdata;
        run->finished = true;
        run->error = error;
        run->message = message ? strdup(message) : NULL;
        (void) sd_event_exit(run->event, 0);
}

static void on_progress(Obtain *o, const char *line, void *userdata) {
        fprintf(stderr, "PROGRESS: %s\n", line);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;
        return sd_event_exit(run->event, 2);
}

int main(int argc, char *argv[]) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics diag = {};
        int r;

        log_set_prefix("obtain-run");
        log_set_max_level(LOG_INFO);

        if (argc == 3 && streq(argv[1], "--cleanup")) {
                _cleanup_close_ int fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        printf("ERROR: cannot open '%s': %m\n", argv[2]);
                        return 1;
                }
                r = obtain_cleanup_stale(fd, argv[2]);
                if (r < 0) {
                        printf("ERROR: %s\n", strerror(-r));
                        return 1;
                }
                printf("REMOVED %d\n", r);
                return 0;
        }
        if (argc != 4) {
                fprintf(stderr, "Usage: %s <upgrades-dir> <plan-name> <info> | --cleanup <upgrades-dir>\n",
                        program_invocation_short_name);
                return 64;
        }

        r = config_parse(environ, &config, &diag);
        if (r < 0) {
                STRV_FOREACH (e, diag.errors)
                        printf("ERROR: %s\n", *e);
                return 78;
        }
        log_set_max_level(config.log_level);

        _cleanup_free_ char *folder = NULL;
        r = upgrade_name_to_folder(argv[2], &folder);
        if (r < 0) {
                printf("ERROR: bad plan name '%s': %s\n", argv[2], upgrade_name_error(r));
                return 64;
        }
        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        r = upgrade_plan_new(argv[2], 100, NULL, argv[3], &plan);
        if (r < 0)
                return 70;

        _cleanup_close_ int ufd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0) {
                printf("ERROR: cannot open '%s': %m\n", argv[1]);
                return 1;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        Run run = {};
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        r = sd_event_default(&e);
        if (r < 0)
                return 71;
        run.event = e;
        (void) sd_event_add_signal(e, NULL, SIGTERM, on_signal, &run);
        (void) sd_event_add_signal(e, NULL, SIGINT, on_signal, &run);
        (void) sd_event_set_watchdog(e, true);

        ObtainSpec spec = {
                .upgrades_fd = ufd,
                .upgrades_path = argv[1],
                .folder = folder,
                .daemon_name = config.name,
                .plan = plan,
                .config = &config,
        };
        _cleanup_(obtain_freep) Obtain *o = NULL;
        r = obtain_start(e, &spec, on_done, on_progress, &run, &o);
        if (r < 0) {
                printf("ERROR: obtain_start: %s\n", strerror(-r));
                return 1;
        }

        int code = 0;
        r = sd_event_loop(e);
        if (!run.finished) {
                /* Cancelled by a signal: obtain_free() removes the staging folder. */
                o = obtain_free(o);
                printf("CANCELLED\n");
                return r == 2 ? 2 : 1;
        }
        o = obtain_free(o);
        if (run.error < 0) {
                printf("ERROR: %s\n", strna(run.message));
                code = 1;
        } else
                printf("OK %s/%s/bin/%s\n", argv[1], folder, config.name);
        free(run.message);
        fflush(stdout);
        return code;
}
