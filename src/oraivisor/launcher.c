/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "launcher.h"

int daemon_exit_to_status(const DaemonExit *e) {
        switch (e->code) {
        case CLD_EXITED:
                return e->status & 0xff;
        case CLD_KILLED:
        case CLD_DUMPED:
                return 128 + e->status;
        default:
                return 1; /* unknown: a failure, never mistaken for success */
        }
}

const char *daemon_exit_describe(const DaemonExit *e, char *buf, size_t len) {
        const char *sig = e->code == CLD_EXITED ? NULL : sigabbrev_np(e->status);
        switch (e->code) {
        case CLD_EXITED:
                snprintf(buf, len, "exited with status %d", e->status);
                break;
        case CLD_KILLED:
                snprintf(buf, len, "was killed by signal %s%s (%d)", sig ? "SIG" : "", strempty(sig), e->status);
                break;
        case CLD_DUMPED:
                snprintf(buf, len, "dumped core on signal %s%s (%d)", sig ? "SIG" : "", strempty(sig), e->status);
                break;
        default:
                snprintf(buf, len, "ended in an unknown way");
        }
        return buf;
}
