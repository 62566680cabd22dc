/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* The only process-wide state of the program besides the manager: who receives log messages. It is set
 * once at start-up, before the event loop runs. */
static int log_max_level = LOG_INFO;
static LogSink log_sink = log_sink_stderr;
static void *log_sink_userdata = NULL;
static const char *log_prefix = "oraivisor";

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_set_sink(LogSink sink, void *userdata) {
        log_sink = sink ?: log_sink_stderr;
        log_sink_userdata = userdata;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

void log_sink_stderr(int level, const char *message, const LogField *fields, size_t n_fields,
        void *userdata) {
        (void) fields;
        (void) n_fields;
        (void) userdata;

        const char *tag = level <= LOG_ERR ? "error: " : level == LOG_WARNING ? "warning: " : "";

        /* One write per line so that lines from the daemon sharing our stderr do not get interleaved. */
        _cleanup_free_ char *line = NULL;
        int n = asprintf(&line, "%s%s%s%s\n", strempty(log_prefix), log_prefix ? ": " : "", tag, message);
        if (n < 0)
                return;
        for (ssize_t left = n, w; left > 0; left -= w) {
                w = write(STDERR_FILENO, line + (n - left), left);
                if (w < 0) {
                        if (errno == EINTR) {
                                w = 0;
                                continue;
                        }
                        return;
                }
        }
}

int log_internalv(int level, int error, const LogField *fields, size_t n_fields, const char *format,
        va_list ap) {
        int saved = errno;
        error = abs(error);

        if (level > log_max_level)
                return -error;

        /* %m prints strerror(errno): make it print the error we were given. */
        errno = error;
        _cleanup_free_ char *message = NULL;
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        log_sink(level, message ?: format, fields, n_fields, log_sink_userdata);

        errno = saved;
        return -error;
}

int log_internal(int level, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = log_internalv(level, error, NULL, 0, format, ap);
        va_end(ap);
        return r;
}

int log_fields(int level, int error, const LogField *fields, size_t n_fields, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = log_internalv(level, error, fields, n_fields, format, ap);
        va_end(ap);
        return r;
}
