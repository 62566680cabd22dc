/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The chain's pace, the estimate of a height's time, the warnings due, the poll delay. */

#include <criterion/criterion.h>

#include "chain-schedule.h"

#define S USEC_PER_SEC

Test(pace, average_over_samples) {
        BlockPace p = {};
        usec_t bt;
        cr_expect_eq(block_pace_block_time(&p, &bt), -ENODATA);
        block_pace_add(&p, 100, 1000 * S);
        cr_expect_eq(block_pace_block_time(&p, &bt), -ENODATA);
        block_pace_add(&p, 100, 1000 * S); /* the same height again */
        cr_expect_eq(p.n, 1);
        block_pace_add(&p, 110, 1050 * S);
        cr_assert_eq(block_pace_block_time(&p, &bt), 0);
        cr_expect_eq(bt, 5 * S);
        block_pace_add(&p, 105, 1020 * S); /* out of order: kept sorted */
        cr_expect_eq(p.samples[1].height, 105);
        cr_expect_eq(block_pace_block_time(&p, &bt), 0);
        cr_expect_eq(bt, 5 * S);
        /* only the newest BLOCK_PACE_MAX stay: the pace follows the chain's recent blocks */
        for (int64_t h = 200; h < 200 + 2 * BLOCK_PACE_MAX; h++)
                block_pace_add(&p, h, 2000 * S + (usec_t) (h - 200) * 2 * S);
        cr_expect_eq(p.n, BLOCK_PACE_MAX);
        cr_assert_eq(block_pace_block_time(&p, &bt), 0);
        cr_expect_eq(bt, 2 * S);
        /* a clock going backwards gives no estimate */
        BlockPace q = {};
        block_pace_add(&q, 1, 10 * S);
        block_pace_add(&q, 2, 5 * S);
        cr_expect_eq(block_pace_block_time(&q, &bt), -ENODATA);
}

Test(estimate, at_and_left) {
        cr_expect_eq(chain_estimate_left(1100, 1000, 5 * S), 500 * S);
        cr_expect_eq(chain_estimate_at(1100, 1000, 7 * S, 5 * S), 507 * S);
        cr_expect_eq(chain_estimate_left(900, 1000, 5 * S), 0);
        cr_expect_eq(chain_estimate_left(INT64_MAX, 0, USEC_INFINITY / 2), USEC_INFINITY - 1);
}

Test(warnings, schedule) {
        ChainWarning w;
        unsigned g;
        /* first seen three days ahead: at once, then a day, an hour, ten minutes before */
        cr_assert_eq(chain_warning_due(0, 72 * USEC_PER_HOUR, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_AT_ONCE);
        cr_expect_eq(chain_warning_due(g, 30 * USEC_PER_HOUR, &w, &g), -ENODATA);
        cr_assert_eq(chain_warning_due(g, 24 * USEC_PER_HOUR, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_DAY);
        cr_expect_eq(chain_warning_due(g, 2 * USEC_PER_HOUR, &w, &g), -ENODATA);
        cr_assert_eq(chain_warning_due(g, 59 * USEC_PER_MINUTE, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_HOUR);
        cr_assert_eq(chain_warning_due(g, 9 * USEC_PER_MINUTE, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_10MIN);
        cr_expect_eq(chain_warning_due(g, 0, &w, &g), -ENODATA);
        /* first seen 30 minutes ahead: one warning, not three */
        cr_assert_eq(chain_warning_due(0, 30 * USEC_PER_MINUTE, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_HOUR);
        cr_expect_eq(g, 0x7u);
        /* unknown estimate: only the first */
        cr_assert_eq(chain_warning_due(0, USEC_INFINITY, &w, &g), 0);
        cr_expect_eq(w, CHAIN_WARNING_AT_ONCE);
        cr_expect_eq(chain_warning_due(g, USEC_INFINITY, &w, &g), -ENODATA);
        cr_expect_str_eq(chain_warning_to_string(CHAIN_WARNING_10MIN), "10min");
        cr_expect_eq(chain_warning_from_string("hour"), CHAIN_WARNING_HOUR);
        cr_expect_eq(chain_warning_from_string("week"), _CHAIN_WARNING_INVALID);
}

Test(poll, faster_near_the_height) {
        cr_expect_eq(chain_poll_delay(60 * S, USEC_INFINITY, 5 * S), 60 * S);
        cr_expect_eq(chain_poll_delay(60 * S, 72 * USEC_PER_HOUR, 5 * S), 60 * S);
        cr_expect_eq(chain_poll_delay(60 * S, 10 * USEC_PER_MINUTE, 5 * S), 30 * S);
        cr_expect_eq(chain_poll_delay(60 * S, 20 * S, 5 * S), 5 * S);
        cr_expect_eq(chain_poll_delay(60 * S, 0, 0), S);
}

Test(format, approx) {
        char b[FORMAT_APPROX_MAX];
        cr_expect_str_eq(format_approx(b, sizeof(b), 3 * USEC_PER_HOUR + 10 * USEC_PER_MINUTE + 5 * S), "3h10m");
        cr_expect_str_eq(format_approx(b, sizeof(b), 50 * USEC_PER_HOUR), "2d2h");
        cr_expect_str_eq(format_approx(b, sizeof(b), 45 * S), "45s");
        cr_expect_str_eq(format_approx(b, sizeof(b), 5 * USEC_PER_MINUTE + 3 * S), "5m");
        cr_expect_str_eq(format_approx(b, sizeof(b), 0), "0s");
        cr_expect_str_eq(format_approx(b, sizeof(b), USEC_INFINITY), "unknown");
}
