/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The upgrade engine's record in $DAEMON_HOME/oraivisor, with its one reader for both programs:
 * upgrade-in-progress.json (core/record.h's UpgradeRecord: written at every step boundary, removed after
 * the switch or a failure). It is written atomically, so a reader needs no lock; it is read without
 * following a symlink, at most UPGRADE_RECORD_MAX bytes. upgrade_record_read_at() does not log;
 * upgrade_record_load() does. */

#include "layout.h"
#include "record.h"

#define UPGRADE_RECORD_FILE "upgrade-in-progress.json"
#define UPGRADE_RECORD_MAX (1U << 20)

/* root_fd/upgrade-in-progress.json: 1 and the record, 0 when there is none, -EBADMSG and *ret_reason (a
 * static string) when it is damaged, -ENOMEM, or the negative errno of reading it. */
int upgrade_record_read_at(int root_fd, UpgradeRecord **ret, const char **ret_reason);

/* oraivisor at start-up: as above; a damaged record is logged (with what to check before removing it) and
 * returns -EBADMSG: it is left for the operator. */
int upgrade_record_load(Layout *l, UpgradeRecord **ret);
