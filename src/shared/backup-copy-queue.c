/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy's worker threads and their queue of batches of regular files. */

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
                r = c->failure.error ?: -ECANCELED;
                goto finish;
        }

        bool cloned = false;
        if (size > 0 && c->clone) {
                if (ioctl(j->dst, FICLONE, j->src) >= 0) {
                        cloned = true;
                        copy_account(w, &(Account){.cloned = size});
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
        copy_account(w, &(Account){.files = 1, .done = size - MIN(w->job_done, size)});

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
void copy_batch_free(Batch *b) {
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
        copy_batch_free(b);
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
unsigned copy_workers_wanted(const CopyContext *c) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (c->clone)
                return (unsigned) MIN(MAX(n - 1, 1L), (long) BACKUP_WORKERS_MAX);
        return BACKUP_WORKERS_MAX;
}

/* Starts up to n worker threads (none: the walk runs the jobs itself). All signals stay blocked in them:
 * they are the walk's business (our worker process is simply killed). */
void copy_workers_start(CopyContext *c, unsigned n) {
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
void copy_workers_stop(CopyContext *c) {
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
                copy_account_merge(&c->stats, &c->workers[i].acc);
        }
        copy_account_merge(&c->stats, &c->walker.acc);
        c->walker.acc = (Account){};
        c->n_workers = 0;
        c->workers = mfree(c->workers);
}

/* Hands the walk's batch to the workers. When they are behind: while cloning, the walk runs it itself
 * (the work is CPU-bound, and waiting would leave a CPU idle); while copying, it waits for room (the
 * work waits on the disk, and a large file would hold up the walk). */
int copy_batch_submit(CopyContext *c) {
        Batch *b = TAKE_PTR(c->pending);
        if (!b)
                return 0;
        if (c->n_workers == 0)
                return batch_run(&c->walker, b);

        pthread_mutex_lock(&c->lock);
        while (c->q_len == BACKUP_QUEUE_MAX && !copy_failed(c) && !c->clone)
                pthread_cond_wait(&c->space, &c->lock);
        if (copy_failed(c)) {
                int r = c->failure.error ?: -ECANCELED;
                pthread_mutex_unlock(&c->lock);
                copy_batch_free(b);
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
int copy_job_add(CopyContext *c, Job *j) {
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
                return copy_batch_submit(c);
        return 0;
}
