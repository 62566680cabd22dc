/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "credentials.h"
#include "parse-util.h"
#include "string-util.h"
#include "strv.h"

/* A bare number (no sign, no spaces) that fits in 32 bits and is not the "invalid" (uid_t) -1. */
static bool parse_id(const char *s, uint32_t *ret) {
        uint64_t v;
        if (!s || !*s || strspn(s, "0123456789") != strlen(s) || parse_uint64(s, &v) < 0 || v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* Sets *ret_error (if not NULL) to the formatted sentence and returns error. */
_printf_(3, 4) static int fail(char **ret_error, int error, const char *fmt, ...) {
        if (ret_error) {
                va_list ap;
                va_start(ap, fmt);
                free(*ret_error);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return error;
}

void credentials_done(Credentials *c) {
        if (!c)
                return;
        free(c->groups);
        free(c->user);
        free(c->home);
        *c = (Credentials) {};
}

int credentials_resolve(const char *user, const char *group, Credentials *ret, char **ret_error) {
        _cleanup_(credentials_done) Credentials c = {};
        uint32_t id;

        assert(ret);
        if (isempty(user) && isempty(group)) {
                *ret = (Credentials) {};
                return 0;
        }

        c.uid = geteuid();
        c.gid = getegid();
        bool have_entry = false;
        if (!isempty(user)) {
                errno = 0;
                struct passwd *pw = parse_id(user, &id) ? getpwuid(id) : getpwnam(user);
                if (pw) {
                        c.uid = pw->pw_uid;
                        c.gid = pw->pw_gid;
                        c.user = strdup(pw->pw_name);
                        c.home = strdup(pw->pw_dir);
                        if (!c.user || !c.home)
                                return -ENOMEM;
                        have_entry = true;
                } else if (parse_id(user, &id)) {
                        c.uid = id;
                        c.gid = id;
                } else
                        return fail(ret_error, -ESRCH,
                                "DAEMON_USER='%s' is not a user of this system: create it (useradd --system) or fix DAEMON_USER.",
                                user);
        }
        if (!isempty(group)) {
                struct group *gr = parse_id(group, &id) ? getgrgid(id) : getgrnam(group);
                if (gr)
                        c.gid = gr->gr_gid;
                else if (parse_id(group, &id))
                        c.gid = id;
                else
                        return fail(ret_error, -ESRCH,
                                "DAEMON_GROUP='%s' is not a group of this system: create it (groupadd --system) or fix DAEMON_GROUP.",
                                group);
        }

        /* The user's supplementary groups, as initgroups() would set them, with the primary group. */
        if (have_entry) {
                int n = 16;
                for (;;) {
                        gid_t *g = reallocarray(c.groups, (size_t) n, sizeof(gid_t));
                        if (!g)
                                return -ENOMEM;
                        c.groups = g;
                        int m = n;
                        if (getgrouplist(c.user, c.gid, c.groups, &m) >= 0) {
                                c.n_groups = (size_t) m;
                                break;
                        }
                        if (m <= n || m > 65536)
                                return -ENOMEM;
                        n = m;
                }
        } else {
                c.groups = new(gid_t, 1);
                if (!c.groups)
                        return -ENOMEM;
                c.groups[0] = c.gid;
                c.n_groups = 1;
        }

        if (geteuid() != 0) {
                if (c.uid == geteuid() && c.gid == getegid()) {
                        /* Already who we are: nothing to change. */
                        credentials_done(&c);
                        *ret = (Credentials) {};
                        return 0;
                }
                return fail(ret_error, -EPERM,
                        "DAEMON_USER='%s' and DAEMON_GROUP need oraivisor to run as root (it runs as uid %ld): run it as root, or unset them.",
                        strempty(user), (long) geteuid());
        }

        c.set = true;
        *ret = c;
        c = (Credentials) {};
        return 0;
}

int credentials_apply(const Credentials *c) {
        if (!c || !c->set)
                return 0;
        if (setgroups(c->n_groups, c->groups) < 0)
                return -errno;
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                return -errno;
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                return -errno;
        return 0;
}

int credentials_env(const Credentials *c, char ***env) {
        if (!c || !c->set)
                return 0;
        if (c->home && strv_env_set(env, "HOME", c->home) < 0)
                return -ENOMEM;
        if (c->user && (strv_env_set(env, "USER", c->user) < 0 || strv_env_set(env, "LOGNAME", c->user) < 0))
                return -ENOMEM;
        return 0;
}
