/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the latest full state of the daemon's transient unit means for the unit launcher: the decision of
 * oraivisor/launcher-unit.c, apart from D-Bus. The runtime reduces the unit's properties to UnitFacts and its own
 * progress to a phase; this returns what to do. Pure. */

#include <stdbool.h>

#include "macro.h"

typedef enum UnitPhase {
        UNIT_PHASE_IDLE,      /* nothing of ours runs */
        UNIT_PHASE_STARTING,  /* StartTransientUnit sent; waiting for the reply, then for the job */
        UNIT_PHASE_RUNNING,   /* on_started delivered */
        UNIT_PHASE_STOPPING,  /* a stop was asked for; waiting for the unit to end */
        UNIT_PHASE_DRAINING,  /* it ended; delivering its last lines before on_exited */
        _UNIT_PHASE_MAX,
        _UNIT_PHASE_INVALID = -EINVAL,
} UnitPhase;

/* The unit's properties, as far as the decision needs them. */
typedef struct UnitFacts {
        bool gone;             /* not-found, or no ActiveState at all */
        bool ended;            /* inactive or failed (or gone) */
        bool running;          /* active, activating, reloading, deactivating or refreshing */
        bool job_pending;      /* a job is queued on it: a restart in progress */
        bool has_pid;          /* MainPID or ExecMainPID is known */
        bool ran;              /* ExecMainPID > 0: its process was started */
        bool exec_failed;      /* ExecMainCode=exited with one of systemd's own statuses (200-243): it never ran */
        bool invocation_valid; /* InvocationID is known */
        bool other_invocation; /* ... and it is not the one followed (one is followed) */
} UnitFacts;

typedef enum UnitAction {
        UNIT_ACTION_NONE,
        UNIT_ACTION_STARTED,           /* it runs: follow its invocation, report the start */
        UNIT_ACTION_STARTED_AND_ENDED, /* it ran and ended before we looked: report the start, then the end */
        UNIT_ACTION_EXEC_FAILED,       /* it could not be started (working directory, user, exec…) */
        UNIT_ACTION_START_FAILED,      /* it did not start, for a reason its state does not tell */
        UNIT_ACTION_STOPPED_UNSTARTED, /* stopped (as asked) before it ran: no lines, no exit status */
        UNIT_ACTION_RESTARTED,         /* restarted outside us: follow the new invocation */
        UNIT_ACTION_ENDED,             /* it ended: drain its lines, then report the exit */
        UNIT_ACTION_MAIN_PID,          /* still running: take its (maybe new) main pid */
        _UNIT_ACTION_MAX,
        _UNIT_ACTION_INVALID = -EINVAL,
} UnitAction;

/* start_pending: the start's reply or its job has not come yet, or a unit blocking the name is being
 * cleared; until then the unit's states are not this start's. */
UnitAction unit_evaluate(UnitPhase phase, bool start_pending, bool stop_requested, const UnitFacts *f) _pure_;

const char *unit_action_to_string(UnitAction a) _const_;
