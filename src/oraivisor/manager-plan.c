/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plans while the daemon runs: the facts the arbiter (core/plan-arbiter.c) asks for, and its decisions
 * carried out (stop the daemon for an upgrade, wait for a line's confirmation, say what it noted). */

#include "args.h"
#include "events.h"
#include "exit-status.h"
#include "log.h"
#include "manager-internal.h"
#include "notify.h"
#include "string-util.h"
#include "time-util.h"


/* Whether a plan still has to be carried out, judged against what `current` runs. */
static PlanVerdict judge_plan(const UpgradePlan *p, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *folder = NULL;

        if (layout_find_upgrade(m->layout, p->name, &folder) < 0)
                return PLAN_VERDICT_DUE; /* a name that cannot be a folder: the upgrade fails loudly, never silently */
        if (m->current.folder && streq(folder, m->current.folder))
                return PLAN_VERDICT_RUNNING;
        /* Another plan at the running one's height is newer: the chain keeps one plan per height, so that is
         * the chain's plan met by a version switched to at its height by a schedule without governance
         * (SDK v0.50.10+ stops before block H; the new version executes H, where x/upgrade acts on it). */
        if (m->current.plan && p->height > 0 && m->current.plan->height > p->height)
                return PLAN_VERDICT_NOT_NEWER;
        if (p->height > 0 && skip_heights_contain(m->skip_heights, m->n_skip_heights, p->height))
                return PLAN_VERDICT_SKIPPED;
        return PLAN_VERDICT_DUE;
}

static int read_plan_file(PlanFile *ret, void *userdata) {
        Manager *m = userdata;
        const char *reason = NULL;

        m->file_plan = upgrade_plan_free(m->file_plan);
        int r = layout_read_plan_file(m->layout, &m->file_plan, &reason);
        if (r == -ENOMEM)
                return r;
        *ret = (PlanFile) { .r = r, .plan = r > 0 ? m->file_plan : NULL, .reason = reason };
        return 0;
}

static DaemonPhase daemon_phase(const Manager *m) {
        switch (m->state) {
        case STATE_RUNNING:
        case STATE_LAUNCHING:
                return DAEMON_PHASE_UP;
        case STATE_STOPPING:
                return DAEMON_PHASE_STOPPING;
        default:
                return DAEMON_PHASE_OTHER;
        }
}

const PlanFacts *manager_plan_facts(Manager *m) {
        static PlanFacts facts = { .judge = judge_plan, .read_file = read_plan_file };
        facts.userdata = m;
        return &facts;
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Says what the arbiter noted about a decision. */
void manager_log_notes(Manager *m, const PlanDecision *d) {
        const char *from = plan_source_to_string(d->source), *name = d->plan ? d->plan->name : "";
        char buf[FORMAT_TIMESPAN_MAX];

        if (d->notes & PLAN_NOTE_IGNORED_BUSY)
                log_warning("Ignoring plan '%s' (from %s) while upgrade '%s' is under way.", name, from, d->other->name);
        if (d->notes & PLAN_NOTE_NOT_NEWER)
                log_notice("Ignoring plan '%s' (from %s): it is not newer than the plan of the version running.", name, from);
        if (d->notes & PLAN_NOTE_SKIPPED)
                log_event(EVENT_UPGRADE_SKIPPED, LOG_NOTICE, 0, m->config->name, d->plan, NULL,
                        "Not upgrading to '%s' (from %s): its height is listed in --unsafe-skip-upgrades.", name, from);
        if (d->notes & PLAN_NOTE_WAITING)
                log_info("%s announced upgrade '%s' in its output; waiting for %s/data/upgrade-info.json to confirm it or for %s to halt.",
                        m->config->name, name, m->config->home, m->config->name);
        if (d->notes & PLAN_NOTE_UNANNOUNCED)
                log_warning("Ignoring the announcement of upgrade '%s' in %s's output: %s/data/upgrade-info.json names '%s' instead, so the node did not announce it (the text may come from a logged transaction).",
                        name, m->config->name, m->config->home, d->other->name);
        if (d->notes & PLAN_NOTE_LINE_BAD_FILE)
                log_warning("%s/data/upgrade-info.json is still not a valid plan (%s) %s after %s announced upgrade '%s': acting on the log line.",
                        m->config->home, d->reason, format_timespan(buf, sizeof(buf), LOG_PLAN_CONFIRM_USEC),
                        m->config->name, name);
        if (d->notes & PLAN_NOTE_LINE_NO_FILE)
                log_notice("No %s/data/upgrade-info.json confirms upgrade '%s' and %s still runs (an SDK older than v0.40, or the node's --home is not DAEMON_HOME): acting on the log line.",
                        m->config->home, name, m->config->name);
        if (d->notes & PLAN_NOTE_BAD_FILE)
                log_warning("%s/data/upgrade-info.json is not a valid upgrade plan (%s), ignoring it.", m->config->home, d->reason);
        if (d->notes & PLAN_NOTE_INFO_UPDATED)
                log_debug("Plan '%s' info: %s", name, d->plan->info);
}

/* Carries out a decision taken while the daemon runs (STOP, ARM_TIMER or NONE), and keeps the confirmation
 * timer running exactly while the arbiter waits. */
static void apply_decision(Manager *m, int r, const PlanDecision *d) {
        if (r < 0) {
                log_oom();
                return manager_exit(m, EXIT_INTERNAL);
        }
        manager_log_notes(m, d);
        if (!plan_arbiter_waiting(m->arbiter))
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);

        if (d->action == PLAN_ACTION_ARM_TIMER) {
                m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
                if (sd_event_add_time_relative(m->event, &m->confirm_timer, CLOCK_MONOTONIC, LOG_PLAN_CONFIRM_USEC, 0,
                            on_confirm_timer, m) < 0)
                        (void) on_confirm_timer(NULL, 0, m);
                return;
        }
        if (d->action != PLAN_ACTION_STOP)
                return;

        const UpgradePlan *p = d->plan;
        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, p, NULL,
                "Upgrade plan '%s' detected (from %s)%s%s.", p->name, plan_source_to_string(d->source),
                isempty(p->info) ? "" : ", info: ", strempty(p->info));

        char buf[FORMAT_TIMESPAN_MAX];
        log_info("Stopping %s for upgrade '%s' (DAEMON_SHUTDOWN_GRACE=%s).", m->config->name, p->name,
                format_timespan(buf, sizeof(buf), m->config->shutdown_grace));
        notify_status("upgrade %s: stopping %s", p->name, m->config->name);
        m->state = STATE_STOPPING;
        r = launcher_stop(m->launcher, m->config->shutdown_grace);
        if (r < 0) {
                log_error_errno(r, "Failed to stop the daemon for the upgrade: %m");
                manager_exit(m, EXIT_SYSTEM);
        }
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        PlanDecision d;
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        int r = plan_arbiter_timeout(m->arbiter, manager_plan_facts(m), daemon_phase(m), &d);
        apply_decision(m, r, &d);
        return 0;
}

/* The one entry point of every plan source while the daemon runs. */
void manager_handle_plan(Manager *m, const UpgradePlan *p, PlanSource source) {
        PlanDecision d;
        int r = plan_arbiter_seen(m->arbiter, manager_plan_facts(m), daemon_phase(m), source, p, &d);
        apply_decision(m, r, &d);
}

void manager_on_plan_file(PlanWatch *w, const UpgradePlan *p, void *userdata) {
        manager_handle_plan(userdata, p, PLAN_SOURCE_FILE);
}