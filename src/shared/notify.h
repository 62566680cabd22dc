/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* sd_notify for oraivisor's own unit: READY=1, STATUS=, STOPPING=1, EXTEND_TIMEOUT_USEC=. No-ops when
 * NOTIFY_SOCKET is unset (a terminal or a container). The watchdog is fed by sd_event_set_watchdog(). */

#include "macro.h"
#include "time-util.h"

void notify_ready(const char *status);
/* Sets STATUS= to a formatted line; the same text is logged at debug level. Repeats are not resent. */
void notify_status(const char *format, ...) _printf_(1, 2);
void notify_stopping(const char *status);
/* Asks for more time for a long step during start-up or stop. */
void notify_extend_timeout(usec_t usec);
