/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* When a known future plan's binary is checked again, and when a result is worth an event: every state of
 * a track against every trigger and every result. */

#include <criterion/criterion.h>

#include "ready-track.h"

static const BinaryId A = {.dev = 1, .ino = 10, .size = 100, .mode = 0100755, .mtime = 5, .ctime = 5};

/* A track in each state: never checked, ready, not ready (reason "r1"), absent; checked about A. */
static void make(ReadyTrack *t, ReadyState s, bool said_not_ready) {
        *t = (ReadyTrack){};
        ReadyEvent e;
        if (s == READY_YES || s == READY_NO)
                cr_assert_eq(ready_track_result(t, &A, s == READY_YES, "r1", &e), 0);
        if (s == READY_ABSENT)
                ready_track_absent(t);
        t->said_not_ready = said_not_ready;
        cr_assert_eq(t->state, s);
}

Test(ready_track, strings) {
        for (ReadyState s = 0; s < _READY_STATE_MAX; s++)
                cr_expect_eq(ready_state_from_string(ready_state_to_string(s)), s);
        cr_expect_eq(ready_state_from_string("ready"), READY_YES);
        cr_expect_eq(ready_state_from_string("not_ready"), READY_NO);
        cr_expect_eq(ready_state_from_string("nope"), _READY_STATE_INVALID);
        cr_expect_eq(ready_state_from_string(NULL), _READY_STATE_INVALID);
        cr_expect_null(ready_state_to_string(_READY_STATE_MAX));
}

Test(ready_track, identity) {
        BinaryId b = A;
        cr_expect(binary_id_equal(&A, &b));
        b.mtime++; /* the binary rewritten in place */
        cr_expect_not(binary_id_equal(&A, &b));
        b = A, b.ino++; /* replaced by a rename */
        cr_expect_not(binary_id_equal(&A, &b));
        b = A, b.mode &= ~0111; /* chmod -x: ctime and mode */
        cr_expect_not(binary_id_equal(&A, &b));
        b = A, b.size--;
        cr_expect_not(binary_id_equal(&A, &b));
        b = A, b.lib_mtime = 7; /* a library added to or removed from lib/ */
        cr_expect_not(binary_id_equal(&A, &b));
        b = A, b.lib_ino = 3;
        cr_expect_not(binary_id_equal(&A, &b));
}

/* Every state x trigger x what the binary is now. */
Test(ready_track, want_every_state_and_trigger) {
        BinaryId other = A;
        other.mtime = 99;
        static const ReadyState states[] = {READY_UNKNOWN, READY_YES, READY_NO, READY_ABSENT};
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                for (ReadyTrigger g = 0; g < _READY_TRIGGER_MAX; g++)
                        for (int near_done = 0; near_done < 2; near_done++) {
                                ReadyTrack t;
                                make(&t, states[i], false);
                                t.near_checked = near_done;
                                bool checked = states[i] == READY_YES || states[i] == READY_NO;
                                bool near_due = g == READY_TRIGGER_NEAR && !near_done;
                                /* gone */
                                cr_expect_eq(ready_track_want(&t, g, NULL),
                                        states[i] == READY_ABSENT ? READY_ACTION_NONE : READY_ACTION_ABSENT,
                                        "state %d trigger %d near %d", states[i], g, near_done);
                                /* the same binary as checked: only the near check */
                                cr_expect_eq(ready_track_want(&t, g, &A),
                                        !checked || near_due ? READY_ACTION_CHECK : READY_ACTION_NONE,
                                        "state %d trigger %d near %d", states[i], g, near_done);
                                /* another binary: always */
                                cr_expect_eq(ready_track_want(&t, g, &other), READY_ACTION_CHECK);
                                ready_track_done(&t);
                        }
}

Test(ready_track, near_check_runs_once) {
        ReadyTrack t;
        make(&t, READY_YES, false);
        cr_expect_eq(ready_track_want(&t, READY_TRIGGER_NEAR, &A), READY_ACTION_CHECK);
        ready_track_check_started(&t, READY_TRIGGER_NEAR);
        cr_expect_eq(ready_track_want(&t, READY_TRIGGER_NEAR, &A), READY_ACTION_NONE);
        ready_track_check_started(&t, READY_TRIGGER_LOOK);
        cr_expect(t.near_checked);
        /* a look never counts as the near check */
        ReadyTrack u;
        make(&u, READY_YES, false);
        ready_track_check_started(&u, READY_TRIGGER_LOOK);
        cr_expect_eq(ready_track_want(&u, READY_TRIGGER_NEAR, &A), READY_ACTION_CHECK);
        ready_track_done(&t);
        ready_track_done(&u);
}

/* Every state (with and without a "not ready" said) x every result: the event due and the new state. */
Test(ready_track, result_every_state) {
        static const struct {
                ReadyState from;
                bool said;
                int result; /* 1 ready, 0 not ready "r1", -1 not ready "r2" */
                ReadyEvent event;
        } cases[] = {
                {READY_UNKNOWN, false, 1, READY_EVENT_NONE}, /* ready when first seen: no news */
                {READY_UNKNOWN, false, 0, READY_EVENT_NOT_READY},
                {READY_UNKNOWN, true, 1, READY_EVENT_READY_AGAIN}, /* cannot happen in practice, but sound */
                {READY_UNKNOWN, true, 0, READY_EVENT_NOT_READY}, {READY_YES, false, 1, READY_EVENT_NONE},
                {READY_YES, false, 0, READY_EVENT_NOT_READY}, {READY_YES, false, -1, READY_EVENT_NOT_READY},
                {READY_NO, true, 1, READY_EVENT_READY_AGAIN},
                {READY_NO, true, 0, READY_EVENT_NONE}, /* the same reason again: said already */
                {READY_NO, true, -1, READY_EVENT_NOT_READY}, /* another reason: news */
                {READY_ABSENT, false, 1, READY_EVENT_NONE}, {READY_ABSENT, false, 0, READY_EVENT_NOT_READY},
                {READY_ABSENT, true, 1,
                        READY_EVENT_READY_AGAIN}, /* not ready, removed, a good one installed */
                {READY_ABSENT, true, 0, READY_EVENT_NOT_READY}, /* a new binary, still not ready: said */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ReadyTrack t;
                make(&t, cases[i].from, cases[i].said);
                ReadyEvent e = _READY_EVENT_INVALID;
                const char *why = cases[i].result == 0 ? "r1" : "r2";
                cr_assert_eq(ready_track_result(&t, &A, cases[i].result > 0, why, &e), 0);
                cr_expect_eq(e, cases[i].event, "case %zu: event %d", i, e);
                cr_expect_eq(t.state, cases[i].result > 0 ? READY_YES : READY_NO, "case %zu", i);
                if (cases[i].result > 0)
                        cr_expect_null(t.reason);
                else
                        cr_expect_str_eq(t.reason, why);
                cr_expect(t.have_checked);
                cr_expect(binary_id_equal(&t.checked, &A));
                /* said_not_ready follows the events */
                bool said = e == READY_EVENT_NOT_READY ? true
                        : e == READY_EVENT_READY_AGAIN ? false
                                                       : cases[i].said;
                cr_expect_eq(t.said_not_ready, said, "case %zu", i);
                ready_track_done(&t);
        }
}

Test(ready_track, a_round_trip) {
        /* not ready, the same again, fixed, broken again, removed, a good one: one event each change */
        ReadyTrack t = {};
        ReadyEvent e;
        cr_assert_eq(ready_track_result(&t, &A, false, "needs libfoo.so.1", &e), 0);
        cr_expect_eq(e, READY_EVENT_NOT_READY);
        cr_assert_eq(ready_track_result(&t, &A, false, "needs libfoo.so.1", &e), 0);
        cr_expect_eq(e, READY_EVENT_NONE);
        cr_assert_eq(ready_track_result(&t, &A, true, NULL, &e), 0);
        cr_expect_eq(e, READY_EVENT_READY_AGAIN);
        cr_assert_eq(ready_track_result(&t, &A, true, NULL, &e), 0);
        cr_expect_eq(e, READY_EVENT_NONE);
        cr_assert_eq(ready_track_result(&t, &A, false, NULL, &e), 0);
        cr_expect_eq(e, READY_EVENT_NOT_READY);
        cr_expect_str_eq(t.reason, "fails the readiness check");
        ready_track_absent(&t);
        cr_expect_eq(t.state, READY_ABSENT);
        cr_expect_null(t.reason);
        cr_expect_not(t.have_checked);
        cr_expect_eq(ready_track_want(&t, READY_TRIGGER_LOOK, &A), READY_ACTION_CHECK);
        cr_assert_eq(ready_track_result(&t, &A, true, NULL, &e), 0);
        cr_expect_eq(e, READY_EVENT_READY_AGAIN);
        ready_track_done(&t);
}
