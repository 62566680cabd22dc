/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The text of a systemd EnvironmentFile= (an /etc/oraivisor/<instance>.conf), read the way systemd reads
 * it for the unit, so that oraivisorctl -i <instance> sees the same variables as oraivisor under the
 * unit: KEY=VALUE lines; blank lines and lines starting with '#' or ';' are comments; whitespace around
 * the key and before the value is dropped; a value may be "double quoted" (backslash escapes \" \\ \` \$
 * and a line continuation) or 'single quoted' (literal); an unquoted value loses its trailing whitespace
 * and a backslash escapes the next character or, at the end of a line, continues the value on the next
 * line. Like systemd, a line that is not an assignment is skipped; here it also produces a warning that
 * names the line. Pure: a string in, an environment block out. */

#include <stddef.h>

/* Parses text (len bytes, NUL bytes refused) into *ret_env, a NULL-terminated "KEY=VALUE" list in file
 * order where a later assignment of a key replaces the earlier one. Warnings ("line N: …") are appended
 * to *ret_warnings. Returns 0, -EINVAL for text holding a NUL byte or an unterminated quote (with
 * *ret_error set to one line naming the line), -ENOMEM. */
int env_file_parse(const char *text, size_t len, char ***ret_env, char ***ret_warnings, char **ret_error);
