/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The configuration of oraivisor, parsed from an environment block (environ, or an EnvironmentFile that
 * systemd already turned into environment). Pure: config_parse() reads only the strings it is given and
 * collects every problem into a ConfigDiagnostics, one line per problem naming the variable, the value
 * and what is expected, so that the caller can print them all at once and exit with EX_CONFIG. Checks
 * that need the file system (DAEMON_HOME exists) are done by the runtime layer, which appends to the
 * same diagnostics. */

#include "macro.h"
#include "time-util.h"
#include "unit-property.h"

typedef enum LauncherKind {
        LAUNCHER_AUTO,
        LAUNCHER_UNIT,
        LAUNCHER_EXEC,
        _LAUNCHER_KIND_MAX,
        _LAUNCHER_KIND_INVALID = -EINVAL,
} LauncherKind;

const char *launcher_kind_to_string(LauncherKind k) _const_;
LauncherKind launcher_kind_from_string(const char *s) _pure_;

/* The sandbox of the node's transient unit (unit launcher only; exec mode runs the node as a plain child). */
typedef enum DaemonSandbox {
        DAEMON_SANDBOX_STRICT,
        DAEMON_SANDBOX_OFF,
        _DAEMON_SANDBOX_MAX,
        _DAEMON_SANDBOX_INVALID = -EINVAL,
} DaemonSandbox;

const char *daemon_sandbox_to_string(DaemonSandbox s) _const_;
DaemonSandbox daemon_sandbox_from_string(const char *s) _pure_;

typedef struct Config {
        /* Foundation. */
        char *home;                  /* DAEMON_HOME, absolute, no trailing slash */
        char *name;                  /* DAEMON_NAME, a plain file name */
        bool allow_download;         /* DAEMON_ALLOW_DOWNLOAD_BINARIES, default false */
        bool restart_after_upgrade;  /* DAEMON_RESTART_AFTER_UPGRADE, default under_systemd */
        usec_t shutdown_grace;       /* DAEMON_SHUTDOWN_GRACE, default 30s */
        usec_t restart_delay;        /* DAEMON_RESTART_DELAY, default 0 */
        usec_t poll_interval;        /* DAEMON_POLL_INTERVAL: fallback poll of upgrade-info.json, 300ms */
        LauncherKind launcher;       /* ORAIVISOR_LAUNCHER, default auto */
        int log_level;               /* ORAIVISOR_LOG_LEVEL, default LOG_INFO */
        /* INVOCATION_ID is set: oraivisor runs as a systemd service, and systemd is the supervisor that
         * would have to start it again after an upgrade. The shipped unit does not restart it after a clean
         * exit (Restart=on-failure), so under systemd DAEMON_RESTART_AFTER_UPGRADE defaults to true, and an
         * explicit false ends with a status of its own (EXIT_UPGRADE_INSTALLED_STOPPED), never a clean exit. */
        bool under_systemd;

        /* systemd launcher. */
        char *daemon_unit;           /* ORAIVISOR_DAEMON_UNIT, NULL = derived */
        char *daemon_user;           /* DAEMON_USER */
        char *daemon_group;          /* DAEMON_GROUP */
        uint64_t limit_nofile;       /* DAEMON_LIMIT_NOFILE, default 65536 */
        uint64_t memory_max;         /* DAEMON_MEMORY_MAX, UINT64_MAX = unlimited (default) */
        char *state_dir;             /* ORAIVISOR_STATE_DIR, else $STATE_DIRECTORY, else NULL */
        DaemonSandbox daemon_sandbox; /* ORAIVISOR_DAEMON_SANDBOX, default strict */
        UnitPropertyList daemon_properties; /* ORAIVISOR_DAEMON_PROPERTIES, parsed */
        char *daemon_properties_text; /* ... as written, for display */

        /* Downloads. */
        bool must_have_checksum;     /* DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM, default false */
        bool allow_file_urls;        /* ORAIVISOR_ALLOW_FILE_URLS, default false */
        unsigned download_retries;   /* ORAIVISOR_DOWNLOAD_RETRIES, default 5 */
        uint64_t download_max_size;  /* ORAIVISOR_DOWNLOAD_MAX_SIZE, default 4 GiB */
        usec_t download_connect_timeout; /* ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT, default 30s */
        usec_t download_stall_timeout;   /* ORAIVISOR_DOWNLOAD_STALL_TIMEOUT, default 60s */
        uint64_t unpack_max_size;    /* ORAIVISOR_UNPACK_MAX_SIZE, default 16 GiB */
        uint64_t unpack_max_entries; /* ORAIVISOR_UNPACK_MAX_ENTRIES, default 100000 */
        char *download_ca_file;      /* ORAIVISOR_DOWNLOAD_CA_FILE: CA bundle instead of the system's */

        /* Upgrade safety. */
        bool unsafe_skip_backup;     /* UNSAFE_SKIP_BACKUP, default false */
        char *backup_dir;            /* DAEMON_DATA_BACKUP_DIR, default = home */
        unsigned backup_keep;        /* ORAIVISOR_BACKUP_KEEP, 0 = keep all */
        char *custom_preupgrade;     /* ORAIVISOR_CUSTOM_PREUPGRADE or COSMOVISOR_CUSTOM_PREUPGRADE */
        unsigned preupgrade_max_retries; /* DAEMON_PREUPGRADE_MAX_RETRIES, default 0 */
        usec_t hook_timeout;         /* ORAIVISOR_HOOK_TIMEOUT, default 10min */

        /* Metrics (docs/metrics.md). */
        char *metrics_dir;           /* ORAIVISOR_METRICS_DIR, NULL = node-exporter's folder when it exists */
        bool metrics_off;            /* ORAIVISOR_METRICS_DIR=off */

        /* The chain watcher (docs/chain-watch.md). */
        char *node_rpc;              /* ORAIVISOR_NODE_RPC as written (valid), NULL = derived (config.toml, else 127.0.0.1:26657) */
        bool node_rpc_off;           /* ORAIVISOR_NODE_RPC=off */
        usec_t chain_poll_interval;  /* ORAIVISOR_CHAIN_POLL_INTERVAL, default 1min */
        bool height_restart;         /* ORAIVISOR_HEIGHT_RESTART: an upgrade at a height added while the node runs
                                      * restarts it with --halt-height at once (default), or at its next start */
} Config;

/* What config_parse() found wrong. errors make the configuration unusable; warnings do not. */
typedef struct ConfigDiagnostics {
        char **errors;
        char **warnings;
} ConfigDiagnostics;

#define CONFIG_DEFAULT_SHUTDOWN_GRACE (30 * USEC_PER_SEC)
#define CONFIG_DEFAULT_POLL_INTERVAL (300 * USEC_PER_MSEC)
#define CONFIG_DEFAULT_LIMIT_NOFILE UINT64_C(65536)
#define CONFIG_DEFAULT_DOWNLOAD_RETRIES 5u
#define CONFIG_DEFAULT_DOWNLOAD_MAX_SIZE (UINT64_C(4) << 30)
#define CONFIG_DEFAULT_UNPACK_MAX_SIZE (UINT64_C(16) << 30)
#define CONFIG_DEFAULT_UNPACK_MAX_ENTRIES UINT64_C(100000)
#define CONFIG_DEFAULT_HOOK_TIMEOUT (10 * USEC_PER_MINUTE)
#define CONFIG_DEFAULT_CHAIN_POLL_INTERVAL USEC_PER_MINUTE
/* Where Debian's prometheus-node-exporter reads *.prom files (its --collector.textfile.directory). */
#define CONFIG_DEFAULT_METRICS_DIR "/var/lib/prometheus/node-exporter"

void config_done(Config *c);
void config_diagnostics_done(ConfigDiagnostics *d);

/* Parses env (NULL-terminated "NAME=VALUE" list). Always fills *ret with defaults plus whatever parsed;
 * returns -EINVAL if d->errors is non-empty, -ENOMEM on allocation failure, 0 otherwise. */
int config_parse(char *const *env, Config *ret, ConfigDiagnostics *d);

/* Appends a formatted error or warning. */
int config_diagnostics_add_error(ConfigDiagnostics *d, const char *format, ...) _printf_(2, 3);
int config_diagnostics_add_warning(ConfigDiagnostics *d, const char *format, ...) _printf_(2, 3);

/* The effective value of one variable of config_known_variables as text (durations as "30s", sizes in
 * bytes, booleans as true/false): 1 and the value, 0 and NULL when it has none (an unset path, a variable
 * that is read by someone else), -ENOENT for a name that is not a configuration variable. */
int config_format_value(const Config *c, const char *name, char **ret);

/* The names this program understands (for suggestions and documentation), NULL-terminated. */
extern const char *const config_known_variables[];

/* Validates a DAEMON_NAME: non-empty, no '/', not "." or "..", printable, at most 255 bytes. */
bool daemon_name_is_valid(const char *s) _pure_;
