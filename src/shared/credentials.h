/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The user and group the daemon and its upgrade hooks run as (DAEMON_USER, DAEMON_GROUP). Resolved once,
 * in oraivisor, through NSS (which may block and is not safe after fork); applied in a forked child right
 * before exec with system calls only. */

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

typedef struct Credentials {
        bool set;            /* false: the child keeps oraivisor's own user and groups */
        uid_t uid;
        gid_t gid;
        gid_t *groups;       /* supplementary groups of the user (just gid for a user unknown to NSS) */
        size_t n_groups;
        char *user;          /* for USER= and LOGNAME=; NULL for a numeric user without an entry */
        char *home;          /* for HOME=; NULL when unknown */
} Credentials;

/* user and group as DAEMON_USER and DAEMON_GROUP take them: a name or a number, either may be NULL or
 * empty (then: oraivisor's own user, or the user's primary group). A numeric user without a passwd entry
 * is allowed (as systemd's User= allows it); its group is DAEMON_GROUP, else the same number. Returns 0,
 * -ESRCH for an unknown name (with *ret_error naming it and the fix), -EPERM when the credentials differ
 * from oraivisor's own and it is not root, -ENOMEM. */
int credentials_resolve(const char *user, const char *group, Credentials *ret, char **ret_error);
void credentials_done(Credentials *c);

/* In a forked child, before exec: supplementary groups, gid, then uid (all three of real, effective and
 * saved). Returns 0 or a negative errno; async-signal-safe. A no-op when !c->set. */
int credentials_apply(const Credentials *c);

/* Sets HOME, USER and LOGNAME in *env for the user, as systemd's User= does. A no-op when !c->set. */
int credentials_env(const Credentials *c, char ***env);
