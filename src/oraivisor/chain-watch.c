/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The chain watcher (chain-watch.h): the state it keeps, staging ahead, and the polls. Which RPC it
 * watches is chain-watch-resolve.c. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "chain-schedule.h"
#include "chain-state-file.h"
#include "chain-watch.h"
#include "dlopen-libs.h"
#include "events.h"
#include "fd-util.h"
#include "fetch.h"
#include "fs-util.h"
#include "log.h"
#include "manifest.h"
#include "net-probe.h"
#include "obtain.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

/* Each request: connecting, and the whole answer. A node that takes longer is treated as unreachable. */
#define RPC_CONNECT_TIMEOUT (5 * USEC_PER_SEC)
#define RPC_TOTAL_TIMEOUT (15 * USEC_PER_SEC)
/* status is ~2 KiB, 20 block headers ~20 KiB, a plan's info a few KiB: anything past this is not the node.
 */
#define RPC_MAX_BODY (1024U * 1024U)
/* The blocks asked for the first estimate of the pace (CometBFT returns at most 20). */
#define PACE_BLOCKS 20
/* A failed staging download is tried again after this, doubled each time up to the cap. */
#define STAGE_RETRY_FIRST (5 * USEC_PER_MINUTE)
#define STAGE_RETRY_MAX USEC_PER_HOUR

typedef enum PollStep {
        POLL_IDLE,
        POLL_PROBE,
        POLL_STATUS,
        POLL_BLOCKCHAIN,
        POLL_PLAN,
} PollStep;

typedef enum Reach {
        REACH_UNKNOWN,
        REACH_YES,
        REACH_NO,
} Reach;

struct ChainWatch {
        sd_event *event;
        const Config *config;
        Layout *layout;
        NodeRpc rpc;
        ChainWatchChanged changed;
        void *userdata;

        sd_event_source *poll_timer;
        PollStep step;
        int probe_fd;
        sd_event_source *probe_io;
        sd_event_source *probe_timer;
        Fetch *fetch;
        char *body;
        size_t body_size;

        Reach reach;
        RpcStatus status;
        BlockPace pace;
        ChainState state;

        Obtain *obtain; /* staging the binary of obtain_name */
        char *obtain_name;
        sd_event_source *stage_timer;
        usec_t stage_delay;
        bool upgrading; /* an upgrade is being carried out: no staging */
};

static void poll_schedule(ChainWatch *w);
static void stage_maybe(ChainWatch *w, ScheduledUpgrade *u);

/* ---- the state -------------------------------------------------------------------------------------------
 */

static void save(ChainWatch *w, bool durable) {
        w->state.updated = now(CLOCK_REALTIME);
        int r = chain_state_save_at(w->layout->root_fd, &w->state, durable);
        if (r < 0)
                log_debug_errno(
                        r, "Failed to write '%s/" CHAIN_STATE_FILE "', ignoring: %m", w->layout->root);
}

static void changed(ChainWatch *w) {
        if (w->changed)
                w->changed(w, w->userdata);
}

static int plan_of(const ScheduledUpgrade *u, UpgradePlan **ret) {
        return upgrade_plan_new(u->name, u->height, NULL, u->info, ret);
}

/* The one "installed" rule: upgrades/<folder>/bin/<daemon> is an executable file. */
static bool binary_installed(ChainWatch *w, const char *name) {
        _cleanup_free_ char *folder = NULL, *rel = NULL;
        if (upgrade_name_to_folder(name, &folder) < 0)
                return false;
        folder = mfree(folder);
        if (layout_find_upgrade(w->layout, name, &folder) <= 0)
                return false;
        if (asprintf(&rel, "upgrades/%s", folder) < 0)
                return false;
        return version_binary_check_at(w->layout->root_fd, rel, w->layout->daemon_name) >= 0;
}

static usec_t time_left(const ChainWatch *w, const ScheduledUpgrade *u) {
        if (w->state.block_time == 0 || w->state.height == 0)
                return USEC_INFINITY;
        return chain_estimate_left(u->height, w->state.height, w->state.block_time);
}

/* "~3h10m from now (an estimate, around 2026-12-07 18:00 UTC)", or "at a time not estimated yet". */
static void describe_when(const ChainWatch *w, const ScheduledUpgrade *u, char *buf, size_t len) {
        usec_t left = time_left(w, u);
        if (left == USEC_INFINITY || u->estimated_at == 0) {
                snprintf(buf, len, "at a time not estimated yet");
                return;
        }
        char a[FORMAT_APPROX_MAX], t[64] = "";
        time_t s = (time_t) (u->estimated_at / USEC_PER_SEC);
        struct tm tm;
        if (gmtime_r(&s, &tm))
                strftime(t, sizeof(t), "%Y-%m-%d %H:%M UTC", &tm);
        snprintf(buf, len, "in ~%s (an estimate from the chain's recent pace: around %s)",
                format_approx(a, sizeof(a), left), t);
}

static void warn_missing(ChainWatch *w, ScheduledUpgrade *u) {
        /* Installed but not ready: a download cannot fix it, so the warnings are given whatever the setting. */
        bool not_ready = u->binary == BINARY_INSTALLED && u->ready == READY_NO;
        if (!not_ready && (w->config->allow_download || u->binary == BINARY_INSTALLED))
                return;
        ChainWarning which;
        unsigned given;
        if (chain_warning_due(u->warnings, time_left(w, u), &which, &given) < 0)
                return;
        u->warnings = given;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        if (plan_of(u, &p) < 0)
                return (void) log_oom();
        char when[160];
        describe_when(w, u, when, sizeof(when));
        char field[64];
        snprintf(field, sizeof(field), "ORAIVISOR_WARNING=%s", chain_warning_to_string(which));
        if (not_ready) {
                log_event(EVENT_UPGRADE_BINARY_MISSING, LOG_WARNING, 0, w->config->name, p,
                        STRV_MAKE(field, "ORAIVISOR_BINARY=not_ready"),
                        "Upgrade '%s' is scheduled at height %" PRIi64 ", %s, and its binary is installed but not ready: "
                        "it %s. The node will stop there and stay down. Install a working build now: "
                        "oraivisorctl add-upgrade '%s' PATH --force, then oraivisorctl check '%s'.",
                        u->name, u->height, when, strna(u->ready_reason), u->name, u->name);
                save(w, true);
                return;
        }
        /* prepare-upgrade fetches what the info names (taking the plan from chain-state.json): offered only
         * when it names something. */
        _cleanup_free_ char *url = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *reason = NULL;
        int kind = plan_info_parse(u->info, &url, &m, &reason);
        if (kind == -ENOMEM)
                return (void) log_oom();
        bool preparable = kind == PLAN_INFO_URL || kind == PLAN_INFO_MANIFEST;
        log_event(EVENT_UPGRADE_BINARY_MISSING, LOG_WARNING, 0, w->config->name, p, STRV_MAKE(field),
                "Upgrade '%s' is scheduled at height %" PRIi64
                ", %s, and its binary is not installed; downloads are off "
                "(DAEMON_ALLOW_DOWNLOAD_BINARIES=false), so the node will stop there and stay down. Install "
                "it now: "
                "oraivisorctl add-upgrade '%s' PATH%s%s%s.",
                u->name, u->height, when, u->name, preparable ? ", or oraivisorctl prepare-upgrade '" : "",
                preparable ? u->name : "", preparable ? "' (it fetches what the plan's info names)" : "");
        save(w, true);
}

static void refresh_binary(ChainWatch *w, ScheduledUpgrade *u) {
        if (u->binary == BINARY_STAGING)
                return;
        bool installed = binary_installed(w, u->name);
        if (installed && u->binary != BINARY_INSTALLED) {
                log_info(
                        "The binary of upgrade '%s' (height %" PRIi64 ") is installed.", u->name, u->height);
                u->binary = BINARY_INSTALLED;
                u->binary_error = mfree(u->binary_error);
                save(w, true);
                changed(w);
        } else if (!installed && u->binary == BINARY_INSTALLED) {
                u->binary = BINARY_MISSING;
                u->ready = READY_UNKNOWN;
                u->ready_reason = mfree(u->ready_reason);
                save(w, true);
                changed(w);
        }
}

static void unschedule(ChainWatch *w, ScheduledUpgrade *u, const UpgradePlan *replacement) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        if (plan_of(u, &p) < 0)
                return (void) log_oom();
        if (w->obtain_name && streq(w->obtain_name, u->name)) {
                w->obtain = obtain_free(w->obtain);
                w->obtain_name = mfree(w->obtain_name);
        }
        if (w->state.height >= u->height)
                /* Done: the chain went past it (the node's own announcement carried it out). */
                log_info("Upgrade '%s' at height %" PRIi64 " is past; no longer watched.", u->name,
                        u->height);
        else if (replacement)
                log_event(EVENT_UPGRADE_UNSCHEDULED, LOG_NOTICE, 0, w->config->name, p, NULL,
                        "Upgrade '%s' at height %" PRIi64
                        " was replaced on chain by upgrade '%s' at height %" PRIi64 "%s.",
                        u->name, u->height, replacement->name, replacement->height,
                        u->binary == BINARY_INSTALLED ? "; its staged binary is kept, not used" : "");
        else
                log_event(EVENT_UPGRADE_UNSCHEDULED, LOG_NOTICE, 0, w->config->name, p, NULL,
                        "Upgrade '%s' at height %" PRIi64 " was cancelled on chain%s.", u->name, u->height,
                        u->binary == BINARY_INSTALLED ? "; its staged binary is kept, not used" : "");
        chain_state_remove(&w->state, u);
        save(w, true);
        changed(w);
}

static void schedule(ChainWatch *w, const UpgradePlan *p) {
        ScheduledUpgrade n = {
                .name = p->name,
                .height = p->height,
                .info = p->info,
                .source = SCHEDULED_SOURCE_GOVERNANCE,
                .first_seen = now(CLOCK_REALTIME),
                .binary = binary_installed(w, p->name) ? BINARY_INSTALLED : BINARY_MISSING,
        };
        if (w->state.block_time > 0 && w->state.height > 0)
                n.estimated_at = chain_estimate_at(
                        p->height, w->state.height, w->state.height_time, w->state.block_time);
        ScheduledUpgrade *u = chain_state_add(&w->state, &n);
        if (!u)
                return (void) log_oom();
        char when[160];
        describe_when(w, u, when, sizeof(when));
        log_event(EVENT_UPGRADE_SCHEDULED, LOG_NOTICE, 0, w->config->name, p,
                STRV_MAKE(u->binary == BINARY_INSTALLED ? "ORAIVISOR_BINARY=installed"
                                                        : "ORAIVISOR_BINARY=missing"),
                "Upgrade '%s' is scheduled on chain at height %" PRIi64 " (the chain is at %" PRIi64
                "), %s; its binary is %s.",
                p->name, p->height, w->state.height, when,
                u->binary == BINARY_INSTALLED       ? "installed"
                        : w->config->allow_download ? "not installed: downloading it now"
                                                    : "not installed");
        save(w, true);
        if (u->binary != BINARY_INSTALLED) {
                if (w->config->allow_download)
                        stage_maybe(w, u);
                else
                        warn_missing(w, u);
        }
        changed(w);
}

static void handle_plan(ChainWatch *w, const UpgradePlan *p) {
        ScheduledUpgrade *u = chain_state_find(&w->state, SCHEDULED_SOURCE_GOVERNANCE, NULL);
        if (u && (!p || !streq(u->name, p->name) || u->height != p->height)) {
                unschedule(w, u, p);
                u = NULL;
        }
        if (p && !u)
                return schedule(w, p);

        /* Every upgrade known: its binary, its estimate, the warnings due, a failed staging to retry. */
        bool moved = false;
        for (size_t i = 0; i < w->state.n_upgrades; i++) {
                ScheduledUpgrade *e = &w->state.upgrades[i];
                refresh_binary(w, e);
                if (w->state.block_time > 0) {
                        usec_t at = chain_estimate_at(
                                e->height, w->state.height, w->state.height_time, w->state.block_time);
                        /* STATUS= and the metrics follow the estimate, rounded to a minute. */
                        moved = moved || e->estimated_at / USEC_PER_MINUTE != at / USEC_PER_MINUTE;
                        e->estimated_at = at;
                }
                if (e->binary != BINARY_INSTALLED) {
                        if (w->config->allow_download)
                                stage_maybe(w, e);
                        else
                                warn_missing(w, e);
                } else if (e->ready == READY_NO)
                        warn_missing(w, e);
        }
        if (moved)
                changed(w);
}

/* ---- staging the binary ----------------------------------------------------------------------------------
 */

static int on_stage_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ChainWatch *w = userdata;
        w->stage_timer = sd_event_source_disable_unref(w->stage_timer);
        ScheduledUpgrade *u = chain_state_find(&w->state, SCHEDULED_SOURCE_GOVERNANCE, NULL);
        if (u && u->binary != BINARY_INSTALLED)
                stage_maybe(w, u);
        return 0;
}

static void on_stage_done(Obtain *o, int error, const char *message, void *userdata) {
        ChainWatch *w = userdata;
        _cleanup_free_ char *m = message ? strdup(message) : NULL, *name = TAKE_PTR(w->obtain_name);
        w->obtain = obtain_free(w->obtain);
        ScheduledUpgrade *u = NULL;
        for (size_t i = 0; i < w->state.n_upgrades && !u; i++)
                if (streq(w->state.upgrades[i].name, name))
                        u = &w->state.upgrades[i];
        if (!u)
                return;
        if (error >= 0 && binary_installed(w, u->name)) {
                log_info("Staged the binary of upgrade '%s' (height %" PRIi64
                         ") ahead of its height: downloaded and verified.",
                        u->name, u->height);
                u->binary = BINARY_INSTALLED;
                u->binary_error = mfree(u->binary_error);
                w->stage_delay = 0;
        } else {
                w->stage_delay =
                        w->stage_delay == 0 ? STAGE_RETRY_FIRST : MIN(w->stage_delay * 2, STAGE_RETRY_MAX);
                char d[FORMAT_TIMESPAN_MAX];
                log_warning("Staging the binary of upgrade '%s' (height %" PRIi64
                            ") failed: %s Trying again in %s.",
                        u->name, u->height, strna(m), format_timespan(d, sizeof(d), w->stage_delay));
                u->binary = BINARY_FAILED;
                free(u->binary_error);
                u->binary_error = TAKE_PTR(m);
                if (sd_event_add_time_relative(w->event, &w->stage_timer, CLOCK_MONOTONIC, w->stage_delay,
                            USEC_PER_SEC, on_stage_timer, w) < 0)
                        log_debug("Cannot schedule the next staging attempt; the next poll will.");
        }
        save(w, true);
        changed(w);
}

static void stage_maybe(ChainWatch *w, ScheduledUpgrade *u) {
        if (!w->config->allow_download || w->upgrading || w->obtain || w->stage_timer ||
                u->binary == BINARY_INSTALLED)
                return;
        if (w->state.height > 0 && u->height <= w->state.height)
                return; /* at or past its height: the upgrade itself obtains it */
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        _cleanup_free_ char *folder = NULL, *upath = NULL;
        if (plan_of(u, &p) < 0 || asprintf(&upath, "%s/upgrades", w->layout->root) < 0)
                return (void) log_oom();
        if (layout_find_upgrade(w->layout, u->name, &folder) < 0)
                return;
        _cleanup_close_ int ufd = open_or_create_dir_at(w->layout->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return (void) log_warning_errno(
                        ufd, "Cannot stage upgrade '%s': '%s' cannot be opened: %m", u->name, upath);
        ObtainSpec spec = {
                .upgrades_fd = ufd,
                .upgrades_path = upath,
                .folder = folder,
                .daemon_name = w->layout->daemon_name,
                .plan = p,
                .config = w->config,
        };
        w->obtain_name = strdup(u->name);
        if (!w->obtain_name)
                return (void) log_oom();
        int r = obtain_start(w->event, &spec, on_stage_done, NULL, w, &w->obtain);
        if (r < 0) {
                w->obtain_name = mfree(w->obtain_name);
                log_warning_errno(r, "Cannot start staging the binary of upgrade '%s': %m", u->name);
                return;
        }
        log_info("Staging the binary of upgrade '%s' (height %" PRIi64 ") from its plan's info.", u->name,
                u->height);
        u->binary = BINARY_STAGING;
}

void chain_watch_set_ready(ChainWatch *w, const char *name, int64_t height, ReadyState ready, const char *reason) {
        if (!w)
                return;
        ScheduledUpgrade *u = chain_state_find(&w->state, SCHEDULED_SOURCE_GOVERNANCE, name);
        if (!u || u->height != height)
                return;
        if (ready == READY_ABSENT)
                ready = READY_UNKNOWN; /* the binary state says it */
        if (ready != READY_NO)
                reason = NULL;
        if (u->ready == ready && streq_ptr(u->ready_reason, reason))
                return;
        _cleanup_free_ char *r = reason ? strdup(reason) : NULL;
        if (reason && !r)
                return (void) log_oom();
        u->ready = ready;
        free(u->ready_reason);
        u->ready_reason = TAKE_PTR(r);
        /* The "not ready" event (ready-watch.c) stands for the warning due now: those to come are the ones
         * as the height nears. */
        ChainWarning which;
        unsigned given;
        if (ready == READY_NO && chain_warning_due(u->warnings, time_left(w, u), &which, &given) >= 0)
                u->warnings = given;
        save(w, true);
        changed(w);
}

void chain_watch_set_upgrading(ChainWatch *w, bool on) {
        if (!w)
                return;
        w->upgrading = on;
        if (!on)
                return;
        w->stage_timer = sd_event_source_disable_unref(w->stage_timer);
        if (w->obtain) {
                log_info("Stopping the staging download of upgrade '%s': an upgrade is being carried out.",
                        w->obtain_name);
                w->obtain = obtain_free(w->obtain);
                w->obtain_name = mfree(w->obtain_name);
                for (size_t i = 0; i < w->state.n_upgrades; i++)
                        if (w->state.upgrades[i].binary == BINARY_STAGING)
                                w->state.upgrades[i].binary = BINARY_MISSING;
        }
}

/* ---- polling ---------------------------------------------------------------------------------------------
 */

static void poll_end(ChainWatch *w) {
        w->fetch = fetch_free(w->fetch);
        w->probe_io = sd_event_source_disable_unref(w->probe_io);
        w->probe_timer = sd_event_source_disable_unref(w->probe_timer);
        w->probe_fd = safe_close(w->probe_fd);
        w->body = mfree(w->body);
        w->body_size = 0;
        w->step = POLL_IDLE;
        poll_schedule(w);
}

static void became_unreachable(ChainWatch *w, const char *why) {
        if (w->reach != REACH_NO) {
                if (w->reach == REACH_UNKNOWN)
                        log_info("The node's RPC at '%s' is not reachable yet (%s); watching the chain once "
                                 "it is.",
                                w->rpc.display, why);
                else
                        log_notice("The node's RPC at '%s' stopped answering (%s); retrying quietly.",
                                w->rpc.display, why);
                w->reach = REACH_NO;
                w->state.reachable = false;
                w->state.reachable_since = now(CLOCK_REALTIME);
                save(w, false);
        }
        poll_end(w);
}

static void became_reachable(ChainWatch *w) {
        if (w->reach == REACH_YES)
                return;
        log_info("Watching the chain through the node's RPC at '%s' (height %" PRIi64 "%s).", w->rpc.display,
                w->status.height, w->status.catching_up ? ", catching up" : "");
        w->reach = REACH_YES;
        w->state.reachable = true;
        w->state.reachable_since = now(CLOCK_REALTIME);
}

static int on_data(Fetch *f, const void *p, size_t n, void *userdata) {
        ChainWatch *w = userdata;
        char *b = realloc(w->body, w->body_size + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + w->body_size, p, n);
        w->body = b;
        w->body_size += n;
        b[w->body_size] = 0;
        return 0;
}

static int on_restart(Fetch *f, void *userdata) {
        ChainWatch *w = userdata;
        w->body_size = 0;
        return 0;
}

static void on_fetch_done(Fetch *f, int error, const char *message, void *userdata);

static void request(ChainWatch *w, PollStep step, const char *path) {
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s%s", w->rpc.url, path) < 0)
                return (void) (log_oom(), poll_end(w));
        w->step = step;
        w->body = mfree(w->body);
        w->body_size = 0;
        FetchOptions o = {
                .url = url,
                .what = "node's RPC answer",
                .retries = 0, /* the next poll is the retry */
                .max_size = RPC_MAX_BODY,
                .connect_timeout = RPC_CONNECT_TIMEOUT,
                .stall_timeout = RPC_TOTAL_TIMEOUT,
                .total_timeout = RPC_TOTAL_TIMEOUT,
                .unix_socket = w->rpc.unix_path,
                .no_redirects = true,
                .no_proxy = true,
        };
        static const FetchCallbacks cb = {
                .on_data = on_data, .on_restart = on_restart, .on_done = on_fetch_done};
        int r = fetch_start(w->event, &o, &cb, w, &w->fetch);
        if (r == -ELIBACC) {
                /* libcurl is not installed: the watcher cannot work; said once, and the polls go on (a later
                 * installation of the package is picked up). */
                return became_unreachable(w, "libcurl cannot be loaded: install libcurl4");
        }
        if (r < 0)
                return became_unreachable(w, strerror(-r));
}

static void request_status(ChainWatch *w) {
        request(w, POLL_STATUS, "/status");
}

static void request_plan(ChainWatch *w) {
        request(w, POLL_PLAN, "/abci_query?path=%22/cosmos.upgrade.v1beta1.Query/CurrentPlan%22");
}

static void after_status(ChainWatch *w) {
        block_pace_add(&w->pace, w->status.height, w->status.block_time);
        usec_t bt;
        if (block_pace_block_time(&w->pace, &bt) >= 0)
                w->state.block_time = bt;
        w->state.height = w->status.height;
        w->state.height_time = w->status.block_time;
        w->state.catching_up = w->status.catching_up;
        if (w->state.block_time == 0 && w->status.height > 1) {
                char q[96];
                int64_t lo = w->status.height > PACE_BLOCKS ? w->status.height - PACE_BLOCKS + 1 : 1;
                snprintf(q, sizeof(q), "/blockchain?minHeight=%" PRIi64 "&maxHeight=%" PRIi64, lo,
                        w->status.height);
                return request(w, POLL_BLOCKCHAIN, q);
        }
        request_plan(w);
}

static void on_fetch_done(Fetch *f, int error, const char *message, void *userdata) {
        ChainWatch *w = userdata;
        const char *reason = NULL;
        int r;

        w->fetch = fetch_free(w->fetch);
        if (error < 0) {
                log_debug("RPC request failed: %s", strna(message));
                return became_unreachable(w,
                        error == -EFBIG ? "its answer is larger than 1 MiB"
                                : error == -EPROTO && message && strstr(message, "redirect")
                                ? "it answers with a redirect"
                                : strerror(-error));
        }

        switch (w->step) {
        case POLL_STATUS:
                r = rpc_status_parse(w->body ?: "", w->body_size, &w->status, &reason);
                if (r < 0)
                        return became_unreachable(w, reason ? reason : strerror(-r));
                became_reachable(w);
                return after_status(w);
        case POLL_BLOCKCHAIN: {
                BlockSample b[PACE_BLOCKS];
                r = rpc_blockchain_parse(w->body ?: "", w->body_size, b, ELEMENTSOF(b), &reason);
                if (r < 0)
                        log_debug("The node's block list cannot be read (%s); the pace comes from the next "
                                  "polls.",
                                strna(reason));
                for (int i = 0; i < r; i++)
                        block_pace_add(&w->pace, b[i].height, b[i].time);
                usec_t bt;
                if (block_pace_block_time(&w->pace, &bt) >= 0)
                        w->state.block_time = bt;
                return request_plan(w);
        }
        case POLL_PLAN: {
                _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
                r = rpc_current_plan_parse(w->body ?: "", w->body_size, &p, &reason);
                if (r == -ENOMEM)
                        return (void) (log_oom(), poll_end(w));
                if (r < 0)
                        return became_unreachable(w, reason);
                save(w, false);
                handle_plan(w, p);
                return poll_end(w);
        }
        default: return poll_end(w);
        }
}

/* Until libcurl is loaded: does anything listen? A plain non-blocking connect(), closed at once. */
static void probe_done(ChainWatch *w, int error) {
        w->probe_io = sd_event_source_disable_unref(w->probe_io);
        w->probe_timer = sd_event_source_disable_unref(w->probe_timer);
        w->probe_fd = safe_close(w->probe_fd);
        if (error < 0)
                return became_unreachable(w, strerror(-error));
        request_status(w);
}

static int on_probe_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ChainWatch *w = userdata;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        probe_done(w, -err);
        return 0;
}

static int on_probe_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        probe_done(userdata, -ETIMEDOUT);
        return 0;
}

static void probe(ChainWatch *w) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_un un;
        } sa = {};
        socklen_t len;
        int family;

        if (w->rpc.unix_path) {
                family = AF_UNIX;
                sa.un.sun_family = AF_UNIX;
                strncpy(sa.un.sun_path, w->rpc.unix_path, sizeof(sa.un.sun_path) - 1);
                len = sizeof(sa.un);
        } else if (w->rpc.family == AF_INET) {
                family = AF_INET;
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons(w->rpc.port);
                memcpy(&sa.in.sin_addr, w->rpc.address, 4);
                len = sizeof(sa.in);
        } else if (w->rpc.family == AF_INET6) {
                family = AF_INET6;
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons(w->rpc.port);
                memcpy(&sa.in6.sin6_addr, w->rpc.address, 16);
                len = sizeof(sa.in6);
        } else
                return request_status(w); /* a host name: curl resolves it */

        w->step = POLL_PROBE;
        w->probe_fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->probe_fd < 0)
                return probe_done(w, -errno);
        if (connect(w->probe_fd, &sa.sa, len) >= 0)
                return probe_done(w, 0);
        if (errno != EINPROGRESS)
                return probe_done(w, -errno);
        int r = sd_event_add_io(w->event, &w->probe_io, w->probe_fd, EPOLLOUT, on_probe_io, w);
        if (r >= 0)
                r = sd_event_add_time_relative(w->event, &w->probe_timer, CLOCK_MONOTONIC,
                        RPC_CONNECT_TIMEOUT, USEC_PER_SEC, on_probe_timer, w);
        if (r < 0)
                return probe_done(w, r);
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ChainWatch *w = userdata;
        if (w->step != POLL_IDLE)
                return 0;
        if (!dlopen_library_is_loaded(DLOPEN_LIBCURL))
                probe(w);
        else
                request_status(w);
        return 0;
}

static void poll_schedule(ChainWatch *w) {
        usec_t left = USEC_INFINITY;
        const ScheduledUpgrade *next = chain_state_next(&w->state);
        if (next && w->reach == REACH_YES)
                left = time_left(w, next);
        usec_t d = chain_poll_delay(w->config->chain_poll_interval, left, w->state.block_time);
        /* Wake-ups: the polls may drift by a tenth of their interval (up to 5s), to share the system's. */
        usec_t accuracy = MIN(d / 10, 5 * USEC_PER_SEC);
        int r = sd_event_source_set_time_relative(w->poll_timer, d);
        if (r >= 0)
                r = sd_event_source_set_time_accuracy(w->poll_timer, accuracy ?: 1);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->poll_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(
                        r, "Failed to schedule the next poll of the node's RPC; chain watching stops: %m");
}

/* ---- life ------------------------------------------------------------------------------------------------
 */

const ChainState *chain_watch_state(const ChainWatch *w) {
        return &w->state;
}

ChainWatch *chain_watch_free(ChainWatch *w) {
        if (!w)
                return NULL;
        fetch_free(w->fetch);
        obtain_free(w->obtain);
        free(w->obtain_name);
        sd_event_source_disable_unref(w->poll_timer);
        sd_event_source_disable_unref(w->probe_io);
        sd_event_source_disable_unref(w->probe_timer);
        sd_event_source_disable_unref(w->stage_timer);
        safe_close(w->probe_fd);
        free(w->body);
        node_rpc_done(&w->rpc);
        chain_state_done(&w->state);
        sd_event_unref(w->event);
        return mfree(w);
}

int chain_watch_new(sd_event *e, const Config *c, Layout *l, const NodeRpc *rpc, ChainWatchChanged cb,
        void *userdata, ChainWatch **ret) {
        _cleanup_(chain_watch_freep) ChainWatch *w = new0(ChainWatch, 1);
        if (!w)
                return log_oom();
        w->event = sd_event_ref(e);
        w->config = c;
        w->layout = l;
        w->changed = cb;
        w->userdata = userdata;
        w->probe_fd = -EBADF;
        if (node_rpc_copy(rpc, &w->rpc) < 0)
                return log_oom();

        /* What an earlier run learnt: plans already announced are not announced again, warnings already
         * given not given again. Another RPC's or a broken file is started afresh. */
        const char *reason = NULL;
        int r = chain_state_load_at(l->root_fd, &w->state, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -EBADMSG)
                log_notice(
                        "'%s/" CHAIN_STATE_FILE "' cannot be read (%s); starting afresh.", l->root, reason);
        else if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Cannot read '%s/" CHAIN_STATE_FILE "', starting afresh: %m", l->root);
        if (r < 0)
                w->state = (ChainState){};
        free(w->state.rpc);
        w->state.rpc = strdup(rpc->display);
        if (!w->state.rpc)
                return log_oom();
        w->state.reachable = false;
        for (size_t i = 0; i < w->state.n_upgrades; i++)
                if (w->state.upgrades[i].binary == BINARY_STAGING)
                        w->state.upgrades[i].binary = BINARY_MISSING; /* the earlier run was cut short */

        r = sd_event_add_time_relative(e, &w->poll_timer, CLOCK_MONOTONIC, 0, 1, on_poll_timer, w);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the chain watcher's timer: %m");
        (void) sd_event_source_set_description(w->poll_timer, "chain-watch-poll");
        (void) sd_event_source_set_enabled(w->poll_timer, SD_EVENT_ONESHOT);
        *ret = TAKE_PTR(w);
        return 0;
}
