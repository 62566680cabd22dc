/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl show-upgrade-info: data/upgrade-info.json, decoded: the plan the node wrote when it halted
 * (or an operator scheduled), its info with the binaries per platform, and whether that binary is
 * installed. */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oraivisorctl-versions.h"
#include "plan-file.h"
#include "string-util.h"

#define SHOWN_MAX 300

static char *esc(const char *s) {
        return s ? string_escape_for_log(s, strlen(s), SHOWN_MAX) : strdup("-");
}

static int run(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        _cleanup_(upgrade_plan_freep) UpgradePlan *plan = NULL;
        _cleanup_free_ char *path = NULL, *folder = NULL;
        const char *reason = NULL;

        if (ctl_open_layout(ctl, &l) < 0)
                return CTL_EXIT_FAILURE;
        if (asprintf(&path, "%s/data/" PLAN_FILE, l->home) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        int r = layout_read_plan_file(l, &plan, &reason);
        if (r == -EBADMSG)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s' is not a valid plan (%s): the node may be writing it right now; run the "
                        "command again, or look at the file.",
                        path, reason);
        if (r < 0)
                return CTL_EXIT_FAILURE;

        int ready = 0;
        if (r > 0) {
                ready = ctl_plan_binary_ready(l, plan->name, &folder);
                if (ready == -ENOMEM)
                        return CTL_EXIT_FAILURE;
        }

        if (ctl->json) {
                json_object *o = json_object_new_object();
                if (!o)
                        return log_oom(), CTL_EXIT_FAILURE;
                ctl_json_add_string(o, "path", path);
                json_object *p = plan ? ctl_plan_to_json(plan) : NULL;
                if (p) {
                        ctl_json_add_string(p, "folder", folder);
                        json_object_object_add(p, "binary",
                                ready < 0 ? NULL : json_object_new_string(ready > 0 ? "ready" : "missing"));
                }
                json_object_object_add(o, "plan", p);
                int ret = ctl_print_json(o);
                json_object_put(o);
                return ret != CTL_EXIT_OK ? ret : plan ? CTL_EXIT_OK : CTL_EXIT_NOT_FOUND;
        }

        if (!plan) {
                printf("No upgrade planned: '%s' does not exist.\n", path);
                return CTL_EXIT_NOT_FOUND;
        }

        json_object *p = ctl_plan_to_json(plan);
        if (!p)
                return log_oom(), CTL_EXIT_FAILURE;
        json_object *v;
        _cleanup_free_ char *name = esc(plan->name), *info = esc(plan->info), *t = esc(plan->time);
        printf("%s%s%s\n", ctl_ansi_bold(ctl), path, ctl_ansi_normal(ctl));
        printf("  %-14s %s\n", "name", name);
        if (plan->time)
                printf("  %-14s %s\n", "time", t);
        else
                printf("  %-14s %" PRIi64 "\n", "height", plan->height);
        printf("  %-14s %s\n", "info", isempty(plan->info) ? "-" : info);
        if (json_object_object_get_ex(p, "manifest_url", &v) && v) {
                _cleanup_free_ char *u = esc(json_object_get_string(v));
                printf("  %-14s manifest at %s (fetched at upgrade time)\n", "binaries", u);
        }
        if (json_object_object_get_ex(p, "info_error", &v) && v)
                printf("  %-14s %sthe info cannot be used: %s%s\n", "binaries", ctl_ansi_red(ctl),
                        json_object_get_string(v), ctl_ansi_normal(ctl));
        const char *platform =
                json_object_object_get_ex(p, "platform", &v) && v ? json_object_get_string(v) : NULL;
        const char *here =
                json_object_object_get_ex(p, "binary_url", &v) && v ? json_object_get_string(v) : NULL;
        if (json_object_object_get_ex(p, "binaries", &v) && v) {
                bool first = true;
                json_object_object_foreach(v, key, val) {
                        _cleanup_free_ char *k = esc(key),
                                            *u = val ? esc(json_object_get_string(val))
                                                     : strdup("(not a URL)");
                        bool mine = here && val && streq(json_object_get_string(val), here);
                        printf("  %-14s %-14s %s%s\n", first ? "binaries" : "", k, strna(u),
                                mine ? "  (this machine)" : "");
                        first = false;
                }
                if (first)
                        printf("  %-14s none listed\n", "binaries");
                if (!here)
                        printf("  %-14s %snone for %s%s\n", "", ctl_ansi_yellow(ctl), strna(platform),
                                ctl_ansi_normal(ctl));
        }
        _cleanup_free_ char *f = esc(folder);
        if (ready >= 0)
                printf("  %-14s %s%s%s (%s/upgrades/%s)\n", "installed",
                        ready ? ctl_ansi_green(ctl) : ctl_ansi_yellow(ctl), ready ? "ready" : "missing",
                        ctl_ansi_normal(ctl), l->root, f);
        json_object_put(p);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

const CtlCommand ctl_command_show_upgrade_info = {
        .name = "show-upgrade-info",
        .summary = "Show data/upgrade-info.json decoded: name, height, info, binaries, installed or not",
        .help = "Reads $DAEMON_HOME/data/upgrade-info.json, the plan the node writes when it halts for an "
                "upgrade,\n"
                "and shows it decoded: the name, the height (or time), the info with its binaries per "
                "platform\n"
                "(the one for this machine marked), and whether the upgrade's binary is installed (ready) "
                "or not\n"
                "(missing). Exit status 4 when there is no such file (with --json: \"plan\": null).",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
