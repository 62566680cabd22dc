/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between the parts of the unpacker (unpack.c: the parent's side and the keeper process; unpack-worker.c:
 * the sandboxed worker that writes the entries; unpack-finisher.c: the tree handed back). Not an API. */

#include <string.h>
#include <sys/types.h>

#include "macro.h"
#include "string-util.h"

/* Folders an entry may lie below: the finisher walks the tree with an fd per level. */
#define UNPACK_DEPTH_MAX 64

/* The finisher's work, in its child process (as oraivisor, once the worker exited): checks that every
 * entry below dir_fd is the worker's (worker_uid) and a file, folder or symlink, gives it our user, group
 * and archive_install_mode(), fsyncs it, and requires bin/<daemon_name>. On failure returns a negative
 * errno and, if ret_message is not NULL, one line naming the entry. */
int unpack_finish_tree(int dir_fd, uid_t worker_uid, const char *daemon_name, char **ret_message);

/* An entry's name as it may appear in a message (escaped, at most 200 bytes); NULL when out of memory. */
static inline char *unpack_quote(const char *s) {
        return string_escape_for_log(s, strlen(s), 200);
}
