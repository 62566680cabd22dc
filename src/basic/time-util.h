/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Microsecond time values as systemd uses them (usec_t), clocks and human formatting. */

#include <time.h>

#include "macro.h"

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_MSEC ((usec_t) 1000)
#define USEC_PER_SEC ((usec_t) 1000000)
#define USEC_PER_MINUTE ((usec_t) 60 * USEC_PER_SEC)
#define USEC_PER_HOUR ((usec_t) 60 * USEC_PER_MINUTE)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)

usec_t now(clockid_t clock);
usec_t timespec_load(const struct timespec *ts);

/* "1.5s", "2min 3s", "250ms", "infinity": a short human form of a duration. Writes into buf. */
const char *format_timespan(char *buf, size_t len, usec_t t);
#define FORMAT_TIMESPAN_MAX 64
