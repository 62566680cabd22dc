/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "proc-maps.h"
#include "string-util.h"

static const char *parse_hex(const char *p, uintptr_t *ret) {
        uintptr_t v = 0;
        const char *s = p;
        for (; *p; p++) {
                int d = unhexchar(*p);
                if (d < 0)
                        break;
                if (v > (UINTPTR_MAX >> 4))
                        return NULL;
                v = (v << 4) | (uintptr_t) d;
        }
        if (p == s)
                return NULL;
        *ret = v;
        return p;
}

/* Skips one field of non-blanks followed by at least one blank. */
static const char *skip_field(const char *p) {
        size_t n = strcspn(p, " \t\n");
        if (n == 0 || (p[n] != ' ' && p[n] != '\t'))
                return NULL;
        p += n;
        return p + strspn(p, " \t");
}

int proc_maps_parse_line(const char *line, ProcMapsEntry *ret) {
        ProcMapsEntry e = {};
        const char *p;

        if (!line || !ret)
                return -EINVAL;
        p = parse_hex(line, &e.start);
        if (!p || *p != '-')
                return -EINVAL;
        p = parse_hex(p + 1, &e.end);
        if (!p || *p != ' ' || e.end < e.start)
                return -EINVAL;
        p++;
        if (strspn(p, "rwxsp-") != 4 || p[4] != ' ')
                return -EINVAL;
        memcpy(e.perms, p, 4);
        e.perms[4] = 0;
        p += 5;
        /* offset, device, inode */
        for (int i = 0; i < 2; i++)
                if (!(p = skip_field(p)))
                        return -EINVAL;
        size_t n = strcspn(p, " \t\n");
        if (n == 0)
                return -EINVAL;
        p += n;
        p += strspn(p, " \t");
        size_t len = strcspn(p, "\n");
        if (len > 0) {
                e.path = p;
                if (len > STRLEN(" (deleted)") && memcmp(p + len - STRLEN(" (deleted)"), " (deleted)", STRLEN(" (deleted)")) == 0) {
                        len -= STRLEN(" (deleted)");
                        e.deleted = true;
                }
                e.path_len = len;
        }
        *ret = e;
        return 0;
}

/* A file name (after the last '/') that ends with suffix and has more before it. */
static bool has_suffix(const char *s, size_t len, const char *suffix) {
        size_t n = strlen(suffix);
        return len > n && s[len - n - 1] != '/' && memcmp(s + len - n, suffix, n) == 0;
}

bool proc_maps_entry_is_journal_file(const ProcMapsEntry *e) {
        if (!e || !e->path || e->path[0] != '/' || e->end <= e->start)
                return false;
        if (e->perms[1] != '-' || e->perms[3] != 's')
                return false;
        return has_suffix(e->path, e->path_len, ".journal") || has_suffix(e->path, e->path_len, ".journal~");
}
