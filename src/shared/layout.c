/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "events.h"
#include "fd-util.h"
#include "fs-util.h"
#include "layout.h"
#include "plan-file.h"
#include "log.h"
#include "string-util.h"
#include "upgrade-name.h"

#define CURRENT "current"
#define CURRENT_TMP_PREFIX ".current.tmp-"

void current_version_done(CurrentVersion *v) {
        assert(v);

        free(v->target);
        free(v->folder);
        free(v->dir);
        free(v->binary);
        free(v->lib_dir);
        upgrade_plan_free(v->plan);
        *v = (CurrentVersion) {};
}

char *current_version_label(const CurrentVersion *v) {
        if (!v->folder)
                return strdup("genesis");
        if (v->plan)
                return strdup(v->plan->name);
        char *name = NULL;
        if (upgrade_folder_to_name(v->folder, &name) < 0)
                return strdup(v->folder);
        return name;
}

Layout *layout_free(Layout *l) {
        if (!l)
                return NULL;
        safe_close(l->home_fd);
        safe_close(l->root_fd);
        free(l->home);
        free(l->root);
        free(l->daemon_name);
        return mfree(l);
}

int layout_open(const char *home, const char *daemon_name, Layout **ret) {
        assert(ret);

        _cleanup_(layout_freep) Layout *l = new0(Layout, 1);
        if (!l)
                return log_oom();
        l->home_fd = l->root_fd = -EBADF;
        l->home = strdup(home);
        l->daemon_name = strdup(daemon_name);
        if (!l->home || !l->daemon_name || asprintf(&l->root, "%s/oraivisor", home) < 0)
                return log_oom();

        l->home_fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (l->home_fd < 0)
                return log_event(EVENT_CONFIG_INVALID, LOG_ERR, errno, daemon_name, NULL, NULL,
                        "DAEMON_HOME='%s' cannot be opened: %m. Set DAEMON_HOME to the node's existing home folder.",
                        home);
        l->root_fd = openat(l->home_fd, "oraivisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (l->root_fd < 0) {
                int e = errno;
                if (e == ENOENT)
                        return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, e, daemon_name, NULL, NULL,
                                "'%s' does not exist. Create it and install the genesis binary: mkdir -p '%s/genesis/bin' && cp <binary> '%s/genesis/bin/%s'.",
                                l->root, l->root, l->root, daemon_name);
                return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, e, daemon_name, NULL, NULL,
                        "'%s' cannot be opened as a folder: %m. It must be a real folder (not a symlink).", l->root);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int layout_cleanup_stale(Layout *l) {
        assert(l);

        _cleanup_closedir_ DIR *d = fdopendir_dup(l->root_fd);
        if (!d)
                return log_error_errno(errno, "Failed to read '%s': %m", l->root);
        rewinddir(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, CURRENT_TMP_PREFIX)) {
                        log_info("Removing '%s/%s' left by an interrupted switch.", l->root, de->d_name);
                        if (unlinkat(l->root_fd, de->d_name, 0) < 0 && errno != ENOENT)
                                log_warning_errno(errno, "Failed to remove '%s/%s', ignoring: %m", l->root, de->d_name);
                }
        return 0;
}

int version_binary_check_at(int dirfd, const char *version_rel, const char *daemon_name) {
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/bin/%s", version_rel, daemon_name) < 0)
                return -ENOMEM;

        /* Resolve below dirfd only: bin/ itself may be a symlink within the version folder. */
        _cleanup_close_ int fd = open_beneath(dirfd, rel, O_PATH, 0, false);
        if (fd < 0)
                return fd == -ELOOP || fd == -EXDEV ? -EBADFD : fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* The file opened above, not whatever the path names by now (a rename in between would make
         * us judge one file and run another). */
        if (faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) < 0 || (st.st_mode & 0111) == 0)
                return -EACCES;
        return 0;
}

int layout_check_binary(Layout *l, const char *version_dir_rel, char **ret_path) {
        assert(l);

        if (asprintf(ret_path, "%s/%s/bin/%s", l->root, version_dir_rel, l->daemon_name) < 0)
                return -ENOMEM;
        return version_binary_check_at(l->root_fd, version_dir_rel, l->daemon_name);
}

const char *version_binary_problem(int r) {
        switch (r) {
        case -ENOENT: return "is missing";
        case -EACCES: return "is not executable";
        case -EISDIR: return "is a folder, not a file";
        case -EBADFD: return "is not a regular file inside the version folder";
        default: return "cannot be used";
        }
}

int layout_ensure_current(Layout *l) {
        assert(l);

        struct stat st;
        if (fstatat(l->root_fd, CURRENT, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        if (errno != ENOENT)
                return log_error_errno(errno, "Failed to check '%s/current': %m", l->root);

        _cleanup_free_ char *bin = NULL;
        int r = layout_check_binary(l, "genesis", &bin);
        if (r < 0)
                return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, r, l->daemon_name, NULL, NULL,
                        "First start: the genesis binary '%s' %s. Install it (cp <binary> '%s' && chmod +x '%s'), then start again.",
                        bin, version_binary_problem(r), bin, bin);

        r = layout_switch(l, "genesis", NULL, NULL);
        if (r < 0)
                return r;
        log_info("First start: created '%s/current' -> genesis.", l->root);
        return 1;
}

/* Reduces a link target to "genesis" or "upgrades/<folder>", or returns -ENOLINK. Absolute targets are
 * accepted when they lie inside the tree (the original oraivisor wrote absolute links). */
static int normalize_target(Layout *l, const char *target, char **ret_target, char **ret_folder) {
        const char *t = target;
        if (t[0] == '/') {
                const char *rest = startswith(t, l->root);
                if (!rest || rest[0] != '/')
                        return -ENOLINK;
                t = rest + 1;
        }
        while (startswith(t, "./"))
                t += 2;
        _cleanup_free_ char *copy = strdup(t);
        if (!copy)
                return -ENOMEM;
        /* Drop one trailing slash. */
        size_t n = strlen(copy);
        if (n > 0 && copy[n - 1] == '/')
                copy[n - 1] = 0;

        if (streq(copy, "genesis")) {
                *ret_target = TAKE_PTR(copy);
                *ret_folder = NULL;
                return 0;
        }
        const char *folder = startswith(copy, "upgrades/");
        if (!folder || isempty(folder) || strchr(folder, '/') || streq(folder, ".") || streq(folder, ".."))
                return -ENOLINK;
        *ret_folder = strdup(folder);
        if (!*ret_folder)
                return -ENOMEM;
        *ret_target = TAKE_PTR(copy);
        return 0;
}

int layout_current_target(Layout *l, char **ret_target, char **ret_folder) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(l->root_fd, CURRENT, target, sizeof(target) - 1);
        if (n < 0) {
                if (errno == ENOENT) {
                        *ret_target = NULL;
                        if (ret_folder)
                                *ret_folder = NULL;
                        return 0;
                }
                return errno == EINVAL ? -ENOLINK : -errno;
        }
        target[n] = 0;
        _cleanup_free_ char *t = NULL, *f = NULL;
        int r = normalize_target(l, target, &t, &f);
        if (r < 0)
                return r;
        *ret_target = TAKE_PTR(t);
        if (ret_folder)
                *ret_folder = TAKE_PTR(f);
        return 1;
}

static int read_recorded_plan(Layout *l, const char *folder, UpgradePlan **ret) {
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "upgrades/%s", folder) < 0)
                return log_oom();
        _cleanup_close_ int dfd = open_beneath(l->root_fd, rel, O_RDONLY | O_DIRECTORY, 0, true);
        if (dfd < 0)
                return 0;
        const char *reason = NULL;
        int r = plan_file_read_at(dfd, ret, &reason, NULL);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -EBADMSG)
                log_warning("'%s/%s/" PLAN_FILE "' is not a valid plan (%s), ignoring it.", l->root, rel, reason);
        else if (r < 0)
                log_warning_errno(r, "Failed to read '%s/%s/" PLAN_FILE "', ignoring: %m", l->root, rel);
        return MAX(r, 0);
}

int layout_read_current(Layout *l, CurrentVersion *ret) {
        assert(l);
        assert(ret);

        char target[PATH_MAX];
        ssize_t n = readlinkat(l->root_fd, CURRENT, target, sizeof(target) - 1);
        if (n < 0) {
                if (errno == EINVAL)
                        return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, ENOLINK, l->daemon_name, NULL, NULL,
                                "'%s/current' is not a symlink. Move it away and point it at the version the node's data needs, e.g. ln -s upgrades/<name> '%s/current'.",
                                l->root, l->root);
                if (errno == ENOENT)
                        return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, ENOLINK, l->daemon_name, NULL, NULL,
                                "'%s/current' does not exist.", l->root);
                return log_error_errno(errno, "Failed to read the symlink '%s/current': %m", l->root);
        }
        target[n] = 0;

        _cleanup_(current_version_done) CurrentVersion v = {};
        int r = normalize_target(l, target, &v.target, &v.folder);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, ENOLINK, l->daemon_name, NULL, NULL,
                        "'%s/current' points to '%s', outside genesis/ and upgrades/<name>/. Point it at the version the node's data needs: ln -sfn upgrades/<name> '%s/current' (or genesis).",
                        l->root, target, l->root);

        _cleanup_close_ int dfd = open_beneath(l->root_fd, v.target, O_RDONLY | O_DIRECTORY, 0, false);
        if (dfd < 0)
                return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, ENOLINK, l->daemon_name, NULL, NULL,
                        "'%s/current' points to '%s', which %s. Restore '%s/%s' or point current at the version the node's data needs; oraivisor does not fall back to genesis.",
                        l->root, target, dfd == -ENOENT ? "does not exist" : "is not a folder", l->root, v.target);

        if (asprintf(&v.dir, "%s/%s", l->root, v.target) < 0)
                return log_oom();
        r = layout_check_binary(l, v.target, &v.binary);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_event(EVENT_LAYOUT_BROKEN, LOG_ERR, ENOEXEC, l->daemon_name, NULL, NULL,
                        "The current binary '%s' %s. Install it there (and chmod +x), then start again.",
                        v.binary, version_binary_problem(r));

        struct stat st;
        if (fstatat(dfd, "lib", &st, 0) >= 0 && S_ISDIR(st.st_mode) &&
                asprintf(&v.lib_dir, "%s/lib", v.dir) < 0)
                return log_oom();

        if (v.folder) {
                r = read_recorded_plan(l, v.folder, &v.plan);
                if (r < 0)
                        return r;
        }

        *ret = v;
        v = (CurrentVersion) {};
        return 0;
}

int layout_find_upgrade(Layout *l, const char *name, char **ret_folder) {
        assert(l);
        assert(name);
        assert(ret_folder);

        _cleanup_free_ char *folder = NULL, *lower = NULL;
        int r = upgrade_name_to_folder(name, &folder);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                _cleanup_free_ char *q = string_escape_for_log(name, strlen(name), 100);
                return log_error_errno(r, "The upgrade name '%s' cannot be used: %s.", strna(q), upgrade_name_error(r));
        }

        _cleanup_close_ int ufd = openat(l->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd >= 0) {
                struct stat st;
                if (fstatat(ufd, folder, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        *ret_folder = TAKE_PTR(folder);
                        return 1;
                }
                r = upgrade_folder_lowercase(folder, &lower);
                if (r < 0)
                        return log_oom();
                if (lower && fstatat(ufd, lower, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        *ret_folder = TAKE_PTR(lower);
                        return 1;
                }
                /* Folders prepared for cosmovisor: lower-cased, Go's path escaping. */
                _cleanup_free_ char *cosmo = NULL;
                r = upgrade_name_to_cosmovisor_folder(name, &cosmo);
                if (r == -ENOMEM)
                        return log_oom();
                if (r >= 0 && cosmo && fstatat(ufd, cosmo, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        *ret_folder = TAKE_PTR(cosmo);
                        return 1;
                }
        } else if (errno != ENOENT)
                return log_error_errno(errno, "Failed to open '%s/upgrades': %m", l->root);

        *ret_folder = TAKE_PTR(folder);
        return 0;
}

int layout_switch(Layout *l, const char *target, LayoutFaultHook fault, void *userdata) {
        assert(l);

        _cleanup_free_ char *tmp = NULL;
        int r;

#define FAULT(step)                                                                                       \
        do {                                                                                              \
                if (fault && fault((step), userdata))                                                     \
                        return -ECANCELED;                                                                \
        } while (0)

        FAULT(0);
        for (unsigned attempt = 0;; attempt++) {
                tmp = mfree(tmp);
                r = tempname_make(CURRENT_TMP_PREFIX, &tmp);
                if (r < 0)
                        return log_oom();
                if (symlinkat(target, l->root_fd, tmp) >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return log_error_errno(errno, "Failed to create the symlink '%s/%s': %m", l->root, tmp);
        }
        FAULT(1);
        if (renameat(l->root_fd, tmp, l->root_fd, CURRENT) < 0) {
                r = -errno;
                (void) unlinkat(l->root_fd, tmp, 0);
                return log_error_errno(r, "Failed to switch '%s/current' to '%s': %m", l->root, target);
        }
        FAULT(2);
        r = fsync_directory_fd(l->root_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to sync '%s' after switching current: %m", l->root);
        FAULT(3);
        return 0;
#undef FAULT
}

int layout_record_plan(Layout *l, const char *folder, const UpgradePlan *plan) {
        assert(l);

        _cleanup_free_ char *json = NULL, *rel = NULL;
        if (plan_to_json(plan, &json) < 0 || asprintf(&rel, "upgrades/%s", folder) < 0)
                return log_oom();
        _cleanup_close_ int dfd = open_beneath(l->root_fd, rel, O_RDONLY | O_DIRECTORY, 0, true);
        if (dfd < 0)
                return log_error_errno(dfd, "Failed to open '%s/%s': %m", l->root, rel);
        int r = write_file_atomic_at(dfd, PLAN_FILE, json, strlen(json), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to record the plan in '%s/%s/" PLAN_FILE "': %m", l->root, rel);
        return 0;
}

int layout_read_plan_file(Layout *l, UpgradePlan **ret, const char **ret_reason) {
        assert(l);

        _cleanup_close_ int dfd = openat(l->home_fd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to open '%s/data': %m", l->home);
        int r = plan_file_read_at(dfd, ret, ret_reason, NULL);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && r != -EBADMSG)
                return log_error_errno(r, "Failed to read '%s/data/" PLAN_FILE "': %m", l->home);
        return r;
}
