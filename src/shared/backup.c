/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The backup worker process on the event loop, and the housekeeping of the backup folder (partial
 * leftovers, ORAIVISOR_BACKUP_KEEP). The copy itself is in backup-copy.c. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "backup-name.h"
#include "backup.h"
#include "btrfs-util.h"
#include "child.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

/* A worker's report line must stay below PIPE_BUF so that it is written at once. */
#define BACKUP_MESSAGE_MAX 3072

/* ---- the worker ------------------------------------------------------------------------------------- */

/* Lines from the worker: "P <done> <total>", then "S <figures…>" or "E <errno> <message>". */
#define BACKUP_LINE_MAX 4096

struct Backup {
        sd_event *event;
        Child *child;
        pid_t pid;
        sd_event_source *io;
        int pipe_fd;
        int pipe_write_fd; /* set only around the fork, for the worker */
        int root_fd; /* for removing the partial; -EBADF when the root cannot be opened */

        char *data_path, *root_path, *name, *partial;
        bool final_existed;
        usec_t timeout, started;

        BackupDone done;
        BackupProgress progress;
        void *userdata;

        char line[BACKUP_LINE_MAX];
        size_t line_len;
        bool line_overflow;
        bool reported;
        int report_error;
        char *report_message;
        BackupStats stats;
};

int backup_remove_at(int dirfd, const char *name) {
        /* A snapshot is read-only: rm_rf_at() would fail on its first entry (EROFS). */
        int r = btrfs_subvolume_remove_at(dirfd, name);
        if (r != 0)
                return r < 0 ? r : 0;
        return rm_rf_at(dirfd, name);
}

static void remove_partial(Backup *b) {
        if (b->root_fd < 0 || !b->partial)
                return;
        int r = backup_remove_at(b->root_fd, b->partial);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the unfinished backup '%s/%s', remove it by hand: %m",
                        b->root_path, b->partial);
}

Backup *backup_free(Backup *b) {
        if (!b)
                return NULL;
        /* Kills and reaps a worker that still runs, so nothing writes into the partial any more. */
        b->child = child_free(b->child);
        b->io = sd_event_source_disable_unref(b->io);
        safe_close(b->pipe_fd);
        remove_partial(b);
        safe_close(b->root_fd);
        sd_event_unref(b->event);
        free(b->data_path);
        free(b->root_path);
        free(b->name);
        free(b->partial);
        free(b->report_message);
        return mfree(b);
}

pid_t backup_worker_pid(const Backup *b) {
        return b && b->child ? b->pid : 0;
}

const BackupStats *backup_get_stats(const Backup *b) {
        assert(b);

        return &b->stats;
}

static void worker_write(int fd, const char *line) {
        /* Short lines into a pipe: one write each. A parent that went away kills us with SIGPIPE. */
        (void) loop_write(fd, line, strlen(line));
}

static void worker_progress(uint64_t done, uint64_t total, void *userdata) {
        char line[64];
        snprintf(line, sizeof(line), "P %" PRIu64 " %" PRIu64 "\n", done, total);
        worker_write(*(int *) userdata, line);
}

static int worker_run(void *userdata) {
        Backup *b = userdata;
        int out = b->pipe_write_fd;
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int src = -EBADF, root = -EBADF;
        BackupStats st = {};
        int r;

        src = open(b->data_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0) {
                r = -errno;
                (void) asprintf(&error,
                        "Cannot open the data folder '%s': %s: check DAEMON_HOME, or set "
                        "UNSAFE_SKIP_BACKUP=true to upgrade without a backup.",
                        b->data_path, strerror(-r));
                goto report;
        }
        root = open(b->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                r = -errno;
                (void) asprintf(&error,
                        "Cannot open the backup folder '%s': %s: create it, or set DAEMON_DATA_BACKUP_DIR "
                        "to an existing folder.",
                        b->root_path, strerror(-r));
                goto report;
        }
        r = backup_copy_tree(src, root, b->name, &st, worker_progress, &out, &error);

report:;
        _cleanup_free_ char *line = NULL;
        if (r >= 0) {
                if (asprintf(&line,
                            "S %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                            " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d %d\n",
                            st.files, st.dirs, st.symlinks, st.hardlinks, st.specials, st.skipped, st.bytes,
                            st.cloned_bytes, st.copied_bytes, st.hole_bytes, st.needed_bytes, st.free_bytes,
                            st.cloning ? 1 : 0, st.snapshot ? 1 : 0) < 0)
                        return EXIT_FAILURE;
        } else {
                /* One line, short enough for one atomic write. */
                const char *m = error ?: strerror(-r);
                _cleanup_free_ char *flat = strndup(m, BACKUP_MESSAGE_MAX);
                if (!flat)
                        return EXIT_FAILURE;
                for (char *p = flat; *p; p++)
                        if (*p == '\n' || *p == '\r')
                                *p = ' ';
                if (asprintf(&line, "E %d %s\n", -r, flat) < 0)
                        return EXIT_FAILURE;
        }
        worker_write(out, line);
        return r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int parse_u64(const char **p, uint64_t *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(*p, &end, 10);
        if (errno != 0 || end == *p)
                return -EINVAL;
        *p = end;
        *ret = v;
        return 0;
}

static void handle_line(Backup *b, const char *l) {
        const char *p = l + 2;
        if (l[0] == 'P' && l[1] == ' ') {
                uint64_t done, total;
                if (parse_u64(&p, &done) < 0 || parse_u64(&p, &total) < 0)
                        return;
                if (b->progress)
                        b->progress(b, done, total, b->userdata);
        } else if (l[0] == 'S' && l[1] == ' ') {
                uint64_t v[14];
                for (size_t i = 0; i < ELEMENTSOF(v); i++)
                        if (parse_u64(&p, &v[i]) < 0)
                                return;
                b->stats = (BackupStats){
                        .files = v[0],
                        .dirs = v[1],
                        .symlinks = v[2],
                        .hardlinks = v[3],
                        .specials = v[4],
                        .skipped = v[5],
                        .bytes = v[6],
                        .cloned_bytes = v[7],
                        .copied_bytes = v[8],
                        .hole_bytes = v[9],
                        .needed_bytes = v[10],
                        .free_bytes = v[11],
                        .cloning = v[12] != 0,
                        .snapshot = v[13] != 0,
                };
                b->reported = true;
                b->report_error = 0;
        } else if (l[0] == 'E' && l[1] == ' ') {
                uint64_t e;
                if (parse_u64(&p, &e) < 0 || e == 0 || e > 4095)
                        return;
                if (*p == ' ')
                        p++;
                free(b->report_message);
                b->report_message = strdup(p);
                b->reported = true;
                b->report_error = -(int) e;
        }
}

/* Reads what the worker wrote so far; at EOF the source is turned off. */
static void drain(Backup *b) {
        for (;;) {
                if (b->line_len == sizeof(b->line)) {
                        /* Never from our worker; drop the line rather than misparse it. */
                        b->line_len = 0;
                        b->line_overflow = true;
                }
                ssize_t n = read(b->pipe_fd, b->line + b->line_len, sizeof(b->line) - b->line_len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EAGAIN: all read for now */
                }
                if (n == 0) {
                        b->io = sd_event_source_disable_unref(b->io);
                        return;
                }
                b->line_len += (size_t) n;
                char *start = b->line, *nl;
                while ((nl = memchr(start, '\n', b->line_len - (size_t) (start - b->line)))) {
                        *nl = 0;
                        if (!b->line_overflow)
                                handle_line(b, start);
                        b->line_overflow = false;
                        start = nl + 1;
                }
                b->line_len -= (size_t) (start - b->line);
                memmove(b->line, start, b->line_len);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        drain(userdata);
        return 0;
}

static void on_worker_done(Child *child, const ChildResult *res, void *userdata) {
        Backup *b = userdata;
        char t1[BACKUP_FORMAT_BYTES_MAX], t2[BACKUP_FORMAT_BYTES_MAX], t3[BACKUP_FORMAT_BYTES_MAX],
                t4[BACKUP_FORMAT_BYTES_MAX], span[FORMAT_TIMESPAN_MAX];
        _cleanup_free_ char *message = NULL;
        int error;

        /* The worker has exited: everything it wrote is in the pipe. */
        drain(b);
        b->child = child_free(b->child);
        pid_t pid = b->pid;
        usec_t took = now(CLOCK_MONOTONIC) - b->started;

        /* The worker reports success only after the rename, so a report counts even if a signal (our
         * timeout) got it right after. */
        bool finished = b->reported && b->report_error == 0;
        if (!finished && !b->reported && !b->final_existed && b->root_fd >= 0 &&
                faccessat(b->root_fd, b->name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 &&
                faccessat(b->root_fd, b->partial, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                /* Killed after the rename but before its report: only our worker can have made this name,
                 * and only after syncfs(), so the backup is complete. */
                finished = true;

        if (finished && b->stats.snapshot) {
                error = 0;
                /* Restoring is as quick: a writable snapshot of this one (see README.md, Backups). */
                if (asprintf(&message,
                            "Backed up '%s' to '%s/%s' in %s as a read-only btrfs snapshot.", b->data_path,
                            b->root_path, b->name, format_timespan(span, sizeof(span), took)) < 0)
                        message = NULL;
        } else if (finished) {
                error = 0;
                if (asprintf(&message,
                            "Backed up '%s' to '%s/%s' in %s: %" PRIu64
                            " files, %s (%s shared by reflink, %s copied, %s of holes kept as holes).",
                            b->data_path, b->root_path, b->name, format_timespan(span, sizeof(span), took),
                            b->stats.files, backup_format_bytes(t1, sizeof(t1), b->stats.bytes),
                            backup_format_bytes(t2, sizeof(t2), b->stats.cloned_bytes),
                            backup_format_bytes(t3, sizeof(t3), b->stats.copied_bytes),
                            backup_format_bytes(t4, sizeof(t4), b->stats.hole_bytes)) < 0)
                        message = NULL;
        } else {
                if (res->timed_out) {
                        error = -ETIME;
                        if (asprintf(&message,
                                    "The backup of '%s' did not finish within %s: put "
                                    "DAEMON_DATA_BACKUP_DIR on the data folder's btrfs or xfs file "
                                    "system for reflink backups, or set UNSAFE_SKIP_BACKUP=true.",
                                    b->data_path, format_timespan(span, sizeof(span), b->timeout)) < 0)
                                message = NULL;
                } else if (b->reported && b->report_error < 0) {
                        error = b->report_error;
                        message = TAKE_PTR(b->report_message);
                } else if (res->code == CLD_KILLED || res->code == CLD_DUMPED) {
                        error = -ECANCELED;
                        const char *sig = sigabbrev_np(res->status);
                        if (asprintf(&message,
                                    "The backup worker (pid %d) was killed by signal SIG%s, no backup was "
                                    "made: retry the upgrade, or set UNSAFE_SKIP_BACKUP=true.",
                                    (int) pid, sig ?: "?") < 0)
                                message = NULL;
                } else {
                        error = -EPROTO;
                        if (asprintf(&message,
                                    "The backup worker (pid %d) exited with status %d without a report, no "
                                    "backup was made: see the messages above.",
                                    (int) pid, res->status) < 0)
                                message = NULL;
                }
                remove_partial(b);
        }
        /* May free b. */
        b->done(b, error, message ?: (error < 0 ? "The backup failed (out of memory)." : "Backed up."),
                b->userdata);
}

int backup_start(sd_event *e, const BackupSpec *spec, BackupDone done, BackupProgress progress,
        void *userdata, Backup **ret) {
        int r;

        assert(e);
        assert(spec);
        assert(spec->data_path);
        assert(spec->backup_root);
        assert(done);
        assert(ret);

        if (!backup_name_is_valid(spec->name))
                return -EINVAL;

        _cleanup_(backup_freep) Backup *b = new0(Backup, 1);
        if (!b)
                return -ENOMEM;
        b->pipe_fd = b->pipe_write_fd = b->root_fd = -EBADF;
        b->event = sd_event_ref(e);
        b->done = done;
        b->progress = progress;
        b->userdata = userdata;
        b->timeout = spec->timeout;
        b->data_path = strdup(spec->data_path);
        b->root_path = strdup(spec->backup_root);
        b->name = strdup(spec->name);
        if (!b->data_path || !b->root_path || !b->name)
                return -ENOMEM;
        r = backup_name_to_partial(spec->name, &b->partial);
        if (r < 0)
                return r;

        /* For removing the partial later, and to know that a final folder seen after the worker died is
         * the worker's. The worker opens the paths itself and reports problems with them. */
        b->root_fd = open(spec->backup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->root_fd >= 0)
                b->final_existed =
                        faccessat(b->root_fd, b->name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT;

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        b->pipe_fd = p[0];
        b->pipe_write_fd = p[1];
        r = fd_nonblock(b->pipe_fd, true);
        if (r >= 0)
                r = sd_event_add_io(e, &b->io, b->pipe_fd, EPOLLIN, on_io, b);
        if (r >= 0)
                (void) sd_event_source_set_description(b->io, "backup-progress");

        ChildSpec cs = CHILD_SPEC_INIT;
        cs.func = worker_run;
        cs.func_userdata = b;
        cs.timeout = spec->timeout;
        cs.description = "backup";
        if (r >= 0)
                r = child_spawn(e, &cs, on_worker_done, b, &b->child);
        b->pipe_write_fd = safe_close(b->pipe_write_fd);
        if (r < 0)
                return r;
        b->pid = child_pid(b->child);
        b->started = now(CLOCK_MONOTONIC);

        *ret = TAKE_PTR(b);
        return 0;
}

/* ---- cleanup and pruning --------------------------------------------------------------------------- */

int backup_owner_get(const char *daemon_name, const char *home, const char *backup_root, BackupOwner *ret) {
        assert(daemon_name);
        assert(home);
        assert(ret);

        _cleanup_free_ char *canonical = realpath(home, NULL);
        _cleanup_free_ char *node = NULL;
        int r = backup_node_make(daemon_name, canonical ?: home, &node);
        if (r < 0)
                return r;
        bool legacy = true;
        if (backup_root) {
                /* The same folder, however spelled; an unreadable one is not ours to prune in. */
                struct stat a, b;
                legacy = stat(home, &a) >= 0 && stat(backup_root, &b) >= 0 && a.st_dev == b.st_dev &&
                        a.st_ino == b.st_ino;
        }
        *ret = (BackupOwner){.node = TAKE_PTR(node), .legacy_ours = legacy};
        return 0;
}

void backup_owner_done(BackupOwner *o) {
        if (o)
                o->node = mfree(o->node);
}

/* The names of the folders (not symlinks) in fd for which keep() holds. */
static int list_folders(int fd, bool (*keep)(const char *, const BackupOwner *), const BackupOwner *owner,
        char ***ret) {
        _cleanup_closedir_ DIR *d = fdopendir_dup(fd);
        if (!d)
                return -errno;
        _cleanup_strv_free_ char **l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                if (!keep(de->d_name, owner))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                int r = strv_extend(&l, de->d_name);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool is_partial_name(const char *n, const BackupOwner *owner) {
        const char *f = backup_name_from_partial(n);
        return f && backup_name_is_ours(f, owner->node, owner->legacy_ours);
}

int backup_cleanup_partial(const char *backup_root, const BackupOwner *owner) {
        _cleanup_strv_free_ char **names = NULL;
        int r, ret = 0, n = 0;

        assert(backup_root);
        assert(owner);
        _cleanup_close_ int fd = open(backup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_warning_errno(errno,
                        "Failed to open the backup folder '%s' to remove unfinished backups, ignoring: %m",
                        backup_root);
        }
        r = list_folders(fd, is_partial_name, owner, &names);
        if (r < 0)
                return log_warning_errno(r,
                        "Failed to read the backup folder '%s' to remove unfinished backups, ignoring: %m",
                        backup_root);
        STRV_FOREACH (p, names) {
                r = backup_remove_at(fd, *p);
                if (r < 0) {
                        log_warning_errno(r,
                                "Failed to remove the unfinished backup '%s/%s', remove it by hand: %m",
                                backup_root, *p);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                log_info(
                        "Removed the unfinished backup '%s/%s' of an interrupted upgrade.", backup_root, *p);
                n++;
        }
        return ret < 0 ? ret : n;
}

static bool is_backup_name(const char *n, const BackupOwner *owner) {
        return backup_name_is_ours(n, owner->node, owner->legacy_ours);
}

int backup_prune(const char *backup_root, const BackupOwner *owner, const char *upgrade_folder_or_NULL, unsigned keep) {
        _cleanup_strv_free_ char **names = NULL, **doomed = NULL;
        int r, ret = 0, n = 0;

        assert(backup_root);
        assert(owner);
        if (keep == 0)
                return 0;
        _cleanup_close_ int fd = open(backup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno,
                        "Failed to open the backup folder '%s' to remove old backups, ignoring: %m",
                        backup_root);
        r = list_folders(fd, is_backup_name, owner, &names);
        if (r < 0)
                return log_warning_errno(r,
                        "Failed to read the backup folder '%s' to remove old backups, ignoring: %m",
                        backup_root);
        r = backup_prune_select(
                names, strv_length(names), owner->node, owner->legacy_ours, upgrade_folder_or_NULL, keep, &doomed);
        if (r < 0)
                return log_oom();
        STRV_FOREACH (p, doomed) {
                r = backup_remove_at(fd, *p);
                if (r < 0) {
                        log_warning_errno(r,
                                "Failed to remove the old backup '%s/%s', remove it by hand: %m",
                                backup_root, *p);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                log_info(
                        "Removed the old backup '%s/%s' (ORAIVISOR_BACKUP_KEEP=%u).", backup_root, *p, keep);
                n++;
        }
        return ret < 0 ? ret : n;
}
