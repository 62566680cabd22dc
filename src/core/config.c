/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <syslog.h>

#include "chain-rpc.h"
#include "config.h"
#include "parse-util.h"
#include "string-util.h"
#include "strv.h"

static const char *const launcher_kind_table[_LAUNCHER_KIND_MAX] = {
        [LAUNCHER_AUTO] = "auto",
        [LAUNCHER_UNIT] = "unit",
        [LAUNCHER_EXEC] = "exec",
};

const char *launcher_kind_to_string(LauncherKind k) {
        if (k < 0 || k >= _LAUNCHER_KIND_MAX)
                return NULL;
        return launcher_kind_table[k];
}

LauncherKind launcher_kind_from_string(const char *s) {
        for (LauncherKind k = 0; k < _LAUNCHER_KIND_MAX; k++)
                if (s && strcasecmp(s, launcher_kind_table[k]) == 0)
                        return k;
        return _LAUNCHER_KIND_INVALID;
}

static const char *const daemon_sandbox_table[_DAEMON_SANDBOX_MAX] = {
        [DAEMON_SANDBOX_STRICT] = "strict",
        [DAEMON_SANDBOX_OFF] = "off",
};

const char *daemon_sandbox_to_string(DaemonSandbox s) {
        if (s < 0 || s >= _DAEMON_SANDBOX_MAX)
                return NULL;
        return daemon_sandbox_table[s];
}

DaemonSandbox daemon_sandbox_from_string(const char *s) {
        for (DaemonSandbox k = 0; k < _DAEMON_SANDBOX_MAX; k++)
                if (s && strcasecmp(s, daemon_sandbox_table[k]) == 0)
                        return k;
        return _DAEMON_SANDBOX_INVALID;
}

typedef enum VarType {
        VAR_STRING,     /* any non-empty string */
        VAR_ABS_PATH,   /* absolute path, normalised without trailing slash */
        VAR_FILE_NAME,  /* plain file name */
        VAR_BOOL,
        VAR_DURATION,
        VAR_UNSIGNED,
        VAR_SIZE,       /* bytes, with K/M/G/T suffixes */
        VAR_SIZE_OR_INFINITY,
        VAR_LAUNCHER,
        VAR_SANDBOX,
        VAR_UNIT_PROPERTIES,
        VAR_LOG_LEVEL,
        VAR_METRICS_DIR, /* an absolute path, or "off" */
        VAR_NODE_RPC,   /* an RPC address (core/chain-rpc.h), or "off" */
        VAR_USER,       /* user or group name, or numeric id */
        VAR_IGNORED,    /* understood, accepted, has no effect here */
        VAR_PASSTHROUGH, /* read by someone else (the unit file) */
} VarType;

typedef struct Var {
        const char *name;
        VarType type;
        size_t offset;
        const char *expect; /* what the error message says is expected */
} Var;

#define F(field) offsetof(Config, field)

/* The order is the order of the README's configuration table. COSMOVISOR_CUSTOM_PREUPGRADE comes after
 * ORAIVISOR_CUSTOM_PREUPGRADE and only applies when the latter is not set. */
static const Var vars[] = {
        { "DAEMON_HOME", VAR_ABS_PATH, F(home), "an absolute path to the node's home folder" },
        { "DAEMON_NAME", VAR_FILE_NAME, F(name), "the daemon's binary file name, such as 'oraid'" },
        { "DAEMON_ALLOW_DOWNLOAD_BINARIES", VAR_BOOL, F(allow_download), NULL },
        { "DAEMON_RESTART_AFTER_UPGRADE", VAR_BOOL, F(restart_after_upgrade), NULL },
        { "DAEMON_SHUTDOWN_GRACE", VAR_DURATION, F(shutdown_grace), NULL },
        { "DAEMON_RESTART_DELAY", VAR_DURATION, F(restart_delay), NULL },
        { "DAEMON_POLL_INTERVAL", VAR_DURATION, F(poll_interval), NULL },
        { "ORAIVISOR_LAUNCHER", VAR_LAUNCHER, F(launcher), "one of 'auto', 'unit' or 'exec'" },
        { "ORAIVISOR_LOG_LEVEL", VAR_LOG_LEVEL, F(log_level), "one of 'debug', 'info', 'notice', 'warning', 'err'" },
        { "ORAIVISOR_DAEMON_UNIT", VAR_STRING, F(daemon_unit), "a unit name ending in '.service'" },
        { "DAEMON_USER", VAR_USER, F(daemon_user), "a user name or numeric UID" },
        { "DAEMON_GROUP", VAR_USER, F(daemon_group), "a group name or numeric GID" },
        { "DAEMON_LIMIT_NOFILE", VAR_UNSIGNED, F(limit_nofile), "a number of open files, such as 65536" },
        { "DAEMON_MEMORY_MAX", VAR_SIZE_OR_INFINITY, F(memory_max), "a size such as '8G', or 'infinity'" },
        { "ORAIVISOR_STATE_DIR", VAR_ABS_PATH, F(state_dir), "an absolute path" },
        { "ORAIVISOR_DAEMON_SANDBOX", VAR_SANDBOX, F(daemon_sandbox), "'strict' or 'off'" },
        { "ORAIVISOR_DAEMON_PROPERTIES", VAR_UNIT_PROPERTIES, F(daemon_properties), NULL },
        { "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM", VAR_BOOL, F(must_have_checksum), NULL },
        { "ORAIVISOR_ALLOW_FILE_URLS", VAR_BOOL, F(allow_file_urls), NULL },
        { "ORAIVISOR_DOWNLOAD_RETRIES", VAR_UNSIGNED, F(download_retries), "a number of retries, such as 5" },
        { "ORAIVISOR_DOWNLOAD_MAX_SIZE", VAR_SIZE, F(download_max_size), "a size such as '4G'" },
        { "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT", VAR_DURATION, F(download_connect_timeout), NULL },
        { "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT", VAR_DURATION, F(download_stall_timeout), NULL },
        { "ORAIVISOR_UNPACK_MAX_SIZE", VAR_SIZE, F(unpack_max_size), "a size such as '16G'" },
        { "ORAIVISOR_UNPACK_MAX_ENTRIES", VAR_UNSIGNED, F(unpack_max_entries), "a number of archive entries" },
        { "ORAIVISOR_DOWNLOAD_CA_FILE", VAR_ABS_PATH, F(download_ca_file), "an absolute path to a PEM CA bundle" },
        { "UNSAFE_SKIP_BACKUP", VAR_BOOL, F(unsafe_skip_backup), NULL },
        { "DAEMON_DATA_BACKUP_DIR", VAR_ABS_PATH, F(backup_dir), "an absolute path to an existing folder" },
        { "ORAIVISOR_BACKUP_KEEP", VAR_UNSIGNED, F(backup_keep), "a number of backups to keep (0 keeps all)" },
        { "ORAIVISOR_CUSTOM_PREUPGRADE", VAR_FILE_NAME, F(custom_preupgrade), "a file name under $DAEMON_HOME/oraivisor/" },
        { "COSMOVISOR_CUSTOM_PREUPGRADE", VAR_FILE_NAME, F(custom_preupgrade), "a file name under $DAEMON_HOME/oraivisor/" },
        { "DAEMON_PREUPGRADE_MAX_RETRIES", VAR_UNSIGNED, F(preupgrade_max_retries), "a number of retries" },
        { "ORAIVISOR_HOOK_TIMEOUT", VAR_DURATION, F(hook_timeout), NULL },
        { "ORAIVISOR_METRICS_DIR", VAR_METRICS_DIR, F(metrics_dir), "an absolute path to node-exporter's textfile folder" },
        { "ORAIVISOR_NODE_RPC", VAR_NODE_RPC, F(node_rpc), NULL },
        { "ORAIVISOR_CHAIN_POLL_INTERVAL", VAR_DURATION, F(chain_poll_interval), NULL },
        { "ORAIVISOR_HEIGHT_RESTART", VAR_BOOL, F(height_restart), NULL },
        /* Read by the shipped unit file, not by us. */
        { "DAEMON_ARGS", VAR_PASSTHROUGH, 0, NULL },
        /* Cosmovisor variables that have no effect here; known so they are not reported as typos. */
        { "DAEMON_LOG_BUFFER_SIZE", VAR_IGNORED, 0, "lines of any length are scanned" },
        { "DAEMON_GRPC_ADDRESS", VAR_IGNORED, 0, "oraivisor does not query the node over gRPC" },
};

const char *const config_known_variables[] = {
        "DAEMON_HOME", "DAEMON_NAME", "DAEMON_ALLOW_DOWNLOAD_BINARIES", "DAEMON_RESTART_AFTER_UPGRADE",
        "DAEMON_SHUTDOWN_GRACE", "DAEMON_RESTART_DELAY", "DAEMON_POLL_INTERVAL", "ORAIVISOR_LAUNCHER",
        "ORAIVISOR_LOG_LEVEL", "ORAIVISOR_DAEMON_UNIT", "DAEMON_USER", "DAEMON_GROUP", "DAEMON_LIMIT_NOFILE",
        "DAEMON_MEMORY_MAX", "ORAIVISOR_STATE_DIR", "ORAIVISOR_DAEMON_SANDBOX", "ORAIVISOR_DAEMON_PROPERTIES",
        "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM",
        "ORAIVISOR_ALLOW_FILE_URLS", "ORAIVISOR_DOWNLOAD_RETRIES", "ORAIVISOR_DOWNLOAD_MAX_SIZE",
        "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT", "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT", "ORAIVISOR_UNPACK_MAX_SIZE",
        "ORAIVISOR_UNPACK_MAX_ENTRIES", "ORAIVISOR_DOWNLOAD_CA_FILE", "UNSAFE_SKIP_BACKUP", "DAEMON_DATA_BACKUP_DIR", "ORAIVISOR_BACKUP_KEEP",
        "ORAIVISOR_CUSTOM_PREUPGRADE", "COSMOVISOR_CUSTOM_PREUPGRADE", "DAEMON_PREUPGRADE_MAX_RETRIES",
        "ORAIVISOR_HOOK_TIMEOUT", "ORAIVISOR_METRICS_DIR", "ORAIVISOR_NODE_RPC", "ORAIVISOR_CHAIN_POLL_INTERVAL", "ORAIVISOR_HEIGHT_RESTART", "DAEMON_ARGS", "DAEMON_LOG_BUFFER_SIZE", "DAEMON_GRPC_ADDRESS", NULL,
};

_printf_(2, 0) static int diag_addv(char ***l, const char *format, va_list ap) {
        char *s = NULL;
        if (vasprintf(&s, format, ap) < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

int config_diagnostics_add_error(ConfigDiagnostics *d, const char *format, ...) {
        assert(d);

        va_list ap;
        va_start(ap, format);
        int r = diag_addv(&d->errors, format, ap);
        va_end(ap);
        return r;
}

int config_diagnostics_add_warning(ConfigDiagnostics *d, const char *format, ...) {
        assert(d);

        va_list ap;
        va_start(ap, format);
        int r = diag_addv(&d->warnings, format, ap);
        va_end(ap);
        return r;
}

void config_diagnostics_done(ConfigDiagnostics *d) {
        assert(d);

        d->errors = strv_free(d->errors);
        d->warnings = strv_free(d->warnings);
}

void config_done(Config *c) {
        assert(c);

        free(c->home);
        free(c->name);
        free(c->daemon_unit);
        free(c->daemon_user);
        free(c->daemon_group);
        free(c->state_dir);
        free(c->backup_dir);
        free(c->custom_preupgrade);
        free(c->download_ca_file);
        free(c->daemon_properties_text);
        free(c->metrics_dir);
        free(c->node_rpc);
        unit_property_list_done(&c->daemon_properties);
        *c = (Config) {};
}

bool daemon_name_is_valid(const char *s) {
        if (isempty(s) || streq(s, ".") || streq(s, "..") || strlen(s) > 255)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p == '/' || *p < ' ' || *p == 127)
                        return false;
        return true;
}

static bool user_name_is_valid(const char *s) {
        /* Names as useradd accepts them, or a numeric id. No ':' and no whitespace. */
        if (isempty(s) || strlen(s) > 256)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                            *p == '_' || *p == '-' || *p == '.' || (*p == '$' && p[1] == 0)))
                        return false;
        return s[0] != '-';
}

/* Normalises an absolute path: collapses repeated slashes and drops a trailing one. "." and ".."
 * components are refused because a different spelling of the same folder must not look different. */
static int normalize_abs_path(const char *s, char **ret) {
        if (s[0] != '/')
                return -EINVAL;
        _cleanup_free_ char *r = malloc(strlen(s) + 1);
        if (!r)
                return -ENOMEM;
        char *w = r;
        for (const char *p = s; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t l = (size_t) (e - p);
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                *w++ = '/';
                memcpy(w, p, l);
                w += l;
                p = e;
        }
        if (w == r)
                *w++ = '/';
        *w = 0;
        *ret = TAKE_PTR(r);
        return 0;
}

static const char *const log_level_names[] = {
        [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(log_level_names))
                return NULL;
        return log_level_names[level];
}

static int parse_log_level(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(log_level_names); i++)
                if (log_level_names[i] && strcasecmp(s, log_level_names[i]) == 0)
                        return (int) i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        if (strcasecmp(s, "warn") == 0)
                return LOG_WARNING;
        return -EINVAL;
}

/* Booleans as documented: true/false, yes/no, 1/0, any case. Stricter than parse_boolean() on purpose:
 * "on", "y" or "t" in a validator's config are more likely mistakes than intent. */
static int parse_config_boolean(const char *s) {
        if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || streq(s, "1"))
                return 1;
        if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || streq(s, "0"))
                return 0;
        return -EINVAL;
}

/* Quotes a value for an error message, escaping anything unprintable and cutting very long values. */
static char *quote_value(const char *v) {
        return string_escape_for_log(v, strlen(v), 200);
}

static int set_var(const Var *var, const char *value, Config *c, ConfigDiagnostics *d) {
        void *field = (uint8_t *) c + var->offset;
        _cleanup_free_ char *q = quote_value(value);
        if (!q)
                return -ENOMEM;
        int r;

        switch (var->type) {
        case VAR_STRING:
                free(*(char **) field);
                *(char **) field = strdup(value);
                return *(char **) field ? 0 : -ENOMEM;

        case VAR_NODE_RPC: {
                if (strcasecmp(value, "off") == 0) {
                        c->node_rpc_off = true;
                        c->node_rpc = mfree(c->node_rpc);
                        return 0;
                }
                _cleanup_(node_rpc_done) NodeRpc rpc = {};
                const char *reason = NULL;
                r = node_rpc_parse(value, &rpc, &reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: %s; expected 'off', the node's RPC as in 'http://127.0.0.1:26657', or its socket as in 'unix:///run/oraid/rpc.sock'.",
                                var->name, q, reason);
                c->node_rpc_off = false;
                free(c->node_rpc);
                c->node_rpc = strdup(value);
                return c->node_rpc ? 0 : -ENOMEM;
        }

        case VAR_METRICS_DIR:
                if (strcasecmp(value, "off") == 0) {
                        c->metrics_off = true;
                        c->metrics_dir = mfree(c->metrics_dir);
                        return 0;
                }
                if (value[0] != '/')
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected 'off' or %s, such as '" CONFIG_DEFAULT_METRICS_DIR "'.",
                                var->name, q, var->expect);
                _fallthrough_;
        case VAR_ABS_PATH: {
                char *p = NULL;
                r = normalize_abs_path(value, &p);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && value[0] != '/')
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected %s, starting with '/'.", var->name, q,
                                var->expect);
                if (r < 0)
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected %s without '.' or '..' components.", var->name,
                                q, var->expect);
                free(*(char **) field);
                *(char **) field = p;
                return 0;
        }

        case VAR_FILE_NAME:
                if (!daemon_name_is_valid(value))
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected %s: a plain file name (not '.' or '..', no '/', no control characters, at most 255 bytes).",
                                var->name, q, var->expect);
                free(*(char **) field);
                *(char **) field = strdup(value);
                return *(char **) field ? 0 : -ENOMEM;

        case VAR_USER:
                if (!user_name_is_valid(value))
                        return config_diagnostics_add_error(d, "%s='%s' is not valid: expected %s.", var->name,
                                q, var->expect);
                free(*(char **) field);
                *(char **) field = strdup(value);
                return *(char **) field ? 0 : -ENOMEM;

        case VAR_BOOL:
                r = parse_config_boolean(value);
                if (r < 0)
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not a boolean: expected true/false, yes/no or 1/0.", var->name, q);
                *(bool *) field = r;
                return 0;

        case VAR_DURATION: {
                usec_t u;
                r = parse_duration(value, &u);
                if (r < 0)
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not a duration: expected e.g. '500ms', '30s', '2m', '1h' or a number of seconds.",
                                var->name, q);
                if (u == 0 && var->offset == F(poll_interval))
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected a duration above zero, such as '300ms'.", var->name, q);
                /* Each poll is two requests to the node: more than once a second is a load on it. */
                if (u < USEC_PER_SEC && var->offset == F(chain_poll_interval))
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not valid: expected at least one second, such as '1min' (the default).", var->name, q);
                *(usec_t *) field = u;
                return 0;
        }

        case VAR_UNSIGNED: {
                uint64_t v;
                r = parse_uint64(value, &v);
                if (r < 0 || (var->offset != F(limit_nofile) && var->offset != F(unpack_max_entries) && v > UINT32_MAX) ||
                    (v == 0 && (var->offset == F(limit_nofile) || var->offset == F(unpack_max_entries))))
                        return config_diagnostics_add_error(d, "%s='%s' is not valid: expected %s.", var->name,
                                q, var->expect);
                if (var->offset == F(limit_nofile) || var->offset == F(unpack_max_entries))
                        *(uint64_t *) field = v;
                else
                        *(unsigned *) field = (unsigned) v;
                return 0;
        }

        case VAR_SIZE_OR_INFINITY:
                if (strcasecmp(value, "infinity") == 0) {
                        *(uint64_t *) field = UINT64_MAX;
                        return 0;
                }
                _fallthrough_;
        case VAR_SIZE: {
                uint64_t v;
                r = parse_size(value, &v);
                if (r < 0 || v == 0)
                        return config_diagnostics_add_error(d,
                                "%s='%s' is not a size: expected %s (K, M, G, T are powers of 1024).", var->name, q,
                                var->expect);
                *(uint64_t *) field = v;
                return 0;
        }

        case VAR_LAUNCHER: {
                LauncherKind k = launcher_kind_from_string(value);
                if (k < 0)
                        return config_diagnostics_add_error(d, "%s='%s' is not valid: expected %s.", var->name,
                                q, var->expect);
                *(LauncherKind *) field = k;
                return 0;
        }

        case VAR_SANDBOX: {
                DaemonSandbox k = daemon_sandbox_from_string(value);
                if (k < 0)
                        return config_diagnostics_add_error(d, "%s='%s' is not valid: expected %s.", var->name,
                                q, var->expect);
                *(DaemonSandbox *) field = k;
                return 0;
        }

        case VAR_UNIT_PROPERTIES: {
                _cleanup_free_ char *e = NULL;
                UnitPropertyList l = {};
                r = unit_properties_parse(value, &l, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return config_diagnostics_add_error(d, "%s: %s", var->name, strna(e));
                unit_property_list_done((UnitPropertyList *) field);
                *(UnitPropertyList *) field = l;
                free(c->daemon_properties_text);
                c->daemon_properties_text = strdup(value);
                return c->daemon_properties_text ? 0 : -ENOMEM;
        }

        case VAR_LOG_LEVEL:
                r = parse_log_level(value);
                if (r < 0)
                        return config_diagnostics_add_error(d, "%s='%s' is not valid: expected %s.", var->name,
                                q, var->expect);
                *(int *) field = r;
                return 0;

        case VAR_IGNORED:
                return config_diagnostics_add_warning(d, "%s is set but has no effect: %s.", var->name,
                        var->expect);

        case VAR_PASSTHROUGH:
                return 0;
        }
        return 0;
}

int config_format_value(const Config *c, const char *name, char **ret) {
        assert(c);
        assert(name);
        assert(ret);

        const Var *var = NULL;
        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                if (streq(vars[i].name, name)) {
                        var = &vars[i];
                        break;
                }
        if (!var)
                return -ENOENT;

        const void *field = (const uint8_t *) c + var->offset;
        char buf[64];
        const char *s = NULL;
        char *t = NULL;
        switch (var->type) {
        case VAR_STRING:
        case VAR_ABS_PATH:
        case VAR_FILE_NAME:
        case VAR_USER:
                s = *(char *const *) field;
                if (!s) {
                        *ret = NULL;
                        return 0;
                }
                break;
        case VAR_BOOL:
                s = *(const bool *) field ? "true" : "false";
                break;
        case VAR_DURATION:
                s = format_timespan(buf, sizeof buf, *(const usec_t *) field);
                break;
        case VAR_UNSIGNED:
                if (var->offset == F(limit_nofile) || var->offset == F(unpack_max_entries))
                        (void) snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *) field);
                else
                        (void) snprintf(buf, sizeof buf, "%u", *(const unsigned *) field);
                s = buf;
                break;
        case VAR_SIZE_OR_INFINITY:
        case VAR_SIZE:
                if (*(const uint64_t *) field == UINT64_MAX)
                        s = "infinity";
                else {
                        (void) snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *) field);
                        s = buf;
                }
                break;
        case VAR_LAUNCHER:
                s = launcher_kind_to_string(*(const LauncherKind *) field);
                break;
        case VAR_SANDBOX:
                s = daemon_sandbox_to_string(*(const DaemonSandbox *) field);
                break;
        case VAR_UNIT_PROPERTIES:
                s = c->daemon_properties_text;
                if (!s) {
                        *ret = NULL;
                        return 0;
                }
                break;
        case VAR_LOG_LEVEL:
                s = log_level_to_string(*(const int *) field);
                break;
        case VAR_NODE_RPC:
                s = c->node_rpc_off ? "off" : *(char *const *) field;
                if (!s) {
                        *ret = NULL; /* the default: config.toml's [rpc] laddr, else NODE_RPC_DEFAULT */
                        return 0;
                }
                break;
        case VAR_METRICS_DIR:
                s = c->metrics_off ? "off" : *(char *const *) field;
                if (!s) {
                        *ret = NULL; /* the default: node-exporter's folder when it exists */
                        return 0;
                }
                break;
        case VAR_IGNORED:
        case VAR_PASSTHROUGH:
                *ret = NULL;
                return 0;
        }
        t = strdup(strempty(s));
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 1;
}

static const char *closest_known(const char *name) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        /* The longest known name has 34 bytes: a name over 64 bytes is never within the threshold below,
         * and the distance costs its length times theirs. */
        if (strlen(name) > 64)
                return NULL;
        for (size_t i = 0; config_known_variables[i]; i++) {
                size_t dist = string_distance(name, config_known_variables[i]);
                if (dist < best_d) {
                        best_d = dist;
                        best = config_known_variables[i];
                }
        }
        /* Only suggest a name that is plausibly a typo of the one given. */
        if (best && best_d <= MAX(strlen(name) / 3, (size_t) 3))
                return best;
        return NULL;
}

static bool is_known(const char *name) {
        for (size_t i = 0; config_known_variables[i]; i++)
                if (streq(config_known_variables[i], name))
                        return true;
        return false;
}

/* Warns once per unknown DAEMON_* or ORAIVISOR_* name, suggesting the closest known one. */
static int check_unknown(char *const *env, ConfigDiagnostics *d) {
        STRV_FOREACH(e, env) {
                const char *eq = strchr(*e, '=');
                if (!eq)
                        continue;
                size_t l = (size_t) (eq - *e);
                _cleanup_free_ char *name = strndup(*e, l);
                if (!name)
                        return -ENOMEM;
                if ((!startswith(name, "DAEMON_") && !startswith(name, "ORAIVISOR_")) || is_known(name))
                        continue;
                bool seen = false;
                for (char *const *o = env; !seen && o < e; o++)
                        seen = strneq(*o, *e, l + 1);
                if (seen)
                        continue;
                _cleanup_free_ char *q = string_escape_for_log(name, l, 100);
                if (!q)
                        return -ENOMEM;
                const char *s = closest_known(name);
                int r = s ? config_diagnostics_add_warning(d, "Unknown variable %s, ignoring it. Did you mean %s?", q, s)
                          : config_diagnostics_add_warning(d, "Unknown variable %s, ignoring it.", q);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_parse(char *const *env, Config *ret, ConfigDiagnostics *d) {
        assert(d);

        int r;

        *ret = (Config) {
                .shutdown_grace = CONFIG_DEFAULT_SHUTDOWN_GRACE,
                .poll_interval = CONFIG_DEFAULT_POLL_INTERVAL,
                .launcher = LAUNCHER_AUTO,
                .log_level = LOG_INFO,
                .limit_nofile = CONFIG_DEFAULT_LIMIT_NOFILE,
                .memory_max = UINT64_MAX,
                .download_retries = CONFIG_DEFAULT_DOWNLOAD_RETRIES,
                .download_max_size = CONFIG_DEFAULT_DOWNLOAD_MAX_SIZE,
                .download_connect_timeout = 30 * USEC_PER_SEC,
                .download_stall_timeout = 60 * USEC_PER_SEC,
                .unpack_max_size = CONFIG_DEFAULT_UNPACK_MAX_SIZE,
                .unpack_max_entries = CONFIG_DEFAULT_UNPACK_MAX_ENTRIES,
                .hook_timeout = CONFIG_DEFAULT_HOOK_TIMEOUT,
                .chain_poll_interval = CONFIG_DEFAULT_CHAIN_POLL_INTERVAL,
        };
        /* systemd sets INVOCATION_ID for every process of a unit it starts. Outside systemd (a terminal,
         * a container, another supervisor) the variable keeps cosmovisor's meaning: false, exit 0 after
         * the upgrade and let the supervisor start oraivisor again. */
        ret->under_systemd = !isempty(strv_env_get(env, "INVOCATION_ID"));
        ret->restart_after_upgrade = ret->under_systemd;
        ret->height_restart = true;

        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = strv_env_get(env, vars[i].name);
                if (isempty(v))
                        continue; /* empty means default */
                if (streq(vars[i].name, "COSMOVISOR_CUSTOM_PREUPGRADE") &&
                        !isempty(strv_env_get(env, "ORAIVISOR_CUSTOM_PREUPGRADE")))
                        continue;
                r = set_var(&vars[i], v, ret, d);
                if (r < 0)
                        return r;
        }

        /* "Not set" only when it is not: a value that was refused has its own error already. */
        if (!ret->home && isempty(strv_env_get(env, "DAEMON_HOME")) && config_diagnostics_add_error(d,
                                  "DAEMON_HOME is not set: expected the absolute path of the node's home folder, such as DAEMON_HOME=/var/lib/oraid.") < 0)
                return -ENOMEM;
        if (!ret->name && isempty(strv_env_get(env, "DAEMON_NAME")) && config_diagnostics_add_error(d,
                                  "DAEMON_NAME is not set: expected the daemon's binary file name, such as DAEMON_NAME=oraid.") < 0)
                return -ENOMEM;
        if (ret->daemon_unit) {
                const char *e = endswith(ret->daemon_unit, ".service");
                if (!e || e == ret->daemon_unit || strchr(ret->daemon_unit, '/')) {
                        _cleanup_free_ char *q = quote_value(ret->daemon_unit);
                        if (!q || config_diagnostics_add_error(d,
                                "ORAIVISOR_DAEMON_UNIT='%s' is not valid: expected a unit name ending in '.service', such as 'oraid-node.service'.",
                                q) < 0)
                                return -ENOMEM;
                        ret->daemon_unit = mfree(ret->daemon_unit);
                }
        }
        if (!isempty(strv_env_get(env, "ORAIVISOR_CUSTOM_PREUPGRADE")) &&
            !isempty(strv_env_get(env, "COSMOVISOR_CUSTOM_PREUPGRADE")) &&
            config_diagnostics_add_warning(d,
                "COSMOVISOR_CUSTOM_PREUPGRADE is ignored because ORAIVISOR_CUSTOM_PREUPGRADE is set: unset one of them.") < 0)
                return -ENOMEM;

        r = check_unknown(env, d);
        if (r < 0)
                return r;

        return d->errors ? -EINVAL : 0;
}
