/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "plan.h"
#include "string-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

static const char *const plan_source_table[_PLAN_SOURCE_MAX] = {
        [PLAN_SOURCE_LOG] = "log line",
        [PLAN_SOURCE_FILE] = "upgrade-info.json",
        [PLAN_SOURCE_STARTUP] = "upgrade-info.json at start-up",
        [PLAN_SOURCE_RECORD] = "interrupted upgrade",
};

const char *plan_source_to_string(PlanSource s) {
        if (s < 0 || s >= _PLAN_SOURCE_MAX)
                return NULL;
        return plan_source_table[s];
}

UpgradePlan *upgrade_plan_free(UpgradePlan *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->time);
        free(p->info);
        return mfree(p);
}

int upgrade_plan_new(const char *name, int64_t height, const char *time, const char *info, UpgradePlan **ret) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = new0(UpgradePlan, 1);
        if (!p)
                return -ENOMEM;
        p->name = strdup(name);
        p->time = time ? strdup(time) : NULL;
        p->info = strdup(info ?: "");
        if (!p->name || (time && !p->time) || !p->info)
                return -ENOMEM;
        p->height = height;
        *ret = TAKE_PTR(p);
        return 0;
}

int upgrade_plan_dup(const UpgradePlan *p, UpgradePlan **ret) {
        return upgrade_plan_new(p->name, p->height, p->time, p->info, ret);
}

bool upgrade_plan_same(const UpgradePlan *a, const UpgradePlan *b) {
        if (!a || !b)
                return false;
        return streq(a->name, b->name) && a->height == b->height && streq_ptr(a->time, b->time);
}

char *upgrade_plan_describe(const UpgradePlan *p) {
        char *s = NULL;
        int r = p->time ? asprintf(&s, "'%s' at time %s", p->name, p->time)
                        : asprintf(&s, "'%s' at height %" PRIi64, p->name, p->height);
        return r < 0 ? NULL : s;
}

/* Copies a line without ANSI escape sequences (CSI "ESC [ … final", OSC "ESC ] … BEL|ESC \", and
 * two-byte "ESC x") and without carriage returns. */
static char *strip_ansi(const char *s, size_t n, size_t *ret_len) {
        char *r = malloc(n + 1), *w = r;
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\r')
                        continue;
                if (c != 0x1b) {
                        *w++ = (char) c;
                        continue;
                }
                if (i + 1 >= n)
                        break;
                unsigned char k = (unsigned char) s[i + 1];
                if (k == '[') {
                        i += 2;
                        while (i < n && ((unsigned char) s[i] < 0x40 || (unsigned char) s[i] > 0x7e))
                                i++;
                } else if (k == ']') {
                        i += 2;
                        while (i < n && s[i] != '\a' && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
                                i++;
                        if (i < n && s[i] == 0x1b)
                                i++;
                } else
                        i++;
        }
        *w = 0;
        *ret_len = (size_t) (w - r);
        return r;
}

/* Decodes a Go/JSON/logfmt quoted string body starting at s (just after where an opening quote would be)
 * up to the first unescaped '"' or the end. Unknown escapes are kept literally. */
static char *unescape_quoted(const char *s, size_t n, size_t *ret_len) {
        char *r = malloc(n * 4 + 1), *w = r;
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '"')
                        break;
                if (c != '\\' || i + 1 >= n) {
                        *w++ = c;
                        continue;
                }
                char e = s[++i];
                switch (e) {
                case '"': case '\\': case '/': *w++ = e; break;
                case 'n': *w++ = '\n'; break;
                case 't': *w++ = '\t'; break;
                case 'r': *w++ = '\r'; break;
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'u':
                        if (i + 4 < n && isxdigit((unsigned char) s[i + 1]) && isxdigit((unsigned char) s[i + 2]) &&
                                isxdigit((unsigned char) s[i + 3]) && isxdigit((unsigned char) s[i + 4])) {
                                unsigned cp = 0;
                                for (int k = 1; k <= 4; k++)
                                        cp = cp << 4 | (unsigned) unhexchar(s[i + k]);
                                i += 4;
                                /* UTF-8 encode the BMP code point (surrogates are passed as they are). */
                                if (cp < 0x80)
                                        *w++ = (char) cp;
                                else if (cp < 0x800) {
                                        *w++ = (char) (0xc0 | cp >> 6);
                                        *w++ = (char) (0x80 | (cp & 0x3f));
                                } else {
                                        *w++ = (char) (0xe0 | cp >> 12);
                                        *w++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                                        *w++ = (char) (0x80 | (cp & 0x3f));
                                }
                        } else {
                                *w++ = '\\';
                                *w++ = 'u';
                        }
                        break;
                default:
                        *w++ = '\\';
                        *w++ = e;
                }
        }
        *w = 0;
        *ret_len = (size_t) (w - r);
        return r;
}

/* Length of a JSON object starting at s[0] == '{', or 0 if it does not close within n bytes. */
static size_t json_object_span(const char *s, size_t n) {
        size_t depth = 0;
        bool in_string = false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '{' || c == '[')
                        depth++;
                else if (c == '}' || c == ']') {
                        if (depth == 0)
                                return 0;
                        if (--depth == 0)
                                return i + 1;
                }
        }
        return 0;
}

static bool is_logfmt_key_char(char c, bool first) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
                return true;
        return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/');
}

/* If s[0..n) ends with " key=value" (value unquoted without spaces, or a "quoted" string), returns the
 * length without that pair and its leading spaces; else n. */
static size_t strip_one_logfmt_pair(const char *s, size_t n) {
        size_t end = n, i;
        if (end == 0)
                return n;
        if (s[end - 1] == '"') {
                /* A quoted value: walk back to its unescaped opening quote. */
                if (end < 2)
                        return n;
                i = end - 2;
                for (;;) {
                        if (s[i] == '"') {
                                size_t bs = 0;
                                while (i >= bs + 1 && s[i - bs - 1] == '\\')
                                        bs++;
                                if (bs % 2 == 0)
                                        break;
                        }
                        if (i == 0)
                                return n;
                        i--;
                }
                if (i == 0 || s[i - 1] != '=')
                        return n;
                i--; /* at '=' */
        } else {
                i = end;
                while (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t' && s[i - 1] != '=')
                        i--;
                if (i == 0 || s[i - 1] != '=')
                        return n;
                i--; /* at '=' */
                /* The value must not contain '=' itself being a key: fine either way. */
        }
        /* s[i] == '='; the key runs back to a space. */
        size_t key_end = i;
        while (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t')
                i--;
        if (i == key_end || i == 0)
                return n; /* no key, or no space before the key: not a trailing pair */
        for (size_t k = i; k < key_end; k++)
                if (!is_logfmt_key_char(s[k], k == i))
                        return n;
        while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
                i--;
        return i;
}

/* Extracts the info from what follows "<height>: ": a JSON object as a whole; else the text with any
 * trailing logfmt pairs (" module=x/upgrade") and whitespace removed. */
static char *extract_info(const char *s, size_t n) {
        if (n > 0 && s[0] == ' ')
                s++, n--;
        if (n > 0 && s[0] == '{') {
                size_t span = json_object_span(s, n);
                if (span > 0)
                        return strndup(s, span);
        }
        for (;;) {
                size_t m = strip_one_logfmt_pair(s, n);
                if (m == n)
                        break;
                n = m;
        }
        n = trim_trailing_whitespace_len(s, n);
        size_t start = 0;
        while (start < n && (s[start] == ' ' || s[start] == '\t'))
                start++;
        return strndup(s + start, n - start);
}

#define NEEDED_MARK "\" NEEDED at "
#define RAW_MARK "UPGRADE \""
#define ESC_MARK "UPGRADE \\\""

/* Parses the raw (unescaped) text starting right after 'UPGRADE "'. */
static int parse_after_marker(const char *s, size_t n, UpgradePlan **ret) {
        const char *q = memmem(s, n, NEEDED_MARK, STRLEN(NEEDED_MARK));
        if (!q || q == s)
                return 0; /* no closing quote, or an empty name */
        _cleanup_free_ char *name = strndup(s, (size_t) (q - s));
        if (!name)
                return -ENOMEM;
        if (strlen(name) != (size_t) (q - s))
                return 0; /* a NUL in the name */

        const char *p = q + STRLEN(NEEDED_MARK), *end = s + n;
        int64_t height = 0;
        _cleanup_free_ char *time = NULL;

        if ((size_t) (end - p) > 8 && memcmp(p, "height: ", 8) == 0) {
                p += 8;
                if (p >= end || !isdigit((unsigned char) *p))
                        return 0;
                uint64_t h = 0;
                for (; p < end && isdigit((unsigned char) *p); p++) {
                        if (h > (uint64_t) INT64_MAX / 10)
                                return 0;
                        h = h * 10 + (uint64_t) (*p - '0');
                }
                if (h == 0 || h > (uint64_t) INT64_MAX)
                        return 0;
                /* The SDK always prints ": <info>" after the height. Requiring the colon also means a line
                 * cut inside the number is never taken for a lower height. */
                if (p >= end || *p != ':')
                        return 0;
                p++;
                height = (int64_t) h;
        } else if ((size_t) (end - p) > 6 && memcmp(p, "time: ", 6) == 0) {
                p += 6;
                const char *t = p;
                while (p < end && *p != ' ' && *p != '\t')
                        p++;
                if (p - t < 2 || p[-1] != ':')
                        return 0;
                time = strndup(t, (size_t) (p - t - 1));
                if (!time)
                        return -ENOMEM;
        } else
                return 0;

        _cleanup_free_ char *info = extract_info(p, (size_t) (end - p));
        if (!info)
                return -ENOMEM;
        return upgrade_plan_new(name, height, time, info, ret) < 0 ? -ENOMEM : 1;
}

/* Looks for the announcement in text that is not JSON-structured (plain, or after taking the message
 * out of a JSON line). Handles both the raw form and the escaped form that logfmt or JSON quoting
 * produces ('UPGRADE \"v2\" NEEDED …'). */
static int parse_text(const char *s, size_t n, UpgradePlan **ret) {
        const char *p = s, *end = s + n;
        int r;

        while (p < end) {
                const char *u = memmem(p, (size_t) (end - p), "UPGRADE ", 8);
                if (!u)
                        return 0;
                size_t left = (size_t) (end - u);
                if (left >= STRLEN(RAW_MARK) && memcmp(u, RAW_MARK, STRLEN(RAW_MARK)) == 0) {
                        r = parse_after_marker(u + STRLEN(RAW_MARK), left - STRLEN(RAW_MARK), ret);
                        if (r != 0)
                                return r;
                } else if (left >= STRLEN(ESC_MARK) && memcmp(u, ESC_MARK, STRLEN(ESC_MARK)) == 0) {
                        size_t ul;
                        _cleanup_free_ char *un = unescape_quoted(u, left, &ul);
                        if (!un)
                                return -ENOMEM;
                        /* The unescaped text stops at the end of the quoted string. */
                        if (ul > STRLEN(RAW_MARK) && memcmp(un, RAW_MARK, STRLEN(RAW_MARK)) == 0) {
                                r = parse_after_marker(un + STRLEN(RAW_MARK), ul - STRLEN(RAW_MARK), ret);
                                if (r != 0)
                                        return r;
                        }
                }
                p = u + 8;
        }
        return 0;
}

static int parse_json_line(const char *s, size_t n, UpgradePlan **ret) {
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_object *obj = json_tokener_parse_ex(tok, s, (int) MIN(n, (size_t) INT32_MAX));
        if (!obj)
                return 0;
        int r = 0;
        if (json_object_is_type(obj, json_type_object)) {
                static const char *const keys[] = { "message", "msg", "_msg", "M" };
                for (size_t i = 0; i < ELEMENTSOF(keys) && r == 0; i++) {
                        json_object *m;
                        if (!json_object_object_get_ex(obj, keys[i], &m) || !json_object_is_type(m, json_type_string))
                                continue;
                        r = parse_text(json_object_get_string(m), (size_t) json_object_get_string_len(m), ret);
                }
        }
        json_object_put(obj);
        return r;
}

int plan_parse_log_line(const char *line, size_t len, UpgradePlan **ret) {
        /* The cheap reject that keeps scanning fast: nearly no line says UPGRADE. */
        if (!memmem(line, len, "UPGRADE", 7) || !memmem(line, len, "NEEDED", 6))
                return 0;

        size_t n;
        _cleanup_free_ char *clean = strip_ansi(line, len, &n);
        if (!clean)
                return -ENOMEM;

        size_t skip = 0;
        while (skip < n && (clean[skip] == ' ' || clean[skip] == '\t'))
                skip++;
        if (skip < n && clean[skip] == '{') {
                int r = parse_json_line(clean + skip, n - skip, ret);
                if (r != 0)
                        return r;
                /* Not valid JSON (a line cut by the logger) or the text sits in another field: the escaped
                 * form is found by the plain scan below. */
        }
        return parse_text(clean, n, ret);
}

int plan_parse_json(const char *data, size_t len, UpgradePlan **ret, const char **ret_reason) {
        const char *reason = NULL;
        int r = -EBADMSG;

        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_object *obj = json_tokener_parse_ex(tok, data, (int) MIN(len, (size_t) INT32_MAX));
        if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
                reason = len == 0 ? "the file is empty" : "the file is not valid JSON";
                goto finish;
        }
        if (!json_object_is_type(obj, json_type_object)) {
                reason = "the file is not a JSON object";
                goto finish;
        }

        json_object *jname = NULL, *jheight = NULL, *jinfo = NULL, *jtime = NULL;
        if (!json_object_object_get_ex(obj, "name", &jname) || !json_object_is_type(jname, json_type_string) ||
                json_object_get_string_len(jname) == 0) {
                reason = "\"name\" is missing, empty or not a string";
                goto finish;
        }
        if (strlen(json_object_get_string(jname)) != (size_t) json_object_get_string_len(jname)) {
                reason = "\"name\" contains a NUL character";
                goto finish;
        }

        int64_t height = 0;
        if (json_object_object_get_ex(obj, "height", &jheight) && !json_object_is_type(jheight, json_type_null)) {
                if (json_object_is_type(jheight, json_type_int)) {
                        errno = 0;
                        height = json_object_get_int64(jheight);
                        if (errno != 0)
                                height = -1;
                } else if (json_object_is_type(jheight, json_type_string)) {
                        const char *hs = json_object_get_string(jheight);
                        char *e = NULL;
                        errno = 0;
                        long long v = strtoll(hs, &e, 10);
                        height = (errno || !e || *e || e == hs || !isdigit((unsigned char) hs[0])) ? -1 : v;
                } else
                        height = -1;
                if (height < 0) {
                        reason = "\"height\" is not a non-negative integer";
                        goto finish;
                }
        }

        const char *time = NULL;
        if (json_object_object_get_ex(obj, "time", &jtime) && json_object_is_type(jtime, json_type_string)) {
                time = json_object_get_string(jtime);
                /* The SDK writes the zero time for plans by height. */
                if (isempty(time) || startswith(time, "0001-01-01T00:00:00"))
                        time = NULL;
        }
        if (height == 0 && !time) {
                reason = "\"height\" is missing or zero and there is no \"time\"";
                goto finish;
        }
        if (height > 0)
                time = NULL;

        const char *info = "";
        if (json_object_object_get_ex(obj, "info", &jinfo) && !json_object_is_type(jinfo, json_type_null)) {
                if (!json_object_is_type(jinfo, json_type_string)) {
                        reason = "\"info\" is not a string";
                        goto finish;
                }
                info = json_object_get_string(jinfo);
        }

        r = upgrade_plan_new(json_object_get_string(jname), height, time, info, ret);

finish:
        if (obj)
                json_object_put(obj);
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

int plan_to_json(const UpgradePlan *p, char **ret) {
        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        int r = 0;
        if (json_object_object_add(o, "name", json_object_new_string(p->name)) < 0 ||
                json_object_object_add(o, "height", json_object_new_int64(p->height)) < 0 ||
                (p->time && json_object_object_add(o, "time", json_object_new_string(p->time)) < 0) ||
                json_object_object_add(o, "info", json_object_new_string(p->info)) < 0)
                r = -ENOMEM;
        if (r == 0) {
                const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                *ret = s ? strdup(s) : NULL;
                if (!*ret)
                        r = -ENOMEM;
        }
        json_object_put(o);
        return r;
}
