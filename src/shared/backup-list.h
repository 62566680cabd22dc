/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The backups of one node, as oraivisorctl shows them (`backups`, `status`): the folders of the backup
 * folder whose names are this node's backup names (core/backup-name.h, owner as in backup_owner_get(): the
 * node's tag, and untagged ones only in the node's own home), complete ones and the ".partial-" ones an
 * interrupted backup left, each with its upgrade, time, kind and size, and the free space of the backup
 * folder. Read-only: nothing is created, changed or removed. Does not log. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "time-util.h"

typedef struct BackupEntry {
        char *name; /* the backup's final name ("data-backup-…"), also for a partial one */
        char *dir_name; /* the folder's name as it is: name, or ".partial-" name */
        char *path; /* the folder's absolute path */
        char *folder; /* the upgrade folder under upgrades/ it was taken before */
        char *upgrade; /* that folder's upgrade name (decoded), or the folder when it does not decode */
        usec_t time; /* CLOCK_REALTIME of the backup, from its name (whole seconds) */
        bool partial; /* an unfinished backup: never restorable; oraivisor removes it at its next start */
        bool snapshot; /* a btrfs subvolume (a snapshot) rather than a copied folder */
        uint64_t size; /* allocated bytes below it (as du: a hard-linked file once), UINT64_MAX: not
                        * measured (no BACKUP_LIST_SIZES) or not measurable (size_error says why) */
        int size_error; /* 0, or the negative errno that stopped the measure */
} BackupEntry;

typedef struct BackupList {
        char *root; /* the backup folder: DAEMON_DATA_BACKUP_DIR, else the home */
        int root_error; /* 0, or the negative errno of opening it (-ENOENT: no such folder, no backups) */
        uint64_t free_bytes; /* available to us in root (statvfs f_bavail), UINT64_MAX when unknown */
        BackupEntry *entries; /* oldest first (ties: by name) */
        size_t n_entries;
} BackupList;

typedef enum BackupListFlags {
        BACKUP_LIST_SIZES = 1 << 0,         /* measure each backup (walks its tree: about a stat() per entry) */
        BACKUP_LIST_SIZES_BOUNDED = 1 << 1, /* the same, newest first, for BACKUP_LIST_SIZE_BUDGET in all: the
                                             * ones left have size_error -ETIME (a node's data can be millions
                                             * of files: `status` must answer in seconds) */
} BackupListFlags;

#define BACKUP_LIST_SIZE_BUDGET (2 * USEC_PER_SEC)

/* Lists the backups of the node daemon_name at home backing up into backup_dir (NULL: the home). A backup
 * folder that cannot be opened is not an error: ret->root_error says why and the list is empty. Returns 0,
 * or -ENOMEM / -EINVAL (no node tag can be made for daemon_name and home). */
int backup_list(const char *daemon_name, const char *home, const char *backup_dir, BackupListFlags flags,
        BackupList *ret);
void backup_list_done(BackupList *l);

/* The entry named name (a final name; partial entries are matched by their final name too), or NULL. */
const BackupEntry *backup_list_find(const BackupList *l, const char *name) _pure_;

/* Allocated bytes of the tree dirfd/name (not following symlinks, a hard-linked file counted once, not
 * crossing into other file systems), as du -s does. 0 and *ret, or a negative errno. */
int backup_tree_size_at(int dirfd, const char *name, uint64_t *ret);

/* The same, giving up with -ETIME once CLOCK_MONOTONIC reaches deadline (0: never; the clock is read every
 * 1,024 entries). */
int backup_tree_size_until(int dirfd, const char *name, usec_t deadline, uint64_t *ret);
