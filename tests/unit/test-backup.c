/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The backup copy and its worker, on real files in a temporary folder (on /var/tmp, or $TMPDIR). The
 * file-system specific parts (reflinks on btrfs and xfs, running out of space) are in tests/backup/. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "backup-name.h"
#include "backup.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

#define NAME "data-backup-v1-20240920T123456Z"
/* The node whose home the test's backup folder is: untagged backups there are its own. */
static BackupOwner OWNER = {.node = (char *) "oraid@5f3c9e21", .legacy_ours = true};
#define PARTIAL ".partial-" NAME
#define MIB (1024 * 1024)

static char top[PATH_MAX];
static char data[PATH_MAX + 16];
static char root[PATH_MAX + 16];

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/var/tmp";
        snprintf(top, sizeof(top), "%s/test-backup-XXXXXX", tmp);
        cr_assert_not_null(mkdtemp(top));
        snprintf(data, sizeof(data), "%s/data", top);
        snprintf(root, sizeof(root), "%s/backups", top);
        cr_assert_eq(mkdir(data, 0755), 0);
        cr_assert_eq(mkdir(root, 0755), 0);
        log_set_max_level(LOG_CRIT);
        (void) umask(022);
        /* sd_event_add_child() needs SIGCHLD blocked. */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        cr_assert_eq(sigprocmask(SIG_BLOCK, &ss, NULL), 0);
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        (void) system(cmd);
}

TestSuite(backup, .init = setup, .fini = teardown, .timeout = 120);

/* "<base>/<rel>", valid for the next 15 calls (so that calls can nest). */
static char *at(const char *base, const char *rel) {
        static char *ring[16];
        static unsigned i;
        char *p = NULL;
        cr_assert_geq(asprintf(&p, "%s/%s", base, rel), 0);
        free(ring[i % 16]);
        ring[i++ % 16] = p;
        return p;
}

static void put(const char *rel, const void *content, size_t len, mode_t mode) {
        int fd = open(at(data, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0, "create %s: %m", rel);
        cr_assert_eq(loop_write(fd, content, len), 0);
        cr_assert_eq(fchmod(fd, mode), 0);
        close(fd);
}

static void put_text(const char *rel, const char *text, mode_t mode) {
        put(rel, text, strlen(text), mode);
}

static void set_times(const char *path, time_t a, long an, time_t m, long mn) {
        struct timespec ts[2] = {{a, an}, {m, mn}};
        cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0, "utimensat %s: %m", path);
}

/* Small files, quickly, to make a copy take a while. */
static void many_files(const char *dir, unsigned n, size_t size) {
        char *buf = calloc(1, size + 1);
        cr_assert_not_null(buf);
        memset(buf, 'x', size);
        cr_assert_eq(mkdir(at(data, dir), 0755), 0);
        for (unsigned i = 0; i < n; i++) {
                char rel[PATH_MAX];
                snprintf(rel, sizeof(rel), "%s/%06u.ldb", dir, i);
                put(rel, buf, size, 0644);
        }
        free(buf);
}

static int open_dir(const char *p) {
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "open %s: %m", p);
        return fd;
}

static bool exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Reading with O_NOATIME, so that comparing does not change the access times it compares (hard links
 * share them between names). */
static DIR *opendir_noatime(const char *p) {
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
        cr_assert_geq(fd, 0, "open %s: %m", p);
        DIR *d = fdopendir(fd);
        cr_assert_not_null(d);
        return d;
}

static FILE *fopen_noatime(const char *p) {
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOATIME);
        cr_assert_geq(fd, 0, "open %s: %m", p);
        FILE *f = fdopen(fd, "r");
        cr_assert_not_null(f);
        return f;
}

static unsigned count_entries(const char *p) {
        DIR *d = opendir_noatime(p);
        cr_assert_not_null(d);
        unsigned n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* Compares two trees entry by entry: type, mode, owner, size, nanosecond times (the metadata first,
 * before reading changes any access time), symlink targets, contents, device numbers, xattrs. */
static void compare_trees(const char *a, const char *b) {
        struct stat sa, sb;
        cr_assert_eq(lstat(a, &sa), 0, "lstat %s: %m", a);
        cr_assert_eq(lstat(b, &sb), 0, "lstat %s: %m", b);
        cr_assert_eq(sa.st_mode, sb.st_mode, "mode of %s: %o vs %o", b, sa.st_mode, sb.st_mode);
        cr_assert_eq(sa.st_uid, sb.st_uid, "uid of %s", b);
        cr_assert_eq(sa.st_gid, sb.st_gid, "gid of %s", b);
        cr_assert_eq(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec, "mtime of %s", b);
        cr_assert_eq(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec, "mtime nsec of %s", b);
        if (!S_ISLNK(sa.st_mode)) {
                /* (readlink() touches a symlink's atime, so only the mtime of symlinks is stable.) */
                cr_assert_eq(sa.st_atim.tv_sec, sb.st_atim.tv_sec, "atime of %s", b);
                cr_assert_eq(sa.st_atim.tv_nsec, sb.st_atim.tv_nsec, "atime nsec of %s", b);
        }
        cr_assert_neq(sa.st_ino, sb.st_ino, "%s is the same inode as the source", b);

        if (S_ISREG(sa.st_mode) || S_ISDIR(sa.st_mode)) {
                char la[4096], lb[4096];
                ssize_t na = llistxattr(a, la, sizeof(la)), nb = llistxattr(b, lb, sizeof(lb));
                cr_assert_eq(na, nb, "xattr list of %s", b);
                for (const char *k = la; na > 0 && k < la + na; k += strlen(k) + 1) {
                        char va[1024], vb[1024];
                        ssize_t xa = lgetxattr(a, k, va, sizeof(va)), xb = lgetxattr(b, k, vb, sizeof(vb));
                        cr_assert_eq(xa, xb, "xattr %s of %s", k, b);
                        cr_assert(xa < 0 || memcmp(va, vb, (size_t) xa) == 0, "xattr %s of %s", k, b);
                }
        }

        if (S_ISLNK(sa.st_mode)) {
                char ta[PATH_MAX], tb[PATH_MAX];
                ssize_t na = readlink(a, ta, sizeof(ta)), nb = readlink(b, tb, sizeof(tb));
                cr_assert_eq(na, nb);
                cr_assert(memcmp(ta, tb, (size_t) na) == 0, "symlink %s", b);
        } else if (S_ISREG(sa.st_mode)) {
                cr_assert_eq(sa.st_size, sb.st_size, "size of %s", b);
                FILE *fa = fopen_noatime(a), *fb = fopen_noatime(b);
                cr_assert(fa && fb);
                int ca, cb;
                do {
                        ca = fgetc(fa);
                        cb = fgetc(fb);
                        cr_assert_eq(ca, cb, "content of %s", b);
                } while (ca != EOF);
                fclose(fa);
                fclose(fb);
        } else if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode))
                cr_assert_eq(sa.st_rdev, sb.st_rdev);
        else if (S_ISDIR(sa.st_mode)) {
                cr_assert_eq(count_entries(a), count_entries(b), "entries of %s", b);
                DIR *d = opendir_noatime(a);
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        char ca2[PATH_MAX * 2], cb2[PATH_MAX * 2];
                        snprintf(ca2, sizeof(ca2), "%s/%s", a, de->d_name);
                        snprintf(cb2, sizeof(cb2), "%s/%s", b, de->d_name);
                        compare_trees(ca2, cb2);
                }
                closedir(d);
        }
}

typedef struct Progress {
        unsigned calls;
        uint64_t first_done, last_done, last_total;
        bool monotonic; /* done never went back, and the total once known never changed */
} Progress;

static void on_progress(uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;
        if (p->calls == 0)
                p->first_done = done;
        else if (done < p->last_done || (p->last_total > 0 && total != p->last_total))
                p->monotonic = false;
        if (total > 0 && done > total)
                p->monotonic = false;
        p->calls++;
        p->last_done = done;
        p->last_total = total;
}

static int copy(const char *name, BackupStats *st, char **err, Progress *p) {
        _cleanup_close_ int s = open_dir(data), r = open_dir(root);
        return backup_copy_tree(s, r, name, st, p ? on_progress : NULL, p, err);
}

/* The tree of the faithful-copy test: every kind of entry, odd modes and owners, sparse files. */
static void make_rich_tree(void) {
        char page[4096];
        memset(page, 'd', sizeof(page));

        cr_assert_eq(mkdir(at(data, "application.db"), 0700), 0);
        cr_assert_eq(mkdir(at(data, "shared"), 0755), 0);
        cr_assert_eq(chown(at(data, "shared"), 1234, 5678), 0);
        cr_assert_eq(chmod(at(data, "shared"), 02775), 0);
        cr_assert_eq(mkdir(at(data, "shared/deep"), 0750), 0);
        cr_assert_eq(mkdir(at(data, "shared/deep/er"), 01777), 0);
        cr_assert_eq(chmod(at(data, "shared/deep/er"), 01777), 0);

        put_text("priv_validator_state.json", "{\"height\":\"42\",\"round\":0,\"step\":0}\n", 0600);
        put_text("application.db/000001.ldb", "leveldb table", 0644);
        put_text("application.db/CURRENT", "MANIFEST-000002\n", 0644);
        put("empty", "", 0, 0644);
        put_text("setuid-tool", "#!/bin/sh\n", 0755);
        cr_assert_eq(chmod(at(data, "setuid-tool"), 04755), 0);
        put_text("readonly", "r", 0444);
        put_text("noperm", "n", 0);
        put_text("shared/owned", "owned by someone else", 0640);
        cr_assert_eq(chown(at(data, "shared/owned"), 1234, 5678), 0);
        cr_assert_eq(chmod(at(data, "shared/owned"), 02640), 0);

        /* Sparse: 1 MiB hole, 8 KiB of data, 2 MiB hole at the end; and one with only a hole. */
        int fd = open(at(data, "application.db/sparse.ldb"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        cr_assert_eq(pwrite(fd, page, sizeof(page), MIB), (ssize_t) sizeof(page));
        cr_assert_eq(pwrite(fd, page, sizeof(page), MIB + 4096), (ssize_t) sizeof(page));
        cr_assert_eq(ftruncate(fd, 3 * MIB + 8192), 0);
        close(fd);
        fd = open(at(data, "hole-only"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0);
        cr_assert_eq(ftruncate(fd, 5 * MIB), 0);
        close(fd);

        /* Symlinks: relative, dangling, absolute, out of the tree, to a folder. */
        cr_assert_eq(symlink("application.db/CURRENT", at(data, "link-rel")), 0);
        cr_assert_eq(symlink("does/not/exist", at(data, "link-dangling")), 0);
        cr_assert_eq(symlink("/etc/passwd", at(data, "link-abs")), 0);
        cr_assert_eq(symlink("../../../../../../etc", at(data, "shared/link-out")), 0);
        cr_assert_eq(symlink("shared", at(data, "link-dir")), 0);
        cr_assert_eq(lchown(at(data, "link-rel"), 1234, 5678), 0);

        /* Hard links: three names of one file in two folders. */
        put_text("wal", "write-ahead log", 0644);
        cr_assert_eq(link(at(data, "wal"), at(data, "application.db/wal.1")), 0);
        cr_assert_eq(link(at(data, "wal"), at(data, "shared/deep/wal.2")), 0);

        /* A FIFO, a device node, a socket (skipped). */
        cr_assert_eq(mkfifo(at(data, "fifo"), 0620), 0);
        cr_assert_eq(chmod(at(data, "fifo"), 0620), 0);
        cr_assert_eq(mknod(at(data, "null"), S_IFCHR | 0666, makedev(1, 3)), 0);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(s, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at(data, "node.sock"));
        cr_assert_eq(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0, "bind: %m");
        close(s);

        /* Extended attributes on a file and a folder. */
        cr_assert_eq(setxattr(at(data, "wal"), "user.oraivisor", "hello", 5, 0), 0, "user xattrs: %m");
        cr_assert_eq(setxattr(at(data, "shared"), "user.dir", "x", 1, 0), 0);

        /* Times with nanoseconds, folders last (filling them changed their mtime). */
        const char *files[] = {"readonly", "noperm", "priv_validator_state.json",
                "application.db/000001.ldb", "application.db/CURRENT", "empty", "setuid-tool",
                "shared/owned", "application.db/sparse.ldb", "hole-only", "link-rel", "link-dangling",
                "link-abs", "shared/link-out", "link-dir", "wal", "fifo", "null"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                set_times(at(data, files[i]), 1600000000 + (time_t) i, 123456789, 1500000000 + (time_t) i,
                        987654321 - (long) i);
        const char *dirs[] = {"shared/deep/er", "shared/deep", "shared", "application.db"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                set_times(at(data, dirs[i]), 1600001000 + (time_t) i, 111111111, 1500001000 + (time_t) i,
                        222222222 + (long) i);
        cr_assert_eq(chmod(data, 0750), 0);
        set_times(data, 1600002000, 333, 1500002000, 444);
}

Test(backup, faithful_copy) {
        make_rich_tree();
        struct stat before;
        cr_assert_eq(lstat(at(data, "wal"), &before), 0);

        BackupStats st = {};
        _cleanup_free_ char *err = NULL;
        Progress p = {.monotonic = true};
        cr_assert_eq(copy(NAME, &st, &err, &p), 0, "%s", strna(err));
        cr_assert_null(err);

        mode_t um = umask(022);
        cr_assert_eq(um, 022, "backup_copy_tree() did not restore the umask");
        _cleanup_free_ char *final = strdup(at(root, NAME));
        /* The socket is the one difference. */
        cr_assert(!exists(at(final, "node.sock")));
        cr_assert_eq(unlink(at(data, "node.sock")), 0);
        set_times(data, 1600002000, 333, 1500002000, 444);
        struct stat dst_root;
        cr_assert_eq(stat(final, &dst_root), 0);
        compare_trees(data, final);
        cr_assert(!exists(at(root, PARTIAL)));

        /* The source's access times were not touched by the backup. */
        struct stat after;
        cr_assert_eq(lstat(at(data, "wal"), &after), 0);
        cr_assert_eq(after.st_atim.tv_sec, before.st_atim.tv_sec);
        cr_assert_eq(after.st_atim.tv_nsec, before.st_atim.tv_nsec);

        /* Hard links: one new inode with the three names. */
        struct stat h0, h1, h2;
        cr_assert_eq(lstat(at(final, "wal"), &h0), 0);
        cr_assert_eq(lstat(at(final, "application.db/wal.1"), &h1), 0);
        cr_assert_eq(lstat(at(final, "shared/deep/wal.2"), &h2), 0);
        cr_assert_eq(h0.st_ino, h1.st_ino);
        cr_assert_eq(h0.st_ino, h2.st_ino);
        cr_assert_eq(h0.st_nlink, 3);
        cr_assert_neq(h0.st_ino, before.st_ino);

        /* Symlinks were copied, not followed. */
        struct stat ls;
        cr_assert_eq(lstat(at(final, "link-dir"), &ls), 0);
        cr_assert(S_ISLNK(ls.st_mode));
        cr_assert_eq(lstat(at(final, "shared/link-out"), &ls), 0);
        cr_assert(S_ISLNK(ls.st_mode));
        cr_assert_eq(lstat(at(final, "link-rel"), &ls), 0);
        cr_assert_eq(ls.st_uid, 1234);

        /* Setgid, setuid and sticky bits, FIFO and device. */
        cr_assert_eq(lstat(at(final, "shared"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 02775);
        cr_assert_eq(lstat(at(final, "setuid-tool"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 04755);
        cr_assert_eq(lstat(at(final, "readonly"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 0444);
        cr_assert_eq(lstat(at(final, "noperm"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 0);
        cr_assert_eq(lstat(at(final, "shared/owned"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 02640);
        cr_assert_eq(lstat(at(final, "shared/deep/er"), &ls), 0);
        cr_assert_eq(ls.st_mode & 07777, 01777);
        cr_assert_eq(lstat(at(final, "fifo"), &ls), 0);
        cr_assert(S_ISFIFO(ls.st_mode));
        cr_assert_eq(lstat(at(final, "null"), &ls), 0);
        cr_assert(S_ISCHR(ls.st_mode));
        cr_assert_eq(ls.st_rdev, makedev(1, 3));

        /* Figures. */
        cr_assert_eq(st.files, 11);
        cr_assert_eq(st.hardlinks, 2);
        cr_assert_eq(st.symlinks, 5);
        cr_assert_eq(st.specials, 2);
        cr_assert_eq(st.skipped, 1);
        cr_assert_eq(st.dirs, 4);
        const char *regular[] = {"readonly", "noperm", "priv_validator_state.json",
                "application.db/000001.ldb", "application.db/CURRENT", "empty", "setuid-tool",
                "shared/owned", "application.db/sparse.ldb", "hole-only", "wal"};
        uint64_t bytes = 0;
        for (size_t i = 0; i < ELEMENTSOF(regular); i++) {
                struct stat rs;
                cr_assert_eq(lstat(at(data, regular[i]), &rs), 0);
                bytes += (uint64_t) rs.st_size;
        }
        cr_assert_eq(bytes, 8 * MIB + 8192 + 112);
        cr_assert_eq(st.bytes, bytes);
        cr_assert_eq(st.cloned_bytes + st.copied_bytes + st.hole_bytes, bytes, "%lu + %lu + %lu",
                st.cloned_bytes, st.copied_bytes, st.hole_bytes);
        if (!st.cloning)
                cr_assert_geq(st.hole_bytes, 8 * MIB);
        cr_assert_gt(st.needed_bytes, 0);

        /* Progress: from 0 to the total, never backwards. */
        cr_assert_geq(p.calls, 2);
        cr_assert_eq(p.first_done, 0);
        cr_assert_eq(p.last_done, bytes);
        cr_assert_eq(p.last_total, bytes);
        cr_assert(p.monotonic);
}

Test(backup, sparse_files_keep_their_holes) {
        char page[4096];
        memset(page, 's', sizeof(page));
        int fd = open(at(data, "sparse"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        /* data at 0, hole, data at 16 MiB, hole up to 64 MiB */
        cr_assert_eq(pwrite(fd, page, sizeof(page), 0), (ssize_t) sizeof(page));
        cr_assert_eq(pwrite(fd, page, sizeof(page), 16 * MIB), (ssize_t) sizeof(page));
        cr_assert_eq(ftruncate(fd, 64 * MIB), 0);
        close(fd);

        BackupStats st = {};
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(copy(NAME, &st, &err, NULL), 0, "%s", strna(err));

        struct stat a, b;
        cr_assert_eq(stat(at(data, "sparse"), &a), 0);
        cr_assert_eq(stat(at(at(root, NAME), "sparse"), &b), 0);
        cr_assert_eq(b.st_size, 64 * MIB);
        cr_assert_leq(b.st_blocks, a.st_blocks, "copy uses %ld blocks, source %ld", (long) b.st_blocks,
                (long) a.st_blocks);
        cr_assert_lt(b.st_blocks * 512, 1 * MIB);

        fd = open(at(at(root, NAME), "sparse"), O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(lseek(fd, 0, SEEK_HOLE), 4096);
        cr_assert_eq(lseek(fd, 4096, SEEK_DATA), 16 * MIB);
        cr_assert_eq(lseek(fd, 16 * MIB, SEEK_HOLE), 16 * MIB + 4096);
        cr_assert_eq(lseek(fd, 16 * MIB + 4096, SEEK_DATA), -1);
        cr_assert_eq(errno, ENXIO);
        close(fd);
        if (!st.cloning) {
                cr_assert_eq(st.copied_bytes, 8192);
                cr_assert_eq(st.hole_bytes, 64 * MIB - 8192);
        }
}

Test(backup, large_file_content) {
        /* More than one copy_file_range() chunk, with a pattern that catches misplaced ranges. */
        size_t n = 150 * MIB + 123;
        uint8_t *buf = malloc(n);
        cr_assert_not_null(buf);
        for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t) (i * 2654435761u >> 13);
        put("big.ldb", buf, n, 0644);
        _cleanup_free_ char *err = NULL;
        BackupStats st = {};
        cr_assert_eq(copy(NAME, &st, &err, NULL), 0, "%s", strna(err));
        compare_trees(at(data, "big.ldb"), at(at(root, NAME), "big.ldb"));
        cr_assert_eq(st.bytes, n);
        free(buf);
}

Test(backup, never_merges_into_an_existing_folder) {
        put_text("a", "a", 0644);
        cr_assert_eq(mkdir(at(root, NAME), 0755), 0);
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(copy(NAME, NULL, &err, NULL), -EEXIST);
        cr_assert_not_null(err);
        cr_assert(strstr(err, "already exists"), "%s", err);
        cr_assert(strstr(err, NAME), "%s", err);
        cr_assert(strstr(err, "remove or rename it"), "%s", err);
        cr_assert_null(strchr(err, '\n'));
        cr_assert_eq(count_entries(at(root, NAME)), 0);
        cr_assert(!exists(at(root, PARTIAL)));
}

Test(backup, existing_symlink_with_the_final_name_is_not_replaced) {
        put_text("a", "a", 0644);
        cr_assert_eq(symlink("/nonexistent", at(root, NAME)), 0);
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(copy(NAME, NULL, &err, NULL), -EEXIST);
        struct stat st;
        cr_assert_eq(lstat(at(root, NAME), &st), 0);
        cr_assert(S_ISLNK(st.st_mode));
}

Test(backup, stale_partial_of_the_same_name_is_redone) {
        put_text("a", "fresh", 0644);
        cr_assert_eq(mkdir(at(root, PARTIAL), 0755), 0);
        cr_assert_eq(mkdir(at(root, PARTIAL "/old"), 0755), 0);
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(copy(NAME, NULL, &err, NULL), 0, "%s", strna(err));
        cr_assert(!exists(at(root, PARTIAL)));
        cr_assert(!exists(at(at(root, NAME), "old")));
        compare_trees(data, at(root, NAME));
}

Test(backup, refuses_a_backup_root_inside_the_data_folder) {
        put_text("a", "a", 0644);
        cr_assert_eq(mkdir(at(data, "backups"), 0755), 0);
        _cleanup_close_ int s = open_dir(data), r = open_dir(at(data, "backups"));
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(backup_copy_tree(s, r, NAME, NULL, NULL, NULL, &err), -ELOOP);
        cr_assert(strstr(err, "lies inside the data folder"), "%s", err);
        cr_assert(strstr(err, "DAEMON_DATA_BACKUP_DIR"), "%s", err);
        cr_assert_eq(count_entries(at(data, "backups")), 0);

        free(err);
        err = NULL;
        cr_assert_eq(backup_copy_tree(s, s, NAME, NULL, NULL, NULL, &err), -ELOOP);
        cr_assert(strstr(err, "lies inside the data folder"), "%s", err);
        cr_assert(!exists(at(data, PARTIAL)));
}

Test(backup, refuses_a_backup_root_deep_inside_the_data_folder) {
        /* Found before anything is made: no partial folder appears inside the data folder. */
        put_text("a", "a", 0644);
        cr_assert_eq(mkdir(at(data, "x"), 0755), 0);
        cr_assert_eq(mkdir(at(data, "x/y"), 0755), 0);
        cr_assert_eq(mkdir(at(data, "x/y/backups"), 0755), 0);
        _cleanup_close_ int s = open_dir(data), r = open_dir(at(data, "x/y/backups"));
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(backup_copy_tree(s, r, NAME, NULL, NULL, NULL, &err), -ELOOP);
        cr_assert(strstr(err, "lies inside the data folder"), "%s", err);
        cr_assert(strstr(err, "set DAEMON_DATA_BACKUP_DIR to a folder outside"), "%s", err);
        cr_assert_null(strchr(err, '\n'));
        cr_assert_eq(count_entries(at(data, "x/y/backups")), 0);
        cr_assert_eq(count_entries(data), 2);
}

Test(backup, many_files_with_hard_links_and_attributes_across_batches) {
        /* More files than go to the workers at once, in several folders: hard links whose first name is
         * copied long before the others, attributes, odd modes and owners here and there. */
        char content[64];
        cr_assert_eq(mkdir(at(data, "a"), 0755), 0);
        cr_assert_eq(mkdir(at(data, "b"), 0711), 0);
        cr_assert_eq(mkdir(at(data, "b/c"), 0755), 0);
        const char *dirs[] = {"a", "b", "b/c"};
        for (unsigned i = 0; i < 600; i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "%s/%06u.ldb", dirs[i % 3], i);
                int n = snprintf(content, sizeof(content), "table %u", i);
                put(rel, content, (size_t) n * (i % 7), i % 50 == 0 ? 0600 : 0644);
                if (i % 97 == 0)
                        cr_assert_eq(setxattr(at(data, rel), "user.table", content, (size_t) n, 0), 0);
                if (i % 113 == 0)
                        cr_assert_eq(chown(at(data, rel), 1234, 5678), 0);
        }
        put_text("a/first", "linked", 0640);
        cr_assert_eq(link(at(data, "a/first"), at(data, "b/c/zzz-last")), 0);
        cr_assert_eq(link(at(data, "a/first"), at(data, "b/zzz-middle")), 0);
        set_times(at(data, "a/first"), 1600000000, 1, 1500000000, 2);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                set_times(at(data, dirs[i]), 1600001000, 3, 1500001000, 4);

        BackupStats st = {};
        _cleanup_free_ char *err = NULL;
        Progress p = {.monotonic = true};
        cr_assert_eq(copy(NAME, &st, &err, &p), 0, "%s", strna(err));
        compare_trees(data, at(root, NAME));
        cr_assert_eq(st.files, 601);
        cr_assert_eq(st.hardlinks, 2);
        cr_assert_eq(st.dirs, 3);
        struct stat h0, h1, h2;
        cr_assert_eq(lstat(at(at(root, NAME), "a/first"), &h0), 0);
        cr_assert_eq(lstat(at(at(root, NAME), "b/c/zzz-last"), &h1), 0);
        cr_assert_eq(lstat(at(at(root, NAME), "b/zzz-middle"), &h2), 0);
        cr_assert_eq(h0.st_ino, h1.st_ino);
        cr_assert_eq(h0.st_ino, h2.st_ino);
        cr_assert_eq(h0.st_nlink, 3);
        cr_assert(p.monotonic);
        cr_assert_eq(p.last_done, st.bytes);
        cr_assert_eq(p.last_total, st.bytes);
}

Test(backup, empty_data_folder) {
        BackupStats st = {};
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(copy(NAME, &st, &err, NULL), 0, "%s", strna(err));
        compare_trees(data, at(root, NAME));
        cr_assert_eq(count_entries(at(root, NAME)), 0);
        cr_assert_eq(st.files, 0);
}

Test(backup, bad_names) {
        _cleanup_close_ int s = open_dir(data), r = open_dir(root);
        cr_assert_eq(backup_copy_tree(s, r, "", NULL, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(backup_copy_tree(s, r, "a/b", NULL, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(backup_copy_tree(s, r, "..", NULL, NULL, NULL, NULL), -EINVAL);
}

static void stop_in_progress(uint64_t done, uint64_t total, void *userdata) {
        (void) loop_write(*(int *) userdata, "x", 1);
        for (;;)
                pause();
}

Test(backup, sigkill_leaves_only_a_partial_which_cleanup_removes) {
        many_files("application.db", 200, 4096);
        int sync_pipe[2];
        cr_assert_eq(pipe2(sync_pipe, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                /* The copy stops in its first progress report (the partial exists by then) and waits to be
                 * killed: a kill in the middle, every time. */
                _cleanup_close_ int s = open_dir(data), r = open_dir(root);
                (void) backup_copy_tree(s, r, NAME, NULL, stop_in_progress, &sync_pipe[1], NULL);
                _exit(0);
        }
        close(sync_pipe[1]);
        char x;
        cr_assert_eq(read(sync_pipe[0], &x, 1), 1);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status));

        cr_assert(exists(at(root, PARTIAL)));
        cr_assert(!exists(at(root, NAME)));
        /* Next to it: things cleanup must leave alone. */
        cr_assert_eq(mkdir(at(root, ".partial-other"), 0755), 0);
        cr_assert_eq(mkdir(at(root, ".partial-data-backup-2024-9-20"), 0755), 0);
        cr_assert_eq(mkdir(at(root, "data-backup-v0-20240101T000000Z"), 0755), 0);
        cr_assert_eq(mkdir(at(top, "elsewhere"), 0755), 0);
        put_text("../elsewhere/precious", "x", 0644);
        cr_assert_eq(symlink(at(top, "elsewhere"), at(root, ".partial-data-backup-v2-20240920T123456Z")), 0);

        /* Another node's partial in a shared backup folder: its own start-up cleans it, never ours. */
        cr_assert_eq(mkdir(at(root, ".partial-data-backup-oraid@0123abcd-v2-20240920T123456Z"), 0755), 0);

        cr_assert_eq(backup_cleanup_partial(root, &OWNER), 1);
        cr_assert(!exists(at(root, PARTIAL)));
        cr_assert(exists(at(root, ".partial-other")));
        cr_assert(exists(at(root, ".partial-data-backup-2024-9-20")));
        cr_assert(exists(at(root, "data-backup-v0-20240101T000000Z")));
        cr_assert(exists(at(root, ".partial-data-backup-v2-20240920T123456Z")));
        cr_assert(exists(at(top, "elsewhere/precious")));
        cr_assert(exists(at(root, ".partial-data-backup-oraid@0123abcd-v2-20240920T123456Z")));
        cr_assert_eq(backup_cleanup_partial(root, &OWNER), 0);
        cr_assert_eq(backup_cleanup_partial(at(top, "missing"), &OWNER), 0);
        /* Its owner removes it; an untagged partial is not ours outside our home. */
        cr_assert_eq(mkdir(at(root, ".partial-data-backup-v3-20240920T123456Z"), 0755), 0);
        BackupOwner other = {.node = (char *) "oraid@0123abcd", .legacy_ours = false};
        cr_assert_eq(backup_cleanup_partial(root, &other), 1);
        cr_assert(!exists(at(root, ".partial-data-backup-oraid@0123abcd-v2-20240920T123456Z")));
        cr_assert(exists(at(root, ".partial-data-backup-v3-20240920T123456Z")));
}

Test(backup, prune_keeps_the_newest) {
        const char *names[] = {
                "data-backup-v1-20240101T000000Z",
                "data-backup-v2-20240201T000000Z",
                "data-backup-v3-20240301T000000Z",
                "data-backup-v3-20240302T000000Z",
                "data-backup-v4-20240401T000000Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                cr_assert_eq(mkdir(at(root, names[i]), 0755), 0);
                cr_assert_eq(mkdir(at(at(root, names[i]), "sub"), 0755), 0);
        }
        cr_assert_eq(mkdir(at(root, "data-backup-2024-1-1"), 0755), 0);
        cr_assert_eq(mkdir(at(root, "data"), 0755), 0);
        cr_assert_eq(mkdir(at(top, "elsewhere"), 0755), 0);
        /* A symlink with a backup's name, older than all: not a folder, never followed or removed. */
        cr_assert_eq(symlink(at(top, "elsewhere"), at(root, "data-backup-v0-20200101T000000Z")), 0);
        /* A file with a backup's name: not touched either. */
        int fd = open(at(root, "data-backup-v0-20200102T000000Z"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        close(fd);

        cr_assert_eq(backup_prune(root, &OWNER, NULL, 0), 0);
        cr_assert_eq(count_entries(root), 9);
        cr_assert_eq(backup_prune(root, &OWNER, "v3", 1), 1);
        cr_assert(!exists(at(root, "data-backup-v3-20240301T000000Z")));
        cr_assert(exists(at(root, "data-backup-v3-20240302T000000Z")));
        cr_assert_eq(backup_prune(root, &OWNER, NULL, 2), 2);
        cr_assert(!exists(at(root, "data-backup-v1-20240101T000000Z")));
        cr_assert(!exists(at(root, "data-backup-v2-20240201T000000Z")));
        cr_assert(exists(at(root, "data-backup-v3-20240302T000000Z")));
        cr_assert(exists(at(root, "data-backup-v4-20240401T000000Z")));
        cr_assert(exists(at(root, "data-backup-2024-1-1")));
        cr_assert(exists(at(root, "data")));
        cr_assert(exists(at(root, "data-backup-v0-20200101T000000Z")));
        cr_assert(exists(at(root, "data-backup-v0-20200102T000000Z")));
        cr_assert(exists(at(top, "elsewhere")));
        cr_assert_eq(backup_prune(root, &OWNER, NULL, 2), 0);
        cr_assert_lt(backup_prune(at(top, "missing"), &OWNER, NULL, 2), 0);
}

/* ---- the worker on an event loop ---- */

typedef struct Run {
        bool done;
        int error;
        char *message;
        unsigned progress_calls;
        uint64_t last_done, last_total;
        bool kill_on_progress, free_on_progress;
        pid_t killed;
        Backup *b;
} Run;

static void run_done(Backup *b, int error, const char *message, void *userdata) {
        Run *r = userdata;
        r->done = true;
        r->error = error;
        r->message = strdup(message);
}

static void run_progress(Backup *b, uint64_t done, uint64_t total, void *userdata) {
        Run *r = userdata;
        r->progress_calls++;
        r->last_done = done;
        r->last_total = total;
        if (r->kill_on_progress && !r->killed) {
                r->killed = backup_worker_pid(b);
                cr_assert_gt(r->killed, 0);
                cr_assert_eq(kill(r->killed, SIGKILL), 0);
        }
}

static void run_backup(Run *r, const char *data_path, const char *name, usec_t timeout) {
        sd_event *e = NULL;
        cr_assert_eq(sd_event_new(&e), 0);
        BackupSpec spec = {.data_path = data_path, .backup_root = root, .name = name, .timeout = timeout};
        cr_assert_eq(backup_start(e, &spec, run_done, run_progress, r, &r->b), 0);
        cr_assert_gt(backup_worker_pid(r->b), 0);
        while (!r->done && !(r->free_on_progress && r->progress_calls > 0))
                cr_assert_geq(sd_event_run(e, UINT64_MAX), 0);
        if (r->free_on_progress) {
                pid_t pid = backup_worker_pid(r->b);
                cr_assert_gt(pid, 0);
                r->b = backup_free(r->b);
                /* Killed and reaped. */
                cr_assert_eq(kill(pid, 0), -1);
                cr_assert_eq(errno, ESRCH);
        } else {
                cr_assert_eq(backup_worker_pid(r->b), 0);
                r->b = backup_free(r->b);
        }
        sd_event_unref(e);
}

Test(backup, worker_success) {
        many_files("application.db", 50, 10000);
        put_text("priv_validator_state.json", "{}", 0600);
        Run r = {};
        run_backup(&r, data, NAME, 0);
        cr_assert_eq(r.error, 0, "%s", r.message);
        cr_assert(strstr(r.message, "Backed up '"), "%s", r.message);
        cr_assert(strstr(r.message, "51 files"), "%s", r.message);
        cr_assert_null(strchr(r.message, '\n'));
        cr_assert_geq(r.progress_calls, 1);
        cr_assert_eq(r.last_done, 50 * 10000 + 2);
        cr_assert_eq(r.last_total, 50 * 10000 + 2);
        compare_trees(data, at(root, NAME));
        cr_assert(!exists(at(root, PARTIAL)));
        free(r.message);
}

Test(backup, worker_reports_a_missing_data_folder) {
        Run r = {};
        run_backup(&r, at(top, "nodata"), NAME, 0);
        cr_assert_eq(r.error, -ENOENT);
        cr_assert(strstr(r.message, "Cannot open the data folder"), "%s", r.message);
        cr_assert(strstr(r.message, "nodata"), "%s", r.message);
        cr_assert(strstr(r.message, "UNSAFE_SKIP_BACKUP=true"), "%s", r.message);
        free(r.message);
}

Test(backup, worker_reports_a_missing_backup_folder) {
        put_text("a", "a", 0644);
        char *saved = strdup(root);
        cr_assert_not_null(saved);
        snprintf(root, sizeof(root), "%s/missing", top);
        Run r = {};
        run_backup(&r, data, NAME, 0);
        cr_assert_eq(r.error, -ENOENT);
        cr_assert(strstr(r.message, "Cannot open the backup folder"), "%s", r.message);
        cr_assert(strstr(r.message, "DAEMON_DATA_BACKUP_DIR"), "%s", r.message);
        snprintf(root, sizeof(root), "%s", saved);
        free(saved);
        free(r.message);
}

Test(backup, data_folder_may_be_a_symlink_to_another_disk) {
        /* Operators often keep data/ elsewhere: the top-level link is resolved once, nothing below. */
        put_text("a", "a", 0644);
        cr_assert_eq(symlink(data, at(top, "data-link")), 0);
        Run r = {};
        run_backup(&r, at(top, "data-link"), NAME, 0);
        cr_assert_eq(r.error, 0, "%s", r.message);
        struct stat st;
        cr_assert_eq(lstat(at(root, NAME), &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        compare_trees(data, at(root, NAME));
        free(r.message);
}

Test(backup, worker_reports_an_existing_final_folder) {
        put_text("a", "a", 0644);
        cr_assert_eq(mkdir(at(root, NAME), 0755), 0);
        Run r = {};
        run_backup(&r, data, NAME, 0);
        cr_assert_eq(r.error, -EEXIST);
        cr_assert(strstr(r.message, "already exists"), "%s", r.message);
        cr_assert(exists(at(root, NAME)));
        free(r.message);
}

Test(backup, prune_leaves_other_nodes_alone) {
        /* Two nodes back up into one DAEMON_DATA_BACKUP_DIR, each with ORAIVISOR_BACKUP_KEEP=1. */
        const char *names[] = {
                "data-backup-oraid@0123abcd-v1-20240101T000000Z",
                "data-backup-oraid@0123abcd-v2-20240201T000000Z",
                "data-backup-oraid@89abcdef-v1-20230101T000000Z",
                "data-backup-oraid@89abcdef-v2-20230201T000000Z",
                "data-backup-v0-20220101T000000Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                cr_assert_eq(mkdir(at(root, names[i]), 0755), 0);
        BackupOwner a = {.node = (char *) "oraid@0123abcd"}, b = {.node = (char *) "oraid@89abcdef"};
        cr_assert_eq(backup_prune(root, &a, NULL, 1), 1);
        cr_assert(!exists(at(root, names[0])));
        cr_assert(exists(at(root, names[1])));
        cr_assert(exists(at(root, names[2])), "node a pruned node b's backup");
        cr_assert(exists(at(root, names[3])));
        cr_assert(exists(at(root, names[4])), "an untagged backup outside our home was pruned");
        cr_assert_eq(backup_prune(root, &b, NULL, 1), 1);
        cr_assert(!exists(at(root, names[2])));
        cr_assert(exists(at(root, names[1])));
        cr_assert(exists(at(root, names[3])));
        cr_assert(exists(at(root, names[4])));
}

Test(backup, owner_get) {
        _cleanup_(backup_owner_done) BackupOwner o1 = {}, o2 = {}, o3 = {}, o4 = {};
        cr_assert_eq(mkdir(at(top, "home"), 0755), 0);
        cr_assert_eq(symlink("home", at(top, "home-link")), 0);
        cr_assert_eq(backup_owner_get("oraid", at(top, "home"), NULL, &o1), 0);
        cr_assert(o1.legacy_ours);
        cr_assert(startswith(o1.node, "oraid@"));
        /* One home however spelled: the same node; the home given as the backup folder is still the home. */
        cr_assert_eq(backup_owner_get("oraid", at(top, "home-link"), at(top, "home"), &o2), 0);
        cr_assert_str_eq(o2.node, o1.node);
        cr_assert(o2.legacy_ours);
        /* A shared folder elsewhere: untagged backups there are not ours. */
        cr_assert_eq(backup_owner_get("oraid", at(top, "home"), root, &o3), 0);
        cr_assert(!o3.legacy_ours);
        cr_assert_eq(backup_owner_get("oraid", root, root, &o4), 0);
        cr_assert_str_neq(o4.node, o1.node);
}

Test(backup, start_rejects_a_bad_name) {
        sd_event *e = NULL;
        cr_assert_eq(sd_event_new(&e), 0);
        BackupSpec spec = {.data_path = data, .backup_root = root, .name = "data-backup-2024-9-20"};
        Backup *b = NULL;
        cr_assert_eq(backup_start(e, &spec, run_done, NULL, NULL, &b), -EINVAL);
        cr_assert_null(b);
        sd_event_unref(e);
}

Test(backup, worker_killed_mid_copy) {
        many_files("application.db", 20000, 2048);
        Run r = {.kill_on_progress = true};
        run_backup(&r, data, NAME, 0);
        cr_assert_eq(r.error, -ECANCELED, "%d %s", r.error, r.message);
        cr_assert(strstr(r.message, "SIGKILL"), "%s", r.message);
        cr_assert(!exists(at(root, NAME)));
        cr_assert(!exists(at(root, PARTIAL)));
        free(r.message);
}

Test(backup, worker_timeout) {
        many_files("application.db", 20000, 2048);
        Run r = {};
        run_backup(&r, data, NAME, 1000);
        cr_assert_eq(r.error, -ETIME, "%d %s", r.error, r.message);
        cr_assert(strstr(r.message, "did not finish within 1ms"), "%s", r.message);
        /* No variable sets this limit (the upgrade runs the backup without one): none is named. */
        cr_assert(!strstr(r.message, "ORAIVISOR_HOOK_TIMEOUT"), "%s", r.message);
        cr_assert(strstr(r.message, "UNSAFE_SKIP_BACKUP=true"), "%s", r.message);
        cr_assert(!exists(at(root, NAME)));
        cr_assert(!exists(at(root, PARTIAL)));
        free(r.message);
}

Test(backup, free_while_running_kills_and_cleans_up) {
        many_files("application.db", 20000, 2048);
        Run r = {.free_on_progress = true};
        run_backup(&r, data, NAME, 0);
        cr_assert(!r.done);
        cr_assert(!exists(at(root, NAME)));
        cr_assert(!exists(at(root, PARTIAL)));
}
