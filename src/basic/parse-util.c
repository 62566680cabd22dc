/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <strings.h>

#include "parse-util.h"

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "true", "yes", "on", "y", "t" };
        static const char *const no[] = { "0", "false", "no", "off", "n", "f" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* Parses digits at *p, advancing it. -EINVAL if there are none. */
static int parse_digits(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++) {
                unsigned d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret) {
        uint64_t v;
        const char *p = s;
        int r = parse_digits(&p, &v);
        if (r < 0)
                return r;
        if (*p)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_int64(const char *s, int64_t *ret) {
        bool neg = s[0] == '-';
        uint64_t v;
        int r = parse_uint64(s + neg, &v);
        if (r < 0)
                return r;
        if (v > (uint64_t) INT64_MAX + neg)
                return -ERANGE;
        *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
        return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
        uint64_t v;
        int r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

/* Multiplies a number with an optional decimal fraction "i.frac" by unit, with overflow checks. */
static int scale(uint64_t i, const char *frac, size_t frac_len, uint64_t unit, uint64_t *ret) {
        if (unit && i > UINT64_MAX / unit)
                return -ERANGE;
        uint64_t v = i * unit, f = 0, div = 1;
        for (size_t k = 0; k < frac_len && div < 1000000000ULL; k++) {
                f = f * 10 + (uint64_t) (frac[k] - '0');
                div *= 10;
        }
        uint64_t add = f * (unit / div) + (f * (unit % div)) / div;
        if (v > UINT64_MAX - add)
                return -ERANGE;
        *ret = v + add;
        return 0;
}

typedef struct Unit {
        const char *suffix;
        uint64_t factor;
} Unit;

/* Parses a sum of <number>[.<fraction>]<unit> terms, units looked up in table (longest first); a term
 * without a unit uses default_unit, allowed only when the string has a single term. */
static int parse_with_units(const char *s, const Unit *table, size_t n, uint64_t default_unit, uint64_t *ret) {
        uint64_t total = 0;
        const char *p = s;
        bool first = true;

        if (!*s)
                return -EINVAL;
        while (*p) {
                uint64_t i, v;
                while (*p == ' ')
                        p++;
                int r = parse_digits(&p, &i);
                if (r < 0)
                        return r;
                const char *frac = NULL;
                size_t frac_len = 0;
                if (*p == '.') {
                        frac = ++p;
                        while (isdigit((unsigned char) *p))
                                p++;
                        frac_len = (size_t) (p - frac);
                        if (frac_len == 0)
                                return -EINVAL;
                }
                while (*p == ' ')
                        p++;
                uint64_t unit = 0;
                for (size_t k = 0; k < n; k++) {
                        size_t l = strlen(table[k].suffix);
                        if (strncmp(p, table[k].suffix, l) == 0 && !isalpha((unsigned char) p[l])) {
                                unit = table[k].factor;
                                p += l;
                                break;
                        }
                }
                if (unit == 0) {
                        if (isalpha((unsigned char) *p))
                                return -EINVAL; /* an unknown unit */
                        if (!first || *p)
                                return -EINVAL; /* bare numbers only alone */
                        unit = default_unit;
                }
                r = scale(i, frac, frac_len, unit, &v);
                if (r < 0)
                        return r;
                if (total > UINT64_MAX - v)
                        return -ERANGE;
                total += v;
                first = false;
                while (*p == ' ')
                        p++;
        }
        *ret = total;
        return 0;
}

int parse_duration(const char *s, usec_t *ret) {
        static const Unit units[] = {
                { "usec", 1 },
                { "msec", USEC_PER_MSEC },
                { "seconds", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "minutes", USEC_PER_MINUTE },
                { "minute", USEC_PER_MINUTE },
                { "min", USEC_PER_MINUTE },
                { "hours", USEC_PER_HOUR },
                { "hour", USEC_PER_HOUR },
                { "ms", USEC_PER_MSEC },
                { "us", 1 },
                { "s", USEC_PER_SEC },
                { "m", USEC_PER_MINUTE },
                { "h", USEC_PER_HOUR },
        };
        uint64_t v;
        int r = parse_with_units(s, units, ELEMENTSOF(units), USEC_PER_SEC, &v);
        if (r < 0)
                return r;
        if (v == USEC_INFINITY)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const Unit units[] = {
                { "KiB", 1ULL << 10 },
                { "MiB", 1ULL << 20 },
                { "GiB", 1ULL << 30 },
                { "TiB", 1ULL << 40 },
                { "KB", 1ULL << 10 },
                { "MB", 1ULL << 20 },
                { "GB", 1ULL << 30 },
                { "TB", 1ULL << 40 },
                { "K", 1ULL << 10 },
                { "M", 1ULL << 20 },
                { "G", 1ULL << 30 },
                { "T", 1ULL << 40 },
                { "B", 1 },
        };
        return parse_with_units(s, units, ELEMENTSOF(units), 1, ret);
}
