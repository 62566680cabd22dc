/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the parser of the journal follower's saved position (oraivisor/journal-cursor): what it accepts
 * has a unit, a valid invocation id and a cursor, none with a newline, formats back, and parses again to
 * the same state. */

#include "fuzz-util.h"
#include "journal-cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(journal_cursor_state_done) JournalCursorState s = {}, back = {};

        int r = journal_cursor_state_parse((const char *) data, size, &s);
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                CHECK(!s.unit && !s.invocation && !s.cursor);
                return 0;
        }
        CHECK(s.unit && s.unit[0] && !strchr(s.unit, '\n'));
        CHECK(invocation_id_is_valid(s.invocation));
        CHECK(s.cursor && s.cursor[0] && !strchr(s.cursor, '\n'));

        _cleanup_free_ char *text = NULL, *text2 = NULL;
        CHECK(journal_cursor_state_format(&s, &text) == 0);
        CHECK(journal_cursor_state_parse(text, strlen(text), &back) == 0);
        CHECK(streq(s.unit, back.unit));
        CHECK(streq(s.invocation, back.invocation));
        CHECK(streq(s.cursor, back.cursor));
        CHECK(journal_cursor_state_format(&back, &text2) == 0);
        CHECK(streq(text, text2));
        return 0;
}
