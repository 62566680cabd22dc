/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "string-util.h"
#include "url.h"

static const char *const url_scheme_table[_URL_SCHEME_MAX] = {
        [URL_SCHEME_HTTP] = "http",
        [URL_SCHEME_HTTPS] = "https",
        [URL_SCHEME_FILE] = "file",
};

const char *url_scheme_to_string(UrlScheme s) {
        if (s < 0 || s >= _URL_SCHEME_MAX)
                return NULL;
        return url_scheme_table[s];
}

/* Length of the scheme ("https" → 5) when s starts with "<scheme>://", else 0. */
static size_t scheme_length(const char *s) {
        if (!s || !isalpha((unsigned char) s[0]))
                return 0;
        size_t i = 1;
        while (isalnum((unsigned char) s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
                i++;
        return strneq(s + i, "://", 3) ? i : 0;
}

bool url_looks_like_url(const char *s) {
        return scheme_length(s) > 0;
}

int url_check(const char *s, bool allow_file, UrlScheme *ret, const char **ret_reason) {
        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;

        size_t n = scheme_length(s);
        if (n == 0) {
                *ret_reason = "not a URL ('<scheme>://…')";
                return -EINVAL;
        }
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f) {
                        *ret_reason = "the URL contains spaces or control characters";
                        return -EINVAL;
                }

        UrlScheme scheme = _URL_SCHEME_INVALID;
        for (UrlScheme i = 0; i < _URL_SCHEME_MAX; i++)
                if (strlen(url_scheme_table[i]) == n && strncasecmp(s, url_scheme_table[i], n) == 0)
                        scheme = i;
        if (scheme < 0) {
                *ret_reason = "only http:// and https:// URLs are fetched";
                return -EPROTONOSUPPORT;
        }

        const char *rest = s + n + 3;
        if (scheme == URL_SCHEME_FILE) {
                if (!allow_file) {
                        *ret_reason = "file:// URLs are refused unless ORAIVISOR_ALLOW_FILE_URLS=true";
                        return -EPROTONOSUPPORT;
                }
                if (strncasecmp(rest, "localhost/", 10) == 0)
                        rest += 9;
                if (rest[0] != '/' || rest[1] == 0) {
                        *ret_reason = "a file:// URL must name an absolute path (file:///path)";
                        return -EINVAL;
                }
        } else {
                size_t host = strcspn(rest, "/?#");
                const char *at = memchr(rest, '@', host);
                /* Two '@' make the host ambiguous: URL parsers disagree on which one ends the user
                 * part (a check and a fetch that split differently would check one host and fetch
                 * another), so such a URL is refused; an '@' in a user or password is written %40. */
                if (at && memchr(at + 1, '@', host - (at + 1 - rest))) {
                        *ret_reason = "the URL's host part holds more than one '@': write an '@' in the user or password as %40";
                        return -EINVAL;
                }
                size_t userinfo = at ? (size_t) (at - rest) + 1 : 0;
                if (host <= userinfo || rest[userinfo] == ':') {
                        *ret_reason = "the URL names no host";
                        return -EINVAL;
                }
        }
        if (ret)
                *ret = scheme;
        return 0;
}

int url_percent_decode(const char *s, size_t len, bool plus_is_space, char **ret) {
        assert(s || len == 0);
        assert(ret);

        _cleanup_free_ char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        if (len - i < 3)
                                return -EINVAL;
                        int a = unhexchar(s[i + 1]), b = unhexchar(s[i + 2]);
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return -EINVAL;
                        out[o++] = (char) (a << 4 | b);
                        i += 2;
                } else if (s[i] == '+' && plus_is_space)
                        out[o++] = ' ';
                else
                        out[o++] = s[i];
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int url_split_checksum(const char *url, char **ret_url, char **ret_checksum, const char **ret_reason) {
        assert(ret_url);

        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        assert(url);

        size_t end = strcspn(url, "#");
        const char *q = memchr(url, '?', end);
        size_t base_len = q ? (size_t) (q - url) : end;

        _cleanup_free_ char *base = strndup_or_null(url, base_len), *query = NULL, *value = NULL;
        if (!base)
                return -ENOMEM;

        if (q) {
                const char *p = q + 1, *qend = url + end;
                while (p <= qend) {
                        const char *amp = memchr(p, '&', qend - p);
                        const char *pend = amp ?: qend;
                        size_t plen = pend - p;
                        const char *eq = memchr(p, '=', plen);
                        size_t klen = eq ? (size_t) (eq - p) : plen;

                        if (klen == STRLEN("checksum") && strneq(p, "checksum", klen)) {
                                if (value) {
                                        *ret_reason = "the URL has more than one checksum= parameter";
                                        return -EINVAL;
                                }
                                const char *v = eq ? eq + 1 : pend;
                                int r = url_percent_decode(v, pend - v, true, &value);
                                if (r == -ENOMEM)
                                        return r;
                                if (r < 0) {
                                        *ret_reason =
                                                "the checksum= parameter is not properly percent-encoded";
                                        return r;
                                }
                        } else if (plen > 0) {
                                if (strextendf(&query, "%s%.*s", query ? "&" : "", (int) plen, p) < 0)
                                        return -ENOMEM;
                        }
                        if (!amp)
                                break;
                        p = amp + 1;
                }
        }

        char *u = NULL;
        if (asprintf(&u, "%s%s%s", base, query ? "?" : "", strempty(query)) < 0)
                return -ENOMEM;
        *ret_url = u;
        bool found = value;
        if (ret_checksum)
                *ret_checksum = TAKE_PTR(value);
        return found ? 1 : 0;
}

/* Query parameters whose values are credentials in the URLs people publish binaries at: presigned S3
 * and GCS URLs (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, X-Goog-Signature), Azure SAS
 * (sig), tokens and API keys. Matched case-insensitively anywhere in the name. */
static bool query_name_is_secret(const char *name, size_t len) {
        static const char *const words[] = { "token", "secret", "sig", "pass", "credential", "key", "auth",
                "session" };
        for (size_t w = 0; w < ELEMENTSOF(words); w++) {
                size_t n = strlen(words[w]);
                for (size_t i = 0; i + n <= len; i++)
                        if (strncasecmp(name + i, words[w], n) == 0)
                                return true;
        }
        return false;
}

/* Appends the '&'-separated name=value pairs of [p, end) to *r, the values of secret names as "***". */
static int redact_pairs(char **r, const char *p, const char *end) {
        while (p < end) {
                const char *amp = memchr(p, '&', (size_t) (end - p));
                size_t len = amp ? (size_t) (amp - p) : (size_t) (end - p);
                const char *eq = memchr(p, '=', len);
                size_t name_len = eq ? (size_t) (eq - p) : len;
                int k;
                if (eq && query_name_is_secret(p, name_len))
                        k = strextendf(r, "%.*s=***", (int) name_len, p);
                else
                        k = strextendf(r, "%.*s", (int) len, p);
                if (k < 0)
                        return k;
                p += len;
                if (p < end) { /* at the '&' */
                        if (strextendf(r, "&") < 0)
                                return -ENOMEM;
                        p++;
                }
        }
        return 0;
}

char *url_redact(const char *url) {
        size_t n = scheme_length(url);
        if (n == 0)
                return strdup(strempty(url));
        const char *auth = url + n + 3;
        size_t host = strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *p = auth; p < auth + host; p++)
                if (*p == '@')
                        at = p;

        _cleanup_free_ char *r = NULL;
        if (at) {
                if (asprintf(&r, "%.*s***", (int) (auth - url), url) < 0)
                        return NULL;
        }
        const char *rest = at ?: url;
        /* The query and the fragment (OAuth's implicit flow puts access_token= there): secret values
         * become "***", the names stay (they say what was hidden). */
        const char *q = rest + strcspn(rest, "?#");
        if (strextendf(&r, "%.*s", (int) (q - rest), rest) < 0)
                return NULL;
        if (*q == '?') {
                const char *fragment = q + 1 + strcspn(q + 1, "#");
                if (strextendf(&r, "?") < 0 || redact_pairs(&r, q + 1, fragment) < 0)
                        return NULL;
                q = fragment;
        }
        if (*q == '#') {
                if (strextendf(&r, "#") < 0 || redact_pairs(&r, q + 1, q + 1 + strlen(q + 1)) < 0)
                        return NULL;
                q += strlen(q);
        }
        if (strextendf(&r, "%s", q) < 0)
                return NULL;
        return TAKE_PTR(r);
}

int url_file_name(const char *url, char **ret) {
        assert(ret);

        size_t n = scheme_length(url);
        const char *path = url;
        if (n > 0) {
                path = url + n + 3;
                path += strcspn(path, "/?#");
        }
        size_t plen = strcspn(path, "?#");
        if (plen == 0 || path[plen - 1] == '/')
                return -EINVAL;
        const char *last = path;
        for (const char *p = path; p < path + plen; p++)
                if (*p == '/')
                        last = p + 1;
        _cleanup_free_ char *name = NULL;
        int r = url_percent_decode(last, path + plen - last, false, &name);
        if (r < 0)
                return r;
        if (isempty(name) || strchr(name, '/'))
                return -EINVAL;
        *ret = TAKE_PTR(name);
        return 0;
}
