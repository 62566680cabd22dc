/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The environment of every process oraivisor starts: the one definition of what it passes on. Its own
 * environment minus what systemd set for oraivisor's own unit (its notify socket and watchdog, its
 * invocation, its journal stream, its state and runtime folders, its socket activation): passed on, those
 * would describe the wrong unit, and a node that saw NOTIFY_SOCKET could tell systemd that oraivisor is
 * ready or stopping. For the node and its upgrade hooks, the version's lib/ comes first on
 * LD_LIBRARY_PATH (CosmWasm chains ship libwasmvm beside the binary). Pure: strings in, strings out. */

#include <stdbool.h>

/* Whether NAME (without '=') is one of the variables systemd set for oraivisor's own unit. */
bool child_env_is_own(const char *name);

/* A copy of env without oraivisor's own unit's variables. NULL on -ENOMEM. */
char **child_env_strip_own(char *const *env);

/* The node's environment (the daemon, its hooks): env stripped as above, lib_dir (may be NULL) first on
 * LD_LIBRARY_PATH. Returns 0 or -ENOMEM. */
int child_env_for_node(char *const *env, const char *lib_dir, char ***ret);
