/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "fd-util.h"
#include "fs-util.h"
#include "metrics-file.h"

Test(metrics_file, instance) {
        static const struct {
                const char *own_unit, *daemon_name, *expect;
        } cases[] = {
                { "oraivisor@mainnet.service", "oraid", "mainnet" },
                { "oraivisor@a\\x2db.service", "oraid", "a\\x2db" },   /* as systemd's %i: still escaped */
                { "my-node@x.service", "oraid", "x" },
                { NULL, "oraid", "oraid" },
                { "oraivisor.service", "oraid", "oraid" },            /* not a template's instance */
                { "session-2.scope", "oraid", "oraid" },
                { NULL, "a-b c", "a\\x2db\\x20c" },                   /* a file name, as a unit instance */
                { NULL, ".hidden", "\\x2ehidden" },                   /* never a dot file, which the collector skips */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *s = NULL;
                cr_assert_eq(metrics_file_instance(cases[i].own_unit, cases[i].daemon_name, &s), 0);
                cr_expect_str_eq(s, cases[i].expect, "case %zu", i);
                free(s);
        }
}

Test(metrics_file, dir) {
        cr_expect_null(metrics_file_dir("/srv/prom", true), "off wins");
        cr_expect_null(metrics_file_dir(NULL, true));
        cr_expect_str_eq(metrics_file_dir("/srv/prom", false), "/srv/prom");
        struct stat st;
        bool exists = stat(CONFIG_DEFAULT_METRICS_DIR, &st) >= 0 && S_ISDIR(st.st_mode);
        const char *d = metrics_file_dir(NULL, false);
        if (exists)
                cr_expect_str_eq(d, CONFIG_DEFAULT_METRICS_DIR);
        else
                cr_expect_null(d);
}

static void refresh(Metrics *m, void *userdata) {
        m->daemon = "oraid";
        m->current = userdata;
        m->daemon_up = true;
}

static char *read_metrics(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *buf = NULL;
        cr_assert_geq(fd, 0);
        cr_assert_eq(read_file_at(fd, "oraivisor-x.prom", 1 << 20, &buf, NULL), 0);
        return buf;
}

/* Written whole, counters read back by the next instance, another home's file left alone. */
Test(metrics_file, write_and_read_back) {
        char dir[] = "/tmp/test-metrics-file.XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        sd_event *e = NULL;
        cr_assert_geq(sd_event_new(&e), 0);

        MetricsFile *f = NULL;
        cr_assert_eq(metrics_file_new(e, dir, "x", "/var/lib/x", refresh, (void *) "v2", &f), 0);
        cr_assert_not_null(f);
        char want[sizeof(dir) + 32];
        snprintf(want, sizeof(want), "%s/oraivisor-x.prom", dir);
        cr_expect_str_eq(metrics_file_path(f), want);
        metrics_file_history(f)->daemon_starts = 3;
        metrics_file_history(f)->upgrades[METRICS_RESULT_FAILURE] = 2;
        metrics_file_write(f);
        f = metrics_file_free(f);

        _cleanup_free_ char *text = read_metrics(dir);
        cr_expect(strstr(text, "oraivisor_info{name=\"x\",daemon=\"oraid\",home=\"/var/lib/x\",current=\"v2\",version=\"\"} 1\n"), "%s", text);
        cr_expect(strstr(text, "oraivisor_daemon_up{name=\"x\"} 1\n"), "%s", text);

        cr_assert_eq(metrics_file_new(e, dir, "x", "/var/lib/x", refresh, (void *) "v3", &f), 0);
        cr_assert_not_null(f);
        cr_expect_eq(metrics_file_history(f)->daemon_starts, 3);
        cr_expect_eq(metrics_file_history(f)->upgrades[METRICS_RESULT_FAILURE], 2);
        f = metrics_file_free(f);

        /* Another node's home: metrics off for this run, its file unchanged. */
        cr_assert_eq(metrics_file_new(e, dir, "x", "/var/lib/other", refresh, (void *) "v3", &f), 0);
        cr_expect_null(f);
        _cleanup_free_ char *again = read_metrics(dir);
        cr_expect_str_eq(again, text);

        cr_expect_null(metrics_file_history(NULL));
        metrics_file_write(NULL);
        sd_event_unref(e);
        char path[sizeof(dir) + 32];
        snprintf(path, sizeof(path), "%s/oraivisor-x.prom", dir);
        cr_assert_eq(unlink(path), 0);
        cr_assert_eq(rmdir(dir), 0, "a temporary file was left behind");
}
