/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* init, add-upgrade and remove-upgrade: the install lock, the rules against oraivisor's upgrades, and a
 * version installed from a file through the shared unpack path. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "lock.h"
#include "log.h"
#include "obtain.h"
#include "oraivisorctl-install.h"
#include "upgrade-name.h"
#include "string-util.h"
#include "upgrade-record.h"
#include "version-install.h"

/* How long a command waits for the install lock: another oraivisorctl holds it for seconds; an upgrading
 * oraivisor for as long as its hooks run, and then the command says so instead of waiting. */
#define INSTALL_LOCK_TIMEOUT (5 * USEC_PER_SEC)

char *ctl_escape(const char *s) {
        return string_escape_for_log(s, strlen(s), 300);
}

static void state_clear(CtlInstall *i) {
        i->record = upgrade_record_free(i->record);
        i->current_target = mfree(i->current_target);
        i->current_folder = mfree(i->current_folder);
}

/* Reads the upgrade record, whether oraivisor runs, and what `current` names. A CtlExit. */
static int state_read(CtlInstall *i) {
        const char *reason = NULL;
        state_clear(i);
        int r = upgrade_record_read_at(i->layout->root_fd, &i->record, &reason);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r == -EBADMSG)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s/" UPGRADE_RECORD_FILE "' is damaged (%s): check that '%s/current' points at the version the data needs, remove the file, and try again.",
                        i->layout->root, strna(reason), i->layout->root);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot read '%s/" UPGRADE_RECORD_FILE "': %s.", i->layout->root,
                        strerror(-r));
        r = lock_probe(i->layout->root_fd);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot tell whether oraivisor runs ('%s/.lock'): %s.",
                        i->layout->root, strerror(-r));
        i->running = r > 0;
        i->current = layout_current_target(i->layout, &i->current_target, &i->current_folder);
        if (i->current == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        return CTL_EXIT_OK;
}

static int upgrading_refusal(CtlInstall *i) {
        UpgradeRecord *rec = i->record;
        _cleanup_free_ char *name = ctl_escape(rec->plan->name);
        if (i->running)
                return ctl_fail(CTL_EXIT_BUSY, "oraivisor is upgrading '%s' (step %s): try again when it has finished.",
                        strna(name), strna(upgrade_step_to_string(rec->step)));
        return ctl_fail(CTL_EXIT_FAILURE,
                "An interrupted upgrade to '%s' is recorded in '%s/" UPGRADE_RECORD_FILE "' (step %s): start oraivisor to finish it, then try again.",
                strna(name), i->layout->root, strna(upgrade_step_to_string(rec->step)));
}

int ctl_install_begin(Ctl *ctl, const char *what, bool create_root, CtlInstall *ret) {
        const Config *c = &ctl->config;
        _cleanup_free_ char *root = NULL;
        struct stat st;
        int r;

        *ret = (CtlInstall) { .lock_fd = -EBADF };
        if (asprintf(&root, "%s/oraivisor", c->home) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        if (create_root) {
                if (mkdir(root, 0755) < 0 && errno != EEXIST)
                        return ctl_fail(CTL_EXIT_FAILURE, "Cannot create '%s': %s.", root, strerror(errno));
        } else if (lstat(root, &st) < 0 && errno == ENOENT)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s' does not exist: install the genesis binary first, with 'oraivisorctl init PATH'.", root);

        if (ctl_open_layout(ctl, &ret->layout) < 0)
                return CTL_EXIT_FAILURE;

        _cleanup_free_ char *holder = NULL, *desc = NULL;
        if (asprintf(&desc, "oraivisorctl %s", what) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        r = install_lock_acquire(ret->layout->root_fd, desc, INSTALL_LOCK_TIMEOUT, &holder);
        if (r == -EBUSY) {
                r = state_read(ret);
                if (r != CTL_EXIT_OK)
                        return r;
                if (ret->record && ret->running)
                        return upgrading_refusal(ret);
                _cleanup_free_ char *who = holder ? ctl_escape(holder) : NULL;
                return ctl_fail(CTL_EXIT_BUSY,
                        "The install lock '%s/.install-lock' is held by '%s' (pid and command): try again when it has finished.",
                        ret->layout->root, strna(who));
        }
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot take the install lock '%s/.install-lock': %s.",
                        ret->layout->root, strerror(-r));
        ret->lock_fd = r;

        /* Under the lock no staging folder is being filled: what is left is from a crash. */
        (void) obtain_cleanup_stale(ret->layout->root_fd, ret->layout->root);
        _cleanup_close_ int ufd = openat(ret->layout->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *upath = NULL;
        if (ufd >= 0 && asprintf(&upath, "%s/upgrades", ret->layout->root) >= 0)
                (void) obtain_cleanup_stale(ufd, upath);

        return state_read(ret);
}

void ctl_install_done(CtlInstall *i) {
        state_clear(i);
        i->lock_fd = safe_close(i->lock_fd);
        i->layout = layout_free(i->layout);
}

int ctl_version_check_change(CtlInstall *i, const char *rel, const char *label, CtlVersionChange change) {
        int r = state_read(i);
        if (r != CTL_EXIT_OK)
                return r;

        bool is_current = i->current > 0 && streq(i->current_target, rel);
        if (is_current && change == CTL_VERSION_REMOVE)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "%s is the current version ('%s/current' points to it): it cannot be removed.", label,
                        i->layout->root);

        bool is_target = false;
        if (i->record) {
                _cleanup_free_ char *target = NULL;
                if (asprintf(&target, "upgrades/%s", i->record->folder) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
                is_target = streq(target, rel);
        }
        /* An upgrade switches from the one to the other: neither changes under it, running or interrupted. */
        if (i->record && (is_current || is_target))
                return upgrading_refusal(i);
        if (is_current && i->running)
                return ctl_fail(CTL_EXIT_BUSY,
                        "%s is the current version and oraivisor runs on '%s': stop oraivisor before replacing it, so that the node never runs a binary changed under it.",
                        label, i->layout->home);
        return CTL_EXIT_OK;
}

static bool is_executable_head(const uint8_t *p, size_t n) {
        return (n >= 4 && memcmp(p, "\177ELF", 4) == 0) || (n >= 2 && memcmp(p, "#!", 2) == 0);
}

static const char *binary_problem(int r) {
        switch (r) {
        case -ENOENT: return "is missing";
        case -EACCES: return "is not executable";
        case -EISDIR: return "is a folder";
        default: return "is not a regular file";
        }
}

int ctl_version_install(Ctl *ctl, CtlInstall *i, const char *path, int parent_fd, const char *folder,
        const char *rel, const char *label) {
        const char *daemon = i->layout->daemon_name;
        _cleanup_free_ char *p = ctl_escape(path), *dest = NULL, *bin_rel = NULL, *dest_bin = NULL;
        _cleanup_(version_staging_done) VersionStaging s = VERSION_STAGING_INIT;
        struct stat st;
        int r;

        if (!p || asprintf(&dest, "%s/%s", i->layout->root, rel) < 0 || asprintf(&bin_rel, "bin/%s", daemon) < 0 ||
            asprintf(&dest_bin, "%s/%s", folder, bin_rel) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        /* O_NONBLOCK: a FIFO given by mistake must not hang us before fstat() refuses it. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s' does not exist: give the path of the %s binary, or of an archive holding bin/%s.", p, daemon,
                        daemon);
        if (fd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open '%s': %s.", p, strerror(errno));
        if (fstat(fd, &st) < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot read '%s': %s.", p, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s' is a folder: give the %s binary itself, or an archive of the version (bin/%s, lib/).", p,
                        daemon, daemon);
        if (!S_ISREG(st.st_mode))
                return ctl_fail(CTL_EXIT_FAILURE, "'%s' is not a regular file: give the %s binary, or an archive.", p,
                        daemon);
        if (st.st_size == 0)
                return ctl_fail(CTL_EXIT_FAILURE, "'%s' is empty: give the %s binary, or an archive.", p, daemon);
        mode_t src_mode = st.st_mode;
        (void) fd_nonblock(fd, false);
        uint8_t head[4];
        ssize_t n = pread(fd, head, sizeof head, 0);
        bool plain = n > 0 && is_executable_head(head, (size_t) n);

        bool exists = fstatat(parent_fd, folder, &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (exists && ctl->force) {
                r = ctl_version_check_change(i, rel, label, CTL_VERSION_REPLACE);
                if (r != CTL_EXIT_OK)
                        return r;
        }

        r = version_staging_new(parent_fd, folder, &s);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot create a staging folder beside '%s': %s.", dest, strerror(-r));
        UnpackOptions uo = {
                .daemon_name = daemon,
                .max_size = ctl->config.unpack_max_size,
                .max_entries = ctl->config.unpack_max_entries,
        };
        _cleanup_free_ char *message = NULL;
        r = version_unpack_file(fd, &s, &uo, &message);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot install '%s' as %s: %s. Nothing was installed.", p, label,
                        message ?: strerror(-r));

        bool replace = false;
        if (exists) {
                int usable = version_binary_check_at(parent_fd, folder, daemon);
                int same = version_files_equal(s.fd, bin_rel, parent_fd, dest_bin);
                if (same > 0 && usable >= 0) {
                        printf("%s is already installed from this binary: '%s/%s'.\n", label, dest, bin_rel);
                        return ctl_report_readiness(ctl, rel, label, NULL);
                }
                if (!ctl->force) {
                        if (usable < 0)
                                return ctl_fail(CTL_EXIT_FAILURE,
                                        "'%s' exists, but its bin/%s %s: add --force to replace that folder.", dest,
                                        daemon, binary_problem(usable));
                        return ctl_fail(CTL_EXIT_FAILURE,
                                "%s is already installed in '%s' with a different binary: add --force to replace it.",
                                label, dest);
                }
                r = ctl_version_check_change(i, rel, label, CTL_VERSION_REPLACE);
                if (r != CTL_EXIT_OK)
                        return r;
                replace = true;
        }

        bool has_lib = fstatat(s.fd, "lib", &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
        r = version_publish(&s, folder, replace);
        if (r == -EEXIST)
                return ctl_fail(CTL_EXIT_FAILURE, "'%s' appeared while '%s' was unpacked: run the command again.", dest, p);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot publish '%s': %s. Nothing was installed.", dest, strerror(-r));
        if (r > 0)
                log_warning("The replaced '%s' could not be removed entirely; the next start of oraivisor removes what is left.",
                        dest);

        printf("%s %s: '%s/%s'%s%s.\n", replace ? "Replaced" : "Installed", label, dest, bin_rel,
                plain ? "" : " (unpacked from the archive", plain ? "" : has_lib ? ", with lib/)" : ")");
        if (plain && !(src_mode & 0111))
                printf("'%s' was not executable; the installed copy is.\n", p);
        return ctl_report_readiness(ctl, rel, label, NULL);
}

void ctl_upgrade_ref_done(CtlUpgradeRef *u) {
        u->shown = mfree(u->shown);
        u->label = mfree(u->label);
        u->folder = mfree(u->folder);
        u->rel = mfree(u->rel);
}

int ctl_upgrade_begin(Ctl *ctl, const char *verb, const char *name, bool capital, CtlInstall *i, CtlUpgradeRef *ret) {
        _cleanup_free_ char *what = NULL;
        const char *reason = NULL;

        assert(ret);
        ret->shown = ctl_escape(name);
        if (!ret->shown)
                return log_oom(), CTL_EXIT_FAILURE;
        int r = upgrade_name_check_typed(name, &reason);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return ctl_fail(CTL_EXIT_USAGE, "'%s' is not an upgrade name: %s.", ret->shown, reason);
        if (asprintf(&what, "%s %s", verb, ret->shown) < 0 || (capital ? asprintf(&ret->label, "Upgrade '%s'", ret->shown) : asprintf(&ret->label, "upgrade '%s'", ret->shown)) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        r = ctl_install_begin(ctl, what, false, i);
        if (r != CTL_EXIT_OK)
                return r;

        /* The folder oraivisor looks in: an existing one (also a cosmovisor-style lower-cased one), else the
         * percent-encoded name. */
        r = layout_find_upgrade(i->layout, name, &ret->folder);
        if (r < 0)
                return CTL_EXIT_FAILURE;
        ret->found = r > 0;
        if (asprintf(&ret->rel, "upgrades/%s", ret->folder) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        return CTL_EXIT_OK;
}
