/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "string-util.h"

char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        if (strncmp(s, prefix, l) != 0)
                return NULL;
        return (char *) s + l;
}

char *endswith(const char *s, const char *suffix) {
        size_t sl = strlen(s), pl = strlen(suffix);
        if (pl > sl)
                return NULL;
        if (memcmp(s + sl - pl, suffix, pl) != 0)
                return NULL;
        return (char *) s + sl - pl;
}

const char *memmem_str(const char *haystack, size_t len, const char *needle) {
        return memmem(haystack, len, needle, strlen(needle));
}

char *ascii_strlower(char *s) {
        for (char *p = s; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        return s;
}

bool ascii_is_valid(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p >= 127 || *p < ' ')
                        return false;
        return true;
}

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

size_t trim_trailing_whitespace_len(const char *buf, size_t len) {
        while (len > 0 && is_ws(buf[len - 1]))
                len--;
        return len;
}

char *strip_trailing_whitespace(char *s) {
        s[trim_trailing_whitespace_len(s, strlen(s))] = 0;
        return s;
}

int strextendf(char **s, const char *format, ...) {
        va_list ap;
        _cleanup_free_ char *add = NULL;

        va_start(ap, format);
        int n = vasprintf(&add, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;

        size_t old = *s ? strlen(*s) : 0;
        char *m = realloc(*s, old + (size_t) n + 1);
        if (!m)
                return -ENOMEM;
        memcpy(m + old, add, (size_t) n + 1);
        *s = m;
        return 0;
}

char *strndup_or_null(const char *s, size_t n) {
        if (!s)
                return NULL;
        return strndup(s, n);
}

size_t string_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = new(size_t, lb + 1);
        if (!row)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cur = row[j];
                        size_t cost = tolower((unsigned char) a[i - 1]) == tolower((unsigned char) b[j - 1]) ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        prev = cur;
                }
        }
        return row[lb];
}

char *string_escape_for_log(const char *s, size_t len, size_t max) {
        size_t shown = MIN(len, max);
        char *r = malloc(shown * 4 + 4);
        if (!r)
                return NULL;
        char *p = r;
        for (size_t i = 0; i < shown; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c < ' ' || c == 127 || c == '\\') {
                        if (c == '\\') {
                                *p++ = '\\';
                                *p++ = '\\';
                        } else {
                                *p++ = '\\';
                                *p++ = 'x';
                                *p++ = (char) hexchar(c >> 4);
                                *p++ = (char) hexchar(c & 15);
                        }
                } else
                        *p++ = (char) c;
        }
        if (shown < len) {
                memcpy(p, "...", 3);
                p += 3;
        }
        *p = 0;
        return r;
}

int hexchar(int x) {
        static const char table[] = "0123456789abcdef";
        return table[x & 15];
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

char *hexmem(const void *p, size_t l) {
        const uint8_t *x = p;
        char *r = malloc(l * 2 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < l; i++) {
                r[i * 2] = (char) hexchar(x[i] >> 4);
                r[i * 2 + 1] = (char) hexchar(x[i] & 15);
        }
        r[l * 2] = 0;
        return r;
}

int unhexmem(const char *s, size_t l, void **ret, size_t *ret_len) {
        if (l % 2 != 0)
                return -EINVAL;
        _cleanup_free_ uint8_t *r = malloc(l / 2 + 1);
        if (!r)
                return -ENOMEM;
        for (size_t i = 0; i < l; i += 2) {
                int a = unhexchar(s[i]), b = unhexchar(s[i + 1]);
                if (a < 0 || b < 0)
                        return -EINVAL;
                r[i / 2] = (uint8_t) (a << 4 | b);
        }
        if (ret_len)
                *ret_len = l / 2;
        *ret = TAKE_PTR(r);
        return 0;
}

const char *path_startswith_dir(const char *path, const char *dir) {
        if (!path || !dir || path[0] != '/' || dir[0] != '/')
                return NULL;
        for (;;) {
                path += strspn(path, "/");
                dir += strspn(dir, "/");
                if (*dir == 0)
                        break;
                size_t a = strcspn(path, "/"), b = strcspn(dir, "/");
                if (a != b || memcmp(path, dir, a) != 0)
                        return NULL;
                path += a;
                dir += b;
        }
        for (const char *p = path; *p; ) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return NULL;
                p += n;
                p += strspn(p, "/");
        }
        return path;
}

char *strdup_escape_dollar(const char *s) {
        size_t n = 0;

        assert(s);
        for (const char *p = s; *p; p++)
                n += *p == '$' ? 2 : 1;
        char *r = malloc(n + 1);
        if (!r)
                return NULL;
        char *q = r;
        for (const char *p = s; *p; p++) {
                *q++ = *p;
                if (*p == '$')
                        *q++ = '$';
        }
        *q = 0;
        return r;
}
