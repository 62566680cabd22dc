/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <strings.h>

#include "checksum.h"
#include "string-util.h"

static const char *const checksum_type_table[_CHECKSUM_TYPE_MAX] = {
        [CHECKSUM_MD5] = "md5",
        [CHECKSUM_SHA1] = "sha1",
        [CHECKSUM_SHA256] = "sha256",
        [CHECKSUM_SHA512] = "sha512",
};

static const size_t checksum_size_table[_CHECKSUM_TYPE_MAX] = {
        [CHECKSUM_MD5] = 16,
        [CHECKSUM_SHA1] = 20,
        [CHECKSUM_SHA256] = 32,
        [CHECKSUM_SHA512] = 64,
};

const char *checksum_type_to_string(ChecksumType t) {
        if (t < 0 || t >= _CHECKSUM_TYPE_MAX)
                return NULL;
        return checksum_type_table[t];
}

ChecksumType checksum_type_from_string(const char *s) {
        if (!s)
                return _CHECKSUM_TYPE_INVALID;
        for (ChecksumType t = 0; t < _CHECKSUM_TYPE_MAX; t++) {
                const char *n = checksum_type_table[t];
                if (strcasecmp(s, n) == 0)
                        return t;
                /* "sha-256", as some BSD lists and people spell it. */
                if (strncasecmp(n, "sha", 3) == 0 && strncasecmp(s, "sha-", 4) == 0 &&
                        strcasecmp(s + 4, n + 3) == 0)
                        return t;
        }
        return _CHECKSUM_TYPE_INVALID;
}

size_t checksum_type_digest_size(ChecksumType t) {
        if (t < 0 || t >= _CHECKSUM_TYPE_MAX)
                return 0;
        return checksum_size_table[t];
}

bool checksum_type_is_weak(ChecksumType t) {
        return t == CHECKSUM_MD5 || t == CHECKSUM_SHA1;
}

ChecksumType checksum_type_from_hex_length(size_t len) {
        for (ChecksumType t = 0; t < _CHECKSUM_TYPE_MAX; t++)
                if (checksum_size_table[t] * 2 == len)
                        return t;
        return _CHECKSUM_TYPE_INVALID;
}

void checksum_spec_done(ChecksumSpec *s) {
        if (!s)
                return;
        s->hex = mfree(s->hex);
        s->file_url = mfree(s->file_url);
        s->type = _CHECKSUM_TYPE_INVALID;
}

static bool is_hex_string(const char *s, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (unhexchar(s[i]) < 0)
                        return false;
        return true;
}

static char *hex_lower_dup(const char *s, size_t len) {
        char *r = strndup_or_null(s, len);
        return r ? ascii_strlower(r) : NULL;
}

int checksum_spec_parse(const char *s, ChecksumSpec *ret, const char **ret_reason) {
        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        assert(ret);

        if (isempty(s)) {
                *ret_reason = "the checksum is empty";
                return -EINVAL;
        }

        const char *colon = strchr(s, ':');
        if (colon) {
                _cleanup_free_ char *type_name = strndup_or_null(s, colon - s);
                if (!type_name)
                        return -ENOMEM;
                const char *rest = colon + 1;

                if (strcasecmp(type_name, "file") == 0) {
                        if (isempty(rest)) {
                                *ret_reason = "'file:' names no checksum list URL";
                                return -EINVAL;
                        }
                        for (const char *p = rest; *p; p++)
                                if ((unsigned char) *p <= ' ' || *p == 0x7f) {
                                        *ret_reason = "the checksum list URL contains spaces or control "
                                                      "characters";
                                        return -EINVAL;
                                }
                        char *u = strdup(rest);
                        if (!u)
                                return -ENOMEM;
                        *ret = (ChecksumSpec){.type = _CHECKSUM_TYPE_INVALID, .file_url = u};
                        return 0;
                }

                ChecksumType t = checksum_type_from_string(type_name);
                if (t < 0) {
                        *ret_reason = "unknown checksum type (expected sha256, sha512, sha1, md5 or file)";
                        return -EINVAL;
                }
                size_t len = strlen(rest);
                if (!is_hex_string(rest, len)) {
                        *ret_reason = "the digest is not hexadecimal";
                        return -EINVAL;
                }
                if (len != checksum_type_digest_size(t) * 2) {
                        *ret_reason = "the digest's length does not match its type";
                        return -EINVAL;
                }
                char *h = hex_lower_dup(rest, len);
                if (!h)
                        return -ENOMEM;
                *ret = (ChecksumSpec){.type = t, .hex = h};
                return 0;
        }

        size_t len = strlen(s);
        if (!is_hex_string(s, len)) {
                *ret_reason = "the checksum is neither '<type>:<hex>', a hex digest nor 'file:<url>'";
                return -EINVAL;
        }
        ChecksumType t = checksum_type_from_hex_length(len);
        if (t < 0) {
                *ret_reason = "the hex digest's length matches no checksum type (32, 40, 64 or 128 digits)";
                return -EINVAL;
        }
        char *h = hex_lower_dup(s, len);
        if (!h)
                return -ENOMEM;
        *ret = (ChecksumSpec){.type = t, .hex = h};
        return 0;
}

/* The last component of a path, without a leading "./" or "*" (GNU binary mode marker). */
static void path_last_component(const char *p, size_t len, const char **ret, size_t *ret_len) {
        size_t start = 0;
        for (size_t i = 0; i < len; i++)
                if (p[i] == '/')
                        start = i + 1;
        *ret = p + start;
        *ret_len = len - start;
}

static bool name_matches(const char *name, size_t len, const char *file_name) {
        const char *last;
        size_t last_len;
        path_last_component(name, len, &last, &last_len);
        return last_len == strlen(file_name) && memcmp(last, file_name, last_len) == 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Parses one line. Returns 1 with the entry, 0 for a blank/comment line, -EBADMSG. *ret_name may be
 * NULL (a lone digest). */
static int parse_list_line(const char *line, size_t len, ChecksumType *ret_type, const char **ret_hex,
        size_t *ret_hex_len, const char **ret_name, size_t *ret_name_len, const char **reason) {

        while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\r'))
                len--;
        while (len > 0 && is_blank(line[0])) {
                line++;
                len--;
        }
        if (len == 0 || line[0] == '#')
                return 0;

        /* BSD: "SHA256 (name) = hex". */
        size_t i = 0;
        while (i < len && isalnum((unsigned char) line[i]))
                i++;
        if (i > 0 && i + 1 < len && line[i] == ' ' && line[i + 1] == '(') {
                char type_name[16];
                if (i >= sizeof(type_name)) {
                        *reason = "a BSD-style line names an unknown checksum type";
                        return -EBADMSG;
                }
                memcpy(type_name, line, i);
                type_name[i] = 0;
                ChecksumType t = checksum_type_from_string(type_name);
                if (t < 0) {
                        *reason = "a BSD-style line names an unknown checksum type";
                        return -EBADMSG;
                }
                const char *name = line + i + 2;
                /* The name may contain ") = ", so the separator is the last one. */
                const char *sep = NULL;
                for (const char *p = name; p + 4 <= line + len; p++)
                        if (memcmp(p, ") = ", 4) == 0)
                                sep = p;
                if (!sep) {
                        *reason = "a BSD-style line lacks ') = '";
                        return -EBADMSG;
                }
                const char *hex = sep + 4;
                size_t hex_len = line + len - hex;
                if (!is_hex_string(hex, hex_len) || hex_len != checksum_type_digest_size(t) * 2) {
                        *reason = "a BSD-style line's digest is not hex of the length its type needs";
                        return -EBADMSG;
                }
                *ret_type = t;
                *ret_hex = hex;
                *ret_hex_len = hex_len;
                *ret_name = name;
                *ret_name_len = sep - name;
                return 1;
        }

        /* GNU: "hex  name" or "hex *name" (or a lone digest). */
        size_t hex_len = 0;
        while (hex_len < len && !is_blank(line[hex_len]))
                hex_len++;
        if (!is_hex_string(line, hex_len)) {
                *reason = "a line is neither '<hex>  <name>' nor '<TYPE> (<name>) = <hex>'";
                return -EBADMSG;
        }
        ChecksumType t = checksum_type_from_hex_length(hex_len);
        if (t < 0) {
                *reason = "a digest's length matches no checksum type (32, 40, 64 or 128 digits)";
                return -EBADMSG;
        }
        size_t p = hex_len;
        while (p < len && is_blank(line[p]))
                p++;
        if (p < len && line[p] == '*')
                p++;
        *ret_type = t;
        *ret_hex = line;
        *ret_hex_len = hex_len;
        if (p >= len) {
                *ret_name = NULL;
                *ret_name_len = 0;
        } else {
                *ret_name = line + p;
                *ret_name_len = len - p;
        }
        return 1;
}

int checksum_list_find(const char *data, size_t len, const char *file_name, ChecksumType *ret_type,
        char **ret_hex, const char **ret_reason) {
        assert(ret_type);
        assert(ret_hex);

        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        assert(data || len == 0);
        assert(file_name);

        ChecksumType found_type = _CHECKSUM_TYPE_INVALID, lone_type = _CHECKSUM_TYPE_INVALID;
        const char *found = NULL, *lone = NULL;
        size_t found_len = 0, lone_len = 0;
        unsigned n_entries = 0;

        if (memchr(data, 0, len)) {
                *ret_reason = "the checksum list contains NUL bytes";
                return -EBADMSG;
        }

        for (size_t pos = 0; pos < len;) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t line_len = nl ? (size_t) (nl - (data + pos)) : len - pos;

                ChecksumType t;
                const char *hex, *name;
                size_t hex_len, name_len;
                int r = parse_list_line(
                        data + pos, line_len, &t, &hex, &hex_len, &name, &name_len, ret_reason);
                if (r < 0)
                        return r;
                if (r > 0) {
                        n_entries++;
                        if (!name) {
                                lone = hex;
                                lone_len = hex_len;
                                lone_type = t;
                        } else if (name_matches(name, name_len, file_name)) {
                                if (found &&
                                        (found_type != t || found_len != hex_len ||
                                                strncasecmp(found, hex, hex_len) != 0)) {
                                        /* Two types for one file are fine only if both are listed; we
                                         * keep the stronger one. The same type twice must agree. */
                                        if (found_type == t) {
                                                *ret_reason = "the checksum list has two different digests "
                                                              "for the file";
                                                return -EBADMSG;
                                        }
                                        if (checksum_type_digest_size(t) <=
                                                checksum_type_digest_size(found_type))
                                                goto next;
                                }
                                found = hex;
                                found_len = hex_len;
                                found_type = t;
                        }
                }
        next:
                pos += line_len + (nl ? 1 : 0);
        }

        if (!found) {
                if (lone && n_entries == 1) {
                        found = lone;
                        found_len = lone_len;
                        found_type = lone_type;
                } else {
                        *ret_reason = n_entries == 0 ? "the checksum list is empty"
                                                     : "the checksum list has no entry for the file";
                        return -ENOENT;
                }
        }

        char *h = hex_lower_dup(found, found_len);
        if (!h)
                return -ENOMEM;
        *ret_type = found_type;
        *ret_hex = h;
        return 0;
}
