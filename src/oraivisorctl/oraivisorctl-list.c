/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl list: every installed version (genesis and upgrades/<folder>), which one is current, its
 * binary's SHA-256 and size, the plan that activated it, and what `<binary> version` prints. */

#include <stdlib.h>
#include <string.h>

#include "backup-name.h"
#include "log.h"
#include "oraivisorctl-versions.h"
#include "plan-file.h"
#include "string-util.h"

typedef struct Row {
        char *sha256;
        uint64_t size;
        int digest_error;
        NodeVersion nv;
        bool ran;
        char *run_error; /* why `version` was not run */
} Row;

static void row_done(Row *r) {
        free(r->sha256);
        free(r->run_error);
        node_version_done(&r->nv);
}

static void inspect(
        Ctl *ctl, Layout *l, const CtlVersion *v, const Credentials *c, const char *cred_error, Row *row) {
        *row = (Row){};
        if (v->binary_error < 0)
                return;
        row->digest_error = ctl_binary_sha256(l, v, &row->sha256, &row->size);
        if (cred_error) {
                row->run_error = strdup(cred_error);
                return;
        }
        int r = ctl_run_version(ctl, v, c, &row->nv);
        if (r < 0)
                (void) asprintf(&row->run_error, "could not be run: %s", strerror(-r));
        else
                row->ran = true;
}

static json_object *version_json(Layout *l, const CtlVersion *v, const Row *row) {
        json_object *o = json_object_new_object(), *b = json_object_new_object();
        if (!o || !b) {
                json_object_put(o);
                json_object_put(b);
                return NULL;
        }
        ctl_json_add_string(o, "name", v->name);
        ctl_json_add_string(o, "folder", v->folder);
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/%s", l->root, v->rel) >= 0)
                ctl_json_add_string(o, "path", dir);
        json_object_object_add(o, "current", json_object_new_boolean(v->current));
        ctl_json_add_string(b, "path", v->binary);
        json_object_object_add(b, "installed", json_object_new_boolean(v->binary_error == 0));
        ctl_json_add_string(
                b, "problem", v->binary_error < 0 ? version_binary_problem(v->binary_error) : NULL);
        ctl_json_add_string(b, "sha256", row->sha256);
        json_object_object_add(b, "size", row->sha256 ? json_object_new_uint64(row->size) : NULL);
        ctl_json_add_string(b, "lib", v->lib_dir);
        json_object_object_add(o, "binary", b);
        json_object_object_add(o, "plan", v->plan ? ctl_plan_to_json(v->plan) : NULL);
        ctl_json_add_string(o, "plan_error",
                v->plan_error == -EBADMSG   ? v->plan_reason
                        : v->plan_error < 0 ? strerror(-v->plan_error)
                                            : NULL);
        json_object_object_add(o, "version", row->ran ? ctl_version_output_json(&row->nv) : NULL);
        ctl_json_add_string(o, "version_error", row->run_error);
        return o;
}

static void version_print(Ctl *ctl, Layout *l, const CtlVersion *v, const Row *row) {
        _cleanup_free_ char *name = v->name ? string_escape_for_log(v->name, strlen(v->name), 200) : NULL,
                            *rel = string_escape_for_log(v->rel, strlen(v->rel), 300),
                            *bin = string_escape_for_log(v->binary, strlen(v->binary), 400);
        bool ok = v->binary_error == 0;
        printf("%s%s%s %s%s%s%s\n", ok ? ctl_ansi_green(ctl) : ctl_ansi_red(ctl), ok ? "●" : "×",
                ctl_ansi_normal(ctl), ctl_ansi_bold(ctl), name ? name : "(folder name does not decode)",
                ctl_ansi_normal(ctl), v->current ? " (current)" : "");
        printf("  %9s: %s/%s\n", "Folder", l->root, strna(rel));
        if (!ok) {
                printf("  %9s: %s%s %s%s\n", "Binary", ctl_ansi_red(ctl), strna(bin),
                        version_binary_problem(v->binary_error), ctl_ansi_normal(ctl));
        } else {
                char size[BACKUP_FORMAT_BYTES_MAX];
                if (row->sha256)
                        printf("  %9s: %s (%s)\n  %9s: %s\n", "Binary", strna(bin),
                                backup_format_bytes(size, sizeof size, row->size), "SHA-256", row->sha256);
                else
                        printf("  %9s: %s (cannot be read: %s)\n", "Binary", strna(bin),
                                strerror(-row->digest_error));
        }
        if (v->lib_dir)
                printf("  %9s: %s\n", "Libraries", v->lib_dir);
        if (v->plan) {
                _cleanup_free_ char *d = upgrade_plan_describe(v->plan);
                _cleanup_free_ char *de = d ? string_escape_for_log(d, strlen(d), 300) : NULL;
                printf("  %9s: by %s (%s/" PLAN_FILE ")\n", "Activated", strna(de), strna(rel));
        } else if (v->plan_error < 0)
                printf("  %9s: %s%s/" PLAN_FILE " cannot be used: %s%s\n", "Activated", ctl_ansi_yellow(ctl),
                        strna(rel), v->plan_error == -EBADMSG ? v->plan_reason : strerror(-v->plan_error),
                        ctl_ansi_normal(ctl));
        if (row->ran) {
                _cleanup_free_ char *text = ctl_version_output_text(&row->nv);
                char end[64];
                bool clean = row->nv.result.code == CLD_EXITED && row->nv.result.status == 0 &&
                        !row->nv.result.timed_out;
                printf("  %9s: %s%s%s%s%s\n", "Version", isempty(text) ? "(nothing printed)" : text,
                        clean ? "" : ctl_ansi_yellow(ctl), clean ? "" : " (",
                        clean ? "" : node_version_describe_end(&row->nv, end, sizeof end), clean ? "" : ")");
                if (!clean)
                        printf("%s", ctl_ansi_normal(ctl));
        } else if (row->run_error)
                printf("  %9s: %s(not run: %s)%s\n", "Version", ctl_ansi_grey(ctl), row->run_error,
                        ctl_ansi_normal(ctl));
}

static int run(Ctl *ctl) {
        _cleanup_(layout_freep) Layout *l = NULL;
        _cleanup_(ctl_versions_done) CtlVersions vs = {};
        _cleanup_(credentials_done) Credentials cred = {};
        _cleanup_free_ char *cred_error = NULL;
        int ret = CTL_EXIT_FAILURE;

        if (ctl_open_layout(ctl, &l) < 0)
                return CTL_EXIT_FAILURE;
        if (ctl_versions_load(l, &vs) < 0)
                return CTL_EXIT_FAILURE;
        int r = ctl_node_credentials(ctl, &cred, &cred_error);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0 && !cred_error &&
                asprintf(&cred_error, "DAEMON_USER cannot be used: %s", strerror(-r)) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        Row *rows = new0(Row, vs.n_versions + 1);
        if (!rows)
                return log_oom(), CTL_EXIT_FAILURE;
        for (size_t i = 0; i < vs.n_versions; i++)
                inspect(ctl, l, &vs.versions[i], &cred, cred_error, &rows[i]);

        if (ctl->json) {
                json_object *o = json_object_new_object(), *a = json_object_new_array();
                if (!o || !a) {
                        json_object_put(o);
                        json_object_put(a);
                        log_oom();
                        goto finish;
                }
                const CtlVersion *cur = ctl_versions_current(&vs);
                ctl_json_add_string(o, "current", cur ? cur->name : NULL);
                ctl_json_add_string(o, "current_error",
                        vs.current_error == -ENOENT ? "missing"
                                : vs.current_error == -ENOLINK
                                ? "not a symlink to genesis or upgrades/<folder>"
                                : vs.current_error < 0 ? strerror(-vs.current_error)
                                                       : NULL);
                for (size_t i = 0; i < vs.n_versions; i++)
                        json_object_array_add(a, version_json(l, &vs.versions[i], &rows[i]));
                json_object_object_add(o, "versions", a);
                ret = ctl_print_json(o);
                json_object_put(o);
                goto finish;
        }

        if (vs.n_versions == 0)
                printf("No version installed under '%s': install the genesis binary first (oraivisorctl "
                       "init PATH).\n",
                        l->root);
        for (size_t i = 0; i < vs.n_versions; i++) {
                if (i > 0)
                        putchar('\n');
                version_print(ctl, l, &vs.versions[i], &rows[i]);
        }
        if (vs.current_error == -ENOENT && vs.n_versions > 0)
                printf("\n%s'%s/current' does not exist yet%s: oraivisor creates it (-> genesis) at its "
                       "first start.\n",
                        ctl_ansi_yellow(ctl), l->root, ctl_ansi_normal(ctl));
        else if (vs.current_error < 0 && vs.current_error != -ENOENT)
                printf("\n%s'%s/current' is broken (%s)%s: point it at the version the node's data needs.\n",
                        ctl_ansi_red(ctl), l->root,
                        vs.current_error == -ENOLINK ? "not a symlink to genesis or upgrades/<folder>"
                                                     : strerror(-vs.current_error),
                        ctl_ansi_normal(ctl));
        ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
finish:
        for (size_t i = 0; i < vs.n_versions; i++)
                row_done(&rows[i]);
        free(rows);
        return ret;
}

const CtlCommand ctl_command_list = {
        .name = "list",
        .summary =
                "List the installed versions: current, binary SHA-256 and size, activating plan, `version`",
        .help = "Lists genesis and every folder under upgrades/: its name (decoded from the folder), which "
                "one\n"
                "`current` points to, the binary's SHA-256 and size, the upgrade-info.json that activated "
                "it, and\n"
                "what `<binary> version` prints, run as the node runs (DAEMON_USER, the node's environment, "
                "the\n"
                "version's lib/ on LD_LIBRARY_PATH), stopped after 10 s. A version whose binary is missing "
                "or not\n"
                "executable is listed with the reason.",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
