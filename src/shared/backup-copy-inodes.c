/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy's set of (device, inode) pairs of files with several names, for hard links. */

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

static size_t inode_hash(dev_t dev, ino_t ino, size_t cap) {
        uint64_t h = ((uint64_t) ino * UINT64_C(0x9E3779B97F4A7C15)) ^
                ((uint64_t) dev * UINT64_C(0xC2B2AE3D27D4EB4F));
        return (size_t) (h ^ (h >> 29)) & (cap - 1);
}

/* The entry for (dev, ino), added when missing (*ret_added). The pointer is valid until the next call. */
InodeEntry *inode_set_get(InodeSet *s, dev_t dev, ino_t ino, bool *ret_added) {
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
