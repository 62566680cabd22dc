/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <openssl/evp.h>

#include "digest.h"
#include "dlopen-libs.h"
#include "string-util.h"

struct Digest {
        ChecksumType type;
        const EVP_MD *md;
        EVP_MD_CTX *ctx;
};

static const EVP_MD *md_for(ChecksumType t) {
        switch (t) {
        case CHECKSUM_MD5: return sym_EVP_md5();
        case CHECKSUM_SHA1: return sym_EVP_sha1();
        case CHECKSUM_SHA256: return sym_EVP_sha256();
        case CHECKSUM_SHA512: return sym_EVP_sha512();
        default: return NULL;
        }
}

Digest *digest_free(Digest *d) {
        if (!d)
                return NULL;
        sym_EVP_MD_CTX_free(d->ctx);
        return mfree(d);
}

int digest_new(ChecksumType type, Digest **ret) {
        assert(ret);

        if (type < 0 || type >= _CHECKSUM_TYPE_MAX)
                return -EOPNOTSUPP;
        /* libcrypto is loaded the first time, and stays loaded. */
        int r = dlopen_crypto();
        if (r < 0)
                return r;
        const EVP_MD *md = md_for(type);
        if (!md)
                return -EOPNOTSUPP;

        _cleanup_(digest_freep) Digest *d = new0(Digest, 1);
        if (!d)
                return -ENOMEM;
        d->type = type;
        d->md = md;
        d->ctx = sym_EVP_MD_CTX_new();
        if (!d->ctx)
                return -ENOMEM;
        if (sym_EVP_DigestInit_ex(d->ctx, md, NULL) != 1)
                return -EOPNOTSUPP; /* e.g. md5 refused by a FIPS provider */
        *ret = TAKE_PTR(d);
        return 0;
}

ChecksumType digest_type(const Digest *d) {
        assert(d);

        return d->type;
}

int digest_update(Digest *d, const void *p, size_t n) {
        assert(d);

        if (n == 0)
                return 0;
        return sym_EVP_DigestUpdate(d->ctx, p, n) == 1 ? 0 : -EIO;
}

int digest_reset(Digest *d) {
        assert(d);

        return sym_EVP_DigestInit_ex(d->ctx, d->md, NULL) == 1 ? 0 : -EIO;
}

int digest_hex(Digest *d, char **ret) {
        assert(d);
        assert(ret);

        EVP_MD_CTX *copy = sym_EVP_MD_CTX_new();
        if (!copy)
                return -ENOMEM;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        int ok = sym_EVP_MD_CTX_copy_ex(copy, d->ctx) == 1 && sym_EVP_DigestFinal_ex(copy, md, &len) == 1;
        sym_EVP_MD_CTX_free(copy);
        if (!ok)
                return -EIO;
        char *h = hexmem(md, len);
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}

int digest_buffer_hex(ChecksumType type, const void *p, size_t n, char **ret) {
        _cleanup_(digest_freep) Digest *d = NULL;
        int r = digest_new(type, &d);
        if (r < 0)
                return r;
        r = digest_update(d, p, n);
        if (r < 0)
                return r;
        return digest_hex(d, ret);
}
