/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The unpack worker fed whole downloads: unpack_stream() reads the input (through a memfd, as it reads the
 * socket) and writes below a fresh folder, which is removed afterwards. Run in-process, without the
 * sandbox: what is fuzzed is the parsing and the entry rules. Escapes are caught by the worker's own
 * checks (and by the folder being the only thing written: a stray file elsewhere is visible). */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fd-util.h"
#include "fs-util.h"
#include "macro.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *base_path = NULL;

static void remove_base(void) {
        (void) rmdir(base_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int base_fd = -EBADF;

        if (base_fd < 0) {
                if (asprintf(&base_path, "%s/fuzz-unpack-XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0 ||
                        !mkdtemp(base_path))
                        abort();
                base_fd = open(base_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (base_fd < 0)
                        abort();
                atexit(remove_base);
        }

        _cleanup_close_ int in = memfd_create("fuzz-unpack", MFD_CLOEXEC);
        if (in < 0 || loop_write(in, data, size) < 0 || lseek(in, 0, SEEK_SET) < 0)
                abort();
        if (mkdirat(base_fd, "x", 0700) < 0)
                abort();
        _cleanup_close_ int dir_fd = openat(base_fd, "x", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                abort();

        UnpackOptions o = {
                .dir_fd = dir_fd,
                .daemon_name = "oraid",
                .max_size = 64U << 20,
                .max_entries = 1000,
        };
        char *message = NULL;
        int r = unpack_stream(in, dir_fd, &o, &message);
        /* A failure always says why, in one line. */
        if (r < 0 && message && strchr(message, '\n'))
                abort();
        free(message);

        if (rm_rf_at(base_fd, "x") < 0)
                abort();
        return 0;
}
