/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "upgrade-steps.h"

UpgradeStep upgrade_step_after(UpgradeStep s) {
        if (s < 0 || s >= _UPGRADE_STEP_MAX - 1)
                return _UPGRADE_STEP_MAX;
        return s + 1;
}

UpgradeBegin upgrade_begin(bool binary_usable, bool folder_exists, UpgradeStep step, bool allow_download) {
        if (binary_usable)
                return UPGRADE_BEGIN_GO;
        /* A folder made by hand (or by another tool) without its binary: never download over it. Past
         * the obtain step the binary was there before the interruption; the step that needs it says so. */
        if (folder_exists && step <= UPGRADE_STEP_OBTAIN)
                return UPGRADE_BEGIN_FOLDER_ONLY;
        return allow_download ? UPGRADE_BEGIN_GO : UPGRADE_BEGIN_MISSING;
}

PreupgradeVerdict preupgrade_verdict(int exit_status, unsigned attempt, unsigned max_retries) {
        switch (exit_status) {
        case 0:
                return PREUPGRADE_DONE;
        case PREUPGRADE_STATUS_NOT_IMPLEMENTED:
                return PREUPGRADE_NOT_IMPLEMENTED;
        case PREUPGRADE_STATUS_ABORT:
                return PREUPGRADE_ABORTED;
        case PREUPGRADE_STATUS_RETRY:
                return attempt < max_retries ? PREUPGRADE_RETRY : PREUPGRADE_RETRIES_EXHAUSTED;
        default:
                return PREUPGRADE_FAILED;
        }
}
