/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The strict value parsers: booleans, integers, durations and sizes, their edge cases and overflows. */

#include <criterion/criterion.h>
#include <inttypes.h>

#include "parse-util.h"

Test(parse_util, boolean) {
        static const char *const yes[] = { "1", "true", "TRUE", "True", "yes", "YES", "on", "ON", "y", "Y", "t", "T" };
        static const char *const no[] = { "0", "false", "FALSE", "no", "No", "off", "OFF", "n", "N", "f", "F" };
        static const char *const bad[] = { "", " ", "2", "-1", "01", "truee", "yess", " true", "true ", "o", "nope", "ja" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                cr_expect_eq(parse_boolean(yes[i]), 1, "'%s'", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                cr_expect_eq(parse_boolean(no[i]), 0, "'%s'", no[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_expect_eq(parse_boolean(bad[i]), -EINVAL, "'%s'", bad[i]);
}

Test(parse_util, uint64) {
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } cases[] = {
                { "0", 0, 0 },
                { "7", 0, 7 },
                { "007", 0, 7 },
                { "4294967296", 0, UINT64_C(4294967296) },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "99999999999999999999", -ERANGE, 0 },
                { "184467440737095516150", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
                { "1 ", -EINVAL, 0 },
                { "1a", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
                { "1e3", -EINVAL, 0 },
                { "1.0", -EINVAL, 0 },
                { "١", -EINVAL, 0 }, /* a non-ASCII digit */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                cr_expect_eq(parse_uint64(cases[i].s, &v), cases[i].r, "'%s'", cases[i].s);
                cr_expect_eq(v, cases[i].r == 0 ? cases[i].v : 12345, "'%s': ret written only on success", cases[i].s);
        }
}

Test(parse_util, int64_and_unsigned) {
        static const struct {
                const char *s;
                int r;
                int64_t v;
        } cases[] = {
                { "0", 0, 0 },
                { "-0", 0, 0 },
                { "42", 0, 42 },
                { "-42", 0, -42 },
                { "9223372036854775807", 0, INT64_MAX },
                { "-9223372036854775808", 0, INT64_MIN },
                { "9223372036854775808", -ERANGE, 0 },
                { "-9223372036854775809", -ERANGE, 0 },
                { "-18446744073709551615", -ERANGE, 0 },
                { "-", -EINVAL, 0 },
                { "--1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "- 1", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t v = 12345;
                cr_expect_eq(parse_int64(cases[i].s, &v), cases[i].r, "'%s'", cases[i].s);
                cr_expect_eq(v, cases[i].r == 0 ? cases[i].v : 12345, "'%s'", cases[i].s);
        }

        unsigned u = 7;
        cr_expect_eq(parse_unsigned("4294967295", &u), 0);
        cr_expect_eq(u, UINT32_MAX);
        cr_expect_eq(parse_unsigned("4294967296", &u), -ERANGE);
        cr_expect_eq(parse_unsigned("18446744073709551616", &u), -ERANGE);
        cr_expect_eq(parse_unsigned("-1", &u), -EINVAL);
        cr_expect_eq(parse_unsigned("", &u), -EINVAL);
        cr_expect_eq(u, UINT32_MAX);
}

Test(parse_util, duration) {
        static const struct {
                const char *s;
                int r;
                usec_t v;
        } cases[] = {
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "30s", 0, 30 * USEC_PER_SEC },
                { "2m", 0, 2 * USEC_PER_MINUTE },
                { "2min", 0, 2 * USEC_PER_MINUTE },
                { "2minute", 0, 2 * USEC_PER_MINUTE },
                { "2minutes", 0, 2 * USEC_PER_MINUTE },
                { "1h", 0, USEC_PER_HOUR },
                { "1hour", 0, USEC_PER_HOUR },
                { "3hours", 0, 3 * USEC_PER_HOUR },
                { "45", 0, 45 * USEC_PER_SEC },
                { "0", 0, 0 },
                { "1.5", 0, 1500 * USEC_PER_MSEC },
                { "1.5s", 0, 1500 * USEC_PER_MSEC },
                { "0.25h", 0, 15 * USEC_PER_MINUTE },
                { "1.000001s", 0, USEC_PER_SEC + 1 },
                { "1.0000019s", 0, USEC_PER_SEC + 1 },        /* below a microsecond is dropped */
                { "0.123456789123ms", 0, 123 },                /* only 9 fraction digits count */
                { "250us", 0, 250 },
                { "250usec", 0, 250 },
                { "2msec", 0, 2000 },
                { "5sec", 0, 5 * USEC_PER_SEC },
                { "5second", 0, 5 * USEC_PER_SEC },
                { "5seconds", 0, 5 * USEC_PER_SEC },
                { "1m30s", 0, 90 * USEC_PER_SEC },
                { "1h 2m 3s 4ms 5us", 0, USEC_PER_HOUR + 2 * USEC_PER_MINUTE + 3 * USEC_PER_SEC + 4000 + 5 },
                { " 30s ", 0, 30 * USEC_PER_SEC },
                { "30 s", 0, 30 * USEC_PER_SEC },
                { "1s1s", 0, 2 * USEC_PER_SEC },
                { "18446744073709551614us", 0, UINT64_MAX - 1 },
                { "18446744073709551615us", -ERANGE, 0 },     /* that is USEC_INFINITY */
                { "18446744073709551616us", -ERANGE, 0 },
                { "5124095576h", 0, UINT64_C(18446744073600000000) },
                { "5124095577h", -ERANGE, 0 },
                { "5124095576h 2m", -ERANGE, 0 },      /* each term fits, the sum does not */
                { "18446744073709s", 0, UINT64_C(18446744073709000000) },
                { "18446744073710s", -ERANGE, 0 },
                { "18446744073709.551615s", -ERANGE, 0 }, /* the fraction reaches USEC_INFINITY */
                { "", -EINVAL, 0 },
                { " ", -EINVAL, 0 },
                { "s", -EINVAL, 0 },
                { "-1s", -EINVAL, 0 },
                { "+1s", -EINVAL, 0 },
                { "1.s", -EINVAL, 0 },
                { ".5s", -EINVAL, 0 },
                { "1x", -EINVAL, 0 },
                { "1S", -EINVAL, 0 },
                { "1H", -EINVAL, 0 },
                { "1 hr", -EINVAL, 0 },
                { "1mins", -EINVAL, 0 },
                { "1m30", -EINVAL, 0 },   /* a bare number only alone */
                { "30 60", -EINVAL, 0 },
                { "1e3", -EINVAL, 0 },
                { "1,5s", -EINVAL, 0 },
                { "1d", -EINVAL, 0 },
                { "30 seconds please", -EINVAL, 0 },
                { "inf", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t v = 12345;
                cr_expect_eq(parse_duration(cases[i].s, &v), cases[i].r, "'%s'", cases[i].s);
                cr_expect_eq(v, cases[i].r == 0 ? cases[i].v : 12345, "'%s': %" PRIu64, cases[i].s, v);
        }
}

Test(parse_util, size) {
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } cases[] = {
                { "0", 0, 0 },
                { "4096", 0, 4096 },
                { "512K", 0, UINT64_C(512) << 10 },
                { "16M", 0, UINT64_C(16) << 20 },
                { "4G", 0, UINT64_C(4) << 30 },
                { "1T", 0, UINT64_C(1) << 40 },
                { "1KiB", 0, 1024 },
                { "1MiB", 0, 1 << 20 },
                { "2GiB", 0, UINT64_C(2) << 30 },
                { "3TiB", 0, UINT64_C(3) << 40 },
                { "1KB", 0, 1024 },
                { "1GB", 0, UINT64_C(1) << 30 },
                { "100B", 0, 100 },
                { "1.5K", 0, 1536 },
                { "0.5G", 0, UINT64_C(1) << 29 },
                { "1G512M", 0, (UINT64_C(3) << 29) },
                { "16 G", 0, UINT64_C(16) << 30 },
                { "16777215T", 0, UINT64_C(16777215) << 40 },
                { "16777216T", -ERANGE, 0 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "18446744073709551615B1B", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "G", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "4g", -EINVAL, 0 },
                { "4k", -EINVAL, 0 },
                { "4Gb", -EINVAL, 0 },
                { "4 GB extra", -EINVAL, 0 },
                { "1.5.5G", -EINVAL, 0 },
                { "1e9", -EINVAL, 0 },
                { "4P", -EINVAL, 0 },
                { "infinity", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                cr_expect_eq(parse_size(cases[i].s, &v), cases[i].r, "'%s'", cases[i].s);
                cr_expect_eq(v, cases[i].r == 0 ? cases[i].v : 12345, "'%s': %" PRIu64, cases[i].s, v);
        }
}
