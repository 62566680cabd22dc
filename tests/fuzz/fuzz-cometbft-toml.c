/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The node's config.toml as the chain watcher reads it ([rpc] laddr), and the address found there (or in
 * ORAIVISOR_NODE_RPC). */

#include <stdlib.h>
#include <string.h>

#include "chain-rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_address(const char *s) {
        NodeRpc rpc = {};
        const char *reason = NULL;
        int r = node_rpc_parse(s, &rpc, &reason);
        if (r == 0 && (!rpc.url || !rpc.display || (!rpc.tcp && !rpc.unix_path)))
                abort();
        if (r < 0 && r != -ENOMEM && (r != -EINVAL || !reason))
                abort();
        node_rpc_done(&rpc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *v = NULL;
        int r = cometbft_config_rpc_laddr((const char *) data, size, &v);
        if (r == 1) {
                if (!v)
                        abort();
                check_address(v);
                free(v);
        } else if (r != 0 && r != -ENOMEM)
                abort();

        char *s = strndup((const char *) data, size);
        if (s)
                check_address(s);
        free(s);
        return 0;
}
