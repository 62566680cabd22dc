/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names of the data-folder backups: "data-backup-<node>-<upgrade folder>-<UTC yyyymmddThhmmssZ>", one
 * folder per upgrade and instant (never one per day, which made upstream merge two upgrades' backups), the
 * ".partial-" name a backup is built under, parsing both back, and the choice of which backups to prune
 * for ORAIVISOR_BACKUP_KEEP. Only names of exactly this form are ever recognised, so nothing else in the
 * backup folder (which defaults to $DAEMON_HOME) is mistaken for a backup. Pure: no I/O, no clock.
 *
 * <node> ("oraid@5f3c9e21") tells apart the nodes that share one DAEMON_DATA_BACKUP_DIR: DAEMON_NAME
 * (escaped as upgrade folders are, cut to BACKUP_NODE_DAEMON_MAX bytes) for the reader, '@', and 8 hex
 * digits of a hash of the canonical DAEMON_HOME, which make it unique. Neither half can hold an '@', so the
 * first '@' ends the node. A node only ever removes or prunes backups that bear its own tag, and, in its
 * own home only, the untagged "data-backup-<upgrade folder>-<time>" ones that earlier versions made. */

#include "macro.h"
#include "time-util.h"

#define BACKUP_NAME_PREFIX "data-backup-"
#define BACKUP_PARTIAL_PREFIX ".partial-"
/* "-yyyymmddThhmmssZ" */
#define BACKUP_NAME_STAMP_LEN 17
/* The longest final name: its partial form must still fit in one file name (NAME_MAX). */
#define BACKUP_NAME_MAX (255 - STRLEN(BACKUP_PARTIAL_PREFIX))
/* The escaped DAEMON_NAME part of a node tag, at most; then '@' and BACKUP_NODE_HASH_LEN hex digits. */
#define BACKUP_NODE_DAEMON_MAX 32
#define BACKUP_NODE_HASH_LEN 8
#define BACKUP_NODE_MAX (BACKUP_NODE_DAEMON_MAX + 1 + BACKUP_NODE_HASH_LEN)

/* The node tag of the node named daemon_name (DAEMON_NAME) whose home is home (the canonical DAEMON_HOME,
 * resolved by the caller). -EINVAL for an empty daemon_name or a home that is not absolute. */
int backup_node_make(const char *daemon_name, const char *home, char **ret);
bool backup_node_is_valid(const char *node) _pure_;

/* Builds the name for the backup that node (from backup_node_make()) takes before upgrading to folder (an
 * upgrades/<folder> name), at realtime (CLOCK_REALTIME, in µs; seconds are kept, the rest dropped).
 * -EINVAL when node is not a valid node tag or folder not a valid upgrade folder name, -ERANGE for a time
 * outside years 1970–9999, -ENAMETOOLONG when the name (with its partial prefix) would not fit in a file
 * name. */
int backup_name_make(const char *node, const char *folder, usec_t realtime, char **ret);

/* Parses a final backup name, tagged or of the earlier untagged form. 0 and (each optional) the node tag
 * (NULL for an untagged name), the upgrade folder and the time in µs since the epoch; -EINVAL for anything
 * that is not exactly of either form (also for partial names). */
int backup_name_parse_full(const char *name, char **ret_node, char **ret_folder, usec_t *ret_time);
int backup_name_parse(const char *name, char **ret_folder, usec_t *ret_time);
bool backup_name_is_valid(const char *name) _pure_;
/* Whether name is a valid backup name of node: tagged with it, or untagged when legacy_ours (the backup
 * folder is the node's own home, where earlier versions put its untagged backups). */
bool backup_name_is_ours(const char *name, const char *node, bool legacy_ours) _pure_;

/* ".partial-<name>" for a valid final name. */
int backup_name_to_partial(const char *name, char **ret);
/* The final name inside a partial name (a pointer into partial), or NULL when partial is not the partial
 * form of a valid backup name. */
const char *backup_name_from_partial(const char *partial) _pure_;

/* From the folder entries names[0..n), chooses the backups of node (see backup_name_is_ours()) to remove so
 * that only its newest keep remain: entries that are not backups of node are ignored, and so are backups
 * of other upgrades when folder is not NULL. Newest means the latest time in the name (ties: the name's byte order). keep == 0 means
 * keep all. *ret is a NULL-terminated list of copies, oldest first (empty, never NULL, when nothing goes).
 */
int backup_prune_select(char *const *names, size_t n, const char *node, bool legacy_ours, const char *folder,
        unsigned keep, char ***ret);

/* "12.4 GiB", "512 B": a size for messages, into buf. */
const char *backup_format_bytes(char *buf, size_t len, uint64_t bytes);
#define BACKUP_FORMAT_BYTES_MAX 32
