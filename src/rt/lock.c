/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>

#include "fd-util.h"
#include "lock.h"
#include "log.h"

#define LOCK_FILE ".lock"

int lock_acquire(int root_fd, const char *root_path, usec_t timeout) {
        _cleanup_close_ int fd = openat(root_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the lock file '%s/" LOCK_FILE "': %m", root_path);

        usec_t start = now(CLOCK_MONOTONIC);
        bool told = false;
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) >= 0)
                        return TAKE_FD(fd);
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return log_error_errno(errno, "Failed to lock '%s/" LOCK_FILE "': %m", root_path);
                if (now(CLOCK_MONOTONIC) - start >= timeout) {
                        char buf[FORMAT_TIMESPAN_MAX];
                        return log_error_errno(EWOULDBLOCK,
                                "Another oraivisor, or the daemon it started, still holds '%s/" LOCK_FILE "' after %s. "
                                "Stop it first (two copies of a node must never run on the same data).",
                                root_path, format_timespan(buf, sizeof(buf), timeout));
                }
                if (!told) {
                        log_notice("Waiting for the previous oraivisor or its daemon to exit (it holds '%s/" LOCK_FILE "').",
                                root_path);
                        told = true;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
}
