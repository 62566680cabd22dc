/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One oraivisor per $DAEMON_HOME/oraivisor: an exclusive flock() on its .lock file. In exec mode the
 * daemon inherits the lock, so a new oraivisor started while the previous daemon is still shutting down
 * (after oraivisor itself was killed) waits for it instead of running a second copy of the node. */

#include "time-util.h"

/* Takes the lock, waiting up to timeout while someone else holds it. Returns the lock fd (O_CLOEXEC),
 * -EWOULDBLOCK after the timeout (logged). */
int lock_acquire(int root_fd, const char *root_path, usec_t timeout);
