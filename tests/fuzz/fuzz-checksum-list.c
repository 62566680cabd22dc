/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* GNU/BSD checksum lists. The first line of the input is the file name looked up, the rest the list. */

#include "checksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t name_len = nl ? (size_t) (nl - data) : size;
        char *name = malloc(name_len + 1);
        if (!name)
                return 0;
        memcpy(name, data, name_len);
        name[name_len] = 0;
        const char *list = nl ? (const char *) nl + 1 : "";
        size_t list_len = nl ? size - name_len - 1 : 0;

        ChecksumType t;
        char *hex = NULL;
        const char *reason;
        if (checksum_list_find(list, list_len, name, &t, &hex, &reason) >= 0)
                free(hex);
        free(name);
        return 0;
}
