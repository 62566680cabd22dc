/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "outcome.h"

int outcome_failv(Outcome *o, int error, const char *format, va_list ap) {
        assert(o);
        assert(error < 0);
        assert(format);

        if (o->error < 0)
                return error;
        o->error = error;
        errno = -error; /* for %m */
        if (vasprintf(&o->message, format, ap) < 0)
                o->message = NULL;
        return error;
}

int outcome_failf(Outcome *o, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = outcome_failv(o, error, format, ap);
        va_end(ap);
        return r;
}

const char *outcome_message(const Outcome *o, const char *fallback) {
        assert(o);
        return o->message ?: fallback;
}

int outcome_take(Outcome *o, char **ret_message) {
        assert(o);
        int error = o->error;
        if (ret_message)
                *ret_message = TAKE_PTR(o->message);
        outcome_done(o);
        return error;
}

void outcome_done(Outcome *o) {
        assert(o);
        free(o->message);
        *o = OUTCOME_NULL;
}
