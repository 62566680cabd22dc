/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "fd-util.h"
#include "log.h"
#include "proc-stat.h"
#include "reaper.h"

struct Reaper {
        sd_event *event;
        sd_event_source *sigchld;
        sd_event_source *post;
        void (*on_reaped)(Reaper *r, void *userdata);
        void *userdata;
        bool proc_checked, proc_ok;
};

/* The pids of our own children: a handful at most (the daemon, a worker or hook), so an array. */
static pid_t *own_pids = NULL;
static size_t n_own = 0, own_allocated = 0;

int reaper_register(pid_t pid) {
        assert(pid > 0);
        if (n_own == own_allocated) {
                size_t k = own_allocated ? own_allocated * 2 : 8;
                pid_t *p = realloc(own_pids, k * sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                own_pids = p;
                own_allocated = k;
        }
        own_pids[n_own++] = pid;
        return 0;
}

void reaper_unregister(pid_t pid) {
        for (size_t i = 0; i < n_own; i++)
                if (own_pids[i] == pid) {
                        own_pids[i] = own_pids[--n_own];
                        return;
                }
}

static bool pid_is_own(pid_t pid) {
        for (size_t i = 0; i < n_own; i++)
                if (own_pids[i] == pid)
                        return true;
        return false;
}

static void reaper_reap(Reaper *r) {
        unsigned reaped = 0;

        for (;;) {
                siginfo_t si = {};
                /* Peek only: the first exited child, left as it is. */
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != ECHILD)
                                log_debug_errno(errno, "Failed to look for exited children, ignoring: %m");
                        break;
                }
                if (si.si_pid <= 0)
                        break;
                /* Ours: its event source reaps it and reports its status. The orphans that may wait behind
                 * it are reaped on the pass after that dispatch. */
                if (pid_is_own(si.si_pid))
                        break;
                pid_t pid = si.si_pid;
                si = (siginfo_t) {};
                if (waitid(P_PID, pid, &si, WEXITED | WNOHANG) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_debug_errno(errno, "Failed to reap orphan process %d, ignoring: %m", (int) pid);
                        break;
                }
                log_debug("Reaped orphan process %d (%s %d).", (int) pid,
                        si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status);
                reaped++;
        }
        if (reaped > 0 && r->on_reaped)
                r->on_reaped(r, r->userdata);
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        reaper_reap(userdata);
        return 0;
}

/* After every dispatch: an own child's source has just reaped it, orphans behind it can go now; and a
 * SIGCHLD that sd-event consumed for its own child sources (without pidfds) is not missed. */
static int on_post(sd_event_source *s, void *userdata) {
        reaper_reap(userdata);
        return 0;
}

int reaper_new(sd_event *e, bool subreaper, Reaper **ret) {
        assert(ret);

        int r;

        _cleanup_(reaper_freep) Reaper *p = new0(Reaper, 1);
        if (!p)
                return log_oom();
        p->event = sd_event_ref(e);

        if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_warning_errno(errno, "Failed to become a child subreaper, the daemon's orphans go to init instead: %m");

        r = sd_event_add_signal(e, &p->sigchld, SIGCHLD, on_sigchld, p);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGCHLD: %m");
        r = sd_event_add_post(e, &p->post, on_post, p);
        if (r < 0)
                return log_error_errno(r, "Failed to add the reaper's event source: %m");
        (void) sd_event_source_set_description(p->post, "reaper");
        *ret = TAKE_PTR(p);
        return 0;
}

Reaper *reaper_free(Reaper *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->sigchld);
        sd_event_source_disable_unref(r->post);
        sd_event_unref(r->event);
        return mfree(r);
}

void reaper_set_watch(Reaper *r, void (*on_reaped)(Reaper *r, void *userdata), void *userdata) {
        assert(r);

        r->on_reaped = on_reaped;
        r->userdata = userdata;
}

static int read_proc_stat(const char *pid, ProcStat *ret) {
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, sizeof(buf)); /* the fields we need come in the first 100 bytes */
        if (n < 0)
                return -errno;
        return proc_stat_parse(buf, (size_t) n, ret);
}

/* Whether /proc is that of our PID namespace: /proc/self names our pid. */
static bool proc_is_ours(Reaper *r) {
        if (r->proc_checked)
                return r->proc_ok;
        char buf[32];
        ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
        if (n > 0) {
                buf[n] = 0;
                r->proc_ok = atoi(buf) == (int) getpid();
        }
        r->proc_checked = true;
        if (!r->proc_ok)
                log_warning("/proc does not show this PID namespace (mount it, e.g. unshare --mount-proc): what the daemon leaves behind is found by its process group only.");
        return r->proc_ok;
}

static int signal_stray(const ProcStat *seen, int sig) {
        _cleanup_close_ int pidfd = pidfd_open(seen->pid, 0);
        if (pidfd < 0) {
                if (errno == ESRCH)
                        return 0;
                if (errno != ENOSYS)
                        return -errno;
                return kill(seen->pid, sig) < 0 ? -errno : 1;
        }
        /* The pid is pinned now: if it still has the parent we saw, it is the process we saw (or a new
         * child of that parent, which is below us all the same). */
        char pid[16];
        ProcStat now;
        snprintf(pid, sizeof(pid), "%d", (int) seen->pid);
        if (read_proc_stat(pid, &now) < 0 || now.ppid != seen->ppid)
                return 0;
        if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
                return errno == ESRCH ? 0 : -errno;
        return 1;
}

int reaper_signal_strays(Reaper *r, int sig) {
        if (!proc_is_ours(r))
                return -EOPNOTSUPP;

        _cleanup_(closedirp) DIR *d = opendir("/proc");
        if (!d)
                return log_debug_errno(errno, "Failed to open /proc: %m");

        _cleanup_free_ ProcStat *procs = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                ProcStat st;
                if (read_proc_stat(de->d_name, &st) < 0)
                        continue; /* gone meanwhile, or a kernel thread's odd name: not ours either way */
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 256;
                        ProcStat *p = realloc(procs, k * sizeof(ProcStat));
                        if (!p)
                                return -ENOMEM;
                        procs = p;
                        allocated = k;
                }
                procs[n++] = st;
        }

        _cleanup_free_ bool *strays = new(bool, n ?: 1);
        if (!strays)
                return -ENOMEM;
        int k = proc_tree_mark_strays(procs, n, getpid(), own_pids, n_own, strays);
        if (k <= 0)
                return k;

        int signalled = 0;
        for (size_t i = 0; i < n; i++) {
                if (!strays[i])
                        continue;
                int q = signal_stray(&procs[i], sig);
                if (q < 0)
                        log_debug_errno(q, "Failed to send SIG%s to process %d, ignoring: %m", sigabbrev_np(sig),
                                (int) procs[i].pid);
                else
                        signalled += q;
        }
        return signalled;
}
