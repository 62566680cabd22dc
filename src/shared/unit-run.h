/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One program run in a transient systemd unit and reported as child.h reports a child, for a check that
 * must run where the node runs (shared/readiness.c under the unit launcher). StartTransientUnit of a
 * check_unit_spec_build() spec (Type=exec, Restart=no, AddRef, CollectMode=inactive-or-failed,
 * RuntimeMaxUSec, output into the caller's fds), on a system bus connection of its own, with the
 * JobRemoved/PropertiesChanged matches before the start; the end is read from the unit's ActiveState, Result,
 * ExecMainCode and ExecMainStatus.
 *
 * The unit never outlives its use: it is let go (UnrefUnit, the connection closed) once it ended; freeing a
 * run that has not ended (a stop of oraivisor, an upgrade cancelled), or whose end our own timer
 * (RuntimeMaxUSec plus UNIT_RUN_MARGIN) gave up waiting for, calls StopUnit first and waits for PID 1's
 * answer (at most 5 s: PID 1 refuses a request whose sender has gone by the time it reads it); and should
 * even that fail, RuntimeMaxUSec ends it and CollectMode= removes it once our connection, and with it
 * AddRef=, is gone. The name must be unique (check_unit_name()): there is no clearing of a name systemd still holds, as
 * the launcher does for the node's fixed one. */

#include <systemd/sd-event.h>

#include "child.h"
#include "unit-spec.h"

/* How long after RuntimeMaxUSec we wait for systemd to start, stop and report the unit. */
#define UNIT_RUN_MARGIN (30 * USEC_PER_SEC)

typedef struct UnitRun UnitRun;

/* error 0: res says how the program ended (code and status from ExecMainCode/ExecMainStatus, timed_out
 * when RuntimeMaxUSec ended it, exec_failed when systemd could not start it: status is then systemd's own,
 * unit_exec_status_to_string()). error < 0: the unit could not be run or followed, message says why in one
 * line naming the unit; res is NULL. Called once, from the loop, never from inside unit_run_start(). */
typedef void (*UnitRunDone)(UnitRun *r, int error, const ChildResult *res, const char *message, void *userdata);

/* Starts spec (runtime_max must be set) with stdout_fd and stderr_fd as the program's output. The request
 * is built before this returns: spec and the fds may go afterwards (systemd keeps its own copies). */
int unit_run_start(sd_event *e, const DaemonUnitSpec *spec, int stdout_fd, int stderr_fd, UnitRunDone done,
        void *userdata, UnitRun **ret);
/* Stops the unit when it has not ended (without calling done), and lets it go. */
UnitRun *unit_run_free(UnitRun *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitRun *, unit_run_free);
const char *unit_run_name(const UnitRun *r);
