/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl version: oraivisor's version and what the current binary's `version` prints (cosmovisor's
 * `version --output json` shape: {"cosmovisor_version", "app_version"}, with oraivisor_version). */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oraivisorctl-versions.h"
#include "string-util.h"

static int run(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        _cleanup_(ctl_versions_done) CtlVersions vs = {};
        _cleanup_(credentials_done) Credentials cred = {};
        _cleanup_(node_version_done) NodeVersion nv = {};
        _cleanup_free_ char *error = NULL, *cred_error = NULL;
        bool ran = false;

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
        else if (cur->binary_error < 0)
                r = asprintf(&error, "the current binary '%s' %s", cur->binary,
                        version_binary_problem(cur->binary_error));
        else {
                r = ctl_node_credentials(ctl, &cred, &cred_error);
                if (r == -ENOMEM)
                        return log_oom(), CTL_EXIT_FAILURE;
                if (r < 0)
                        r = asprintf(&error, "'%s version' not run: %s", cur->binary,
                                cred_error ? cred_error : strerror(-r));
                else if ((r = ctl_run_version(ctl, cur, &cred, &nv)) < 0)
                        r = asprintf(&error, "'%s version' could not be run: %s", cur->binary, strerror(-r));
                else
                        ran = true;
        }
        if (r < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        bool clean = ran && nv.result.code == CLD_EXITED && nv.result.status == 0 && !nv.result.timed_out;
        char end[64];
        if (ran && !clean &&
                asprintf(&error, "'%s version' ended with %s", cur->binary,
                        node_version_describe_end(&nv, end, sizeof end)) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        if (ctl->json) {
                json_object *o = json_object_new_object(), *app = ran ? ctl_version_output_json(&nv) : NULL;
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
                int ret = ctl_print_json(o);
                json_object_put(o);
                return ret != CTL_EXIT_OK ? ret : error ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
        }

        printf("oraivisor %s\n", PACKAGE_VERSION);
        if (ran) {
                _cleanup_free_ char *text = ctl_version_output_text(&nv);
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
        .help = "Prints oraivisor's version, then runs `<current binary> version` as the node runs "
                "(DAEMON_USER,\n"
                "the node's environment, lib/ on LD_LIBRARY_PATH; stopped after 10 s) and prints its "
                "output.\n"
                "Exit status 1 when the current binary is missing or its `version` fails.",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
