/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The heights of --unsafe-skip-upgrades found in the daemon's own arguments, in every spelling cobra and
 * cosmovisor accept, and the malformed ones. */

#include <criterion/criterion.h>

#include "args.h"
#include "strv.h"

static void expect_heights(char *const *argv, const int64_t *want, size_t n_want) {
        _cleanup_free_ int64_t *h = NULL;
        size_t n = 99;
        const char *bad = NULL;
        cr_assert_eq(args_skip_heights(argv, &h, &n, &bad), 0, "first argument '%s'", argv && argv[0] ? argv[0] : "");
        cr_expect_null(bad);
        cr_expect_eq(n, n_want, "%zu heights, expected %zu", n, n_want);
        for (size_t i = 0; i < MIN(n, n_want); i++)
                cr_expect_eq(h[i], want[i], "height %zu", i);
        if (n_want == 0)
                cr_expect_null(h);
}

#define HEIGHTS(...) ((const int64_t[]){ __VA_ARGS__ }), ELEMENTSOF(((const int64_t[]){ __VA_ARGS__ }))
#define NONE NULL, 0

static void expect_bad(char *const *argv, const char *bad_arg) {
        int64_t *h = (int64_t *) 0x1;
        size_t n = 99;
        const char *bad = NULL;
        cr_expect_eq(args_skip_heights(argv, &h, &n, &bad), -EINVAL);
        cr_expect(bad && streq(bad, bad_arg), "bad argument '%s', expected '%s'", strna(bad), bad_arg);
        cr_expect_eq(h, (int64_t *) 0x1, "ret untouched on failure");
        cr_expect_eq(n, 99);
}

Test(args, forms) {
        expect_heights(NULL, NONE);
        expect_heights(STRV_MAKE(NULL), NONE);
        expect_heights(STRV_MAKE("start", "--home", "/x"), NONE);
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades", "100"), HEIGHTS(100));
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades", "100", "200", "--home", "/x"), HEIGHTS(100, 200));
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades=100,200"), HEIGHTS(100, 200));
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades", "100,200", "300"), HEIGHTS(100, 200, 300));
        expect_heights(STRV_MAKE("start", "-unsafe-skip-upgrades", "7"), HEIGHTS(7));
        expect_heights(STRV_MAKE("start", "-unsafe-skip-upgrades=7,8"), HEIGHTS(7, 8));
        /* Repeated flags add up. */
        expect_heights(STRV_MAKE("--unsafe-skip-upgrades=1", "start", "--unsafe-skip-upgrades", "2", "--x"), HEIGHTS(1, 2));
        /* The flag with no value, at the end or before another flag, and the empty list. */
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades"), NONE);
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades", "--home", "/x"), NONE);
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades="), NONE);
        /* Only "=" values belong to the "=" form. */
        expect_heights(STRV_MAKE("start", "--unsafe-skip-upgrades=5", "6"), HEIGHTS(5));
        /* "--" ends the flags. */
        expect_heights(STRV_MAKE("start", "--", "--unsafe-skip-upgrades", "5"), NONE);
        /* Other flags that merely look alike. */
        expect_heights(STRV_MAKE("--unsafe-skip-upgrades-x", "5", "---unsafe-skip-upgrades", "6", "--UNSAFE-SKIP-UPGRADES", "7"),
                NONE);
        /* Leading zeros and the largest height. */
        expect_heights(STRV_MAKE("--unsafe-skip-upgrades", "007", "9223372036854775807"), HEIGHTS(7, INT64_MAX));
}

Test(args, malformed) {
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "abc"), "abc");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "100", "start"), "start");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "0"), "0");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "1,,2"), "1,,2");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "1,"), "1,");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", " 1"), " 1");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "9223372036854775808"), "9223372036854775808");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades", "99999999999999999999999999999999"),
                "99999999999999999999999999999999");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades=1,x"), "--unsafe-skip-upgrades=1,x");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades=,"), "--unsafe-skip-upgrades=,");
        expect_bad(STRV_MAKE("start", "--unsafe-skip-upgrades=-5"), "--unsafe-skip-upgrades=-5");
        expect_bad(STRV_MAKE("start", "-unsafe-skip-upgrades=1.5"), "-unsafe-skip-upgrades=1.5");
        /* The bad argument may be left NULL-safe. */
        _cleanup_free_ int64_t *h = NULL;
        size_t n;
        cr_expect_eq(args_skip_heights(STRV_MAKE("--unsafe-skip-upgrades", "x"), &h, &n, NULL), -EINVAL);
}

Test(args, contain) {
        static const int64_t h[] = { 5, 100, INT64_MAX };
        cr_expect(skip_heights_contain(h, 3, 100));
        cr_expect(skip_heights_contain(h, 3, INT64_MAX));
        cr_expect_not(skip_heights_contain(h, 3, 6));
        cr_expect_not(skip_heights_contain(h, 0, 5));
        cr_expect_not(skip_heights_contain(NULL, 0, 5));
}
