/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Follows one invocation of one unit in the journal, on the sd-event loop: every line the unit's process
 * wrote to stdout/stderr, in order, each exactly once, whole (no 64 KiB truncation), and never systemd's
 * own messages about the unit (matched on the trusted _SYSTEMD_UNIT= and _SYSTEMD_INVOCATION_ID= with
 * _TRANSPORT=stdout, not on UNIT=). All local journal files are read (not only the system ones: a daemon
 * running as a regular user logs into user-UID files).
 *
 * The position (journal cursor, with the unit and invocation it belongs to) is saved in the state folder
 * after each drained batch (at most once a second, replaced atomically) and when following stops, so
 * that a restarted oraivisor resumes exactly where it was for the same invocation: nothing printed
 * meanwhile is missed, nothing already seen comes again (but a second's worth may, after a crash).
 *
 * When the unit has stopped, journal_follow_finish() delivers what is still on its way: it asks journald
 * to process everything already queued (the io.systemd.Journal.Synchronize varlink call, root only) and
 * then drains; without that call, it drains until the journal has been quiet for a moment. Either way
 * within the given time limit. */

#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct JournalFollow JournalFollow;

/* One record of output: the MESSAGE= field without its name; not NUL-terminated. */
typedef void (*JournalFollowLine)(JournalFollow *f, const char *line, size_t len, void *userdata);
typedef void (*JournalFollowDone)(JournalFollow *f, void *userdata);

/* Opens the journal at once (so that nothing written from now on can be missed) and watches it.
 * state_dir is created when missing (0700). */
int journal_follow_new(sd_event *e, const char *state_dir, JournalFollowLine cb, void *userdata,
        JournalFollow **ret);

/* Starts delivering the lines of this invocation: from the saved position when resume is true and the
 * saved state belongs to this unit and invocation, else from the invocation's first line. main_pid (0:
 * unknown) also matches the unit's lines that journald stored without an invocation ID: it cannot read the
 * ID of a process that is gone by the time it handles its stream (a daemon that prints and exits at once).
 * Returns 1 when it resumed from the saved position, 0 when it started at the beginning. */
int journal_follow_start(JournalFollow *f, const char *unit, const char *invocation, pid_t main_pid, bool resume);

/* Delivers the lines still to come, then calls done (always asynchronously, once), and stops. */
int journal_follow_finish(JournalFollow *f, usec_t max, JournalFollowDone done);

/* Stops delivering (the position is saved). */
void journal_follow_stop(JournalFollow *f);

bool journal_follow_is_active(const JournalFollow *f);

JournalFollow *journal_follow_free(JournalFollow *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(JournalFollow *, journal_follow_free);

/* PID 1's record of how an invocation's main process ended, for when D-Bus could not tell (a reconnect
 * after the unit was collected): *ret_code = CLD_EXITED/KILLED/DUMPED and *ret_status. Returns 1 when
 * found, 0 when not. */
int journal_lookup_unit_exit(const char *unit, const char *invocation, int *ret_code, int *ret_status);
