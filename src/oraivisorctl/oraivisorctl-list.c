/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl list: every installed version (genesis and upgrades/<folder>), which one is current, its
 * binary's SHA-256 and size, the plan that activated it, what `<binary> version` prints and whether it is
 * ready: the readiness check of `check` (shared/readiness.h), whose last step is that `version` run, for
 * CTL_CHECK_PARALLEL versions at once. Not ready is listed, not a failure (exit status 0). */

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
        CtlCheck *check; /* the readiness check (run when the binary is installed and it can be) */
        char *not_ready; /* installed or not, why it will not start (NULL: ready, or not known) */
        char *run_error; /* why the check was not run, or could not run (ready is not known) */
} Row;

static void row_done(Row *r) {
        free(r->sha256);
        free(r->not_ready);
        free(r->run_error);
}

/* 1 ready, 0 not ready, -1 not known (run_error says why). */
static int row_ready(const Row *row) {
        return row->not_ready ? 0 : row->check->checked && row->check->ready ? 1 : row->run_error ? -1 : 0;
}

/* What can be known without running anything; the check itself runs for all versions at once. */
static int inspect(Layout *l, const CtlVersion *v, const char *cred_error, Row *row, CtlCheck *check) {
        *row = (Row){ .check = check };
        if (v->binary_error < 0)
                return ctl_binary_not_ready_reason(v, &row->not_ready);
        row->digest_error = ctl_binary_sha256(l, v, &row->sha256, &row->size);
        if (cred_error) {
                row->run_error = strdup(cred_error);
                return row->run_error ? 0 : -ENOMEM;
        }
        check->folder_rel = v->rel;
        return 0;
}

/* After the check. */
static int inspected(Row *row) {
        const CtlCheck *c = row->check;
        if (!c->folder_rel)
                return 0;
        if (c->error < 0 || !c->checked)
                return asprintf(&row->run_error, "could not be checked: %s", strerror(-(c->error ?: -ECANCELED))) < 0
                        ? -ENOMEM : 0;
        if (!c->ready && !(row->not_ready = strdup(c->reason ?: "cannot be checked: out of memory")))
                return -ENOMEM;
        return 0;
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
        json_object_object_add(o, "version", row->check->version_ran ? ctl_version_output_json(row->check) : NULL);
        ctl_json_add_string(o, "version_error", row->run_error);
        int ready = row_ready(row);
        json_object_object_add(o, "ready", ready < 0 ? NULL : json_object_new_boolean(ready));
        ctl_json_add_string(o, "not_ready_reason", row->not_ready);
        return o;
}

static void version_print(Ctl *ctl, Layout *l, const CtlVersion *v, const Row *row) {
        _cleanup_free_ char *name = v->name ? string_escape_for_log(v->name, strlen(v->name), 200) : NULL,
                            *rel = string_escape_for_log(v->rel, strlen(v->rel), 300),
                            *bin = string_escape_for_log(v->binary, strlen(v->binary), 400);
        int ready = row_ready(row);
        printf("%s%s%s %s%s%s%s\n",
                ready > 0 ? ctl_ansi_green(ctl) : ready < 0 ? ctl_ansi_yellow(ctl) : ctl_ansi_red(ctl),
                ready != 0 ? "●" : "×", ctl_ansi_normal(ctl), ctl_ansi_bold(ctl),
                name ? name : "(folder name does not decode)", ctl_ansi_normal(ctl), v->current ? " (current)" : "");
        printf("  %9s: %s/%s\n", "Folder", l->root, strna(rel));
        if (v->binary_error < 0) {
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
        const CtlCheck *c = row->check;
        if (c->version_ran) {
                _cleanup_free_ char *text = ctl_version_output_text(c);
                char end[64];
                bool clean = c->version_end.code == CLD_EXITED && c->version_end.status == 0 &&
                        !c->version_end.timed_out;
                printf("  %9s: %s%s%s%s%s%s\n", "Version", isempty(text) ? "(nothing printed)" : text,
                        clean ? "" : ctl_ansi_yellow(ctl), clean ? "" : " (",
                        clean ? "" : ctl_version_describe_end(&c->version_end, end, sizeof end), clean ? "" : ")",
                        clean ? "" : ctl_ansi_normal(ctl));
        } else if (row->run_error)
                printf("  %9s: %s(not run: the check could not run)%s\n", "Version", ctl_ansi_grey(ctl),
                        ctl_ansi_normal(ctl));
        else if (c->checked)
                printf("  %9s: %s(not run: the check stopped before it)%s\n", "Version", ctl_ansi_grey(ctl),
                        ctl_ansi_normal(ctl));
        /* The words of `check` and `status`: ready, or NOT READY and why. */
        if (ready > 0)
                printf("  %9s: %syes%s\n", "Ready", ctl_ansi_green(ctl), ctl_ansi_normal(ctl));
        else if (ready == 0)
                printf("  %9s: %sNO%s — the binary %s\n", "Ready", ctl_ansi_red(ctl), ctl_ansi_normal(ctl),
                        row->not_ready);
        else
                printf("  %9s: %sunknown%s (not checked: %s)\n", "Ready", ctl_ansi_yellow(ctl),
                        ctl_ansi_normal(ctl), row->run_error);
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
        CtlCheck *checks = new0(CtlCheck, vs.n_versions + 1);
        r = rows && checks ? 0 : -ENOMEM;
        for (size_t i = 0; i < vs.n_versions && r >= 0; i++)
                r = inspect(l, &vs.versions[i], cred_error, &rows[i], &checks[i]);
        /* All at once, CTL_CHECK_PARALLEL at a time: ten versions take little longer than one. */
        if (r >= 0)
                r = ctl_check_versions(ctl, &cred, checks, vs.n_versions);
        for (size_t i = 0; i < vs.n_versions && r >= 0; i++)
                r = inspected(&rows[i]);
        if (r < 0) {
                if (r == -ENOMEM)
                        log_oom();
                else
                        log_error("The versions could not be checked: %s.", strerror(-r));
                goto finish;
        }

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
        for (size_t i = 0; rows && i < vs.n_versions; i++)
                row_done(&rows[i]);
        for (size_t i = 0; checks && i < vs.n_versions; i++)
                ctl_check_done(&checks[i]);
        free(rows);
        free(checks);
        return ret;
}

const CtlCommand ctl_command_list = {
        .name = "list",
        .summary = "List the installed versions: current, binary SHA-256 and size, activating plan, "
                   "`version`, ready",
        .help = "Lists genesis and every folder under upgrades/: its name (decoded from the folder), which "
                "one\n"
                "`current` points to, the binary's SHA-256 and size, the upgrade-info.json that activated "
                "it,\n"
                "what `<binary> version` prints and whether the version is ready, by the check of "
                "`oraivisorctl check`\n"
                "(run as the node runs: DAEMON_USER, the node's environment, the version's lib/ on "
                "LD_LIBRARY_PATH;\n"
                "`version` stopped after 10 s; up to 4 versions at once). A version that is not ready is "
                "listed with\n"
                "the reason; the exit status stays 0 (oraivisorctl check exits 3).",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
