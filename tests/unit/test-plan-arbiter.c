/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan arbiter driven by events alone: every starting state (reached through events, as the supervisor
 * would) × every event × every phase × every reading of upgrade-info.json × every verdict, checked against
 * the rules of plan-arbiter.h; then the orders of line and file as each SDK generation writes them. */

#include <stdio.h>

#include <criterion/criterion.h>

#include "plan-arbiter.h"
#include "string-util.h"

typedef enum FileState { FILE_NONE, FILE_BAD, FILE_A, FILE_A_NOINFO, FILE_B, _FILE_MAX } FileState;

typedef struct Fake {
        FileState file;
        PlanVerdict verdict_a, verdict_b;
        UpgradePlan *a, *a_noinfo, *b;
        unsigned reads;
} Fake;

static PlanVerdict fake_judge(const UpgradePlan *p, void *userdata) {
        Fake *f = userdata;
        return streq(p->name, "v2") ? f->verdict_a : f->verdict_b;
}

static int fake_read(PlanFile *ret, void *userdata) {
        Fake *f = userdata;
        f->reads++;
        switch (f->file) {
        case FILE_NONE:
                *ret = (PlanFile) { .r = 0 };
                break;
        case FILE_BAD:
                *ret = (PlanFile) { .r = -EBADMSG, .reason = "the file is empty" };
                break;
        case FILE_A:
                *ret = (PlanFile) { .r = 1, .plan = f->a };
                break;
        case FILE_A_NOINFO:
                *ret = (PlanFile) { .r = 1, .plan = f->a_noinfo };
                break;
        default:
                *ret = (PlanFile) { .r = 1, .plan = f->b };
        }
        return 0;
}

static Fake fake;
static PlanFacts facts = { fake_judge, fake_read, &fake };
static UpgradePlan *line_a, *line_a_noinfo, *line_b;

static void setup(void) {
        fake = (Fake) { .verdict_a = PLAN_VERDICT_DUE, .verdict_b = PLAN_VERDICT_DUE };
        cr_assert_eq(upgrade_plan_new("v2", 20, NULL, "file-info", &fake.a), 0);
        cr_assert_eq(upgrade_plan_new("v2", 20, NULL, "", &fake.a_noinfo), 0);
        cr_assert_eq(upgrade_plan_new("v9", 90, NULL, "b-info", &fake.b), 0);
        cr_assert_eq(upgrade_plan_new("v2", 20, NULL, "line-info", &line_a), 0);
        cr_assert_eq(upgrade_plan_new("v2", 20, NULL, "", &line_a_noinfo), 0);
        cr_assert_eq(upgrade_plan_new("v9", 90, NULL, "b-line", &line_b), 0);
}

static void teardown(void) {
        upgrade_plan_free(fake.a);
        upgrade_plan_free(fake.a_noinfo);
        upgrade_plan_free(fake.b);
        upgrade_plan_free(line_a);
        upgrade_plan_free(line_a_noinfo);
        upgrade_plan_free(line_b);
}

TestSuite(plan_arbiter, .init = setup, .fini = teardown);

static PlanDecision seen(PlanArbiter *a, DaemonPhase ph, PlanSource s, const UpgradePlan *p) {
        PlanDecision d;
        cr_assert_eq(plan_arbiter_seen(a, &facts, ph, s, p, &d), 0);
        return d;
}

static PlanDecision timeout(PlanArbiter *a, DaemonPhase ph) {
        PlanDecision d;
        cr_assert_eq(plan_arbiter_timeout(a, &facts, ph, &d), 0);
        return d;
}

static PlanDecision exited(PlanArbiter *a) {
        PlanDecision d;
        cr_assert_eq(plan_arbiter_daemon_exited(a, &facts, &d), 0);
        return d;
}

/* ---- starting states, reached through events ------------------------------------------------------ */

enum {
        START_FRESH,
        START_WAITING_A,          /* the line of v2 waits for its confirmation */
        START_WAITING_B,
        START_IGNORED_B,          /* v9 was ignored (not newer) */
        START_IGNORED_A,          /* v2 was ignored (skipped) */
        START_ACTING_A,           /* stopping for v2 */
        START_ACTING_A_IGNORED_B, /* stopping for v2, v9 ignored meanwhile */
        START_WAITING_A_IGNORED_B,
        START_RESUMED_A,
        _START_MAX,
};

static PlanArbiter *start(int which) {
        PlanArbiter *a = NULL;
        cr_assert_eq(plan_arbiter_new(&a), 0);
        Fake saved = fake;
        fake.file = FILE_NONE;
        fake.verdict_a = fake.verdict_b = PLAN_VERDICT_DUE;
        switch (which) {
        case START_WAITING_A:
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
                break;
        case START_WAITING_B:
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_b).action, PLAN_ACTION_ARM_TIMER);
                break;
        case START_IGNORED_B:
                fake.verdict_b = PLAN_VERDICT_NOT_NEWER;
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.b).notes, PLAN_NOTE_NOT_NEWER);
                break;
        case START_IGNORED_A:
                fake.verdict_a = PLAN_VERDICT_SKIPPED;
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a).notes, PLAN_NOTE_SKIPPED);
                break;
        case START_ACTING_A:
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a).action, PLAN_ACTION_STOP);
                break;
        case START_ACTING_A_IGNORED_B:
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a).action, PLAN_ACTION_STOP);
                cr_assert_eq(seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_LOG, line_b).notes, PLAN_NOTE_IGNORED_BUSY);
                break;
        case START_WAITING_A_IGNORED_B:
                fake.verdict_b = PLAN_VERDICT_NOT_NEWER;
                seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.b);
                fake.verdict_b = PLAN_VERDICT_DUE;
                cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
                break;
        case START_RESUMED_A:
                cr_assert_eq(plan_arbiter_resume(a, fake.a), 0);
                break;
        default:
                break;
        }
        FileState file = saved.file;
        PlanVerdict va = saved.verdict_a, vb = saved.verdict_b;
        fake.file = file;
        fake.verdict_a = va;
        fake.verdict_b = vb;
        fake.reads = 0;
        return a;
}

/* ---- the sweep ------------------------------------------------------------------------------------- */

static const PlanVerdict verdicts[] = { PLAN_VERDICT_DUE, PLAN_VERDICT_RUNNING, PLAN_VERDICT_NOT_NEWER, PLAN_VERDICT_SKIPPED };
static const DaemonPhase phases[] = { DAEMON_PHASE_UP, DAEMON_PHASE_STOPPING, DAEMON_PHASE_OTHER };

static void check_invariants(PlanArbiter *a, const PlanDecision *d, const char *what) {
        cr_assert(d->action >= 0 && d->action < _PLAN_ACTION_MAX, "%s", what);
        if (d->action == PLAN_ACTION_STOP || d->action == PLAN_ACTION_UPGRADE) {
                cr_assert_not_null(d->plan, "%s", what);
                cr_assert_eq(d->plan, plan_arbiter_acting(a), "%s: the decision names the plan acted on", what);
                cr_assert(!plan_arbiter_waiting(a), "%s: acting ends the wait", what);
        }
        if (d->action == PLAN_ACTION_ARM_TIMER)
                cr_assert(plan_arbiter_waiting(a), "%s", what);
        if (plan_arbiter_waiting(a))
                cr_assert_null(plan_arbiter_acting(a), "%s: nothing waits while a plan is acted on", what);
}

Test(plan_arbiter, sweep_seen) {
        static const PlanSource sources[] = { PLAN_SOURCE_LOG, PLAN_SOURCE_FILE };
        unsigned n = 0;
        for (int st = 0; st < _START_MAX; st++)
                for (size_t ph = 0; ph < ELEMENTSOF(phases); ph++)
                        for (size_t so = 0; so < ELEMENTSOF(sources); so++)
                                for (int which = 0; which < 2; which++)
                                        for (size_t v = 0; v < ELEMENTSOF(verdicts); v++)
                                                for (int file = 0; file < _FILE_MAX; file++) {
        char what[160];
        snprintf(what, sizeof what, "start %d phase %zu source %zu plan %d verdict %zu file %d", st, ph, so, which, v, file);
        fake.file = (FileState) file;
        fake.verdict_a = which == 0 ? verdicts[v] : PLAN_VERDICT_DUE;
        fake.verdict_b = which == 1 ? verdicts[v] : PLAN_VERDICT_DUE;
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(st);
        const UpgradePlan *before = plan_arbiter_acting(a);
        bool was_acting = before, was_waiting = plan_arbiter_waiting(a);
        const UpgradePlan *p = sources[so] == PLAN_SOURCE_LOG ? (which ? line_b : line_a) : (which ? fake.b : fake.a);

        PlanDecision d = seen(a, phases[ph], sources[so], p);
        check_invariants(a, &d, what);
        n++;

        /* Only a plan due, seen while the daemon is up and nothing is acted on, moves anything. */
        if (d.action == PLAN_ACTION_STOP || d.action == PLAN_ACTION_ARM_TIMER) {
                cr_assert_eq(phases[ph], DAEMON_PHASE_UP, "%s", what);
                cr_assert(!was_acting, "%s", what);
                cr_assert_eq(verdicts[v], PLAN_VERDICT_DUE, "%s", what);
        }
        cr_assert(d.action == PLAN_ACTION_NONE || d.action == PLAN_ACTION_STOP || d.action == PLAN_ACTION_ARM_TIMER,
                  "%s: a plan seen never upgrades or exits by itself", what);
        if (was_acting)
                cr_assert_eq(plan_arbiter_acting(a), before, "%s: the plan acted on stays", what);
        /* A line is acted on only when the file confirms it; a file is acted on at once. */
        if (d.action == PLAN_ACTION_STOP && sources[so] == PLAN_SOURCE_LOG) {
                cr_assert(which == 0 ? file == FILE_A || file == FILE_A_NOINFO : file == FILE_B, "%s", what);
                if (which == 0)
                        cr_assert_str_eq(plan_arbiter_acting(a)->info, file == FILE_A ? "file-info" : "line-info",
                                         "%s: the file's info, else the line's", what);
        }
        if (sources[so] == PLAN_SOURCE_FILE && phases[ph] == DAEMON_PHASE_UP && !was_acting &&
            verdicts[v] == PLAN_VERDICT_DUE)
                cr_assert_eq(d.action, PLAN_ACTION_STOP, "%s", what);
        if (sources[so] == PLAN_SOURCE_FILE)
                cr_assert_eq(fake.reads, 0, "%s: a plan from the file needs no second reading", what);
        /* Not due: said once (a second time, nothing to say). */
        if (d.notes & (PLAN_NOTE_NOT_NEWER | PLAN_NOTE_SKIPPED | PLAN_NOTE_IGNORED_BUSY)) {
                PlanDecision d2 = seen(a, phases[ph], sources[so], p);
                cr_assert_eq(d2.notes & (PLAN_NOTE_NOT_NEWER | PLAN_NOTE_SKIPPED | PLAN_NOTE_IGNORED_BUSY), 0, "%s", what);
                cr_assert_eq(d2.action, PLAN_ACTION_NONE, "%s", what);
        }
        /* Idempotent: the same plan again, from either source, never acts twice. */
        if (d.action == PLAN_ACTION_STOP) {
                PlanDecision d2 = seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_LOG, p);
                cr_assert_eq(d2.action, PLAN_ACTION_NONE, "%s", what);
                d2 = seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_FILE, p);
                cr_assert_eq(d2.action, PLAN_ACTION_NONE, "%s", what);
        }
        if (d.action == PLAN_ACTION_ARM_TIMER) {
                bool same_waits = (st == START_WAITING_A || st == START_WAITING_A_IGNORED_B) ? which == 0
                                  : st == START_WAITING_B ? which == 1 : false;
                cr_assert(!was_waiting || !same_waits, "%s: the line already waiting does not re-arm", what);
                PlanDecision d2 = seen(a, phases[ph], sources[so], p);
                cr_assert_eq(d2.action, PLAN_ACTION_NONE, "%s: the same line again does not re-arm", what);
        }
                                                }
        cr_assert_eq(n, _START_MAX * ELEMENTSOF(phases) * 2 * 2 * ELEMENTSOF(verdicts) * _FILE_MAX);
}

Test(plan_arbiter, sweep_timeout_and_exit) {
        for (int st = 0; st < _START_MAX; st++)
                for (size_t ph = 0; ph < ELEMENTSOF(phases); ph++)
                        for (size_t v = 0; v < ELEMENTSOF(verdicts); v++)
                                for (int file = 0; file < _FILE_MAX; file++) {
        char what[160];
        snprintf(what, sizeof what, "start %d phase %zu verdict %zu file %d", st, ph, v, file);
        fake.file = (FileState) file;
        fake.verdict_a = verdicts[v];
        fake.verdict_b = PLAN_VERDICT_DUE;

        /* The timer. */
        {
                _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(st);
                bool was_waiting = plan_arbiter_waiting(a), was_acting = plan_arbiter_acting(a);
                PlanDecision d = timeout(a, phases[ph]);
                check_invariants(a, &d, what);
                cr_assert(!plan_arbiter_waiting(a), "%s: the timer ends every wait", what);
                cr_assert(d.action == PLAN_ACTION_NONE || d.action == PLAN_ACTION_STOP, "%s", what);
                if (d.action == PLAN_ACTION_STOP) {
                        cr_assert(was_waiting && !was_acting && phases[ph] == DAEMON_PHASE_UP, "%s", what);
                        bool other_file = (file == FILE_B) != (st == START_WAITING_B);
                        cr_assert(!other_file || file == FILE_NONE || file == FILE_BAD,
                                  "%s: a file naming another plan means the line was not the node's", what);
                }
                if (was_waiting && !was_acting && phases[ph] == DAEMON_PHASE_UP) {
                        if ((st != START_WAITING_B && file == FILE_B) || (st == START_WAITING_B && file != FILE_B && file != FILE_NONE && file != FILE_BAD)) {
                                cr_assert_eq(d.action, PLAN_ACTION_NONE, "%s", what);
                                cr_assert(d.notes & PLAN_NOTE_UNANNOUNCED, "%s", what);
                                /* ... and that line is not taken again. */
                                PlanDecision d2 = seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, st == START_WAITING_B ? line_b : line_a);
                                cr_assert_eq(d2.action, PLAN_ACTION_NONE, "%s", what);
                        } else
                                cr_assert_eq(d.action, PLAN_ACTION_STOP, "%s", what);
                }
        }

        /* The daemon's own exit (only while up, and never after a stop we asked for). */
        {
                _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(st);
                if (plan_arbiter_acting(a))
                        continue;
                bool was_waiting = plan_arbiter_waiting(a);
                PlanDecision d = exited(a);
                check_invariants(a, &d, what);
                cr_assert(d.action == PLAN_ACTION_EXIT || d.action == PLAN_ACTION_UPGRADE, "%s", what);
                bool file_due = (file == FILE_A || file == FILE_A_NOINFO) ? verdicts[v] == PLAN_VERDICT_DUE : file == FILE_B;
                if (file_due) {
                        cr_assert_eq(d.action, PLAN_ACTION_UPGRADE, "%s: halted at a plan's height", what);
                        if (file == FILE_A_NOINFO && (st == START_WAITING_A || st == START_WAITING_A_IGNORED_B))
                                cr_assert_str_eq(d.plan->info, "line-info", "%s", what);
                }
                else if (was_waiting) {
                        cr_assert_eq(d.action, PLAN_ACTION_UPGRADE, "%s: announced, then ended", what);
                        cr_assert(d.notes & PLAN_NOTE_LINE_THEN_EXIT, "%s", what);
                } else
                        cr_assert_eq(d.action, PLAN_ACTION_EXIT, "%s: a crash stays a crash", what);
                if (file == FILE_BAD)
                        cr_assert(d.notes & PLAN_NOTE_BAD_FILE, "%s", what);
        }
                                }
}

/* ---- orders of line and file --------------------------------------------------------------------- */

Test(plan_arbiter, sdk_044_file_then_line) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        fake.file = FILE_A;
        PlanDecision d = seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a);
        cr_assert_eq(d.action, PLAN_ACTION_STOP);
        cr_assert_eq(d.source, PLAN_SOURCE_FILE);
        cr_assert_eq(seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_NONE);
        cr_assert_str_eq(plan_arbiter_acting(a)->info, "file-info", "the file's info is kept over the line's");
}

Test(plan_arbiter, sdk_040_line_then_file_without_info) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        PlanDecision d = seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a);
        cr_assert_eq(d.action, PLAN_ACTION_ARM_TIMER);
        cr_assert(d.notes & PLAN_NOTE_WAITING);
        /* The CONSENSUS FAILURE line repeats the announcement: nothing new. */
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_NONE);
        fake.file = FILE_A_NOINFO;
        d = seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a_noinfo);
        cr_assert_eq(d.action, PLAN_ACTION_STOP);
        cr_assert_str_eq(d.plan->info, "line-info", "the line fills in the info the file lacks");
        cr_assert(!plan_arbiter_waiting(a));
}

Test(plan_arbiter, journal_delivers_line_after_file_without_info) {
        /* Under systemd the line comes from the journal, after the file. */
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        fake.file = FILE_A_NOINFO;
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a_noinfo).action, PLAN_ACTION_STOP);
        cr_assert_str_eq(plan_arbiter_acting(a)->info, "");
        PlanDecision d = seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_LOG, line_a);
        cr_assert_eq(d.action, PLAN_ACTION_NONE);
        cr_assert(d.notes & PLAN_NOTE_INFO_UPDATED);
        cr_assert_str_eq(plan_arbiter_acting(a)->info, "line-info");
        /* Once the upgrade runs, nothing changes the plan any more. */
        fake.file = FILE_A;
        cr_assert_eq(seen(a, DAEMON_PHASE_OTHER, PLAN_SOURCE_FILE, fake.a).notes, 0);
        cr_assert_str_eq(plan_arbiter_acting(a)->info, "line-info");
}

Test(plan_arbiter, cut_line_info_replaced_by_file) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        fake.file = FILE_NONE;
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        fake.file = FILE_BAD;
        PlanDecision d = timeout(a, DAEMON_PHASE_UP);
        cr_assert_eq(d.action, PLAN_ACTION_STOP);
        cr_assert(d.notes & PLAN_NOTE_LINE_BAD_FILE);
        cr_assert_str_eq(d.reason, "the file is empty");
        fake.file = FILE_A;
        cr_assert(seen(a, DAEMON_PHASE_STOPPING, PLAN_SOURCE_FILE, fake.a).notes & PLAN_NOTE_INFO_UPDATED);
        cr_assert_str_eq(plan_arbiter_acting(a)->info, "file-info");
}

Test(plan_arbiter, line_only_then_exit) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        PlanDecision d = exited(a);
        cr_assert_eq(d.action, PLAN_ACTION_UPGRADE);
        cr_assert_eq(d.source, PLAN_SOURCE_LOG);
        cr_assert(d.notes & PLAN_NOTE_LINE_THEN_EXIT);
        cr_assert_str_eq(d.plan->info, "line-info");
        /* The timer that may still fire afterwards does nothing. */
        cr_assert_eq(timeout(a, DAEMON_PHASE_OTHER).action, PLAN_ACTION_NONE);
}

Test(plan_arbiter, line_then_file_then_exit) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        /* The file was written, but the exit is seen before inotify's event. */
        fake.file = FILE_A_NOINFO;
        PlanDecision d = exited(a);
        cr_assert_eq(d.action, PLAN_ACTION_UPGRADE);
        cr_assert_eq(d.source, PLAN_SOURCE_FILE);
        cr_assert_str_eq(d.plan->info, "line-info");
        /* The file's own event, late: nothing more. */
        cr_assert_eq(seen(a, DAEMON_PHASE_OTHER, PLAN_SOURCE_FILE, fake.a_noinfo).action, PLAN_ACTION_NONE);
}

Test(plan_arbiter, line_only_node_keeps_running) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        PlanDecision d = timeout(a, DAEMON_PHASE_UP);
        cr_assert_eq(d.action, PLAN_ACTION_STOP);
        cr_assert_eq(d.source, PLAN_SOURCE_LOG);
        cr_assert(d.notes & PLAN_NOTE_LINE_NO_FILE);
}

Test(plan_arbiter, bait_line_with_earlier_plan_in_file) {
        /* A transaction's memo quotes an announcement; the file holds the plan the node went through. */
        fake.verdict_b = PLAN_VERDICT_RUNNING;
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        fake.file = FILE_B;
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        PlanDecision d = timeout(a, DAEMON_PHASE_UP);
        cr_assert_eq(d.action, PLAN_ACTION_NONE);
        cr_assert(d.notes & PLAN_NOTE_UNANNOUNCED);
        cr_assert_str_eq(d.other->name, "v9");
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_NONE, "ignored for good");
        /* The chain reaches the real v2 at that very height: the file is trusted, whatever the memo said. */
        fake.file = FILE_A;
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a).action, PLAN_ACTION_STOP);
}

Test(plan_arbiter, file_rewritten_within_the_wait) {
        fake.verdict_b = PLAN_VERDICT_RUNNING;
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        fake.file = FILE_B;
        cr_assert_eq(seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_LOG, line_a).action, PLAN_ACTION_ARM_TIMER);
        fake.file = FILE_A;
        PlanDecision d = seen(a, DAEMON_PHASE_UP, PLAN_SOURCE_FILE, fake.a);
        cr_assert_eq(d.action, PLAN_ACTION_STOP);
        cr_assert_eq(d.source, PLAN_SOURCE_FILE);
        cr_assert_eq(timeout(a, DAEMON_PHASE_STOPPING).action, PLAN_ACTION_NONE);
}

Test(plan_arbiter, startup_and_resume) {
        _cleanup_(plan_arbiter_freep) PlanArbiter *a = start(START_FRESH);
        PlanDecision d;
        fake.file = FILE_A;
        fake.verdict_a = PLAN_VERDICT_RUNNING;
        cr_assert_eq(plan_arbiter_startup(a, &facts, &d), 0);
        cr_assert_eq(d.action, PLAN_ACTION_NONE);
        cr_assert_eq(d.notes, 0);
        fake.verdict_a = PLAN_VERDICT_NOT_NEWER;
        cr_assert_eq(plan_arbiter_startup(a, &facts, &d), 0);
        cr_assert_eq(d.notes, PLAN_NOTE_NOT_NEWER);
        fake.file = FILE_BAD;
        cr_assert_eq(plan_arbiter_startup(a, &facts, &d), 0);
        cr_assert_eq(d.notes, PLAN_NOTE_BAD_FILE);
        fake.file = FILE_A;
        fake.verdict_a = PLAN_VERDICT_DUE;
        _cleanup_(plan_arbiter_freep) PlanArbiter *b = start(START_FRESH);
        cr_assert_eq(plan_arbiter_startup(b, &facts, &d), 0);
        cr_assert_eq(d.action, PLAN_ACTION_UPGRADE);
        cr_assert_eq(d.source, PLAN_SOURCE_STARTUP);
        cr_assert_eq(d.plan, plan_arbiter_acting(b));
        plan_arbiter_done(b);
        cr_assert_null(plan_arbiter_acting(b));

        _cleanup_(plan_arbiter_freep) PlanArbiter *c = start(START_WAITING_A);
        cr_assert_eq(plan_arbiter_resume(c, fake.b), 0);
        cr_assert_str_eq(plan_arbiter_acting(c)->name, "v9");
        cr_assert(!plan_arbiter_waiting(c));
}

Test(plan_arbiter, strings) {
        cr_assert_str_eq(plan_action_to_string(PLAN_ACTION_ARM_TIMER), "arm-timer");
        cr_assert_null(plan_action_to_string(_PLAN_ACTION_MAX));
        cr_assert_null(plan_action_to_string(_PLAN_ACTION_INVALID));
}
