/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The checksum= value of a URL, and the URL helpers around it: the input is used as a whole URL and as a
 * bare checksum spec. */

#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* The parsers take C strings: whatever follows a NUL in the input is never seen anyway. */
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;

        const char *reason;
        ChecksumSpec spec = CHECKSUM_SPEC_NULL;
        if (checksum_spec_parse(s, &spec, &reason) >= 0)
                checksum_spec_done(&spec);

        char *stripped = NULL, *value = NULL;
        if (url_split_checksum(s, &stripped, &value, &reason) >= 0) {
                if (value && checksum_spec_parse(value, &spec, &reason) >= 0)
                        checksum_spec_done(&spec);
                char *name = NULL;
                if (url_file_name(stripped, &name) >= 0)
                        free(name);
                free(stripped);
                free(value);
        }
        free(url_redact(s));
        (void) url_check(s, true, NULL, &reason);
        free(s);
        return 0;
}
