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
 * runs none of the binary's code — which `<binary> version` then does, as the node will.
 *
 * Where the children run. Under the unit launcher (spec->node_unit set: oraivisor under systemd), both the
 * loader's trace and `version` run in a transient unit of their own, derived from the node's unit
 * (core/unit-spec.h check_unit_spec_build(), run by shared/unit-run.h): the node's User=, environment,
 * WorkingDirectory=, limits, sandbox and ORAIVISOR_DAEMON_PROPERTIES, in the same slice, with a time limit
 * (RuntimeMaxUSec=) and the output straight into our memfds. As a child of oraivisor it would run in
 * oraivisor's own unit's sandbox instead, which differs from the node's both ways (oraivisor's has no
 * network and sees /home; the node's has the network and does not), so a binary could pass here and fail at
 * the height. The loader's trace runs there too, not only `version`: what resolves depends on the mount
 * namespace (ProtectHome=, PrivateTmp=, InaccessiblePaths=, BindPaths= and ReadOnlyPaths= of the operator
 * can hide or replace a folder on LD_LIBRARY_PATH, a RUNPATH or the cache's entries), and the node's is the
 * one that counts. The static checks (installed, ELF for this machine, whole, the loader present) read the
 * file from here: the node's sandbox never hides its own DAEMON_HOME, and a loader it hid would show as
 * systemd's 203/EXEC in the trace's unit. oraivisorctl passes node_unit with -i NAME as root when systemd
 * answers (ctl_check_node_unit()). Without node_unit (exec mode; oraivisorctl without -i, or not root) the
 * children are ours, as DAEMON_USER: exec mode has no sandbox to match, and only root may start units
 * without polkit. Both ways share every reading of the result and every reason below; a unit adds one reason
 * of its own, systemd's failure to set the node's sandbox up (status 200..245). */

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "child.h"
#include "config.h"
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
        /* Under the unit launcher: the node's unit name and the configuration its unit is built from
         * (daemon_unit_spec_from_config()); node_unit is copied, config must outlive the check. NULL:
         * children of ours. */
        const char *node_unit;
        const Config *config;
} ReadinessSpec;

typedef struct ReadinessResult {
        bool ready;
        const char *reason;         /* not ready: one line, "<what>: <fix>", about the binary */
        const char *version_output; /* what `version` printed (stdout and stderr), NULL when not run */
        size_t version_output_size; /* its bytes (a NUL the child wrote ends the string, not these) */
        bool version_output_truncated; /* it printed READINESS_OUTPUT_MAX bytes or more: the rest is lost */
        const ChildResult *version_end; /* how `version` ended, NULL when not run */
        const char *unit;           /* the unit the last step ran in, NULL: a child of ours */
} ReadinessResult;

typedef void (*ReadinessDone)(Readiness *r, const ReadinessResult *res, void *userdata);

/* Starts the check; done is called once, from the loop (never from inside this call). */
int readiness_start(sd_event *e, const ReadinessSpec *spec, ReadinessDone done, void *userdata, Readiness **ret);
Readiness *readiness_free(Readiness *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Readiness *, readiness_free);
