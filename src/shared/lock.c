/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <sys/file.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "string-util.h"

#define LOCK_FILE ".lock"
/* While waiting under systemd, EXTEND_TIMEOUT_USEC= is sent this often, for the rest of the wait and this
 * much more: the start-up wait (DAEMON_SHUTDOWN_GRACE + 15 s) may be longer than the unit's
 * TimeoutStartSec=. */
#define LOCK_EXTEND_INTERVAL (5 * USEC_PER_SEC)
#define LOCK_EXTEND_MARGIN (10 * USEC_PER_SEC)

int lock_acquire(int root_fd, const char *root_path, usec_t timeout) {
        _cleanup_close_ int fd = openat(root_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the lock file '%s/" LOCK_FILE "': %m", root_path);

        usec_t start = now(CLOCK_MONOTONIC), extended = 0;
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
                usec_t n = now(CLOCK_MONOTONIC);
                if (extended == 0 || n - extended >= LOCK_EXTEND_INTERVAL) {
                        notify_extend_timeout(timeout - (n - start) + LOCK_EXTEND_MARGIN);
                        extended = n;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
}

int lock_probe(int root_fd) {
        _cleanup_close_ int fd = openat(root_fd, LOCK_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* A shared lock conflicts with oraivisor's exclusive one and with nothing else we take. */
        if (flock(fd, LOCK_SH | LOCK_NB) >= 0)
                return 0; /* released by close */
        return errno == EWOULDBLOCK ? 1 : -errno;
}

int lock_try(int root_fd) {
        _cleanup_close_ int fd = openat(root_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        return TAKE_FD(fd);
}

#define INSTALL_LOCK_FILE ".install-lock"

int install_lock_acquire(int root_fd, const char *what, usec_t timeout, char **ret_holder) {
        assert(what);

        _cleanup_close_ int fd = openat(root_fd, INSTALL_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        usec_t start = now(CLOCK_MONOTONIC);
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) >= 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (now(CLOCK_MONOTONIC) - start >= timeout) {
                        if (ret_holder) {
                                char buf[256];
                                ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
                                buf[MAX(n, (ssize_t) 0)] = 0;
                                *ret_holder = strdup(isempty(strip_trailing_whitespace(buf)) ? "another process" : buf);
                        }
                        return -EBUSY;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        char line[300];
        int n = snprintf(line, sizeof line, "%d %s\n", (int) getpid(), what);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, line, MIN((size_t) n, sizeof line - 1), 0) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

int lock_holders(int root_fd, pid_t **ret) {
        struct stat lock_st;
        if (fstatat(root_fd, LOCK_FILE, &lock_st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                return 0;
        }
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        if (!proc)
                return -errno;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/fd", pid);
                _cleanup_closedir_ DIR *fds = opendir(path);
                if (!fds)
                        continue; /* gone, or not ours to read */
                int dfd = dirfd(fds);
                struct dirent *f;
                while ((f = readdir(fds))) {
                        struct stat st;
                        if (f->d_name[0] == '.' || fstatat(dfd, f->d_name, &st, 0) < 0)
                                continue;
                        if (st.st_dev != lock_st.st_dev || st.st_ino != lock_st.st_ino)
                                continue;
                        pid_t *p = reallocarray(pids, n + 1, sizeof(pid_t));
                        if (!p)
                                return -ENOMEM;
                        pids = p;
                        pids[n++] = (pid_t) pid;
                        break;
                }
        }
        if (n > 1)
                qsort(pids, n, sizeof(pid_t), pid_compare);
        *ret = TAKE_PTR(pids);
        return (int) n;
}
