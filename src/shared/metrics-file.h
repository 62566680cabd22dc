/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* oraivisor's metrics file in node-exporter's textfile folder (docs/metrics.md): <dir>/oraivisor-<instance>.prom,
 * rewritten on every metrics_file_write() and at least every minute by a timer of its own, always replaced
 * whole (written as ".#oraivisor-<instance>.prom.<random>", which the collector ignores since it reads only
 * *.prom, then renamed over it). The history (counters, last upgrade and backup) lives here and is read back
 * from the previous file at start, so that it survives a restart of oraivisor; the owner fills in the rest
 * (labels, gauges) through the refresh callback before every write. A failed write (full disk, read-only
 * folder) is logged once, with the path and the fix, and never reported to the caller: metrics must not
 * stop the node or an upgrade. */

#include <systemd/sd-event.h>

#include "metrics-format.h"

typedef struct MetricsFile MetricsFile;

/* Fills m's labels and gauges (not name, home or history, which the file owns). */
typedef void (*MetricsRefresh)(Metrics *m, void *userdata);

/* How often the file is rewritten when nothing changes (node-exporter sees its mtime: an alert on a stale
 * file tells that oraivisor itself is gone). */
#define METRICS_FILE_INTERVAL (60 * USEC_PER_SEC)

/* The folder metrics go to: dir, or node-exporter's default folder when dir is NULL and it exists; NULL
 * (metrics off) when off is set or the default folder does not exist. */
const char *metrics_file_dir(const char *dir, bool off);

/* The instance name the file and the name= label are made of: the instance of our own unit when we run as
 * a template's instance under systemd (own_unit, as sd_pid_get_unit() gives it), else DAEMON_NAME escaped
 * as a unit name instance (so it is a file name). */
int metrics_file_instance(const char *own_unit, const char *daemon_name, char **ret);

/* Opens dir (which must exist) for instance, reads the previous file back, and arms the timer; the first
 * write is the caller's. Returns 0 and *ret NULL (metrics off for this run, logged) when the previous file
 * names another DAEMON_HOME: two nodes of one host share the instance name. -ENOMEM or a failure of the
 * event loop (logged); an unreadable folder is not an error here, the first write reports it. */
int metrics_file_new(sd_event *e, const char *dir, const char *instance, const char *home, MetricsRefresh refresh,
        void *userdata, MetricsFile **ret);
MetricsFile *metrics_file_free(MetricsFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsFile *, metrics_file_free);

/* The history, for the owner to count in. NULL-safe (NULL: metrics are off, nothing to count). */
MetricsHistory *metrics_file_history(MetricsFile *f);

/* Refreshes and writes the file now. NULL-safe. */
void metrics_file_write(MetricsFile *f);

/* The file's path, for messages. */
const char *metrics_file_path(const MetricsFile *f);
