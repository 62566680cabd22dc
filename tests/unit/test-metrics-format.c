/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "metrics-format.h"

static char *format(const Metrics *m) {
        char *s = NULL;
        cr_assert_eq(metrics_format(m, &s), 0);
        cr_assert_not_null(s);
        return s;
}

static Metrics sample(void) {
        Metrics m = METRICS_INIT;
        m.name = "oraid";
        m.daemon = "oraid";
        m.home = "/var/lib/oraid";
        m.current = "v2";
        m.version = "0.1.0";
        return m;
}

/* The whole file of a node that runs v2 after one upgrade: every family, HELP and TYPE included. */
Test(metrics_format, after_an_upgrade) {
        Metrics m = sample();
        m.daemon_up = true;
        m.history = (MetricsHistory) {
                .daemon_starts = 2,
                .upgrades = { [METRICS_RESULT_SUCCESS] = 1 },
                .last_upgrade_usec = UINT64_C(1765000000) * USEC_PER_SEC + 250000,
                .last_upgrade_duration = 12 * USEC_PER_SEC,
                .have_backup = true,
                .last_backup_bytes = 1048576,
                .last_backup_duration = 1500 * USEC_PER_MSEC,
        };
        _cleanup_free_ char *s = format(&m);
        cr_assert_str_eq(s,
                "# HELP oraivisor_info The node this file describes and the version it runs (the value is always 1).\n"
                "# TYPE oraivisor_info gauge\n"
                "oraivisor_info{name=\"oraid\",daemon=\"oraid\",home=\"/var/lib/oraid\",current=\"v2\",version=\"0.1.0\"} 1\n"
                "# HELP oraivisor_daemon_up Whether the node's daemon is running (1) or not (0).\n"
                "# TYPE oraivisor_daemon_up gauge\n"
                "oraivisor_daemon_up{name=\"oraid\"} 1\n"
                "# HELP oraivisor_daemon_starts_total Times oraivisor started the node's daemon (adopting a running one is not a start).\n"
                "# TYPE oraivisor_daemon_starts_total counter\n"
                "oraivisor_daemon_starts_total{name=\"oraid\"} 2\n"
                "# HELP oraivisor_upgrades_total Upgrades that ended, by result.\n"
                "# TYPE oraivisor_upgrades_total counter\n"
                "oraivisor_upgrades_total{name=\"oraid\",result=\"success\"} 1\n"
                "oraivisor_upgrades_total{name=\"oraid\",result=\"failure\"} 0\n"
                "# HELP oraivisor_upgrade_in_progress 1 for the step the upgrade under way is at; 0 for every step when no upgrade runs.\n"
                "# TYPE oraivisor_upgrade_in_progress gauge\n"
                "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"backup\"} 0\n"
                "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"obtain\"} 0\n"
                "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"hooks\"} 0\n"
                "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"pre-upgrade\"} 0\n"
                "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"switch\"} 0\n"
                "# HELP oraivisor_last_upgrade_timestamp_seconds When the last successful upgrade switched to its new version (Unix time).\n"
                "# TYPE oraivisor_last_upgrade_timestamp_seconds gauge\n"
                "oraivisor_last_upgrade_timestamp_seconds{name=\"oraid\"} 1765000000.25\n"
                "# HELP oraivisor_last_upgrade_duration_seconds How long the last successful upgrade took, from its start to the switch, restarts included.\n"
                "# TYPE oraivisor_last_upgrade_duration_seconds gauge\n"
                "oraivisor_last_upgrade_duration_seconds{name=\"oraid\"} 12\n"
                "# HELP oraivisor_last_backup_bytes Bytes of files in the last backup of the data folder (0 for a btrfs snapshot).\n"
                "# TYPE oraivisor_last_backup_bytes gauge\n"
                "oraivisor_last_backup_bytes{name=\"oraid\"} 1048576\n"
                "# HELP oraivisor_last_backup_duration_seconds How long the last backup of the data folder took.\n"
                "# TYPE oraivisor_last_backup_duration_seconds gauge\n"
                "oraivisor_last_backup_duration_seconds{name=\"oraid\"} 1.5\n");
}

/* Before any upgrade: the last-upgrade and last-backup families are absent (not 0: that would be 1970),
 * and the counters start at 0 for both results, so that rate() sees the first failure. */
Test(metrics_format, fresh_node_has_no_last_upgrade) {
        Metrics m = sample();
        m.current = "genesis";
        _cleanup_free_ char *s = format(&m);
        cr_assert(strstr(s, "current=\"genesis\""));
        cr_assert(strstr(s, "oraivisor_daemon_up{name=\"oraid\"} 0\n"));
        cr_assert(strstr(s, "oraivisor_upgrades_total{name=\"oraid\",result=\"success\"} 0\n"));
        cr_assert(strstr(s, "oraivisor_upgrades_total{name=\"oraid\",result=\"failure\"} 0\n"));
        cr_assert_null(strstr(s, "last_upgrade"));
        cr_assert_null(strstr(s, "last_backup"));
}

Test(metrics_format, step_in_progress) {
        for (UpgradeStep step = 0; step < _UPGRADE_STEP_MAX; step++) {
                Metrics m = sample();
                m.upgrade_step = step;
                _cleanup_free_ char *s = format(&m);
                for (UpgradeStep other = 0; other < _UPGRADE_STEP_MAX; other++) {
                        char line[128];
                        snprintf(line, sizeof(line), "oraivisor_upgrade_in_progress{name=\"oraid\",step=\"%s\"} %d\n",
                                upgrade_step_to_string(other), other == step);
                        cr_assert(strstr(s, line), "%s not in\n%s", line, s);
                }
        }
}

/* Every family has exactly one HELP and one TYPE, before its samples, and every sample has name=. */
Test(metrics_format, help_and_type_for_every_family) {
        Metrics m = sample();
        m.history.last_upgrade_usec = 1;
        m.history.have_backup = true;
        _cleanup_free_ char *s = format(&m);
        char *save = NULL, *copy = strdup(s);
        const char *family = NULL;
        unsigned families = 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "# HELP ", 7) == 0) {
                        family = line + 7;
                        families++;
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        cr_assert_not_null(family);
                        size_t n = strcspn(family, " ");
                        cr_assert_eq(strncmp(line + 7, family, n), 0, "%s", line);
                        cr_assert(strcmp(line + 7 + n, " gauge") == 0 || strcmp(line + 7 + n, " counter") == 0, "%s", line);
                        if (strcmp(line + 7 + n, " counter") == 0)
                                cr_assert_eq(strncmp(family + n - 6, "_total", 6), 0, "counter without _total: %s", line);
                        continue;
                }
                cr_assert_not_null(family);
                size_t n = strcspn(family, " ");
                cr_assert_eq(strncmp(line, family, n), 0, "%s", line);
                cr_assert_eq(strncmp(line + n, "{name=\"oraid\"", 13), 0, "%s", line);
        }
        cr_assert_eq(families, 9);
        free(copy);
}

/* Hostile label values: backslash, double quote and newline escaped; invalid UTF-8 replaced. */
Test(metrics_format, label_escaping) {
        Metrics m = sample();
        m.name = "a\"b";
        m.current = "v2\"} 1\noraivisor_daemon_up{name=\"x\"} 1\n\\";
        m.home = "/srv/\xff\xfe/caf\xc3\xa9";
        _cleanup_free_ char *s = format(&m);
        cr_assert(strstr(s,
                "oraivisor_info{name=\"a\\\"b\",daemon=\"oraid\",home=\"/srv/\xef\xbf\xbd\xef\xbf\xbd/caf\xc3\xa9\","
                "current=\"v2\\\"} 1\\noraivisor_daemon_up{name=\\\"x\\\"} 1\\n\\\\\",version=\"0.1.0\"} 1\n"), "%s", s);
        cr_assert(strstr(s, "oraivisor_daemon_up{name=\"a\\\"b\"} 0\n"));
        /* No line of the output starts with what the hostile value tried to inject. */
        cr_assert_null(strstr(s, "\noraivisor_daemon_up{name=\"x\"}"));
}

Test(metrics_format, null_labels_are_empty) {
        Metrics m = sample();
        m.daemon = m.current = m.version = NULL;
        _cleanup_free_ char *s = format(&m);
        cr_assert(strstr(s, "daemon=\"\",home=\"/var/lib/oraid\",current=\"\",version=\"\"} 1\n"));
}

Test(metrics_format, sanitize_utf8) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "plain" },
                { "", "" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
                { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },              /* overlong '/' */
                { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* a surrogate */
                { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* above U+10FFFF */
                { "a\xc3", "a\xef\xbf\xbd" },                            /* truncated at the end */
                { "\xe2\x82x", "\xef\xbf\xbd\xef\xbf\xbdx" },
                { "\x80", "\xef\xbf\xbd" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *s = NULL;
                cr_assert_eq(metrics_label_sanitize(cases[i].in, &s), 0);
                cr_assert_str_eq(s, cases[i].out, "case %zu", i);
                free(s);
        }
}

Test(metrics_format, result_names) {
        cr_assert_str_eq(metrics_result_to_string(METRICS_RESULT_SUCCESS), "success");
        cr_assert_str_eq(metrics_result_to_string(METRICS_RESULT_FAILURE), "failure");
        cr_assert_null(metrics_result_to_string(_METRICS_RESULT_MAX));
        cr_assert_eq(metrics_result_from_string("failure"), METRICS_RESULT_FAILURE);
        cr_assert_eq(metrics_result_from_string("nope"), _METRICS_RESULT_INVALID);
        cr_assert_eq(metrics_result_from_string(NULL), _METRICS_RESULT_INVALID);
}

/* ---- parsing ------------------------------------------------------------------------------------------ */

static bool history_equal(const MetricsHistory *a, const MetricsHistory *b) {
        return a->daemon_starts == b->daemon_starts && a->upgrades[0] == b->upgrades[0] &&
                a->upgrades[1] == b->upgrades[1] && a->last_upgrade_usec == b->last_upgrade_usec &&
                a->last_upgrade_duration == b->last_upgrade_duration && a->have_backup == b->have_backup &&
                a->last_backup_bytes == b->last_backup_bytes && a->last_backup_duration == b->last_backup_duration;
}

static void round_trip(const Metrics *m) {
        _cleanup_free_ char *s = format(m), *home = NULL;
        MetricsHistory h = {};
        const char *reason = NULL;
        cr_assert_eq(metrics_parse(s, strlen(s), &h, &home, &reason), 0, "%s: %s", reason, s);
        cr_assert(history_equal(&h, &m->history), "%s", s);
        _cleanup_free_ char *want = NULL;
        cr_assert_eq(metrics_label_sanitize(m->home, &want), 0);
        cr_assert_str_eq(home, want);
}

Test(metrics_parse, round_trip) {
        Metrics m = sample();
        round_trip(&m);
        m.history = (MetricsHistory) {
                .daemon_starts = UINT64_MAX,
                .upgrades = { 7, UINT64_MAX },
                .last_upgrade_usec = UINT64_MAX,
                .last_upgrade_duration = 1,
                .have_backup = true,
                .last_backup_bytes = 0,
                .last_backup_duration = 0,
        };
        round_trip(&m);
        m.history.last_upgrade_duration = 999999;
        m.history.last_backup_duration = 1000000;
        m.home = "/h/\"\\\n\xff";
        m.current = "\\n";
        round_trip(&m);
}

Test(metrics_parse, tolerant_of_what_is_not_ours) {
        static const char text[] =
                "\n"
                "# a comment\n"
                "   # indented comment\n"
                "node_something{x=\"}\"} NaN\n"
                "oraivisor_daemon_up{name=\"a\"} 1\n"     /* not carried over */
                "oraivisor_daemon_starts_total 3\n"       /* without labels */
                "oraivisor_daemon_starts_total { name = \"a\" , } 4\n" /* the last one counts; spaces, trailing ',' */
                "oraivisor_upgrades_total{result=\"cancelled\"} 9\n"
                "oraivisor_upgrades_total{name=\"a\",result=\"failure\"}\t2";  /* no final newline */
        MetricsHistory h = {};
        char *home = (char *) "unset";
        const char *reason = NULL;
        cr_assert_eq(metrics_parse(text, strlen(text), &h, &home, &reason), 0, "%s", reason);
        cr_assert_null(home);
        cr_assert_eq(h.daemon_starts, 4);
        cr_assert_eq(h.upgrades[METRICS_RESULT_SUCCESS], 0);
        cr_assert_eq(h.upgrades[METRICS_RESULT_FAILURE], 2);
        cr_assert_eq(h.last_upgrade_usec, 0);
        cr_assert(!h.have_backup);
}

Test(metrics_parse, empty) {
        MetricsHistory h = { .daemon_starts = 5 };
        char *home = NULL;
        cr_assert_eq(metrics_parse("", 0, &h, &home, NULL), 0);
        cr_assert_eq(h.daemon_starts, 0);
        cr_assert_null(home);
}

Test(metrics_parse, seconds) {
        static const struct {
                const char *value;
                usec_t usec;
        } cases[] = {
                { "1", USEC_PER_SEC },
                { "1.", USEC_PER_SEC },
                { "0.5", 500000 },
                { "2.000001", 2000001 },
                { "2.0000019", 2000001 }, /* truncated to microseconds */
                { "18446744073709.551615", UINT64_MAX },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[256];
                snprintf(text, sizeof(text),
                        "oraivisor_last_upgrade_timestamp_seconds{name=\"x\"} %s\noraivisor_last_upgrade_duration_seconds %s\n",
                        cases[i].value, cases[i].value);
                MetricsHistory h = {};
                char *home = NULL;
                const char *reason = NULL;
                cr_assert_eq(metrics_parse(text, strlen(text), &h, &home, &reason), 0, "%s: %s", cases[i].value, reason);
                cr_assert_eq(h.last_upgrade_usec, cases[i].usec, "%s", cases[i].value);
                cr_assert_eq(h.last_upgrade_duration, cases[i].usec, "%s", cases[i].value);
        }
}

Test(metrics_parse, damaged) {
        static const struct {
                const char *text, *reason;
        } cases[] = {
                { "oraivisor_daemon_starts_total -1\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total 1.5\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total 1e3\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total NaN\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total 18446744073709551616\n", "a value is not a whole number" },
                { "oraivisor_daemon_starts_total 1 1765000000000\n", "a sample has more than a value" },
                { "oraivisor_last_upgrade_duration_seconds +Inf\n", "a value is not a number of seconds" },
                { "oraivisor_last_upgrade_duration_seconds 1.0000000001\n", "a value is not a number of seconds" },
                { "oraivisor_last_upgrade_duration_seconds 18446744073710\n", "a value is not a number of seconds" },
                { "oraivisor_last_upgrade_duration_seconds .5\n", "a value is not a number of seconds" },
                { "oraivisor_info{home=\"/x} 1\n", "a label value is not closed" },
                { "oraivisor_info{home=\"/x\\t\"} 1\n", "a label value holds an unknown escape" },
                { "oraivisor_info{home=/x} 1\n", "a label value does not start with '\"'" },
                { "oraivisor_info{home} 1\n", "a label name is not followed by '='" },
                { "oraivisor_info{=\"x\"} 1\n", "a label has no name" },
                { "oraivisor_info{a=\"x\" b=\"y\"} 1\n", "labels are not separated by ','" },
                { "oraivisor_info{a=\"x\"", "labels are not separated by ','" },
                { "{a=\"x\"} 1\n", "a line does not start with a metric name" },
                { "oraivisor_last_upgrade_timestamp_seconds 5\n", "the last upgrade's time stamp and duration do not come together" },
                { "oraivisor_last_upgrade_duration_seconds 5\n", "the last upgrade's time stamp and duration do not come together" },
                { "oraivisor_last_upgrade_timestamp_seconds 0\noraivisor_last_upgrade_duration_seconds 5\n", "the last upgrade's time stamp is 0" },
                { "oraivisor_last_backup_bytes 5\n", "the last backup's size and duration do not come together" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                MetricsHistory h = { .daemon_starts = 77 };
                char *home = (char *) "unset";
                const char *reason = NULL;
                cr_assert_eq(metrics_parse(cases[i].text, strlen(cases[i].text), &h, &home, &reason), -EBADMSG, "%s",
                        cases[i].text);
                cr_assert_str_eq(reason, cases[i].reason, "%s", cases[i].text);
                /* Nothing written on failure. */
                cr_assert_eq(h.daemon_starts, 77);
                cr_assert_str_eq(home, "unset");
        }
}

Test(metrics_parse, nul_byte_in_label) {
        static const char text[] = "oraivisor_info{home=\"a\0b\"} 1\n";
        MetricsHistory h = {};
        char *home = NULL;
        const char *reason = NULL;
        cr_assert_eq(metrics_parse(text, sizeof(text) - 1, &h, &home, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "a label value holds a NUL byte");
}

/* Only len bytes count: a sample cut by len is read as cut. */
Test(metrics_parse, parsed_with_its_length) {
        static const char text[] = "oraivisor_daemon_starts_total 12345";
        MetricsHistory h = {};
        char *home = NULL;
        cr_assert_eq(metrics_parse(text, strlen(text) - 2, &h, &home, NULL), 0);
        cr_assert_eq(h.daemon_starts, 123);
}

/* The chain watcher's families: only while known; one sample per upgrade name. */
Test(metrics_format, chain_watcher) {
        Metrics m = sample();
        _cleanup_free_ char *none = format(&m);
        cr_expect_null(strstr(none, "oraivisor_chain_height"));
        cr_expect_null(strstr(none, "oraivisor_scheduled_upgrade"));

        const MetricsScheduled sch[] = {
                { .upgrade = "v3", .source = "governance", .height = 1234567, .binary_ready = true },
                { .upgrade = "v4\"x", .source = "height", .height = 2000000, .binary_ready = false },
                { .upgrade = "v3", .source = "height", .height = 7, .binary_ready = false },
        };
        m.chain_height = 1234000;
        m.scheduled = sch;
        m.n_scheduled = ELEMENTSOF(sch);
        _cleanup_free_ char *s = format(&m);
        cr_expect_not_null(strstr(s,
                "# HELP oraivisor_chain_height The chain's height, as last read from the node's RPC.\n"
                "# TYPE oraivisor_chain_height gauge\n"
                "oraivisor_chain_height{name=\"oraid\"} 1234000\n"
                "# HELP oraivisor_scheduled_upgrade_height The height an upgrade is scheduled at (on chain, or by the operator).\n"
                "# TYPE oraivisor_scheduled_upgrade_height gauge\n"
                "oraivisor_scheduled_upgrade_height{name=\"oraid\",upgrade=\"v3\",source=\"governance\"} 1234567\n"
                "oraivisor_scheduled_upgrade_height{name=\"oraid\",upgrade=\"v4\\\"x\",source=\"height\"} 2000000\n"
                "# HELP oraivisor_scheduled_upgrade_binary_ready Whether the binary of a scheduled upgrade is installed and passes the readiness check (1) or not (0).\n"
                "# TYPE oraivisor_scheduled_upgrade_binary_ready gauge\n"
                "oraivisor_scheduled_upgrade_binary_ready{name=\"oraid\",upgrade=\"v3\",source=\"governance\"} 1\n"
                "oraivisor_scheduled_upgrade_binary_ready{name=\"oraid\",upgrade=\"v4\\\"x\",source=\"height\"} 0\n"), "%s", s);
        /* the history read back ignores them */
        MetricsHistory h;
        char *home = NULL;
        const char *reason = NULL;
        cr_expect_eq(metrics_parse(s, strlen(s), &h, &home, &reason), 0, "%s", reason);
        free(home);
}
