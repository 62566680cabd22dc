/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The protobuf QueryCurrentPlanResponse (decoded by protobuf-c), and the base64 around it. */

#include <stdlib.h>
#include <string.h>

#include "chain-rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UpgradePlan *p = NULL;
        const char *reason = NULL;
        int r = current_plan_decode(data, size, &p, &reason);
        if (r == 1 && (!p || !p->name[0] || p->height <= 0))
                abort();
        if (r < 0 && r != -ENOMEM && (r != -EBADMSG || !reason))
                abort();
        if (r == 0 && size > 0 && p)
                abort();
        upgrade_plan_free(p);

        uint8_t *b = NULL;
        size_t n;
        r = base64_decode((const char *) data, size, &b, &n);
        if (r == 0 && n > size)
                abort();
        free(b);
        return 0;
}
