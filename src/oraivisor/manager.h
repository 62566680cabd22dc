/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The supervisor: owns the event loop and everything on it (launcher, plan watch, upgrade engine, signal
 * sources), and drives the daemon through its life: start-up checks (an interrupted upgrade to resume, a
 * plan that became due while oraivisor was down), launch or adoption, watching for plans, stopping the
 * daemon for an upgrade, running the engine, relaunching. Plans from every source go through one
 * idempotent entry point, so an announcement seen in the log and in upgrade-info.json upgrades once. */

#include "config.h"

typedef struct Manager Manager;

/* args: the daemon's arguments (everything oraivisor was given). The config is borrowed. */
int manager_new(const Config *config, char *const *args, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Runs until oraivisor must exit; returns the exit status (see src/core/exit-status.h and README). */
int manager_run(Manager *m);
