/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The URLs a plan names: which ones we fetch (http, https; file only when allowed), the checksum=
 * parameter taken out of the URL that is fetched, the file name a checksum list is searched for, and the
 * form shown in messages (credentials removed). Pure; results are caller-owned strings. */

#include "macro.h"

typedef enum UrlScheme {
        URL_SCHEME_HTTP,
        URL_SCHEME_HTTPS,
        URL_SCHEME_FILE,
        _URL_SCHEME_MAX,
        _URL_SCHEME_INVALID = -EINVAL,
} UrlScheme;

const char *url_scheme_to_string(UrlScheme s) _const_;

/* "<scheme>://…": the shape of a URL, whatever the scheme. */
bool url_looks_like_url(const char *s) _pure_;

/* Checks that s is a URL we may fetch: http:// or https:// with a host, or file:///absolute/path when
 * allow_file. No spaces or control characters. Returns 0 and the scheme, -EPROTONOSUPPORT for another
 * scheme (or file: when not allowed), -EINVAL for a malformed URL; *ret_reason says what is wrong. */
int url_check(const char *s, bool allow_file, UrlScheme *ret, const char **ret_reason);

/* Removes the checksum= parameter from the query. Returns 1 with the URL without it and the parameter's
 * percent-decoded value, 0 (a copy of the URL, value NULL) when there is none, -EINVAL when it is given
 * twice or badly encoded, -ENOMEM. A fragment (#…) is dropped: it is never sent to a server. */
int url_split_checksum(const char *url, char **ret_url, char **ret_checksum, const char **ret_reason);

/* The URL for messages and logs: "user:password@" becomes "***@", and the values of query parameters
 * that carry credentials (token, signature, key, X-Amz-Credential, sig, …) become "***"; checksum= and
 * the rest stay. Never NULL unless out of memory. */
char *url_redact(const char *url);

/* The last path segment, percent-decoded ("oraid-linux-amd64.tar.gz"). -EINVAL when the path is empty or
 * ends in '/'. */
int url_file_name(const char *url, char **ret);

/* Percent-decodes s[0..len) ("%2F" → "/"; with plus_is_space, "+" → " " as in query strings). -EINVAL
 * for a bad escape or an encoded NUL. */
int url_percent_decode(const char *s, size_t len, bool plus_is_space, char **ret);
