/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exec launcher: the daemon as a plain child process, for a terminal or a container without systemd.
 * Its stdout and stderr go through pipes to oraivisor's own stdout and stderr, byte for byte, and are
 * scanned line by line on the way (lines of any length, a last line without newline included). The child
 * runs in its own process group (so a terminal's Ctrl-C reaches it once, forwarded by oraivisor), gets
 * SIGTERM if oraivisor dies (PR_SET_PDEATHSIG), and inherits pass_fd (the lock of $DAEMON_HOME/oraivisor)
 * so that a new oraivisor cannot start a second daemon while this one still runs. */

#include "launcher.h"

int launcher_exec_new(sd_event *e, const LauncherCallbacks *cb, void *userdata, int pass_fd, Launcher **ret);
