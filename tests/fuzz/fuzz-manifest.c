/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Plan info and manifest JSON: plan_info_parse() on the input as a string, manifest_parse() on the raw
 * bytes, and manifest_find() on whatever parsed. */

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *reason;

        Manifest *m = NULL;
        if (manifest_parse((const char *) data, size, &m, &reason) >= 0) {
                const char *url;
                if (manifest_find(m, "linux/amd64", &url, NULL, &reason) >= 0) {
                        char *stripped = NULL, *checksum = NULL;
                        if (url_split_checksum(url, &stripped, &checksum, &reason) >= 0) {
                                (void) url_check(stripped, true, NULL, &reason);
                                free(stripped);
                                free(checksum);
                        }
                }
                manifest_free(m);
        }

        /* The parsers take C strings: whatever follows a NUL in the input is never seen anyway. */
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        char *url = NULL;
        m = NULL;
        int r = plan_info_parse(s, &url, &m, &reason);
        if (r == PLAN_INFO_MANIFEST)
                (void) manifest_find(m, "any", NULL, NULL, &reason);
        free(url);
        manifest_free(m);
        free(s);
        return 0;
}
