/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One line of /proc/<pid>/maps, parsed without allocating: "START-END PERMS OFFSET DEV INODE   PATH".
 * Used to find the journal files sd-journal maps into us (see journal-follow.c). */

#include <stdint.h>

#include "macro.h"

typedef struct ProcMapsEntry {
        uintptr_t start, end;
        char perms[5];       /* "r--s": read, write, execute, shared ('s') or private ('p') */
        const char *path;    /* into the line, not NUL-terminated; NULL for an anonymous mapping */
        size_t path_len;     /* without a trailing " (deleted)" and the newline */
        bool deleted;        /* the file was removed (journald vacuumed it) */
} ProcMapsEntry;

/* -EINVAL for a line that does not have that shape. */
int proc_maps_parse_line(const char *line, ProcMapsEntry *ret);

/* A read-only shared mapping of a journal file (*.journal, or *.journal~ for one journald set aside):
 * dropping its pages from our page tables loses nothing, the next access maps them again from the page
 * cache. */
bool proc_maps_entry_is_journal_file(const ProcMapsEntry *e) _pure_;
