/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scheduled-upgrades.json as oraivisor and oraivisorctl read it (what parses writes back and reads the
 * same), and the same bytes as an add-batch-upgrade file. */

#include <stdlib.h>
#include <string.h>

#include "height-schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HeightSchedule s = {}, t = {};
        const char *reason = NULL;
        int r = height_schedule_from_json((const char *) data, size, &s, &reason);
        if (r < 0) {
                if (r != -ENOMEM && (r != -EBADMSG || !reason))
                        abort();
        } else {
                char *json = NULL;
                if (height_schedule_to_json(&s, &json) == 0) {
                        if (height_schedule_from_json(json, strlen(json), &t, &reason) != 0 ||
                                t.n_entries != s.n_entries)
                                abort();
                        for (size_t i = 0; i < s.n_entries; i++)
                                if (strcmp(t.entries[i].name, s.entries[i].name) != 0 ||
                                        t.entries[i].height != s.entries[i].height ||
                                        t.entries[i].halted != s.entries[i].halted ||
                                        (i > 0 && s.entries[i].height <= s.entries[i - 1].height))
                                        abort();
                        height_schedule_done(&t);
                }
                free(json);
                height_schedule_done(&s);
        }

        HeightBatchLine *lines = NULL;
        size_t n = 0;
        unsigned line = 0;
        r = height_batch_parse((const char *) data, size, &lines, &n, &line, &reason);
        if (r == 0) {
                if (n == 0)
                        abort();
                height_batch_free(lines, n);
        } else if (r != -ENOMEM && (r != -EINVAL || !reason))
                abort();
        return 0;
}
