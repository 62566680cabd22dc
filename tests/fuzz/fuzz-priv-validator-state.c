/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* data/priv_validator_state.json: the node's file, read before it starts and by oraivisorctl. */

#include <stdlib.h>

#include "priv-validator-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int64_t h = -1;
        const char *reason = NULL;
        int r = priv_validator_state_parse((const char *) data, size, &h, &reason);
        if (r == 0 && h < 0)
                abort();
        if (r < 0 && (h != -1 || (r != -ENOMEM && (r != -EBADMSG || !reason))))
                abort();
        return 0;
}
