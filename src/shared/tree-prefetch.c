/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "fs-util.h"
#include "macro.h"
#include "string-util.h"
#include "tree-prefetch.h"

/* Data folders are shallow: deeper parts are left to the walk, and the threads hold few fds. */
#define TREE_PREFETCH_MAX_DEPTH 32

typedef struct Prefetcher {
        TreePrefetch *p;
        pthread_t thread;
        unsigned index;
        uint64_t seen; /* entries listed so far, in listing order */
        uint64_t looked; /* entries looked at */
} Prefetcher;

struct TreePrefetch {
        int fd;
        unsigned stride;
        bool stop; /* atomic */
        unsigned n_shares; /* the number of threads asked for: how the entries are dealt */
        Prefetcher *threads;
        unsigned n_threads; /* started */
};

/* Every thread lists the whole tree in the same order, and counts the entries; the stride-th ones are
 * dealt round-robin, so that the threads look at neighbouring blocks of inodes side by side. Folders are
 * entered by every thread (their listing is what the others need too). */
static void prefetch_dir(Prefetcher *t, int fd, unsigned depth) {
        TreePrefetch *p = t->p;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return;
        }
        struct dirent *de;
        while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED) && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_DIR) {
                        int sub = depth < TREE_PREFETCH_MAX_DEPTH ? open_dir_noatime_at(dirfd(d), de->d_name)
                                                                  : -ELOOP;
                        if (sub >= 0)
                                prefetch_dir(t, sub, depth + 1);
                        continue;
                }
                uint64_t i = t->seen++;
                if (i % p->stride == 0 && (i / p->stride) % p->n_shares == t->index) {
                        struct stat st;
                        (void) fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW);
                        t->looked++;
                }
        }
}

static void *prefetch_main(void *userdata) {
        Prefetcher *t = userdata;
        int fd = open_dir_noatime_at(t->p->fd, ".");
        if (fd >= 0)
                prefetch_dir(t, fd, 0);
        return NULL;
}

TreePrefetch *tree_prefetch_start(int dirfd, unsigned n_threads, unsigned stride) {
        assert(dirfd >= 0);
        assert(n_threads > 0);
        assert(stride > 0);

        TreePrefetch *p = new0(TreePrefetch, 1);
        if (!p)
                return NULL;
        p->fd = dirfd;
        p->stride = stride;
        p->threads = new0(Prefetcher, n_threads);
        if (!p->threads) {
                free(p);
                return NULL;
        }
        p->n_shares = n_threads;
        /* Signals stay with the calling thread. */
        sigset_t all, saved;
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
        for (; p->n_threads < n_threads; p->n_threads++) {
                Prefetcher *t = &p->threads[p->n_threads];
                *t = (Prefetcher){.p = p, .index = p->n_threads};
                /* The shares of threads that do not start are simply not prefetched. */
                if (pthread_create(&t->thread, NULL, prefetch_main, t) != 0)
                        break;
        }
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (p->n_threads == 0) {
                free(p->threads);
                free(p);
                return NULL;
        }
        return p;
}

uint64_t tree_prefetch_stop(TreePrefetch *p, bool finish) {
        if (!p)
                return 0;
        if (!finish)
                __atomic_store_n(&p->stop, true, __ATOMIC_RELAXED);
        uint64_t looked = 0;
        for (unsigned i = 0; i < p->n_threads; i++) {
                (void) pthread_join(p->threads[i].thread, NULL);
                looked += p->threads[i].looked;
        }
        free(p->threads);
        free(p);
        return looked;
}
