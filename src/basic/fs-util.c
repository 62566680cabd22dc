/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "fd-util.h"
#include "fs-util.h"
#include "string-util.h"

int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size) {
        /* O_NONBLOCK: a FIFO put in a file's place (the node's home is not ours) would block the open until
         * a writer came; it is refused below instead. Reads of a regular file ignore the flag. */
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;

        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;

        size_t cap = MIN((size_t) st.st_size + 1, max + 1), len = 0;
        if (cap < 4096)
                cap = MIN((size_t) 4096, max + 1);
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = MIN(cap * 2, max + 1);
                        char *m = realloc(buf, ncap + 1);
                        if (!m)
                                return -ENOMEM;
                        buf = m;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len > max)
                return -EFBIG;
        buf[len] = 0;
        if (ret_size)
                *ret_size = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int fsync_directory_fd(int dirfd) {
        if (fsync(dirfd) < 0)
                return -errno;
        return 0;
}

int tempname_make(const char *prefix, char **ret) {
        uint32_t rnd;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd = (uint32_t) getpid() ^ (uint32_t) random();
        if (asprintf(ret, "%s%08x", prefix, rnd) < 0)
                return -ENOMEM;
        return 0;
}

static int write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync) {
        _cleanup_free_ char *tmp = NULL, *prefix = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&prefix, ".#%s.", name) < 0)
                return -ENOMEM;
        for (unsigned attempt = 0;; attempt++) {
                tmp = mfree(tmp);
                r = tempname_make(prefix, &tmp);
                if (r < 0)
                        return r;
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return -errno;
        }

        r = loop_write(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return sync ? fsync_directory_fd(dirfd) : 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode) {
        return write_atomic(dirfd, name, data, len, mode, true);
}

int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode) {
        return write_atomic(dirfd, name, data, len, mode, false);
}

static int rm_rf_children(int fd, dev_t dev) {
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        int ret = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                if (ret == 0)
                                        ret = -EXDEV; /* a mount point below: never cross it */
                                continue;
                        }
                        int cfd = openat(dirfd(d), de->d_name,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (cfd < 0) {
                                if (errno != ENOENT && ret == 0)
                                        ret = -errno;
                                continue;
                        }
                        int r = rm_rf_children(cfd, dev);
                        if (r < 0 && ret == 0)
                                ret = r;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && ret == 0)
                                ret = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = -errno;
        }
        if (errno != 0 && ret == 0)
                ret = -errno;
        return ret;
}

int rm_rf_at(int dirfd, const char *name) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = rm_rf_children(fd, st.st_dev);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int open_beneath_fallback(int dirfd, const char *path, int flags, mode_t mode) {
        /* Walk component by component with O_NOFOLLOW: no symlink is followed at all, which is stricter
         * than RESOLVE_BENEATH but never less safe. */
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        char *save = NULL;
        char *comp = strtok_r(copy, "/", &save);
        while (comp) {
                char *next = strtok_r(NULL, "/", &save);
                if (streq(comp, ".."))
                        return -EXDEV;
                if (streq(comp, ".")) {
                        comp = next;
                        continue;
                }
                if (!next) {
                        int fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        return fd < 0 ? -errno : fd;
                }
                int fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                safe_close(cur);
                cur = fd;
                comp = next;
        }
        return fcntl(cur, F_DUPFD_CLOEXEC, 3);
}

int open_beneath(int dirfd, const char *path, int flags, mode_t mode, bool no_symlinks) {
        if (path[0] == '/')
                return -EXDEV;
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
        };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0)
                return (int) fd;
        if (errno == ENOSYS || errno == EPERM /* seccomp */)
                return open_beneath_fallback(dirfd, path, flags, mode);
        return -errno;
}

int mkdirat_idempotent(int dirfd, const char *name, mode_t mode) {
        if (mkdirat(dirfd, name, mode) >= 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int open_or_create_dir_at(int dirfd, const char *name, mode_t mode) {
        int r = mkdirat_idempotent(dirfd, name, mode);
        if (r < 0)
                return r;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int open_dir_noatime_at(int dirfd, const char *name) {
        /* O_NONBLOCK: should the entry have become a FIFO meanwhile, O_DIRECTORY refuses it without waiting
         * for a writer. */
        int fd = openat(
                dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
        if (fd < 0 && errno == EPERM)
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

int fd_free_bytes(int fd, uint64_t *ret) {
        struct statvfs sv;
        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        *ret = (uint64_t) sv.f_bavail * (uint64_t) sv.f_frsize;
        return 0;
}

DIR *fdopendir_dup(int fd) {
        assert(fd >= 0);

        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return NULL;
        DIR *d = fdopendir(dfd);
        if (!d)
                safe_close(dfd); /* keeps errno */
        return d;
}
