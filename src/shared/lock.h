/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One oraivisor per $DAEMON_HOME/oraivisor: an exclusive flock() on its .lock file. In exec mode the
 * daemon inherits the lock, so a new oraivisor started while the previous daemon is still shutting down
 * (after oraivisor itself was killed) waits for it instead of running a second copy of the node. */

#include "time-util.h"

/* Takes the lock, waiting up to timeout while someone else holds it. Returns the lock fd (O_CLOEXEC),
 * -EWOULDBLOCK after the timeout (logged). */
int lock_acquire(int root_fd, const char *root_path, usec_t timeout);

/* Whether oraivisor (or, in exec mode, the daemon it started) holds the lock now: 1 held, 0 free, negative
 * errno. Never waits, and leaves the lock as it found it. For oraivisorctl's "is it running" questions. */
int lock_probe(int root_fd);

/* Takes the lock without waiting, for an oraivisorctl command that must not run beside oraivisor or its
 * daemon (backups restore): the fd, or -EBUSY when it is held (not logged: the caller says what to do). */
int lock_try(int root_fd);

/* The install lock, $DAEMON_HOME/oraivisor/.install-lock: held by whoever writes under upgrades/ or
 * genesis/ or switches `current` — oraivisor's upgrade engine from the start of an upgrade to the switch,
 * oraivisorctl while it installs, removes or restores. It serialises writers only; readers need no lock,
 * since every write is a staging folder published by rename. The holder writes "<pid> <what it does>"
 * into the file, so that a waiter can say whom it waits for. Waits up to timeout; returns the fd, or
 * -EBUSY after the timeout with *ret_holder (if not NULL) set to the holder's description (not logged). */
int install_lock_acquire(int root_fd, const char *what, usec_t timeout, char **ret_holder);

/* The processes that hold $DAEMON_HOME/oraivisor/.lock open now (oraivisor, and in exec mode the daemon
 * that inherited it), found through /proc/<pid>/fd: sorted pids in *ret (free()), their number as the
 * return value, 0 when there is no lock file or no holder, or a negative errno. Processes whose fds we
 * may not read (another user's, without privileges) are not seen. */
int lock_holders(int root_fd, pid_t **ret);
