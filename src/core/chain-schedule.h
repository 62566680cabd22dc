/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The chain watcher's arithmetic, pure: the chain's pace from recent blocks and the time a height is
 * estimated at; which of the warnings about a scheduled upgrade whose binary is missing are due (at once,
 * then a day, an hour and ten minutes before); how soon to poll again as the height comes near. */

#include "chain-rpc.h"
#include "macro.h"
#include "time-util.h"

/* The newest blocks seen (height and the chain's own time of each), for the pace. */
#define BLOCK_PACE_MAX 32

typedef struct BlockPace {
        BlockSample samples[BLOCK_PACE_MAX]; /* by height, ascending */
        size_t n;
} BlockPace;

/* Adds a block (any order; a height already there is replaced; the oldest beyond BLOCK_PACE_MAX go). */
void block_pace_add(BlockPace *p, int64_t height, usec_t time);
/* The average time per block over the samples: 0 and the time, -ENODATA with fewer than two distinct
 * heights or a clock that goes backwards. */
int block_pace_block_time(const BlockPace *p, usec_t *ret);

/* When the chain reaches height, counted from block (height, time) at block_time a block: the time of
 * day (CLOCK_REALTIME µs) and how far after now. A height at or below the block: its own time, 0 left. */
usec_t chain_estimate_at(int64_t target, int64_t height, usec_t height_time, usec_t block_time);
usec_t chain_estimate_left(int64_t target, int64_t height, usec_t block_time);

typedef enum ChainWarning {
        CHAIN_WARNING_AT_ONCE, /* when the plan is first seen */
        CHAIN_WARNING_DAY,
        CHAIN_WARNING_HOUR,
        CHAIN_WARNING_10MIN,
        _CHAIN_WARNING_MAX,
        _CHAIN_WARNING_INVALID = -EINVAL,
} ChainWarning;

const char *chain_warning_to_string(ChainWarning w) _const_;
ChainWarning chain_warning_from_string(const char *s) _pure_;
/* How long before the height a warning is due: 24h, 1h, 10min (AT_ONCE: USEC_INFINITY). */
usec_t chain_warning_lead(ChainWarning w) _const_;

/* The warning due now, given the bit set of those already given (1u << ChainWarning): the most urgent one
 * whose time has come and that was not given, or -ENODATA when none is. left: the estimated time to the
 * height; USEC_INFINITY when unknown (then only AT_ONCE can be due). *ret_given: the new bit set (the
 * warnings this one makes moot included, so that a plan seen an hour before its height warns once,
 * not three times). */
int chain_warning_due(unsigned given, usec_t left, ChainWarning *ret, unsigned *ret_given);

/* How long to wait before the next poll: the configured interval, shortened as a known height comes near
 * (to a twentieth of the time left, at least the block time and a second), so that the last blocks before
 * it are followed closely. left: USEC_INFINITY when no height is known. */
usec_t chain_poll_delay(usec_t interval, usec_t left, usec_t block_time);

/* "3h10m", "2d4h", "45s": a short approximate duration for STATUS= and messages. */
const char *format_approx(char *buf, size_t len, usec_t t);
#define FORMAT_APPROX_MAX 32
