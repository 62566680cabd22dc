/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* chain-state.json: written and read back; what a reader refuses. */

#include <criterion/criterion.h>
#include <string.h>

#include "chain-schedule.h"
#include "chain-state.h"

Test(chain_state, round_trip) {
        ChainState s = { .rpc = strdup("unix:///run/oraid/rpc.sock"), .reachable = true,
                         .reachable_since = 1764999000000000, .height = 1234000,
                         .height_time = 1765000000000000, .block_time = 5000000, .updated = 1765000001000000 };
        ScheduledUpgrade u = { .name = (char *) "v2 \"quoted\"", .height = 1234567, .info = (char *) "{\"binaries\":{}}",
                               .source = SCHEDULED_SOURCE_GOVERNANCE, .first_seen = 1, .estimated_at = 2,
                               .binary = BINARY_FAILED, .binary_error = (char *) "HTTP 404",
                               .warnings = (1u << CHAIN_WARNING_AT_ONCE) | (1u << CHAIN_WARNING_DAY) };
        cr_assert_not_null(chain_state_add(&s, &u));
        u = (ScheduledUpgrade) { .name = (char *) "v3", .height = 2000000, .source = SCHEDULED_SOURCE_HEIGHT,
                                 .binary = BINARY_INSTALLED, .ready = READY_NO,
                                 .ready_reason = (char *) "needs libwasmvm.so: put it in its lib/ folder" };
        cr_assert_not_null(chain_state_add(&s, &u));

        char *json = NULL;
        cr_assert_eq(chain_state_to_json(&s, &json), 0);
        ChainState t = {};
        const char *reason = NULL;
        cr_assert_eq(chain_state_from_json(json, strlen(json), &t, &reason), 0, "%s", reason);
        cr_expect_str_eq(t.rpc, s.rpc);
        cr_expect(t.reachable);
        cr_expect_eq(t.reachable_since, 1764999000000000);
        cr_expect_eq(t.height, 1234000);
        cr_expect_eq(t.height_time, s.height_time);
        cr_expect_eq(t.block_time, 5000000);
        cr_assert_eq(t.n_upgrades, 2);
        cr_expect_str_eq(t.upgrades[0].name, "v2 \"quoted\"");
        cr_expect_str_eq(t.upgrades[0].info, "{\"binaries\":{}}");
        cr_expect_eq(t.upgrades[0].binary, BINARY_FAILED);
        cr_expect_str_eq(t.upgrades[0].binary_error, "HTTP 404");
        cr_expect_eq(t.upgrades[0].warnings, 3u);
        cr_expect_eq(t.upgrades[1].source, SCHEDULED_SOURCE_HEIGHT);
        cr_expect_eq(t.upgrades[1].binary, BINARY_INSTALLED);
        cr_expect_null(t.upgrades[1].binary_error);
        cr_expect_eq(t.upgrades[0].ready, READY_UNKNOWN);
        cr_expect_null(t.upgrades[0].ready_reason);
        cr_expect_eq(t.upgrades[1].ready, READY_NO);
        cr_expect_str_eq(t.upgrades[1].ready_reason, "needs libwasmvm.so: put it in its lib/ folder");
        cr_expect_eq(chain_state_find(&t, SCHEDULED_SOURCE_HEIGHT, NULL), &t.upgrades[1]);
        cr_expect_null(chain_state_find(&t, SCHEDULED_SOURCE_GOVERNANCE, "v3"));
        chain_state_remove(&t, &t.upgrades[0]);
        cr_assert_eq(t.n_upgrades, 1);
        cr_expect_str_eq(t.upgrades[0].name, "v3");
        free(json);
        chain_state_done(&s);
        chain_state_done(&t);
}

Test(chain_state, readiness_optional_and_tolerant) {
        /* A file of an older oraivisor (no "ready"), and an unknown value: both read as not checked. */
        static const char *const ok[] = {
                "{\"version\":1,\"height\":1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0,\"upgrades\":[{\"name\":\"v2\",\"height\":5,\"source\":\"governance\",\"binary\":\"installed\",\"first_seen_usec\":0,\"estimated_at_usec\":0}]}",
                "{\"version\":1,\"height\":1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0,\"upgrades\":[{\"name\":\"v2\",\"height\":5,\"source\":\"governance\",\"binary\":\"installed\",\"first_seen_usec\":0,\"estimated_at_usec\":0,\"ready\":\"maybe\",\"ready_reason\":\"x\"}]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                ChainState t = {};
                const char *reason = NULL;
                cr_assert_eq(chain_state_from_json(ok[i], strlen(ok[i]), &t, &reason), 0, "%s", reason);
                cr_expect_eq(t.upgrades[0].ready, READY_UNKNOWN);
                cr_expect_null(t.upgrades[0].ready_reason);
                cr_expect_eq(t.reachable_since, 0); /* absent in files of older versions */
                chain_state_done(&t);
        }
}

Test(chain_state, refused) {
        static const char *const bad[] = {
                "", "[]", "{\"version\":2}",
                "{\"version\":1,\"height\":-1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0,\"upgrades\":[]}",
                "{\"version\":1,\"height\":1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0}",
                "{\"version\":1,\"height\":1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0,\"upgrades\":[{\"name\":\"\",\"height\":5}]}",
                "{\"version\":1,\"height\":1,\"height_time_usec\":0,\"block_time_usec\":0,\"updated_usec\":0,\"upgrades\":[{\"name\":\"v2\",\"height\":5,\"source\":\"dao\",\"binary\":\"missing\",\"first_seen_usec\":0,\"estimated_at_usec\":0}]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ChainState t = {};
                const char *reason = NULL;
                cr_expect_eq(chain_state_from_json(bad[i], strlen(bad[i]), &t, &reason), -EBADMSG, "%s", bad[i]);
                cr_expect_not_null(reason);
        }
}

Test(chain_state, describe_next) {
        ChainState s = { .height = 1000, .block_time = 5 * USEC_PER_SEC };
        char *t = NULL;
        cr_assert_eq(chain_state_describe_next(&s, &t), 0);
        cr_expect_null(t);
        ScheduledUpgrade u = { .name = (char *) "v3", .height = 9000, .binary = BINARY_MISSING };
        chain_state_add(&s, &u);
        u = (ScheduledUpgrade) { .name = (char *) "v2", .height = 3280, .binary = BINARY_INSTALLED };
        chain_state_add(&s, &u);
        u = (ScheduledUpgrade) { .name = (char *) "v1", .height = 900, .binary = BINARY_MISSING }; /* past */
        chain_state_add(&s, &u);
        cr_assert_eq(chain_state_describe_next(&s, &t), 0);
        /* 2280 blocks of 5s: 3h10m */
        cr_expect_str_eq(t, "upgrade v2 at height 3280 (~3h10m), binary installed, not checked yet");
        free(t);
        s.upgrades[1].ready = READY_YES;
        cr_assert_eq(chain_state_describe_next(&s, &t), 0);
        cr_expect_str_eq(t, "upgrade v2 at height 3280 (~3h10m), binary ready");
        free(t);
        s.block_time = 0;
        cr_assert_eq(chain_state_describe_next(&s, &t), 0);
        cr_expect_str_eq(t, "upgrade v2 at height 3280, binary ready");
        free(t);
        s.upgrades[1].ready = READY_NO;
        s.upgrades[1].ready_reason = strdup("is truncated: install it again");
        cr_assert_eq(chain_state_describe_next(&s, &t), 0);
        cr_expect_str_eq(t, "upgrade v2 at height 3280, binary not ready: is truncated: install it again");
        free(t);
        chain_state_done(&s);
}
