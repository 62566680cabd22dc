/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy as a whole (backup_copy_tree(), see backup.h and backup-copy-internal.h): checks, snapshot
 * or copy, flush and rename; failures, progress, figures. */

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

static void copy_context_done(CopyContext *c) {
        for (size_t i = 0; i < c->inodes.cap; i++)
                free(c->inodes.entries[i].path);
        free(c->inodes.entries);
        copy_batch_free(c->pending);
        free(c->src_display);
        free(c->dst_display);
        free(c->path);
        free(c->walker.buffer);
        outcome_done(&c->failure);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->work);
        pthread_cond_destroy(&c->space);
}

int copy_path_push(CopyContext *c, const char *name, size_t *ret_old) {
        size_t l = strlen(name), need = c->path_len + 1 + l + 1;
        if (need > c->path_cap) {
                size_t ncap = MAX(need, c->path_cap * 2);
                char *p = realloc(c->path, ncap);
                if (!p)
                        return -ENOMEM;
                c->path = p;
                c->path_cap = ncap;
        }
        *ret_old = c->path_len;
        if (c->path_len > 0)
                c->path[c->path_len++] = '/';
        memcpy(c->path + c->path_len, name, l + 1);
        c->path_len += l;
        return 0;
}

void copy_path_pop(CopyContext *c, size_t old) {
        c->path_len = old;
        c->path[old] = 0;
}

const char *copy_worker_path(Worker *w) {
        return w->path ?: w->c->path;
}

_printf_(3, 4) static int copy_fail_fmt(Worker *w, int r, const char *format, ...) {
        CopyContext *c = w->c;
        assert(r < 0);
        pthread_mutex_lock(&c->lock);
        va_list ap;
        va_start(ap, format);
        (void) outcome_failv(&c->failure, r, format, ap); /* the first failure wins */
        va_end(ap);
        __atomic_store_n(&c->failed, true, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&c->space);
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* "<what> '<data>/<path>': <strerror>." */
int copy_fail(Worker *w, int r, const char *what) {
        const char *p = copy_worker_path(w);
        return copy_fail_fmt(
                w, r, "%s '%s%s%s': %s.", what, w->c->src_display, *p ? "/" : "", p, strerror(-r));
}

int copy_fail_changed(Worker *w) {
        const char *p = copy_worker_path(w);
        return copy_fail_fmt(w, -ESTALE,
                "'%s%s%s' changed during the backup: stop every process that writes to the data folder, "
                "then retry.",
                w->c->src_display, *p ? "/" : "", p);
}

int copy_fail_inside(Worker *w) {
        CopyContext *c = w->c;
        return copy_fail_fmt(w, -ELOOP,
                "The backup folder '%s' lies inside the data folder '%s': set DAEMON_DATA_BACKUP_DIR to a "
                "folder outside '%s'.",
                c->dst_display, c->src_display, c->src_display);
}

/* Under the lock, so that reports come one at a time and never go back: done only grows. */
static void progress_tick_locked(CopyContext *c, bool force) {
        if (!c->progress)
                return;
        usec_t t = now(CLOCK_MONOTONIC);
        if (!force && t < __atomic_load_n(&c->progress_next, __ATOMIC_RELAXED))
                return;
        __atomic_store_n(&c->progress_next, t + BACKUP_PROGRESS_INTERVAL, __ATOMIC_RELAXED);
        uint64_t done = __atomic_load_n(&c->done, __ATOMIC_RELAXED),
                 total = __atomic_load_n(&c->total, __ATOMIC_RELAXED);
        c->progress(total > 0 ? MIN(done, total) : done, total, c->userdata);
}

static void progress_tick(CopyContext *c, bool force) {
        pthread_mutex_lock(&c->lock);
        progress_tick_locked(c, force);
        pthread_mutex_unlock(&c->lock);
}

/* Adds to the thread's figures (and to the current job's share of the progress), and reports progress
 * when it is time: a clock read, not a lock, per call. */
void copy_account(Worker *w, const Account *a) {
        CopyContext *c = w->c;
        w->acc.files += a->files;
        w->acc.dirs += a->dirs;
        w->acc.symlinks += a->symlinks;
        w->acc.hardlinks += a->hardlinks;
        w->acc.specials += a->specials;
        w->acc.skipped += a->skipped;
        w->acc.cloned += a->cloned;
        w->acc.copied += a->copied;
        w->acc.holes += a->holes;
        if (a->done == 0)
                return;
        __atomic_add_fetch(&c->done, a->done, __ATOMIC_RELAXED);
        w->job_done += a->done;
        if (c->progress && now(CLOCK_MONOTONIC) >= __atomic_load_n(&c->progress_next, __ATOMIC_RELAXED))
                progress_tick(c, false);
}

/* Once the thread is done. */
void copy_account_merge(BackupStats *s, const Account *a) {
        s->files += a->files;
        s->dirs += a->dirs;
        s->symlinks += a->symlinks;
        s->hardlinks += a->hardlinks;
        s->specials += a->specials;
        s->skipped += a->skipped;
        s->cloned_bytes += a->cloned;
        s->copied_bytes += a->copied;
        s->hole_bytes += a->holes;
}

/* Whether *flag was still false (and sets it): for warnings given once. */
bool copy_warn_once(CopyContext *c, bool *flag) {
        pthread_mutex_lock(&c->lock);
        bool first = !*flag;
        *flag = true;
        pthread_mutex_unlock(&c->lock);
        return first;
}

static char *fd_display_path(int fd, const char *fallback) {
        char p[STRLEN("/proc/self/fd/") + 12], buf[4096];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, buf, sizeof(buf) - 1);
        if (n <= 0)
                return strdup(fallback);
        buf[n] = 0;
        return strdup(buf);
}

/* Refuses a backup root that is the data folder or lies below it, looking up from the root through "..":
 * the copy would contain itself. (The walk checks every folder it enters too, for bind mounts.) */
static int check_outside(CopyContext *c, int dst_parent_fd, const struct stat *src_st) {
        _cleanup_close_ int fd = fcntl(dst_parent_fd, F_DUPFD_CLOEXEC, 3);
        struct stat st = c->parent_st;
        for (unsigned i = 0; fd >= 0 && i < 4096; i++) {
                if (same_inode(&st, src_st))
                        return copy_fail_inside(&c->walker);
                int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (up < 0)
                        return 0; /* not allowed to look further up; the walk checks again */
                safe_close(fd);
                fd = up;
                struct stat ust;
                if (fstat(fd, &ust) < 0 || same_inode(&ust, &st))
                        return 0; /* at the top */
                st = ust;
        }
        return 0;
}

static int check_space(CopyContext *c) {
        char need[BACKUP_FORMAT_BYTES_MAX], have[BACKUP_FORMAT_BYTES_MAX];
        uint64_t avail;

        int r = fd_free_bytes(c->dst_root_fd, &avail);
        if (r < 0)
                return copy_fail_fmt(&c->walker, r, "Failed to find the free space of '%s': %s.",
                        c->dst_display, strerror(-r));
        c->stats.free_bytes = avail;
        if (c->stats.needed_bytes <= avail)
                return 0;
        return copy_fail_fmt(&c->walker, -ENOSPC, "The backup needs %s but '%s' has %s free: " SPACE_FIX ".",
                backup_format_bytes(need, sizeof(need), c->stats.needed_bytes), c->dst_display,
                backup_format_bytes(have, sizeof(have), avail));
}

/* Out of space (or quota) in the middle: say so with the figures, not as a failed write. */
static void set_space_error(CopyContext *c) {
        char done[BACKUP_FORMAT_BYTES_MAX], total[BACKUP_FORMAT_BYTES_MAX];
        free(c->failure.message);
        if (asprintf(&c->failure.message, "The backup ran out of space in '%s' after %s of %s: " SPACE_FIX ".",
                    c->dst_display, backup_format_bytes(done, sizeof(done), MIN(c->done, c->stats.bytes)),
                    backup_format_bytes(total, sizeof(total), c->stats.bytes)) < 0)
                c->failure.message = NULL;
}

/* The backup as a read-only btrfs snapshot of the data folder, when it is a subvolume and the backup root
 * is on the same file system: one ioctl, the same few milliseconds for any size. Made under its final
 * name directly, not through a partial: the kernel commits the snapshot in a transaction of its own before
 * the ioctl returns, so a folder with the final name is whole and on disk, and a crash leaves the whole
 * snapshot or nothing. Returns 1 when the snapshot is made, 0 when a copy must be made instead (the
 * reason logged: at debug level when the data folder is not on btrfs at all), <0 on failure. */
static int snapshot_tree(CopyContext *c, int src_dirfd, int dst_parent_fd, const char *dst_name) {
        int r = btrfs_is_subvolume_fd(src_dirfd);
        if (r <= 0) {
                if (btrfs_is_fs_fd(src_dirfd) > 0)
                        log_info("The data folder '%s' is not a btrfs subvolume: backing up with a copy that "
                                 "shares data by reflink; make it a subvolume for constant-time snapshots "
                                 "(see 'Backups' in README.md).",
                                c->src_display);
                else
                        log_debug("The data folder '%s' is not on btrfs: no snapshot.", c->src_display);
                return 0;
        }
        r = btrfs_is_fs_fd(dst_parent_fd);
        if (r <= 0) {
                log_info("The backup folder '%s' is not on btrfs, so no snapshot of the subvolume '%s' can be "
                         "made there: copying instead; put DAEMON_DATA_BACKUP_DIR on the data folder's file "
                         "system for constant-time backups.",
                        c->dst_display, c->src_display);
                return 0;
        }
        r = btrfs_subvolume_has_children(src_dirfd);
        if (r != 0) {
                /* A snapshot holds nested subvolumes as empty folders: it would lose their data. */
                if (r > 0)
                        log_info("The data folder '%s' holds other btrfs subvolumes, which a snapshot does not "
                                 "include: copying instead.",
                                c->src_display);
                else
                        log_info_errno(r,
                                "Cannot tell whether the data folder '%s' holds other btrfs subvolumes (%m): "
                                "copying instead of taking a snapshot.",
                                c->src_display);
                return 0;
        }
        r = btrfs_snapshot_at(src_dirfd, dst_parent_fd, dst_name, !c->writable_snapshot);
        if (r == -EEXIST)
                return copy_fail_fmt(&c->walker, r,
                        "The backup folder '%s/%s' appeared during the backup: remove or rename it, then "
                        "retry.",
                        c->dst_display, dst_name);
        if (r < 0) {
                if (r == -EXDEV)
                        log_info("The backup folder '%s' is on another btrfs file system than the data folder "
                                 "'%s': copying instead; put DAEMON_DATA_BACKUP_DIR on the same file system "
                                 "for constant-time snapshots.",
                                c->dst_display, c->src_display);
                else
                        log_info_errno(r,
                                "Cannot take a btrfs snapshot of '%s' in '%s' (%m): copying instead.",
                                c->src_display, c->dst_display);
                return 0;
        }
        c->stats.snapshot = true;
        return 1;
}

static int copy_tree_in(CopyContext *c, int src_dirfd, int dst_parent_fd, const char *partial,
        const char *dst_name, const struct stat *src_st) {
        Worker *w = &c->walker;
        int r;

        r = check_outside(c, dst_parent_fd, src_st);
        if (r < 0)
                return r;

        r = snapshot_tree(c, src_dirfd, dst_parent_fd, dst_name);
        if (r != 0) {
                if (r > 0)
                        progress_tick(c, true);
                return r < 0 ? r : 0;
        }

        if (mkdirat(dst_parent_fd, partial, 0700) < 0)
                return copy_fail_fmt(
                        w, -errno, "Failed to create the folder '%s/%s': %m.", c->dst_display, partial);
        c->dst_root_fd = openat(dst_parent_fd, partial, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->dst_root_fd < 0)
                return copy_fail_fmt(
                        w, -errno, "Failed to open the folder '%s/%s': %m.", c->dst_display, partial);
        /* A setgid backup root would hand its group and setgid bit down to everything we create: start
         * from our own. */
        if (fchown(c->dst_root_fd, c->uid, c->gid) < 0 || fchmod(c->dst_root_fd, 0700) < 0)
                return copy_fail_fmt(
                        w, -errno, "Failed to prepare the folder '%s/%s': %m.", c->dst_display, partial);

        r = copy_probe_clone(c, src_dirfd);
        if (r < 0)
                return r;
        c->stats.cloning = c->clone;
        if (c->clone)
                /* No space to check: the walk learns the totals on its way, and progress reports a total
                 * of 0 (not known yet) until it has seen everything. */
                c->counting = true;
        else {
                /* Totals first, for the free-space check and the progress. */
                r = copy_scan_dir(c, src_dirfd, 0);
                if (r < 0)
                        return r;
                /* The inode table stays: the copy records in it where each hard-linked file went. */
                copy_path_pop(c, 0);
                __atomic_store_n(&c->total, c->stats.bytes, __ATOMIC_RELAXED);
                r = check_space(c);
                if (r < 0)
                        return r;
        }
        progress_tick(c, true);

        /* Cloning is metadata work: read the tree's metadata ahead of the walk (see tree-prefetch.h). */
        TreePrefetch *prefetch =
                c->clone ? tree_prefetch_start(src_dirfd, BACKUP_PREFETCH_THREADS, BACKUP_PREFETCH_STRIDE) : NULL;
        copy_workers_start(c, copy_workers_wanted(c));
        int dfd = copy_dir_reopen(src_dirfd);
        if (dfd < 0)
                r = copy_fail(w, dfd, "Failed to read the folder");
        else {
                _cleanup_closedir_ DIR *d = fdopendir(dfd);
                if (!d) {
                        r = copy_fail(w, -errno, "Failed to read the folder");
                        safe_close(dfd);
                } else
                        r = copy_dir(c, d, c->dst_root_fd, 0);
        }
        if (r >= 0)
                r = copy_batch_submit(c);
        if (r < 0)
                /* Whatever the walk failed on, the workers skip the rest of the queue. */
                __atomic_store_n(&c->failed, true, __ATOMIC_RELEASE);
        else if (c->counting)
                __atomic_store_n(&c->total, c->stats.bytes, __ATOMIC_RELAXED);
        copy_workers_stop(c);
        (void) tree_prefetch_stop(prefetch, false);
        if (r >= 0 && copy_failed(c))
                r = c->failure.error ?: -ECANCELED;
        if (r < 0)
                return r;
        copy_path_pop(c, 0);
        r = copy_metadata(w, src_dirfd, c->dst_root_fd, src_st, true);
        if (r < 0)
                return r;

        /* One flush of the target file system instead of an fsync per file: after it, every file, folder
         * and attribute of the copy is on disk, so the rename below can only publish a complete backup. */
        if (syncfs(c->dst_root_fd) < 0)
                return copy_fail_fmt(
                        w, -errno, "Failed to flush the backup in '%s' to disk: %m.", c->dst_display);
        if (renameat2(dst_parent_fd, partial, dst_parent_fd, dst_name, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY)
                        return copy_fail_fmt(w, -EEXIST,
                                "The backup folder '%s/%s' appeared during the backup: remove or rename it, "
                                "then retry.",
                                c->dst_display, dst_name);
                return copy_fail_fmt(w, -errno, "Failed to rename '%s/%s' to '%s': %m.", c->dst_display,
                        partial, dst_name);
        }
        if (fsync(dst_parent_fd) < 0)
                /* The backup is complete under either name; only its name may not survive a crash, and a
                 * partial is cleaned up at the next start. Not worth failing the upgrade for. */
                log_warning_errno(errno, "Failed to flush the folder '%s', ignoring: %m", c->dst_display);
        __atomic_store_n(&c->total, c->stats.bytes, __ATOMIC_RELAXED);
        __atomic_store_n(&c->done, c->stats.bytes, __ATOMIC_RELAXED);
        progress_tick(c, true);
        return 0;
}

int backup_copy_tree(int src_dirfd, int dst_parent_fd, const char *dst_name, BackupStats *ret_stats,
        void (*progress)(uint64_t done, uint64_t total, void *), void *userdata, char **ret_error) {
        return backup_copy_tree_full(src_dirfd, dst_parent_fd, dst_name, 0, ret_stats, progress, userdata, ret_error);
}

int backup_copy_tree_full(int src_dirfd, int dst_parent_fd, const char *dst_name, BackupCopyFlags flags,
        BackupStats *ret_stats, void (*progress)(uint64_t done, uint64_t total, void *), void *userdata,
        char **ret_error) {

        _cleanup_free_ char *partial = NULL;
        CopyContext c = {
                .dst_root_fd = -EBADF,
                .uid = geteuid(),
                .gid = getegid(),
                .cfr = true,
                .writable_snapshot = flags & BACKUP_COPY_WRITABLE,
                .progress = progress,
                .userdata = userdata,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .work = PTHREAD_COND_INITIALIZER,
                .space = PTHREAD_COND_INITIALIZER,
        };
        c.walker.c = &c;
        struct stat src_st, st;
        int r;

        assert(src_dirfd >= 0);
        assert(dst_parent_fd >= 0);

        if (isempty(dst_name) || strchr(dst_name, '/') || streq(dst_name, ".") || streq(dst_name, "..") ||
                strlen(dst_name) > BACKUP_NAME_MAX)
                return -EINVAL;
        if (asprintf(&partial, BACKUP_PARTIAL_PREFIX "%s", dst_name) < 0)
                return -ENOMEM;

        c.src_display = fd_display_path(src_dirfd, "the data folder");
        c.dst_display = fd_display_path(dst_parent_fd, "the backup folder");
        c.path = strdup("");
        if (!c.src_display || !c.dst_display || !c.path) {
                r = -ENOMEM;
                goto finish;
        }
        c.path_cap = 1;

        if (fstat(src_dirfd, &src_st) < 0 || fstat(dst_parent_fd, &c.parent_st) < 0) {
                r = copy_fail_fmt(&c.walker, -errno, "Failed to look at '%s' or '%s': %m.", c.src_display,
                        c.dst_display);
                goto finish;
        }
        if (same_inode(&src_st, &c.parent_st)) {
                r = copy_fail_inside(&c.walker);
                goto finish;
        }
        r = fstatat(dst_parent_fd, dst_name, &st, AT_SYMLINK_NOFOLLOW) >= 0 ? -EEXIST : -errno;
        if (r == -EEXIST) {
                r = copy_fail_fmt(&c.walker, r,
                        "The backup folder '%s/%s' already exists and a backup is never merged into "
                        "another: remove or rename it, then retry.",
                        c.dst_display, dst_name);
                goto finish;
        }
        if (r != -ENOENT) {
                r = copy_fail_fmt(&c.walker, r, "Failed to look at '%s/%s': %s.", c.dst_display, dst_name,
                        strerror(-r));
                goto finish;
        }
        /* A partial of this very name is a leftover of an interrupted attempt: never resumed, redone. */
        r = backup_remove_at(dst_parent_fd, partial);
        if (r < 0) {
                r = copy_fail_fmt(&c.walker, r, "Failed to remove the unfinished backup '%s/%s': %s.",
                        c.dst_display, partial, strerror(-r));
                goto finish;
        }

        /* Files are created with their final permission bits (see copy_regular()). */
        mode_t saved_umask = umask(0);
        r = copy_tree_in(&c, src_dirfd, dst_parent_fd, partial, dst_name, &src_st);
        (void) umask(saved_umask);
        safe_close(c.dst_root_fd);
        c.dst_root_fd = -EBADF;
        if (r < 0) {
                if (r == -ENOSPC || r == -EDQUOT) {
                        if (!c.failure.message || !strstr(c.failure.message, SPACE_FIX))
                                set_space_error(&c);
                        r = -ENOSPC;
                }
                int k = rm_rf_at(dst_parent_fd, partial);
                if (k < 0)
                        log_warning_errno(k,
                                "Failed to remove the unfinished backup '%s/%s', remove it by hand: %m",
                                c.dst_display, partial);
        }

finish:
        if (r < 0) {
                if (!c.failure.message)
                        c.failure.message = strdup(r == -ENOMEM ? "Out of memory." : "The backup failed.");
                if (ret_error)
                        *ret_error = TAKE_PTR(c.failure.message);
        } else if (ret_stats)
                *ret_stats = c.stats;
        copy_context_done(&c);
        return r;
}
