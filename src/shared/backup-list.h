/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The backups of one node in its backup folder, for the operator (oraivisorctl status and backups): only
 * folders (never symlinks) whose names are owner's backup names (backup_name_is_ours()), with what the
 * name says (the upgrade folder, the time) and, when asked, the space they take. Reads only. */

#include <stdbool.h>

#include "backup.h"
#include "time-util.h"

typedef struct BackupEntry {
        char *name; /* the folder's name in the backup folder */
        char *folder; /* the upgrade (folder under upgrades/) it was taken before */
        usec_t time; /* when, from its name (UTC, seconds) */
        uint64_t bytes; /* allocated size of everything below it; UINT64_MAX when not measured or unreadable
                         */
} BackupEntry;

typedef struct BackupList {
        BackupEntry *entries; /* newest first */
        size_t n_entries;
} BackupList;

void backup_list_done(BackupList *l);

/* Lists owner's backups in backup_root, newest first (ties: the name's byte order, as pruning orders them).
 * With sizes, walks each one (without following symlinks or crossing into other mounts) and adds up its
 * allocated blocks: that can take a while on a large data folder. A missing backup_root is an empty list.
 * Does not log; returns 0 or a negative errno (the folder cannot be read). */
int backup_list(const char *backup_root, const BackupOwner *owner, bool sizes, BackupList *ret);

/* The allocated bytes of the tree dirfd/name (a file or a folder), counted as du(1) does within one file
 * system, each hard-linked file once per link (XXX: du counts it once; hard links are rare in a node's
 * data). */
int tree_allocated_bytes_at(int dirfd, const char *name, uint64_t *ret);
