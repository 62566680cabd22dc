/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "journal-cursor.h"
#include "string-util.h"

bool invocation_id_is_valid(const char *s) {
        if (!s || strlen(s) != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

int journal_cursor_state_format(const JournalCursorState *s, char **ret) {
        assert(s);
        assert(ret);
        if (isempty(s->unit) || !invocation_id_is_valid(s->invocation) || isempty(s->cursor) ||
                strpbrk(s->unit, "\n") || strpbrk(s->cursor, "\n"))
                return -EINVAL;
        char *t = NULL;
        if (asprintf(&t, "UNIT=%s\nINVOCATION=%s\nCURSOR=%s\n", s->unit, s->invocation, s->cursor) < 0)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int journal_cursor_state_parse(const char *text, size_t len, JournalCursorState *ret) {
        assert(ret);
        _cleanup_(journal_cursor_state_done) JournalCursorState s = {};

        if (!text || memchr(text, 0, len))
                return -EBADMSG;
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                const char *eq = memchr(p, '=', n);
                if (!eq)
                        return -EBADMSG;
                size_t klen = (size_t) (eq - p);
                char **field = klen == 4 && strneq(p, "UNIT", 4)             ? &s.unit :
                               klen == 10 && strneq(p, "INVOCATION", 10)     ? &s.invocation :
                               klen == 6 && strneq(p, "CURSOR", 6)           ? &s.cursor : NULL;
                if (!field || *field)
                        return -EBADMSG; /* unknown or repeated key */
                *field = strndup(eq + 1, n - klen - 1);
                if (!*field)
                        return -ENOMEM;
                p += n + (nl ? 1 : 0);
        }
        if (isempty(s.unit) || !invocation_id_is_valid(s.invocation) || isempty(s.cursor))
                return -EBADMSG;
        *ret = s;
        s = (JournalCursorState) {};
        return 0;
}

void journal_cursor_state_done(JournalCursorState *s) {
        if (!s)
                return;
        s->unit = mfree(s->unit);
        s->invocation = mfree(s->invocation);
        s->cursor = mfree(s->cursor);
}
