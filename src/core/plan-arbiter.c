/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdlib.h>

#include "plan-arbiter.h"
#include "string-util.h"

struct PlanArbiter {
        UpgradePlan *acting;       /* stopping for it, or upgrading to it */
        UpgradePlan *unconfirmed;  /* announced in the output, not (yet) confirmed by upgrade-info.json */
        UpgradePlan *last_ignored; /* to say "ignoring" once per plan, not once per line */
};

static const char *const plan_action_table[_PLAN_ACTION_MAX] = {
        [PLAN_ACTION_NONE] = "none",
        [PLAN_ACTION_STOP] = "stop",
        [PLAN_ACTION_ARM_TIMER] = "arm-timer",
        [PLAN_ACTION_UPGRADE] = "upgrade",
        [PLAN_ACTION_EXIT] = "exit",
};

const char *plan_action_to_string(PlanAction a) {
        return a >= 0 && a < _PLAN_ACTION_MAX ? plan_action_table[a] : NULL;
}

int plan_arbiter_new(PlanArbiter **ret) {
        assert(ret);
        PlanArbiter *a = new0(PlanArbiter, 1);
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

PlanArbiter *plan_arbiter_free(PlanArbiter *a) {
        if (!a)
                return NULL;
        upgrade_plan_free(a->acting);
        upgrade_plan_free(a->unconfirmed);
        upgrade_plan_free(a->last_ignored);
        return mfree(a);
}

const UpgradePlan *plan_arbiter_acting(const PlanArbiter *a) {
        assert(a);
        return a->acting;
}

bool plan_arbiter_waiting(const PlanArbiter *a) {
        assert(a);
        return a->unconfirmed;
}

/* *slot becomes a copy of p; on -ENOMEM it is unchanged. */
static int set_plan(UpgradePlan **slot, const UpgradePlan *p) {
        UpgradePlan *copy = NULL;
        if (upgrade_plan_dup(p, &copy) < 0)
                return -ENOMEM;
        upgrade_plan_free(*slot);
        *slot = copy;
        return 0;
}

/* Remembers p as the last plan ignored. Returns 1 when it was not already (say so), 0 when it was. */
static int remember_ignored(PlanArbiter *a, const UpgradePlan *p) {
        if (upgrade_plan_same(a->last_ignored, p))
                return 0;
        return set_plan(&a->last_ignored, p) < 0 ? -ENOMEM : 1;
}

/* Whether p is to be carried out; when not, notes why (once per plan). Returns 1 due, 0 not, -ENOMEM. */
static int judge(PlanArbiter *a, const PlanFacts *f, const UpgradePlan *p, PlanDecision *d) {
        PlanVerdict v = f->judge(p, f->userdata);
        if (v == PLAN_VERDICT_DUE)
                return 1;
        if (v == PLAN_VERDICT_RUNNING)
                return 0;
        int r = remember_ignored(a, p);
        if (r < 0)
                return r;
        if (r > 0) {
                d->notes |= v == PLAN_VERDICT_SKIPPED ? PLAN_NOTE_SKIPPED : PLAN_NOTE_NOT_NEWER;
                d->plan = p;
        }
        return 0;
}

/* SDK v0.40-v0.43 write the file without the plan's info (name and height only); the line has it. */
static int take_missing_info(UpgradePlan *p, const UpgradePlan *line) {
        if (!isempty(p->info) || !line || isempty(line->info) || !upgrade_plan_same(p, line))
                return 0;
        char *info = strdup(line->info);
        if (!info)
                return -ENOMEM;
        free_and_replace(p->info, info);
        return 0;
}

/* p becomes the plan acted on, its info completed from the announcement(s) that led to it. */
static int act(PlanArbiter *a, const UpgradePlan *p, const UpgradePlan *line, PlanAction action, PlanSource source,
               PlanDecision *d) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *n = NULL;
        if (upgrade_plan_dup(p, &n) < 0 || take_missing_info(n, line) < 0 || take_missing_info(n, a->unconfirmed) < 0)
                return -ENOMEM;
        upgrade_plan_free(a->acting);
        a->acting = TAKE_PTR(n);
        a->unconfirmed = upgrade_plan_free(a->unconfirmed);
        d->action = action;
        d->source = source;
        d->plan = a->acting;
        return 0;
}

/* Reads upgrade-info.json through the facts; with d, a malformed file is noted there. */
static int read_file(const PlanFacts *f, PlanFile *ret, PlanDecision *d) {
        *ret = (PlanFile) {};
        int r = f->read_file(ret, f->userdata);
        if (r >= 0 && d && ret->r == -EBADMSG) {
                d->notes |= PLAN_NOTE_BAD_FILE;
                d->reason = ret->reason;
        }
        return r;
}

int plan_arbiter_seen(PlanArbiter *a, const PlanFacts *f, DaemonPhase phase, PlanSource source,
                      const UpgradePlan *p, PlanDecision *ret) {
        assert(a && f && p && ret);
        int r;

        *ret = (PlanDecision) { .action = PLAN_ACTION_NONE, .source = source, .plan = p };

        if (a->acting) {
                if (!upgrade_plan_same(a->acting, p)) {
                        r = remember_ignored(a, p);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                ret->notes |= PLAN_NOTE_IGNORED_BUSY;
                                ret->other = a->acting;
                        }
                } else if (phase == DAEMON_PHASE_STOPPING && !isempty(p->info) && !streq(a->acting->info, p->info) &&
                           (source == PLAN_SOURCE_FILE || isempty(a->acting->info))) {
                        /* The file holds the info exactly as the chain wrote it (a log line may have been
                         * cut); SDK v0.40-v0.43 write none, and a line the journal delivers after the file
                         * is then the only source of it. */
                        char *info = strdup(p->info);
                        if (!info)
                                return -ENOMEM;
                        free_and_replace(a->acting->info, info);
                        ret->notes |= PLAN_NOTE_INFO_UPDATED;
                        ret->plan = a->acting;
                }
                return 0;
        }
        /* A line ignored once stays ignored; the file is trusted whatever was said of a line before (a
         * transaction's memo quoting the name and height of a real plan must not hide it). Plans not due
         * are judged again, and judge() says nothing twice. */
        if (phase != DAEMON_PHASE_UP || (source == PLAN_SOURCE_LOG && upgrade_plan_same(a->last_ignored, p)))
                return 0;
        r = judge(a, f, p, ret);
        if (r <= 0)
                return r;

        if (source != PLAN_SOURCE_LOG)
                return act(a, p, NULL, PLAN_ACTION_STOP, source, ret);

        /* Trust the file the node writes, not text in its output: confirm first. */
        PlanFile file;
        r = read_file(f, &file, NULL);
        if (r < 0)
                return r;
        if (file.r > 0 && upgrade_plan_same(file.plan, p))
                return act(a, file.plan, p, PLAN_ACTION_STOP, PLAN_SOURCE_LOG, ret);

        /* No file yet, one naming another plan, or one being rewritten (the SDK does not write it
         * atomically): the node writes it right after the line (SDK v0.40-v0.43) and halts. */
        if (upgrade_plan_same(a->unconfirmed, p))
                return 0;
        if (set_plan(&a->unconfirmed, p) < 0)
                return -ENOMEM;
        ret->action = PLAN_ACTION_ARM_TIMER;
        ret->notes |= PLAN_NOTE_WAITING;
        ret->plan = a->unconfirmed;
        return 0;
}

int plan_arbiter_timeout(PlanArbiter *a, const PlanFacts *f, DaemonPhase phase, PlanDecision *ret) {
        assert(a && f && ret);

        *ret = (PlanDecision) { .action = PLAN_ACTION_NONE, .source = PLAN_SOURCE_LOG };
        if (!a->unconfirmed)
                return 0;
        if (a->acting || phase != DAEMON_PHASE_UP) {
                a->unconfirmed = upgrade_plan_free(a->unconfirmed);
                return 0;
        }

        PlanFile file;
        int r = read_file(f, &file, NULL);
        if (r < 0)
                return r;
        if (file.r > 0 && upgrade_plan_same(file.plan, a->unconfirmed))
                return act(a, file.plan, NULL, PLAN_ACTION_STOP, PLAN_SOURCE_FILE, ret);
        if (file.r > 0) {
                /* A chain that writes the file at all (it holds an earlier plan) and did not write this one
                 * did not announce it: the text came from elsewhere (a logged transaction, a contract). */
                if (upgrade_plan_same(a->last_ignored, a->unconfirmed))
                        a->unconfirmed = upgrade_plan_free(a->unconfirmed);
                else {
                        upgrade_plan_free(a->last_ignored);
                        a->last_ignored = TAKE_PTR(a->unconfirmed);
                }
                ret->notes |= PLAN_NOTE_UNANNOUNCED;
                ret->plan = a->last_ignored;
                ret->other = file.plan;
                return 0;
        }
        /* No file (an SDK before v0.40, a --home elsewhere) and the node still runs, or a file that stayed
         * malformed: the line is all there is. */
        if (file.r == -EBADMSG) {
                ret->notes |= PLAN_NOTE_LINE_BAD_FILE;
                ret->reason = file.reason;
        } else
                ret->notes |= PLAN_NOTE_LINE_NO_FILE;
        _cleanup_(upgrade_plan_freep) UpgradePlan *line = TAKE_PTR(a->unconfirmed);
        r = act(a, line, NULL, PLAN_ACTION_STOP, PLAN_SOURCE_LOG, ret);
        if (r < 0)
                a->unconfirmed = TAKE_PTR(line); /* nothing changed */
        return r;
}

int plan_arbiter_daemon_exited(PlanArbiter *a, const PlanFacts *f, PlanDecision *ret) {
        assert(a && f && ret);

        *ret = (PlanDecision) { .action = PLAN_ACTION_EXIT, .source = PLAN_SOURCE_FILE };
        if (a->acting) /* stopped for it: the runtime upgrades without asking */
                return 0;

        /* It may have halted at an upgrade height: look once. */
        PlanFile file;
        int r = read_file(f, &file, ret);
        if (r < 0)
                return r;
        if (file.r > 0) {
                r = judge(a, f, file.plan, ret);
                if (r < 0)
                        return r;
                if (r > 0)
                        return act(a, file.plan, NULL, PLAN_ACTION_UPGRADE, PLAN_SOURCE_FILE, ret);
        }
        if (a->unconfirmed) {
                /* It announced a plan and then ended: the announcement was the node's own. */
                _cleanup_(upgrade_plan_freep) UpgradePlan *line = TAKE_PTR(a->unconfirmed);
                r = act(a, line, NULL, PLAN_ACTION_UPGRADE, PLAN_SOURCE_LOG, ret);
                if (r < 0) {
                        a->unconfirmed = TAKE_PTR(line);
                        return r;
                }
                ret->notes |= PLAN_NOTE_LINE_THEN_EXIT;
        }
        return 0;
}

int plan_arbiter_startup(PlanArbiter *a, const PlanFacts *f, PlanDecision *ret) {
        assert(a && f && ret);

        *ret = (PlanDecision) { .action = PLAN_ACTION_NONE, .source = PLAN_SOURCE_STARTUP };
        /* The node may have halted at an upgrade height while we were down. */
        PlanFile file;
        int r = read_file(f, &file, ret);
        if (r < 0 || file.r <= 0)
                return r;
        r = judge(a, f, file.plan, ret);
        if (r <= 0)
                return r;
        return act(a, file.plan, NULL, PLAN_ACTION_UPGRADE, PLAN_SOURCE_STARTUP, ret);
}

int plan_arbiter_resume(PlanArbiter *a, const UpgradePlan *p) {
        assert(a && p);
        if (set_plan(&a->acting, p) < 0)
                return -ENOMEM;
        a->unconfirmed = upgrade_plan_free(a->unconfirmed);
        return 0;
}

void plan_arbiter_done(PlanArbiter *a) {
        assert(a);
        a->acting = upgrade_plan_free(a->acting);
}
