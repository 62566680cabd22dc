/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl config: the effective configuration, where each value came from, and the derived paths. */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oraivisorctl.h"
#include "plan-file.h"
#include "string-util.h"

typedef struct PathRow {
        const char *key;   /* the JSON key */
        const char *label; /* the human label */
        char *path;
} PathRow;

static int derive_paths(const Config *c, PathRow *rows, size_t n) {
        const char *backup = c->backup_dir ? c->backup_dir : c->home;
        /* Below the home, in the order of rows[]; the last one is the backup folder itself. */
        static const char *const below_home[] = {
                "/oraivisor", "/oraivisor/genesis", "/oraivisor/upgrades", "/oraivisor/current", ("/data/" PLAN_FILE),
        };
        assert(n == ELEMENTSOF(below_home) + 1);
        for (size_t i = 0; i < ELEMENTSOF(below_home); i++)
                if (asprintf(&rows[i].path, "%s%s", c->home, below_home[i]) < 0)
                        return -ENOMEM;
        rows[n - 1].path = strdup(backup);
        return rows[n - 1].path ? 0 : -ENOMEM;
}

static int run(Ctl *ctl) {
        const Config *c = &ctl->config;
        PathRow paths[] = {
                { "root", "oraivisor folder", NULL },
                { "genesis", "genesis", NULL },
                { "upgrades", "upgrades", NULL },
                { "current", "current", NULL },
                { "upgrade_info", "upgrade-info.json", NULL },
                { "backups", "backups go to", NULL },
        };
        int ret = CTL_EXIT_FAILURE;

        if (derive_paths(c, paths, ELEMENTSOF(paths)) < 0) {
                log_oom();
                goto finish;
        }

        if (ctl->json) {
                json_object *root = json_object_new_object(), *vars = json_object_new_object(),
                            *p = json_object_new_object();
                if (!root || !vars || !p) {
                        json_object_put(root);
                        json_object_put(vars);
                        json_object_put(p);
                        log_oom();
                        goto finish;
                }
                json_object_object_add(root, "instance", ctl->instance ? json_object_new_string(ctl->instance) : NULL);
                json_object_object_add(root, "conf_file", ctl->conf_path ? json_object_new_string(ctl->conf_path) : NULL);
                json_object_object_add(root, "under_systemd", json_object_new_boolean(c->under_systemd));
                for (size_t i = 0; config_known_variables[i]; i++) {
                        _cleanup_free_ char *v = NULL;
                        const char *raw = ctl_variable_value(ctl, config_known_variables[i]);
                        if (config_format_value(c, config_known_variables[i], &v) < 0 || (!v && raw && !(v = strdup(raw)))) {
                                json_object_put(root);
                                json_object_put(vars);
                                json_object_put(p);
                                log_oom();
                                goto finish;
                        }
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "value", v ? json_object_new_string(v) : NULL);
                        json_object_object_add(e, "source", json_object_new_string(
                                ctl_source_to_string(ctl_variable_source(ctl, config_known_variables[i]))));
                        json_object_object_add(vars, config_known_variables[i], e);
                }
                json_object_object_add(root, "variables", vars);
                for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                        json_object_object_add(p, paths[i].key, json_object_new_string(paths[i].path));
                json_object_object_add(root, "paths", p);
                ret = ctl_print_json(root);
                json_object_put(root);
                goto finish;
        }

        if (ctl->conf_path)
                printf("%sConfiguration of oraivisor@%s.service%s (%s)\n", ctl_ansi_bold(ctl), ctl->instance,
                       ctl_ansi_normal(ctl), ctl->conf_path);
        else
                printf("%sConfiguration from the environment%s\n", ctl_ansi_bold(ctl), ctl_ansi_normal(ctl));
        printf("%s%-36s %-40s %s%s\n", ctl_ansi_grey(ctl), "VARIABLE", "VALUE", "SOURCE", ctl_ansi_normal(ctl));
        for (size_t i = 0; config_known_variables[i]; i++) {
                const char *name = config_known_variables[i];
                _cleanup_free_ char *v = NULL;
                if (config_format_value(c, name, &v) < 0 ||
                    (!v && ctl_variable_value(ctl, name) && !(v = strdup(ctl_variable_value(ctl, name))))) {
                        log_oom();
                        goto finish;
                }
                CtlSource s = ctl_variable_source(ctl, name);
                if (!v && s == CTL_SOURCE_DEFAULT)
                        continue; /* unset and without a default: nothing to say */
                _cleanup_free_ char *shown = v ? string_escape_for_log(v, strlen(v), 200) : NULL;
                printf("%-36s %-40s %s%s%s\n", name, shown ? shown : "-",
                       s == CTL_SOURCE_DEFAULT ? ctl_ansi_grey(ctl) : "", ctl_source_to_string(s),
                       s == CTL_SOURCE_DEFAULT ? ctl_ansi_normal(ctl) : "");
        }
        printf("\n%sPaths%s\n", ctl_ansi_bold(ctl), ctl_ansi_normal(ctl));
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                printf("  %-20s %s\n", paths[i].label, paths[i].path);
        ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;

finish:
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                free(paths[i].path);
        return ret;
}

const CtlCommand ctl_command_config = {
        .name = "config",
        .summary = "Show the effective configuration, where each value comes from, and the paths",
        .help = "Reads the configuration as oraivisor does (the environment, or with -i the unit's conf file)\n"
                "and shows every variable with its value and source: environment, conf file, unit (set by\n"
                "oraivisor@.service itself), command line or default.",
        .flags = CTL_FLAG_JSON,
        .needs_config = true,
        .run = run,
};
