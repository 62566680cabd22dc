/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File-system helpers that work relative to directory file descriptors, never follow symlinks unless
 * told to, and publish content atomically (temporary name, fsync, renameat, fsync of the folder). */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "macro.h"

/* Reads a whole file (at most max bytes; -EFBIG beyond). The result is NUL-terminated. The last path
 * component is not followed if it is a symlink (-ELOOP). */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);

/* Writes data to dirfd/name atomically: a temporary file in the same folder, fsync, renameat over name,
 * fsync of the folder. A crash leaves the old content or the new one, never a mix. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* The same without the two fsyncs, for content that is rewritten often and may be lost in a crash (a
 * reader still never sees a partial file; after a power loss the file may be old, or empty): never
 * blocks on a disk that is busy writing something else. */
int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

int fsync_directory_fd(int dirfd);

/* A name "<prefix><random 8 hex>" for temporary files and folders. */
int tempname_make(const char *prefix, char **ret);

/* Removes dirfd/name and, when it is a folder, everything below it, without following symlinks and
 * without crossing into other mounts. -ENOENT is not an error. */
int rm_rf_at(int dirfd, const char *name);

/* openat2() with RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS (and RESOLVE_NO_SYMLINKS when no_symlinks): the
 * path cannot escape dirfd. Falls back to a component-wise O_NOFOLLOW walk on kernels without
 * openat2(). */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode, bool no_symlinks);

/* mkdirat() that accepts an existing folder (but not an existing non-folder, -ENOTDIR). */
int mkdirat_idempotent(int dirfd, const char *name, mode_t mode);

/* Opens (creating if needed) a folder below dirfd, refusing symlinks. Returns the fd. */
int open_or_create_dir_at(int dirfd, const char *name, mode_t mode);

/* Opens a folder below dirfd for listing, without following a symlink or changing its access time
 * (O_NOATIME where allowed: for the owner and root). Returns the fd or -errno. */
int open_dir_noatime_at(int dirfd, const char *name);

/* Free bytes for unprivileged users on the file system holding fd. */
int fd_free_bytes(int fd, uint64_t *ret);

/* A DIR on a duplicate (close-on-exec, >= 3) of the folder fd, which stays open and shares its read
 * position with it. NULL with errno set on failure. */
DIR *fdopendir_dup(int fd);
