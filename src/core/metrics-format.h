/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The metrics file for node-exporter's textfile collector (docs/metrics.md): the values in a Metrics
 * struct in, the Prometheus text exposition format out (metrics_format()); and the history part back
 * from a file written earlier (metrics_parse()), so that counters survive a restart of oraivisor. Pure.
 *
 * Every sample carries the label name="<instance>": the collector merges the files of all instances on a
 * host, and two samples with the same name and labels would fail the whole collector. Label values are
 * escaped (backslash, double quote, newline) and made valid UTF-8 (an invalid byte becomes U+FFFD), since
 * upgrade names and paths are arbitrary bytes and one invalid value makes the collector drop the file.
 *
 * The scheduled upgrades' metrics (oraivisor_chain_height, oraivisor_scheduled_upgrade_height{upgrade,source},
 * oraivisor_scheduled_upgrade_binary_ready{upgrade,source}) are written only while they are known: no chain
 * height before the node's RPC was read, no sample for an upgrade that is not scheduled. The source is
 * "governance" (the chain watcher's plan) or "height" (scheduled-upgrades.json). "Ready" is the binary
 * installed *and* passing the readiness check of shared/readiness.h (it loads and runs on this host), as
 * oraivisor last ran it (src/oraivisor/ready-watch.c).
 */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "record.h"
#include "time-util.h"

typedef enum MetricsResult {
        METRICS_RESULT_SUCCESS,
        METRICS_RESULT_FAILURE,
        _METRICS_RESULT_MAX,
        _METRICS_RESULT_INVALID = -EINVAL,
} MetricsResult;

const char *metrics_result_to_string(MetricsResult r) _const_;
MetricsResult metrics_result_from_string(const char *s) _pure_;

/* What is carried over from one run of oraivisor to the next (through the file itself). */
typedef struct MetricsHistory {
        uint64_t daemon_starts;                  /* times oraivisor started the daemon (adoptions are not) */
        uint64_t upgrades[_METRICS_RESULT_MAX];  /* upgrades that ended, by result */
        usec_t last_upgrade_usec;                /* CLOCK_REALTIME of the last successful switch; 0: none */
        usec_t last_upgrade_duration;            /* from its start (first attempt) to the switch */
        bool have_backup;
        uint64_t last_backup_bytes;              /* apparent size of the files copied; 0 for a snapshot */
        usec_t last_backup_duration;
} MetricsHistory;

/* An upgrade scheduled at a height: the chain watcher's plan, or one of scheduled-upgrades.json. */
typedef struct MetricsScheduled {
        const char *upgrade;    /* its name, borrowed */
        const char *source;     /* "governance" or "height", borrowed */
        int64_t height;
        bool binary_ready;      /* installed and it passed the readiness check */
} MetricsScheduled;

typedef struct Metrics {
        /* Labels, borrowed. name and home must be set; the others may be NULL (written as ""). */
        const char *name;       /* the instance: unique on the host, in every sample */
        const char *daemon;     /* DAEMON_NAME */
        const char *home;       /* DAEMON_HOME: tells which node a file belongs to */
        const char *current;    /* what `current` runs: "genesis" or the upgrade's name */
        const char *version;    /* oraivisor's own version */
        bool daemon_up;
        UpgradeStep upgrade_step; /* the step of the upgrade under way; _UPGRADE_STEP_INVALID: none */
        MetricsHistory history;
        /* The chain watcher: chain_height 0 = not known (the watcher is off, or the node not read yet). */
        int64_t chain_height;
        const MetricsScheduled *scheduled; /* borrowed; the first of a name wins */
        size_t n_scheduled;
} Metrics;

#define METRICS_INIT { .upgrade_step = _UPGRADE_STEP_INVALID }

/* The file's content. -ENOMEM only. */
int metrics_format(const Metrics *m, char **ret);

/* A label value as metrics_format() writes it, before escaping: invalid UTF-8 replaced by U+FFFD. */
int metrics_label_sanitize(const char *s, char **ret);

/* Reads the history back from a file metrics_format() wrote (lines of other metrics, comments and blank
 * lines are skipped; the last sample of a metric counts). *ret_home: the home label of oraivisor_info,
 * NULL when there is none. -EBADMSG with *ret_reason (a static phrase) when a line of ours cannot be
 * read; nothing is written to ret* then. */
int metrics_parse(const char *text, size_t len, MetricsHistory *ret, char **ret_home, const char **ret_reason);
