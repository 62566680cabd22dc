/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The launcher interface: how the supervisor runs the daemon, whatever runs it. Two implementations:
 * launcher-exec.c (a plain child process, output through pipes) and launcher-unit.c (a transient systemd
 * unit over sd-bus, output from the journal). Every operation is asynchronous on the sd-event loop and
 * reports back through LauncherCallbacks; none blocks. The supervisor owns the Launcher; the launcher
 * owns its event sources, bus slots and journal. */

#include <sys/types.h>

#include <systemd/sd-event.h>

#include "credentials.h"
#include "macro.h"
#include "time-util.h"

typedef struct Launcher Launcher;

/* How the daemon ended. code is a si_code: CLD_EXITED (status = exit code), CLD_KILLED or CLD_DUMPED
 * (status = signal number); 0 when unknown. */
typedef struct DaemonExit {
        int code;
        int status;
} DaemonExit;

/* oraivisor's own exit status for a daemon that ended like this: its exit code, or 128+N for signal N. */
int daemon_exit_to_status(const DaemonExit *e) _pure_;
/* "exited with status 3", "killed by signal TERM", "dumped core on signal SEGV". Writes into buf. */
const char *daemon_exit_describe(const DaemonExit *e, char *buf, size_t len);

typedef struct LauncherCallbacks {
        /* One line of the daemon's output, without its newline; stderr says which stream (exec only;
         * always false in unit mode). A negative return is logged and ignored. */
        int (*on_line)(Launcher *l, const char *line, size_t len, bool stderr_stream, void *userdata);
        /* The daemon runs: the child was exec'd, or the unit's start job finished and it is active. */
        void (*on_started)(Launcher *l, pid_t main_pid, void *userdata);
        /* The daemon stopped and all of its output was delivered through on_line. */
        void (*on_exited)(Launcher *l, const DaemonExit *e, void *userdata);
        /* The launcher cannot go on: the start failed (error < 0, message says why and what to do). */
        void (*on_failed)(Launcher *l, int error, const char *message, void *userdata);
} LauncherCallbacks;

typedef struct LaunchSpec {
        const char *binary;       /* the concrete binary 'current' resolves to, absolute */
        char *const *argv;        /* argv[0] included */
        char *const *env;         /* the daemon's whole environment */
        const char *working_directory;
        const char *version;      /* "genesis" or the upgrade's name, for descriptions and status */
        /* exec launcher: the user to run as (DAEMON_USER/GROUP), NULL for ours. The unit launcher passes
         * the names to systemd (User=, Group=) instead. */
        const Credentials *credentials;
} LaunchSpec;

typedef struct LauncherVTable {
        const char *name; /* "exec" or "unit" */
        /* Starts the daemon; on_started or on_failed follows. */
        int (*start)(Launcher *l, const LaunchSpec *spec);
        /* Stops it: SIGTERM, then SIGKILL after grace. on_exited follows (at once if not running). */
        int (*stop)(Launcher *l, usec_t grace);
        /* Forwards a signal to the daemon's main process. */
        int (*kill)(Launcher *l, int sig);
        /* Looks for a daemon left running by an earlier oraivisor and takes it over. Returns 1 when one was
         * adopted (on_started follows, with its pid), 0 when there is none, -EADDRINUSE (logged) when the
         * one running is not a daemon of this DAEMON_HOME. */
        int (*adopt)(Launcher *l);
        bool (*is_running)(Launcher *l);
        void (*free)(Launcher *l);
} LauncherVTable;

struct Launcher {
        const LauncherVTable *vtable;
        sd_event *event;
        LauncherCallbacks cb;
        void *userdata;
};

static inline int launcher_start(Launcher *l, const LaunchSpec *spec) {
        return l->vtable->start(l, spec);
}
static inline int launcher_stop(Launcher *l, usec_t grace) {
        return l->vtable->stop(l, grace);
}
static inline int launcher_kill(Launcher *l, int sig) {
        return l->vtable->kill(l, sig);
}
static inline int launcher_adopt(Launcher *l) {
        return l->vtable->adopt ? l->vtable->adopt(l) : 0;
}
static inline bool launcher_is_running(Launcher *l) {
        return l->vtable->is_running(l);
}
static inline Launcher *launcher_free(Launcher *l) {
        if (l)
                l->vtable->free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Launcher *, launcher_free);
