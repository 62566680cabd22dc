/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What init, add-upgrade and remove-upgrade share: the install lock, the rules that keep their writes away
 * from what oraivisor is doing, and installing a version folder from a file (shared/version-install.h).
 *
 * The rules (docs/oraivisorctl.md, "Installing and removing versions"):
 * - every write holds the install lock; busy after INSTALL_LOCK_TIMEOUT: exit 75, naming the upgrade and
 *   its step (upgrade-in-progress.json) or the lock's holder;
 * - the version `current` points to is never removed, and replaced (--force) only while neither oraivisor
 *   (or its daemon) runs nor an upgrade is recorded;
 * - the target of a recorded upgrade is neither removed nor replaced (75 while oraivisor runs, 1 when the
 *   upgrade was interrupted: starting oraivisor finishes it); installing it when it is missing is fine,
 *   that is what the interrupted upgrade waits for. */

#include "oraivisorctl.h"
#include "height-schedule.h"
#include "known-height.h"
#include "record.h"

typedef struct CtlInstall {
        Layout *layout;
        int lock_fd;
        UpgradeRecord *record; /* upgrade-in-progress.json, NULL when none */
        bool running;          /* oraivisor, or the daemon it started, holds the home's .lock */
        int current;           /* layout_current_target(): 1 current exists, 0 none, <0 unreadable */
        char *current_target;  /* "genesis" or "upgrades/<folder>" */
        char *current_folder;
} CtlInstall;

/* Opens the layout (with create_root: creates $DAEMON_HOME/oraivisor first), takes the install lock as
 * "oraivisorctl <what>", reads the state above. Returns a CtlExit, having printed the error. */
int ctl_install_begin(Ctl *ctl, const char *what, bool create_root, CtlInstall *ret);
void ctl_install_done(CtlInstall *i);

/* One upgrade NAME as typed by the operator, for add-upgrade and remove-upgrade. */
typedef struct CtlUpgradeRef {
        char *shown;  /* NAME escaped for the terminal */
        char *label;  /* "upgrade 'NAME'" (capital: "Upgrade 'NAME'") */
        char *folder; /* its folder under upgrades/ (existing, else the percent-encoded name) */
        char *rel;    /* "upgrades/<folder>" */
        bool found;   /* the folder exists */
} CtlUpgradeRef;

void ctl_upgrade_ref_done(CtlUpgradeRef *u);

/* The common start of a command on one upgrade: NAME checked as an operator may type it, the install lock
 * taken for "VERB NAME" (into *i), the upgrade's folder found; the label names it in messages (capital: it starts them). Returns CTL_EXIT_OK or the status to exit
 * with (the error said). */
int ctl_upgrade_begin(Ctl *ctl, const char *verb, const char *name, bool capital, CtlInstall *i, CtlUpgradeRef *ret);

typedef enum CtlVersionChange {
        CTL_VERSION_REPLACE,
        CTL_VERSION_REMOVE,
} CtlVersionChange;

/* Whether the version rel ("genesis" or "upgrades/<folder>") may be replaced or removed now (state read
 * again). CTL_EXIT_OK, or the printed refusal's status. label: "genesis", "upgrade 'v2'". */
int ctl_version_check_change(CtlInstall *i, const char *rel, const char *label, CtlVersionChange change);

/* Installs the file at path (a binary or an archive, by content) as parent_fd/folder ("genesis" below
 * oraivisor/, or <folder> below upgrades/; rel is its path below oraivisor/), with --force replacing a
 * different installed version. Same binary already installed: says so, CTL_EXIT_OK. Prints what it did;
 * returns a CtlExit. */
int ctl_version_install(Ctl *ctl, CtlInstall *i, const char *path, int parent_fd, const char *folder,
        const char *rel, const char *label);

/* The name escaped for the terminal (caller frees; NULL on OOM). */
char *ctl_escape(const char *s);

/* Upgrades at a height (shared/height-schedule-file.h), for add-upgrade --height, add-batch-upgrade and
 * remove-upgrade; all under the install lock i holds. */

/* The node's height as known without asking it (shared/known-height.h: the chain watcher's chain-state.json,
 * the validator's priv_validator_state.json, the last height oraivisor saw in the node's output); a damaged
 * source gets a warning and is ignored. */
void ctl_known_height(CtlInstall *i, KnownHeight *ret);
/* Refuses (a printed error, its CtlExit) a height the node has passed (height <= the known height), else
 * CTL_EXIT_OK. */
int ctl_schedule_check_height(CtlInstall *i, const char *shown, int64_t height, const KnownHeight *known);
/* Warns when the chain's governance plan (chain-state.json) is at or below height: it supersedes the schedule. */
void ctl_schedule_warn_governance(CtlInstall *i, const char *shown, int64_t height);
/* Loads the schedule: CTL_EXIT_OK, or the printed error's status (a damaged file names itself and the fix). */
int ctl_schedule_load(CtlInstall *i, HeightSchedule *ret);
int ctl_schedule_save(CtlInstall *i, const HeightSchedule *s);
/* Adds name at height to the loaded schedule s and saves it; says what was scheduled. */
int ctl_schedule_add(CtlInstall *i, HeightSchedule *s, const char *name, const char *shown, int64_t height);
