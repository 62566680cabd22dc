/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <strings.h>

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
        assert(ret);

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
        assert(p);

        return upgrade_plan_new(p->name, p->height, p->time, p->info, ret);
}

bool upgrade_plan_same(const UpgradePlan *a, const UpgradePlan *b) {
        if (!a || !b)
                return false;
        return streq(a->name, b->name) && a->height == b->height && streq_ptr(a->time, b->time);
}

char *upgrade_plan_describe(const UpgradePlan *p) {
        assert(p);

        char *s = NULL;
        int r = p->time ? asprintf(&s, "'%s' at time %s", p->name, p->time)
                        : asprintf(&s, "'%s' at height %" PRIi64, p->name, p->height);
        return r < 0 ? NULL : s;
}

/* Copies a line without ANSI escape sequences (CSI "ESC [ … final", OSC "ESC ] … BEL|ESC \", and
 * two-byte "ESC x") and without carriage returns. */
char *log_line_strip_ansi(const char *s, size_t n, size_t *ret_len) {
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

/* Appends the UTF-8 form of code point cp. */
static char *utf8_put(char *w, uint32_t cp) {
        if (cp < 0x80)
                *w++ = (char) cp;
        else if (cp < 0x800) {
                *w++ = (char) (0xc0 | cp >> 6);
                *w++ = (char) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *w++ = (char) (0xe0 | cp >> 12);
                *w++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char) (0x80 | (cp & 0x3f));
        } else {
                *w++ = (char) (0xf0 | cp >> 18);
                *w++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                *w++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char) (0x80 | (cp & 0x3f));
        }
        return w;
}

/* Reads k hex digits at s (n bytes available); -1 if they are not there. */
static int64_t read_hex(const char *s, size_t n, size_t k) {
        if (n < k)
                return -1;
        int64_t v = 0;
        for (size_t i = 0; i < k; i++) {
                int d = unhexchar(s[i]);
                if (d < 0)
                        return -1;
                v = v << 4 | d;
        }
        return v;
}

/* The length of a quoted string body starting at s (just after where its opening quote would be): up to
 * its first unescaped '"', or n when the string is not closed (a line cut short). */
static size_t quoted_span(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i;
        }
        return n;
}

/* Decodes the body of a JSON, Go (%q, strconv.Quote) or logfmt quoted string: s[0..n) holds no unescaped
 * quote. \uXXXX surrogate pairs are joined, and a lone surrogate becomes U+FFFD, as json-c decodes them,
 * so that a name read from a log line compares equal to the same name read from upgrade-info.json.
 * Unknown escapes are kept literally. The result is never longer than the input. */
static char *unescape_quoted(const char *s, size_t n, size_t *ret_len) {
        char *r = malloc(n + 1), *w = r;
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c != '\\' || i + 1 >= n) {
                        *w++ = c;
                        continue;
                }
                char e = s[++i];
                int64_t cp;
                switch (e) {
                case '"': case '\\': case '/': case '\'': *w++ = e; break;
                case 'n': *w++ = '\n'; break;
                case 't': *w++ = '\t'; break;
                case 'r': *w++ = '\r'; break;
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'v': *w++ = '\v'; break;
                case 'a': *w++ = '\a'; break;
                case 'x': /* Go: \xHH is one byte */
                        cp = read_hex(s + i + 1, n - i - 1, 2);
                        if (cp < 0)
                                goto literal;
                        *w++ = (char) cp;
                        i += 2;
                        break;
                case 'U': /* Go: \UHHHHHHHH */
                        cp = read_hex(s + i + 1, n - i - 1, 8);
                        if (cp < 0 || cp > 0x10ffff)
                                goto literal;
                        w = utf8_put(w, (uint32_t) cp);
                        i += 8;
                        break;
                case 'u':
                        cp = read_hex(s + i + 1, n - i - 1, 4);
                        if (cp < 0)
                                goto literal;
                        i += 4;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                /* A high surrogate: joined with the low one that must follow. */
                                int64_t lo = i + 2 < n && s[i + 1] == '\\' && s[i + 2] == 'u' ?
                                        read_hex(s + i + 3, n - i - 3, 4) : -1;
                                if (lo >= 0xdc00 && lo <= 0xdfff) {
                                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                        i += 6;
                                } else
                                        cp = 0xfffd;
                        } else if (cp >= 0xdc00 && cp <= 0xdfff)
                                cp = 0xfffd;
                        w = utf8_put(w, (uint32_t) cp);
                        break;
                default:
                literal:
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
        /* The SDK writes ": <info>"; more whitespace means an empty info followed by the logger's fields. */
        if (n > 0 && s[0] == ' ')
                s++, n--;
        size_t lead = 0;
        while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
                lead++;
        if (lead < n && s[lead] == '{') {
                size_t span = json_object_span(s + lead, n - lead);
                if (span > 0)
                        return strndup(s + lead, span);
        }
        for (;;) {
                size_t m = strip_one_logfmt_pair(s, trim_trailing_whitespace_len(s, n));
                if (m == trim_trailing_whitespace_len(s, n))
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

/* The zero time.Time the SDK writes for plans by height ("0001-01-01T00:00:00Z"): no time at all. */
static bool time_is_zero(const char *t) {
        return strncasecmp(t, "0001-01-01T00:00:00", 19) == 0;
}

/* The length of the Go time.RFC3339 timestamp the SDK prints for a plan's time at s,
 * 2006-01-02T15:04:05[.frac](Z|±07:00), or 0. Read by its grammar, not up to a delimiter, so that a line
 * cut anywhere never turns a longer token into a valid time. */
static size_t rfc3339_len(const char *s, size_t n) {
        static const char shape[] = "dddd-dd-ddTdd:dd:dd";
        size_t i = 0;
        for (; shape[i]; i++) {
                if (i >= n)
                        return 0;
                if (shape[i] == 'd' ? !isdigit((unsigned char) s[i]) :
                    shape[i] == 'T' ? (s[i] != 'T' && s[i] != 't') : s[i] != shape[i])
                        return 0;
        }
        if (i < n && s[i] == '.') {
                size_t f = ++i;
                while (i < n && isdigit((unsigned char) s[i]))
                        i++;
                if (i == f)
                        return 0;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z'))
                return i + 1;
        if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && isdigit((unsigned char) s[i + 1]) &&
            isdigit((unsigned char) s[i + 2]) && s[i + 3] == ':' && isdigit((unsigned char) s[i + 4]) &&
            isdigit((unsigned char) s[i + 5]))
                return i + 6;
        return 0;
}

/* Parses one announcement: the name is [name, q), q points at '" NEEDED at ', the text ends at end. */
static int parse_announcement(const char *name, const char *q, const char *end, UpgradePlan **ret) {
        if (q == name)
                return 0; /* an empty name */
        if (memchr(name, 0, (size_t) (q - name)))
                return 0; /* a NUL in the name */

        const char *p = q + STRLEN(NEEDED_MARK);
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
                size_t l = rfc3339_len(p, (size_t) (end - p));
                if (l == 0 || p + l >= end || p[l] != ':')
                        return 0;
                time = strndup(p, l);
                if (!time)
                        return -ENOMEM;
                if (time_is_zero(time))
                        return 0;
                p += l + 1;
        } else
                return 0;

        _cleanup_free_ char *n = strndup(name, (size_t) (q - name));
        _cleanup_free_ char *info = extract_info(p, (size_t) (end - p));
        if (!n || !info)
                return -ENOMEM;
        return upgrade_plan_new(n, height, time, info, ret) < 0 ? -ENOMEM : 1;
}

/* The first needle in [p, end), or NULL. Not memmem(): the sanitizers check memmem()'s whole haystack on
 * every call, which makes a scan that calls it once per marker quadratic under ASan; memchr() is
 * checked only up to what it consumed. The needles here are short and fixed. */
static const char *find(const char *p, const char *end, const char *needle, size_t len) {
        while ((size_t) (end - p) >= len) {
                const char *c = memchr(p, needle[0], (size_t) (end - p) - len + 1);
                if (!c)
                        return NULL;
                if (memcmp(c + 1, needle + 1, len - 1) == 0)
                        return c;
                p = c + 1;
        }
        return NULL;
}

/* The next 'UPGRADE "' (raw) or 'UPGRADE \…' (possibly escaped) at or after p. */
static const char *next_marker(const char *p, const char *end) {
        while (p < end) {
                const char *u = find(p, end, "UPGRADE ", 8);
                if (!u || u + 8 >= end)
                        return NULL;
                if (u[8] == '"' || u[8] == '\\')
                        return u;
                p = u + 1;
        }
        return NULL;
}

/* Finds the first announcement in text, in order of position, in its raw form ('UPGRADE "v2" NEEDED …',
 * printed by the plain loggers) and in the escaped form that logfmt or JSON quoting produces
 * ('err="UPGRADE \"v2\" NEEDED …"', '"message":"UPGRADE \"v2\" NEEDED …"'). Each quoted string that holds
 * an escaped marker is decoded once and searched again, up to depth levels of quoting (an error that
 * wraps a quoted error). A raw name runs to the first '" NEEDED at ' after it and never holds another
 * marker: 'UPGRADE "v1" SKIPPED … UPGRADE "v2" NEEDED at height: 9: ' is v2's announcement. Linear in n,
 * whatever the text; the first announcement wins, so a cut line never yields a different plan than the
 * whole line (only a shorter info, or none). */
static int parse_text(const char *s, size_t n, unsigned depth, UpgradePlan **ret) {
        const char *end = s + n, *q = NULL;
        bool no_needed = false;
        int r;

        for (const char *m = next_marker(s, end); m;) {
                if (m[8] == '"') {
                        const char *name = m + STRLEN(RAW_MARK);
                        const char *next = next_marker(m + 1, end);
                        if (!no_needed && (!q || q < name)) {
                                q = find(name, end, NEEDED_MARK, STRLEN(NEEDED_MARK));
                                no_needed = !q;
                        }
                        /* Pair this marker with q unless a later marker starts its name at or before q. */
                        if (q && (!next || next + STRLEN(RAW_MARK) > q)) {
                                r = parse_announcement(name, q, end, ret);
                                if (r != 0)
                                        return r;
                        }
                        m = next;
                        continue;
                }

                /* 'UPGRADE ', backslashes, then a quote: an odd number of them is an escaped quote. */
                const char *b = m + 8;
                while (b < end && *b == '\\')
                        b++;
                if (depth == 0 || b >= end || *b != '"' || (size_t) (b - m - 8) % 2 == 0) {
                        m = next_marker(m + 1, end);
                        continue;
                }
                /* The quoted string runs to its closing quote, or to the end of a line that was cut. */
                size_t span = quoted_span(m, (size_t) (end - m)), ul;
                _cleanup_free_ char *un = unescape_quoted(m, span, &ul);
                if (!un)
                        return -ENOMEM;
                r = parse_text(un, ul, depth - 1, ret);
                if (r != 0)
                        return r;
                m = next_marker(m + MAX(span, (size_t) 1), end);
        }
        return 0;
}

/* Levels of quoting looked through: a JSON string, a logfmt value inside it, one more wrapped error. */
#define PARSE_TEXT_DEPTH 3

int plan_parse_log_line(const char *line, size_t len, UpgradePlan **ret) {
        /* The cheap reject that keeps scanning fast: nearly no line says UPGRADE. */
        if (!memmem(line, len, "UPGRADE", 7) || !memmem(line, len, "NEEDED", 6))
                return 0;

        size_t n;
        _cleanup_free_ char *clean = log_line_strip_ansi(line, len, &n);
        if (!clean)
                return -ENOMEM;
        /* JSON log lines need no JSON parser here: their message is a quoted string like any other. */
        return parse_text(clean, n, PARSE_TEXT_DEPTH, ret);
}

/* Why a height is refused, for the reason string. */
#define HEIGHT_RANGE "\"height\" is not a whole number from 0 to 9223372036854775807"

int plan_parse_json(const char *data, size_t len, UpgradePlan **ret, const char **ret_reason) {
        const char *reason = NULL;
        json_object *obj = NULL;
        int r = -EBADMSG;

        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        if (trim_trailing_whitespace_len(data, len) == 0) {
                reason = len == 0 ? "the file is empty" : "the file holds only whitespace";
                goto finish;
        }
        obj = json_tokener_parse_ex(tok, data, (int) MIN(len, (size_t) INT32_MAX));
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        if (!obj && jerr == json_tokener_continue) {
                /* A top-level value json-c cannot close without seeing the end ("null", "5"), or a
                 * file cut short: a final NUL tells it the input is over. */
                end = len;
                obj = json_tokener_parse_ex(tok, "", 1);
                jerr = json_tokener_get_error(tok);
                if (jerr == json_tokener_error_parse_eof) {
                        reason = "the file ends in the middle of the JSON (it may still be being written)";
                        goto finish;
                }
        }
        if (jerr != json_tokener_success) {
                reason = "the file is not valid JSON";
                goto finish;
        }
        /* Only whitespace may follow the value. */
        if (end < len && trim_trailing_whitespace_len(data + end, len - end) > 0) {
                reason = "the file has data after the JSON object";
                goto finish;
        }
        if (!obj || !json_object_is_type(obj, json_type_object)) {
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
                        /* json-c keeps integers beyond int64 as uint64 (clamped to UINT64_MAX) and
                         * json_object_get_int64() clamps those to INT64_MAX: look at the uint64 view to
                         * tell a real maximum from an overflow. */
                        height = json_object_get_int64(jheight);
                        if (height == INT64_MAX && json_object_get_uint64(jheight) != (uint64_t) INT64_MAX)
                                height = -1;
                } else if (json_object_is_type(jheight, json_type_string)) {
                        /* The SDK's JSON encoding of int64 (jsonpb) is a decimal string. */
                        const char *hs = json_object_get_string(jheight);
                        char *e = NULL;
                        errno = 0;
                        long long v = strtoll(hs, &e, 10);
                        height = (errno || !e || *e || e == hs || !isdigit((unsigned char) hs[0])) ? -1 : v;
                } else
                        height = -1;
                if (height < 0) {
                        reason = HEIGHT_RANGE;
                        goto finish;
                }
        }

        const char *time = NULL;
        if (json_object_object_get_ex(obj, "time", &jtime) && json_object_is_type(jtime, json_type_string)) {
                time = json_object_get_string(jtime);
                /* The SDK writes the zero time for plans by height. */
                if (isempty(time) || time_is_zero(time))
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
        assert(p);
        assert(ret);

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
