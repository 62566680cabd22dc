/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl version: oraivisor's version and what the current binary's `version` prints (cosmovisor's
 * `version --output json` shape: {"cosmovisor_version", "app_version"}, with oraivisor_version), run by the
 * readiness check (shared/readiness.h) as `list` and `check` run it. */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oraivisorctl-versions.h"
#include "string-util.h"

static int run(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        _cleanup_(ctl_versions_done) CtlVersions vs = {};
        _cleanup_(credentials_done) Credentials cred = {};
        _cleanup_(ctl_check_done) CtlCheck check = {};
        _cleanup_free_ char *error = NULL, *cred_error = NULL, *not_ready = NULL;

        if (ctl_open_layout(ctl, &l) < 0)
                return CTL_EXIT_FAILURE;
        if (ctl_versions_load(l, &vs) < 0)
                return CTL_EXIT_FAILURE;
        const CtlVersion *cur = ctl_versions_current(&vs);
        int r;
        if (!cur)
                r = asprintf(&error,
                        "'%s/current' %s: install the genesis binary (oraivisorctl init PATH) or point "
                        "current at a version",
                        l->root,
                        vs.current_error == -ENOENT ? "does not exist"
                                                    : "does not point to an installed version");
        else if (cur->binary_error < 0) {
                r = ctl_binary_not_ready_reason(cur, &not_ready);
                if (r >= 0)
                        r = asprintf(&error, "the current binary '%s' %s", cur->binary,
                                version_binary_problem(cur->binary_error));
        } else {
                r = ctl_node_credentials(ctl, &cred, &cred_error);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (r < 0)
                        r = asprintf(&error, "'%s version' not run: %s", cur->binary,
                                cred_error ? cred_error : strerror(-r));
                else {
                        /* The readiness check, whose last step is `version` as the node runs it. */
                        check.folder_rel = cur->rel;
                        r = ctl_check_versions(ctl, &cred, &check, 1);
                        if (r >= 0 && check.error < 0)
                                r = check.error;
                        if (r == -ENOMEM)
                                return log_oom(), CTL_EXIT_FAILURE;
                        if (r < 0)
                                r = asprintf(&error, "'%s version' could not be run: %s", cur->binary,
                                        strerror(-r));
                        else if (!check.ready) {
                                not_ready = strdup(check.reason ?: "cannot be checked: out of memory");
                                r = !not_ready ? -ENOMEM : 0;
                        }
                }
        }
        if (r < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        bool ran = check.version_ran, clean = ran && check.ready;
        char end[64];
        if (ran && !clean) {
                if (asprintf(&error, "'%s version' ended with %s", cur->binary,
                            ctl_version_describe_end(&check.version_end, end, sizeof end)) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
        } else if (!error && not_ready &&
                   asprintf(&error, "the current version '%s' is NOT READY: the binary %s", strna(cur->name),
                           not_ready) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        if (ctl->json) {
                json_object *o = json_object_new_object(), *app = ran ? ctl_version_output_json(&check) : NULL;
                if (!o)
                        return log_oom(), CTL_EXIT_FAILURE;
                json_object_object_add(o, "oraivisor_version", json_object_new_string(PACKAGE_VERSION));
                json_object *out = NULL;
                if (app && json_object_object_get_ex(app, "output", &out) && out)
                        json_object_object_add(o, "app_version", json_object_get(out));
                else
                        json_object_object_add(o, "app_version", NULL);
                if (app) {
                        ctl_json_add_string(app, "name", cur->name);
                        ctl_json_add_string(app, "binary", cur->binary);
                }
                json_object_object_add(o, "app", app);
                ctl_json_add_string(o, "error", error);
                /* Known only when there is a current version and the check could run. */
                bool known = not_ready || check.checked;
                json_object_object_add(o, "ready", known ? json_object_new_boolean(!not_ready) : NULL);
                ctl_json_add_string(o, "not_ready_reason", not_ready);
                int ret = ctl_print_json(o);
                json_object_put(o);
                return ret != CTL_EXIT_OK ? ret : error ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
        }

        printf("oraivisor %s\n", PACKAGE_VERSION);
        if (ran) {
                _cleanup_free_ char *text = ctl_version_output_text(&check);
                _cleanup_free_ char *name =
                        cur->name ? string_escape_for_log(cur->name, strlen(cur->name), 200) : NULL;
                printf("%s (%s): %s\n", strna(name), cur->rel, isempty(text) ? "(nothing printed)" : text);
        }
        if (fflush(stdout) != 0)
                return CTL_EXIT_FAILURE;
        if (error)
                return ctl_fail(CTL_EXIT_FAILURE, "%s.", error);
        return CTL_EXIT_OK;
}

const CtlCommand ctl_command_version = {
        .name = "version",
        .summary = "Show oraivisor's version and what the current binary's `version` prints",
        .help = "Prints oraivisor's version, then checks that the current binary starts on this host, as "
                "`check` does\n"
                "(its libraries resolve, then `<current binary> version` runs as the node runs: DAEMON_USER, "
                "the\n"
                "node's environment, lib/ on LD_LIBRARY_PATH; stopped after 10 s) and prints what `version` "
                "printed.\n"
                "Exit status 1 when the current binary is missing, is not ready, or its `version` fails.",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
