/* SPDX-License-Identifier: LGPL-2.1-or-later */

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
#include "child.h"
#include "dlopen-libs.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "unpack.h"
#include "worker-sandbox.h"

#define UNPACK_READ_SIZE (256U * 1024U)
#define UNPACK_WRITEBACK_CHUNK (UINT64_C(8) << 20)
#define UNPACK_SOCKET_BUFFER (1024 * 1024)
#define UNPACK_REPORT_MAX 4096
#define UNPACK_LISTED_MAX 5
/* Folders an entry may lie below: the finisher walks the tree with an fd per level. */
#define UNPACK_DEPTH_MAX 64

/* ---- the worker (runs in the child process) ------------------------------------------------------------
 */

typedef struct Worker {
        int in_fd;
        int dir_fd;
        const UnpackOptions *o;
        uint8_t *buf;
        size_t sniff_len;
        bool sniff_pending;
        uint64_t written;
        uint64_t entries;
        char *message;
        char *listed; /* the first few top-level names, for "binary missing" */
        unsigned n_listed;
        char *parent_path; /* cache: the last parent folder opened, and its fd */
        int parent_fd;
} Worker;

/* The first failure's message is the one reported. */
static int fail_message(char **message, int error, const char *format, va_list ap) _printf_(3, 0);
static int fail_message(char **message, int error, const char *format, va_list ap) {
        assert(error < 0);
        if (!*message && vasprintf(message, format, ap) < 0)
                *message = NULL;
        return error;
}

static int worker_fail(Worker *w, int error, const char *format, ...) _printf_(3, 4);
static int worker_fail(Worker *w, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_message(&w->message, error, format, ap);
        va_end(ap);
        return r;
}

static char *quote(const char *s) {
        return string_escape_for_log(s, strlen(s), 200);
}

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
                        _cleanup_free_ char *q = quote(entry);
                        return worker_fail(w, -e, "cannot create the folders of the archive entry '%s': %s",
                                strna(q), strerror(e));
                }
                int fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        _cleanup_free_ char *q = quote(entry);
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
                _cleanup_free_ char *q = quote(entry);
                return worker_fail(w, -EEXIST,
                        "the archive entry '%s' would replace a folder of the same name", strna(q));
        }
        if (unlinkat(parent, base, 0) < 0)
                return worker_fail(w, -errno, "cannot replace '%s': %s", entry, strerror(errno));
        return 0;
}

static int worker_check_size(Worker *w, uint64_t add, const char *entry) {
        if (w->o->max_size > 0 && (add > w->o->max_size || w->written > w->o->max_size - add)) {
                _cleanup_free_ char *q = quote(entry);
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
        _cleanup_free_ char *q = quote(entry);
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

static int worker_regular(Worker *w, struct archive *a, struct archive_entry *e, const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return worker_fail(w, -ENOMEM, "out of memory");
        const char *dir, *base;
        split_path(copy, &dir, &base);
        int parent, r;
        r = worker_open_dir(w, path, dir, &parent);
        if (r < 0)
                return r;
        r = worker_clear_name(w, parent, base, path);
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
                        _cleanup_free_ char *q = quote(path);
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
                _cleanup_free_ char *q = quote(path), *t = quote(strempty(target));
                return worker_fail(w, -EXDEV,
                        "the archive entry '%s' is a symlink to '%s', which %s; refusing", strna(q),
                        strna(t), r == -EXDEV ? "points outside the upgrade's folder" : "is empty");
        }
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return worker_fail(w, -ENOMEM, "out of memory");
        const char *dir, *base;
        split_path(copy, &dir, &base);
        int parent;
        r = worker_open_dir(w, path, dir, &parent);
        if (r < 0)
                return r;
        r = worker_clear_name(w, parent, base, path);
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
                _cleanup_free_ char *q = quote(path), *t = quote(strempty(target));
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
                _cleanup_free_ char *q = quote(path), *t = quote(norm);
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
                        _cleanup_free_ char *q = quote(path), *t = quote(norm), *l = quote(target_of);
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
                _cleanup_free_ char *q = quote(strempty(raw));
                return worker_fail(
                        w, -EXDEV, "the archive entry '%s' is refused: %s", strna(q), archive_path_error(r));
        }
        if (r > 0) /* the archive's root itself */
                return 0;
        unsigned depth = 0;
        for (const char *p = path; *p; p++)
                depth += *p == '/';
        if (depth >= UNPACK_DEPTH_MAX) {
                _cleanup_free_ char *q = quote(path);
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
                _cleanup_free_ char *q = quote(path);
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
                if (S_ISLNK(st.st_mode))
                        return worker_fail(w, -ELOOP,
                                "the archive's 'bin/%s' is a symlink; the binary must be a regular file", d);
                if (S_ISDIR(st.st_mode))
                        return worker_fail(w, -EISDIR,
                                "the archive's 'bin/%s' is a folder; the binary must be a regular file", d);
                if (!S_ISREG(st.st_mode))
                        return worker_fail(w, -EPERM, "the archive's 'bin/%s' is not a regular file", d);
        } else if (fstatat(w->dir_fd, d, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISLNK(st.st_mode))
                        return worker_fail(w, -ELOOP,
                                "the archive's '%s' is a symlink; the binary must be a regular file", d);
                if (S_ISDIR(st.st_mode))
                        return worker_fail(w, -EISDIR,
                                "the archive's '%s' is a folder; the binary must be a regular file", d);
                if (!S_ISREG(st.st_mode))
                        return worker_fail(w, -EPERM, "the archive's '%s' is not a regular file", d);
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
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
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
                *ret_message = TAKE_PTR(w.message);
        free(w.message);
        return r;
}

/* ---- the parent's side ---------------------------------------------------------------------------------
 */

struct Unpack {
        sd_event *event;
        Child *child; /* the worker, then the finisher */
        bool finisher; /* child is the finisher */
        uid_t worker_uid; /* what the worker's files are owned by */
        int data_fd; /* our end of the stream socket */
        int report_fd; /* the worker's report */
        int dir_fd;
        char *daemon_name;
        UnpackOptions options;
        sd_event_source *out_source;
        uint8_t *pending;
        size_t pending_len, pending_off;
        bool finishing;
        bool broken;
        UnpackDone done;
        UnpackReady ready;
        void *userdata;
};

Unpack *unpack_free(Unpack *u) {
        if (!u)
                return NULL;
        child_free(u->child);
        sd_event_source_disable_unref(u->out_source);
        safe_close(u->data_fd);
        safe_close(u->report_fd);
        safe_close(u->dir_fd);
        sd_event_unref(u->event);
        free(u->daemon_name);
        free(u->pending);
        return mfree(u);
}

/* "<errno> <message>" or "0 ok", one line, on stdout: what the parent reads once the child exited. */
static int child_report(int r, const char *message) {
        _cleanup_free_ char *report = NULL;
        if (asprintf(&report, "%d %s\n", r < 0 ? -r : 0, r < 0 ? (message ?: strerror(-r)) : "ok") >= 0)
                (void) loop_write(
                        STDOUT_FILENO, report, MIN(strlen(report), (size_t) UNPACK_REPORT_MAX - 1));
        return r < 0 ? 1 : 0;
}

/* Only stdin (the stream), stdout (the report), stderr and the staging folder (as fd 3) stay open: in
 * particular not our copy of the parent's end of the stream, or EOF would never come. */
static int child_keep_fds(int dir_fd) {
        if (dir_fd != 3 && dup2(dir_fd, 3) < 0)
                return -errno;
        (void) syscall(SYS_close_range, 4, ~0U, 0);
        return 0;
}

/* The worker proper, in the keeper's child: sandboxed, then unpacking. */
static _noreturn_ void worker_run(Unpack *u, uid_t uid, gid_t gid, pid_t keeper) {
        _cleanup_free_ char *message = NULL;
        const char *step = NULL;
        int r = worker_sandbox_enter(uid, gid, keeper, &step);
        if (r < 0) {
                (void) asprintf(&message, "cannot sandbox the unpack worker (%s): %s", step, strerror(-r));
                _exit(child_report(r, message));
        }

        UnpackOptions o = u->options;
        o.dir_fd = 3;
        o.daemon_name = u->daemon_name;
        r = unpack_stream(STDIN_FILENO, 3, &o, &message);
        _exit(child_report(r, message));
}

/* The child process oraivisor starts is a keeper, which runs the worker as its own child and waits for
 * it. Untrusted bytes are parsed there, by a process made harmless first (worker-sandbox.h): as root, a
 * user of its own (from the keeper's pid), to which the staging folder is handed; the finisher gives the
 * tree back once the worker is gone. Why a keeper: a root oraivisor without CAP_KILL (oraivisor@.service
 * does not grant it) may not signal another user's process. It may signal the keeper (its effective user
 * stays root), whose real user is the worker's, so that the worker's SIGKILL when its parent dies (or a
 * signal of the keeper's) reaches it: killing the keeper kills the worker. */
static int worker_main(void *userdata) {
        Unpack *u = userdata;
        _cleanup_free_ char *message = NULL;

        if (child_keep_fds(u->dir_fd) < 0)
                return 1;

        pid_t keeper = getpid();
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (uid == 0) {
                uid = gid = worker_sandbox_uid(keeper);
                if (fchown(3, uid, gid) < 0 || fchmod(3, 0700) < 0 || setresuid(uid, 0, 0) < 0) {
                        int e = errno;
                        (void) asprintf(&message,
                                "cannot hand the staging folder to the unpack worker's user %u: %s%s",
                                (unsigned) uid, strerror(e),
                                e == EINVAL ? " (oraivisor runs in a user namespace that does not map it)"
                                            : "");
                        return child_report(-e, message);
                }
        }

        pid_t pid = fork();
        if (pid < 0)
                return child_report(-errno, "cannot start the unpack worker");
        if (pid == 0)
                worker_run(u, uid, gid, keeper);

        /* The stream and the folder are the worker's alone. */
        safe_close(STDIN_FILENO);
        safe_close(3);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return child_report(-errno, "cannot wait for the unpack worker");
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        (void) asprintf(&message, "the unpack worker was killed by signal %s",
                sigabbrev_np(WTERMSIG(status)) ?: "?");
        return child_report(-EIO, message);
}

/* ---- the finisher (a child process, as oraivisor itself, once the worker exited) ------------------------
 */

/* The worker's tree becomes oraivisor's: every entry must be the worker's (a file, a folder or a symlink
 * it made; nothing else, nothing of anyone else's), gets oraivisor's user and group and the mode of
 * archive_install_mode() (again: the worker's own chmod is not trusted), and is fsynced. No process has
 * the worker's user any more (it could start none), so nothing changes under our feet. */
typedef struct Finisher {
        uid_t worker_uid;
        uid_t uid;
        gid_t gid;
        const char *daemon_name;
        struct stat *done; /* files and symlinks with more than one name, already given to us */
        size_t n_done;
        bool binary_seen;
        char *message;
} Finisher;

static int finisher_fail(Finisher *f, int error, const char *format, ...) _printf_(3, 4);
static int finisher_fail(Finisher *f, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_message(&f->message, error, format, ap);
        va_end(ap);
        return r;
}

static bool finisher_seen(const Finisher *f, const struct stat *st) {
        for (size_t i = 0; i < f->n_done; i++)
                if (f->done[i].st_dev == st->st_dev && f->done[i].st_ino == st->st_ino)
                        return true;
        return false;
}

/* An entry with more than one name: its next name finds it already ours. */
static int finisher_remember(Finisher *f, const struct stat *st) {
        if (st->st_nlink <= 1)
                return 0;
        struct stat *m = reallocarray(f->done, f->n_done + 1, sizeof(struct stat));
        if (!m)
                return finisher_fail(f, ENOMEM, "out of memory");
        f->done = m;
        f->done[f->n_done++] = *st;
        return 0;
}

/* fd: the entry, opened without following symlinks (a folder or a regular file). */
static int finisher_take(Finisher *f, int fd, ArchiveInstallKind kind, mode_t mode, const char *path) {
        if (f->uid != f->worker_uid && fchown(fd, f->uid, f->gid) < 0)
                return finisher_fail(f, errno, "cannot give '%s' to uid %u: %s", path, (unsigned) f->uid,
                        strerror(errno));
        if (fchmod(fd, archive_install_mode(kind, mode)) < 0 || fsync(fd) < 0)
                return finisher_fail(f, errno, "cannot set the mode of '%s': %s", path, strerror(errno));
        return 0;
}

static int finisher_walk(Finisher *f, int dir_fd, const char *prefix, unsigned depth) {
        int dfd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return finisher_fail(f, errno, "cannot read the staging folder: %s", strerror(errno));
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return finisher_fail(f, errno, "cannot read the staging folder: %s", strerror(errno));
        }
        /* The staging folder's fd shares its position with the worker's, which read it to its end. */
        rewinddir(d);
        struct dirent *de;
        int r;
        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0)
                        return finisher_fail(f, ENOMEM, "out of memory");
                _cleanup_free_ char *q = quote(path);
                if (depth >= UNPACK_DEPTH_MAX)
                        return finisher_fail(f, -E2BIG, "'%s' lies more than %u folders deep; refusing",
                                strna(q), UNPACK_DEPTH_MAX - 1);

                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return finisher_fail(f, errno, "cannot inspect '%s': %s", strna(q), strerror(errno));
                if (st.st_uid != f->worker_uid) {
                        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && st.st_uid == f->uid &&
                                finisher_seen(f, &st))
                                continue; /* another name of a file or symlink already done */
                        return finisher_fail(f, -EPERM,
                                "'%s' in the staging folder belongs to uid %u, not to the unpack worker "
                                "(uid "
                                "%u); refusing",
                                strna(q), (unsigned) st.st_uid, (unsigned) f->worker_uid);
                }

                if (S_ISLNK(st.st_mode)) {
                        if (f->uid != f->worker_uid &&
                                fchownat(dirfd(d), de->d_name, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return finisher_fail(f, errno, "cannot give '%s' to uid %u: %s", strna(q),
                                        (unsigned) f->uid, strerror(errno));
                        r = finisher_remember(f, &st);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                        return finisher_fail(f, -EPERM,
                                "'%s' in the staging folder is neither a file, a folder nor a symlink; "
                                "refusing",
                                strna(q));

                _cleanup_close_ int fd = openat(dirfd(d), de->d_name,
                        (S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NONBLOCK) | O_RDONLY | O_NOFOLLOW |
                                O_CLOEXEC);
                struct stat st2;
                if (fd < 0 || fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                        return finisher_fail(f, fd < 0 ? errno : -ESTALE, "cannot open '%s': %s", strna(q),
                                strerror(fd < 0 ? errno : ESTALE));

                if (S_ISDIR(st.st_mode)) {
                        r = finisher_walk(f, fd, path, depth + 1);
                        if (r < 0)
                                return r;
                        r = finisher_take(f, fd, ARCHIVE_INSTALL_DIRECTORY, st.st_mode, strna(q));
                } else {
                        bool binary =
                                depth == 1 && streq(prefix, "bin") && streq(de->d_name, f->daemon_name);
                        f->binary_seen = f->binary_seen || binary;
                        r = finisher_take(f, fd, binary ? ARCHIVE_INSTALL_BINARY : ARCHIVE_INSTALL_FILE,
                                st.st_mode, strna(q));
                        if (r >= 0)
                                r = finisher_remember(f, &st);
                }
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return finisher_fail(f, errno, "cannot read the staging folder: %s", strerror(errno));
        return 0;
}

static int finisher_main(void *userdata) {
        Unpack *u = userdata;

        if (child_keep_fds(u->dir_fd) < 0)
                return 1;
        Finisher f = {
                .worker_uid = u->worker_uid,
                .uid = geteuid(),
                .gid = getegid(),
                .daemon_name = u->daemon_name,
        };
        struct stat st;
        int r = 0;
        if (fstat(3, &st) < 0)
                r = finisher_fail(&f, errno, "cannot inspect the staging folder: %s", strerror(errno));
        else if (st.st_uid != f.worker_uid)
                r = finisher_fail(&f, -EPERM,
                        "the staging folder belongs to uid %u, not to the unpack worker "
                        "(uid %u); refusing",
                        (unsigned) st.st_uid, (unsigned) f.worker_uid);
        if (r >= 0)
                r = finisher_walk(&f, 3, "", 0);
        if (r >= 0 && !f.binary_seen)
                r = finisher_fail(&f, -ENOENT, "the unpack worker left no file 'bin/%s'", f.daemon_name);
        if (r >= 0)
                r = finisher_take(&f, 3, ARCHIVE_INSTALL_DIRECTORY, 0755, "the staging folder");
        r = child_report(r, f.message);
        free(f.message);
        free(f.done);
        return r;
}

static void unpack_close_stream(Unpack *u) {
        u->out_source = sd_event_source_disable_unref(u->out_source);
        u->data_fd = safe_close(u->data_fd);
}

/* The child's one-line report, once it exited: 0 (with *ret_message NULL) when it says "0 ok" and exited
 * with 0, else a negative errno and what went wrong. */
static int read_report(
        int fd, const ChildResult *res, const char *what, char *buf, size_t size, const char **ret_message) {
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                if (n >= size - 1)
                        break;
        }
        buf[n] = 0;
        strip_trailing_whitespace(buf);

        int error = 0;
        char *sp = strchr(buf, ' ');
        if (sp) {
                *sp = 0;
                error = -atoi(buf);
        }
        *ret_message = NULL;
        if (res->code == CLD_EXITED && res->status == 0 && sp && error == 0)
                return 0;
        if (sp && error < 0) {
                *ret_message = sp + 1;
                return error;
        }
        if (res->code == CLD_EXITED)
                snprintf(buf, size, "the %s failed with exit status %d without saying why", what,
                        res->status);
        else
                snprintf(
                        buf, size, "the %s was killed by signal %s", what, sigabbrev_np(res->status) ?: "?");
        *ret_message = buf;
        return -EIO;
}

static int unpack_spawn(Unpack *u, bool finisher, int stream_fd);

static void on_child_done(Child *c, const ChildResult *res, void *userdata) {
        Unpack *u = userdata;
        char buf[UNPACK_REPORT_MAX];
        bool was_finisher = u->finisher;

        u->child = child_free(u->child);
        unpack_close_stream(u);
        u->broken = true;

        const char *message;
        int r = read_report(u->report_fd, res, was_finisher ? "unpack finisher" : "unpack worker", buf,
                sizeof(buf), &message);
        u->report_fd = safe_close(u->report_fd);
        if (r < 0)
                return u->done(u, r, message, u->userdata);
        if (was_finisher)
                return u->done(u, 0, NULL, u->userdata);

        /* The worker reads to the stream's end, which comes only after unpack_finish() (the caller verified
         * the checksum): a worker that says it is done before that is not believed. */
        if (!u->finishing)
                return u->done(u, -EIO, "the unpack worker ended before the download did", u->userdata);
        r = unpack_spawn(u, true, -EBADF);
        if (r < 0)
                return u->done(u, r, "cannot start the unpack finisher", u->userdata);
}

static int unpack_flush(Unpack *u) {
        while (u->pending_off < u->pending_len) {
                ssize_t k = send(u->data_fd, u->pending + u->pending_off, u->pending_len - u->pending_off,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                u->pending_off += (size_t) k;
        }
        u->pending_len = u->pending_off = 0;
        return 1;
}

static int on_stream_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Unpack *u = userdata;

        int r = unpack_flush(u);
        if (r < 0) {
                /* The worker went away; its exit reports why. */
                u->broken = true;
                unpack_close_stream(u);
                return 0;
        }
        if (r == 0)
                return 0;
        (void) sd_event_source_set_enabled(u->out_source, SD_EVENT_OFF);
        if (u->finishing)
                unpack_close_stream(u);
        else if (u->ready)
                u->ready(u, u->userdata);
        return 0;
}

int unpack_feed(Unpack *u, const void *p, size_t n) {
        if (u->broken || u->data_fd < 0)
                return -EPIPE;
        if (u->pending_len > 0)
                return UNPACK_BUSY;

        const uint8_t *b = p;
        while (n > 0) {
                ssize_t k = send(u->data_fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        u->broken = true;
                        unpack_close_stream(u);
                        return -EPIPE;
                }
                b += k;
                n -= (size_t) k;
        }
        if (n == 0)
                return 0;

        uint8_t *m = realloc(u->pending, n);
        if (!m)
                return -ENOMEM;
        u->pending = m;
        memcpy(m, b, n);
        u->pending_len = n;
        u->pending_off = 0;

        int r;
        if (!u->out_source) {
                r = sd_event_add_io(u->event, &u->out_source, u->data_fd, EPOLLOUT, on_stream_writable, u);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(u->out_source, "unpack-stream");
        } else {
                r = sd_event_source_set_enabled(u->out_source, SD_EVENT_ON);
                if (r < 0)
                        return r;
        }
        return 0;
}

int unpack_finish(Unpack *u) {
        if (u->broken)
                return -EPIPE;
        u->finishing = true;
        if (u->pending_len == 0)
                unpack_close_stream(u);
        return 0;
}

/* The worker (reading stream_fd) or the finisher, with a new report pipe. */
static int unpack_spawn(Unpack *u, bool finisher, int stream_fd) {
        int rp[2];
        if (pipe2(rp, O_CLOEXEC) < 0)
                return -errno;
        safe_close(u->report_fd);
        u->report_fd = rp[0];
        int r = fd_nonblock(u->report_fd, true);
        if (r < 0) {
                safe_close(rp[1]);
                return r;
        }

        ChildSpec spec = CHILD_SPEC_INIT;
        spec.func = finisher ? finisher_main : worker_main;
        spec.func_userdata = u;
        spec.stdin_fd = stream_fd;
        spec.stdout_fd = rp[1];
        spec.description = finisher ? "unpack finisher" : "unpack worker";
        r = child_spawn(u->event, &spec, on_child_done, u, &u->child);
        safe_close(rp[1]);
        if (r < 0)
                return r;
        u->finisher = finisher;
        if (!finisher)
                u->worker_uid = geteuid() == 0 ? worker_sandbox_uid(child_pid(u->child)) : geteuid();
        return 0;
}

int unpack_start(sd_event *e, const UnpackOptions *o, UnpackDone done, UnpackReady ready, void *userdata,
        Unpack **ret) {
        int r;

        assert(e && o && done);
        assert(o->dir_fd >= 0 && o->daemon_name);

        /* Loaded here, on the loop, the first time (and kept): the forked worker inherits it and never has
         * to dlopen() itself. */
        r = dlopen_archive();
        if (r < 0)
                return r;

        _cleanup_(unpack_freep) Unpack *u = new0(Unpack, 1);
        if (!u)
                return -ENOMEM;
        u->data_fd = u->report_fd = u->dir_fd = -EBADF;
        u->event = sd_event_ref(e);
        u->done = done;
        u->ready = ready;
        u->userdata = userdata;
        u->options = *o;
        u->daemon_name = strdup(o->daemon_name);
        if (!u->daemon_name)
                return -ENOMEM;
        u->dir_fd = fcntl(o->dir_fd, F_DUPFD_CLOEXEC, 3);
        if (u->dir_fd < 0)
                return -errno;

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        u->data_fd = sv[0];
        int size = UNPACK_SOCKET_BUFFER;
        (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        (void) setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        (void) shutdown(sv[0], SHUT_RD);
        r = fd_nonblock(u->data_fd, true);
        if (r >= 0)
                r = unpack_spawn(u, false, sv[1]);
        safe_close(sv[1]);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(u);
        return 0;
}
