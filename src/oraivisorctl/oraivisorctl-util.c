/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What every command shares: the configuration (the same variables, validation and status 78 as
 * oraivisor), the layout, JSON and colours. */

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "fs-util.h"
#include "env-file.h"
#include "log.h"
#include "oraivisorctl.h"
#include "readiness.h"
#include "string-util.h"
#include "strv.h"
#include "unit-spec.h"

extern char **environ;

/* Where the unit's EnvironmentFile= lives; ORAIVISORCTL_CONF_DIR moves it (tests, a non-standard package). */
#define CONF_DIR_DEFAULT "/etc/oraivisor"
/* The largest conf file read: it is a handful of lines. */
#define CONF_FILE_MAX (1024 * 1024)

static const char *const source_table[_CTL_SOURCE_MAX] = {
        [CTL_SOURCE_DEFAULT] = "default",
        [CTL_SOURCE_ENVIRONMENT] = "environment",
        [CTL_SOURCE_CONF_FILE] = "conf file",
        [CTL_SOURCE_UNIT] = "unit",
        [CTL_SOURCE_COMMAND_LINE] = "command line",
};

const char *ctl_source_to_string(CtlSource s) {
        if (s < 0 || s >= _CTL_SOURCE_MAX)
                return NULL;
        return source_table[s];
}

int ctl_fail(int status, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        (void) log_internalv(LOG_ERR, 0, NULL, 0, format, ap);
        va_end(ap);
        return status;
}

/* Sets name=value in ctl->env, remembering where it came from. */
static int env_set(Ctl *ctl, const char *name, const char *value, CtlSource source) {
        size_t n = strlen(name), i = 0;
        for (; ctl->env && ctl->env[i]; i++)
                if (strncmp(ctl->env[i], name, n) == 0 && ctl->env[i][n] == '=')
                        break;
        bool found = ctl->env && ctl->env[i];
        int r = strv_env_set(&ctl->env, name, value);
        if (r < 0)
                return r;
        if (!found) {
                size_t len = strv_length(ctl->env);
                CtlSource *s = reallocarray(ctl->sources, len, sizeof(CtlSource));
                if (!s)
                        return -ENOMEM;
                ctl->sources = s;
        }
        /* strv_env_set() replaces in place or appends. */
        for (i = 0; ctl->env[i]; i++)
                if (strncmp(ctl->env[i], name, n) == 0 && ctl->env[i][n] == '=')
                        ctl->sources[i] = source;
        return 0;
}

const char *ctl_variable_value(const Ctl *ctl, const char *name) {
        const char *v = strv_env_get(ctl->env, name);
        return isempty(v) ? NULL : v;
}

CtlSource ctl_variable_source(const Ctl *ctl, const char *name) {
        size_t n = strlen(name);
        for (size_t i = 0; ctl->env && ctl->env[i]; i++)
                if (strncmp(ctl->env[i], name, n) == 0 && ctl->env[i][n] == '=')
                        return isempty(ctl->env[i] + n + 1) ? CTL_SOURCE_DEFAULT : ctl->sources[i];
        return CTL_SOURCE_DEFAULT;
}

/* The unit's view: what oraivisor@NAME.service gives oraivisor (Environment=, EnvironmentFile=). The
 * caller's own DAEMON_* variables do not reach the unit, so they are not used either. */
static int env_from_instance(Ctl *ctl) {
        if (!daemon_name_is_valid(ctl->instance) || strchr(ctl->instance, '@'))
                return ctl_fail(CTL_EXIT_USAGE,
                        "-i '%s' is not an instance name: give the part after '@' of oraivisor@NAME.service, such as -i oraid.",
                        ctl->instance);

        const char *dir = getenv("ORAIVISORCTL_CONF_DIR");
        if (isempty(dir))
                dir = CONF_DIR_DEFAULT;
        if (asprintf(&ctl->conf_path, "%s/%s.conf", dir, ctl->instance) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        /* As the unit: Environment=DAEMON_NAME=%i DAEMON_ARGS=start, StateDirectory=oraivisor/%i, and
         * INVOCATION_ID, which is what tells oraivisor it runs under systemd. */
        _cleanup_free_ char *state = NULL;
        if (asprintf(&state, "/var/lib/oraivisor/%s", ctl->instance) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        if (env_set(ctl, "DAEMON_NAME", ctl->instance, CTL_SOURCE_UNIT) < 0 ||
            env_set(ctl, "DAEMON_ARGS", "start", CTL_SOURCE_UNIT) < 0 ||
            env_set(ctl, "STATE_DIRECTORY", state, CTL_SOURCE_UNIT) < 0 ||
            env_set(ctl, "INVOCATION_ID", "oraivisorctl", CTL_SOURCE_UNIT) < 0)
                return log_oom(), CTL_EXIT_FAILURE;

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, ctl->conf_path, CONF_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return ctl_fail(CTL_EXIT_CONFIG,
                        "%s is missing: create it (see the example in /usr/share/doc/oraivisor/oraivisor.conf.example) or drop -i and set DAEMON_HOME and DAEMON_NAME.",
                        ctl->conf_path);
        if (r < 0)
                return ctl_fail(CTL_EXIT_CONFIG, "Cannot read %s: %s.", ctl->conf_path, strerror(-r));

        _cleanup_(strv_freep) char **file_env = NULL, **warnings = NULL;
        _cleanup_free_ char *error = NULL;
        r = env_file_parse(text, len, &file_env, &warnings, &error);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        STRV_FOREACH(w, warnings)
                log_warning("%s: %s", ctl->conf_path, *w);
        if (r < 0)
                return ctl_fail(CTL_EXIT_CONFIG, "%s: %s.", ctl->conf_path, error);
        STRV_FOREACH(e, file_env) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *name = strndup(*e, eq - *e);
                if (!name || env_set(ctl, name, eq + 1, CTL_SOURCE_CONF_FILE) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}

static int env_from_process(Ctl *ctl) {
        STRV_FOREACH(e, environ) {
                const char *eq = strchr(*e, '=');
                if (!eq || eq == *e)
                        continue;
                _cleanup_free_ char *name = strndup(*e, eq - *e);
                if (!name || env_set(ctl, name, eq + 1, CTL_SOURCE_ENVIRONMENT) < 0)
                        return log_oom(), CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}

int ctl_load_config(Ctl *ctl) {
        int r = ctl->instance ? env_from_instance(ctl) : env_from_process(ctl);
        if (r != CTL_EXIT_OK)
                return r;
        if ((ctl->arg_home && env_set(ctl, "DAEMON_HOME", ctl->arg_home, CTL_SOURCE_COMMAND_LINE) < 0) ||
            (ctl->arg_name && env_set(ctl, "DAEMON_NAME", ctl->arg_name, CTL_SOURCE_COMMAND_LINE) < 0))
                return log_oom(), CTL_EXIT_FAILURE;

        _cleanup_(config_diagnostics_done) ConfigDiagnostics diag = {};
        r = config_parse(ctl->env, &ctl->config, &diag);
        ctl->config_loaded = true;
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        struct stat st;
        if (ctl->config.home && (stat(ctl->config.home, &st) < 0 || !S_ISDIR(st.st_mode)) &&
            config_diagnostics_add_error(&diag,
                    "DAEMON_HOME='%s' is not an existing folder: create it or point DAEMON_HOME at the node's home.",
                    ctl->config.home) < 0)
                return log_oom(), CTL_EXIT_FAILURE;
        log_set_max_level(ctl->config.log_level);

        STRV_FOREACH(w, diag.warnings)
                log_warning("%s", *w);
        if (diag.errors) {
                STRV_FOREACH(e, diag.errors)
                        log_error("%s", *e);
                log_error("Invalid configuration%s%s: %zu error%s (exit status %d).",
                          ctl->conf_path ? " in " : "", strempty(ctl->conf_path), strv_length(diag.errors),
                          strv_length(diag.errors) == 1 ? "" : "s", CTL_EXIT_CONFIG);
                return CTL_EXIT_CONFIG;
        }
        return CTL_EXIT_OK;
}

void ctl_done(Ctl *ctl) {
        ctl->env = strv_free(ctl->env);
        ctl->sources = mfree(ctl->sources);
        ctl->conf_path = mfree(ctl->conf_path);
        if (ctl->config_loaded)
                config_done(&ctl->config);
}

int ctl_open_layout(Ctl *ctl, Layout **ret) {
        assert(ctl->config_loaded);
        return layout_open(ctl->config.home, ctl->config.name, ret);
}

int ctl_print_json(json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return log_oom(), CTL_EXIT_FAILURE;
        if (puts(s) < 0 || fflush(stdout) != 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot write to standard output: %s.", strerror(errno));
        return CTL_EXIT_OK;
}

#define ANSI(name, seq)                                        \
        const char *ctl_ansi_##name(const Ctl *ctl) {          \
                return ctl->color ? (seq) : "";                \
        }
ANSI(bold, "\x1b[1m")
ANSI(red, "\x1b[0;1;31m")
ANSI(green, "\x1b[0;1;32m")
ANSI(yellow, "\x1b[0;1;33m")
ANSI(grey, "\x1b[0;38;5;245m")
ANSI(normal, "\x1b[0m")

void ctl_check_done(CtlCheck *c) {
        c->reason = mfree(c->reason);
        c->output = mfree(c->output);
}

/* The environment the node starts from: the configuration's (the unit's view with -i, where systemd would
 * add its default PATH), as oraivisor passes it on. */
static int node_env(const Ctl *ctl, char ***ret) {
        _cleanup_strv_free_ char **env = strv_copy(ctl->env ?: STRV_MAKE(NULL));
        if (!env)
                return -ENOMEM;
        if (!strv_env_get(env, "PATH") &&
            strv_env_set(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

int ctl_check_node_unit(Ctl *ctl, char **ret) {
        assert(ret);
        *ret = NULL;
        if (!ctl->instance || ctl->config.launcher == LAUNCHER_EXEC || geteuid() != 0 || sd_booted() <= 0) {
                log_debug("The readiness check runs as our child (-i given: %d, ORAIVISOR_LAUNCHER=exec: %d, root: %d, systemd: %d).",
                        !!ctl->instance, ctl->config.launcher == LAUNCHER_EXEC, geteuid() == 0, sd_booted() > 0);
                return 0;
        }
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int k = sd_bus_open_system(&bus);
        if (k >= 0)
                k = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, NULL);
        if (k < 0) {
                log_debug_errno(k, "systemd does not answer on the system bus (%m): the readiness check runs as our child.");
                return 0;
        }
        _cleanup_free_ char *own = NULL;
        if (asprintf(&own, "oraivisor@%s.service", ctl->instance) < 0)
                return -ENOMEM;
        k = daemon_unit_name(ctl->config.daemon_unit, own, ctl->config.name, ret);
        if (k < 0)
                return k == -ENOMEM ? k : 0;
        log_debug("The readiness check runs in units like '%s'.", *ret);
        return 1;
}

typedef struct CheckBatch CheckBatch;

typedef struct CheckSlot {
        CheckBatch *batch;
        CtlCheck *check;
        Readiness *readiness;
} CheckSlot;

struct CheckBatch {
        sd_event *event;
        const Ctl *ctl;
        const Credentials *credentials;
        char **env;
        char *node_unit; /* ctl_check_node_unit(): each check runs in a unit like it; NULL: our child */
        CheckSlot *slots;
        size_t n, next, running;
};

static void batch_fill(CheckBatch *b);

static char *bytes_dup(const char *p, size_t n) {
        char *s = malloc(n + 1);
        if (!s)
                return NULL;
        memcpy(s, p, n);
        s[n] = 0;
        return s;
}

static void on_checked(Readiness *r, const ReadinessResult *res, void *userdata) {
        CheckSlot *slot = userdata;
        CtlCheck *c = slot->check;

        c->checked = true;
        c->ready = res->ready;
        if ((res->reason && !(c->reason = strdup(res->reason))) ||
            (res->version_output && !(c->output = bytes_dup(res->version_output, res->version_output_size))))
                c->error = -ENOMEM;
        c->output_size = res->version_output ? res->version_output_size : 0;
        c->output_truncated = res->version_output_truncated;
        c->version_ran = res->version_end != NULL;
        if (res->version_end)
                c->version_end = *res->version_end;
        /* Freed from its own callback, as it allows: it touches nothing after done returns. */
        slot->readiness = readiness_free(slot->readiness);
        slot->batch->running--;
        batch_fill(slot->batch);
}

/* Starts checks until CTL_CHECK_PARALLEL run or none is left; ends the loop when all are done. */
static void batch_fill(CheckBatch *b) {
        while (b->running < CTL_CHECK_PARALLEL && b->next < b->n) {
                CheckSlot *slot = &b->slots[b->next++];
                CtlCheck *c = slot->check;
                if (!c->folder_rel)
                        continue;
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/oraivisor/%s", b->ctl->config.home, c->folder_rel) < 0) {
                        c->error = -ENOMEM;
                        continue;
                }
                ReadinessSpec spec = {
                        .version_dir = dir,
                        .daemon_name = b->ctl->config.name,
                        .credentials = b->credentials,
                        .env = b->env,
                        .working_directory = b->ctl->config.home,
                        .node_unit = b->node_unit,
                        .config = &b->ctl->config,
                };
                int k = readiness_start(b->event, &spec, on_checked, slot, &slot->readiness);
                if (k < 0) {
                        c->error = k;
                        continue;
                }
                b->running++;
        }
        if (b->running == 0 && b->next >= b->n)
                (void) sd_event_exit(b->event, 0);
}

int ctl_check_versions(Ctl *ctl, const Credentials *credentials, CtlCheck *checks, size_t n) {
        _cleanup_strv_free_ char **env = NULL;
        sigset_t ss;
        int k;

        assert(ctl->config_loaded);
        assert(checks || n == 0);

        for (size_t i = 0; i < n; i++) {
                ctl_check_done(&checks[i]);
                checks[i] = (CtlCheck) { .folder_rel = checks[i].folder_rel };
        }
        if (n == 0)
                return 0;
        k = node_env(ctl, &env);
        if (k < 0)
                return k;
        /* sd-event watches children through SIGCHLD, which must be blocked first. */
        if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGCHLD) < 0 || sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;

        _cleanup_free_ char *node_unit = NULL;
        k = ctl_check_node_unit(ctl, &node_unit);
        if (k < 0)
                return k;
        CheckBatch b = { .ctl = ctl, .credentials = credentials, .env = env, .node_unit = node_unit, .n = n };
        b.slots = new0(CheckSlot, n);
        if (!b.slots)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                b.slots[i] = (CheckSlot) { .batch = &b, .check = &checks[i] };
        k = sd_event_new(&b.event);
        if (k >= 0) {
                batch_fill(&b);
                k = sd_event_loop(b.event);
        }
        for (size_t i = 0; i < n; i++)
                readiness_free(b.slots[i].readiness);
        free(b.slots);
        sd_event_unref(b.event);
        return MIN(k, 0);
}

int ctl_check_version(Ctl *ctl, const char *folder_rel, bool *ret_ready, char **ret_reason, char **ret_output) {
        _cleanup_(credentials_done) Credentials creds = {};
        _cleanup_free_ char *cred_error = NULL;
        _cleanup_(ctl_check_done) CtlCheck c = { .folder_rel = folder_rel };
        int k;

        assert(folder_rel);
        assert(ret_ready);

        k = credentials_resolve(ctl->config.daemon_user, ctl->config.daemon_group, &creds, &cred_error);
        if (k < 0) {
                if (cred_error)
                        log_error("%s", cred_error);
                return k;
        }
        k = ctl_check_versions(ctl, &creds, &c, 1);
        if (k < 0)
                return k;
        if (c.error < 0)
                return c.error;
        *ret_ready = c.ready;
        if (ret_reason)
                *ret_reason = TAKE_PTR(c.reason);
        if (ret_output)
                *ret_output = TAKE_PTR(c.output);
        return 0;
}

int ctl_report_readiness(Ctl *ctl, const char *folder_rel, const char *label, json_object *o) {
        _cleanup_free_ char *why = NULL, *out = NULL;
        bool ready = false;
        int k = ctl_check_version(ctl, folder_rel, &ready, &why, &out);
        if (k < 0) {
                log_warning("Could not check that %s starts on this host: %s. Run oraivisorctl check.", label, strerror(-k));
                return CTL_EXIT_OK;
        }
        if (o) {
                json_object_object_add(o, "ready", json_object_new_boolean(ready));
                json_object_object_add(o, "ready_reason", why ? json_object_new_string(why) : NULL);
                return ready ? CTL_EXIT_OK : CTL_EXIT_NEEDS_ATTENTION;
        }
        if (ready) {
                _cleanup_free_ char *first = out ? string_escape_for_log(out, strcspn(out, "\n"), 120) : NULL;
                printf("%s is %sready%s: it starts on this host%s%s%s.\n", label, ctl_ansi_green(ctl), ctl_ansi_normal(ctl),
                       !isempty(first) ? " (version: " : "", strempty(first), !isempty(first) ? ")" : "");
                return CTL_EXIT_OK;
        }
        printf("%s is installed but %sNOT READY%s: the binary %s. Until that is fixed, oraivisor refuses to switch to it at the height.\n",
               label, ctl_ansi_red(ctl), ctl_ansi_normal(ctl), strna(why));
        return CTL_EXIT_NEEDS_ATTENTION;
}
