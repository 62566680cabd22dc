/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* data/priv_validator_state.json, as CometBFT writes it and as it must never be trusted. */

#include <criterion/criterion.h>
#include <string.h>

#include "priv-validator-state.h"

static int parse(const char *text, int64_t *h, const char **reason) {
        return priv_validator_state_parse(text, strlen(text), h, reason);
}

Test(priv_validator_state, real_files) {
        int64_t h = -1;
        const char *reason = NULL;
        /* A validator's, as privval/file.go writes it (amino JSON: the int64 as a string). */
        cr_assert_eq(parse("{\n  \"height\": \"9283651\",\n  \"round\": 0,\n  \"step\": 3,\n"
                           "  \"signature\": \"kW9e+V1x3aQ==\",\n  \"signbytes\": \"7A08021...\"\n}",
                           &h, &reason), 0, "%s", reason);
        cr_expect_eq(h, 9283651);
        /* A full node's. */
        cr_assert_eq(parse("{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}\n", &h, &reason), 0);
        cr_expect_eq(h, 0);
        /* A plain number (another encoder). */
        cr_assert_eq(parse("{\"height\":42,\"round\":1,\"step\":2}", &h, &reason), 0);
        cr_expect_eq(h, 42);
}

Test(priv_validator_state, hostile) {
        static const struct {
                const char *text;
                const char *reason;
        } bad[] = {
                { "", "it is not a JSON object" },
                { "{\"height\": \"12\"", "it is not a JSON object" },
                { "[\"height\", \"12\"]", "it is not a JSON object" },
                { "{\"round\": 0}", "it has no \"height\"" },
                { "{\"height\": \"\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \"-1\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \"+1\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \" 12\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \"0x10\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \"99999999999999999999\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": \"9223372036854775808\"}", "its \"height\" is not a decimal number" },
                { "{\"height\": 1.5}", "its \"height\" is not a decimal number" },
                { "{\"height\": -3}", "its \"height\" is out of range" },
                { "{\"height\": true}", "its \"height\" is not a decimal number" },
                { "{\"height\": null}", "its \"height\" is not a decimal number" },
                /* json-c's strict mode refuses the text after the object itself. */
                { "{\"height\": \"12\"} {\"height\": \"99\"}", "it is not a JSON object" },
                { "{\"height\": \"12\"}x", "it is not a JSON object" },
                { "{'height': '12'}", "it is not a JSON object" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t h = -7;
                const char *reason = NULL;
                cr_assert_eq(parse(bad[i].text, &h, &reason), -EBADMSG, "accepted: %s", bad[i].text);
                cr_expect_str_eq(reason, bad[i].reason, "%s", bad[i].text);
                cr_expect_eq(h, -7);
        }
        /* A NUL inside, and a file past the cap. */
        int64_t h = -7;
        const char *reason = NULL;
        cr_assert_eq(priv_validator_state_parse("{\"height\":\"1\"}\0{}", 16, &h, &reason), -EBADMSG);
        cr_expect_str_eq(reason, "it holds a NUL byte");
        size_t n = PRIV_VALIDATOR_STATE_MAX_SIZE + 1;
        char *big = malloc(n);
        cr_assert_not_null(big);
        memset(big, ' ', n);
        memcpy(big, "{\"height\":\"5\"}", 14);
        cr_assert_eq(priv_validator_state_parse(big, n, &h, &reason), -EBADMSG);
        cr_expect_str_eq(reason, "it is larger than 64 KiB");
        free(big);
}
