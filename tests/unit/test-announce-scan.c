/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The streaming announcement scanner: every real announcement line of tests/data/log-lines/ (plain, ANSI
 * colours, logfmt, JSON, CONSENSUS FAILURE) behind a long text, and with a long text inside its own
 * quoted string, gives the plan plan_parse_log_line() gives for the short line, whatever the pieces it
 * is fed in (split at every offset, byte by byte, random pieces); windows that fill and slide at every
 * position of the announcement relative to them; bounded memory; one excerpt per line. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

#include "announce-scan.h"
#include "plan.h"
#include "string-util.h"
#include "strv.h"

/* Small windows, so that short inputs fill and slide them; every real line fits in PLAN_MAX. */
#define WINDOW 1536U
#define PLAN_MAX 1024U

/* ---- helpers ------------------------------------------------------------------------------------------ */

static bool plans_equal(const UpgradePlan *a, const UpgradePlan *b) {
        if (!a || !b)
                return !a && !b;
        return streq(a->name, b->name) && a->height == b->height && streq_ptr(a->time, b->time) &&
                streq(a->info, b->info);
}

static char *describe(const UpgradePlan *p) {
        char *s = NULL;
        if (!p)
                return strdup("(none)");
        cr_assert_gt(asprintf(&s, "'%s' h=%" PRIi64 " t=%s info='%s'", p->name, p->height, strna(p->time),
                             p->info),
                0);
        return s;
}

static UpgradePlan *parse_whole(const char *s, size_t n) {
        UpgradePlan *p = NULL;
        int r = plan_parse_log_line(s, n, &p);
        cr_assert(r == 0 || r == 1, "plan_parse_log_line: r=%d", r);
        return p;
}

/* Takes an excerpt: there must be at most one per line; it is parsed as the manager parses a line. */
static void take(UpgradePlan **got, unsigned *n, const char *x, size_t xl, const AnnounceScan *s) {
        cr_assert_leq(xl, s->window_max, "excerpt of %zu bytes over the window", xl);
        (*n)++;
        UpgradePlan *p = NULL;
        int r = plan_parse_log_line(x, xl, &p);
        cr_assert_eq(r, 1, "an excerpt handed over must hold a plan");
        upgrade_plan_free(*got);
        *got = p;
}

/* Feeds data as one line in pieces: cuts[] are the piece boundaries (sorted, may repeat), then ends the
 * line. Returns the plan of the excerpt, or NULL. */
static UpgradePlan *scan_cuts(
        const char *data, size_t n, const size_t *cuts, size_t n_cuts, size_t window, size_t plan_max) {
        AnnounceScan s;
        UpgradePlan *got = NULL;
        unsigned excerpts = 0;
        const char *x;
        size_t xl, off = 0;

        announce_scan_init(&s, window, plan_max);
        for (size_t i = 0; i <= n_cuts; i++) {
                size_t to = i < n_cuts ? cuts[i] : n;
                int r = announce_scan_feed(&s, data + off, to - off, &x, &xl);
                cr_assert(r == 0 || r == 1, "feed: r=%d", r);
                if (r == 1)
                        take(&got, &excerpts, x, xl, &s);
                cr_assert_leq(s.cap, s.window_max, "the window grew to %zu bytes", s.cap);
                off = to;
        }
        int r = announce_scan_end(&s, &x, &xl);
        cr_assert(r == 0 || r == 1, "end: r=%d", r);
        if (r == 1)
                take(&got, &excerpts, x, xl, &s);
        cr_assert_leq(excerpts, 1u, "%u excerpts for one line", excerpts);
        announce_scan_done(&s);
        return got;
}

static UpgradePlan *scan_pieces(const char *data, size_t n, size_t piece, size_t window, size_t plan_max) {
        size_t k = piece ? n / piece : 0;
        _cleanup_free_ size_t *cuts = new (size_t, k + 1);
        cr_assert_not_null(cuts);
        for (size_t i = 0; i < k; i++)
                cuts[i] = (i + 1) * piece;
        return scan_cuts(data, n, cuts, k, window, plan_max);
}

/* The same result for the input fed whole, byte by byte, split at every offset, and in random pieces. */
static void check_every_split(const char *data, size_t n, const UpgradePlan *want, size_t window,
        size_t plan_max, const char *where) {
        _cleanup_free_ char *w = describe(want);
        UpgradePlan *p;

        p = scan_cuts(data, n, NULL, 0, window, plan_max);
        _cleanup_free_ char *g = describe(p);
        cr_expect(plans_equal(p, want), "%s: whole: got %s, want %s", where, g, w);
        upgrade_plan_free(p);

        p = scan_pieces(data, n, 1, window, plan_max);
        cr_expect(plans_equal(p, want), "%s: byte by byte", where);
        upgrade_plan_free(p);

        for (size_t cut = 0; cut <= n; cut++) {
                p = scan_cuts(data, n, &cut, 1, window, plan_max);
                if (!plans_equal(p, want)) {
                        _cleanup_free_ char *d = describe(p);
                        cr_expect(false, "%s: split at %zu: got %s, want %s", where, cut, d, w);
                        upgrade_plan_free(p);
                        return;
                }
                upgrade_plan_free(p);
        }

        unsigned seed = (unsigned) n;
        for (int round = 0; round < 20; round++) {
                size_t cuts[64], k = 0, at = 0;
                while (k < ELEMENTSOF(cuts) && at < n) {
                        at += (size_t) rand_r(&seed) % (n / 8 + 2);
                        cuts[k++] = MIN(at, n);
                }
                p = scan_cuts(data, n, cuts, k, window, plan_max);
                cr_expect(plans_equal(p, want), "%s: random pieces, round %d", where, round);
                upgrade_plan_free(p);
        }
}

/* Text a JSON logger might dump before the announcement: no marker, escaped quotes as in a JSON or
 * logfmt string. */
static char *filler(size_t n) {
        static const char unit[] =
                "contract error: {\\\"code\\\":5,\\\"log\\\":\\\"out of gas\\\"} module=wasm; ";
        char *s = malloc(n + 1);
        cr_assert_not_null(s);
        for (size_t i = 0; i < n; i++)
                s[i] = unit[i % (sizeof(unit) - 1)];
        s[n] = 0;
        return s;
}

/* Filler with decoys: markers that announce nothing (raw, and escaped in a closed logfmt value), so that
 * windows open, fill up and slide before the real announcement. */
static char *filler_with_decoys(size_t n) {
        static const char *const decoys[] = {
                "UPGRADE \"v1\" SKIPPED at 100 ",
                "err=\"UPGRADE \\\"v0\\\" SKIPPED at height: 7: \" ",
                "UPGRADE \"xx\" NEEDED at height: none ",
        };
        char *s = filler(n);
        for (size_t at = 17, i = 0; at + 60 < n; at += 397, i++) {
                const char *d = decoys[i % ELEMENTSOF(decoys)];
                memcpy(s + at, d, strlen(d));
        }
        return s;
}

/* ---- the real lines ------------------------------------------------------------------------------------
 */

static size_t decode_tokens(char *s) {
        char *w = s;
        for (const char *p = s; *p;) {
                if (startswith(p, "{ESC}")) {
                        *w++ = 0x1b;
                        p += 5;
                } else if (startswith(p, "{CR}")) {
                        *w++ = '\r';
                        p += 4;
                } else
                        *w++ = *p++;
        }
        *w = 0;
        return (size_t) (w - s);
}

/* Every "line: " of tests/data/log-lines/\*.txt, decoded. */
static char **real_lines(void) {
        const char *root = getenv("ORAIVISOR_SOURCE_ROOT");
        cr_assert_not_null(root, "ORAIVISOR_SOURCE_ROOT is not set: run the test through meson test");
        _cleanup_free_ char *dir = NULL;
        cr_assert_gt(asprintf(&dir, "%s/tests/data/log-lines", root), 0);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        char **lines = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".txt"))
                        continue;
                _cleanup_free_ char *path = NULL;
                cr_assert_gt(asprintf(&path, "%s/%s", dir, de->d_name), 0);
                FILE *f = fopen(path, "re");
                cr_assert_not_null(f);
                char *buf = NULL;
                size_t cap = 0;
                ssize_t l;
                while ((l = getline(&buf, &cap, f)) >= 0) {
                        if (l > 0 && buf[l - 1] == '\n')
                                buf[l - 1] = 0;
                        const char *v = startswith(buf, "line: ");
                        if (v)
                                cr_assert_eq(strv_extend(&lines, v), 0);
                }
                free(buf);
                fclose(f);
        }
        closedir(d);
        cr_assert_gt(strv_length(lines), 40u);
        return lines;
}

/* Builds prefix + line[0..at) + insert + line[at..). */
static char *splice(
        const char *prefix, const char *line, size_t len, size_t at, const char *insert, size_t *ret_len) {
        size_t a = strlen(prefix), b = strlen(insert);
        char *s = malloc(a + len + b + 1);
        cr_assert_not_null(s);
        memcpy(s, prefix, a);
        memcpy(s + a, line, at);
        memcpy(s + a + at, insert, b);
        memcpy(s + a + at + b, line + at, len - at);
        *ret_len = a + len + b;
        s[*ret_len] = 0;
        return s;
}

Test(announce_scan, real_lines_behind_long_text) {
        char **lines = real_lines();
        _cleanup_free_ char *plain = filler(2 * WINDOW), *decoys = filler_with_decoys(2 * WINDOW);
        unsigned plans = 0, none = 0;

        STRV_FOREACH (l, lines) {
                size_t len = decode_tokens(*l);
                UpgradePlan *want = parse_whole(*l, len);
                cr_assert_leq(len, PLAN_MAX, "a real line longer than the test's plan_max");
                want ? plans++ : none++;

                /* Behind a long text, with or without decoys. */
                size_t n;
                _cleanup_free_ char *a = splice(plain, *l, len, 0, "", &n);
                check_every_split(a, n, want, WINDOW, PLAN_MAX, *l);
                _cleanup_free_ char *b = splice(decoys, *l, len, 0, "", &n);
                check_every_split(b, n, want, WINDOW, PLAN_MAX, *l);

                /* The long text inside the line, right before its first marker: inside the message of a
                 * JSON line or the err="…" value of a CONSENSUS FAILURE line, where the announcement is an
                 * escaped string. */
                const char *u = memmem(*l, len, "UPGRADE", 7);
                if (u) {
                        _cleanup_free_ char *c = splice("", *l, len, (size_t) (u - *l), plain, &n);
                        check_every_split(c, n, want, WINDOW, PLAN_MAX, *l);
                }
                upgrade_plan_free(want);
        }
        cr_expect_gt(plans, 30u);
        cr_expect_gt(none, 10u);
        strv_free(lines);
}

/* ---- windows -------------------------------------------------------------------------------------------
 */

Test(announce_scan, announcement_at_every_position_of_the_windows) {
        /* Decoys every 397 bytes open windows that fill and slide; the announcement comes at every offset
         * over two windows' length, so it starts and ends at every position relative to them. It must come
         * out whole (its info too) from the window that holds it whole. */
        static const char *const forms[] = {
                "UPGRADE \"v2\" NEEDED at height: 20: "
                "{\"binaries\":{\"linux/amd64\":\"https://example.com/v2?checksum=sha256:00\"}} "
                "module=x/upgrade",
                "\"message\":\"UPGRADE \\\"v2\\\" NEEDED at height: 20: https://example.com/v2.json\"}",
                "err=\"UPGRADE \\\"v2\\\" NEEDED at height: 20: \" module=consensus stack=\"goroutine 1\"",
        };
        _cleanup_free_ char *decoys = filler_with_decoys(1200), *plain = filler(2 * WINDOW);
        for (size_t f = 0; f < ELEMENTSOF(forms); f++) {
                UpgradePlan *want = parse_whole(forms[f], strlen(forms[f]));
                cr_assert_not_null(want);
                for (size_t at = 0; at < 2 * WINDOW; at++) {
                        size_t n;
                        /* Whole decoys first (a decoy cut in half would change the line's meaning), then
                         * a text of every length. */
                        _cleanup_free_ char *prefix = NULL;
                        cr_assert_gt(asprintf(&prefix, "%s%.*s", decoys, (int) at, plain), 0);
                        _cleanup_free_ char *s = splice(prefix, forms[f], strlen(forms[f]), 0, "", &n);
                        UpgradePlan *p = scan_cuts(s, n, NULL, 0, WINDOW, PLAN_MAX);
                        _cleanup_free_ char *g = describe(p);
                        cr_expect(plans_equal(p, want), "form %zu at %zu: got %s", f, at, g);
                        upgrade_plan_free(p);
                        /* And fed in pieces that cut the window boundaries differently. */
                        p = scan_pieces(s, n, 97, WINDOW, PLAN_MAX);
                        cr_expect(plans_equal(p, want), "form %zu at %zu, pieces of 97", f, at);
                        upgrade_plan_free(p);
                }
                upgrade_plan_free(want);
        }
}

Test(announce_scan, first_announcement_wins) {
        /* Two announcements far apart in one line: the first one, as in a short line. */
        _cleanup_free_ char *text = filler(5 * WINDOW);
        static const char first[] = "UPGRADE \"v2\" NEEDED at height: 20: one ";
        static const char second[] = "UPGRADE \"v3\" NEEDED at height: 30: two";
        memcpy(text + 100, first, strlen(first));
        memcpy(text + 4 * WINDOW, second, strlen(second));
        UpgradePlan *p = scan_pieces(text, strlen(text), 1000, WINDOW, PLAN_MAX);
        cr_assert_not_null(p);
        cr_expect_str_eq(p->name, "v2");
        upgrade_plan_free(p);

        /* An info that runs beyond the window is cut there, the plan is the same. */
        _cleanup_free_ char *longinfo = filler(3 * WINDOW);
        memcpy(longinfo, first, strlen(first));
        p = scan_pieces(longinfo, strlen(longinfo), 4096, WINDOW, PLAN_MAX);
        cr_assert_not_null(p);
        cr_expect_str_eq(p->name, "v2");
        cr_expect_eq(p->height, 20);
        cr_expect(startswith(p->info, "one ") && strlen(p->info) > 1000, "info '%.40s…'", p->info);
        cr_expect_lt(strlen(p->info), WINDOW);
        upgrade_plan_free(p);
}

Test(announce_scan, escapes_straddling_the_pieces) {
        /* A colour sequence and a carriage return in the middle of the marker and of the name are dropped
         * as the parser drops them, wherever the pieces are cut; an OSC sequence with ESC inside it too. */
        static const char line[] = "xx\x1b[1;31mUPG\x1b[0mRADE \"v\r2\x1b]8;;http://x\x1b"
                                   "a\x1b\\\" NEEDED at height: 9: i\x1b"
                                   "c";
        _cleanup_free_ char *text = filler(WINDOW);
        size_t n;
        _cleanup_free_ char *s = splice(text, line, sizeof(line) - 1, 0, "", &n);
        UpgradePlan want = {.name = (char *) "v2", .height = 9, .info = (char *) "i"};
        check_every_split(s, n, &want, WINDOW, PLAN_MAX, "escapes");
}

Test(announce_scan, lines_one_after_the_other) {
        AnnounceScan s;
        const char *x;
        size_t xl;
        announce_scan_init(&s, WINDOW, PLAN_MAX);

        static const char a[] = "noise UPGRADE \"v2\" NEEDED at height: 20: info";
        cr_expect_eq(announce_scan_feed(&s, a, sizeof(a) - 1, &x, &xl), 0);
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 1);
        cr_expect_eq(xl, strlen("UPGRADE \"v2\" NEEDED at height: 20: info"));
        cr_expect_eq(memcmp(x, "UPGRADE \"v2\" NEEDED at height: 20: info", xl), 0);

        /* The next line starts afresh: a marker cut at the end of the last one does not carry over. */
        static const char b[] = "UPGRA";
        static const char c[] = "DE \"v3\" NEEDED at height: 30: ";
        cr_expect_eq(announce_scan_feed(&s, b, 5, &x, &xl), 0);
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 0);
        cr_expect_eq(announce_scan_feed(&s, c, sizeof(c) - 1, &x, &xl), 0);
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 0);
        cr_expect_null(s.buf, "the window is let go after a line without announcement");

        /* The open window is pending until the line ends. */
        static const char d[] = "abc UPGRADE \"v4\" NEEDED at height: 40: ";
        cr_expect_eq(announce_scan_feed(&s, d, sizeof(d) - 1, &x, &xl), 0);
        size_t pl;
        const char *p = announce_scan_pending(&s, &pl);
        cr_expect_eq(pl, sizeof(d) - 1 - 4);
        cr_expect_eq(memcmp(p, d + 4, pl), 0);
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 1);
        (void) announce_scan_pending(&s, &pl);
        cr_expect_eq(pl, 0);
        announce_scan_done(&s);
        announce_scan_done(&s);
        cr_expect_null(s.buf);
}

Test(announce_scan, found_mid_line_then_rest_ignored) {
        /* A CONSENSUS FAILURE line whose stack runs on: the excerpt comes as soon as the window is full,
         * not at the line's end, and once only. */
        AnnounceScan s;
        const char *x;
        size_t xl;
        announce_scan_init(&s, WINDOW, PLAN_MAX);
        static const char head[] =
                "ERR CONSENSUS FAILURE!!! err=\"UPGRADE \\\"v2\\\" NEEDED at height: 20: \" stack=\"";
        cr_expect_eq(announce_scan_feed(&s, head, sizeof(head) - 1, &x, &xl), 0);
        _cleanup_free_ char *more = filler(WINDOW);
        cr_expect_eq(announce_scan_feed(&s, more, WINDOW, &x, &xl), 1);
        UpgradePlan *p = parse_whole(x, xl);
        cr_assert_not_null(p);
        cr_expect_str_eq(p->name, "v2");
        cr_expect_str_eq(p->info, "");
        upgrade_plan_free(p);
        for (int i = 0; i < 10; i++)
                cr_expect_eq(announce_scan_feed(&s, head, sizeof(head) - 1, &x, &xl), 0);
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 0);
        announce_scan_done(&s);
}

Test(announce_scan, memory_stays_bounded) {
        /* 64 MiB without a marker: no window at all. Then 16 MiB of markers that each nearly announce a
         * plan (the parser reads every window in full): the window never grows beyond its size, and the
         * default sizes hold. */
        AnnounceScan s;
        const char *x;
        size_t xl;
        announce_scan_init(&s, 0, 0);
        cr_expect_eq(s.window_max, ANNOUNCE_SCAN_WINDOW_MAX);
        cr_expect_eq(s.plan_max, ANNOUNCE_SCAN_PLAN_MAX);
        _cleanup_free_ char *chunk = filler(1 << 16);
        for (int i = 0; i < 1024; i++)
                cr_assert_eq(announce_scan_feed(&s, chunk, 1 << 16, &x, &xl), 0);
        cr_expect_null(s.buf);

        static const char decoy[] = "UPGRADE \"x\" NEEDED at height: x: ";
        for (size_t i = 0; i + sizeof(decoy) <= (1 << 16); i += sizeof(decoy) - 1)
                memcpy(chunk + i, decoy, sizeof(decoy) - 1);
        for (int i = 0; i < 256; i++) {
                cr_assert_eq(announce_scan_feed(&s, chunk, 1 << 16, &x, &xl), 0);
                cr_assert_leq(s.cap, ANNOUNCE_SCAN_WINDOW_MAX);
        }
        cr_expect_eq(announce_scan_end(&s, &x, &xl), 0);
        announce_scan_done(&s);
}
