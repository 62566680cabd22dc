/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The upgrade engine's decisions, apart from the I/O that carries them out (oraivisor/upgrade.c): the order of
 * the steps, whether an upgrade may begin at all (its binary installed, or fetchable), and what the new
 * binary's `pre-upgrade` exit status means. Pure: facts in, a verdict out. */

#include <stdbool.h>

#include "record.h"

/* The step after s, or _UPGRADE_STEP_MAX when s was the last (the upgrade is through). */
UpgradeStep upgrade_step_after(UpgradeStep s) _const_;

typedef enum UpgradeBegin {
        UPGRADE_BEGIN_GO,            /* the binary is installed, or the obtain step may fetch it */
        UPGRADE_BEGIN_FOLDER_ONLY,   /* its folder exists without a usable binary, and obtain has not run */
        UPGRADE_BEGIN_MISSING,       /* not installed, and downloads are off */
        _UPGRADE_BEGIN_MAX,
        _UPGRADE_BEGIN_INVALID = -EINVAL,
} UpgradeBegin;

/* Before anything is copied: may the upgrade begin at step `step` (a resumed one may be past obtain)? */
UpgradeBegin upgrade_begin(bool binary_usable, bool folder_exists, UpgradeStep step, bool allow_download) _const_;

/* The SDK's pre-upgrade protocol: 0 done, 1 not implemented, 30 abort, 31 retry; anything else is a failure
 * (upstream takes it for success: an upgrade the binary itself reports as broken must not go ahead). */
#define PREUPGRADE_STATUS_NOT_IMPLEMENTED 1
#define PREUPGRADE_STATUS_ABORT 30
#define PREUPGRADE_STATUS_RETRY 31

typedef enum PreupgradeVerdict {
        PREUPGRADE_DONE,
        PREUPGRADE_NOT_IMPLEMENTED,  /* go on */
        PREUPGRADE_ABORTED,
        PREUPGRADE_RETRY,            /* run it again (attempt + 1) */
        PREUPGRADE_RETRIES_EXHAUSTED,
        PREUPGRADE_FAILED,           /* an exit status outside the protocol */
        _PREUPGRADE_VERDICT_MAX,
        _PREUPGRADE_VERDICT_INVALID = -EINVAL,
} PreupgradeVerdict;

/* attempt: the retries made so far (0 for the first run). */
PreupgradeVerdict preupgrade_verdict(int exit_status, unsigned attempt, unsigned max_retries) _const_;
