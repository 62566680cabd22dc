/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Incremental message digests (libcrypto EVP) for the checksum types of checksum.h: bytes are hashed as
 * they arrive, the hex digest is read at the end. The Digest is owned by its creator. */

#include "checksum.h"
#include "macro.h"

typedef struct Digest Digest;

int digest_new(ChecksumType type, Digest **ret);
Digest *digest_free(Digest *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Digest *, digest_free);

ChecksumType digest_type(const Digest *d) _pure_;
int digest_update(Digest *d, const void *p, size_t n);
/* Forgets everything hashed so far (a download that starts again from its first byte). */
int digest_reset(Digest *d);
/* The lower-case hex digest of everything hashed since creation or the last reset. The Digest stays
 * usable (its state is copied). */
int digest_hex(Digest *d, char **ret);

/* One-shot: the hex digest of a buffer. */
int digest_buffer_hex(ChecksumType type, const void *p, size_t n, char **ret);

/* The hex digest of everything read from fd (from its current offset to the end), and how many bytes
 * that was (ret_size may be NULL). */
int digest_fd_hex(ChecksumType type, int fd, char **ret, uint64_t *ret_size);
