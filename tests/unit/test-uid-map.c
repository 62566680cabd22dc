/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Which ids a user namespace maps: the unpack worker's own users exist outside rootless containers. */

#include <criterion/criterion.h>
#include <errno.h>

#include "uid-map.h"

#define BASE UINT64_C(2130706432)

Test(uid_map, covers) {
        const char *host = "         0          0 4294967295\n";
        cr_expect_eq(uid_map_covers(host, BASE, 4194304), 1);
        cr_expect_eq(uid_map_covers(host, 65534, 1), 1);
        const char *rootless = "         0       1000          1\n         1     100000      65536\n";
        cr_expect_eq(uid_map_covers(rootless, BASE, 4194304), 0);
        cr_expect_eq(uid_map_covers(rootless, 65534, 1), 1);
        cr_expect_eq(uid_map_covers(rootless, 0, 65537), 1, "two extents joined");
        cr_expect_eq(uid_map_covers(rootless, 0, 65538), 0);
        const char *only_root = "0 0 1\n";
        cr_expect_eq(uid_map_covers(only_root, 65534, 1), 0);
        cr_expect_eq(uid_map_covers(only_root, 0, 1), 1);
        /* Out of order, overlapping at the edge. */
        cr_expect_eq(uid_map_covers("10 0 10\n0 50 10\n", 0, 20), 1);
        cr_expect_eq(uid_map_covers("10 0 10\n0 50 9\n", 0, 20), 0);
        cr_expect_eq(uid_map_covers("", 0, 1), 0, "nothing mapped");
        cr_expect_eq(uid_map_covers("", 0, 0), 1);
}

Test(uid_map, malformed) {
        cr_expect_eq(uid_map_covers("0 0\n", 0, 1), -EINVAL);
        cr_expect_eq(uid_map_covers("a b c\n", 0, 1), -EINVAL);
        cr_expect_eq(uid_map_covers("0 0 0\n", 0, 1), -EINVAL);
        cr_expect_eq(uid_map_covers("0 0 1 extra\n", 0, 1), -EINVAL);
        cr_expect_eq(uid_map_covers("4294967296 0 1\n", 0, 1), -EINVAL);
}
