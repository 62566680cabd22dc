/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the upgrade record parser (upgrade-in-progress.json, read back after a crash): every record it
 * accepts has a plan, a safe folder name, a known step and a safe backup name, and survives a round trip
 * through upgrade_record_to_json(), whose output is a fixed point; every refusal has a reason. */

#include "fuzz-util.h"
#include "plan.h"
#include "record.h"

static void check_equal(const UpgradeRecord *a, const UpgradeRecord *b) {
        CHECK(upgrade_plan_same(a->plan, b->plan));
        CHECK(streq_ptr(a->plan->info, b->plan->info));
        CHECK(streq(a->folder, b->folder));
        CHECK(a->step == b->step);
        CHECK(streq_ptr(a->backup_name, b->backup_name));
        CHECK(a->started_usec == b->started_usec);
        CHECK(!a->interrupted == !b->interrupted);
        if (a->interrupted) {
                CHECK(streq_ptr(a->interrupted->by, b->interrupted->by));
                CHECK(a->interrupted->step == b->interrupted->step);
                CHECK(streq_ptr(a->interrupted->outcome, b->interrupted->outcome));
                CHECK(a->interrupted->killed == b->interrupted->killed);
                CHECK(a->interrupted->usec == b->interrupted->usec);
        }
}

/* last-upgrade.json, read by oraivisorctl status: the same rules, the same fixed point. */
static void check_last_upgrade(const uint8_t *data, size_t size) {
        _cleanup_(last_upgrade_freep) LastUpgrade *l = NULL, *back = NULL;
        const char *reason = NULL;

        int r = last_upgrade_from_json((const char *) data, size, &l, &reason);
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                CHECK(!l);
                CHECK(reason && reason[0]);
                return;
        }
        CHECK(l && l->plan);
        CHECK(fuzz_is_component(l->folder, 255));
        CHECK(!l->backup_name || fuzz_is_component(l->backup_name, 255));
        _cleanup_free_ char *json = NULL, *json2 = NULL;
        CHECK(last_upgrade_to_json(l, &json) == 0);
        CHECK(last_upgrade_from_json(json, strlen(json), &back, &reason) == 0);
        CHECK(upgrade_plan_same(l->plan, back->plan));
        CHECK(streq(l->folder, back->folder));
        CHECK(streq_ptr(l->backup_name, back->backup_name));
        CHECK(l->started_usec == back->started_usec && l->finished_usec == back->finished_usec);
        CHECK(last_upgrade_to_json(back, &json2) == 0);
        CHECK(streq(json, json2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL, *back = NULL;
        const char *reason = NULL;

        check_last_upgrade(data, size);

        int r = upgrade_record_from_json((const char *) data, size, &rec, &reason);
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                CHECK(!rec);
                CHECK(reason && reason[0]);
                return 0;
        }
        CHECK(rec && rec->plan);
        CHECK(fuzz_is_component(rec->folder, 255));
        CHECK(!rec->backup_name || fuzz_is_component(rec->backup_name, 255));
        CHECK(upgrade_step_to_string(rec->step));
        CHECK(!rec->interrupted || upgrade_step_to_string(rec->interrupted->step));

        _cleanup_free_ char *json = NULL, *json2 = NULL;
        CHECK(upgrade_record_to_json(rec, &json) == 0);
        r = upgrade_record_from_json(json, strlen(json), &back, &reason);
        if (r < 0)
                fprintf(stderr, "round trip of %s failed: %s\n", json, reason ?: "?");
        CHECK(r == 0);
        check_equal(rec, back);
        CHECK(upgrade_record_to_json(back, &json2) == 0);
        CHECK(streq(json, json2));
        return 0;
}
