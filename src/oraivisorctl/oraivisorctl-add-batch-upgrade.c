/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl add-batch-upgrade FILE: cosmovisor's batch file ("name,path,height" a line), each line an
 * add-upgrade NAME PATH --height H. Every line is checked before anything is installed. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "fs-util.h"
#include "layout.h"
#include "log.h"
#include "oraivisorctl-install.h"
#include "string-util.h"

typedef struct Batch {
        HeightBatchLine *lines;
        size_t n;
} Batch;

static void batch_done(Batch *b) {
        height_batch_free(b->lines, b->n);
}

static int run(Ctl *ctl) {
        const char *file = ctl->args[0];
        _cleanup_free_ char *shown_file = ctl_escape(file), *data = NULL, *what = NULL;
        _cleanup_(batch_done) Batch b = {};
        const char *reason = NULL;
        unsigned line = 0;
        size_t size;
        int r;

        if (!shown_file)
                return log_oom(), CTL_EXIT_FAILURE;
        r = read_file_at(AT_FDCWD, file, HEIGHT_SCHEDULE_MAX_SIZE, &data, &size);
        if (r == -EFBIG)
                return ctl_fail(CTL_EXIT_FAILURE, "'%s' is larger than 1 MiB: is it the batch file ('name,path,height' a line)?", shown_file);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot read '%s': %s.", shown_file, strerror(-r));
        r = height_batch_parse(data, size, &b.lines, &b.n, &line, &reason);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0 && line == 0)
                return ctl_fail(CTL_EXIT_USAGE, "'%s' holds no 'name,path,height' line: write one such line per upgrade.",
                        shown_file);
        if (r < 0)
                return ctl_fail(CTL_EXIT_USAGE, "'%s' line %u: %s; nothing was installed: fix the line ('name,path,height') and run again.",
                        shown_file, line, reason);

        if (asprintf(&what, "add-batch-upgrade %s", shown_file) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        _cleanup_(ctl_install_done) CtlInstall i = {};
        r = ctl_install_begin(ctl, what, false, &i);
        if (r != CTL_EXIT_OK)
                return r;
        _cleanup_(height_schedule_done) HeightSchedule sched = {};
        r = ctl_schedule_load(&i, &sched);
        if (r != CTL_EXIT_OK)
                return r;

        /* Every line checked against the chain, the schedule and the files before anything is installed. */
        KnownHeight known;
        ctl_known_height(&i, &known);
        for (size_t k = 0; k < b.n; k++) {
                const HeightBatchLine *l = &b.lines[k];
                _cleanup_free_ char *name = ctl_escape(l->name), *path = ctl_escape(l->path);
                struct stat st;
                if (!name || !path)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (known.height > 0 && l->height <= known.height)
                        return ctl_fail(CTL_EXIT_FAILURE,
                                "'%s' line %u: height %" PRId64 " of upgrade '%s' is already passed (the chain is at height %" PRId64 "), known from %s; nothing was installed.",
                                shown_file, l->line, l->height, name, known.height, known_height_source_describe(known.source));
                for (size_t j = 0; j < sched.n_entries; j++)
                        if (sched.entries[j].height == l->height && !streq(sched.entries[j].name, l->name)) {
                                _cleanup_free_ char *other = ctl_escape(sched.entries[j].name);
                                return ctl_fail(CTL_EXIT_FAILURE,
                                        "'%s' line %u: upgrade '%s' is already scheduled at height %" PRId64 "; nothing was installed: remove it first ('oraivisorctl remove-upgrade %s').",
                                        shown_file, l->line, strna(other), l->height, strna(other));
                        }
                if (stat(l->path, &st) < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "'%s' line %u: '%s': %s; nothing was installed.", shown_file,
                                l->line, path, strerror(errno));
                if (!S_ISREG(st.st_mode) || st.st_size == 0)
                        return ctl_fail(CTL_EXIT_FAILURE,
                                "'%s' line %u: '%s' is not a binary or an archive (%s); nothing was installed.", shown_file,
                                l->line, path, S_ISDIR(st.st_mode) ? "a folder" : st.st_size == 0 ? "empty" : "not a regular file");
        }

        _cleanup_close_ int ufd = open_or_create_dir_at(i.layout->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open or create '%s/upgrades': %s.", i.layout->root,
                        strerror(-ufd));
        int worst = CTL_EXIT_OK;
        for (size_t k = 0; k < b.n; k++) {
                const HeightBatchLine *l = &b.lines[k];
                _cleanup_free_ char *name = ctl_escape(l->name), *folder = NULL, *rel = NULL, *label = NULL;
                if (!name || layout_find_upgrade(i.layout, l->name, &folder) < 0 ||
                        asprintf(&rel, "upgrades/%s", folder) < 0 || asprintf(&label, "upgrade '%s'", name) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
                r = ctl_version_install(ctl, &i, l->path, ufd, folder, rel, label);
                if (r != CTL_EXIT_OK && r != CTL_EXIT_NEEDS_ATTENTION) {
                        if (k > 0)
                                log_error("'%s' line %u failed; the %zu line(s) before it are installed and scheduled, the rest is not: fix it and run again.",
                                        shown_file, l->line, k);
                        return r;
                }
                if (r != CTL_EXIT_OK)
                        worst = r;
                r = ctl_schedule_add(&i, &sched, l->name, name, l->height);
                if (r != CTL_EXIT_OK)
                        return r;
        }
        return worst;
}

const CtlCommand ctl_command_add_batch_upgrade = {
        .name = "add-batch-upgrade",
        .usage = "FILE",
        .summary = "Install and schedule several upgrades at heights (name,path,height a line)",
        .help = "Reads FILE, cosmovisor's batch format: one 'name,path,height' line per upgrade (blank lines\n"
                "and lines starting with '#' are skipped; a relative path is taken from the current folder).\n"
                "Every line is checked first (the name, the file, the height: positive, not passed, not\n"
                "taken by another upgrade); a bad line is named and nothing is installed. Then each line is\n"
                "'oraivisorctl add-upgrade NAME PATH' with a height H.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_FLAG_FORCE,
        .needs_config = true,
        .run = run,
};
