/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The second plan source: $DAEMON_HOME/data/upgrade-info.json, which x/upgrade writes just before it logs
 * the announcement and halts. Watched with inotify (sd_event_add_inotify) on the data folder (or on
 * DAEMON_HOME until data/ exists, and again if data/ is replaced); polled every DAEMON_POLL_INTERVAL where
 * inotify cannot be used. Reports each new content of the file once, as a parsed plan. */

#include <systemd/sd-event.h>

#include "plan.h"
#include "time-util.h"

typedef struct PlanWatch PlanWatch;

/* plan is only valid during the call. */
typedef void (*PlanWatchCallback)(PlanWatch *w, const UpgradePlan *plan, void *userdata);

/* home: DAEMON_HOME. The content present at creation is taken as seen (the supervisor checks it at
 * start-up by itself). */
int plan_watch_new(sd_event *e, const char *home, usec_t poll_interval, PlanWatchCallback cb, void *userdata,
        PlanWatch **ret);
PlanWatch *plan_watch_free(PlanWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(PlanWatch *, plan_watch_free);
