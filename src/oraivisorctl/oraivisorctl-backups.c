/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl backups [restore NAME [--switch-to VERSION]]: the node's backups, and the recovery path
 * after a failed upgrade. A restore holds oraivisor's own lock throughout (so neither oraivisor nor, in
 * exec mode, its daemon runs, nor can start meanwhile) and never leaves the node without a data/: the
 * backup is copied beside data/ under a staging name (backup_copy_tree_full(): the same faithful copy,
 * reflinks or a writable btrfs snapshot where the file system allows), then swapped with data/ in one
 * rename, and the replaced data is kept under a dated name. Any failure before the swap leaves data/ as it
 * was; `current` is switched (layout_switch(), under the install lock) only after the data is in place. */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup-list.h"
#include "backup-name.h"
#include "backup.h"
#include "fd-util.h"
#include "fs-util.h"
#include "lock.h"
#include "log.h"
#include "oraivisorctl.h"
#include "record.h"
#include "string-util.h"
#include "upgrade-name.h"

#define RESTORE_STAGING_INFIX ".restoring-"
#define RESTORE_REPLACED_INFIX ".replaced-"
#define INSTALL_LOCK_TIMEOUT (10 * USEC_PER_SEC)
#define RECORD_FILE "upgrade-in-progress.json"
#define RECORD_MAX (1024 * 1024)

typedef enum UtcFormat {
        STAMP_FORMAT, /* "20261206T154700Z", as in backup names */
        HUMAN_FORMAT, /* "2026-12-06 15:47:00 UTC" */
        JSON_FORMAT, /* "2026-12-06T15:47:00Z" */
} UtcFormat;

static const char *format_utc(char *buf, size_t len, usec_t t, UtcFormat f) {
        time_t s = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        size_t n = 0;
        if (gmtime_r(&s, &tm))
                switch (f) {
                case STAMP_FORMAT: n = strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm); break;
                case HUMAN_FORMAT: n = strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm); break;
                case JSON_FORMAT: n = strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm); break;
                }
        if (n == 0)
                snprintf(buf, len, "?");
        return buf;
}

/* A path or name from the disk for the terminal (control characters escaped). */
static char *shown(const char *s) {
        return string_escape_for_log(s, strlen(s), 4096);
}

/* A path for a shell command line: as is when it holds only harmless characters, else single-quoted. */
static char *shell_quoted(const char *s) {
        if (!isempty(s) &&
                s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+@%:,=")] ==
                        0)
                return strdup(s);
        _cleanup_free_ char *q = strdup("'");
        if (!q)
                return NULL;
        for (const char *p = s; *p; p++)
                if ((*p == '\'' ? strextendf(&q, "'\\''") : strextendf(&q, "%c", *p)) < 0)
                        return NULL;
        if (strextendf(&q, "'") < 0)
                return NULL;
        return TAKE_PTR(q);
}

/* ---- backups ---------------------------------------------------------------------------------------- */

static const char *size_text(char *buf, size_t len, const BackupEntry *e) {
        if (e->size == UINT64_MAX)
                return "?";
        return backup_format_bytes(buf, len, e->size);
}

static int list_json(Ctl *ctl, const BackupList *l) {
        char t[64];
        json_object *root = json_object_new_object(), *arr = json_object_new_array();
        if (!root || !arr) {
                json_object_put(root);
                json_object_put(arr);
                return log_oom(), CTL_EXIT_FAILURE;
        }
        json_object_object_add(root, "backup_dir", json_object_new_string(l->root));
        json_object_object_add(root, "backup_dir_error",
                l->root_error < 0 ? json_object_new_string(strerror(-l->root_error)) : NULL);
        json_object_object_add(root, "free_bytes",
                l->free_bytes == UINT64_MAX ? NULL : json_object_new_uint64(l->free_bytes));
        for (size_t i = 0; i < l->n_entries; i++) {
                const BackupEntry *e = &l->entries[i];
                json_object *o = json_object_new_object();
                if (!o) {
                        json_object_put(root);
                        json_object_put(arr);
                        return log_oom(), CTL_EXIT_FAILURE;
                }
                json_object_object_add(o, "name", json_object_new_string(e->name));
                json_object_object_add(o, "path", json_object_new_string(e->path));
                json_object_object_add(o, "upgrade", json_object_new_string(e->upgrade));
                json_object_object_add(o, "folder", json_object_new_string(e->folder));
                json_object_object_add(
                        o, "time", json_object_new_string(format_utc(t, sizeof(t), e->time, JSON_FORMAT)));
                json_object_object_add(o, "time_usec", json_object_new_uint64(e->time));
                json_object_object_add(o, "complete", json_object_new_boolean(!e->partial));
                json_object_object_add(o, "kind", json_object_new_string(e->snapshot ? "snapshot" : "copy"));
                json_object_object_add(
                        o, "size_bytes", e->size == UINT64_MAX ? NULL : json_object_new_uint64(e->size));
                json_object_array_add(arr, o);
        }
        json_object_object_add(root, "backups", arr);
        int r = ctl_print_json(root);
        json_object_put(root);
        return r;
}

static int list_human(Ctl *ctl, const BackupList *l) {
        char sz[BACKUP_FORMAT_BYTES_MAX], t[64];
        _cleanup_free_ char *root = shown(l->root);
        if (!root)
                return log_oom(), CTL_EXIT_FAILURE;

        if (l->root_error < 0) {
                printf("No backups of %s: the backup folder '%s' cannot be opened (%s).\n", ctl->config.name,
                        root, strerror(-l->root_error));
                return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
        }
        printf("%sBackups of %s in %s%s", ctl_ansi_bold(ctl), ctl->config.name, root, ctl_ansi_normal(ctl));
        if (l->free_bytes != UINT64_MAX)
                printf(" (%s free)", backup_format_bytes(sz, sizeof(sz), l->free_bytes));
        printf("\n");
        if (l->n_entries == 0) {
                printf("  none\n");
                return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
        }
        size_t wn = strlen("NAME"), wu = strlen("UPGRADE");
        for (size_t i = 0; i < l->n_entries; i++) {
                _cleanup_free_ char *n = shown(l->entries[i].name), *u = shown(l->entries[i].upgrade);
                if (!n || !u)
                        return log_oom(), CTL_EXIT_FAILURE;
                wn = MAX(wn, strlen(n));
                wu = MAX(wu, strlen(u));
        }
        printf("%s%-*s  %-*s  %-23s  %10s  %-8s  %s%s\n", ctl_ansi_grey(ctl), (int) wn, "NAME", (int) wu,
                "UPGRADE", "TAKEN", "SIZE", "KIND", "STATE", ctl_ansi_normal(ctl));
        for (size_t i = 0; i < l->n_entries; i++) {
                const BackupEntry *e = &l->entries[i];
                _cleanup_free_ char *n = shown(e->name), *u = shown(e->upgrade);
                if (!n || !u)
                        return log_oom(), CTL_EXIT_FAILURE;
                printf("%-*s  %-*s  %-23s  %10s  %-8s  %s%s%s\n", (int) wn, n, (int) wu, u,
                        format_utc(t, sizeof(t), e->time, HUMAN_FORMAT), size_text(sz, sizeof(sz), e),
                        e->snapshot ? "snapshot" : "copy",
                        e->partial ? ctl_ansi_yellow(ctl) : ctl_ansi_green(ctl),
                        e->partial ? "partial" : "complete", ctl_ansi_normal(ctl));
        }
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

static int run_list(Ctl *ctl) {
        _cleanup_(backup_list_done) BackupList l = {};
        int r = backup_list(
                ctl->config.name, ctl->config.home, ctl->config.backup_dir, BACKUP_LIST_SIZES, &l);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot list the backups of DAEMON_NAME='%s': %s.",
                        ctl->config.name, strerror(-r));
        return ctl->json ? list_json(ctl, &l) : list_human(ctl, &l);
}

/* ---- restore ---------------------------------------------------------------------------------------- */

/* A process other than us whose working folder, root or an open file lies in dir (the node's data): 1 and
 * its pid and name, 0 when there is none. /proc entries we may not read are passed over. */
static int find_process_using(const char *dir, pid_t *ret_pid, char **ret_comm) {
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        if (!proc)
                return -errno;
        pid_t self = getpid();
        struct dirent *de;
        while ((de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end != 0 || pid <= 0 || pid == self)
                        continue;
                _cleanup_close_ int pfd =
                        openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        continue;
                bool found = false;
                char target[PATH_MAX];
                static const char *const links[] = {"cwd", "root"};
                for (size_t i = 0; i < ELEMENTSOF(links) && !found; i++) {
                        ssize_t n = readlinkat(pfd, links[i], target, sizeof(target) - 1);
                        if (n > 0) {
                                target[n] = 0;
                                found = path_startswith_dir(target, dir);
                        }
                }
                _cleanup_close_ int ffd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_closedir_ DIR *fds = ffd >= 0 ? fdopendir(ffd) : NULL;
                if (fds)
                        ffd = -EBADF; /* the DIR owns it now */
                struct dirent *fe;
                while (fds && !found && (fe = readdir(fds))) {
                        ssize_t n = readlinkat(dirfd(fds), fe->d_name, target, sizeof(target) - 1);
                        if (n > 0) {
                                target[n] = 0;
                                found = path_startswith_dir(target, dir);
                        }
                }
                if (!found)
                        continue;
                _cleanup_free_ char *comm = NULL;
                size_t len;
                if (read_file_at(pfd, "comm", 4096, &comm, &len) >= 0)
                        strip_trailing_whitespace(comm);
                *ret_pid = (pid_t) pid;
                *ret_comm = TAKE_PTR(comm);
                return 1;
        }
        return 0;
}

/* Where data/ really is: the folder holding it (opened) and its name there. data/ may be a symlink to
 * another disk; the restore then happens beside its target, and the symlink stays. exists: whether there
 * is a data folder at all. */
typedef struct DataPlace {
        int parent_fd;
        char *parent; /* absolute path of the parent */
        char *base; /* the data folder's name in it: "data", or the symlink target's */
        char *path; /* parent/base */
        bool exists;
} DataPlace;

static void data_place_done(DataPlace *p) {
        safe_close(p->parent_fd);
        free(p->parent);
        free(p->base);
        free(p->path);
}

static int data_place_get(const Config *c, DataPlace *ret) {
        _cleanup_free_ char *link = NULL, *real = NULL;
        struct stat st;

        *ret = (DataPlace){.parent_fd = -EBADF};
        if (asprintf(&link, "%s/data", c->home) < 0)
                return -ENOMEM;
        if (lstat(link, &st) < 0) {
                if (errno != ENOENT)
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot look at the data folder '%s': %s.", link,
                                       strerror(errno)),
                               -EIO;
                ret->exists = false;
                real = strdup(link);
        } else {
                real = realpath(link, NULL);
                if (!real)
                        return ctl_fail(CTL_EXIT_FAILURE,
                                       "Cannot resolve the data folder '%s': %s: repair the symlink.", link,
                                       strerror(errno)),
                               -EINVAL;
                if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                        return ctl_fail(CTL_EXIT_FAILURE, "'%s' is not a folder: move it away, then retry.",
                                       real),
                               -ENOTDIR;
                ret->exists = true;
        }
        if (!real)
                return -ENOMEM;
        char *slash = strrchr(real, '/');
        if (!slash || slash == real || isempty(slash + 1))
                return ctl_fail(CTL_EXIT_FAILURE, "The data folder '%s' cannot be restored in place.", real),
                       -EINVAL;
        ret->base = strdup(slash + 1);
        ret->parent = strndup(real, slash - real);
        ret->path = TAKE_PTR(real);
        if (!ret->base || !ret->parent)
                return -ENOMEM;
        ret->parent_fd = open(ret->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ret->parent_fd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open '%s': %s.", ret->parent, strerror(errno)),
                       -EIO;
        return 0;
}

/* Removes the leftovers of an interrupted restore beside data/ ("<base>.restoring-*" and their partial
 * forms): only one restore runs at a time (it holds the supervisor lock), so none of them is in use. */
static void remove_stale_staging(const DataPlace *p) {
        _cleanup_free_ char *prefix = NULL, *partial = NULL;
        if (asprintf(&prefix, "%s" RESTORE_STAGING_INFIX, p->base) < 0 ||
                asprintf(&partial, BACKUP_PARTIAL_PREFIX "%s", prefix) < 0)
                return;
        _cleanup_closedir_ DIR *d = fdopendir_dup(p->parent_fd);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, prefix) && !startswith(de->d_name, partial))
                        continue;
                _cleanup_free_ char *s = shown(de->d_name);
                int r = backup_remove_at(p->parent_fd, de->d_name);
                if (r < 0)
                        log_warning_errno(r,
                                "Failed to remove '%s/%s', left by an interrupted restore, ignoring: %m",
                                p->parent, strna(s));
                else
                        printf("Removed '%s/%s', left by an interrupted restore.\n", p->parent, strna(s));
        }
}

/* "<base><infix><stamp>", with "-2", "-3"… when that exists already. */
static int free_name(const DataPlace *p, const char *infix, const char *stamp, char **ret) {
        for (unsigned i = 1; i < 1000; i++) {
                _cleanup_free_ char *n = NULL;
                if ((i == 1 ? asprintf(&n, "%s%s%s", p->base, infix, stamp)
                            : asprintf(&n, "%s%s%s-%u", p->base, infix, stamp, i)) < 0)
                        return -ENOMEM;
                if (strlen(n) > BACKUP_NAME_MAX)
                        return -ENAMETOOLONG;
                _cleanup_free_ char *partial = NULL;
                if (asprintf(&partial, BACKUP_PARTIAL_PREFIX "%s", n) < 0)
                        return -ENOMEM;
                if (faccessat(p->parent_fd, n, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
                        faccessat(p->parent_fd, partial, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
                        *ret = TAKE_PTR(n);
                        return 0;
                }
        }
        return -EEXIST;
}

/* Checks --switch-to VERSION: 0 and the target for layout_switch() ("genesis" or "upgrades/<folder>"), or
 * an exit status (the error printed). */
static int switch_target(Ctl *ctl, Layout *l, char **ret) {
        const char *v = ctl->switch_to;
        _cleanup_free_ char *folder = NULL, *target = NULL, *sv = shown(v);
        int r;

        if (!sv)
                return log_oom(), CTL_EXIT_FAILURE;
        if (streq(v, "genesis"))
                target = strdup("genesis");
        else {
                /* Checked first, so that a bad name gets one line (layout_find_upgrade() logs its own). */
                r = upgrade_name_to_folder(v, &folder);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (r < 0)
                        return ctl_fail(CTL_EXIT_USAGE,
                                "--switch-to '%s' is not a version name (%s): give 'genesis' or an "
                                "installed upgrade's name.",
                                sv, upgrade_name_error(r));
                folder = mfree(folder);
                r = layout_find_upgrade(l, v, &folder);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (r < 0)
                        return CTL_EXIT_USAGE;
                if (r == 0)
                        return ctl_fail(CTL_EXIT_NOT_FOUND,
                                "--switch-to '%s': no such upgrade is installed in '%s/upgrades': give "
                                "'genesis' or an installed upgrade (see 'oraivisorctl list').",
                                sv, l->root);
                if (asprintf(&target, "upgrades/%s", folder) < 0)
                        target = NULL;
        }
        if (!target)
                return log_oom(), CTL_EXIT_FAILURE;
        r = version_binary_check_at(l->root_fd, target, l->daemon_name);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return ctl_fail(CTL_EXIT_NOT_FOUND,
                        "--switch-to '%s': '%s/%s/bin/%s' is %s: install the version's binary first.", sv,
                        l->root, target, l->daemon_name,
                        r == -ENOENT           ? "missing"
                                : r == -EACCES ? "not executable"
                                               : "not a regular file");
        *ret = TAKE_PTR(target);
        return CTL_EXIT_OK;
}

/* Says which backup name is meant when it is not one of this node's backups: an exit status. */
static int backup_not_ours(Ctl *ctl, const BackupList *l, const char *name) {
        _cleanup_free_ char *sn = shown(name), *sr = shown(l->root), *node = NULL;
        _cleanup_(backup_owner_done) BackupOwner owner = {};
        if (!sn || !sr)
                return log_oom(), CTL_EXIT_FAILURE;
        const char *n = name;
        const char *unpartial = backup_name_from_partial(name);
        if (unpartial)
                n = unpartial;
        struct stat st;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", l->root, name) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        bool exists = lstat(path, &st) >= 0 && S_ISDIR(st.st_mode);
        if (exists && backup_name_parse_full(n, &node, NULL, NULL) >= 0 &&
                backup_owner_get(ctl->config.name, ctl->config.home, ctl->config.backup_dir, &owner) >= 0) {
                _cleanup_free_ char *snode = node ? shown(node) : NULL;
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s/%s' is a backup of %s%s%s, not of this node (%s, DAEMON_HOME '%s'): it is "
                        "never restored here; give that node's --home and --name (or -i) to restore it "
                        "there.",
                        sr, sn, node ? "the node '" : "another node", node ? strna(snode) : "",
                        node ? "'" : "", owner.node, ctl->config.home);
        }
        return ctl_fail(CTL_EXIT_NOT_FOUND,
                "No backup '%s' of %s in '%s': see 'oraivisorctl backups' for the list.", sn,
                ctl->config.name, sr);
}

typedef struct Restore {
        Ctl *ctl;
        Layout *layout;
        const BackupEntry *backup;
        DataPlace data;
        char *target; /* --switch-to's, or NULL */
        char *old_current; /* `current`'s link as it was */
        char *staging, *replaced;
        BackupStats stats;
} Restore;

static void restore_done(Restore *rs) {
        data_place_done(&rs->data);
        free(rs->target);
        free(rs->old_current);
        free(rs->staging);
        free(rs->replaced);
}

static void print_undo(const Restore *r, bool switched) {
        _cleanup_free_ char *qdata = shell_quoted(r->data.path), *qrepl = NULL, *qcur = NULL, *qold = NULL,
                            *aside = NULL, *qaside = NULL;
        if (asprintf(&qrepl, "%s/%s", r->data.parent, r->replaced) >= 0) {
                char *q = shell_quoted(qrepl);
                free(qrepl);
                qrepl = q;
        }
        if (asprintf(&aside, "%s.restored", r->data.path) >= 0)
                qaside = shell_quoted(aside);
        if (asprintf(&qcur, "%s/current", r->layout->root) >= 0) {
                char *q = shell_quoted(qcur);
                free(qcur);
                qcur = q;
        }
        if (r->old_current)
                qold = shell_quoted(r->old_current);
        if (!qdata || !qrepl || !qaside || !qcur)
                return;
        printf("\nTo undo, with oraivisor stopped:\n");
        printf("  mv -T %s %s && mv -T %s %s\n", qdata, qaside, qrepl, qdata);
        if (switched && qold)
                printf("  ln -sfnT %s %s\n", qold, qcur);
        printf("Once the node runs well on the restored data, free the space: rm -rf %s\n", qrepl);
}

/* Copies the backup beside data/ and swaps it in. An exit status; data/ is unchanged unless it is OK. */
static int restore_data(Restore *rs) {
        char stamp[32];
        _cleanup_free_ char *sb = shown(rs->backup->path), *sd = shown(rs->data.path), *error = NULL;
        if (!sb || !sd)
                return log_oom(), CTL_EXIT_FAILURE;

        format_utc(stamp, sizeof(stamp), now(CLOCK_REALTIME), STAMP_FORMAT);
        int r = free_name(&rs->data, RESTORE_STAGING_INFIX, stamp, &rs->staging);
        if (r >= 0)
                r = free_name(&rs->data, RESTORE_REPLACED_INFIX, stamp, &rs->replaced);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot name the folders of the restore beside '%s': %s.",
                        sd, strerror(-r));

        _cleanup_close_ int src =
                openat(AT_FDCWD, rs->backup->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open the backup '%s': %s; '%s' is unchanged.", sb,
                        strerror(errno), sd);

        printf("Copying the backup '%s' to '%s/%s'…\n", sb, rs->data.parent, rs->staging);
        fflush(stdout);
        r = backup_copy_tree_full(
                src, rs->data.parent_fd, rs->staging, BACKUP_COPY_WRITABLE, &rs->stats, NULL, NULL, &error);
        if (r == -ENOSPC) {
                /* The copy's own message gives the fixes for a backup; these are the ones for a restore. */
                char need[BACKUP_FORMAT_BYTES_MAX], have[BACKUP_FORMAT_BYTES_MAX];
                uint64_t size = 0, avail = 0;
                if (backup_tree_size_at(AT_FDCWD, rs->backup->path, &size) < 0 ||
                        fd_free_bytes(rs->data.parent_fd, &avail) < 0)
                        size = avail = 0;
                return ctl_fail(CTL_EXIT_FAILURE,
                        "Restoring '%s' failed, '%s' is unchanged: the copy beside it needs %s and '%s' has "
                        "%s free: free space there (such as older data.replaced-* folders or backups), then "
                        "retry.",
                        sb, sd, backup_format_bytes(need, sizeof(need), size), rs->data.parent,
                        backup_format_bytes(have, sizeof(have), avail));
        }
        if (r < 0)
                /* backup_copy_tree_full() removed its partial folder. */
                return ctl_fail(CTL_EXIT_FAILURE, "Restoring '%s' failed, '%s' is unchanged: %s", sb, sd,
                        error ?: strerror(-r));

        if (!rs->data.exists) {
                if (renameat2(rs->data.parent_fd, rs->staging, rs->data.parent_fd, rs->data.base,
                            RENAME_NOREPLACE) < 0) {
                        r = -errno;
                        (void) backup_remove_at(rs->data.parent_fd, rs->staging);
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot rename the restored copy to '%s': %s.", sd,
                                strerror(-r));
                }
                rs->replaced = mfree(rs->replaced);
        } else if (renameat2(rs->data.parent_fd, rs->staging, rs->data.parent_fd, rs->data.base,
                           RENAME_EXCHANGE) >= 0) {
                /* data/ is the restored copy from this instant on; the old one has the staging name. */
                if (renameat2(rs->data.parent_fd, rs->staging, rs->data.parent_fd, rs->replaced,
                            RENAME_NOREPLACE) < 0) {
                        log_warning_errno(errno,
                                "Failed to rename the replaced data '%s/%s' to '%s', keeping it under that "
                                "name: %m",
                                rs->data.parent, rs->staging, rs->replaced);
                        free_and_replace(rs->replaced, rs->staging);
                }
        } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
                /* A file system without RENAME_EXCHANGE: two renames, put back if the second fails. */
                if (renameat2(rs->data.parent_fd, rs->data.base, rs->data.parent_fd, rs->replaced,
                            RENAME_NOREPLACE) < 0) {
                        r = -errno;
                        (void) backup_remove_at(rs->data.parent_fd, rs->staging);
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot move '%s' aside: %s; it is unchanged.", sd,
                                strerror(-r));
                }
                if (renameat2(rs->data.parent_fd, rs->staging, rs->data.parent_fd, rs->data.base,
                            RENAME_NOREPLACE) < 0) {
                        r = -errno;
                        if (renameat2(rs->data.parent_fd, rs->replaced, rs->data.parent_fd, rs->data.base,
                                    RENAME_NOREPLACE) < 0)
                                return ctl_fail(CTL_EXIT_FAILURE,
                                        "Cannot rename the restored copy to '%s' (%s) nor move the old data "
                                        "back: it is '%s/%s'; rename it to '%s' by hand.",
                                        sd, strerror(-r), rs->data.parent, rs->replaced, sd);
                        (void) backup_remove_at(rs->data.parent_fd, rs->staging);
                        return ctl_fail(CTL_EXIT_FAILURE,
                                "Cannot rename the restored copy to '%s': %s; it is unchanged.", sd,
                                strerror(-r));
                }
        } else {
                r = -errno;
                (void) backup_remove_at(rs->data.parent_fd, rs->staging);
                return ctl_fail(CTL_EXIT_FAILURE,
                        "Cannot swap the restored copy with '%s': %s; it is unchanged.", sd, strerror(-r));
        }
        r = fsync_directory_fd(rs->data.parent_fd);
        if (r < 0)
                log_warning_errno(r, "Failed to flush '%s' to disk, ignoring: %m", rs->data.parent);

        if (rs->stats.snapshot)
                printf("Restored '%s' from the backup '%s' as a writable btrfs snapshot.\n", sd, sb);
        else {
                char b1[BACKUP_FORMAT_BYTES_MAX], b2[BACKUP_FORMAT_BYTES_MAX];
                printf("Restored '%s' from the backup '%s': %" PRIu64 " files, %s (%s shared by reflink).\n",
                        sd, sb, rs->stats.files, backup_format_bytes(b1, sizeof(b1), rs->stats.bytes),
                        backup_format_bytes(b2, sizeof(b2), rs->stats.cloned_bytes));
        }
        if (rs->replaced)
                printf("The replaced data is kept as '%s/%s'.\n", rs->data.parent, rs->replaced);
        else
                printf("There was no data folder before: nothing was replaced.\n");
        return CTL_EXIT_OK;
}

/* A note when oraivisor will resume an interrupted upgrade over the restored data at its next start. */
static void note_upgrade_record(Layout *l) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_file_at(l->root_fd, RECORD_FILE, RECORD_MAX, &buf, &len) < 0)
                return;
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        const char *reason = NULL;
        if (upgrade_record_from_json(buf, len, &rec, &reason) < 0 || !rec->plan) {
                printf("Note: '%s/" RECORD_FILE
                       "' records an interrupted upgrade, which oraivisor resumes at its next start.\n",
                        l->root);
                return;
        }
        _cleanup_free_ char *n = shown(rec->plan->name);
        printf("Note: '%s/" RECORD_FILE "' records the interrupted upgrade '%s', which oraivisor resumes at "
                                        "its next start: remove the file to abandon it.\n",
                l->root, strna(n));
}

static int run_restore(Ctl *ctl) {
        const char *name = ctl->args[1];
        _cleanup_(layout_freep) Layout *l = NULL;
        _cleanup_(backup_list_done) BackupList list = {};
        _cleanup_close_ int lock_fd = -EBADF, install_fd = -EBADF;
        _cleanup_free_ char *holder = NULL;
        _cleanup_(restore_done) Restore rs = {.ctl = ctl, .data = {.parent_fd = -EBADF}};
        int r, ret;

        r = ctl_open_layout(ctl, &l);
        if (r < 0)
                return CTL_EXIT_FAILURE;
        rs.layout = l;

        r = backup_list(ctl->config.name, ctl->config.home, ctl->config.backup_dir, 0, &list);
        if (r < 0)
                return r == -ENOMEM
                        ? (log_oom(), CTL_EXIT_FAILURE)
                        : ctl_fail(CTL_EXIT_FAILURE, "Cannot list the backups of DAEMON_NAME='%s': %s.",
                                  ctl->config.name, strerror(-r));
        for (size_t i = 0; i < list.n_entries; i++)
                if (streq(list.entries[i].dir_name, name) ||
                        (!rs.backup && streq(list.entries[i].name, name)))
                        rs.backup = &list.entries[i];
        if (!rs.backup)
                return backup_not_ours(ctl, &list, name);
        if (rs.backup->partial) {
                _cleanup_free_ char *sp = shown(rs.backup->path);
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s' is an unfinished backup (its upgrade was interrupted while it was made): it "
                        "cannot be restored; choose a complete one (see 'oraivisorctl backups').",
                        strna(sp));
        }

        if (ctl->switch_to) {
                ret = switch_target(ctl, l, &rs.target);
                if (ret != CTL_EXIT_OK)
                        return ret;
        }

        /* From here until the end, oraivisor cannot start (nor, in exec mode, its daemon run). */
        lock_fd = lock_try(l->root_fd);
        if (lock_fd == -EBUSY) {
                if (ctl->instance)
                        return ctl_fail(CTL_EXIT_BUSY,
                                "oraivisor@%s.service (or the node it runs) is running on '%s': stop it "
                                "first with 'systemctl stop oraivisor@%s', then retry.",
                                ctl->instance, ctl->config.home, ctl->instance);
                return ctl_fail(CTL_EXIT_BUSY,
                        "oraivisor (or the node it started) is running on '%s': stop it first (under "
                        "systemd: 'systemctl stop oraivisor@<instance>'), then retry.",
                        ctl->config.home);
        }
        if (lock_fd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot take the lock '%s/.lock': %s.", l->root,
                        strerror(-lock_fd));

        r = data_place_get(&ctl->config, &rs.data);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return CTL_EXIT_FAILURE;

        if (rs.data.exists) {
                pid_t pid = 0;
                _cleanup_free_ char *comm = NULL;
                r = find_process_using(rs.data.path, &pid, &comm);
                if (r > 0) {
                        _cleanup_free_ char *sc = comm ? shown(comm) : NULL, *sd = shown(rs.data.path);
                        return ctl_fail(CTL_EXIT_BUSY,
                                "Process %d (%s) uses '%s': stop the node (%s) before restoring its data, "
                                "then retry.",
                                (int) pid, strna(sc), strna(sd),
                                ctl->instance ? "systemctl stop oraivisor@<instance>"
                                              : "and anything else that reads it");
                }
        }

        if (rs.target) {
                install_fd = install_lock_acquire(
                        l->root_fd, "oraivisorctl backups restore", INSTALL_LOCK_TIMEOUT, &holder);
                if (install_fd == -EBUSY) {
                        _cleanup_free_ char *sh = holder ? shown(holder) : NULL;
                        return ctl_fail(CTL_EXIT_BUSY,
                                "'%s/.install-lock' is held by %s: wait until it is done, then retry.",
                                l->root, sh ? sh : "another program");
                }
                if (install_fd < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot take '%s/.install-lock': %s.", l->root,
                                strerror(-install_fd));
        }
        char link[PATH_MAX];
        ssize_t n = readlinkat(l->root_fd, "current", link, sizeof(link) - 1);
        if (n > 0) {
                link[n] = 0;
                rs.old_current = strdup(link);
        }

        remove_stale_staging(&rs.data);
        ret = restore_data(&rs);
        if (ret != CTL_EXIT_OK)
                return ret;

        bool switched = false;
        if (rs.target) {
                _cleanup_free_ char *so = rs.old_current ? shown(rs.old_current) : NULL;
                r = layout_switch(l, rs.target, NULL, NULL);
                if (r < 0) {
                        ret = ctl_fail(CTL_EXIT_FAILURE,
                                "The data is restored, but switching '%s/current' to '%s' failed (see "
                                "above): it still points to '%s'.",
                                l->root, rs.target, strna(so));
                        print_undo(&rs, false);
                        return ret;
                }
                switched = true;
                printf("Switched '%s/current' from '%s' to '%s'.\n", l->root, so ? so : "nothing",
                        rs.target);
        } else if (rs.old_current) {
                _cleanup_free_ char *want = NULL;
                if (asprintf(&want, "upgrades/%s", rs.backup->folder) >= 0 && streq(rs.old_current, want)) {
                        _cleanup_free_ char *su = shown(rs.backup->upgrade);
                        printf("Note: the backup was taken before the upgrade to '%s', and '%s/current' "
                               "still points to it: add --switch-to with the version the data needs (such "
                               "as 'genesis') if it is not that one.\n",
                                strna(su), l->root);
                }
        }
        note_upgrade_record(l);
        print_undo(&rs, switched);
        if (ctl->instance)
                printf("Start the node again: systemctl start oraivisor@%s\n", ctl->instance);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

static int run(Ctl *ctl) {
        if (ctl->n_args == 0) {
                if (ctl->switch_to)
                        return ctl_fail(CTL_EXIT_USAGE,
                                "--switch-to goes with 'backups restore NAME': see 'oraivisorctl backups "
                                "--help'.");
                return run_list(ctl);
        }
        if (!streq(ctl->args[0], "restore"))
                return ctl_fail(CTL_EXIT_USAGE,
                        "Unknown 'backups' command '%s': use 'backups' or 'backups restore NAME'.",
                        ctl->args[0]);
        if (ctl->n_args != 2)
                return ctl_fail(CTL_EXIT_USAGE,
                        "'backups restore' takes the backup's name: oraivisorctl backups restore NAME "
                        "[--switch-to VERSION].");
        if (ctl->json)
                return ctl_fail(CTL_EXIT_USAGE, "'backups restore' does not take --json.");
        return run_restore(ctl);
}

const CtlCommand ctl_command_backups = {
        .name = "backups",
        .usage = "[restore NAME]",
        .summary = "List the node's backups, or restore data/ from one after a failed upgrade",
        .help = "Without arguments: this node's backups in DAEMON_DATA_BACKUP_DIR (or DAEMON_HOME): name, "
                "upgrade,\n"
                "time, size, kind (copy or btrfs snapshot), complete or partial, and the free space there.\n"
                "\n"
                "restore NAME: replaces data/ with a copy of the backup NAME, with oraivisor and the node "
                "stopped\n"
                "(it refuses otherwise, exit status 75). The copy is made beside data/ first; the old data/ "
                "is kept\n"
                "as data.replaced-<time>, so a failure at any point leaves data/ as it was. --switch-to "
                "VERSION\n"
                "('genesis' or an installed upgrade) also points `current` back to that version. It prints "
                "what it\n"
                "did and the commands that undo it.",
        .min_args = 0,
        .max_args = 2,
        .flags = CTL_FLAG_JSON | CTL_FLAG_SWITCH_TO,
        .needs_config = true,
        .run = run,
};
