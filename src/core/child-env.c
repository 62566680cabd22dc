/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "child-env.h"
#include "macro.h"
#include "string-util.h"
#include "strv.h"

static char *const own_names[] = {
        "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM", "MANAGERPID", "SYSTEMD_EXEC_PID", "MAINPID",
        "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY", "CONFIGURATION_DIRECTORY",
        "CREDENTIALS_DIRECTORY", "MONITOR_SERVICE_RESULT", "MONITOR_EXIT_CODE", "MONITOR_EXIT_STATUS",
        "MONITOR_INVOCATION_ID", "MONITOR_UNIT", NULL,
};
static char *const own_prefixes[] = { "WATCHDOG_", "LISTEN_", NULL };

bool child_env_is_own(const char *name) {
        assert(name);
        STRV_FOREACH(n, own_names)
                if (streq(*n, name))
                        return true;
        STRV_FOREACH(p, own_prefixes)
                if (startswith(name, *p))
                        return true;
        return false;
}

char **child_env_strip_own(char *const *env) {
        return strv_env_filter(env ?: STRV_MAKE(NULL), own_names, own_prefixes);
}

int child_env_for_node(char *const *env, const char *lib_dir, char ***ret) {
        assert(ret);

        _cleanup_strv_free_ char **e = child_env_strip_own(env);
        if (!e)
                return -ENOMEM;
        if (!isempty(lib_dir)) {
                const char *old = strv_env_get(e, "LD_LIBRARY_PATH");
                _cleanup_free_ char *v = NULL;
                if (asprintf(&v, "%s%s%s", lib_dir, isempty(old) ? "" : ":", strempty(old)) < 0 ||
                    strv_env_set(&e, "LD_LIBRARY_PATH", v) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(e);
        return 0;
}
