/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dlfcn.h>
#include <stdio.h>

#include "dlopen-libs.h"
#include "log.h"
#include "string-util.h"

#define DLSYM_DEFINE(name) __typeof__(name) *sym_##name = NULL

DLSYM_DEFINE(curl_easy_cleanup);
DLSYM_DEFINE(curl_easy_getinfo);
DLSYM_DEFINE(curl_easy_init);
DLSYM_DEFINE(curl_easy_pause);
DLSYM_DEFINE(curl_easy_setopt);
DLSYM_DEFINE(curl_easy_strerror);
DLSYM_DEFINE(curl_global_init);
DLSYM_DEFINE(curl_multi_add_handle);
DLSYM_DEFINE(curl_multi_assign);
DLSYM_DEFINE(curl_multi_cleanup);
DLSYM_DEFINE(curl_multi_info_read);
DLSYM_DEFINE(curl_multi_init);
DLSYM_DEFINE(curl_multi_remove_handle);
DLSYM_DEFINE(curl_multi_setopt);
DLSYM_DEFINE(curl_multi_socket_action);
DLSYM_DEFINE(curl_version_info);

DLSYM_DEFINE(archive_entry_filetype);
DLSYM_DEFINE(archive_entry_hardlink);
DLSYM_DEFINE(archive_entry_pathname);
DLSYM_DEFINE(archive_entry_perm);
DLSYM_DEFINE(archive_entry_size);
DLSYM_DEFINE(archive_entry_size_is_set);
DLSYM_DEFINE(archive_entry_symlink);
DLSYM_DEFINE(archive_error_string);
DLSYM_DEFINE(archive_filter_count);
DLSYM_DEFINE(archive_filter_name);
DLSYM_DEFINE(archive_format);
DLSYM_DEFINE(archive_read_data_block);
DLSYM_DEFINE(archive_read_free);
DLSYM_DEFINE(archive_read_new);
DLSYM_DEFINE(archive_read_next_header);
DLSYM_DEFINE(archive_read_open);
DLSYM_DEFINE(archive_read_support_filter_bzip2);
DLSYM_DEFINE(archive_read_support_filter_gzip);
DLSYM_DEFINE(archive_read_support_filter_lz4);
DLSYM_DEFINE(archive_read_support_filter_lzma);
DLSYM_DEFINE(archive_read_support_filter_xz);
DLSYM_DEFINE(archive_read_support_filter_zstd);
DLSYM_DEFINE(archive_read_support_format_gnutar);
DLSYM_DEFINE(archive_read_support_format_raw);
DLSYM_DEFINE(archive_read_support_format_tar);
DLSYM_DEFINE(archive_read_support_format_zip_streamable);
DLSYM_DEFINE(archive_set_error);

DLSYM_DEFINE(EVP_DigestFinal_ex);
DLSYM_DEFINE(EVP_DigestInit_ex);
DLSYM_DEFINE(EVP_DigestUpdate);
DLSYM_DEFINE(EVP_MD_CTX_copy_ex);
DLSYM_DEFINE(EVP_MD_CTX_free);
DLSYM_DEFINE(EVP_MD_CTX_new);
DLSYM_DEFINE(EVP_md5);
DLSYM_DEFINE(EVP_sha1);
DLSYM_DEFINE(EVP_sha256);
DLSYM_DEFINE(EVP_sha512);

typedef struct DlopenSymbol {
        const char *name;
        void **ptr; /* the sym_* pointer (POSIX lets a function pointer hold dlsym()'s result) */
} DlopenSymbol;

#define DLSYM(name)                                                                                         \
        { #name, (void **) &sym_##name }

static const DlopenSymbol curl_symbols[] = {
        DLSYM(curl_easy_cleanup),
        DLSYM(curl_easy_getinfo),
        DLSYM(curl_easy_init),
        DLSYM(curl_easy_pause),
        DLSYM(curl_easy_setopt),
        DLSYM(curl_easy_strerror),
        DLSYM(curl_global_init),
        DLSYM(curl_multi_add_handle),
        DLSYM(curl_multi_assign),
        DLSYM(curl_multi_cleanup),
        DLSYM(curl_multi_info_read),
        DLSYM(curl_multi_init),
        DLSYM(curl_multi_remove_handle),
        DLSYM(curl_multi_setopt),
        DLSYM(curl_multi_socket_action),
        DLSYM(curl_version_info),
};

static const DlopenSymbol archive_symbols[] = {
        DLSYM(archive_entry_filetype),
        DLSYM(archive_entry_hardlink),
        DLSYM(archive_entry_pathname),
        DLSYM(archive_entry_perm),
        DLSYM(archive_entry_size),
        DLSYM(archive_entry_size_is_set),
        DLSYM(archive_entry_symlink),
        DLSYM(archive_error_string),
        DLSYM(archive_filter_count),
        DLSYM(archive_filter_name),
        DLSYM(archive_format),
        DLSYM(archive_read_data_block),
        DLSYM(archive_read_free),
        DLSYM(archive_read_new),
        DLSYM(archive_read_next_header),
        DLSYM(archive_read_open),
        DLSYM(archive_read_support_filter_bzip2),
        DLSYM(archive_read_support_filter_gzip),
        DLSYM(archive_read_support_filter_lz4),
        DLSYM(archive_read_support_filter_lzma),
        DLSYM(archive_read_support_filter_xz),
        DLSYM(archive_read_support_filter_zstd),
        DLSYM(archive_read_support_format_gnutar),
        DLSYM(archive_read_support_format_raw),
        DLSYM(archive_read_support_format_tar),
        DLSYM(archive_read_support_format_zip_streamable),
        DLSYM(archive_set_error),
};

static const DlopenSymbol crypto_symbols[] = {
        DLSYM(EVP_DigestFinal_ex),
        DLSYM(EVP_DigestInit_ex),
        DLSYM(EVP_DigestUpdate),
        DLSYM(EVP_MD_CTX_copy_ex),
        DLSYM(EVP_MD_CTX_free),
        DLSYM(EVP_MD_CTX_new),
        DLSYM(EVP_md5),
        DLSYM(EVP_sha1),
        DLSYM(EVP_sha256),
        DLSYM(EVP_sha512),
};

typedef struct DlopenTable {
        const char *name;
        const char *soname; /* from meson: the development library's SONAME */
        const DlopenSymbol *symbols;
        size_t n_symbols;
} DlopenTable;

static const DlopenTable tables[_DLOPEN_LIBRARY_MAX] = {
        [DLOPEN_LIBCURL] = {"libcurl", LIBCURL_SONAME, curl_symbols, ELEMENTSOF(curl_symbols)},
        [DLOPEN_LIBARCHIVE] = {"libarchive", LIBARCHIVE_SONAME, archive_symbols,
                ELEMENTSOF(archive_symbols)},
        [DLOPEN_LIBCRYPTO] = {"libcrypto", LIBCRYPTO_SONAME, crypto_symbols, ELEMENTSOF(crypto_symbols)},
};

/* XXX: Debian's names as of Debian 12 (Debian 13 adds a "t64" suffix: libcurl4t64...); a SONAME not listed
 * here gets "the package that provides <soname>" in messages. */
static const struct {
        const char *soname;
        const char *package;
} debian_packages[] = {
        {"libcurl.so.4", "libcurl4"},
        {"libcurl-gnutls.so.4", "libcurl3-gnutls"},
        {"libcurl-nss.so.4", "libcurl3-nss"},
        {"libarchive.so.13", "libarchive13"},
        {"libcrypto.so.3", "libssl3"},
        {"libcrypto.so.1.1", "libssl1.1"},
};

/* Loaded libraries, never closed: their code may be referenced by state that outlives any one download
 * (curl's global init, OpenSSL's providers). */
static void *handles[_DLOPEN_LIBRARY_MAX];

const char *dlopen_library_to_string(DlopenLibrary l) {
        return l >= 0 && l < _DLOPEN_LIBRARY_MAX ? tables[l].name : NULL;
}

DlopenLibrary dlopen_library_from_string(const char *s) {
        if (s)
                for (DlopenLibrary l = 0; l < _DLOPEN_LIBRARY_MAX; l++)
                        if (streq(tables[l].name, s))
                                return l;
        return _DLOPEN_LIBRARY_INVALID;
}

const char *dlopen_library_soname(DlopenLibrary l) {
        return l >= 0 && l < _DLOPEN_LIBRARY_MAX ? tables[l].soname : NULL;
}

const char *dlopen_library_package(DlopenLibrary l) {
        const char *soname = dlopen_library_soname(l);
        if (soname)
                for (size_t i = 0; i < ELEMENTSOF(debian_packages); i++)
                        if (streq(debian_packages[i].soname, soname))
                                return debian_packages[i].package;
        return NULL;
}

bool dlopen_library_is_loaded(DlopenLibrary l) {
        return l >= 0 && l < _DLOPEN_LIBRARY_MAX && handles[l];
}

/* Whether the test hook asks this library to be missing. */
static bool test_missing(DlopenLibrary l) {
        const char *e = secure_getenv(DLOPEN_TEST_MISSING_ENV);
        if (!e)
                return false;
        const char *name = tables[l].name;
        size_t n = strlen(name);
        for (const char *p = e; *p;) {
                p += strspn(p, ", \t");
                size_t k = strcspn(p, ", \t");
                if (k == n && strneq(p, name, n))
                        return true;
                p += k;
        }
        return false;
}

/* "x.y.z" → 0xXXYYZZ as curl_version_info() gives it; -EINVAL when malformed. */
static int curl_version_parse(const char *s, unsigned *ret) {
        unsigned v[3];
        char end;
        if (!s || sscanf(s, "%u.%u.%u%c", &v[0], &v[1], &v[2], &end) != 3 || v[0] > 255 || v[1] > 255 || v[2] > 255)
                return -EINVAL;
        *ret = v[0] << 16 | v[1] << 8 | v[2];
        return 0;
}

static int fail(char **ret_reason, const char *format, ...) _printf_(2, 3);
static int fail(char **ret_reason, const char *format, ...) {
        if (!ret_reason)
                return -ELIBACC;
        va_list ap;
        va_start(ap, format);
        int k = vasprintf(ret_reason, format, ap);
        va_end(ap);
        if (k < 0) {
                *ret_reason = NULL;
                return -ENOMEM;
        }
        return -ELIBACC;
}

int dlopen_library(DlopenLibrary l, char **ret_reason) {
        assert(l >= 0 && l < _DLOPEN_LIBRARY_MAX);
        const DlopenTable *t = &tables[l];

        if (handles[l])
                return 0;

        _cleanup_free_ char *missing = NULL;
        const char *file = t->soname;
        if (test_missing(l)) {
                if (asprintf(&missing, "%s.missing-for-test", t->soname) < 0)
                        return -ENOMEM;
                file = missing;
        }

        (void) dlerror();
        void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *e = dlerror();
                return fail(ret_reason, "%s", e ?: "unknown dlopen() error");
        }

        for (size_t i = 0; i < t->n_symbols; i++) {
                void *p = dlsym(h, t->symbols[i].name);
                if (p) {
                        *t->symbols[i].ptr = p;
                        continue;
                }
                /* All or nothing: no half-resolved table is left behind. */
                for (size_t j = 0; j < t->n_symbols; j++)
                        *t->symbols[j].ptr = NULL;
                (void) dlclose(h);
                return fail(ret_reason, "it has no function %s(), it is too old", t->symbols[i].name);
        }

        if (l == DLOPEN_LIBCURL) {
                /* The SONAME stays libcurl.so.4 across releases: only the version tells whether
                 * CURLOPT_PROTOCOLS_STR and friends exist (an older one would fail every download with
                 * "An unknown option was passed in to libcurl"). */
                const curl_version_info_data *info = sym_curl_version_info(CURLVERSION_NOW);
                unsigned num = info ? info->version_num : 0, fake;
                const char *version = info && info->version ? info->version : "unknown";
                if (curl_version_parse(secure_getenv(DLOPEN_TEST_CURL_VERSION_ENV), &fake) >= 0 && fake < num) {
                        num = fake;
                        version = secure_getenv(DLOPEN_TEST_CURL_VERSION_ENV);
                }
                if (num < LIBCURL_MIN_VERSION_NUM) {
                        _cleanup_free_ char *v = strdup(version);
                        for (size_t j = 0; j < t->n_symbols; j++)
                                *t->symbols[j].ptr = NULL;
                        (void) dlclose(h);
                        return fail(ret_reason, "it is version %s, older than " LIBCURL_MIN_VERSION " which oraivisor needs",
                                strna(v));
                }
        }

        handles[l] = h;
        log_debug("Loaded %s.", file);
        return 0;
}

int dlopen_library_message(DlopenLibrary l, const char *needed_for, char **ret_message) {
        _cleanup_free_ char *reason = NULL;

        assert(needed_for);
        assert(ret_message);

        int r = dlopen_library(l, &reason);
        if (r != -ELIBACC)
                return r;

        const char *soname = dlopen_library_soname(l), *package = dlopen_library_package(l);
        if (asprintf(ret_message, "%s, needed %s, cannot be loaded (%s); install %s%s", soname, needed_for,
                    strna(reason), package ? "the Debian package " : "the package that provides ",
                    package ?: soname) < 0) {
                *ret_message = NULL;
                return -ENOMEM;
        }
        return -ELIBACC;
}
