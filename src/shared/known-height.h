/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The node's height as known without asking it (docs/chain-watch.md, "The node's height"): the highest
 * committed height that any trustworthy source proves, read before the node starts and by `oraivisorctl
 * add-upgrade --height`. The sources, each a lower bound of the node's last committed block:
 *   - chain-state.json: the chain watcher's last `status` (latest_block_height) of the node's RPC;
 *   - data/priv_validator_state.json: the validator signed at height P, so P - 1 is committed (a full
 *     node keeps "0": no information);
 *   - oraivisor/node-height: the last committed height the node's own output showed (height lines, core/
 *     height-line.h), kept across restarts by oraivisor (a node's first lines come before any RPC).
 * A damaged source is ignored (logged once when asked). */

#include <stdbool.h>
#include <stdint.h>

#define NODE_HEIGHT_FILE "node-height"
#define NODE_HEIGHT_MAX_SIZE 64U

typedef enum KnownHeightSource {
        KNOWN_HEIGHT_NONE,
        KNOWN_HEIGHT_CHAIN_STATE,
        KNOWN_HEIGHT_PRIV_VALIDATOR,
        KNOWN_HEIGHT_NODE_OUTPUT,
} KnownHeightSource;

typedef struct KnownHeight {
        int64_t height; /* the highest committed height proven; 0: unknown */
        KnownHeightSource source;
} KnownHeight;

/* "the chain watcher's chain-state.json" etc., for messages. */
const char *known_height_source_describe(KnownHeightSource s);

/* home_fd: $DAEMON_HOME, root_fd: $DAEMON_HOME/oraivisor (either may be negative: not read). Never fails;
 * with log_problems, a damaged priv_validator_state.json or node-height file gets one warning. */
void known_height_read(int home_fd, int root_fd, bool log_problems, KnownHeight *ret);

/* Keeps height as the last committed height seen in the node's output (replaced atomically, no fsync: a
 * lower value after a crash only means less is known). 0 or a negative errno; does not log. */
int known_height_save_seen(int root_fd, int64_t height);
