/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The Outcome type: a failure's errno and message, the first one recorded winning. */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"

Test(outcome, starts_as_success) {
        Outcome o = OUTCOME_NULL;
        cr_assert_eq(o.error, 0);
        cr_assert_null(o.message);
        cr_assert_not(outcome_failed(&o));
        cr_assert_str_eq(outcome_message(&o, "fallback"), "fallback");
        outcome_done(&o);
}

Test(outcome, failf_formats_and_returns_the_error) {
        _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
        cr_assert_eq(outcome_failf(&o, -ENOENT, "no file '%s' (%d)", "bin/oraid", 7), -ENOENT);
        cr_assert(outcome_failed(&o));
        cr_assert_eq(o.error, -ENOENT);
        cr_assert_str_eq(o.message, "no file 'bin/oraid' (7)");
        cr_assert_str_eq(outcome_message(&o, "fallback"), "no file 'bin/oraid' (7)");
}

Test(outcome, percent_m_names_the_error) {
        _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
        errno = EPERM; /* whatever errno was, %m is the failure's */
        (void) outcome_failf(&o, -ENOSPC, "Failed to write '%s': %m.", "x");
        cr_assert_str_eq(o.message, "Failed to write 'x': No space left on device.");
}

Test(outcome, the_first_failure_wins) {
        _cleanup_(outcome_done) Outcome o = OUTCOME_NULL;
        (void) outcome_failf(&o, -EIO, "first");
        /* A later failure is returned to its caller but does not replace the root cause. */
        cr_assert_eq(outcome_failf(&o, -ECANCELED, "second"), -ECANCELED);
        cr_assert_eq(o.error, -EIO);
        cr_assert_str_eq(o.message, "first");
}

Test(outcome, take_hands_over_and_resets) {
        Outcome o = OUTCOME_NULL;
        (void) outcome_failf(&o, -EBADMSG, "bad %s", "archive");
        char *m = NULL;
        cr_assert_eq(outcome_take(&o, &m), -EBADMSG);
        cr_assert_str_eq(m, "bad archive");
        free(m);
        cr_assert_eq(o.error, 0);
        cr_assert_null(o.message);

        /* Without a place for the message, it is freed. */
        (void) outcome_failf(&o, -EIO, "gone");
        cr_assert_eq(outcome_take(&o, NULL), -EIO);
        cr_assert_null(o.message);

        /* Success: 0 and no message. */
        m = (char *) "untouched";
        cr_assert_eq(outcome_take(&o, &m), 0);
        cr_assert_null(m);
}

Test(outcome, done_resets_for_reuse) {
        Outcome o = OUTCOME_NULL;
        (void) outcome_failf(&o, -EIO, "once");
        outcome_done(&o);
        cr_assert_eq(o.error, 0);
        cr_assert_null(o.message);
        (void) outcome_failf(&o, -EPERM, "twice");
        cr_assert_eq(o.error, -EPERM);
        cr_assert_str_eq(o.message, "twice");
        outcome_done(&o);
}
