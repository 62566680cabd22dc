/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scheduled-upgrades.json both ways, and cosmovisor's add-batch-upgrade CSV. */

#include <criterion/criterion.h>
#include <string.h>

#include "height-schedule.h"

Test(height_schedule, round_trip_ordered) {
        HeightSchedule s = {}, t = {};
        const char *other = NULL, *reason = NULL;
        cr_assert_eq(height_schedule_add(&s, "v3", 300, 7, NULL), 0);
        cr_assert_eq(height_schedule_add(&s, "v2", 200, 5, NULL), 0);
        cr_assert_eq(height_schedule_mark_halted(&s, "v2"), 1);
        cr_assert_eq(height_schedule_mark_halted(&s, "v9"), 0);
        cr_assert_eq(height_schedule_add(&s, "v4", 200, 5, &other), -EEXIST);
        cr_expect_str_eq(other, "v2");
        cr_assert_eq(s.n_entries, 2);
        cr_expect_str_eq(s.entries[0].name, "v2");

        char *json = NULL;
        cr_assert_eq(height_schedule_to_json(&s, &json), 0);
        cr_assert_eq(height_schedule_from_json(json, strlen(json), &t, &reason), 0, "%s", reason);
        cr_assert_eq(t.n_entries, 2);
        cr_expect_str_eq(t.entries[0].name, "v2");
        cr_expect_eq(t.entries[0].height, 200);
        cr_expect_eq(t.entries[0].added, 5);
        cr_expect(t.entries[0].halted);
        cr_expect(!t.entries[1].halted);
        cr_expect_str_eq(t.entries[1].name, "v3");
        cr_expect_eq(t.entries[1].height, 300);
        free(json);
        height_schedule_done(&t);

        /* Moving an upgrade to another height keeps one entry. */
        cr_assert_eq(height_schedule_add(&s, "v3", 100, 9, NULL), 0);
        cr_assert_eq(s.n_entries, 2);
        cr_expect_str_eq(s.entries[0].name, "v3");
        cr_expect_str_eq(height_schedule_next(&s, 100)->name, "v2");
        cr_expect_str_eq(height_schedule_next(&s, 0)->name, "v3");
        cr_expect_null(height_schedule_next(&s, 200));
        cr_expect_eq(height_schedule_remove(&s, "v3"), 1);
        cr_expect_eq(height_schedule_remove(&s, "v3"), 0);
        cr_expect_null(height_schedule_find(&s, "v3"));
        cr_expect_not_null(height_schedule_find(&s, "v2"));
        height_schedule_done(&s);
}

static void refused(const char *json) {
        HeightSchedule s = {};
        const char *reason = NULL;
        cr_expect_eq(height_schedule_from_json(json, strlen(json), &s, &reason), -EBADMSG, "%s", json);
        cr_expect_not_null(reason, "%s", json);
        cr_expect_eq(s.n_entries, 0);
}

Test(height_schedule, refuses) {
        refused("");
        refused("[]");
        refused("{\"upgrades\":[]}");
        refused("{\"version\":2,\"upgrades\":[]}");
        refused("{\"version\":1}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\"}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\",\"height\":0}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\",\"height\":\"5\"}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\",\"height\":5,\"halted\":1}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"../x\",\"height\":5}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\",\"height\":5},{\"name\":\"v3\",\"height\":5}]}");
        refused("{\"version\":1,\"upgrades\":[{\"name\":\"v2\",\"height\":5},{\"name\":\"v2\",\"height\":6}]}");
}

Test(height_batch, good) {
        const char *csv = "# name,path,height\n\nv2, /opt/oraid-v2 ,100\r\n  v3,bin/oraid,200";
        HeightBatchLine *l = NULL;
        size_t n = 0;
        unsigned line = 99;
        const char *reason = NULL;
        cr_assert_eq(height_batch_parse(csv, strlen(csv), &l, &n, &line, &reason), 0, "%s", reason);
        cr_assert_eq(n, 2);
        cr_expect_str_eq(l[0].name, "v2");
        cr_expect_str_eq(l[0].path, "/opt/oraid-v2");
        cr_expect_eq(l[0].height, 100);
        cr_expect_eq(l[0].line, 3);
        cr_expect_str_eq(l[1].name, "v3");
        cr_expect_eq(l[1].height, 200);
        cr_expect_eq(l[1].line, 4);
        height_batch_free(l, n);
}

static void bad(const char *csv, unsigned want_line) {
        HeightBatchLine *l = NULL;
        size_t n = 0;
        unsigned line = 99;
        const char *reason = NULL;
        cr_expect_eq(height_batch_parse(csv, strlen(csv), &l, &n, &line, &reason), -EINVAL, "%s", csv);
        cr_expect_eq(line, want_line, "%s: line %u", csv, line);
        cr_expect_not_null(reason);
}

Test(height_batch, bad) {
        bad("", 0);
        bad("# only a comment\n", 0);
        bad("v2,/a,100\nv3,/b\n", 2);
        bad("v2,/a,100,extra\n", 1);
        bad("v2,/a,-5\n", 1);
        bad("v2,/a,0\n", 1);
        bad("v2,/a,10x\n", 1);
        bad("v2,/a,99999999999999999999\n", 1);
        bad("v2,,100\n", 1);
        bad("../v2,/a,100\n", 1);
        bad(",/a,100\n", 1);
        bad("v2,/a,100\n\nv2,/b,200\n", 3);
        bad("v2,/a,100\nv3,/b,100\n", 2);
}
