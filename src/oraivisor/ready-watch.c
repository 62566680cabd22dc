/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain-schedule.h"
#include "events.h"
#include "height-schedule-file.h"
#include "log.h"
#include "readiness.h"
#include "ready-watch.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

/* The last check before the height is run once the height is this near (by the chain watcher's estimate). */
#define READY_NEAR_USEC USEC_PER_HOUR

struct ReadyWatch {
        sd_event *event;
        const Config *config;
        Layout *layout;
        const Credentials *credentials;
        char *node_unit; /* the unit launcher's node unit: each check runs in a unit like it; NULL: children */
        const CurrentVersion *current;
        ChainWatch *chain; /* borrowed, NULL: off */
        ReadyWatchChanged changed;
        void *userdata;

        ReadyPlan *plans;
        size_t n_plans;

        Readiness *readiness; /* the check under way, of the plan named by checking_* */
        ScheduledSource checking_source;
        char *checking_name;
        int64_t checking_height;
        BinaryId checking_id;
        ReadyTrigger checking_trigger;

        sd_event_source *defer; /* a look asked for */
        sd_event_source *timer; /* the period */
        sd_event_source *root_watch; /* $DAEMON_HOME/oraivisor: the schedule file, upgrades/ itself */
        sd_event_source *upgrades_watch; /* upgrades/: folders published, renamed, removed */
        bool upgrading;
};

static void look(ReadyWatch *rw);

static void plan_done(ReadyPlan *p) {
        free(p->name);
        ready_track_done(&p->track);
        *p = (ReadyPlan){};
}

static bool is_checking(const ReadyWatch *rw, const ReadyPlan *p) {
        return rw->readiness && rw->checking_source == p->source && rw->checking_height == p->height &&
                streq_ptr(rw->checking_name, p->name);
}

static void checking_clear(ReadyWatch *rw) {
        rw->readiness = readiness_free(rw->readiness);
        rw->checking_name = mfree(rw->checking_name);
}

static void changed(ReadyWatch *rw) {
        if (rw->changed)
                rw->changed(rw, rw->userdata);
}

/* The folder of an upgrade's version, NULL when the name cannot be one (said by whoever scheduled it). */
static char *folder_of(ReadyWatch *rw, const char *name) {
        _cleanup_free_ char *folder = NULL;
        if (upgrade_name_to_folder(name, &folder) < 0)
                return NULL;
        folder = mfree(folder);
        if (layout_find_upgrade(rw->layout, name, &folder) <= 0)
                return NULL;
        return TAKE_PTR(folder);
}

static usec_t stat_usec(const struct timespec *t) {
        return (usec_t) t->tv_sec * USEC_PER_SEC + (usec_t) t->tv_nsec / NSEC_PER_USEC;
}

/* The binary's identity, when it is installed by the one rule (1); 0 when it is not. */
static int binary_id_get(ReadyWatch *rw, const char *folder, BinaryId *ret) {
        _cleanup_free_ char *rel = NULL, *bin = NULL, *lib = NULL;
        struct stat st, lst;
        if (!folder)
                return 0;
        if (asprintf(&rel, "upgrades/%s", folder) < 0 ||
                asprintf(&bin, "%s/bin/%s", rel, rw->layout->daemon_name) < 0 ||
                asprintf(&lib, "%s/lib", rel) < 0)
                return -ENOMEM;
        if (version_binary_check_at(rw->layout->root_fd, rel, rw->layout->daemon_name) < 0 ||
                fstatat(rw->layout->root_fd, bin, &st, 0) < 0)
                return 0;
        *ret = (BinaryId){
                .dev = st.st_dev,
                .ino = st.st_ino,
                .size = st.st_size,
                .mode = st.st_mode,
                .mtime = stat_usec(&st.st_mtim),
                .ctime = stat_usec(&st.st_ctim),
        };
        if (fstatat(rw->layout->root_fd, lib, &lst, 0) >= 0 && S_ISDIR(lst.st_mode)) {
                ret->lib_dev = lst.st_dev;
                ret->lib_ino = lst.st_ino;
                ret->lib_mtime = stat_usec(&lst.st_mtim);
                ret->lib_ctime = stat_usec(&lst.st_ctim);
        }
        return 1;
}

static void to_chain(ReadyWatch *rw, const ReadyPlan *p) {
        if (p->source == SCHEDULED_SOURCE_GOVERNANCE)
                chain_watch_set_ready(rw->chain, p->name, p->height, p->track.state, p->track.reason);
}

/* ---- the result ------------------------------------------------------------------------------------------
 */

static const char *source_text(ScheduledSource s) {
        return s == SCHEDULED_SOURCE_GOVERNANCE ? "on chain" : "without governance";
}

static void report(
        ReadyWatch *rw, const ReadyPlan *p, ReadyState before, ReadyEvent ev, const char *output) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        _cleanup_free_ char *folder = folder_of(rw, p->name), *binary = NULL, *shown = NULL,
                            *field_reason = NULL, *field_source = NULL, *first = NULL;
        if (upgrade_plan_new(p->name, p->height, NULL, NULL, &plan) < 0 ||
                asprintf(&binary, "%s/upgrades/%s/bin/%s", rw->layout->root, strna(folder),
                        rw->layout->daemon_name) < 0 ||
                !(shown = string_escape_for_log(p->name, strlen(p->name), 200)) ||
                asprintf(&field_source, "ORAIVISOR_UPGRADE_SOURCE=%s",
                        scheduled_source_to_string(p->source)) < 0)
                return (void) log_oom();
        if (output) {
                const char *s = output + strspn(output, "\n");
                first = string_escape_for_log(s, strcspn(s, "\n"), 120);
        }

        switch (ev) {
        case READY_EVENT_NOT_READY:
                if (asprintf(&field_reason, "ORAIVISOR_READINESS_REASON=%s", strna(p->track.reason)) < 0)
                        return (void) log_oom();
                log_event(EVENT_SCHEDULED_NOT_READY, LOG_WARNING, 0, rw->config->name, plan,
                        STRV_MAKE(field_source, field_reason),
                        "Upgrade '%s' scheduled %s at height %" PRIi64
                        " is not ready: its binary '%s' will not start on this host: it %s. "
                        "Fix it before the height, or the upgrade stops there with the node down: install a "
                        "working build "
                        "(oraivisorctl add-upgrade '%s' PATH --force), then check it (oraivisorctl check "
                        "'%s').",
                        strna(shown), source_text(p->source), p->height, binary, strna(p->track.reason),
                        strna(shown), strna(shown));
                return;
        case READY_EVENT_READY_AGAIN:
                log_event(EVENT_SCHEDULED_READY, LOG_NOTICE, 0, rw->config->name, plan,
                        STRV_MAKE(field_source),
                        "Upgrade '%s' scheduled %s at height %" PRIi64
                        " is ready again: its binary '%s' starts on this host%s%s%s.",
                        strna(shown), source_text(p->source), p->height, binary,
                        !isempty(first) ? " (version: " : "", strempty(first), !isempty(first) ? ")" : "");
                return;
        default:
                if (p->track.state == READY_YES && before != READY_YES)
                        log_info("The binary of upgrade '%s' (height %" PRIi64
                                 ") is ready: it starts on this host%s%s%s.",
                                strna(shown), p->height, !isempty(first) ? " (version: " : "",
                                strempty(first), !isempty(first) ? ")" : "");
                else
                        log_debug("Upgrade '%s' (height %" PRIi64 "): checked again, %s.", strna(shown),
                                p->height, ready_state_to_string(p->track.state));
        }
}

static void start_next(ReadyWatch *rw);

static void on_checked(Readiness *r, const ReadinessResult *res, void *userdata) {
        ReadyWatch *rw = userdata;
        ReadyPlan *p = NULL;

        for (size_t i = 0; i < rw->n_plans && !p; i++)
                if (is_checking(rw, &rw->plans[i]))
                        p = &rw->plans[i];
        if (p) {
                ReadyState before = p->track.state;
                ReadyEvent ev;
                ready_track_check_started(&p->track, rw->checking_trigger);
                if (ready_track_result(&p->track, &rw->checking_id, res->ready, res->reason, &ev) < 0)
                        log_oom();
                else {
                        report(rw, p, before, ev, res->version_output);
                        to_chain(rw, p);
                }
        }
        checking_clear(rw); /* res is gone from here on */
        changed(rw);
        start_next(rw);
}

static void start_next(ReadyWatch *rw) {
        if (rw->readiness || rw->upgrading)
                return;
        for (size_t i = 0; i < rw->n_plans; i++) {
                ReadyPlan *p = &rw->plans[i];
                if (!p->pending)
                        continue;
                p->pending = false;
                _cleanup_free_ char *folder = folder_of(rw, p->name), *dir = NULL;
                BinaryId id;
                int k = binary_id_get(rw, folder, &id);
                if (k <= 0) {
                        if (k < 0)
                                log_oom();
                        continue; /* gone meanwhile: the next look says so */
                }
                if (asprintf(&dir, "%s/upgrades/%s", rw->layout->root, folder) < 0 ||
                        !(rw->checking_name = strdup(p->name)))
                        return (void) log_oom();
                ReadinessSpec spec = {
                        .version_dir = dir,
                        .daemon_name = rw->layout->daemon_name,
                        .credentials = rw->credentials,
                        .env = environ,
                        .working_directory = rw->layout->home,
                        .node_unit = rw->node_unit,
                        .config = rw->config,
                };
                k = readiness_start(rw->event, &spec, on_checked, rw, &rw->readiness);
                if (k < 0) {
                        rw->checking_name = mfree(rw->checking_name);
                        /* Not recorded: the next look (a change, or the period) asks again. */
                        log_warning_errno(k,
                                "Cannot check that the binary of upgrade '%s' starts on this host, trying "
                                "again later: %m",
                                p->name);
                        continue;
                }
                rw->checking_source = p->source;
                rw->checking_height = p->height;
                rw->checking_id = id;
                rw->checking_trigger = p->trigger;
                log_debug("Checking that the binary of upgrade '%s' (height %" PRIi64
                          ") starts on this host%s.",
                        p->name, p->height,
                        p->trigger == READY_TRIGGER_NEAR ? " (its height is within the hour)" : "");
                return;
        }
}

/* ---- the look ------------------------------------------------------------------------------------------
 */

static ReadyPlan *plan_get(ReadyWatch *rw, ScheduledSource source, const char *name, int64_t height) {
        for (size_t i = 0; i < rw->n_plans; i++) {
                ReadyPlan *p = &rw->plans[i];
                if (p->source == source && p->height == height && streq(p->name, name))
                        return p;
        }
        ReadyPlan *a = reallocarray(rw->plans, rw->n_plans + 1, sizeof(ReadyPlan));
        if (!a)
                return NULL;
        rw->plans = a;
        ReadyPlan *p = &a[rw->n_plans];
        *p = (ReadyPlan){.source = source, .height = height, .name = strdup(name)};
        if (!p->name)
                return NULL;
        rw->n_plans++;
        return p;
}

/* One known plan, as it is now. Returns true when what is shown of it changed. */
static bool known(ReadyWatch *rw, ScheduledSource source, const char *name, int64_t height,
        int64_t chain_height, usec_t block_time) {
        if (chain_height > 0 && height <= chain_height)
                return false; /* passed: carried out or reported by others */
        _cleanup_free_ char *folder = folder_of(rw, name);
        if (folder && rw->current && streq_ptr(folder, rw->current->folder))
                return false; /* running it already */
        ReadyPlan *p = plan_get(rw, source, name, height);
        if (!p)
                return (void) log_oom(), false;
        p->seen = true;
        if (is_checking(rw, p))
                return false;
        BinaryId id;
        int k = binary_id_get(rw, folder, &id);
        if (k < 0)
                return (void) log_oom(), false;
        ReadyTrigger trigger = chain_height > 0 && block_time > 0 &&
                        chain_estimate_left(height, chain_height, block_time) <= READY_NEAR_USEC
                ? READY_TRIGGER_NEAR
                : READY_TRIGGER_LOOK;
        switch (ready_track_want(&p->track, trigger, k > 0 ? &id : NULL)) {
        case READY_ACTION_CHECK:
                p->pending = true;
                p->trigger = trigger;
                return false;
        case READY_ACTION_ABSENT:
                p->pending = false;
                ready_track_absent(&p->track);
                to_chain(rw, p);
                return true;
        default: p->pending = false; return false;
        }
}

static void look(ReadyWatch *rw) {
        bool moved = false;
        int64_t chain_height = 0;
        usec_t block_time = 0;

        for (size_t i = 0; i < rw->n_plans; i++)
                rw->plans[i].seen = false;

        if (rw->chain) {
                const ChainState *cs = chain_watch_state(rw->chain);
                chain_height = cs->height;
                block_time = cs->block_time;
                for (size_t i = 0; i < cs->n_upgrades; i++)
                        if (cs->upgrades[i].source == SCHEDULED_SOURCE_GOVERNANCE)
                                moved |= known(rw, SCHEDULED_SOURCE_GOVERNANCE, cs->upgrades[i].name,
                                        cs->upgrades[i].height, chain_height, block_time);
        }
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        const char *reason = NULL;
        if (height_schedule_load_at(rw->layout->root_fd, &s, &reason) >=
                0) /* damaged: said by height-plan.c */
                for (size_t i = 0; i < s.n_entries; i++)
                        if (!s.entries[i].halted)
                                moved |= known(rw, SCHEDULED_SOURCE_HEIGHT, s.entries[i].name,
                                        s.entries[i].height, chain_height, block_time);

        /* Plans no longer known: forgotten (a check under way of one is stopped). */
        for (size_t i = 0; i < rw->n_plans;) {
                ReadyPlan *p = &rw->plans[i];
                if (p->seen) {
                        i++;
                        continue;
                }
                if (is_checking(rw, p))
                        checking_clear(rw);
                plan_done(p);
                memmove(p, p + 1, (rw->n_plans - i - 1) * sizeof(ReadyPlan));
                rw->n_plans--;
                moved = true;
        }

        /* The period: only while there is something to follow. */
        if (rw->n_plans > 0) {
                usec_t d = rw->config->chain_poll_interval ?: USEC_PER_MINUTE;
                if (sd_event_source_set_time_relative(rw->timer, d) < 0 ||
                        sd_event_source_set_time_accuracy(rw->timer, MIN(d / 10, 5 * USEC_PER_SEC) ?: 1) <
                                0 ||
                        sd_event_source_set_enabled(rw->timer, SD_EVENT_ONESHOT) < 0)
                        log_debug("Cannot arm the readiness watch's timer; changes are noticed by the watch "
                                  "only.");
        } else
                (void) sd_event_source_set_enabled(rw->timer, SD_EVENT_OFF);

        if (moved)
                changed(rw);
        start_next(rw);
}

static int on_defer(sd_event_source *s, void *userdata) {
        ReadyWatch *rw = userdata;
        rw->defer = sd_event_source_disable_unref(rw->defer);
        look(rw);
        return 0;
}

void ready_watch_look(ReadyWatch *rw) {
        if (!rw || rw->defer)
                return;
        if (sd_event_add_defer(rw->event, &rw->defer, on_defer, rw) < 0) {
                log_debug("Cannot queue a look at the known plans; the period makes it.");
                return;
        }
        (void) sd_event_source_set_description(rw->defer, "ready-watch-look");
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        look(userdata);
        return 0;
}

/* ---- the watches
 * ------------------------------------------------------------------------------------------ */

static int on_upgrades_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        ready_watch_look(userdata);
        return 0;
}

static void watch_upgrades(ReadyWatch *rw) {
        _cleanup_free_ char *path = NULL;
        rw->upgrades_watch = sd_event_source_disable_unref(rw->upgrades_watch);
        if (asprintf(&path, "%s/upgrades", rw->layout->root) < 0)
                return (void) log_oom();
        int r = sd_event_add_inotify(rw->event, &rw->upgrades_watch, path,
                IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_ONLYDIR,
                on_upgrades_event, rw);
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Cannot watch '%s'; new versions there are noticed every %s: %m", path,
                        "ORAIVISOR_CHAIN_POLL_INTERVAL");
}

static int on_root_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        ReadyWatch *rw = userdata;
        if (ev->len == 0)
                return 0;
        if (streq(ev->name, "upgrades")) {
                watch_upgrades(rw); /* created, or replaced */
                ready_watch_look(rw);
        } else if (streq(ev->name, HEIGHT_SCHEDULE_FILE))
                ready_watch_look(rw);
        return 0;
}

/* ---- life ------------------------------------------------------------------------------------------------
 */

void ready_watch_set_chain(ReadyWatch *rw, ChainWatch *cw) {
        if (!rw)
                return;
        rw->chain = cw;
        ready_watch_look(rw);
}

void ready_watch_set_upgrading(ReadyWatch *rw, bool on) {
        if (!rw)
                return;
        rw->upgrading = on;
        if (on) {
                /* The upgrade's own obtain step checks the version it switches to; the others wait. */
                for (size_t i = 0; i < rw->n_plans; i++)
                        if (is_checking(rw, &rw->plans[i])) {
                                rw->plans[i].pending = true;
                                rw->plans[i].trigger = rw->checking_trigger;
                        }
                checking_clear(rw);
                return;
        }
        ready_watch_look(rw);
}

const ReadyPlan *ready_watch_plans(const ReadyWatch *rw, size_t *ret_n) {
        *ret_n = rw ? rw->n_plans : 0;
        return rw ? rw->plans : NULL;
}

int ready_watch_describe_height(const ReadyWatch *rw, char **ret) {
        const ReadyPlan *best = NULL;
        for (size_t i = 0; rw && i < rw->n_plans; i++)
                if (rw->plans[i].source == SCHEDULED_SOURCE_HEIGHT &&
                        (!best || rw->plans[i].height < best->height))
                        best = &rw->plans[i];
        if (!best) {
                *ret = NULL;
                return 0;
        }
        const ReadyTrack *t = &best->track;
        if (asprintf(ret, "upgrade %s at height %" PRIi64 " (no governance), binary %s%s", best->name,
                    best->height,
                    t->state == READY_YES              ? "ready"
                            : t->state == READY_NO     ? "not ready: "
                            : t->state == READY_ABSENT ? "missing"
                                                       : "installed, not checked yet",
                    t->state == READY_NO ? strna(t->reason) : "") < 0)
                return -ENOMEM;
        return 0;
}

ReadyWatch *ready_watch_free(ReadyWatch *rw) {
        if (!rw)
                return NULL;
        checking_clear(rw); /* its child is killed */
        for (size_t i = 0; i < rw->n_plans; i++)
                plan_done(&rw->plans[i]);
        free(rw->plans);
        sd_event_source_disable_unref(rw->defer);
        sd_event_source_disable_unref(rw->timer);
        sd_event_source_disable_unref(rw->root_watch);
        sd_event_source_disable_unref(rw->upgrades_watch);
        sd_event_unref(rw->event);
        free(rw->node_unit);
        return mfree(rw);
}

int ready_watch_set_node_unit(ReadyWatch *rw, const char *unit) {
        assert(rw);
        char *c = NULL;
        if (unit && !(c = strdup(unit)))
                return -ENOMEM;
        free(rw->node_unit);
        rw->node_unit = c;
        return 0;
}

int ready_watch_new(sd_event *e, const Config *c, Layout *l, const Credentials *credentials,
        const CurrentVersion *current, ReadyWatchChanged cb, void *userdata, ReadyWatch **ret) {
        assert(e);
        assert(c);
        assert(l);
        assert(ret);

        _cleanup_(ready_watch_freep) ReadyWatch *rw = new0(ReadyWatch, 1);
        if (!rw)
                return log_oom();
        rw->event = sd_event_ref(e);
        rw->config = c;
        rw->layout = l;
        rw->credentials = credentials;
        rw->current = current;
        rw->changed = cb;
        rw->userdata = userdata;

        int r = sd_event_add_time_relative(e, &rw->timer, CLOCK_MONOTONIC, USEC_PER_MINUTE, 0, on_timer, rw);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the readiness watch's timer: %m");
        (void) sd_event_source_set_enabled(rw->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(rw->timer, "ready-watch-period");
        r = sd_event_add_inotify(e, &rw->root_watch, l->root,
                IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ONLYDIR,
                on_root_event, rw);
        if (r < 0)
                log_warning_errno(r,
                        "Cannot watch '%s'; changes of the scheduled upgrades and their binaries are "
                        "noticed every %s: %m",
                        l->root, "ORAIVISOR_CHAIN_POLL_INTERVAL");
        watch_upgrades(rw);
        ready_watch_look(rw);
        *ret = TAKE_PTR(rw);
        return 0;
}
