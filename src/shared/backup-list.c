/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The backups of one node and their sizes, read-only (see backup-list.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-list.h"
#include "backup-name.h"
#include "backup.h"
#include "btrfs-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "string-util.h"
#include "time-util.h"
#include "upgrade-name.h"

/* Deeper trees are not a node's data; measuring stops there rather than run out of file descriptors. */
#define SIZE_WALK_DEPTH_MAX 128

/* The inodes with several names seen so far, so that each is counted once: open addressing. */
typedef struct InodeSet {
        struct InodeKey {
                dev_t dev;
                ino_t ino;
        } * keys;
        size_t n, cap;
} InodeSet;

/* 1 when (dev, ino) was not in the set and is now, 0 when it was there. */
static int inode_set_add(InodeSet *s, dev_t dev, ino_t ino) {
        if ((s->n + 1) * 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                struct InodeKey *k = calloc(cap, sizeof(*k));
                if (!k)
                        return -ENOMEM;
                for (size_t i = 0; i < s->cap; i++) {
                        if (s->keys[i].ino == 0)
                                continue;
                        size_t h = (size_t) (s->keys[i].ino * 0x9E3779B97F4A7C15ULL ^ s->keys[i].dev) &
                                (cap - 1);
                        while (k[h].ino != 0)
                                h = (h + 1) & (cap - 1);
                        k[h] = s->keys[i];
                }
                free(s->keys);
                s->keys = k;
                s->cap = cap;
        }
        /* Inode 0 does not occur on Linux file systems; it marks a free slot. */
        size_t h = (size_t) (ino * 0x9E3779B97F4A7C15ULL ^ dev) & (s->cap - 1);
        while (s->keys[h].ino != 0) {
                if (s->keys[h].ino == ino && s->keys[h].dev == dev)
                        return 0;
                h = (h + 1) & (s->cap - 1);
        }
        s->keys[h] = (struct InodeKey){.dev = dev, .ino = ino};
        s->n++;
        return 1;
}

/* One measure: what is counted, and when it must give up (0: never). */
typedef struct SizeWalk {
        InodeSet seen;
        uint64_t total;
        usec_t deadline;  /* CLOCK_MONOTONIC */
        unsigned entries; /* the clock is read every SIZE_WALK_CLOCK_EVERY entries */
} SizeWalk;

#define SIZE_WALK_CLOCK_EVERY 1024U

static int size_walk(int fd, dev_t top_dev, unsigned depth, SizeWalk *w) {
        if (depth > SIZE_WALK_DEPTH_MAX)
                return -ELOOP;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        return errno != 0 ? -errno : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (w->deadline > 0 && ++w->entries % SIZE_WALK_CLOCK_EVERY == 0 && now(CLOCK_MONOTONIC) >= w->deadline)
                        return -ETIME;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        return -errno;
                }
                if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                        int r = inode_set_add(&w->seen, st.st_dev, st.st_ino);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                }
                w->total += (uint64_t) st.st_blocks * 512;
                if (!S_ISDIR(st.st_mode))
                        continue;
                /* Another mount below the backup is not the backup's (a nested btrfs subvolume has its own
                 * st_dev as well: the backups never hold any, see backup.h). */
                if (st.st_dev != top_dev)
                        continue;
                int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return -errno;
                int r = size_walk(sub, top_dev, depth + 1, w);
                if (r < 0)
                        return r;
        }
}

int backup_tree_size_until(int dirfd, const char *name, usec_t deadline, uint64_t *ret) {
        struct stat st;
        SizeWalk w = { .deadline = deadline };

        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                safe_close(fd);
                return -errno;
        }
        w.total = (uint64_t) st.st_blocks * 512;
        int r = size_walk(fd, st.st_dev, 0, &w);
        free(w.seen.keys);
        if (r < 0)
                return r;
        *ret = w.total;
        return 0;
}

int backup_tree_size_at(int dirfd, const char *name, uint64_t *ret) {
        return backup_tree_size_until(dirfd, name, 0, ret);
}

static void entry_done(BackupEntry *e) {
        free(e->name);
        free(e->dir_name);
        free(e->path);
        free(e->folder);
        free(e->upgrade);
}

void backup_list_done(BackupList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_entries; i++)
                entry_done(&l->entries[i]);
        l->entries = mfree(l->entries);
        l->n_entries = 0;
        l->root = mfree(l->root);
}

const BackupEntry *backup_list_find(const BackupList *l, const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < l->n_entries; i++)
                if (streq(l->entries[i].name, name))
                        return &l->entries[i];
        return NULL;
}

static int entry_cmp(const void *a, const void *b) {
        const BackupEntry *x = a, *y = b;
        if (x->time != y->time)
                return x->time < y->time ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Fills e for the folder dir_name of root when it is one of owner's backups: 1, else 0 (not ours, not a
 * backup name, not a folder). */
static int entry_make(int root_fd, const char *root, const char *dir_name, const BackupOwner *owner,
        BackupEntry *e) {
        const char *name = backup_name_from_partial(dir_name);
        bool partial = name;
        if (!name)
                name = dir_name;
        if (!backup_name_is_ours(name, owner->node, owner->legacy_ours))
                return 0;
        struct stat st;
        if (fstatat(root_fd, dir_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0; /* gone meanwhile, or a file or symlink that only bears the name */

        _cleanup_free_ char *folder = NULL;
        usec_t t;
        int r = backup_name_parse(name, &folder, &t);
        if (r < 0)
                return r == -ENOMEM ? r : 0;

        *e = (BackupEntry){.time = t, .partial = partial, .size = UINT64_MAX};
        e->name = strdup(name);
        e->dir_name = strdup(dir_name);
        if (asprintf(&e->path, "%s/%s", root, dir_name) < 0)
                e->path = NULL;
        if (upgrade_folder_to_name(folder, &e->upgrade) < 0)
                e->upgrade = strdup(folder);
        e->folder = TAKE_PTR(folder);
        if (!e->name || !e->dir_name || !e->path || !e->upgrade) {
                entry_done(e);
                return -ENOMEM;
        }

        _cleanup_close_ int fd = openat(root_fd, dir_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                e->snapshot = btrfs_is_subvolume_fd(fd) > 0;
        return 1;
}

int backup_list(const char *daemon_name, const char *home, const char *backup_dir, BackupListFlags flags,
        BackupList *ret) {
        _cleanup_(backup_owner_done) BackupOwner owner = {};
        _cleanup_(backup_list_done) BackupList l = {.free_bytes = UINT64_MAX};
        int r;

        assert(daemon_name);
        assert(home);
        assert(ret);

        r = backup_owner_get(daemon_name, home, backup_dir, &owner);
        if (r < 0)
                return r;
        l.root = strdup(backup_dir ?: home);
        if (!l.root)
                return -ENOMEM;

        _cleanup_close_ int fd = open(l.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                l.root_error = -errno;
                *ret = l;
                l = (BackupList){};
                return 0;
        }
        uint64_t avail;
        if (fd_free_bytes(fd, &avail) >= 0)
                l.free_bytes = avail;

        _cleanup_closedir_ DIR *d = fdopendir_dup(fd);
        if (!d)
                return -errno;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                l.root_error = -errno;
                        break;
                }
                if (!startswith(de->d_name, BACKUP_NAME_PREFIX) &&
                        !startswith(de->d_name, BACKUP_PARTIAL_PREFIX))
                        continue;
                BackupEntry e;
                r = entry_make(fd, l.root, de->d_name, &owner, &e);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                BackupEntry *n = reallocarray(l.entries, l.n_entries + 1, sizeof(BackupEntry));
                if (!n) {
                        entry_done(&e);
                        return -ENOMEM;
                }
                l.entries = n;
                l.entries[l.n_entries++] = e;
        }
        if (l.n_entries > 1)
                qsort(l.entries, l.n_entries, sizeof(BackupEntry), entry_cmp);
        if (flags & (BACKUP_LIST_SIZES | BACKUP_LIST_SIZES_BOUNDED)) {
                /* Newest first: under a time budget, the newest is what the next backup is judged by. */
                usec_t deadline = flags & BACKUP_LIST_SIZES ? 0 : now(CLOCK_MONOTONIC) + BACKUP_LIST_SIZE_BUDGET;
                for (size_t i = l.n_entries; i > 0; i--) {
                        BackupEntry *e = &l.entries[i - 1];
                        uint64_t size;
                        r = deadline > 0 && now(CLOCK_MONOTONIC) >= deadline ? -ETIME
                                                                            : backup_tree_size_until(fd, e->dir_name, deadline, &size);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                e->size_error = r;
                        else
                                e->size = size;
                }
        }
        *ret = l;
        l = (BackupList){};
        return 0;
}
