/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One HTTP(S) download on the sd-event loop: libcurl's multi interface driven by the loop's io and time
 * sources (nothing blocks, so watchdog pings and signals go on), at most 10 redirects, connect and stall
 * timeouts, a size limit, retries with exponential backoff (timers) on transient failures, and resume
 * with Range after a broken connection, so that the consumer sees one continuous byte stream. When a
 * server answers a resumed request with the whole body, on_restart tells the consumer to start over.
 * file:// is fetched only when the options allow it (XXX: curl reads local files synchronously, so a
 * file:// fetch briefly blocks the loop; fine for mirrors on local disks).
 *
 * Callbacks are never called from inside fetch_start(). on_done is called once, last, and is the only
 * callback from which the Fetch may be freed (on_data/on_restart abort by returning an error). */

#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct Fetch Fetch;

/* Returned by on_data: the bytes were not taken; call fetch_unpause() when ready for them again. */
#define FETCH_PAUSE 1

typedef struct FetchCallbacks {
        /* Body bytes, in order. 0: consumed; FETCH_PAUSE: not consumed, pause; < 0: abort, on_done gets
         * this error (and the message set with fetch_set_error_message(), if any). */
        int (*on_data)(Fetch *f, const void *p, size_t n, void *userdata);
        /* Everything delivered so far is void: the body starts again at byte 0. < 0 aborts. */
        int (*on_restart)(Fetch *f, void *userdata);
        /* total is 0 when unknown. */
        void (*on_progress)(Fetch *f, uint64_t received, uint64_t total, void *userdata);
        /* error == 0: the whole body was delivered. Otherwise message is one line for the operator, naming
         * the URL (without credentials), the HTTP status or curl error, and what was retried. */
        void (*on_done)(Fetch *f, int error, const char *message, void *userdata);
} FetchCallbacks;

typedef struct FetchOptions {
        const char *url; /* as fetched: no checksum= parameter */
        const char *what; /* for messages: "manifest", "binary", "checksum list" */
        bool allow_file; /* file:// allowed */
        unsigned retries; /* extra attempts after the first */
        uint64_t max_size; /* body bytes; 0: no limit */
        usec_t connect_timeout; /* 0: curl's default */
        usec_t stall_timeout; /* abort when no byte arrives for this long (rounded up to seconds) */
        usec_t retry_delay; /* first backoff delay, doubled each attempt (capped at 30s); 0: 1s */
        const char *ca_file; /* CA bundle instead of the system's; NULL: system */
        /* For small requests to a local service (the node's RPC): */
        const char *unix_socket; /* connect to this AF_UNIX socket instead of the URL's host */
        usec_t total_timeout; /* the whole transfer, each attempt; 0: none */
        bool no_redirects; /* a 3xx answer is an error (-EPROTO), never followed */
        bool no_proxy; /* ignore http_proxy and friends from the environment */
} FetchOptions;

int fetch_start(sd_event *e, const FetchOptions *o, const FetchCallbacks *cb, void *userdata, Fetch **ret);
/* Cancels a running transfer (no callback). */
Fetch *fetch_free(Fetch *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Fetch *, fetch_free);

/* Resumes delivery after on_data returned FETCH_PAUSE. */
int fetch_unpause(Fetch *f);
/* The message on_done reports when on_data/on_restart abort; copied. */
int fetch_set_error_message(Fetch *f, const char *message);
/* Body bytes delivered so far (the resume offset). */
uint64_t fetch_received(const Fetch *f);
/* The URL for messages, credentials removed. */
const char *fetch_url_redacted(const Fetch *f);
