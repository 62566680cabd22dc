/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Upgrade names and their folders: percent-encoding of every byte outside [A-Za-z0-9._~-], the way back,
 * the limits, the lower-cased and cosmovisor spellings. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "string-util.h"
#include "upgrade-name.h"

static void expect_folder(const char *name, const char *folder) {
        _cleanup_free_ char *f = NULL, *back = NULL;
        cr_assert_eq(upgrade_name_to_folder(name, &f), 0, "'%s'", name);
        cr_expect_str_eq(f, folder);
        cr_assert_eq(upgrade_folder_to_name(f, &back), 0, "'%s'", f);
        cr_expect_str_eq(back, name);
}

Test(upgrade_name, encoding) {
        expect_folder("v2", "v2");
        expect_folder("v2.0.0-rc1_final~x", "v2.0.0-rc1_final~x");
        expect_folder("ABCxyz0189", "ABCxyz0189");
        expect_folder("v 2", "v%202");
        expect_folder("a/b", "a%2Fb");
        expect_folder("../../etc", "..%2F..%2Fetc");
        expect_folder("100%", "100%25");
        expect_folder("%41", "%2541");
        expect_folder("v1.0.0+build", "v1.0.0%2Bbuild");
        expect_folder("a\"b'c`d", "a%22b%27c%60d");
        expect_folder("é", "%C3%A9");
        expect_folder("🚀", "%F0%9F%9A%80");
        expect_folder("\x01\x1f\x7f\xff", "%01%1F%7F%FF");
        expect_folder("...", "...");
        expect_folder(".a", ".a");
        expect_folder("-", "-");
}

Test(upgrade_name, every_byte) {
        for (unsigned c = 1; c < 256; c++) {
                char name[2] = { (char) c, 0 }, want[4];
                bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '~' || c == '-';
                if (c == '.')
                        continue; /* "." alone is refused, see below */
                if (keep)
                        snprintf(want, sizeof(want), "%c", c);
                else
                        snprintf(want, sizeof(want), "%%%02X", c);
                expect_folder(name, want);
        }
}

Test(upgrade_name, refused_names) {
        char *f = (char *) "untouched";
        cr_expect_eq(upgrade_name_to_folder("", &f), -EINVAL);
        cr_expect_eq(upgrade_name_to_folder(NULL, &f), -EINVAL);
        cr_expect_eq(upgrade_name_to_folder(".", &f), -EINVAL);
        cr_expect_eq(upgrade_name_to_folder("..", &f), -EINVAL);
        cr_expect_str_eq(f, "untouched", "ret is written only on success");

        cr_expect_str_eq(upgrade_name_error(-EINVAL), "an upgrade name must not be empty, '.' or '..'");
        cr_expect_str_eq(upgrade_name_error(-ENAMETOOLONG), "the upgrade name is longer than 255 bytes once percent-encoded");
        cr_expect_str_eq(upgrade_name_error(-EIO), "the upgrade name cannot be used");
}

Test(upgrade_name, limits) {
        char name[300];
        _cleanup_free_ char *f = NULL;

        /* 255 plain bytes fit, 256 do not. */
        memset(name, 'a', 255);
        name[255] = 0;
        cr_expect_eq(upgrade_name_to_folder(name, &f), 0);
        cr_expect_eq(strlen(f), 255);
        f = mfree(f);
        name[255] = 'a';
        name[256] = 0;
        cr_expect_eq(upgrade_name_to_folder(name, &f), -ENAMETOOLONG);
        cr_expect_null(f);

        /* 85 encoded bytes are 255 bytes; 86 are 258. */
        memset(name, ' ', 85);
        name[85] = 0;
        cr_expect_eq(upgrade_name_to_folder(name, &f), 0);
        cr_expect_eq(strlen(f), 255);
        f = mfree(f);
        name[85] = ' ';
        name[86] = 0;
        cr_expect_eq(upgrade_name_to_folder(name, &f), -ENAMETOOLONG);

        /* 84 encoded (252) + 3 plain = 255; + 4 plain = 256. */
        memset(name, '/', 84);
        strcpy(name + 84, "abc");
        cr_expect_eq(upgrade_name_to_folder(name, &f), 0);
        cr_expect_eq(strlen(f), 255);
        f = mfree(f);
        strcpy(name + 84, "abcd");
        cr_expect_eq(upgrade_name_to_folder(name, &f), -ENAMETOOLONG);
}

Test(upgrade_name, random_round_trip) {
        unsigned seed = 20240601;
        for (unsigned iter = 0; iter < 20000; iter++) {
                char name[90];
                size_t n = 1 + (size_t) (rand_r(&seed) % 85);
                for (size_t i = 0; i < n; i++)
                        name[i] = (char) (1 + rand_r(&seed) % 255);
                name[n] = 0;
                if (streq(name, ".") || streq(name, ".."))
                        continue;
                _cleanup_free_ char *f = NULL, *back = NULL, *lower = NULL;
                cr_assert_eq(upgrade_name_to_folder(name, &f), 0);
                cr_assert_leq(strlen(f), 255);
                for (const char *p = f; *p; p++)
                        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-%", *p),
                                "unsafe byte %02x in folder '%s'", (unsigned char) *p, f);
                cr_assert_neq(f[0], 0);
                cr_assert(!streq(f, ".") && !streq(f, ".."));
                cr_assert_eq(upgrade_folder_to_name(f, &back), 0, "'%s'", f);
                cr_assert_str_eq(back, name);
                /* The lower-cased folder, when there is one, is a folder name too. */
                cr_assert_eq(upgrade_folder_lowercase(f, &lower), 0);
                if (lower) {
                        cr_assert_str_neq(lower, f);
                        cr_assert_eq(strlen(lower), strlen(f));
                }
        }
}

Test(upgrade_name, decoding) {
        static const struct {
                const char *folder, *name;
        } ok[] = {
                { "v2", "v2" },
                { "%c3%a9", "é" },          /* lower-case hex too */
                { "%41", "A" },             /* not what we write, but decodes */
                { "a b", "a b" },           /* raw bytes we would have escaped */
                { "v1.0.0+build", "v1.0.0+build" }, /* cosmovisor's spelling */
                { "%2E%2E%2E", "..." },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *n = NULL;
                cr_expect_eq(upgrade_folder_to_name(ok[i].folder, &n), 0, "%s", ok[i].folder);
                cr_expect_str_eq(n, ok[i].name);
        }
        static const char *const bad[] = { "", "%", "%2", "a%", "%zz", "%G0", "%0g", "%00", "a%00b", ".", "..", "%2E",
                                           "%2E%2e", ".%2E" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *n = NULL;
                cr_expect_eq(upgrade_folder_to_name(bad[i], &n), -EINVAL, "'%s'", bad[i]);
                cr_expect_null(n);
        }
}

Test(upgrade_name, lowercase) {
        static const struct {
                const char *folder, *lower; /* NULL: the same */
        } cases[] = {
                { "V2", "v2" },
                { "v2", NULL },
                { "v2.0.0-RC1", "v2.0.0-rc1" },
                { "A%2FB", "a%2Fb" },          /* escapes keep their hex */
                { "%C3%89", NULL },
                { "X%2", "x%2" },              /* an escape cut at the end */
                { "%", NULL },
                { "Ab%4", "ab%4" },
                { "", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *l = NULL;
                cr_expect_eq(upgrade_folder_lowercase(cases[i].folder, &l), 0);
                if (cases[i].lower)
                        cr_expect(l && streq(l, cases[i].lower), "'%s' -> '%s'", cases[i].folder, strna(l));
                else
                        cr_expect_null(l, "'%s' -> '%s'", cases[i].folder, strna(l));
        }
}

Test(upgrade_name, cosmovisor_folder) {
        static const struct {
                const char *name, *folder; /* NULL: the same as ours */
        } cases[] = {
                { "v2", NULL },
                { "V2", "v2" },                         /* cosmovisor lower-cases plan names */
                { "v1.0.0+build", "v1.0.0+build" },     /* url.PathEscape keeps '+' */
                { "a$b&c+d:e=f@g", "a$b&c+d:e=f@g" },
                { "a b", NULL },                        /* both write %20 */
                { "A B", "a%20b" },
                { "a/b;c,d?e", NULL },                  /* both escape these */
                { "É", NULL },                          /* XXX: Go would write %C3%A9 */
                { "Upgrade:V2", "upgrade:v2" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *f = NULL;
                cr_expect_eq(upgrade_name_to_cosmovisor_folder(cases[i].name, &f), 0, "%s", cases[i].name);
                if (cases[i].folder)
                        cr_expect(f && streq(f, cases[i].folder), "'%s' -> '%s'", cases[i].name, strna(f));
                else
                        cr_expect_null(f, "'%s' -> '%s'", cases[i].name, strna(f));
        }
        char *f = NULL;
        cr_expect_eq(upgrade_name_to_cosmovisor_folder("", &f), -EINVAL);
        cr_expect_eq(upgrade_name_to_cosmovisor_folder("..", &f), -EINVAL);
        char name[257];
        memset(name, '+', 256);
        name[256] = 0;
        /* Too long in our spelling is too long, whatever cosmovisor would write. */
        cr_expect_eq(upgrade_name_to_cosmovisor_folder(name, &f), -ENAMETOOLONG);
        cr_expect_null(f);
}

Test(upgrade_name, typed) {
        const char *reason = NULL;
        cr_expect_eq(upgrade_name_check_typed("v2.0.0", &reason), 0);
        cr_expect_eq(upgrade_name_check_typed("v1.0.0+build", &reason), 0);
        cr_expect_eq(upgrade_name_check_typed("v 2", &reason), 0);

        reason = NULL;
        cr_expect_eq(upgrade_name_check_typed("../evil", &reason), -EINVAL);
        cr_expect_str_eq(reason, "an upgrade name does not contain '/' (give the plan's name, such as v2.0.0, then the file)");
        cr_expect_eq(upgrade_name_check_typed("./oraid", &reason), -EINVAL);
        reason = NULL;
        cr_expect_eq(upgrade_name_check_typed("v2\n", &reason), -EINVAL);
        cr_expect_str_eq(reason, "an upgrade name does not contain control characters");
        cr_expect_eq(upgrade_name_check_typed("v2\x1b[31m", &reason), -EINVAL);
        reason = NULL;
        cr_expect_eq(upgrade_name_check_typed("", &reason), -EINVAL);
        cr_expect_str_eq(reason, "an upgrade name must not be empty, '.' or '..'");
        cr_expect_eq(upgrade_name_check_typed("..", &reason), -EINVAL);
        cr_expect_eq(upgrade_name_check_typed(".", &reason), -EINVAL);

        char long_name[200];
        memset(long_name, ' ', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = 0;
        reason = NULL;
        cr_expect_eq(upgrade_name_check_typed(long_name, &reason), -ENAMETOOLONG);
        cr_expect_str_eq(reason, "the upgrade name is longer than 255 bytes once percent-encoded");
}
