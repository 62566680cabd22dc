/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a forked child does before it runs anything: the one path for the daemon (launcher-exec.c) and for
 * the hooks and workers (child.c). It dies with oraivisor, takes a process group of its own (a stop or a
 * timeout then reaches what it starts), starts with a clean signal mask and default dispositions (sd-event
 * blocks the signals it handles), gets its stdio, keeps one more fd if asked and closes the rest, switches
 * to the node's user, then enters its folder (with that user's permissions). Only system calls: no malloc,
 * no logging, since the parent may have threads (curl's resolver, the backup's workers); the parent prepares
 * argv and the environment before fork. */

#include <stdbool.h>
#include <sys/types.h>

#include "credentials.h"

/* stdin_fd: an fd to put on stdin, SPAWN_STDIN_NULL for /dev/null, or SPAWN_STDIN_KEEP_UNLESS_TTY to keep
 * ours unless it is a terminal (a background process group reading a terminal would be stopped with
 * SIGTTIN, and nobody would resume it). */
#define SPAWN_STDIN_NULL (-1)
#define SPAWN_STDIN_KEEP_UNLESS_TTY (-2)

typedef struct SpawnSetup {
        pid_t parent;             /* getpid() before fork: the child checks it has not been orphaned already */
        int death_signal;         /* sent to the child when oraivisor dies (PR_SET_PDEATHSIG) */
        int stdin_fd;
        int stdout_fd, stderr_fd; /* -1: ours */
        int keep_fd;              /* -1: none; passed on, its O_CLOEXEC cleared */
        bool close_others;        /* close every fd but stdio and keep_fd (else O_CLOEXEC decides) */
        const Credentials *credentials; /* NULL or !set: ours */
        const char *working_directory;  /* NULL: ours */
} SpawnSetup;

/* In the child, after fork. Returns 0, or the negative errno of the step that failed (the caller reports
 * it as it can, and _exit()s). Async-signal-safe. */
int spawn_setup_child(const SpawnSetup *s);

/* In the child: one line on stderr, "oraivisor: <description>: <what> failed: <errno name>", with write(2)
 * only (async-signal-safe), for a step that failed after fork. */
void spawn_report_failure(const char *description, const char *what, int error);
