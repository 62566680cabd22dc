/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* chain-state.json as oraivisorctl status and the metrics read it; what parses writes back and reads the same. */

#include <stdlib.h>
#include <string.h>

#include "chain-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ChainState s = {}, t = {};
        const char *reason = NULL;
        int r = chain_state_from_json((const char *) data, size, &s, &reason);
        if (r < 0) {
                if (r != -ENOMEM && (r != -EBADMSG || !reason))
                        abort();
                return 0;
        }
        char *json = NULL;
        if (chain_state_to_json(&s, &json) == 0) {
                if (chain_state_from_json(json, strlen(json), &t, &reason) != 0 || t.n_upgrades != s.n_upgrades ||
                    t.height != s.height)
                        abort();
                chain_state_done(&t);
        }
        free(json);
        chain_state_done(&s);
        return 0;
}
