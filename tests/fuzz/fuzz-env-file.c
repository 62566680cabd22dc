/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the EnvironmentFile= reader (/etc/oraivisor/<instance>.conf, read by oraivisorctl -i): any text
 * gives either an error line or an environment block of KEY=VALUE entries with a valid key, each key
 * once; what it accepts goes through config_parse() without a crash. */

#include <string.h>

#include "config.h"
#include "env-file.h"
#include "fuzz-util.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **env = NULL, **warnings = NULL;
        _cleanup_free_ char *error = NULL;

        int r = env_file_parse((const char *) data, size, &env, &warnings, &error);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                CHECK(r == -EINVAL);
                CHECK(error && !strchr(error, '\n'));
                CHECK(!env);
                return 0;
        }
        CHECK(!error);
        STRV_FOREACH(e, env) {
                const char *eq = strchr(*e, '=');
                CHECK(eq && eq > *e);
                for (const char *k = *e; k < eq; k++)
                        CHECK((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_' ||
                              (k > *e && *k >= '0' && *k <= '9'));
                STRV_FOREACH(f, e + 1)
                        CHECK(strncmp(*e, *f, eq - *e + 1) != 0);
        }
        STRV_FOREACH(w, warnings)
                CHECK(strncmp(*w, "line ", 5) == 0);

        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        (void) config_parse(env, &c, &d);
        return 0;
}
