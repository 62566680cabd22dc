/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the config.toml reader of import-cosmovisor and the translation after it: any text gives an error
 * line or "KEY=value" entries with upper-case keys, each once; every translated entry is written as a
 * conf-file line that the EnvironmentFile reader reads back as exactly that value. */

#include <string.h>

#include "cosmovisor-config.h"
#include "env-file.h"
#include "fuzz-util.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **env = NULL, **conf = NULL, **notes = NULL;
        _cleanup_free_ char *error = NULL;

        int r = cosmovisor_toml_parse((const char *) data, size, &env, &error);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                CHECK(r == -EINVAL && error && !env);
                return 0;
        }
        STRV_FOREACH(e, env) {
                const char *eq = strchr(*e, '=');
                CHECK(eq && eq > *e);
                for (const char *k = *e; k < eq; k++)
                        CHECK(!(*k >= 'a' && *k <= 'z') && *k != '-');
        }
        if (cosmovisor_config_translate(env, &conf, &notes) < 0)
                return 0;
        STRV_FOREACH(e, conf) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *key = strndup(*e, eq - *e);
                _cleanup_free_ char *line = key ? env_file_line(key, eq + 1) : NULL;
                if (!line)
                        return 0;
                _cleanup_strv_free_ char **back = NULL, **warnings = NULL;
                _cleanup_free_ char *err = NULL;
                if (env_file_parse(line, strlen(line), &back, &warnings, &err) == -ENOMEM)
                        return 0;
                CHECK(!err);
                CHECK(streq_ptr(strv_env_get(back, key), eq + 1));
        }
        return 0;
}
