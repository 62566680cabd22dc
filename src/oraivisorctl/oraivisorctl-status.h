/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* oraivisorctl status, in two files: oraivisorctl-status.c gathers what it shows (the Status below) and
 * judges it; oraivisorctl-status-print.c writes it, for people and as JSON (docs/oraivisorctl.md). */

#include <json-c/json.h>

#include "backup-list.h"
#include "chain-state.h"
#include "height-schedule.h"
#include "oraivisorctl-versions.h"
#include "oraivisorctl.h"
#include "proc-stat.h"
#include "upgrade-record.h"

typedef struct Proc {
        bool running;
        pid_t pid; /* 0 when unknown */
        usec_t since; /* CLOCK_REALTIME, 0 when unknown */
} Proc;

typedef struct Scheduled {
        UpgradePlan *plan;
        char *folder;
        int ready; /* 1 ready, 0 missing, <0 the name cannot be a folder */
        bool downloadable; /* the info names a binary for this machine and downloads are allowed */
        char *not_ready; /* installed, but the readiness check failed: why */
} Scheduled;

/* An upgrade at a height (scheduled-upgrades.json): its folder and whether its binary starts here. */
typedef struct HeightState {
        char *folder;
        int ready; /* 1 installed, 0 missing, <0 the name cannot be a folder */
        char *not_ready; /* installed, but the readiness check failed: why */
} HeightState;

/* The chain watcher's oraivisor/chain-state.json: the chain, and the plan approved on chain. */
typedef struct ChainView {
        bool loaded;
        ChainState state;
        usec_t now; /* CLOCK_REALTIME, when it was read */
        bool stale; /* oraivisor runs, the RPC answered, yet the file is not rewritten at each poll */
        const ScheduledUpgrade *plan; /* the chain's plan still to come, when data/upgrade-info.json does not name it */
        const ScheduledUpgrade *also; /* the chain's plan when data/upgrade-info.json names it too (shown once) */
        char *folder;
        int ready; /* 1 installed, 0 missing, <0 the name cannot be a folder */
        bool downloadable; /* the info names a binary for this machine and downloads are allowed */
        bool preparable; /* the info names a binary for this machine (prepare-upgrade can fetch it) */
        char *not_ready; /* installed, but the readiness check failed: why */
} ChainView;

/* The file is rewritten at each poll while the RPC answers: older than this many poll intervals, plus the
 * time a slow poll may take (each request is bounded to 15 s), while oraivisor runs: the watcher is stuck. */
#define CHAIN_STALE_POLLS 3
#define CHAIN_STALE_SLACK (60 * USEC_PER_SEC)

typedef struct Status {
        Layout *layout;
        CtlVersions versions;
        int current_ready; /* the current binary starts on this host: 1, 0 (current_not_ready), -1 unknown */
        char *current_not_ready;
        char *not_checked; /* why no binary could be checked (DAEMON_USER needs root), or NULL */
        bool unit_mode;
        char *daemon_unit;
        char *daemon_active_state; /* unit mode */
        Proc daemon, oraivisor;
        UpgradeRecord *record;
        LastUpgrade *last;
        Scheduled scheduled; /* data/upgrade-info.json, when it is not the current version's */
        bool have_scheduled;
        HeightSchedule heights; /* scheduled-upgrades.json: upgrades at a height without governance */
        HeightState *height_states; /* one per heights.entries */
        ChainView chain;
        bool holders_hidden; /* the lock is held, by processes we may not look into */
        BackupList backups;
        char **warnings;
} Status;

char *status_esc(const char *s);
const char *status_chain_when(const ChainView *c, const ScheduledUpgrade *u, char *buf, size_t len);
int status_print_json(Ctl *ctl, Status *s);
int status_print_human(Ctl *ctl, Status *s, bool ok);
