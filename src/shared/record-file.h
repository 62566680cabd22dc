/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* upgrade-in-progress.json in $DAEMON_HOME/oraivisor: the record of the upgrade oraivisor runs (or will
 * resume at its next start). The one reader, for oraivisor (which resumes from it) and oraivisorctl (which
 * reports it and refuses what would conflict with it): at most RECORD_FILE_MAX bytes, never through a
 * symlink, parsed by core/record.c. Does not log. */

#include "record.h"

#define RECORD_FILE "upgrade-in-progress.json"
#define RECORD_FILE_MAX (1U << 20)

/* Reads root_fd/upgrade-in-progress.json. 1 and the record; 0 when there is none; -EBADMSG and *ret_reason
 * (a static string) when it is damaged; -ENOMEM; another negative errno when it cannot be read. */
int record_file_read_at(int root_fd, UpgradeRecord **ret, const char **ret_reason);
