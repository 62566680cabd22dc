/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* String helpers over NUL-terminated strings and (pointer, length) buffers. Pure, libc only. */

#include "macro.h"

/* Returns a pointer behind the prefix, or NULL. */
char *startswith(const char *s, const char *prefix) _pure_;
char *endswith(const char *s, const char *suffix) _pure_;
/* If the absolute path is the absolute folder dir or lies below it, the rest of path after dir (and its
 * slashes), else NULL. Repeated slashes count as one; a ".." in the rest, which could lead out of dir,
 * counts as not below. No symlinks are resolved. */
const char *path_startswith_dir(const char *path, const char *dir) _pure_;
/* Finds needle in a buffer that is not NUL-terminated. */
const char *memmem_str(const char *haystack, size_t len, const char *needle) _pure_;

char *ascii_strlower(char *s);
/* Whether every byte is printable ASCII (0x20..0x7e). */
bool ascii_is_valid(const char *s) _pure_;

/* Trims spaces, tabs, CR and LF at the end, in place. */
char *strip_trailing_whitespace(char *s);
/* The length of buf without its trailing whitespace. */
size_t trim_trailing_whitespace_len(const char *buf, size_t len) _pure_;

/* Appends to *s (which may be NULL) a formatted string. */
int strextendf(char **s, const char *format, ...) _printf_(2, 3);

/* Copies at most n bytes into a fresh NUL-terminated string. */
char *strndup_or_null(const char *s, size_t n);

/* Levenshtein distance of two ASCII strings, case-insensitive. */
size_t string_distance(const char *a, const char *b) _pure_;

/* A copy of s with every '$' doubled: systemd expands $VAR and ${VAR} in a command's arguments at exec time,
 * and "$$" is its literal '$'. NULL when out of memory. */
char *strdup_escape_dollar(const char *s);

/* Quote a string for a one-line message: non-printable bytes as \xNN, at most max bytes shown. */
char *string_escape_for_log(const char *s, size_t len, size_t max);

int hexchar(int x) _const_;
int unhexchar(char c) _const_;
/* Lower-case hex of a byte buffer. */
char *hexmem(const void *p, size_t l);
/* Parses hex (either case) into bytes; -EINVAL for odd length or a bad digit. */
int unhexmem(const char *s, size_t l, void **ret, size_t *ret_len);
