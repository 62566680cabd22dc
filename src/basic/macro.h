/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Compiler attributes, ownership helpers (_cleanup_, TAKE_PTR/TAKE_FD) and small arithmetic macros used
 * everywhere. libc only. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _unused_ __attribute__((__unused__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _noreturn_ __attribute__((__noreturn__))
#define _pure_ __attribute__((__pure__))
#define _const_ __attribute__((__const__))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))
#define _fallthrough_ __attribute__((__fallthrough__))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(x) (sizeof("" x "") - 1)

#define XCONCATENATE(x, y) x##y
#define CONCATENATE(x, y) XCONCATENATE(x, y)
#define UNIQ_T(x, uniq) CONCATENATE(__unique_prefix_, CONCATENATE(x, uniq))
#define UNIQ __COUNTER__

/* Unique local names so that nested uses do not shadow each other. */
#define __MAX(aq, a, bq, b)                                                                               \
        __extension__({                                                                                   \
                const __typeof__(a) UNIQ_T(A, aq) = (a);                                                  \
                const __typeof__(b) UNIQ_T(B, bq) = (b);                                                  \
                UNIQ_T(A, aq) > UNIQ_T(B, bq) ? UNIQ_T(A, aq) : UNIQ_T(B, bq);                            \
        })
#define MAX(a, b) __MAX(UNIQ, (a), UNIQ, (b))
#define __MIN(aq, a, bq, b)                                                                               \
        __extension__({                                                                                   \
                const __typeof__(a) UNIQ_T(A, aq) = (a);                                                  \
                const __typeof__(b) UNIQ_T(B, bq) = (b);                                                  \
                UNIQ_T(A, aq) < UNIQ_T(B, bq) ? UNIQ_T(A, aq) : UNIQ_T(B, bq);                            \
        })
#define MIN(a, b) __MIN(UNIQ, (a), UNIQ, (b))

#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))

/* Returns the value of the variable and resets it to the "no value" state: the hand-off of ownership. */
#define TAKE_GENERIC(var, type, nullvalue)                                                                \
        __extension__({                                                                                   \
                type *_pvar_ = &(var);                                                                    \
                type _var_ = *_pvar_;                                                                     \
                type _nullvalue_ = nullvalue;                                                             \
                *_pvar_ = _nullvalue_;                                                                    \
                _var_;                                                                                    \
        })
#define TAKE_PTR(p) TAKE_GENERIC(p, __typeof__(p), NULL)
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

#define free_and_replace(a, b)                                                                            \
        __extension__({                                                                                   \
                __typeof__(a) *_a = &(a);                                                                 \
                __typeof__(b) *_b = &(b);                                                                 \
                free(*_a);                                                                                \
                *_a = TAKE_PTR(*_b);                                                                      \
                0;                                                                                        \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Defines xyz_freep(Xyz **p) calling xyz_free(*p), for use with _cleanup_(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                          \
        static inline void func##p(type *p) {                                                             \
                if (*p)                                                                                   \
                        func(*p);                                                                         \
        }

/* n objects of size, or NULL (errno ENOMEM) when size * n does not fit in a size_t: a count from outside
 * input must never wrap around into a small buffer. */
static inline void *malloc_multiply(size_t size, size_t n) {
        if (size > 0 && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        return malloc(size * n);
}
static inline void *calloc_multiply(size_t size, size_t n) {
        if (size > 0 && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        return calloc(n ?: 1, size);
}
#define new(t, n) ((t *) malloc_multiply(sizeof(t), (n)))
#define new0(t, n) ((t *) calloc_multiply(sizeof(t), (n)))

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
static inline bool isempty(const char *s) {
        return !s || !s[0];
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline const char *strna(const char *s) {
        return s ?: "n/a";
}
