/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names of the data-folder backups: "data-backup-<upgrade folder>-<UTC yyyymmddThhmmssZ>", one folder per
 * upgrade and instant (never one per day, which made upstream merge two upgrades' backups), the
 * ".partial-" name a backup is built under, parsing both back, and the choice of which backups to prune
 * for ORAIVISOR_BACKUP_KEEP. Only names of exactly this form are ever recognised, so nothing else in the
 * backup folder (which defaults to $DAEMON_HOME) is mistaken for a backup. Pure: no I/O, no clock. */

#include "macro.h"
#include "time-util.h"

#define BACKUP_NAME_PREFIX "data-backup-"
#define BACKUP_PARTIAL_PREFIX ".partial-"
/* "-yyyymmddThhmmssZ" */
#define BACKUP_NAME_STAMP_LEN 17
/* The longest final name: its partial form must still fit in one file name (NAME_MAX). */
#define BACKUP_NAME_MAX (255 - STRLEN(BACKUP_PARTIAL_PREFIX))

/* Builds the name for the backup taken before upgrading to folder (an upgrades/<folder> name), at realtime
 * (CLOCK_REALTIME, in µs; seconds are kept, the rest dropped). -EINVAL when folder is not a valid upgrade
 * folder name, -ERANGE for a time outside years 0000–9999, -ENAMETOOLONG when the name (with its partial
 * prefix) would not fit in a file name. */
int backup_name_make(const char *folder, usec_t realtime, char **ret);

/* Parses a final backup name. 0 and (each optional) the upgrade folder and the time in µs since the epoch;
 * -EINVAL for anything that is not exactly of that form (also for partial names). */
int backup_name_parse(const char *name, char **ret_folder, usec_t *ret_time);
bool backup_name_is_valid(const char *name) _pure_;

/* ".partial-<name>" for a valid final name. */
int backup_name_to_partial(const char *name, char **ret);
/* The final name inside a partial name (a pointer into partial), or NULL when partial is not the partial
 * form of a valid backup name. */
const char *backup_name_from_partial(const char *partial) _pure_;

/* From the folder entries names[0..n), chooses the backups to remove so that only the newest keep remain:
 * entries that are not valid backup names are ignored, and so are backups of other upgrades when folder
 * is not NULL. Newest means the latest time in the name (ties: the name's byte order). keep == 0 means
 * keep all. *ret is a NULL-terminated list of copies, oldest first (empty, never NULL, when nothing goes).
 */
int backup_prune_select(char *const *names, size_t n, const char *folder, unsigned keep, char ***ret);

/* "12.4 GiB", "512 B": a size for messages, into buf. */
const char *backup_format_bytes(char *buf, size_t len, uint64_t bytes);
#define BACKUP_FORMAT_BYTES_MAX 32
