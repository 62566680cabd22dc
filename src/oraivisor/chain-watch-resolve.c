/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which RPC the chain watcher watches (chain-watch.h): ORAIVISOR_NODE_RPC, else the node's own
 * config.toml ([rpc] laddr), else CometBFT's default; and whether oraivisor's sandbox lets it reach it. */

#include "chain-schedule.h"
#include "chain-watch.h"
#include "fs-util.h"
#include "log.h"
#include "net-probe.h"
#include "string-util.h"

#define CONFIG_TOML_MAX (1024U * 1024U)

int chain_watch_resolve(const Config *c, Layout *l, NodeRpc *ret) {
        _cleanup_(node_rpc_done) NodeRpc rpc = {};
        _cleanup_free_ char *laddr = NULL;
        const char *reason = NULL, *origin;
        bool explicit_rpc = false;
        int r;

        if (c->node_rpc_off) {
                log_debug("Chain watching is off (ORAIVISOR_NODE_RPC=off).");
                return 0;
        }
        if (c->node_rpc) {
                origin = "ORAIVISOR_NODE_RPC";
                explicit_rpc = true;
                r = node_rpc_parse(c->node_rpc, &rpc, &reason);
                if (r < 0)
                        return r == -ENOMEM ? log_oom() : -EINVAL; /* config.c checked it */
        } else {
                _cleanup_free_ char *text = NULL;
                size_t size;
                r = read_file_at(l->home_fd, "config/config.toml", CONFIG_TOML_MAX, &text, &size);
                if (r >= 0) {
                        r = cometbft_config_rpc_laddr(text, size, &laddr);
                        if (r < 0)
                                return log_oom();
                } else if (r != -ENOENT)
                        log_debug_errno(r,
                                "Cannot read '%s/config/config.toml', using the default RPC address: %m",
                                c->home);
                if (laddr) {
                        origin = "config.toml's [rpc] laddr";
                        if (isempty(laddr)) {
                                log_notice(
                                        "Chain watching is off: the node's RPC is disabled (laddr = \"\" in "
                                        "'%s/config/config.toml'); "
                                        "give it an address (a unix socket is best: docs/chain-watch.md), "
                                        "or set ORAIVISOR_NODE_RPC=off to silence this.",
                                        c->home);
                                return 0;
                        }
                        r = node_rpc_parse(laddr, &rpc, &reason);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0) {
                                log_notice("Chain watching is off: laddr = '%s' of [rpc] in "
                                           "'%s/config/config.toml' cannot be used: %s; "
                                           "set ORAIVISOR_NODE_RPC to the node's RPC, or to 'off'.",
                                        laddr, c->home, reason);
                                return 0;
                        }
                } else {
                        origin = "the default";
                        r = node_rpc_parse(NODE_RPC_DEFAULT, &rpc, &reason);
                        if (r < 0)
                                return log_oom();
                }
        }

        r = net_check_node_rpc(c, &rpc, origin, explicit_rpc);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;
        log_debug("Chain watching: the node's RPC is at '%s' (%s).", rpc.display, origin);
        *ret = rpc;
        rpc = (NodeRpc){};
        return 1;
}
