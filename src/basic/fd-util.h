/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File descriptor helpers: closing that tolerates -EBADF, cleanup handlers, flags, full reads/writes. */

#include <dirent.h>
#include <stdio.h>

#include "macro.h"

int safe_close(int fd);
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Closes both ends of a pipe. */
void safe_close_pair(int p[2]);

int fd_nonblock(int fd, bool nonblock);
int fd_cloexec(int fd, bool cloexec);

/* Writes all of buf, retrying on EINTR; for blocking fds. */
int loop_write(int fd, const void *buf, size_t len);
/* Reads until EOF or max bytes; returns the number of bytes read. */
ssize_t loop_read(int fd, void *buf, size_t len);

/* Moves fd to a number >= 3 so that it cannot be mistaken for stdio in a child. */
int fd_move_above_stdio(int fd);
