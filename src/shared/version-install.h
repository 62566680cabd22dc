/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Installing and removing a version folder (genesis/ or upgrades/<folder>/) from a local file, the way a
 * download is installed (obtain.h): the file goes through unpack.h's sandboxed worker, which recognises
 * it by content (a plain executable becomes bin/<daemon>; a tar or zip archive is unpacked with its lib/,
 * under the same limits and modes rule), into a staging folder .staging-<folder>-XXXXXXXX beside the
 * destination. Only a complete staging folder is published, with one rename (or exchanged with the folder
 * it replaces, which is deleted afterwards), so a reader sees the old version or the new one, never half
 * of one. Removal renames the folder away first, then deletes it. A staging folder is flock()ed by its
 * writer while it is filled (as a download's is), so that obtain_cleanup_stale() removes only those a crash
 * left, at oraivisor's next start or oraivisorctl's next write.
 *
 * The caller holds the install lock (lock.h: install_lock_acquire()). Nothing here logs: errors are a
 * negative errno, with a one-line message (no trailing period) where the reason is not plain errno. */

#include <stdbool.h>

#include "macro.h"
#include "unpack.h"

#define VERSION_STAGING_PREFIX ".staging-"

typedef struct VersionStaging {
        int parent_fd; /* borrowed: the folder holding the version (oraivisor/ or upgrades/) */
        char *name; /* the staging folder's name below it; NULL once published or removed */
        int fd;
} VersionStaging;

#define VERSION_STAGING_INIT                                                                                \
        { .parent_fd = -EBADF, .fd = -EBADF }

/* Creates parent_fd/.staging-<folder>-XXXXXXXX (0755). */
int version_staging_new(int parent_fd, const char *folder, VersionStaging *ret);
/* Removes the staging folder unless it was published. */
void version_staging_done(VersionStaging *s);

/* Feeds the regular file src_fd to the unpack worker, which installs it into the staging folder
 * (o->dir_fd is ignored: the staging folder's is used). Runs an event loop of its own until the worker
 * and its finisher ended; blocks SIGCHLD while it runs. 0: bin/<daemon> is there, executable and synced;
 * else a negative errno and *ret_message. */
int version_unpack_file(int src_fd, VersionStaging *s, const UnpackOptions *o, char **ret_message);

/* Publishes the staging folder as parent_fd/folder: renameat2(RENAME_NOREPLACE), or, with replace and an
 * existing folder, RENAME_EXCHANGE followed by the deletion of the old folder (now under the staging name;
 * a failure to delete it is returned as 1, the new version being in place). Syncs the parent folder.
 * -EEXIST when folder exists and !replace. */
int version_publish(VersionStaging *s, const char *folder, bool replace);

/* Removes parent_fd/folder: renamed to .staging-<folder>-XXXXXXXX and synced (from then on it is gone for
 * every reader), then deleted. 0; 1 when it is renamed away but could not be deleted entirely (the next
 * start of oraivisor removes it); -ENOENT when it does not exist; other negative errno. */
int version_remove(int parent_fd, const char *folder);

/* Whether two files below their folders have the same contents: 1 same, 0 different, negative errno
 * (-ENOENT when either is missing). Neither path's symlinks are followed outside its folder. */
int version_files_equal(int a_dir, const char *a_path, int b_dir, const char *b_path);
