/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* $DAEMON_HOME/oraivisor: genesis/bin/$DAEMON_NAME, upgrades/<folder>/bin/$DAEMON_NAME and `current`, a
 * relative symlink to genesis or upgrades/<folder>. Everything goes through directory fds opened once, and
 * `current` only ever changes by renaming a complete new symlink over it, so a crash at any instant leaves
 * it pointing to the old or the new version. A broken `current` is never repaired silently: falling back
 * to genesis would run the old binary on upgraded data. Functions log their errors (naming the path and
 * the repair) and return a negative errno. */

#include "macro.h"
#include "plan.h"

typedef struct Layout {
        char *home;        /* DAEMON_HOME */
        char *root;        /* $DAEMON_HOME/oraivisor */
        char *daemon_name; /* DAEMON_NAME */
        int home_fd;
        int root_fd;
} Layout;

/* What `current` points to. */
typedef struct CurrentVersion {
        char *target;       /* the link's target as written: "genesis" or "upgrades/<folder>" */
        char *folder;       /* the upgrade folder, NULL for genesis */
        char *dir;          /* absolute path of the version folder */
        char *binary;       /* absolute path of its bin/$DAEMON_NAME */
        char *lib_dir;      /* absolute path of its lib/ when that exists, else NULL */
        UpgradePlan *plan;  /* the plan recorded in upgrades/<folder>/upgrade-info.json, if any */
} CurrentVersion;

void current_version_done(CurrentVersion *v);
/* "genesis" or the upgrade's name (decoded from the folder). Caller frees. */
char *current_version_label(const CurrentVersion *v);

/* Opens DAEMON_HOME and $DAEMON_HOME/oraivisor (both must exist and be folders). */
int layout_open(const char *home, const char *daemon_name, Layout **ret);
Layout *layout_free(Layout *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Layout *, layout_free);

/* Removes temporary links left by an interrupted switch. */
int layout_cleanup_stale(Layout *l);

/* First start: creates current -> genesis when there is no `current` at all (genesis/bin/$DAEMON_NAME
 * must be installed). Leaves an existing `current` alone, whatever it is. Returns 1 if it created it. */
int layout_ensure_current(Layout *l);

/* Reads and checks `current`: a symlink, to genesis or to one folder under upgrades/ (a relative target,
 * or an absolute one inside the tree as the original oraivisor wrote), that exists and holds an
 * executable bin/$DAEMON_NAME. Returns -ENOLINK (with a logged explanation) when `current` needs repair,
 * -ENOEXEC when its binary is missing or not executable. */
int layout_read_current(Layout *l, CurrentVersion *ret);

/* What `current` names, as layout_read_current() reduces it, without checking that version: 1 and
 * "genesis" or "upgrades/<folder>" (*ret_folder, if not NULL, the folder or NULL for genesis), 0 when there
 * is no `current`, -ENOLINK when it is not a symlink into
 * genesis/ or upgrades/<folder>. Does not log; for "is this the current version" questions. */
int layout_current_target(Layout *l, char **ret_target, char **ret_folder);

/* Finds the folder of an upgrade under upgrades/: the percent-encoded name, else its lower-cased form
 * (folders prepared for cosmovisor). Returns 1 and the folder found, 0 and the encoded folder name when
 * neither exists, -EINVAL/-ENAMETOOLONG for a name that cannot be a folder (logged). */
int layout_find_upgrade(Layout *l, const char *name, char **ret_folder);

/* Checks <dir>/bin/$DAEMON_NAME below the tree: 0 if it is an executable regular file (symlinks inside
 * the version folder are fine), -ENOENT missing, -EACCES not executable, -EISDIR/-EBADFD not a file.
 * Does not log. *ret_path gets its absolute path either way. */
/* The one rule of "this version is installed": <dirfd>/<version_rel>/bin/<daemon_name>, resolved below
 * dirfd (symlinks inside are fine), is a regular file that may be executed. 0, or -ENOENT missing,
 * -EACCES not executable, -EISDIR/-EBADFD not a file (or outside the tree). Does not log. */
int version_binary_check_at(int dirfd, const char *version_rel, const char *daemon_name);
int layout_check_binary(Layout *l, const char *version_dir_rel, char **ret_path);
/* "is missing", "is not executable", … for an error of version_binary_check_at(). */
const char *version_binary_problem(int r) _const_;


/* Fault injection for tests: called before each step of a switch; a nonzero return stops the switch
 * there, as if the machine had lost power (nothing is cleaned up). */
typedef int (*LayoutFaultHook)(unsigned step, void *userdata);

/* Points `current` at target ("genesis" or "upgrades/<folder>"): a new relative symlink under a
 * temporary name, renameat() over `current`, fsync of the folder. */
int layout_switch(Layout *l, const char *target, LayoutFaultHook fault, void *userdata);

/* Records the plan that activated upgrades/<folder> in its upgrade-info.json (atomic write). */
int layout_record_plan(Layout *l, const char *folder, const UpgradePlan *plan);

/* Reads data/upgrade-info.json. Returns 1 and the plan, 0 when there is none, or a negative errno. A
 * malformed (or empty, or half-written) file returns -EBADMSG and *ret_reason without logging: the node
 * may be rewriting it, and only the caller knows whether that is an error yet. I/O errors are logged. */
int layout_read_plan_file(Layout *l, UpgradePlan **ret, const char **ret_reason);
