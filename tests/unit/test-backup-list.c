/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The backup list of one node on real folders: whose backups are listed, partial ones, order, sizes. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-list.h"
#include "backup-name.h"
#include "backup.h"
#include "fd-util.h"
#include "fs-util.h"

static char home[PATH_MAX];
static char node[64];

static void mk(const char *rel) {
        char p[PATH_MAX + 256];
        snprintf(p, sizeof(p), "%s/%s", home, rel);
        cr_assert_eq(mkdir(p, 0755), 0, "%s: %m", p);
}

static void write_blocks(const char *rel, size_t n) {
        char p[PATH_MAX + 256];
        snprintf(p, sizeof(p), "%s/%s", home, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        char buf[4096];
        memset(buf, 'x', sizeof(buf));
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t) sizeof(buf));
        cr_assert_eq(fsync(fd), 0);
        close(fd);
}

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/var/tmp";
        snprintf(home, sizeof(home), "%s/test-backup-list-XXXXXX", tmp);
        cr_assert_not_null(mkdtemp(home));
        BackupOwner o = {};
        cr_assert_eq(backup_owner_get("oraid", home, NULL, &o), 0);
        snprintf(node, sizeof(node), "%s", o.node);
        backup_owner_done(&o);
}

static void teardown(void) {
        _cleanup_close_ int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void) rm_rf_at(fd, home + 1);
}

TestSuite(backup_list, .init = setup, .fini = teardown, .timeout = 60);

Test(backup_list, ours_only_oldest_first_with_partials) {
        char a[256], b[256], p[256], other[256];
        snprintf(a, sizeof(a), "data-backup-%s-v3-20250102T000000Z", node);
        snprintf(b, sizeof(b), "data-backup-%s-v2%%2Fx-20240101T000000Z", node);
        snprintf(p, sizeof(p), ".partial-data-backup-%s-v4-20260101T000000Z", node);
        snprintf(other, sizeof(other), "data-backup-oraid@00000000-v2-20240101T000000Z");
        mk(a);
        mk(b);
        mk(p);
        mk(other);
        mk("data-backup-v1-20230101T000000Z"); /* untagged, in the node's own home: ours */
        mk("data-backup-nonsense");
        write_blocks("data-backup-v0-20220101T000000Z", 1); /* a file bearing the name: not a backup */

        BackupList l = {};
        cr_assert_eq(backup_list("oraid", home, NULL, 0, &l), 0);
        cr_assert_eq(l.root_error, 0);
        cr_assert_str_eq(l.root, home);
        cr_assert_neq(l.free_bytes, UINT64_MAX);
        cr_assert_eq(l.n_entries, 4);
        cr_assert_str_eq(l.entries[0].name, "data-backup-v1-20230101T000000Z");
        cr_assert_str_eq(l.entries[1].name, b);
        cr_assert_str_eq(l.entries[1].folder, "v2%2Fx");
        cr_assert_str_eq(l.entries[1].upgrade, "v2/x");
        cr_assert_eq(l.entries[1].time, UINT64_C(1704067200) * 1000000);
        cr_assert_not(l.entries[1].partial);
        cr_assert_eq(l.entries[1].size, UINT64_MAX, "not measured without BACKUP_LIST_SIZES");
        cr_assert_str_eq(l.entries[2].name, a);
        cr_assert_str_eq(l.entries[3].name, p + strlen(".partial-"));
        cr_assert_str_eq(l.entries[3].dir_name, p);
        cr_assert(l.entries[3].partial);
        char want[PATH_MAX + 256];
        snprintf(want, sizeof(want), "%s/%s", home, p);
        cr_assert_str_eq(l.entries[3].path, want);
        cr_assert_not_null(backup_list_find(&l, a));
        cr_assert_null(backup_list_find(&l, other));
        backup_list_done(&l);

        /* In another backup folder, untagged backups are nobody's we know. */
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/data-backup-v1-20230101T000000Z", home);
        cr_assert_eq(backup_list("oraid", home, dir, 0, &l), 0);
        cr_assert_eq(l.n_entries, 0);
        backup_list_done(&l);
}

Test(backup_list, sizes_count_hard_links_once) {
        char a[256], f[PATH_MAX + 512], g[PATH_MAX + 512];
        snprintf(a, sizeof(a), "data-backup-%s-v2-20250102T000000Z", node);
        mk(a);
        snprintf(f, sizeof(f), "%s/sub", a);
        mk(f);
        snprintf(f, sizeof(f), "%s/sub/f", a);
        write_blocks(f, 64);
        snprintf(f, sizeof(f), "%s/%s/sub/f", home, a);
        snprintf(g, sizeof(g), "%s/%s/g", home, a);
        cr_assert_eq(link(f, g), 0);

        BackupList l = {};
        cr_assert_eq(backup_list("oraid", home, NULL, BACKUP_LIST_SIZES, &l), 0);
        cr_assert_eq(l.n_entries, 1);
        cr_assert_eq(l.entries[0].size_error, 0);
        struct stat st;
        cr_assert_eq(stat(f, &st), 0);
        uint64_t file = (uint64_t) st.st_blocks * 512;
        cr_assert_geq(file, 64 * 4096);
        /* The file once, plus the two folders (a few blocks at most). */
        cr_assert_geq(l.entries[0].size, file);
        cr_assert_lt(l.entries[0].size, file + 64 * 1024, "%llu", (unsigned long long) l.entries[0].size);
        backup_list_done(&l);
}

/* `status` measures within a time budget, newest first: with time to spare, as `backups` does. */
Test(backup_list, bounded_sizes_measure_all_in_time) {
        char a[256], b[256], f[PATH_MAX + 512];
        snprintf(a, sizeof(a), "data-backup-%s-v2-20250102T000000Z", node);
        snprintf(b, sizeof(b), "data-backup-%s-v3-20250103T000000Z", node);
        mk(a);
        mk(b);
        snprintf(f, sizeof(f), "%s/f", a);
        write_blocks(f, 8);
        snprintf(f, sizeof(f), "%s/f", b);
        write_blocks(f, 16);

        BackupList all = {}, bounded = {};
        cr_assert_eq(backup_list("oraid", home, NULL, BACKUP_LIST_SIZES, &all), 0);
        cr_assert_eq(backup_list("oraid", home, NULL, BACKUP_LIST_SIZES_BOUNDED, &bounded), 0);
        cr_assert_eq(bounded.n_entries, 2);
        for (size_t i = 0; i < 2; i++) {
                cr_assert_eq(bounded.entries[i].size_error, 0);
                cr_assert_eq(bounded.entries[i].size, all.entries[i].size);
        }
        cr_assert_gt(bounded.entries[1].size, bounded.entries[0].size);
        backup_list_done(&all);
        backup_list_done(&bounded);
}

/* A tree too large for the time left gives up with -ETIME instead of walking on. */
Test(backup_list, size_gives_up_at_its_deadline) {
        char a[256], f[PATH_MAX + 512];
        snprintf(a, sizeof(a), "data-backup-%s-v2-20250102T000000Z", node);
        mk(a);
        for (int i = 0; i < 1100; i++) {
                snprintf(f, sizeof(f), "%s/%s/f%d", home, a, i);
                int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                cr_assert_geq(fd, 0, "%s: %m", f);
                close(fd);
        }
        _cleanup_close_ int dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dfd, 0);
        uint64_t size = 0;
        cr_assert_eq(backup_tree_size_until(dfd, a, 1 /* long past */, &size), -ETIME);
        cr_assert_eq(backup_tree_size_until(dfd, a, 0, &size), 0);
        cr_assert_gt(size, 0);
}

Test(backup_list, missing_folder_is_empty) {
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/nowhere", home);
        BackupList l = {};
        cr_assert_eq(backup_list("oraid", home, dir, BACKUP_LIST_SIZES, &l), 0);
        cr_assert_eq(l.root_error, -ENOENT);
        cr_assert_eq(l.n_entries, 0);
        cr_assert_str_eq(l.root, dir);
        backup_list_done(&l);
        cr_assert_eq(backup_list("", home, NULL, 0, &l), -EINVAL);
}
