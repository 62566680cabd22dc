/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>

#include "backup-name.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

#define SEC_PER_DAY 86400ULL
/* 9999-12-31T23:59:59Z, the last instant a four-digit year can name. */
#define BACKUP_TIME_MAX_SEC 253402300799ULL

static bool folder_char_ok(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '~' || c == '-';
}

/* Whether s[0..len) is made of folder_char_ok() bytes and "%XX" escapes (two hex digits, not "%00"): the
 * escaped form of a folder name or of the daemon part of a node. */
static bool escaped_is_valid(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        if (i + 2 >= len)
                                return false;
                        int a = unhexchar(s[i + 1]), b = unhexchar(s[i + 2]);
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return false;
                        i += 2;
                } else if (!folder_char_ok(s[i]))
                        return false;
        }
        return true;
}

/* A folder as upgrade_name_to_folder() (or cosmovisor's lower-casing of it) makes them: unreserved bytes
 * and %XX escapes of non-NUL bytes, not "." or "..". */
static bool folder_is_valid(const char *s, size_t len) {
        if (len == 0 || len > UPGRADE_FOLDER_NAME_MAX)
                return false;
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        return escaped_is_valid(s, len);
}

static bool is_leap(unsigned y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m) {
        static const unsigned d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (years >= 1970 here), counted in 400-year eras that
 * start on March 1st so that the leap day is the last day of its year. */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d) {
        uint64_t yy = y - (m <= 2);
        uint64_t era = yy / 400, yoe = yy - era * 400;
        uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(uint64_t z, unsigned *ret_y, unsigned *ret_m, unsigned *ret_d) {
        z += 719468;
        uint64_t era = z / 146097, doe = z - era * 146097;
        uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint64_t mp = (5 * doy + 2) / 153;
        unsigned d = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
        unsigned m = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
        *ret_y = (unsigned) (yoe + era * 400 + (m <= 2));
        *ret_m = m;
        *ret_d = d;
}

/* The escaped form of one byte, as upgrade folders have it: unreserved bytes as they are, others %XX. */
static size_t escape_byte(unsigned char c, char out[static 4]) {
        if (folder_char_ok((char) c)) {
                out[0] = (char) c;
                out[1] = 0;
                return 1;
        }
        out[0] = '%';
        out[1] = (char) hexchar(c >> 4);
        out[2] = (char) hexchar(c & 15);
        out[3] = 0;
        return 3;
}

/* FNV-1a, 32 bits: not for secrecy, only to tell a handful of homes apart in a readable tag. */
static uint32_t hash_home(const char *s) {
        uint32_t h = 2166136261U;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619U;
        }
        return h;
}

int backup_node_make(const char *daemon_name, const char *home, char **ret) {
        char buf[BACKUP_NODE_MAX + 1];
        size_t k = 0;

        assert(ret);
        if (isempty(daemon_name) || !home || home[0] != '/')
                return -EINVAL;
        for (const char *p = daemon_name; *p; p++) {
                char e[4];
                size_t l = escape_byte((unsigned char) *p, e);
                if (k + l > BACKUP_NODE_DAEMON_MAX)
                        break; /* cut, never inside an escape */
                memcpy(buf + k, e, l);
                k += l;
        }
        snprintf(buf + k, sizeof(buf) - k, "@%08x", (unsigned) hash_home(home));
        char *n = strdup(buf);
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 0;
}

static bool node_is_valid(const char *s, size_t len) {
        const char *at = memchr(s, '@', len);
        if (!at || len != (size_t) (at - s) + 1 + BACKUP_NODE_HASH_LEN)
                return false;
        size_t d = (size_t) (at - s);
        if (d == 0 || d > BACKUP_NODE_DAEMON_MAX)
                return false;
        if (!escaped_is_valid(s, d))
                return false;
        for (size_t i = 0; i < BACKUP_NODE_HASH_LEN; i++)
                if (!((at[1 + i] >= '0' && at[1 + i] <= '9') || (at[1 + i] >= 'a' && at[1 + i] <= 'f')))
                        return false;
        return true;
}

bool backup_node_is_valid(const char *node) {
        return node && node_is_valid(node, strlen(node));
}

int backup_name_make(const char *node, const char *folder, usec_t realtime, char **ret) {
        assert(ret);

        if (!backup_node_is_valid(node))
                return -EINVAL;
        if (!folder || !folder_is_valid(folder, strlen(folder)))
                return -EINVAL;
        uint64_t sec = realtime / USEC_PER_SEC;
        if (sec > BACKUP_TIME_MAX_SEC)
                return -ERANGE;
        if (STRLEN(BACKUP_NAME_PREFIX) + strlen(node) + 1 + strlen(folder) + BACKUP_NAME_STAMP_LEN >
                BACKUP_NAME_MAX)
                return -ENAMETOOLONG;

        unsigned y, mo, d;
        civil_from_days(sec / SEC_PER_DAY, &y, &mo, &d);
        uint64_t s = sec % SEC_PER_DAY;
        char *n = NULL;
        if (asprintf(&n, BACKUP_NAME_PREFIX "%s-%s-%04u%02u%02uT%02u%02u%02uZ", node, folder, y, mo, d,
                    (unsigned) (s / 3600), (unsigned) (s / 60 % 60), (unsigned) (s % 60)) < 0)
                return -ENOMEM;
        *ret = n;
        return 0;
}

static int parse_digits(const char *p, size_t n, unsigned *ret) {
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

/* "-yyyymmddThhmmssZ" → seconds since the epoch. */
static int parse_stamp(const char *p, uint64_t *ret) {
        unsigned y, mo, d, h, mi, s;
        if (p[0] != '-' || p[9] != 'T' || p[16] != 'Z' || p[17] != 0)
                return -EINVAL;
        if (parse_digits(p + 1, 4, &y) < 0 || parse_digits(p + 5, 2, &mo) < 0 ||
                parse_digits(p + 7, 2, &d) < 0 || parse_digits(p + 10, 2, &h) < 0 ||
                parse_digits(p + 12, 2, &mi) < 0 || parse_digits(p + 14, 2, &s) < 0)
                return -EINVAL;
        /* Our own names never predate the epoch (usec_t is unsigned) and never name a leap second. */
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
                s > 59)
                return -EINVAL;
        *ret = days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600ULL + mi * 60ULL + s;
        return 0;
}

int backup_name_parse_full(const char *name, char **ret_node, char **ret_folder, usec_t *ret_time) {
        if (!name)
                return -EINVAL;
        const char *f = startswith(name, BACKUP_NAME_PREFIX);
        if (!f)
                return -EINVAL;
        size_t len = strlen(name);
        if (len > BACKUP_NAME_MAX || len < STRLEN(BACKUP_NAME_PREFIX) + 1 + BACKUP_NAME_STAMP_LEN)
                return -EINVAL;
        const char *stamp = name + len - BACKUP_NAME_STAMP_LEN;
        uint64_t sec;
        if (parse_stamp(stamp, &sec) < 0)
                return -EINVAL;

        /* Tagged: "<daemon>@<hash>-<folder>". A folder never holds an '@' (it would be %40), so a name with
         * one is tagged or nothing. */
        const char *node = NULL;
        size_t node_len = 0;
        const char *at = memchr(f, '@', (size_t) (stamp - f));
        if (at) {
                const char *dash = at + 1 + BACKUP_NODE_HASH_LEN;
                if (dash >= stamp || *dash != '-' || !node_is_valid(f, (size_t) (dash - f)))
                        return -EINVAL;
                node = f;
                node_len = (size_t) (dash - f);
                f = dash + 1;
        }
        if (!folder_is_valid(f, (size_t) (stamp - f)))
                return -EINVAL;

        _cleanup_free_ char *n = NULL;
        if (ret_node && node) {
                n = strndup(node, node_len);
                if (!n)
                        return -ENOMEM;
        }
        if (ret_folder) {
                char *folder = strndup(f, (size_t) (stamp - f));
                if (!folder)
                        return -ENOMEM;
                *ret_folder = folder;
        }
        if (ret_node)
                *ret_node = TAKE_PTR(n);
        if (ret_time)
                *ret_time = sec * USEC_PER_SEC;
        return 0;
}

int backup_name_parse(const char *name, char **ret_folder, usec_t *ret_time) {
        return backup_name_parse_full(name, NULL, ret_folder, ret_time);
}

bool backup_name_is_ours(const char *name, const char *node, bool legacy_ours) {
        _cleanup_free_ char *n = NULL;
        if (backup_name_parse_full(name, &n, NULL, NULL) < 0)
                return false;
        return n ? node && streq(n, node) : legacy_ours;
}

bool backup_name_is_valid(const char *name) {
        return backup_name_parse(name, NULL, NULL) >= 0;
}

int backup_name_to_partial(const char *name, char **ret) {
        assert(ret);
        if (!backup_name_is_valid(name))
                return -EINVAL;
        char *p = NULL;
        if (asprintf(&p, BACKUP_PARTIAL_PREFIX "%s", name) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

const char *backup_name_from_partial(const char *partial) {
        const char *n = partial ? startswith(partial, BACKUP_PARTIAL_PREFIX) : NULL;
        return n && backup_name_is_valid(n) ? n : NULL;
}

typedef struct Candidate {
        uint64_t time;
        const char *name;
} Candidate;

static int candidate_cmp(const void *a, const void *b) {
        const Candidate *x = a, *y = b;
        if (x->time != y->time)
                return x->time < y->time ? -1 : 1;
        return strcmp(x->name, y->name);
}

int backup_prune_select(char *const *names, size_t n, const char *node, bool legacy_ours, const char *folder,
        unsigned keep, char ***ret) {
        assert(names || n == 0);
        assert(ret);

        _cleanup_free_ Candidate *c = new0(Candidate, n);
        if (!c)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = NULL, *o = NULL;
                usec_t t;
                int r = backup_name_parse_full(names[i], &o, &f, &t);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (o ? !node || !streq(o, node) : !legacy_ours)
                        continue;
                if (folder && !streq(f, folder))
                        continue;
                c[k++] = (Candidate){.time = t, .name = names[i]};
        }

        _cleanup_strv_free_ char **l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        if (keep > 0 && k > keep) {
                qsort(c, k, sizeof(Candidate), candidate_cmp);
                for (size_t i = 0; i < k - keep; i++) {
                        int r = strv_extend(&l, c[i].name);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

const char *backup_format_bytes(char *buf, size_t len, uint64_t bytes) {
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        if (bytes < 1024) {
                snprintf(buf, len, "%" PRIu64 " B", bytes);
                return buf;
        }
        unsigned u = 0;
        uint64_t div = 1024;
        while (u + 1 < ELEMENTSOF(units) && bytes / div >= 1024) {
                div *= 1024;
                u++;
        }
        /* One decimal, rounded half up, computed in integers so that huge values stay exact. */
        uint64_t whole = bytes / div, tenths = ((bytes % div) * 10 + div / 2) / div;
        if (tenths == 10) {
                whole++;
                tenths = 0;
        }
        snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths, units[u]);
        return buf;
}
