/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The node's own lines that carry a block height (docs/chain-watch.md, "The node's height"), in the plain
 * (zerolog console, Tendermint's tmfmt) and JSON log formats, with or without colours. Pure: a line in,
 * what it says out. What each kind proves about the node's last committed block:
 *   HEIGHT_LINE_COMMITTED "committed state" height=N (Tendermint/CometBFT state/execution.go, after the
 *                         app's Commit returned): block N is committed.
 *   HEIGHT_LINE_BLOCK     "finalizing commit of block" (consensus), "finalized block" (CometBFT 0.38) and
 *                         "executed block" (state) with height=N: block N is being committed, N - 1 is.
 *   HEIGHT_LINE_HALT_COMMIT   the SDK's BaseApp.halt() in Commit (v0.38 .. v0.50.9): "halting node per
 *                         configuration" height=H (the configured halt height, not the block's).
 *   HEIGHT_LINE_HALT_FINALIZE the SDK's checkHalt() error from FinalizeBlock (v0.50.0+, in the line CometBFT
 *                         logs about it): "halt per configuration height H time T". */

#include <stddef.h>
#include <errno.h>
#include <stdint.h>

typedef enum HeightLineKind {
        HEIGHT_LINE_COMMITTED,
        HEIGHT_LINE_BLOCK,
        HEIGHT_LINE_HALT_COMMIT,
        HEIGHT_LINE_HALT_FINALIZE,
        _HEIGHT_LINE_KIND_MAX,
        _HEIGHT_LINE_KIND_INVALID = -EINVAL,
} HeightLineKind;

typedef struct HeightLine {
        HeightLineKind kind;
        int64_t height; /* > 0 */
} HeightLine;

/* A height line is short; the longest, CometBFT's CONSENSUS FAILURE with its goroutine's stack, some KiB.
 * Longer lines (a contract's dump) are not read for a height: no copy of megabytes per line. */
#define HEIGHT_LINE_MAX (256U * 1024U)

/* 1 and *ret when the line is one of those above, 0 when it is not (*ret untouched), -ENOMEM. */
int height_line_parse(const char *line, size_t len, HeightLine *ret);

/* The last block the line proves committed (N for COMMITTED, N - 1 for BLOCK); 0 for the halt lines. */
int64_t height_line_committed(const HeightLine *l);

/* Where a node started with --halt-height H stopped, from its halt line's kind and the highest committed
 * height known of it (0: none; the height before its start and its height lines since). BaseApp halts
 * at the first block at or above H, and blocks come one by one, so a node known to be below H stopped at
 * H. Commit style (v0.38 .. v0.50.9): block H is committed when it stops there. FinalizeBlock style
 * (v0.50.10+): block H is refused, H - 1 is the last committed. */
typedef enum HaltVerdict {
        HALT_AT_HEIGHT, /* stopped exactly where the upgrade belongs */
        HALT_ABOVE_HEIGHT, /* it was past H already: never upgrade there */
        HALT_UNCONFIRMED, /* nothing known of its height */
        _HALT_VERDICT_MAX,
        _HALT_VERDICT_INVALID = -EINVAL,
} HaltVerdict;

HaltVerdict height_halt_verdict(HeightLineKind kind, int64_t halt_height, int64_t committed);
