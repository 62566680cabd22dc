/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The line splitter: the same lines whatever the sizes of the feeds, long lines whole up to the limit,
 * beyond it only the excerpt that holds an upgrade announcement (tests/unit/test-announce-scan.c tests the
 * scanner itself), the last line without a newline, the pending partial line. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "line-buffer.h"
#include "strv.h"

typedef struct Collected {
        char **lines;     /* each line, truncated ones prefixed with "T:" */
        size_t calls;
        int fail_at;      /* return -EIO on this call (1-based), 0 never */
} Collected;

static int collect(const char *line, size_t len, bool truncated, void *userdata) {
        Collected *c = userdata;
        c->calls++;
        if (c->fail_at > 0 && c->calls == (size_t) c->fail_at)
                return -EIO;
        /* NUL bytes shown as "\0" so that the whole line can be compared as a string. */
        char *s = malloc(len * 2 + 3), *w = s;
        cr_assert_not_null(s);
        if (truncated) {
                memcpy(w, "T:", 2);
                w += 2;
        }
        for (size_t i = 0; i < len; i++) {
                if (line[i] == 0) {
                        *w++ = '\\';
                        *w++ = '0';
                } else
                        *w++ = line[i];
        }
        *w = 0;
        cr_assert_eq(strv_consume(&c->lines, s), 0);
        return 0;
}

static void collected_done(Collected *c) {
        c->lines = strv_free(c->lines);
}

static void expect_lines(char **got, char *const *want, const char *what) {
        size_t ng = strv_length(got), nw = strv_length(want);
        cr_expect_eq(ng, nw, "%s: %zu lines, expected %zu", what, ng, nw);
        for (size_t i = 0; i < MIN(ng, nw); i++)
                cr_expect_str_eq(got[i], want[i], "%s: line %zu", what, i);
}

/* Feeds data in pieces of the given size (0: random sizes from seed), then flushes. */
static void run(const char *data, size_t len, size_t max, size_t piece, unsigned seed, Collected *c) {
        LineBuffer b;
        line_buffer_init(&b, max);
        for (size_t off = 0; off < len;) {
                size_t k = piece ? piece : 1 + (size_t) rand_r(&seed) % 17;
                k = MIN(k, len - off);
                cr_assert_eq(line_buffer_feed(&b, data + off, k, collect, c), 0);
                off += k;
        }
        cr_assert_eq(line_buffer_flush(&b, collect, c), 0);
        line_buffer_done(&b);
}

Test(line_buffer, every_feed_size) {
        static const char data[] = "first\n\nthird line, longer than the others\r\nx\n\0nul\n" "last without newline";
        char *const want[] = { "first", "", "third line, longer than the others\r", "x", "\\0nul",
                               "last without newline", NULL };
        for (size_t piece = 1; piece <= sizeof(data); piece++) {
                Collected c = {};
                run(data, sizeof(data) - 1, 0, piece, 0, &c);
                char what[32];
                snprintf(what, sizeof(what), "piece %zu", piece);
                expect_lines(c.lines, want, what);
                collected_done(&c);
        }
        for (unsigned seed = 1; seed <= 200; seed++) {
                Collected c = {};
                run(data, sizeof(data) - 1, 0, 0, seed, &c);
                expect_lines(c.lines, want, "random pieces");
                collected_done(&c);
        }
}

Test(line_buffer, one_mib_line_whole) {
        size_t n = 1 << 20;
        _cleanup_free_ char *data = malloc(n + 32);
        for (size_t i = 0; i < n; i++)
                data[i] = (char) ('a' + i % 26);
        memcpy(data + n, "\nnext\n", 6);
        static const size_t pieces[] = { 1 << 20, 65536, 4096, 4093, 1 << 21 };
        for (size_t i = 0; i < ELEMENTSOF(pieces); i++) {
                Collected c = {};
                run(data, n + 6, 4 << 20, pieces[i], 0, &c);
                cr_assert_eq(strv_length(c.lines), 2, "piece %zu", pieces[i]);
                cr_expect_eq(strlen(c.lines[0]), n, "piece %zu: whole, not truncated", pieces[i]);
                cr_expect_eq(memcmp(c.lines[0], data, n), 0);
                cr_expect_str_eq(c.lines[1], "next");
                collected_done(&c);
        }
        /* The default limit (4 MiB) holds it too. */
        Collected c = {};
        run(data, n + 6, 0, 8192, 0, &c);
        cr_expect_eq(strlen(c.lines[0]), n);
        collected_done(&c);
}

Test(line_buffer, over_the_limit) {
        /* 10 bytes max: a line over it without an announcement gives nothing; the next line is whole. One
         * with an announcement gives the excerpt from its marker on, once, wherever the feeds cut it. */
        static const char data[] = "0123456789abcdefghijklmno\nshort\n0123456789\n0123456789A\n"
                                   "ERR \x1b[31mUPGRADE \"v2\" NEEDED at height: 7: i\x1b[0m module=x\n"
                                   "end";
        char *const want[] = { "short", "0123456789", "T:UPGRADE \"v2\" NEEDED at height: 7: i module=x", "end",
                               NULL };
        for (size_t piece = 1; piece <= sizeof(data); piece++) {
                Collected c = {};
                run(data, sizeof(data) - 1, 10, piece, 0, &c);
                char what[32];
                snprintf(what, sizeof(what), "piece %zu", piece);
                expect_lines(c.lines, want, what);
                collected_done(&c);
        }
        for (unsigned seed = 1; seed <= 200; seed++) {
                Collected c = {};
                run(data, sizeof(data) - 1, 10, 0, seed, &c);
                expect_lines(c.lines, want, "random pieces");
                collected_done(&c);
        }
}

Test(line_buffer, truncated_line_at_eof) {
        /* A line over the limit without a newline and without an announcement: nothing at the end. */
        Collected c = {};
        run("abcdefghijklmnopqrstuvwxyz", 26, 8, 3, 0, &c);
        expect_lines(c.lines, NULL, "long line at eof");
        collected_done(&c);

        /* With its announcement at the end: the excerpt at the flush. */
        static const char a[] = "abcdefgh UPGRADE \"v\" NEEDED at height: 1: x";
        run(a, sizeof(a) - 1, 8, 3, 0, &c);
        expect_lines(c.lines, STRV_MAKE("T:UPGRADE \"v\" NEEDED at height: 1: x"), "excerpt at eof");
        collected_done(&c);

        /* After the long line ends, lines are whole again. */
        run("abcdefghijklmnop\nqrs\n", 21, 8, 5, 0, &c);
        expect_lines(c.lines, STRV_MAKE("qrs"), "after a long line");
        collected_done(&c);
}

Test(line_buffer, pending_and_flush) {
        LineBuffer b;
        Collected c = {};
        size_t len;
        line_buffer_init(&b, 16);
        (void) line_buffer_pending(&b, &len);
        cr_expect_eq(len, 0);

        cr_assert_eq(line_buffer_feed(&b, "done\npart", 9, collect, &c), 0);
        const char *p = line_buffer_pending(&b, &len);
        cr_expect_eq(len, 4);
        cr_expect_eq(memcmp(p, "part", 4), 0);
        cr_assert_eq(line_buffer_feed(&b, "ial", 3, collect, &c), 0);
        p = line_buffer_pending(&b, &len);
        cr_expect_eq(len, 7);
        cr_expect_eq(memcmp(p, "partial", 7), 0);
        expect_lines(c.lines, STRV_MAKE("done"), "before flush");

        cr_assert_eq(line_buffer_flush(&b, collect, &c), 0);
        (void) line_buffer_pending(&b, &len);
        cr_expect_eq(len, 0, "flush consumes the partial line");
        cr_assert_eq(line_buffer_flush(&b, collect, &c), 0);
        expect_lines(c.lines, STRV_MAKE("done", "partial"), "flushed once");

        /* Inside a long line without a marker nothing is pending; once a marker came, the scanner's
         * window is (so that a line that stops arriving is scanned as it is). */
        cr_assert_eq(line_buffer_feed(&b, "0123456789abcdefXYZ", 19, collect, &c), 0);
        (void) line_buffer_pending(&b, &len);
        cr_expect_eq(len, 0);
        cr_assert_eq(line_buffer_feed(&b, "UPGRADE \"v2\" NEED", 17, collect, &c), 0);
        p = line_buffer_pending(&b, &len);
        cr_expect_eq(len, 17);
        cr_expect_eq(memcmp(p, "UPGRADE \"v2\" NEED", 17), 0);
        cr_assert_eq(line_buffer_feed(&b, "ED at height: 3: \nok", 20, collect, &c), 0);
        p = line_buffer_pending(&b, &len);
        cr_expect_eq(len, 2);
        cr_expect_eq(memcmp(p, "ok", 2), 0);
        expect_lines(c.lines, STRV_MAKE("done", "partial", "T:UPGRADE \"v2\" NEEDED at height: 3: "), "excerpt");

        /* A flush with nothing pending delivers nothing, an empty feed changes nothing. */
        cr_assert_eq(line_buffer_feed(&b, "", 0, collect, &c), 0);
        cr_assert_eq(line_buffer_flush(&b, collect, &c), 0);
        cr_assert_eq(line_buffer_flush(&b, collect, &c), 0);
        expect_lines(c.lines, STRV_MAKE("done", "partial", "T:UPGRADE \"v2\" NEEDED at height: 3: ", "ok"), "end");

        line_buffer_done(&b);
        line_buffer_done(&b);
        cr_expect_null(b.buf);
        collected_done(&c);
}

Test(line_buffer, callback_errors_stop_the_feed) {
        LineBuffer b;
        line_buffer_init(&b, 0);
        cr_expect_eq(b.max, LINE_BUFFER_DEFAULT_MAX);

        Collected c = { .fail_at = 2 };
        cr_expect_eq(line_buffer_feed(&b, "a\nb\nc\n", 6, collect, &c), -EIO);
        expect_lines(c.lines, STRV_MAKE("a"), "stopped at the failing line");
        /* Later feeds go on with the next bytes given. */
        cr_expect_eq(line_buffer_feed(&b, "d\n", 2, collect, &c), 0);
        expect_lines(c.lines, STRV_MAKE("a", "d"), "later feed");
        collected_done(&c);
        line_buffer_done(&b);

        /* A failing callback on the excerpt of a long line (handed over as soon as the scanner's window is
         * full) still skips the rest of that line. */
        line_buffer_init(&b, 4);
        line_buffer_set_scan_limits(&b, 64, 32);
        c = (Collected) { .fail_at = 1 };
        static const char head[] = "abcdefgh UPGRADE \"v\" NEEDED at height: 1: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy";
        cr_expect_eq(line_buffer_feed(&b, head, sizeof(head) - 1, collect, &c), -EIO);
        cr_expect_eq(c.calls, 1);
        static const char rest[] = "ijk UPGRADE \"w\" NEEDED at height: 2: \nnext\n";
        cr_expect_eq(line_buffer_feed(&b, rest, sizeof(rest) - 1, collect, &c), 0);
        expect_lines(c.lines, STRV_MAKE("next"), "rest of the failed line skipped");
        collected_done(&c);

        /* A failing flush reports the error and forgets the line. */
        c = (Collected) { .fail_at = 1 };
        cr_expect_eq(line_buffer_feed(&b, "xy", 2, collect, &c), 0);
        cr_expect_eq(line_buffer_flush(&b, collect, &c), -EIO);
        cr_expect_eq(line_buffer_flush(&b, collect, &c), 0);
        cr_expect_eq(c.calls, 1);
        collected_done(&c);
        line_buffer_done(&b);
}

Test(line_buffer, memory_stays_bounded) {
        /* 64 MiB of one endless line through a 1 KiB buffer: nothing delivered, the buffer never grows
         * (it is let go once the line is over the limit), and without a marker the scanner keeps nothing.
         * Then its announcement at the very end: the excerpt, as from a short line. */
        LineBuffer b;
        line_buffer_init(&b, 1024);
        Collected c = {};
        char chunk[65536];
        memset(chunk, 'z', sizeof(chunk));
        for (int i = 0; i < 1024; i++) {
                cr_assert_eq(line_buffer_feed(&b, chunk, sizeof(chunk), collect, &c), 0);
                cr_assert_leq(b.cap, 1024);
                cr_assert_null(b.scan.buf);
        }
        cr_expect_eq(strv_length(c.lines), 0);
        static const char tail[] = " {\"level\":\"error\",\"message\":\"UPGRADE \\\"v2\\\" NEEDED at height: 9: \"}\nnext\n";
        cr_assert_eq(line_buffer_feed(&b, tail, sizeof(tail) - 1, collect, &c), 0);
        expect_lines(c.lines, STRV_MAKE("T:UPGRADE \\\"v2\\\" NEEDED at height: 9: \"}", "next"), "announcement at the end");
        cr_expect_null(b.scan.buf);
        collected_done(&c);
        line_buffer_done(&b);
}
