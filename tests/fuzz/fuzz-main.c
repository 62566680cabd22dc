/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A main() for fuzz targets built without libFuzzer: runs LLVMFuzzerTestOneInput() over every file of
 * the folders (or files) given, so that `meson test` replays each target's corpus in every build,
 * including the sanitizer one. */

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dfd, const char *name, const char *shown) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file_at(dfd, name, 64U << 20, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "Failed to read '%s': %s\n", shown, strerror(-r));
                return r;
        }
        (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;
        int ret = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "Failed to stat '%s': %m\n", argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(AT_FDCWD, argv[i], argv[i]) < 0)
                                ret = 1;
                        n++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                if (!d) {
                        fprintf(stderr, "Failed to open '%s': %m\n", argv[i]);
                        return 1;
                }
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        if (run_file(dirfd(d), de->d_name, de->d_name) < 0)
                                ret = 1;
                        n++;
                }
                closedir(d);
        }
        if (n == 0) {
                fprintf(stderr, "No corpus files found: a fuzz target without a corpus tests nothing.\n");
                return 1;
        }
        printf("%u inputs replayed\n", n);
        return ret;
}
