/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the inspecting commands (list, version, status, show-upgrade-info) share: the installed versions
 * as the layout defines them, a binary's digest, `<binary> version` run as the node would run it, a plan
 * as JSON with its info decoded, and "is this plan's binary installed" (the one rule of shared/layout.h). */

#include "credentials.h"
#include "oraivisorctl.h"

typedef struct CtlVersion {
        char *name; /* "genesis", or the upgrade's name decoded from its folder (NULL when it does not
                       decode) */
        char *folder; /* the folder under upgrades/, NULL for genesis */
        char *rel; /* "genesis" or "upgrades/<folder>" */
        char *binary; /* absolute path of bin/$DAEMON_NAME */
        char *lib_dir; /* absolute path of its lib/ when that is a folder, else NULL */
        bool current;
        int binary_error; /* 0 when installed (version_binary_check_at()), else its negative errno */
        UpgradePlan *plan; /* upgrades/<folder>/upgrade-info.json, the plan that activated it */
        int plan_error; /* reading it: 0 (also when absent), -EBADMSG with plan_reason, another errno */
        const char *plan_reason;
} CtlVersion;

typedef struct CtlVersions {
        CtlVersion *versions; /* genesis first (when its folder exists), then upgrades/ sorted by folder */
        size_t n_versions;
        char *current_target; /* what `current` points to, normalised; NULL when current_error */
        int current_error; /* layout_current_target()'s error, 0 when fine */
} CtlVersions;

int ctl_versions_load(Layout *l, CtlVersions *ret);
void ctl_versions_done(CtlVersions *v);
const CtlVersion *ctl_versions_current(const CtlVersions *v);

/* Why a version whose binary is not installed (v->binary_error) will not start, in the words of the
 * readiness check: "is missing (PATH): install it with …". */
int ctl_binary_not_ready_reason(const CtlVersion *v, char **ret);

/* The SHA-256 (hex) and size of the version's binary, opened below the tree without leaving it. */
int ctl_binary_sha256(Layout *l, const CtlVersion *v, char **ret_hex, uint64_t *ret_size);

/* The credentials the node runs with (DAEMON_USER, DAEMON_GROUP). When they cannot be taken (not root,
 * unknown user) *ret_error says why and returns <0. */
int ctl_node_credentials(Ctl *ctl, Credentials *ret, char **ret_error);

/* What a readiness check's `version` printed (c->version_ran), for people: escaped, trailing white space
 * dropped, "…" when cut. */
char *ctl_version_output_text(const CtlCheck *c);
/* The same as JSON: {"output", "truncated", "exit_status" (or null), "signal" (or null), "timed_out"}. */
json_object *ctl_version_output_json(const CtlCheck *c);
/* How `version` ended, one short phrase: "exit status 3", "killed by signal 9 (Killed)", "timed out,
 * stopped". Into buf. */
const char *ctl_version_describe_end(const ChildResult *end, char *buf, size_t len);

/* A plan as JSON: name, height, time, info, and the info decoded: info_kind ("none", "manifest", "url",
 * "invalid"), manifest_url, binaries (platform -> URL, null when not a string), info_error, platform
 * (this machine's) and binary_url (the entry that applies here). */
json_object *ctl_plan_to_json(const UpgradePlan *p);

/* Whether the upgrade named name is installed: 1 ready, 0 missing; *ret_folder (may be NULL) the folder
 * it is (or would be) in. <0 for a name that cannot be a folder (logged). */
int ctl_plan_binary_ready(Layout *l, const char *name, char **ret_folder);

/* A time for people, "2026-12-06 15:47:12 UTC", into buf; "-" for 0. And ISO 8601 UTC for JSON. */
const char *ctl_format_time(usec_t t, char *buf, size_t len);
json_object *ctl_time_json(usec_t t);
#define CTL_TIME_MAX 64

/* Adds key: value to o, or null when value is NULL. */
void ctl_json_add_string(json_object *o, const char *key, const char *value);
