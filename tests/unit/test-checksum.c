/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "checksum.h"
#include "digest.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H128 H64 H64
#define H32 "0123456789abcdef0123456789abcdef"
#define H40 "0123456789abcdef0123456789abcdef01234567"

Test(checksum, type_names) {
        cr_assert_str_eq(checksum_type_to_string(CHECKSUM_SHA256), "sha256");
        cr_assert_eq(checksum_type_from_string("SHA512"), CHECKSUM_SHA512);
        cr_assert_eq(checksum_type_from_string("sha-256"), CHECKSUM_SHA256);
        cr_assert_eq(checksum_type_from_string("crc32"), _CHECKSUM_TYPE_INVALID);
        cr_assert_eq(checksum_type_from_string(NULL), _CHECKSUM_TYPE_INVALID);
        cr_assert_eq(checksum_type_to_string(_CHECKSUM_TYPE_INVALID), NULL);
        cr_assert_eq(checksum_type_from_hex_length(32), CHECKSUM_MD5);
        cr_assert_eq(checksum_type_from_hex_length(40), CHECKSUM_SHA1);
        cr_assert_eq(checksum_type_from_hex_length(64), CHECKSUM_SHA256);
        cr_assert_eq(checksum_type_from_hex_length(128), CHECKSUM_SHA512);
        cr_assert_eq(checksum_type_from_hex_length(63), _CHECKSUM_TYPE_INVALID);
        cr_assert(checksum_type_is_weak(CHECKSUM_MD5));
        cr_assert(checksum_type_is_weak(CHECKSUM_SHA1));
        cr_assert(!checksum_type_is_weak(CHECKSUM_SHA256));
        cr_assert_eq(checksum_type_digest_size(CHECKSUM_SHA512), 64);
}

static const struct {
        const char *input;
        int ret;
        ChecksumType type;
        const char *hex;
        const char *file_url;
        const char *reason;
} spec_table[] = {
        {"sha256:" H64, 0, CHECKSUM_SHA256, H64, NULL, NULL},
        {"SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", 0, CHECKSUM_SHA256, H64,
                NULL, NULL},
        {"sha512:" H128, 0, CHECKSUM_SHA512, H128, NULL, NULL},
        {"md5:" H32, 0, CHECKSUM_MD5, H32, NULL, NULL},
        {"sha1:" H40, 0, CHECKSUM_SHA1, H40, NULL, NULL},
        {H64, 0, CHECKSUM_SHA256, H64, NULL, NULL},
        {H128, 0, CHECKSUM_SHA512, H128, NULL, NULL},
        {H32, 0, CHECKSUM_MD5, H32, NULL, NULL},
        {"file:https://example.com/SHA256SUMS", 0, _CHECKSUM_TYPE_INVALID, NULL,
                "https://example.com/SHA256SUMS", NULL},
        {"FILE:http://h/s", 0, _CHECKSUM_TYPE_INVALID, NULL, "http://h/s", NULL},
        {"", -EINVAL, 0, NULL, NULL, "the checksum is empty"},
        {"file:", -EINVAL, 0, NULL, NULL, "'file:' names no checksum list URL"},
        {"file:http://h/a b", -EINVAL, 0, NULL, NULL,
                "the checksum list URL contains spaces or control characters"},
        {"sha256:" H32, -EINVAL, 0, NULL, NULL, "the digest's length does not match its type"},
        {"sha256:xyz", -EINVAL, 0, NULL, NULL, "the digest is not hexadecimal"},
        {"sha256:", -EINVAL, 0, NULL, NULL, "the digest is not hexadecimal"},
        {"crc32:00", -EINVAL, 0, NULL, NULL,
                "unknown checksum type (expected sha256, sha512, sha1, md5 or file)"},
        {"abcd", -EINVAL, 0, NULL, NULL,
                "the hex digest's length matches no checksum type (32, 40, 64 or 128 digits)"},
        {"zz", -EINVAL, 0, NULL, NULL,
                "the checksum is neither '<type>:<hex>', a hex digest nor 'file:<url>'"},
};

Test(checksum, spec_parse_table) {
        for (size_t i = 0; i < sizeof(spec_table) / sizeof(spec_table[0]); i++) {
                ChecksumSpec s = CHECKSUM_SPEC_NULL;
                const char *reason = NULL;
                int r = checksum_spec_parse(spec_table[i].input, &s, &reason);
                cr_assert_eq(r, spec_table[i].ret, "'%s': %d", spec_table[i].input, r);
                if (r < 0) {
                        cr_assert_str_eq(reason, spec_table[i].reason, "'%s'", spec_table[i].input);
                        continue;
                }
                cr_assert_eq(s.type, spec_table[i].type, "'%s'", spec_table[i].input);
                if (spec_table[i].hex)
                        cr_assert_str_eq(s.hex, spec_table[i].hex);
                else
                        cr_assert_null(s.hex);
                if (spec_table[i].file_url)
                        cr_assert_str_eq(s.file_url, spec_table[i].file_url);
                else
                        cr_assert_null(s.file_url);
                checksum_spec_done(&s);
        }
}

static const struct {
        const char *list;
        const char *name;
        int ret;
        ChecksumType type;
        const char *hex;
        const char *reason;
} list_table[] = {
        {H64 "  oraid.tar.gz\n", "oraid.tar.gz", 0, CHECKSUM_SHA256, H64, NULL},
        {H64 " *oraid.tar.gz\r\n", "oraid.tar.gz", 0, CHECKSUM_SHA256, H64, NULL},
        {"# sums\n\n" H128 "  ./dist/oraid.tar.gz\n", "oraid.tar.gz", 0, CHECKSUM_SHA512, H128, NULL},
        {"1111111111111111111111111111111111111111111111111111111111111111  other\n" H64 "  oraid", "oraid",
                0, CHECKSUM_SHA256, H64, NULL},
        {"SHA256 (oraid.tar.gz) = " H64 "\n", "oraid.tar.gz", 0, CHECKSUM_SHA256, H64, NULL},
        {"SHA512 (a) = b) = " H128 "\n", "a) = b", 0, CHECKSUM_SHA512, H128, NULL},
        {"MD5 (oraid) = " H32 "\n", "oraid", 0, CHECKSUM_MD5, H32, NULL},
        /* A lone digest applies to whatever file it comes with. */
        {H64 "\n", "anything", 0, CHECKSUM_SHA256, H64, NULL},
        /* Two types for one file: the stronger wins. */
        {H64 "  f\n" H128 "  f\n", "f", 0, CHECKSUM_SHA512, H128, NULL},
        {H64 "  f\n" H64 "  f\n", "f", 0, CHECKSUM_SHA256, H64, NULL},
        {H64 "  f\n1111111111111111111111111111111111111111111111111111111111111111  f\n", "f", -EBADMSG, 0,
                NULL, "the checksum list has two different digests for the file"},
        {H64 "  other\n", "oraid", -ENOENT, 0, NULL, "the checksum list has no entry for the file"},
        {"", "oraid", -ENOENT, 0, NULL, "the checksum list is empty"},
        {"# only a comment\n", "oraid", -ENOENT, 0, NULL, "the checksum list is empty"},
        {H64 "\n" H64 "  x\n", "oraid", -ENOENT, 0, NULL, "the checksum list has no entry for the file"},
        {"<html>not found</html>\n", "oraid", -EBADMSG, 0, NULL,
                "a line is neither '<hex>  <name>' nor '<TYPE> (<name>) = <hex>'"},
        {"abcd  oraid\n", "oraid", -EBADMSG, 0, NULL,
                "a digest's length matches no checksum type (32, 40, 64 or 128 digits)"},
        {"SHA256 (oraid) = abcd\n", "oraid", -EBADMSG, 0, NULL,
                "a BSD-style line's digest is not hex of the length its type needs"},
        {"CRC (oraid) = abcd\n", "oraid", -EBADMSG, 0, NULL,
                "a BSD-style line names an unknown checksum type"},
        {"SHA256 (oraid) " H64 "\n", "oraid", -EBADMSG, 0, NULL, "a BSD-style line lacks ') = '"},
};

Test(checksum, list_find_table) {
        for (size_t i = 0; i < sizeof(list_table) / sizeof(list_table[0]); i++) {
                ChecksumType t = _CHECKSUM_TYPE_INVALID;
                char *hex = NULL;
                const char *reason = NULL;
                int r = checksum_list_find(list_table[i].list, strlen(list_table[i].list),
                        list_table[i].name, &t, &hex, &reason);
                cr_assert_eq(r, list_table[i].ret, "case %zu: %d", i, r);
                if (r < 0) {
                        cr_assert_str_eq(reason, list_table[i].reason, "case %zu", i);
                        cr_assert_null(hex);
                        continue;
                }
                cr_assert_eq(t, list_table[i].type, "case %zu", i);
                cr_assert_str_eq(hex, list_table[i].hex, "case %zu", i);
                free(hex);
        }
}

Test(checksum, list_with_nul_refused) {
        ChecksumType t;
        char *hex = NULL;
        const char *reason = NULL;
        cr_assert_eq(checksum_list_find(H64 "  a\0b\n", 70, "a", &t, &hex, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "the checksum list contains NUL bytes");
}

Test(digest, known_vectors) {
        static const struct {
                ChecksumType type;
                const char *hex;
        } v[] = {
                {CHECKSUM_MD5, "900150983cd24fb0d6963f7d28e17f72"},
                {CHECKSUM_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
                {CHECKSUM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                {CHECKSUM_SHA512,
                        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836b"
                        "a3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
        };
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                char *hex = NULL;
                cr_assert_eq(digest_buffer_hex(v[i].type, "abc", 3, &hex), 0);
                cr_assert_str_eq(hex, v[i].hex);
                free(hex);
        }
}

Test(digest, incremental_and_reset) {
        Digest *d = NULL;
        char *hex = NULL;
        cr_assert_eq(digest_new(CHECKSUM_SHA256, &d), 0);
        cr_assert_eq(digest_update(d, "garbage", 7), 0);
        cr_assert_eq(digest_reset(d), 0);
        cr_assert_eq(digest_update(d, "a", 1), 0);
        cr_assert_eq(digest_update(d, "", 0), 0);
        cr_assert_eq(digest_update(d, "bc", 2), 0);
        cr_assert_eq(digest_hex(d, &hex), 0);
        cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        free(hex);
        /* Reading the digest does not end the stream. */
        cr_assert_eq(digest_update(d, "d", 1), 0);
        cr_assert_eq(digest_hex(d, &hex), 0);
        cr_assert_str_eq(hex, "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
        free(hex);
        cr_assert_eq(digest_type(d), CHECKSUM_SHA256);
        digest_free(d);
        cr_assert_eq(digest_new(_CHECKSUM_TYPE_INVALID, &d), -EOPNOTSUPP);
}
