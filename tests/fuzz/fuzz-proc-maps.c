/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Lines of /proc/self/maps, one per input line, as journal-follow.c reads them. */

#include <stdlib.h>
#include <string.h>

#include "proc-maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* The parsers take C strings: whatever follows a NUL in the input is never seen anyway. */
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        for (char *line = s; line; ) {
                char *next = strchr(line, '\n');
                ProcMapsEntry e;
                if (proc_maps_parse_line(line, &e) >= 0) {
                        /* the path lies inside the input, before the end of the line */
                        if (e.path && (e.path < line || e.path + e.path_len > s + size))
                                abort();
                        (void) proc_maps_entry_is_journal_file(&e);
                }
                line = next ? next + 1 : NULL;
        }
        free(s);
        return 0;
}
