/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* dlopen-libs: the download libraries are loaded on first use only, all or nothing, and a missing one
 * (simulated with _ORAIVISOR_TEST_DLOPEN_MISSING, which makes dlopen() really fail) gives -ELIBACC and one
 * line naming the library, what needed it and the package, in every user (fetch, digest, unpack).
 * Criterion runs each test in its own process, so each starts with nothing loaded. */

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-event.h>

#include "digest.h"
#include "dlopen-libs.h"
#include "fetch.h"
#include "unpack.h"

static char *expected_message(DlopenLibrary l, const char *needed_for) {
        const char *package = dlopen_library_package(l);
        char *m = NULL;
        cr_assert_geq(
                asprintf(&m,
                        "%s, needed %s, cannot be loaded (%s.missing-for-test: cannot open shared object "
                        "file: No such file or directory); install %s%s",
                        dlopen_library_soname(l), needed_for, dlopen_library_soname(l),
                        package ? "the Debian package " : "the package that provides ",
                        package ?: dlopen_library_soname(l)),
                0);
        return m;
}

/* Whether the dynamic loader has the library mapped, without loading it. */
static bool mapped(const char *soname) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
        if (!h)
                return false;
        dlclose(h);
        return true;
}

Test(dlopen_libs, names) {
        cr_assert_str_eq(dlopen_library_to_string(DLOPEN_LIBCURL), "libcurl");
        cr_assert_str_eq(dlopen_library_to_string(DLOPEN_LIBARCHIVE), "libarchive");
        cr_assert_str_eq(dlopen_library_to_string(DLOPEN_LIBCRYPTO), "libcrypto");
        cr_assert_null(dlopen_library_to_string(_DLOPEN_LIBRARY_MAX));
        cr_assert_null(dlopen_library_to_string(_DLOPEN_LIBRARY_INVALID));
        cr_assert_eq(dlopen_library_from_string("libarchive"), DLOPEN_LIBARCHIVE);
        cr_assert_eq(dlopen_library_from_string("curl"), _DLOPEN_LIBRARY_INVALID);
        cr_assert_eq(dlopen_library_from_string(NULL), _DLOPEN_LIBRARY_INVALID);

        /* The SONAMEs come from the build's development libraries. */
        cr_assert_str_eq(dlopen_library_soname(DLOPEN_LIBCURL), LIBCURL_SONAME);
        cr_assert_str_eq(dlopen_library_soname(DLOPEN_LIBARCHIVE), LIBARCHIVE_SONAME);
        cr_assert_str_eq(dlopen_library_soname(DLOPEN_LIBCRYPTO), LIBCRYPTO_SONAME);
        cr_assert_null(dlopen_library_soname(_DLOPEN_LIBRARY_MAX));
        if (streq(LIBCURL_SONAME, "libcurl.so.4"))
                cr_assert_str_eq(dlopen_library_package(DLOPEN_LIBCURL), "libcurl4");
        if (streq(LIBARCHIVE_SONAME, "libarchive.so.13"))
                cr_assert_str_eq(dlopen_library_package(DLOPEN_LIBARCHIVE), "libarchive13");
        if (streq(LIBCRYPTO_SONAME, "libcrypto.so.3"))
                cr_assert_str_eq(dlopen_library_package(DLOPEN_LIBCRYPTO), "libssl3");
}

Test(dlopen_libs, loaded_on_first_use_and_kept) {
        /* Not linked: nothing maps libcurl or libarchive before they are asked for. (libcrypto is left out
         * of this check: Criterion itself links it, through libgit2 and libssh2.) */
        cr_assert(!mapped(LIBCURL_SONAME));
        cr_assert(!mapped(LIBARCHIVE_SONAME));

        for (DlopenLibrary l = 0; l < _DLOPEN_LIBRARY_MAX; l++) {
                cr_assert(!dlopen_library_is_loaded(l));
                char *reason = NULL;
                cr_assert_eq(dlopen_library(l, &reason), 0, "%s: %s", dlopen_library_soname(l), reason);
                cr_assert_null(reason);
                cr_assert(dlopen_library_is_loaded(l));
                cr_assert(mapped(dlopen_library_soname(l)));
                /* Again: nothing to do. */
                cr_assert_eq(dlopen_library(l, NULL), 0);
        }

        cr_assert_str_eq(sym_curl_easy_strerror(CURLE_OK), "No error");
        CURLM *multi = sym_curl_multi_init();
        cr_assert_not_null(multi);
        cr_assert_eq(sym_curl_multi_cleanup(multi), CURLM_OK);

        struct archive *a = sym_archive_read_new();
        cr_assert_not_null(a);
        cr_assert_eq(sym_archive_read_support_format_tar(a), ARCHIVE_OK);
        cr_assert_eq(sym_archive_read_free(a), ARCHIVE_OK);

        char *hex = NULL;
        cr_assert_eq(digest_buffer_hex(CHECKSUM_SHA256, "abc", 3, &hex), 0);
        cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        free(hex);
}

Test(dlopen_libs, missing_library_is_not_loaded_and_not_remembered) {
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libcurl", 1), 0);

        char *reason = NULL;
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, &reason), -ELIBACC);
        char *want = NULL;
        cr_assert_geq(
                asprintf(&want,
                        "%s.missing-for-test: cannot open shared object file: No such file or directory",
                        LIBCURL_SONAME),
                0);
        cr_assert_str_eq(reason, want);
        free(want);
        free(reason);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), -ELIBACC);
        cr_assert(!dlopen_library_is_loaded(DLOPEN_LIBCURL));
        cr_assert_null(sym_curl_easy_init);
        cr_assert_null(sym_curl_multi_socket_action);
        cr_assert(!mapped(LIBCURL_SONAME));

        /* The others are not affected. */
        cr_assert_eq(dlopen_library(DLOPEN_LIBARCHIVE, NULL), 0);

        /* Once the package is there, the next attempt works: the failure was not cached. */
        cr_assert_eq(unsetenv(DLOPEN_TEST_MISSING_ENV), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), 0);
        cr_assert_not_null(sym_curl_easy_init);
        cr_assert_not_null(sym_curl_multi_socket_action);
}

Test(dlopen_libs, test_hook_list) {
        /* Comma or space separated; names match whole. */
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, " libcurlx,libcrypto libarchive ", 1), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCRYPTO, NULL), -ELIBACC);
        cr_assert_eq(dlopen_library(DLOPEN_LIBARCHIVE, NULL), -ELIBACC);
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "", 1), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBARCHIVE, NULL), 0);
}

Test(dlopen_libs, message) {
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libcurl,libarchive,libcrypto", 1), 0);
        for (DlopenLibrary l = 0; l < _DLOPEN_LIBRARY_MAX; l++) {
                char *m = NULL, *want = expected_message(l, "to download the binary of upgrade v2");
                cr_assert_eq(
                        dlopen_library_message(l, "to download the binary of upgrade v2", &m), -ELIBACC);
                cr_assert_str_eq(m, want);
                cr_assert_null(strchr(m, '\n'));
                free(m);
                free(want);
        }
        cr_assert_eq(unsetenv(DLOPEN_TEST_MISSING_ENV), 0);
        char *m = NULL;
        cr_assert_eq(dlopen_library_message(DLOPEN_LIBCRYPTO, "to verify", &m), 0);
        cr_assert_null(m);
}

Test(dlopen_libs, libcurl_older_than_the_floor_is_refused_at_load) {
        /* This machine's libcurl made to look like Debian 11's. */
        cr_assert_eq(setenv(DLOPEN_TEST_CURL_VERSION_ENV, "7.74.0", 1), 0);
        char *reason = NULL;
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, &reason), -ELIBACC);
        cr_assert_str_eq(reason, "it is version 7.74.0, older than " LIBCURL_MIN_VERSION " which oraivisor needs");
        free(reason);
        cr_assert(!dlopen_library_is_loaded(DLOPEN_LIBCURL));
        cr_assert_null(sym_curl_easy_init);
        cr_assert_null(sym_curl_version_info);

        char *m = NULL, *want = NULL;
        cr_assert_eq(dlopen_library_message(DLOPEN_LIBCURL, "to download the binary of upgrade v2", &m), -ELIBACC);
        const char *package = dlopen_library_package(DLOPEN_LIBCURL);
        cr_assert_geq(asprintf(&want,
                              "%s, needed to download the binary of upgrade v2, cannot be loaded (it is version 7.74.0, older than %s which oraivisor needs); install %s%s",
                              LIBCURL_SONAME, LIBCURL_MIN_VERSION, package ? "the Debian package " : "the package that provides ",
                              package ?: LIBCURL_SONAME),
                0);
        cr_assert_str_eq(m, want);
        cr_assert_null(strchr(m, '\n'));
        free(m);
        free(want);

        /* Just below and at the floor. */
        cr_assert_eq(setenv(DLOPEN_TEST_CURL_VERSION_ENV, "7.84.99", 1), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), -ELIBACC);
        cr_assert_eq(setenv(DLOPEN_TEST_CURL_VERSION_ENV, LIBCURL_MIN_VERSION, 1), 0);
        cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), 0);
        cr_assert_not_null(sym_curl_easy_init);
}

Test(dlopen_libs, curl_version_hook_can_only_make_loading_fail) {
        /* Newer than the real one, or not a version: ignored, the real (recent enough) one counts. */
        static const char *const ignored[] = {"99.0.0", "7.74", "x", "", "7.74.0.1", "7.74.0 "};
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++) {
                cr_assert_eq(setenv(DLOPEN_TEST_CURL_VERSION_ENV, ignored[i], 1), 0);
                cr_assert_eq(dlopen_library(DLOPEN_LIBCURL, NULL), 0, "'%s'", ignored[i]);
        }
        const curl_version_info_data *info = sym_curl_version_info(CURLVERSION_NOW);
        cr_assert_geq(info->version_num, (unsigned) LIBCURL_MIN_VERSION_NUM);
}

static int on_data(Fetch *f, const void *p, size_t n, void *userdata) {
        return 0;
}

static void on_done(Fetch *f, int error, const char *message, void *userdata) {
        cr_assert_fail("on_done must not be called");
}

Test(dlopen_libs, fetch_without_libcurl) {
        sd_event *e = NULL;
        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libcurl", 1), 0);

        FetchOptions o = {.url = "http://127.0.0.1:9/x", .what = "binary"};
        FetchCallbacks cb = {.on_data = on_data, .on_done = on_done};
        Fetch *f = NULL;
        cr_assert_eq(fetch_start(e, &o, &cb, NULL, &f), -ELIBACC);
        cr_assert_null(f);
        sd_event_unref(e);
}

Test(dlopen_libs, digest_without_libcrypto) {
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libcrypto", 1), 0);
        Digest *d = NULL;
        char *hex = NULL;
        cr_assert_eq(digest_new(CHECKSUM_SHA256, &d), -ELIBACC);
        cr_assert_null(d);
        cr_assert_eq(digest_buffer_hex(CHECKSUM_SHA512, "abc", 3, &hex), -ELIBACC);
        cr_assert_null(hex);
        /* A type we do not know stays "not supported", library or not. */
        cr_assert_eq(digest_new(_CHECKSUM_TYPE_INVALID, &d), -EOPNOTSUPP);
}

static void on_unpack_done(Unpack *u, int error, const char *message, void *userdata) {
        cr_assert_fail("on_done must not be called");
}

static int make_dir(char *template) {
        cr_assert_not_null(mkdtemp(template));
        int fd = open(template, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        return fd;
}

static void remove_dir(const char *path) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        cr_assert_eq(system(cmd), 0);
}

Test(dlopen_libs, unpack_start_without_libarchive) {
        char dir[] = "/tmp/test-dlopen-libs.XXXXXX";
        int dfd = make_dir(dir);
        sd_event *e = NULL;
        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libarchive", 1), 0);

        UnpackOptions o = {.dir_fd = dfd, .daemon_name = "oraid"};
        Unpack *u = NULL;
        cr_assert_eq(unpack_start(e, &o, on_unpack_done, NULL, NULL, &u), -ELIBACC);
        cr_assert_null(u);
        sd_event_unref(e);
        close(dfd);
        remove_dir(dir);
}

/* Runs the worker in-process over bytes from a pipe. */
static int unpack_bytes(int dfd, const void *p, size_t n, char **ret_message) {
        int pfd[2];
        cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
        cr_assert_eq(write(pfd[1], p, n), (ssize_t) n);
        close(pfd[1]);
        UnpackOptions o = {.dir_fd = dfd, .daemon_name = "oraid"};
        int r = unpack_stream(pfd[0], dfd, &o, ret_message);
        close(pfd[0]);
        return r;
}

Test(dlopen_libs, unpack_stream_without_libarchive) {
        char dir[] = "/tmp/test-dlopen-libs.XXXXXX";
        int dfd = make_dir(dir);
        cr_assert_eq(setenv(DLOPEN_TEST_MISSING_ENV, "libarchive", 1), 0);

        /* An archive needs libarchive: a clear error. (The first bytes of a .tar.gz.) */
        static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
        char *m = NULL, *want = expected_message(DLOPEN_LIBARCHIVE, "to unpack the download");
        cr_assert_eq(unpack_bytes(dfd, gz, sizeof(gz), &m), -ELIBACC);
        cr_assert_str_eq(m, want);
        free(m);
        free(want);
        cr_assert(!dlopen_library_is_loaded(DLOPEN_LIBARCHIVE));

        /* A plain executable does not. */
        static const char script[] = "#!/bin/sh\necho v2\n";
        m = NULL;
        cr_assert_eq(unpack_bytes(dfd, script, strlen(script), &m), 0, "%s", m);
        struct stat st;
        cr_assert_eq(fstatat(dfd, "bin/oraid", &st, AT_SYMLINK_NOFOLLOW), 0);
        cr_assert(S_ISREG(st.st_mode) && (st.st_mode & 0111));
        cr_assert(!dlopen_library_is_loaded(DLOPEN_LIBARCHIVE));

        close(dfd);
        remove_dir(dir);
}
