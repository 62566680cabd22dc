/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Checksum specifications as plan URLs carry them (`?checksum=sha256:<hex>`, a bare hex digest typed by
 * its length, or `checksum=file:<url>` naming a checksum list) and the GNU (`<hex>  name`) and BSD
 * (`SHA256 (name) = <hex>`) checksum lists. Pure: strings in, structs out; the caller owns the results.
 * Failing parsers return -EINVAL/-EBADMSG/-ENOENT with a static one-line reason. */

#include "macro.h"

typedef enum ChecksumType {
        CHECKSUM_MD5,
        CHECKSUM_SHA1,
        CHECKSUM_SHA256,
        CHECKSUM_SHA512,
        _CHECKSUM_TYPE_MAX,
        _CHECKSUM_TYPE_INVALID = -EINVAL,
} ChecksumType;

/* "md5", "sha1", "sha256", "sha512". */
const char *checksum_type_to_string(ChecksumType t) _const_;
/* Case-insensitive; also accepts "sha-256" style spellings. */
ChecksumType checksum_type_from_string(const char *s) _pure_;
/* Digest size in bytes (16, 20, 32, 64). */
size_t checksum_type_digest_size(ChecksumType t) _const_;
/* md5 and sha1 are accepted (upstream accepts them) but only with a warning. */
bool checksum_type_is_weak(ChecksumType t) _const_;
/* The type whose hex digest has this many characters, or _CHECKSUM_TYPE_INVALID. */
ChecksumType checksum_type_from_hex_length(size_t len) _const_;

typedef struct ChecksumSpec {
        ChecksumType type; /* the digest's type; _CHECKSUM_TYPE_INVALID for a file: spec */
        char *hex; /* lower-case hex digest; NULL for a file: spec */
        char *file_url; /* the checksum list's URL for a file: spec; NULL otherwise */
} ChecksumSpec;

#define CHECKSUM_SPEC_NULL                                                                                  \
        { .type = _CHECKSUM_TYPE_INVALID }

void checksum_spec_done(ChecksumSpec *s);

/* Parses the (already percent-decoded) value of a checksum= parameter: "<type>:<hex>", "<hex>" (the type
 * follows from the length: 32 md5, 40 sha1, 64 sha256, 128 sha512) or "file:<url>". Returns 0, -EINVAL
 * with *ret_reason, or -ENOMEM. */
int checksum_spec_parse(const char *s, ChecksumSpec *ret, const char **ret_reason);

/* Looks up file_name in a checksum list (GNU "<hex>  name", "<hex> *name"; BSD "SHA256 (name) = <hex>";
 * '#' comments and blank lines ignored; a name with folders matches by its last component). A list of
 * one line holding only a digest applies to any file. Returns 0 with the type and lower-case hex,
 * -ENOENT when the list has no entry for file_name, -EBADMSG for a malformed line, two different digests
 * for the name, or a digest whose length matches no type; -ENOMEM. */
int checksum_list_find(const char *data, size_t len, const char *file_name, ChecksumType *ret_type,
        char **ret_hex, const char **ret_reason);
