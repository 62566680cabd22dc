/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* oraivisorctl: the operator's command line next to oraivisor — prepare, inspect, recover. One file per
 * command (oraivisorctl-<command>.c, as systemd's systemctl-*.c), all on the shared layer, so that each
 * fact (the layout, the plan readers, "is this version installed", downloads, backups, the upgrade record)
 * has the one definition oraivisor itself uses. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "child.h"
#include "config.h"
#include "credentials.h"
#include "layout.h"
#include "macro.h"

/* Exit statuses (docs/oraivisorctl.md and oraivisorctl(1) list them; scripts rely on them). */
typedef enum CtlExit {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1,         /* the command failed; the message says why */
        CTL_EXIT_USAGE = 2,           /* bad command line */
        CTL_EXIT_NEEDS_ATTENTION = 3, /* status: the node is not running, or something needs the operator */
        CTL_EXIT_NOT_FOUND = 4,       /* no such upgrade, backup or version */
        CTL_EXIT_BUSY = 75,           /* EX_TEMPFAIL: oraivisor is upgrading, or runs where it must not; retry */
        CTL_EXIT_CONFIG = 78,         /* EX_CONFIG: the configuration is invalid, as oraivisor would say */
} CtlExit;

/* Where a configuration value came from. */
typedef enum CtlSource {
        CTL_SOURCE_DEFAULT,
        CTL_SOURCE_ENVIRONMENT,
        CTL_SOURCE_CONF_FILE,
        CTL_SOURCE_UNIT,         /* set by the shipped unit itself (Environment=): DAEMON_NAME=%i */
        CTL_SOURCE_COMMAND_LINE, /* --home, --name */
        _CTL_SOURCE_MAX,
} CtlSource;

const char *ctl_source_to_string(CtlSource s) _const_;

/* Options a command may accept (a command's table entry lists them; others are usage errors). */
typedef enum CtlFlag {
        CTL_FLAG_JSON = 1 << 0,
        CTL_FLAG_FORCE = 1 << 1,
        CTL_FLAG_INFO = 1 << 2,
        CTL_FLAG_SWITCH_TO = 1 << 3,
        CTL_FLAG_HEIGHT = 1 << 4,
} CtlFlag;

typedef struct Ctl {
        /* The command line. */
        const char *instance;   /* -i NAME: read /etc/oraivisor/NAME.conf as the unit does */
        const char *arg_home;   /* --home */
        const char *arg_name;   /* --name */
        bool json;              /* --json */
        bool force;             /* --force */
        const char *info;       /* --info INFO */
        const char *switch_to;  /* --switch-to VERSION */
        int64_t height;         /* --height H (> 0), 0 when not given */
        char **args;            /* the command's positional arguments */
        size_t n_args;

        /* The configuration, exactly as oraivisor would parse it. */
        char **env;             /* the environment block parsed */
        CtlSource *sources;     /* per entry of env */
        char *conf_path;        /* the conf file read (-i), else NULL */
        Config config;
        bool config_loaded;

        /* Output. */
        bool color;             /* stdout is a terminal and NO_COLOR is not set */
} Ctl;

typedef struct CtlCommand {
        const char *name;
        const char *usage;      /* the arguments, for --help: "NAME PATH" */
        const char *summary;    /* one line */
        const char *help;       /* the rest of the command's --help text, or NULL */
        unsigned min_args, max_args;
        unsigned flags;         /* CtlFlag accepted */
        bool needs_config;      /* load and validate the configuration first (78 when invalid) */
        int (*run)(Ctl *ctl);   /* returns a CtlExit */
} CtlCommand;

/* The commands (oraivisorctl-<name>.c each define theirs). */
extern const CtlCommand ctl_command_backups;
extern const CtlCommand ctl_command_check;
extern const CtlCommand ctl_command_config;
extern const CtlCommand ctl_command_import_cosmovisor;
extern const CtlCommand ctl_command_show_upgrade_info;
extern const CtlCommand ctl_command_list;
extern const CtlCommand ctl_command_version;
extern const CtlCommand ctl_command_status;
extern const CtlCommand ctl_command_prepare_upgrade;
extern const CtlCommand ctl_command_init;
extern const CtlCommand ctl_command_add_upgrade;
extern const CtlCommand ctl_command_add_batch_upgrade;
extern const CtlCommand ctl_command_remove_upgrade;

/* Builds the environment block (the process environment, or the unit's view with -i), applies --home and
 * --name, parses and validates it as oraivisor does. Prints every problem and returns CTL_EXIT_CONFIG when
 * it is invalid, CTL_EXIT_OK otherwise. */
int ctl_load_config(Ctl *ctl);
void ctl_done(Ctl *ctl);

/* Where an environment variable's value came from (CTL_SOURCE_DEFAULT when it is not set). */
CtlSource ctl_variable_source(const Ctl *ctl, const char *name);

/* The value of a variable as given (NULL when unset or empty). */
const char *ctl_variable_value(const Ctl *ctl, const char *name);

/* Opens the layout of the configured home (logs and returns a negative errno when it is missing). */
int ctl_open_layout(Ctl *ctl, Layout **ret);

/* How many readiness checks run at once (each is at most two short-lived children). */
#define CTL_CHECK_PARALLEL 4

/* One version to check and what the check found. */
typedef struct CtlCheck {
        const char *folder_rel;  /* "genesis" or "upgrades/<folder>" (borrowed); NULL: skipped */
        bool checked;            /* the check ran to its verdict (else error, or skipped) */
        int error;               /* <0: it could not run (fork, memory) */
        bool ready;
        char *reason;            /* not ready: one line, "<what>: <fix>", about the binary */
        char *output;            /* what `version` printed (NUL-terminated, raw bytes), NULL when not run */
        size_t output_size;
        bool output_truncated;   /* it printed READINESS_OUTPUT_MAX bytes or more */
        bool version_ran;
        ChildResult version_end; /* how `version` ended, when version_ran */
} CtlCheck;

void ctl_check_done(CtlCheck *c);

/* Runs the readiness check (shared/readiness.h) of each version as the node would run (credentials, the
 * configuration's environment, in DAEMON_HOME), CTL_CHECK_PARALLEL at a time on one event loop, and waits for all (each
 * is bounded by the check's own time limits). Returns 0 with each filled in (a check that could not start
 * has its error), or a negative errno when the loop could not run. */
int ctl_check_versions(Ctl *ctl, const Credentials *credentials, CtlCheck *checks, size_t n);

/* One version, as the node's credentials (DAEMON_USER): 0 with *ret_ready and, when not ready, the reason;
 * the output of `version` when it ran. Negative errno when the check could not run (logged when it is a
 * bad DAEMON_USER). */
int ctl_check_version(Ctl *ctl, const char *folder_rel, bool *ret_ready, char **ret_reason, char **ret_output);

/* Where the readiness check runs. With -i NAME, as root, on a host booted with systemd whose system bus
 * answers, and unless ORAIVISOR_LAUNCHER=exec: in a unit made like the node's, as oraivisor@NAME runs it
 * before a switch (1, *ret the node unit's name). Otherwise as our own child, as DAEMON_USER (0, *ret NULL):
 * without -i there is no unit to match, and only root may start units without polkit. */
int ctl_check_node_unit(Ctl *ctl, char **ret);

/* After an installation: runs the check and says "<label> is ready" or why it is not (into o instead,
 * as "ready" and "ready_reason", when o is not NULL). CTL_EXIT_OK when ready (or when the check could not
 * run: a warning), CTL_EXIT_NEEDS_ATTENTION when it is installed but will not start on this host. */
int ctl_report_readiness(Ctl *ctl, const char *folder_rel, const char *label, json_object *o);

/* Prints a JSON value to stdout, pretty and with a final newline. Returns CTL_EXIT_OK or _FAILURE. */
int ctl_print_json(json_object *o);

/* ANSI sequences when ctl->color, "" otherwise. */
const char *ctl_ansi_bold(const Ctl *ctl);
const char *ctl_ansi_red(const Ctl *ctl);
const char *ctl_ansi_green(const Ctl *ctl);
const char *ctl_ansi_yellow(const Ctl *ctl);
const char *ctl_ansi_grey(const Ctl *ctl);
const char *ctl_ansi_normal(const Ctl *ctl);

/* An error line "oraivisorctl: …" on stderr; returns the given exit status, for `return ctl_fail(…)`. */
int ctl_fail(int status, const char *format, ...) _printf_(2, 3);
