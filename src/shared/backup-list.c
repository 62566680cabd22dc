/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-list.h"
#include "backup-name.h"
#include "fd-util.h"

/* Deeper than any data folder; bounds the fds held open by the walk. */
#define TREE_DEPTH_MAX 256

void backup_list_done(BackupList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_entries; i++) {
                free(l->entries[i].name);
                free(l->entries[i].folder);
        }
        l->entries = mfree(l->entries);
        l->n_entries = 0;
}

static int tree_add(int fd, dev_t dev, unsigned depth, uint64_t *total) {
        if (depth > TREE_DEPTH_MAX)
                return -ELOOP;
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        int r = 0;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        r = -errno;
                        break;
                }
                *total += (uint64_t) st.st_blocks * 512;
                if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
                        continue;
                _cleanup_close_ int sub =
                        openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        r = -errno;
                        break;
                }
                r = tree_add(sub, dev, depth + 1, total);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

int tree_allocated_bytes_at(int dirfd, const char *name, uint64_t *ret) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        uint64_t total = (uint64_t) st.st_blocks * 512;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd =
                        openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                int r = tree_add(fd, st.st_dev, 0, &total);
                if (r < 0)
                        return r;
        }
        *ret = total;
        return 0;
}

static int entry_compare(const void *a, const void *b) {
        const BackupEntry *x = a, *y = b;
        if (x->time != y->time)
                return x->time > y->time ? -1 : 1;
        return -strcmp(x->name, y->name);
}

int backup_list(const char *backup_root, const BackupOwner *owner, bool sizes, BackupList *ret) {
        BackupList l = {};
        int r = 0;

        assert(backup_root);
        assert(owner);
        _cleanup_close_ int fd = open(backup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = l;
                return 0;
        }
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (!backup_name_is_ours(de->d_name, owner->node, owner->legacy_ours))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                BackupEntry e = {.bytes = UINT64_MAX};
                r = backup_name_parse(de->d_name, &e.folder, &e.time);
                if (r < 0) /* cannot be: backup_name_is_ours() said it is a backup name */
                        continue;
                e.name = strdup(de->d_name);
                BackupEntry *n = reallocarray(l.entries, l.n_entries + 1, sizeof(BackupEntry));
                if (!e.name || !n) {
                        free(e.name);
                        free(e.folder);
                        if (n)
                                l.entries = n;
                        r = -ENOMEM;
                        break;
                }
                l.entries = n;
                l.entries[l.n_entries++] = e;
        }
        closedir(d);
        if (r < 0) {
                backup_list_done(&l);
                return r;
        }
        if (l.n_entries > 1)
                qsort(l.entries, l.n_entries, sizeof(BackupEntry), entry_compare);
        for (size_t i = 0; sizes && i < l.n_entries; i++) {
                uint64_t b;
                if (tree_allocated_bytes_at(fd, l.entries[i].name, &b) >= 0)
                        l.entries[i].bytes = b;
        }
        *ret = l;
        return 0;
}
