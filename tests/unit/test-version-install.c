/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* shared/version-install: a local file through the unpack worker into a staging folder, published by one
 * rename or exchanged with the old folder, removal by renaming away; nothing left behind. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "version-install.h"

static char dir[] = "/tmp/test-version-install-XXXXXX";
static int dfd = -EBADF;

static void setup(void) {
        strcpy(dir, "/tmp/test-version-install-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dfd, 0);
        log_set_max_level(LOG_CRIT);
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        safe_close(dfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void) system(cmd);
}

static void put(const char *rel, const char *content, mode_t mode) {
        char cmd[PATH_MAX * 2];
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s/%s')\"", dir, rel);
        cr_assert_eq(system(cmd), 0);
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs(content, f);
        fclose(f);
        cr_assert_eq(chmod(p, mode), 0);
}

static char *get(const char *rel) {
        char *buf = NULL;
        size_t n;
        return read_file_at(dfd, rel, 1 << 20, &buf, &n) < 0 ? NULL : buf;
}

/* How many staging folders dir holds. */
static unsigned count_staging(void) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;
        cr_assert_not_null(d);
        while ((de = readdir(d)))
                n += startswith(de->d_name, VERSION_STAGING_PREFIX) != NULL;
        closedir(d);
        return n;
}

static void stage(VersionStaging *s, const char *content) {
        cr_assert_eq(version_staging_new(dfd, "v2", s), 0);
        cr_assert(startswith(s->name, ".staging-v2-"));
        cr_assert_eq(write_file_atomic_at(s->fd, "marker", content, strlen(content), 0644), 0);
}

TestSuite(version_install, .init = setup, .fini = teardown);

Test(version_install, publish_new_then_refuse_then_replace) {
        VersionStaging s = VERSION_STAGING_INIT;
        stage(&s, "one");
        cr_assert_eq(version_publish(&s, "v2", false), 0);
        cr_assert_null(s.name);
        version_staging_done(&s);
        _cleanup_free_ char *a = get("v2/marker");
        cr_assert_str_eq(a, "one");

        stage(&s, "two");
        cr_assert_eq(version_publish(&s, "v2", false), -EEXIST);
        version_staging_done(&s); /* the refused staging folder goes */
        cr_assert_eq(count_staging(), 0);
        _cleanup_free_ char *b = get("v2/marker");
        cr_assert_str_eq(b, "one");

        stage(&s, "three");
        cr_assert_eq(version_publish(&s, "v2", true), 0);
        version_staging_done(&s);
        _cleanup_free_ char *c = get("v2/marker");
        cr_assert_str_eq(c, "three");
        cr_assert_eq(count_staging(), 0, "the replaced folder is deleted");
}

Test(version_install, remove) {
        put("v2/bin/oraid", "#!/bin/sh\n", 0755);
        put("v2/lib/libx.so", "x", 0644);
        cr_assert_eq(version_remove(dfd, "v2"), 0);
        struct stat st;
        cr_assert_eq(fstatat(dfd, "v2", &st, AT_SYMLINK_NOFOLLOW), -1);
        cr_assert_eq(count_staging(), 0);
        cr_assert_eq(version_remove(dfd, "v2"), -ENOENT);
}

Test(version_install, files_equal) {
        put("a/bin/oraid", "#!/bin/sh\necho a\n", 0755);
        put("b/bin/oraid", "#!/bin/sh\necho a\n", 0755);
        put("c/bin/oraid", "#!/bin/sh\necho b\n", 0755);
        put("d/bin/oraid", "#!/bin/sh\necho a longer one\n", 0755);
        cr_assert_eq(version_files_equal(dfd, "a/bin/oraid", dfd, "b/bin/oraid"), 1);
        cr_assert_eq(version_files_equal(dfd, "a/bin/oraid", dfd, "c/bin/oraid"), 0);
        cr_assert_eq(version_files_equal(dfd, "a/bin/oraid", dfd, "d/bin/oraid"), 0);
        cr_assert_eq(version_files_equal(dfd, "a/bin/oraid", dfd, "e/bin/oraid"), -ENOENT);
        cr_assert_eq(version_files_equal(dfd, "a/bin", dfd, "b/bin"), -EBADFD);
        /* Not outside its folder. */
        cr_assert_lt(version_files_equal(dfd, "a/bin/oraid", dfd, "../../etc/passwd"), 0);
}

Test(version_install, unpack_plain_script) {
        put("src", "#!/bin/sh\nexit 0\n", 0644);
        _cleanup_close_ int src = openat(dfd, "src", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(src, 0);
        VersionStaging s = VERSION_STAGING_INIT;
        cr_assert_eq(version_staging_new(dfd, "v3", &s), 0);
        UnpackOptions o = {.daemon_name = "oraid"};
        _cleanup_free_ char *m = NULL;
        cr_assert_eq(version_unpack_file(src, &s, &o, &m), 0, "%s", m ? m : "");
        cr_assert_eq(version_publish(&s, "v3", false), 0);
        version_staging_done(&s);
        struct stat st;
        cr_assert_eq(fstatat(dfd, "v3/bin/oraid", &st, 0), 0);
        cr_assert(S_ISREG(st.st_mode));
        cr_assert_eq(st.st_mode & 0111, 0111, "made executable");
        cr_assert_eq(version_files_equal(dfd, "src", dfd, "v3/bin/oraid"), 1);
}

Test(version_install, unpack_refuses_text) {
        put("notes", "just some text\n", 0644);
        _cleanup_close_ int src = openat(dfd, "notes", O_RDONLY | O_CLOEXEC);
        VersionStaging s = VERSION_STAGING_INIT;
        cr_assert_eq(version_staging_new(dfd, "v3", &s), 0);
        UnpackOptions o = {.daemon_name = "oraid"};
        _cleanup_free_ char *m = NULL;
        cr_assert_eq(version_unpack_file(src, &s, &o, &m), -EBADMSG);
        cr_assert_not_null(m);
        cr_assert(strstr(m, "neither an archive"), "%s", m);
        version_staging_done(&s);
        cr_assert_eq(count_staging(), 0);
}

Test(version_install, staging_is_locked_while_filled) {
        VersionStaging s = VERSION_STAGING_INIT;
        cr_assert_eq(version_staging_new(dfd, "v2", &s), 0);
        _cleanup_close_ int other = openat(dfd, s.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(other, 0);
        cr_assert_eq(flock(other, LOCK_EX | LOCK_NB), -1, "the writer holds it");
        cr_assert_eq(errno, EWOULDBLOCK);
        version_staging_done(&s);
        cr_assert_eq(count_staging(), 0);
}
