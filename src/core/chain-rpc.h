/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What oraivisor reads from the node's CometBFT RPC (../shared/notes/chain-rpc.md), pure: where the RPC
 * listens (ORAIVISOR_NODE_RPC, or `[rpc] laddr` of the node's config.toml), and the JSON-RPC answers of
 * `status`, `blockchain` and `abci_query` on /cosmos.upgrade.v1beta1.Query/CurrentPlan (whose value is the
 * base64 of a protobuf QueryCurrentPlanResponse, decoded with protobuf-c from cosmos-upgrade.proto).
 * Buffers in, structs out; every parser has a fuzz target. */

#include <stdint.h>

#include "macro.h"
#include "plan.h"
#include "time-util.h"

/* Where the RPC is reached. */
typedef struct NodeRpc {
        char *url; /* the base URL curl is given: "http://127.0.0.1:26657"; "http://localhost" for a socket
                    */
        char *unix_path; /* the socket's path for unix://, else NULL */
        char *display; /* as the operator reads it: "http://127.0.0.1:26657", "unix:///run/oraid/rpc.sock" */
        bool tcp; /* over TCP (not a unix socket) */
        bool loopback; /* TCP to 127.0.0.0/8, ::1 or "localhost" */
        /* A numeric address to probe with a plain connect() before loading libcurl; family 0: none (a
         * host name). */
        int family;
        uint8_t address[16];
        uint16_t port;
} NodeRpc;

#define NODE_RPC_DEFAULT "http://127.0.0.1:26657"

void node_rpc_done(NodeRpc *r);
/* A deep copy; -ENOMEM. */
int node_rpc_copy(const NodeRpc *r, NodeRpc *ret);

/* Parses ORAIVISOR_NODE_RPC or a laddr: "http://host[:port]", "https://host[:port]", "tcp://host:port"
 * (CometBFT's form, fetched over http) or "unix:///absolute/path". A wildcard host (0.0.0.0, [::]) means
 * the node listens on every interface: it is reached on loopback (127.0.0.1, ::1). No path, query,
 * credentials or fragment. -EINVAL with *ret_reason (static) when it is none of those; -ENOMEM. */
int node_rpc_parse(const char *s, NodeRpc *ret, const char **ret_reason);

/* The value of `laddr` in the `[rpc]` section of CometBFT's config.toml: a reader of just that (sections,
 * `key = "string"` lines, comments; multi-line values are skipped). 1 and the value; 0 when the file has
 * none; -ENOMEM. */
int cometbft_config_rpc_laddr(const char *text, size_t len, char **ret);

/* The `status` answer. */
typedef struct RpcStatus {
        int64_t height; /* latest_block_height */
        usec_t block_time; /* latest_block_time, CLOCK_REALTIME µs */
        bool catching_up;
} RpcStatus;

/* The JSON-RPC answers: 0, or -EBADMSG with *ret_reason (static) for anything that is not the expected
 * answer (not JSON, an "error" member, a missing or malformed field); -ENOMEM. */
int rpc_status_parse(const char *json, size_t len, RpcStatus *ret, const char **ret_reason);

/* A block's height and time, from `blockchain` (result.block_metas[].header). */
typedef struct BlockSample {
        int64_t height;
        usec_t time;
} BlockSample;

/* `blockchain?minHeight=&maxHeight=`: up to max samples (any order); returns how many. */
int rpc_blockchain_parse(
        const char *json, size_t len, BlockSample *ret, size_t max, const char **ret_reason);

/* `abci_query` on the current plan: 1 and the plan, 0 when none is scheduled (value empty or null, or a
 * response without a plan), -EBADMSG with *ret_reason for a failed query (code != 0), bad base64, bad
 * protobuf, a plan without a name or with a height <= 0. */
int rpc_current_plan_parse(const char *json, size_t len, UpgradePlan **ret, const char **ret_reason);

/* The protobuf QueryCurrentPlanResponse itself (after base64): as above. */
int current_plan_decode(const uint8_t *data, size_t len, UpgradePlan **ret, const char **ret_reason);

/* RFC 3339 with an optional fraction (up to nanoseconds, truncated to µs) and 'Z' or ±hh:mm: 0 and the
 * time, -EINVAL. */
int rfc3339_parse(const char *s, usec_t *ret);

/* Standard base64 (with or without padding); -EINVAL. */
int base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);
