/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl status: what it gathered (oraivisorctl-status.c), written for people (aligned lines, as
 * `systemctl status`) and as one JSON document (docs/oraivisorctl.md#status). */

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "backup-list.h"
#include "backup-name.h"
#include "bus-util.h"
#include "chain-schedule.h"
#include "chain-state-file.h"
#include "fd-util.h"
#include "fs-util.h"
#include "height-schedule-file.h"
#include "lock.h"
#include "log.h"
#include "oraivisorctl-versions.h"
#include "plan-file.h"
#include "proc-stat.h"
#include "string-util.h"
#include "strv.h"
#include "unit-spec.h"
#include "upgrade-name.h"
#include "oraivisorctl-status.h"
#include "upgrade-record.h"

/* ---- output ------------------------------------------------------------------------------------------- */

static json_object *proc_json(const Proc *p) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "running", json_object_new_boolean(p->running));
        json_object_object_add(o, "pid", p->pid > 0 ? json_object_new_int(p->pid) : NULL);
        json_object_object_add(o, "since", ctl_time_json(p->since));
        return o;
}

/* A scheduled upgrade's "binary": null for a name that cannot be a folder, else ready, not_ready or missing. */
static json_object *binary_json(int ready, const char *not_ready) {
        return ready < 0 ? NULL
                         : json_object_new_string(not_ready ? "not_ready" : ready ? "ready" : "missing");
}

static json_object *sources_json(const char *a, const char *b) {
        json_object *o = json_object_new_array();
        if (o && a)
                json_object_array_add(o, json_object_new_string(a));
        if (o && b)
                json_object_array_add(o, json_object_new_string(b));
        return o;
}

/* What the chain watcher says of the plan approved on chain, added to its entry of "scheduled". */
static void chain_plan_json(json_object *p, const ChainView *c, const ScheduledUpgrade *u) {
        bool known = u->estimated_at > 0 && u->estimated_at < USEC_INFINITY - 1;
        json_object_object_add(p, "estimated_at", known ? ctl_time_json(u->estimated_at) : NULL);
        json_object_object_add(p, "estimated_left_usec",
                known ? json_object_new_uint64(u->estimated_at > c->now ? u->estimated_at - c->now : 0) : NULL);
        ctl_json_add_string(p, "info", u->info);
        ctl_json_add_string(p, "chain_binary", binary_state_to_string(u->binary));
        ctl_json_add_string(p, "chain_binary_error", u->binary_error);
        json_object_object_add(p, "first_seen", ctl_time_json(u->first_seen));
}

static json_object *chain_json(const ChainView *c) {
        if (!c->loaded)
                return NULL;
        const ChainState *cs = &c->state;
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        ctl_json_add_string(o, "rpc", cs->rpc);
        json_object_object_add(o, "reachable", json_object_new_boolean(cs->reachable));
        json_object_object_add(o, "reachable_since", ctl_time_json(cs->reachable_since));
        json_object_object_add(o, "height", cs->height > 0 ? json_object_new_int64(cs->height) : NULL);
        json_object_object_add(o, "height_time", ctl_time_json(cs->height_time));
        json_object_object_add(o, "block_time_usec", cs->block_time > 0 ? json_object_new_uint64(cs->block_time) : NULL);
        json_object_object_add(o, "catching_up", json_object_new_boolean(cs->catching_up));
        json_object_object_add(o, "updated", ctl_time_json(cs->updated));
        json_object_object_add(o, "age_usec", json_object_new_uint64(c->now > cs->updated ? c->now - cs->updated : 0));
        json_object_object_add(o, "stale", json_object_new_boolean(c->stale));
        return o;
}

int status_print_json(Ctl *ctl, Status *s) {
        json_object *o = json_object_new_object(), *v;
        if (!o)
                return log_oom(), CTL_EXIT_FAILURE;
        const CtlVersion *cur = ctl_versions_current(&s->versions);
        ctl_json_add_string(o, "home", ctl->config.home);
        ctl_json_add_string(o, "name", ctl->config.name);
        ctl_json_add_string(o, "current", cur ? cur->name : NULL);
        ctl_json_add_string(o, "current_folder", cur ? cur->folder : NULL);
        json_object_object_add(
                o, "current_ready", s->current_ready < 0 ? NULL : json_object_new_boolean(s->current_ready));
        ctl_json_add_string(o, "current_not_ready_reason", s->current_not_ready);
        json_object_object_add(o, "launcher", json_object_new_string(s->unit_mode ? "unit" : "exec"));

        v = proc_json(&s->daemon);
        if (v) {
                ctl_json_add_string(v, "unit", s->unit_mode ? s->daemon_unit : NULL);
                ctl_json_add_string(v, "unit_state", s->unit_mode ? s->daemon_active_state : NULL);
        }
        json_object_object_add(o, "daemon", v);
        json_object_object_add(o, "oraivisor", proc_json(&s->oraivisor));

        v = NULL;
        if (s->record) {
                v = json_object_new_object();
                json_object_object_add(v, "plan", ctl_plan_to_json(s->record->plan));
                ctl_json_add_string(v, "folder", s->record->folder);
                json_object_object_add(
                        v, "step", json_object_new_string(upgrade_step_to_string(s->record->step)));
                json_object_object_add(v, "started", ctl_time_json(s->record->started_usec));
                ctl_json_add_string(v, "backup", s->record->backup_name);
                json_object_object_add(v, "running", json_object_new_boolean(s->oraivisor.running));
                json_object *i = NULL;
                if (s->record->interrupted) {
                        i = json_object_new_object();
                        ctl_json_add_string(i, "by", s->record->interrupted->by);
                        ctl_json_add_string(i, "step", upgrade_step_to_string(s->record->interrupted->step));
                        ctl_json_add_string(i, "outcome", s->record->interrupted->outcome);
                        json_object_object_add(i, "when", ctl_time_json(s->record->interrupted->usec));
                }
                json_object_object_add(v, "interrupted", i);
        }
        json_object_object_add(o, "upgrade_in_progress", v);

        v = NULL;
        if (s->last) {
                v = json_object_new_object();
                ctl_json_add_string(v, "name", s->last->plan->name);
                json_object_object_add(v, "height",
                        s->last->plan->height > 0 ? json_object_new_int64(s->last->plan->height) : NULL);
                ctl_json_add_string(v, "folder", s->last->folder);
                json_object_object_add(v, "started", ctl_time_json(s->last->started_usec));
                json_object_object_add(v, "finished", ctl_time_json(s->last->finished_usec));
                json_object_object_add(v, "duration_usec",
                        s->last->started_usec && s->last->finished_usec >= s->last->started_usec
                                ? json_object_new_uint64(s->last->finished_usec - s->last->started_usec)
                                : NULL);
                ctl_json_add_string(v, "backup", s->last->backup_name);
        }
        json_object_object_add(o, "last_upgrade", v);

        json_object *a = json_object_new_array();
        if (s->have_scheduled) {
                json_object *p = json_object_new_object();
                ctl_json_add_string(p, "name", s->scheduled.plan->name);
                json_object_object_add(p, "height",
                        s->scheduled.plan->height > 0 ? json_object_new_int64(s->scheduled.plan->height)
                                                      : NULL);
                ctl_json_add_string(p, "time", s->scheduled.plan->time);
                ctl_json_add_string(p, "source", "data/" PLAN_FILE);
                json_object_object_add(p, "sources", sources_json("data/" PLAN_FILE, s->chain.also ? "chain" : NULL));
                ctl_json_add_string(p, "folder", s->scheduled.folder);
                json_object_object_add(p, "binary", binary_json(s->scheduled.ready, s->scheduled.not_ready));
                ctl_json_add_string(p, "binary_reason", s->scheduled.not_ready);
                json_object_object_add(
                        p, "downloadable", json_object_new_boolean(s->scheduled.downloadable));
                if (s->chain.also)
                        chain_plan_json(p, &s->chain, s->chain.also);
                json_object_array_add(a, p);
        }
        if (s->chain.plan) {
                const ChainView *c = &s->chain;
                json_object *p = json_object_new_object();
                ctl_json_add_string(p, "name", c->plan->name);
                json_object_object_add(p, "height", json_object_new_int64(c->plan->height));
                ctl_json_add_string(p, "time", NULL);
                ctl_json_add_string(p, "source", "chain");
                json_object_object_add(p, "sources", sources_json("chain", NULL));
                ctl_json_add_string(p, "folder", c->folder);
                json_object_object_add(p, "binary", binary_json(c->ready, c->not_ready));
                ctl_json_add_string(p, "binary_reason", c->not_ready);
                json_object_object_add(p, "downloadable", json_object_new_boolean(c->downloadable));
                chain_plan_json(p, c, c->plan);
                json_object_array_add(a, p);
        }
        for (size_t i = 0; i < s->heights.n_entries; i++) {
                const HeightUpgrade *h = &s->heights.entries[i];
                const HeightState *hs = &s->height_states[i];
                json_object *p = json_object_new_object();
                ctl_json_add_string(p, "name", h->name);
                json_object_object_add(p, "height", json_object_new_int64(h->height));
                ctl_json_add_string(p, "source", "height");
                json_object_object_add(p, "sources", sources_json("height", NULL));
                ctl_json_add_string(p, "folder", hs->folder);
                json_object_object_add(p, "binary", binary_json(hs->ready, hs->not_ready));
                ctl_json_add_string(p, "binary_reason", hs->not_ready);
                json_object_object_add(p, "halted", json_object_new_boolean(h->halted));
                json_object_array_add(a, p);
        }
        json_object_object_add(o, "scheduled", a);
        json_object_object_add(o, "chain", chain_json(&s->chain));

        a = json_object_new_array();
        for (size_t i = 0; i < s->backups.n_entries; i++) {
                const BackupEntry *e = &s->backups.entries[i];
                json_object *b = json_object_new_object();
                ctl_json_add_string(b, "name", e->name);
                ctl_json_add_string(b, "path", e->path);
                ctl_json_add_string(b, "upgrade_folder", e->folder);
                ctl_json_add_string(b, "upgrade", e->upgrade);
                json_object_object_add(b, "time", ctl_time_json(e->time));
                json_object_object_add(
                        b, "size", e->size != UINT64_MAX ? json_object_new_uint64(e->size) : NULL);
                json_object_object_add(b, "partial", json_object_new_boolean(e->partial));
                json_object_object_add(b, "snapshot", json_object_new_boolean(e->snapshot));
                json_object_array_add(a, b);
        }
        json_object_object_add(o, "backups", a);
        ctl_json_add_string(o, "backup_dir", s->backups.root);
        json_object_object_add(o, "backup_free_bytes",
                s->backups.free_bytes != UINT64_MAX ? json_object_new_uint64(s->backups.free_bytes) : NULL);

        a = json_object_new_array();
        STRV_FOREACH (w, s->warnings)
                json_object_array_add(a, json_object_new_string(*w));
        json_object_object_add(o, "warnings", a);
        int r = ctl_print_json(o);
        json_object_put(o);
        return r;
}

static void print_proc(Ctl *ctl, const char *label, const Proc *p, const char *extra) {
        char t[CTL_TIME_MAX];
        printf("%12s: %s%s%s", label, p->running ? ctl_ansi_green(ctl) : ctl_ansi_red(ctl),
                p->running ? "running" : "not running", ctl_ansi_normal(ctl));
        if (p->pid > 0)
                printf(" (pid %d)", (int) p->pid);
        if (p->since > 0)
                printf(" since %s", ctl_format_time(p->since, t, sizeof t));
        printf("%s\n", strempty(extra));
}

/* "Chain: height 1234000 (2026-12-06 19:40:02 UTC), in sync, ~5s a block" and the RPC's line, from the
 * watcher's file; nothing when there is none. */
static void print_chain(Ctl *ctl, Status *s) {
        const ChainView *c = &s->chain;
        const ChainState *cs = &c->state;
        char t[CTL_TIME_MAX], span[FORMAT_TIMESPAN_MAX], a[FORMAT_APPROX_MAX];
        if (!c->loaded)
                return;
        if (cs->height > 0) {
                printf("%12s: height %" PRId64 " (%s), %s%s%s", "Chain", cs->height,
                        ctl_format_time(cs->height_time, t, sizeof t),
                        cs->catching_up ? ctl_ansi_yellow(ctl) : "", cs->catching_up ? "catching up" : "in sync",
                        cs->catching_up ? ctl_ansi_normal(ctl) : "");
                if (cs->block_time > 0)
                        printf(", ~%s a block", format_approx(a, sizeof a, cs->block_time));
                putchar('\n');
        } else
                printf("%12s: height not read yet\n", "Chain");
        _cleanup_free_ char *rpc = status_esc(cs->rpc);
        printf("%12s: %s %s%s%s", "Node RPC", strna(rpc), cs->reachable ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl),
                cs->reachable ? "reachable" : "not reachable", ctl_ansi_normal(ctl));
        if (cs->reachable_since > 0)
                printf(" since %s", ctl_format_time(cs->reachable_since, t, sizeof t));
        usec_t age = c->now > cs->updated ? (c->now - cs->updated) / USEC_PER_SEC * USEC_PER_SEC : 0;
        printf("; %s written %s%s%s%s%s\n", CHAIN_STATE_FILE, age > 0 ? format_timespan(span, sizeof span, age) : "just now",
                age > 0 ? " ago" : "",
                c->stale ? ctl_ansi_yellow(ctl) : "",
                c->stale ? ": stale (see below)" : !s->oraivisor.running ? " (oraivisor is not running: as last seen)" : "",
                c->stale ? ctl_ansi_normal(ctl) : "");
}

int status_print_human(Ctl *ctl, Status *s, bool ok) {
        char t[CTL_TIME_MAX], b[BACKUP_FORMAT_BYTES_MAX];
        const CtlVersion *cur = ctl_versions_current(&s->versions);

        _cleanup_free_ char *home = status_esc(ctl->config.home);
        printf("%s●%s %s%s%s node in %s%s%s%s\n", ok ? ctl_ansi_green(ctl) : ctl_ansi_red(ctl),
                ctl_ansi_normal(ctl), ctl_ansi_bold(ctl), ctl->config.name, ctl_ansi_normal(ctl), home,
                ctl->instance ? " (oraivisor@" : "", strempty(ctl->instance),
                ctl->instance ? ".service)" : "");
        _cleanup_free_ char *cn = cur ? status_esc(cur->name) : NULL, *cf = cur ? status_esc(cur->rel) : NULL;
        if (cur)
                /* The words of the Scheduled line below, and of `list` and `check`. */
                printf("%12s: %s (%s)%s%s%s%s%s\n", "Current", strna(cn), strna(cf),
                        s->current_ready < 0 && !s->not_checked ? "" : ": binary ",
                        s->current_ready > 0 ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl),
                        s->current_ready > 0 ? "ready" : s->current_ready == 0 ? "not ready (see below)"
                                : s->not_checked                                ? "not checked: "
                                                                                : "",
                        s->current_ready < 0 ? strempty(s->not_checked) : "", ctl_ansi_normal(ctl));
        else
                printf("%12s: %snone%s\n", "Current", ctl_ansi_red(ctl), ctl_ansi_normal(ctl));

        _cleanup_free_ char *extra = NULL;
        if (s->unit_mode && s->daemon_unit &&
                asprintf(&extra, "; %s: %s", s->daemon_unit,
                        s->daemon_active_state ? s->daemon_active_state : "unknown") < 0)
                extra = NULL;
        print_proc(ctl, "Daemon", &s->daemon, extra);
        print_proc(ctl, "Oraivisor", &s->oraivisor, NULL);

        if (s->record) {
                _cleanup_free_ char *d = upgrade_plan_describe(s->record->plan), *de = d ? status_esc(d) : NULL;
                printf("%12s: %s%s%s at step %s%s, started %s", "Upgrading", ctl_ansi_yellow(ctl), strna(de),
                        ctl_ansi_normal(ctl), upgrade_step_to_string(s->record->step),
                        s->oraivisor.running ? "" : " (interrupted)",
                        ctl_format_time(s->record->started_usec, t, sizeof t));
                if (s->record->backup_name)
                        printf("; backup %s", s->record->backup_name);
                putchar('\n');
        }
        if (s->last) {
                char span[FORMAT_TIMESPAN_MAX];
                _cleanup_free_ char *d = upgrade_plan_describe(s->last->plan), *de = d ? status_esc(d) : NULL;
                printf("%12s: %s, finished %s", "Last upgrade", strna(de),
                        ctl_format_time(s->last->finished_usec, t, sizeof t));
                if (s->last->started_usec && s->last->finished_usec >= s->last->started_usec)
                        printf(" after %s",
                                format_timespan(
                                        span, sizeof span, s->last->finished_usec - s->last->started_usec));
                printf("; backup %s\n", s->last->backup_name ? s->last->backup_name : "none");
        }
        print_chain(ctl, s);
        char when[160];
        if (s->have_scheduled) {
                _cleanup_free_ char *d = upgrade_plan_describe(s->scheduled.plan), *de = d ? status_esc(d) : NULL,
                                    *f = status_esc(s->scheduled.folder);
                const char *state = s->scheduled.ready < 0 ? "invalid name"
                        : s->scheduled.not_ready           ? "not ready (see below)"
                        : s->scheduled.ready               ? "ready"
                        : s->scheduled.downloadable        ? "missing (oraivisor will download it)"
                                                           : "missing";
                printf("%12s: %s%s%s%s: binary %s%s%s (upgrades/%s)\n", "Scheduled", strna(de),
                        s->chain.also ? " (" : "",
                        s->chain.also ? status_chain_when(&s->chain, s->chain.also, when, sizeof when) : "",
                        s->chain.also ? "), in data/" PLAN_FILE " and approved on chain" : "",
                        s->scheduled.ready > 0 && !s->scheduled.not_ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl), state,
                        ctl_ansi_normal(ctl), f);
        }
        if (s->chain.plan) {
                const ChainView *c = &s->chain;
                _cleanup_free_ char *n = status_esc(c->plan->name), *f = status_esc(c->folder);
                const char *state = c->ready < 0 ? "invalid name"
                        : c->not_ready           ? "not ready (see below)"
                        : c->ready               ? "ready"
                        : c->plan->binary == BINARY_STAGING ? "missing (oraivisor is downloading it)"
                        : c->plan->binary == BINARY_FAILED && c->downloadable ? "missing (download failed, see below)"
                        : c->downloadable        ? "missing (oraivisor will download it)"
                                                 : "missing";
                printf("%12s: '%s' at height %" PRId64 " (%s), approved on chain: binary %s%s%s%s%s%s\n",
                        s->have_scheduled ? "" : "Scheduled", strna(n), c->plan->height,
                        status_chain_when(c, c->plan, when, sizeof when),
                        c->ready > 0 && !c->not_ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl), state,
                        ctl_ansi_normal(ctl), c->ready >= 0 ? " (upgrades/" : "", c->ready >= 0 ? strna(f) : "",
                        c->ready >= 0 ? ")" : "");
        }
        if (!s->have_scheduled && !s->chain.plan && s->heights.n_entries == 0)
                printf("%12s: none known (data/" PLAN_FILE "%s)\n", "Scheduled",
                        s->chain.loaded ? ", the chain" : "");
        for (size_t i = 0; i < s->heights.n_entries; i++) {
                const HeightUpgrade *h = &s->heights.entries[i];
                const HeightState *hs = &s->height_states[i];
                _cleanup_free_ char *n = status_esc(h->name);
                printf("%12s: upgrade %s at height %" PRId64 " (oraivisorctl --height, no governance): binary %s%s%s\n",
                        s->have_scheduled || s->chain.plan || i > 0 ? "" : "Scheduled", strna(n), h->height,
                        hs->ready > 0 && !hs->not_ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl),
                        hs->not_ready ? "not ready (see below)" : hs->ready > 0 ? "ready" : "missing",
                        ctl_ansi_normal(ctl));
        }

        _cleanup_free_ char *bd = status_esc(s->backups.root);
        printf("%12s: %zu in %s", "Backups", s->backups.n_entries, bd);
        if (s->backups.free_bytes != UINT64_MAX)
                printf(", %s free", backup_format_bytes(b, sizeof b, s->backups.free_bytes));
        putchar('\n');
        size_t unmeasured = 0;
        for (size_t i = 0; i < s->backups.n_entries; i++) {
                const BackupEntry *e = &s->backups.entries[i];
                printf("%12s  %s  %s  %s%s%s\n", "", e->name, ctl_format_time(e->time, t, sizeof t),
                        e->size != UINT64_MAX ? backup_format_bytes(b, sizeof b, e->size) : "?",
                        e->snapshot ? "  (snapshot)" : "", e->partial ? "  (unfinished)" : "");
                unmeasured += e->size_error == -ETIME;
        }
        if (unmeasured > 0) {
                char span[FORMAT_TIMESPAN_MAX];
                printf("%12s  (%zu not measured within %s: 'oraivisorctl backups' measures them all)\n", "",
                        unmeasured, format_timespan(span, sizeof span, BACKUP_LIST_SIZE_BUDGET));
        }
        if (s->warnings) {
                printf("%12s:\n", "Warnings");
                STRV_FOREACH (w, s->warnings)
                        printf("%12s  %s%s%s\n", "", ctl_ansi_yellow(ctl), *w, ctl_ansi_normal(ctl));
        }
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
