/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* shared/readiness, its `version` step as oraivisorctl list and version show it: the node's environment and
 * lib/, what it printed (kept whole up to READINESS_OUTPUT_MAX, then marked truncated), how it ended (exit
 * status, time limit). Real child processes (/bin/sh scripts) on a real event loop. The failure classes
 * of the check itself are covered end to end (tests/e2e/test_ctl_check.py). */

#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "readiness.h"

static char dir[] = "/tmp/test-readiness-XXXXXX";
static char bin[PATH_MAX];

typedef struct Got {
        sd_event *event;
        bool called;
        bool ready;
        char *reason;
        char *output;
        size_t size;
        bool truncated;
        bool ran;
        ChildResult end;
} Got;

static void setup(void) {
        strcpy(dir, "/tmp/test-readiness-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/bin", dir);
        cr_assert_eq(mkdir(p, 0755), 0);
        snprintf(bin, sizeof bin, "%s/bin/oraid", dir);
        log_set_max_level(LOG_CRIT);
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        cr_assert_eq(sigprocmask(SIG_BLOCK, &ss, NULL), 0);
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void) system(cmd);
}

static void script(const char *body) {
        FILE *f = fopen(bin, "w");
        cr_assert_not_null(f);
        fprintf(f, "#!/bin/sh\n%s\n", body);
        fclose(f);
        cr_assert_eq(chmod(bin, 0755), 0);
}

static void on_done(Readiness *r, const ReadinessResult *res, void *userdata) {
        Got *g = userdata;
        g->called = true;
        g->ready = res->ready;
        g->reason = res->reason ? strdup(res->reason) : NULL;
        if (res->version_output) {
                g->output = malloc(res->version_output_size + 1);
                cr_assert_not_null(g->output);
                memcpy(g->output, res->version_output, res->version_output_size);
                g->output[res->version_output_size] = 0;
        }
        g->size = res->version_output_size;
        g->truncated = res->version_output_truncated;
        g->ran = res->version_end != NULL;
        if (res->version_end)
                g->end = *res->version_end;
        (void) sd_event_exit(g->event, 0);
}

static void check(char **env, usec_t timeout, Got *g) {
        *g = (Got) {};
        cr_assert_geq(sd_event_new(&g->event), 0);
        ReadinessSpec spec = {
                .version_dir = dir,
                .daemon_name = "oraid",
                .env = env,
                .working_directory = dir,
                .timeout = timeout,
        };
        Readiness *r = NULL;
        cr_assert_eq(readiness_start(g->event, &spec, on_done, g, &r), 0);
        cr_assert_geq(sd_event_loop(g->event), 0);
        cr_assert(g->called);
        readiness_free(r);
        g->event = sd_event_unref(g->event);
}

static void got_done(Got *g) {
        free(g->reason);
        free(g->output);
}

Test(readiness, version_output_environment_and_end, .init = setup, .fini = teardown) {
        char lib[PATH_MAX];
        snprintf(lib, sizeof lib, "%s/lib", dir);
        cr_assert_eq(mkdir(lib, 0755), 0);
        script("echo \"$1 ld=$LD_LIBRARY_PATH notify=${NOTIFY_SOCKET-unset} cwd=$(pwd)\"; echo err >&2; "
               "exit 0");
        char *env[] = {(char *) "PATH=/usr/bin:/bin", (char *) "LD_LIBRARY_PATH=/opt/x",
                (char *) "NOTIFY_SOCKET=/run/nope", NULL};
        Got g;
        check(env, 10 * USEC_PER_SEC, &g);
        char want[PATH_MAX * 2 + 100];
        snprintf(want, sizeof want, "version ld=%s:/opt/x notify=unset cwd=%s\nerr\n", lib, dir);
        cr_assert(g.ready);
        cr_assert_null(g.reason);
        cr_assert_str_eq(g.output, want);
        cr_assert_eq(g.size, strlen(want));
        cr_assert(!g.truncated);
        cr_assert(g.ran);
        cr_assert_eq(g.end.code, CLD_EXITED);
        cr_assert_eq(g.end.status, 0);
        cr_assert(!g.end.timed_out);
        got_done(&g);
}

Test(readiness, capped_failing_and_timed_out, .init = setup, .fini = teardown) {
        char *env[] = {(char *) "PATH=/usr/bin:/bin", NULL};
        Got g;

        /* More than the cap: the first READINESS_OUTPUT_MAX bytes kept, marked truncated; the status kept. */
        script("head -c 100000 /dev/zero | tr '\\0' x; exit 7");
        check(env, 10 * USEC_PER_SEC, &g);
        cr_assert(!g.ready);
        cr_assert(g.ran);
        cr_assert(g.truncated);
        cr_assert_eq(g.size, READINESS_OUTPUT_MAX);
        cr_assert_eq(strlen(g.output), READINESS_OUTPUT_MAX);
        cr_assert_eq(g.end.code, CLD_EXITED);
        cr_assert_eq(g.end.status, 7);
        cr_assert_not_null(strstr(g.reason, "`version` exited with status 7"), "%s", g.reason);
        got_done(&g);

        /* A NUL in the output: the size still counts every byte kept. */
        script("printf 'a\\000b'");
        check(env, 10 * USEC_PER_SEC, &g);
        cr_assert(g.ready);
        cr_assert_eq(g.size, 3);
        cr_assert(!g.truncated);
        cr_assert_eq(memcmp(g.output, "a\0b", 3), 0);
        got_done(&g);

        script("echo before; exec sleep 30");
        check(env, 200 * USEC_PER_MSEC, &g);
        cr_assert(!g.ready);
        cr_assert(g.ran);
        cr_assert(g.end.timed_out);
        cr_assert_str_eq(g.output, "before\n");
        cr_assert_not_null(strstr(g.reason, "does not finish `version` within"), "%s", g.reason);
        got_done(&g);

        /* Not executable: found before anything runs, so `version` has no end to report. */
        cr_assert_eq(chmod(bin, 0644), 0);
        check(env, 10 * USEC_PER_SEC, &g);
        cr_assert(!g.ready);
        cr_assert(!g.ran);
        cr_assert_null(g.output);
        cr_assert_eq(g.size, 0);
        cr_assert_not_null(strstr(g.reason, "is not executable"), "%s", g.reason);
        got_done(&g);
}
