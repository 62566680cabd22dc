/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cosmovisor's config.toml and variables, translated for oraivisorctl import-cosmovisor. */

#include <criterion/criterion.h>
#include <string.h>

#include "cosmovisor-config.h"
#include "env-file.h"
#include "string-util.h"
#include "strv.h"

static void expect_strv(char *const *got, char *const *want) {
        size_t ng = strv_length(got), nw = strv_length(want);
        cr_expect_eq(ng, nw, "%zu entries, expected %zu", ng, nw);
        for (size_t i = 0; i < MIN(ng, nw); i++)
                cr_expect_str_eq(got[i], want[i], "entry %zu", i);
}

static void toml_ok(const char *text, char *const *want) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *error = NULL;
        cr_assert_eq(cosmovisor_toml_parse(text, strlen(text), &env, &error), 0, "[%s]: %s", text, strna(error));
        expect_strv(env, want);
}

static void toml_bad(const char *text, size_t len, const char *want) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *error = NULL;
        cr_expect_eq(cosmovisor_toml_parse(text, len ? len : strlen(text), &env, &error), -EINVAL, "[%s]", text);
        cr_expect(error && strstr(error, want), "[%s]: %s", text, strna(error));
        cr_expect_null(env);
}

/* What cosmovisor v1.6's `init` writes (go-toml v2: durations as nanoseconds). */
Test(cosmovisor_toml, as_cosmovisor_writes_it) {
        toml_ok("daemon_home = '/root/.oraid'\n"
                "daemon_name = 'oraid'\n"
                "daemon_allow_download_binaries = false\n"
                "daemon_poll_interval = 300000000\n"
                "daemon_shutdown_grace = 0\n"
                "cosmovisor_color_logs = true\n"
                "cosmovisor_timeformat_logs = 'kitchen'\n",
                STRV_MAKE("DAEMON_HOME=/root/.oraid", "DAEMON_NAME=oraid", "DAEMON_ALLOW_DOWNLOAD_BINARIES=false",
                          "DAEMON_POLL_INTERVAL=300000000", "DAEMON_SHUTDOWN_GRACE=0", "COSMOVISOR_COLOR_LOGS=true",
                          "COSMOVISOR_TIMEFORMAT_LOGS=kitchen"));
}

Test(cosmovisor_toml, syntax) {
        toml_ok("", STRV_MAKE(NULL));
        toml_ok("# comment\n\n  a = \"x\\ty\\\"z\\\\\"  # trailing\n", STRV_MAKE("A=x\ty\"z\\"));
        toml_ok("a-b = 1_000\nc = -5\nd = +7\n", STRV_MAKE("A_B=1000", "C=-5", "D=7"));
        toml_ok("a = 'lit\\eral'", STRV_MAKE("A=lit\\eral"));
        toml_ok("a = \"\"", STRV_MAKE("A="));
}

Test(cosmovisor_toml, refused) {
        toml_bad("[section]\na = 1\n", 0, "line 1: tables are not part");
        toml_bad("a = 1\na = 2\n", 0, "line 2: A is set twice");
        toml_bad("a = 1.5\n", 0, "not a string, boolean or integer");
        toml_bad("a = [1, 2]\n", 0, "not a string, boolean or integer");
        toml_bad("a = \"open\n", 0, "not closed");
        toml_bad("a = \"\"\"multi\n\"\"\"\n", 0, "multi-line strings");
        toml_bad("a = \"\\u00e9\"\n", 0, "unsupported escape");
        toml_bad("a =\n", 0, "A has no value");
        toml_bad("= 1\n", 0, "expected key = value");
        toml_bad("a 1\n", 0, "expected '='");
        toml_bad("a = 'x' y\n", 0, "unexpected text");
        toml_bad("a = 1\0", 6, "NUL byte");
}

Test(cosmovisor_config, translate) {
        _cleanup_strv_free_ char **conf = NULL, **notes = NULL;
        cr_assert_eq(cosmovisor_config_translate(STRV_MAKE("DAEMON_HOME=/h", "DAEMON_NAME=oraid", "DAEMON_POLL_INTERVAL=300000000",
                                                           "DAEMON_RESTART_DELAY=1500", "DAEMON_SHUTDOWN_GRACE=1m30s",
                                                           "COSMOVISOR_CUSTOM_PREUPGRADE=pre.sh", "COSMOVISOR_COLOR_LOGS=true",
                                                           "DAEMON_BACKUP_DIR=/b", "DAEMON_FOO=1", "PATH=/bin",
                                                           "UNSAFE_SKIP_BACKUP=true", "DAEMON_GRPC_ADDRESS="),
                                                 &conf, &notes), 0);
        expect_strv(conf, STRV_MAKE("DAEMON_HOME=/h", "DAEMON_NAME=oraid", "DAEMON_POLL_INTERVAL=300ms",
                                    "DAEMON_RESTART_DELAY=2us", "DAEMON_SHUTDOWN_GRACE=1m30s",
                                    "ORAIVISOR_CUSTOM_PREUPGRADE=pre.sh", "DAEMON_DATA_BACKUP_DIR=/b",
                                    "UNSAFE_SKIP_BACKUP=true"));
        _cleanup_free_ char *all = NULL;
        STRV_FOREACH(n, notes)
                cr_assert_geq(strextendf(&all, "%s\n", *n), 0);
        cr_expect(strstr(all, "COSMOVISOR_CUSTOM_PREUPGRADE is ORAIVISOR_CUSTOM_PREUPGRADE"), "%s", all);
        cr_expect(strstr(all, "COSMOVISOR_COLOR_LOGS: not carried over"), "%s", all);
        cr_expect(strstr(all, "DAEMON_BACKUP_DIR is DAEMON_DATA_BACKUP_DIR"), "%s", all);
        cr_expect(strstr(all, "DAEMON_FOO: not a cosmovisor setting"), "%s", all);
        cr_expect(!strstr(all, "PATH"), "%s", all);
        cr_expect(!strstr(all, "DAEMON_GRPC_ADDRESS"), "an empty value is unset: %s", all);
        cr_expect(strstr(all, "DAEMON_RESTART_AFTER_UPGRADE is not set"), "%s", all);
        cr_expect(!strstr(all, "DAEMON_SHUTDOWN_GRACE is not set"), "%s", all);

        /* The new name wins over the old one. */
        _cleanup_strv_free_ char **conf2 = NULL, **notes2 = NULL;
        cr_assert_eq(cosmovisor_config_translate(STRV_MAKE("DAEMON_DATA_BACKUP_DIR=/new", "DAEMON_BACKUP_DIR=/old"), &conf2, &notes2), 0);
        expect_strv(conf2, STRV_MAKE("DAEMON_DATA_BACKUP_DIR=/new"));
        cr_expect(strstr(notes2[strv_length(notes2) - 1], "DAEMON_SHUTDOWN_GRACE is not set") ||
                  strstr(notes2[strv_length(notes2) - 2], "DAEMON_SHUTDOWN_GRACE is not set"));
}

/* Every line written reads back, through the EnvironmentFile reader, as exactly the value. */
Test(cosmovisor_config, env_file_line_round_trip) {
        static const char *const values[] = {
                "/var/lib/oraid", "plain", "with space", "quote\"d", "back\\slash", "dollar$HOME", "tick`x`",
                "single'quote", "line\nbreak", "  padded  ", "#hash", ";semi", "", "a=b",
        };
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_free_ char *line = env_file_line("KEY", values[i]);
                cr_assert_not_null(line);
                _cleanup_strv_free_ char **env = NULL, **warnings = NULL;
                _cleanup_free_ char *error = NULL;
                cr_assert_eq(env_file_parse(line, strlen(line), &env, &warnings, &error), 0, "%s: %s", line, strna(error));
                cr_expect_eq(strv_length(warnings), 0, "%s", line);
                cr_expect_str_eq(strv_env_get(env, "KEY") ? strv_env_get(env, "KEY") : "(unset)", values[i], "line %s", line);
        }
}
