/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <sys/stat.h>

#include "archive-path.h"

Test(archive_path, normalize_table) {
        static const struct {
                const char *in;
                int ret;
                const char *out;
        } t[] = {
                {"bin/oraid", 0, "bin/oraid"},
                {"./bin//oraid", 0, "bin/oraid"},
                {"bin/./oraid/", 0, "bin/oraid"},
                {"lib/", 0, "lib"},
                {"...", 0, "..."},
                {"..foo/bar..", 0, "..foo/bar.."},
                {"./", 1, NULL},
                {".", 1, NULL},
                {"", -EINVAL, NULL},
                {"/etc/passwd", -EXDEV, NULL},
                {"../x", -EXDEV, NULL},
                {"a/../b", -EXDEV, NULL},
                {"a/..", -EXDEV, NULL},
                {"a/\x01b", -EINVAL, NULL},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *out = NULL;
                int r = archive_path_normalize(t[i].in, &out);
                cr_assert_eq(r, t[i].ret, "'%s': %d", t[i].in, r);
                if (t[i].out)
                        cr_assert_str_eq(out, t[i].out);
                else
                        cr_assert_null(out);
                free(out);
        }
        char long_name[300];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        char *out = NULL;
        cr_assert_eq(archive_path_normalize(long_name, &out), -EINVAL);
}

Test(archive_path, symlink_targets) {
        static const struct {
                const char *entry;
                const char *target;
                int ret;
        } t[] = {
                {"lib/libwasmvm.so", "libwasmvm.x86_64.so", 0},
                {"bin/oraid", "../lib/oraid", 0},
                {"a/b/c", "../../x", 0},
                {"a/b/c", "./../../x", 0},
                {"link", ".", 0},
                {"link", "x/y/z", 0},
                {"bin/oraid", "../../etc/passwd", -EXDEV},
                {"link", "..", -EXDEV},
                {"a/b", "../../x", -EXDEV},
                {"link", "/etc/passwd", -EXDEV},
                /* ".." after a name could walk back through a symlink: refused. */
                {"a/b/c", "d/../../x", -EXDEV},
                {"x", "d/d/d/../../..", -EXDEV},
                {"link", "", -EINVAL},
                {"link", NULL, -EINVAL},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                cr_assert_eq(archive_symlink_target_check(t[i].entry, t[i].target), t[i].ret, "'%s' -> '%s'",
                        t[i].entry, t[i].target ?: "(null)");
        cr_assert_str_eq(archive_path_error(-EXDEV), "it points outside the folder (absolute path or '..')");
}

Test(archive_path, install_mode) {
        static const struct {
                ArchiveInstallKind kind;
                mode_t in;
                mode_t out;
        } t[] = {
                /* Group- and world-writable modes from the archive are never kept. */
                {ARCHIVE_INSTALL_DIRECTORY, 0777, 0755},
                {ARCHIVE_INSTALL_FILE, 0666, 0644},
                {ARCHIVE_INSTALL_FILE, 0777, 0755},
                {ARCHIVE_INSTALL_BINARY, 0777, 0755},
                {ARCHIVE_INSTALL_FILE, 0620, 0644},
                /* setuid, setgid and sticky bits go. */
                {ARCHIVE_INSTALL_FILE, 04755, 0755},
                {ARCHIVE_INSTALL_FILE, 02644, 0644},
                {ARCHIVE_INSTALL_DIRECTORY, 01777, 0755},
                {ARCHIVE_INSTALL_BINARY, 06755, 0755},
                /* Everything is readable (the node's user reads the libraries), folders searchable. */
                {ARCHIVE_INSTALL_DIRECTORY, 0700, 0755},
                {ARCHIVE_INSTALL_DIRECTORY, 0, 0755},
                {ARCHIVE_INSTALL_FILE, 0600, 0644},
                {ARCHIVE_INSTALL_FILE, 0, 0644},
                {ARCHIVE_INSTALL_FILE, 0100, 0755},
                {ARCHIVE_INSTALL_FILE, 0001, 0755},
                {ARCHIVE_INSTALL_BINARY, 0644, 0755},
                {ARCHIVE_INSTALL_BINARY, 0, 0755},
                /* Type bits (as stat() gives them) do not matter. */
                {ARCHIVE_INSTALL_FILE, S_IFREG | 0664, 0644},
                {ARCHIVE_INSTALL_DIRECTORY, S_IFDIR | 0775, 0755},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                cr_assert_eq(archive_install_mode(t[i].kind, t[i].in), t[i].out, "kind %d, %o: %o", t[i].kind,
                        (unsigned) t[i].in, (unsigned) archive_install_mode(t[i].kind, t[i].in));
}
