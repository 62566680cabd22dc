/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Upgrades scheduled at a height without governance, as the manager carries them out (the decisions are in
 * height-plan.c, core/height-schedule.c and core/height-line.c): the node runs with --halt-height of the
 * nearest one its known height has not passed, says when it halts there, and is upgraded once it has
 * stopped at that height, never above it (its height lines say where it is); a change of the schedule while
 * it runs restarts it with the new flag (ORAIVISOR_HEIGHT_RESTART). A governance plan the chain watcher
 * knows at a scheduled height takes that height: the node runs without that flag, so that the SDK meets the
 * plan there whatever its version (v0.50.10+ would refuse the block before x/upgrade sees the plan); a plan
 * learnt or cancelled while the node runs changes the flag as a change of the schedule does. */

#include <inttypes.h>
#include <stdio.h>
#include <sys/inotify.h>

#include "events.h"
#include "exit-status.h"
#include "height-plan.h"
#include "height-line.h"
#include "height-schedule.h"
#include "known-height.h"
#include "log.h"
#include "manager-internal.h"
#include "string-util.h"
#include "strv.h"

/* The chain's current plan as the chain watcher knows it (in this run, or read back from its state file
 * and checked again at its first poll), or NULL: the watcher is off or knows of none. */
static const ScheduledUpgrade *governance_plan(Manager *m) {
        if (!m->chain_watch)
                return NULL;
        const ChainState *s = chain_watch_state(m->chain_watch);
        for (size_t i = 0; i < s->n_upgrades; i++)
                if (s->upgrades[i].source == SCHEDULED_SOURCE_GOVERNANCE)
                        return &s->upgrades[i];
        return NULL;
}

/* Whether the operator's own arguments set a halt height: the schedule is not acted on then. */
static bool own_halt_height(Manager *m) {
        STRV_FOREACH(a, m->args)
                if (startswith(*a, "--halt-height") || startswith(*a, "-halt-height"))
                        return true;
        return false;
}

/* Adds --halt-height of the nearest upgrade scheduled at a height to the daemon's arguments (the node
 * commits that block and stops), unless the operator's own arguments set one. */
int manager_height_args(Manager *m, char ***argv) {
        _cleanup_(height_pick_done) HeightPick pick = {};
        const ScheduledUpgrade *g = governance_plan(m);

        height_plan_pick(m->layout, &m->current, !m->passed_reported, m->height_seen, g, &pick);
        m->passed_reported = true;
        m->halt_height = 0;
        m->halt_name = mfree(m->halt_name);
        m->halt_seen = false;
        m->halt_known = pick.known;
        m->halt_governance = g ? g->height : 0;
        if (pick.superseded_name) {
                const char *sup = pick.superseded_name;
                _cleanup_free_ char *sn = string_escape_for_log(sup, strlen(sup), 200),
                        *gn = string_escape_for_log(g->name, strlen(g->name), 200);
                log_notice("The chain's governance plan '%s' is at height %" PRId64 ", where upgrade '%s' is scheduled (no governance): the plan wins, so %s runs without --halt-height %" PRId64 " and upgrades to '%s' there as for any governance plan; '%s' is dropped as superseded then.",
                        strna(gn), g->height, strna(sn), m->config->name, pick.superseded_height, strna(gn),
                        strna(sn));
        }
        if (pick.height <= 0)
                return 0;

        bool own = own_halt_height(m);
        _cleanup_free_ char *shown = string_escape_for_log(pick.name, strlen(pick.name), 200);
        if (own) {
                log_warning("The daemon's arguments set a halt height of their own: upgrade '%s' scheduled at height %" PRId64 " is not acted on; drop that argument.",
                        strna(shown), pick.height);
                return 0;
        }
        char h[32];
        snprintf(h, sizeof h, "%" PRId64, pick.height);
        if (strv_extend(argv, "--halt-height") < 0 || strv_extend(argv, h) < 0)
                return -ENOMEM;
        m->halt_height = pick.height;
        m->halt_name = TAKE_PTR(pick.name);
        log_info("Upgrade '%s' is scheduled at height %" PRId64 " (no governance): %s runs with --halt-height %" PRId64 ".",
                strna(shown), m->halt_height, m->config->name, m->halt_height);
        return 0;
}

/* Keeps the highest committed height seen in the node's output, for the next start (shared/known-height.h).
 * Only when the node's output showed one; a failure is only less known: debug. */
void manager_height_save_seen(Manager *m) {
        if (m->height_seen <= 0 || m->height_seen == m->height_saved)
                return;
        int r = known_height_save_seen(m->layout->root_fd, m->height_seen);
        if (r < 0)
                log_debug_errno(r, "Cannot write '%s/" NODE_HEIGHT_FILE "', ignoring: %m", m->layout->root);
        else
                m->height_saved = m->height_seen;
}

/* Where a node that says it halts at its --halt-height stopped, and what is done about it. Returns the
 * verdict (logged: a refusal is an event of its own). */
static HaltVerdict halt_verdict(Manager *m) {
        int64_t known = MAX(m->halt_known, m->height_seen);
        HaltVerdict v = height_halt_verdict(m->halt_kind, m->halt_height, known);
        _cleanup_free_ char *shown = string_escape_for_log(m->halt_name, strlen(m->halt_name), 200);
        if (v == HALT_ABOVE_HEIGHT) {
                _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
                (void) upgrade_plan_new(m->halt_name, m->halt_height, NULL, NULL, &p);
                log_event(EVENT_UPGRADE_SKIPPED, LOG_ERR, 0, m->config->name, p, NULL,
                        "Upgrade '%s' scheduled at height %" PRId64 " is not carried out: %s was already at height %" PRId64 ", above it, so its --halt-height stopped it too late; %s runs on without that flag. Fix: 'oraivisorctl remove-upgrade %s', then schedule it again at a height ahead.",
                        strna(shown), m->halt_height, m->config->name, known, m->config->name, strna(shown));
                manager_height_save_seen(m);
        } else if (v == HALT_UNCONFIRMED)
                log_warning("%s's height is not known (no height line in its output, no RPC state, no validator state): upgrade '%s' is carried out on the SDK's word that it halts at the first block at or above %" PRId64 ". Keep its INF lines of module state, or its RPC, to have that checked.",
                        m->config->name, strna(shown), m->halt_height);
        return v;
}

/* Records the upgrade at the halt height as due: the plan carried out once the node is stopped. */
static int height_plan_due(Manager *m, const char *how) {
        if (upgrade_plan_new(m->halt_name, m->halt_height, NULL, NULL, &m->height_plan) < 0)
                return log_oom();
        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->height_plan, NULL,
                "%s %s at its --halt-height %" PRId64 ": upgrade '%s' scheduled there (no governance) is due.",
                m->config->name, how, m->halt_height, m->halt_name);
        /* Should the upgrade fail, the next start carries it out: never the old binary past H. */
        if (height_plan_mark_halted(m->layout, m->halt_name) < 0)
                log_warning("Should upgrade '%s' not finish, remove it with 'oraivisorctl remove-upgrade' or it is reported as passed at the next start.",
                        m->halt_name);
        return 0;
}

/* SDK v0.50.10+ refuses block H in FinalizeBlock and CometBFT stops consensus, but the process lives on:
 * it is stopped here, then upgraded (STATE_STOPPING) or started again without the flag (STATE_RESTARTING):
 * also when the chain's plan turned out to be at H (learnt while the node ran and not acted on then,
 * ORAIVISOR_HEIGHT_RESTART=false): without the flag it executes block H and halts there for the plan. */
static void halted_in_finalize(Manager *m) {
        const ScheduledUpgrade *g = governance_plan(m);
        if (m->state != STATE_RUNNING)
                return;
        if (g && g->height == m->halt_height) {
                _cleanup_free_ char *gn = string_escape_for_log(g->name, strlen(g->name), 200),
                        *sn = string_escape_for_log(m->halt_name, strlen(m->halt_name), 200);
                log_notice("%s refused block %" PRId64 " (its --halt-height), and the chain's governance plan '%s' is at that height: starting it again without the flag, so that it upgrades to '%s' there; upgrade '%s' scheduled there is superseded.",
                        m->config->name, m->halt_height, strna(gn), strna(gn), strna(sn));
                m->state = STATE_RESTARTING;
        } else if (!height_plan_still_scheduled(m->layout, m->halt_name, m->halt_height)) {
                log_notice("%s refused block %" PRId64 " (its --halt-height), but upgrade '%s' is no longer scheduled there: starting it again as it is.",
                        m->config->name, m->halt_height, m->halt_name);
                m->state = STATE_RESTARTING;
        } else if (halt_verdict(m) == HALT_ABOVE_HEIGHT)
                m->state = STATE_RESTARTING;
        else {
                char how[96];
                snprintf(how, sizeof how, "stopped before block %" PRId64 " (the SDK refused it in FinalizeBlock)", m->halt_height);
                if (height_plan_due(m, how) < 0)
                        return manager_exit(m, EXIT_INTERNAL);
                m->state = STATE_STOPPING;
        }
        if (launcher_stop(m->launcher, m->config->shutdown_grace) < 0)
                manager_exit(m, EXIT_SYSTEM);
}

/* The daemon is up: a FinalizeBlock halt it printed while it was starting (a node restarted just below
 * its --halt-height refuses the next block at once; the unit launcher reports the start only once the
 * job is done, and the journal may deliver the line before) is acted on now. */
void manager_height_started(Manager *m) {
        if (m->halt_seen && m->halt_kind == HEIGHT_LINE_HALT_FINALIZE)
                halted_in_finalize(m);
}

/* A line of the daemon's output: a height it reached, or the SDK saying it halts at its --halt-height. */
void manager_height_line(Manager *m, const char *line, size_t len) {
        HeightLine h;
        if (height_line_parse(line, len, &h) <= 0)
                return;
        int64_t c = height_line_committed(&h);
        if (c > m->height_seen) {
                m->height_seen = c;
                /* Now and then, so that a kill of oraivisor loses little. */
                if (c >= m->height_saved + 100)
                        manager_height_save_seen(m);
        }
        if (h.kind != HEIGHT_LINE_HALT_COMMIT && h.kind != HEIGHT_LINE_HALT_FINALIZE)
                return;
        if (m->halt_height <= 0 || m->halt_seen || h.height != m->halt_height)
                return;
        log_info("%s says it halts at its --halt-height %" PRId64 ".", m->config->name, m->halt_height);
        m->halt_seen = true;
        m->halt_kind = h.kind;
        if (h.kind == HEIGHT_LINE_HALT_FINALIZE)
                halted_in_finalize(m);
}

/* The daemon ended by itself and no governance plan is due: did it stop at its --halt-height? Returns 1
 * when that is so and the manager has acted (launched it again, or started the upgrade), 0 otherwise. */
int manager_height_exited(Manager *m, const DaemonExit *e) {
        char buf[128];

        if (m->halt_height <= 0 || !m->halt_seen)
                return 0;
        if (!height_plan_still_scheduled(m->layout, m->halt_name, m->halt_height)) {
                log_notice("%s %s at its --halt-height %" PRId64 ", but upgrade '%s' is no longer scheduled there: starting it again as it is.",
                        m->config->name, daemon_exit_describe(e, buf, sizeof(buf)), m->halt_height, m->halt_name);
                (void) manager_launch(m);
                return 1;
        }
        /* It committed the scheduled height and stopped: that upgrade, as a governance one; unless it was
         * past the height already (a halt right after its start, a height line above it). */
        if (halt_verdict(m) == HALT_ABOVE_HEIGHT) {
                (void) manager_launch(m);
                return 1;
        }
        if (height_plan_due(m, daemon_exit_describe(e, buf, sizeof(buf))) < 0) {
                manager_exit(m, EXIT_INTERNAL);
                return 1;
        }
        manager_start_upgrade(m, NULL);
        return 1;
}

/* At start-up, with no governance plan due: the node stopped at a scheduled height while we were down (or
 * that upgrade did not finish). Sets m->height_plan then. */
int manager_height_pending(Manager *m) {
        _cleanup_(height_pick_done) HeightPick pick = {};

        height_plan_pick(m->layout, &m->current, false, m->height_seen, NULL, &pick);
        if (!pick.halted_name)
                return 0;
        if (upgrade_plan_new(pick.halted_name, pick.halted_height, NULL, NULL, &m->height_plan) < 0)
                return log_oom();
        log_event(EVENT_PLAN_DETECTED, LOG_NOTICE, 0, m->config->name, m->height_plan, NULL,
                "Upgrade '%s' scheduled at height %" PRId64 " is pending (%s stopped there, '%s/current' runs %s): upgrading before the daemon starts.",
                pick.halted_name, pick.halted_height, m->config->name, m->layout->root, m->version_label);
        return 0;
}

/* An upgrade finished: the schedule at heights drops it, and those it supersedes. */
void manager_height_upgraded(Manager *m) {
        const UpgradePlan *p = m->height_plan ?: m->resume ? m->resume->plan : plan_arbiter_acting(m->arbiter);
        if (p)
                height_plan_done(m->layout, m->config->name, p, m->height_plan);
}

/* The schedule, or the chain's plan, changed while the node runs (what: "upgrades scheduled at a height",
 * "chain's governance plan"): it is restarted with the flag that gives now, unless that is the one it has. */
static void reconsider(Manager *m, const char *what, bool chain) {
        _cleanup_(height_pick_done) HeightPick pick = {};
        const ScheduledUpgrade *g = governance_plan(m);
        if (m->state != STATE_RUNNING || own_halt_height(m))
                return;
        height_plan_pick(m->layout, &m->current, false, m->height_seen, g, &pick);
        if (pick.height == m->halt_height && streq_ptr(pick.name, m->halt_name))
                return;
        _cleanup_free_ char *shown = pick.name ? string_escape_for_log(pick.name, strlen(pick.name), 200) : NULL;
        if (!m->config->height_restart) {
                log_notice("The %s changed; %s keeps its %s until its next start (ORAIVISOR_HEIGHT_RESTART=false).",
                        what, m->config->name, m->halt_height > 0 ? "--halt-height" : "run without --halt-height");
                return;
        }
        if (pick.height > 0 && chain && m->halt_governance > 0 && (!g || g->height != m->halt_governance))
                log_notice("The chain's governance plan is no longer at height %" PRId64 ": restarting %s with --halt-height %" PRId64 " for upgrade '%s' scheduled there (no governance).",
                        m->halt_governance, m->config->name, pick.height, strna(shown));
        else if (pick.height > 0)
                log_notice("Upgrade '%s' is now scheduled at height %" PRId64 ": restarting %s with --halt-height %" PRId64 ".",
                        strna(shown), pick.height, m->config->name, pick.height);
        else if (pick.superseded_name) {
                _cleanup_free_ char *gn = string_escape_for_log(g->name, strlen(g->name), 200),
                        *sn = string_escape_for_log(pick.superseded_name, strlen(pick.superseded_name), 200);
                log_notice("The chain's governance plan '%s' is now at height %" PRId64 ", where upgrade '%s' is scheduled: restarting %s without --halt-height %" PRId64 ", so that the plan is carried out there.",
                        strna(gn), g->height, strna(sn), m->config->name, pick.superseded_height);
        }
        else
                log_notice("No upgrade is scheduled at a height any more: restarting %s without --halt-height.", m->config->name);
        m->state = STATE_RESTARTING;
        if (launcher_stop(m->launcher, m->config->shutdown_grace) < 0)
                manager_exit(m, EXIT_SYSTEM);
}

/* A change of the schedule while the node runs. */
static int on_schedule_event(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        if (ev->len == 0 || !streq(ev->name, HEIGHT_SCHEDULE_FILE))
                return 0;
        reconsider(m, "upgrades scheduled at a height", false);
        return 0;
}

/* The chain watcher learnt something (or the node is running again): only a change of the chain's plan's
 * height can change the flag, so the schedule is read again only then. */
void manager_height_chain_changed(Manager *m) {
        const ScheduledUpgrade *g = governance_plan(m);
        if (m->state != STATE_RUNNING || (g ? g->height : 0) == m->halt_governance)
                return;
        reconsider(m, "chain's governance plan", true);
        m->halt_governance = g ? g->height : 0;
}

void manager_height_watch(Manager *m) {
        int r = sd_event_add_inotify(m->event, &m->schedule_watch, m->layout->root,
                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR, on_schedule_event, m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch '%s' for upgrades scheduled at a height; they take effect at the next start of the node: %m",
                        m->layout->root);
}