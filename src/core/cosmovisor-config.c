/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosmovisor-config.h"
#include "macro.h"
#include "parse-util.h"
#include "string-util.h"
#include "strv.h"

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

static bool bare_key_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

_printf_(3, 4) static int fail(char **ret_error, size_t line, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, format);
        int r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0 || asprintf(ret_error, "line %zu: %s", line, msg) < 0)
                return -ENOMEM;
        return -EINVAL;
}

/* Reads a quoted string starting at *p (the quote), up to eol. */
static int parse_string(const char **p, const char *eol, size_t line, char **ret, char **ret_error) {
        char q = **p;
        const char *s = *p + 1;
        _cleanup_free_ char *out = malloc(eol - s + 1);
        size_t n = 0;
        if (!out)
                return -ENOMEM;
        if (eol - s >= 2 && s[0] == q && s[1] == q)
                return fail(ret_error, line, "multi-line strings are not part of cosmovisor's config.toml: write the value on one line");
        for (; s < eol; s++) {
                if (*s == q) {
                        out[n] = 0;
                        *p = s + 1;
                        *ret = TAKE_PTR(out);
                        return 0;
                }
                if (q == '"' && *s == '\\') {
                        if (++s >= eol)
                                break;
                        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                        const char *f = strchr(from, *s);
                        if (!f || !*s)
                                return fail(ret_error, line, "unsupported escape '\\%c' in a string: write the character itself", *s);
                        out[n++] = to[f - from];
                        continue;
                }
                if ((unsigned char) *s < 0x20 && *s != '\t')
                        return fail(ret_error, line, "control character in a string");
                out[n++] = *s;
        }
        return fail(ret_error, line, "the string is not closed: add the closing %c", q);
}

int cosmovisor_toml_parse(const char *text, size_t len, char ***ret_env, char **ret_error) {
        _cleanup_(strv_freep) char **env = NULL;
        size_t line = 0;

        assert(text || len == 0);
        assert(ret_env);
        assert(ret_error);
        *ret_error = NULL;

        if (memchr(text, 0, len)) {
                if (asprintf(ret_error, "holds a NUL byte: it is not a TOML file") < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', end - p);
                if (!eol)
                        eol = end;
                line++;
                const char *next = eol < end ? eol + 1 : end;

                while (p < eol && blank(*p))
                        p++;
                if (p == eol || *p == '#') {
                        p = next;
                        continue;
                }
                if (*p == '[')
                        return fail(ret_error, line, "tables are not part of cosmovisor's config.toml: move the keys to the top level");

                const char *k = p;
                while (p < eol && bare_key_char(*p))
                        p++;
                if (p == k)
                        return fail(ret_error, line, "expected key = value");
                _cleanup_free_ char *key = strndup(k, p - k);
                if (!key)
                        return -ENOMEM;
                for (char *c = key; *c; c++)
                        *c = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? (char) (*c - 'a' + 'A') : *c;
                while (p < eol && blank(*p))
                        p++;
                if (p >= eol || *p != '=')
                        return fail(ret_error, line, "expected '=' after the key %s", key);
                p++;
                while (p < eol && blank(*p))
                        p++;

                _cleanup_free_ char *value = NULL;
                if (p < eol && (*p == '"' || *p == '\'')) {
                        int r = parse_string(&p, eol, line, &value, ret_error);
                        if (r < 0)
                                return r;
                } else {
                        const char *v = p;
                        while (p < eol && !blank(*p) && *p != '#')
                                p++;
                        _cleanup_free_ char *raw = strndup(v, p - v);
                        if (!raw)
                                return -ENOMEM;
                        int64_t i;
                        char *digits = strdup(raw);
                        if (!digits)
                                return -ENOMEM;
                        char *o = digits;
                        for (const char *c = raw; *c; c++)
                                if (*c != '_')
                                        *o++ = *c;
                        *o = 0;
                        if (streq(raw, "true") || streq(raw, "false"))
                                value = TAKE_PTR(raw);
                        else if (*digits && parse_int64(digits[0] == '+' ? digits + 1 : digits, &i) >= 0)
                                (void) asprintf(&value, "%" PRId64, i);
                        free(digits);
                        if (!value && isempty(raw))
                                return fail(ret_error, line, "%s has no value", key);
                        if (!value)
                                return fail(ret_error, line,
                                            "the value of %s is not a string, boolean or integer: quote it", key);
                }
                while (p < eol && blank(*p))
                        p++;
                if (p < eol && *p != '#')
                        return fail(ret_error, line, "unexpected text after the value of %s", key);
                if (strv_env_get(env, key))
                        return fail(ret_error, line, "%s is set twice: keep one", key);
                int r = strv_env_set(&env, key, value);
                if (r < 0)
                        return r;
                p = next;
        }
        if (!env && !(env = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_env = TAKE_PTR(env);
        return 0;
}

typedef enum Kind {
        SAME,         /* same name, same meaning */
        DURATION,     /* same name; an integer is nanoseconds */
        RENAMED,
        DROPPED,
} Kind;

static const struct {
        const char *name;
        Kind kind;
        const char *to;   /* RENAMED: the new name */
        const char *why;  /* DROPPED/RENAMED: the note */
} table[] = {
        { "DAEMON_HOME", SAME, NULL, NULL },
        { "DAEMON_NAME", SAME, NULL, NULL },
        { "DAEMON_ALLOW_DOWNLOAD_BINARIES", SAME, NULL, NULL },
        { "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM", SAME, NULL, NULL },
        { "DAEMON_RESTART_AFTER_UPGRADE", SAME, NULL, NULL },
        { "DAEMON_RESTART_DELAY", DURATION, NULL, NULL },
        { "DAEMON_SHUTDOWN_GRACE", DURATION, NULL, NULL },
        { "DAEMON_POLL_INTERVAL", DURATION, NULL, NULL },
        { "UNSAFE_SKIP_BACKUP", SAME, NULL, NULL },
        { "DAEMON_DATA_BACKUP_DIR", SAME, NULL, NULL },
        { "DAEMON_PREUPGRADE_MAX_RETRIES", SAME, NULL, NULL },
        { "DAEMON_BACKUP_DIR", RENAMED, "DAEMON_DATA_BACKUP_DIR", "cosmovisor's early name" },
        { "COSMOVISOR_CUSTOM_PREUPGRADE", RENAMED, "ORAIVISOR_CUSTOM_PREUPGRADE",
          "the script was copied with the folder, to $DAEMON_HOME/oraivisor/" },
        { "COSMOVISOR_DISABLE_LOGS", DROPPED, NULL,
          "oraivisor's own lines go to stderr (the journal), never into the node's output; ORAIVISOR_LOG_LEVEL sets how much it says" },
        { "COSMOVISOR_COLOR_LOGS", DROPPED, NULL, "oraivisor does not colour its lines" },
        { "COSMOVISOR_TIMEFORMAT_LOGS", DROPPED, NULL, "the journal timestamps every line" },
        { "COSMOVISOR_DISABLE_RECASE", DROPPED, NULL,
          "oraivisor looks for the percent-encoded name, then the lower-cased folder cosmovisor made" },
        { "DAEMON_LOG_BUFFER_SIZE", DROPPED, NULL, "lines of any length are scanned" },
        { "DAEMON_GRPC_ADDRESS", DROPPED, NULL, "oraivisor does not query the node over gRPC" },
};

/* "300000000" (nanoseconds) → "300ms"; anything else unchanged. */
static char *duration_value(const char *v) {
        uint64_t ns;
        char *s = NULL;
        if (parse_uint64(v, &ns) < 0)
                return strdup(v);
        if (ns % 1000000 == 0)
                (void) asprintf(&s, "%" PRIu64 "ms", ns / 1000000);
        else
                (void) asprintf(&s, "%" PRIu64 "us", (ns + 999) / 1000);
        return s;
}

int cosmovisor_config_translate(char *const *cosmo_env, char ***ret_conf, char ***ret_notes) {
        _cleanup_(strv_freep) char **conf = NULL, **notes = NULL;
        int r;

        assert(ret_conf);
        assert(ret_notes);

        STRV_FOREACH(e, cosmo_env) {
                const char *eq = strchr(*e, '=');
                if (!eq || eq[1] == 0)
                        continue;
                _cleanup_free_ char *name = strndup(*e, eq - *e);
                if (!name)
                        return -ENOMEM;
                const char *value = eq + 1;
                size_t i = 0;
                for (; i < ELEMENTSOF(table); i++)
                        if (streq(table[i].name, name))
                                break;
                if (i == ELEMENTSOF(table)) {
                        if (!startswith(name, "DAEMON_") && !startswith(name, "COSMOVISOR_"))
                                continue;
                        char *n = NULL;
                        if (asprintf(&n, "%s: not a cosmovisor setting oraivisor knows; not carried over.", name) < 0 ||
                            strv_consume(&notes, n) < 0)
                                return -ENOMEM;
                        continue;
                }
                _cleanup_free_ char *v = NULL;
                const char *to = name;
                switch (table[i].kind) {
                case SAME:
                        v = strdup(value);
                        break;
                case DURATION:
                        v = duration_value(value);
                        break;
                case RENAMED: {
                        to = table[i].to;
                        v = strdup(value);
                        char *note = NULL;
                        if (asprintf(&note, "%s is %s in oraivisor (%s).", name, to, table[i].why) < 0 ||
                            strv_consume(&notes, note) < 0)
                                return -ENOMEM;
                        break;
                }
                case DROPPED: {
                        char *n = NULL;
                        if (asprintf(&n, "%s: not carried over: %s.", name, table[i].why) < 0 ||
                            strv_consume(&notes, n) < 0)
                                return -ENOMEM;
                        continue;
                }
                }
                if (!v)
                        return -ENOMEM;
                /* A renamed variable never overrides the new name given explicitly. */
                if (table[i].kind == RENAMED && strv_env_get(cosmo_env, to))
                        continue;
                r = strv_env_set(&conf, to, v);
                if (r < 0)
                        return r;
        }

        /* Defaults that differ. */
        if (!strv_env_get(conf, "DAEMON_SHUTDOWN_GRACE")) {
                char *n = strdup("DAEMON_SHUTDOWN_GRACE is not set: cosmovisor killed the node at once, oraivisor sends SIGTERM and waits 30s (set DAEMON_SHUTDOWN_GRACE to change it).");
                if (!n || strv_consume(&notes, n) < 0)
                        return -ENOMEM;
        }
        if (!strv_env_get(conf, "DAEMON_RESTART_AFTER_UPGRADE")) {
                char *n = strdup("DAEMON_RESTART_AFTER_UPGRADE is not set: true under systemd, as in cosmovisor; false when oraivisor runs outside systemd (it exits 0 after the upgrade).");
                if (!n || strv_consume(&notes, n) < 0)
                        return -ENOMEM;
        }
        if (!conf && !(conf = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_conf = TAKE_PTR(conf);
        *ret_notes = TAKE_PTR(notes);
        return 0;
}

char *env_file_line(const char *key, const char *value) {
        bool plain = !isempty(value);
        for (const char *c = value; plain && *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                      strchr("/._-:@+,=%", *c)))
                        plain = false;
        if (plain) {
                char *s = NULL;
                return asprintf(&s, "%s=%s", key, value) < 0 ? NULL : s;
        }
        /* Double quotes: \" \\ \` \$ are the escapes env_file_parse() (and systemd) read back. */
        size_t n = strlen(key) + 4;
        for (const char *c = value; *c; c++)
                n += strchr("\"\\`$", *c) ? 2 : 1;
        char *s = malloc(n), *o = s;
        if (!s)
                return NULL;
        o += sprintf(o, "%s=\"", key);
        for (const char *c = value; *c; c++) {
                if (strchr("\"\\`$", *c))
                        *o++ = '\\';
                *o++ = *c;
        }
        *o++ = '"';
        *o = 0;
        return s;
}
