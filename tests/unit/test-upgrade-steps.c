/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "upgrade-steps.h"

Test(upgrade_steps, order) {
        UpgradeStep s = UPGRADE_STEP_BACKUP;
        UpgradeStep want[] = { UPGRADE_STEP_OBTAIN, UPGRADE_STEP_HOOKS, UPGRADE_STEP_PREUPGRADE, UPGRADE_STEP_SWITCH,
                               _UPGRADE_STEP_MAX };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                s = upgrade_step_after(s);
                cr_assert_eq(s, want[i], "step %zu", i);
        }
        cr_assert_eq(upgrade_step_after(_UPGRADE_STEP_MAX), _UPGRADE_STEP_MAX);
        cr_assert_eq(upgrade_step_after(_UPGRADE_STEP_INVALID), _UPGRADE_STEP_MAX);
}

/* Every combination: the binary, its folder, the step the upgrade (re)starts at, downloads. */
Test(upgrade_steps, begin_every_case) {
        for (int usable = 0; usable <= 1; usable++)
                for (int folder = 0; folder <= 1; folder++)
                        for (UpgradeStep step = 0; step < _UPGRADE_STEP_MAX; step++)
                                for (int dl = 0; dl <= 1; dl++) {
                                        UpgradeBegin b = upgrade_begin(usable, folder, step, dl);
                                        UpgradeBegin want = usable ? UPGRADE_BEGIN_GO
                                                : folder && step <= UPGRADE_STEP_OBTAIN ? UPGRADE_BEGIN_FOLDER_ONLY
                                                : dl ? UPGRADE_BEGIN_GO : UPGRADE_BEGIN_MISSING;
                                        cr_assert_eq(b, want, "usable %d folder %d step %d download %d", usable, folder,
                                                     step, dl);
                                }
        /* Never a download over a folder an operator made by hand. */
        cr_assert_eq(upgrade_begin(false, true, UPGRADE_STEP_BACKUP, true), UPGRADE_BEGIN_FOLDER_ONLY);
}

Test(upgrade_steps, preupgrade_protocol) {
        cr_assert_eq(preupgrade_verdict(0, 0, 0), PREUPGRADE_DONE);
        cr_assert_eq(preupgrade_verdict(1, 0, 0), PREUPGRADE_NOT_IMPLEMENTED);
        cr_assert_eq(preupgrade_verdict(30, 0, 5), PREUPGRADE_ABORTED);
        cr_assert_eq(preupgrade_verdict(31, 0, 0), PREUPGRADE_RETRIES_EXHAUSTED);
        cr_assert_eq(preupgrade_verdict(31, 0, 2), PREUPGRADE_RETRY);
        cr_assert_eq(preupgrade_verdict(31, 1, 2), PREUPGRADE_RETRY);
        cr_assert_eq(preupgrade_verdict(31, 2, 2), PREUPGRADE_RETRIES_EXHAUSTED);
        for (int st = 0; st < 256; st++) {
                PreupgradeVerdict v = preupgrade_verdict(st, 0, 3);
                if (st == 0 || st == 1 || st == 30 || st == 31)
                        cr_assert_neq(v, PREUPGRADE_FAILED, "status %d", st);
                else
                        cr_assert_eq(v, PREUPGRADE_FAILED, "status %d: outside the protocol is a failure", st);
        }
}
