/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisor [ARGS…]: runs the chain daemon with ARGS and carries out its upgrades. It takes no arguments
 * of its own: everything is configured through the environment (README.md, "Configuration"). */

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <syslog.h>


#include "config.h"
#include "events.h"
#include "exit-status.h"
#include "log.h"
#include "manager.h"
#include "strv.h"

static int check_paths(const Config *c, ConfigDiagnostics *d) {
        struct stat st;
        if (c->home && (stat(c->home, &st) < 0 || !S_ISDIR(st.st_mode)) &&
                config_diagnostics_add_error(d,
                        "DAEMON_HOME='%s' is not an existing folder: create it or point DAEMON_HOME at the node's home.",
                        c->home) < 0)
                return -ENOMEM;
        if (c->backup_dir && !c->unsafe_skip_backup && (stat(c->backup_dir, &st) < 0 || !S_ISDIR(st.st_mode)) &&
                config_diagnostics_add_error(d,
                        "DAEMON_DATA_BACKUP_DIR='%s' is not an existing folder: create it, or set UNSAFE_SKIP_BACKUP=true to upgrade without backups.",
                        c->backup_dir) < 0)
                return -ENOMEM;
        if (c->metrics_dir && (stat(c->metrics_dir, &st) < 0 || !S_ISDIR(st.st_mode)) &&
                config_diagnostics_add_error(d,
                        "ORAIVISOR_METRICS_DIR='%s' is not an existing folder: create it (node-exporter's textfile collector reads it), or set ORAIVISOR_METRICS_DIR=off.",
                        c->metrics_dir) < 0)
                return -ENOMEM;
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics diag = {};

        (void) log_setup();
        /* A closed stdout or stderr (a pipe into `head`, a terminal that went away) must not kill the
         * supervisor: writes report EPIPE instead, and the exec launcher keeps scanning the daemon's output
         * while it stops copying it. Children start with default dispositions (spawn.c). */
        (void) signal(SIGPIPE, SIG_IGN);

        int r = config_parse(environ, &config, &diag);
        if (r == -ENOMEM)
                return log_oom(), EXIT_INTERNAL;
        if (check_paths(&config, &diag) < 0)
                return log_oom(), EXIT_INTERNAL;
        log_set_max_level(config.log_level);

        STRV_FOREACH(w, diag.warnings)
                log_warning("%s", *w);
        if (diag.errors) {
                STRV_FOREACH(e, diag.errors)
                        log_event(EVENT_CONFIG_INVALID, LOG_ERR, 0, config.name, NULL, NULL, "%s", *e);
                log_error("Invalid configuration: %zu error%s, not starting (exit status %d).", strv_length(diag.errors),
                        strv_length(diag.errors) == 1 ? "" : "s", EXIT_CONFIG);
                return EXIT_CONFIG;
        }

        _cleanup_(manager_freep) Manager *m = NULL;
        r = manager_new(&config, argv + 1, &m);
        if (r == -ENOMEM)
                return EXIT_INTERNAL;
        if (r < 0)
                return EXIT_CONFIG;
        return manager_run(m);
}
