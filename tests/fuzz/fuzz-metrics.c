/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the metrics file parser (the previous run's file, read back at start): every refusal has a
 * reason and writes nothing; every history it accepts survives a round trip through metrics_format(),
 * whose output is a fixed point; and the home label read back, used as a label again, is read back the
 * same (escaping and UTF-8 repair are idempotent). */

#include "fuzz-util.h"
#include "metrics-format.h"

static bool history_equal(const MetricsHistory *a, const MetricsHistory *b) {
        return a->daemon_starts == b->daemon_starts && a->upgrades[0] == b->upgrades[0] &&
                a->upgrades[1] == b->upgrades[1] && a->last_upgrade_usec == b->last_upgrade_usec &&
                a->last_upgrade_duration == b->last_upgrade_duration && a->have_backup == b->have_backup &&
                a->last_backup_bytes == b->last_backup_bytes && a->last_backup_duration == b->last_backup_duration;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MetricsHistory h = { .daemon_starts = 42 };
        char *home = (char *) "unset";
        const char *reason = NULL;

        int r = metrics_parse((const char *) data, size, &h, &home, &reason);
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                CHECK(reason && reason[0]);
                CHECK(h.daemon_starts == 42);
                CHECK(streq(home, "unset"));
                return 0;
        }
        _cleanup_free_ _unused_ char *owned_home = home;
        CHECK(h.have_backup || (h.last_backup_bytes == 0 && h.last_backup_duration == 0));

        Metrics m = METRICS_INIT;
        m.name = "n";
        m.home = home ?: "/home";
        m.current = home;
        m.history = h;
        _cleanup_free_ char *text = NULL, *text2 = NULL, *home2 = NULL, *want = NULL;
        CHECK(metrics_format(&m, &text) == 0);
        MetricsHistory back = {};
        r = metrics_parse(text, strlen(text), &back, &home2, &reason);
        if (r < 0)
                fprintf(stderr, "round trip of\n%s\nfailed: %s\n", text, reason ?: "?");
        CHECK(r == 0);
        CHECK(history_equal(&back, &h));
        CHECK(metrics_label_sanitize(m.home, &want) == 0);
        CHECK(home2 && streq(home2, want));

        /* A label written again from what was read back gives the same file. */
        m.home = home2;
        CHECK(metrics_format(&m, &text2) == 0);
        CHECK(streq(text, text2));
        return 0;
}
