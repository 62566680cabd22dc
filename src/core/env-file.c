/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env-file.h"
#include "macro.h"
#include "string-util.h"
#include "strv.h"

static bool key_char(char c, bool first) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

/* A growing buffer for one value. */
typedef struct Buf {
        char *s;
        size_t n, size;
} Buf;

static int buf_put(Buf *b, char c) {
        if (b->n + 2 > b->size) {
                size_t size = MAX(b->size * 2, (size_t) 64);
                char *s = realloc(b->s, size);
                if (!s)
                        return -ENOMEM;
                b->s = s;
                b->size = size;
        }
        b->s[b->n++] = c;
        b->s[b->n] = 0;
        return 0;
}

int env_file_parse(const char *text, size_t len, char ***ret_env, char ***ret_warnings, char **ret_error) {
        _cleanup_(strv_freep) char **env = NULL;
        size_t line = 1;
        int r;

        assert(text || len == 0);
        assert(ret_env);
        assert(ret_warnings);
        assert(ret_error);

        *ret_error = NULL;
        if (memchr(text, 0, len)) {
                if (asprintf(ret_error, "holds a NUL byte: it is not a text file; rewrite it as KEY=VALUE lines") < 0)
                        return -ENOMEM;
                return -EINVAL;
        }

        const char *p = text, *end = text + len;
        while (p < end) {
                size_t start_line = line;
                while (p < end && (blank(*p) || *p == '\n')) {
                        if (*p == '\n')
                                line++;
                        p++;
                }
                if (p >= end)
                        break;
                start_line = line;
                if (*p == '#' || *p == ';') {
                        while (p < end && *p != '\n')
                                p++;
                        continue;
                }

                /* The key. */
                const char *k = p;
                while (p < end && key_char(*p, p == k))
                        p++;
                const char *kend = p;
                while (p < end && blank(*p))
                        p++;
                if (kend == k || p >= end || *p != '=') {
                        const char *eol = memchr(k, '\n', end - k);
                        size_t n = (eol ? eol : end) - k;
                        _cleanup_free_ char *shown = string_escape_for_log(k, n, 60);
                        char *w = NULL;
                        if (!shown || asprintf(&w, "line %zu: '%s' is not a KEY=VALUE assignment: ignored, as systemd does.",
                                               start_line, shown) < 0)
                                return -ENOMEM;
                        r = strv_consume(ret_warnings, w);
                        if (r < 0)
                                return r;
                        p = eol ? eol : end;
                        continue;
                }
                p++; /* '=' */
                while (p < end && blank(*p))
                        p++;

                /* The value. */
                _cleanup_free_ char *value_s = NULL;
                Buf b = {};
                char quote = 0;
                size_t trail = 0; /* unquoted trailing whitespace, dropped at the end */
                for (;;) {
                        if (p >= end) {
                                if (quote) {
                                        free(b.s);
                                        if (asprintf(ret_error,
                                                     "line %zu: the value of %.*s opens a %s quote that is never closed: close it",
                                                     start_line, (int) (kend - k), k,
                                                     quote == '"' ? "double" : "single") < 0)
                                                return -ENOMEM;
                                        return -EINVAL;
                                }
                                break;
                        }
                        char c = *p;
                        if (quote == '\'') {
                                p++;
                                if (c == '\'') {
                                        quote = 0;
                                        continue;
                                }
                                if (c == '\n')
                                        line++;
                                r = buf_put(&b, c);
                        } else if (quote == '"') {
                                p++;
                                if (c == '"') {
                                        quote = 0;
                                        continue;
                                }
                                if (c == '\\' && p < end) {
                                        char e = *p++;
                                        if (e == '\n') {
                                                line++;
                                                continue;
                                        }
                                        if (strchr("\"\\`$", e))
                                                r = buf_put(&b, e);
                                        else if ((r = buf_put(&b, '\\')) >= 0)
                                                r = buf_put(&b, e);
                                } else {
                                        if (c == '\n')
                                                line++;
                                        r = buf_put(&b, c);
                                }
                        } else {
                                if (c == '\n')
                                        break;
                                p++;
                                if (c == '"' || c == '\'') {
                                        quote = c;
                                        trail = 0;
                                        continue;
                                }
                                if (c == '\\' && p < end) {
                                        char e = *p++;
                                        trail = 0;
                                        if (e == '\n') {
                                                line++;
                                                continue;
                                        }
                                        r = buf_put(&b, e);
                                } else {
                                        trail = blank(c) ? trail + 1 : 0;
                                        r = buf_put(&b, c);
                                }
                        }
                        if (r < 0) {
                                free(b.s);
                                return r;
                        }
                }
                value_s = b.s;
                if (value_s)
                        value_s[b.n - trail] = 0;

                _cleanup_free_ char *key = strndup(k, kend - k);
                if (!key)
                        return -ENOMEM;
                r = strv_env_set(&env, key, strempty(value_s));
                if (r < 0)
                        return r;
        }

        if (!env) {
                env = calloc(1, sizeof(char *));
                if (!env)
                        return -ENOMEM;
        }
        *ret_env = TAKE_PTR(env);
        return 0;
}
