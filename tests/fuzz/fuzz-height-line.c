/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A line of the node's output, as the supervisor reads every one of them for its height (any bytes: a
 * node prints what its modules and contracts give it). */

#include <stdlib.h>

#include "height-line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HeightLine h = {.kind = _HEIGHT_LINE_KIND_INVALID, .height = -1};
        int r = height_line_parse((const char *) data, size, &h);
        if (r < 0 && r != -ENOMEM)
                abort();
        if (r == 0 && (h.kind != _HEIGHT_LINE_KIND_INVALID || h.height != -1))
                abort();
        if (r > 0) {
                if (h.kind < 0 || h.kind >= _HEIGHT_LINE_KIND_MAX || h.height <= 0 ||
                        h.height >= 1000000000000000000LL)
                        abort();
                int64_t c = height_line_committed(&h);
                if (c < 0 || c > h.height)
                        abort();
                if (h.kind == HEIGHT_LINE_HALT_COMMIT || h.kind == HEIGHT_LINE_HALT_FINALIZE) {
                        HaltVerdict v = height_halt_verdict(h.kind, h.height, (int64_t) size);
                        if (v < 0 || v >= _HALT_VERDICT_MAX)
                                abort();
                }
        }
        return 0;
}
