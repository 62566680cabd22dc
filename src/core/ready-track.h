/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The readiness of a known future plan's binary as oraivisor follows it (src/oraivisor/ready-watch.c runs
 * the check of shared/readiness.h): when to run the check again, and when its result is worth a journal
 * event. Pure: a track and what was seen in, a decision out.
 *
 * A check is run when the binary was never checked, when its identity changed since the last check (a
 * binary or a lib/ folder replaced, a chmod: what stat() tells), and once more when the height is near
 * (the host may have changed under an unchanged binary: a library removed). An event is due when the
 * result changes: not ready (first seen so in this run, or for another reason than before), or ready
 * again after a "not ready" event; a first result that is ready is no news. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "time-util.h"

/* What stat() says of the binary and of the version's lib/ folder (all zero when there is none). */
typedef struct BinaryId {
        uint64_t dev, ino, size;
        uint32_t mode;
        usec_t mtime, ctime;
        uint64_t lib_dev, lib_ino;
        usec_t lib_mtime, lib_ctime;
} BinaryId;

bool binary_id_equal(const BinaryId *a, const BinaryId *b) _pure_;

typedef enum ReadyState {
        READY_UNKNOWN, /* not checked yet */
        READY_YES, /* installed and the last check passed */
        READY_NO, /* installed and the last check failed (reason) */
        READY_ABSENT, /* no binary installed: nothing to check */
        _READY_STATE_MAX,
        _READY_STATE_INVALID = -EINVAL,
} ReadyState;

const char *ready_state_to_string(ReadyState s) _const_;
ReadyState ready_state_from_string(const char *s) _pure_;

typedef enum ReadyTrigger {
        READY_TRIGGER_LOOK, /* a look at the files: at start, a plan learnt or staged, upgrades/ or the
                             * schedule changed, the period */
        READY_TRIGGER_NEAR, /* the same look, with the height within the hour */
        _READY_TRIGGER_MAX,
        _READY_TRIGGER_INVALID = -EINVAL,
} ReadyTrigger;

typedef enum ReadyAction {
        READY_ACTION_NONE, /* nothing to do */
        READY_ACTION_CHECK, /* run the check (near: it is the one before the height) */
        READY_ACTION_ABSENT, /* the binary is gone: ready_track_absent() */
        _READY_ACTION_MAX,
        _READY_ACTION_INVALID = -EINVAL,
} ReadyAction;

typedef enum ReadyEvent {
        READY_EVENT_NONE,
        READY_EVENT_NOT_READY, /* became not ready, or not ready for another reason */
        READY_EVENT_READY_AGAIN, /* ready after a "not ready" event */
        _READY_EVENT_MAX,
        _READY_EVENT_INVALID = -EINVAL,
} ReadyEvent;

typedef struct ReadyTrack {
        ReadyState state;
        char *reason; /* READY_NO: why, one line; else NULL */
        BinaryId checked; /* the binary the last result is about (valid when have_checked) */
        bool have_checked;
        bool near_checked; /* the check before the height has been started */
        bool said_not_ready; /* a "not ready" event was given and no "ready again" since */
} ReadyTrack;

void ready_track_done(ReadyTrack *t);

/* What the trigger asks for, with the binary as it is now (NULL: not installed). Does not change t:
 * ready_track_check_started() records a check that is started. */
ReadyAction ready_track_want(const ReadyTrack *t, ReadyTrigger trigger, const BinaryId *now);
/* A check was started on behalf of trigger (the near check is run once). */
void ready_track_check_started(ReadyTrack *t, ReadyTrigger trigger);
/* Records the result of a check of the binary id; *ret: the event due. 0, or -ENOMEM (t unchanged). */
int ready_track_result(ReadyTrack *t, const BinaryId *id, bool ready, const char *reason, ReadyEvent *ret);
/* The binary is not installed (any more): the state is ABSENT, a later binary is checked afresh; whether a
 * "not ready" event was given is kept, so that a good binary installed after it is said to be ready again.
 */
void ready_track_absent(ReadyTrack *t);
