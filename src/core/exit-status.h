/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* oraivisor's own exit statuses. Everything else it exits with is the daemon's: its exit code, or 128+N
 * when a signal N killed it. The unit file prevents restarts on the statuses that need an operator
 * (RestartPreventExitStatus=78 79 80 81 82), so a broken configuration or a failed upgrade never turns into
 * a restart loop that keeps running the old binary. Documented in README.md. */

enum {
        EXIT_UPGRADE_INSTALLED = 0,   /* outside systemd: upgrade switched, DAEMON_RESTART_AFTER_UPGRADE=false */
        EXIT_INTERNAL = 70,           /* EX_SOFTWARE: a bug or out of memory */
        EXIT_SYSTEM = 71,             /* EX_OSERR: the system refused (fork, pipe, D-Bus, journal) */
        EXIT_LOCKED = 75,             /* EX_TEMPFAIL: another oraivisor (or its daemon) still runs here */
        EXIT_CONFIG = 78,             /* EX_CONFIG: invalid configuration */
        EXIT_LAYOUT = 79,             /* $DAEMON_HOME/oraivisor needs repair (broken 'current', no binary) */
        EXIT_UPGRADE_MISSING = 80,    /* the upgrade's binary is not installed and downloads are disabled */
        EXIT_UPGRADE_FAILED = 81,     /* an upgrade step failed; 'current' is unchanged */
        /* Under systemd: upgrade switched, the node left stopped because DAEMON_RESTART_AFTER_UPGRADE=false
         * says so. Not 0: the unit must not look cleanly stopped while the node is down. */
        EXIT_UPGRADE_INSTALLED_STOPPED = 82,
};
