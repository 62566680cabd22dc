/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the upgrade announcement parser: the input as one line of daemon output, and the input split
 * into lines by a small LineBuffer as the exec launcher does. Checks what every plan must satisfy: a
 * non-empty name without NUL, a positive height or an RFC 3339 time, an info; the same plan once
 * serialised and read back; and a line cut in half yields no plan or the same one. */

#include "fuzz-util.h"
#include "line-buffer.h"
#include "plan.h"

static void check_plan(const UpgradePlan *p) {
        CHECK(p->name && p->name[0]);
        CHECK(p->info);
        CHECK((p->height > 0) != (p->time != NULL));

        /* What the upgrade records: it must read back as the same plan, info included. */
        _cleanup_free_ char *json = NULL;
        CHECK(plan_to_json(p, &json) == 0);
        _cleanup_(upgrade_plan_freep) UpgradePlan *back = NULL;
        const char *reason = NULL;
        int r = plan_parse_json(json, strlen(json), &back, &reason);
        if (r < 0)
                fprintf(stderr, "round trip of %s failed: %s\n", json, reason ? reason : "?");
        CHECK(r == 0);
        CHECK(upgrade_plan_same(p, back));
        CHECK(streq(p->info, back->info));
}

static int on_line(const char *line, size_t len, bool truncated, void *userdata) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        int r = plan_parse_log_line(line, len, &p);
        CHECK(r == 0 || r == 1);
        CHECK((r == 1) == (p != NULL));
        if (p)
                check_plan(p);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data;
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL, *half = NULL;

        int r = plan_parse_log_line(s, size, &p);
        CHECK(r == 0 || r == 1);
        CHECK((r == 1) == (p != NULL));
        if (p) {
                check_plan(p);
                /* A cut line never announces another plan (in particular never a lower height). */
                r = plan_parse_log_line(s, size / 2, &half);
                CHECK(r == 0 || r == 1);
                if (half) {
                        CHECK(streq(half->name, p->name));
                        CHECK(half->height == p->height);
                        CHECK(streq_ptr(half->time, p->time));
                }
        }

        LineBuffer b;
        line_buffer_init(&b, 256);
        for (size_t off = 0; off < size; off += 7)
                CHECK(line_buffer_feed(&b, s + off, MIN((size_t) 7, size - off), on_line, NULL) == 0);
        CHECK(line_buffer_flush(&b, on_line, NULL) == 0);
        line_buffer_done(&b);
        return 0;
}
