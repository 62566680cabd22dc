/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What oraivisor reads from the daemon's own arguments (it takes none of its own): the heights given to
 * --unsafe-skip-upgrades, whose plans must not be acted on, as the SDK's upgrade module skips them. The
 * arguments are passed to the daemon unchanged. Pure. */

#include "macro.h"

/* Collects the heights of "--unsafe-skip-upgrades H1 H2 …" (also "--unsafe-skip-upgrades=H1,H2", where
 * an empty value is the empty list, "H1,H2" after the flag, and "-unsafe-skip-upgrades"); the list ends
 * at the next argument that starts with '-', the flag may be repeated, "--" ends the scan. Heights are
 * positive decimal integers. Returns 0 (*ret is NULL when there are none), or -EINVAL with *ret_bad
 * pointing to the malformed argument. */
int args_skip_heights(char *const *argv, int64_t **ret, size_t *ret_n, const char **ret_bad);

bool skip_heights_contain(const int64_t *h, size_t n, int64_t height) _pure_;
