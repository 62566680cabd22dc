/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>

#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "plan-file.h"
#include "plan-watch.h"


struct PlanWatch {
        sd_event *event;
        char *home;
        char *data;
        usec_t poll_interval;
        sd_event_source *home_watch;  /* waits for data/ to appear */
        sd_event_source *data_watch;
        sd_event_source *poll;        /* fallback without inotify */
        char *last;                   /* the last content seen, to report each version once */
        PlanWatchCallback cb;
        void *userdata;
};

static int arm(PlanWatch *w);

PlanWatch *plan_watch_free(PlanWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->home_watch);
        sd_event_source_disable_unref(w->data_watch);
        sd_event_source_disable_unref(w->poll);
        sd_event_unref(w->event);
        free(w->home);
        free(w->data);
        free(w->last);
        return mfree(w);
}

/* Reads the file and reports a plan each time its content changes. */
static void check(PlanWatch *w) {
        _cleanup_close_ int dfd = open(w->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        _cleanup_free_ char *raw = NULL;
        const char *reason = NULL;
        int r = plan_file_read_at(dfd, &p, &reason, &raw);
        /* Missing, unreadable, or caught between truncate and write: the write's event follows. */
        if (!raw || raw[0] == 0 || streq_ptr(w->last, raw))
                return;
        free_and_replace(w->last, raw);
        if (r == -EBADMSG) {
                log_warning("'%s/" PLAN_FILE "' changed but is not a valid plan (%s), ignoring it.", w->data,
                        strna(reason));
                return;
        }
        if (r > 0)
                w->cb(w, p, w->userdata);
}

static int on_data_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        PlanWatch *w = userdata;
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                /* data/ was replaced (a snapshot restore): watch for the new one. */
                w->data_watch = sd_event_source_disable_unref(w->data_watch);
                (void) arm(w);
                return 0;
        }
        if (ev->len > 0 && streq(ev->name, PLAN_FILE) && (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
                check(w);
        return 0;
}

static int on_home_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        PlanWatch *w = userdata;
        if (ev->len > 0 && streq(ev->name, "data") && !w->data_watch) {
                (void) arm(w);
                check(w);
        }
        return 0;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        PlanWatch *w = userdata;
        check(w);
        (void) sd_event_source_set_time_relative(s, w->poll_interval);
        return 0;
}

static int start_polling(PlanWatch *w, int error) {
        if (w->poll)
                return 0;
        char buf[FORMAT_TIMESPAN_MAX];
        log_notice_errno(error, "Cannot watch '%s' with inotify (%m), polling it every %s instead.", w->data,
                format_timespan(buf, sizeof(buf), w->poll_interval));
        int r = sd_event_add_time_relative(w->event, &w->poll, CLOCK_MONOTONIC, w->poll_interval, 0, on_poll, w);
        if (r < 0)
                return log_error_errno(r, "Failed to set up polling of '%s': %m", w->data);
        return sd_event_source_set_enabled(w->poll, SD_EVENT_ON);
}

static int arm(PlanWatch *w) {
        int r = sd_event_add_inotify(w->event, &w->data_watch, w->data,
                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR, on_data_event, w);
        if (r >= 0) {
                w->home_watch = sd_event_source_disable_unref(w->home_watch);
                return 0;
        }
        if (r != -ENOENT)
                return start_polling(w, r);
        if (w->home_watch)
                return 0;
        r = sd_event_add_inotify(w->event, &w->home_watch, w->home, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR,
                on_home_event, w);
        if (r < 0)
                return start_polling(w, r);
        /* data/ may have appeared between the two calls. */
        r = sd_event_add_inotify(w->event, &w->data_watch, w->data,
                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR, on_data_event, w);
        if (r >= 0)
                w->home_watch = sd_event_source_disable_unref(w->home_watch);
        return 0;
}

int plan_watch_new(sd_event *e, const char *home, usec_t poll_interval, PlanWatchCallback cb, void *userdata,
        PlanWatch **ret) {
        _cleanup_(plan_watch_freep) PlanWatch *w = new0(PlanWatch, 1);
        if (!w)
                return log_oom();
        w->event = sd_event_ref(e);
        w->poll_interval = poll_interval;
        w->cb = cb;
        w->userdata = userdata;
        w->home = strdup(home);
        if (!w->home || asprintf(&w->data, "%s/data", home) < 0)
                return log_oom();

        /* What is there now is the start-up check's business, not a change. */
        _cleanup_close_ int dfd = open(w->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) plan_file_read_at(dfd, NULL, NULL, &w->last);

        int r = arm(w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}
