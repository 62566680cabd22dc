/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The chain watcher (docs/chain-watch.md): polls the node's CometBFT RPC (status, and x/upgrade's current
 * plan through abci_query) on the event loop, and learns of an upgrade when it is approved, days before
 * its height: an "upgrade scheduled" event, the binary staged at once when downloads are allowed (the same
 * obtain path as at the height, retried), warnings naming the fix when they are not, and the state kept in
 * $DAEMON_HOME/oraivisor/chain-state.json. A heads-up only: the upgrade itself still follows the node's
 * announcement at the height.
 *
 * The node is often unreachable (starting, syncing, restarting): retries are quiet, with one line when it
 * becomes reachable and one when it stops being so. Nothing blocks the loop: every request has a time
 * limit and a size limit; until libcurl is loaded, a plain non-blocking connect() tells whether anything
 * listens, so that an oraivisor next to a node without RPC never loads it. */

#include <systemd/sd-event.h>

#include "chain-rpc.h"
#include "chain-state.h"
#include "config.h"
#include "layout.h"

typedef struct ChainWatch ChainWatch;

/* Something shown by STATUS= or the metrics changed. */
typedef void (*ChainWatchChanged)(ChainWatch *w, void *userdata);

/* Which RPC to watch, decided at start-up: ORAIVISOR_NODE_RPC as given (explicit), else `[rpc] laddr` of
 * $DAEMON_HOME/config/config.toml, else NODE_RPC_DEFAULT (derived). Checks the sandbox (shared/net-probe):
 * an explicit TCP address it cannot reach is an invalid configuration (logged, -EINVAL: exit status 78); a
 * derived one gives one notice and leaves the watcher off. 1 and *ret filled: watch it; 0: off (said why
 * at the level it deserves); -EINVAL; -ENOMEM. */
int chain_watch_resolve(const Config *c, Layout *l, NodeRpc *ret);

/* rpc is copied; config and layout are borrowed and must outlive the watcher. The first poll is at once. */
int chain_watch_new(sd_event *e, const Config *c, Layout *l, const NodeRpc *rpc, ChainWatchChanged changed,
        void *userdata, ChainWatch **ret);
ChainWatch *chain_watch_free(ChainWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(ChainWatch *, chain_watch_free);

/* What is known (never NULL for a watcher). */
const ChainState *chain_watch_state(const ChainWatch *w);

/* What oraivisor's readiness check (ready-watch.h) says of the governance plan name at height: kept in
 * chain-state.json, shown by STATUS=, and an installed binary that is not ready gets the warnings a missing one
 * gets (a day, an hour and ten minutes before; the "not ready" event is the one at once). NULL-safe. */
void chain_watch_set_ready(ChainWatch *w, const char *name, int64_t height, ReadyState ready, const char *reason);

/* An upgrade is being carried out (on) or is over (off). While it is, the watcher stages nothing and a
 * staging download of its own stops (its staging folder is removed), so that only the upgrade's own obtain
 * writes upgrades/. Polls go on. NULL-safe. */
void chain_watch_set_upgrading(ChainWatch *w, bool on);
