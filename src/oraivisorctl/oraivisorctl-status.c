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
#include "upgrade-record.h"

typedef struct Proc {
        bool running;
        pid_t pid; /* 0 when unknown */
        usec_t since; /* CLOCK_REALTIME, 0 when unknown */
} Proc;

typedef struct Scheduled {
        UpgradePlan *plan;
        char *folder;
        int ready; /* 1 ready, 0 missing, <0 the name cannot be a folder */
        bool downloadable; /* the info names a binary for this machine and downloads are allowed */
        char *not_ready; /* installed, but the readiness check failed: why */
} Scheduled;

/* An upgrade at a height (scheduled-upgrades.json): its folder and whether its binary starts here. */
typedef struct HeightState {
        char *folder;
        int ready; /* 1 installed, 0 missing, <0 the name cannot be a folder */
        char *not_ready; /* installed, but the readiness check failed: why */
} HeightState;

/* The chain watcher's oraivisor/chain-state.json: the chain, and the plan approved on chain. */
typedef struct ChainView {
        bool loaded;
        ChainState state;
        usec_t now; /* CLOCK_REALTIME, when it was read */
        bool stale; /* oraivisor runs, the RPC answered, yet the file is not rewritten at each poll */
        const ScheduledUpgrade *plan; /* the chain's plan still to come, when data/upgrade-info.json does not name it */
        const ScheduledUpgrade *also; /* the chain's plan when data/upgrade-info.json names it too (shown once) */
        char *folder;
        int ready; /* 1 installed, 0 missing, <0 the name cannot be a folder */
        bool downloadable; /* the info names a binary for this machine and downloads are allowed */
        bool preparable; /* the info names a binary for this machine (prepare-upgrade can fetch it) */
        char *not_ready; /* installed, but the readiness check failed: why */
} ChainView;

/* The file is rewritten at each poll while the RPC answers: older than this many poll intervals, plus the
 * time a slow poll may take (each request is bounded to 15 s), while oraivisor runs: the watcher is stuck. */
#define CHAIN_STALE_POLLS 3
#define CHAIN_STALE_SLACK (60 * USEC_PER_SEC)

typedef struct Status {
        Layout *layout;
        CtlVersions versions;
        int current_ready; /* the current binary starts on this host: 1, 0 (current_not_ready), -1 unknown */
        char *current_not_ready;
        char *not_checked; /* why no binary could be checked (DAEMON_USER needs root), or NULL */
        bool unit_mode;
        char *daemon_unit;
        char *daemon_active_state; /* unit mode */
        Proc daemon, oraivisor;
        UpgradeRecord *record;
        LastUpgrade *last;
        Scheduled scheduled; /* data/upgrade-info.json, when it is not the current version's */
        bool have_scheduled;
        HeightSchedule heights; /* scheduled-upgrades.json: upgrades at a height without governance */
        HeightState *height_states; /* one per heights.entries */
        ChainView chain;
        bool holders_hidden; /* the lock is held, by processes we may not look into */
        BackupList backups;
        char **warnings;
} Status;

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

static char *esc(const char *s) {
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
static const char *chain_when(const ChainView *c, const ScheduledUpgrade *u, char *buf, size_t len) {
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

        _cleanup_free_ char *name = esc(u->name), *folder = NULL;
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

        chain_when(c, u, when, sizeof when);
        _cleanup_free_ char *error = u->binary == BINARY_FAILED && u->binary_error ? esc(u->binary_error) : NULL;
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
                        _cleanup_free_ char *name = esc(s->scheduled.plan->name);
                        warn(s, "The binary of the planned upgrade '%s' is installed but will not start on this host: it %s.",
                                strna(name), why);
                } else if (i == n - 1) {
                        char when[160];
                        _cleanup_free_ char *name = esc(s->chain.plan->name);
                        warn(s, "The binary of the upgrade '%s' approved on chain for height %" PRId64 " (%s) is "
                                "installed but will not start on this host: it %s. Install a working build: "
                                "oraivisorctl add-upgrade '%s' PATH --force, then oraivisorctl check '%s'.",
                                strna(name), s->chain.plan->height,
                                chain_when(&s->chain, s->chain.plan, when, sizeof when), why, strna(name),
                                strna(name));
                } else {
                        _cleanup_free_ char *name = esc(s->heights.entries[i - 2].name);
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

static int print_json(Ctl *ctl, Status *s) {
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
        _cleanup_free_ char *rpc = esc(cs->rpc);
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

static int print_human(Ctl *ctl, Status *s, bool ok) {
        char t[CTL_TIME_MAX], b[BACKUP_FORMAT_BYTES_MAX];
        const CtlVersion *cur = ctl_versions_current(&s->versions);

        _cleanup_free_ char *home = esc(ctl->config.home);
        printf("%s●%s %s%s%s node in %s%s%s%s\n", ok ? ctl_ansi_green(ctl) : ctl_ansi_red(ctl),
                ctl_ansi_normal(ctl), ctl_ansi_bold(ctl), ctl->config.name, ctl_ansi_normal(ctl), home,
                ctl->instance ? " (oraivisor@" : "", strempty(ctl->instance),
                ctl->instance ? ".service)" : "");
        _cleanup_free_ char *cn = cur ? esc(cur->name) : NULL, *cf = cur ? esc(cur->rel) : NULL;
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
                _cleanup_free_ char *d = upgrade_plan_describe(s->record->plan), *de = d ? esc(d) : NULL;
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
                _cleanup_free_ char *d = upgrade_plan_describe(s->last->plan), *de = d ? esc(d) : NULL;
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
                _cleanup_free_ char *d = upgrade_plan_describe(s->scheduled.plan), *de = d ? esc(d) : NULL,
                                    *f = esc(s->scheduled.folder);
                const char *state = s->scheduled.ready < 0 ? "invalid name"
                        : s->scheduled.not_ready           ? "not ready (see below)"
                        : s->scheduled.ready               ? "ready"
                        : s->scheduled.downloadable        ? "missing (oraivisor will download it)"
                                                           : "missing";
                printf("%12s: %s%s%s%s: binary %s%s%s (upgrades/%s)\n", "Scheduled", strna(de),
                        s->chain.also ? " (" : "",
                        s->chain.also ? chain_when(&s->chain, s->chain.also, when, sizeof when) : "",
                        s->chain.also ? "), in data/" PLAN_FILE " and approved on chain" : "",
                        s->scheduled.ready > 0 && !s->scheduled.not_ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl), state,
                        ctl_ansi_normal(ctl), f);
        }
        if (s->chain.plan) {
                const ChainView *c = &s->chain;
                _cleanup_free_ char *n = esc(c->plan->name), *f = esc(c->folder);
                const char *state = c->ready < 0 ? "invalid name"
                        : c->not_ready           ? "not ready (see below)"
                        : c->ready               ? "ready"
                        : c->plan->binary == BINARY_STAGING ? "missing (oraivisor is downloading it)"
                        : c->plan->binary == BINARY_FAILED && c->downloadable ? "missing (download failed, see below)"
                        : c->downloadable        ? "missing (oraivisor will download it)"
                                                 : "missing";
                printf("%12s: '%s' at height %" PRId64 " (%s), approved on chain: binary %s%s%s%s%s%s\n",
                        s->have_scheduled ? "" : "Scheduled", strna(n), c->plan->height,
                        chain_when(c, c->plan, when, sizeof when),
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
                _cleanup_free_ char *n = esc(h->name);
                printf("%12s: upgrade %s at height %" PRId64 " (oraivisorctl --height, no governance): binary %s%s%s\n",
                        s->have_scheduled || s->chain.plan || i > 0 ? "" : "Scheduled", strna(n), h->height,
                        hs->ready > 0 && !hs->not_ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl),
                        hs->not_ready ? "not ready (see below)" : hs->ready > 0 ? "ready" : "missing",
                        ctl_ansi_normal(ctl));
        }

        _cleanup_free_ char *bd = esc(s->backups.root);
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
        int r = ctl->json ? print_json(ctl, &s) : print_human(ctl, &s, ok);
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
