/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* backup_copy_tree(): the faithful, crash-safe copy of the data folder (see backup.h). One concept, kept
 * in one file although it is long: the walk, the worker threads and the data and metadata copies share
 * one context and one error path. */

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
#include "backup.h"
#include "btrfs-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "tree-prefetch.h"

/* Deep enough for any node's data folder; each level holds two fds while it is copied. */
#define BACKUP_MAX_DEPTH 128
#define BACKUP_PROGRESS_INTERVAL (100 * USEC_PER_MSEC)
/* copy_file_range() per call: large enough to be cheap, small enough for steady progress. */
#define BACKUP_CHUNK ((size_t) 8 * 1024 * 1024)
#define BACKUP_RW_BUFFER ((size_t) 1024 * 1024)
/* Files go to the worker threads in batches, so that a lock and a wake-up are paid per batch, not per
 * file. A batch ends at this many files, or (when copying) at about one chunk of data, so that a large
 * file does not hold up the small ones behind it. */
#define BACKUP_BATCH 16
/* Batches waiting for a worker thread. Each of their files holds two fds: with the walk's own batch and
 * the workers' current ones, at most (BACKUP_QUEUE_MAX + 1 + BACKUP_WORKERS_MAX) * BACKUP_BATCH files are
 * open, far below the usual limit of 1024 fds even with the folder fds of a deep tree. */
#define BACKUP_QUEUE_MAX 4
#define BACKUP_WORKERS_MAX 4
/* Data ranges at least this large are preallocated before they are copied, and their writeback is
 * started in windows of this size as they are copied (see copy_range()). */
#define BACKUP_PREALLOCATE_MIN ((uint64_t) 1024 * 1024)
#define BACKUP_WRITEBACK_WINDOW ((uint64_t) 256 * 1024 * 1024)

/* Threads that read the metadata ahead of a cloning walk, and every how many entries they look at one.
 * Measured (btrfs, 8,000 files, cold cache): the backup 392 -> 340 ms (median of 6; every entry, or two
 * threads: less gain); no change warm or on xfs, whose walk waits less on reads. */
#define BACKUP_PREFETCH_THREADS 3
#define BACKUP_PREFETCH_STRIDE 16

#define SPACE_FIX "free space, set DAEMON_DATA_BACKUP_DIR to a larger disk, or UNSAFE_SKIP_BACKUP=true"

/* The walk (the calling thread) creates every entry in the order it meets them and hands regular files,
 * open on both sides, in batches to a few worker threads, which share or copy their data and set their
 * metadata. Folders get their metadata from the walk once all their entries exist (writing into a file
 * does not change its folder); the top folder, the flush and the rename come after every worker is done.
 *
 * Cloning is metadata work, a handful of system calls per file: the walk runs a batch itself rather than
 * wait when the workers are behind, and the tree is walked once (the totals are learnt on the way).
 * Copying waits on the disk: the tree is scanned first (for the free-space check), the walk starts the
 * reading of each file as it opens it (so that many small reads are in flight at once, not one per
 * worker), and the workers copy several files at a time.
 *
 * Measured (bench/backup, 8,000 files, 2 CPUs): a clone costs 8 system calls per file (open, fstat,
 * create, FICLONE, flistxattr, futimens, 2 closes), all needed for the guarantees, and the time is kernel
 * CPU in the file system (inode creation and the remap each take about a fifth of it, btrfs serialises
 * both on its tree locks), not waiting for the disk; syncfs, rename and fsync are about a tenth. On a
 * cold cache the walk also waits for metadata reads, one at a time: a few prefetch threads read it ahead
 * (tree-prefetch.h). Tried and dropped, as no faster or slower: no worker thread (xfs 1.45x slower), two
 * workers, creating the files in the workers rather than in the walk, a single thread that stats the
 * tree ahead of the walk (all or every 16th entry: its reads are as serial as the walk's), the backup
 * as a btrfs subvolume of its own (no contention on the tree's root lock with the reads of the data
 * folder: 0.27 -> 0.25 s warm, not worth a folder that snapshots and quotas treat differently). */

typedef struct InodeEntry {
        dev_t dev;
        ino_t ino;
        bool used;
        char *path; /* where the first name was copied to, relative to the copy's top folder */
} InodeEntry;

typedef struct InodeSet {
        InodeEntry *entries;
        size_t n, cap;
} InodeSet;

typedef struct CopyContext CopyContext;

/* Figures of one thread, added up when the threads are done. */
typedef struct Account {
        uint64_t files, dirs, symlinks, hardlinks, specials, skipped;
        uint64_t cloned, copied, holes;
        uint64_t done;
} Account;

/* One thread's view: the entry it works on (for messages), its read/write buffer and its figures. */
typedef struct Worker {
        CopyContext *c;
        pthread_t thread;
        const char *path; /* relative to the top folder; NULL: the walk's current entry */
        uint64_t job_done;
        uint8_t *buffer;
        Account acc;
} Worker;

/* A regular file for a worker: both fds are the job's. */
typedef struct Job {
        int src, dst;
        struct stat st;
        char *path;
} Job;

typedef struct Batch {
        size_t n;
        uint64_t bytes; /* allocated size of its files, when copying */
        Job jobs[BACKUP_BATCH];
} Batch;

struct CopyContext {
        int dst_root_fd; /* the partial folder */
        struct stat parent_st; /* the backup root, which must not lie inside the data folder */
        uid_t uid;
        gid_t gid;
        bool clone; /* try FICLONE (set before the workers start) */
        bool writable_snapshot; /* BACKUP_COPY_WRITABLE: a snapshot is made writable */
        bool counting; /* the walk adds up the totals (no scan before it) */
        bool cfr; /* try copy_file_range() (atomic) */
        bool failed; /* atomic */

        char *src_display; /* the data folder's path, for messages */
        char *dst_display; /* the backup root's path, for messages */
        char *path; /* the walk's current entry, relative to the top folder ("" at the top) */
        size_t path_len, path_cap;
        InodeSet inodes; /* the walk's only */
        Batch *pending; /* the walk's batch being filled */
        BackupStats stats; /* the totals: the scan's or the walk's; the rest is added up at the end */

        Worker walker;
        Worker *workers;
        unsigned n_workers;

        /* Atomic: progress figures (total 0: not known yet), the time of the next report. */
        uint64_t done, total;
        usec_t progress_next;

        /* Below: under lock. */
        pthread_mutex_t lock;
        pthread_cond_t work, space;
        Batch *queue[BACKUP_QUEUE_MAX];
        size_t q_head, q_len;
        unsigned idle; /* workers waiting for work */
        bool closing;
        bool warned_owner, warned_xattr;
        char *error;
        int error_code;
        void (*progress)(uint64_t, uint64_t, void *);
        void *userdata;
};

static void batch_free(Batch *b);

static void copy_context_done(CopyContext *c) {
        for (size_t i = 0; i < c->inodes.cap; i++)
                free(c->inodes.entries[i].path);
        free(c->inodes.entries);
        batch_free(c->pending);
        free(c->src_display);
        free(c->dst_display);
        free(c->path);
        free(c->walker.buffer);
        free(c->error);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->work);
        pthread_cond_destroy(&c->space);
}

static bool copy_failed(CopyContext *c) {
        return __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE);
}

static size_t inode_hash(dev_t dev, ino_t ino, size_t cap) {
        uint64_t h = ((uint64_t) ino * UINT64_C(0x9E3779B97F4A7C15)) ^
                ((uint64_t) dev * UINT64_C(0xC2B2AE3D27D4EB4F));
        return (size_t) (h ^ (h >> 29)) & (cap - 1);
}

/* The entry for (dev, ino), added when missing (*ret_added). The pointer is valid until the next call. */
static InodeEntry *inode_set_get(InodeSet *s, dev_t dev, ino_t ino, bool *ret_added) {
        if ((s->n + 1) * 2 > s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 64;
                InodeEntry *ne = new0(InodeEntry, ncap);
                if (!ne)
                        return NULL;
                for (size_t i = 0; i < s->cap; i++) {
                        if (!s->entries[i].used)
                                continue;
                        size_t j = inode_hash(s->entries[i].dev, s->entries[i].ino, ncap);
                        while (ne[j].used)
                                j = (j + 1) & (ncap - 1);
                        ne[j] = s->entries[i];
                }
                free(s->entries);
                s->entries = ne;
                s->cap = ncap;
        }
        size_t j = inode_hash(dev, ino, s->cap);
        while (s->entries[j].used) {
                if (s->entries[j].dev == dev && s->entries[j].ino == ino) {
                        *ret_added = false;
                        return &s->entries[j];
                }
                j = (j + 1) & (s->cap - 1);
        }
        s->entries[j] = (InodeEntry){.dev = dev, .ino = ino, .used = true};
        s->n++;
        *ret_added = true;
        return &s->entries[j];
}

static int path_push(CopyContext *c, const char *name, size_t *ret_old) {
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

static void path_pop(CopyContext *c, size_t old) {
        c->path_len = old;
        c->path[old] = 0;
}

static const char *worker_path(Worker *w) {
        return w->path ?: w->c->path;
}

/* Records the first failure, as a one-line sentence (formatted under the lock, once), and stops the
 * others. */
static int copy_fail_fmt(Worker *w, int r, const char *format, ...) _printf_(3, 4);
static int copy_fail_fmt(Worker *w, int r, const char *format, ...) {
        CopyContext *c = w->c;
        assert(r < 0);
        pthread_mutex_lock(&c->lock);
        if (!c->error_code) {
                va_list ap;
                va_start(ap, format);
                errno = -r; /* for %m */
                if (vasprintf(&c->error, format, ap) < 0)
                        c->error = NULL;
                va_end(ap);
                c->error_code = r;
        }
        __atomic_store_n(&c->failed, true, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&c->space);
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* "<what> '<data>/<path>': <strerror>." */
static int copy_fail(Worker *w, int r, const char *what) {
        const char *p = worker_path(w);
        return copy_fail_fmt(
                w, r, "%s '%s%s%s': %s.", what, w->c->src_display, *p ? "/" : "", p, strerror(-r));
}

static int copy_fail_changed(Worker *w) {
        const char *p = worker_path(w);
        return copy_fail_fmt(w, -ESTALE,
                "'%s%s%s' changed during the backup: stop every process that writes to the data folder, "
                "then retry.",
                w->c->src_display, *p ? "/" : "", p);
}

static int fail_inside(Worker *w) {
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
static void account(Worker *w, const Account *a) {
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
static void account_merge(BackupStats *s, const Account *a) {
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
static bool warn_once(CopyContext *c, bool *flag) {
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

/* A new open file description of the folder fd, with its own read position, for one listing. */
static int dir_reopen(int fd) {
        return open_dir_noatime_at(fd, ".");
}

static bool same_inode(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The first pass when copying: totals for progress and for the free-space check (and the check that the
 * backup root is not inside the data folder). */
static int scan_dir(CopyContext *c, int fd, unsigned depth) {
        Worker *w = &c->walker;
        int r;

        if (depth > BACKUP_MAX_DEPTH)
                return copy_fail(w, -ELOOP, "Too many nested folders below");
        int dfd = dir_reopen(fd);
        if (dfd < 0)
                return copy_fail(w, dfd, "Failed to read the folder");
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                safe_close(dfd);
                return copy_fail(w, r, "Failed to read the folder");
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return copy_fail(w, -errno, "Failed to read the folder");
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;

                size_t old;
                r = path_push(c, de->d_name, &old);
                if (r < 0)
                        return r;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return errno == ENOENT ? copy_fail_changed(w)
                                               : copy_fail(w, -errno, "Failed to look at");

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
                                return fail_inside(w);
                        _cleanup_close_ int sub = open_dir_noatime_at(fd, de->d_name);
                        if (sub < 0)
                                return sub == -ENOENT ? copy_fail_changed(w)
                                                      : copy_fail(w, sub, "Failed to open");
                        r = scan_dir(c, sub, depth + 1);
                        if (r < 0)
                                return r;
                }
                path_pop(c, old);
        }
        return 0;
}

/* always_chmod: the entry was not created with its final permission bits. */
static int copy_owner_mode(Worker *w, int fd, const struct stat *st, bool always_chmod) {
        CopyContext *c = w->c;
        if ((st->st_uid != c->uid || st->st_gid != c->gid) && fchown(fd, st->st_uid, st->st_gid) < 0) {
                if (c->uid == 0 || (errno != EPERM && errno != EINVAL))
                        return copy_fail(w, -errno, "Failed to set the owner of the copy of");
                /* As an unprivileged user (the node's own user) we cannot give files away; cp -a does
                 * the same. */
                if (warn_once(c, &c->warned_owner))
                        log_warning(
                                "Cannot keep the owner of '%s/%s' (%u:%u) in the backup as uid %u, keeping "
                                "the other owners unchanged too: run oraivisor as root to keep them.",
                                c->src_display, worker_path(w), (unsigned) st->st_uid, (unsigned) st->st_gid,
                                (unsigned) c->uid);
        }
        /* After chown, which clears setuid/setgid. */
        if ((always_chmod || (st->st_mode & 07000)) && fchmod(fd, st->st_mode & 07777) < 0)
                return copy_fail(w, -errno, "Failed to set the mode of the copy of");
        return 0;
}

static bool xattr_unsupported(int e) {
        return e == EOPNOTSUPP || e == ENOSYS || e == EPERM || e == EACCES || e == EINVAL;
}

/* The attribute names of src into buf (of size *size, on the stack), or into a *ret_heap buffer when they
 * do not fit. Returns the length of the list (0: none, the usual case, in one call). */
static ssize_t list_xattrs(int src, char *buf, size_t size, char **ret_heap) {
        ssize_t n = flistxattr(src, buf, size);
        while (n < 0 && errno == ERANGE) {
                n = flistxattr(src, NULL, 0);
                if (n < 0)
                        break;
                free(*ret_heap);
                *ret_heap = malloc((size_t) n + 1);
                if (!*ret_heap) {
                        errno = ENOMEM;
                        return -1;
                }
                n = flistxattr(src, *ret_heap, (size_t) n);
        }
        return n;
}

/* The value of the attribute k of src, as list_xattrs() does the names. -1 with errno ENODATA: gone. */
static ssize_t get_xattr(int src, const char *k, void *buf, size_t size, void **ret_heap) {
        ssize_t n = fgetxattr(src, k, buf, size);
        while (n < 0 && errno == ERANGE) {
                n = fgetxattr(src, k, NULL, 0);
                if (n < 0)
                        break;
                free(*ret_heap);
                *ret_heap = malloc((size_t) n + 1);
                if (!*ret_heap) {
                        errno = ENOMEM;
                        return -1;
                }
                n = fgetxattr(src, k, *ret_heap, (size_t) n);
        }
        return n;
}

static int copy_xattrs(Worker *w, int src, int dst) {
        CopyContext *c = w->c;
        char names_buf[512];
        _cleanup_free_ char *names_heap = NULL;

        ssize_t n = list_xattrs(src, names_buf, sizeof(names_buf), &names_heap);
        if (n < 0) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                return xattr_unsupported(errno) ? 0
                                                : copy_fail(w, -errno, "Failed to list the attributes of");
        }
        const char *names = names_heap ?: names_buf;
        for (const char *k = names; k < names + n; k += strlen(k) + 1) {
                char value_buf[1024];
                _cleanup_free_ void *value_heap = NULL;
                ssize_t vl = get_xattr(src, k, value_buf, sizeof(value_buf), &value_heap);
                if (vl < 0) {
                        if (errno == ENODATA)
                                continue;
                        if (errno == ENOMEM)
                                return -ENOMEM;
                        return copy_fail(w, -errno, "Failed to read an attribute of");
                }
                if (fsetxattr(dst, k, value_heap ?: value_buf, (size_t) vl, 0) < 0) {
                        if (errno == ENOSPC || errno == EDQUOT)
                                return copy_fail(w, -errno, "Failed to copy an attribute of");
                        int e = errno;
                        if (warn_once(c, &c->warned_xattr))
                                log_warning_errno(e,
                                        "Cannot store the extended attribute '%s' of '%s/%s' in the backup, "
                                        "ignoring it and any other such attribute: %m",
                                        k, c->src_display, worker_path(w));
                }
        }
        return 0;
}

static int copy_times(Worker *w, int fd, const struct stat *st) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (futimens(fd, ts) < 0)
                return copy_fail(w, -errno, "Failed to set the times of the copy of");
        return 0;
}

/* Owner, mode, extended attributes and times, in that order: chown clears setuid bits and capabilities,
 * setting an ACL adjusts the mode, and each of them changes ctime but not the times we set last. */
static int copy_metadata(Worker *w, int src, int dst, const struct stat *st, bool always_chmod) {
        int r = copy_owner_mode(w, dst, st, always_chmod);
        if (r < 0)
                return r;
        r = copy_xattrs(w, src, dst);
        if (r < 0)
                return r;
        return copy_times(w, dst, st);
}

static int copy_range_rw(Worker *w, int src, int dst, off_t off, uint64_t len) {
        if (!w->buffer) {
                w->buffer = malloc(BACKUP_RW_BUFFER);
                if (!w->buffer)
                        return -ENOMEM;
        }
        while (len > 0) {
                ssize_t n = pread(src, w->buffer, MIN(len, (uint64_t) BACKUP_RW_BUFFER), off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return copy_fail(w, -errno, "Failed to read");
                }
                if (n == 0)
                        break; /* shrank under us; the size is set at the end */
                for (ssize_t k = 0; k < n;) {
                        ssize_t m = pwrite(dst, w->buffer + k, (size_t) (n - k), off + k);
                        if (m < 0) {
                                if (errno == EINTR)
                                        continue;
                                return copy_fail(w, -errno, "Failed to write the copy of");
                        }
                        k += m;
                }
                off += n;
                len -= (uint64_t) n;
                account(w, &(Account){.copied = (uint64_t) n, .done = (uint64_t) n});
                if (copy_failed(w->c))
                        return w->c->error_code ?: -ECANCELED;
        }
        return 0;
}

/* Copies [off, off+len) to the same offset of dst. */
static int copy_range(Worker *w, int src, int dst, off_t off, uint64_t len) {
        CopyContext *c = w->c;
        off_t end = off + (off_t) len, written = off;
        bool large = len >= BACKUP_PREALLOCATE_MIN;

        /* Reserve a large range in one piece first: files copied side by side by several workers would
         * otherwise get their blocks interleaved, a fragmented copy that is slower to write and to read
         * back (and on ext4 takes extent tree blocks beyond its source's size). Not all file systems can. */
        if (large && fallocate(dst, FALLOC_FL_KEEP_SIZE, off, (off_t) len) < 0 &&
                (errno == ENOSPC || errno == EDQUOT))
                return copy_fail(w, -errno, "Failed to copy");
        while (len > 0 && __atomic_load_n(&c->cfr, __ATOMIC_RELAXED)) {
                size_t want = (size_t) MIN(len, (uint64_t) BACKUP_CHUNK);
                /* Keep the disk busy: ask for the next chunks while this one is copied (readahead alone
                 * reads a few hundred KiB at a time). */
                if (off + (off_t) want < end)
                        (void) posix_fadvise(src, off + (off_t) want, 2 * BACKUP_CHUNK, POSIX_FADV_WILLNEED);
                loff_t in = off, out = off;
                ssize_t n = copy_file_range(src, &in, dst, &out, want, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                                errno == EBADF) {
                                /* Not between these file systems, or not on this kernel: read/write from
                                 * here on. */
                                __atomic_store_n(&c->cfr, false, __ATOMIC_RELAXED);
                                break;
                        }
                        return copy_fail(w, -errno, "Failed to copy");
                }
                if (n == 0)
                        break; /* shrank under us; the size is set at the end */
                off += n;
                len -= (uint64_t) n;
                account(w, &(Account){.copied = (uint64_t) n, .done = (uint64_t) n});
                if (copy_failed(c))
                        return c->error_code ?: -ECANCELED;
                /* Start writing a large range out now rather than all at the final syncfs(), so that
                 * writing overlaps with reading the next files. Only starts the writeback (durability is
                 * syncfs()'s job), and in large windows: a window written at once fills its preallocated
                 * extents whole, while many small writebacks would split them (each costing a journal
                 * handle on ext4). Small files are left to syncfs(), which writes them together. */
                if (large && (len == 0 || off - written >= (off_t) BACKUP_WRITEBACK_WINDOW)) {
                        (void) sync_file_range(dst, written, off - written, SYNC_FILE_RANGE_WRITE);
                        written = off;
                }
        }
        return len > 0 && !__atomic_load_n(&c->cfr, __ATOMIC_RELAXED) ? copy_range_rw(w, src, dst, off, len)
                                                                      : 0;
}

static int copy_data(Worker *w, int src, int dst, const struct stat *st) {
        uint64_t size = (uint64_t) st->st_size;
        int r;

        /* Fewer blocks than the size: there may be holes, so walk the data segments. Otherwise copy it all
         * (a file with holes and preallocated space is then copied densely, as cp does). */
        if ((uint64_t) st->st_blocks * 512 >= size)
                return copy_range(w, src, dst, 0, size);

        uint64_t off = 0;
        while (off < size) {
                off_t data = lseek(src, (off_t) off, SEEK_DATA);
                if (data < 0) {
                        if (errno == ENXIO)
                                break; /* only a hole is left */
                        if (errno == EINVAL || errno == EOPNOTSUPP) {
                                r = copy_range(w, src, dst, (off_t) off, size - off);
                                if (r < 0)
                                        return r;
                                off = size;
                                break;
                        }
                        return copy_fail(w, -errno, "Failed to find the data of");
                }
                if ((uint64_t) data >= size)
                        break;
                off_t hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        return copy_fail(w, -errno, "Failed to find the holes of");
                uint64_t end = MIN((uint64_t) hole, size);
                account(w, &(Account){.holes = (uint64_t) data - off, .done = (uint64_t) data - off});
                r = copy_range(w, src, dst, data, end - (uint64_t) data);
                if (r < 0)
                        return r;
                off = end;
        }
        if (off < size)
                account(w, &(Account){.holes = size - off, .done = size - off});
        /* A hole at the end is not written: the size makes it. */
        if (ftruncate(dst, (off_t) size) < 0)
                return copy_fail(w, -errno, "Failed to set the size of the copy of");
        return 0;
}

static bool clone_fallback(int e) {
        /* Not supported here (file system, kernel, another file system below a mount point), or not for
         * this file (btrfs refuses to share extents between nodatacow and datacow files): copy it. */
        return e == EOPNOTSUPP || e == ENOTTY || e == EXDEV || e == EINVAL || e == ENOSYS || e == EPERM ||
                e == ETXTBSY || e == EBADF;
}

/* Shares or copies the data of one file and sets its metadata. Closes the job's fds. */
static int job_run(Worker *w, Job *j) {
        CopyContext *c = w->c;
        uint64_t size = (uint64_t) j->st.st_size;
        int r = 0;

        w->path = j->path;
        w->job_done = 0;
        if (copy_failed(c)) {
                r = c->error_code ?: -ECANCELED;
                goto finish;
        }

        bool cloned = false;
        if (size > 0 && c->clone) {
                if (ioctl(j->dst, FICLONE, j->src) >= 0) {
                        cloned = true;
                        account(w, &(Account){.cloned = size});
                } else if (!clone_fallback(errno)) {
                        r = copy_fail(w, -errno, "Failed to clone");
                        goto finish;
                }
        }
        if (!cloned && size > 0) {
                if (size > BACKUP_CHUNK)
                        (void) posix_fadvise(j->src, 0, 0, POSIX_FADV_SEQUENTIAL);
                r = copy_data(w, j->src, j->dst, &j->st);
                if (r < 0)
                        goto finish;
        }
        r = copy_metadata(w, j->src, j->dst, &j->st, false);
        if (r < 0)
                goto finish;
        /* The file's share of the progress is its size, however it was made. */
        account(w, &(Account){.files = 1, .done = size - MIN(w->job_done, size)});

finish:
        /* Failures above are recorded already, except running out of memory: record that too, so that
         * the walk stops. */
        if (r < 0 && !copy_failed(c))
                (void) copy_fail(w, r, "Failed to copy");
        j->src = safe_close(j->src);
        j->dst = safe_close(j->dst);
        j->path = mfree(j->path);
        w->path = NULL;
        return r;
}

/* Closes what a batch holds (after a failure, its jobs are not run) and frees it. NULL-safe. */
static void batch_free(Batch *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++) {
                safe_close(b->jobs[i].src);
                safe_close(b->jobs[i].dst);
                free(b->jobs[i].path);
        }
        free(b);
}

/* Runs every job of the batch (after a failure they only close their fds), frees it, and returns the
 * first error. */
static int batch_run(Worker *w, Batch *b) {
        int ret = 0;
        for (size_t i = 0; i < b->n; i++) {
                int r = job_run(w, &b->jobs[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        b->n = 0;
        batch_free(b);
        return ret;
}

/* Under the lock: the oldest waiting batch, or NULL. */
static Batch *queue_pop_locked(CopyContext *c) {
        if (c->q_len == 0)
                return NULL;
        Batch *b = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % BACKUP_QUEUE_MAX;
        c->q_len--;
        pthread_cond_signal(&c->space);
        return b;
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;
        CopyContext *c = w->c;

        pthread_mutex_lock(&c->lock);
        for (;;) {
                Batch *b = queue_pop_locked(c);
                if (!b) {
                        if (c->closing)
                                break;
                        c->idle++;
                        pthread_cond_wait(&c->work, &c->lock);
                        c->idle--;
                        continue;
                }
                pthread_mutex_unlock(&c->lock);
                (void) batch_run(w, b); /* a failure is recorded in c */
                pthread_mutex_lock(&c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        free(w->buffer);
        w->buffer = NULL;
        return NULL;
}

/* Cloning keeps a CPU busy with system calls, and the walk is one more thread that does its share (it
 * runs batches itself when the workers are behind): one worker per further CPU. Copying waits on the
 * disk, where more files in flight help: more workers than CPUs. */
static unsigned workers_wanted(const CopyContext *c) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (c->clone)
                return (unsigned) MIN(MAX(n - 1, 1L), (long) BACKUP_WORKERS_MAX);
        return BACKUP_WORKERS_MAX;
}

/* Starts up to n worker threads (none: the walk runs the jobs itself). All signals stay blocked in them:
 * they are the walk's business (our worker process is simply killed). */
static void workers_start(CopyContext *c, unsigned n) {
        sigset_t all, saved;
        c->workers = new0(Worker, n);
        if (!c->workers)
                return;
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
        for (unsigned i = 0; i < n; i++) {
                c->workers[c->n_workers] = (Worker){.c = c};
                if (pthread_create(&c->workers[c->n_workers].thread, NULL, worker_main,
                            &c->workers[c->n_workers]) != 0)
                        break;
                c->n_workers++;
        }
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* The walk is over: it helps to finish the queue (or skip it, after a failure), joins the workers and
 * adds up everybody's figures. */
static void workers_stop(CopyContext *c) {
        pthread_mutex_lock(&c->lock);
        c->closing = true;
        pthread_cond_broadcast(&c->work);
        for (;;) {
                Batch *b = queue_pop_locked(c);
                if (!b)
                        break;
                pthread_mutex_unlock(&c->lock);
                (void) batch_run(&c->walker, b);
                pthread_mutex_lock(&c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        for (unsigned i = 0; i < c->n_workers; i++) {
                (void) pthread_join(c->workers[i].thread, NULL);
                account_merge(&c->stats, &c->workers[i].acc);
        }
        account_merge(&c->stats, &c->walker.acc);
        c->walker.acc = (Account){};
        c->n_workers = 0;
        c->workers = mfree(c->workers);
}

/* Hands the walk's batch to the workers. When they are behind: while cloning, the walk runs it itself
 * (the work is CPU-bound, and waiting would leave a CPU idle); while copying, it waits for room (the
 * work waits on the disk, and a large file would hold up the walk). */
static int batch_submit(CopyContext *c) {
        Batch *b = TAKE_PTR(c->pending);
        if (!b)
                return 0;
        if (c->n_workers == 0)
                return batch_run(&c->walker, b);

        pthread_mutex_lock(&c->lock);
        while (c->q_len == BACKUP_QUEUE_MAX && !copy_failed(c) && !c->clone)
                pthread_cond_wait(&c->space, &c->lock);
        if (copy_failed(c)) {
                int r = c->error_code ?: -ECANCELED;
                pthread_mutex_unlock(&c->lock);
                batch_free(b);
                return r;
        }
        if (c->q_len == BACKUP_QUEUE_MAX) {
                pthread_mutex_unlock(&c->lock);
                return batch_run(&c->walker, b);
        }
        c->queue[(c->q_head + c->q_len) % BACKUP_QUEUE_MAX] = b;
        c->q_len++;
        if (c->idle > 0)
                pthread_cond_signal(&c->work);
        pthread_mutex_unlock(&c->lock);
        return 0;
}

/* Adds a file to the walk's batch (taking its fds and path, also on failure), which is handed over when
 * it is full. */
static int job_add(CopyContext *c, Job *j) {
        if (!c->pending) {
                c->pending = new0(Batch, 1);
                if (!c->pending) {
                        safe_close(j->src);
                        safe_close(j->dst);
                        free(j->path);
                        return -ENOMEM;
                }
        }
        Batch *b = c->pending;
        b->jobs[b->n++] = *j;
        if (!c->clone)
                b->bytes += (uint64_t) j->st.st_blocks * 512;
        if (b->n == BACKUP_BATCH || b->bytes >= BACKUP_CHUNK)
                return batch_submit(c);
        return 0;
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
        account(w, &(Account){.hardlinks = 1});
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
        return job_add(c, &j);
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
        account(w, &(Account){.symlinks = 1});
        return 0;
}

static int copy_special(CopyContext *c, int dst_dirfd, const char *name, const struct stat *st) {
        Worker *w = &c->walker;
        if (S_ISSOCK(st->st_mode)) {
                log_warning("Not backing up the socket '%s/%s': a socket cannot be copied, the daemon "
                            "creates it again when it starts.",
                        c->src_display, c->path);
                account(w, &(Account){.skipped = 1});
                return 0;
        }
        if (mknodat(dst_dirfd, name, (st->st_mode & S_IFMT) | 0600,
                    S_ISFIFO(st->st_mode) ? 0 : st->st_rdev) < 0) {
                if (errno == EPERM && !S_ISFIFO(st->st_mode)) {
                        log_warning("Not backing up the device node '%s/%s' (%u:%u): only root may create "
                                    "one; run oraivisor as root to keep it.",
                                c->src_display, c->path, major(st->st_rdev), minor(st->st_rdev));
                        account(w, &(Account){.skipped = 1});
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
        account(w, &(Account){.specials = 1});
        return 0;
}

static int copy_dir(CopyContext *c, DIR *d, int dst, unsigned depth);

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
                return fail_inside(w);
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
        account(w, &(Account){.dirs = 1});
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

/* Copies the entries of the folder d into dst (both borrowed). */
static int copy_dir(CopyContext *c, DIR *d, int dst, unsigned depth) {
        Worker *w = &c->walker;
        int src = dirfd(d), r;

        if (depth > BACKUP_MAX_DEPTH)
                return copy_fail(w, -ELOOP, "Too many nested folders below");
        for (;;) {
                if (copy_failed(c))
                        return c->error_code ?: -ECANCELED;
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return copy_fail(w, -errno, "Failed to read the folder");
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;

                size_t old;
                r = path_push(c, de->d_name, &old);
                if (r < 0)
                        return r;
                /* Files and folders are looked at through their fd once open; the rest by name. */
                if (de->d_type == DT_REG)
                        r = copy_regular(c, src, dst, de->d_name, NULL);
                else if (de->d_type == DT_DIR)
                        r = copy_subdir(c, src, dst, de->d_name, NULL, depth);
                else
                        r = copy_entry(c, src, dst, de->d_name, depth);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

/* Whether FICLONE works from the data folder into the partial folder: tried with the first regular file
 * with data, looked for depth first (usually in the first folder). Returns false when there is none.
 * Problems are left to the copy, which meets the same entries. */
static bool probe_clone(CopyContext *c, int fd, unsigned depth) {
        if (depth > BACKUP_MAX_DEPTH)
                return false;
        int dfd = dir_reopen(fd);
        if (dfd < 0)
                return false;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return false;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                unsigned char type = de->d_type;
                struct stat st;
                if (type == DT_UNKNOWN) {
                        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        type = IFTODT(st.st_mode);
                }
                if (type == DT_DIR) {
                        _cleanup_close_ int sub = open_dir_noatime_at(fd, de->d_name);
                        if (sub >= 0 && probe_clone(c, sub, depth + 1))
                                return true;
                        continue;
                }
                if (type != DT_REG)
                        continue;
                _cleanup_close_ int src = open_source_at(fd, de->d_name);
                if (src < 0 || fstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                        continue;
                _cleanup_close_ int tmp =
                        openat(c->dst_root_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
                c->clone = tmp >= 0 && ioctl(tmp, FICLONE, src) >= 0;
                return true;
        }
        return false;
}

/* Refuses a backup root that is the data folder or lies below it, looking up from the root through "..":
 * the copy would contain itself. (The walk checks every folder it enters too, for bind mounts.) */
static int check_outside(CopyContext *c, int dst_parent_fd, const struct stat *src_st) {
        _cleanup_close_ int fd = fcntl(dst_parent_fd, F_DUPFD_CLOEXEC, 3);
        struct stat st = c->parent_st;
        for (unsigned i = 0; fd >= 0 && i < 4096; i++) {
                if (same_inode(&st, src_st))
                        return fail_inside(&c->walker);
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
        free(c->error);
        if (asprintf(&c->error, "The backup ran out of space in '%s' after %s of %s: " SPACE_FIX ".",
                    c->dst_display, backup_format_bytes(done, sizeof(done), MIN(c->done, c->stats.bytes)),
                    backup_format_bytes(total, sizeof(total), c->stats.bytes)) < 0)
                c->error = NULL;
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

        (void) probe_clone(c, src_dirfd, 0);
        c->stats.cloning = c->clone;
        if (c->clone)
                /* No space to check: the walk learns the totals on its way, and progress reports a total
                 * of 0 (not known yet) until it has seen everything. */
                c->counting = true;
        else {
                /* Totals first, for the free-space check and the progress. */
                r = scan_dir(c, src_dirfd, 0);
                if (r < 0)
                        return r;
                /* The inode table stays: the copy records in it where each hard-linked file went. */
                path_pop(c, 0);
                __atomic_store_n(&c->total, c->stats.bytes, __ATOMIC_RELAXED);
                r = check_space(c);
                if (r < 0)
                        return r;
        }
        progress_tick(c, true);

        /* Cloning is metadata work: read the tree's metadata ahead of the walk (see tree-prefetch.h). */
        TreePrefetch *prefetch =
                c->clone ? tree_prefetch_start(src_dirfd, BACKUP_PREFETCH_THREADS, BACKUP_PREFETCH_STRIDE) : NULL;
        workers_start(c, workers_wanted(c));
        int dfd = dir_reopen(src_dirfd);
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
                r = batch_submit(c);
        if (r < 0)
                /* Whatever the walk failed on, the workers skip the rest of the queue. */
                __atomic_store_n(&c->failed, true, __ATOMIC_RELEASE);
        else if (c->counting)
                __atomic_store_n(&c->total, c->stats.bytes, __ATOMIC_RELAXED);
        workers_stop(c);
        (void) tree_prefetch_stop(prefetch, false);
        if (r >= 0 && copy_failed(c))
                r = c->error_code ?: -ECANCELED;
        if (r < 0)
                return r;
        path_pop(c, 0);
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
                r = fail_inside(&c.walker);
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
                        if (!c.error || !strstr(c.error, SPACE_FIX))
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
                if (!c.error)
                        c.error = strdup(r == -ENOMEM ? "Out of memory." : "The backup failed.");
                if (ret_error)
                        *ret_error = TAKE_PTR(c.error);
        } else if (ret_stats)
                *ret_stats = c.stats;
        copy_context_done(&c);
        return r;
}
