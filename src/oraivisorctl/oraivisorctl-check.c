/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl check [NAME]: whether a version (or each installed one) will start on this host. */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "fd-util.h"
#include "log.h"
#include "oraivisorctl.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

typedef struct Item {
        char *label;  /* "genesis" or the upgrade's name */
        char *folder; /* "genesis" or "upgrades/<folder>" */
} Item;

typedef struct Run {
        Item *items;
        size_t n;
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
        Run run = {};
        CtlCheck *checks = NULL;
        _cleanup_(credentials_done) Credentials creds = {};
        _cleanup_free_ char *cred_error = NULL;
        int ret = CTL_EXIT_FAILURE, k;

        if (ctl_open_layout(ctl, &l) < 0)
                return CTL_EXIT_FAILURE;
        k = credentials_resolve(ctl->config.daemon_user, ctl->config.daemon_group, &creds, &cred_error);
        if (k < 0)
                return ctl_fail(k == -ENOMEM ? CTL_EXIT_FAILURE : CTL_EXIT_CONFIG, "%s", cred_error ? cred_error : strerror(-k));

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

        checks = new0(CtlCheck, run.n + 1);
        if (!checks)
                goto oom;
        for (size_t i = 0; i < run.n; i++)
                checks[i].folder_rel = run.items[i].folder;
        k = ctl_check_versions(ctl, &creds, checks, run.n);
        for (size_t i = 0; k >= 0 && i < run.n; i++)
                if (checks[i].error < 0)
                        k = checks[i].error;
        if (k < 0) {
                ctl_fail(CTL_EXIT_FAILURE, "The check could not run: %s.", strerror(-k));
                goto finish;
        }

        bool all = true;
        for (size_t i = 0; i < run.n; i++)
                all = all && checks[i].ready;
        if (ctl->json) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < run.n; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "name", json_object_new_string(run.items[i].label));
                        json_object_object_add(o, "folder", json_object_new_string(run.items[i].folder));
                        json_object_object_add(o, "ready", json_object_new_boolean(checks[i].ready));
                        json_object_object_add(o, "reason", checks[i].reason ? json_object_new_string(checks[i].reason) : NULL);
                        json_object_object_add(o, "version_output",
                                               checks[i].output ? json_object_new_string(checks[i].output) : NULL);
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
                        if (checks[i].output)
                                first = string_escape_for_log(checks[i].output, strcspn(checks[i].output, "\n"), 80);
                        if (checks[i].ready)
                                printf("%-20s %sready%s      %s\n", strna(label), ctl_ansi_green(ctl), ctl_ansi_normal(ctl),
                                       strempty(first));
                        else
                                printf("%-20s %snot ready%s  the binary %s\n", strna(label), ctl_ansi_red(ctl),
                                       ctl_ansi_normal(ctl), strna(checks[i].reason));
                }
        ret = all ? CTL_EXIT_OK : CTL_EXIT_NEEDS_ATTENTION;
        goto finish;
oom:
        log_oom();
finish:
        for (size_t i = 0; i < run.n; i++) {
                free(run.items[i].label);
                free(run.items[i].folder);
                if (checks)
                        ctl_check_done(&checks[i]);
        }
        free(run.items);
        free(checks);
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
