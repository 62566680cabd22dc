/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the URL functions with two kinds of input:
 * - the input as a URL: url_check() answers with a known code and a reason; url_redact() never fails,
 *   is idempotent and keeps a URL without '@' or query as it is; url_split_checksum() leaves no checksum=
 *   and no fragment, and splitting its result again finds nothing; url_file_name() is one segment;
 * - (input starting with '!') a URL built from the input with credentials where real URLs carry them
 *   (user:password@, X-Amz-Signature=, token=, sig=, …): its redacted form never contains them. */

#include <ctype.h>

#include "fuzz-util.h"
#include "url.h"

#define SECRET "S3CR3Tq7"

/* The next piece of the input, up to a '\n' (or the end), with the bytes in stop replaced by 'x'. */
static char *next_piece(const char **p, const char *end, const char *stop) {
        const char *nl = memchr(*p, '\n', end - *p);
        size_t n = (nl ?: end) - *p;
        char *s = strndup(*p, n);
        CHECK(s);
        for (char *c = s; *c; c++)
                if (strchr(stop, *c))
                        *c = 'x';
        *p += n + (nl ? 1 : 0);
        return s;
}

static const char *const secret_params[] = {
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "X-Goog-Credential",
        "sig",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "password",
        "auth",
        "session",
        "client_secret",
        "Signature",
        "passwd",
        "private_token",
        "sessionid",
};

static void fuzz_credentials(const char *in, size_t len) {
        /* Only URLs that name the secret where it belongs: the input may spell it elsewhere. */
        if (strstr(in, SECRET))
                return;
        const char *p = in, *end = in + len;
        /* Pieces: scheme, user, host and path, then pairs (parameter selector + value) until the end. */
        _cleanup_free_ char *scheme = next_piece(&p, end, ":/?#@ "), *user = next_piece(&p, end, ":/?#@"),
                            *host = next_piece(&p, end, "?#@"), *url = NULL;
        /* A scheme of any name (url_redact() leaves what is not "<scheme>://…" as it is). */
        bool scheme_ok = isalpha((unsigned char) scheme[0]);
        for (char *c = scheme; *c; c++)
                scheme_ok = scheme_ok && (isalnum((unsigned char) *c) || strchr("+-.", *c));
        CHECK(asprintf(&url, "%s://%s%s" SECRET "%s@%s", scheme_ok ? scheme : "https", user,
                      user[0] ? ":" : "", user, host) >= 0);
        char sep = '?';
        while (p < end) {
                _cleanup_free_ char *sel = next_piece(&p, end, ""), *value = next_piece(&p, end, "&#");
                if (sel[0] && (unsigned char) sel[0] % 3 != 0) {
                        /* A credential: its value hides the secret. */
                        const char *name = secret_params[(unsigned char) sel[0] % ELEMENTSOF(secret_params)];
                        CHECK(strextendf(&url, "%c%s=%s" SECRET "%s", sep, name, value, value) >= 0);
                } else {
                        /* Anything else, as a name=value pair made of the input. */
                        for (char *c = sel; *c; c++)
                                if (strchr("&#=", *c))
                                        *c = 'x';
                        CHECK(strextendf(&url, "%c%s=%s", sep, sel, value) >= 0);
                }
                sep = '&';
        }
        _cleanup_free_ char *red = url_redact(url);
        CHECK(red);
        if (strstr(red, SECRET))
                fprintf(stderr, "secret left in the redacted form of '%s': '%s'\n", url, red);
        CHECK(!strstr(red, SECRET));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 0 && data[0] == '!') {
                _cleanup_free_ char *in = fuzz_strndup(data + 1, size - 1);
                /* Separators other than '\n' would let the input put the secret anywhere. */
                for (char *c = in; *c; c++)
                        if (strchr("\r\t", *c))
                                *c = 'x';
                fuzz_credentials(in, strlen(in));
                return 0;
        }

        _cleanup_free_ char *s = fuzz_strndup(data, size);
        const char *reason = NULL;
        UrlScheme scheme = _URL_SCHEME_INVALID;

        for (int allow = 0; allow <= 1; allow++) {
                reason = NULL;
                int r = url_check(s, allow, &scheme, &reason);
                CHECK(r == 0 || r == -EINVAL || r == -EPROTONOSUPPORT);
                if (r < 0) {
                        CHECK(reason && reason[0]);
                        continue;
                }
                CHECK(url_looks_like_url(s));
                CHECK(url_scheme_to_string(scheme));
                CHECK(allow || scheme != URL_SCHEME_FILE);
                CHECK(!strpbrk(s, " \t\r\n"));
        }

        _cleanup_free_ char *red = url_redact(s), *red2 = NULL;
        CHECK(red);
        red2 = url_redact(red);
        CHECK(red2);
        CHECK(streq(red, red2));
        if (!strpbrk(s, "@?"))
                CHECK(streq(red, s));

        _cleanup_free_ char *u = NULL, *sum = NULL;
        int r = url_split_checksum(s, &u, &sum, &reason);
        CHECK(r == 0 || r == 1 || r == -EINVAL);
        if (r >= 0) {
                CHECK(u);
                CHECK((r == 1) == !!sum);
                CHECK(!strchr(u, '#'));
                _cleanup_free_ char *u2 = NULL, *sum2 = NULL;
                CHECK(url_split_checksum(u, &u2, &sum2, NULL) == 0);
                CHECK(streq(u, u2) && !sum2);
        } else
                CHECK(reason && reason[0]);

        _cleanup_free_ char *file = NULL;
        r = url_file_name(s, &file);
        CHECK(r == 0 || r == -EINVAL);
        if (r == 0)
                /* A key looked up in a checksum list, never a path: ".." is a name like any other. */
                CHECK(file[0] && !strchr(file, '/'));

        _cleanup_free_ char *dec = NULL;
        r = url_percent_decode(s, strlen(s), size % 2, &dec);
        CHECK(r == 0 || r == -EINVAL);
        if (r == 0)
                CHECK(strlen(dec) <= strlen(s));
        return 0;
}
