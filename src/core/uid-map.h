/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /proc/self/uid_map and gid_map: which ids exist in the user namespace oraivisor runs in. Outside a
 * container the map is the whole range; in a rootless container only what its runtime mapped (often
 * 0–65535, or only 0). Pure: the file's text in, a verdict out. */

#include <stdint.h>

/* Whether every id of [first, first + count) is mapped (the union of the map's inside ranges). Returns 1
 * or 0, -EINVAL for text that is not an id map. */
int uid_map_covers(const char *text, uint64_t first, uint64_t count);
