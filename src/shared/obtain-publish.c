/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The download's staging folder and its publication: a locked staging folder beside the version's, the
 * install lock taken for the rename only (on the loop, never blocking it), a version another writer
 * published meanwhile kept, and the cleanup of staging folders a crash left. */

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "checksum.h"
#include "digest.h"
#include "dlopen-libs.h"
#include "fd-util.h"
#include "fetch.h"
#include "fs-util.h"
#include "log.h"
#include "outcome.h"
#include "manifest.h"
#include "layout.h"
#include "lock.h"
#include "obtain-internal.h"
#include "obtain.h"
#include "string-util.h"
#include "time-util.h"
#include "unpack.h"
#include "url.h"

void obtain_drop_staging(Obtain *o) {
        o->unpack = unpack_free(o->unpack);
        o->staging_fd = safe_close(o->staging_fd);
        if (o->staging) {
                int r = rm_rf_at(o->upgrades_fd, o->staging);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove the staging folder '%s/%s', ignoring: %m",
                                o->upgrades_path, o->staging);
                o->staging = mfree(o->staging);
        }
}


static int on_install_lock_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Obtain *o = userdata;
        o->install_lock_retry = sd_event_source_disable_unref(o->install_lock_retry);
        obtain_publish(o);
        return 0;
}

/* The install lock for the publish, when the spec asks for it: its fd; -EAGAIN when a retry is scheduled;
 * another negative errno with the Obtain finished. */
int obtain_take_install_lock(Obtain *o) {
        _cleanup_free_ char *what = NULL, *holder = NULL;
        char buf[FORMAT_TIMESPAN_MAX];
        int r;

        if (asprintf(&what, "installs '%s/%s' (upgrade %s)", o->upgrades_path, o->folder, o->plan_name) <
                0) {
                obtain_finish(o, -ENOMEM, "Out of memory.");
                return -ENOMEM;
        }
        int fd = install_lock_acquire(o->root_fd, what, 0, &holder);
        if (fd >= 0) {
                o->install_lock_waiting_since = 0;
                return fd;
        }
        if (fd != -EBUSY) {
                obtain_failf(o, fd, "Failed to take the install lock in '%s': %s; nothing was installed.",
                        o->upgrades_path, strerror(-fd));
                return fd;
        }

        usec_t n = now(CLOCK_MONOTONIC);
        if (o->install_lock_waiting_since == 0) {
                o->install_lock_waiting_since = n;
                log_notice(
                        "Upgrade %s: downloaded and verified; waiting for the install lock, held by '%s'.",
                        o->plan_name, strna(holder));
        } else if (n - o->install_lock_waiting_since >= o->install_lock_timeout) {
                obtain_failf(o, -EBUSY,
                        "The install lock is still held by '%s' after %s; nothing was installed. Try again "
                        "once it is done.",
                        strna(holder), format_timespan(buf, sizeof(buf), o->install_lock_timeout));
                return -EBUSY;
        }
        r = sd_event_add_time_relative(o->event, &o->install_lock_retry, CLOCK_MONOTONIC, INSTALL_LOCK_RETRY,
                0, on_install_lock_retry, o);
        if (r < 0) {
                obtain_failf(o, r, "Failed to wait for the install lock: %s; nothing was installed.",
                        strerror(-r));
                return r;
        }
        return -EAGAIN;
}

/* upgrades/<folder> exists at publish time: someone (the other program) installed it while we downloaded.
 * Keeps a usable one (the outcome says so), refuses anything else. */
void obtain_found_at_publish(Obtain *o) {
        int r = version_binary_check_at(o->upgrades_fd, o->folder, o->daemon_name);
        if (r < 0)
                return obtain_failf(o, -EEXIST,
                        "'%s/%s' appeared while the binary was downloaded, without a usable 'bin/%s' (%s); "
                        "remove it and try again, or install the binary there by hand.",
                        o->upgrades_path, o->folder, o->daemon_name, strerror(-r));
        log_notice(
                "Upgrade %s: '%s/%s/bin/%s' was installed by someone else while it was downloaded; keeping "
                "that one.",
                o->plan_name, o->upgrades_path, o->folder, o->daemon_name);
        obtain_drop_staging(o);
        o->outcome = OBTAIN_FOUND_AT_PUBLISH;
        obtain_finish(o, 0, NULL);
}

void obtain_publish(Obtain *o) {
        _cleanup_close_ int lock_fd = -EBADF;
        struct stat st;
        int r;

        if (o->finished)
                return;
        if (o->root_fd >= 0) {
                lock_fd = obtain_take_install_lock(o);
                if (lock_fd < 0)
                        return; /* retried later, or finished */
        }

        /* Under the lock (when taken), nothing else writes upgrades/<folder>. */
        if (fstatat(o->upgrades_fd, o->folder, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return obtain_found_at_publish(o);
        if (errno != ENOENT)
                return obtain_failf(o, -errno, "Failed to inspect '%s/%s': %s; nothing was installed.",
                        o->upgrades_path, o->folder, strerror(errno));
        r = version_binary_check_at(o->upgrades_fd, o->staging, o->daemon_name);
        if (r < 0)
                return obtain_failf(o, r,
                        "The staging folder '%s/%s' lost its 'bin/%s' (%s) before it was published; nothing "
                        "was installed. Try again.",
                        o->upgrades_path, o->staging, o->daemon_name, strerror(-r));

        if (fsync(o->staging_fd) < 0)
                return obtain_failf(o, -errno,
                        "Failed to flush the staging folder '%s/%s' to disk: %s; nothing was installed.",
                        o->upgrades_path, o->staging, strerror(errno));
        if (renameat2(o->upgrades_fd, o->staging, o->upgrades_fd, o->folder, RENAME_NOREPLACE) < 0) {
                r = -errno;
                /* A writer that takes no install lock published it first. */
                if (r == -EEXIST || r == -ENOTEMPTY)
                        return obtain_found_at_publish(o);
                return obtain_failf(o, r, "Failed to publish '%s/%s': %s; nothing was installed.",
                        o->upgrades_path, o->folder, strerror(-r));
        }
        o->staging = mfree(o->staging);
        o->staging_fd = safe_close(o->staging_fd);
        if (fsync(o->upgrades_fd) < 0)
                return obtain_failf(o, -errno, "Failed to flush '%s' to disk after installing '%s': %s.",
                        o->upgrades_path, o->folder, strerror(errno));

        log_info("Upgrade %s: installed '%s/%s/bin/%s' from '%s'.", o->plan_name, o->upgrades_path,
                o->folder, o->daemon_name, o->target_redacted);
        o->outcome = OBTAIN_INSTALLED;
        obtain_finish(o, 0, NULL);
}

int obtain_cleanup_stale(int upgrades_fd, const char *upgrades_path) {
        _cleanup_closedir_ DIR *d = fdopendir_dup(upgrades_fd);
        if (!d)
                return log_warning_errno(errno,
                        "Failed to read '%s' to look for stale downloads, ignoring: %m", upgrades_path);
        rewinddir(d);

        int n = 0, ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, STAGING_PREFIX))
                        continue;
                /* Held locked (until removed) so that no download can start using it meanwhile; a folder
                 * locked already belongs to a download running now (oraivisorctl prepare-upgrade). */
                _cleanup_close_ int sfd =
                        openat(upgrades_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd >= 0 && flock(sfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
                        log_info("Leaving '%s/%s' alone: a download running now is using it.", upgrades_path,
                                de->d_name);
                        continue;
                }
                int r = rm_rf_at(upgrades_fd, de->d_name);
                if (r < 0) {
                        log_warning_errno(r,
                                "Failed to remove the stale staging folder '%s/%s', ignoring: %m",
                                upgrades_path, de->d_name);
                        ret = r;
                        continue;
                }
                log_info("Removed '%s/%s', left by an interrupted download.", upgrades_path, de->d_name);
                n++;
        }
        if (n > 0 && fsync(upgrades_fd) < 0)
                log_debug_errno(errno, "Failed to fsync '%s', ignoring: %m", upgrades_path);
        return ret < 0 && n == 0 ? ret : n;
}
