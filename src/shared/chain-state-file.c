/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "chain-state-file.h"
#include "fs-util.h"

int chain_state_load_at(int root_fd, ChainState *ret, const char **ret_reason) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_at(root_fd, CHAIN_STATE_FILE, CHAIN_STATE_MAX_SIZE, &data, &size);
        if (r < 0) {
                if (r == -EFBIG)
                        *ret_reason = "it is larger than 4 MiB";
                return r == -EFBIG ? -EBADMSG : r;
        }
        return chain_state_from_json(data, size, ret, ret_reason);
}

int chain_state_save_at(int root_fd, const ChainState *s, bool durable) {
        _cleanup_free_ char *json = NULL;
        int r = chain_state_to_json(s, &json);
        if (r < 0)
                return r;
        return (durable ? write_file_atomic_at : write_file_replace_at)(
                root_fd, CHAIN_STATE_FILE, json, strlen(json), 0644);
}
