/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The start-up check of what the configuration needs from the network (core/net-check.h decides): probes
 * the facts in the sandbox oraivisor runs in. Without systemd: the network devices of our namespace
 * (/proc/self/net/dev) and whether AF_INET/AF_INET6 sockets can be created. In a systemd unit also that
 * unit's PrivateNetwork= and the IPAddressAllow=/IPAddressDeny= lists of the unit and of its slices, read
 * from PID 1 over the system bus: those are the configured lists, which systemd enforces with BPF (where
 * the kernel cannot, systemd says so in its own log and lets everything through). No packet is sent.
 * Runs before the event loop, with blocking bus calls bounded by a timeout; only when a need exists. */

#include "chain-rpc.h"
#include "config.h"
#include "net-check.h"

typedef struct NetProbe {
        NetFacts facts;         /* points into the fields below */
        char *unit;
        IPAccessRule *rules;
        size_t n_rules;
        char **origins;         /* the unit and slice names the rules point to */
} NetProbe;

void net_probe_done(NetProbe *p);

/* Fills *ret (always, with what could be learnt; what could not stays unknown). with_bus: ask PID 1 about
 * our unit. Returns 0, or -ENOMEM. */
int net_probe(bool with_bus, NetProbe *ret);

/* The check at start-up. 0: nothing needs the network, or what is needed is possible as far as can be
 * told. -EINVAL: a need cannot be met; one line naming the setting and the fix was logged as an invalid
 * configuration (exit status 78). -ENOMEM. */
int net_check_config(const Config *c);

/* The chain watcher's need: TCP to the node's RPC (a unix socket needs nothing). origin: where the address
 * comes from, for the message ("ORAIVISOR_NODE_RPC", "config.toml's [rpc] laddr", "the default").
 * explicit_rpc: the operator set it; one the sandbox cannot reach is then an invalid configuration (logged
 * as such, -EINVAL: 78). Otherwise one notice line says that chain watching is off and how to turn it
 * on, and 1 is returned. 0: nothing stands in the way as far as can be told. -ENOMEM. */
int net_check_node_rpc(const Config *c, const NodeRpc *rpc, const char *origin, bool explicit_rpc);
