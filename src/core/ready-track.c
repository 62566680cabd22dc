/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>

#include "ready-track.h"
#include "string-util.h"

static const char *const ready_state_table[_READY_STATE_MAX] = {
        [READY_UNKNOWN] = "unknown",
        [READY_YES] = "ready",
        [READY_NO] = "not_ready",
        [READY_ABSENT] = "absent",
};

const char *ready_state_to_string(ReadyState s) {
        return s >= 0 && s < _READY_STATE_MAX ? ready_state_table[s] : NULL;
}

ReadyState ready_state_from_string(const char *s) {
        for (int k = 0; s && k < _READY_STATE_MAX; k++)
                if (streq(s, ready_state_table[k]))
                        return k;
        return _READY_STATE_INVALID;
}

bool binary_id_equal(const BinaryId *a, const BinaryId *b) {
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mode == b->mode &&
                a->mtime == b->mtime && a->ctime == b->ctime && a->lib_dev == b->lib_dev &&
                a->lib_ino == b->lib_ino && a->lib_mtime == b->lib_mtime && a->lib_ctime == b->lib_ctime;
}

void ready_track_done(ReadyTrack *t) {
        t->reason = mfree(t->reason);
        *t = (ReadyTrack){};
}

ReadyAction ready_track_want(const ReadyTrack *t, ReadyTrigger trigger, const BinaryId *now) {
        assert(t);
        assert(trigger >= 0 && trigger < _READY_TRIGGER_MAX);
        if (!now)
                return t->state == READY_ABSENT ? READY_ACTION_NONE : READY_ACTION_ABSENT;
        if (trigger == READY_TRIGGER_NEAR && !t->near_checked)
                return READY_ACTION_CHECK;
        if (!t->have_checked || !binary_id_equal(&t->checked, now))
                return READY_ACTION_CHECK;
        return READY_ACTION_NONE;
}

void ready_track_check_started(ReadyTrack *t, ReadyTrigger trigger) {
        assert(t);
        if (trigger == READY_TRIGGER_NEAR)
                t->near_checked = true;
}

int ready_track_result(ReadyTrack *t, const BinaryId *id, bool ready, const char *reason, ReadyEvent *ret) {
        assert(t);
        assert(id);
        assert(ret);
        _cleanup_free_ char *r = NULL;
        if (!ready) {
                r = strdup(reason ?: "fails the readiness check");
                if (!r)
                        return -ENOMEM;
        }
        ReadyEvent e = READY_EVENT_NONE;
        if (!ready && (t->state != READY_NO || !streq_ptr(t->reason, r)))
                e = READY_EVENT_NOT_READY;
        else if (ready && t->said_not_ready)
                e = READY_EVENT_READY_AGAIN;
        if (e == READY_EVENT_NOT_READY)
                t->said_not_ready = true;
        else if (e == READY_EVENT_READY_AGAIN)
                t->said_not_ready = false;
        free(t->reason);
        t->reason = TAKE_PTR(r);
        t->state = ready ? READY_YES : READY_NO;
        t->checked = *id;
        t->have_checked = true;
        *ret = e;
        return 0;
}

void ready_track_absent(ReadyTrack *t) {
        assert(t);
        t->reason = mfree(t->reason);
        t->state = READY_ABSENT;
        t->have_checked = false;
        t->checked = (BinaryId){};
}
