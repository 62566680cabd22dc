/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>

#include "unit-evaluate.h"

static const char *const unit_action_table[_UNIT_ACTION_MAX] = {
        [UNIT_ACTION_NONE] = "none",
        [UNIT_ACTION_STARTED] = "started",
        [UNIT_ACTION_STARTED_AND_ENDED] = "started-and-ended",
        [UNIT_ACTION_EXEC_FAILED] = "exec-failed",
        [UNIT_ACTION_START_FAILED] = "start-failed",
        [UNIT_ACTION_STOPPED_UNSTARTED] = "stopped-unstarted",
        [UNIT_ACTION_RESTARTED] = "restarted",
        [UNIT_ACTION_ENDED] = "ended",
        [UNIT_ACTION_MAIN_PID] = "main-pid",
};

const char *unit_action_to_string(UnitAction a) {
        return a >= 0 && a < _UNIT_ACTION_MAX ? unit_action_table[a] : NULL;
}

UnitAction unit_evaluate(UnitPhase phase, bool start_pending, bool stop_requested, const UnitFacts *f) {
        assert(f);

        switch (phase) {
        case UNIT_PHASE_STARTING:
                if (start_pending)
                        return UNIT_ACTION_NONE;
                if (!f->ended && f->running && f->has_pid && f->invocation_valid)
                        return UNIT_ACTION_STARTED;
                if (!f->ended)
                        return UNIT_ACTION_NONE; /* still activating: PropertiesChanged will tell */
                if (f->exec_failed)
                        return UNIT_ACTION_EXEC_FAILED;
                if (!f->gone && f->ran && f->invocation_valid)
                        return UNIT_ACTION_STARTED_AND_ENDED; /* still a start, and its lines count */
                if (stop_requested)
                        return UNIT_ACTION_STOPPED_UNSTARTED;
                return UNIT_ACTION_START_FAILED;

        case UNIT_PHASE_RUNNING:
        case UNIT_PHASE_STOPPING:
                if (!f->ended && f->other_invocation)
                        return UNIT_ACTION_RESTARTED; /* systemctl restart of the daemon's unit */
                if (f->ended && f->job_pending && !stop_requested)
                        return UNIT_ACTION_NONE; /* a restart in progress: wait for its start */
                if (f->ended)
                        return UNIT_ACTION_ENDED;
                return f->has_pid ? UNIT_ACTION_MAIN_PID : UNIT_ACTION_NONE;

        default:
                return UNIT_ACTION_NONE;
        }
}
