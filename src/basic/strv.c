/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "string-util.h"
#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **k = l; *k; k++)
                free(*k);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **r = new0(char *, n + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                r[i] = strdup(l[i]);
                if (!r[i])
                        return strv_free(r);
        }
        return r;
}

int strv_consume(char ***l, char *value) {
        if (!value)
                return -ENOMEM;
        size_t n = strv_length(*l);
        char **m = realloc(*l, sizeof(char *) * (n + 2));
        if (!m) {
                free(value);
                return -ENOMEM;
        }
        m[n] = value;
        m[n + 1] = NULL;
        *l = m;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

static bool env_name_is(const char *entry, const char *name) {
        size_t n = strlen(name);
        return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

const char *strv_env_get(char *const *env, const char *name) {
        STRV_FOREACH(e, env)
                if (env_name_is(*e, name))
                        return *e + strlen(name) + 1;
        return NULL;
}

char **strv_env_filter(char *const *env, char *const *names, char *const *prefixes) {
        _cleanup_strv_free_ char **r = new0(char *, 1);
        if (!r)
                return NULL;
        STRV_FOREACH(e, env) {
                bool drop = false;
                STRV_FOREACH(n, names)
                        if (env_name_is(*e, *n)) {
                                drop = true;
                                break;
                        }
                STRV_FOREACH(p, prefixes)
                        /* "NAME_" matches every NAME_*; a full name only itself, not NAMEX=. */
                        if (!drop && (endswith(*p, "_") ? startswith(*e, *p) != NULL : env_name_is(*e, *p))) {
                                drop = true;
                                break;
                        }
                if (!drop && strv_extend(&r, *e) < 0)
                        return NULL;
        }
        return TAKE_PTR(r);
}

int strv_env_set(char ***env, const char *name, const char *value) {
        char *entry = NULL;
        if (asprintf(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (char **e = *env; e && *e; e++)
                if (env_name_is(*e, name)) {
                        free(*e);
                        *e = entry;
                        return 0;
                }
        return strv_consume(env, entry);
}
