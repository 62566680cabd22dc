/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <string.h>

#include "events.h"
#include "fd-util.h"
#include "height-plan.h"
#include "height-schedule-file.h"
#include "lock.h"
#include "log.h"
#include "string-util.h"
#include "upgrade-name.h"

void height_pick_done(HeightPick *p) {
        p->name = mfree(p->name);
        p->halted_name = mfree(p->halted_name);
        p->superseded_name = mfree(p->superseded_name);
        *p = (HeightPick) {};
}

void height_plan_pick(Layout *l, const CurrentVersion *cur, bool report, int64_t seen,
        const ScheduledUpgrade *governance, HeightPick *ret) {
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        const char *reason = NULL;

        *ret = (HeightPick) {};
        int r = height_schedule_load_at(l->root_fd, &s, &reason);
        if (r == -EBADMSG) {
                log_error("'%s/" HEIGHT_SCHEDULE_FILE "' is damaged (%s): no upgrade at a height is acted on; fix or remove it (oraivisorctl add-upgrade --height writes it).",
                        l->root, reason);
                return;
        }
        if (r < 0) {
                log_error_errno(r, "'%s/" HEIGHT_SCHEDULE_FILE "' cannot be read, no upgrade at a height is acted on: %m", l->root);
                return;
        }
        if (s.n_entries == 0)
                return;
        KnownHeight k;
        known_height_read(l->home_fd, l->root_fd, report, &k);
        if (seen > k.height)
                k = (KnownHeight) { .height = seen, .source = KNOWN_HEIGHT_NODE_OUTPUT };
        ret->known = k.height;
        ret->known_source = k.source;
        for (size_t i = 0; i < s.n_entries; i++) {
                const HeightUpgrade *e = &s.entries[i];
                _cleanup_free_ char *folder = NULL, *shown = string_escape_for_log(e->name, strlen(e->name), 200);
                if (cur && cur->folder && layout_find_upgrade(l, e->name, &folder) >= 0 && streq(folder, cur->folder))
                        continue; /* already running it */
                if (e->halted) {
                        if (!ret->halted_name) {
                                ret->halted_name = strdup(e->name);
                                ret->halted_height = ret->halted_name ? e->height : 0;
                        }
                        continue;
                }
                if (ret->known > 0 && e->height <= ret->known) {
                        ret->n_passed++;
                        if (report)
                                log_warning("Upgrade '%s' was scheduled at height %" PRId64 ", which the chain has passed (it is at height %" PRId64 "): it is not acted on; remove it with 'oraivisorctl remove-upgrade %s'. (The height is known from %s; the node runs without --halt-height; schedule the upgrade again above that height.)",
                                        strna(shown), e->height, ret->known, strna(shown), known_height_source_describe(ret->known_source));
                        continue;
                }
                if (governance && governance->height == e->height) {
                        /* Left to the plan: SDK v0.50.10+ would refuse block H before x/upgrade sees it. */
                        if (!ret->superseded_name) {
                                ret->superseded_name = strdup(e->name);
                                ret->superseded_height = ret->superseded_name ? e->height : 0;
                        }
                        continue;
                }
                if (ret->height == 0) {
                        ret->height = e->height;
                        ret->name = strdup(e->name);
                        if (!ret->name) {
                                log_oom();
                                ret->height = 0;
                        }
                }
        }
}

int height_plan_mark_halted(Layout *l, const char *name) {
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        _cleanup_free_ char *holder = NULL;
        const char *reason = NULL;
        _cleanup_close_ int fd = install_lock_acquire(l->root_fd, "oraivisor: the node halted at a scheduled height", 30 * USEC_PER_SEC, &holder);
        if (fd < 0)
                return log_error_errno(fd, "Cannot take the install lock to record the halt in '%s/" HEIGHT_SCHEDULE_FILE "' (held by '%s'): %m",
                        l->root, strna(holder));
        int r = height_schedule_load_at(l->root_fd, &s, &reason);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s/" HEIGHT_SCHEDULE_FILE "': %s", l->root, r == -EBADMSG ? reason : strerror(-r));
        if (height_schedule_mark_halted(&s, name) == 0)
                return 0;
        r = height_schedule_save_at(l->root_fd, &s);
        if (r < 0)
                return log_error_errno(r, "Cannot write '%s/" HEIGHT_SCHEDULE_FILE "': %m", l->root);
        return 0;
}

bool height_plan_still_scheduled(Layout *l, const char *name, int64_t height) {
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        const char *reason = NULL;
        if (!name || height_schedule_load_at(l->root_fd, &s, &reason) < 0)
                return false;
        const HeightUpgrade *e = height_schedule_find(&s, name);
        return e && e->height == height;
}

void height_plan_done(Layout *l, const char *daemon_name, const UpgradePlan *plan, bool by_height) {
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        _cleanup_free_ char *holder = NULL;
        const char *reason = NULL;

        if (plan->height <= 0)
                return;
        /* Cheap check first: most upgrades have nothing scheduled. */
        if (height_schedule_load_at(l->root_fd, &s, &reason) < 0 || s.n_entries == 0)
                return;
        height_schedule_done(&s);

        _cleanup_close_ int fd = install_lock_acquire(l->root_fd, "oraivisor: scheduled upgrade done", 30 * USEC_PER_SEC, &holder);
        if (fd < 0) {
                log_warning("'%s/" HEIGHT_SCHEDULE_FILE "' is not updated (the install lock is held by '%s'): its upgrades at or below height %" PRId64 " are reported as passed at the next start.",
                        l->root, strna(holder), plan->height);
                return;
        }
        if (height_schedule_load_at(l->root_fd, &s, &reason) < 0)
                return;
        bool changed = false;
        for (size_t i = 0; i < s.n_entries;) {
                HeightUpgrade *e = &s.entries[i];
                if (e->height > plan->height) {
                        i++;
                        continue;
                }
                _cleanup_free_ char *shown = string_escape_for_log(e->name, strlen(e->name), 200);
                if (streq(e->name, plan->name) && e->height == plan->height)
                        log_info("Upgrade '%s' scheduled at height %" PRId64 " is done: removed from '%s/" HEIGHT_SCHEDULE_FILE "'.",
                                strna(shown), e->height, l->root);
                else
                        log_event(EVENT_UPGRADE_UNSCHEDULED, LOG_WARNING, 0, daemon_name, plan, NULL,
                                "Upgrade '%s' scheduled at height %" PRId64 " is superseded by upgrade '%s' at height %" PRId64 " (%s): removed from '%s/" HEIGHT_SCHEDULE_FILE "'.",
                                strna(shown), e->height, plan->name, plan->height,
                                by_height ? "scheduled" : "a governance plan, which wins", l->root);
                (void) height_schedule_remove(&s, e->name);
                changed = true;
        }
        if (changed) {
                int r = height_schedule_save_at(l->root_fd, &s);
                if (r < 0)
                        log_warning_errno(r, "Cannot write '%s/" HEIGHT_SCHEDULE_FILE "': %m", l->root);
        }
}
