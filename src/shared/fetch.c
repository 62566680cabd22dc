/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "dlopen-libs.h"
#include "fetch.h"
#include "log.h"
#include "outcome.h"
#include "string-util.h"
#include "url.h"

#define FETCH_MAX_REDIRECTS 10L
#define FETCH_RETRY_DELAY_DEFAULT (1 * USEC_PER_SEC)
#define FETCH_RETRY_DELAY_MAX (30 * USEC_PER_SEC)
#define FETCH_BUFFER_SIZE (256L * 1024L)

struct Fetch {
        sd_event *event;
        CURLM *multi;
        CURL *easy;
        sd_event_source *curl_timer;
        sd_event_source *retry_timer;

        FetchCallbacks cb;
        void *userdata;

        char *url;
        char *url_redacted;
        char *what;
        char *ca_file;
        char *unix_socket;
        usec_t total_timeout;
        bool no_redirects;
        bool no_proxy;
        bool allow_file;
        unsigned retries;
        uint64_t max_size;
        usec_t connect_timeout;
        usec_t stall_timeout;
        usec_t retry_delay;

        unsigned attempt; /* 0 for the first */
        uint64_t received; /* body bytes delivered to the consumer */
        uint64_t attempt_offset; /* received when this attempt started (its Range start) */
        uint64_t total; /* expected body size, 0 when unknown */
        bool paused;
        bool too_big;
        bool done;

        int consumer_error;
        char *consumer_message;
        char *last_failure; /* what went wrong on the last failed attempt, for the final message */
        char errbuf[CURL_ERROR_SIZE];
};

static void fetch_easy_drop(Fetch *f) {
        if (!f->easy)
                return;
        (void) sym_curl_multi_remove_handle(f->multi, f->easy);
        sym_curl_easy_cleanup(f->easy);
        f->easy = NULL;
}

Fetch *fetch_free(Fetch *f) {
        if (!f)
                return NULL;
        fetch_easy_drop(f);
        /* The socket callback (CURL_POLL_REMOVE) still runs during cleanup and needs f. */
        if (f->multi)
                sym_curl_multi_cleanup(f->multi);
        sd_event_source_disable_unref(f->curl_timer);
        sd_event_source_disable_unref(f->retry_timer);
        sd_event_unref(f->event);
        free(f->url);
        free(f->url_redacted);
        free(f->what);
        free(f->ca_file);
        free(f->unix_socket);
        free(f->consumer_message);
        free(f->last_failure);
        return mfree(f);
}

uint64_t fetch_received(const Fetch *f) {
        assert(f);

        return f->received;
}

const char *fetch_url_redacted(const Fetch *f) {
        assert(f);

        return f->url_redacted;
}

int fetch_set_error_message(Fetch *f, const char *message) {
        assert(f);

        char *m = strdup(strempty(message));
        if (!m)
                return -ENOMEM;
        free(f->consumer_message);
        f->consumer_message = m;
        return 0;
}

static void fetch_finish(Fetch *f, int error, const char *message) {
        if (f->done)
                return;
        f->done = true;
        fetch_easy_drop(f);
        f->curl_timer = sd_event_source_disable_unref(f->curl_timer);
        f->retry_timer = sd_event_source_disable_unref(f->retry_timer);
        /* Last thing: the callback may free f. */
        f->cb.on_done(f, error, message, f->userdata);
}

static void fetch_finishf(Fetch *f, int error, const char *format, ...) _printf_(3, 4);
static void fetch_finishf(Fetch *f, int error, const char *format, ...) {
        _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
        va_list ap;
        va_start(ap, format);
        (void) outcome_failv(&o, error, format, ap);
        va_end(ap);
        fetch_finish(f, error, outcome_message(&o, "Out of memory while formatting a download error."));
}

/* ---- curl's view of the loop ---------------------------------------------------------------------------
 */

static void fetch_check_done(Fetch *f);

static int on_curl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Fetch *f = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        (void) sym_curl_multi_socket_action(f->multi, fd, action, &running);
        fetch_check_done(f);
        return 0;
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        Fetch *f = userp;
        sd_event_source *io = socketp;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        (void) sym_curl_multi_assign(f->multi, fd, NULL);
                }
                return 0;
        }

        uint32_t events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
        if (io) {
                r = sd_event_source_set_io_events(io, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(io, SD_EVENT_ON);
        } else {
                r = sd_event_add_io(f->event, &io, fd, events, on_curl_io, f);
                if (r >= 0) {
                        (void) sd_event_source_set_description(io, "curl-io");
                        if (sym_curl_multi_assign(f->multi, fd, io) != CURLM_OK) {
                                sd_event_source_disable_unref(io);
                                r = -EIO;
                        }
                }
        }
        if (r < 0) {
                log_debug_errno(r, "Failed to watch a download socket: %m");
                return -1;
        }
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Fetch *f = userdata;
        int running;

        (void) sym_curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        fetch_check_done(f);
        return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        Fetch *f = userp;
        int r;

        if (timeout_ms < 0) {
                if (f->curl_timer)
                        (void) sd_event_source_set_enabled(f->curl_timer, SD_EVENT_OFF);
                return 0;
        }
        usec_t when = now(CLOCK_MONOTONIC) + (usec_t) timeout_ms * USEC_PER_MSEC;
        if (f->curl_timer) {
                r = sd_event_source_set_time(f->curl_timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(f->curl_timer, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time(f->event, &f->curl_timer, CLOCK_MONOTONIC, when, 1, on_curl_timer, f);
                if (r >= 0)
                        (void) sd_event_source_set_description(f->curl_timer, "curl-timer");
        }
        if (r < 0) {
                log_debug_errno(r, "Failed to set the download timer: %m");
                return -1;
        }
        return 0;
}

/* ---- the transfer ---------------------------------------------------------------------------------------
 */

static size_t curl_write_cb(char *p, size_t size, size_t nmemb, void *userdata) {
        Fetch *f = userdata;
        size_t n = size * nmemb;

        if (f->max_size > 0 && f->received + n > f->max_size) {
                f->too_big = true;
                return 0;
        }
        int r = f->cb.on_data(f, p, n, f->userdata);
        if (r == FETCH_PAUSE) {
                f->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        if (r < 0) {
                f->consumer_error = r;
                return 0;
        }
        f->received += n;
        return n;
}

static int curl_xferinfo_cb(
        void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        Fetch *f = userdata;

        if (dltotal > 0)
                f->total = f->attempt_offset + (uint64_t) dltotal;
        if (f->cb.on_progress)
                f->cb.on_progress(f, f->received, f->total, f->userdata);
        return 0;
}

static bool fetch_is_https(const Fetch *f) {
        return strncasecmp(f->url, "https://", STRLEN("https://")) == 0;
}

static int fetch_attempt_begin(Fetch *f) {
        CURL *c = sym_curl_easy_init();
        if (!c)
                return -ENOMEM;

        f->errbuf[0] = 0;
        f->paused = false;
        f->attempt_offset = f->received;

        bool ok = sym_curl_easy_setopt(c, CURLOPT_URL, f->url) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                        f->allow_file ? "http,https,file" : "http,https") == CURLE_OK &&
                /* An https URL stays https: an http hop would let anyone on the path serve the rest. */
                sym_curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                        fetch_is_https(f) ? "https" : "http,https") == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, f->no_redirects ? 0L : 1L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "oraivisor/" PACKAGE_VERSION) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_BUFFERSIZE, FETCH_BUFFER_SIZE) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write_cb) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, f) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, curl_xferinfo_cb) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_XFERINFODATA, f) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
                sym_curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;

        if (ok && f->connect_timeout > 0)
                ok = sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                             (long) MAX(f->connect_timeout / USEC_PER_MSEC, (usec_t) 1)) == CURLE_OK;
        if (ok && f->stall_timeout > 0 && f->stall_timeout != USEC_INFINITY)
                /* Less than one byte per second for this long: the server or the path stalled. */
                ok = sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
                        sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                                (long) DIV_ROUND_UP(f->stall_timeout, USEC_PER_SEC)) == CURLE_OK;
        if (ok && f->max_size > 0)
                ok = sym_curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) f->max_size) ==
                        CURLE_OK;
        if (ok && f->ca_file)
                ok = sym_curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file) == CURLE_OK &&
                        sym_curl_easy_setopt(c, CURLOPT_CAPATH, NULL) == CURLE_OK;
        if (ok && f->no_proxy)
                ok = sym_curl_easy_setopt(c, CURLOPT_NOPROXY, "*") == CURLE_OK;
        if (ok && f->unix_socket)
                ok = sym_curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, f->unix_socket) == CURLE_OK;
        if (ok && f->total_timeout > 0 && f->total_timeout != USEC_INFINITY)
                ok = sym_curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                             (long) MAX(f->total_timeout / USEC_PER_MSEC, (usec_t) 1)) == CURLE_OK;
        if (ok && f->received > 0)
                ok = sym_curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t) f->received) ==
                        CURLE_OK;
        if (!ok) {
                sym_curl_easy_cleanup(c);
                return -EIO;
        }

        if (sym_curl_multi_add_handle(f->multi, c) != CURLM_OK) {
                sym_curl_easy_cleanup(c);
                return -EIO;
        }
        f->easy = c;
        return 0;
}

static bool curl_code_is_transient(CURLcode c, long status) {
        switch (c) {
        case CURLE_HTTP_RETURNED_ERROR: return status >= 500 || status == 408 || status == 429;
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_PARTIAL_FILE:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_QUIC_CONNECT_ERROR: return true;
        default: return false;
        }
}

static int curl_code_to_errno(CURLcode c, long status) {
        switch (c) {
        case CURLE_OK: return 0;
        case CURLE_HTTP_RETURNED_ERROR:
                return status == 404 || status == 410    ? -ENOENT
                        : status == 401 || status == 403 ? -EACCES
                                                         : -EPROTO;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_FILESIZE_EXCEEDED: return -EFBIG;
        case CURLE_TOO_MANY_REDIRECTS: return -ELOOP;
        case CURLE_UNSUPPORTED_PROTOCOL: return -EPROTONOSUPPORT;
        case CURLE_FILE_COULDNT_READ_FILE: return -ENOENT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM: return -EKEYREJECTED;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING: return -ECONNRESET;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        default: return -EIO;
        }
}

/* "HTTP 404", "Connection refused: Failed to connect to …", "Operation too slow …". */
static char *describe_failure(Fetch *f, CURLcode c, long status) {
        char *m = NULL;
        if (c == CURLE_HTTP_RETURNED_ERROR)
                (void) asprintf(&m, "HTTP %ld", status);
        else
                (void) asprintf(
                        &m, "%s%s%s", sym_curl_easy_strerror(c), f->errbuf[0] ? ": " : "", f->errbuf);
        if (m)
                strip_trailing_whitespace(m);
        return m;
}

static const char *hint_for(const Fetch *f, CURLcode c, long status) {
        switch (c) {
        case CURLE_HTTP_RETURNED_ERROR:
                if (status >= 500 || status == 408 || status == 429)
                        return "check that the server works, or raise ORAIVISOR_DOWNLOAD_RETRIES";
                return status == 404 || status == 410 ? "check the URL in the plan's info or manifest"
                                                      : "check the URL and the server";
        case CURLE_OPERATION_TIMEDOUT:
                return "check the server, or raise ORAIVISOR_DOWNLOAD_STALL_TIMEOUT / "
                       "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT";
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                return "the server's certificate is not trusted; for a private CA set "
                       "ORAIVISOR_DOWNLOAD_CA_FILE";
        case CURLE_TOO_MANY_REDIRECTS: return "the URL redirects more than 10 times";
        case CURLE_UNSUPPORTED_PROTOCOL:
                if (fetch_is_https(f))
                        return "an https URL is never redirected to http (nor anything else but https); ask "
                               "the server's owner to redirect to https, or put the final https URL in the "
                               "plan";
                return "only http and https are fetched (file:// needs ORAIVISOR_ALLOW_FILE_URLS=true)";
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
                /* The shipped unit has no network (PrivateNetwork=yes): the likeliest cause under systemd. */
                if (getenv("INVOCATION_ID"))
                        return "check that the server is reachable; under oraivisor@.service, downloads need the "
                               "network drop-in of the \"Downloads\" section of systemd.md";
                return "check that the server is reachable, or raise ORAIVISOR_DOWNLOAD_RETRIES";
        default: return "check that the server is reachable, or raise ORAIVISOR_DOWNLOAD_RETRIES";
        }
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Fetch *f = userdata;
        f->retry_timer = sd_event_source_disable_unref(f->retry_timer);
        int r = fetch_attempt_begin(f);
        if (r < 0)
                fetch_finishf(f, r, "Failed to start downloading the %s from '%s': %s.", f->what,
                        f->url_redacted, strerror(-r));
        return 0;
}

static void fetch_attempt_finished(Fetch *f, CURLcode code) {
        long status = 0;
        int r;

        (void) sym_curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
        bool was_resume = f->attempt_offset > 0;
        fetch_easy_drop(f);

        if (f->consumer_error < 0)
                return fetch_finish(
                        f, f->consumer_error, f->consumer_message ?: "The download was aborted.");

        if (f->too_big || code == CURLE_FILESIZE_EXCEEDED) {
                char buf[64];
                if (f->max_size >= (UINT64_C(1) << 20))
                        snprintf(buf, sizeof(buf), "%" PRIu64 " MiB", f->max_size >> 20);
                else
                        snprintf(buf, sizeof(buf), "%" PRIu64 " bytes", f->max_size);
                return fetch_finishf(f, -EFBIG,
                        "The %s at '%s' is larger than the limit of %s; if it is genuine, raise "
                        "ORAIVISOR_DOWNLOAD_MAX_SIZE.",
                        f->what, f->url_redacted, buf);
        }

        if (code == CURLE_OK && f->no_redirects && status >= 300 && status < 400)
                return fetch_finishf(f, -EPROTO, "The %s at '%s' answered with a redirect (HTTP %ld), which is not followed.",
                        f->what, f->url_redacted, status);
        if (code == CURLE_OK)
                return fetch_finish(f, 0, NULL);

        /* The server ignored our Range (answered 200 with the whole body, or 416): start over from 0. */
        if (was_resume &&
                (code == CURLE_RANGE_ERROR || (code == CURLE_HTTP_RETURNED_ERROR && status == 416))) {
                log_warning("The server of '%s' does not resume downloads; starting the %s again from its "
                            "first byte.",
                        f->url_redacted, f->what);
                r = f->cb.on_restart ? f->cb.on_restart(f, f->userdata) : -EOPNOTSUPP;
                if (r < 0)
                        return fetch_finish(
                                f, r, f->consumer_message ?: "The download could not be restarted.");
                f->received = 0;
                f->total = 0;
                r = fetch_attempt_begin(f);
                if (r < 0)
                        return fetch_finishf(f, r, "Failed to restart downloading the %s from '%s': %s.",
                                f->what, f->url_redacted, strerror(-r));
                return;
        }

        _cleanup_free_ char *failure = describe_failure(f, code, status);
        int error = curl_code_to_errno(code, status);

        if (!curl_code_is_transient(code, status))
                return fetch_finishf(f, error, "Failed to download the %s from '%s': %s (not retried); %s.",
                        f->what, f->url_redacted, strna(failure), hint_for(f, code, status));

        if (f->attempt >= f->retries)
                return fetch_finishf(f, error,
                        "Failed to download the %s from '%s': %s; gave up after %u attempt%s; %s.", f->what,
                        f->url_redacted, strna(failure), f->attempt + 1, f->attempt == 0 ? "" : "s",
                        hint_for(f, code, status));

        usec_t delay = f->retry_delay;
        for (unsigned i = 0; i < f->attempt && delay < FETCH_RETRY_DELAY_MAX; i++)
                delay *= 2;
        delay = MIN(delay, FETCH_RETRY_DELAY_MAX);
        f->attempt++;

        char buf[FORMAT_TIMESPAN_MAX];
        if (f->received > 0)
                log_warning("Downloading the %s from '%s' failed after %" PRIu64
                            " bytes: %s; resuming in %s (attempt %u of %u).",
                        f->what, f->url_redacted, f->received, strna(failure),
                        format_timespan(buf, sizeof(buf), delay), f->attempt + 1, f->retries + 1);
        else
                log_warning("Downloading the %s from '%s' failed: %s; retrying in %s (attempt %u of %u).",
                        f->what, f->url_redacted, strna(failure), format_timespan(buf, sizeof(buf), delay),
                        f->attempt + 1, f->retries + 1);

        r = sd_event_add_time_relative(
                f->event, &f->retry_timer, CLOCK_MONOTONIC, delay, 1, on_retry_timer, f);
        if (r < 0)
                return fetch_finishf(
                        f, r, "Failed to schedule a retry of the %s download: %s.", f->what, strerror(-r));
        (void) sd_event_source_set_description(f->retry_timer, "fetch-retry");
}

static void fetch_check_done(Fetch *f) {
        CURLMsg *msg;
        int left;

        while (!f->done && (msg = sym_curl_multi_info_read(f->multi, &left)))
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == f->easy)
                        /* May call on_done, which may free f: nothing after this. */
                        return fetch_attempt_finished(f, msg->data.result);
}

int fetch_unpause(Fetch *f) {
        if (!f->easy || !f->paused)
                return 0;
        f->paused = false;
        /* May call the write callback right away (which may pause again). */
        if (sym_curl_easy_pause(f->easy, CURLPAUSE_CONT) != CURLE_OK)
                return -EIO;
        return 0;
}

int fetch_start(sd_event *e, const FetchOptions *o, const FetchCallbacks *cb, void *userdata, Fetch **ret) {
        assert(ret);

        int r;

        assert(e);
        assert(o && o->url);
        assert(cb && cb->on_data && cb->on_done);

        /* libcurl is loaded the first time, and stays loaded. */
        r = dlopen_curl();
        if (r < 0)
                return r;
        static bool curl_initialized = false;
        if (!curl_initialized) {
                if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                curl_initialized = true;
        }

        _cleanup_(fetch_freep) Fetch *f = new0(Fetch, 1);
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->cb = *cb;
        f->userdata = userdata;
        f->url = strdup(o->url);
        f->url_redacted = url_redact(o->url);
        f->what = strdup(o->what ?: "file");
        if (!f->url || !f->url_redacted || !f->what)
                return -ENOMEM;
        if (o->ca_file) {
                f->ca_file = strdup(o->ca_file);
                if (!f->ca_file)
                        return -ENOMEM;
        }
        if (o->unix_socket) {
                f->unix_socket = strdup(o->unix_socket);
                if (!f->unix_socket)
                        return -ENOMEM;
        }
        f->total_timeout = o->total_timeout;
        f->no_redirects = o->no_redirects;
        f->no_proxy = o->no_proxy;
        f->allow_file = o->allow_file;
        f->retries = o->retries;
        f->max_size = o->max_size;
        f->connect_timeout = o->connect_timeout;
        f->stall_timeout = o->stall_timeout;
        f->retry_delay = o->retry_delay > 0 ? o->retry_delay : FETCH_RETRY_DELAY_DEFAULT;

        f->multi = sym_curl_multi_init();
        if (!f->multi)
                return -ENOMEM;
        if (sym_curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
                sym_curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
                sym_curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
                sym_curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) != CURLM_OK)
                return -EIO;

        r = fetch_attempt_begin(f);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(f);
        return 0;
}
