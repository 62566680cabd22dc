/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The duties of a PID 1 or a child subreaper (exec mode, a container's entrypoint): reap every child that
 * is not one of our own, and find what the daemon left behind when it exits.
 *
 * Own children are those this process waits for itself through sd-event child sources (the daemon in exec
 * mode, workers and hooks): each registers its pid from fork() until its exit has been delivered
 * (reaper_register()/reaper_unregister(); the registry is process-wide, as waitid() is). Any other child
 * that exits is an orphan re-parented to us, and the Reaper reaps it on SIGCHLD and after every event
 * dispatched. It only peeks at the next exited child (waitid(P_ALL, WNOWAIT)) and reaps that one pid
 * (P_PID) when it is foreign; when the next is one of ours it stops and looks again once that child's
 * source has reaped it. So an exit status of ours is never taken away from its source, even when ours and
 * orphans exit in the same instant. */

#include <sys/types.h>

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Reaper Reaper;

/* Registering needs memory: -ENOMEM. Unregistering a pid never registered does nothing. */
int reaper_register(pid_t pid);
void reaper_unregister(pid_t pid);

/* Reaps foreign children on the loop from now on; with subreaper, first makes us a child subreaper
 * (PR_SET_CHILD_SUBREAPER), so that the orphans of the daemon's descendants come to us rather than to the
 * system's init. SIGCHLD must be blocked. */
int reaper_new(sd_event *e, bool subreaper, Reaper **ret);
Reaper *reaper_free(Reaper *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Reaper *, reaper_free);

/* Called after foreign children were reaped (the exec launcher waits so for what its daemon left). */
void reaper_set_watch(Reaper *r, void (*on_reaped)(Reaper *r, void *userdata), void *userdata);

/* Sends sig to every live process below us that is neither one of ours nor below one of ours: once the
 * daemon exited, what it left behind (its descendants that came to us as a subreaper, with theirs). Found
 * through /proc (each /proc/<pid>/stat's parent), each signalled through a pidfd after checking it is still
 * the process seen. Returns how many were signalled; -EOPNOTSUPP when /proc is not that of our PID
 * namespace (a PID namespace without its own /proc mount). */
int reaper_signal_strays(Reaper *r, int sig);
