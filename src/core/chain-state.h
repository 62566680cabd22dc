/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the chain watcher knows, as kept in $DAEMON_HOME/oraivisor/chain-state.json for `oraivisorctl
 * status` and the metrics (schema in docs/chain-watch.md): the chain's height and pace as last read from
 * the node, and the upgrades scheduled at a height with what is known of each (its binary, the warnings
 * given). Pure: a struct in, JSON out, and back. Upgrades come from a source each: the chain's x/upgrade
 * plan (governance), or, later, a height the operator scheduled without governance; one list holds both. */

#include <stdint.h>

#include "macro.h"
#include "ready-track.h"
#include "time-util.h"

#define CHAIN_STATE_FILE "chain-state.json"
#define CHAIN_STATE_MAX_SIZE (4U * 1024U * 1024U)

typedef enum ScheduledSource {
        SCHEDULED_SOURCE_GOVERNANCE, /* the chain's current x/upgrade plan */
        SCHEDULED_SOURCE_HEIGHT, /* an upgrade at a height without governance (oraivisorctl add-upgrade
                                    --height) */
        _SCHEDULED_SOURCE_MAX,
        _SCHEDULED_SOURCE_INVALID = -EINVAL,
} ScheduledSource;

typedef enum BinaryState {
        BINARY_MISSING, /* not installed; downloads off (or no way to obtain it) */
        BINARY_STAGING, /* being downloaded and verified */
        BINARY_FAILED, /* the last attempt to stage it failed (binary_error says why); retried */
        BINARY_INSTALLED, /* upgrades/<folder>/bin/<daemon> is there (the one "installed" rule) */
        _BINARY_STATE_MAX,
        _BINARY_STATE_INVALID = -EINVAL,
} BinaryState;

const char *scheduled_source_to_string(ScheduledSource s) _const_;
ScheduledSource scheduled_source_from_string(const char *s) _pure_;
const char *binary_state_to_string(BinaryState s) _const_;
BinaryState binary_state_from_string(const char *s) _pure_;

typedef struct ScheduledUpgrade {
        char *name;
        int64_t height;
        char *info; /* never NULL */
        ScheduledSource source;
        usec_t first_seen; /* CLOCK_REALTIME */
        usec_t estimated_at; /* CLOCK_REALTIME of the height, an estimate; 0: unknown */
        BinaryState binary;
        char *binary_error; /* BINARY_FAILED: the last error; else NULL */
        unsigned warnings; /* the warnings given (1u << ChainWarning) */
        ReadyState ready; /* BINARY_INSTALLED: what oraivisor's last readiness check said (READY_UNKNOWN before
                             it ran); else READY_UNKNOWN */
        char *ready_reason; /* READY_NO: why, "<what>: <fix>" about the binary; else NULL */
} ScheduledUpgrade;

typedef struct ChainState {
        char *rpc; /* the RPC watched, as shown to the operator */
        bool reachable;
        usec_t reachable_since; /* when reachable last changed (CLOCK_REALTIME); 0: unknown (older files) */
        int64_t height; /* 0: never read */
        usec_t height_time; /* the chain's time of that block */
        usec_t block_time; /* the average time per block; 0: unknown */
        bool catching_up;
        usec_t updated; /* when the node was last read (CLOCK_REALTIME) */
        ScheduledUpgrade *upgrades;
        size_t n_upgrades;
} ChainState;

void scheduled_upgrade_done(ScheduledUpgrade *u);
void chain_state_done(ChainState *s);

/* The upgrade of that source (and name, when given), or NULL. */
ScheduledUpgrade *chain_state_find(ChainState *s, ScheduledSource source, const char *name);
/* Appends a copy of u's strings; returns the new entry or NULL (-ENOMEM). */
ScheduledUpgrade *chain_state_add(ChainState *s, const ScheduledUpgrade *u);
/* Removes the entry (by pointer). */
void chain_state_remove(ChainState *s, ScheduledUpgrade *u);

int chain_state_to_json(const ChainState *s, char **ret);
/* 0, or -EBADMSG with *ret_reason (static); unknown keys are ignored. -ENOMEM. */
int chain_state_from_json(const char *data, size_t len, ChainState *ret, const char **ret_reason);

/* The next upgrade (the nearest above the chain's height; the nearest at all when the height is not
 * known), or NULL. */
const ScheduledUpgrade *chain_state_next(const ChainState *s);
/* For STATUS= and `oraivisorctl status`: "upgrade v2 at height 1234567 (~3h10m), binary ready"; the time
 * left is an estimate ("~"), omitted while the pace is unknown. "binary ready" is an installed binary that
 * passed the readiness check; "binary not ready: <reason>" one that failed it; "binary installed, not
 * checked yet" before the check. 0 and NULL when nothing is scheduled. */
int chain_state_describe_next(const ChainState *s, char **ret);
