/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state of a download, shared by obtain.c (the manifest, the fetches, the unpack worker, the steps)
 * and obtain-publish.c (the staging folder, the install lock, the publication). Not for use outside. */

#include <systemd/sd-event.h>

#include "fetch.h"
#include "obtain.h"
#include "outcome.h"
#include "unpack.h"

#define STAGING_PREFIX ".staging-"
#define STAGING_FOLDER_MAX 180
#define INSTALL_LOCK_RETRY (100 * USEC_PER_MSEC)

typedef enum Target {
        TARGET_MANIFEST,
        TARGET_BINARY,
} Target;

struct Obtain {
        sd_event *event;
        const Config *config;
        int upgrades_fd;
        char *upgrades_path;
        char *folder;
        char *daemon_name;
        char *plan_name;
        char *platform;

        ObtainDone done;
        ObtainProgress progress;
        void *userdata;
        bool explicit_request;
        bool no_progress_log;
        ObtainOutcome outcome;

        /* The install lock, taken for the publish only (spec->take_install_lock). */
        int root_fd;
        usec_t install_lock_timeout;
        usec_t install_lock_waiting_since; /* CLOCK_MONOTONIC, 0: not waiting */
        sd_event_source *install_lock_retry;

        /* The result, delivered from a defer source so that done never runs inside curl or obtain_start().
         */
        sd_event_source *defer;
        int result;
        char *result_message;
        bool finished;

        Fetch *fetch;
        Target target;
        bool fetching_list; /* the current fetch is the target's checksum list */
        char *target_url; /* as fetched, without checksum= */
        char *target_redacted;
        char *list_url;
        ChecksumType expected_type;
        char *expected_hex; /* NULL: no checksum to verify */

        char *mem; /* a manifest or checksum list being received */
        size_t mem_len;

        Digest *digest;
        Unpack *unpack;
        char *staging; /* name below upgrades/ */
        int staging_fd;
        bool fetch_done;
        bool unpack_broken; /* the worker went away mid-stream: its on_done says why */

        uint64_t received, total;
        usec_t last_progress;
        int last_decile;
};

void obtain_finish(Obtain *o, int error, const char *message);
void obtain_failf(Obtain *o, int error, const char *format, ...) _printf_(3, 4);
void obtain_drop_staging(Obtain *o);
int obtain_take_install_lock(Obtain *o);
void obtain_found_at_publish(Obtain *o);
/* Renames the staging folder into place under the install lock, or finishes with why it could not. */
void obtain_publish(Obtain *o);
