/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /proc/<pid>/stat contents as reaper.c reads them (at most 512 bytes, not NUL-terminated), each line of
 * the input parsed alone and then all of them as one process tree. */

#include <stdlib.h>
#include <string.h>

#include "proc-stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data, *end = s + size;
        ProcStat procs[64];
        size_t n = 0;

        (void) proc_stat_parse(s, size < 512 ? size : 512, &procs[0]);
        while (s < end && n < 64) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t len = (size_t) ((nl ? nl : end) - s);
                if (proc_stat_parse(s, len, &procs[n]) >= 0) {
                        if (procs[n].pid <= 0 || procs[n].ppid < 0)
                                abort();
                        n++;
                }
                s += len + 1;
        }
        bool strays[64];
        const pid_t own[] = { 2, 3 };
        int k = proc_tree_mark_strays(procs, n, 1, own, 2, strays);
        if (k < 0 || (size_t) k > n)
                abort();
        return 0;
}
