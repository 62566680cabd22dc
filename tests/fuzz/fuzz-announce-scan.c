/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the streaming announcement scanner with small windows (so that short inputs fill and slide
 * them): the input as one line fed whole, byte by byte, in pieces of 7 and in pieces chosen by the input
 * itself must give the same result; the window never grows beyond its size; an excerpt always holds a
 * plan; and when the text from the first marker on fits in a window (no ANSI sequence or carriage return
 * in the input), the plan is the one plan_parse_log_line() finds in the whole input. Then the input split
 * into lines by a LineBuffer whose long lines go through the scanner. */

#include "announce-scan.h"
#include "fuzz-util.h"
#include "line-buffer.h"
#include "plan.h"

#define WINDOW 256U
#define PLAN_MAX 160U

static bool plans_equal(const UpgradePlan *a, const UpgradePlan *b) {
        if (!a || !b)
                return !a && !b;
        return streq(a->name, b->name) && a->height == b->height && streq_ptr(a->time, b->time) &&
                streq(a->info, b->info);
}

static void take(const char *x, size_t xl, UpgradePlan **got) {
        CHECK(xl <= WINDOW);
        CHECK(!*got); /* one excerpt per line */
        CHECK(plan_parse_log_line(x, xl, got) == 1);
        CHECK((*got)->name[0]);
}

/* Feeds s in pieces: piece 0 = whole, else that size, or (SIZE_MAX) sizes taken from the bytes. */
static UpgradePlan *scan(const char *s, size_t n, size_t piece) {
        AnnounceScan a;
        UpgradePlan *got = NULL;
        const char *x;
        size_t xl;
        int r;

        announce_scan_init(&a, WINDOW, PLAN_MAX);
        for (size_t off = 0; off < n;) {
                size_t k = piece == 0       ? n
                        : piece == SIZE_MAX ? 1U + (size_t) (unsigned char) s[off] % 31U
                                            : piece;
                k = MIN(k, n - off);
                r = announce_scan_feed(&a, s + off, k, &x, &xl);
                CHECK(r == 0 || r == 1);
                if (r == 1)
                        take(x, xl, &got);
                CHECK(a.cap <= WINDOW);
                off += k;
        }
        r = announce_scan_end(&a, &x, &xl);
        CHECK(r == 0 || r == 1);
        if (r == 1)
                take(x, xl, &got);
        announce_scan_done(&a);
        return got;
}

static int on_line(const char *line, size_t len, bool truncated, void *userdata) {
        size_t *count = userdata;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        CHECK(len <= (truncated ? WINDOW : 64U));
        int r = plan_parse_log_line(line, len, &p);
        CHECK(r == 0 || r == 1);
        /* An excerpt is handed over only when it holds a plan. */
        CHECK(!truncated || r == 1);
        (*count)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data;

        _cleanup_(upgrade_plan_freep) UpgradePlan *whole = scan(s, size, 0);
        static const size_t pieces[] = {1, 7, SIZE_MAX};
        for (size_t i = 0; i < ELEMENTSOF(pieces); i++) {
                _cleanup_(upgrade_plan_freep) UpgradePlan *p = scan(s, size, pieces[i]);
                CHECK(plans_equal(p, whole));
        }

        /* Without escapes the text is the input itself: from the first marker to the end within one
         * window, the scanner reads what the whole-line parser reads. */
        if (!memchr(s, 0x1b, size) && !memchr(s, '\r', size)) {
                size_t m = size;
                for (size_t i = 0; i + 9 <= size; i++)
                        if (memcmp(s + i, "UPGRADE ", 8) == 0 && (s[i + 8] == '"' || s[i + 8] == '\\')) {
                                m = i;
                                break;
                        }
                if (size - m < WINDOW) {
                        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
                        CHECK(plan_parse_log_line(s, size, &p) >= 0);
                        CHECK(plans_equal(p, whole));
                }
        }

        LineBuffer b;
        size_t count = 0;
        line_buffer_init(&b, 64);
        line_buffer_set_scan_limits(&b, WINDOW, PLAN_MAX);
        for (size_t off = 0; off < size; off += 5)
                CHECK(line_buffer_feed(&b, s + off, MIN((size_t) 5, size - off), on_line, &count) == 0);
        CHECK(line_buffer_flush(&b, on_line, &count) == 0);
        CHECK(b.cap <= 64 && b.scan.cap <= WINDOW);
        line_buffer_done(&b);
        return 0;
}
