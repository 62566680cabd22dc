/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child-env.h"
#include "fd-util.h"
#include "node-version.h"
#include "strv.h"

typedef struct Probe {
        sd_event *event;
        NodeVersion *v;
        bool exited;
        bool eof;
} Probe;

void node_version_done(NodeVersion *v) {
        if (v)
                v->output = mfree(v->output);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        char buf[4096];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        n = 0; /* an error ends the output like EOF */
                }
                if (n == 0) {
                        p->eof = true;
                        if (s)
                                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                        return 0;
                }
                size_t room = NODE_VERSION_OUTPUT_MAX - p->v->size, take = MIN((size_t) n, room);
                memcpy(p->v->output + p->v->size, buf, take);
                p->v->size += take;
                p->v->output[p->v->size] = 0;
                if (take < (size_t) n)
                        p->v->truncated = true;
        }
}

static void on_done(Child *c, const ChildResult *r, void *userdata) {
        Probe *p = userdata;
        p->v->result = *r;
        p->exited = true;
        /* What it wrote before it ended is in the pipe: read after the loop. A grandchild that keeps the
         * pipe open is not waited for. */
        (void) sd_event_exit(p->event, 0);
}

int node_version_run(const char *binary, const char *lib_dir, char *const *env,
        const Credentials *credentials, const char *working_directory, usec_t timeout, NodeVersion *ret) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *io = NULL;
        _cleanup_(child_freep) Child *child = NULL;
        _cleanup_strv_free_ char **node_env = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        NodeVersion v = {};
        int pipefd[2], r;

        assert(binary);
        assert(ret);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = child_env_for_node(env, lib_dir, &node_env);
        if (r < 0)
                return r;
        v.output = malloc(NODE_VERSION_OUTPUT_MAX + 1);
        if (!v.output)
                return -ENOMEM;
        v.output[0] = 0;

        r = sd_event_new(&e);
        if (r < 0)
                goto fail;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        rfd = pipefd[0];
        wfd = pipefd[1];
        (void) fd_nonblock(rfd, true);

        Probe p = {.event = e, .v = &v};
        r = sd_event_add_io(e, &io, rfd, EPOLLIN, on_output, &p);
        if (r < 0)
                goto fail;

        char *argv[] = {(char *) binary, (char *) "version", NULL};
        ChildSpec spec = CHILD_SPEC_INIT;
        spec.argv = argv;
        spec.env = node_env;
        spec.credentials = credentials;
        spec.working_directory = working_directory;
        spec.stdout_fd = wfd;
        spec.stderr_fd = wfd;
        spec.timeout = timeout;
        spec.description = "the version command";
        r = child_spawn(e, &spec, on_done, &p, &child);
        if (r < 0)
                goto fail;
        wfd = safe_close(wfd); /* the child's copy is the only writer left: its end is our EOF */

        r = sd_event_loop(e);
        if (r < 0)
                goto fail;
        if (!p.eof)
                (void) on_output(NULL, rfd, EPOLLIN, &p);
        *ret = v;
        return 0;
fail:
        node_version_done(&v);
        return r;
}

const char *node_version_describe_end(const NodeVersion *v, char *buf, size_t len) {
        if (v->result.timed_out)
                snprintf(buf, len, "timed out, stopped");
        else if (v->result.code == CLD_EXITED)
                snprintf(buf, len, "exit status %d", v->result.status);
        else
                snprintf(
                        buf, len, "killed by signal %d (%s)", v->result.status, strsignal(v->result.status));
        return buf;
}
