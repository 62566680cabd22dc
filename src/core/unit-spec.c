/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "child-env.h"
#include "string-util.h"
#include "strv.h"
#include "unit-spec.h"

#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
/* What systemd accepts in a unit name besides '@' and the suffix. */
#define UNIT_VALID_CHARS DIGITS LETTERS ":-_.\\"

static char *escape_char(char c, char *t) {
        *t++ = '\\';
        *t++ = 'x';
        *t++ = (char) hexchar((unsigned char) c >> 4);
        *t++ = (char) hexchar((unsigned char) c & 0xf);
        return t;
}

int unit_name_escape(const char *s, char **ret) {
        assert(s);
        assert(ret);

        char *r = new(char, strlen(s) * 4 + 1), *t = r;
        if (!r)
                return -ENOMEM;
        const char *f = s;
        /* No unit name may start with '.' (a hidden file). */
        if (*f == '.')
                t = escape_char(*f++, t);
        for (; *f; f++) {
                if (*f == '/')
                        *t++ = '-';
                else if (*f == '-' || *f == '\\' || !strchr(UNIT_VALID_CHARS, *f))
                        t = escape_char(*f, t);
                else
                        *t++ = *f;
        }
        *t = 0;
        *ret = r;
        return 0;
}

static bool unit_part_is_valid(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == 0 || !strchr(UNIT_VALID_CHARS, s[i]))
                        return false;
        return true;
}

bool unit_name_is_valid_service(const char *s) {
        if (isempty(s) || strlen(s) > UNIT_NAME_MAX)
                return false;
        const char *suffix = endswith(s, ".service");
        if (!suffix || suffix == s)
                return false;
        const char *at = memchr(s, '@', (size_t) (suffix - s));
        if (!at)
                return unit_part_is_valid(s, (size_t) (suffix - s));
        return unit_part_is_valid(s, (size_t) (at - s)) && unit_part_is_valid(at + 1, (size_t) (suffix - at - 1));
}

int unit_name_instance(const char *unit, char **ret) {
        assert(ret);
        if (!unit || !unit_name_is_valid_service(unit))
                return -ENXIO;
        const char *at = strchr(unit, '@');
        if (!at)
                return -ENXIO;
        const char *suffix = endswith(unit, ".service");
        char *r = strndup(at + 1, (size_t) (suffix - at - 1));
        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

int oraivisor_instance(const char *own_unit, const char *daemon_name, char **ret) {
        assert(ret);

        int r = unit_name_instance(own_unit, ret);
        if (r != -ENXIO)
                return r;
        if (isempty(daemon_name))
                return -EINVAL;
        return unit_name_escape(daemon_name, ret);
}

int daemon_unit_name(const char *override, const char *own_unit, const char *daemon_name, char **ret) {
        assert(ret);

        if (override) {
                if (!unit_name_is_valid_service(override))
                        return -EINVAL;
                char *r = strdup(override);
                if (!r)
                        return -ENOMEM;
                *ret = r;
                return 0;
        }

        _cleanup_free_ char *instance = NULL;
        int r = oraivisor_instance(own_unit, daemon_name, &instance);
        if (r < 0)
                return r;

        char *name = NULL;
        if (asprintf(&name, "oraivisor-daemon@%s.service", instance) < 0)
                return -ENOMEM;
        if (!unit_name_is_valid_service(name)) {
                free(name);
                return -EINVAL; /* too long */
        }
        *ret = name;
        return 0;
}

int daemon_unit_description(const char *daemon_name, const char *version, char **ret) {
        assert(daemon_name);
        assert(ret);

        char *d = NULL;
        if (asprintf(&d, "%s chain node (%s), run by oraivisor", daemon_name, isempty(version) ? "unknown version" : version) < 0)
                return -ENOMEM;
        for (char *p = d; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = ' ';
        *ret = d;
        return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                unsigned n;
                uint32_t c;
                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        c = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        c = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        c = *p & 0x07;
                } else
                        return false;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        c = (c << 6) | (p[i] & 0x3f);
                }
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
                        (c >= 0xd800 && c <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

bool unit_env_assignment_is_valid(const char *s) {
        if (!s)
                return false;
        const char *eq = strchr(s, '=');
        if (!eq || eq == s || (*s >= '0' && *s <= '9'))
                return false;
        for (const char *p = s; p < eq; p++)
                if (!strchr(DIGITS LETTERS "_", *p))
                        return false;
        return utf8_is_valid(eq + 1);
}

int daemon_unit_environment(char *const *env, bool other_user, char ***ret, size_t *ret_n_invalid) {
        assert(ret);

        /* oraivisor's own unit's variables (core/child-env.c): systemd sets the daemon's own. */
        static char *const user_vars[] = { "HOME", "USER", "LOGNAME", "SHELL", "XDG_RUNTIME_DIR", NULL };

        _cleanup_strv_free_ char **filtered = child_env_strip_own(env);
        if (!filtered)
                return -ENOMEM;
        if (other_user) {
                char **f = strv_env_filter(filtered, user_vars, NULL);
                if (!f)
                        return -ENOMEM;
                strv_free(filtered);
                filtered = f;
        }

        /* Drop what systemd would refuse: one bad entry would fail the whole StartTransientUnit. */
        size_t n_invalid = 0, j = 0;
        for (size_t i = 0; filtered[i]; i++) {
                if (unit_env_assignment_is_valid(filtered[i]))
                        filtered[j++] = filtered[i];
                else {
                        free(filtered[i]);
                        n_invalid++;
                }
        }
        filtered[j] = NULL;

        if (ret_n_invalid)
                *ret_n_invalid = n_invalid;
        *ret = TAKE_PTR(filtered);
        return 0;
}

const char *unit_exec_status_to_string(int status) {
        /* The subset of systemd's exit-status.h that a node unit can meet. */
        switch (status) {
        case 200: return "CHDIR";
        case 201: return "NICE";
        case 202: return "FDS";
        case 203: return "EXEC";
        case 204: return "MEMORY";
        case 205: return "LIMITS";
        case 206: return "OOM_ADJUST";
        case 207: return "SIGNAL_MASK";
        case 208: return "STDIN";
        case 209: return "STDOUT";
        case 210: return "CHROOT";
        case 211: return "IOPRIO";
        case 212: return "TIMERSLACK";
        case 213: return "SECUREBITS";
        case 214: return "SETSCHEDULER";
        case 215: return "CPUAFFINITY";
        case 216: return "GROUP";
        case 217: return "USER";
        case 218: return "CAPABILITIES";
        case 219: return "CGROUP";
        case 220: return "SETSID";
        case 221: return "CONFIRM";
        case 222: return "STDERR";
        case 224: return "PAM";
        case 225: return "NETWORK";
        case 226: return "NAMESPACE";
        case 227: return "NO_NEW_PRIVILEGES";
        case 228: return "SECCOMP";
        case 229: return "SELINUX_CONTEXT";
        case 230: return "PERSONALITY";
        case 231: return "APPARMOR_PROFILE";
        case 232: return "ADDRESS_FAMILIES";
        case 233: return "RUNTIME_DIRECTORY";
        case 235: return "CHOWN";
        case 236: return "SMACK_PROCESS_LABEL";
        case 237: return "KEYRING";
        case 238: return "STATE_DIRECTORY";
        case 239: return "CACHE_DIRECTORY";
        case 240: return "LOGS_DIRECTORY";
        case 241: return "CONFIGURATION_DIRECTORY";
        case 242: return "NUMA_POLICY";
        case 243: return "CREDENTIALS";
        case 245: return "BPF";
        default: return NULL;
        }
}

bool daemon_user_is_root(const char *user) {
        return isempty(user) || streq(user, "root") || streq(user, "0");
}

static bool path_is_under(const char *path, const char *dir) {
        const char *e = startswith(path, dir);
        return e && (e[0] == '/' || e[0] == 0);
}

int daemon_unit_sandbox(const char *home, bool root, UnitPropertyList *l) {
        static const char *const common[][2] = {
                { "NoNewPrivileges", "yes" },
                { "ProtectSystem", "strict" },
                { "PrivateDevices", "yes" },
                { "PrivateMounts", "yes" },
                { "ProtectKernelTunables", "yes" },
                { "ProtectKernelModules", "yes" },
                { "ProtectKernelLogs", "yes" },
                { "ProtectControlGroups", "yes" },
                { "ProtectClock", "yes" },
                { "ProtectHostname", "yes" },
                { "ProtectProc", "invisible" },
                { "RestrictSUIDSGID", "yes" },
                { "RestrictNamespaces", "yes" },
                { "LockPersonality", "yes" },
                { "RestrictRealtime", "yes" },
                { "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK" },
                { "SystemCallArchitectures", "native" },
                { "SystemCallFilter", "@system-service" },
                { "SystemCallErrorNumber", "EPERM" },
        };
        int r;

        assert(l);
        if (!home || home[0] != '/')
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(common); i++) {
                r = unit_property_list_append(l, common[i][0], common[i][1], NULL);
                if (r < 0)
                        return r;
        }

        /* A private /tmp would hide a home that lies in the host's /tmp or /var/tmp (test and demo nodes). */
        bool in_tmp = path_is_under(home, "/tmp") || path_is_under(home, "/var/tmp");
        r = unit_property_list_append(l, "PrivateTmp", in_tmp ? "no" : "yes", NULL);
        if (r < 0)
                return r;

        /* ProtectHome=yes makes /home, /root and /run/user inaccessible, and a ReadWritePaths= below an
         * inaccessible folder cannot be reached: a home there is bound into the empty tmpfs instead. */
        bool in_homes = path_is_under(home, "/home") || path_is_under(home, "/root") || path_is_under(home, "/run/user");
        r = unit_property_list_append(l, "ProtectHome", in_homes ? "tmpfs" : "yes", NULL);
        if (r < 0)
                return r;
        r = in_homes ? unit_property_list_append_bind(l, "BindPaths", home, false) :
                       unit_property_list_append_paths(l, "ReadWritePaths", STRV_MAKE((char *) home));
        if (r < 0)
                return r;

        if (!root) {
                r = unit_property_list_append(l, "CapabilityBoundingSet", "", NULL);
                if (r < 0)
                        return r;
                r = unit_property_list_append(l, "AmbientCapabilities", "", NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int daemon_unit_spec_build(const char *name, const char *daemon_name, const char *version, const char *binary,
        char *const *argv, char *const *env, const char *working_directory, const char *user, const char *group,
        usec_t grace, uint64_t limit_nofile, uint64_t memory_max, DaemonSandbox sandbox, const char *home,
        const UnitPropertyList *extra, DaemonUnitSpec *ret) {
        assert(name);
        assert(daemon_name);
        assert(ret);

        if (!binary || binary[0] != '/' || !argv || !argv[0])
                return -EINVAL;

        _cleanup_(unit_property_list_done) UnitPropertyList sb = {};
        if (sandbox == DAEMON_SANDBOX_STRICT) {
                int k = daemon_unit_sandbox(home, daemon_user_is_root(user), &sb);
                if (k < 0)
                        return k;
        }

        _cleanup_free_ char *description = NULL;
        int r = daemon_unit_description(daemon_name, version, &description);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **environment = NULL;
        size_t n_invalid = 0;
        r = daemon_unit_environment(env, !isempty(user), &environment, &n_invalid);
        if (r < 0)
                return r;

        *ret = (DaemonUnitSpec) {
                .name = name,
                .description = TAKE_PTR(description),
                .binary = binary,
                .argv = argv,
                .environment = TAKE_PTR(environment),
                .working_directory = working_directory,
                .user = isempty(user) ? NULL : user,
                .group = isempty(group) ? NULL : group,
                .syslog_identifier = daemon_name,
                /* systemd reads TimeoutStopUSec=0 as "no timeout": a grace of 0 means "kill at once". */
                .timeout_stop = MAX(grace, USEC_PER_MSEC),
                .limit_nofile = limit_nofile,
                .memory_max = memory_max,
                .kill_signal = SIGTERM,
                .n_invalid_env = n_invalid,
                .sandbox = sb,
                .extra = extra,
                .kill_mode = "mixed",
                .stdout_fd = -EBADF,
                .stderr_fd = -EBADF,
        };
        sb = (UnitPropertyList) {};
        return 0;
}

int daemon_unit_spec_from_config(const Config *c, const char *name, const char *version, const char *binary,
        char *const *argv, char *const *env, const char *working_directory, DaemonUnitSpec *ret) {
        assert(c);
        return daemon_unit_spec_build(name, c->name, version, binary, argv, env, working_directory, c->daemon_user,
                c->daemon_group, c->shutdown_grace, c->limit_nofile, c->memory_max, c->daemon_sandbox, c->home,
                &c->daemon_properties, ret);
}

int check_unit_name(const char *node_unit, const char *version, uint64_t random, char **ret) {
        assert(node_unit);
        assert(version);
        assert(ret);

        const char *suffix = endswith(node_unit, ".service");
        if (!suffix || !unit_name_is_valid_service(node_unit))
                return -EINVAL;
        _cleanup_free_ char *v = NULL;
        int r = unit_name_escape(version, &v);
        if (r < 0)
                return r;

        size_t prefix = (size_t) (suffix - node_unit);
        /* "-check-" "-" 16 hex ".service" */
        size_t fixed = STRLEN("-check-") + 1 + 16 + STRLEN(".service");
        char *name = NULL;
        if (prefix + fixed + 1 > UNIT_NAME_MAX) {
                if (asprintf(&name, "oraivisor-check-%016" PRIx64 ".service", random) < 0)
                        return -ENOMEM;
                *ret = name;
                return 0;
        }
        size_t room = UNIT_NAME_MAX - prefix - fixed, n = strlen(v);
        if (n > room) {
                n = room;
                /* Never cut an escape "\xNN" in two: back up to its backslash. */
                for (size_t i = n >= 3 ? n - 3 : 0; i < n; i++)
                        if (v[i] == '\\') {
                                n = i;
                                break;
                        }
        }
        if (asprintf(&name, "%.*s-check-%.*s-%016" PRIx64 ".service", (int) prefix, node_unit, (int) n, v, random) < 0)
                return -ENOMEM;
        if (!unit_name_is_valid_service(name)) {
                free(name);
                return -EINVAL;
        }
        *ret = name;
        return 0;
}

int check_unit_spec_build(const DaemonUnitSpec *node, const char *name, const char *version, const char *what,
        char *const *argv, char *const *set_env, usec_t runtime_max, DaemonUnitSpec *ret) {
        assert(node);
        assert(name);
        assert(ret);

        if (!argv || !argv[0] || argv[0][0] != '/' || !unit_name_is_valid_service(name))
                return -EINVAL;

        _cleanup_strv_free_ char **env = strv_copy(node->environment);
        if (!env)
                return -ENOMEM;
        STRV_FOREACH(e, set_env) {
                const char *eq = strchr(*e, '=');
                if (!eq || !unit_env_assignment_is_valid(*e))
                        return -EINVAL;
                _cleanup_free_ char *k = strndup(*e, (size_t) (eq - *e));
                if (!k || strv_env_set(&env, k, eq + 1) < 0)
                        return -ENOMEM;
        }
        _cleanup_(unit_property_list_done) UnitPropertyList sb = {};
        int r = unit_property_list_copy(&node->sandbox, &sb);
        if (r < 0)
                return r;
        _cleanup_free_ char *description = NULL;
        if (asprintf(&description, "%s readiness check of %s (%s), run by oraivisor", strna(node->syslog_identifier),
                    isempty(version) ? "unknown version" : version, strna(what)) < 0)
                return -ENOMEM;
        for (char *p = description; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = ' ';

        *ret = (DaemonUnitSpec) {
                .name = name,
                .description = TAKE_PTR(description),
                .binary = argv[0],
                .argv = argv,
                .environment = TAKE_PTR(env),
                .working_directory = node->working_directory,
                .user = node->user,
                .group = node->group,
                .syslog_identifier = node->syslog_identifier,
                /* Killed outright: a check has no state to save, and one that hangs must not hold anything. */
                .timeout_stop = 5 * USEC_PER_SEC,
                .limit_nofile = node->limit_nofile,
                .memory_max = node->memory_max,
                .kill_signal = SIGKILL,
                .n_invalid_env = node->n_invalid_env,
                .sandbox = sb,
                .extra = node->extra,
                .kill_mode = "control-group",
                .runtime_max = runtime_max,
                .output_to_fds = true,
                .stdout_fd = -EBADF,
                .stderr_fd = -EBADF,
        };
        sb = (UnitPropertyList) {};
        return 0;
}

void daemon_unit_spec_done(DaemonUnitSpec *s) {
        if (!s)
                return;
        s->description = mfree(s->description);
        s->environment = strv_free(s->environment);
        unit_property_list_done(&s->sandbox);
}
