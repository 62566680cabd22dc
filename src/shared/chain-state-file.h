/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* $DAEMON_HOME/oraivisor/chain-state.json (core/chain-state.h, docs/chain-watch.md): written by the chain
 * watcher, read by `oraivisorctl status` and whoever else wants what the watcher knows. Readers never
 * see a partial file (a temporary file renamed over it). */

#include "chain-state.h"

/* root_fd: $DAEMON_HOME/oraivisor. 0 and the state; -ENOENT when there is none (the watcher never ran, or
 * is off); -EBADMSG with *ret_reason; other -errno. Does not log. */
int chain_state_load_at(int root_fd, ChainState *ret, const char **ret_reason);
/* durable: fsync (a change of the upgrades); otherwise a rename without fsync (the height of each poll). */
int chain_state_save_at(int root_fd, const ChainState *s, bool durable);
