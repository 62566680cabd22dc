/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpack worker: unpack_stream() reads the download and writes its entries below the staging folder.
 * It parses untrusted bytes: every rule of unpack.h (no absolute paths, no "..", no links out, no device
 * nodes, limits, O_NOFOLLOW/RESOLVE_NO_SYMLINKS) is enforced here. Runs in the sandboxed worker process
 * (unpack.c starts it) and, in-process, in the fuzz target. */

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "archive-path.h"
#include "dlopen-libs.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "outcome.h"
#include "string-util.h"
#include "unpack.h"
#include "unpack-internal.h"


#define UNPACK_READ_SIZE (256U * 1024U)
#define UNPACK_WRITEBACK_CHUNK (UINT64_C(8) << 20)
#define UNPACK_LISTED_MAX 5

typedef struct Worker {
        int in_fd;
        int dir_fd;
        const UnpackOptions *o;
        uint8_t *buf;
        size_t sniff_len;
        bool sniff_pending;
        uint64_t written;
        uint64_t entries;
        Outcome outcome; /* the first failure */
        char *listed; /* the first few top-level names, for "binary missing" */
        unsigned n_listed;
        char *parent_path; /* cache: the last parent folder opened, and its fd */
        int parent_fd;
} Worker;

/* Records a failure in w->outcome: the first failure's message is the one reported. */
#define worker_fail(w, error, ...) outcome_failf(&(w)->outcome, (error), __VA_ARGS__)


static ssize_t read_some(int fd, void *buf, size_t n) {
        for (;;) {
                ssize_t k = read(fd, buf, n);
                if (k >= 0 || errno != EINTR)
                        return k < 0 ? -errno : k;
        }
}

static int write_at(int fd, const void *p, size_t n, off_t off) {
        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
                off += k;
        }
        return 0;
}

static void remember_top_level(Worker *w, const char *path, bool dir) {
        if (w->n_listed >= UNPACK_LISTED_MAX)
                return;
        size_t n = strcspn(path, "/");
        bool is_dir = dir || path[n] == '/';
        _cleanup_free_ char *name = strndup_or_null(path, n);
        if (!name)
                return;
        /* Listed once each. */
        if (w->listed) {
                _cleanup_free_ char *needle = NULL;
                if (asprintf(&needle, "'%s%s'", name, is_dir ? "/" : "") < 0)
                        return;
                if (strstr(w->listed, needle))
                        return;
        }
        if (strextendf(&w->listed, "%s'%s%s'", w->listed ? ", " : "", name, is_dir ? "/" : "") >= 0)
                w->n_listed++;
}

/* Opens (creating as needed) the folder below dir_fd, never following a symlink. Cached. */
static int worker_open_dir(Worker *w, const char *entry, const char *dir, int *ret_fd) {
        if (w->parent_path && streq(w->parent_path, dir)) {
                *ret_fd = w->parent_fd;
                return 0;
        }

        _cleanup_close_ int cur = fcntl(w->dir_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return worker_fail(w, -errno, "cannot open the staging folder: %s", strerror(errno));
        _cleanup_free_ char *copy = strdup(dir);
        if (!copy)
                return worker_fail(w, -ENOMEM, "out of memory");

        for (char *comp = copy, *next; comp && *comp; comp = next) {
                next = strchr(comp, '/');
                if (next)
                        *next++ = 0;
                if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
                        int e = errno;
                        _cleanup_free_ char *q = unpack_quote(entry);
                        return worker_fail(w, -e, "cannot create the folders of the archive entry '%s': %s",
                                strna(q), strerror(e));
                }
                int fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        _cleanup_free_ char *q = unpack_quote(entry);
                        if (e == ELOOP || e == ENOTDIR)
                                return worker_fail(w, -EXDEV,
                                        "the archive entry '%s' lies below a symlink or a file, not a "
                                        "folder; refusing",
                                        strna(q));
                        return worker_fail(w, -e, "cannot open the folder of the archive entry '%s': %s",
                                strna(q), strerror(e));
                }
                safe_close(cur);
                cur = fd;
        }

        /* copy was cut into components in place: remember the original. */
        free(w->parent_path);
        w->parent_path = strdup(dir);
        safe_close(w->parent_fd);
        w->parent_fd = TAKE_FD(cur);
        if (!w->parent_path) {
                w->parent_fd = safe_close(w->parent_fd);
                return worker_fail(w, -ENOMEM, "out of memory");
        }
        *ret_fd = w->parent_fd;
        return 0;
}

static void split_path(char *path, const char **ret_dir, const char **ret_base) {
        char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_dir = "";
                *ret_base = path;
                return;
        }
        *slash = 0;
        *ret_dir = path;
        *ret_base = slash + 1;
}

/* Makes room for a new entry: a later entry of the same name replaces an earlier one (as tar does),
 * except a folder, which is never replaced by a non-folder. */
static int worker_clear_name(Worker *w, int parent, const char *base, const char *entry) {
        struct stat st;
        if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT
                        ? 0
                        : worker_fail(w, -errno, "cannot inspect '%s': %s", entry, strerror(errno));
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *q = unpack_quote(entry);
                return worker_fail(w, -EEXIST,
                        "the archive entry '%s' would replace a folder of the same name", strna(q));
        }
        if (unlinkat(parent, base, 0) < 0)
                return worker_fail(w, -errno, "cannot replace '%s': %s", entry, strerror(errno));
        return 0;
}

static int worker_check_size(Worker *w, uint64_t add, const char *entry) {
        if (w->o->max_size > 0 && (add > w->o->max_size || w->written > w->o->max_size - add)) {
                _cleanup_free_ char *q = unpack_quote(entry);
                return worker_fail(w, -EFBIG,
                        "unpacking stopped at the archive entry '%s': the contents exceed "
                        "ORAIVISOR_UNPACK_MAX_SIZE=%" PRIu64
                        " bytes (a decompression bomb?); raise the limit if the release is genuine",
                        strna(q), w->o->max_size);
        }
        w->written += add;
        return 0;
}

static int worker_write_error(Worker *w, int r, const char *entry) {
        _cleanup_free_ char *q = unpack_quote(entry);
        if (r == -ENOSPC || r == -EDQUOT)
                return worker_fail(w, r,
                        "writing '%s' failed: %s; free some space on the file system of the upgrades folder",
                        strna(q), strerror(-r));
        return worker_fail(w, r, "writing '%s' failed: %s", strna(q), strerror(-r));
}

static void kick_writeback(int fd, uint64_t *flushed, uint64_t end) {
        /* Start writing back what we wrote so far, so that the final fsync() has little left to do. */
        if (end - *flushed >= UNPACK_WRITEBACK_CHUNK) {
                (void) sync_file_range(
                        fd, (off_t) *flushed, (off_t) (end - *flushed), SYNC_FILE_RANGE_WRITE);
                *flushed = end;
        }
}

static int worker_finish_file(Worker *w, int fd, ArchiveInstallKind kind, mode_t mode, const char *entry) {
        if (fchmod(fd, archive_install_mode(kind, mode)) < 0)
                return worker_write_error(w, -errno, entry);
        if (fsync(fd) < 0)
                return worker_write_error(w, -errno, entry);
        return 0;
}

/* Where an entry goes: opens (creating as needed) the folder of path and clears its name there. copy is
 * path's writable copy, which split_path() cuts: *ret_base points into it. *ret_parent is the cached
 * folder fd (worker_open_dir()), not the caller's to close. */
static int worker_make_room(Worker *w, const char *path, char *copy, int *ret_parent, const char **ret_base) {
        const char *dir, *base;
        int parent, r;

        split_path(copy, &dir, &base);
        r = worker_open_dir(w, path, dir, &parent);
        if (r < 0)
                return r;
        r = worker_clear_name(w, parent, base, path);
        if (r < 0)
                return r;
        *ret_parent = parent;
        *ret_base = base;
        return 0;
}

static int worker_regular(Worker *w, struct archive *a, struct archive_entry *e, const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return worker_fail(w, -ENOMEM, "out of memory");
        const char *base;
        int parent, r;
        r = worker_make_room(w, path, copy, &parent, &base);
        if (r < 0)
                return r;

        _cleanup_close_ int fd =
                openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return worker_write_error(w, -errno, path);

        uint64_t end = 0, flushed = 0;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                r = sym_archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        _cleanup_free_ char *q = unpack_quote(path);
                        return worker_fail(w, -EBADMSG, "the archive is damaged at entry '%s': %s", strna(q),
                                sym_archive_error_string(a) ?: "read error");
                }
                if (offset < 0)
                        offset = (la_int64_t) end;
                uint64_t stop = (uint64_t) offset + size;
                if (stop > end) {
                        r = worker_check_size(w, stop - end, path);
                        if (r < 0)
                                return r;
                        end = stop;
                }
                r = write_at(fd, buf, size, (off_t) offset);
                if (r < 0)
                        return worker_write_error(w, r, path);
                kick_writeback(fd, &flushed, end);
        }
        if (sym_archive_entry_size_is_set(e) && sym_archive_entry_size(e) > 0 &&
                (uint64_t) sym_archive_entry_size(e) > end) {
                /* A sparse file's hole at its end. */
                r = worker_check_size(w, (uint64_t) sym_archive_entry_size(e) - end, path);
                if (r < 0)
                        return r;
                if (ftruncate(fd, (off_t) sym_archive_entry_size(e)) < 0)
                        return worker_write_error(w, -errno, path);
        }
        return worker_finish_file(w, fd, ARCHIVE_INSTALL_FILE, sym_archive_entry_perm(e), path);
}

static int worker_directory(Worker *w, struct archive_entry *e, const char *path) {
        int fd;
        int r = worker_open_dir(w, path, path, &fd);
        if (r < 0)
                return r;
        if (fchmod(fd, archive_install_mode(ARCHIVE_INSTALL_DIRECTORY, sym_archive_entry_perm(e))) < 0)
                return worker_write_error(w, -errno, path);
        return 0;
}

static int worker_symlink(Worker *w, struct archive_entry *e, const char *path) {
        const char *target = sym_archive_entry_symlink(e);
        int r = archive_symlink_target_check(path, target);
        if (r < 0) {
                _cleanup_free_ char *q = unpack_quote(path), *t = unpack_quote(strempty(target));
                return worker_fail(w, -EXDEV,
                        "the archive entry '%s' is a symlink to '%s', which %s; refusing", strna(q),
                        strna(t), r == -EXDEV ? "points outside the upgrade's folder" : "is empty");
        }
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return worker_fail(w, -ENOMEM, "out of memory");
        const char *base;
        int parent;
        r = worker_make_room(w, path, copy, &parent, &base);
        if (r < 0)
                return r;
        if (symlinkat(target, parent, base) < 0)
                return worker_write_error(w, -errno, path);
        return 0;
}

static int worker_hardlink(Worker *w, struct archive_entry *e, const char *path) {
        const char *target = sym_archive_entry_hardlink(e);
        _cleanup_free_ char *norm = NULL;
        int r = archive_path_normalize(target, &norm);
        if (r != 0) {
                _cleanup_free_ char *q = unpack_quote(path), *t = unpack_quote(strempty(target));
                return worker_fail(w, -EXDEV,
                        "the archive entry '%s' is a hard link to '%s', which %s; refusing", strna(q),
                        strna(t), r == -EXDEV ? "lies outside the upgrade's folder" : "is not a valid path");
        }

        /* The target's folder, opened without creating anything and without following symlinks. */
        _cleanup_free_ char *tcopy = strdup(norm), *copy = strdup(path);
        if (!tcopy || !copy)
                return worker_fail(w, -ENOMEM, "out of memory");
        const char *tdir, *tbase, *dir, *base;
        split_path(tcopy, &tdir, &tbase);
        split_path(copy, &dir, &base);
        _cleanup_close_ int tparent = isempty(tdir)
                ? fcntl(w->dir_fd, F_DUPFD_CLOEXEC, 3)
                : open_beneath(w->dir_fd, tdir, O_RDONLY | O_DIRECTORY, 0, true);
        struct stat st;
        if (tparent < 0 || fstatat(tparent, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *q = unpack_quote(path), *t = unpack_quote(norm);
                return worker_fail(w, -ENOENT,
                        "the archive entry '%s' is a hard link to '%s', which the archive did not create "
                        "before it; refusing",
                        strna(q), strna(t));
        }
        if (S_ISLNK(st.st_mode)) {
                /* A hard link to a symlink is a second symlink with the same target, which is relative to
                 * the new name's folder: checked there as a symlink entry would be. */
                char target_of[PATH_MAX];
                ssize_t n = readlinkat(tparent, tbase, target_of, sizeof(target_of) - 1);
                if (n < 0)
                        return worker_fail(
                                w, errno, "cannot read the symlink '%s': %s", norm, strerror(errno));
                target_of[n] = 0;
                if (archive_symlink_target_check(path, target_of) < 0) {
                        _cleanup_free_ char *q = unpack_quote(path), *t = unpack_quote(norm), *l = unpack_quote(target_of);
                        return worker_fail(w, -EXDEV,
                                "the archive entry '%s' is a hard link to the symlink '%s' (to '%s'), which "
                                "from there points outside the upgrade's folder; refusing",
                                strna(q), strna(t), strna(l));
                }
        }
        int parent;
        r = worker_open_dir(w, path, dir, &parent);
        if (r < 0)
                return r;
        if (!(tparent >= 0 && streq(tdir, dir) && streq(tbase, base))) {
                r = worker_clear_name(w, parent, base, path);
                if (r < 0)
                        return r;
                if (linkat(tparent, tbase, parent, base, 0) < 0)
                        return worker_write_error(w, -errno, path);
        }
        return 0;
}

static const char *refused_type(mode_t type) {
        switch (type) {
        case AE_IFCHR: return "a character device";
        case AE_IFBLK: return "a block device";
        case AE_IFIFO: return "a FIFO";
        case AE_IFSOCK: return "a socket";
        default: return "of an unknown type";
        }
}

static int worker_entry(Worker *w, struct archive *a, struct archive_entry *e) {
        const char *raw = sym_archive_entry_pathname(e);
        w->entries++;
        if (w->o->max_entries > 0 && w->entries > w->o->max_entries)
                return worker_fail(w, -E2BIG,
                        "the archive has more than ORAIVISOR_UNPACK_MAX_ENTRIES=%" PRIu64
                        " entries (a decompression bomb?); raise the limit if the release is genuine",
                        w->o->max_entries);

        _cleanup_free_ char *path = NULL;
        int r = archive_path_normalize(raw, &path);
        if (r < 0) {
                _cleanup_free_ char *q = unpack_quote(strempty(raw));
                return worker_fail(
                        w, -EXDEV, "the archive entry '%s' is refused: %s", strna(q), archive_path_error(r));
        }
        if (r > 0) /* the archive's root itself */
                return 0;
        unsigned depth = 0;
        for (const char *p = path; *p; p++)
                depth += *p == '/';
        if (depth >= UNPACK_DEPTH_MAX) {
                _cleanup_free_ char *q = unpack_quote(path);
                return worker_fail(w, -E2BIG,
                        "the archive entry '%s' lies more than %u folders deep; refusing", strna(q),
                        UNPACK_DEPTH_MAX - 1);
        }

        mode_t type = sym_archive_entry_filetype(e);
        if (sym_archive_entry_hardlink(e)) {
                remember_top_level(w, path, false);
                return worker_hardlink(w, e, path);
        }
        switch (type) {
        case AE_IFREG: remember_top_level(w, path, false); return worker_regular(w, a, e, path);
        case AE_IFDIR: remember_top_level(w, path, true); return worker_directory(w, e, path);
        case AE_IFLNK: remember_top_level(w, path, false); return worker_symlink(w, e, path);
        default: {
                _cleanup_free_ char *q = unpack_quote(path);
                return worker_fail(
                        w, -EPERM, "the archive entry '%s' is %s; refusing", strna(q), refused_type(type));
        }
        }
}

static la_ssize_t worker_read(struct archive *a, void *userdata, const void **buffer) {
        Worker *w = userdata;
        if (w->sniff_pending) {
                w->sniff_pending = false;
                *buffer = w->buf;
                return (la_ssize_t) w->sniff_len;
        }
        ssize_t n = read_some(w->in_fd, w->buf, UNPACK_READ_SIZE);
        if (n < 0) {
                sym_archive_set_error(a, (int) -n, "reading the download failed: %s", strerror((int) -n));
                return -1;
        }
        *buffer = w->buf;
        return n;
}

static bool is_executable_magic(const uint8_t *p, size_t n) {
        return (n >= 4 && memcmp(p, "\177ELF", 4) == 0) || (n >= 2 && memcmp(p, "#!", 2) == 0);
}

/* Creates bin/<daemon> and returns its fd. */
static int worker_create_binary(Worker *w) {
        int bin = -EBADF;
        int r = worker_open_dir(w, "bin", "bin", &bin);
        if (r < 0)
                return r;
        int fd = openat(bin, w->o->daemon_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return worker_write_error(w, -errno, "bin/binary");
        return fd;
}

static int worker_plain_executable(Worker *w) {
        _cleanup_close_ int fd = worker_create_binary(w);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *entry = NULL;
        if (asprintf(&entry, "bin/%s", w->o->daemon_name) < 0)
                return worker_fail(w, -ENOMEM, "out of memory");

        uint64_t end = 0, flushed = 0;
        size_t n = w->sniff_len;
        for (;;) {
                if (n == 0)
                        break;
                int r = worker_check_size(w, n, entry);
                if (r < 0)
                        return r;
                r = write_at(fd, w->buf, n, (off_t) end);
                if (r < 0)
                        return worker_write_error(w, r, entry);
                end += n;
                kick_writeback(fd, &flushed, end);
                ssize_t k = read_some(w->in_fd, w->buf, UNPACK_READ_SIZE);
                if (k < 0)
                        return worker_fail(
                                w, (int) k, "reading the download failed: %s", strerror((int) -k));
                n = (size_t) k;
        }
        return worker_finish_file(w, fd, ARCHIVE_INSTALL_BINARY, 0755, entry);
}

/* A single compressed file (libarchive's "raw" format behind a filter): its contents are the binary. */
static int worker_raw(Worker *w, struct archive *a) {
        if (sym_archive_filter_count(a) <= 1) {
                _cleanup_free_ char *head =
                        string_escape_for_log((const char *) w->buf, MIN(w->sniff_len, (size_t) 32), 32);
                return worker_fail(w, -EBADMSG,
                        "the download is neither an archive (tar, zip), a compressed file nor an "
                        "executable; it starts with '%s'",
                        strna(head));
        }
        _cleanup_free_ char *entry = NULL;
        if (asprintf(&entry, "bin/%s", w->o->daemon_name) < 0)
                return worker_fail(w, -ENOMEM, "out of memory");
        w->entries++;

        _cleanup_close_ int fd = -EBADF;
        uint64_t end = 0, flushed = 0;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                int r = sym_archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return worker_fail(w, -EBADMSG, "the %s-compressed download is damaged: %s",
                                sym_archive_filter_name(a, 0), sym_archive_error_string(a) ?: "read error");
                if (size == 0)
                        continue;
                if (fd < 0) {
                        if (!is_executable_magic(buf, size))
                                return worker_fail(w, -EBADMSG,
                                        "the %s-compressed download is neither a tar archive nor an "
                                        "executable (ELF or script)",
                                        sym_archive_filter_name(a, 0));
                        fd = worker_create_binary(w);
                        if (fd < 0)
                                return fd;
                }
                r = worker_check_size(w, size, entry);
                if (r < 0)
                        return r;
                r = write_at(fd, buf, size, (off_t) end);
                if (r < 0)
                        return worker_write_error(w, r, entry);
                end += size;
                kick_writeback(fd, &flushed, end);
        }
        if (fd < 0)
                return worker_fail(
                        w, -EBADMSG, "the %s-compressed download is empty", sym_archive_filter_name(a, 0));
        return worker_finish_file(w, fd, ARCHIVE_INSTALL_BINARY, 0755, entry);
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                sym_archive_read_free(*a);
}

static int worker_archive(Worker *w) {
        /* unpack_start() loaded libarchive before forking the worker; this is for unpack_stream()'s callers
         * that run the worker in-process. */
        _cleanup_free_ char *m = NULL;
        int k = dlopen_library_message(DLOPEN_LIBARCHIVE, "to unpack the download", &m);
        if (k == -ELIBACC)
                return worker_fail(w, k, "%s", m);
        if (k < 0)
                return worker_fail(w, k, "out of memory");

        _cleanup_(archive_read_freep) struct archive *a = sym_archive_read_new();
        if (!a)
                return worker_fail(w, -ENOMEM, "out of memory");

        /* Only filters built into libarchive: never one that runs an external program. */
        (void) sym_archive_read_support_filter_gzip(a);
        (void) sym_archive_read_support_filter_bzip2(a);
        (void) sym_archive_read_support_filter_xz(a);
        (void) sym_archive_read_support_filter_lzma(a);
        (void) sym_archive_read_support_filter_zstd(a);
        (void) sym_archive_read_support_filter_lz4(a);
        (void) sym_archive_read_support_format_tar(a);
        (void) sym_archive_read_support_format_gnutar(a);
        (void) sym_archive_read_support_format_zip_streamable(a);
        (void) sym_archive_read_support_format_raw(a);

        w->sniff_pending = true;
        if (sym_archive_read_open(a, w, NULL, worker_read, NULL) != ARCHIVE_OK)
                return worker_fail(w, -EBADMSG, "the download is damaged or not a readable archive: %s",
                        sym_archive_error_string(a) ?: "unknown format");

        for (bool first = true;; first = false) {
                struct archive_entry *e;
                int r = sym_archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF) {
                        if (first)
                                return worker_fail(w, -EBADMSG, "the archive is empty");
                        break;
                }
                if (r < ARCHIVE_WARN)
                        return worker_fail(w, -EBADMSG,
                                "the archive is damaged or of an unsupported kind: %s",
                                sym_archive_error_string(a) ?: "read error");
                if (first && sym_archive_format(a) == ARCHIVE_FORMAT_RAW)
                        return worker_raw(w, a);
                r = worker_entry(w, a, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The binary the archive holds (at dir + name) must be a regular file: a symlink or a folder there is
 * refused, naming it. */
static int binary_check_type(Worker *w, mode_t mode, const char *dir, const char *name) {
        if (S_ISLNK(mode))
                return worker_fail(w, -ELOOP,
                        "the archive's '%s%s' is a symlink; the binary must be a regular file", dir, name);
        if (S_ISDIR(mode))
                return worker_fail(w, -EISDIR,
                        "the archive's '%s%s' is a folder; the binary must be a regular file", dir, name);
        if (!S_ISREG(mode))
                return worker_fail(w, -EPERM, "the archive's '%s%s' is not a regular file", dir, name);
        return 0;
}

/* bin/<daemon> (or <daemon> at the root, moved into bin/) must be a regular file; made executable. */
static int worker_place_binary(Worker *w) {
        const char *d = w->o->daemon_name;
        struct stat st;
        int r;

        /* The cached parent fd may be a folder we are about to rename into: drop it. */
        w->parent_fd = safe_close(w->parent_fd);
        w->parent_path = mfree(w->parent_path);

        _cleanup_close_ int bin = openat(w->dir_fd, "bin", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (bin < 0 && errno != ENOENT)
                return worker_fail(w, -EXDEV, "the archive's 'bin' is %s, not a folder",
                        errno == ELOOP ? "a symlink" : "a file");
        if (bin >= 0 && fstatat(bin, d, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                r = binary_check_type(w, st.st_mode, "bin/", d);
                if (r < 0)
                        return r;
        } else if (fstatat(w->dir_fd, d, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                r = binary_check_type(w, st.st_mode, "", d);
                if (r < 0)
                        return r;
                if (bin < 0) {
                        r = open_or_create_dir_at(w->dir_fd, "bin", 0755);
                        if (r < 0)
                                return worker_write_error(w, r, "bin");
                        bin = r;
                }
                if (renameat(w->dir_fd, d, bin, d) < 0)
                        return worker_write_error(w, -errno, d);
        } else
                return worker_fail(w, -ENOENT,
                        "the archive holds neither 'bin/%s' nor '%s' at its top level (it holds %s); the "
                        "release is not packaged for oraivisor: install the binary by hand",
                        d, d, w->listed ?: "nothing");

        if (fchmodat(bin, d, archive_install_mode(ARCHIVE_INSTALL_BINARY, st.st_mode), 0) < 0)
                return worker_write_error(w, -errno, d);
        return 0;
}

/* fsync()s every folder below fd (and fd itself), without following symlinks. */
static int fsync_tree(int fd, unsigned depth) {
        if (depth > 64)
                return 0;
        _cleanup_closedir_ DIR *d = fdopendir_dup(fd);
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int sub =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return -errno;
                int r = fsync_tree(sub, depth + 1);
                if (r < 0)
                        return r;
        }
        return fsync(fd) < 0 ? -errno : 0;
}

int unpack_stream(int in_fd, int dir_fd, const UnpackOptions *o, char **ret_message) {
        Worker w = {
                .in_fd = in_fd,
                .dir_fd = dir_fd,
                .o = o,
                .parent_fd = -EBADF,
        };
        int r;

        w.buf = malloc(UNPACK_READ_SIZE);
        if (!w.buf)
                return -ENOMEM;

        /* Enough bytes to tell an executable from an archive. */
        while (w.sniff_len < 512) {
                ssize_t n = read_some(in_fd, w.buf + w.sniff_len, UNPACK_READ_SIZE - w.sniff_len);
                if (n < 0) {
                        r = worker_fail(&w, (int) n, "reading the download failed: %s", strerror((int) -n));
                        goto finish;
                }
                if (n == 0)
                        break;
                w.sniff_len += (size_t) n;
        }

        if (w.sniff_len == 0)
                r = worker_fail(&w, -EBADMSG, "the download is empty");
        else if (is_executable_magic(w.buf, w.sniff_len))
                r = worker_plain_executable(&w);
        else
                r = worker_archive(&w);
        if (r >= 0)
                r = worker_place_binary(&w);
        if (r >= 0) {
                r = fsync_tree(dir_fd, 0);
                if (r < 0)
                        r = worker_write_error(&w, r, "the staging folder");
        }

        /* Whatever follows the archive's end is read too: the parent hashes every byte it sends. */
        if (r >= 0)
                for (;;) {
                        ssize_t n = read_some(in_fd, w.buf, UNPACK_READ_SIZE);
                        if (n <= 0)
                                break;
                }

finish:
        safe_close(w.parent_fd);
        free(w.parent_path);
        free(w.listed);
        free(w.buf);
        if (r < 0 && ret_message)
                *ret_message = TAKE_PTR(w.outcome.message);
        outcome_done(&w.outcome);
        return r;
}
