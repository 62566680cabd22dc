/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy's walk: the scan for the totals, the creation of every entry, the clone probe. */

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "backup-name.h"
#include "backup-copy-internal.h"
#include "backup.h"
#include "btrfs-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "tree-prefetch.h"

/* A new open file description of the folder fd, with its own read position, for one listing. */
int copy_dir_reopen(int fd) {
        return open_dir_noatime_at(fd, ".");
}

/* The one loop over a folder's entries of the scan and the copy (see backup-copy-internal.h). */
int copy_walk_dir(CopyContext *c, DIR *d, unsigned depth, CopyWalkFn fn, void *userdata) {
        Worker *w = &c->walker;
        int r;

        assert(c);
        assert(d);
        assert(fn);

        if (depth > BACKUP_MAX_DEPTH)
                return copy_fail(w, -ELOOP, "Too many nested folders below");
        for (;;) {
                if (copy_failed(c))
                        return c->failure.error ?: -ECANCELED;
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return copy_fail(w, -errno, "Failed to read the folder");
                        return 0;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;

                size_t old;
                r = copy_path_push(c, de->d_name, &old);
                if (r < 0)
                        return r;
                r = fn(c, dirfd(d), de, depth, userdata);
                if (r < 0)
                        return r;
                copy_path_pop(c, old);
                if (r == COPY_WALK_STOP)
                        return r;
        }
}

static int scan_entry(CopyContext *c, int fd, const struct dirent *de, unsigned depth, void *userdata) {
        Worker *w = &c->walker;
        struct stat st;

        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? copy_fail_changed(w) : copy_fail(w, -errno, "Failed to look at");

        bool count = true;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                bool added;
                if (!inode_set_get(&c->inodes, st.st_dev, st.st_ino, &added))
                        return -ENOMEM;
                count = added;
        }
        if (count) {
                c->stats.needed_bytes += (uint64_t) st.st_blocks * 512;
                if (S_ISREG(st.st_mode))
                        c->stats.bytes += (uint64_t) st.st_size;
        }

        if (S_ISDIR(st.st_mode)) {
                if (same_inode(&st, &c->parent_st))
                        return copy_fail_inside(w);
                _cleanup_close_ int sub = open_dir_noatime_at(fd, de->d_name);
                if (sub < 0)
                        return sub == -ENOENT ? copy_fail_changed(w) : copy_fail(w, sub, "Failed to open");
                return copy_scan_dir(c, sub, depth + 1);
        }
        return 0;
}

/* Walks the folder fd (borrowed) with fn: copy_walk_dir() on a listing of its own. */
static int walk_folder(CopyContext *c, int fd, unsigned depth, CopyWalkFn fn) {
        Worker *w = &c->walker;
        int r;

        int dfd = copy_dir_reopen(fd);
        if (dfd < 0)
                return copy_fail(w, dfd, "Failed to read the folder");
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                safe_close(dfd);
                return copy_fail(w, r, "Failed to read the folder");
        }
        return copy_walk_dir(c, d, depth, fn, NULL);
}

/* The first pass when copying: totals for progress and for the free-space check (and the check that the
 * backup root is not inside the data folder). */
int copy_scan_dir(CopyContext *c, int fd, unsigned depth) {
        return walk_folder(c, fd, depth, scan_entry);
}

/* Opens an entry of the data folder for reading, without following a symlink. Returns the fd, or -1 with
 * errno set. */
static int open_source_at(int dirfd, const char *name) {
        /* O_NOATIME: reading the data folder should not change it (allowed for the owner and root).
         * O_NONBLOCK: should the entry have become a FIFO, do not wait for a writer. */
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOATIME);
        if (fd < 0 && errno == EPERM)
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd;
}

/* Opens a regular file of the data folder and returns its fd and (fstat) metadata. known, when the caller
 * has already looked at the entry, must still describe it. */
static int open_source_file(
        Worker *w, int dirfd, const char *name, const struct stat *known, struct stat *ret_st) {
        int fd = open_source_at(dirfd, name);
        if (fd < 0)
                return errno == ENOENT || errno == ELOOP ? copy_fail_changed(w)
                                                         : copy_fail(w, -errno, "Failed to open");
        if (fstat(fd, ret_st) < 0) {
                int r = -errno;
                safe_close(fd);
                return copy_fail(w, r, "Failed to look at");
        }
        if ((known && !same_inode(ret_st, known)) || !S_ISREG(ret_st->st_mode)) {
                safe_close(fd);
                return copy_fail_changed(w);
        }
        return fd;
}

static int link_hardlink(Worker *w, int dst_dirfd, const char *name, const char *first) {
        CopyContext *c = w->c;
        const char *slash = strrchr(first, '/');
        _cleanup_close_ int pfd = -EBADF;
        int parent = c->dst_root_fd;
        if (slash) {
                _cleanup_free_ char *dir = strndup(first, (size_t) (slash - first));
                if (!dir)
                        return -ENOMEM;
                pfd = open_beneath(c->dst_root_fd, dir, O_RDONLY | O_DIRECTORY, 0, true);
                if (pfd < 0)
                        return copy_fail(w, pfd, "Failed to find the first copy of the hard link");
                parent = pfd;
        }
        if (linkat(parent, slash ? slash + 1 : first, dst_dirfd, name, 0) < 0)
                return copy_fail(w, -errno, "Failed to create the hard link");
        copy_account(w, &(Account){.hardlinks = 1});
        return 0;
}

/* known: the entry's metadata when the caller has it, else NULL (readdir said it is a regular file). */
static int copy_regular(
        CopyContext *c, int dirfd, int dst_dirfd, const char *name, const struct stat *known) {
        Worker *w = &c->walker;
        struct stat st;

        _cleanup_close_ int src = open_source_file(w, dirfd, name, known, &st);
        if (src < 0)
                return src;

        InodeEntry *hl = NULL;
        if (st.st_nlink > 1) {
                bool added;
                hl = inode_set_get(&c->inodes, st.st_dev, st.st_ino, &added);
                if (!hl)
                        return -ENOMEM;
                if (hl->path)
                        return link_hardlink(w, dst_dirfd, name, hl->path);
        }

        if (c->counting) {
                c->stats.bytes += (uint64_t) st.st_size;
                c->stats.needed_bytes += (uint64_t) st.st_blocks * 512;
        }

        /* Created with its final permission bits (the umask is 0 during the copy; nobody else can reach
         * into the partial folder, which is 0700 until the end), so that only the setuid/setgid/sticky
         * bits need a chmod, after the chown. */
        _cleanup_close_ int dst = openat(
                dst_dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777);
        if (dst < 0)
                return copy_fail(w, -errno, "Failed to create the copy of");
        if (hl) {
                /* Further names can be linked to it from now on, while a worker fills it. */
                hl->path = strdup(c->path);
                if (!hl->path)
                        return -ENOMEM;
        }
        if (!c->clone && st.st_size > 0)
                /* Start reading it now: the disk then works on the files of several batches at once, not
                 * on one small read per worker at a time. */
                (void) posix_fadvise(src, 0, (off_t) MIN((uint64_t) st.st_size, (uint64_t) BACKUP_CHUNK),
                        POSIX_FADV_WILLNEED);

        Job j = {.src = TAKE_FD(src), .dst = TAKE_FD(dst), .st = st, .path = strdup(c->path)};
        if (!j.path) {
                safe_close(j.src);
                safe_close(j.dst);
                return -ENOMEM;
        }
        return copy_job_add(c, &j);
}

static int copy_symlink(CopyContext *c, int dirfd, int dst_dirfd, const char *name, const struct stat *st) {
        Worker *w = &c->walker;
        size_t sz = (size_t) MAX(st->st_size, (off_t) 255) + 1;
        _cleanup_free_ char *target = NULL;
        for (;;) {
                target = malloc(sz);
                if (!target)
                        return -ENOMEM;
                ssize_t n = readlinkat(dirfd, name, target, sz);
                if (n < 0)
                        return errno == ENOENT || errno == EINVAL
                                ? copy_fail_changed(w)
                                : copy_fail(w, -errno, "Failed to read the symlink");
                if ((size_t) n < sz) {
                        target[n] = 0;
                        break;
                }
                target = mfree(target);
                sz *= 2;
        }
        /* Copied as it is, never followed: dangling and absolute targets stay dangling and absolute. */
        if (symlinkat(target, dst_dirfd, name) < 0)
                return copy_fail(w, -errno, "Failed to create the copy of the symlink");
        if ((st->st_uid != c->uid || st->st_gid != c->gid) &&
                fchownat(dst_dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
                (c->uid == 0 || errno != EPERM))
                return copy_fail(w, -errno, "Failed to set the owner of the copy of the symlink");
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (utimensat(dst_dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return copy_fail(w, -errno, "Failed to set the times of the copy of the symlink");
        copy_account(w, &(Account){.symlinks = 1});
        return 0;
}

static int copy_special(CopyContext *c, int dst_dirfd, const char *name, const struct stat *st) {
        Worker *w = &c->walker;
        if (S_ISSOCK(st->st_mode)) {
                log_warning("Not backing up the socket '%s/%s': a socket cannot be copied, the daemon "
                            "creates it again when it starts.",
                        c->src_display, c->path);
                copy_account(w, &(Account){.skipped = 1});
                return 0;
        }
        if (mknodat(dst_dirfd, name, (st->st_mode & S_IFMT) | 0600,
                    S_ISFIFO(st->st_mode) ? 0 : st->st_rdev) < 0) {
                if (errno == EPERM && !S_ISFIFO(st->st_mode)) {
                        log_warning("Not backing up the device node '%s/%s' (%u:%u): only root may create "
                                    "one; run oraivisor as root to keep it.",
                                c->src_display, c->path, major(st->st_rdev), minor(st->st_rdev));
                        copy_account(w, &(Account){.skipped = 1});
                        return 0;
                }
                return copy_fail(w, -errno, "Failed to create the copy of");
        }
        /* Opening a FIFO or device would block or touch hardware: set the metadata by name. The name is
         * one we just created inside our own partial folder, so following it is not a concern. */
        if ((st->st_uid != c->uid || st->st_gid != c->gid) &&
                fchownat(dst_dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
                (c->uid == 0 || errno != EPERM))
                return copy_fail(w, -errno, "Failed to set the owner of the copy of");
        if (fchmodat(dst_dirfd, name, st->st_mode & 07777, 0) < 0)
                return copy_fail(w, -errno, "Failed to set the mode of the copy of");
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (utimensat(dst_dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return copy_fail(w, -errno, "Failed to set the times of the copy of");
        copy_account(w, &(Account){.specials = 1});
        return 0;
}

/* known: as for copy_regular(). */
static int copy_subdir(CopyContext *c, int parent_fd, int dst_dirfd, const char *name,
        const struct stat *known, unsigned depth) {
        Worker *w = &c->walker;
        int r;

        int fd = open_dir_noatime_at(parent_fd, name);
        if (fd < 0)
                return fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR ? copy_fail_changed(w)
                                                                       : copy_fail(w, fd, "Failed to open");
        /* Listed through the same fd: nothing else reads it. */
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return copy_fail(w, r, "Failed to read the folder");
        }
        int src = dirfd(d);
        struct stat st;
        if (fstat(src, &st) < 0)
                return copy_fail(w, -errno, "Failed to look at");
        if (known && !same_inode(&st, known))
                return copy_fail_changed(w);
        if (same_inode(&st, &c->parent_st))
                return copy_fail_inside(w);
        if (c->counting)
                c->stats.needed_bytes += (uint64_t) st.st_blocks * 512;

        /* Private while it fills; its own mode, owner and times come last. */
        if (mkdirat(dst_dirfd, name, 0700) < 0)
                return copy_fail(w, -errno, "Failed to create the copy of");
        _cleanup_close_ int dst = open_dir_noatime_at(dst_dirfd, name);
        if (dst < 0)
                return copy_fail(w, dst, "Failed to open the copy of");

        r = copy_dir(c, d, dst, depth + 1);
        if (r < 0)
                return r;
        r = copy_metadata(w, src, dst, &st, true);
        if (r < 0)
                return r;
        copy_account(w, &(Account){.dirs = 1});
        return 0;
}

/* An entry of a type readdir did not tell, or other than file and folder. */
static int copy_entry(CopyContext *c, int src, int dst, const char *name, unsigned depth) {
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? copy_fail_changed(&c->walker)
                                       : copy_fail(&c->walker, -errno, "Failed to look at");

        switch (st.st_mode & S_IFMT) {
        case S_IFDIR: return copy_subdir(c, src, dst, name, &st, depth);
        case S_IFREG: return copy_regular(c, src, dst, name, &st);
        }
        if (c->counting)
                c->stats.needed_bytes += (uint64_t) st.st_blocks * 512;
        if (S_ISLNK(st.st_mode))
                return copy_symlink(c, src, dst, name, &st);
        return copy_special(c, dst, name, &st);
}

static int copy_dir_entry(CopyContext *c, int src, const struct dirent *de, unsigned depth, void *userdata) {
        int dst = *(const int *) userdata;

        /* Files and folders are looked at through their fd once open; the rest by name. */
        if (de->d_type == DT_REG)
                return copy_regular(c, src, dst, de->d_name, NULL);
        if (de->d_type == DT_DIR)
                return copy_subdir(c, src, dst, de->d_name, NULL, depth);
        return copy_entry(c, src, dst, de->d_name, depth);
}

/* Copies the entries of the folder d into dst (both borrowed). */
int copy_dir(CopyContext *c, DIR *d, int dst, unsigned depth) {
        return copy_walk_dir(c, d, depth, copy_dir_entry, &dst);
}

static int probe_entry(CopyContext *c, int fd, const struct dirent *de, unsigned depth, void *userdata) {
        unsigned char type = de->d_type;
        struct stat st;

        /* An entry that cannot be looked at or opened here is the copy's to report: it meets it too. */
        if (type == DT_UNKNOWN) {
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return 0;
                type = IFTODT(st.st_mode);
        }
        if (type == DT_DIR) {
                _cleanup_close_ int sub = open_dir_noatime_at(fd, de->d_name);
                return sub < 0 ? 0 : walk_folder(c, sub, depth + 1, probe_entry);
        }
        if (type != DT_REG)
                return 0;
        _cleanup_close_ int src = open_source_at(fd, de->d_name);
        if (src < 0 || fstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                return 0;
        _cleanup_close_ int tmp = openat(c->dst_root_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        c->clone = tmp >= 0 && ioctl(tmp, FICLONE, src) >= 0;
        return COPY_WALK_STOP;
}

/* Whether FICLONE works from the data folder fd into the partial folder: tried with the first regular file
 * with data, looked for depth first (usually in the first folder); sets c->clone. 0, or the walk's
 * recorded failure (a folder that cannot be listed fails the copy as well). */
int copy_probe_clone(CopyContext *c, int fd) {
        int r = walk_folder(c, fd, 0, probe_entry);
        return r < 0 ? r : 0;
}
