/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* backup_copy_tree() (backup.h), between the files it is split into: one context (CopyContext) and one
 * error path (copy_fail*: the first failure wins and stops every thread), shared by the walk, the worker
 * threads and the data and metadata copies. Not an API: only src/shared/backup-copy*.c include it.
 *
 * The walk (the calling thread) creates every entry in the order it meets them and hands regular files,
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

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>

#include "backup.h"
#include "macro.h"
#include "outcome.h"
#include "time-util.h"

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
        Outcome failure; /* the first failure of any thread */
        void (*progress)(uint64_t, uint64_t, void *);
        void *userdata;
};

static inline bool copy_failed(CopyContext *c) {
        return __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE);
}

static inline bool same_inode(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* backup-copy.c: the copy as a whole: checks, snapshot or copy, flush and rename; failures, progress */
int copy_path_push(CopyContext *c, const char *name, size_t *ret_old);
void copy_path_pop(CopyContext *c, size_t old);
const char *copy_worker_path(Worker *w);
int copy_fail(Worker *w, int r, const char *what);
int copy_fail_changed(Worker *w);
int copy_fail_inside(Worker *w);
void copy_account(Worker *w, const Account *a);
void copy_account_merge(BackupStats *s, const Account *a);
bool copy_warn_once(CopyContext *c, bool *flag);

/* backup-copy-walk.c: the walk: the scan for the totals, the creation of every entry, the clone probe */

/* What the walk does with one entry of a folder (fd: the folder's), c->path naming it: 0 goes on,
 * COPY_WALK_STOP ends the walk there (the clone probe: it wants one file), a negative errno stops the walk,
 * recorded with copy_fail*() unless it is -ENOMEM. */
#define COPY_WALK_STOP 1
typedef int (*CopyWalkFn)(CopyContext *c, int fd, const struct dirent *de, unsigned depth, void *userdata);
/* The tree walker that the scan and the copy share: calls fn for each entry of d but "." and "..", in
 * readdir() order, with the entry's name pushed on c->path (popped again after a success; left in place
 * for the failure's message). depth: of d below the top folder; deeper than BACKUP_MAX_DEPTH is -ELOOP.
 * Stops early, returning the recorded error, once any thread failed; returns COPY_WALK_STOP when fn did. d
 * is borrowed. */
int copy_walk_dir(CopyContext *c, DIR *d, unsigned depth, CopyWalkFn fn, void *userdata);
int copy_dir_reopen(int fd);
int copy_scan_dir(CopyContext *c, int fd, unsigned depth);
int copy_dir(CopyContext *c, DIR *d, int dst, unsigned depth);
int copy_probe_clone(CopyContext *c, int fd);

/* backup-copy-queue.c: the worker threads and their queue of batches of regular files */
void copy_batch_free(Batch *b);
unsigned copy_workers_wanted(const CopyContext *c);
void copy_workers_start(CopyContext *c, unsigned n);
void copy_workers_stop(CopyContext *c);
int copy_batch_submit(CopyContext *c);
int copy_job_add(CopyContext *c, Job *j);

/* backup-copy-data.c: a regular file's data: copy_file_range(), read/write, holes, preallocation, writeback */
int copy_data(Worker *w, int src, int dst, const struct stat *st);

/* backup-copy-metadata.c: owner, mode, extended attributes and times of a copied entry */
int copy_metadata(Worker *w, int src, int dst, const struct stat *st, bool always_chmod);

/* backup-copy-inodes.c: the set of (device, inode) pairs of files with several names, for hard links */
InodeEntry *inode_set_get(InodeSet *s, dev_t dev, ino_t ino, bool *ret_added);
