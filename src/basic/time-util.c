/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>

#include "time-util.h"

usec_t timespec_load(const struct timespec *ts) {
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / NSEC_PER_USEC;
}

usec_t now(clockid_t clock) {
        struct timespec ts;
        if (clock_gettime(clock, &ts) < 0)
                abort(); /* Only fails for a clock id that does not exist: a programming error. */
        return timespec_load(&ts);
}

const char *format_timespan(char *buf, size_t len, usec_t t) {
        if (t == USEC_INFINITY)
                snprintf(buf, len, "infinity");
        else if (t == 0)
                snprintf(buf, len, "0");
        else if (t < USEC_PER_MSEC)
                snprintf(buf, len, "%" PRIu64 "us", t);
        else if (t < USEC_PER_SEC)
                snprintf(buf, len, "%" PRIu64 "ms", t / USEC_PER_MSEC);
        else if (t < USEC_PER_MINUTE) {
                usec_t ms = (t % USEC_PER_SEC) / USEC_PER_MSEC;
                if (ms)
                        snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 "s", t / USEC_PER_SEC, ms);
                else
                        snprintf(buf, len, "%" PRIu64 "s", t / USEC_PER_SEC);
        } else if (t < USEC_PER_HOUR) {
                usec_t s = (t % USEC_PER_MINUTE) / USEC_PER_SEC;
                if (s)
                        snprintf(buf, len, "%" PRIu64 "min %" PRIu64 "s", t / USEC_PER_MINUTE, s);
                else
                        snprintf(buf, len, "%" PRIu64 "min", t / USEC_PER_MINUTE);
        } else {
                usec_t m = (t % USEC_PER_HOUR) / USEC_PER_MINUTE;
                if (m)
                        snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "min", t / USEC_PER_HOUR, m);
                else
                        snprintf(buf, len, "%" PRIu64 "h", t / USEC_PER_HOUR);
        }
        return buf;
}
