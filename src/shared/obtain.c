/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "checksum.h"
#include "digest.h"
#include "dlopen-libs.h"
#include "fd-util.h"
#include "fetch.h"
#include "fs-util.h"
#include "log.h"
#include "outcome.h"
#include "manifest.h"
#include "layout.h"
#include "lock.h"
#include "obtain-internal.h"
#include "obtain.h"
#include "string-util.h"
#include "time-util.h"
#include "unpack.h"
#include "url.h"

#define CHECKSUM_LIST_SIZE_MAX (1024U * 1024U)
#define PROGRESS_INTERVAL (250 * USEC_PER_MSEC)





static const char *target_name(Target t) {
        return t == TARGET_MANIFEST ? "manifest" : "binary";
}


Obtain *obtain_free(Obtain *o) {
        if (!o)
                return NULL;
        o->fetch = fetch_free(o->fetch);
        obtain_drop_staging(o);
        sd_event_source_disable_unref(o->defer);
        sd_event_source_disable_unref(o->install_lock_retry);
        sd_event_unref(o->event);
        safe_close(o->upgrades_fd);
        safe_close(o->root_fd);
        digest_free(o->digest);
        free(o->upgrades_path);
        free(o->folder);
        free(o->daemon_name);
        free(o->plan_name);
        free(o->platform);
        free(o->result_message);
        free(o->target_url);
        free(o->target_redacted);
        free(o->list_url);
        free(o->expected_hex);
        free(o->mem);
        free(o->staging);
        return mfree(o);
}

static int on_defer(sd_event_source *s, void *userdata) {
        Obtain *o = userdata;
        o->defer = sd_event_source_disable_unref(o->defer);
        /* Last: done may free o. */
        o->done(o, o->result, o->result_message, o->userdata);
        return 0;
}

/* Ends the work: stops what runs, removes the staging folder unless published, and schedules done. */
void obtain_finish(Obtain *o, int error, const char *message) {
        if (o->finished)
                return;
        o->finished = true;
        o->result = error;
        o->result_message = message ? strdup(message) : NULL;
        if (error < 0) {
                o->fetch = fetch_free(o->fetch);
                obtain_drop_staging(o);
        }
        int r = sd_event_add_defer(o->event, &o->defer, on_defer, o);
        if (r < 0) {
                /* Cannot happen short of memory; the caller still learns the outcome. */
                log_error_errno(r, "Failed to schedule the end of the download: %m");
                o->done(o, error < 0 ? error : r, o->result_message, o->userdata);
        }
}

void obtain_failf(Obtain *o, int error, const char *format, ...) {
        _cleanup_(outcome_done) Outcome out = OUTCOME_NULL;
        va_list ap;
        va_start(ap, format);
        (void) outcome_failv(&out, error, format, ap);
        va_end(ap);
        obtain_finish(o, error, outcome_message(&out, "Out of memory."));
}

/* ---- progress ------------------------------------------------------------------------------------------
 */

static void format_amount(char *buf, size_t len, uint64_t done, uint64_t total) {
        if (total > 0 && total < (UINT64_C(10) << 10))
                snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " bytes (%d%%)", done, total,
                        (int) (done * 100 / total));
        else if (total > 0 && total < (UINT64_C(10) << 20))
                snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " KiB (%d%%)", done >> 10, total >> 10,
                        (int) (done * 100 / total));
        else if (total > 0)
                snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " MiB (%d%%)", done >> 20, total >> 20,
                        (int) (done * 100 / total));
        else
                snprintf(buf, len, "%" PRIu64 " MiB", done >> 20);
}

static void obtain_report_progress(Obtain *o, bool force) {
        char amount[96];
        usec_t t = now(CLOCK_MONOTONIC);

        if (o->total > 0 && !o->no_progress_log) {
                int decile = (int) (MIN(o->received, o->total) * 10 / o->total);
                if (decile > o->last_decile) {
                        o->last_decile = decile;
                        format_amount(amount, sizeof(amount), o->received, o->total);
                        log_info("Upgrade %s: downloaded %s from '%s'.", o->plan_name, amount,
                                o->target_redacted);
                }
        }
        if (!o->progress || (!force && o->last_progress > 0 && t < o->last_progress + PROGRESS_INTERVAL))
                return;
        o->last_progress = t;
        format_amount(amount, sizeof(amount), o->received, o->total);
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "upgrade %s: downloading %s", o->plan_name, amount) >= 0)
                o->progress(o, line, o->userdata);
}

/* ---- fetching into memory (manifests, checksum lists) ---------------------------------------------------
 */

static int on_mem_data(Fetch *f, const void *p, size_t n, void *userdata) {
        Obtain *o = userdata;
        size_t max = o->fetching_list ? CHECKSUM_LIST_SIZE_MAX : MANIFEST_SIZE_MAX;
        if (o->mem_len + n > max) {
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m, "The %s at '%s' is larger than %zu KiB; it cannot be a %s.",
                            o->fetching_list ? "checksum list" : "manifest", fetch_url_redacted(f),
                            max >> 10, o->fetching_list ? "checksum list" : "manifest") >= 0)
                        (void) fetch_set_error_message(f, m);
                return -EFBIG;
        }
        char *b = realloc(o->mem, o->mem_len + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + o->mem_len, p, n);
        o->mem = b;
        o->mem_len += n;
        o->mem[o->mem_len] = 0;
        return 0;
}

static int on_mem_restart(Fetch *f, void *userdata) {
        Obtain *o = userdata;
        o->mem = mfree(o->mem);
        o->mem_len = 0;
        return 0;
}

/* ---- the binary's stream ------------------------------------------------------------------------------ */

static void on_unpack_done(Unpack *u, int error, const char *message, void *userdata);
static void on_unpack_ready(Unpack *u, void *userdata);


static int obtain_begin_staging(Obtain *o) {
        int r;

        obtain_drop_staging(o);

        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, STAGING_PREFIX "%.*s-", STAGING_FOLDER_MAX, o->folder) < 0)
                return -ENOMEM;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_free_ char *name = NULL;
                r = tempname_make(prefix, &name);
                if (r < 0)
                        return r;
                if (mkdirat(o->upgrades_fd, name, 0755) >= 0) {
                        o->staging = TAKE_PTR(name);
                        break;
                }
                if (errno != EEXIST || attempt > 16)
                        return -errno;
        }
        o->staging_fd = openat(o->upgrades_fd, o->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (o->staging_fd < 0)
                return -errno;
        /* Ours while we live: obtain_cleanup_stale() of another process (oraivisor starting while
         * oraivisorctl downloads) leaves a locked staging folder alone. */
        if (flock(o->staging_fd, LOCK_EX | LOCK_NB) < 0)
                return -errno;

        UnpackOptions uo = {
                .dir_fd = o->staging_fd,
                .daemon_name = o->daemon_name,
                .max_size = o->config->unpack_max_size,
                .max_entries = o->config->unpack_max_entries,
        };
        r = unpack_start(o->event, &uo, on_unpack_done, on_unpack_ready, o, &o->unpack);
        if (r < 0)
                return r;
        o->unpack_broken = false;
        return 0;
}

static int on_bin_data(Fetch *f, const void *p, size_t n, void *userdata) {
        Obtain *o = userdata;

        int r = unpack_feed(o->unpack, p, n);
        if (r == UNPACK_BUSY)
                return FETCH_PAUSE;
        if (r < 0) {
                o->unpack_broken = r == -EPIPE;
                return r;
        }
        r = digest_update(o->digest, p, n);
        if (r < 0)
                return r;
        o->received += n;
        return 0;
}

static void on_unpack_ready(Unpack *u, void *userdata) {
        Obtain *o = userdata;
        if (o->fetch)
                (void) fetch_unpause(o->fetch);
}

static int on_bin_restart(Fetch *f, void *userdata) {
        Obtain *o = userdata;
        int r = digest_reset(o->digest);
        if (r < 0)
                return r;
        o->received = 0;
        o->last_decile = 0;
        r = obtain_begin_staging(o);
        if (r < 0) {
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m,
                            "Failed to prepare a staging folder in '%s' for the restarted download: %s.",
                            o->upgrades_path, strerror(-r)) >= 0)
                        (void) fetch_set_error_message(f, m);
        }
        return r;
}

static void on_fetch_progress(Fetch *f, uint64_t received, uint64_t total, void *userdata) {
        Obtain *o = userdata;
        if (o->target != TARGET_BINARY || o->fetching_list)
                return;
        o->total = total;
        obtain_report_progress(o, false);
}






static void on_unpack_done(Unpack *u, int error, const char *message, void *userdata) {
        Obtain *o = userdata;
        o->unpack = unpack_free(o->unpack);

        if (error < 0) {
                if (error == -ENOSPC || error == -EDQUOT)
                        return obtain_failf(o, error,
                                "The download from '%s' cannot be installed in '%s': %s. Nothing was "
                                "installed.",
                                o->target_redacted, o->upgrades_path, strna(message));
                return obtain_failf(o, error,
                        "The download from '%s' cannot be installed: %s. Nothing was installed.",
                        o->target_redacted, strna(message));
        }
        if (!o->fetch_done)
                return obtain_failf(o, -EIO,
                        "The unpack worker for '%s' ended before the download did; nothing was installed.",
                        o->target_redacted);
        obtain_publish(o);
}

static void obtain_binary_fetched(Obtain *o) {
        _cleanup_free_ char *actual = NULL;
        int r;

        o->fetch_done = true;
        obtain_report_progress(o, true);

        r = digest_hex(o->digest, &actual);
        if (r < 0)
                return obtain_failf(o, r, "Failed to compute the digest of the download from '%s': %s.",
                        o->target_redacted, strerror(-r));
        const char *type = checksum_type_to_string(digest_type(o->digest));
        if (o->expected_hex && !streq(o->expected_hex, actual))
                return obtain_failf(o, -EBADMSG,
                        "The binary downloaded from '%s' does not match its checksum: expected %s:%s, got "
                        "%s:%s; the file on the server or the checksum in the plan is wrong. Nothing was "
                        "installed.",
                        o->target_redacted, type, o->expected_hex, type, actual);
        if (o->expected_hex)
                log_info("Upgrade %s: the download matches its checksum %s:%s.", o->plan_name, type, actual);
        else
                log_warning("Upgrade %s: the download from '%s' has no checksum to verify (its %s is %s).",
                        o->plan_name, o->target_redacted, type, actual);

        /* on_unpack_done follows once the worker finished (also when it already failed: it reports why). */
        (void) unpack_finish(o->unpack);
}

/* ---- the steps ------------------------------------------------------------------------------------------
 */

static void obtain_start_target(Obtain *o, Target t, const char *raw_url);
static void obtain_fetch_target(Obtain *o);

static void obtain_choose_binary(Obtain *o, const Manifest *m, const char *source) {
        const char *url, *key, *reason;
        int r = manifest_find(m, o->platform, &url, &key, &reason);
        if (r < 0)
                return obtain_failf(o, r,
                        "The %s for upgrade %s cannot be used: %s (%s). Install the binary by hand.", source,
                        o->plan_name, reason, o->platform);
        log_info("Upgrade %s: using the manifest's entry '%s'.", o->plan_name, key);
        obtain_start_target(o, TARGET_BINARY, url);
}

static void on_fetch_done(Fetch *f, int error, const char *message, void *userdata) {
        Obtain *o = userdata;
        int r;

        o->fetch = fetch_free(o->fetch);

        if (error < 0) {
                if (o->target == TARGET_BINARY && !o->fetching_list && o->unpack_broken && o->unpack)
                        return; /* the worker's exit says why */
                return obtain_finish(o, error, message);
        }

        if (o->fetching_list) {
                _cleanup_free_ char *name = NULL, *hex = NULL, *list = TAKE_PTR(o->mem);
                size_t len = o->mem_len;
                const char *reason = NULL;
                ChecksumType type;
                o->mem_len = 0;
                o->fetching_list = false;

                r = url_file_name(o->target_url, &name);
                if (r < 0)
                        return obtain_failf(o, r,
                                "The %s URL '%s' names no file to look up in the checksum list '%s'; use "
                                "?checksum=<type>:<hex> instead.",
                                target_name(o->target), o->target_redacted, strna(o->list_url));
                r = checksum_list_find(list ?: "", len, name, &type, &hex, &reason);
                if (r < 0)
                        return obtain_failf(o, r, "The checksum list '%s' cannot be used for '%s': %s.",
                                strna(o->list_url), name, reason);
                o->expected_type = type;
                o->expected_hex = TAKE_PTR(hex);
                return obtain_fetch_target(o);
        }

        if (o->target == TARGET_MANIFEST) {
                _cleanup_free_ char *data = TAKE_PTR(o->mem);
                size_t len = o->mem_len;
                o->mem_len = 0;
                if (o->expected_hex) {
                        _cleanup_free_ char *actual = NULL;
                        r = digest_buffer_hex(o->expected_type, data ?: "", len, &actual);
                        if (r < 0)
                                return obtain_failf(o, r,
                                        "Failed to compute the digest of the manifest: %s.", strerror(-r));
                        if (!streq(actual, o->expected_hex))
                                return obtain_failf(o, -EBADMSG,
                                        "The manifest downloaded from '%s' does not match its checksum: "
                                        "expected %s:%s, got %s:%s; the manifest or the plan's checksum is "
                                        "wrong.",
                                        o->target_redacted, checksum_type_to_string(o->expected_type),
                                        o->expected_hex, checksum_type_to_string(o->expected_type), actual);
                }
                _cleanup_(manifest_freep) Manifest *m = NULL;
                const char *reason = NULL;
                r = manifest_parse(data ?: "", len, &m, &reason);
                if (r < 0) {
                        _cleanup_free_ char *source = NULL;
                        if (asprintf(&source, "manifest at '%s'", o->target_redacted) < 0)
                                return obtain_finish(o, -ENOMEM, "Out of memory.");
                        return obtain_failf(o, r,
                                "The %s cannot be used: %s. Ask the plan's author for a valid manifest, or "
                                "install the binary by hand.",
                                source, reason);
                }
                _cleanup_free_ char *source = NULL;
                if (asprintf(&source, "manifest at '%s'", o->target_redacted) < 0)
                        return obtain_finish(o, -ENOMEM, "Out of memory.");
                return obtain_choose_binary(o, m, source);
        }

        obtain_binary_fetched(o);
}

static void obtain_fetch_target(Obtain *o) {
        const Config *c = o->config;
        int r;

        if (o->expected_hex && checksum_type_is_weak(o->expected_type))
                log_warning("Upgrade %s: the %s is verified with %s only, which is weak; plans should use "
                            "sha256 or sha512.",
                        o->plan_name, target_name(o->target), checksum_type_to_string(o->expected_type));

        bool binary = o->target == TARGET_BINARY;
        if (binary) {
                o->digest = digest_free(o->digest);
                r = digest_new(o->expected_hex ? o->expected_type : CHECKSUM_SHA256, &o->digest);
                if (r < 0)
                        return obtain_failf(o, r, "The checksum type %s cannot be computed here: %s.",
                                checksum_type_to_string(o->expected_type), strerror(-r));
                r = obtain_begin_staging(o);
                if (r < 0)
                        return obtain_failf(o, r, "Failed to prepare a staging folder in '%s': %s.",
                                o->upgrades_path, strerror(-r));
                o->received = o->total = 0;
                o->last_decile = 0;
                log_info("Upgrade %s: downloading '%s'.", o->plan_name, o->target_redacted);
        }

        FetchOptions fo = {
                .url = o->target_url,
                .what = target_name(o->target),
                .allow_file = c->allow_file_urls,
                .retries = c->download_retries,
                .max_size = binary ? c->download_max_size : MANIFEST_SIZE_MAX,
                .connect_timeout = c->download_connect_timeout,
                .stall_timeout = c->download_stall_timeout,
                .ca_file = c->download_ca_file,
        };
        FetchCallbacks cb = {
                .on_data = binary ? on_bin_data : on_mem_data,
                .on_restart = binary ? on_bin_restart : on_mem_restart,
                .on_progress = on_fetch_progress,
                .on_done = on_fetch_done,
        };
        r = fetch_start(o->event, &fo, &cb, o, &o->fetch);
        if (r < 0)
                return obtain_failf(
                        o, r, "Failed to start downloading '%s': %s.", o->target_redacted, strerror(-r));
}

static void obtain_start_target(Obtain *o, Target t, const char *raw_url) {
        const Config *c = o->config;
        const char *what = target_name(t), *reason = NULL;
        _cleanup_free_ char *value = NULL, *shown = url_redact(raw_url);
        int r;

        o->target = t;
        o->target_url = mfree(o->target_url);
        o->target_redacted = mfree(o->target_redacted);
        o->expected_hex = mfree(o->expected_hex);
        o->list_url = mfree(o->list_url);
        o->expected_type = _CHECKSUM_TYPE_INVALID;

        r = url_split_checksum(raw_url, &o->target_url, &value, &reason);
        if (r < 0)
                return obtain_failf(o, r, "The %s URL '%s' of upgrade %s is malformed: %s.", what,
                        strna(shown), o->plan_name, reason ?: strerror(-r));
        o->target_redacted = url_redact(o->target_url);
        if (!o->target_redacted)
                return obtain_finish(o, -ENOMEM, "Out of memory.");

        r = url_check(o->target_url, c->allow_file_urls, NULL, &reason);
        if (r < 0)
                return obtain_failf(o, r, "The %s URL '%s' of upgrade %s is refused: %s.", what,
                        o->target_redacted, o->plan_name, reason);

        if (!value) {
                if (c->must_have_checksum)
                        return obtain_failf(o, -ENOKEY,
                                "The %s URL '%s' of upgrade %s has no checksum and "
                                "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true; ask for a plan whose URLs carry "
                                "?checksum=sha256:<hex>, or install the binary by hand.",
                                what, o->target_redacted, o->plan_name);
                return obtain_fetch_target(o);
        }

        _cleanup_(checksum_spec_done) ChecksumSpec spec = CHECKSUM_SPEC_NULL;
        r = checksum_spec_parse(value, &spec, &reason);
        if (r < 0)
                return obtain_failf(o, r, "The checksum '%s' in the %s URL of upgrade %s is malformed: %s.",
                        value, what, o->plan_name, reason ?: strerror(-r));

        if (!spec.file_url) {
                o->expected_type = spec.type;
                o->expected_hex = TAKE_PTR(spec.hex);
                return obtain_fetch_target(o);
        }

        /* checksum=file:<url>: fetch the list first. */
        o->list_url = url_redact(spec.file_url);
        if (!o->list_url)
                return obtain_finish(o, -ENOMEM, "Out of memory.");
        r = url_check(spec.file_url, c->allow_file_urls, NULL, &reason);
        if (r < 0)
                return obtain_failf(o, r, "The checksum list URL '%s' of upgrade %s is refused: %s.",
                        o->list_url, o->plan_name, reason);
        o->fetching_list = true;
        o->mem = mfree(o->mem);
        o->mem_len = 0;
        FetchOptions fo = {
                .url = spec.file_url,
                .what = "checksum list",
                .allow_file = c->allow_file_urls,
                .retries = c->download_retries,
                .max_size = CHECKSUM_LIST_SIZE_MAX,
                .connect_timeout = c->download_connect_timeout,
                .stall_timeout = c->download_stall_timeout,
                .ca_file = c->download_ca_file,
        };
        FetchCallbacks cb = {
                .on_data = on_mem_data,
                .on_restart = on_mem_restart,
                .on_done = on_fetch_done,
        };
        r = fetch_start(o->event, &fo, &cb, o, &o->fetch);
        if (r < 0)
                return obtain_failf(
                        o, r, "Failed to start downloading '%s': %s.", o->list_url, strerror(-r));
}

int obtain_platform(char **ret) {
        struct utsname u;
        if (uname(&u) < 0)
                return -errno;
        return platform_from_uname(u.sysname, u.machine, ret);
}

/* 1: upgrades/<folder> holds its binary (the rule of layout.h's version_binary_check_at()); 0: no
 * upgrades/<folder>; < 0 with a message. */
static int obtain_check_existing(Obtain *o) {
        struct stat st;
        if (fstatat(o->upgrades_fd, o->folder, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                obtain_failf(o, -errno, "Failed to inspect '%s/%s': %s.", o->upgrades_path, o->folder,
                        strerror(errno));
                return -errno;
        }
        int r = version_binary_check_at(o->upgrades_fd, o->folder, o->daemon_name);
        if (r == -ENOMEM) {
                obtain_finish(o, r, "Out of memory.");
                return r;
        }
        if (r >= 0)
                return 1;
        obtain_failf(o, -EEXIST,
                "'%s/%s' exists but holds no usable binary 'bin/%s' (made by hand, or left by another tool): %s; "
                "remove the folder so that the binary can be downloaded, or install the binary there (chmod "
                "+x).",
                o->upgrades_path, o->folder, o->daemon_name, strerror(-r));
        return -EEXIST;
}

/* A download needs libcurl, libcrypto and libarchive: they are loaded here (the first time; they stay
 * loaded), before anything is fetched or a staging folder made, so that a missing one is one clear error
 * naming it and its package. 0, or < 0 with the Obtain finished. */
static int obtain_load_libraries(Obtain *o) {
        static const struct {
                DlopenLibrary library;
                const char *verb;
        } needed[] = {
                { DLOPEN_LIBCURL, "download" },
                { DLOPEN_LIBCRYPTO, "verify" },
                { DLOPEN_LIBARCHIVE, "unpack" },
        };

        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                _cleanup_free_ char *what = NULL, *m = NULL;
                if (asprintf(&what, "to %s the binary of upgrade %s", needed[i].verb, o->plan_name) < 0) {
                        obtain_finish(o, -ENOMEM, "Out of memory.");
                        return -ENOMEM;
                }
                int r = dlopen_library_message(needed[i].library, what, &m);
                if (r < 0) {
                        obtain_failf(o, r, "%s, or install '%s/%s/bin/%s' by hand (chmod +x).",
                                m ?: "Out of memory", o->upgrades_path, o->folder, o->daemon_name);
                        return r;
                }
        }
        return 0;
}

ObtainOutcome obtain_outcome(const Obtain *o) {
        assert(o);
        return o->outcome;
}

bool obtain_verified(const Obtain *o) {
        assert(o);
        return o->outcome == OBTAIN_INSTALLED && o->expected_hex;
}

void obtain_get_progress(const Obtain *o, uint64_t *ret_received, uint64_t *ret_total) {
        assert(o);
        if (ret_received)
                *ret_received = o->received;
        if (ret_total)
                *ret_total = o->total;
}

int obtain_start(sd_event *e, const ObtainSpec *spec, ObtainDone done, ObtainProgress progress,
        void *userdata, Obtain **ret) {
        assert(ret);

        int r;

        assert(e);
        assert(spec && spec->upgrades_fd >= 0 && spec->folder && spec->daemon_name && spec->plan &&
                spec->config);
        assert(done);

        _cleanup_(obtain_freep) Obtain *o = new0(Obtain, 1);
        if (!o)
                return -ENOMEM;
        o->event = sd_event_ref(e);
        o->config = spec->config;
        o->done = done;
        o->progress = progress;
        o->userdata = userdata;
        o->staging_fd = -EBADF;
        o->root_fd = -EBADF;
        o->expected_type = _CHECKSUM_TYPE_INVALID;
        o->explicit_request = spec->explicit_request;
        o->no_progress_log = spec->no_progress_log;
        o->install_lock_timeout = spec->install_lock_timeout ?: OBTAIN_INSTALL_LOCK_TIMEOUT_DEFAULT;
        o->upgrades_fd = fcntl(spec->upgrades_fd, F_DUPFD_CLOEXEC, 3);
        if (o->upgrades_fd < 0)
                return -errno;
        if (spec->take_install_lock) {
                assert(spec->root_fd >= 0);
                o->root_fd = fcntl(spec->root_fd, F_DUPFD_CLOEXEC, 3);
                if (o->root_fd < 0)
                        return -errno;
        }
        o->upgrades_path = strdup(strempty(spec->upgrades_path));
        o->folder = strdup(spec->folder);
        o->daemon_name = strdup(spec->daemon_name);
        o->plan_name = strdup(spec->plan->name);
        if (!o->upgrades_path || !o->folder || !o->daemon_name || !o->plan_name)
                return -ENOMEM;
        r = obtain_platform(&o->platform);
        if (r < 0)
                return r;

        /* From here on, every outcome is reported through done. */
        r = obtain_check_existing(o);
        if (r > 0) {
                log_info("Upgrade %s: '%s/%s/bin/%s' is already installed; nothing to download.",
                        o->plan_name, o->upgrades_path, o->folder, o->daemon_name);
                o->outcome = OBTAIN_FOUND;
                obtain_finish(o, 0, NULL);
        } else if (r == 0 && !o->config->allow_download && !o->explicit_request)
                obtain_failf(o, -ENOENT,
                        "The binary for upgrade %s is not installed and downloads are disabled; install "
                        "'%s/%s/bin/%s' (chmod +x) or set DAEMON_ALLOW_DOWNLOAD_BINARIES=true.",
                        o->plan_name, o->upgrades_path, o->folder, o->daemon_name);
        else if (r == 0) {
                _cleanup_free_ char *url = NULL;
                _cleanup_(manifest_freep) Manifest *m = NULL;
                const char *reason = NULL;
                r = plan_info_parse(spec->plan->info, &url, &m, &reason);
                if (r == -ENODATA)
                        obtain_failf(o, r,
                                "Upgrade %s has no info to download its binary from; install '%s/%s/bin/%s' "
                                "by hand (chmod +x).",
                                o->plan_name, o->upgrades_path, o->folder, o->daemon_name);
                else if (r < 0)
                        obtain_failf(o, r,
                                "The info of upgrade %s cannot be used to download its binary: %s; install "
                                "'%s/%s/bin/%s' by hand.",
                                o->plan_name, reason ?: strerror(-r), o->upgrades_path, o->folder,
                                o->daemon_name);
                else if (obtain_load_libraries(o) >= 0) { /* else finished, with the message */
                        if (r == PLAN_INFO_URL)
                                obtain_start_target(o, TARGET_MANIFEST, url);
                        else
                                obtain_choose_binary(o, m, "plan's info");
                }
        }

        *ret = TAKE_PTR(o);
        return 0;
}

