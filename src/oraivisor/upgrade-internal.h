/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The upgrade engine's state, shared by its files: upgrade.c (the sequence, hooks, pre-upgrade, stopping,
 * the switch), upgrade-backup.c (the backup step) and upgrade-obtain.c (the version installed or
 * downloaded, its readiness, the install lock). Not for use outside the engine. */

#include "backup.h"
#include "child.h"
#include "lock.h"
#include "obtain.h"
#include "readiness.h"
#include "upgrade.h"

struct Upgrade {
        sd_event *event;
        const Config *config;
        Layout *layout;
        const Credentials *run_as;  /* the hooks' user, NULL: ours */
        UpgradeRecord *record;
        char *label;            /* "upgrade v2", for status lines */
        char *binary;           /* absolute path of upgrades/<folder>/bin/<daemon> */
        char *version_dir;      /* "upgrades/<folder>", relative to the root */
        bool binary_present;
        sd_event_source *delay;
        sd_event_source *defer;
        /* The install lock (lock.h), held from the obtain step to the switch, so that oraivisorctl never
         * writes the version being installed or switched to, and we never see one of its half-done
         * writes. */
        int install_lock_fd;
        sd_event_source *lock_timer;
        usec_t lock_wait_start; /* CLOCK_MONOTONIC; 0: not waiting */
        Child *child;
        unsigned hook_index;
        unsigned preupgrade_attempt;
        Backup *backup;
        Obtain *obtain;
        Readiness *readiness;   /* the check of the new version before anything else runs it */
        char *node_unit;        /* the node's unit (unit launcher): the check runs in one like it */
        UpgradeDone done;
        void *userdata;
        /* upgrade_stop(): */
        UpgradeStopped stopped;
        const char *hook_what;  /* the running hook, for the record: "the pre-upgrade command" */
        sd_event_source *stop_timer;
        sd_event_source *stop_defer;
        usec_t stop_grace;
        usec_t stop_asked;      /* CLOCK_MONOTONIC */
        bool stop_killed;
        /* For the metrics: */
        UpgradeStepBegun step_begun;
        usec_t backup_started;  /* CLOCK_MONOTONIC */
        bool backup_made;
        uint64_t backup_bytes;
        usec_t backup_duration;
};

/* Ends the upgrade: logs the failure (error, a printf message), calls done with exit_status. */
void upgrade_finish(Upgrade *u, int error, int exit_status, const char *format, ...) _printf_(4, 5);
/* The next step, through the loop. */
void upgrade_step_next(Upgrade *u);
/* Runs the current step (after the install lock when it needs it). */
void upgrade_step_dispatch(Upgrade *u);
int upgrade_save_record(Upgrade *u);

void upgrade_step_backup(Upgrade *u);
int upgrade_check_binary(Upgrade *u);
void upgrade_step_obtain(Upgrade *u);
/* 1 held, 0 waiting (upgrade_step_dispatch() is called again once it is), <0 failed (finished). */
int upgrade_install_lock_take(Upgrade *u);
