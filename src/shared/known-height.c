/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain-state-file.h"
#include "fs-util.h"
#include "known-height.h"
#include "log.h"
#include "parse-util.h"
#include "priv-validator-state.h"
#include "string-util.h"

const char *known_height_source_describe(KnownHeightSource s) {
        switch (s) {
        case KNOWN_HEIGHT_CHAIN_STATE: return "the node's RPC, as last read (chain-state.json)";
        case KNOWN_HEIGHT_PRIV_VALIDATOR:
                return "the validator's last signature (" PRIV_VALIDATOR_STATE_FILE ")";
        case KNOWN_HEIGHT_NODE_OUTPUT: return "the node's own output (its last height line)";
        default: return "nothing";
        }
}

static void consider(KnownHeight *k, int64_t h, KnownHeightSource s) {
        if (h > k->height) {
                k->height = h;
                k->source = s;
        }
}

static int64_t from_priv_validator(int home_fd, bool log_problems) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        const char *reason = NULL;
        int64_t h = 0;
        int r = read_file_at(
                home_fd, PRIV_VALIDATOR_STATE_FILE, PRIV_VALIDATOR_STATE_MAX_SIZE, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG) {
                reason = "it is larger than 64 KiB";
                r = -EBADMSG;
        } else if (r >= 0)
                r = priv_validator_state_parse(data, size, &h, &reason);
        if (r == -EBADMSG && log_problems)
                log_warning("'$DAEMON_HOME/" PRIV_VALIDATOR_STATE_FILE
                            "' is not a validator state file (%s): the node's height is not taken from it, "
                            "ignoring.",
                        reason);
        else if (r < 0 && log_problems)
                log_warning_errno(r,
                        "'$DAEMON_HOME/" PRIV_VALIDATOR_STATE_FILE
                        "' cannot be read, its height is not known, ignoring: %m");
        return r < 0 || h <= 0 ? 0 : h - 1;
}

static int64_t from_node_output(int root_fd, bool log_problems) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int64_t h;
        int r = read_file_at(root_fd, NODE_HEIGHT_FILE, NODE_HEIGHT_MAX_SIZE, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r >= 0) {
                strip_trailing_whitespace(data);
                r = parse_int64(data, &h) < 0 || h < 0 ? -EBADMSG : 0;
        }
        if (r < 0) {
                if (log_problems)
                        log_warning("'$DAEMON_HOME/oraivisor/" NODE_HEIGHT_FILE
                                    "' does not hold a height, ignoring (oraivisor writes it again).");
                return 0;
        }
        return h;
}

void known_height_read(int home_fd, int root_fd, bool log_problems, KnownHeight *ret) {
        KnownHeight k = {};
        if (root_fd >= 0) {
                _cleanup_(chain_state_done) ChainState s = {};
                const char *reason = NULL;
                if (chain_state_load_at(root_fd, &s, &reason) >= 0)
                        consider(&k, s.height, KNOWN_HEIGHT_CHAIN_STATE);
                consider(&k, from_node_output(root_fd, log_problems), KNOWN_HEIGHT_NODE_OUTPUT);
        }
        if (home_fd >= 0)
                consider(&k, from_priv_validator(home_fd, log_problems), KNOWN_HEIGHT_PRIV_VALIDATOR);
        *ret = k;
}

int known_height_save_seen(int root_fd, int64_t height) {
        char text[32];
        int n = snprintf(text, sizeof text, "%" PRId64 "\n", height);
        return write_file_replace_at(root_fd, NODE_HEIGHT_FILE, text, (size_t) n, 0644);
}
