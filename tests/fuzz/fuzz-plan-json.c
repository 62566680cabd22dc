/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the upgrade-info.json parser: every plan it accepts is well formed and survives a round trip
 * through plan_to_json(); every refusal comes with a reason. */

#include "fuzz-util.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL, *back = NULL;
        const char *reason = NULL;

        int r = plan_parse_json((const char *) data, size, &p, &reason);
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                CHECK(!p);
                CHECK(reason && reason[0]);
                return 0;
        }
        CHECK(p && !reason);
        CHECK(p->name[0] && p->info);
        CHECK(p->height >= 0);
        CHECK(p->height > 0 || p->time);
        CHECK(!(p->height > 0 && p->time));

        _cleanup_free_ char *json = NULL;
        CHECK(plan_to_json(p, &json) == 0);
        r = plan_parse_json(json, strlen(json), &back, &reason);
        if (r < 0)
                fprintf(stderr, "round trip of %s failed: %s\n", json, reason ? reason : "?");
        CHECK(r == 0);
        CHECK(upgrade_plan_same(p, back));
        CHECK(streq(p->info, back->info));

        _cleanup_free_ char *d = upgrade_plan_describe(p);
        CHECK(d);
        return 0;
}
