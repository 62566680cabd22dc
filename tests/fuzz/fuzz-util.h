/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers of the fuzz targets: CHECK() aborts (so libFuzzer and the corpus replay report it) with the
 * property that failed; fuzz_strndup() turns the input into a C string. */

#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "string-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                            \
        do {                                                                                                \
                if (!(x)) {                                                                                 \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);               \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)

/* The input as a string, cut at its first NUL (the parsers under test take C strings). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        CHECK(s);
        return s;
}

/* Whether s is one safe path component: not empty, ".", "..", no '/', no NUL (it is a string), at most
 * max bytes. */
static inline bool fuzz_is_component(const char *s, size_t max) {
        return s && s[0] && !streq(s, ".") && !streq(s, "..") && !strchr(s, '/') && strlen(s) <= max;
}
