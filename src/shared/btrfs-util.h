/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The few btrfs subvolume operations the backups need, on fds: is this folder a subvolume, take a
 * read-only snapshot of one, remove a (read-only) subvolume. Errors are negative errnos; nothing logs. */

#include <stdbool.h>

/* 1 when fd is the top folder of a btrfs subvolume (what a snapshot can be taken of), 0 when it is any
 * other folder (on btrfs or not), <0 when it cannot be looked at. */
int btrfs_is_subvolume_fd(int fd);

/* 1 when fd is on btrfs, 0 when not, <0 on error. */
int btrfs_is_fs_fd(int fd);

/* 1 when the subvolume of fd holds other subvolumes (a snapshot would show them as empty folders), 0 when
 * it holds none; <0 when the kernel cannot tell (before 4.18: -ENOTTY). */
int btrfs_subvolume_has_children(int fd);

/* Takes a read-only snapshot of the subvolume src_fd as dst_dirfd/name. The kernel commits it before it
 * returns: after success the snapshot is whole and on disk, after a crash it is whole or absent. -EEXIST
 * when name exists, -EXDEV when dst_dirfd is on another file system, -ENOTTY when not on btrfs, -EPERM
 * when refused (no right to, or a seccomp filter). */
int btrfs_snapshot_readonly_at(int src_fd, int dst_dirfd, const char *name);
/* The same, writable unless readonly (a restore makes the node's data/ from a read-only backup). */
int btrfs_snapshot_at(int src_fd, int dst_dirfd, const char *name, bool readonly);

/* Removes dst_dirfd/name when it is a btrfs subvolume, even a read-only one: deleted at once with
 * CAP_SYS_ADMIN (or the mount option user_subvol_rm_allowed), else made writable, emptied and removed
 * (which needs kernel 4.18 and the right to change the subvolume). Returns 1 when it removed a subvolume,
 * 0 when name is not one (nothing done), <0 on failure. */
int btrfs_subvolume_remove_at(int dirfd, const char *name);
