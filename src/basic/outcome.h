/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How an operation ended: a negative errno and a one-line message naming the thing and the fix, or
 * success (error 0, no message). One type for every "format the failure, then finish" path (downloads,
 * obtaining, unpacking, the backup copy, the unit launcher's start, the upgrade engine), so that the
 * formatting, the out-of-memory case and "the first failure is the one reported" are written once.
 * Callbacks keep taking (error, message): pass o.error and outcome_message(&o, fallback). Libc only. */

#include <stdarg.h>

#include "macro.h"

typedef struct Outcome {
        int error;     /* 0: success (or not decided yet); else a negative errno */
        char *message; /* owned; NULL on success, or when formatting the message ran out of memory */
} Outcome;

#define OUTCOME_NULL ((Outcome) {})

/* Records a failure: error (negative, asserted) and the message formatted from format, with errno set to
 * -error so that %m names it. The first failure recorded wins (it is the root cause; later ones follow
 * from it): once o->error is set, o is left alone. Returns error, for "return outcome_failf(…);". */
int outcome_failf(Outcome *o, int error, const char *format, ...) _printf_(3, 4);
int outcome_failv(Outcome *o, int error, const char *format, va_list ap) _printf_(3, 0);

/* Whether a failure is recorded. */
static inline bool outcome_failed(const Outcome *o) {
        return o->error < 0;
}

/* The message to report: o->message, or fallback when there is none (success, or out of memory while
 * formatting it). */
const char *outcome_message(const Outcome *o, const char *fallback);

/* Hands the message over (*ret_message, NULL if none) and resets o to OUTCOME_NULL; returns the error. */
int outcome_take(Outcome *o, char **ret_message);

/* Frees the message and resets o; for _cleanup_(outcome_done). */
void outcome_done(Outcome *o);
