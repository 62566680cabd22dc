/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "metrics-file.h"
#include "string-util.h"
#include "unit-spec.h"

/* Far more than a file of ours ever is; a bigger one is not ours to read. */
#define METRICS_FILE_MAX (1U << 20)

struct MetricsFile {
        sd_event *event;
        char *dir;
        char *file_name;        /* oraivisor-<instance>.prom */
        char *path;
        char *instance;
        char *home;
        MetricsHistory history;
        MetricsRefresh refresh;
        void *userdata;
        sd_event_source *timer;
        bool failing;           /* the last write failed and was logged: say nothing until one works */
};

const char *metrics_file_dir(const char *dir, bool off) {
        struct stat st;
        if (off)
                return NULL;
        if (dir)
                return dir;
        if (stat(CONFIG_DEFAULT_METRICS_DIR, &st) < 0 || !S_ISDIR(st.st_mode))
                return NULL;
        return CONFIG_DEFAULT_METRICS_DIR;
}

int metrics_file_instance(const char *own_unit, const char *daemon_name, char **ret) {
        assert(daemon_name);
        assert(ret);
        int r = unit_name_instance(own_unit, ret);
        if (r != -ENXIO)
                return r;
        return unit_name_escape(daemon_name, ret);
}

MetricsFile *metrics_file_free(MetricsFile *f) {
        if (!f)
                return NULL;
        sd_event_source_disable_unref(f->timer);
        sd_event_unref(f->event);
        free(f->dir);
        free(f->file_name);
        free(f->path);
        free(f->instance);
        free(f->home);
        return mfree(f);
}

MetricsHistory *metrics_file_history(MetricsFile *f) {
        return f ? &f->history : NULL;
}

const char *metrics_file_path(const MetricsFile *f) {
        return f->path;
}

void metrics_file_write(MetricsFile *f) {
        if (!f)
                return;

        Metrics m = METRICS_INIT;
        f->refresh(&m, f->userdata);
        m.name = f->instance;
        m.home = f->home;
        m.history = f->history;

        _cleanup_free_ char *text = NULL;
        int r = metrics_format(&m, &text);
        if (r < 0) {
                log_oom();
                return;
        }
        _cleanup_close_ int fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = fd < 0 ? -errno : write_file_replace_at(fd, f->file_name, text, strlen(text), 0644);
        if (r < 0) {
                if (!f->failing)
                        log_warning_errno(r,
                                "Failed to write the metrics file '%s': %m. Make '%s' writable for oraivisor (free space, a read-write mount, or under oraivisor@.service a ReadWritePaths= drop-in), or set ORAIVISOR_METRICS_DIR=off; the node is not affected, retrying every minute.",
                                f->path, f->dir);
                f->failing = true;
                return;
        }
        if (f->failing)
                log_info("The metrics file '%s' is written again.", f->path);
        f->failing = false;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        MetricsFile *f = userdata;
        metrics_file_write(f);
        (void) sd_event_source_set_time_relative(s, METRICS_FILE_INTERVAL);
        return 0;
}

/* Reads the history back from the previous file. 0: carried over (or nothing to carry, or nothing
 * readable: the counters then start from 0); 1: the file is another node's. */
static int load_previous(MetricsFile *f) {
        _cleanup_close_ int fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                /* The first write fails the same way and says so. */
                return log_debug_errno(errno, "Failed to open the metrics folder '%s': %m", f->dir), 0;

        _cleanup_free_ char *buf = NULL, *home = NULL, *ours = NULL;
        size_t len;
        int r = read_file_at(fd, f->file_name, METRICS_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning_errno(r, "Failed to read the previous metrics file '%s', counting from 0: %m", f->path);
                return 0;
        }
        const char *reason = NULL;
        MetricsHistory h;
        r = metrics_parse(buf, len, &h, &home, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                /* A power loss right after a write may leave it empty: counters reset, which Prometheus'
                 * rate() and increase() take in their stride. */
                log_warning("The previous metrics file '%s' is damaged (%s): counting from 0.", f->path, reason);
                return 0;
        }
        if (metrics_label_sanitize(f->home, &ours) < 0)
                return log_oom();
        if (home && !streq(home, ours)) {
                _cleanup_free_ char *shown = string_escape_for_log(home, strlen(home), 200);
                log_warning("The metrics file '%s' belongs to the node in DAEMON_HOME='%s': two nodes on this host have the instance name '%s'. Run each as its own oraivisor@<name>.service, give one of them ORAIVISOR_METRICS_DIR=off, or remove the file if that node is gone; not writing metrics.",
                        f->path, strna(shown), f->instance);
                return 1;
        }
        f->history = h;
        log_debug("Metrics history read back from '%s'.", f->path);
        return 0;
}

int metrics_file_new(sd_event *e, const char *dir, const char *instance, const char *home, MetricsRefresh refresh,
        void *userdata, MetricsFile **ret) {
        assert(e);
        assert(dir);
        assert(instance);
        assert(home);
        assert(refresh);
        assert(ret);

        _cleanup_(metrics_file_freep) MetricsFile *f = new0(MetricsFile, 1);
        if (!f)
                return log_oom();
        f->event = sd_event_ref(e);
        f->refresh = refresh;
        f->userdata = userdata;
        f->dir = strdup(dir);
        f->instance = strdup(instance);
        f->home = strdup(home);
        if (!f->dir || !f->instance || !f->home || asprintf(&f->file_name, "oraivisor-%s.prom", instance) < 0 ||
            asprintf(&f->path, "%s/%s", streq(dir, "/") ? "" : dir, f->file_name) < 0)
                return log_oom();

        int r = load_previous(f);
        if (r < 0)
                return r;
        if (r > 0) {
                *ret = NULL;
                return 0;
        }
        r = sd_event_add_time_relative(e, &f->timer, CLOCK_MONOTONIC, METRICS_FILE_INTERVAL, USEC_PER_SEC, on_timer, f);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the metrics timer: %m");
        (void) sd_event_source_set_enabled(f->timer, SD_EVENT_ON);
        log_debug("Metrics go to '%s'.", f->path);
        *ret = TAKE_PTR(f);
        return 0;
}
