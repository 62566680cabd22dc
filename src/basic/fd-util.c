/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>

#include "fd-util.h"

int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

void safe_close_pair(int p[2]) {
        p[0] = safe_close(p[0]);
        p[1] = safe_close(p[1]);
}

static int fd_set_flag(int fd, int getcmd, int setcmd, int flag, bool on) {
        int flags = fcntl(fd, getcmd);
        if (flags < 0)
                return -errno;
        int nflags = on ? flags | flag : flags & ~flag;
        if (nflags == flags)
                return 0;
        if (fcntl(fd, setcmd, nflags) < 0)
                return -errno;
        return 0;
}

int fd_nonblock(int fd, bool nonblock) {
        return fd_set_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, nonblock);
}

int fd_cloexec(int fd, bool cloexec) {
        return fd_set_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, cloexec);
}

int loop_write(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t len) {
        uint8_t *p = buf;
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int fd_move_above_stdio(int fd) {
        if (fd < 0 || fd > 2)
                return fd;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        safe_close(fd);
        return copy;
}
