/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The node's JSON-RPC answers (status, blockchain, abci_query on the current plan), as the chain watcher
 * receives them. */

#include <stdlib.h>

#include "chain-rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *reason = NULL;
        RpcStatus s;
        int r = rpc_status_parse((const char *) data, size, &s, &reason);
        if (r < 0 && (r != -EBADMSG || !reason) && r != -ENOMEM)
                abort();
        if (r == 0 && s.height < 0)
                abort();

        BlockSample b[8];
        reason = NULL;
        r = rpc_blockchain_parse((const char *) data, size, b, 8, &reason);
        if (r > 8 || (r < 0 && r != -ENOMEM && (r != -EBADMSG || !reason)))
                abort();

        UpgradePlan *p = NULL;
        reason = NULL;
        r = rpc_current_plan_parse((const char *) data, size, &p, &reason);
        if (r == 1 && (!p || !p->name[0] || p->height <= 0 || !p->info))
                abort();
        if (r != 1 && p)
                abort();
        if (r < 0 && r != -ENOMEM && (r != -EBADMSG || !reason))
                abort();
        upgrade_plan_free(p);
        return 0;
}
