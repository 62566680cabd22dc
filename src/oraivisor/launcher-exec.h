/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exec launcher: the daemon as a plain child process, for a terminal or a container without systemd.
 * Its stdout and stderr go through pipes to oraivisor's own stdout and stderr, byte for byte, and are
 * scanned line by line on the way (lines of any length, a last line without newline included). The child
 * runs in its own process group (so a terminal's Ctrl-C reaches it once, forwarded by oraivisor; a terminal
 * stdin becomes /dev/null), gets SIGTERM if oraivisor dies (PR_SET_PDEATHSIG), and inherits pass_fd (the
 * lock of $DAEMON_HOME/oraivisor) so that a new oraivisor cannot start a second daemon while this one
 * still runs. It is stopped as systemd's KillMode=mixed does: SIGTERM to the main process, SIGKILL after
 * the grace; once it has exited, SIGKILL to its process group and, with a reaper (we are PID 1 or a
 * subreaper), to every other process below us that is not one of ours. Its exit is reported once those
 * are gone too (or after 5 s), so that nothing it left holds the lock or writes its data during an
 * upgrade. */

#include "launcher.h"
#include "reaper.h"

int launcher_exec_new(sd_event *e, const LauncherCallbacks *cb, void *userdata, int pass_fd, Reaper *reaper,
        Launcher **ret);
