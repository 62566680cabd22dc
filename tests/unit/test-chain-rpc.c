/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The node's RPC address (ORAIVISOR_NODE_RPC, config.toml's [rpc] laddr), and the JSON-RPC answers of
 * status, blockchain and abci_query. The protobuf bytes below are assembled by hand from the wire format
 * (../shared/notes/chain-rpc.md), not produced by the decoder under test. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "chain-rpc.h"

static void expect_rpc(const char *in, const char *url, const char *unix_path, bool tcp, bool loopback, int family) {
        NodeRpc r = {};
        const char *reason = NULL;
        cr_assert_eq(node_rpc_parse(in, &r, &reason), 0, "%s: %s", in, reason);
        cr_expect_str_eq(r.url, url, "%s", in);
        if (unix_path)
                cr_expect_str_eq(r.unix_path, unix_path);
        else
                cr_expect_null(r.unix_path);
        cr_expect_eq(r.tcp, tcp, "%s", in);
        cr_expect_eq(r.loopback, loopback, "%s", in);
        cr_expect_eq(r.family, family, "%s", in);
        node_rpc_done(&r);
}

Test(node_rpc, forms) {
        expect_rpc("http://127.0.0.1:26657", "http://127.0.0.1:26657", NULL, true, true, AF_INET);
        expect_rpc("tcp://127.0.0.1:26657", "http://127.0.0.1:26657", NULL, true, true, AF_INET);
        /* every interface: reached on loopback */
        expect_rpc("tcp://0.0.0.0:26657", "http://127.0.0.1:26657", NULL, true, true, AF_INET);
        expect_rpc("tcp://[::]:26657", "http://[::1]:26657", NULL, true, true, AF_INET6);
        expect_rpc("http://localhost:26657/", "http://localhost:26657", NULL, true, true, AF_INET);
        expect_rpc("https://node.example:443", "https://node.example:443", NULL, true, false, 0);
        expect_rpc("http://10.0.0.5:26657", "http://10.0.0.5:26657", NULL, true, false, AF_INET);
        expect_rpc("unix:///run/oraid/rpc.sock", "http://localhost", "/run/oraid/rpc.sock", false, false, 0);
}

Test(node_rpc, refused) {
        static const char *const bad[] = {
                "", "26657", "ftp://127.0.0.1:21", "tcp://127.0.0.1", "http://127.0.0.1:0", "http://127.0.0.1:70000",
                "http://127.0.0.1:26657/status", "http://u:p@127.0.0.1:26657", "unix://relative.sock", "http://:26657",
                "http://[::1", "http://[zz]:1", "http://a b:1", "unix:///a/../b",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                NodeRpc r = {};
                const char *reason = NULL;
                cr_expect_eq(node_rpc_parse(bad[i], &r, &reason), -EINVAL, "%s", bad[i]);
                cr_expect_not_null(reason, "%s", bad[i]);
        }
}

static int laddr(const char *toml, char **ret) {
        return cometbft_config_rpc_laddr(toml, strlen(toml), ret);
}

Test(config_toml, laddr_of_rpc_section_only) {
        char *v = NULL;
        const char *toml = "# comment\nproxy_app = \"tcp://127.0.0.1:26658\"\n[p2p]\nladdr = \"tcp://0.0.0.0:26656\"\n"
                           "\n[ rpc ]\n  # laddr = \"tcp://1.2.3.4:1\"\nladdr   =   \"tcp://0.0.0.0:26657\"  # here\n"
                           "[grpc]\nladdr = \"x\"\n";
        cr_assert_eq(laddr(toml, &v), 1);
        cr_expect_str_eq(v, "tcp://0.0.0.0:26657");
        free(v);
        cr_assert_eq(laddr("[rpc]\nladdr = 'unix:///run/n.sock'\n", &v), 1);
        cr_expect_str_eq(v, "unix:///run/n.sock");
        free(v);
        cr_expect_eq(laddr("[p2p]\nladdr = \"tcp://0.0.0.0:26656\"\n", &v), 0);
        cr_expect_eq(laddr("[rpc]\nladdr = \"unterminated\n", &v), 0);
        cr_expect_eq(laddr("[rpc]\nladdrs = \"x\"\n[[rpc]]\n", &v), 0);
        cr_expect_eq(laddr("", &v), 0);
}

static const char STATUS[] =
        "{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":{\"node_info\":{\"network\":\"Oraichain\"},\"sync_info\":{"
        "\"latest_block_hash\":\"AB\",\"latest_block_height\":\"1234000\",\"latest_block_time\":"
        "\"2026-12-06T16:00:05.123456789Z\",\"catching_up\":false}}}";

Test(rpc, status) {
        RpcStatus s = {};
        const char *reason = NULL;
        cr_assert_eq(rpc_status_parse(STATUS, strlen(STATUS), &s, &reason), 0, "%s", reason);
        cr_expect_eq(s.height, 1234000);
        usec_t t;
        cr_assert_eq(rfc3339_parse("2026-12-06T16:00:05Z", &t), 0);
        cr_expect_eq(s.block_time, t + 123456);
        cr_expect_not(s.catching_up);

        static const char *const bad[] = {
                "", "not json", "[]", "{\"error\":{\"code\":-32603}}", "{\"result\":{}}",
                "{\"result\":{\"sync_info\":{\"latest_block_height\":\"x\",\"latest_block_time\":\"2026-12-06T16:00:05Z\",\"catching_up\":false}}}",
                "{\"result\":{\"sync_info\":{\"latest_block_height\":\"5\",\"latest_block_time\":\"yesterday\",\"catching_up\":false}}}",
                "{\"result\":{\"sync_info\":{\"latest_block_height\":\"5\",\"latest_block_time\":\"2026-12-06T16:00:05Z\"}}}",
                "{\"result\":{\"sync_info\":{\"latest_block_height\":\"5\",\"latest_block_time\":\"2026-12-06T16:00:05Z\",\"catching_up\":false}}} x",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                reason = NULL;
                cr_expect_eq(rpc_status_parse(bad[i], strlen(bad[i]), &s, &reason), -EBADMSG, "%s", bad[i]);
                cr_expect_not_null(reason);
        }
}

Test(rpc, rfc3339) {
        usec_t t;
        cr_assert_eq(rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
        cr_expect_eq(t, 0);
        cr_assert_eq(rfc3339_parse("2000-03-01T00:00:00.5+01:00", &t), 0);
        cr_expect_eq(t, (usec_t) 951865200 * USEC_PER_SEC + 500000);
        cr_expect_eq(rfc3339_parse("2000-02-30T00:00:00Z", &t), -EINVAL);
        cr_expect_eq(rfc3339_parse("2000-01-01T00:00:00", &t), -EINVAL);
        cr_expect_eq(rfc3339_parse("2000-01-01T00:00:00.Z", &t), -EINVAL);
        cr_expect_eq(rfc3339_parse("2000-01-01T00:00:00.1234567890Z", &t), -EINVAL);
}

Test(rpc, blockchain) {
        const char *j = "{\"result\":{\"last_height\":\"101\",\"block_metas\":["
                        "{\"header\":{\"height\":\"101\",\"time\":\"2026-01-01T00:00:10Z\"}},"
                        "{\"header\":{\"height\":\"100\",\"time\":\"2026-01-01T00:00:05Z\"}}]}}";
        BlockSample b[4];
        const char *reason = NULL;
        cr_assert_eq(rpc_blockchain_parse(j, strlen(j), b, 4, &reason), 2, "%s", reason);
        cr_expect_eq(b[0].height, 101);
        cr_expect_eq(b[0].time - b[1].time, 5 * USEC_PER_SEC);
        cr_expect_eq(rpc_blockchain_parse(j, strlen(j), b, 1, &reason), 1);
        const char *bad = "{\"result\":{\"block_metas\":[{\"header\":{\"height\":\"x\"}}]}}";
        cr_expect_eq(rpc_blockchain_parse(bad, strlen(bad), b, 4, &reason), -EBADMSG);
}

static int plan_of(const char *value_json, UpgradePlan **p, const char **reason) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":{\"response\":{\"code\":0,\"log\":\"\","
                 "\"info\":\"\",\"index\":\"0\",\"key\":null,\"value\":%s,\"proofOps\":null,\"height\":\"1234000\","
                 "\"codespace\":\"\"}}}", value_json);
        return rpc_current_plan_parse(buf, strlen(buf), p, reason);
}

Test(rpc, current_plan) {
        UpgradePlan *p = NULL;
        const char *reason = NULL;
        /* Plan{name "v2", time {} (field 2, deprecated: skipped), height 1234567, info "{}"} */
        cr_assert_eq(plan_of("\"Cg4KAnYyEgAYh61LIgJ7fQ==\"", &p, &reason), 1, "%s", reason);
        cr_expect_str_eq(p->name, "v2");
        cr_expect_eq(p->height, 1234567);
        cr_expect_str_eq(p->info, "{}");
        upgrade_plan_free(p);
        p = NULL;
        /* no plan: null, empty, or a response without its plan field */
        cr_expect_eq(plan_of("null", &p, &reason), 0);
        cr_expect_eq(plan_of("\"\"", &p, &reason), 0);
        cr_expect_null(p);
        /* a plan whose name is empty (0a 00: an empty Plan) */
        cr_expect_eq(plan_of("\"CgA=\"", &p, &reason), -EBADMSG);
        cr_expect_str_eq(reason, "the plan has no name");
        cr_expect_eq(plan_of("\"!!\"", &p, &reason), -EBADMSG);
        cr_expect_str_eq(reason, "the response's \"value\" is not base64");
        /* 0a 05 + only 2 bytes: truncated */
        cr_expect_eq(plan_of("\"CgUKAQ==\"", &p, &reason), -EBADMSG);
        cr_expect_str_eq(reason, "the plan is not a valid protobuf QueryCurrentPlanResponse");
        cr_expect_eq(plan_of("42", &p, &reason), -EBADMSG);
        const char *failed = "{\"result\":{\"response\":{\"code\":6,\"log\":\"unknown query path\"}}}";
        cr_expect_eq(rpc_current_plan_parse(failed, strlen(failed), &p, &reason), -EBADMSG);
        cr_expect_null(p);
}

Test(rpc, protobuf_unknown_fields_and_height) {
        UpgradePlan *p = NULL;
        const char *reason = NULL;
        /* Plan{name "x", height 1, field 9 varint 7 (unknown, from a newer SDK)} */
        static const uint8_t ok[] = { 0x0a, 0x07, 0x0a, 0x01, 'x', 0x18, 0x01, 0x48, 0x07 };
        cr_assert_eq(current_plan_decode(ok, sizeof(ok), &p, &reason), 1, "%s", reason);
        cr_expect_str_eq(p->name, "x");
        cr_expect_eq(p->height, 1);
        cr_expect_str_eq(p->info, "");
        upgrade_plan_free(p);
        /* height 0: a plan by time, which SDK 0.46+ refuses */
        static const uint8_t noheight[] = { 0x0a, 0x03, 0x0a, 0x01, 'x' };
        cr_expect_eq(current_plan_decode(noheight, sizeof(noheight), &p, &reason), -EBADMSG);
}

Test(rpc, base64) {
        uint8_t *b = NULL;
        size_t n;
        cr_assert_eq(base64_decode("aGVsbG8=", 8, &b, &n), 0);
        cr_expect_eq(n, 5);
        cr_expect_eq(memcmp(b, "hello", 5), 0);
        free(b);
        cr_assert_eq(base64_decode("aGVsbG8", 7, &b, &n), 0);
        free(b);
        cr_expect_eq(base64_decode("a", 1, &b, &n), -EINVAL);
        cr_expect_eq(base64_decode("aGVsbG9=", 8, &b, &n), -EINVAL); /* non-zero padding bits */
        cr_expect_eq(base64_decode("a-==", 4, &b, &n), -EINVAL);
}
