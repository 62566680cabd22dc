/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Backups of the node's data folder before an upgrade (upgrade step 2).
 *
 * The copy is faithful: folders, regular files, symlinks (copied, never followed), FIFOs and device nodes,
 * modes (with setuid/setgid/sticky), owners, nanosecond timestamps (a folder's after its content), extended
 * attributes (so also ACLs and file capabilities), holes of sparse files, and hard links inside the tree.
 * Sockets are skipped with a warning. Regular files are cloned with FICLONE when source and target share a
 * file system that supports reflinks (btrfs, xfs with reflink=1): the tree is then walked once, and the
 * backup costs a few system calls per entry. Otherwise data is copied with copy_file_range() (read/write
 * when the kernel refuses), only over the data segments (SEEK_DATA/SEEK_HOLE), after a first walk that
 * checks that the target has room for it; large files are preallocated (so that files copied side by side
 * do not fragment each other) and their writeback is started while the next files are read.
 *
 * Crash safety without an fsync per file: the copy is built as "<root>/.partial-<name>", then the target
 * file system is flushed once (syncfs), and only then the folder is renamed to "<root>/<name>"
 * (RENAME_NOREPLACE: never merged into, never replacing an existing folder) and <root> is fsynced. So a
 * folder with the final name is always complete and durable; a crash or kill leaves at most a partial
 * folder, which backup_cleanup_partial() removes at the next start. Every failure removes the partial.
 *
 * When the data folder is a btrfs subvolume (holding no other subvolume) and the backup root is on the same
 * file system, the backup is a read-only snapshot instead: one ioctl, a few milliseconds whatever the size,
 * made directly under the final name (the kernel commits it before the ioctl returns: whole or absent,
 * never partial). Otherwise, or when the kernel refuses (no right, a seccomp filter), the copy above is
 * made, and the worker logs why. Restoring one: with the node stopped, move data/ aside and take a
 * writable snapshot of the backup as data/ ("btrfs subvolume snapshot <backup> data"). Removing one (the
 * cleanup, pruning) deletes the subvolume, or without CAP_SYS_ADMIN makes it writable and empties it.
 *
 * All access goes through folder fds with O_NOFOLLOW: nothing below the data folder is followed out of it.
 * The data folder itself may be a symlink (to another disk); it is resolved once when opened. A data
 * folder that changes during the backup (the daemon must be stopped) fails it rather than yield a mix.
 *
 * XXX: with the copy path the whole data is written once more and flushed by syncfs(); the data is not
 * deduplicated against an older backup (hard links or reflinks to unchanged files would lift that). */

#include <sys/types.h>

#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct Backup Backup;

typedef struct BackupStats {
        uint64_t files; /* regular files (a hard-linked file once) */
        uint64_t dirs; /* folders below the top one */
        uint64_t symlinks;
        uint64_t hardlinks; /* further names of an already copied file, made with linkat() */
        uint64_t specials; /* FIFOs and device nodes */
        uint64_t skipped; /* sockets, and device nodes we may not create */
        uint64_t bytes; /* apparent size of all regular files */
        uint64_t cloned_bytes; /* of those, shared with the source by FICLONE */
        uint64_t copied_bytes; /* data written by copy_file_range() or read/write */
        uint64_t hole_bytes; /* holes of sparse files, kept as holes */
        uint64_t needed_bytes; /* allocated size of the data folder: what a copy needs */
        uint64_t free_bytes; /* free space of the target when it was checked (copy only) */
        bool cloning; /* the target file system accepted FICLONE */
        bool snapshot; /* made as a read-only btrfs snapshot (then all the figures above are 0) */
} BackupStats;

typedef struct BackupSpec {
        const char *data_path; /* $DAEMON_HOME/data */
        const char *backup_root; /* DAEMON_DATA_BACKUP_DIR (default $DAEMON_HOME) */
        const char *name; /* final folder name from backup_name_make() */
        usec_t timeout; /* 0 = none, as the upgrade runs it: a backup of a big data/ may take hours */
} BackupSpec;

/* error: 0 on success, else a negative errno (-EEXIST: the final folder exists; -ENOSPC: not enough
 * room; -ETIME: timed out; -ECANCELED: the worker was killed). message: one line, a full sentence naming
 * the thing and the fix on failure, a summary on success. The callback may call backup_free(). */
typedef void (*BackupDone)(Backup *b, int error, const char *message, void *userdata);
/* total_bytes is 0 while it is not known yet: a reflink backup learns it on its only walk of the tree. */
typedef void (*BackupProgress)(Backup *b, uint64_t done_bytes, uint64_t total_bytes, void *userdata);

/* Runs the copy in a worker child process (child_spawn() with .func) watched by the event loop; progress
 * comes back through a pipe read with sd_event_add_io(), at most every 100 ms. Problems with the paths or
 * the copy are reported through done, never synchronously; returns <0 only when the worker cannot be
 * started (-EINVAL: name is not a valid backup name). */
int backup_start(sd_event *e, const BackupSpec *spec, BackupDone done, BackupProgress progress,
        void *userdata, Backup **ret);
/* Kills the worker (if it still runs, and reaps it), removes the partial folder, frees. NULL-safe. */
Backup *backup_free(Backup *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Backup *, backup_free);
/* The worker's pid while it runs, else 0. */
pid_t backup_worker_pid(const Backup *b);
/* The figures of a finished backup (all zero before). */
const BackupStats *backup_get_stats(const Backup *b);

/* Whose backups are whose: the node tag of this node (backup_node_make() of DAEMON_NAME and the canonical
 * DAEMON_HOME) and whether untagged backups in the backup folder are ours (the folder is the home itself,
 * where earlier versions put this node's backups). Other nodes sharing DAEMON_DATA_BACKUP_DIR are never
 * touched. */
typedef struct BackupOwner {
        char *node;
        bool legacy_ours;
} BackupOwner;

/* Fills ret for the node daemon_name at home backing up into backup_root (NULL: the home). The home is
 * resolved with realpath() (as given when that fails), so that two spellings of one home are one node. */
int backup_owner_get(const char *daemon_name, const char *home, const char *backup_root, BackupOwner *ret);
void backup_owner_done(BackupOwner *o);

/* At start-up: removes every ".partial-data-backup-…" folder of owner (partial forms of owner's backup
 * names only, nothing else) in backup_root. Logs what it removes and what fails. Returns the number
 * removed, or the first error. A missing backup_root is not an error. */
int backup_cleanup_partial(const char *backup_root, const BackupOwner *owner);

/* After a successful upgrade: keeps owner's newest keep backups (of upgrade_folder only, when not NULL) in
 * backup_root and removes its older ones; only folders whose names are owner's backup names are touched.
 * keep == 0 keeps all. Logs each removal and failure. Returns the number removed, or the first error. */
int backup_prune(const char *backup_root, const BackupOwner *owner, const char *upgrade_folder_or_NULL, unsigned keep);

/* Removes the folder or symlink dirfd/name and everything below it, also when it is a (read-only) btrfs
 * subvolume. 0 when it is gone (or was not there), <0 on failure. */
int backup_remove_at(int dirfd, const char *name);

/* The synchronous backup itself, used by the worker and by tests and benchmarks: a snapshot of the folder
 * src_dirfd as dst_parent_fd/dst_name when it can be one (see above, ret_stats->snapshot says so), else a
 * copy through dst_parent_fd/.partial-<dst_name>, as described above. progress (may
 * be NULL) is called at the start, at most every 100 ms, and at the end, with done never going back and
 * total 0 until it is known (when cloning, until the walk has seen every entry; at the end done == total).
 * On failure returns a negative errno, removes the partial folder, and sets *ret_error (if not NULL) to a
 * one-line sentence naming the path and the fix. Logs only warnings (skipped sockets, attributes the
 * target cannot store). Shares the work with threads of its own (one per further CPU when cloning, at
 * most 4; 4 when copying), joined before it returns; progress may be called from any of them, one call at
 * a time. Sets the process's umask to 0 while it runs (restored before it returns), so it is meant for a
 * process of its own (the worker), a test or a benchmark, not for a threaded caller. */
int backup_copy_tree(int src_dirfd, int dst_parent_fd, const char *dst_name, BackupStats *ret_stats,
        void (*progress)(uint64_t done, uint64_t total, void *), void *userdata, char **ret_error);

typedef enum BackupCopyFlags {
        /* The copy is to be written to (a restore makes the node's data/ from a backup): a btrfs snapshot
         * is taken writable instead of read-only. */
        BACKUP_COPY_WRITABLE = 1 << 0,
} BackupCopyFlags;

/* backup_copy_tree() with flags. */
int backup_copy_tree_full(int src_dirfd, int dst_parent_fd, const char *dst_name, BackupCopyFlags flags,
        BackupStats *ret_stats, void (*progress)(uint64_t done, uint64_t total, void *), void *userdata,
        char **ret_error);
