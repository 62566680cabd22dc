/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes config_parse() with an environment made of the input split at NUL bytes and newlines. Every
 * diagnostic must be one printable line (values and names are escaped), errors and the return value
 * agree, and an accepted configuration has a valid home and daemon name. */

#include "config.h"
#include "fuzz-util.h"
#include "strv.h"

static void check_line(const char *s) {
        CHECK(s[0]);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                CHECK(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;

        _cleanup_strv_free_ char **env = NULL;
        const char *s = (const char *) data, *end = s + size;
        while (s < end) {
                const char *e = s;
                while (e < end && *e != 0 && *e != '\n')
                        e++;
                char *entry = strndup(s, (size_t) (e - s));
                CHECK(entry);
                CHECK(strv_consume(&env, entry) == 0);
                s = e + 1;
        }

        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        int r = config_parse(env, &c, &d);
        CHECK(r == 0 || r == -EINVAL);
        CHECK((r == -EINVAL) == (d.errors != NULL));
        STRV_FOREACH(l, d.errors)
                check_line(*l);
        STRV_FOREACH(l, d.warnings)
                check_line(*l);
        if (r == 0) {
                CHECK(c.home && c.home[0] == '/');
                CHECK(daemon_name_is_valid(c.name));
                CHECK(c.poll_interval > 0);
                CHECK(c.limit_nofile > 0);
                CHECK(launcher_kind_to_string(c.launcher));
                CHECK(!c.custom_preupgrade || daemon_name_is_valid(c.custom_preupgrade));
        }
        return 0;
}
