/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /proc/self/maps lines, and which of them are journal files that may be released. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proc-maps.h"

static ProcMapsEntry parse_ok(const char *line) {
        ProcMapsEntry e;
        cr_assert_eq(proc_maps_parse_line(line, &e), 0, "%s", line);
        return e;
}

static bool path_is(const ProcMapsEntry *e, const char *p) {
        return e->path && e->path_len == strlen(p) && memcmp(e->path, p, e->path_len) == 0;
}

Test(proc_maps, journal_file_mapping) {
        ProcMapsEntry e = parse_ok("7f3a1c000000-7f3a1c800000 r--s 00000000 fe:01 1835223                    "
                "/var/log/journal/4f1d8c5b0e3f4a6e9d5f7b2c1a0e9d8c/system.journal\n");
        cr_expect_eq(e.start, (uintptr_t) 0x7f3a1c000000);
        cr_expect_eq(e.end, (uintptr_t) 0x7f3a1c800000);
        cr_expect_str_eq(e.perms, "r--s");
        cr_expect(path_is(&e, "/var/log/journal/4f1d8c5b0e3f4a6e9d5f7b2c1a0e9d8c/system.journal"));
        cr_expect_not(e.deleted);
        cr_expect(proc_maps_entry_is_journal_file(&e));

        /* archived, set-aside, user and vacuumed (deleted) files count too */
        e = parse_ok("7f3a1c000000-7f3a1c001000 r--s 00000000 fe:01 12 /run/log/journal/x/system@0005f3-0005f4.journal~");
        cr_expect(proc_maps_entry_is_journal_file(&e));
        e = parse_ok("7f3a1c000000-7f3a1c001000 r--s 00800000 fe:01 12 /var/log/journal/x/user-1500@a-1-2.journal (deleted)\n");
        cr_expect(e.deleted);
        cr_expect(path_is(&e, "/var/log/journal/x/user-1500@a-1-2.journal"));
        cr_expect(proc_maps_entry_is_journal_file(&e));
}

Test(proc_maps, other_mappings_are_never_released) {
        /* private, writable, libraries, anonymous, a name that only contains "journal" */
        const char *lines[] = {
                "7f3a1c000000-7f3a1c800000 r--p 00000000 fe:01 1835223 /var/log/journal/x/system.journal",
                "7f3a1c000000-7f3a1c800000 rw-s 00000000 fe:01 1835223 /var/log/journal/x/system.journal",
                "7f3a1d000000-7f3a1d1a0000 r-xp 00026000 fe:01 393 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "55d0c8e6f000-55d0c8e90000 rw-p 00000000 00:00 0                          [heap]",
                "7ffd5b9e0000-7ffd5ba01000 rw-p 00000000 00:00 0                          [stack]",
                "7f3a1c000000-7f3a1c001000 rw-p 00000000 00:00 0 ",
                "7f3a1c000000-7f3a1c001000 rw-p 00000000 00:00 0",
                "7f3a1c000000-7f3a1c001000 r--s 00000000 fe:01 77 /srv/journal.journal.bak",
                "7f3a1c000000-7f3a1c001000 r--s 00000000 fe:01 77 .journal",
                "7f3a1c000000-7f3a1c001000 r--s 00000000 fe:01 77 /.journal",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                ProcMapsEntry e = parse_ok(lines[i]);
                cr_expect_not(proc_maps_entry_is_journal_file(&e), "%s", lines[i]);
        }
        ProcMapsEntry e = parse_ok("7f3a1c000000-7f3a1c001000 rw-p 00000000 00:00 0\n");
        cr_expect_null(e.path);
}

Test(proc_maps, malformed_lines) {
        const char *bad[] = {
                "",
                "\n",
                "7f3a1c000000",
                "7f3a1c000000-",
                "7f3a1c000000-7f3a1c001000",
                "7f3a1c000000-7f3a1c001000 ",
                "7f3a1c000000-7f3a1c001000 r--s",
                "7f3a1c000000-7f3a1c001000 r-s 0 fe:01 1 /a.journal",
                "7f3a1c000000-7f3a1c001000 r--q 0 fe:01 1 /a.journal",
                "7f3a1c000000-7f3a1c001000 r--s 0 fe:01",
                "7f3a1c001000-7f3a1c000000 r--s 0 fe:01 1 /a.journal", /* end before start */
                "g7f3a1c000000-7f3a1c001000 r--s 0 fe:01 1 /a.journal",
                "1ffffffffffffffff-2ffffffffffffffff r--s 0 fe:01 1 /a.journal", /* overflow */
                " 7f3a1c000000-7f3a1c001000 r--s 0 fe:01 1 /a.journal",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ProcMapsEntry e;
                cr_expect_eq(proc_maps_parse_line(bad[i], &e), -EINVAL, "'%s'", bad[i]);
        }
        ProcMapsEntry e;
        cr_expect_eq(proc_maps_parse_line(NULL, &e), -EINVAL);
}

Test(proc_maps, our_own_maps_parse) {
        /* Every line the kernel gives us has the shape we expect. */
        FILE *f = fopen("/proc/self/maps", "re");
        cr_assert_not_null(f);
        char line[4096];
        size_t n = 0;
        while (fgets(line, sizeof(line), f)) {
                ProcMapsEntry e;
                cr_expect_eq(proc_maps_parse_line(line, &e), 0, "%s", line);
                n++;
        }
        fclose(f);
        cr_expect_gt(n, 5);
}
