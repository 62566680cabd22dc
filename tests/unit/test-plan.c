/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The upgrade announcement parser against real log lines (tests/data/log-lines/, one file per log style,
 * each line citing its source), synthetic edge cases, cut lines and very long lines; and the
 * upgrade-info.json parser and writer. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "plan.h"
#include "string-util.h"

/* ---- helpers ------------------------------------------------------------------------------------------ */

typedef struct Expect {
        const char *name;   /* NULL: must not match */
        int64_t height;
        const char *time;
        const char *info;
} Expect;

/* Parses and checks one line; where says which case failed. */
static void check_line(const char *line, size_t len, const Expect *e, const char *where) {
        UpgradePlan *p = NULL;
        int r = plan_parse_log_line(line, len, &p);
        if (!e->name) {
                cr_expect_eq(r, 0, "%s: expected no match, got r=%d name='%s'", where, r, p ? p->name : "");
                cr_expect_null(p, "%s: plan set without a match", where);
                upgrade_plan_free(p);
                return;
        }
        cr_expect_eq(r, 1, "%s: expected a match, got r=%d", where, r);
        if (r != 1 || !p) {
                upgrade_plan_free(p);
                return;
        }
        cr_expect_str_eq(p->name, e->name, "%s: name", where);
        cr_expect_eq(p->height, e->height, "%s: height %" PRIi64 " != %" PRIi64, where, p->height, e->height);
        if (e->time)
                cr_expect(p->time && streq(p->time, e->time), "%s: time '%s' != '%s'", where, strna(p->time), e->time);
        else
                cr_expect_null(p->time, "%s: unexpected time '%s'", where, strna(p->time));
        cr_expect_str_eq(p->info, e->info, "%s: info", where);
        upgrade_plan_free(p);
}

static void check(const char *line, const Expect e) {
        check_line(line, strlen(line), &e, line);
}

#define NO_MATCH ((Expect) {})
#define HEIGHT(n, h, i) ((Expect) { .name = (n), .height = (h), .info = (i) })
#define TIME(n, t, i) ((Expect) { .name = (n), .time = (t), .info = (i) })

/* Every prefix of a line that announces a plan is either no announcement or the same plan (name, height,
 * time): a line cut anywhere never yields another plan, in particular never a lower height. The info may
 * be shorter. */
static void check_prefixes(const char *line, size_t len, const Expect *e, const char *where) {
        for (size_t k = 0; k < len; k++) {
                UpgradePlan *p = NULL;
                int r = plan_parse_log_line(line, k, &p);
                cr_expect(r == 0 || r == 1, "%s: prefix %zu: r=%d", where, k, r);
                if (r == 1) {
                        cr_expect_str_eq(p->name, e->name, "%s: prefix %zu: name", where, k);
                        cr_expect_eq(p->height, e->height, "%s: prefix %zu: height %" PRIi64, where, k, p->height);
                        cr_expect(streq_ptr(p->time, e->time), "%s: prefix %zu: time", where, k);
                }
                upgrade_plan_free(p);
        }
}

/* ---- the real log lines ------------------------------------------------------------------------------- */

static char *data_dir(void) {
        const char *root = getenv("ORAIVISOR_SOURCE_ROOT");
        cr_assert_not_null(root, "ORAIVISOR_SOURCE_ROOT is not set: run the test through meson test");
        char *d = NULL;
        cr_assert_gt(asprintf(&d, "%s/tests/data/log-lines", root), 0);
        return d;
}

/* Replaces {ESC} and {CR} by their bytes, in place. */
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

typedef struct Case {
        char *line;
        size_t len;
        char *name, *time, *info;
        int64_t height;
        bool none;
        unsigned lineno;
} Case;

static void case_done(Case *c) {
        free(c->line);
        free(c->name);
        free(c->time);
        free(c->info);
        *c = (Case) {};
}

static void run_case(Case *c, const char *file, unsigned *n_match, unsigned *n_none) {
        char where[512];
        snprintf(where, sizeof(where), "%s:%u", file, c->lineno);
        cr_assert(c->none != !!c->name, "%s: a case needs either 'none' or a 'name:'", where);
        if (c->none) {
                check_line(c->line, c->len, &NO_MATCH, where);
                (*n_none)++;
                return;
        }
        cr_assert(c->info, "%s: a matching case needs an 'info:' line", where);
        cr_assert(c->height > 0 || c->time, "%s: a matching case needs 'height:' or 'time:'", where);
        Expect e = { .name = c->name, .height = c->height, .time = c->time, .info = c->info };
        check_line(c->line, c->len, &e, where);
        check_prefixes(c->line, c->len, &e, where);
        (*n_match)++;
}

static void run_file(const char *dir, const char *file, unsigned *n_match, unsigned *n_none) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        FILE *f = fopen(path, "re");
        cr_assert_not_null(f, "cannot open %s", path);

        Case c = {};
        char *buf = NULL;
        size_t cap = 0;
        ssize_t l;
        unsigned lineno = 0;
        while ((l = getline(&buf, &cap, f)) >= 0) {
                lineno++;
                if (l > 0 && buf[l - 1] == '\n')
                        buf[--l] = 0;
                const char *v;
                if (buf[0] == '#')
                        continue;
                if (buf[0] == 0) {
                        if (c.line)
                                run_case(&c, file, n_match, n_none);
                        case_done(&c);
                        continue;
                }
                if ((v = startswith(buf, "line: "))) {
                        cr_assert_null(c.line, "%s:%u: 'line:' without a blank line before it", file, lineno);
                        c.line = strdup(v);
                        c.len = decode_tokens(c.line);
                        c.lineno = lineno;
                } else if ((v = startswith(buf, "name: ")))
                        c.name = strdup(v);
                else if ((v = startswith(buf, "height: ")))
                        c.height = strtoll(v, NULL, 10);
                else if ((v = startswith(buf, "time: ")))
                        c.time = strdup(v);
                else if ((v = startswith(buf, "info:")))
                        c.info = strdup(v[0] == ' ' ? v + 1 : v);
                else if (streq(buf, "none"))
                        c.none = true;
                else
                        cr_assert_fail("%s:%u: cannot read '%s'", file, lineno, buf);
        }
        if (c.line)
                run_case(&c, file, n_match, n_none);
        case_done(&c);
        free(buf);
        fclose(f);
}

Test(plan_log_line, real_lines_by_style) {
        _cleanup_free_ char *dir = data_dir();
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        unsigned files = 0, n_match = 0, n_none = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".txt"))
                        continue;
                unsigned m = 0, z = 0;
                run_file(dir, de->d_name, &m, &z);
                cr_expect_gt(m + z, 0u, "%s holds no case", de->d_name);
                n_match += m;
                n_none += z;
                files++;
        }
        closedir(d);
        /* Six styles plus the lines that must not match; a data folder that lost files fails here. */
        cr_expect_geq(files, 7u, "only %u files of log lines", files);
        cr_expect_geq(n_match, 40u, "only %u matching lines", n_match);
        cr_expect_geq(n_none, 25u, "only %u non-matching lines", n_none);
}

/* ---- synthetic cases ---------------------------------------------------------------------------------- */

Test(plan_log_line, formats_of_the_info) {
        /* Info runs to the end of the message, spaces included; trailing whitespace trimmed. */
        check("UPGRADE \"v2\" NEEDED at height: 100: free text with spaces   ", HEIGHT("v2", 100, "free text with spaces"));
        check("UPGRADE \"v2\" NEEDED at height: 100: free text\t\r", HEIGHT("v2", 100, "free text"));
        /* Inline JSON with spaces is taken whole, whatever follows it. */
        check("UPGRADE \"v2\" NEEDED at height: 100: { \"binaries\" : { \"any\" : \"https://x/y?checksum=sha256:ab\" } } module=x/upgrade",
                HEIGHT("v2", 100, "{ \"binaries\" : { \"any\" : \"https://x/y?checksum=sha256:ab\" } }"));
        check("UPGRADE \"v2\" NEEDED at height: 100: {\"a\":\"}{\\\"\"} trailing words",
                HEIGHT("v2", 100, "{\"a\":\"}{\\\"\"}"));
        /* A URL with a query is one token, never a logfmt pair. */
        check("UPGRADE \"v2\" NEEDED at height: 100: https://example.com/v2.json?checksum=sha256:00ff module=x/upgrade",
                HEIGHT("v2", 100, "https://example.com/v2.json?checksum=sha256:00ff"));
        check("UPGRADE \"v2\" NEEDED at height: 100: https://example.com/v2.json?checksum=sha256:00ff",
                HEIGHT("v2", 100, "https://example.com/v2.json?checksum=sha256:00ff"));
        /* Empty info, with and without the logger's fields after it. */
        check("UPGRADE \"v2\" NEEDED at height: 100: ", HEIGHT("v2", 100, ""));
        check("UPGRADE \"v2\" NEEDED at height: 100:", HEIGHT("v2", 100, ""));
        check("UPGRADE \"v2\" NEEDED at height: 100:  module=x/upgrade", HEIGHT("v2", 100, ""));
        check("UPGRADE \"v2\" NEEDED at height: 100:  module=x/upgrade \t ", HEIGHT("v2", 100, ""));
        check("UPGRADE \"v2\" NEEDED at height: 100: text  module=x/upgrade   height=5  ", HEIGHT("v2", 100, "text"));
        check("UPGRADE \"v2\" NEEDED at height: 100:  module=x/upgrade err=\"a \\\"b\\\" c\" height=100",
                HEIGHT("v2", 100, ""));
        /* Several trailing pairs after a text info. */
        check("UPGRADE \"v2\" NEEDED at height: 100: see notes module=x/upgrade height=100 stack=\"x y\"",
                HEIGHT("v2", 100, "see notes"));
        /* Text that only looks like a pair because it contains '=' in the middle of a word stays. */
        check("UPGRADE \"v2\" NEEDED at height: 100: a+b=c", HEIGHT("v2", 100, "a+b=c"));
        /* Info that is percent, slashes and unicode. */
        check("UPGRADE \"v2\" NEEDED at height: 100: 100% /ünï/ 🚀", HEIGHT("v2", 100, "100% /ünï/ 🚀"));
}

Test(plan_log_line, names) {
        check("UPGRADE \"v2 with spaces\" NEEDED at height: 7: ", HEIGHT("v2 with spaces", 7, ""));
        check("UPGRADE \"Ünïcödé-🚀\" NEEDED at height: 7: ", HEIGHT("Ünïcödé-🚀", 7, ""));
        check("UPGRADE \"100%/../x\" NEEDED at height: 7: ", HEIGHT("100%/../x", 7, ""));
        check("UPGRADE \"a\"b\" NEEDED at height: 7: ", HEIGHT("a\"b", 7, ""));
        check("UPGRADE \"\"\" NEEDED at height: 7: ", HEIGHT("\"", 7, ""));
        check("UPGRADE \"\\\" NEEDED at height: 7: ", HEIGHT("\\", 7, ""));
        /* Escaped forms: logfmt and JSON quoting of the same names. */
        check("err=\"UPGRADE \\\"a\\\"b\\\" NEEDED at height: 7: \"", HEIGHT("a\"b", 7, ""));
        check("err=\"UPGRADE \\\"back\\\\slash\\\" NEEDED at height: 7: \"", HEIGHT("back\\slash", 7, ""));
        check("{\"message\":\"UPGRADE \\\"tab\\there\\\" NEEDED at height: 7: \"}", HEIGHT("tab\there", 7, ""));
        check("{\"message\":\"UPGRADE \\\"\\u00e9t\\u00e9\\\" NEEDED at height: 7: \"}", HEIGHT("été", 7, ""));
        /* Go's %q escapes: \x, \U. */
        check("err=\"UPGRADE \\\"bell\\x07\\\" NEEDED at height: 7: \"", HEIGHT("bell\a", 7, ""));
        check("err=\"UPGRADE \\\"rocket\\U0001F680\\\" NEEDED at height: 7: \"", HEIGHT("rocket🚀", 7, ""));
        /* Lone surrogates become U+FFFD, as json-c decodes them. */
        check("{\"message\":\"UPGRADE \\\"x\\ud800y\\\" NEEDED at height: 7: \"}", HEIGHT("x\xef\xbf\xbdy", 7, ""));
        check("err=\"UPGRADE \\\"x\\udc00\\\" NEEDED at height: 7: \"", HEIGHT("x\xef\xbf\xbd", 7, ""));
        /* Unknown or incomplete escapes are kept as they are. */
        check("err=\"UPGRADE \\\"q\\qz\\u12\\\" NEEDED at height: 7: \"", HEIGHT("q\\qz\\u12", 7, ""));
        /* Empty names never match, in any form. */
        check("UPGRADE \"\" NEEDED at height: 7: ", NO_MATCH);
        check("err=\"UPGRADE \\\"\\\" NEEDED at height: 7: \"", NO_MATCH);
        check("{\"message\":\"UPGRADE \\\"\\\" NEEDED at height: 7: \"}", NO_MATCH);
        /* A NUL in the name (raw bytes) never matches. */
        static const char nul[] = "UPGRADE \"a\0b\" NEEDED at height: 7: ";
        check_line(nul, sizeof(nul) - 1, &NO_MATCH, "raw NUL in name");
}

Test(plan_log_line, heights) {
        check("UPGRADE \"v2\" NEEDED at height: 1: ", HEIGHT("v2", 1, ""));
        check("UPGRADE \"v2\" NEEDED at height: 007: ", HEIGHT("v2", 7, ""));
        check("UPGRADE \"v2\" NEEDED at height: 9223372036854775807: ", HEIGHT("v2", INT64_MAX, ""));
        check("UPGRADE \"v2\" NEEDED at height: 9223372036854775808: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 99999999999999999999999: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 0: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 000: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: -1: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: +1: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 1e3: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 12a: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 12 : ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height:12: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: ", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at height: 100", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at Height: 100: ", NO_MATCH);
}

Test(plan_log_line, times) {
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00Z: info", TIME("t", "2021-06-01T00:00:00Z", "info"));
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00.123456789Z:", TIME("t", "2021-06-01T00:00:00.123456789Z", ""));
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00-07:00: x", TIME("t", "2021-06-01T00:00:00-07:00", "x"));
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01t00:00:00z: x", TIME("t", "2021-06-01t00:00:00z", "x"));
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00Z", NO_MATCH);          /* no colon */
        /* The time is read by its grammar: what follows its colon is the info. */
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00Z:x: y", TIME("t", "2021-06-01T00:00:00Z", "x: y"));
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00: x", NO_MATCH);            /* no seconds */
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01 00:00:00Z: x", NO_MATCH);        /* a space */
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00.Z: x", NO_MATCH);       /* empty fraction */
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00+0700: x", NO_MATCH);    /* offset without ':' */
        check("UPGRADE \"t\" NEEDED at time: 2021-06-01T00:00:00: x", NO_MATCH);         /* no zone */
        check("UPGRADE \"t\" NEEDED at time: :", NO_MATCH);
        check("UPGRADE \"t\" NEEDED at time: ", NO_MATCH);
        check("UPGRADE \"t\" NEEDED at time: soon: x", NO_MATCH);
        /* The zero time is what the SDK writes for "no time": never a plan by time. */
        check("UPGRADE \"t\" NEEDED at time: 0001-01-01T00:00:00Z: x", NO_MATCH);
        check("UPGRADE \"t\" NEEDED at time: 0001-01-01t00:00:00.000z: x", NO_MATCH);
}

Test(plan_log_line, several_markers_on_one_line) {
        /* A name never spans another announcement. */
        check("UPGRADE \"v1\" SKIPPED at 5; UPGRADE \"v2\" NEEDED at height: 9: ", HEIGHT("v2", 9, ""));
        check("BINARY UPDATED BEFORE TRIGGER! UPGRADE \"v1\" - in binary; UPGRADE \"v2\" NEEDED at height: 9: x",
                HEIGHT("v2", 9, "x"));
        /* The first announcement that parses wins. */
        check("UPGRADE \"a\" NEEDED at height: x: UPGRADE \"b\" NEEDED at height: 3: ", HEIGHT("b", 3, ""));
        check("UPGRADE \"a\" NEEDED at height: 2: UPGRADE \"b\" NEEDED at height: 3: ",
                HEIGHT("a", 2, "UPGRADE \"b\" NEEDED at height: 3:"));
        /* The raw form before an escaped one, and an escaped one when the raw one is not an announcement. */
        check("UPGRADE \"a\" SKIPPED err=\"UPGRADE \\\"b\\\" NEEDED at height: 3: \"", HEIGHT("b", 3, ""));
        /* A marker that overlaps the next one: 'UPGRADE " NEEDED at …' has an empty name. */
        check("UPGRADE \" NEEDED at height: 3: ", NO_MATCH);
        /* An error wrapping a quoted error: two levels of escaping. */
        check("err=\"outer: err=\\\"UPGRADE \\\\\\\"v2\\\\\\\" NEEDED at height: 4: \\\"\"", HEIGHT("v2", 4, ""));
}

Test(plan_log_line, json_lines) {
        /* Keys other loggers use. */
        check("{\"msg\":\"UPGRADE \\\"v2\\\" NEEDED at height: 5: i\"}", HEIGHT("v2", 5, "i"));
        check("{\"M\":\"UPGRADE \\\"v2\\\" NEEDED at height: 5: i\"}", HEIGHT("v2", 5, "i"));
        check("  {\"_msg\":\"UPGRADE \\\"v2\\\" NEEDED at height: 5: i\"}", HEIGHT("v2", 5, "i"));
        /* The first announcement on the line wins, whatever its field: so that a cut line never gives
         * another plan than the whole line. */
        check("{\"err\":\"UPGRADE \\\"a\\\" NEEDED at height: 1: \",\"message\":\"UPGRADE \\\"b\\\" NEEDED at height: 2: \"}",
                HEIGHT("a", 1, ""));
        /* A message that is not a string, and a line that is a JSON array. */
        check("{\"message\":5,\"err\":\"UPGRADE \\\"v2\\\" NEEDED at height: 5: \"}", HEIGHT("v2", 5, ""));
        check("[\"UPGRADE \\\"v2\\\" NEEDED at height: 5: \"]", HEIGHT("v2", 5, ""));
        /* A message with an inner logfmt err value. */
        check("{\"message\":\"CONSENSUS FAILURE!!! err=\\\"UPGRADE \\\\\\\"v2\\\\\\\" NEEDED at height: 5: \\\"\"}",
                HEIGHT("v2", 5, ""));
        /* ANSI colours around a JSON line (a wrapper colouring whole lines). */
        check("\x1b[31m{\"message\":\"UPGRADE \\\"v2\\\" NEEDED at height: 5: \"}\x1b[0m", HEIGHT("v2", 5, ""));
}

Test(plan_log_line, ansi_sequences) {
        check("\x1b[1m\x1b[31mERR\x1b[0m UPGRADE \"v2\" NEEDED at height: 5:  \x1b[36mmodule=\x1b[0mx", HEIGHT("v2", 5, ""));
        /* An OSC sequence (terminal title / hyperlink) ended by BEL and by ESC \. */
        check("\x1b]0;title\aUPGRADE \"v2\" NEEDED at height: 5: i", HEIGHT("v2", 5, "i"));
        check("\x1b]8;;http://x\x1b\\UPGRADE \"v2\" NEEDED at height: 5: i\x1b]8;;\x1b\\", HEIGHT("v2", 5, "i"));
        /* A two-byte escape and a lone ESC at the end. */
        check("\x1b" "cUPGRADE \"v2\" NEEDED at height: 5: i\x1b", HEIGHT("v2", 5, "i"));
        /* Colour codes inside the name are not part of it. */
        check("UPGRADE \"\x1b[1mv2\x1b[0m\" NEEDED at height: 5: ", HEIGHT("v2", 5, ""));
}

Test(plan_log_line, not_announcements) {
        check("", NO_MATCH);
        check("UPGRADE", NO_MATCH);
        check("NEEDED UPGRADE", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED", NO_MATCH);
        check("UPGRADE \"v2\" NEEDED at ", NO_MATCH);
        check("UPGRADE \"v2 NEEDED at height: 5: ", NO_MATCH);
        check("UPGRADE v2 NEEDED at height: 5: ", NO_MATCH);
        check("UPGRADE 'v2' NEEDED at height: 5: ", NO_MATCH);
        check("UPGRADE  \"v2\" NEEDED at height: 5: ", NO_MATCH);
        check("upgrade \"v2\" needed at height: 5: ", NO_MATCH);
        check("Upgrade \"v2\" Needed at height: 5: ", NO_MATCH);
        check("UPGRADE \"v2\" needed at height: 5: ", NO_MATCH);
        check("UPGRADE \"v2\" SKIPPED at 5 (NEEDED by nobody)", NO_MATCH);
        check("err=\"UPGRADE \\\"v2\\\" NEEDED at height: 5", NO_MATCH);
        check("{\"message\":\"UPGRADE \\\"v2\\\" NEEDED at height: \"}", NO_MATCH);
        /* Only the announcement's own spelling counts. */
        check("UPGRADE \u201cv2\u201d NEEDED at height: 5: ", NO_MATCH);
}

/* The JSON logger escapes whatever a name holds; the parser must give back exactly the name json-c reads
 * from upgrade-info.json, or the same plan from the two sources would look like two plans. */
Test(plan_log_line, json_escaped_names_round_trip) {
        unsigned seed = 424242;
        for (unsigned iter = 0; iter < 5000; iter++) {
                char name[40];
                size_t n = 1 + (size_t) (rand_r(&seed) % 30);
                for (size_t i = 0; i < n; i++)
                        name[i] = (char) (1 + rand_r(&seed) % 255);
                name[n] = 0;
                if (strstr(name, "UPGRADE") || strstr(name, "NEEDED"))
                        continue;
                _cleanup_free_ char *msg = NULL;
                cr_assert_gt(asprintf(&msg, "UPGRADE \"%s\" NEEDED at height: 5: ", name), 0);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "level", json_object_new_string("error"));
                json_object_object_add(o, "message", json_object_new_string(msg));
                const char *line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
                UpgradePlan *p = NULL;
                int r = plan_parse_log_line(line, strlen(line), &p);
                cr_expect_eq(r, 1, "%s", line);
                if (p) {
                        cr_expect_str_eq(p->name, name, "%s", line);
                        cr_expect_eq(p->height, 5);
                }
                upgrade_plan_free(p);
                json_object_put(o);
        }
}

/* ---- long and hostile lines --------------------------------------------------------------------------- */

Test(plan_log_line, one_mib_of_info) {
        size_t n = 1 << 20;
        _cleanup_free_ char *info = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
                info[i] = "abc def/"[i % 8];
        info[n] = 0;
        _cleanup_free_ char *line = NULL;
        cr_assert_gt(asprintf(&line, "3:04PM ERR UPGRADE \"big\" NEEDED at height: 42: %s module=x/upgrade", info), 0);
        UpgradePlan *p = NULL;
        cr_assert_eq(plan_parse_log_line(line, strlen(line), &p), 1);
        cr_expect_str_eq(p->name, "big");
        cr_expect_eq(p->height, 42);
        size_t want = trim_trailing_whitespace_len(info, n);
        cr_expect_eq(strlen(p->info), want);
        cr_expect_eq(memcmp(p->info, info, want), 0);
        upgrade_plan_free(p);
}

Test(plan_log_line, announcement_after_four_mib) {
        size_t n = 4 << 20;
        const char *a = " err=\"UPGRADE \\\"late\\\" NEEDED at height: 9: \"";
        _cleanup_free_ char *line = malloc(n + strlen(a) + 1);
        memset(line, 'x', n);
        strcpy(line + n, a);
        UpgradePlan *p = NULL;
        cr_assert_eq(plan_parse_log_line(line, strlen(line), &p), 1);
        cr_expect_str_eq(p->name, "late");
        upgrade_plan_free(p);
}

static double seconds_for(const char *line, size_t len) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        UpgradePlan *p = NULL;
        int r = plan_parse_log_line(line, len, &p);
        clock_gettime(CLOCK_MONOTONIC, &b);
        cr_expect_geq(r, 0);
        upgrade_plan_free(p);
        return (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
}

/* Lines full of markers that never complete: the scan stays linear (a quadratic one takes minutes on
 * these 4 MiB lines). */
Test(plan_log_line, many_markers_stay_linear, .timeout = 60) {
        static const char *const units[] = {
                "UPGRADE \"",                      /* raw markers, no name end until the very end */
                "UPGRADE \\\"",                    /* escaped markers inside one unclosed string */
                "\" NEEDED at ",                   /* name ends without a marker */
                "UPGRADE \"x\" NEEDED at height: ", /* complete heads without a height */
                "err=\"UPGRADE \\\"x\\\" NEEDED\" ", /* many closed quoted strings */
        };
        size_t n = 4 << 20;
        _cleanup_free_ char *line = malloc(n + 64);
        for (size_t u = 0; u < ELEMENTSOF(units); u++) {
                size_t l = strlen(units[u]), k = 0;
                while (k + l <= n) {
                        memcpy(line + k, units[u], l);
                        k += l;
                }
                /* One real announcement at the very end, after all the noise. */
                const char *tail = "x\" NEEDED at height: 1: ";
                memcpy(line + k, tail, strlen(tail));
                k += strlen(tail);
                double s = seconds_for(line, k);
                cr_expect_lt(s, 5.0, "unit '%s': %.2fs for 4 MiB", units[u], s);
        }
}

/* ---- upgrade-info.json -------------------------------------------------------------------------------- */

typedef struct JsonCase {
        const char *json;
        int ret;
        const char *reason;  /* for -EBADMSG */
        const char *name;
        int64_t height;
        const char *time;
        const char *info;
} JsonCase;

static void check_json(const JsonCase *c) {
        UpgradePlan *p = NULL;
        const char *reason = "unset";
        int r = plan_parse_json(c->json, strlen(c->json), &p, &reason);
        cr_expect_eq(r, c->ret, "%s: r=%d (%s)", c->json, r, strna(reason));
        if (c->ret < 0) {
                cr_expect_null(p, "%s", c->json);
                cr_expect(reason && streq(reason, c->reason), "%s: reason '%s', expected '%s'", c->json,
                        strna(reason), c->reason);
                return;
        }
        cr_expect_null(reason, "%s: reason set on success", c->json);
        if (!p)
                return;
        cr_expect_str_eq(p->name, c->name, "%s", c->json);
        cr_expect_eq(p->height, c->height, "%s: height %" PRIi64, c->json, p->height);
        cr_expect(streq_ptr(p->time, c->time), "%s: time '%s'", c->json, strna(p->time));
        cr_expect_str_eq(p->info, c->info, "%s", c->json);
        upgrade_plan_free(p);
}

#define R_HEIGHT "\"height\" is not a whole number from 0 to 9223372036854775807"
#define R_NAME "\"name\" is missing, empty or not a string"
#define R_ZERO "\"height\" is missing or zero and there is no \"time\""

Test(plan_json, generations_of_the_file) {
        static const JsonCase cases[] = {
                /* x/upgrade before info was written (SDK <= v0.44.2, cosmos-sdk #10428). */
                { "{\"name\":\"v2\",\"height\":100}", 0, NULL, "v2", 100, NULL, "" },
                /* DumpUpgradeInfoWithInfoToDisk (SDK v0.44.3+). */
                { "{\"name\":\"v2\",\"height\":100,\"info\":\"{\\\"binaries\\\":{}}\"}", 0, NULL, "v2", 100, NULL, "{\"binaries\":{}}" },
                /* The whole Plan with the zero time (SDK v0.46+; cosmos-sdk #22167 shows one). */
                { "{\"name\":\"v0.12.0\",\"time\":\"0001-01-01T00:00:00Z\",\"height\":1325860}", 0, NULL, "v0.12.0", 1325860, NULL, "" },
                { "{\"name\":\"v2\",\"time\":\"0001-01-01T00:00:00Z\",\"height\":\"100\",\"info\":\"https://x/y.json\",\"upgraded_client_state\":null}",
                        0, NULL, "v2", 100, NULL, "https://x/y.json" },
                /* Height as a string (jsonpb int64), trailing whitespace, CRLF. */
                { "{\"name\":\"v2\",\"height\":\"100\"}\n", 0, NULL, "v2", 100, NULL, "" },
                { "  {\"name\":\"v2\",\"height\":7}\r\n\r\n", 0, NULL, "v2", 7, NULL, "" },
                /* A plan by time. */
                { "{\"name\":\"t\",\"time\":\"2021-06-01T00:00:00Z\",\"height\":0}", 0, NULL, "t", 0, "2021-06-01T00:00:00Z", "" },
                { "{\"name\":\"t\",\"time\":\"2021-06-01T00:00:00Z\"}", 0, NULL, "t", 0, "2021-06-01T00:00:00Z", "" },
                /* Height wins over a time. */
                { "{\"name\":\"h\",\"time\":\"2021-06-01T00:00:00Z\",\"height\":5}", 0, NULL, "h", 5, NULL, "" },
                /* null info, null height with a time, unknown keys, the largest height. */
                { "{\"name\":\"v2\",\"height\":5,\"info\":null,\"extra\":[1,{}]}", 0, NULL, "v2", 5, NULL, "" },
                { "{\"name\":\"t\",\"height\":null,\"time\":\"2021-06-01T00:00:00Z\"}", 0, NULL, "t", 0, "2021-06-01T00:00:00Z", "" },
                { "{\"name\":\"v2\",\"height\":9223372036854775807}", 0, NULL, "v2", INT64_MAX, NULL, "" },
                { "{\"name\":\"v2\",\"height\":\"9223372036854775807\"}", 0, NULL, "v2", INT64_MAX, NULL, "" },
                /* Names with quotes, unicode, escapes. */
                { "{\"name\":\"a\\\"b \\u00e9 \\ud83d\\ude80 /%\",\"height\":1}", 0, NULL, "a\"b é 🚀 /%", 1, NULL, "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_json(&cases[i]);
}

Test(plan_json, bad_files) {
        static const JsonCase cases[] = {
                { "", -EBADMSG, "the file is empty" },
                { " \n\t", -EBADMSG, "the file holds only whitespace" },
                { "not json", -EBADMSG, "the file is not valid JSON" },
                { "{\"name\":\"v2\",\"height\":", -EBADMSG, "the file ends in the middle of the JSON (it may still be being written)" },
                { "{\"name\":\"v2\"", -EBADMSG, "the file ends in the middle of the JSON (it may still be being written)" },
                { "{", -EBADMSG, "the file ends in the middle of the JSON (it may still be being written)" },
                { "{\"name\":\"v2\",\"height\":1}}", -EBADMSG, "the file has data after the JSON object" },
                { "{\"name\":\"v2\",\"height\":1} {\"name\":\"v3\",\"height\":2}", -EBADMSG, "the file has data after the JSON object" },
                { "[{\"name\":\"v2\",\"height\":1}]", -EBADMSG, "the file is not a JSON object" },
                { "\"v2\"", -EBADMSG, "the file is not a JSON object" },
                { "null", -EBADMSG, "the file is not a JSON object" },
                { "{}", -EBADMSG, R_NAME },
                { "{\"height\":100}", -EBADMSG, R_NAME },
                { "{\"name\":\"\",\"height\":100}", -EBADMSG, R_NAME },
                { "{\"name\":null,\"height\":100}", -EBADMSG, R_NAME },
                { "{\"name\":2,\"height\":100}", -EBADMSG, R_NAME },
                { "{\"name\":\"a\\u0000b\",\"height\":100}", -EBADMSG, "\"name\" contains a NUL character" },
                { "{\"name\":\"v2\",\"height\":-1}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":1.5}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":1e3}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":9223372036854775808}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":18446744073709551616}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":-9223372036854775809}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\"-1\"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\"+1\"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\" 1\"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\"1 \"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\"\"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":\"99999999999999999999\"}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":true}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\",\"height\":[1]}", -EBADMSG, R_HEIGHT },
                { "{\"name\":\"v2\"}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"height\":0}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"height\":\"0\"}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"height\":0,\"time\":\"0001-01-01T00:00:00Z\"}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"time\":\"\"}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"time\":\"0001-01-01t00:00:00z\"}", -EBADMSG, R_ZERO },
                { "{\"name\":\"v2\",\"height\":1,\"info\":{\"binaries\":{}}}", -EBADMSG, "\"info\" is not a string" },
                { "{\"name\":\"v2\",\"height\":1,\"info\":5}", -EBADMSG, "\"info\" is not a string" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_json(&cases[i]);
}

Test(plan_json, reason_is_optional_and_nul_bytes) {
        UpgradePlan *p = NULL;
        cr_expect_eq(plan_parse_json("{}", 2, &p, NULL), -EBADMSG);
        cr_expect_null(p);
        /* A NUL byte inside the buffer ends nothing early: the length is what counts. */
        static const char withnul[] = "{\"name\":\"v2\",\"height\":1}\0junk";
        const char *reason = NULL;
        cr_expect_eq(plan_parse_json(withnul, sizeof(withnul) - 1, &p, &reason), -EBADMSG);
        cr_expect_str_eq(strna(reason), "the file has data after the JSON object");
}

Test(plan_json, round_trip) {
        static const struct {
                const char *name, *time, *info;
                int64_t height;
        } cases[] = {
                { "v2", NULL, "", 100 },
                { "a\"b\\c/d", NULL, "{\"binaries\":{\"linux/amd64\":\"https://x/y?checksum=sha256:ab\"}}", 1 },
                { "Ünïcödé 🚀", NULL, "tab\there\nnewline", INT64_MAX },
                { "\x01\x1f\x7f", NULL, "\x01", 5 },
                { "t", "2021-06-01T00:00:00Z", "x", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(upgrade_plan_freep) UpgradePlan *a = NULL, *b = NULL;
                cr_assert_eq(upgrade_plan_new(cases[i].name, cases[i].height, cases[i].time, cases[i].info, &a), 0);
                _cleanup_free_ char *json = NULL;
                cr_assert_eq(plan_to_json(a, &json), 0);
                cr_expect_null(strchr(json, '\n'), "%s: one line", json);
                const char *reason = NULL;
                cr_assert_eq(plan_parse_json(json, strlen(json), &b, &reason), 0, "%s: %s", json, strna(reason));
                cr_expect_str_eq(b->name, a->name);
                cr_expect_eq(b->height, a->height);
                cr_expect(streq_ptr(b->time, a->time));
                cr_expect_str_eq(b->info, a->info);
                cr_expect(upgrade_plan_same(a, b));
        }
}

Test(plan_json, writer_output) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        cr_assert_eq(upgrade_plan_new("v2/x", 100, NULL, NULL, &p), 0);
        _cleanup_free_ char *json = NULL;
        cr_assert_eq(plan_to_json(p, &json), 0);
        /* Plain, no escaped slashes, the keys the SDK writes. */
        cr_expect_str_eq(json, "{\"name\":\"v2/x\",\"height\":100,\"info\":\"\"}");
}

/* ---- plan helpers ------------------------------------------------------------------------------------- */

Test(plan, same_describe_dup) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *a = NULL, *b = NULL, *c = NULL, *t = NULL, *u = NULL, *d = NULL;
        cr_assert_eq(upgrade_plan_new("v2", 100, NULL, "one", &a), 0);
        cr_assert_eq(upgrade_plan_new("v2", 100, NULL, "another info", &b), 0);
        cr_assert_eq(upgrade_plan_new("v2", 101, NULL, "one", &c), 0);
        cr_assert_eq(upgrade_plan_new("t", 0, "2021-06-01T00:00:00Z", NULL, &t), 0);
        cr_assert_eq(upgrade_plan_new("t", 0, "2021-06-02T00:00:00Z", NULL, &u), 0);
        cr_expect(upgrade_plan_same(a, b), "info is not compared");
        cr_expect_not(upgrade_plan_same(a, c));
        cr_expect_not(upgrade_plan_same(t, u));
        cr_expect_not(upgrade_plan_same(a, NULL));
        cr_expect_not(upgrade_plan_same(NULL, NULL));
        cr_expect_str_eq(t->info, "");

        _cleanup_free_ char *da = upgrade_plan_describe(a), *dt = upgrade_plan_describe(t);
        cr_expect_str_eq(da, "'v2' at height 100");
        cr_expect_str_eq(dt, "'t' at time 2021-06-01T00:00:00Z");

        cr_assert_eq(upgrade_plan_dup(t, &d), 0);
        cr_expect(upgrade_plan_same(d, t));
        cr_expect_neq(d->name, t->name);
        cr_expect_null(upgrade_plan_free(NULL));
}

Test(plan, source_names) {
        cr_expect_str_eq(plan_source_to_string(PLAN_SOURCE_LOG), "log line");
        cr_expect_str_eq(plan_source_to_string(PLAN_SOURCE_FILE), "upgrade-info.json");
        cr_expect_str_eq(plan_source_to_string(PLAN_SOURCE_STARTUP), "upgrade-info.json at start-up");
        cr_expect_str_eq(plan_source_to_string(PLAN_SOURCE_RECORD), "interrupted upgrade");
        cr_expect_null(plan_source_to_string(_PLAN_SOURCE_MAX));
        cr_expect_null(plan_source_to_string(_PLAN_SOURCE_INVALID));
}
