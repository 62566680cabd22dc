/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

/* The last STATUS= sent, to skip repeats. Part of the process's notify state like NOTIFY_SOCKET itself. */
static char *last_status = NULL;

static void send_status(const char *prefix, const char *status) {
        if (status && last_status && streq(status, last_status) && !prefix)
                return;
        _cleanup_free_ char *msg = NULL;
        if (asprintf(&msg, "%s%sSTATUS=%s", strempty(prefix), prefix ? "\n" : "", strempty(status)) < 0)
                return;
        (void) sd_notify(false, status ? msg : prefix);
        if (status) {
                free(last_status);
                last_status = strdup(status);
        }
}

void notify_ready(const char *status) {
        send_status("READY=1", status);
}

void notify_stopping(const char *status) {
        send_status("STOPPING=1", status);
}

void notify_status(const char *format, ...) {
        va_list ap;
        _cleanup_free_ char *s = NULL;
        va_start(ap, format);
        int n = vasprintf(&s, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        log_debug("Status: %s", s);
        send_status(NULL, s);
}

void notify_extend_timeout(usec_t usec) {
        (void) sd_notifyf(false, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
}
