/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether a staged or installed version will start on this host (issue 17), proven before the height:
 * its binary is installed (the one "installed" rule), is an ELF for this machine and whole, or a script
 * whose interpreter exists (core/exec-format); every library it needs resolves with the version's lib/
 * first and every symbol version is there, as the host's own dynamic loader says in trace mode; and
 * `<binary> version` exits 0 within a time limit. Each run is as the node runs: DAEMON_USER, the node's
 * environment, lib/ on LD_LIBRARY_PATH. On the event loop; never blocks it, and no child outlives the
 * timeout.
 *
 * Why the loader and not an ELF reader of our own: the loader is what will resolve the libraries at the
 * height, with every rule it has (ld.so.cache, RUNPATH and $ORIGIN, hwcaps folders, LD_LIBRARY_PATH);
 * a reader of our own would be a second implementation that can disagree with it. It is the host's
 * loader that the binary names (PT_INTERP), checked to exist, and in trace mode it maps and relocates but
 * runs none of the binary's code — which `<binary> version` then does, as the node will. */

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "child.h"
#include "credentials.h"
#include "macro.h"
#include "time-util.h"

#define READINESS_TIMEOUT_DEFAULT (10 * USEC_PER_SEC)
/* What is kept of `version`'s output (the rest is cut, and the run is not failed for it). */
#define READINESS_OUTPUT_MAX (16 * 1024)

typedef struct Readiness Readiness;

typedef struct ReadinessSpec {
        const char *version_dir;        /* absolute path of the version's folder (genesis, upgrades/<f>) */
        const char *daemon_name;
        const Credentials *credentials; /* the node's user; NULL: ours */
        char *const *env;               /* the environment to start from (the node's is derived from it) */
        const char *working_directory;  /* where the node runs (DAEMON_HOME); NULL: ours */
        usec_t timeout;                 /* for each run; 0: READINESS_TIMEOUT_DEFAULT */
} ReadinessSpec;

typedef struct ReadinessResult {
        bool ready;
        const char *reason;         /* not ready: one line, "<what>: <fix>", about the binary */
        const char *version_output; /* what `version` printed (stdout and stderr), NULL when not run */
        size_t version_output_size; /* its bytes (a NUL the child wrote ends the string, not these) */
        bool version_output_truncated; /* it printed READINESS_OUTPUT_MAX bytes or more: the rest is lost */
        const ChildResult *version_end; /* how `version` ended, NULL when not run */
} ReadinessResult;

typedef void (*ReadinessDone)(Readiness *r, const ReadinessResult *res, void *userdata);

/* Starts the check; done is called once, from the loop (never from inside this call). */
int readiness_start(sd_event *e, const ReadinessSpec *spec, ReadinessDone done, void *userdata, Readiness **ret);
Readiness *readiness_free(Readiness *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Readiness *, readiness_free);
