/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/wait.h>

#include "child-env.h"
#include "child.h"
#include "fd-util.h"
#include "log.h"
#include "reaper.h"
#include "spawn.h"
#include "strv.h"

#define CHILD_KILL_GRACE (5 * USEC_PER_SEC)

struct Child {
        sd_event *event;
        sd_event_source *child_source;
        sd_event_source *timer_source;
        pid_t pid;
        bool timed_out;
        bool sent_kill;
        char *description;
        ChildDone done;
        void *userdata;
};

Child *child_free(Child *c) {
        if (!c)
                return NULL;
        /* Its whole process group goes (a hook's own children too); the child source owns the process
         * itself: unref kills it with SIGKILL and reaps it. */
        if (c->child_source)
                (void) kill(-c->pid, SIGKILL);
        sd_event_source_disable_unref(c->child_source);
        if (c->pid > 0)
                reaper_unregister(c->pid); /* reaped by now: by its source, or by the unref above */
        sd_event_source_disable_unref(c->timer_source);
        sd_event_unref(c->event);
        free(c->description);
        return mfree(c);
}

pid_t child_pid(const Child *c) {
        assert(c);

        return c->pid;
}

int child_kill(Child *c, int sig) {
        if (!c->child_source)
                return -ESRCH;
        /* The process group first (a shell script's children), then the child itself in case it left it. */
        (void) kill(-c->pid, sig);
        return sd_event_source_send_child_signal(c->child_source, sig, NULL, 0);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Child *c = userdata;
        ChildResult r = {
                .code = si->si_code,
                .status = si->si_status,
                .timed_out = c->timed_out,
        };
        c->child_source = sd_event_source_disable_unref(c->child_source);
        c->timer_source = sd_event_source_disable_unref(c->timer_source);
        /* sd-event reaps it once we return; the reaper runs only from its own sources, after that. */
        reaper_unregister(c->pid);
        c->done(c, &r, c->userdata);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Child *c = userdata;
        char buf[FORMAT_TIMESPAN_MAX];

        if (!c->sent_kill && !c->timed_out) {
                log_error("%s (pid %d) did not finish in time, stopping it (SIGTERM).", c->description,
                        (int) c->pid);
                c->timed_out = true;
                (void) child_kill(c, SIGTERM);
                (void) sd_event_source_set_time_relative(s, CHILD_KILL_GRACE);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        log_error("%s (pid %d) still runs %s after SIGTERM, killing it.", c->description, (int) c->pid,
                format_timespan(buf, sizeof(buf), CHILD_KILL_GRACE));
        c->sent_kill = true;
        (void) child_kill(c, SIGKILL);
        return 0;
}

/* In the forked child: the common setup (spawn.c), then the function or the exec. env was built by the
 * parent: nothing here allocates or logs. */
static _noreturn_ void child_exec(const ChildSpec *spec, char **env, pid_t parent) {
        SpawnSetup setup = {
                .parent = parent,
                .death_signal = SIGKILL,
                .stdin_fd = spec->stdin_fd >= 0 ? spec->stdin_fd : SPAWN_STDIN_NULL,
                .stdout_fd = spec->stdout_fd,
                .stderr_fd = spec->stderr_fd,
                /* A function uses the fds it was given (they close at _exit()); an exec'd program gets
                 * stdio and the one fd to pass on. */
                .keep_fd = spec->func ? -1 : spec->keep_fd,
                .close_others = !spec->func,
                .credentials = spec->credentials,
                .working_directory = spec->working_directory,
        };
        int r = spawn_setup_child(&setup);
        if (r < 0) {
                spawn_report_failure(spec->description, "setting up the process (user, folder, stdio)", r);
                _exit(EXIT_FAILURE);
        }
        if (spec->func)
                _exit(spec->func(spec->func_userdata) & 0xff);

        execve(spec->argv[0], spec->argv, env);
        spawn_report_failure(spec->description, spec->argv[0], errno);
        _exit(127);
}

int child_spawn(sd_event *e, const ChildSpec *spec, ChildDone done, void *userdata, Child **ret) {
        assert(ret);

        int r;

        assert(e);
        assert(spec);
        assert(!!spec->argv != !!spec->func);

        _cleanup_(child_freep) Child *c = new0(Child, 1);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->done = done;
        c->userdata = userdata;
        c->description = strdup(spec->description ?: "child process");
        if (!c->description)
                return -ENOMEM;

        /* Everything the child needs is made here, before fork (spawn.h). */
        _cleanup_strv_free_ char **env = NULL;
        if (spec->argv) {
                env = child_env_strip_own(spec->env ?: environ);
                if (!env || credentials_env(spec->credentials, &env) < 0)
                        return -ENOMEM;
        }

        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(spec, env, parent);

        c->pid = pid;
        /* Ours from now on: the reaper (PID 1, subreaper) leaves its exit status to the source below. */
        r = reaper_register(pid);
        if (r >= 0)
                r = sd_event_add_child(e, &c->child_source, pid, WEXITED, on_child, c);
        if (r < 0) {
                reaper_unregister(pid);
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        (void) sd_event_source_set_child_process_own(c->child_source, true);
        (void) sd_event_source_set_description(c->child_source, c->description);

        if (spec->timeout > 0 && spec->timeout != USEC_INFINITY) {
                r = sd_event_add_time_relative(e, &c->timer_source, CLOCK_MONOTONIC, spec->timeout, 0,
                        on_timeout, c);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(c);
        return 0;
}
