/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /etc/oraivisor/<instance>.conf read as systemd reads an EnvironmentFile=. */

#include <criterion/criterion.h>
#include <string.h>

#include "env-file.h"
#include "strv.h"

static void parse_ok(const char *text, char *const *want, size_t n_warnings) {
        _cleanup_strv_free_ char **env = NULL, **warnings = NULL;
        _cleanup_free_ char *error = NULL;
        int r = env_file_parse(text, strlen(text), &env, &warnings, &error);
        cr_assert_eq(r, 0, "parse of [%s]: %d (%s)", text, r, strna(error));
        cr_expect_null(error);
        size_t ng = strv_length(env), nw = strv_length(want);
        cr_expect_eq(ng, nw, "[%s]: %zu entries, expected %zu", text, ng, nw);
        for (size_t i = 0; i < MIN(ng, nw); i++)
                cr_expect_str_eq(env[i], want[i], "[%s] entry %zu", text, i);
        cr_expect_eq(strv_length(warnings), n_warnings, "[%s]: %zu warnings (%s)", text, strv_length(warnings),
                     warnings ? warnings[0] : "");
}

Test(env_file, plain) {
        parse_ok("", STRV_MAKE(NULL), 0);
        parse_ok("\n\n  \n", STRV_MAKE(NULL), 0);
        parse_ok("DAEMON_HOME=/var/lib/oraid\nDAEMON_NAME=oraid\n",
                 STRV_MAKE("DAEMON_HOME=/var/lib/oraid", "DAEMON_NAME=oraid"), 0);
        parse_ok("A=1", STRV_MAKE("A=1"), 0); /* no final newline */
        parse_ok("  A = 1  \n", STRV_MAKE("A=1"), 0);
        parse_ok("A=1\r\nB=2\r\n", STRV_MAKE("A=1", "B=2"), 0);
        parse_ok("A=\n", STRV_MAKE("A="), 0);
        parse_ok("A=x=y", STRV_MAKE("A=x=y"), 0);
        parse_ok("_a9=1", STRV_MAKE("_a9=1"), 0);
}

Test(env_file, comments_and_later_wins) {
        parse_ok("# DAEMON_HOME=/x\n; B=2\nA=1\n", STRV_MAKE("A=1"), 0);
        parse_ok("A=1 # not a comment\n", STRV_MAKE("A=1 # not a comment"), 0);
        parse_ok("A=1\nB=2\nA=3\n", STRV_MAKE("A=3", "B=2"), 0);
}

Test(env_file, quotes) {
        parse_ok("A=\"x y\"\n", STRV_MAKE("A=x y"), 0);
        parse_ok("A='x y'\n", STRV_MAKE("A=x y"), 0);
        parse_ok("A=\"a\\\"b\\\\c\\$d\\`e\\n\"\n", STRV_MAKE("A=a\"b\\c$d`e\\n"), 0);
        parse_ok("A='a\\b'\n", STRV_MAKE("A=a\\b"), 0);
        parse_ok("A=\"  padded  \"\n", STRV_MAKE("A=  padded  "), 0);
        parse_ok("A=\"one\ntwo\"\nB=3\n", STRV_MAKE("A=one\ntwo", "B=3"), 0);
        parse_ok("A=pre\"mid\"post\n", STRV_MAKE("A=premidpost"), 0);
        parse_ok("A=\"quoted\"   \n", STRV_MAKE("A=quoted"), 0);
}

Test(env_file, escapes_and_continuation) {
        parse_ok("A=a\\ b\n", STRV_MAKE("A=a b"), 0);
        parse_ok("A=one \\\ntwo\nB=2\n", STRV_MAKE("A=one two", "B=2"), 0);
        parse_ok("A=\"one \\\ntwo\"\n", STRV_MAKE("A=one two"), 0);
        parse_ok("A=x\\\\\n", STRV_MAKE("A=x\\"), 0);
        parse_ok("A=trail\\ \n", STRV_MAKE("A=trail "), 0);
}

Test(env_file, not_assignments_warn_and_are_skipped) {
        parse_ok("export A=1\nB=2\n", STRV_MAKE("B=2"), 1);
        parse_ok("just words\nB=2\n", STRV_MAKE("B=2"), 1);
        parse_ok("=1\n9A=2\nA-B=3\nC=4\n", STRV_MAKE("C=4"), 3);

        _cleanup_strv_free_ char **env = NULL, **warnings = NULL;
        _cleanup_free_ char *error = NULL;
        cr_assert_eq(env_file_parse("A=1\n\nnot valid\n", 15, &env, &warnings, &error), 0);
        cr_assert_eq(strv_length(warnings), 1);
        cr_expect(strstr(warnings[0], "line 3:"), "%s", warnings[0]);
        cr_expect(strstr(warnings[0], "not valid"), "%s", warnings[0]);
}

Test(env_file, errors) {
        static const struct { const char *text; size_t len; const char *want; } cases[] = {
                { "A=\"open\n", 8, "line 1: the value of A opens a double quote" },
                { "B=1\nA='open\n", 12, "line 2: the value of A opens a single quote" },
                { "A=1\0B=2", 7, "NUL byte" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **env = NULL, **warnings = NULL;
                _cleanup_free_ char *error = NULL;
                cr_expect_eq(env_file_parse(cases[i].text, cases[i].len, &env, &warnings, &error), -EINVAL, "case %zu", i);
                cr_expect(error && strstr(error, cases[i].want), "case %zu: %s", i, strna(error));
                cr_expect_null(env);
        }
}
