/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* upgrade-info.json: the plan file the node writes into data/ when it halts for an upgrade, and the copy
 * oraivisor keeps beside each version (upgrades/<folder>/upgrade-info.json). The one reader of both: at most
 * PLAN_FILE_MAX bytes, never through a symlink, parsed by core/plan.c. Does not log. */

#include "plan.h"

#define PLAN_FILE "upgrade-info.json"
#define PLAN_FILE_MAX (1U << 20)

/* Reads dirfd/upgrade-info.json. Returns 1 and the plan (ret may be NULL); 0 when there is no such file; -EBADMSG and
 * *ret_reason (a static string) when it is malformed (empty or half-written while the node rewrites it
 * included); -ENOMEM; another negative errno when it cannot be read. ret_raw (may be NULL) gets the bytes
 * read whenever the file could be read, valid or not. */
int plan_file_read_at(int dirfd, UpgradePlan **ret, const char **ret_reason, char **ret_raw);
