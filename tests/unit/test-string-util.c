/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* String helpers: prefixes and suffixes, trimming, escaping for one-line messages, hex, distances. */

#include <criterion/criterion.h>

#include "string-util.h"

Test(string_util, prefixes_and_suffixes) {
        const char *s = "oraivisor";
        cr_expect_eq(startswith(s, "orai"), s + 4);
        cr_expect_eq(startswith(s, ""), s);
        cr_expect_eq(startswith(s, s), s + 9);
        cr_expect_null(startswith(s, "oraivisor+"));
        cr_expect_null(startswith(s, "Orai"));
        cr_expect_eq(endswith(s, "visor"), s + 4);
        cr_expect_eq(endswith(s, ""), s + 9);
        cr_expect_eq(endswith(s, s), s);
        cr_expect_null(endswith(s, "xoraivisor"));
        cr_expect_null(endswith("", "a"));

        static const char buf[] = { 'a', 'b', 0, 'c', 'd' };
        cr_expect_eq(memmem_str(buf, sizeof(buf), "cd"), buf + 3);
        cr_expect_null(memmem_str(buf, 3, "cd"));
}

Test(string_util, path_startswith_dir) {
        const char *p = "/var/lib/oraid/oraivisor/upgrades/v2/bin/oraid";
        cr_expect_str_eq(path_startswith_dir(p, "/var/lib/oraid/oraivisor"), "upgrades/v2/bin/oraid");
        cr_expect_str_eq(path_startswith_dir(p, "/var/lib/oraid/oraivisor/"), "upgrades/v2/bin/oraid");
        cr_expect_str_eq(path_startswith_dir("//var//lib/oraid/oraivisor//genesis/bin/oraid", "/var/lib/oraid/oraivisor"),
                "genesis/bin/oraid");
        cr_expect_str_eq(path_startswith_dir("/var/lib/oraid/oraivisor", "/var/lib/oraid/oraivisor"), "");
        cr_expect_str_eq(path_startswith_dir(p, "/"), "var/lib/oraid/oraivisor/upgrades/v2/bin/oraid");
        /* a sibling whose name only starts like dir */
        cr_expect_null(path_startswith_dir("/var/lib/oraid/oraivisor2/genesis/bin/oraid", "/var/lib/oraid/oraivisor"));
        cr_expect_null(path_startswith_dir("/var/lib/oraid2/oraivisor/genesis/bin/oraid", "/var/lib/oraid/oraivisor"));
        cr_expect_null(path_startswith_dir("/var/lib/oraid", "/var/lib/oraid/oraivisor"));
        /* ".." could lead out; "..." and ".x" are names */
        cr_expect_null(path_startswith_dir("/var/lib/oraid/oraivisor/../../other/bin/oraid", "/var/lib/oraid/oraivisor"));
        cr_expect_null(path_startswith_dir("/var/lib/oraid/oraivisor/upgrades/..", "/var/lib/oraid/oraivisor"));
        cr_expect_str_eq(path_startswith_dir("/h/oraivisor/.../..x", "/h/oraivisor"), ".../..x");
        /* relative paths are never below */
        cr_expect_null(path_startswith_dir("var/lib/oraid/oraivisor/genesis", "/var/lib/oraid/oraivisor"));
        cr_expect_null(path_startswith_dir(p, "var/lib"));
        cr_expect_null(path_startswith_dir(NULL, "/"));
}

Test(string_util, case_and_ascii) {
        char s[] = "MiXeD-123_É";
        cr_expect_str_eq(ascii_strlower(s), "mixed-123_É");
        cr_expect(ascii_is_valid("plain text ~!"));
        cr_expect(ascii_is_valid(""));
        cr_expect_not(ascii_is_valid("tab\there"));
        cr_expect_not(ascii_is_valid("é"));
        cr_expect_not(ascii_is_valid("del\x7f"));
}

Test(string_util, trailing_whitespace) {
        char a[] = "text \t\r\n\v\f", b[] = "   ", c[] = "", d[] = " keep leading";
        cr_expect_str_eq(strip_trailing_whitespace(a), "text");
        cr_expect_str_eq(strip_trailing_whitespace(b), "");
        cr_expect_str_eq(strip_trailing_whitespace(c), "");
        cr_expect_str_eq(strip_trailing_whitespace(d), " keep leading");
        cr_expect_eq(trim_trailing_whitespace_len("ab  ", 4), 2);
        cr_expect_eq(trim_trailing_whitespace_len("ab  ", 1), 1);
        cr_expect_eq(trim_trailing_whitespace_len("  ", 2), 0);
        cr_expect_eq(trim_trailing_whitespace_len(NULL, 0), 0);
        cr_expect_eq(trim_trailing_whitespace_len("a\0 ", 3), 2, "a NUL is not whitespace");
}

Test(string_util, strextendf_and_strndup) {
        _cleanup_free_ char *s = NULL;
        cr_expect_eq(strextendf(&s, "%s", ""), 0);
        cr_expect_str_eq(s, "");
        cr_expect_eq(strextendf(&s, "a%d", 1), 0);
        cr_expect_eq(strextendf(&s, ", %s=%03d", "b", 2), 0);
        cr_expect_str_eq(s, "a1, b=002");

        _cleanup_free_ char *n = strndup_or_null("abcdef", 3), *z = strndup_or_null("ab", 10);
        cr_expect_str_eq(n, "abc");
        cr_expect_str_eq(z, "ab");
        cr_expect_null(strndup_or_null(NULL, 3));
}

Test(string_util, distance) {
        cr_expect_eq(string_distance("", ""), 0);
        cr_expect_eq(string_distance("abc", ""), 3);
        cr_expect_eq(string_distance("", "abc"), 3);
        cr_expect_eq(string_distance("kitten", "sitting"), 3);
        cr_expect_eq(string_distance("flaw", "lawn"), 2);
        cr_expect_eq(string_distance("DAEMON_HOME", "daemon_home"), 0, "case-insensitive");
        cr_expect_eq(string_distance("DAEMON_RESTART_AFTER_UPGRDE", "DAEMON_RESTART_AFTER_UPGRADE"), 1);
        cr_expect_eq(string_distance("ab", "ba"), 2);
        cr_expect_eq(string_distance("DAEMON_NAME", "DAEMON_HOME"), string_distance("DAEMON_HOME", "DAEMON_NAME"));
}

Test(string_util, escape_for_log) {
        static const struct {
                const char *in;
                size_t len, max;
                const char *out;
        } cases[] = {
                { "plain", 5, 100, "plain" },
                { "", 0, 100, "" },
                { "tab\tnl\ncr\resc\x1b", 14, 100, "tab\\x09nl\\x0acr\\x0desc\\x1b" },
                { "del\x7f", 4, 100, "del\\x7f" },
                { "back\\slash", 10, 100, "back\\\\slash" },
                { "quote'\"", 7, 100, "quote'\"" },
                { "ünï", 5, 100, "ünï" },
                { "a\0b", 3, 100, "a\\x00b" },
                { "abcdef", 6, 3, "abc..." },
                { "abcdef", 6, 6, "abcdef" },
                { "abcdef", 6, 0, "..." },
                { "\x01\x02\x03", 3, 2, "\\x01\\x02..." },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = string_escape_for_log(cases[i].in, cases[i].len, cases[i].max);
                cr_expect_str_eq(e, cases[i].out, "case %zu", i);
        }
        /* The worst case fits: every byte escaped, cut, with "...". */
        char all[256];
        for (int i = 0; i < 256; i++)
                all[i] = (char) (i < 32 ? i : 1);
        _cleanup_free_ char *e = string_escape_for_log(all, sizeof(all), 200);
        cr_expect_eq(strlen(e), 200 * 4 + 3);
}

Test(string_util, hex) {
        for (int i = 0; i < 16; i++) {
                cr_expect_eq(unhexchar((char) hexchar(i)), i);
                cr_expect_eq(hexchar(i + 16), hexchar(i), "only the low nibble");
        }
        cr_expect_eq(unhexchar('A'), 10);
        cr_expect_eq(unhexchar('F'), 15);
        cr_expect_eq(unhexchar('g'), -EINVAL);
        cr_expect_eq(unhexchar(0), -EINVAL);
        cr_expect_eq(unhexchar('/'), -EINVAL);

        static const uint8_t bytes[] = { 0x00, 0x7f, 0x80, 0xff, 0x1a };
        _cleanup_free_ char *h = hexmem(bytes, sizeof(bytes));
        cr_expect_str_eq(h, "007f80ff1a");
        _cleanup_free_ char *empty = hexmem(bytes, 0);
        cr_expect_str_eq(empty, "");

        void *back = NULL;
        size_t n = 0;
        cr_expect_eq(unhexmem("007F80fF1a", 10, &back, &n), 0);
        cr_expect_eq(n, sizeof(bytes));
        cr_expect_eq(memcmp(back, bytes, n), 0);
        free(back);
        back = NULL;
        cr_expect_eq(unhexmem("", 0, &back, NULL), 0);
        free(back);
        back = (void *) 0x1;
        cr_expect_eq(unhexmem("abc", 3, &back, &n), -EINVAL);
        cr_expect_eq(unhexmem("zz", 2, &back, &n), -EINVAL);
        cr_expect_eq(unhexmem("0g", 2, &back, &n), -EINVAL);
        cr_expect_eq(back, (void *) 0x1, "ret untouched on failure");
}

Test(string_util, strdup_escape_dollar) {
        static const char *const cases[][2] = {
                { "", "" },
                { "start", "start" },
                { "$", "$$" },
                { "$HOME", "$$HOME" },
                { "${HOME}/x$$y", "$${HOME}/x$$$$y" },
                { "a$", "a$$" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = strdup_escape_dollar(cases[i][0]);
                cr_assert_not_null(e);
                cr_expect_str_eq(e, cases[i][1], "'%s'", cases[i][0]);
        }
}
