/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl [OPTIONS…] COMMAND [ARGS…]: the command line, the command table and --help. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "oraivisorctl.h"
#include "string-util.h"

static const CtlCommand *const commands[] = {
        &ctl_command_status,
        &ctl_command_list,
        &ctl_command_show_upgrade_info,
        &ctl_command_backups,
        &ctl_command_check,
        &ctl_command_config,
        &ctl_command_import_cosmovisor,
        &ctl_command_init,
        &ctl_command_add_upgrade,
        &ctl_command_add_batch_upgrade,
        &ctl_command_remove_upgrade,
        &ctl_command_prepare_upgrade,
        &ctl_command_version,
};

static const CtlCommand *find_command(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i]->name, name))
                        return commands[i];
        return NULL;
}

static const char *closest_command(const char *name) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                size_t d = string_distance(name, commands[i]->name);
                if (d < best_d) {
                        best_d = d;
                        best = commands[i]->name;
                }
        }
        return best_d <= 3 ? best : NULL;
}

static const struct {
        unsigned flag;
        const char *text;
} flag_help[] = {
        { CTL_FLAG_JSON, "  --json               print one JSON document (schema: docs/oraivisorctl.md)" },
        { CTL_FLAG_FORCE, "  --force              replace what is installed" },
        { CTL_FLAG_INFO, "  --info INFO          the plan's info: inline JSON or a manifest URL" },
        { CTL_FLAG_SWITCH_TO, "  --switch-to VERSION  also point `current` to VERSION ('genesis' or an upgrade name)" },
        { CTL_FLAG_HEIGHT, "  --height H           also schedule the upgrade at block height H (no governance plan)" },
};

static void help_common(void) {
        printf("\nConfiguration (as oraivisor reads it; exit status 78 when it is invalid):\n"
               "  -i, --instance NAME  read /etc/oraivisor/NAME.conf as oraivisor@NAME.service does\n"
               "      --home PATH      DAEMON_HOME (overrides the environment and the conf file)\n"
               "      --name NAME      DAEMON_NAME\n"
               "  -h, --help           this help; COMMAND --help for a command's\n"
               "      --version        oraivisorctl's version\n");
}

static void help_command(const CtlCommand *c) {
        printf("oraivisorctl [OPTIONS…] %s%s%s\n\n%s\n", c->name, c->usage ? " " : "", strempty(c->usage), c->summary);
        if (c->help)
                printf("\n%s\n", c->help);
        if (c->flags) {
                printf("\nOptions:\n");
                for (size_t i = 0; i < ELEMENTSOF(flag_help); i++)
                        if (c->flags & flag_help[i].flag)
                                printf("%s\n", flag_help[i].text);
        }
        help_common();
}

static void help(void) {
        printf("oraivisorctl [OPTIONS…] COMMAND [ARGS…]\n\n"
               "Prepare, inspect and recover the upgrades of a node run by oraivisor.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                _cleanup_free_ char *left = NULL;
                if (asprintf(&left, "%s%s%s", commands[i]->name, commands[i]->usage ? " " : "",
                             strempty(commands[i]->usage)) < 0)
                        return;
                printf("  %-38s %s\n", left, commands[i]->summary);
        }
        help_common();
        printf("\nSee oraivisorctl(1); exit statuses: 0 ok, 1 failed, 2 usage, 3 needs attention (status),\n"
               "4 not found, 75 busy (oraivisor is upgrading), 78 invalid configuration.\n");
}

enum {
        ARG_HOME = 0x100,
        ARG_NAME,
        ARG_JSON,
        ARG_FORCE,
        ARG_INFO,
        ARG_SWITCH_TO,
        ARG_HEIGHT,
        ARG_VERSION,
};

/* Returns 0 for an option taken, -1 to stop (--version printed, or a usage error). */
static int parse_option(Ctl *ctl, int c, unsigned *given, bool *want_help) {
        switch (c) {
        case 'i':
                ctl->instance = optarg;
                return 0;
        case ARG_HOME:
                ctl->arg_home = optarg;
                return 0;
        case ARG_NAME:
                ctl->arg_name = optarg;
                return 0;
        case ARG_JSON:
                ctl->json = true;
                *given |= CTL_FLAG_JSON;
                return 0;
        case ARG_FORCE:
                ctl->force = true;
                *given |= CTL_FLAG_FORCE;
                return 0;
        case ARG_INFO:
                ctl->info = optarg;
                *given |= CTL_FLAG_INFO;
                return 0;
        case ARG_SWITCH_TO:
                ctl->switch_to = optarg;
                *given |= CTL_FLAG_SWITCH_TO;
                return 0;
        case ARG_HEIGHT: {
                char *end = NULL;
                errno = 0;
                long long h = optarg[0] >= '0' && optarg[0] <= '9' ? strtoll(optarg, &end, 10) : 0;
                if (errno != 0 || !end || *end != 0 || h <= 0 || h == INT64_MAX) {
                        _cleanup_free_ char *shown = string_escape_for_log(optarg, strlen(optarg), 64);
                        ctl_fail(CTL_EXIT_USAGE, "--height '%s' is not a block height: pass a positive integer, e.g. --height 1234567.",
                                strna(shown));
                        return -1;
                }
                ctl->height = h;
                *given |= CTL_FLAG_HEIGHT;
                return 0;
        }
        case 'h':
                *want_help = true;
                return 0;
        case ARG_VERSION:
                printf("oraivisorctl %s\n", PACKAGE_VERSION);
                return -1;
        default:
                return -1;
        }
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "instance", required_argument, NULL, 'i' },
                { "home", required_argument, NULL, ARG_HOME },
                { "name", required_argument, NULL, ARG_NAME },
                { "json", no_argument, NULL, ARG_JSON },
                { "force", no_argument, NULL, ARG_FORCE },
                { "info", required_argument, NULL, ARG_INFO },
                { "switch-to", required_argument, NULL, ARG_SWITCH_TO },
                { "height", required_argument, NULL, ARG_HEIGHT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        _cleanup_(ctl_done) Ctl ctl = {};
        unsigned given = 0;
        bool want_help = false;
        int c;

        log_set_prefix("oraivisorctl");
        (void) signal(SIGPIPE, SIG_IGN);

        /* "+": stop at the command; options may also follow it ("add-upgrade v2 ./oraid --force"). */
        while ((c = getopt_long(argc, argv, "+hi:", options, NULL)) >= 0)
                if (parse_option(&ctl, c, &given, &want_help) < 0)
                        return c == ARG_VERSION ? CTL_EXIT_OK : ctl_fail(CTL_EXIT_USAGE, "Try 'oraivisorctl --help'.");

        if (optind >= argc) {
                if (want_help) {
                        help();
                        return CTL_EXIT_OK;
                }
                return ctl_fail(CTL_EXIT_USAGE, "No command given: try 'oraivisorctl --help'.");
        }
        const char *name = argv[optind++];
        const CtlCommand *cmd = find_command(name);
        if (!cmd) {
                const char *near = closest_command(name);
                return ctl_fail(CTL_EXIT_USAGE, "Unknown command '%s'%s%s%s: try 'oraivisorctl --help'.", name,
                                near ? " (did you mean '" : "", strempty(near), near ? "'?)" : "");
        }

        /* The command's own arguments, options among them: a second getopt, reinitialised (optind = 0) in
         * its default permuting order, over argv from the command name on. */
        char **sub_argv = argv + optind - 1;
        int sub_argc = argc - optind + 1;
        optind = 0;
        while ((c = getopt_long(sub_argc, sub_argv, "hi:", options, NULL)) >= 0)
                if (parse_option(&ctl, c, &given, &want_help) < 0)
                        return c == ARG_VERSION ? CTL_EXIT_OK :
                                ctl_fail(CTL_EXIT_USAGE, "Try 'oraivisorctl %s --help'.", cmd->name);
        if (want_help) {
                help_command(cmd);
                return CTL_EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(flag_help); i++)
                if ((given & flag_help[i].flag) && !(cmd->flags & flag_help[i].flag)) {
                        const char *opt = strstr(flag_help[i].text, "--");
                        size_t n = strcspn(opt, " ");
                        return ctl_fail(CTL_EXIT_USAGE, "'%s' does not take %.*s: see 'oraivisorctl %s --help'.",
                                        cmd->name, (int) n, opt, cmd->name);
                }

        ctl.args = sub_argv + optind;
        ctl.n_args = sub_argc - optind;
        if (ctl.n_args < cmd->min_args || ctl.n_args > cmd->max_args)
                return ctl_fail(CTL_EXIT_USAGE, "'%s' takes %s: oraivisorctl %s%s%s.", cmd->name,
                                ctl.n_args < cmd->min_args ? "more arguments" : "fewer arguments", cmd->name,
                                cmd->usage ? " " : "", strempty(cmd->usage));

        const char *no_color = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        ctl.color = isatty(STDOUT_FILENO) && !no_color && !streq_ptr(term, "dumb");

        if (cmd->needs_config) {
                int r = ctl_load_config(&ctl);
                if (r != CTL_EXIT_OK)
                        return r;
        }
        return cmd->run(&ctl);
}
