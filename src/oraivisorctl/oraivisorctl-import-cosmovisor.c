/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl import-cosmovisor: adopts $DAEMON_HOME/cosmovisor into $DAEMON_HOME/oraivisor (hard links:
 * no binary copied twice; cosmovisor's folder is not changed; the new folder appears whole with one
 * rename) and writes cosmovisor's configuration as /etc/oraivisor/<instance>.conf. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cosmovisor-config.h"
#include "env-file.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "oraivisorctl.h"
#include "string-util.h"
#include "strv.h"

extern char **environ;

#define TREE_DEPTH_MAX 32
#define TOML_MAX (1024 * 1024)

typedef struct Counts {
        unsigned files, dirs, links, skipped;
} Counts;

/* Recreates src_fd's tree under dst_fd: folders made, files hard-linked, symlinks copied as they are. */
static int link_tree(int src_fd, int dst_fd, const char *path, unsigned depth, Counts *c) {
        if (depth > TREE_DEPTH_MAX)
                return log_error_errno(ELOOP, "'%s' is nested more than %u folders deep: not a cosmovisor folder.", path,
                                       TREE_DEPTH_MAX);
        _cleanup_(closedirp) DIR *d = fdopendir_dup(src_fd);
        if (!d)
                return log_error_errno(errno, "Cannot read '%s': %m", path);
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return log_error_errno(errno, "Cannot read '%s': %m", path);
                        return 0;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                        return log_oom();
                struct stat st;
                if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return log_error_errno(errno, "Cannot stat '%s': %m", sub);
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dst_fd, de->d_name, st.st_mode & 07777) < 0)
                                return log_error_errno(errno, "Cannot create the folder for '%s': %m", sub);
                        _cleanup_close_ int s = openat(src_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        _cleanup_close_ int t = openat(dst_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (s < 0 || t < 0)
                                return log_error_errno(errno, "Cannot open '%s': %m", sub);
                        int r = link_tree(s, t, sub, depth + 1, c);
                        if (r < 0)
                                return r;
                        c->dirs++;
                } else if (S_ISREG(st.st_mode)) {
                        if (linkat(src_fd, de->d_name, dst_fd, de->d_name, 0) < 0)
                                return log_error_errno(errno,
                                        "Cannot hard-link '%s': %m. The oraivisor folder must be on the same file system as cosmovisor's (it is: both are in DAEMON_HOME), and the files must be yours.",
                                        sub);
                        c->files++;
                } else if (S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *target = malloc(PATH_MAX);
                        if (!target)
                                return log_oom();
                        ssize_t n = readlinkat(src_fd, de->d_name, target, PATH_MAX - 1);
                        if (n < 0)
                                return log_error_errno(errno, "Cannot read the link '%s': %m", sub);
                        target[n] = 0;
                        if (symlinkat(target, dst_fd, de->d_name) < 0)
                                return log_error_errno(errno, "Cannot copy the link '%s': %m", sub);
                        c->links++;
                } else {
                        log_warning("Skipped '%s': not a file, folder or link.", sub);
                        c->skipped++;
                }
        }
}

/* cosmovisor's `current` (absolute before v1.7, relative since) → a relative target oraivisor reads:
 * "genesis" or "upgrades/<folder>". */
static int current_target(const char *cosmo_root, const char *link, char **ret) {
        const char *rel = link;
        if (link[0] == '/') {
                rel = path_startswith_dir(link, cosmo_root);
                if (!rel)
                        return log_error_errno(ENOLINK,
                                "cosmovisor's current points to '%s', outside '%s': point it to genesis or an upgrade folder first (ln -sfn …).",
                                link, cosmo_root);
        }
        _cleanup_free_ char *t = strdup(rel);
        if (!t)
                return log_oom();
        while (!isempty(t) && endswith(t, "/"))
                t[strlen(t) - 1] = 0;
        const char *folder = startswith(t, "upgrades/");
        if (!streq(t, "genesis") && (!folder || isempty(folder) || strchr(folder, '/') || streq(folder, "..") ||
                                     streq(folder, ".")))
                return log_error_errno(ENOLINK,
                        "cosmovisor's current points to '%s', not to genesis or one folder under upgrades/: fix it first.",
                        link);
        *ret = TAKE_PTR(t);
        return 0;
}

static int import_layout(const char *home, Counts *counts, char **ret_current) {
        _cleanup_close_ int home_fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (home_fd < 0)
                return log_error_errno(errno, "DAEMON_HOME='%s' cannot be opened: %m", home);
        _cleanup_free_ char *cosmo_root = NULL;
        if (asprintf(&cosmo_root, "%s/cosmovisor", home) < 0)
                return log_oom();
        _cleanup_close_ int src = openat(home_fd, "cosmovisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (src < 0)
                return log_error_errno(errno, "'%s' cannot be opened as a folder: %m. Nothing to import.", cosmo_root);

        /* current, checked before anything is written. */
        _cleanup_free_ char *target = NULL;
        char buf[PATH_MAX];
        ssize_t n = readlinkat(src, "current", buf, sizeof buf - 1);
        if (n < 0 && errno != ENOENT)
                return log_error_errno(errno, "'%s/current' is not a symlink: %m. Point it to genesis or an upgrade folder first.",
                                       cosmo_root);
        if (n >= 0) {
                buf[n] = 0;
                int r = current_target(cosmo_root, buf, &target);
                if (r < 0)
                        return r;
        }

        _cleanup_free_ char *staging = NULL;
        if (asprintf(&staging, "oraivisor.import-%d", (int) getpid()) < 0)
                return log_oom();
        (void) rm_rf_at(home_fd, staging);
        struct stat st;
        if (fstat(src, &st) < 0 || mkdirat(home_fd, staging, st.st_mode & 07777) < 0)
                return log_error_errno(errno, "Cannot create '%s/%s': %m", home, staging);
        _cleanup_close_ int dst = openat(home_fd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        int r = dst < 0 ? log_error_errno(errno, "Cannot open '%s/%s': %m", home, staging)
                        : link_tree(src, dst, cosmo_root, 0, counts);
        if (r >= 0 && target) {
                /* Replace the copied link by the relative one, atomically within the staging folder. */
                if (symlinkat(target, dst, "current.new") < 0 || renameat(dst, "current.new", dst, "current") < 0)
                        r = log_error_errno(errno, "Cannot write '%s/%s/current': %m", home, staging);
        }
        if (r >= 0 && (fsync(dst) < 0 || renameat2(home_fd, staging, home_fd, "oraivisor", RENAME_NOREPLACE) < 0))
                r = log_error_errno(errno, "Cannot publish '%s/oraivisor': %m", home);
        if (r < 0) {
                (void) rm_rf_at(home_fd, staging);
                return r;
        }
        (void) fsync_directory_fd(home_fd);
        *ret_current = TAKE_PTR(target);
        return 0;
}

static int run(Ctl *ctl) {
        /* The home and name come from the command line, the environment or cosmovisor's config.toml. */
        const char *home = ctl->arg_home ? ctl->arg_home : getenv("DAEMON_HOME");
        if (isempty(home) || home[0] != '/')
                return ctl_fail(CTL_EXIT_USAGE,
                                "DAEMON_HOME is not set (or not absolute): export it as for cosmovisor, or pass --home /path/to/node/home.");

        _cleanup_(strv_freep) char **cosmo = NULL;
        _cleanup_free_ char *toml_path = NULL, *text = NULL;
        size_t len = 0;
        if (asprintf(&toml_path, "%s/cosmovisor/config.toml", home) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        int r = read_file_at(AT_FDCWD, toml_path, TOML_MAX, &text, &len);
        if (r >= 0) {
                _cleanup_free_ char *error = NULL;
                r = cosmovisor_toml_parse(text, len, &cosmo, &error);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (r < 0)
                        return ctl_fail(CTL_EXIT_CONFIG, "%s: %s. Fix it, or move it away and export the variables instead.",
                                        toml_path, error);
        } else if (r != -ENOENT)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot read %s: %s.", toml_path, strerror(-r));
        /* As cosmovisor: the environment overrides the file. */
        STRV_FOREACH(e, environ) {
                const char *eq = strchr(*e, '=');
                if (!eq || !(startswith(*e, "DAEMON_") || startswith(*e, "COSMOVISOR_") || startswith(*e, "UNSAFE_SKIP_BACKUP=")))
                        continue;
                _cleanup_free_ char *name = strndup(*e, eq - *e);
                if (!name || strv_env_set(&cosmo, name, eq + 1) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
        }
        if (strv_env_set(&cosmo, "DAEMON_HOME", home) < 0 ||
            (ctl->arg_name && strv_env_set(&cosmo, "DAEMON_NAME", ctl->arg_name) < 0))
                return log_oom(), CTL_EXIT_FAILURE;

        _cleanup_(strv_freep) char **conf = NULL, **notes = NULL;
        if (cosmovisor_config_translate(cosmo, &conf, &notes) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        const char *name = strv_env_get(conf, "DAEMON_NAME");
        if (isempty(name))
                return ctl_fail(CTL_EXIT_USAGE,
                                "DAEMON_NAME is not set in the environment nor in %s: pass --name <binary name>.", toml_path);
        const char *instance = ctl->instance ? ctl->instance : name;
        if (!daemon_name_is_valid(instance) || strchr(instance, '@'))
                return ctl_fail(CTL_EXIT_USAGE, "'%s' cannot be an instance name: pass -i NAME.", instance);

        /* The conf file's text, validated as oraivisor will read it before anything is written. */
        _cleanup_free_ char *conf_text = NULL;
        time_t now_t = time(NULL);
        char date[64];
        (void) strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now_t));
        if (strextendf(&conf_text, "# Imported from cosmovisor (%s and the environment) by oraivisorctl import-cosmovisor, %s.\n"
                                   "# oraivisor@%s.service reads this file; see oraivisor.conf(5).\n",
                       toml_path, date, instance) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        STRV_FOREACH(e, conf) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *key = strndup(*e, eq - *e);
                _cleanup_free_ char *line = key ? env_file_line(key, eq + 1) : NULL;
                if (!line || strextendf(&conf_text, "%s\n", line) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
        }
        {
                _cleanup_(strv_freep) char **back = NULL, **warnings = NULL;
                _cleanup_free_ char *error = NULL;
                _cleanup_(config_done) Config c = {};
                _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                if (env_file_parse(conf_text, strlen(conf_text), &back, &warnings, &error) < 0 ||
                    strv_env_set(&back, "INVOCATION_ID", "import") < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
                r = config_parse(back, &c, &d);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (d.errors) {
                        STRV_FOREACH(e, d.errors)
                                log_error("%s", *e);
                        return ctl_fail(CTL_EXIT_CONFIG,
                                        "cosmovisor's configuration does not translate into a valid one (above): fix the values in %s or the environment, then run this again. Nothing was changed.",
                                        toml_path);
                }
        }

        /* 1. The folder. */
        _cleanup_free_ char *oraivisor_root = NULL;
        if (asprintf(&oraivisor_root, "%s/oraivisor", home) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        bool layout_done = false;
        struct stat st;
        if (lstat(oraivisor_root, &st) >= 0)
                printf("Layout: %s already exists; left as it is (nothing imported into it).\n", oraivisor_root);
        else {
                Counts counts = {};
                _cleanup_free_ char *current = NULL;
                r = import_layout(home, &counts, &current);
                if (r < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "Nothing was imported; %s/cosmovisor is unchanged.", home);
                layout_done = true;
                printf("Layout: %s/cosmovisor adopted as %s: %u files hard-linked (no copy), %u folders, %u links%s%s%s.\n",
                       home, oraivisor_root, counts.files, counts.dirs, counts.links,
                       current ? "; current -> " : "; no current yet (oraivisor creates current -> genesis at its first start)",
                       strempty(current), counts.skipped ? " (some entries skipped, above)" : "");
        }

        /* 2. The configuration. */
        const char *dir = getenv("ORAIVISORCTL_CONF_DIR");
        if (isempty(dir))
                dir = "/etc/oraivisor";
        _cleanup_free_ char *conf_path = NULL;
        if (asprintf(&conf_path, "%s/%s.conf", dir, instance) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        if (access(conf_path, F_OK) >= 0) {
                printf("Configuration: %s already exists; left as it is. What the import would write:\n%s", conf_path, conf_text);
        } else {
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot create %s: %s.", dir, strerror(errno));
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = dfd < 0 ? -errno : write_file_atomic_at(dfd, strrchr(conf_path, '/') + 1, conf_text, strlen(conf_text), 0644);
                if (r < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot write %s: %s.%s", conf_path, strerror(-r),
                                        layout_done ? " The layout was imported; write the file by hand from the lines below." : "");
                printf("Configuration: %s written:\n%s", conf_path, conf_text);
        }
        if (notes) {
                printf("\nNotes:\n");
                STRV_FOREACH(n, notes)
                        printf("  - %s\n", *n);
        }
        printf("\nNext: stop cosmovisor's unit, check the arguments (cosmovisor ran 'run start …'; the unit's default\n"
               "is DAEMON_ARGS=start), then: systemctl enable --now oraivisor@%s. %s/cosmovisor is unchanged (to go back).\n",
               instance, home);
        return CTL_EXIT_OK;
}

const CtlCommand ctl_command_import_cosmovisor = {
        .name = "import-cosmovisor",
        .summary = "Adopt $DAEMON_HOME/cosmovisor and its configuration",
        .help = "Hard-links $DAEMON_HOME/cosmovisor into $DAEMON_HOME/oraivisor (published by one rename; cosmovisor's\n"
                "folder is not changed; an absolute `current` becomes relative) and writes cosmovisor's configuration\n"
                "(config.toml, then DAEMON_*/COSMOVISOR_* from the environment) as /etc/oraivisor/NAME.conf (NAME:\n"
                "-i, else DAEMON_NAME). What exists already is left alone and said so. Stop cosmovisor first.",
        .needs_config = false,
        .run = run,
};
