/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpack finisher: once the worker exited, the tree it wrote becomes oraivisor's (unpack-internal.h). */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "archive-path.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "outcome.h"
#include "string-util.h"
#include "unpack-internal.h"

/* The worker's tree becomes oraivisor's: every entry must be the worker's (a file, a folder or a symlink
 * it made; nothing else, nothing of anyone else's), gets oraivisor's user and group and the mode of
 * archive_install_mode() (again: the worker's own chmod is not trusted), and is fsynced. No process has
 * the worker's user any more (it could start none), so nothing changes under our feet. */
typedef struct Finisher {
        uid_t worker_uid;
        uid_t uid;
        gid_t gid;
        const char *daemon_name;
        struct stat *done; /* files and symlinks with more than one name, already given to us */
        size_t n_done;
        bool binary_seen;
        Outcome outcome; /* the first failure */
} Finisher;

/* Records a failure in f->outcome: the first failure's message is the one reported. */
#define finisher_fail(f, error, ...) outcome_failf(&(f)->outcome, (error), __VA_ARGS__)

static bool finisher_seen(const Finisher *f, const struct stat *st) {
        for (size_t i = 0; i < f->n_done; i++)
                if (f->done[i].st_dev == st->st_dev && f->done[i].st_ino == st->st_ino)
                        return true;
        return false;
}

/* An entry with more than one name: its next name finds it already ours. */
static int finisher_remember(Finisher *f, const struct stat *st) {
        if (st->st_nlink <= 1)
                return 0;
        struct stat *m = reallocarray(f->done, f->n_done + 1, sizeof(struct stat));
        if (!m)
                return finisher_fail(f, ENOMEM, "out of memory");
        f->done = m;
        f->done[f->n_done++] = *st;
        return 0;
}

/* fd: the entry, opened without following symlinks (a folder or a regular file). */
static int finisher_take(Finisher *f, int fd, ArchiveInstallKind kind, mode_t mode, const char *path) {
        if (f->uid != f->worker_uid && fchown(fd, f->uid, f->gid) < 0)
                return finisher_fail(f, -errno, "cannot give '%s' to uid %u: %s", path, (unsigned) f->uid,
                        strerror(errno));
        if (fchmod(fd, archive_install_mode(kind, mode)) < 0 || fsync(fd) < 0)
                return finisher_fail(f, -errno, "cannot set the mode of '%s': %s", path, strerror(errno));
        return 0;
}

static int finisher_walk(Finisher *f, int dir_fd, const char *prefix, unsigned depth) {
        _cleanup_closedir_ DIR *d = fdopendir_dup(dir_fd);
        if (!d)
                return finisher_fail(f, -errno, "cannot read the staging folder: %s", strerror(errno));
        /* The staging folder's fd shares its position with the worker's, which read it to its end. */
        rewinddir(d);
        struct dirent *de;
        int r;
        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0)
                        return finisher_fail(f, ENOMEM, "out of memory");
                _cleanup_free_ char *q = unpack_quote(path);
                if (depth >= UNPACK_DEPTH_MAX)
                        return finisher_fail(f, -E2BIG, "'%s' lies more than %u folders deep; refusing",
                                strna(q), UNPACK_DEPTH_MAX - 1);

                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return finisher_fail(f, -errno, "cannot inspect '%s': %s", strna(q), strerror(errno));
                if (st.st_uid != f->worker_uid) {
                        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && st.st_uid == f->uid &&
                                finisher_seen(f, &st))
                                continue; /* another name of a file or symlink already done */
                        return finisher_fail(f, -EPERM,
                                "'%s' in the staging folder belongs to uid %u, not to the unpack worker "
                                "(uid "
                                "%u); refusing",
                                strna(q), (unsigned) st.st_uid, (unsigned) f->worker_uid);
                }

                if (S_ISLNK(st.st_mode)) {
                        if (f->uid != f->worker_uid &&
                                fchownat(dirfd(d), de->d_name, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return finisher_fail(f, -errno, "cannot give '%s' to uid %u: %s", strna(q),
                                        (unsigned) f->uid, strerror(errno));
                        r = finisher_remember(f, &st);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                        return finisher_fail(f, -EPERM,
                                "'%s' in the staging folder is neither a file, a folder nor a symlink; "
                                "refusing",
                                strna(q));

                _cleanup_close_ int fd = openat(dirfd(d), de->d_name,
                        (S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NONBLOCK) | O_RDONLY | O_NOFOLLOW |
                                O_CLOEXEC);
                struct stat st2;
                if (fd < 0 || fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                        return finisher_fail(f, fd < 0 ? errno : -ESTALE, "cannot open '%s': %s", strna(q),
                                strerror(fd < 0 ? errno : ESTALE));

                if (S_ISDIR(st.st_mode)) {
                        r = finisher_walk(f, fd, path, depth + 1);
                        if (r < 0)
                                return r;
                        r = finisher_take(f, fd, ARCHIVE_INSTALL_DIRECTORY, st.st_mode, strna(q));
                } else {
                        bool binary =
                                depth == 1 && streq(prefix, "bin") && streq(de->d_name, f->daemon_name);
                        f->binary_seen = f->binary_seen || binary;
                        r = finisher_take(f, fd, binary ? ARCHIVE_INSTALL_BINARY : ARCHIVE_INSTALL_FILE,
                                st.st_mode, strna(q));
                        if (r >= 0)
                                r = finisher_remember(f, &st);
                }
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return finisher_fail(f, -errno, "cannot read the staging folder: %s", strerror(errno));
        return 0;
}

int unpack_finish_tree(int dir_fd, uid_t worker_uid, const char *daemon_name, char **ret_message) {
        Finisher f = {
                .worker_uid = worker_uid,
                .uid = geteuid(),
                .gid = getegid(),
                .daemon_name = daemon_name,
        };
        struct stat st;
        int r = 0;
        if (fstat(dir_fd, &st) < 0)
                r = finisher_fail(&f, -errno, "cannot inspect the staging folder: %s", strerror(errno));
        else if (st.st_uid != f.worker_uid)
                r = finisher_fail(&f, -EPERM,
                        "the staging folder belongs to uid %u, not to the unpack worker "
                        "(uid %u); refusing",
                        (unsigned) st.st_uid, (unsigned) f.worker_uid);
        if (r >= 0)
                r = finisher_walk(&f, dir_fd, "", 0);
        if (r >= 0 && !f.binary_seen)
                r = finisher_fail(&f, -ENOENT, "the unpack worker left no file 'bin/%s'", f.daemon_name);
        if (r >= 0)
                r = finisher_take(&f, dir_fd, ARCHIVE_INSTALL_DIRECTORY, 0755, "the staging folder");
        if (r < 0 && ret_message)
                *ret_message = TAKE_PTR(f.outcome.message);
        outcome_done(&f.outcome);
        free(f.done);
        return r;
}
