/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the archive entry checks with "<entry path>\0<symlink target>": an accepted entry path is
 * normalised (relative, no empty, "." or ".." component, none over 255 bytes, normalising it again changes
 * nothing) and never escapes; an accepted symlink target, resolved lexically from the link's folder
 * (".." at the root stays at the root nowhere: it escapes), stays below the root. */

#include "archive-path.h"
#include "fuzz-util.h"

/* Resolves target from the folder of the normalised entry path, component by component as the kernel
 * would without following further links: false when it climbs above the root. */
static bool stays_below_root(const char *entry, const char *target) {
        if (target[0] == '/')
                return false;
        long depth = 0;
        for (const char *p = entry; *p; p++)
                if (*p == '/')
                        depth++; /* the link's folder is as deep as the slashes in its path */
        const char *p = target;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && strneq(p, "..", 2)) {
                        if (--depth < 0)
                                return false;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                p += n;
                if (*p == '/')
                        p++;
        }
        return true;
}

static void check_normalized(const char *n) {
        CHECK(n[0] && n[0] != '/');
        CHECK(n[strlen(n) - 1] != '/');
        CHECK(!strstr(n, "//"));
        const char *p = n;
        while (*p) {
                size_t len = strcspn(p, "/");
                CHECK(len > 0 && len <= 255);
                CHECK(!(len == 1 && p[0] == '.'));
                CHECK(!(len == 2 && strneq(p, "..", 2)));
                p += len;
                if (*p == '/')
                        p++;
        }
        _cleanup_free_ char *again = NULL;
        CHECK(archive_path_normalize(n, &again) == 0);
        CHECK(streq(again, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = fuzz_strndup(data, size), *target = NULL, *norm = NULL;
        size_t plen = strlen(path);
        target = plen < size ? fuzz_strndup(data + plen + 1, size - plen - 1) : NULL;

        int r = archive_path_normalize(path, &norm);
        CHECK(r == 0 || r == 1 || r == -EXDEV || r == -EINVAL);
        CHECK(archive_path_error(r) || r >= 0);
        if (r != 0)
                return 0;
        CHECK(norm);
        check_normalized(norm);

        if (!target)
                return 0;
        r = archive_symlink_target_check(norm, target);
        CHECK(r == 0 || r == -EXDEV || r == -EINVAL);
        if (r == 0) {
                CHECK(target[0]);
                if (!stays_below_root(norm, target))
                        fprintf(stderr, "'%s' -> '%s' escapes\n", norm, target);
                CHECK(stays_below_root(norm, target));
        } else
                CHECK(archive_path_error(r));
        return 0;
}
