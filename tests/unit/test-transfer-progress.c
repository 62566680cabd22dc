/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "transfer-progress.h"

#define S(x) ((usec_t) (x) *USEC_PER_SEC)
#define MS(x) ((usec_t) (x) *USEC_PER_MSEC)
#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)

Test(transfer_progress, rate_eta_and_line) {
        TransferProgress p = {};
        char buf[128], eta[32];

        /* The first sample knows no rate yet: size only. */
        cr_assert_not(transfer_progress_update(&p, S(100), 0, 10 * MiB, false));
        cr_assert_str_eq(transfer_progress_format(&p, buf, sizeof(buf)), "0 B/10.0 MiB");
        cr_assert_null(transfer_progress_format_eta(&p, eta, sizeof(eta)));
        cr_assert_eq(transfer_progress_percent(&p), 0);

        /* A sample too close to the last one leaves the rate alone. */
        transfer_progress_update(&p, S(100) + MS(100), 512 * KiB, 10 * MiB, false);
        cr_assert(p.rate == 0);

        /* 1 MiB in 1 s: 1 MiB/s, 9 MiB left: 9 s. */
        transfer_progress_update(&p, S(101), 1 * MiB, 10 * MiB, false);
        cr_assert_str_eq(
                transfer_progress_format(&p, buf, sizeof(buf)), "1.0 MiB/10.0 MiB  1.0 MiB/s  ETA 0:09");
        cr_assert_eq(transfer_progress_percent(&p), 10);

        /* Smoothed: 3 MiB/s for a second moves it 30 % of the way. */
        transfer_progress_update(&p, S(102), 4 * MiB, 10 * MiB, false);
        cr_assert_float_eq(p.rate, 1.6 * MiB, 1);
        cr_assert_str_eq(transfer_progress_format_eta(&p, eta, sizeof(eta)), "0:04");

        /* Done: the whole average (10 MiB in 4 s), no ETA. */
        transfer_progress_update(&p, S(104), 10 * MiB, 10 * MiB, true);
        cr_assert_float_eq(p.rate, 2.5 * MiB, 1);
        cr_assert_str_eq(transfer_progress_format(&p, buf, sizeof(buf)), "10.0 MiB/10.0 MiB  2.5 MiB/s");
        cr_assert_eq(transfer_progress_percent(&p), 100);
}

Test(transfer_progress, unknown_size) {
        TransferProgress p = {};
        char buf[128], eta[32];
        transfer_progress_update(&p, S(1), 0, 0, false);
        transfer_progress_update(&p, S(3), 300 * KiB, 0, false);
        cr_assert_str_eq(transfer_progress_format(&p, buf, sizeof(buf)), "300.0 KiB  150.0 KiB/s");
        cr_assert_eq(transfer_progress_percent(&p), -1);
        cr_assert_null(transfer_progress_format_eta(&p, eta, sizeof(eta)));
        cr_assert_str_eq(transfer_progress_format_bar(&p, 4, buf, sizeof(buf)), "....");
}

Test(transfer_progress, restart_forgets_the_rate) {
        TransferProgress p = {};
        transfer_progress_update(&p, S(1), 0, 1 * MiB, false);
        transfer_progress_update(&p, S(2), 512 * KiB, 1 * MiB, false);
        cr_assert(p.rate > 0);
        /* The server cut the transfer and it started again from byte 0. */
        cr_assert(transfer_progress_update(&p, S(3), 10 * KiB, 1 * MiB, false));
        cr_assert(p.rate == 0);
        cr_assert_eq(p.first_time, S(3));
        transfer_progress_update(&p, S(4), 110 * KiB, 1 * MiB, false);
        cr_assert_float_eq(p.rate, 100.0 * KiB, 1);
}

Test(transfer_progress, eta_forms) {
        char eta[32];
        TransferProgress p = {.received = 0, .total = 7322, .rate = 1};
        cr_assert_str_eq(transfer_progress_format_eta(&p, eta, sizeof(eta)), "2:02:02");
        p.total = 100 * 3600;
        cr_assert_str_eq(transfer_progress_format_eta(&p, eta, sizeof(eta)), ">99h");
        p.total = 59;
        cr_assert_str_eq(transfer_progress_format_eta(&p, eta, sizeof(eta)), "0:59");
}

Test(transfer_progress, bar) {
        char buf[16];
        TransferProgress p = {.received = 5, .total = 10};
        cr_assert_str_eq(transfer_progress_format_bar(&p, 10, buf, sizeof(buf)), "#####.....");
        p.received = 20; /* more than announced: full, never past it */
        cr_assert_str_eq(transfer_progress_format_bar(&p, 10, buf, sizeof(buf)), "##########");
        cr_assert_eq(transfer_progress_percent(&p), 100);
        p.received = 0;
        cr_assert_str_eq(transfer_progress_format_bar(&p, 0, buf, sizeof(buf)), "");
}

Test(transfer_progress, short_buffer) {
        char buf[8];
        TransferProgress p = {.received = 10 * MiB, .total = 20 * MiB, .rate = MiB};
        transfer_progress_format(&p, buf, sizeof(buf));
        cr_assert_eq(strlen(buf), sizeof(buf) - 1);
}
