/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl prepare-upgrade [NAME] [--info INFO]: fetches, verifies and installs a plan's binary ahead of
 * its height, through the code oraivisor runs at upgrade time (shared/obtain.c: the manifest, this
 * machine's entry, the checksums, the limits, the sandboxed unpack worker, the staging folder published by
 * one rename), on an sd-event loop. The plan is NAME with --info, else data/upgrade-info.json, else the
 * plan approved on chain that oraivisor's chain watcher knows (chain-state.json). It is an
 * operator's explicit request, so DAEMON_ALLOW_DOWNLOAD_BINARIES=false does not stop it; every other
 * download setting does apply. The install lock is taken for the publish only. */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include <inttypes.h>

#include "chain-state-file.h"
#include "fd-util.h"
#include "fs-util.h"
#include "lock.h"
#include "log.h"
#include "obtain.h"
#include "oraivisorctl.h"
#include "plan-file.h"
#include "upgrade-record.h"
#include "string-util.h"
#include "transfer-progress.h"
#include "upgrade-name.h"

/* How often a plain progress line is written when the size is unknown (known: at every tenth). */
#define PLAIN_PROGRESS_INTERVAL (10 * USEC_PER_SEC)
#define NAME_SHOWN_MAX 128

typedef struct Prepare {
        sd_event *event;
        Obtain *obtain;
        const char *name; /* escaped, for messages */

        bool finished;
        int error;
        char *message;
        ObtainOutcome outcome;
        bool verified;

        /* Progress. */
        bool bar; /* stderr is a terminal: one line redrawn in place */
        bool bar_shown; /* the bar is on screen (cleared before any log line) */
        TransferProgress progress;
        int plain_tenth; /* the last tenth written as a plain line */
        usec_t plain_last;
} Prepare;

static unsigned terminal_columns(void) {
        struct winsize w = {};
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) >= 0 && w.ws_col >= 20)
                return w.ws_col;
        return 80;
}

static void bar_clear(Prepare *p) {
        if (!p->bar_shown)
                return;
        (void) loop_write(STDERR_FILENO, "\r\x1b[K", 4);
        p->bar_shown = false;
}

/* The bar's width: constant for a terminal's width, so that it does not wobble as the numbers change;
 * about 55 columns are left for "[" "] 100% " and the numbers. */
static unsigned bar_width(void) {
        unsigned columns = terminal_columns();
        return columns < 65 ? 0 : MIN(columns - 55, 40u);
}

static void bar_draw(Prepare *p) {
        char numbers[160], line[512], bar[64];
        int pct = transfer_progress_percent(&p->progress);
        unsigned width = bar_width();

        if (p->progress.received == 0)
                return;
        transfer_progress_format(&p->progress, numbers, sizeof(numbers));
        if (pct >= 0 && width > 0)
                snprintf(line, sizeof(line), "\r\x1b[K[%s] %3d%% %s",
                        transfer_progress_format_bar(&p->progress, width, bar, sizeof(bar)), pct, numbers);
        else if (pct >= 0)
                snprintf(line, sizeof(line), "\r\x1b[K%3d%% %s", pct, numbers);
        else
                snprintf(line, sizeof(line), "\r\x1b[KDownloading %s", numbers);
        (void) loop_write(STDERR_FILENO, line, strlen(line));
        p->bar_shown = true;
}

/* obtain's log lines (the manifest entry used, the checksum matched, warnings) carry the plan's name and
 * URLs, which come from the chain: escaped for the terminal, and above the bar when there is one. */
static void log_sink_prepare(
        int level, const char *message, const LogField *fields, size_t n_fields, void *userdata) {
        Prepare *p = userdata;
        _cleanup_free_ char *escaped = string_escape_for_log(message, strlen(message), SIZE_MAX);
        bool shown = p->bar_shown;
        bar_clear(p);
        log_sink_stderr(level, escaped ?: message, fields, n_fields, NULL);
        if (shown)
                bar_draw(p);
}

static void plain_line(Prepare *p, bool final) {
        const TransferProgress *t = &p->progress;
        usec_t n = now(CLOCK_MONOTONIC);
        int pct = transfer_progress_percent(t);

        if (t->received == 0 && !final)
                return;
        if (pct >= 0) {
                if (pct / 10 <= p->plain_tenth && !(final && pct == 100 && p->plain_tenth < 10))
                        return;
                p->plain_tenth = pct / 10;
        } else if (!final && p->plain_last > 0 && n < p->plain_last + PLAIN_PROGRESS_INTERVAL)
                return;
        p->plain_last = n;

        char numbers[160];
        transfer_progress_format(t, numbers, sizeof(numbers));
        if (pct >= 0)
                log_info("Upgrade %s: downloaded %3d%%, %s.", p->name, pct, numbers);
        else
                log_info("Upgrade %s: downloaded %s.", p->name, numbers);
}

static void progress_update(Prepare *p, bool final) {
        uint64_t received, total;
        obtain_get_progress(p->obtain, &received, &total);
        if (transfer_progress_update(&p->progress, now(CLOCK_MONOTONIC), received, total, final))
                p->plain_tenth = 0;
        if (p->bar)
                bar_draw(p);
        else
                plain_line(p, final);
}

static void on_progress(Obtain *o, const char *status_line, void *userdata) {
        progress_update(userdata, false);
}

static void on_done(Obtain *o, int error, const char *message, void *userdata) {
        Prepare *p = userdata;
        if (error >= 0 && obtain_outcome(o) == OBTAIN_INSTALLED) {
                /* The complete bar stays on screen, as curl's does. */
                progress_update(p, true);
                if (p->bar_shown)
                        (void) loop_write(STDERR_FILENO, "\n", 1);
                p->bar_shown = false;
        }
        bar_clear(p);
        p->finished = true;
        p->error = error;
        p->message = message ? strdup(message) : NULL;
        if (error >= 0) {
                p->outcome = obtain_outcome(o);
                p->verified = obtain_verified(o);
        }
        (void) sd_event_exit(p->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Prepare *p = userdata;
        return sd_event_exit(p->event, 0);
}

/* The chain's governance plan as oraivisor's chain watcher last saw it (chain-state.json): the one named
 * name, or with name NULL the only one. 1 and *ret, 0 none (no file, a damaged one: status says why), or
 * -ENOMEM. */
static int chain_plan(Layout *l, const char *name, UpgradePlan **ret) {
        _cleanup_(chain_state_done) ChainState cs = {};
        const char *reason = NULL;
        if (chain_state_load_at(l->root_fd, &cs, &reason) < 0)
                return 0;
        const ScheduledUpgrade *found = NULL;
        for (size_t i = 0; i < cs.n_upgrades; i++) {
                const ScheduledUpgrade *u = &cs.upgrades[i];
                if (u->source != SCHEDULED_SOURCE_GOVERNANCE || (name && !streq(u->name, name)))
                        continue;
                if (found)
                        return 0; /* several and no name: which one is the operator's to say */
                found = u;
        }
        if (!found)
                return 0;
        return upgrade_plan_new(found->name, found->height, NULL, found->info, ret) < 0 ? -ENOMEM : 1;
}

/* The plan: NAME with --info; else data/upgrade-info.json (whose name must be NAME when both are given);
 * else the plan approved on chain that oraivisor's chain watcher knows (days before the node writes the
 * file). *ret_source says which ("info", "upgrade-info.json", "chain"). */
static int load_plan(Ctl *ctl, Layout *l, UpgradePlan **ret, const char **ret_source) {
        const char *name = ctl->n_args > 0 ? ctl->args[0] : NULL;
        _cleanup_free_ char *shown = name ? string_escape_for_log(name, strlen(name), NAME_SHOWN_MAX) : NULL;
        int r;

        if (ctl->info) {
                if (!name)
                        return ctl_fail(CTL_EXIT_USAGE,
                                "--info needs the upgrade's NAME: oraivisorctl prepare-upgrade NAME "
                                "--info INFO.");
                r = upgrade_plan_new(name, 0, NULL, ctl->info, ret);
                if (r < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
                *ret_source = "info";
                return CTL_EXIT_OK;
        }

        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL, *chain = NULL;
        const char *reason = NULL;
        r = layout_read_plan_file(l, &plan, &reason);
        if (r > 0 && (!name || streq(name, plan->name))) {
                *ret = TAKE_PTR(plan);
                *ret_source = "upgrade-info.json";
                return CTL_EXIT_OK;
        }
        int k = chain_plan(l, name, &chain);
        if (k < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        if (k > 0 && r >= 0) {
                _cleanup_free_ char *n = string_escape_for_log(chain->name, strlen(chain->name), NAME_SHOWN_MAX);
                log_info("Upgrade '%s' at height %" PRId64 " as approved on chain ('%s/oraivisor/chain-state.json', oraivisor's chain watcher).",
                        strna(n), chain->height, l->home);
                *ret = TAKE_PTR(chain);
                *ret_source = "chain";
                return CTL_EXIT_OK;
        }
        if (r == 0) {
                if (!name)
                        return ctl_fail(CTL_EXIT_USAGE,
                                "No plan to prepare: '%s/data/" PLAN_FILE "' does not exist and oraivisor's chain "
                                "watcher knows of no plan approved on chain. Give the plan with 'oraivisorctl "
                                "prepare-upgrade NAME --info INFO' (INFO: the proposal's info, inline JSON or a "
                                "manifest URL), or run it once the node has written its plan file.",
                                l->home);
                return ctl_fail(CTL_EXIT_USAGE,
                        "Upgrade '%s' has no plan here: '%s/data/" PLAN_FILE "' does not exist and the chain "
                        "watcher knows of no such plan. Give its info: oraivisorctl prepare-upgrade %s --info INFO "
                        "(inline JSON or a manifest URL).",
                        shown, l->home, shown);
        }
        if (r == -EBADMSG)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s/data/" PLAN_FILE "' is malformed (%s): give the plan with "
                        "'oraivisorctl prepare-upgrade NAME --info INFO' instead.",
                        l->home, strna(reason));
        if (r < 0)
                return CTL_EXIT_FAILURE; /* logged, with the path */
        _cleanup_free_ char *theirs = string_escape_for_log(plan->name, strlen(plan->name), NAME_SHOWN_MAX);
        return ctl_fail(CTL_EXIT_USAGE,
                "'%s/data/" PLAN_FILE "' plans upgrade '%s', not '%s': run 'oraivisorctl "
                "prepare-upgrade %s', or give the other plan's info with --info.",
                l->home, strna(theirs), shown, strna(theirs));
}

/* 75 while oraivisor runs an upgrade to this very folder: it obtains the binary itself. */
static int check_not_upgrading(Ctl *ctl, Layout *l, const char *folder) {
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        const char *reason = NULL;
        int r = upgrade_record_read_at(l->root_fd, &rec, &reason);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0) {
                log_warning("Cannot read '%s/" UPGRADE_RECORD_FILE "' (%s), ignoring: oraivisorctl status tells more.",
                        l->root, r == -EBADMSG ? strna(reason) : strerror(-r));
                return CTL_EXIT_OK;
        }
        if (r == 0 || !streq(rec->folder, folder))
                return CTL_EXIT_OK;
        _cleanup_free_ char *shown =
                string_escape_for_log(rec->plan->name, strlen(rec->plan->name), NAME_SHOWN_MAX);
        if (lock_probe(l->root_fd) > 0)
                return ctl_fail(CTL_EXIT_BUSY,
                        "oraivisor is upgrading to '%s' right now (step %s) and obtains its binary itself: "
                        "wait for it to finish (oraivisorctl status).",
                        strna(shown), strna(upgrade_step_to_string(rec->step)));
        log_notice("The upgrade to '%s' was interrupted at step %s; oraivisor resumes it at its next start, "
                   "with the binary installed now.",
                strna(shown), strna(upgrade_step_to_string(rec->step)));
        return CTL_EXIT_OK;
}

static const char *outcome_json(ObtainOutcome o) {
        switch (o) {
        case OBTAIN_INSTALLED: return "installed";
        case OBTAIN_FOUND: return "already-installed";
        case OBTAIN_FOUND_AT_PUBLISH: return "installed-meanwhile";
        default: return NULL;
        }
}

static int print_result(Ctl *ctl, const Prepare *p, const UpgradePlan *plan, const char *source,
        const char *folder, const char *binary) {
        _cleanup_free_ char *rel = NULL, *label = NULL, *shown = string_escape_for_log(plan->name, strlen(plan->name), 200);
        if (asprintf(&rel, "upgrades/%s", folder) < 0 || asprintf(&label, "Upgrade '%s'", strna(shown)) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        if (ctl->json) {
                json_object *o = json_object_new_object();
                if (!o)
                        return log_oom(), CTL_EXIT_FAILURE;
                json_object_object_add(o, "name", json_object_new_string(plan->name));
                json_object_object_add(o, "height",
                        !streq(source, "info") && plan->height > 0 ? json_object_new_int64(plan->height) : NULL);
                json_object_object_add(
                        o, "plan_source", json_object_new_string(source));
                json_object_object_add(o, "folder", json_object_new_string(folder));
                json_object_object_add(o, "binary", json_object_new_string(binary));
                json_object_object_add(o, "result", json_object_new_string(outcome_json(p->outcome)));
                json_object_object_add(o, "verified",
                        p->outcome == OBTAIN_INSTALLED ? json_object_new_boolean(p->verified) : NULL);
                int ready = ctl_report_readiness(ctl, rel, label, o);
                int r = ctl_print_json(o);
                json_object_put(o);
                return r != CTL_EXIT_OK ? r : ready;
        }
        _cleanup_free_ char *path = string_escape_for_log(binary, strlen(binary), PATH_MAX);
        switch (p->outcome) {
        case OBTAIN_INSTALLED:
                printf("Upgrade '%s' is %sinstalled%s: %s was downloaded, %s and installed.\n", p->name,
                        ctl_ansi_green(ctl), ctl_ansi_normal(ctl), strna(path),
                        p->verified ? "verified against its checksum"
                                    : "NOT verified (the plan gives no checksum)");
                break;
        case OBTAIN_FOUND:
                printf("Upgrade '%s' is already installed: %s; nothing was downloaded.\n", p->name,
                        strna(path));
                break;
        default:
                printf("Upgrade '%s' was installed meanwhile by another writer (oraivisor?): %s is kept, "
                       "this download was discarded.\n",
                        p->name, strna(path));
                break;
        }
        int ready = ctl_report_readiness(ctl, rel, label, NULL);
        return fflush(stdout) != 0 ? CTL_EXIT_FAILURE : ready;
}

static int run(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        int r;

        r = ctl_open_layout(ctl, &l);
        if (r < 0)
                return CTL_EXIT_FAILURE; /* logged, with the path */

        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        const char *source = NULL;
        r = load_plan(ctl, l, &plan, &source);
        if (r != CTL_EXIT_OK)
                return r;

        _cleanup_free_ char *name = string_escape_for_log(plan->name, strlen(plan->name), NAME_SHOWN_MAX);
        if (!name)
                return log_oom(), CTL_EXIT_FAILURE;
        _cleanup_free_ char *encoded = NULL;
        r = upgrade_name_to_folder(plan->name, &encoded);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0)
                return ctl_fail(!streq(source, "info") ? CTL_EXIT_FAILURE : CTL_EXIT_USAGE,
                        "'%s' cannot be an upgrade's name: %s.", name, upgrade_name_error(r));
        /* Where oraivisor looks: the encoded folder, or a lower-cased one prepared for cosmovisor. */
        _cleanup_free_ char *folder = NULL;
        r = layout_find_upgrade(l, plan->name, &folder);
        if (r < 0)
                return CTL_EXIT_FAILURE;

        r = check_not_upgrading(ctl, l, folder);
        if (r != CTL_EXIT_OK)
                return r;

        _cleanup_close_ int ufd = open_or_create_dir_at(l->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open '%s/upgrades': %s.", l->root, strerror(-ufd));
        _cleanup_free_ char *upath = NULL, *binary = NULL;
        if (asprintf(&upath, "%s/upgrades", l->root) < 0 ||
                asprintf(&binary, "%s/%s/bin/%s", upath, folder, l->daemon_name) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        r = sd_event_new(&e);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot create an event loop: %s.", strerror(-r));
        Prepare p = {
                .event = e,
                .name = name,
                .bar = isatty(STDERR_FILENO) && !streq_ptr(getenv("TERM"), "dumb"),
        };
        (void) sd_event_add_signal(e, NULL, SIGTERM, on_signal, &p);
        (void) sd_event_add_signal(e, NULL, SIGINT, on_signal, &p);
        log_set_sink(log_sink_prepare, &p);

        ObtainSpec spec = {
                .upgrades_fd = ufd,
                .upgrades_path = upath,
                .folder = folder,
                .daemon_name = l->daemon_name,
                .plan = plan,
                .config = &ctl->config,
                .explicit_request = true,
                .take_install_lock = true,
                .root_fd = l->root_fd,
                .no_progress_log = true,
        };
        r = obtain_start(e, &spec, on_done, on_progress, &p, &p.obtain);
        if (r < 0) {
                log_set_sink(NULL, NULL);
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot start obtaining the binary of upgrade '%s': %s.",
                        name, strerror(-r));
        }
        r = sd_event_loop(e);
        /* Cancels what still runs (a signal): the staging folder goes with it. */
        p.obtain = obtain_free(p.obtain);
        bar_clear(&p);
        log_set_sink(NULL, NULL);

        int ret;
        if (!p.finished)
                ret = ctl_fail(
                        CTL_EXIT_FAILURE, "Interrupted: nothing was installed for upgrade '%s'.", name);
        else if (p.error < 0) {
                _cleanup_free_ char *m =
                        p.message ? string_escape_for_log(p.message, strlen(p.message), SIZE_MAX) : NULL;
                ret = ctl_fail(p.error == -EBUSY ? CTL_EXIT_BUSY : CTL_EXIT_FAILURE, "%s",
                        m ?: p.message ?: strerror(-p.error));
        } else
                ret = print_result(ctl, &p, plan, source, folder, binary);
        free(p.message);
        return ret;
}

const CtlCommand ctl_command_prepare_upgrade = {
        .name = "prepare-upgrade",
        .usage = "[NAME] [--info INFO]",
        .summary = "Download, verify and install an upgrade's binary ahead of its height",
        .help = "Fetches the binary of a plan through the same code oraivisor runs at upgrade time (manifest,\n"
                "this machine's entry, checksums, archive limits, the sandboxed unpack worker) and installs it\n"
                "as upgrades/<NAME>/bin/$DAEMON_NAME by one rename. INFO is the plan's info as written in the\n"
                "proposal: inline JSON ({\"binaries\":{\"linux/amd64\":\"https://…?checksum=sha256:…\"}}) or a\n"
                "manifest URL. Without --info the plan comes from $DAEMON_HOME/data/upgrade-info.json, else from\n"
                "the plan approved on chain that oraivisor's chain watcher knows (oraivisor/chain-state.json).\n"
                "Works with DAEMON_ALLOW_DOWNLOAD_BINARIES=false (an explicit request); every other\n"
                "download setting applies (DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM, ORAIVISOR_DOWNLOAD_*,\n"
                "ORAIVISOR_ALLOW_FILE_URLS). An installed binary is left as it is (exit 0): remove the\n"
                "upgrade first to fetch it again. Exit 75 while oraivisor is upgrading to this very plan.",
        .min_args = 0,
        .max_args = 1,
        .flags = CTL_FLAG_INFO | CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
