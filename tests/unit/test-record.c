/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "record.h"

Test(record, round_trip) {
        UpgradeRecord r = { .step = UPGRADE_STEP_PREUPGRADE, .backup_name = (char *) "data-backup-v2-20261129T050000Z",
                .started_usec = 1234567, .folder = (char *) "v2%20x" };
        cr_assert_eq(upgrade_plan_new("v2 x", 100, NULL, "{\"binaries\":{\"any\":\"https://e/x?checksum=sha256:ab\"}}", &r.plan), 0);
        char *json = NULL;
        cr_assert_eq(upgrade_record_to_json(&r, &json), 0);

        UpgradeRecord *back = NULL;
        const char *reason = NULL;
        cr_assert_eq(upgrade_record_from_json(json, strlen(json), &back, &reason), 0, "%s", json);
        cr_assert(upgrade_plan_same(back->plan, r.plan));
        cr_assert_str_eq(back->plan->info, r.plan->info);
        cr_assert_str_eq(back->folder, r.folder);
        cr_assert_str_eq(back->backup_name, r.backup_name);
        cr_assert_eq(back->step, UPGRADE_STEP_PREUPGRADE);
        cr_assert_eq(back->started_usec, 1234567);
        upgrade_record_free(back);
        upgrade_plan_free(r.plan);
        free(json);
}

Test(record, damaged_records_rejected) {
        static const char *const bad[] = {
                "",
                "[]",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"step\":\"dance\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"../x\",\"step\":\"switch\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"a/b\",\"step\":\"switch\"}",
                "{\"plan\":{\"height\":1},\"folder\":\"v2\",\"step\":\"switch\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"step\":\"switch\",\"backup\":\"../../etc\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"step\":\"switch\"",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                UpgradeRecord *r = NULL;
                const char *reason = NULL;
                cr_assert_eq(upgrade_record_from_json(bad[i], strlen(bad[i]), &r, &reason), -EBADMSG, "%s", bad[i]);
                cr_assert_not_null(reason, "no reason for %s", bad[i]);
                cr_assert_null(r);
        }
}

Test(record, steps_names) {
        for (UpgradeStep s = 0; s < _UPGRADE_STEP_MAX; s++)
                cr_assert_eq(upgrade_step_from_string(upgrade_step_to_string(s)), s);
        cr_assert_eq(upgrade_step_from_string("nope"), _UPGRADE_STEP_INVALID);
}

#define GOOD "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"step\":\"switch\"}"

Test(record, parsed_with_its_length) {
        UpgradeRecord *r = NULL;
        const char *reason = NULL;
        /* Not NUL-terminated: only len bytes count. */
        char buf[sizeof(GOOD) + 8];
        memcpy(buf, GOOD, strlen(GOOD));
        memset(buf + strlen(GOOD), 'x', sizeof(buf) - strlen(GOOD));
        cr_assert_eq(upgrade_record_from_json(buf, strlen(GOOD), &r, &reason), 0);
        cr_assert_eq(r->step, UPGRADE_STEP_SWITCH);
        r = upgrade_record_free(r);
        /* Trailing white space (an editor's newline) is fine. */
        static const char nl[] = GOOD "\n \t";
        cr_assert_eq(upgrade_record_from_json(nl, strlen(nl), &r, &reason), 0);
        r = upgrade_record_free(r);

        /* A NUL inside, or anything after the object, is a damaged record, not a shorter one. */
        static const char nul[] = GOOD "\0garbage";
        cr_assert_eq(upgrade_record_from_json(nul, sizeof(nul) - 1, &r, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "not a JSON object");
        cr_assert_null(r);
        static const char nul_inside[] = "{\"plan\":{\"name\":\"v2\",\"height\":1},\0\"folder\":\"v2\",\"step\":\"switch\"}";
        cr_assert_eq(upgrade_record_from_json(nul_inside, sizeof(nul_inside) - 1, &r, &reason), -EBADMSG);
        static const char trailing[] = GOOD "{}";
        cr_assert_eq(upgrade_record_from_json(trailing, strlen(trailing), &r, &reason), -EBADMSG);
        static const char trailing2[] = GOOD " x";
        cr_assert_eq(upgrade_record_from_json(trailing2, strlen(trailing2), &r, &reason), -EBADMSG);
        /* Cut short by the length. */
        cr_assert_eq(upgrade_record_from_json(GOOD, strlen(GOOD) - 1, &r, &reason), -EBADMSG);
        cr_assert_null(r);
}

Test(record, interruption_round_trip) {
        UpgradeInterruption i = { .by = (char *) "SIGTERM", .step = UPGRADE_STEP_PREUPGRADE,
                .outcome = (char *) "the pre-upgrade command exited with status 0 after SIGTERM", .killed = true, .usec = 42 };
        UpgradeRecord r = { .step = UPGRADE_STEP_PREUPGRADE, .folder = (char *) "v2", .interrupted = &i };
        cr_assert_eq(upgrade_plan_new("v2", 100, NULL, NULL, &r.plan), 0);
        char *json = NULL;
        cr_assert_eq(upgrade_record_to_json(&r, &json), 0);
        cr_assert(strstr(json, "\"interrupted\":{\"by\":\"SIGTERM\",\"step\":\"pre-upgrade\""), "%s", json);
        UpgradeRecord *back = NULL;
        const char *reason = NULL;
        cr_assert_eq(upgrade_record_from_json(json, strlen(json), &back, &reason), 0, "%s", json);
        cr_assert_not_null(back->interrupted);
        cr_assert_str_eq(back->interrupted->by, "SIGTERM");
        cr_assert_eq(back->interrupted->step, UPGRADE_STEP_PREUPGRADE);
        cr_assert_str_eq(back->interrupted->outcome, i.outcome);
        cr_assert(back->interrupted->killed);
        cr_assert_eq(back->interrupted->usec, 42);
        upgrade_record_free(back);
        free(json);

        static const char bad[] = "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"step\":\"switch\",\"interrupted\":{\"by\":1}}";
        cr_assert_eq(upgrade_record_from_json(bad, strlen(bad), &back, &reason), -EBADMSG);
        cr_assert(strstr(reason, "interrupted"), "%s", reason);
        upgrade_plan_free(r.plan);
}

Test(record, last_upgrade_round_trip) {
        LastUpgrade l = { .folder = (char *) "v2%20x", .backup_name = (char *) "data-backup-v2-20261129T050000Z",
                .started_usec = 1000000, .finished_usec = 61000000 };
        cr_assert_eq(upgrade_plan_new("v2 x", 100, NULL, "{}", &l.plan), 0);
        char *json = NULL;
        cr_assert_eq(last_upgrade_to_json(&l, &json), 0);
        LastUpgrade *back = NULL;
        const char *reason = NULL;
        cr_assert_eq(last_upgrade_from_json(json, strlen(json), &back, &reason), 0, "%s: %s", json, reason);
        cr_assert(upgrade_plan_same(back->plan, l.plan));
        cr_assert_str_eq(back->folder, "v2%20x");
        cr_assert_str_eq(back->backup_name, l.backup_name);
        cr_assert_eq(back->started_usec, 1000000);
        cr_assert_eq(back->finished_usec, 61000000);
        back = last_upgrade_free(back);
        free(json);

        /* Without a backup (UNSAFE_SKIP_BACKUP): no "backup" key, read back as NULL. */
        l.backup_name = NULL;
        cr_assert_eq(last_upgrade_to_json(&l, &json), 0);
        cr_assert_null(strstr(json, "backup"), "%s", json);
        cr_assert_eq(last_upgrade_from_json(json, strlen(json), &back, &reason), 0);
        cr_assert_null(back->backup_name);
        last_upgrade_free(back);
        free(json);
        upgrade_plan_free(l.plan);
}

Test(record, last_upgrade_damaged) {
        static const char *const bad[] = {
                "",
                "[]",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"finished_usec\":-1}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"finished_usec\":\"1\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"../v2\",\"finished_usec\":1}",
                "{\"plan\":{\"height\":1},\"folder\":\"v2\",\"finished_usec\":1}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"finished_usec\":1,\"backup\":\"a/b\"}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"finished_usec\":1,\"started_usec\":true}",
                "{\"plan\":{\"name\":\"v2\",\"height\":1},\"folder\":\"v2\",\"finished_usec\":1} x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                LastUpgrade *l = NULL;
                const char *reason = NULL;
                cr_assert_eq(last_upgrade_from_json(bad[i], strlen(bad[i]), &l, &reason), -EBADMSG, "%s", bad[i]);
                cr_assert_not_null(reason, "no reason for %s", bad[i]);
                cr_assert_null(l);
        }
}
