/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* copy_walk_dir(), the tree walker that the backup's scan and copy share (backup-copy-internal.h), on a
 * real folder in a temporary place (on /var/tmp, or $TMPDIR). */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "backup-copy-internal.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

static char top[PATH_MAX];
static CopyContext c;

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/var/tmp";
        snprintf(top, sizeof(top), "%s/test-backup-walk-XXXXXX", tmp);
        cr_assert_not_null(mkdtemp(top));
        log_set_max_level(LOG_CRIT);
        c = (CopyContext) {
                .dst_root_fd = -EBADF,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .work = PTHREAD_COND_INITIALIZER,
                .space = PTHREAD_COND_INITIALIZER,
        };
        c.walker.c = &c;
        c.src_display = strdup("/data");
        c.path = strdup("");
        cr_assert(c.src_display && c.path);
        c.path_cap = 1;
}

static void teardown(void) {
        free(c.src_display);
        free(c.path);
        free(c.failure.message);
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        (void) system(cmd);
}

TestSuite(backup_walk, .init = setup, .fini = teardown, .timeout = 60);

static void make(const char *rel, bool dir) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof(p), "%s/%s", top, rel);
        if (dir)
                cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %m", p);
        else {
                int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                cr_assert_geq(fd, 0, "create %s: %m", p);
                close(fd);
        }
}

static DIR *open_top(void) {
        DIR *d = opendir(top);
        cr_assert_not_null(d);
        return d;
}

/* What the walker showed the callback: each entry's path (c->path at the call), depth and name. */
typedef struct Seen {
        char lines[32][PATH_MAX + 300];
        size_t n;
        int fail_at; /* the call (1-based) that returns -EIO, 0: none */
        bool recurse;
} Seen;

static int record(CopyContext *cc, int fd, const struct dirent *de, unsigned depth, void *userdata) {
        Seen *s = userdata;
        cr_assert_lt(s->n, 32);
        snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%u %s %s", depth, cc->path, de->d_name);
        if (s->fail_at > 0 && (int) s->n == s->fail_at)
                return -EIO;
        if (s->recurse && de->d_type == DT_DIR) {
                int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                cr_assert_geq(sub, 0);
                DIR *d = fdopendir(sub);
                cr_assert_not_null(d);
                int r = copy_walk_dir(cc, d, depth + 1, record, userdata);
                closedir(d);
                return r;
        }
        return 0;
}

static int cmp_lines(const void *a, const void *b) {
        return strcmp(a, b);
}

Test(backup_walk, every_entry_once_with_its_path_and_depth) {
        make("a", false);
        make("sub", true);
        make("sub/b", false);
        make("sub/deeper", true);
        make("sub/deeper/c", false);

        Seen s = {.recurse = true};
        DIR *d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, 0, record, &s), 0);
        closedir(d);

        /* "." and ".." are never shown; the order is readdir()'s, so compare sorted. */
        cr_assert_eq(s.n, 5);
        qsort(s.lines, s.n, sizeof(s.lines[0]), cmp_lines);
        cr_assert_str_eq(s.lines[0], "0 a a");
        cr_assert_str_eq(s.lines[1], "0 sub sub");
        cr_assert_str_eq(s.lines[2], "1 sub/b b");
        cr_assert_str_eq(s.lines[3], "1 sub/deeper deeper");
        cr_assert_str_eq(s.lines[4], "2 sub/deeper/c c");
        /* Every name popped again after its success. */
        cr_assert_str_eq(c.path, "");
        cr_assert_eq(c.path_len, 0);
        cr_assert_eq(c.failure.error, 0);
}

Test(backup_walk, empty_folder) {
        Seen s = {};
        DIR *d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, 0, record, &s), 0);
        closedir(d);
        cr_assert_eq(s.n, 0);
        cr_assert_str_eq(c.path, "");
}

Test(backup_walk, a_failure_stops_the_walk_and_keeps_the_path) {
        make("x", false);
        make("y", false);
        make("z", false);

        Seen s = {.fail_at = 2};
        DIR *d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, 0, record, &s), -EIO);
        closedir(d);
        cr_assert_eq(s.n, 2, "the walk went on after a failure: %zu calls", s.n);
        /* The failing entry's name stays for the message. */
        char expect[PATH_MAX + 300];
        snprintf(expect, sizeof(expect), "0 %s %s", c.path, c.path);
        cr_assert_str_eq(s.lines[1], expect);
}

Test(backup_walk, too_deep_is_eloop_with_a_message) {
        make("a", false);
        Seen s = {};
        DIR *d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, BACKUP_MAX_DEPTH + 1, record, &s), -ELOOP);
        closedir(d);
        cr_assert_eq(s.n, 0);
        cr_assert_eq(c.failure.error, -ELOOP);
        cr_assert_not_null(c.failure.message);
        cr_assert_str_eq(c.failure.message, "Too many nested folders below '/data': Too many levels of symbolic links.");

        /* At the limit itself, the walk runs. */
        free(c.failure.message);
        c = (CopyContext) {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .work = PTHREAD_COND_INITIALIZER,
                .space = PTHREAD_COND_INITIALIZER,
                .src_display = c.src_display,
                .path = c.path,
                .path_cap = c.path_cap,
        };
        c.walker.c = &c;
        d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, BACKUP_MAX_DEPTH, record, &s), 0);
        closedir(d);
        cr_assert_eq(s.n, 1);
}

Test(backup_walk, stops_once_another_thread_failed) {
        make("a", false);
        c.failure.error = -ENOSPC;
        c.failed = true;
        Seen s = {};
        DIR *d = open_top();
        cr_assert_eq(copy_walk_dir(&c, d, 0, record, &s), -ENOSPC);
        closedir(d);
        cr_assert_eq(s.n, 0);
}
