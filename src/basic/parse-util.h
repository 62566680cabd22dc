/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Strict parsers for configuration values: the whole string must be consumed, no sign surprises, no
 * silent overflow. Each returns 0 or a negative errno (-EINVAL malformed, -ERANGE out of range). */

#include "macro.h"
#include "time-util.h"

/* true/false/1/0/yes/no/on/off, any case. Returns 1 or 0, or -EINVAL. */
int parse_boolean(const char *s);
/* Decimal unsigned integer, no sign, no leading/trailing junk. */
int parse_uint64(const char *s, uint64_t *ret);
int parse_int64(const char *s, int64_t *ret);
int parse_unsigned(const char *s, unsigned *ret);
/* "500ms", "30s", "2m"/"2min", "1h", "1.5s", "us"; a bare number is seconds. Sums like "1m30s" too. */
int parse_duration(const char *s, usec_t *ret);
/* Bytes: "4096", "512K", "16M", "4G", "1T" (powers of 1024; "KiB"/"MiB"/... and a trailing "B" too). */
int parse_size(const char *s, uint64_t *ret);
