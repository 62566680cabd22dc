/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "archive-path.h"
#include "string-util.h"

int archive_path_normalize(const char *path, char **ret) {
        assert(ret);

        if (isempty(path))
                return -EINVAL;
        if (path[0] == '/')
                return -EXDEV;

        size_t len = strlen(path);
        _cleanup_free_ char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EXDEV;
                if (n > 255)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char) p[i] < ' ' || p[i] == 0x7f)
                                return -EINVAL;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        out[o] = 0;
        if (o == 0)
                return 1;
        *ret = TAKE_PTR(out);
        return 0;
}

int archive_symlink_target_check(const char *entry_path, const char *target) {
        if (isempty(target))
                return -EINVAL;
        if (target[0] == '/')
                return -EXDEV;

        /* Depth of the link's folder below the root. */
        long depth = 0;
        for (const char *p = entry_path; *p; p++)
                if (*p == '/')
                        depth++;

        /* ".." only before the first name: "d" -> "." then "x" -> "d/d/../.." would be lexically
         * inside but escapes once the kernel follows "d". With ".." leading, and every link checked the
         * same way, no chain of links can leave the root. */
        bool seen_name = false;
        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (seen_name || --depth < 0)
                                return -EXDEV;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        seen_name = true;
                p += n;
                while (*p == '/')
                        p++;
        }
        return 0;
}

mode_t archive_install_mode(ArchiveInstallKind kind, mode_t archive_mode) {
        switch (kind) {
        case ARCHIVE_INSTALL_DIRECTORY:
        case ARCHIVE_INSTALL_BINARY: return 0755;
        case ARCHIVE_INSTALL_FILE: return (archive_mode & 0111) ? 0755 : 0644;
        default: assert(!"bad ArchiveInstallKind"); return 0;
        }
}

const char *archive_path_error(int r) {
        switch (r) {
        case -EXDEV: return "it points outside the folder (absolute path or '..')";
        case -EINVAL: return "the path is empty, too long or contains control characters";
        case -ENOMEM: return "out of memory";
        default: return "the path is not acceptable";
        }
}
