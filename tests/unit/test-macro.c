/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <stdint.h>

#include "macro.h"

/* Not constants: the compiler must not see (and refuse) the sizes. */
static volatile size_t wraps_to_8 = SIZE_MAX / 8 + 2; /* * 8 == 2^64 + 8 */
static volatile size_t huge = SIZE_MAX;

Test(macro, new_refuses_a_count_that_overflows) {
        errno = 0;
        uint64_t *p = new(uint64_t, wraps_to_8);
        cr_assert_null(p, "new() allocated 8 bytes for 2^61 + 1 elements");
        cr_assert_eq(errno, ENOMEM);
        errno = 0;
        cr_assert_null(new(uint64_t, huge));
        cr_assert_eq(errno, ENOMEM);
}

Test(macro, new0_refuses_a_count_that_overflows) {
        errno = 0;
        cr_assert_null(new0(uint64_t, wraps_to_8));
        cr_assert_eq(errno, ENOMEM);
        cr_assert_null(new0(uint32_t, huge));
}

Test(macro, new_and_new0_allocate) {
        _cleanup_free_ uint64_t *p = new(uint64_t, 4), *q = new0(uint64_t, 4), *z = new0(uint64_t, 0);
        cr_assert_not_null(p);
        cr_assert_not_null(q);
        cr_assert_not_null(z, "new0(t, 0) allocates one element");
        for (size_t i = 0; i < 4; i++)
                cr_assert_eq(q[i], 0);
        p[3] = 1;
}
