/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "uid-map.h"

#define EXTENTS_MAX 340 /* the kernel's limit */

typedef struct Extent {
        uint64_t first, count;
} Extent;

static int cmp_extent(const void *a, const void *b) {
        const Extent *x = a, *y = b;
        return x->first < y->first ? -1 : x->first > y->first;
}

int uid_map_covers(const char *text, uint64_t first, uint64_t count) {
        Extent e[EXTENTS_MAX];
        size_t n = 0;

        assert(text);
        for (const char *l = text; *l;) {
                const char *eol = strchrnul(l, '\n');
                char line[128];
                size_t len = eol - l;
                if (len >= sizeof line)
                        return -EINVAL;
                memcpy(line, l, len);
                line[len] = 0;
                l = *eol ? eol + 1 : eol;
                if (strspn(line, " \t") == len)
                        continue;
                uint64_t inside, outside, c;
                int consumed = 0;
                if (sscanf(line, " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &inside, &outside, &c, &consumed) != 3 ||
                    line[consumed] != 0 || c == 0 || inside > UINT32_MAX || c > UINT64_C(1) << 32 || n >= EXTENTS_MAX)
                        return -EINVAL;
                e[n++] = (Extent) { inside, c };
        }
        if (count == 0)
                return 1;
        qsort(e, n, sizeof(Extent), cmp_extent);
        uint64_t want = first, end = first + count;
        for (size_t i = 0; i < n && want < end; i++)
                if (e[i].first <= want && e[i].first + e[i].count > want)
                        want = e[i].first + e[i].count;
        return want >= end;
}
