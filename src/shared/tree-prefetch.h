/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a folder tree's metadata into the cache ahead of a walk that needs it (the backup's clone path).
 *
 * A walk that opens its entries one after the other waits for each metadata block the cache lacks, one
 * read at a time; on a cold cache that is a quarter of a cloned backup. A few threads that list the same
 * tree and look at every stride-th entry (one per block of inodes is enough: a block holds dozens of
 * them) keep several reads in flight and run ahead of the walk, since they do a fraction of its work.
 * Purely a hint: it reads, never changes anything, and every failure just ends a thread's share. */

#include <stdbool.h>
#include <stdint.h>

typedef struct TreePrefetch TreePrefetch;

/* Starts n_threads threads that prefetch the tree below dirfd (borrowed: it is reopened). Returns NULL when
 * nothing could be started (no memory, no threads): the walk then reads what it needs itself. */
TreePrefetch *tree_prefetch_start(int dirfd, unsigned n_threads, unsigned stride);

/* Stops the threads at their next entry (finish: lets them look at all of their share first), frees
 * everything, and returns how many entries were looked at. NULL-safe. */
uint64_t tree_prefetch_stop(TreePrefetch *p, bool finish);
