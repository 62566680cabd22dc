/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The journal follower's saved position, $DAEMON_HOME/oraivisor/journal-cursor: which invocation of which
 * unit the journal cursor belongs to, as text read back at the next start. Pure. */

#include "macro.h"

/* The state saved for the journal follower: which invocation of which unit the cursor belongs to. The
 * text form is three lines "UNIT=…", "INVOCATION=…", "CURSOR=…". */
typedef struct JournalCursorState {
        char *unit;
        char *invocation;  /* 32 lower-case hex digits */
        char *cursor;
} JournalCursorState;

int journal_cursor_state_format(const JournalCursorState *s, char **ret);
/* -EBADMSG for anything that is not the format above (a missing key, a bad invocation id, junk). */
int journal_cursor_state_parse(const char *text, size_t len, JournalCursorState *ret);
void journal_cursor_state_done(JournalCursorState *s);

/* 32 lower-case hex digits. */
bool invocation_id_is_valid(const char *s) _pure_;
