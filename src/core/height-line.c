/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "height-line.h"
#include "macro.h"
#include "plan.h"
#include "string-util.h"

/* A decimal height at p (at most 18 digits, so that it fits an int64 with room), > 0; the digits must
 * end at a delimiter (end, space, comma, quote, brace). 0 when there is none. */
static int64_t digits_at(const char *p, const char *end) {
        int64_t v = 0;
        size_t n = 0;
        while (p + n < end && p[n] >= '0' && p[n] <= '9') {
                if (n == 18)
                        return 0;
                v = v * 10 + (p[n] - '0');
                n++;
        }
        if (n == 0 || (p + n < end && !strchr(" \t,\"}", p[n])))
                return 0;
        return v;
}

/* The value of key "height": plain `height=N` (after a space or at the start) or JSON `"height":N` /
 * `"height":"N"`. The first one wins; 0 when there is none. */
static int64_t height_field(const char *s, size_t n) {
        const char *end = s + n;
        for (const char *p = s; p < end; p++) {
                p = memmem(p, (size_t) (end - p), "height", STRLEN("height"));
                if (!p)
                        return 0;
                const char *v = p + STRLEN("height");
                if (v < end && *v == '=' && (p == s || p[-1] == ' ' || p[-1] == '\t'))
                        return digits_at(v + 1, end);
                if (p > s && p[-1] == '"' && v < end && *v == '"') {
                        v++;
                        while (v < end && *v == ' ')
                                v++;
                        if (v >= end || *v != ':')
                                continue;
                        v++;
                        while (v < end && *v == ' ')
                                v++;
                        if (v < end && *v == '"')
                                v++;
                        return digits_at(v, end);
                }
        }
        return 0;
}

/* The message is text, as its own words: followed by the end, a space, a quote (JSON) or a '|' and
 * preceded by the start, a space, a quote or ']' (tmfmt's "I[…] committed state"). */
static bool has_message(const char *s, size_t n, const char *msg) {
        size_t m = strlen(msg);
        const char *end = s + n;
        for (const char *p = s; p < end; p++) {
                p = memmem(p, (size_t) (end - p), msg, m);
                if (!p)
                        return false;
                bool before = p == s || strchr(" \"]", p[-1]);
                bool after = p + m == end || strchr(" \"", p[m]);
                if (before && after)
                        return true;
        }
        return false;
}

int height_line_parse(const char *line, size_t len, HeightLine *ret) {
        static const struct {
                const char *msg;
                HeightLineKind kind;
        } table[] = {
                {"committed state", HEIGHT_LINE_COMMITTED},
                {"Committed state", HEIGHT_LINE_COMMITTED},
                {"finalizing commit of block", HEIGHT_LINE_BLOCK},
                {"Finalizing commit of block", HEIGHT_LINE_BLOCK},
                {"finalized block", HEIGHT_LINE_BLOCK},
                {"executed block", HEIGHT_LINE_BLOCK},
                {"Executed block", HEIGHT_LINE_BLOCK},
                {"halting node per configuration", HEIGHT_LINE_HALT_COMMIT},
        };
        assert(line || len == 0);

        /* Cheap tests first: most lines of a node carry no "height" at all. */
        if (len > HEIGHT_LINE_MAX || !memmem(line, len, "height", STRLEN("height")))
                return 0;
        size_t n;
        _cleanup_free_ char *s = log_line_strip_ansi(line, len, &n);
        if (!s)
                return -ENOMEM;

        /* checkHalt's error, wherever CometBFT put it (err="…", a panic's text, a JSON string). */
        static const char finalize[] = "halt per configuration height ";
        const char *f = memmem(s, n, finalize, (sizeof(finalize) - 1));
        if (f) {
                int64_t h = digits_at(f + (sizeof(finalize) - 1), s + n);
                if (h > 0) {
                        *ret = (HeightLine){.kind = HEIGHT_LINE_HALT_FINALIZE, .height = h};
                        return 1;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (!has_message(s, n, table[i].msg))
                        continue;
                int64_t h = height_field(s, n);
                if (h <= 0)
                        return 0;
                *ret = (HeightLine){.kind = table[i].kind, .height = h};
                return 1;
        }
        return 0;
}

int64_t height_line_committed(const HeightLine *l) {
        switch (l->kind) {
        case HEIGHT_LINE_COMMITTED: return l->height;
        case HEIGHT_LINE_BLOCK: return l->height - 1;
        default: return 0;
        }
}

HaltVerdict height_halt_verdict(HeightLineKind kind, int64_t halt_height, int64_t committed) {
        assert(halt_height > 0);
        assert(kind == HEIGHT_LINE_HALT_COMMIT || kind == HEIGHT_LINE_HALT_FINALIZE);

        if (committed <= 0)
                return HALT_UNCONFIRMED;
        int64_t last = kind == HEIGHT_LINE_HALT_COMMIT ? halt_height : halt_height - 1;
        return committed <= last ? HALT_AT_HEIGHT : HALT_ABOVE_HEIGHT;
}
