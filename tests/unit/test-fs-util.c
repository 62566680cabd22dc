/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fdopendir_dup(): a listing of a folder fd that leaves the fd open. On a temporary folder (on /var/tmp,
 * or $TMPDIR). */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "fs-util.h"
#include "string-util.h"

static char top[PATH_MAX];

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/var/tmp";
        snprintf(top, sizeof(top), "%s/test-fs-util-XXXXXX", tmp);
        cr_assert_not_null(mkdtemp(top));
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        (void) system(cmd);
}

TestSuite(fs_util, .init = setup, .fini = teardown);

Test(fs_util, fdopendir_dup_lists_and_leaves_the_fd_open) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof(p), "%s/a", top);
        cr_assert_eq(mkdir(p, 0755), 0);

        _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        DIR *d = fdopendir_dup(fd);
        cr_assert_not_null(d);
        int dfd = dirfd(d);
        cr_assert_neq(dfd, fd);
        cr_assert_geq(dfd, 3);
        cr_assert(fcntl(dfd, F_GETFD) & FD_CLOEXEC);

        unsigned n = 0;
        bool seen_a = false;
        struct dirent *de;
        while ((de = readdir(d))) {
                n++;
                seen_a = seen_a || streq(de->d_name, "a");
        }
        cr_assert_eq(n, 3); /* ".", ".." and "a" */
        cr_assert(seen_a);
        cr_assert_eq(closedir(d), 0);

        /* The caller's fd is still open, and still the folder. */
        struct stat st;
        cr_assert_eq(fstat(fd, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
}

Test(fs_util, fdopendir_dup_of_a_file_is_enotdir) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof(p), "%s/f", top);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        errno = 0;
        cr_assert_null(fdopendir_dup(fd));
        cr_assert_eq(errno, ENOTDIR);
        /* Nothing leaked, the caller's fd untouched. */
        cr_assert_geq(fcntl(fd, F_GETFD), 0);
}

Test(fs_util, fdopendir_dup_of_a_closed_fd_is_ebadf) {
        int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        close(fd);
        errno = 0;
        cr_assert_null(fdopendir_dup(fd));
        cr_assert_eq(errno, EBADF);
}

/* A FIFO where a file is expected (a hostile node home): refused at once, not waited on for a writer. */
Test(fs_util, read_file_at_refuses_a_fifo_without_blocking, .timeout = 10) {
        _cleanup_close_ int dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dfd, 0);
        cr_assert_eq(mkfifoat(dfd, "state.json", 0644), 0);
        char *data = NULL;
        size_t size = 0;
        cr_assert_eq(read_file_at(dfd, "state.json", 4096, &data, &size), -EBADFD);
        cr_assert_null(data);
}
