/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "child-env.h"
#include "macro.h"
#include "strv.h"

static char *const systemd_env[] = {
        "PATH=/usr/bin", "HOME=/root", "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=30000000",
        "WATCHDOG_PID=12", "LISTEN_FDS=1", "LISTEN_PID=12", "LISTEN_FDNAMES=x", "INVOCATION_ID=0123",
        "JOURNAL_STREAM=8:123", "MANAGERPID=1", "SYSTEMD_EXEC_PID=12", "MAINPID=12",
        "STATE_DIRECTORY=/var/lib/oraivisor/x", "RUNTIME_DIRECTORY=/run/x", "CREDENTIALS_DIRECTORY=/run/c",
        "MONITOR_UNIT=x.service", "DAEMON_HOME=/var/lib/x", "FOO=bar", "WATCHDOGS=kept", NULL,
};

Test(child_env, strips_exactly_the_own_unit_variables) {
        _cleanup_strv_free_ char **e = child_env_strip_own(systemd_env);
        cr_assert_not_null(e);
        /* In order; WATCHDOGS= is not WATCHDOG_*: kept. */
        char *const want[] = { "PATH=/usr/bin", "HOME=/root", "DAEMON_HOME=/var/lib/x", "FOO=bar", "WATCHDOGS=kept", NULL };
        size_t n = 0;
        for (; e[n]; n++) {
                cr_assert_not_null(want[n], "unexpected '%s'", e[n]);
                cr_assert_str_eq(e[n], want[n]);
        }
        cr_assert_null(want[n], "missing '%s'", want[n]);
        cr_assert_null(strv_env_get(e, "NOTIFY_SOCKET"));
        cr_assert_null(strv_env_get(e, "STATE_DIRECTORY"));
        cr_assert_null(strv_env_get(e, "LISTEN_FDNAMES"));
}

Test(child_env, is_own) {
        cr_assert(child_env_is_own("NOTIFY_SOCKET"));
        cr_assert(child_env_is_own("WATCHDOG_USEC"));
        cr_assert(child_env_is_own("LISTEN_FDS"));
        cr_assert(!child_env_is_own("PATH"));
        cr_assert(!child_env_is_own("NOTIFY_SOCKETS"));
        cr_assert(!child_env_is_own("DAEMON_HOME"));
}

Test(child_env, lib_dir_first) {
        char **e = NULL;
        cr_assert_eq(child_env_for_node(STRV_MAKE("PATH=/bin"), "/h/oraivisor/upgrades/v2/lib", &e), 0);
        cr_assert_str_eq(strv_env_get(e, "LD_LIBRARY_PATH"), "/h/oraivisor/upgrades/v2/lib");
        strv_free(e);
        cr_assert_eq(child_env_for_node(STRV_MAKE("LD_LIBRARY_PATH=/opt/lib", "NOTIFY_SOCKET=/x"), "/v/lib", &e), 0);
        cr_assert_str_eq(strv_env_get(e, "LD_LIBRARY_PATH"), "/v/lib:/opt/lib");
        cr_assert_null(strv_env_get(e, "NOTIFY_SOCKET"));
        strv_free(e);
        cr_assert_eq(child_env_for_node(STRV_MAKE("LD_LIBRARY_PATH="), "/v/lib", &e), 0);
        cr_assert_str_eq(strv_env_get(e, "LD_LIBRARY_PATH"), "/v/lib");
        strv_free(e);
        cr_assert_eq(child_env_for_node(STRV_MAKE("LD_LIBRARY_PATH=/opt/lib"), NULL, &e), 0);
        cr_assert_str_eq(strv_env_get(e, "LD_LIBRARY_PATH"), "/opt/lib");
        strv_free(e);
        cr_assert_eq(child_env_for_node(NULL, NULL, &e), 0);
        cr_assert_null(e[0]);
        strv_free(e);
}
