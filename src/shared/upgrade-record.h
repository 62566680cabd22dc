/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The upgrade engine's two files in $DAEMON_HOME/oraivisor, with their one reader each for both programs:
 * upgrade-in-progress.json (core/record.h's UpgradeRecord: written at every step boundary, removed after
 * the switch or a failure) and last-upgrade.json (LastUpgrade: written after each successful switch). Both
 * are written atomically, so a reader needs no lock; both are read without following a symlink, at most
 * UPGRADE_RECORD_MAX bytes. The *_read_at() functions do not log; the others log their errors. */

#include "layout.h"
#include "record.h"

#define UPGRADE_RECORD_FILE "upgrade-in-progress.json"
#define LAST_UPGRADE_FILE "last-upgrade.json"
#define UPGRADE_RECORD_MAX (1U << 20)

/* root_fd/upgrade-in-progress.json: 1 and the record, 0 when there is none, -EBADMSG and *ret_reason (a
 * static string) when it is damaged, -ENOMEM, or the negative errno of reading it. */
int upgrade_record_read_at(int root_fd, UpgradeRecord **ret, const char **ret_reason);

/* oraivisor at start-up: as above; a damaged record is logged (with what to check before removing it) and
 * returns -EBADMSG: it is left for the operator. */
int upgrade_record_load(Layout *l, UpgradeRecord **ret);

/* root_fd/last-upgrade.json: same returns as upgrade_record_read_at(). */
int last_upgrade_read_at(int root_fd, LastUpgrade **ret, const char **ret_reason);

/* Replaces last-upgrade.json (atomic write). Logs failures. */
int last_upgrade_save(Layout *l, const LastUpgrade *u);
