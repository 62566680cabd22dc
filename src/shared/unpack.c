/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpacker's parent side (the stream socket on the event loop, the reports, unpack_start/feed/finish)
 * and the keeper process that runs the worker (unpack-worker.c) sandboxed, then the finisher
 * (unpack-finisher.c). */

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "archive-path.h"
#include "child.h"
#include "dlopen-libs.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "unpack-internal.h"
#include "unpack.h"
#include "worker-sandbox.h"


#define UNPACK_SOCKET_BUFFER (1024 * 1024)
#define UNPACK_REPORT_MAX 4096

struct Unpack {
        sd_event *event;
        Child *child; /* the worker, then the finisher */
        bool finisher; /* child is the finisher */
        uid_t worker_uid; /* what the worker's files are owned by */
        WorkerUserMode user_mode; /* which user a root worker takes in this user namespace */
        int data_fd; /* our end of the stream socket */
        int report_fd; /* the worker's report */
        int dir_fd;
        char *daemon_name;
        UnpackOptions options;
        sd_event_source *out_source;
        uint8_t *pending;
        size_t pending_len, pending_off;
        bool finishing;
        bool broken;
        UnpackDone done;
        UnpackReady ready;
        void *userdata;
};

Unpack *unpack_free(Unpack *u) {
        if (!u)
                return NULL;
        child_free(u->child);
        sd_event_source_disable_unref(u->out_source);
        safe_close(u->data_fd);
        safe_close(u->report_fd);
        safe_close(u->dir_fd);
        sd_event_unref(u->event);
        free(u->daemon_name);
        free(u->pending);
        return mfree(u);
}

/* "<errno> <message>" or "0 ok", one line, on stdout: what the parent reads once the child exited. */
static int child_report(int r, const char *message) {
        _cleanup_free_ char *report = NULL;
        if (asprintf(&report, "%d %s\n", r < 0 ? -r : 0, r < 0 ? (message ?: strerror(-r)) : "ok") >= 0)
                (void) loop_write(
                        STDOUT_FILENO, report, MIN(strlen(report), (size_t) UNPACK_REPORT_MAX - 1));
        return r < 0 ? 1 : 0;
}

/* Only stdin (the stream), stdout (the report), stderr and the staging folder (as fd 3) stay open: in
 * particular not our copy of the parent's end of the stream, or EOF would never come. */
static int child_keep_fds(int dir_fd) {
        if (dir_fd != 3 && dup2(dir_fd, 3) < 0)
                return -errno;
        (void) syscall(SYS_close_range, 4, ~0U, 0);
        return 0;
}

/* The worker proper, in the keeper's child: sandboxed, then unpacking. */
static _noreturn_ void worker_run(Unpack *u, uid_t uid, gid_t gid, pid_t keeper) {
        _cleanup_free_ char *message = NULL;
        const char *step = NULL;
        int r = worker_sandbox_enter(uid, gid, keeper, &step);
        if (r < 0) {
                (void) asprintf(&message, "cannot sandbox the unpack worker (%s): %s", step, strerror(-r));
                _exit(child_report(r, message));
        }

        UnpackOptions o = u->options;
        o.dir_fd = 3;
        o.daemon_name = u->daemon_name;
        r = unpack_stream(STDIN_FILENO, 3, &o, &message);
        _exit(child_report(r, message));
}

/* The child process oraivisor starts is a keeper, which runs the worker as its own child and waits for
 * it. Untrusted bytes are parsed there, by a process made harmless first (worker-sandbox.h): as root, a
 * user of its own (from the keeper's pid), to which the staging folder is handed; the finisher gives the
 * tree back once the worker is gone. Why a keeper: a root oraivisor without CAP_KILL (oraivisor@.service
 * does not grant it) may not signal another user's process. It may signal the keeper (its effective user
 * stays root), whose real user is the worker's, so that the worker's SIGKILL when its parent dies (or a
 * signal of the keeper's) reaches it: killing the keeper kills the worker. */
static int worker_main(void *userdata) {
        Unpack *u = userdata;
        _cleanup_free_ char *message = NULL;

        if (child_keep_fds(u->dir_fd) < 0)
                return 1;

        pid_t keeper = getpid();
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (uid == 0 && u->user_mode != WORKER_USER_KEEP) {
                uid = gid = worker_sandbox_user(u->user_mode, keeper);
                if (fchown(3, uid, gid) < 0 || fchmod(3, 0700) < 0 || setresuid(uid, 0, 0) < 0) {
                        int e = errno;
                        (void) asprintf(&message,
                                "cannot hand the staging folder to the unpack worker's user %u: %s%s",
                                (unsigned) uid, strerror(e),
                                e == EINVAL ? " (oraivisor runs in a user namespace that does not map it)"
                                            : "");
                        return child_report(-e, message);
                }
        }

        pid_t pid = fork();
        if (pid < 0)
                return child_report(-errno, "cannot start the unpack worker");
        if (pid == 0)
                worker_run(u, uid, gid, keeper);

        /* The stream and the folder are the worker's alone. */
        safe_close(STDIN_FILENO);
        safe_close(3);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return child_report(-errno, "cannot wait for the unpack worker");
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        (void) asprintf(&message, "the unpack worker was killed by signal %s",
                sigabbrev_np(WTERMSIG(status)) ?: "?");
        return child_report(-EIO, message);
}

static int finisher_main(void *userdata) {
        Unpack *u = userdata;
        _cleanup_free_ char *message = NULL;

        if (child_keep_fds(u->dir_fd) < 0)
                return 1;
        int r = unpack_finish_tree(3, u->worker_uid, u->daemon_name, &message);
        return child_report(r, message);
}

static void unpack_close_stream(Unpack *u) {
        u->out_source = sd_event_source_disable_unref(u->out_source);
        u->data_fd = safe_close(u->data_fd);
}

/* The child's one-line report, once it exited: 0 (with *ret_message NULL) when it says "0 ok" and exited
 * with 0, else a negative errno and what went wrong. */
static int read_report(
        int fd, const ChildResult *res, const char *what, char *buf, size_t size, const char **ret_message) {
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                if (n >= size - 1)
                        break;
        }
        buf[n] = 0;
        strip_trailing_whitespace(buf);

        int error = 0;
        char *sp = strchr(buf, ' ');
        if (sp) {
                *sp = 0;
                error = -atoi(buf);
        }
        *ret_message = NULL;
        if (res->code == CLD_EXITED && res->status == 0 && sp && error == 0)
                return 0;
        if (sp && error < 0) {
                *ret_message = sp + 1;
                return error;
        }
        if (res->code == CLD_EXITED)
                snprintf(buf, size, "the %s failed with exit status %d without saying why", what,
                        res->status);
        else
                snprintf(
                        buf, size, "the %s was killed by signal %s", what, sigabbrev_np(res->status) ?: "?");
        *ret_message = buf;
        return -EIO;
}

static int unpack_spawn(Unpack *u, bool finisher, int stream_fd);

static void on_child_done(Child *c, const ChildResult *res, void *userdata) {
        Unpack *u = userdata;
        char buf[UNPACK_REPORT_MAX];
        bool was_finisher = u->finisher;

        u->child = child_free(u->child);
        unpack_close_stream(u);
        u->broken = true;

        const char *message;
        int r = read_report(u->report_fd, res, was_finisher ? "unpack finisher" : "unpack worker", buf,
                sizeof(buf), &message);
        u->report_fd = safe_close(u->report_fd);
        if (r < 0)
                return u->done(u, r, message, u->userdata);
        if (was_finisher)
                return u->done(u, 0, NULL, u->userdata);

        /* The worker reads to the stream's end, which comes only after unpack_finish() (the caller verified
         * the checksum): a worker that says it is done before that is not believed. */
        if (!u->finishing)
                return u->done(u, -EIO, "the unpack worker ended before the download did", u->userdata);
        r = unpack_spawn(u, true, -EBADF);
        if (r < 0)
                return u->done(u, r, "cannot start the unpack finisher", u->userdata);
}

static int unpack_flush(Unpack *u) {
        while (u->pending_off < u->pending_len) {
                ssize_t k = send(u->data_fd, u->pending + u->pending_off, u->pending_len - u->pending_off,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                u->pending_off += (size_t) k;
        }
        u->pending_len = u->pending_off = 0;
        return 1;
}

static int on_stream_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Unpack *u = userdata;

        int r = unpack_flush(u);
        if (r < 0) {
                /* The worker went away; its exit reports why. */
                u->broken = true;
                unpack_close_stream(u);
                return 0;
        }
        if (r == 0)
                return 0;
        (void) sd_event_source_set_enabled(u->out_source, SD_EVENT_OFF);
        if (u->finishing)
                unpack_close_stream(u);
        else if (u->ready)
                u->ready(u, u->userdata);
        return 0;
}

int unpack_feed(Unpack *u, const void *p, size_t n) {
        if (u->broken || u->data_fd < 0)
                return -EPIPE;
        if (u->pending_len > 0)
                return UNPACK_BUSY;

        const uint8_t *b = p;
        while (n > 0) {
                ssize_t k = send(u->data_fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        u->broken = true;
                        unpack_close_stream(u);
                        return -EPIPE;
                }
                b += k;
                n -= (size_t) k;
        }
        if (n == 0)
                return 0;

        uint8_t *m = realloc(u->pending, n);
        if (!m)
                return -ENOMEM;
        u->pending = m;
        memcpy(m, b, n);
        u->pending_len = n;
        u->pending_off = 0;

        int r;
        if (!u->out_source) {
                r = sd_event_add_io(u->event, &u->out_source, u->data_fd, EPOLLOUT, on_stream_writable, u);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(u->out_source, "unpack-stream");
        } else {
                r = sd_event_source_set_enabled(u->out_source, SD_EVENT_ON);
                if (r < 0)
                        return r;
        }
        return 0;
}

int unpack_finish(Unpack *u) {
        assert(u);

        if (u->broken)
                return -EPIPE;
        u->finishing = true;
        if (u->pending_len == 0)
                unpack_close_stream(u);
        return 0;
}

/* The worker (reading stream_fd) or the finisher, with a new report pipe. */
static int unpack_spawn(Unpack *u, bool finisher, int stream_fd) {
        int rp[2];
        if (pipe2(rp, O_CLOEXEC) < 0)
                return -errno;
        safe_close(u->report_fd);
        u->report_fd = rp[0];
        int r = fd_nonblock(u->report_fd, true);
        if (r < 0) {
                safe_close(rp[1]);
                return r;
        }

        ChildSpec spec = CHILD_SPEC_INIT;
        spec.func = finisher ? finisher_main : worker_main;
        spec.func_userdata = u;
        spec.stdin_fd = stream_fd;
        spec.stdout_fd = rp[1];
        spec.description = finisher ? "unpack finisher" : "unpack worker";
        r = child_spawn(u->event, &spec, on_child_done, u, &u->child);
        safe_close(rp[1]);
        if (r < 0)
                return r;
        u->finisher = finisher;
        if (!finisher)
                u->worker_uid = geteuid() == 0 ? worker_sandbox_user(u->user_mode, child_pid(u->child)) : geteuid();
        return 0;
}

int unpack_start(sd_event *e, const UnpackOptions *o, UnpackDone done, UnpackReady ready, void *userdata,
        Unpack **ret) {
        assert(ret);

        int r;

        assert(e && o && done);
        assert(o->dir_fd >= 0 && o->daemon_name);

        /* Loaded here, on the loop, the first time (and kept): the forked worker inherits it and never has
         * to dlopen() itself. */
        r = dlopen_archive();
        if (r < 0)
                return r;

        _cleanup_(unpack_freep) Unpack *u = new0(Unpack, 1);
        if (!u)
                return -ENOMEM;
        u->data_fd = u->report_fd = u->dir_fd = -EBADF;
        u->event = sd_event_ref(e);
        u->done = done;
        u->ready = ready;
        u->userdata = userdata;
        u->options = *o;
        u->daemon_name = strdup(o->daemon_name);
        if (!u->daemon_name)
                return -ENOMEM;
        u->dir_fd = fcntl(o->dir_fd, F_DUPFD_CLOEXEC, 3);
        if (u->dir_fd < 0)
                return -errno;
        if (geteuid() == 0) {
                u->user_mode = worker_sandbox_user_mode();
                if (u->user_mode == WORKER_USER_NOBODY)
                        log_notice("The unpack worker runs as nobody (%u): its own users (%" PRIu32 " + pid) are not mapped in this user namespace (a rootless container?).",
                                   (unsigned) WORKER_SANDBOX_NOBODY, WORKER_SANDBOX_UID_BASE);
                else if (u->user_mode == WORKER_USER_KEEP)
                        log_notice("The unpack worker stays root, without capabilities and behind its system call filter: this user namespace maps neither its own users nor nobody. Map more ids into the container for a worker of its own.");
        }

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        u->data_fd = sv[0];
        int size = UNPACK_SOCKET_BUFFER;
        (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        (void) setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        (void) shutdown(sv[0], SHUT_RD);
        r = fd_nonblock(u->data_fd, true);
        if (r >= 0)
                r = unpack_spawn(u, false, sv[1]);
        safe_close(sv[1]);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(u);
        return 0;
}
