/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The listing of a node's backups for the operator: only its own backup folders, newest first, sized. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-list.h"
#include "backup-name.h"

static char home[] = "/tmp/test-backup-list-XXXXXX";

static void setup(void) {
        strcpy(home, "/tmp/test-backup-list-XXXXXX");
        cr_assert_not_null(mkdtemp(home));
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        (void) system(cmd);
}

static void make_backup(const char *name, size_t bytes) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", home, name);
        cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
        snprintf(p, sizeof p, "%s/%s/sub", home, name);
        cr_assert_eq(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/%s/sub/blob", home, name);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        for (size_t i = 0; i < bytes; i++)
                fputc('x', f);
        fclose(f);
}

Test(backup_list, ours_newest_first_with_sizes, .init = setup, .fini = teardown) {
        BackupOwner owner = {}, other = {};
        cr_assert_eq(backup_owner_get("oraid", home, NULL, &owner), 0);
        cr_assert_eq(backup_owner_get("gaiad", home, NULL, &other), 0);
        char *a = NULL, *b = NULL, *theirs = NULL, *partial = NULL;
        /* 2026-12-01 and 2026-12-02, and the other node's */
        cr_assert_eq(backup_name_make(owner.node, "v2", 1796083200ULL * USEC_PER_SEC, &a), 0);
        cr_assert_eq(backup_name_make(owner.node, "v3", 1796169600ULL * USEC_PER_SEC, &b), 0);
        cr_assert_eq(backup_name_make(other.node, "v3", 1796169600ULL * USEC_PER_SEC, &theirs), 0);
        cr_assert_eq(backup_name_to_partial(b, &partial), 0);
        make_backup(a, 100000);
        make_backup(b, 1000);
        make_backup(theirs, 10);
        make_backup(partial, 10);
        make_backup("data-backup-v1-20261101T000000Z", 10); /* untagged: ours in our own home */
        make_backup("data-backup-nope", 10);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/data-backup-v9-20261105T000000Z", home);
        cr_assert_eq(symlink(a, p), 0); /* a symlink with a backup's name is not a backup */
        snprintf(p, sizeof p, "%s/data-backup-v8-20261105T000000Z", home);
        cr_assert_eq(close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0); /* nor a file */

        BackupList l = {};
        cr_assert_eq(backup_list(home, &owner, true, &l), 0);
        cr_assert_eq(l.n_entries, 3);
        cr_assert_str_eq(l.entries[0].name, b);
        cr_assert_str_eq(l.entries[0].folder, "v3");
        cr_assert_eq(l.entries[0].time, 1796169600ULL * USEC_PER_SEC);
        cr_assert_str_eq(l.entries[1].name, a);
        cr_assert_str_eq(l.entries[2].name, "data-backup-v1-20261101T000000Z");
        cr_assert_geq(l.entries[1].bytes, 100000);
        cr_assert_lt(l.entries[1].bytes, 1000000);
        cr_assert_geq(l.entries[0].bytes, 1000);
        backup_list_done(&l);

        /* Without sizes: not measured. The other node sees only its own (untagged ones too: same home). */
        cr_assert_eq(backup_list(home, &other, false, &l), 0);
        cr_assert_eq(l.n_entries, 2);
        cr_assert_str_eq(l.entries[0].name, theirs);
        cr_assert_eq(l.entries[0].bytes, UINT64_MAX);
        backup_list_done(&l);

        /* A shared backup folder elsewhere (legacy_ours false): untagged names are nobody's. */
        BackupOwner shared = {};
        cr_assert_eq(backup_owner_get("oraid", "/nonexistent/home", home, &shared), 0);
        cr_assert(!shared.legacy_ours);
        cr_assert_eq(backup_list(home, &shared, false, &l), 0);
        cr_assert_eq(l.n_entries, 0);
        backup_list_done(&l);

        /* A missing folder is an empty list. */
        snprintf(p, sizeof p, "%s/missing", home);
        cr_assert_eq(backup_list(p, &owner, true, &l), 0);
        cr_assert_eq(l.n_entries, 0);
        cr_assert_null(l.entries);

        backup_owner_done(&owner);
        backup_owner_done(&other);
        backup_owner_done(&shared);
        free(a);
        free(b);
        free(theirs);
        free(partial);
}

Test(backup_list, tree_size_does_not_follow_symlinks, .init = setup, .fini = teardown) {
        make_backup("t", 50000);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/t/sub/up", home);
        cr_assert_eq(symlink("/usr", p), 0);
        uint64_t n = 0;
        int fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(tree_allocated_bytes_at(fd, "t", &n), 0);
        cr_assert_geq(n, 50000);
        cr_assert_lt(n, 1000000, "followed the symlink to /usr: %" PRIu64, n);
        cr_assert_eq(tree_allocated_bytes_at(fd, "none", &n), -ENOENT);
        close(fd);
}
