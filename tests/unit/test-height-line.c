/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The node's height lines (core/height-line.h) as Tendermint v0.34, CometBFT v0.37/v0.38 and the SDK's
 * BaseApp print them, plain, coloured and JSON; and where a node with --halt-height stopped. */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "height-line.h"

static int parse(const char *line, HeightLine *ret) {
        return height_line_parse(line, strlen(line), ret);
}

static void expect(const char *line, HeightLineKind kind, int64_t height) {
        HeightLine h = { .kind = _HEIGHT_LINE_KIND_INVALID, .height = -1 };
        cr_assert_eq(parse(line, &h), 1, "not recognised: %s", line);
        cr_expect_eq(h.kind, kind, "%s: kind %d", line, h.kind);
        cr_expect_eq(h.height, height, "%s: height %lld", line, (long long) h.height);
}

static void expect_none(const char *line) {
        HeightLine h = { .kind = _HEIGHT_LINE_KIND_INVALID, .height = -1 };
        cr_assert_eq(parse(line, &h), 0, "recognised: %s", line);
        cr_expect_eq(h.height, -1);
}

Test(height_line, cometbft_plain) {
        /* CometBFT v0.38 (zerolog console writer, fields sorted). */
        expect("1:51PM INF committed state block_app_hash=130BB128EA30394B03E26CEA8F95B3200BD6FA640DF2E7CCE9C130BB9EC2E1F8 height=9 module=state",
               HEIGHT_LINE_COMMITTED, 9);
        expect("1:51PM INF finalized block block_app_hash=AEFDA90AD09ACCFE5BC708D322C0D53E38DD54388E2AD970D09672DD301F4F66 height=9 module=state num_txs_res=0 num_val_updates=0",
               HEIGHT_LINE_BLOCK, 9);
        expect("1:51PM INF executed block app_hash=AEFD height=9 module=state", HEIGHT_LINE_BLOCK, 9);
        /* CometBFT v0.37 / Tendermint v0.34 (the SDK's zerolog). */
        expect("3:04PM INF committed state app_hash=AB12 height=1234567 module=state num_txs=3", HEIGHT_LINE_COMMITTED,
               1234567);
        expect("3:04PM INF finalizing commit of block hash=AB height=25 module=consensus num_txs=0 root=CD",
               HEIGHT_LINE_BLOCK, 25);
        /* Tendermint's own tmfmt logger (oraid without the SDK's logger, v0.34). */
        expect("I[2021-03-17|12:14:42.123] committed state                              module=state height=9283651 num_txs=0 app_hash=AB",
               HEIGHT_LINE_COMMITTED, 9283651);
        expect("I[2021-03-17|12:14:42.100] finalizing commit of block                  module=consensus height=9283651 hash=AB root=CD num_txs=0",
               HEIGHT_LINE_BLOCK, 9283651);
        /* Coloured. */
        expect("\x1b[90m3:04PM\x1b[0m \x1b[32mINF\x1b[0m committed state \x1b[36mheight=\x1b[0m42 \x1b[36mmodule=\x1b[0mstate",
               HEIGHT_LINE_COMMITTED, 42);
        /* A carriage return at the end (a Windows-edited wrapper). */
        expect("3:04PM INF committed state height=8 module=state\r", HEIGHT_LINE_COMMITTED, 8);
}

Test(height_line, json) {
        expect("{\"level\":\"info\",\"module\":\"state\",\"height\":25,\"num_txs\":0,\"app_hash\":\"AB\",\"time\":\"2024-01-01T00:00:00Z\",\"message\":\"committed state\"}",
               HEIGHT_LINE_COMMITTED, 25);
        expect("{\"level\":\"info\",\"module\":\"consensus\",\"height\":26,\"hash\":\"AB\",\"time\":\"2024-01-01T00:00:00Z\",\"message\":\"finalizing commit of block\"}",
               HEIGHT_LINE_BLOCK, 26);
        /* Tendermint's JSON logger, height quoted by some encoders; spaces after the colon. */
        expect("{\"_msg\":\"committed state\",\"height\": \"27\",\"module\":\"state\"}", HEIGHT_LINE_COMMITTED, 27);
        expect("{\"level\":\"info\",\"module\":\"baseapp\",\"height\":30,\"time\":0,\"time\":\"2024-01-01T00:00:00Z\",\"message\":\"halting node per configuration\"}",
               HEIGHT_LINE_HALT_COMMIT, 30);
        expect("{\"level\":\"error\",\"module\":\"state\",\"err\":\"halt per configuration height 30 time 0\",\"message\":\"error in proxyAppConn.FinalizeBlock\"}",
               HEIGHT_LINE_HALT_FINALIZE, 30);
}

Test(height_line, sdk_halt) {
        /* BaseApp.halt() (v0.45 .. v0.50.9): the configured halt height, whatever the block. */
        expect("3:04PM INF halting node per configuration height=25 module=baseapp time=0", HEIGHT_LINE_HALT_COMMIT, 25);
        expect("3:04PM INF halting node per configuration height=25 module=server time=0", HEIGHT_LINE_HALT_COMMIT, 25);
        /* checkHalt() (v0.50+) in CometBFT's lines about FinalizeBlock's error. */
        expect("3:04PM ERR error in proxyAppConn.FinalizeBlock err=\"halt per configuration height 25 time 0\" module=state",
               HEIGHT_LINE_HALT_FINALIZE, 25);
        expect("3:04PM ERR CONSENSUS FAILURE!!! err=\"failed to apply block; error halt per configuration height 25 time 0\" module=consensus stack=\"goroutine 1\"",
               HEIGHT_LINE_HALT_FINALIZE, 25);
        expect("panic: Failed to process committed block (10:D31E): halt per configuration height 10 time 0",
               HEIGHT_LINE_HALT_FINALIZE, 10);
        /* halt-time alone: height 0 is no height. */
        expect_none("3:04PM ERR error in proxyAppConn.FinalizeBlock err=\"halt per configuration height 0 time 1700000000\" module=state");
        expect_none("3:04PM INF halting node per configuration height=0 module=baseapp time=1700000000");
}

Test(height_line, not_height_lines) {
        expect_none("");
        expect_none("3:04PM INF received proposal height=25 module=consensus");
        expect_none("3:04PM INF indexed block events height=25 module=txindex");
        expect_none("3:04PM INF Timed out dur=4955 height=25 module=consensus round=0 step=RoundStepNewHeight");
        expect_none("3:04PM INF committed state module=state"); /* no height */
        expect_none("3:04PM INF committed state module=state height=abc");
        expect_none("3:04PM INF committed state module=state height=12x");
        expect_none("3:04PM INF committed state module=state height=-5");
        expect_none("3:04PM INF committed state module=state blockheight=12");
        expect_none("3:04PM INF committed stateful height=12 module=x");
        expect_none("3:04PM INF uncommitted state height=12 module=x");
        /* 19 digits and more: not a height of any chain, and not an int64 we trust. */
        expect_none("3:04PM INF committed state height=1234567890123456789 module=state");
        expect_none("3:04PM INF committed state height=99999999999999999999999 module=state");
        /* x/upgrade's announcement carries "height: N", not a height line. */
        expect_none("3:04PM ERR UPGRADE \"v2\" NEEDED at height: 20: info module=x/upgrade");
}

Test(height_line, long_lines) {
        /* A committed state line with a long field still counts up to the cap; past it, not read. */
        static const char head[] = "3:04PM INF committed state height=77 module=state note=";
        size_t n = HEIGHT_LINE_MAX;
        char *line = malloc(n + 2);
        cr_assert_not_null(line);
        memset(line, 'x', n + 1);
        memcpy(line, head, strlen(head));
        HeightLine h = {};
        cr_expect_eq(height_line_parse(line, n, &h), 1);
        cr_expect_eq(h.height, 77);
        cr_expect_eq(height_line_parse(line, n + 1, &h), 0);
        free(line);
}

Test(height_line, committed) {
        HeightLine c = { HEIGHT_LINE_COMMITTED, 10 }, b = { HEIGHT_LINE_BLOCK, 10 }, h = { HEIGHT_LINE_HALT_COMMIT, 10 },
                   f = { HEIGHT_LINE_HALT_FINALIZE, 10 };
        cr_expect_eq(height_line_committed(&c), 10);
        cr_expect_eq(height_line_committed(&b), 9);
        cr_expect_eq(height_line_committed(&h), 0);
        cr_expect_eq(height_line_committed(&f), 0);
}

Test(height_line, verdict) {
        /* Commit style: block H is committed at the halt. */
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 0), HALT_UNCONFIRMED);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 1), HALT_AT_HEIGHT);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 24), HALT_AT_HEIGHT);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 25), HALT_AT_HEIGHT);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 26), HALT_ABOVE_HEIGHT); /* #16638: a block slipped */
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_COMMIT, 25, 31), HALT_ABOVE_HEIGHT);
        /* FinalizeBlock style: H is refused, H - 1 is the last committed. */
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_FINALIZE, 25, 0), HALT_UNCONFIRMED);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_FINALIZE, 25, 24), HALT_AT_HEIGHT);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_FINALIZE, 25, 25), HALT_ABOVE_HEIGHT);
        cr_expect_eq(height_halt_verdict(HEIGHT_LINE_HALT_FINALIZE, 1, 0), HALT_UNCONFIRMED);
}
