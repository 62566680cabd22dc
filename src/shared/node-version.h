/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What `<binary> version` prints, asked as the node itself would be run: the node's environment
 * (core/child-env.h, the version's lib/ first on LD_LIBRARY_PATH), as DAEMON_USER, in DAEMON_HOME, stdin
 * /dev/null, through child_spawn() (stopped with SIGTERM at the time limit, SIGKILL 5 s later). stdout and
 * stderr are read together, at most NODE_VERSION_OUTPUT_MAX bytes kept (the rest read and dropped). For
 * oraivisorctl `list` and `version`: it runs its own event loop and blocks until the command ends. */

#include <stdbool.h>

#include "child.h"
#include "credentials.h"
#include "time-util.h"

#define NODE_VERSION_OUTPUT_MAX 4096U
#define NODE_VERSION_TIMEOUT (10 * USEC_PER_SEC)

typedef struct NodeVersion {
        char *output; /* what it printed (NUL-terminated, raw bytes: escape before showing) */
        size_t size;
        bool truncated; /* it printed more than NODE_VERSION_OUTPUT_MAX bytes */
        ChildResult result; /* how it ended: code CLD_EXITED and status, or killed; timed_out */
} NodeVersion;

void node_version_done(NodeVersion *v);

/* Runs binary with the single argument "version". env: the configuration's environment (as oraivisor
 * got it); lib_dir may be NULL; credentials NULL or unset: ours. Returns 0 when the command ran (whatever
 * it printed or how it ended), a negative errno when it could not be started (-ENOMEM, fork, the event
 * loop). SIGCHLD is blocked in the calling thread from then on (sd-event needs it). */
int node_version_run(const char *binary, const char *lib_dir, char *const *env,
        const Credentials *credentials, const char *working_directory, usec_t timeout, NodeVersion *ret);

/* One short phrase for how it ended: "exit status 0", "exit status 3", "killed by signal 9", "timed out
 * after the limit". Into buf. */
const char *node_version_describe_end(const NodeVersion *v, char *buf, size_t len);
