/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The readiness of every known future plan, followed by oraivisor (issue 17; docs/chain-watch.md): the
 * chain watcher's plan (chain-state.json) and the upgrades scheduled at a height (scheduled-upgrades.json).
 * For each whose binary is installed, the readiness check of shared/readiness.h is run on the event loop,
 * one at a time, never while an upgrade is carried out (a check under way is stopped then), and stopped
 * with the watcher at exit. When (core/ready-track.h decides): at start; when the chain watcher learns or
 * stages a plan; when the schedule file changes; when a folder appears, goes or is renamed under
 * upgrades/ (inotify: the ctl's add-upgrade and prepare-upgrade publish by rename there); every
 * ORAIVISOR_CHAIN_POLL_INTERVAL a stat() of each binary and lib/ folder, for what the watch does not see
 * (a binary copied over in place): a check when it changed; and once more when the height is within the
 * hour, changed or not (the host may have changed: a library removed).
 *
 * A change of the result is a journal event (EVENT_SCHEDULED_NOT_READY, EVENT_SCHEDULED_READY); the
 * result of a governance plan goes to the chain watcher (chain-state.json, its warnings, STATUS=); the
 * metrics read both. */

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "chain-state.h"
#include "chain-watch.h"
#include "config.h"
#include "credentials.h"
#include "layout.h"
#include "ready-track.h"

typedef struct ReadyWatch ReadyWatch;

/* A result changed (for STATUS= and the metrics). */
typedef void (*ReadyWatchChanged)(ReadyWatch *rw, void *userdata);

typedef struct ReadyPlan {
        ScheduledSource source;
        char *name;
        int64_t height;
        ReadyTrack track;
        bool pending; /* a check is due */
        ReadyTrigger trigger; /* on behalf of which trigger */
        bool seen; /* still known at the last look */
} ReadyPlan;

/* config, layout, credentials and current are borrowed and must outlive the watcher (the Manager's). The
 * first look is made once the loop runs. */
int ready_watch_new(sd_event *e, const Config *c, Layout *l, const Credentials *credentials,
        const CurrentVersion *current, ReadyWatchChanged changed, void *userdata, ReadyWatch **ret);
ReadyWatch *ready_watch_free(ReadyWatch *rw);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReadyWatch *, ready_watch_free);

/* Under the unit launcher: the node's unit, so that each check runs in a transient unit made like it
 * (readiness.h), as the check before the switch does. NULL: as children of ours. 0 or -ENOMEM. */
int ready_watch_set_node_unit(ReadyWatch *rw, const char *unit);

/* The chain watcher whose plans are followed (borrowed; NULL: none). NULL-safe. */
void ready_watch_set_chain(ReadyWatch *rw, ChainWatch *cw);
/* Something may have changed: a look soon (coalesced, on the loop). NULL-safe. */
void ready_watch_look(ReadyWatch *rw);
/* An upgrade is being carried out (on: a check under way is stopped, none is started) or is over (off: a
 * look). NULL-safe. */
void ready_watch_set_upgrading(ReadyWatch *rw, bool on);

/* The plans known at the last look. */
const ReadyPlan *ready_watch_plans(const ReadyWatch *rw, size_t *ret_n);
/* For STATUS=: the nearest upgrade scheduled at a height (source "height"), "upgrade s2 at height 25 (no
 * governance), binary ready" (or "binary not ready: <reason>", "binary installed, not checked yet",
 * "binary missing"). 0 and NULL when there is none; -ENOMEM. */
int ready_watch_describe_height(const ReadyWatch *rw, char **ret);
