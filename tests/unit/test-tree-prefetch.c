/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The metadata prefetch of a tree: every thread's share is looked at exactly once, nothing changes, and a
 * stop ends it early. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "tree-prefetch.h"

static char top[PATH_MAX];

static void make_file(const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", top, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0, "%s: %m", p);
        cr_assert_eq(write(fd, "x", 1), 1);
        close(fd);
}

static void make_dir(const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", top, rel);
        cr_assert_eq(mkdir(p, 0755), 0, "%s: %m", p);
}

/* A tree of 3 folders with n files each and a few entries of other kinds; returns the count of entries
 * that are not folders (the prefetch deals only those). */
static unsigned make_tree(unsigned n) {
        char rel[64];
        unsigned count = 0;
        make_dir("a");
        make_dir("a/b");
        make_dir("c");
        const char *dirs[] = {"a", "a/b", "c"};
        for (unsigned d = 0; d < 3; d++)
                for (unsigned i = 0; i < n; i++) {
                        snprintf(rel, sizeof rel, "%s/f%05u", dirs[d], i);
                        make_file(rel);
                        count++;
                }
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/a/link", top);
        cr_assert_eq(symlink("/nonexistent", p), 0);
        snprintf(p, sizeof p, "%s/c/fifo", top);
        cr_assert_eq(mkfifo(p, 0600), 0);
        make_file("top-file");
        return count + 3;
}

static void setup(void) {
        snprintf(top, sizeof top, "%s/test-tree-prefetch.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        cr_assert_not_null(mkdtemp(top));
}

static void teardown(void) {
        (void) rm_rf_at(AT_FDCWD, top);
}

TestSuite(tree_prefetch, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t run(unsigned threads, unsigned stride) {
        _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        TreePrefetch *p = tree_prefetch_start(fd, threads, stride);
        cr_assert_not_null(p);
        return tree_prefetch_stop(p, true);
}

Test(tree_prefetch, every_share_is_looked_at_once) {
        unsigned entries = make_tree(500);
        /* The stride-th entries of one listing order, dealt among the threads: none twice, none left out,
         * whatever the number of threads. */
        cr_expect_eq(run(1, 1), entries);
        cr_expect_eq(run(3, 1), entries);
        cr_expect_eq(run(3, 16), (entries + 15) / 16);
        cr_expect_eq(run(4, 7), (entries + 6) / 7);
        cr_expect_eq(run(7, 1000), 2u);
}

Test(tree_prefetch, changes_nothing) {
        make_tree(50);
        struct stat before, after;
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/a/b", top);
        cr_assert_eq(stat(p, &before), 0);
        (void) run(2, 1);
        cr_assert_eq(stat(p, &after), 0);
        cr_expect_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
        cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
        cr_expect_eq(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);
        cr_expect_eq(before.st_atim.tv_nsec, after.st_atim.tv_nsec);
        cr_expect_eq(before.st_nlink, after.st_nlink);
}

Test(tree_prefetch, stop_ends_it_and_frees_everything) {
        unsigned entries = make_tree(3000);
        _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        TreePrefetch *p = tree_prefetch_start(fd, 3, 1);
        cr_assert_not_null(p);
        /* However far the threads got, they end and are joined; the count never exceeds the tree. */
        cr_expect_leq(tree_prefetch_stop(p, false), entries);
        cr_expect_eq(tree_prefetch_stop(NULL, false), 0u);
}

/* run() in a child process as nobody when we are root (make check always is, and root reads every
 * folder): the count, or UINT64_MAX when the child failed. */
static uint64_t run_unprivileged(unsigned threads, unsigned stride) {
        int pfd[2];
        cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(pfd[0]);
                if (geteuid() == 0 &&
                        (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(1);
                int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        _exit(2);
                TreePrefetch *p = tree_prefetch_start(fd, threads, stride);
                if (!p)
                        _exit(3);
                uint64_t n = tree_prefetch_stop(p, true);
                _exit(write(pfd[1], &n, sizeof n) == (ssize_t) sizeof n ? 0 : 4);
        }
        close(pfd[1]);
        uint64_t n = UINT64_MAX;
        if (read(pfd[0], &n, sizeof n) != (ssize_t) sizeof n)
                n = UINT64_MAX;
        close(pfd[0]);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the unprivileged child failed (status %d)", status);
        return n;
}

Test(tree_prefetch, unreadable_subfolder_only_ends_that_share) {
        unsigned entries = make_tree(20);
        char p[PATH_MAX * 2];
        /* Readable by nobody, but for a/b. */
        cr_assert_eq(chmod(top, 0755), 0);
        snprintf(p, sizeof p, "%s/a/b", top);
        cr_assert_eq(chmod(p, 0), 0);
        /* a/b's 20 files are not listed; everything else still is. */
        cr_expect_eq(run_unprivileged(2, 1), entries - 20);
        /* And the same tree, all readable: every entry (so the 20 above were missed for a/b alone). */
        cr_assert_eq(chmod(p, 0755), 0);
        cr_expect_eq(run_unprivileged(2, 1), entries);
}

static unsigned count_fds(void) {
        unsigned n = 0;
        DIR *d = opendir("/proc/self/fd");
        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

Test(tree_prefetch, stops_at_depth_32_and_closes_every_folder) {
        /* A file at every level of a chain of 40 nested folders: levels 0 (the top) to 32 are listed. */
        char rel[PATH_MAX] = "";
        make_file("f");
        for (unsigned level = 1; level <= 40; level++) {
                strcat(rel, level > 1 ? "/d" : "d");
                make_dir(rel);
                char file[PATH_MAX + 8];
                snprintf(file, sizeof file, "%s/f", rel);
                make_file(file);
        }
        unsigned before = count_fds();
        cr_expect_eq(run(2, 1), 33u);
        cr_expect_eq(count_fds(), before, "the prefetch left folders open");
}
