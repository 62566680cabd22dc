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
 * without it: an error saying so and what to do. Appearing (with its binary) while the download ran,
 * installed by the other program: that copy is kept and the outcome says so. A staging folder is flock()ed
 * by its Obtain, so that obtain_cleanup_stale() in another process never removes a running download's.
 *
 * The ObtainSpec's strings are copied; spec->config must stay valid until the Obtain is freed. */

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"
#include "plan.h"
#include "time-util.h"

typedef struct Obtain Obtain;

typedef struct ObtainSpec {
        int upgrades_fd; /* O_DIRECTORY fd of $DAEMON_HOME/oraivisor/upgrades */
        const char *upgrades_path; /* its path, for messages */
        const char *folder; /* the upgrade's folder name (already percent-encoded) */
        const char *daemon_name; /* DAEMON_NAME */
        const UpgradePlan *plan;
        const Config *config;
        /* An operator's explicit request (oraivisorctl prepare-upgrade): downloads even with
         * DAEMON_ALLOW_DOWNLOAD_BINARIES=false; every other download setting still applies. */
        bool explicit_request;
        /* Take the install lock (lock.h) of root_fd ($DAEMON_HOME/oraivisor) for the publish only, waiting
         * for it on the event loop up to install_lock_timeout (0: OBTAIN_INSTALL_LOCK_TIMEOUT_DEFAULT);
         * -EBUSY after that. For a writer that does not hold the lock already (oraivisorctl). */
        bool take_install_lock;
        int root_fd;
        usec_t install_lock_timeout;
        /* The caller shows the progress itself (a terminal's bar): no "downloaded N%" log lines. */
        bool no_progress_log;
} ObtainSpec;

#define OBTAIN_INSTALL_LOCK_TIMEOUT_DEFAULT (60 * USEC_PER_SEC)

/* How an Obtain that succeeded got there. */
typedef enum ObtainOutcome {
        OBTAIN_INSTALLED, /* downloaded, verified and published by this Obtain */
        OBTAIN_FOUND, /* installed already when it started: nothing fetched */
        OBTAIN_FOUND_AT_PUBLISH, /* installed by someone else while it downloaded: that copy is kept */
        _OBTAIN_OUTCOME_MAX,
        _OBTAIN_OUTCOME_INVALID = -EINVAL,
} ObtainOutcome;

/* error == 0: upgrades/<folder>/bin/<daemon_name> is installed, verified, executable (published with one
 * renameat of the staging folder). error < 0: nothing was published; message is the one-line error for
 * the operator (names the URL without credentials, the HTTP status / curl error, expected vs actual
 * digest, the archive entry..., and what to do). Called from the event loop, never from obtain_start();
 * the Obtain may be freed inside. */
typedef void (*ObtainDone)(Obtain *o, int error, const char *message, void *userdata);
/* Progress for STATUS=: "upgrade v3: downloading 412/980 MiB (42%)". At most four times a second. Called
 * from inside libcurl: must not free the Obtain. */
typedef void (*ObtainProgress)(Obtain *o, const char *status_line, void *userdata);

/* In done with error == 0: how the binary came to be installed. */
ObtainOutcome obtain_outcome(const Obtain *o) _pure_;
/* In done with error == 0 and OBTAIN_INSTALLED: whether the download was checked against a checksum (a plan
 * without one is installed with a warning unless DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true). */
bool obtain_verified(const Obtain *o) _pure_;
/* The binary's download so far, for a progress bar (callable from the progress callback): bytes received
 * since it last started from its first byte, and the total (0 while unknown). */
void obtain_get_progress(const Obtain *o, uint64_t *ret_received, uint64_t *ret_total);

int obtain_start(sd_event *e, const ObtainSpec *spec, ObtainDone done, ObtainProgress progress,
        void *userdata, Obtain **ret);
/* Cancels a running download; removes its staging folder. */
Obtain *obtain_free(Obtain *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(Obtain *, obtain_free);

/* Removes upgrades/.staging-* folders left by a crash (not those of a download running in another
 * process: they are locked); called at start-up. Returns how many. */
int obtain_cleanup_stale(int upgrades_fd, const char *upgrades_path);

/* The platform key of this machine ("linux/amd64"), from uname(). */
int obtain_platform(char **ret);
