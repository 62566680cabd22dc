/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The heavy libraries that only downloads need are not linked: libcurl (fetch.c), libarchive (unpack.c)
 * and libcrypto (digest.c) are dlopen()ed by SONAME (taken from the development libraries at configure
 * time) the first time a download, unpack or digest needs them, and stay loaded (never dlclose()d). An
 * idle oraivisor thus maps libc, libsystemd and json-c only. Their functions are called through the
 * sym_*() pointers declared here, which are valid once the matching dlopen_*() returned 0.
 *
 * A library that cannot be loaded (its package is not installed), or that lacks a function we call (too
 * old), gives -ELIBACC and loads nothing; dlopen_library_message() says which library, what needed it,
 * why it failed and which Debian package to install. Failures are not remembered: once the package is
 * installed, the next attempt works without restarting oraivisor.
 *
 * Not thread-safe (dlerror() and the pointers): call from the event loop, or from a child forked from it.
 *
 * For tests: _ORAIVISOR_TEST_DLOPEN_MISSING=<names> (comma or space separated: libcurl, libarchive,
 * libcrypto) makes those loads ask for a file name that does not exist, so that the real dlopen()
 * failure path runs; it can only make loading fail, never load anything else. (Not an ORAIVISOR_*
 * name: those are configuration, checked by config.c.)
 *
 * libcurl older than LIBCURL_MIN_VERSION (curl_version_info() at load; the SONAME has not changed since
 * 7.16) is refused like a missing one: "it is version 7.74.0, older than 7.85.0". For tests,
 * _ORAIVISOR_TEST_DLOPEN_CURL_VERSION=<x.y.z> makes the loaded libcurl look that old; a version newer
 * than the real one is ignored, so this too can only make loading fail. */

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "macro.h"

#define DLOPEN_TEST_MISSING_ENV "_ORAIVISOR_TEST_DLOPEN_MISSING"
#define DLOPEN_TEST_CURL_VERSION_ENV "_ORAIVISOR_TEST_DLOPEN_CURL_VERSION"

typedef enum DlopenLibrary {
        DLOPEN_LIBCURL,
        DLOPEN_LIBARCHIVE,
        DLOPEN_LIBCRYPTO,
        _DLOPEN_LIBRARY_MAX,
        _DLOPEN_LIBRARY_INVALID = -EINVAL,
} DlopenLibrary;

/* "libcurl", "libarchive", "libcrypto". */
const char *dlopen_library_to_string(DlopenLibrary l) _const_;
DlopenLibrary dlopen_library_from_string(const char *s) _pure_;
/* What is dlopen()ed: "libcurl.so.4". */
const char *dlopen_library_soname(DlopenLibrary l) _const_;
/* The Debian package that ships that SONAME: "libcurl4"; NULL when the SONAME is not one we know. */
const char *dlopen_library_package(DlopenLibrary l) _const_;

/* 0: loaded (now or earlier), every sym_* of the library is set. -ELIBACC: not loaded; *ret_reason (if
 * given) is dlerror()'s text, or names the missing function. -ENOMEM. Does not log. */
int dlopen_library(DlopenLibrary l, char **ret_reason);
bool dlopen_library_is_loaded(DlopenLibrary l) _pure_;

static inline int dlopen_curl(void) {
        return dlopen_library(DLOPEN_LIBCURL, NULL);
}
static inline int dlopen_archive(void) {
        return dlopen_library(DLOPEN_LIBARCHIVE, NULL);
}
static inline int dlopen_crypto(void) {
        return dlopen_library(DLOPEN_LIBCRYPTO, NULL);
}

/* Loads like dlopen_library(); on -ELIBACC, *ret_message is one line for the operator, without a trailing
 * period: "libcurl.so.4, needed <needed_for>, cannot be loaded (<reason>); install the Debian package
 * libcurl4". needed_for reads after "needed": "to download the binary of upgrade v2". */
int dlopen_library_message(DlopenLibrary l, const char *needed_for, char **ret_message);

#define DLSYM_DECLARE(name) extern __typeof__(name) *sym_##name

/* libcurl */
DLSYM_DECLARE(curl_easy_cleanup);
DLSYM_DECLARE(curl_easy_getinfo);
DLSYM_DECLARE(curl_easy_init);
DLSYM_DECLARE(curl_easy_pause);
DLSYM_DECLARE(curl_easy_setopt);
DLSYM_DECLARE(curl_easy_strerror);
DLSYM_DECLARE(curl_global_init);
DLSYM_DECLARE(curl_multi_add_handle);
DLSYM_DECLARE(curl_multi_assign);
DLSYM_DECLARE(curl_multi_cleanup);
DLSYM_DECLARE(curl_multi_info_read);
DLSYM_DECLARE(curl_multi_init);
DLSYM_DECLARE(curl_multi_remove_handle);
DLSYM_DECLARE(curl_multi_setopt);
DLSYM_DECLARE(curl_multi_socket_action);
DLSYM_DECLARE(curl_version_info);

/* libarchive */
DLSYM_DECLARE(archive_entry_filetype);
DLSYM_DECLARE(archive_entry_hardlink);
DLSYM_DECLARE(archive_entry_pathname);
DLSYM_DECLARE(archive_entry_perm);
DLSYM_DECLARE(archive_entry_size);
DLSYM_DECLARE(archive_entry_size_is_set);
DLSYM_DECLARE(archive_entry_symlink);
DLSYM_DECLARE(archive_error_string);
DLSYM_DECLARE(archive_filter_count);
DLSYM_DECLARE(archive_filter_name);
DLSYM_DECLARE(archive_format);
DLSYM_DECLARE(archive_read_data_block);
DLSYM_DECLARE(archive_read_free);
DLSYM_DECLARE(archive_read_new);
DLSYM_DECLARE(archive_read_next_header);
DLSYM_DECLARE(archive_read_open);
DLSYM_DECLARE(archive_read_support_filter_bzip2);
DLSYM_DECLARE(archive_read_support_filter_gzip);
DLSYM_DECLARE(archive_read_support_filter_lz4);
DLSYM_DECLARE(archive_read_support_filter_lzma);
DLSYM_DECLARE(archive_read_support_filter_xz);
DLSYM_DECLARE(archive_read_support_filter_zstd);
DLSYM_DECLARE(archive_read_support_format_gnutar);
DLSYM_DECLARE(archive_read_support_format_raw);
DLSYM_DECLARE(archive_read_support_format_tar);
DLSYM_DECLARE(archive_read_support_format_zip_streamable);
DLSYM_DECLARE(archive_set_error);

/* libcrypto */
DLSYM_DECLARE(EVP_DigestFinal_ex);
DLSYM_DECLARE(EVP_DigestInit_ex);
DLSYM_DECLARE(EVP_DigestUpdate);
DLSYM_DECLARE(EVP_MD_CTX_copy_ex);
DLSYM_DECLARE(EVP_MD_CTX_free);
DLSYM_DECLARE(EVP_MD_CTX_new);
DLSYM_DECLARE(EVP_md5);
DLSYM_DECLARE(EVP_sha1);
DLSYM_DECLARE(EVP_sha256);
DLSYM_DECLARE(EVP_sha512);
