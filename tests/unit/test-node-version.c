/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `<binary> version` as the node runs it: the node's environment, its lib/, the output capped, the time
 * limit. Real child processes (/bin/sh scripts). */

#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "node-version.h"

static char dir[] = "/tmp/test-node-version-XXXXXX";
static char bin[PATH_MAX];

static void setup(void) {
        strcpy(dir, "/tmp/test-node-version-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(bin, sizeof bin, "%s/oraid", dir);
        log_set_max_level(LOG_CRIT);
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

Test(node_version, output_and_environment, .init = setup, .fini = teardown) {
        script("echo \"$1 ld=$LD_LIBRARY_PATH notify=${NOTIFY_SOCKET-unset} cwd=$(pwd)\"; echo err >&2; "
               "exit 0");
        char *env[] = {(char *) "PATH=/usr/bin:/bin", (char *) "LD_LIBRARY_PATH=/opt/x",
                (char *) "NOTIFY_SOCKET=/run/nope", NULL};
        NodeVersion v = {};
        cr_assert_eq(node_version_run(bin, "/v/lib", env, NULL, dir, 10 * USEC_PER_SEC, &v), 0);
        char want[PATH_MAX + 100];
        snprintf(want, sizeof want, "version ld=/v/lib:/opt/x notify=unset cwd=%s\nerr\n", dir);
        cr_assert_str_eq(v.output, want);
        cr_assert_eq(v.size, strlen(want));
        cr_assert(!v.truncated);
        cr_assert_eq(v.result.code, CLD_EXITED);
        cr_assert_eq(v.result.status, 0);
        cr_assert(!v.result.timed_out);
        node_version_done(&v);
}

Test(node_version, capped_failing_and_timed_out, .init = setup, .fini = teardown) {
        char *env[] = {(char *) "PATH=/usr/bin:/bin", NULL};
        char end[64];
        NodeVersion v = {};

        script("head -c 100000 /dev/zero | tr '\\0' x; exit 7");
        cr_assert_eq(node_version_run(bin, NULL, env, NULL, dir, 10 * USEC_PER_SEC, &v), 0);
        cr_assert(v.truncated);
        cr_assert_eq(v.size, NODE_VERSION_OUTPUT_MAX);
        cr_assert_eq(strlen(v.output), NODE_VERSION_OUTPUT_MAX);
        cr_assert_eq(v.result.status, 7);
        cr_assert_str_eq(node_version_describe_end(&v, end, sizeof end), "exit status 7");
        node_version_done(&v);

        script("echo before; exec sleep 30");
        cr_assert_eq(node_version_run(bin, NULL, env, NULL, dir, 200 * USEC_PER_MSEC, &v), 0);
        cr_assert(v.result.timed_out);
        cr_assert_str_eq(v.output, "before\n");
        cr_assert_str_eq(node_version_describe_end(&v, end, sizeof end), "timed out, stopped");
        node_version_done(&v);

        /* Not executable: it ran (and failed), with the reason in its output. */
        cr_assert_eq(chmod(bin, 0644), 0);
        cr_assert_eq(node_version_run(bin, NULL, env, NULL, dir, 10 * USEC_PER_SEC, &v), 0);
        cr_assert_eq(v.result.code, CLD_EXITED);
        cr_assert_eq(v.result.status, 127);
        cr_assert(strstr(v.output, "EACCES") || strstr(v.output, "ermission"), "%s", v.output);
        node_version_done(&v);
}
