/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Process-wide logging. The default sink writes "oraivisor: <text>" lines to stderr; the runtime layer can
 * install another sink (the journal) with log_set_sink(). Every log_*_errno() call returns -abs(error), so
 * an error is logged once, in the return statement, by whoever handles it. %m in a format prints the
 * error passed to the *_errno variants. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* A structured field attached to a message, KEY=VALUE. The journal sink sends them as fields; the text
 * sink ignores them (the message itself must be complete). */
typedef struct LogField {
        const char *key;
        const char *value;
} LogField;

typedef void (*LogSink)(int level, const char *message, const LogField *fields, size_t n_fields,
        void *userdata);

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_sink(LogSink sink, void *userdata);
/* Prefix of the stderr sink, "oraivisor" by default. */
void log_set_prefix(const char *prefix);

int log_internalv(int level, int error, const LogField *fields, size_t n_fields, const char *format,
        va_list ap) _printf_(5, 0);
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);
int log_fields(int level, int error, const LogField *fields, size_t n_fields, const char *format, ...)
        _printf_(5, 6);

/* The stderr sink, usable as a fallback by other sinks. */
void log_sink_stderr(int level, const char *message, const LogField *fields, size_t n_fields, void *userdata);

#define log_full_errno(level, error, ...)                                                                 \
        __extension__({                                                                                   \
                int _l = (level), _e = (error);                                                           \
                (_l <= log_get_max_level()) ? log_internal(_l, _e, __VA_ARGS__) : -abs(_e);              \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_notice_errno(error, ...) log_full_errno(LOG_NOTICE, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/* For out-of-memory, the one error that is not worth a custom message. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
