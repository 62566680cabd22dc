/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>

#include "metrics-format.h"
#include "string-util.h"

static const char *const result_table[_METRICS_RESULT_MAX] = {
        [METRICS_RESULT_SUCCESS] = "success",
        [METRICS_RESULT_FAILURE] = "failure",
};

const char *metrics_result_to_string(MetricsResult r) {
        if (r < 0 || r >= _METRICS_RESULT_MAX)
                return NULL;
        return result_table[r];
}

MetricsResult metrics_result_from_string(const char *s) {
        for (MetricsResult r = 0; r < _METRICS_RESULT_MAX; r++)
                if (s && streq(s, result_table[r]))
                        return r;
        return _METRICS_RESULT_INVALID;
}

#define M_INFO "oraivisor_info"
#define M_UP "oraivisor_daemon_up"
#define M_STARTS "oraivisor_daemon_starts_total"
#define M_UPGRADES "oraivisor_upgrades_total"
#define M_IN_PROGRESS "oraivisor_upgrade_in_progress"
#define M_LAST_UPGRADE "oraivisor_last_upgrade_timestamp_seconds"
#define M_LAST_UPGRADE_DURATION "oraivisor_last_upgrade_duration_seconds"
#define M_LAST_BACKUP_BYTES "oraivisor_last_backup_bytes"
#define M_LAST_BACKUP_DURATION "oraivisor_last_backup_duration_seconds"
#define M_CHAIN_HEIGHT "oraivisor_chain_height"
#define M_SCHEDULED_HEIGHT "oraivisor_scheduled_upgrade_height"
#define M_SCHEDULED_READY "oraivisor_scheduled_upgrade_binary_ready"

/* ---- formatting --------------------------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (1-4), or 0 when the byte at s does not start one. Refuses
 * overlong forms, surrogates and code points above U+10FFFF, as Go's utf8.ValidString does. */
static size_t utf8_sequence_len(const unsigned char *s) {
        unsigned char c = s[0];
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
                return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
                return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
        }
        return 0;
}

int metrics_label_sanitize(const char *s, char **ret) {
        s = strempty(s);
        /* At most 3 bytes (U+FFFD) for each byte. */
        char *buf = new(char, strlen(s) * 3 + 1), *t = buf;
        if (!buf)
                return -ENOMEM;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t n = utf8_sequence_len(p);
                if (n == 0) {
                        t = mempcpy(t, "\xef\xbf\xbd", 3);
                        p++;
                        continue;
                }
                t = mempcpy(t, p, n);
                p += n;
        }
        *t = 0;
        *ret = buf;
        return 0;
}

/* Appends ,key="value" (without the comma when first), value sanitized and escaped. */
static int append_label(char **buf, const char *key, const char *value, bool first) {
        _cleanup_free_ char *clean = NULL;
        if (metrics_label_sanitize(value, &clean) < 0)
                return -ENOMEM;
        /* Escaping at most doubles it. */
        _cleanup_free_ char *esc = new(char, strlen(clean) * 2 + 1);
        if (!esc)
                return -ENOMEM;
        char *t = esc;
        for (const char *p = clean; *p; p++) {
                if (*p == '\\' || *p == '"') {
                        *t++ = '\\';
                        *t++ = *p;
                } else if (*p == '\n') {
                        *t++ = '\\';
                        *t++ = 'n';
                } else
                        *t++ = *p;
        }
        *t = 0;
        return strextendf(buf, "%s%s=\"%s\"", first ? "" : ",", key, esc);
}

static int append_family(char **buf, const char *metric, const char *type, const char *help) {
        return strextendf(buf, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* metric{name="…"[,extra_key="extra_value"]} value, with value already formatted. */
static int append_sample(char **buf, const Metrics *m, const char *metric, const char *extra_key,
        const char *extra_value, const char *value) {
        if (strextendf(buf, "%s{", metric) < 0 || append_label(buf, "name", m->name, true) < 0)
                return -ENOMEM;
        if (extra_key && append_label(buf, extra_key, extra_value, false) < 0)
                return -ENOMEM;
        return strextendf(buf, "} %s\n", value);
}

/* Seconds with up to 6 decimals and no trailing zeros: exact, locale-free, and read back exactly. */
static void format_seconds(char *s, size_t n, usec_t u) {
        int l = snprintf(s, n, "%" PRIu64 ".%06" PRIu64, u / USEC_PER_SEC, u % USEC_PER_SEC);
        assert(l > 0 && (size_t) l < n);
        char *e = s + l - 1;
        while (*e == '0')
                *e-- = 0;
        if (*e == '.')
                *e = 0;
}

#define NUM_MAX 32

static int append_uint(char **buf, const Metrics *m, const char *metric, const char *key, const char *value,
        uint64_t v) {
        char s[NUM_MAX];
        (void) snprintf(s, sizeof(s), "%" PRIu64, v);
        return append_sample(buf, m, metric, key, value, s);
}

static int append_seconds(char **buf, const Metrics *m, const char *metric, usec_t u) {
        char s[NUM_MAX];
        format_seconds(s, sizeof(s), u);
        return append_sample(buf, m, metric, NULL, NULL, s);
}

static int format_all(const Metrics *m, char **buf) {
        const MetricsHistory *h = &m->history;

        if (append_family(buf, M_INFO, "gauge",
                    "The node this file describes and the version it runs (the value is always 1).") < 0 ||
            strextendf(buf, M_INFO "{") < 0 || append_label(buf, "name", m->name, true) < 0 ||
            append_label(buf, "daemon", m->daemon, false) < 0 || append_label(buf, "home", m->home, false) < 0 ||
            append_label(buf, "current", m->current, false) < 0 ||
            append_label(buf, "version", m->version, false) < 0 || strextendf(buf, "} 1\n") < 0)
                return -ENOMEM;

        if (append_family(buf, M_UP, "gauge", "Whether the node's daemon is running (1) or not (0).") < 0 ||
            append_uint(buf, m, M_UP, NULL, NULL, m->daemon_up) < 0)
                return -ENOMEM;

        if (append_family(buf, M_STARTS, "counter",
                    "Times oraivisor started the node's daemon (adopting a running one is not a start).") < 0 ||
            append_uint(buf, m, M_STARTS, NULL, NULL, h->daemon_starts) < 0)
                return -ENOMEM;

        if (append_family(buf, M_UPGRADES, "counter", "Upgrades that ended, by result.") < 0)
                return -ENOMEM;
        for (MetricsResult r = 0; r < _METRICS_RESULT_MAX; r++)
                if (append_uint(buf, m, M_UPGRADES, "result", metrics_result_to_string(r), h->upgrades[r]) < 0)
                        return -ENOMEM;

        if (append_family(buf, M_IN_PROGRESS, "gauge",
                    "1 for the step the upgrade under way is at; 0 for every step when no upgrade runs.") < 0)
                return -ENOMEM;
        for (UpgradeStep s = 0; s < _UPGRADE_STEP_MAX; s++)
                if (append_uint(buf, m, M_IN_PROGRESS, "step", upgrade_step_to_string(s), m->upgrade_step == s) < 0)
                        return -ENOMEM;

        if (h->last_upgrade_usec > 0) {
                if (append_family(buf, M_LAST_UPGRADE, "gauge",
                            "When the last successful upgrade switched to its new version (Unix time).") < 0 ||
                    append_seconds(buf, m, M_LAST_UPGRADE, h->last_upgrade_usec) < 0 ||
                    append_family(buf, M_LAST_UPGRADE_DURATION, "gauge",
                            "How long the last successful upgrade took, from its start to the switch, restarts included.") < 0 ||
                    append_seconds(buf, m, M_LAST_UPGRADE_DURATION, h->last_upgrade_duration) < 0)
                        return -ENOMEM;
        }
        if (h->have_backup) {
                if (append_family(buf, M_LAST_BACKUP_BYTES, "gauge",
                            "Bytes of files in the last backup of the data folder (0 for a btrfs snapshot).") < 0 ||
                    append_uint(buf, m, M_LAST_BACKUP_BYTES, NULL, NULL, h->last_backup_bytes) < 0 ||
                    append_family(buf, M_LAST_BACKUP_DURATION, "gauge",
                            "How long the last backup of the data folder took.") < 0 ||
                    append_seconds(buf, m, M_LAST_BACKUP_DURATION, h->last_backup_duration) < 0)
                        return -ENOMEM;
        }
        if (m->chain_height > 0 &&
            (append_family(buf, M_CHAIN_HEIGHT, "gauge", "The chain's height, as last read from the node's RPC.") < 0 ||
             append_uint(buf, m, M_CHAIN_HEIGHT, NULL, NULL, (uint64_t) m->chain_height) < 0))
                return -ENOMEM;
        if (m->n_scheduled > 0) {
                for (int pass = 0; pass < 2; pass++) {
                        const char *metric = pass == 0 ? M_SCHEDULED_HEIGHT : M_SCHEDULED_READY;
                        if (append_family(buf, metric, "gauge",
                                    pass == 0 ? "The height an upgrade is scheduled at (on chain, or by the operator)."
                                              : "Whether the binary of a scheduled upgrade is installed and passes the readiness check (1) or not (0).") < 0)
                                return -ENOMEM;
                        for (size_t i = 0; i < m->n_scheduled; i++) {
                                const MetricsScheduled *u = &m->scheduled[i];
                                bool dup = false;
                                for (size_t j = 0; j < i && !dup; j++)
                                        dup = streq_ptr(m->scheduled[j].upgrade, u->upgrade);
                                if (dup)
                                        continue; /* two samples with the same labels fail the collector */
                                char v[NUM_MAX];
                                (void) snprintf(v, sizeof(v), "%" PRIu64,
                                        pass == 0 ? (uint64_t) MAX(u->height, 0) : (uint64_t) u->binary_ready);
                                if (strextendf(buf, "%s{", metric) < 0 || append_label(buf, "name", m->name, true) < 0 ||
                                    append_label(buf, "upgrade", u->upgrade, false) < 0 ||
                                    append_label(buf, "source", u->source, false) < 0 ||
                                    strextendf(buf, "} %s\n", v) < 0)
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

int metrics_format(const Metrics *m, char **ret) {
        assert(m);
        assert(ret);
        _cleanup_free_ char *buf = strdup("");
        if (!buf || format_all(m, &buf) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ---- parsing ------------------------------------------------------------------------------------------ */

typedef struct Cursor {
        const char *p, *end;
} Cursor;

static void skip_blanks(Cursor *c) {
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
                c->p++;
}

static bool is_name_char(char ch, bool first) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
                (!first && ch >= '0' && ch <= '9');
}

/* A metric or label name; returns its length (0: none there). */
static size_t take_name(Cursor *c) {
        const char *s = c->p;
        while (c->p < c->end && is_name_char(*c->p, c->p == s))
                c->p++;
        return (size_t) (c->p - s);
}

/* "…" with \\, \" and \n: the unescaped value, or -EBADMSG. */
static int take_quoted(Cursor *c, char **ret, const char **reason) {
        if (c->p >= c->end || *c->p != '"')
                return *reason = "a label value does not start with '\"'", -EBADMSG;
        c->p++;
        _cleanup_free_ char *v = new(char, (size_t) (c->end - c->p) + 1);
        if (!v)
                return -ENOMEM;
        char *t = v;
        for (;;) {
                if (c->p >= c->end || *c->p == '\n')
                        return *reason = "a label value is not closed", -EBADMSG;
                char ch = *c->p++;
                if (ch == '"')
                        break;
                if (ch == 0)
                        return *reason = "a label value holds a NUL byte", -EBADMSG;
                if (ch == '\\') {
                        if (c->p >= c->end)
                                return *reason = "a label value is not closed", -EBADMSG;
                        ch = *c->p++;
                        if (ch == 'n')
                                ch = '\n';
                        else if (ch != '\\' && ch != '"')
                                return *reason = "a label value holds an unknown escape", -EBADMSG;
                }
                *t++ = ch;
        }
        *t = 0;
        *ret = TAKE_PTR(v);
        return 0;
}

/* Digits, optionally '.' and up to 9 more (truncated to microseconds); anything else (signs, exponents,
 * NaN, Inf) is not something we wrote. scale: USEC_PER_SEC for seconds, 1 for plain integers. */
static int parse_value(const char *s, size_t n, uint64_t scale, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        size_t i = 0;
        if (n == 0)
                return -EBADMSG;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                uint64_t d = (uint64_t) (s[i] - '0');
                if (whole > (UINT64_MAX - d) / 10)
                        return -EBADMSG;
                whole = whole * 10 + d;
        }
        if (i == 0)
                return -EBADMSG;
        if (i < n) {
                if (scale == 1 || s[i] != '.' || n - i - 1 > 9)
                        return -EBADMSG;
                uint64_t div = USEC_PER_SEC;
                for (i++; i < n; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                return -EBADMSG;
                        div /= 10;
                        frac += (uint64_t) (s[i] - '0') * div;
                }
        }
        if (whole > (UINT64_MAX - frac) / scale)
                return -EBADMSG;
        *ret = whole * scale + (scale == 1 ? 0 : frac);
        return 0;
}

typedef enum Known {
        KNOWN_NONE,
        KNOWN_INFO,
        KNOWN_STARTS,
        KNOWN_UPGRADES,
        KNOWN_LAST_UPGRADE,
        KNOWN_LAST_UPGRADE_DURATION,
        KNOWN_LAST_BACKUP_BYTES,
        KNOWN_LAST_BACKUP_DURATION,
} Known;

static Known known_from_name(const char *s, size_t n) {
        static const struct {
                const char *name;
                Known k;
        } table[] = {
                { M_INFO, KNOWN_INFO },
                { M_STARTS, KNOWN_STARTS },
                { M_UPGRADES, KNOWN_UPGRADES },
                { M_LAST_UPGRADE, KNOWN_LAST_UPGRADE },
                { M_LAST_UPGRADE_DURATION, KNOWN_LAST_UPGRADE_DURATION },
                { M_LAST_BACKUP_BYTES, KNOWN_LAST_BACKUP_BYTES },
                { M_LAST_BACKUP_DURATION, KNOWN_LAST_BACKUP_DURATION },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strlen(table[i].name) == n && memcmp(table[i].name, s, n) == 0)
                        return table[i].k;
        return KNOWN_NONE;
}

typedef struct ParseState {
        MetricsHistory h;
        char *home;
        bool have_last_upgrade, have_last_upgrade_duration, have_backup_bytes, have_backup_duration;
} ParseState;

static int parse_sample(Cursor *c, ParseState *st, const char **reason) {
        const char *name = c->p;
        size_t name_len = take_name(c);
        if (name_len == 0)
                return *reason = "a line does not start with a metric name", -EBADMSG;
        Known k = known_from_name(name, name_len);
        if (k == KNOWN_NONE) {
                /* Not ours: skip the line whatever it holds. */
                while (c->p < c->end && *c->p != '\n')
                        c->p++;
                return 0;
        }

        _cleanup_free_ char *home = NULL, *result = NULL;
        skip_blanks(c);
        if (c->p < c->end && *c->p == '{') {
                c->p++;
                for (;;) {
                        skip_blanks(c);
                        if (c->p < c->end && *c->p == '}') {
                                c->p++;
                                break;
                        }
                        const char *key = c->p;
                        size_t key_len = take_name(c);
                        if (key_len == 0)
                                return *reason = "a label has no name", -EBADMSG;
                        skip_blanks(c);
                        if (c->p >= c->end || *c->p != '=')
                                return *reason = "a label name is not followed by '='", -EBADMSG;
                        c->p++;
                        skip_blanks(c);
                        _cleanup_free_ char *value = NULL;
                        int r = take_quoted(c, &value, reason);
                        if (r < 0)
                                return r;
                        if (key_len == 4 && memcmp(key, "home", 4) == 0)
                                free_and_replace(home, value);
                        else if (key_len == 6 && memcmp(key, "result", 6) == 0)
                                free_and_replace(result, value);
                        skip_blanks(c);
                        if (c->p < c->end && *c->p == ',')
                                c->p++;
                        else if (c->p >= c->end || *c->p != '}')
                                return *reason = "labels are not separated by ','", -EBADMSG;
                }
        }
        skip_blanks(c);
        const char *value = c->p;
        while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\n')
                c->p++;
        size_t value_len = (size_t) (c->p - value);
        skip_blanks(c);
        if (c->p < c->end && *c->p != '\n')
                /* A time stamp, which node-exporter refuses in text files, and we never write. */
                return *reason = "a sample has more than a value", -EBADMSG;

        bool seconds = k == KNOWN_LAST_UPGRADE || k == KNOWN_LAST_UPGRADE_DURATION || k == KNOWN_LAST_BACKUP_DURATION;
        uint64_t v;
        if (parse_value(value, value_len, seconds ? USEC_PER_SEC : 1, &v) < 0)
                return *reason = seconds ? "a value is not a number of seconds" : "a value is not a whole number",
                       -EBADMSG;

        switch (k) {
        case KNOWN_INFO:
                free_and_replace(st->home, home);
                break;
        case KNOWN_STARTS:
                st->h.daemon_starts = v;
                break;
        case KNOWN_UPGRADES: {
                MetricsResult r = metrics_result_from_string(result);
                if (r >= 0) /* an unknown result may be a newer version's: not ours to carry over */
                        st->h.upgrades[r] = v;
                break;
        }
        case KNOWN_LAST_UPGRADE:
                st->h.last_upgrade_usec = v;
                st->have_last_upgrade = true;
                break;
        case KNOWN_LAST_UPGRADE_DURATION:
                st->h.last_upgrade_duration = v;
                st->have_last_upgrade_duration = true;
                break;
        case KNOWN_LAST_BACKUP_BYTES:
                st->h.last_backup_bytes = v;
                st->have_backup_bytes = true;
                break;
        case KNOWN_LAST_BACKUP_DURATION:
                st->h.last_backup_duration = v;
                st->have_backup_duration = true;
                break;
        default:
                break;
        }
        return 0;
}

int metrics_parse(const char *text, size_t len, MetricsHistory *ret, char **ret_home, const char **ret_reason) {
        assert(text || len == 0);
        assert(ret);
        assert(ret_home);

        const char *reason = NULL;
        ParseState st = {};
        Cursor c = { .p = text, .end = text + len };
        int r = 0;

        while (c.p < c.end) {
                skip_blanks(&c);
                if (c.p < c.end && *c.p == '#') {
                        while (c.p < c.end && *c.p != '\n')
                                c.p++;
                } else if (c.p < c.end && *c.p != '\n') {
                        r = parse_sample(&c, &st, &reason);
                        if (r < 0)
                                break;
                }
                if (c.p < c.end) /* at '\n' */
                        c.p++;
        }
        /* A timestamp without its duration (or the reverse) is half of what we write: keep neither. */
        if (r >= 0 && st.have_last_upgrade != st.have_last_upgrade_duration) {
                reason = "the last upgrade's time stamp and duration do not come together";
                r = -EBADMSG;
        }
        if (r >= 0 && st.have_backup_bytes != st.have_backup_duration) {
                reason = "the last backup's size and duration do not come together";
                r = -EBADMSG;
        }
        if (r >= 0 && st.have_last_upgrade && st.h.last_upgrade_usec == 0) {
                reason = "the last upgrade's time stamp is 0";
                r = -EBADMSG;
        }
        if (r < 0) {
                free(st.home);
                if (ret_reason)
                        *ret_reason = reason;
                return r;
        }
        st.h.have_backup = st.have_backup_bytes;
        *ret = st.h;
        *ret_home = st.home;
        return 0;
}
