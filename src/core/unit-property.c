/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "parse-util.h"
#include "string-util.h"
#include "strv.h"
#include "unit-property.h"

typedef enum ValueKind {
        KIND_BOOL,
        KIND_ENUM,       /* a string, one of the entry's choices */
        KIND_PATHS,      /* absolute paths, each may start with '-' (ignore a missing one) */
        KIND_BIND,       /* [-]SOURCE[:DEST] */
        KIND_WEIGHT,     /* 1..10000 */
        KIND_SIZE,       /* bytes with K/M/G/T, or infinity */
        KIND_COUNT,      /* a number, or infinity */
        KIND_PERCENT,    /* N% of one CPU, sent as a time per second */
        KIND_NICE,
        KIND_OOM_SCORE,
        KIND_FAMILIES,   /* [~]AF_… */
        KIND_SYSCALLS,   /* [~]@group or syscall names */
        KIND_ARCHS,
        KIND_NAMESPACES, /* yes/no or [~]names */
        KIND_NO_CAPS,    /* only the empty value: no capabilities at all */
        KIND_ERRNO,
} ValueKind;

typedef struct PropertyDef {
        const char *name;
        ValueKind kind;
        const char *bus_name; /* NULL: same as name */
        const char *const *choices;
} PropertyDef;

static const char *const protect_system[] = { "no", "yes", "full", "strict", NULL };
static const char *const protect_home[] = { "no", "yes", "read-only", "tmpfs", NULL };
static const char *const protect_proc[] = { "default", "noaccess", "invisible", "ptraceable", NULL };
static const char *const proc_subset[] = { "all", "pid", NULL };
static const char *const families[] = {
        "AF_UNIX", "AF_LOCAL", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_VSOCK", "AF_ALG", "AF_XDP",
        "AF_BLUETOOTH", "AF_CAN", "AF_TIPC", "AF_KEY", "AF_BRIDGE", NULL,
};
static const char *const archs[] = {
        "native", "x86", "x86-64", "x32", "arm", "arm64", "riscv64", "ppc64", "ppc64-le", "s390x", "mips64", NULL,
};
static const char *const syscall_groups[] = {
        "@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation", "@debug", "@default", "@file-system",
        "@io-event", "@ipc", "@keyring", "@known", "@memlock", "@module", "@mount", "@network-io", "@obsolete",
        "@pkey", "@privileged", "@process", "@raw-io", "@reboot", "@resources", "@sandbox", "@setuid",
        "@signal", "@swap", "@sync", "@system-service", "@timer", NULL,
};
static const char *const errnos[] = { "EPERM", "EACCES", "ENOSYS", NULL };
static const int errno_values[] = { EPERM, EACCES, ENOSYS };
static const char *const namespace_names[] = { "cgroup", "ipc", "net", "mnt", "pid", "user", "uts", NULL };
static const uint64_t namespace_flags[] = {
        CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS,
};

/* Resource control first, then paths, then the sandbox: the order of docs/systemd.md. */
static const PropertyDef defs[] = {
        { "CPUWeight", KIND_WEIGHT },
        { "StartupCPUWeight", KIND_WEIGHT },
        { "CPUQuota", KIND_PERCENT, "CPUQuotaPerSecUSec" },
        { "IOWeight", KIND_WEIGHT },
        { "StartupIOWeight", KIND_WEIGHT },
        { "MemoryMin", KIND_SIZE },
        { "MemoryLow", KIND_SIZE },
        { "MemoryHigh", KIND_SIZE },
        { "MemoryMax", KIND_SIZE },
        { "MemorySwapMax", KIND_SIZE },
        { "TasksMax", KIND_COUNT },
        { "Nice", KIND_NICE },
        { "OOMScoreAdjust", KIND_OOM_SCORE },
        { "ReadWritePaths", KIND_PATHS },
        { "ReadOnlyPaths", KIND_PATHS },
        { "InaccessiblePaths", KIND_PATHS },
        { "BindPaths", KIND_BIND },
        { "BindReadOnlyPaths", KIND_BIND },
        { "NoNewPrivileges", KIND_BOOL },
        { "ProtectSystem", KIND_ENUM, NULL, protect_system },
        { "ProtectHome", KIND_ENUM, NULL, protect_home },
        { "PrivateTmp", KIND_BOOL },
        { "PrivateDevices", KIND_BOOL },
        { "PrivateMounts", KIND_BOOL },
        { "ProtectKernelTunables", KIND_BOOL },
        { "ProtectKernelModules", KIND_BOOL },
        { "ProtectKernelLogs", KIND_BOOL },
        { "ProtectControlGroups", KIND_BOOL },
        { "ProtectClock", KIND_BOOL },
        { "ProtectHostname", KIND_BOOL },
        { "ProtectProc", KIND_ENUM, NULL, protect_proc },
        { "ProcSubset", KIND_ENUM, NULL, proc_subset },
        { "RestrictSUIDSGID", KIND_BOOL },
        { "RestrictNamespaces", KIND_NAMESPACES },
        { "LockPersonality", KIND_BOOL },
        { "RestrictRealtime", KIND_BOOL },
        { "RestrictAddressFamilies", KIND_FAMILIES },
        { "SystemCallArchitectures", KIND_ARCHS },
        { "SystemCallFilter", KIND_SYSCALLS },
        { "SystemCallErrorNumber", KIND_ERRNO },
        { "CapabilityBoundingSet", KIND_NO_CAPS },
        { "AmbientCapabilities", KIND_NO_CAPS },
};

const char *const unit_property_names[] = {
        "CPUWeight", "StartupCPUWeight", "CPUQuota", "IOWeight", "StartupIOWeight", "MemoryMin", "MemoryLow",
        "MemoryHigh", "MemoryMax", "MemorySwapMax", "TasksMax", "Nice", "OOMScoreAdjust", "ReadWritePaths",
        "ReadOnlyPaths", "InaccessiblePaths", "BindPaths", "BindReadOnlyPaths", "NoNewPrivileges",
        "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "ProtectKernelTunables",
        "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
        "ProtectProc", "ProcSubset", "RestrictSUIDSGID", "RestrictNamespaces", "LockPersonality",
        "RestrictRealtime", "RestrictAddressFamilies", "SystemCallArchitectures", "SystemCallFilter",
        "SystemCallErrorNumber", "CapabilityBoundingSet", "AmbientCapabilities", NULL,
};

const char *unit_property_type_signature(UnitPropertyType t) {
        static const char *const sig[_UNIT_PROPERTY_TYPE_MAX] = {
                [UNIT_PROPERTY_BOOL] = "b",
                [UNIT_PROPERTY_STRING] = "s",
                [UNIT_PROPERTY_STRV] = "as",
                [UNIT_PROPERTY_BOOL_STRV] = "(bas)",
                [UNIT_PROPERTY_U64] = "t",
                [UNIT_PROPERTY_I32] = "i",
                [UNIT_PROPERTY_BIND] = "a(ssbt)",
        };
        if (t < 0 || t >= _UNIT_PROPERTY_TYPE_MAX)
                return NULL;
        return sig[t];
}

static void unit_property_done(UnitProperty *p) {
        p->s = mfree(p->s);
        p->strv = strv_free(p->strv);
}

void unit_property_list_done(UnitPropertyList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                unit_property_done(&l->items[i]);
        l->items = mfree(l->items);
        l->n = 0;
}

int unit_property_list_copy(const UnitPropertyList *l, UnitPropertyList *ret) {
        assert(l);
        assert(ret);

        _cleanup_(unit_property_list_done) UnitPropertyList c = {};
        if (l->n > 0) {
                c.items = new0(UnitProperty, l->n);
                if (!c.items)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < l->n; i++) {
                const UnitProperty *p = &l->items[i];
                c.items[i] = (UnitProperty) { .name = p->name, .type = p->type, .b = p->b, .u64 = p->u64, .i32 = p->i32 };
                c.n = i + 1;
                if ((p->s && !(c.items[i].s = strdup(p->s))) || (p->strv && !(c.items[i].strv = strv_copy(p->strv))))
                        return -ENOMEM;
        }
        *ret = c;
        c = (UnitPropertyList) {};
        return 0;
}

static int list_push(UnitPropertyList *l, UnitProperty *p) {
        if (l->n >= SIZE_MAX / sizeof(UnitProperty) - 1)
                return -ENOMEM;
        UnitProperty *items = realloc(l->items, (l->n + 1) * sizeof(UnitProperty));
        if (!items)
                return -ENOMEM;
        l->items = items;
        l->items[l->n++] = *p;
        *p = (UnitProperty) {};
        return 0;
}

static const PropertyDef *find_def(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(defs); i++)
                if (streq(defs[i].name, name))
                        return &defs[i];
        return NULL;
}

static int choice_index(const char *const *choices, const char *s) {
        for (int i = 0; choices[i]; i++)
                if (streq(choices[i], s))
                        return i;
        return -ENOENT;
}

/* Absolute, at most PATH_MAX, no control characters, no "." or ".." components: the same folder must not
 * be spelled two ways, and systemd refuses what is not normalised. */
static bool path_ok(const char *p) {
        if (p[0] != '/' || strlen(p) >= 4096)
                return false;
        for (const unsigned char *c = (const unsigned char *) p; *c; c++)
                if (*c < ' ' || *c == 0x7f)
                        return false;
        for (const char *c = p; *c;) {
                while (*c == '/')
                        c++;
                const char *e = strchrnul(c, '/');
                size_t n = (size_t) (e - c);
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c = e;
        }
        return true;
}

/* Splits value at whitespace into *ret (at least one word, or -EINVAL). */
static int split_words(const char *value, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        for (const char *p = value;;) {
                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                size_t n = strcspn(p, " \t\n");
                char *w = strndup(p, n);
                if (!w || strv_consume(&l, w) < 0)
                        return -ENOMEM;
                p += n;
        }
        if (!l)
                return -EINVAL;
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_bool(const char *s) {
        if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || streq(s, "1"))
                return 1;
        if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || streq(s, "0"))
                return 0;
        return -EINVAL;
}

static bool syscall_name_ok(const char *s) {
        if (s[0] == '@')
                return choice_index(syscall_groups, s) >= 0;
        if (!*s || strlen(s) > 64)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                        return false;
        return true;
}

static char *join_choices(const char *const *choices) {
        char *s = NULL;
        for (size_t i = 0; choices[i]; i++)
                if (strextendf(&s, "%s'%s'", i == 0 ? "" : ", ", choices[i]) < 0)
                        return mfree(s);
        return s;
}

/* What a valid value of def looks like, for the error message. */
static char *expected(const PropertyDef *def) {
        switch (def->kind) {
        case KIND_BOOL:
                return strdup("yes or no");
        case KIND_ENUM: {
                _cleanup_free_ char *c = join_choices(def->choices);
                char *s = NULL;
                if (!c || asprintf(&s, "one of %s", c) < 0)
                        return NULL;
                return s;
        }
        case KIND_PATHS:
                return strdup("absolute paths without '.' or '..' components, each may start with '-' to ignore a missing one");
        case KIND_BIND:
                return strdup("an absolute path, or SOURCE:DESTINATION (no options), may start with '-' to ignore a missing source");
        case KIND_WEIGHT:
                return strdup("a weight from 1 to 10000 (100 is the default)");
        case KIND_SIZE:
                return strdup("a size such as '8G' (K, M, G, T are powers of 1024), or 'infinity'");
        case KIND_COUNT:
                return strdup("a number, or 'infinity'");
        case KIND_PERCENT:
                return strdup("a whole percentage of one CPU above 0, such as '200%'");
        case KIND_NICE:
                return strdup("a nice level from -20 to 19");
        case KIND_OOM_SCORE:
                return strdup("a number from -1000 to 1000");
        case KIND_FAMILIES: {
                _cleanup_free_ char *c = join_choices(families);
                char *s = NULL;
                if (!c || asprintf(&s, "address families among %s, the list may start with '~' (deny)", c) < 0)
                        return NULL;
                return s;
        }
        case KIND_SYSCALLS:
                return strdup("system call names or @groups as systemd.exec(5) lists them, the list may start with '~' (deny)");
        case KIND_ARCHS: {
                _cleanup_free_ char *c = join_choices(archs);
                char *s = NULL;
                if (!c || asprintf(&s, "architectures among %s", c) < 0)
                        return NULL;
                return s;
        }
        case KIND_NAMESPACES:
                return strdup("yes, no, or the namespaces allowed among 'cgroup', 'ipc', 'net', 'mnt', 'pid', 'user', 'uts' (a list may start with '~')");
        case KIND_NO_CAPS:
                return strdup("an empty value (no capabilities at all)");
        case KIND_ERRNO:
                return strdup("one of 'EPERM', 'EACCES', 'ENOSYS'");
        }
        return NULL;
}

/* Parses value for def into *p. -EINVAL when it is not a valid value. */
static int parse_value(const PropertyDef *def, const char *value, UnitProperty *p) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        *p = (UnitProperty) { .name = def->bus_name ?: def->name };

        switch (def->kind) {
        case KIND_BOOL:
                r = parse_bool(value);
                if (r < 0)
                        return r;
                p->type = UNIT_PROPERTY_BOOL;
                p->b = r;
                return 0;

        case KIND_ENUM:
                if (choice_index(def->choices, value) < 0)
                        return -EINVAL;
                p->type = UNIT_PROPERTY_STRING;
                p->s = strdup(value);
                return p->s ? 0 : -ENOMEM;

        case KIND_PATHS:
                r = split_words(value, &words);
                if (r < 0)
                        return r;
                STRV_FOREACH(w, words)
                        if (!path_ok(*w[0] == '-' ? *w + 1 : *w))
                                return -EINVAL;
                p->type = UNIT_PROPERTY_STRV;
                p->strv = TAKE_PTR(words);
                return 0;

        case KIND_BIND: {
                r = split_words(value, &words);
                if (r < 0)
                        return r;
                _cleanup_strv_free_ char **triples = NULL;
                STRV_FOREACH(w, words) {
                        const char *s = *w[0] == '-' ? *w + 1 : *w;
                        const char *colon = strchr(s, ':');
                        _cleanup_free_ char *src = colon ? strndup(s, (size_t) (colon - s)) : strdup(s);
                        if (!src)
                                return -ENOMEM;
                        const char *dst = colon ? colon + 1 : src;
                        /* No mount options (a second ':'): binds are recursive and read-write (BindPaths=) or
                         * read-only (BindReadOnlyPaths=). */
                        if (!path_ok(src) || !path_ok(dst) || strchr(dst, ':'))
                                return -EINVAL;
                        if (strv_extend(&triples, src) < 0 || strv_extend(&triples, dst) < 0 ||
                                strv_extend(&triples, *w[0] == '-' ? "-" : "") < 0)
                                return -ENOMEM;
                }
                p->type = UNIT_PROPERTY_BIND;
                p->strv = TAKE_PTR(triples);
                return 0;
        }

        case KIND_WEIGHT: {
                uint64_t v;
                if (parse_uint64(value, &v) < 0 || v < 1 || v > 10000)
                        return -EINVAL;
                p->type = UNIT_PROPERTY_U64;
                p->u64 = v;
                return 0;
        }

        case KIND_SIZE:
        case KIND_COUNT: {
                uint64_t v;
                if (strcasecmp(value, "infinity") == 0)
                        v = UINT64_MAX;
                else if ((def->kind == KIND_SIZE ? parse_size(value, &v) : parse_uint64(value, &v)) < 0 ||
                         v == UINT64_MAX)
                        return -EINVAL;
                p->type = UNIT_PROPERTY_U64;
                p->u64 = v;
                return 0;
        }

        case KIND_PERCENT: {
                const char *pct = endswith(value, "%");
                uint64_t v;
                if (!pct || pct == value)
                        return -EINVAL;
                _cleanup_free_ char *n = strndup(value, (size_t) (pct - value));
                if (!n)
                        return -ENOMEM;
                /* 1% of a CPU is 10 ms of CPU time per second. */
                if (parse_uint64(n, &v) < 0 || v == 0 || v > UINT64_C(10000000))
                        return -EINVAL;
                p->type = UNIT_PROPERTY_U64;
                p->u64 = v * 10000;
                return 0;
        }

        case KIND_NICE:
        case KIND_OOM_SCORE: {
                int64_t v, lim = def->kind == KIND_NICE ? 20 : 1000;
                if (parse_int64(value, &v) < 0 || v < -lim || v > (def->kind == KIND_NICE ? 19 : 1000))
                        return -EINVAL;
                p->type = UNIT_PROPERTY_I32;
                p->i32 = (int32_t) v;
                return 0;
        }

        case KIND_FAMILIES:
        case KIND_SYSCALLS:
        case KIND_ARCHS: {
                bool deny = def->kind != KIND_ARCHS && value[0] == '~';
                r = split_words(deny ? value + 1 : value, &words);
                if (r < 0)
                        return r;
                STRV_FOREACH(w, words)
                        if (def->kind == KIND_FAMILIES ? choice_index(families, *w) < 0 :
                            def->kind == KIND_ARCHS    ? choice_index(archs, *w) < 0 :
                                                         !syscall_name_ok(*w))
                                return -EINVAL;
                p->type = def->kind == KIND_ARCHS ? UNIT_PROPERTY_STRV : UNIT_PROPERTY_BOOL_STRV;
                p->b = !deny;
                p->strv = TAKE_PTR(words);
                return 0;
        }

        case KIND_NAMESPACES: {
                /* On the bus: the set of namespaces that may be created. yes allows none. */
                uint64_t all = 0, v = 0;
                for (size_t i = 0; i < ELEMENTSOF(namespace_flags); i++)
                        all |= namespace_flags[i];
                p->type = UNIT_PROPERTY_U64;
                r = parse_bool(value);
                if (r >= 0) {
                        p->u64 = r ? 0 : all;
                        return 0;
                }
                bool deny = value[0] == '~';
                r = split_words(deny ? value + 1 : value, &words);
                if (r < 0)
                        return r;
                STRV_FOREACH(w, words) {
                        int i = choice_index(namespace_names, *w);
                        if (i < 0)
                                return -EINVAL;
                        v |= namespace_flags[i];
                }
                p->u64 = deny ? all & ~v : v;
                return 0;
        }

        case KIND_NO_CAPS:
                if (!isempty(value))
                        return -EINVAL;
                p->type = UNIT_PROPERTY_U64;
                p->u64 = 0;
                return 0;

        case KIND_ERRNO: {
                int i = choice_index(errnos, value);
                if (i < 0)
                        return -EINVAL;
                p->type = UNIT_PROPERTY_I32;
                p->i32 = errno_values[i];
                return 0;
        }
        }
        return -EINVAL;
}

static int set_error(char **ret_error, const char *format, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *format, ...) {
        if (!ret_error)
                return -EINVAL;
        va_list ap;
        va_start(ap, format);
        int r = vasprintf(ret_error, format, ap);
        va_end(ap);
        if (r < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

int unit_property_list_append(UnitPropertyList *l, const char *name, const char *value, char **ret_error) {
        assert(l);
        assert(name);
        assert(value);

        _cleanup_free_ char *qn = string_escape_for_log(name, strlen(name), 100),
                            *qv = string_escape_for_log(value, strlen(value), 200);
        if (!qn || !qv)
                return -ENOMEM;

        const PropertyDef *def = find_def(name);
        if (!def) {
                _cleanup_free_ char *all = NULL;
                for (size_t i = 0; unit_property_names[i]; i++)
                        if (strextendf(&all, "%s%s", i == 0 ? "" : ", ", unit_property_names[i]) < 0)
                                return -ENOMEM;
                return set_error(ret_error, "unknown or unsupported property '%s': expected one of %s.", qn, all);
        }

        _cleanup_(unit_property_done) UnitProperty p = {};
        int r = parse_value(def, value, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *e = expected(def);
                if (!e)
                        return -ENOMEM;
                return set_error(ret_error, "'%s=%s' is not valid: expected %s.", qn, qv, e);
        }
        return list_push(l, &p);
}

int unit_property_list_append_paths(UnitPropertyList *l, const char *name, char *const *paths) {
        assert(l);
        assert(name);

        const PropertyDef *def = find_def(name);
        if (!def || def->kind != KIND_PATHS || !paths || !paths[0])
                return -EINVAL;
        STRV_FOREACH(p, paths)
                if (!path_ok(*p[0] == '-' ? *p + 1 : *p))
                        return -EINVAL;
        _cleanup_(unit_property_done) UnitProperty p = { .name = def->name, .type = UNIT_PROPERTY_STRV };
        p.strv = strv_copy(paths);
        if (!p.strv)
                return -ENOMEM;
        return list_push(l, &p);
}

int unit_property_list_append_bind(UnitPropertyList *l, const char *name, const char *path, bool ignore_missing) {
        assert(l);
        assert(name);

        const PropertyDef *def = find_def(name);
        if (!def || def->kind != KIND_BIND || !path || !path_ok(path))
                return -EINVAL;
        _cleanup_(unit_property_done) UnitProperty p = { .name = def->name, .type = UNIT_PROPERTY_BIND };
        if (strv_extend(&p.strv, path) < 0 || strv_extend(&p.strv, path) < 0 ||
                strv_extend(&p.strv, ignore_missing ? "-" : "") < 0)
                return -ENOMEM;
        return list_push(l, &p);
}

int unit_properties_parse(const char *text, UnitPropertyList *ret, char **ret_error) {
        assert(ret);

        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        _cleanup_strv_free_ char **words = NULL;
        int r = split_words(text ?: "", &words);
        if (r == -ENOMEM)
                return r;
        STRV_FOREACH(w, words) {
                const char *eq = strchr(*w, '=');
                if (!eq || eq == *w) {
                        _cleanup_free_ char *q = string_escape_for_log(*w, strlen(*w), 200);
                        if (!q)
                                return -ENOMEM;
                        return set_error(ret_error,
                                "'%s' is not an assignment: expected NAME=VALUE, such as 'CPUWeight=200', separated by spaces.", q);
                }
                _cleanup_free_ char *name = strndup(*w, (size_t) (eq - *w));
                if (!name)
                        return -ENOMEM;
                r = unit_property_list_append(&l, name, eq + 1, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = l;
        l = (UnitPropertyList) {};
        return 0;
}
