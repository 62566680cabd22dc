/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Obtains an upgrade's binary from the plan's info: the inline manifest or the manifest URL, this
 * machine's entry (linux/amd64, else "any"), its checksum (?checksum=<type>:<hex>, bare hex, or a
 * checksum=file:<url> list), then one streaming pass: download (fetch.h) → digest (digest.h) → unpack
 * (unpack.h) into upgrades/.staging-<folder>-XXXXXXXX/. Only when the digest matches and the worker
 * installed bin/<daemon> is the staging folder published as upgrades/<folder>, with one renameat() and an
 * fsync of upgrades/. Anything else leaves no upgrades/<folder>. Everything runs on the event loop.
 *
 * upgrades/<folder> already holding a regular bin/<daemon>: done at once, nothing fetched. Present
 * without it: an error saying so and what to do.
 *
 * The ObtainSpec's strings are copied; spec->config must stay valid until the Obtain is freed. */

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"
#include "plan.h"

typedef struct Obtain Obtain;

typedef struct ObtainSpec {
        int upgrades_fd; /* O_DIRECTORY fd of $DAEMON_HOME/oraivisor/upgrades */
        const char *upgrades_path; /* its path, for messages */
        const char *folder; /* the upgrade's folder name (already percent-encoded) */
        const char *daemon_name; /* DAEMON_NAME */
        const UpgradePlan *plan;
        const Config *config;
} ObtainSpec;

/* error == 0: upgrades/<folder>/bin/<daemon_name> is installed, verified, executable (published with one
 * renameat of the staging folder). error < 0: nothing was published; message is the one-line error for
 * the operator (names the URL without credentials, the HTTP status / curl error, expected vs actual
 * digest, the archive entry..., and what to do). Called from the event loop, never from obtain_start();
 * the Obtain may be freed inside. */
typedef void (*ObtainDone)(Obtain *o, int error, const char *message, void *userdata);
/* Progress for STATUS=: "upgrade v3: downloading 412/980 MiB (42%)". At most four times a second. Called
 * from inside libcurl: must not free the Obtain. */
typedef void (*ObtainProgress)(Obtain *o, const char *status_line, void *userdata);

int obtain_start(sd_event *e, const ObtainSpec *spec, ObtainDone done, ObtainProgress progress,
        void *userdata, Obtain **ret);
/* Cancels a running download; removes its staging folder. */
Obtain *obtain_free(Obtain *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(Obtain *, obtain_free);

/* Removes upgrades/.staging-* folders left by a crash (not those a writer holds a flock() on: a download
 * or an oraivisorctl installation filling it); called at start-up. Returns how many. */
int obtain_cleanup_stale(int upgrades_fd, const char *upgrades_path);

/* The platform key of this machine ("linux/amd64"), from uname(). */
int obtain_platform(char **ret);
