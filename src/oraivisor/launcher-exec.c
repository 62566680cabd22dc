/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "fd-util.h"
#include "launcher-exec.h"
#include "line-buffer.h"
#include "log.h"
#include "reaper.h"
#include "spawn.h"

/* How long a partial line may wait for its newline before it is scanned as it is: a node that printed
 * its announcement without a newline and then halted must still be seen. */
#define PARTIAL_LINE_SCAN_USEC (1 * USEC_PER_SEC)
/* After the daemon exited, how long to wait for its pipes to close (a grandchild may hold them) and for
 * what it left behind to die of SIGKILL (a process in uninterruptible sleep dies when that ends). */
#define DRAIN_AFTER_EXIT_USEC (2 * USEC_PER_SEC)
#define STRAYS_AFTER_EXIT_USEC (5 * USEC_PER_SEC)
#define READ_CHUNK (64 * 1024)

typedef struct ExecLauncher ExecLauncher;

typedef struct ExecStream {
        ExecLauncher *owner;
        int fd;              /* read end of the pipe */
        int out_fd;          /* where the bytes go: our stdout or stderr */
        bool is_stderr;
        bool eof;
        bool out_broken;     /* our own output is gone (EPIPE): keep scanning, stop copying */
        size_t scanned_partial; /* length of the partial line already scanned by the timer */
        sd_event_source *io;
        LineBuffer lines;
} ExecStream;

struct ExecLauncher {
        Launcher base;
        int pass_fd;
        pid_t pid;
        bool running;        /* forked, not yet reaped */
        bool exit_pending;   /* reaped, exit not yet reported */
        bool purging;        /* exited; what it left behind got SIGKILL and is not all gone yet */
        Reaper *reaper;      /* NULL: neither PID 1 nor a subreaper, the process group is all we find */
        DaemonExit exit;
        ExecStream streams[2];
        sd_event_source *child;
        sd_event_source *kill_timer;
        sd_event_source *partial_timer;
        sd_event_source *drain_timer;
        sd_event_source *defer;
        pid_t started_pid;   /* for the deferred on_started */
};

static void stream_close(ExecStream *s) {
        s->io = sd_event_source_disable_unref(s->io);
        s->fd = safe_close(s->fd);
        line_buffer_done(&s->lines);
}

static void exec_reset(ExecLauncher *x) {
        for (size_t i = 0; i < ELEMENTSOF(x->streams); i++)
                stream_close(&x->streams[i]);
        x->child = sd_event_source_disable_unref(x->child);
        x->kill_timer = sd_event_source_disable_unref(x->kill_timer);
        x->partial_timer = sd_event_source_disable_unref(x->partial_timer);
        x->drain_timer = sd_event_source_disable_unref(x->drain_timer);
        x->defer = sd_event_source_disable_unref(x->defer);
}

static void exec_free(Launcher *l) {
        ExecLauncher *x = (ExecLauncher *) l;
        if (x->running)
                reaper_unregister(x->pid); /* nobody waits for it any more: let the reaper take its exit */
        if (x->reaper)
                reaper_set_watch(x->reaper, NULL, NULL);
        exec_reset(x);
        free(x);
}

static int deliver_line(const char *line, size_t len, bool truncated, void *userdata) {
        ExecStream *s = userdata;
        Launcher *l = &s->owner->base;
        if (l->cb.on_line) {
                int r = l->cb.on_line(l, line, len, s->is_stderr, l->userdata);
                if (r < 0)
                        log_debug_errno(r, "Line handler failed, ignoring: %m");
        }
        return 0;
}

static void maybe_report_exit(ExecLauncher *x) {
        if (!x->exit_pending)
                return;
        if ((!(x->streams[0].eof && x->streams[1].eof) || x->purging) && x->drain_timer)
                return; /* still draining output, or what the daemon left is still dying */
        for (size_t i = 0; i < ELEMENTSOF(x->streams); i++) {
                ExecStream *s = &x->streams[i];
                (void) line_buffer_flush(&s->lines, deliver_line, s);
                stream_close(s);
                s->eof = true;
        }
        x->drain_timer = sd_event_source_disable_unref(x->drain_timer);
        x->partial_timer = sd_event_source_disable_unref(x->partial_timer);
        x->exit_pending = false;
        DaemonExit e = x->exit;
        if (x->base.cb.on_exited)
                x->base.cb.on_exited(&x->base, &e, x->base.userdata);
}

static int on_partial_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        ExecLauncher *x = userdata;
        for (size_t i = 0; i < ELEMENTSOF(x->streams); i++) {
                ExecStream *s = &x->streams[i];
                size_t len;
                const char *p = line_buffer_pending(&s->lines, &len);
                if (len == 0 || len == s->scanned_partial)
                        continue;
                s->scanned_partial = len;
                (void) deliver_line(p, len, false, s);
        }
        return 0;
}

static void arm_partial_timer(ExecLauncher *x) {
        bool pending = false;
        for (size_t i = 0; i < ELEMENTSOF(x->streams); i++) {
                size_t len;
                (void) line_buffer_pending(&x->streams[i].lines, &len);
                if (len == 0)
                        x->streams[i].scanned_partial = 0;
                else if (len != x->streams[i].scanned_partial)
                        pending = true;
        }
        if (!pending)
                return;
        if (x->partial_timer) {
                (void) sd_event_source_set_time_relative(x->partial_timer, PARTIAL_LINE_SCAN_USEC);
                (void) sd_event_source_set_enabled(x->partial_timer, SD_EVENT_ONESHOT);
                return;
        }
        (void) sd_event_add_time_relative(x->base.event, &x->partial_timer, CLOCK_MONOTONIC,
                PARTIAL_LINE_SCAN_USEC, 100 * USEC_PER_MSEC, on_partial_timer, x);
}

static int on_stream(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ExecStream *s = userdata;
        ExecLauncher *x = s->owner;
        static char buf[READ_CHUNK]; /* the loop is single-threaded: one scratch buffer is enough */

        ssize_t n = read(s->fd, buf, sizeof(buf));
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                log_warning_errno(errno, "Failed to read the daemon's %s, ignoring: %m", s->is_stderr ? "stderr" : "stdout");
                n = 0;
        }
        if (n == 0) {
                (void) line_buffer_flush(&s->lines, deliver_line, s);
                s->io = sd_event_source_disable_unref(s->io);
                s->fd = safe_close(s->fd);
                s->eof = true;
                maybe_report_exit(x);
                return 0;
        }

        if (!s->out_broken) {
                int r = loop_write(s->out_fd, buf, (size_t) n);
                if (r < 0) {
                        /* Our terminal or pipe went away: the daemon must not notice, keep scanning. */
                        log_debug_errno(r, "Failed to copy the daemon's output, dropping it from now on: %m");
                        s->out_broken = true;
                }
        }
        (void) line_buffer_feed(&s->lines, buf, (size_t) n, deliver_line, s);
        arm_partial_timer(x);
        return 0;
}

static int on_drain_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        ExecLauncher *x = userdata;
        if (x->purging)
                log_warning("Processes the daemon (pid %d) left behind still run after SIGKILL (stuck in the kernel?), not waiting longer.",
                        (int) x->pid);
        else
                log_debug("The daemon's output did not close after it exited (a child of it may hold it), not waiting longer.");
        x->drain_timer = sd_event_source_disable_unref(x->drain_timer);
        x->streams[0].eof = x->streams[1].eof = true;
        x->purging = false;
        maybe_report_exit(x);
        return 0;
}

/* KillMode=mixed: once the main process is gone, SIGKILL to whatever it left behind, its process group and
 * (as PID 1 or a subreaper) every process below us that is not one of our own: what left the group, or
 * double-forked, came to us when its parent died. Returns whether any still has to die. */
static int kill_strays(ExecLauncher *x) {
        if (!x->reaper)
                return 0;
        int n = reaper_signal_strays(x->reaper, SIGKILL);
        if (n < 0 && n != -EOPNOTSUPP)
                log_debug_errno(n, "Failed to look for processes the daemon left behind, ignoring: %m");
        return MAX(n, 0);
}

static void on_stray_reaped(Reaper *r, void *userdata) {
        ExecLauncher *x = userdata;
        if (!x->purging)
                return;
        /* One died: its own children came to us meanwhile, look again. */
        x->purging = kill_strays(x) > 0;
        if (!x->purging)
                maybe_report_exit(x);
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata) {
        ExecLauncher *x = userdata;
        x->child = sd_event_source_disable_unref(x->child);
        x->kill_timer = sd_event_source_disable_unref(x->kill_timer);
        x->running = false;
        x->exit_pending = true;
        x->exit = (DaemonExit) { .code = si->si_code, .status = si->si_status };

        reaper_unregister(x->pid); /* sd-event reaps it once we return */
        int n = kill_strays(x);
        /* Still a zombie until we return: its pid, thus its process group's id, is not reused yet. The
         * group is all we find without a reaper or a /proc of our PID namespace. */
        (void) kill(-x->pid, SIGKILL);
        x->purging = n > 0;
        if (x->purging)
                log_info("Killed %d process%s the daemon (pid %d) left behind (SIGKILL).", n, n == 1 ? "" : "es",
                        (int) x->pid);

        if (!(x->streams[0].eof && x->streams[1].eof) || x->purging) {
                int r = sd_event_add_time_relative(x->base.event, &x->drain_timer, CLOCK_MONOTONIC,
                        x->purging ? STRAYS_AFTER_EXIT_USEC : DRAIN_AFTER_EXIT_USEC, 0, on_drain_timeout, x);
                if (r >= 0)
                        return 0;
                x->purging = false;
        }
        maybe_report_exit(x);
        return 0;
}

static int on_started_defer(sd_event_source *src, void *userdata) {
        ExecLauncher *x = userdata;
        x->defer = sd_event_source_disable_unref(x->defer);
        if (x->base.cb.on_started)
                x->base.cb.on_started(&x->base, x->started_pid, x->base.userdata);
        return 0;
}

static _noreturn_ void exec_child(const LaunchSpec *spec, int out_w, int err_w, int errpipe_w, int pass_fd,
        pid_t parent) {
        /* The common setup (spawn.c). The daemon must not outlive us unnoticed: SIGTERM (a graceful stop)
         * if we die. Its own process group: a terminal's Ctrl-C reaches only oraivisor, which forwards it
         * once, and the group is what is killed once the daemon exits (KillMode=mixed). A terminal stdin
         * becomes /dev/null, as under systemd; output goes through our pipes, never to the terminal. */
        SpawnSetup setup = {
                .parent = parent,
                .death_signal = SIGTERM,
                .stdin_fd = SPAWN_STDIN_KEEP_UNLESS_TTY,
                .stdout_fd = out_w,
                .stderr_fd = err_w,
                .keep_fd = pass_fd,
                .close_others = false, /* the error pipe must stay open until exec: O_CLOEXEC closes the rest */
                .credentials = spec->credentials,
                .working_directory = spec->working_directory,
        };
        int e = -spawn_setup_child(&setup);
        if (e == 0) {
                execve(spec->binary, spec->argv, spec->env);
                e = errno;
        }
        (void) loop_write(errpipe_w, &e, sizeof(e));
        _exit(127);
}

static int exec_start(Launcher *l, const LaunchSpec *spec) {
        ExecLauncher *x = (ExecLauncher *) l;
        int out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF }, ep[2] = { -EBADF, -EBADF };
        int r;

        if (x->running || x->exit_pending)
                return -EBUSY;
        exec_reset(x);

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }

        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                exec_child(spec, out[1], err[1], ep[1], x->pass_fd, parent);
        /* Also here, so that the group exists before we may signal it (fails once it exec'd: then it did). */
        (void) setpgid(pid, pid);

        out[1] = safe_close(out[1]);
        err[1] = safe_close(err[1]);
        ep[1] = safe_close(ep[1]);

        /* The exec either succeeds (the CLOEXEC pipe closes: EOF) or fails at once with its errno. */
        int child_errno = 0;
        ssize_t n = loop_read(ep[0], &child_errno, sizeof(child_errno));
        ep[0] = safe_close(ep[0]);
        if (n == (ssize_t) sizeof(child_errno)) {
                (void) waitpid(pid, NULL, 0);
                r = -child_errno;
                log_error_errno(r, "Failed to execute the daemon '%s': %m", spec->binary);
                goto fail;
        }

        x->pid = pid;
        x->running = true;
        /* Ours: the reaper (PID 1, subreaper) leaves its exit status to the child source below. */
        r = reaper_register(pid);
        if (r < 0)
                goto fail_running;
        for (size_t i = 0; i < 2; i++) {
                ExecStream *s = &x->streams[i];
                *s = (ExecStream) {
                        .owner = x,
                        .fd = i == 0 ? TAKE_FD(out[0]) : TAKE_FD(err[0]),
                        .out_fd = i == 0 ? STDOUT_FILENO : STDERR_FILENO,
                        .is_stderr = i == 1,
                };
                line_buffer_init(&s->lines, 0);
                (void) fd_nonblock(s->fd, true);
                r = sd_event_add_io(l->event, &s->io, s->fd, EPOLLIN, on_stream, s);
                if (r < 0)
                        goto fail_running;
                /* Output first, then the exit: so every line is scanned before the exit is seen. */
                (void) sd_event_source_set_priority(s->io, SD_EVENT_PRIORITY_NORMAL);
        }

        r = sd_event_add_child(l->event, &x->child, pid, WEXITED, on_child, x);
        if (r < 0)
                goto fail_running;
        (void) sd_event_source_set_priority(x->child, SD_EVENT_PRIORITY_NORMAL + 10);

        x->started_pid = pid;
        r = sd_event_add_defer(l->event, &x->defer, on_started_defer, x);
        if (r < 0)
                goto fail_running;
        return 0;

fail_running:
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        reaper_unregister(pid);
        x->running = false;
        exec_reset(x);
        log_error_errno(r, "Failed to watch the daemon process: %m");
fail:
        safe_close_pair(out);
        safe_close_pair(err);
        safe_close_pair(ep);
        return r;
}

static int on_kill_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        ExecLauncher *x = userdata;
        if (x->running) {
                log_warning("The daemon (pid %d) did not stop within DAEMON_SHUTDOWN_GRACE, killing it (SIGKILL).",
                        (int) x->pid);
                (void) kill(x->pid, SIGKILL);
        }
        x->kill_timer = sd_event_source_disable_unref(x->kill_timer);
        return 0;
}

static int on_exited_defer(sd_event_source *src, void *userdata) {
        ExecLauncher *x = userdata;
        x->defer = sd_event_source_disable_unref(x->defer);
        DaemonExit e = x->exit;
        if (x->base.cb.on_exited)
                x->base.cb.on_exited(&x->base, &e, x->base.userdata);
        return 0;
}

static int exec_stop(Launcher *l, usec_t grace) {
        ExecLauncher *x = (ExecLauncher *) l;

        if (!x->running) {
                if (x->exit_pending)
                        return 0; /* the exit is being drained and will be reported */
                /* Nothing runs: report the last exit at once (asynchronously, as promised). */
                x->defer = sd_event_source_disable_unref(x->defer);
                return sd_event_add_defer(l->event, &x->defer, on_exited_defer, x);
        }
        if (grace == 0) {
                if (kill(x->pid, SIGKILL) < 0 && errno != ESRCH)
                        return log_error_errno(errno, "Failed to kill the daemon (pid %d): %m", (int) x->pid);
                return 0;
        }
        if (kill(x->pid, SIGTERM) < 0 && errno != ESRCH)
                return log_error_errno(errno, "Failed to send SIGTERM to the daemon (pid %d): %m", (int) x->pid);
        if (x->kill_timer)
                return 0; /* a stop is already on its way; keep its deadline */
        return sd_event_add_time_relative(l->event, &x->kill_timer, CLOCK_MONOTONIC, grace, 0, on_kill_timer, x);
}

static int exec_kill(Launcher *l, int sig) {
        ExecLauncher *x = (ExecLauncher *) l;
        if (!x->running)
                return -ESRCH;
        if (kill(x->pid, sig) < 0)
                return -errno;
        return 0;
}

static bool exec_is_running(Launcher *l) {
        ExecLauncher *x = (ExecLauncher *) l;
        return x->running || x->exit_pending;
}

static const LauncherVTable exec_vtable = {
        .name = "exec",
        .start = exec_start,
        .stop = exec_stop,
        .kill = exec_kill,
        .adopt = NULL,
        .is_running = exec_is_running,
        .free = exec_free,
};

int launcher_exec_new(sd_event *e, const LauncherCallbacks *cb, void *userdata, int pass_fd, Reaper *reaper,
        Launcher **ret) {
        ExecLauncher *x = new0(ExecLauncher, 1);
        if (!x)
                return -ENOMEM;
        x->base = (Launcher) {
                .vtable = &exec_vtable,
                .event = e,
                .cb = *cb,
                .userdata = userdata,
        };
        x->pass_fd = pass_fd;
        x->reaper = reaper;
        if (reaper)
                reaper_set_watch(reaper, on_stray_reaped, x);
        x->streams[0].fd = x->streams[1].fd = -EBADF;
        *ret = &x->base;
        return 0;
}
