/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string arrays (argv, environ). */

#include "macro.h"

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l) _pure_;
char **strv_copy(char *const *l);
/* Appends a copy of value. */
int strv_extend(char ***l, const char *value);
/* Appends value, taking ownership (freed on failure). */
int strv_consume(char ***l, char *value);
bool strv_contains(char *const *l, const char *s) _pure_;

/* environ-style lookups: the value of NAME in a list of "NAME=VALUE" entries, or NULL. */
const char *strv_env_get(char *const *env, const char *name) _pure_;
/* A copy of env without the entries whose name is in names or starts with one of prefixes (each
 * prefix ends in '_' or is a full name); either list may be NULL. */
char **strv_env_filter(char *const *env, char *const *names, char *const *prefixes);
/* Sets NAME=VALUE, replacing an existing entry. */
int strv_env_set(char ***env, const char *name, const char *value);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
#define STRV_MAKE(...) ((char *const[]){ __VA_ARGS__, NULL })
