/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "url.h"

static const struct {
        const char *url;
        bool allow_file;
        int ret;
        UrlScheme scheme;
        const char *reason;
} check_table[] = {
        {"https://example.com/oraid.tar.gz", false, 0, URL_SCHEME_HTTPS, NULL},
        {"HTTP://127.0.0.1:8080/x", false, 0, URL_SCHEME_HTTP, NULL},
        {"https://user:pw@host/x", false, 0, URL_SCHEME_HTTPS, NULL},
        {"https://host", false, 0, URL_SCHEME_HTTPS, NULL},
        {"file:///srv/oraid", true, 0, URL_SCHEME_FILE, NULL},
        {"file://localhost/srv/oraid", true, 0, URL_SCHEME_FILE, NULL},
        {"file:///srv/oraid", false, -EPROTONOSUPPORT, 0,
                "file:// URLs are refused unless ORAIVISOR_ALLOW_FILE_URLS=true"},
        {"file://srv/oraid", true, -EINVAL, 0, "a file:// URL must name an absolute path (file:///path)"},
        {"ftp://host/x", false, -EPROTONOSUPPORT, 0, "only http:// and https:// URLs are fetched"},
        {"s3::https://bucket/x", false, -EINVAL, 0, "not a URL ('<scheme>://…')"},
        {"/srv/oraid", false, -EINVAL, 0, "not a URL ('<scheme>://…')"},
        {"https:///x", false, -EINVAL, 0, "the URL names no host"},
        {"https://user@/x", false, -EINVAL, 0, "the URL names no host"},
        {"https://user@trusted.example@evil.example/x", false, -EINVAL, 0, "the URL's host part holds more than one '@': write an '@' in the user or password as %40"},
        {"https://a@b@c/x", false, -EINVAL, 0, "the URL's host part holds more than one '@': write an '@' in the user or password as %40"},
        {"https://us%40er:p%40ss@host.example/x?q=a@b#f@g", false, 0, URL_SCHEME_HTTPS, NULL},
        {"https://:80/x", false, -EINVAL, 0, "the URL names no host"},
        {"https://host/a b", false, -EINVAL, 0, "the URL contains spaces or control characters"},
        {"https://host/a\nb", false, -EINVAL, 0, "the URL contains spaces or control characters"},
};

Test(url, check_table) {
        for (size_t i = 0; i < sizeof(check_table) / sizeof(check_table[0]); i++) {
                UrlScheme s = _URL_SCHEME_INVALID;
                const char *reason = NULL;
                int r = url_check(check_table[i].url, check_table[i].allow_file, &s, &reason);
                cr_assert_eq(r, check_table[i].ret, "'%s': %d", check_table[i].url, r);
                if (r < 0)
                        cr_assert_str_eq(reason, check_table[i].reason, "'%s'", check_table[i].url);
                else
                        cr_assert_eq(s, check_table[i].scheme, "'%s'", check_table[i].url);
        }
        cr_assert(url_looks_like_url("https://x"));
        cr_assert(!url_looks_like_url("{\"binaries\":{}}"));
        cr_assert(!url_looks_like_url(NULL));
        cr_assert_str_eq(url_scheme_to_string(URL_SCHEME_FILE), "file");
}

static const struct {
        const char *url;
        int ret;
        const char *stripped;
        const char *checksum;
} split_table[] = {
        {"https://h/oraid.tar.gz?checksum=sha256:abc", 1, "https://h/oraid.tar.gz", "sha256:abc"},
        {"https://h/o?a=1&checksum=sha256:abc&b=2", 1, "https://h/o?a=1&b=2", "sha256:abc"},
        {"https://h/o?a=1&checksum=sha256%3Aabc", 1, "https://h/o?a=1", "sha256:abc"},
        {"https://h/o?checksum=file:https%3A%2F%2Fh%2FSUMS%3Fx%3D1", 1, "https://h/o",
                "file:https://h/SUMS?x=1"},
        {"https://h/o?checksum=file:https://h/SUMS", 1, "https://h/o", "file:https://h/SUMS"},
        {"https://h/o?checksum=", 1, "https://h/o", ""},
        {"https://h/o?x-checksum=1&checksums=2", 0, "https://h/o?x-checksum=1&checksums=2", NULL},
        {"https://h/o#frag", 0, "https://h/o", NULL},
        {"https://h/o?checksum=abc#frag", 1, "https://h/o", "abc"},
        {"https://h/o?&&", 0, "https://h/o", NULL},
        {"https://h/o", 0, "https://h/o", NULL},
        {"https://h/o?checksum=a&checksum=b", -EINVAL, NULL, NULL},
        {"https://h/o?checksum=%zz", -EINVAL, NULL, NULL},
        {"https://h/o?checksum=%00", -EINVAL, NULL, NULL},
        {"https://h/o?checksum=%4", -EINVAL, NULL, NULL},
};

Test(url, split_checksum_table) {
        for (size_t i = 0; i < sizeof(split_table) / sizeof(split_table[0]); i++) {
                char *u = NULL, *c = NULL;
                const char *reason = NULL;
                int r = url_split_checksum(split_table[i].url, &u, &c, &reason);
                cr_assert_eq(r, split_table[i].ret, "'%s': %d", split_table[i].url, r);
                if (r < 0) {
                        cr_assert_not_null(reason);
                        continue;
                }
                cr_assert_str_eq(u, split_table[i].stripped, "'%s'", split_table[i].url);
                if (split_table[i].checksum)
                        cr_assert_str_eq(c, split_table[i].checksum, "'%s'", split_table[i].url);
                else
                        cr_assert_null(c);
                free(u);
                free(c);
        }
}

Test(url, redact) {
        static const char *const t[][2] = {
                {"https://alice:s3cret@host/x?checksum=1", "https://***@host/x?checksum=1"},
                {"https://token@host:8080/x", "https://***@host:8080/x"},
                {"https://host/x@y", "https://host/x@y"},
                {"https://a@b@host/x", "https://***@host/x"},
                {"not a url", "not a url"},
                /* credentials in the query: presigned S3/GCS, Azure SAS, tokens, API keys */
                {"https://b.s3.amazonaws.com/oraid.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026&X-Amz-Date=20261129T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=FQo&X-Amz-Signature=ab12&checksum=sha256:00ff",
                 "https://b.s3.amazonaws.com/oraid.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Date=20261129T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=***&X-Amz-Signature=***&checksum=sha256:00ff"},
                {"https://a.blob.core.windows.net/c/oraid?sv=2022&se=2026&sp=r&sig=Zm9v%3D", "https://a.blob.core.windows.net/c/oraid?sv=2022&se=2026&sp=r&sig=***"},
                {"https://h/x?access_token=t0k&api_key=k&x=1#frag?token=hid", "https://h/x?access_token=***&api_key=***&x=1#frag?token=***"},
                /* the fragment too: OAuth's implicit flow puts the token there */
                {"https://h/x#access_token=SECRET&state=s1&token_type=bearer", "https://h/x#access_token=***&state=s1&token_type=***"},
                {"https://h/x?a=1#section-2", "https://h/x?a=1#section-2"},
                {"https://h/x#", "https://h/x#"},
                {"https://u@h/#sig=1&", "https://***@h/#sig=***&"},
                {"https://u:p@h/x?TOKEN=abc", "https://***@h/x?TOKEN=***"},
                {"https://h/x?token&=v&&password=", "https://h/x?token&=v&&password=***"},
                {"https://h/x?", "https://h/x?"},
                {"https://h/x?a=1&", "https://h/x?a=1&"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *r = url_redact(t[i][0]);
                cr_assert_str_eq(r, t[i][1]);
                free(r);
        }
}

Test(url, file_name) {
        static const struct {
                const char *url;
                int ret;
                const char *name;
        } t[] = {
                {"https://h/releases/v2/oraid-linux-amd64.tar.gz?x=1", 0, "oraid-linux-amd64.tar.gz"},
                {"https://h/a%20b", 0, "a b"},
                {"file:///srv/x/oraid", 0, "oraid"},
                {"https://h/dir/", -EINVAL, NULL},
                {"https://h", -EINVAL, NULL},
                {"https://h/a%2Fb", -EINVAL, NULL},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *n = NULL;
                int r = url_file_name(t[i].url, &n);
                cr_assert_eq(r, t[i].ret, "'%s': %d", t[i].url, r);
                if (r >= 0)
                        cr_assert_str_eq(n, t[i].name);
                free(n);
        }
}

Test(url, percent_decode) {
        char *r = NULL;
        cr_assert_eq(url_percent_decode("a+b%41", 6, true, &r), 0);
        cr_assert_str_eq(r, "a bA");
        free(r);
        cr_assert_eq(url_percent_decode("a+b", 3, false, &r), 0);
        cr_assert_str_eq(r, "a+b");
        free(r);
        cr_assert_eq(url_percent_decode("%", 1, false, &r), -EINVAL);
        cr_assert_eq(url_percent_decode("%G0", 3, false, &r), -EINVAL);
}
