/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Splits a byte stream into lines for scanning, without ever blocking the stream: bytes are fed as they
 * arrive, complete lines are handed to a callback (straight from the input when possible, without a
 * copy), and a partial line is kept until its newline arrives. A line longer than the buffer's limit
 * is handed over in its first `max` bytes (flagged truncated) and the rest of it is skipped, so memory
 * stays bounded whatever the daemon prints. Pure. */

#include "macro.h"

/* Called for each line, without its '\n'. A negative return stops feeding and is passed up. */
typedef int (*LineCallback)(const char *line, size_t len, bool truncated, void *userdata);

typedef struct LineBuffer {
        char *buf;
        size_t len, cap;
        size_t max;         /* longest line kept whole */
        bool skipping;      /* inside a line that was already delivered truncated */
} LineBuffer;

#define LINE_BUFFER_DEFAULT_MAX (4U * 1024U * 1024U)

void line_buffer_init(LineBuffer *b, size_t max);
void line_buffer_done(LineBuffer *b);

int line_buffer_feed(LineBuffer *b, const void *data, size_t n, LineCallback cb, void *userdata);
/* At end of stream: delivers a final line that had no newline. */
int line_buffer_flush(LineBuffer *b, LineCallback cb, void *userdata);
/* The partial line waiting for its newline (not consumed). */
const char *line_buffer_pending(const LineBuffer *b, size_t *ret_len);
