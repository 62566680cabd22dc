/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /proc/<pid>/stat lines, and which processes below us a daemon left behind. */

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "proc-stat.h"

static ProcStat parse_ok(const char *s) {
        ProcStat st;
        cr_assert_eq(proc_stat_parse(s, strlen(s), &st), 0, "%s", s);
        return st;
}

Test(proc_stat, plain_line) {
        ProcStat st = parse_ok("4242 (fakechaind) S 17 4242 17 0 -1 4194560 112 0 0 0 0 0 0 0 20 0 1 0 2207 "
                "5578752 331 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n");
        cr_expect_eq(st.pid, 4242);
        cr_expect_eq(st.state, 'S');
        cr_expect_eq(st.ppid, 17);
        cr_expect_eq(st.pgrp, 4242);
        cr_expect_eq(st.starttime, 2207);
}

Test(proc_stat, name_with_spaces_and_parentheses) {
        /* A process may name itself anything: the last ')' ends the name. */
        ProcStat st = parse_ok("7 (a) Z 1 (b)) ) R 99 7 99 0");
        cr_expect_eq(st.pid, 7);
        cr_expect_eq(st.state, 'R');
        cr_expect_eq(st.ppid, 99);
        cr_expect_eq(st.pgrp, 7);
        st = parse_ok("8 (x\ny) Z 1 8");
        cr_expect_eq(st.state, 'Z');
        cr_expect_eq(st.ppid, 1);
}

Test(proc_stat, init_and_kernel_threads) {
        ProcStat st = parse_ok("1 (oraivisor) S 0 1 1 34816 1 4194560");
        cr_expect_eq(st.starttime, 0); /* a short line: no start time */
        cr_expect_eq(st.ppid, 0);
        st = parse_ok("2 (kthreadd) S 0 0 0 0 -1");
        cr_expect_eq(st.pgrp, 0);
}

Test(proc_stat, truncated_after_pgrp) {
        /* reaper.c reads the first 512 bytes only: the fields it needs come first. */
        ProcStat st = parse_ok("123 (sh) S 1 123");
        cr_expect_eq(st.pgrp, 123);
}

Test(proc_stat, bad_lines) {
        static const char *const bad[] = {
                "", "4242", "4242 fakechaind S 1 1", "4242 (fakechaind S 1 1", "x (a) S 1 1", "0 (a) S 1 1",
                "-5 (a) S 1 1", "4242 (a) 1 1", "4242 (a) S", "4242 (a) S x 1", "4242 (a) S 1", "4242 (a) S 1 x",
                "4242 (a) S 1 2x", "99999999999 (a) S 1 1", "4242 (a) S -1 1", "4242 (a)  S 1 1",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ProcStat st = { .pid = -7 };
                cr_expect_eq(proc_stat_parse(bad[i], strlen(bad[i]), &st), -EINVAL, "'%s'", bad[i]);
                cr_expect_eq(st.pid, -7, "written on failure: '%s'", bad[i]);
        }
}

Test(proc_stat, not_nul_terminated) {
        const char buf[] = "55 (a) S 3 55 9";
        ProcStat st;
        /* cut inside the pgrp: "55 (a) S 3 5" */
        cr_assert_eq(proc_stat_parse(buf, 12, &st), 0);
        cr_expect_eq(st.pgrp, 5);
}

#define P(pid_, state_, ppid_) { .pid = (pid_), .state = (state_), .ppid = (ppid_), .pgrp = (pid_) }

Test(proc_tree, strays_below_us) {
        /* We are 100. 101 is the daemon (ours, a zombie now), 150 a backup worker (ours) with a child 151.
         * 120 came to us when the daemon died, 121 is its child; 130 is a zombie orphan; 200 and 201
         * belong to somebody else, 300 is our parent. */
        const ProcStat procs[] = {
                P(1, 'S', 0),     P(300, 'S', 1),   P(100, 'S', 300), P(101, 'Z', 100), P(150, 'R', 100),
                P(151, 'D', 150), P(120, 'S', 100), P(121, 'R', 120), P(130, 'Z', 100), P(200, 'S', 1),
                P(201, 'S', 200),
        };
        const pid_t own[] = { 101, 150 };
        bool strays[ELEMENTSOF(procs)];
        cr_assert_eq(proc_tree_mark_strays(procs, ELEMENTSOF(procs), 100, own, ELEMENTSOF(own), strays), 2);
        for (size_t i = 0; i < ELEMENTSOF(procs); i++)
                cr_expect_eq(strays[i], procs[i].pid == 120 || procs[i].pid == 121, "pid %d", (int) procs[i].pid);
}

Test(proc_tree, pid_one) {
        /* As PID 1 every process of the namespace is below us. */
        const ProcStat procs[] = { P(1, 'S', 0), P(7, 'S', 1), P(8, 'S', 7), P(9, 'Z', 1), P(2, 'S', 1) };
        const pid_t own[] = { 2 };
        bool strays[ELEMENTSOF(procs)];
        cr_assert_eq(proc_tree_mark_strays(procs, ELEMENTSOF(procs), 1, own, ELEMENTSOF(own), strays), 2);
        cr_expect(strays[1] && strays[2]);
        cr_expect(!strays[0] && !strays[3] && !strays[4]);
}

Test(proc_tree, loops_and_missing_parents) {
        /* A list read while pids were reused may hold a cycle, or a parent gone meanwhile. */
        const ProcStat procs[] = { P(100, 'S', 1), P(5, 'S', 6), P(6, 'S', 5), P(7, 'S', 4242), P(8, 'S', 8) };
        bool strays[ELEMENTSOF(procs)];
        cr_assert_eq(proc_tree_mark_strays(procs, ELEMENTSOF(procs), 100, NULL, 0, strays), 0);
        cr_assert_eq(proc_tree_mark_strays(NULL, 0, 100, NULL, 0, strays), 0);
}
