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
