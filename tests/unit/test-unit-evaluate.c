/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit launcher's decision over every phase x start pending x stop requested x every combination of
 * the unit's facts (2^9), against its rules, then the cases the launcher meets. */

#include <criterion/criterion.h>

#include "unit-evaluate.h"

static UnitFacts facts_of(unsigned bits) {
        return (UnitFacts) {
                .gone = bits & 1, .ended = bits & 2, .running = bits & 4, .job_pending = bits & 8, .has_pid = bits & 16,
                .ran = bits & 32, .exec_failed = bits & 64, .invocation_valid = bits & 128, .other_invocation = bits & 256,
        };
}

Test(unit_evaluate, every_case) {
        unsigned n = 0;
        for (UnitPhase ph = 0; ph < _UNIT_PHASE_MAX; ph++)
                for (int pending = 0; pending <= 1; pending++)
                        for (int stop = 0; stop <= 1; stop++)
                                for (unsigned bits = 0; bits < 512; bits++) {
        UnitFacts f = facts_of(bits);
        UnitAction a = unit_evaluate(ph, pending, stop, &f);
        n++;
        cr_assert(a >= 0 && a < _UNIT_ACTION_MAX);
        if (ph == UNIT_PHASE_IDLE || ph == UNIT_PHASE_DRAINING)
                cr_assert_eq(a, UNIT_ACTION_NONE, "phase %d: nothing of ours to decide about", ph);
        if (ph == UNIT_PHASE_STARTING) {
                cr_assert(a == UNIT_ACTION_NONE || a == UNIT_ACTION_STARTED || a == UNIT_ACTION_STARTED_AND_ENDED ||
                          a == UNIT_ACTION_EXEC_FAILED || a == UNIT_ACTION_START_FAILED || a == UNIT_ACTION_STOPPED_UNSTARTED);
                if (pending)
                        cr_assert_eq(a, UNIT_ACTION_NONE, "bits %u: a state before the start's reply is not ours", bits);
                if (a == UNIT_ACTION_STARTED)
                        cr_assert(!f.ended && f.running && f.has_pid && f.invocation_valid);
                if (!pending && !f.ended)
                        cr_assert(a == UNIT_ACTION_STARTED || a == UNIT_ACTION_NONE, "bits %u: not ended, no verdict", bits);
                if (a == UNIT_ACTION_STARTED_AND_ENDED)
                        cr_assert(f.ended && !f.gone && f.ran && f.invocation_valid && !f.exec_failed);
                if (a == UNIT_ACTION_STOPPED_UNSTARTED)
                        cr_assert(stop);
                if (!pending && f.ended && f.exec_failed)
                        cr_assert_eq(a, UNIT_ACTION_EXEC_FAILED, "bits %u: systemd's own status says why", bits);
                if (!pending && f.ended && !f.exec_failed && !(f.ran && f.invocation_valid && !f.gone))
                        cr_assert_eq(a, stop ? UNIT_ACTION_STOPPED_UNSTARTED : UNIT_ACTION_START_FAILED, "bits %u", bits);
        }
        if (ph == UNIT_PHASE_RUNNING || ph == UNIT_PHASE_STOPPING) {
                cr_assert(a == UNIT_ACTION_NONE || a == UNIT_ACTION_RESTARTED || a == UNIT_ACTION_ENDED ||
                          a == UNIT_ACTION_MAIN_PID);
                if (a == UNIT_ACTION_ENDED)
                        cr_assert(f.ended && (!f.job_pending || stop), "bits %u: a restart in progress is no end", bits);
                if (f.ended && (!f.job_pending || stop))
                        cr_assert_eq(a, UNIT_ACTION_ENDED, "bits %u", bits);
                if (!f.ended && f.other_invocation)
                        cr_assert_eq(a, UNIT_ACTION_RESTARTED, "bits %u", bits);
                if (f.ended)
                        cr_assert_neq(a, UNIT_ACTION_RESTARTED, "bits %u: an ended unit is no new run", bits);
        }
                                }
        cr_assert_eq(n, _UNIT_PHASE_MAX * 2 * 2 * 512);
}

Test(unit_evaluate, cases) {
        UnitFacts activating = { .running = true, .invocation_valid = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, false, &activating), UNIT_ACTION_NONE);
        UnitFacts active = { .running = true, .has_pid = true, .ran = true, .invocation_valid = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, false, &active), UNIT_ACTION_STARTED);
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, true, false, &active), UNIT_ACTION_NONE);
        /* The previous run's "inactive" read before this start's reply (the stale GetAll of 00de8cd). */
        UnitFacts old_inactive = { .ended = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, true, false, &old_inactive), UNIT_ACTION_NONE);
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, false, &old_inactive), UNIT_ACTION_START_FAILED);
        UnitFacts exec203 = { .ended = true, .exec_failed = true, .ran = true, .has_pid = true, .invocation_valid = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, false, &exec203), UNIT_ACTION_EXEC_FAILED);
        UnitFacts quick = { .ended = true, .ran = true, .has_pid = true, .invocation_valid = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, false, &quick), UNIT_ACTION_STARTED_AND_ENDED);
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STARTING, false, true, &old_inactive), UNIT_ACTION_STOPPED_UNSTARTED);
        UnitFacts restarted = { .running = true, .has_pid = true, .invocation_valid = true, .other_invocation = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_RUNNING, false, false, &restarted), UNIT_ACTION_RESTARTED);
        UnitFacts restarting = { .ended = true, .job_pending = true };
        cr_assert_eq(unit_evaluate(UNIT_PHASE_RUNNING, false, false, &restarting), UNIT_ACTION_NONE);
        cr_assert_eq(unit_evaluate(UNIT_PHASE_STOPPING, false, true, &restarting), UNIT_ACTION_ENDED);
        cr_assert_eq(unit_evaluate(UNIT_PHASE_RUNNING, false, false, &active), UNIT_ACTION_MAIN_PID);
        cr_assert_str_eq(unit_action_to_string(UNIT_ACTION_STARTED_AND_ENDED), "started-and-ended");
        cr_assert_null(unit_action_to_string(_UNIT_ACTION_MAX));
}
