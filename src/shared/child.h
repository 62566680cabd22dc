/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Worker and hook processes watched by the event loop: fork (and exec, or run a function), a timeout
 * after which the child is killed (SIGTERM, then SIGKILL 5 s later), and a callback with how it ended.
 * The loop never waits for a child. Children get a clean environment for sd_notify (no NOTIFY_SOCKET or
 * WATCHDOG_*), die with oraivisor (PR_SET_PDEATHSIG), and inherit only the fds named in the spec. */

#include <signal.h>

#include <systemd/sd-event.h>

#include "credentials.h"
#include "macro.h"
#include "time-util.h"

typedef struct Child Child;

/* si_code and si_status of the child's end; timed_out when our timeout killed it. exec_failed: the program
 * never ran because its runner could not start it, and status is the runner's reason (shared/unit-run.h:
 * systemd's own exit status 200..245, unit_exec_status_to_string()); a child whose execve() fails exits 127
 * instead, without it. */
typedef struct ChildResult {
        int code;
        int status;
        bool timed_out;
        bool exec_failed;
} ChildResult;

typedef void (*ChildDone)(Child *c, const ChildResult *r, void *userdata);

typedef struct ChildSpec {
        /* Either argv (exec'd, argv[0] is the path) or func (run in the forked child; its return value
         * is the exit status). */
        char *const *argv;
        char *const *env;          /* NULL: inherit */
        int (*func)(void *userdata);
        void *func_userdata;
        const char *working_directory;
        const Credentials *credentials; /* NULL or !set: ours; else the child switches to them first */
        int stdin_fd;              /* -1: /dev/null */
        int stdout_fd;             /* -1: inherit ours */
        int stderr_fd;             /* -1: inherit ours */
        int keep_fd;               /* one more fd to pass on unchanged (-1: none), e.g. a progress pipe */
        usec_t timeout;            /* 0 or USEC_INFINITY: none */
        const char *description;   /* for log messages: "backup", "pre-upgrade hook" */
} ChildSpec;

#define CHILD_SPEC_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .keep_fd = -1 }

int child_spawn(sd_event *e, const ChildSpec *spec, ChildDone done, void *userdata, Child **ret);
/* Kills (SIGKILL) a child that still runs and frees it without calling done. */
Child *child_free(Child *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);
pid_t child_pid(const Child *c);
/* Sends a signal now (e.g. SIGTERM when oraivisor is asked to stop). */
int child_kill(Child *c, int sig);
