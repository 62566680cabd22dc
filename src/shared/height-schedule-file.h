/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* $DAEMON_HOME/oraivisor/scheduled-upgrades.json (core/height-schedule.h): written by oraivisorctl
 * add-upgrade --height, add-batch-upgrade and remove-upgrade under the install lock (shared/lock.h), and by
 * oraivisor when it has carried one out; read by oraivisor at each start of the node and by `status`.
 * Readers never see a partial file (a temporary file, fsync'd, renamed over it). */

#include "height-schedule.h"

/* root_fd: $DAEMON_HOME/oraivisor. 0 and the schedule (empty when there is no file); -EBADMSG with
 * *ret_reason; other -errno. Does not log. */
int height_schedule_load_at(int root_fd, HeightSchedule *ret, const char **ret_reason);
/* An empty schedule removes the file. */
int height_schedule_save_at(int root_fd, const HeightSchedule *s);
