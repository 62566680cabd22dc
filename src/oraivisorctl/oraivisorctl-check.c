/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl check [NAME]: whether a version (or each installed one) will start on this host. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "credentials.h"
#include "fd-util.h"
#include "log.h"
#include "oraivisorctl.h"
#include "readiness.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

extern char **environ;

typedef struct Item {
        char *label;  /* "genesis" or the upgrade's name */
        char *folder; /* "genesis" or "upgrades/<folder>" */
        bool ready;
        char *reason;
        char *output;
} Item;

typedef struct Run {
        Item *items;
        size_t n, next;
        sd_event *event;
        const Ctl *ctl;
        const Credentials *credentials;
        char *node_unit;  /* ctl_check_node_unit(): the check runs in a unit like it; NULL: our child */
        Readiness *current;
        int error;
} Run;

static int add_item(Run *run, const char *label, const char *folder) {
        Item *a = reallocarray(run->items, run->n + 1, sizeof(Item));
        if (!a)
                return -ENOMEM;
        run->items = a;
        a[run->n] = (Item) { .label = strdup(label), .folder = strdup(folder) };
        if (!a[run->n].label || !a[run->n].folder)
                return -ENOMEM;
        run->n++;
        return 0;
}

static int start_next(Run *run);

static void on_done(Readiness *r, const ReadinessResult *res, void *userdata) {
        Run *run = userdata;
        Item *it = &run->items[run->next];
        it->ready = res->ready;
        it->reason = res->reason ? strdup(res->reason) : NULL;
        it->output = res->version_output ? strdup(res->version_output) : NULL;
        run->current = readiness_free(run->current);
        run->next++;
        int k = start_next(run);
        if (k < 0) {
                run->error = k;
                (void) sd_event_exit(run->event, 0);
        }
}

static int start_next(Run *run) {
        if (run->next >= run->n)
                return sd_event_exit(run->event, 0);
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/oraivisor/%s", run->ctl->config.home, run->items[run->next].folder) < 0)
                return -ENOMEM;
        ReadinessSpec spec = {
                .version_dir = dir,
                .daemon_name = run->ctl->config.name,
                .credentials = run->credentials,
                .env = environ,
                .working_directory = run->ctl->config.home,
                .node_unit = run->node_unit,
                .config = &run->ctl->config,
        };
        return readiness_start(run->event, &spec, on_done, run, &run->current);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Every installed version: genesis, then upgrades/ in name order. */
static int collect_all(Run *run, const char *root) {
        _cleanup_free_ char *up = NULL;
        if (add_item(run, "genesis", "genesis") < 0 || asprintf(&up, "%s/upgrades", root) < 0)
                return -ENOMEM;
        _cleanup_(closedirp) DIR *d = opendir(up);
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot read '%s': %m", up);
        _cleanup_(strv_freep) char **names = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && de->d_type == DT_DIR && strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *label = NULL, *folder = NULL;
                if (upgrade_folder_to_name(*n, &label) < 0 && !(label = strdup(*n)))
                        return -ENOMEM;
                if (asprintf(&folder, "upgrades/%s", *n) < 0 || add_item(run, label, folder) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int run_check(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        Run run = { .ctl = ctl };
        _cleanup_(credentials_done) Credentials creds = {};
        _cleanup_free_ char *cred_error = NULL;
        int ret = CTL_EXIT_FAILURE, k;

        if (ctl_open_layout(ctl, &l) < 0)
                return CTL_EXIT_FAILURE;
        k = credentials_resolve(ctl->config.daemon_user, ctl->config.daemon_group, &creds, &cred_error);
        if (k < 0)
                return ctl_fail(k == -ENOMEM ? CTL_EXIT_FAILURE : CTL_EXIT_CONFIG, "%s", cred_error ? cred_error : strerror(-k));
        run.credentials = &creds;
        if (ctl_check_node_unit(ctl, &run.node_unit) < 0)
                goto oom;

        if (ctl->n_args == 1 && !streq(ctl->args[0], "genesis")) {
                _cleanup_free_ char *folder = NULL, *rel = NULL;
                k = layout_find_upgrade(l, ctl->args[0], &folder);
                if (k < 0)
                        return CTL_EXIT_USAGE;
                if (k == 0)
                        return ctl_fail(CTL_EXIT_NOT_FOUND, "Upgrade '%s' is not installed (no %s/upgrades/%s): install it with oraivisorctl add-upgrade or prepare-upgrade.",
                                        ctl->args[0], l->root, folder);
                if (asprintf(&rel, "upgrades/%s", folder) < 0 || add_item(&run, ctl->args[0], rel) < 0)
                        goto oom;
        } else if (ctl->n_args == 1) {
                if (add_item(&run, "genesis", "genesis") < 0)
                        goto oom;
        } else if (collect_all(&run, l->root) < 0)
                goto finish;

        /* sd-event watches children through SIGCHLD, which must be blocked first. */
        sigset_t ss;
        if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGCHLD) < 0 || sigprocmask(SIG_BLOCK, &ss, NULL) < 0 ||
            sd_event_default(&run.event) < 0)
                goto oom;
        k = start_next(&run);
        if (k >= 0)
                k = sd_event_loop(run.event);
        if (k < 0 || run.error < 0) {
                ctl_fail(CTL_EXIT_FAILURE, "The check could not run: %s.", strerror(-(k < 0 ? k : run.error)));
                goto finish;
        }

        bool all = true;
        for (size_t i = 0; i < run.n; i++)
                all = all && run.items[i].ready;
        if (ctl->json) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < run.n; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "name", json_object_new_string(run.items[i].label));
                        json_object_object_add(o, "folder", json_object_new_string(run.items[i].folder));
                        json_object_object_add(o, "ready", json_object_new_boolean(run.items[i].ready));
                        json_object_object_add(o, "reason", run.items[i].reason ? json_object_new_string(run.items[i].reason) : NULL);
                        json_object_object_add(o, "version_output",
                                               run.items[i].output ? json_object_new_string(run.items[i].output) : NULL);
                        json_object_array_add(a, o);
                }
                if (!a)
                        goto oom;
                ret = ctl_print_json(a);
                json_object_put(a);
                if (ret != CTL_EXIT_OK)
                        goto finish;
        } else
                for (size_t i = 0; i < run.n; i++) {
                        _cleanup_free_ char *label = string_escape_for_log(run.items[i].label, strlen(run.items[i].label), 64);
                        _cleanup_free_ char *first = NULL;
                        if (run.items[i].output)
                                first = string_escape_for_log(run.items[i].output, strcspn(run.items[i].output, "\n"), 80);
                        if (run.items[i].ready)
                                printf("%-20s %sready%s      %s\n", strna(label), ctl_ansi_green(ctl), ctl_ansi_normal(ctl),
                                       strempty(first));
                        else
                                printf("%-20s %snot ready%s  the binary %s\n", strna(label), ctl_ansi_red(ctl),
                                       ctl_ansi_normal(ctl), strna(run.items[i].reason));
                }
        ret = all ? CTL_EXIT_OK : CTL_EXIT_NEEDS_ATTENTION;
        goto finish;
oom:
        log_oom();
finish:
        readiness_free(run.current);
        free(run.node_unit);
        sd_event_unref(run.event);
        for (size_t i = 0; i < run.n; i++) {
                free(run.items[i].label);
                free(run.items[i].folder);
                free(run.items[i].reason);
                free(run.items[i].output);
        }
        free(run.items);
        return ret;
}

const CtlCommand ctl_command_check = {
        .name = "check",
        .usage = "[NAME]",
        .summary = "Check that a version (or every installed one) will start on this host",
        .help = "For NAME ('genesis' or an upgrade's name), or every installed version: the binary is installed and\n"
                "executable, an ELF for this machine and whole (or a script whose interpreter exists), every library\n"
                "resolves with the version's lib/ first and every symbol version is on this host (the host's loader in\n"
                "trace mode), and `<binary> version` exits 0 within 10 s, run as DAEMON_USER with the node's\n"
                "environment. Exit status 0 only when every version checked is ready, 3 otherwise, 4 for an unknown NAME.",
        .max_args = 1,
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run_check,
};
