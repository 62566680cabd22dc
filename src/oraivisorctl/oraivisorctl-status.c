/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl status: the node at a glance, as `systemctl status` shows a unit: the current version, the
 * daemon (under systemd: its unit, read from PID 1 over D-Bus; in exec mode: the holders of oraivisor's
 * lock in /proc), oraivisor and the upgrade it is running (its record), the last upgrade, the known plans
 * and whether their binaries are installed and ready (the check of `check`, with the current binary's, on
 * one loop), what the chain watcher knows (chain-state.json: the chain's height, whether its RPC answers, and
 * the plan approved on chain days before the node writes data/upgrade-info.json), the backups and the room
 * left for the next one, and warnings.
 * Exit status 0 when the daemon runs and nothing needs attention, 3 otherwise. */

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

static void status_done(Status *s) {
        layout_free(s->layout);
        ctl_versions_done(&s->versions);
        free(s->daemon_unit);
        free(s->daemon_active_state);
        upgrade_record_free(s->record);
        last_upgrade_free(s->last);
        upgrade_plan_free(s->scheduled.plan);
        for (size_t i = 0; s->height_states && i < s->heights.n_entries; i++) {
                free(s->height_states[i].folder);
                free(s->height_states[i].not_ready);
        }
        free(s->height_states);
        height_schedule_done(&s->heights);
        free(s->current_not_ready);
        free(s->not_checked);
        free(s->scheduled.folder);
        free(s->scheduled.not_ready);
        chain_state_done(&s->chain.state);
        free(s->chain.folder);
        free(s->chain.not_ready);
        backup_list_done(&s->backups);
        strv_free(s->warnings);
}

static void warn(Status *s, const char *format, ...) _printf_(2, 3);
static void warn(Status *s, const char *format, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        va_start(ap, format);
        int r = vasprintf(&m, format, ap);
        va_end(ap);
        if (r < 0 || strv_extend(&s->warnings, m) < 0)
                log_oom();
}

char *status_esc(const char *s) {
        return s ? string_escape_for_log(s, strlen(s), 200) : strdup("-");
}

/* ---- processes ---------------------------------------------------------------------------------------- */

static usec_t boot_time_usec(void) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, "/proc/stat", 1U << 20, &buf, &len) < 0)
                return 0;
        const char *p = strstr(buf, "\nbtime ");
        return p ? (usec_t) strtoull(p + 7, NULL, 10) * USEC_PER_SEC : 0;
}

static int proc_read(pid_t pid, ProcStat *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t len;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        int r = read_file_at(AT_FDCWD, path, 4096, &buf, &len);
        if (r < 0)
                return r;
        return proc_stat_parse(buf, len, ret);
}

static usec_t proc_since(const ProcStat *st) {
        usec_t boot = boot_time_usec();
        long hz = sysconf(_SC_CLK_TCK);
        if (boot == 0 || hz <= 0 || st->starttime == 0)
                return 0;
        return boot + st->starttime * USEC_PER_SEC / (uint64_t) hz;
}

/* Whether pid's executable lies in the version tree: then it is a node, not oraivisor. */
static bool proc_is_node(Layout *l, pid_t pid) {
        char path[64], exe[4096];
        snprintf(path, sizeof path, "/proc/%d/exe", (int) pid);
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        if (n < 0)
                return false;
        exe[n] = 0;
        const char *rest = path_startswith_dir(exe, l->root);
        if (rest)
                return true;
        /* The tree may be reached through a symlink: compare with current's binary's real path. */
        _cleanup_free_ char *real = realpath(l->root, NULL);
        return real && path_startswith_dir(exe, real);
}

/* Exec mode, and oraivisor's own pid in either mode: oraivisor holds the lock; in exec mode its daemon (a
 * child) inherited it. A lone holder running a binary of the tree is a daemon that outlived oraivisor. */
static void inspect_lock(Ctl *ctl, Status *s) {
        _cleanup_free_ pid_t *pids = NULL;
        int held = lock_probe(s->layout->root_fd);
        if (held < 0) {
                warn(s, "Cannot check whether oraivisor runs ('%s/.lock': %s).", s->layout->root,
                        strerror(-held));
                return;
        }
        int n = held > 0 ? lock_holders(s->layout->root_fd, &pids) : 0;
        if (n < 0)
                n = 0;
        ProcStat st[8];
        size_t m = 0;
        for (int i = 0; i < n && m < ELEMENTSOF(st); i++)
                if (proc_read(pids[i], &st[m]) >= 0 && st[m].state != 'Z')
                        m++;
        for (size_t i = 0; i < m; i++) {
                bool parent_holds = false;
                for (size_t j = 0; j < m; j++)
                        parent_holds = parent_holds || st[j].pid == st[i].ppid;
                bool node = parent_holds || proc_is_node(s->layout, st[i].pid);
                Proc *p = node ? &s->daemon : &s->oraivisor;
                if (node && s->unit_mode)
                        continue; /* under systemd the daemon is its unit's; only oraivisor holds the lock */
                if (p->running && p->pid < st[i].pid)
                        continue;
                *p = (Proc){.running = true, .pid = st[i].pid, .since = proc_since(&st[i])};
        }
        /* The lock is held but we may not look into its holders (another user's processes). */
        if (held > 0 && !s->oraivisor.running && !s->daemon.running) {
                s->oraivisor.running = true;
                s->holders_hidden = true;
        }
}

static int inspect_unit(Ctl *ctl, Status *s) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        UnitState u = UNIT_STATE_INIT;

        int r = sd_bus_open_system(&bus);
        if (r < 0) {
                warn(s, "Cannot ask systemd about '%s': the system bus is not reachable (%s).",
                        s->daemon_unit, strerror(-r));
                return r;
        }
        r = bus_unit_get_state(bus, s->daemon_unit, &u, &error);
        if (r < 0) {
                warn(s, "Cannot read the state of '%s' from systemd: %s.", s->daemon_unit,
                        bus_error_text(&error, r));
                unit_state_done(&u);
                return r;
        }
        if (r > 0) {
                if (asprintf(&s->daemon_active_state, "%s (%s)", strna(u.active_state), strna(u.sub_state)) <
                        0)
                        s->daemon_active_state = NULL;
                s->daemon.running = unit_active_state_is_running(u.active_state);
                s->daemon.pid = s->daemon.running ? (pid_t) u.main_pid : 0;
                s->daemon.since = s->daemon.running ? u.active_enter_usec : 0;
        } else
                s->daemon_active_state = strdup("not loaded");
        unit_state_done(&u);

        /* oraivisor's own unit, when we know it. */
        if (ctl->instance) {
                _cleanup_free_ char *own = NULL;
                UnitState o = UNIT_STATE_INIT;
                sd_bus_error_free(&error);
                if (asprintf(&own, "oraivisor@%s.service", ctl->instance) >= 0 &&
                        bus_unit_get_state(bus, own, &o, &error) > 0 &&
                        unit_active_state_is_running(o.active_state) && o.main_pid > 0) {
                        s->oraivisor = (Proc){
                                .running = true, .pid = (pid_t) o.main_pid, .since = o.active_enter_usec};
                }
                unit_state_done(&o);
        }
        return 0;
}

/* Which launcher oraivisor uses here, as it decides it: ORAIVISOR_LAUNCHER, else under systemd (the unit's
 * view, -i) the unit launcher. Asked from a shell, auto cannot know: a loaded daemon unit says. */
static void choose_mode(Ctl *ctl, Status *s) {
        _cleanup_free_ char *own = NULL;
        if (ctl->instance && asprintf(&own, "oraivisor@%s.service", ctl->instance) < 0)
                own = NULL;
        if (daemon_unit_name(ctl->config.daemon_unit, own, ctl->config.name, &s->daemon_unit) < 0)
                s->daemon_unit = NULL;

        switch (ctl->config.launcher) {
        case LAUNCHER_UNIT: s->unit_mode = true; return;
        case LAUNCHER_EXEC: s->unit_mode = false; return;
        default: break;
        }
        if (ctl->config.under_systemd) {
                s->unit_mode = true;
                return;
        }
        s->unit_mode = false;
        if (!s->daemon_unit || access("/run/systemd/system", F_OK) < 0)
                return;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        UnitState u = UNIT_STATE_INIT;
        if (sd_bus_open_system(&bus) >= 0 && bus_unit_get_state(bus, s->daemon_unit, &u, &error) > 0 &&
                !unit_active_state_is_ended(u.active_state))
                s->unit_mode = true;
        unit_state_done(&u);
}

/* ---- the rest ----------------------------------------------------------------------------------------- */

static void inspect_plans(Ctl *ctl, Status *s) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        const char *reason = NULL;
        int r = layout_read_plan_file(s->layout, &plan, &reason);
        if (r == -EBADMSG)
                warn(s, "'%s/data/" PLAN_FILE "' is not a valid plan (%s).", s->layout->home, reason);
        if (r <= 0)
                return;
        /* The plan the current version was activated by is done, not scheduled. */
        const CtlVersion *cur = ctl_versions_current(&s->versions);
        if (cur && cur->plan && upgrade_plan_same(cur->plan, plan))
                return;
        _cleanup_free_ char *folder = NULL;
        int ready = ctl_plan_binary_ready(s->layout, plan->name, &folder);
        /* Without a recorded plan, the version in the plan's folder being current says the same (as
         * oraivisor's own check at start-up). */
        if (cur && cur->folder && streq_ptr(folder, cur->folder))
                return;
        s->have_scheduled = true;
        s->scheduled.ready = ready;
        s->scheduled.folder = TAKE_PTR(folder);
        json_object *pj = ctl_plan_to_json(plan), *v;
        s->scheduled.downloadable = ctl->config.allow_download && pj &&
                ((json_object_object_get_ex(pj, "binary_url", &v) && v) ||
                        (json_object_object_get_ex(pj, "manifest_url", &v) && v));
        json_object_put(pj);
        _cleanup_free_ char *name = string_escape_for_log(plan->name, strlen(plan->name), 200);
        if (s->scheduled.ready == 0 && !s->scheduled.downloadable)
                warn(s,
                        "The binary of the planned upgrade '%s' is not installed, and oraivisor will not "
                        "download it: install it now (oraivisorctl add-upgrade or prepare-upgrade).",
                        strna(name));
        else if (s->scheduled.ready < 0)
                warn(s, "The planned upgrade's name '%s' cannot be a folder: oraivisor will refuse it.",
                        strna(name));
        /* Installed is not enough: it must start on this host (inspect_readiness()). */
        s->scheduled.plan = TAKE_PTR(plan);
}

static void inspect_heights(Status *s) {
        const char *reason = NULL;
        int r = height_schedule_load_at(s->layout->root_fd, &s->heights, &reason);
        if (r == -EBADMSG)
                warn(s, "'%s/" HEIGHT_SCHEDULE_FILE "' is damaged (%s): oraivisor acts on none of its upgrades; fix or remove it.",
                        s->layout->root, reason);
        else if (r < 0)
                warn(s, "'%s/" HEIGHT_SCHEDULE_FILE "' cannot be read: %s.", s->layout->root, strerror(-r));
        s->height_states = new0(HeightState, s->heights.n_entries + 1);
        if (!s->height_states) {
                log_oom();
                height_schedule_done(&s->heights);
                return;
        }
        for (size_t i = 0; i < s->heights.n_entries; i++)
                s->height_states[i].ready =
                        ctl_plan_binary_ready(s->layout, s->heights.entries[i].name, &s->height_states[i].folder);
}

/* "~2026-12-08 19:02 UTC, in ~2d4h" into buf: when the chain reaches u's height, as the watcher estimated it
 * from the chain's pace ("~": an estimate); "time not estimated yet" while the pace is unknown. */
const char *status_chain_when(const ChainView *c, const ScheduledUpgrade *u, char *buf, size_t len) {
        char a[FORMAT_APPROX_MAX], t[64] = "";
        time_t secs = (time_t) MIN(u->estimated_at / USEC_PER_SEC, (usec_t) INT32_MAX * 1000);
        struct tm tm;
        if (u->estimated_at == 0 || u->estimated_at >= USEC_INFINITY - 1) {
                snprintf(buf, len, "time not estimated yet");
                return buf;
        }
        if (gmtime_r(&secs, &tm))
                strftime(t, sizeof t, "%Y-%m-%d %H:%M UTC", &tm);
        if (u->estimated_at <= c->now)
                snprintf(buf, len, "~%s, due now", t);
        else
                snprintf(buf, len, "~%s, in ~%s", t, format_approx(a, sizeof a, u->estimated_at - c->now));
        return buf;
}

/* What the chain watcher learnt (chain-state.json): the chain, whether the watcher is alive, and the plan
 * approved on chain, days before the node writes data/upgrade-info.json at the height. The file is input
 * like any other: a damaged one is one warning, names are escaped. */
static void inspect_chain(Ctl *ctl, Status *s) {
        ChainView *c = &s->chain;
        const char *reason = NULL;
        char span[FORMAT_TIMESPAN_MAX], when[160];

        c->now = now(CLOCK_REALTIME);
        int r = chain_state_load_at(s->layout->root_fd, &c->state, &reason);
        if (r == -ENOENT)
                return;
        if (r == -ENOMEM)
                return (void) log_oom();
        if (r == -EBADMSG) {
                warn(s, "'%s/" CHAIN_STATE_FILE "' is damaged (%s): what the chain watcher learnt is not shown; "
                        "oraivisor writes it afresh at its next start.",
                        s->layout->root, strna(reason));
                c->state = (ChainState){};
                return;
        }
        if (r < 0) {
                warn(s, "'%s/" CHAIN_STATE_FILE "' cannot be read: %s.", s->layout->root, strerror(-r));
                c->state = (ChainState){};
                return;
        }
        c->loaded = true;

        /* While the RPC answers, the watcher rewrites the file at every poll: an old one means it is stuck. */
        if (s->oraivisor.running && ctl->config.node_rpc_off) {
                c->stale = true;
                warn(s, "'%s/" CHAIN_STATE_FILE "' is left from an earlier run: the chain watcher is off "
                        "(ORAIVISOR_NODE_RPC=off), so what it says may be out of date; remove it.",
                        s->layout->root);
        } else if (s->oraivisor.running && c->state.reachable) {
                usec_t since = MAX(c->state.updated, s->oraivisor.since), limit =
                        CHAIN_STALE_POLLS * ctl->config.chain_poll_interval + CHAIN_STALE_SLACK;
                if (c->now > since && c->now - since > limit) {
                        c->stale = true;
                        warn(s, "'%s/" CHAIN_STATE_FILE "' was last written %s ago, though oraivisor runs and "
                                "polls the node's RPC every %s: the chain watcher is stuck or off; see oraivisor's "
                                "log%s%s%s.",
                                s->layout->root, format_timespan(span, sizeof span, c->now - c->state.updated),
                                format_timespan(when, sizeof when, ctl->config.chain_poll_interval),
                                ctl->instance ? " (journalctl -u oraivisor@" : "", strempty(ctl->instance),
                                ctl->instance ? ".service)" : "");
                }
        }

        /* The chain's plan, as the watcher acts on it (the first from governance; the chain has one at a time). */
        const ScheduledUpgrade *u = chain_state_find(&c->state, SCHEDULED_SOURCE_GOVERNANCE, NULL);
        if (!u || (c->state.height > 0 && u->height <= c->state.height))
                return; /* none, or the chain is past it (the watcher drops it at its next poll) */
        /* The plan the current version was activated by is done, not scheduled (as inspect_plans()). */
        const CtlVersion *cur = ctl_versions_current(&s->versions);
        if (cur && cur->plan && streq(cur->plan->name, u->name) && cur->plan->height == u->height)
                return;
        if (s->have_scheduled && streq(s->scheduled.plan->name, u->name) &&
                (s->scheduled.plan->height == u->height || s->scheduled.plan->height == 0)) {
                c->also = u; /* one plan, two sources: data/upgrade-info.json's entry says both */
                return;
        }

        _cleanup_free_ char *name = status_esc(u->name), *folder = NULL;
        r = upgrade_name_to_folder(u->name, &folder);
        if (r == -ENOMEM)
                return (void) log_oom();
        if (r < 0) {
                c->plan = u;
                c->ready = r;
                warn(s, "The upgrade '%s' approved on chain for height %" PRId64 " has a name that cannot be a "
                        "folder (%s): oraivisor will refuse it.",
                        strna(name), u->height, upgrade_name_error(r));
                return;
        }
        folder = mfree(folder);
        int ready = ctl_plan_binary_ready(s->layout, u->name, &folder);
        if (ready == -ENOMEM)
                return (void) log_oom();
        if (cur && cur->folder && streq_ptr(folder, cur->folder))
                return;
        c->plan = u;
        c->ready = ready;
        c->folder = TAKE_PTR(folder);
        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        if (upgrade_plan_new(u->name, u->height, NULL, u->info, &plan) < 0)
                return (void) log_oom();
        json_object *pj = ctl_plan_to_json(plan), *v;
        c->preparable = pj && ((json_object_object_get_ex(pj, "binary_url", &v) && v) ||
                                      (json_object_object_get_ex(pj, "manifest_url", &v) && v));
        json_object_put(pj);
        c->downloadable = c->preparable && ctl->config.allow_download;
        if (c->ready != 0)
                return; /* installed: the readiness check says whether it starts here (inspect_readiness()) */

        status_chain_when(c, u, when, sizeof when);
        _cleanup_free_ char *error = u->binary == BINARY_FAILED && u->binary_error ? status_esc(u->binary_error) : NULL;
        if (c->downloadable && error)
                warn(s, "The binary of the upgrade '%s' approved on chain for height %" PRId64 " (%s) is not "
                        "installed, and oraivisor's download failed (%s); it tries again. Or install it now: "
                        "oraivisorctl add-upgrade '%s' PATH.",
                        strna(name), u->height, when, error, strna(name));
        else if (!c->downloadable)
                warn(s, "The binary of the upgrade '%s' approved on chain for height %" PRId64 " (%s) is not "
                        "installed, and oraivisor will not download it: install it now: oraivisorctl add-upgrade "
                        "'%s' PATH%s%s%s.",
                        strna(name), u->height, when, strna(name),
                        c->preparable ? ", or oraivisorctl prepare-upgrade '" : "",
                        c->preparable ? strna(name) : "",
                        c->preparable ? "' (it fetches what the plan's info names)" : "");
}

/* Installed is not enough: the current binary, the planned upgrade's and those at a height must start on
 * this host (issue 17). The readiness check of `oraivisorctl check` and `list`, all at once. */
static void inspect_readiness(Ctl *ctl, Status *s) {
        const CtlVersion *cur = ctl_versions_current(&s->versions);
        size_t n = 3 + s->heights.n_entries; /* current, data/upgrade-info.json's, those at a height, the chain's */
        _cleanup_(credentials_done) Credentials creds = {};
        _cleanup_strv_free_ char **rels = NULL;
        _cleanup_free_ CtlCheck *checks = new0(CtlCheck, n);
        int r;

        s->current_ready = -1;
        if (!checks)
                return (void) log_oom();
        if (cur && cur->binary_error < 0) {
                s->current_ready = 0; /* judge() says it */
                if (ctl_binary_not_ready_reason(cur, &s->current_not_ready) < 0)
                        return (void) log_oom();
        } else if (cur)
                checks[0].folder_rel = cur->rel;
        /* Their folders, kept in rels until the checks are done. */
        for (size_t i = 1; i < n; i++) {
                const char *folder = i == 1 ? (s->have_scheduled && s->scheduled.ready > 0 ? s->scheduled.folder : NULL)
                        : i == n - 1 ? (s->chain.plan && s->chain.ready > 0 ? s->chain.folder : NULL)
                        : s->height_states[i - 2].ready > 0 ? s->height_states[i - 2].folder
                                                            : NULL;
                _cleanup_free_ char *rel = NULL;
                if (!folder)
                        continue;
                if (asprintf(&rel, "upgrades/%s", folder) < 0 || strv_consume(&rels, TAKE_PTR(rel)) < 0)
                        return (void) log_oom();
                checks[i].folder_rel = rels[strv_length(rels) - 1];
        }

        r = credentials_resolve(ctl->config.daemon_user, ctl->config.daemon_group, &creds, &s->not_checked);
        if (r == -ENOMEM)
                return (void) log_oom();
        if (r < 0) {
                if (!s->not_checked)
                        s->not_checked = strdup(strerror(-r));
                return;
        }
        r = ctl_check_versions(ctl, &creds, checks, n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                CtlCheck *c = &checks[i];
                if (c->folder_rel && !c->checked)
                        log_warning("Could not check that '%s' starts on this host: %s. Run oraivisorctl check.",
                                c->folder_rel, strerror(-(c->error ?: -ECANCELED)));
                if (!c->checked || c->ready)
                        continue;
                _cleanup_free_ char *why = strdup(c->reason ?: "cannot be checked: out of memory");
                if (!why)
                        break;
                if (i == 0)
                        warn(s, "The current binary '%s' will not start%s on this host: it %s.%s", cur->binary,
                                s->daemon.running ? " again" : "", why,
                                s->daemon.running ? " The node runs on; fix it before it restarts." : "");
                else if (i == 1) {
                        _cleanup_free_ char *name = status_esc(s->scheduled.plan->name);
                        warn(s, "The binary of the planned upgrade '%s' is installed but will not start on this host: it %s.",
                                strna(name), why);
                } else if (i == n - 1) {
                        char when[160];
                        _cleanup_free_ char *name = status_esc(s->chain.plan->name);
                        warn(s, "The binary of the upgrade '%s' approved on chain for height %" PRId64 " (%s) is "
                                "installed but will not start on this host: it %s. Install a working build: "
                                "oraivisorctl add-upgrade '%s' PATH --force, then oraivisorctl check '%s'.",
                                strna(name), s->chain.plan->height,
                                status_chain_when(&s->chain, s->chain.plan, when, sizeof when), why, strna(name),
                                strna(name));
                } else {
                        _cleanup_free_ char *name = status_esc(s->heights.entries[i - 2].name);
                        warn(s, "The binary of the upgrade '%s' at height %" PRId64 " is installed but will not start on this host: it %s.",
                                strna(name), s->heights.entries[i - 2].height, why);
                }
                char **dst = i == 0 ? &s->current_not_ready
                        : i == 1    ? &s->scheduled.not_ready
                        : i == n - 1 ? &s->chain.not_ready
                                     : &s->height_states[i - 2].not_ready;
                *dst = TAKE_PTR(why);
        }
        if (r < 0)
                log_warning("Could not check that the binaries start on this host: %s. Run oraivisorctl check.",
                        strerror(-r));
        else if (checks[0].checked)
                s->current_ready = checks[0].ready;
        for (size_t i = 0; i < n; i++)
                ctl_check_done(&checks[i]);
}

static void inspect_records(Status *s) {
        const char *reason = NULL;
        int r = upgrade_record_read_at(s->layout->root_fd, &s->record, &reason);
        if (r == -EBADMSG)
                warn(s,
                        "'%s/" UPGRADE_RECORD_FILE
                        "' is damaged (%s): oraivisor will not start until it is looked at.",
                        s->layout->root, reason);
        else if (r < 0)
                warn(s, "Cannot read '%s/" UPGRADE_RECORD_FILE "': %s.", s->layout->root, strerror(-r));
        else if (r > 0 && !s->oraivisor.running)
                warn(s,
                        "The upgrade to '%s' was interrupted at step %s: the next start of oraivisor "
                        "resumes it.",
                        s->record->plan->name, upgrade_step_to_string(s->record->step));

        r = last_upgrade_read_at(s->layout->root_fd, &s->last, &reason);
        if (r == -EBADMSG)
                warn(s, "'%s/" LAST_UPGRADE_FILE "' is damaged (%s), ignoring it.", s->layout->root, reason);
}

static void inspect_backups(Ctl *ctl, Status *s) {
        /* The same listing as `oraivisorctl backups` (shared/backup-list.h). */
        /* Sizes within a time budget, newest first: a node's data is often millions of files. */
        int r = backup_list(
                ctl->config.name, ctl->config.home, ctl->config.backup_dir, BACKUP_LIST_SIZES_BOUNDED, &s->backups);
        if (r < 0) {
                warn(s, "Cannot list the backups of this node: %s.", strerror(-r));
                return;
        }
        const char *root = s->backups.root;
        if (s->backups.root_error < 0 && s->backups.root_error != -ENOENT && !ctl->config.unsafe_skip_backup)
                warn(s, "The backup folder '%s' cannot be opened (%s): the next upgrade's backup will fail.",
                        root, strerror(-s->backups.root_error));
        /* The newest complete backup is the best guess of what the next one needs. */
        const BackupEntry *newest = NULL;
        for (size_t i = 0; i < s->backups.n_entries; i++)
                if (!s->backups.entries[i].partial)
                        newest = &s->backups.entries[i];
        if (!ctl->config.unsafe_skip_backup && newest && !newest->snapshot &&
                s->backups.free_bytes != UINT64_MAX && newest->size != UINT64_MAX &&
                s->backups.free_bytes < newest->size) {
                char a[BACKUP_FORMAT_BYTES_MAX], b[BACKUP_FORMAT_BYTES_MAX];
                warn(s,
                        "Only %s free in '%s', less than the last backup (%s): the next upgrade's backup "
                        "may not fit.",
                        backup_format_bytes(a, sizeof a, s->backups.free_bytes), root,
                        backup_format_bytes(b, sizeof b, newest->size));
        }
}

static void judge(Ctl *ctl, Status *s) {
        const CtlVersion *cur = ctl_versions_current(&s->versions);
        if (s->versions.current_error == -ENOENT)
                warn(s,
                        "'%s/current' does not exist yet: oraivisor creates it (-> genesis) at its first "
                        "start.",
                        s->layout->root);
        else if (s->versions.current_error < 0)
                warn(s, "'%s/current' is broken: point it at the version the node's data needs.",
                        s->layout->root);
        else if (!cur)
                warn(s, "'%s/current' points to '%s', which is not installed.", s->layout->root,
                        s->versions.current_target);
        else if (cur->binary_error < 0)
                warn(s, "The current binary '%s' %s.", cur->binary,
                        version_binary_problem(cur->binary_error));

        if (!s->oraivisor.running && s->daemon.running)
                warn(s,
                        "The daemon runs without oraivisor: upgrades will not be applied. Start "
                        "oraivisor%s%s%s.",
                        ctl->instance ? " (systemctl start oraivisor@" : "", strempty(ctl->instance),
                        ctl->instance ? ".service)" : "");
        else if (!s->oraivisor.running)
                warn(s, "oraivisor is not running%s%s%s.",
                        ctl->instance ? ": systemctl start oraivisor@" : "", strempty(ctl->instance),
                        ctl->instance ? ".service" : "");
        else if (s->holders_hidden && !s->unit_mode)
                warn(s,
                        "oraivisor's lock is held, but its processes cannot be seen as this user: run "
                        "oraivisorctl as root (or as the node's user) to see the daemon.");
        else if (!s->daemon.running && !s->record)
                warn(s, "oraivisor runs but the daemon does not%s%s.",
                        s->daemon_unit ? ": see journalctl -u " : "", s->daemon_unit ? s->daemon_unit : "");
}

static int run(Ctl *ctl) {
        _cleanup_(status_done) Status s = {};

        if (ctl_open_layout(ctl, &s.layout) < 0)
                return CTL_EXIT_FAILURE;
        if (ctl_versions_load(s.layout, &s.versions) < 0)
                return CTL_EXIT_FAILURE;
        choose_mode(ctl, &s);
        if (s.unit_mode) {
                if (!s.daemon_unit)
                        warn(&s,
                                "The daemon unit's name cannot be derived from DAEMON_NAME='%s': set "
                                "ORAIVISOR_DAEMON_UNIT.",
                                ctl->config.name);
                else
                        (void) inspect_unit(ctl, &s);
        }
        inspect_lock(ctl, &s);
        inspect_records(&s);
        inspect_plans(ctl, &s);
        inspect_heights(&s);
        inspect_chain(ctl, &s);
        inspect_readiness(ctl, &s);
        inspect_backups(ctl, &s);
        judge(ctl, &s);

        bool ok = s.daemon.running && !s.warnings;
        int r = ctl->json ? status_print_json(ctl, &s) : status_print_human(ctl, &s, ok);
        if (r != CTL_EXIT_OK)
                return r;
        return ok ? CTL_EXIT_OK : CTL_EXIT_NEEDS_ATTENTION;
}

const CtlCommand ctl_command_status = {
        .name = "status",
        .summary = "Show the node at a glance: versions, daemon, oraivisor, upgrades, backups, warnings",
        .help = "Shows the current version and whether its binary would start again; the daemon (under "
                "systemd\n"
                "its unit as PID 1 sees it, read over D-Bus; in exec mode the process holding oraivisor's "
                "lock);\n"
                "whether oraivisor runs and which upgrade step it is at; the last upgrade; the planned "
                "upgrades\n"
                "(data/upgrade-info.json, the plan approved on chain with its estimated time, the upgrades at a\n"
                "height) and whether their binaries are ready; the chain's height and whether the chain watcher\n"
                "runs (oraivisor/chain-state.json); the backups\n"
                "and the free space where they go; and what needs attention.\n"
                "Exit status 0 when the daemon runs and nothing needs attention, 3 otherwise (as systemctl "
                "status).",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
