/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* NULL-terminated string arrays and the environ-style helpers used to build the daemon's environment. */

#include <criterion/criterion.h>

#include "strv.h"

static void expect_strv(char *const *got, char *const *want) {
        size_t ng = strv_length(got), nw = strv_length(want);
        cr_expect_eq(ng, nw, "%zu entries, expected %zu", ng, nw);
        for (size_t i = 0; i < MIN(ng, nw); i++)
                cr_expect_str_eq(got[i], want[i], "entry %zu", i);
}

Test(strv, basics) {
        cr_expect_eq(strv_length(NULL), 0);
        cr_expect_eq(strv_length(STRV_MAKE(NULL)), 0);
        cr_expect_eq(strv_length(STRV_MAKE("a", "b")), 2);
        cr_expect_null(strv_free(NULL));

        _cleanup_strv_free_ char **l = NULL;
        cr_expect_eq(strv_extend(&l, "a"), 0);
        cr_expect_eq(strv_extend(&l, ""), 0);
        cr_expect_eq(strv_consume(&l, strdup("c")), 0);
        expect_strv(l, STRV_MAKE("a", "", "c"));
        cr_expect_eq(strv_consume(&l, NULL), -ENOMEM, "a failed allocation passed in");
        expect_strv(l, STRV_MAKE("a", "", "c"));

        cr_expect(strv_contains(l, ""));
        cr_expect(strv_contains(l, "c"));
        cr_expect_not(strv_contains(l, "b"));
        cr_expect_not(strv_contains(NULL, "a"));

        _cleanup_strv_free_ char **copy = strv_copy(l), **empty = strv_copy(NULL);
        expect_strv(copy, l);
        cr_expect_neq(copy[0], l[0], "a deep copy");
        cr_assert_not_null(empty);
        cr_expect_null(empty[0]);

        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        cr_expect_eq(n, 3);
        STRV_FOREACH(s, (char **) NULL)
                cr_assert_fail("no iteration over NULL");
}

Test(strv, env_get) {
        char *const env[] = { "A=1", "AB=2", "EMPTY=", "NOEQUAL", "A=shadowed", "EQ==x", NULL };
        cr_expect_str_eq(strv_env_get(env, "A"), "1", "the first entry wins, as getenv()");
        cr_expect_str_eq(strv_env_get(env, "AB"), "2");
        cr_expect_str_eq(strv_env_get(env, "EMPTY"), "");
        cr_expect_str_eq(strv_env_get(env, "EQ"), "=x");
        cr_expect_null(strv_env_get(env, "NOEQUAL"));
        cr_expect_null(strv_env_get(env, "ABC"));
        cr_expect_null(strv_env_get(env, "a"));
        cr_expect_null(strv_env_get(NULL, "A"));
}

Test(strv, env_filter) {
        char *const env[] = { "NOTIFY_SOCKET=/run/x", "NOTIFY_SOCKETS=keep", "LISTEN_FDS=3", "LISTEN_FDNAMES=a",
                              "HOME=/root", "SYSTEMD_EXEC_PID=5", "PATH=/bin", "NOTIFY_SOCKET_X=keep", NULL };
        _cleanup_strv_free_ char **a = strv_env_filter(env, STRV_MAKE("NOTIFY_SOCKET", "LISTEN_FDS"), NULL);
        expect_strv(a, STRV_MAKE("NOTIFY_SOCKETS=keep", "LISTEN_FDNAMES=a", "HOME=/root", "SYSTEMD_EXEC_PID=5",
                               "PATH=/bin", "NOTIFY_SOCKET_X=keep"));

        /* A prefix ending in '_' drops the whole family; a full name only itself. */
        _cleanup_strv_free_ char **b = strv_env_filter(env, NULL, STRV_MAKE("LISTEN_", "NOTIFY_SOCKET", "SYSTEMD_"));
        expect_strv(b, STRV_MAKE("NOTIFY_SOCKETS=keep", "HOME=/root", "PATH=/bin", "NOTIFY_SOCKET_X=keep"));

        _cleanup_strv_free_ char **c = strv_env_filter(NULL, NULL, NULL);
        cr_assert_not_null(c);
        cr_expect_null(c[0]);
        _cleanup_strv_free_ char **d = strv_env_filter(env, NULL, NULL);
        expect_strv(d, env);
}

Test(strv, env_set) {
        _cleanup_strv_free_ char **env = strv_copy(STRV_MAKE("A=1", "LD_LIBRARY_PATH=/old", "B=2"));
        cr_expect_eq(strv_env_set(&env, "LD_LIBRARY_PATH", "/new:/old"), 0);
        cr_expect_eq(strv_env_set(&env, "C", ""), 0);
        cr_expect_eq(strv_env_set(&env, "A", "x=y"), 0);
        expect_strv(env, STRV_MAKE("A=x=y", "LD_LIBRARY_PATH=/new:/old", "B=2", "C="));

        _cleanup_strv_free_ char **fresh = NULL;
        cr_expect_eq(strv_env_set(&fresh, "X", "1"), 0);
        expect_strv(fresh, STRV_MAKE("X=1"));
}
