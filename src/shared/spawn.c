/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd-util.h"
#include "spawn.h"

int spawn_setup_child(const SpawnSetup *s) {
        assert(s);

        /* Die with the parent. If it already died between fork and prctl, go now. */
        if (prctl(PR_SET_PDEATHSIG, s->death_signal) < 0)
                return -errno;
        if (getppid() != s->parent)
                return -ESRCH;
        (void) setpgid(0, 0);

        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);

        int in = s->stdin_fd;
        if (in == SPAWN_STDIN_NULL || (in == SPAWN_STDIN_KEEP_UNLESS_TTY && isatty(STDIN_FILENO))) {
                in = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (in < 0)
                        return -errno;
        }
        if ((in >= 0 && dup2(in, STDIN_FILENO) < 0) ||
            (s->stdout_fd >= 0 && dup2(s->stdout_fd, STDOUT_FILENO) < 0) ||
            (s->stderr_fd >= 0 && dup2(s->stderr_fd, STDERR_FILENO) < 0))
                return -errno;

        int keep = s->keep_fd;
        if (s->close_others) {
                if (keep >= 3) {
                        if (keep > 3)
                                (void) syscall(SYS_close_range, 3, keep - 1, 0);
                        (void) syscall(SYS_close_range, keep + 1, ~0U, 0);
                } else
                        (void) syscall(SYS_close_range, 3, ~0U, 0);
        }
        if (keep >= 0) {
                int k = fd_cloexec(keep, false);
                if (k < 0)
                        return k;
        }

        /* Before chdir, so that the folder is entered with the permissions the child will have. */
        int r = credentials_apply(s->credentials);
        if (r < 0)
                return r;
        if (s->working_directory && chdir(s->working_directory) < 0)
                return -errno;
        return 0;
}

static void write_str(int fd, const char *s) {
        if (s)
                (void) loop_write(fd, s, strlen(s));
}

void spawn_report_failure(const char *description, const char *what, int error) {
        write_str(STDERR_FILENO, "oraivisor: ");
        write_str(STDERR_FILENO, description);
        write_str(STDERR_FILENO, ": ");
        write_str(STDERR_FILENO, what);
        write_str(STDERR_FILENO, " failed: ");
        write_str(STDERR_FILENO, strerrorname_np(error < 0 ? -error : error) ?: "unknown error");
        write_str(STDERR_FILENO, "\n");
}
