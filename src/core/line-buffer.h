/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Splits a byte stream into lines for scanning, without ever blocking the stream: bytes are fed as they
 * arrive, complete lines are handed to a callback (straight from the input when possible, without a
 * copy), and a partial line is kept until its newline arrives. A line is kept whole up to the buffer's
 * limit; a longer one is not kept at all: its bytes, from its first on, go through an AnnounceScan that
 * keeps only a window from an upgrade announcement's marker on, and the excerpt that holds the line's
 * first announcement, if there is one, is handed over once (flagged truncated). So memory stays bounded
 * (the limit, plus the scanner's window) whatever the daemon prints, and an announcement at the end of a
 * line of any length is seen. Pure. */

#include "announce-scan.h"
#include "macro.h"

/* Called for each line, without its '\n', or with the announcement's excerpt of a line over the limit
 * (truncated). A negative return stops feeding and is passed up. */
typedef int (*LineCallback)(const char *line, size_t len, bool truncated, void *userdata);

typedef struct LineBuffer {
        char *buf;
        size_t len, cap;
        size_t max;         /* longest line kept whole */
        bool long_line;     /* inside a line over the limit: its bytes go to scan */
        AnnounceScan scan;
} LineBuffer;

#define LINE_BUFFER_DEFAULT_MAX (4U * 1024U * 1024U)

/* max 0: LINE_BUFFER_DEFAULT_MAX; the scanner gets the AnnounceScan defaults. */
void line_buffer_init(LineBuffer *b, size_t max);
/* Other sizes for the scanner of long lines (tests), see announce_scan_init(). */
void line_buffer_set_scan_limits(LineBuffer *b, size_t window_max, size_t plan_max);
void line_buffer_done(LineBuffer *b);

int line_buffer_feed(LineBuffer *b, const void *data, size_t n, LineCallback cb, void *userdata);
/* At end of stream: delivers a final line that had no newline (or the excerpt of a long one). */
int line_buffer_flush(LineBuffer *b, LineCallback cb, void *userdata);
/* The partial line waiting for its newline (not consumed); inside a line over the limit, the scanner's
 * open window (from a marker on), if any. */
const char *line_buffer_pending(const LineBuffer *b, size_t *ret_len);
