/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* config_parse(): defaults, every kind of value, the exact error and warning lines an operator reads,
 * and that all errors are collected together. */

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "config.h"
#include "string-util.h"
#include "strv.h"

#define HOME "DAEMON_HOME=/var/lib/oraid"
#define NAME "DAEMON_NAME=oraid"

/* Parses the given entries followed by a valid DAEMON_HOME and DAEMON_NAME (an earlier entry of the
 * same name wins, as with getenv()). */
static int parse_with_base(Config *c, ConfigDiagnostics *d, char *const *entries) {
        _cleanup_strv_free_ char **env = strv_copy(entries);
        cr_assert_not_null(env);
        cr_assert_eq(strv_extend(&env, HOME), 0);
        cr_assert_eq(strv_extend(&env, NAME), 0);
        *d = (ConfigDiagnostics) {};
        return config_parse(env, c, d);
}

#define PARSE(c, d, ...) parse_with_base((c), (d), STRV_MAKE(__VA_ARGS__))

static void expect_strv(char **got, char *const *want, const char *what) {
        size_t ng = strv_length(got), nw = strv_length(want);
        for (size_t i = 0; i < MAX(ng, nw); i++)
                cr_expect(i < ng && i < nw && streq(got[i], want[i]), "%s[%zu]:\n  got:  %s\n  want: %s", what, i,
                        i < ng ? got[i] : "(none)", i < nw ? want[i] : "(none)");
}

#define EXPECT_ERRORS(d, ...) expect_strv((d)->errors, STRV_MAKE(__VA_ARGS__), "errors")
#define EXPECT_WARNINGS(d, ...) expect_strv((d)->warnings, STRV_MAKE(__VA_ARGS__), "warnings")
#define EXPECT_NO_ERRORS(d) expect_strv((d)->errors, STRV_MAKE(NULL), "errors")
#define EXPECT_NO_WARNINGS(d) expect_strv((d)->warnings, STRV_MAKE(NULL), "warnings")

/* Parses one NAME=VALUE and expects it to fail with exactly this one error line. */
static void expect_error(char *entry, char *error) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        int r = PARSE(&c, &d, entry);
        cr_expect_eq(r, -EINVAL, "%s: r=%d", entry, r);
        expect_strv(d.errors, STRV_MAKE(error), entry);
}

/* ---- defaults ----------------------------------------------------------------------------------------- */

Test(config, defaults) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_assert_eq(config_parse(STRV_MAKE(HOME, NAME), &c, &d), 0);
        EXPECT_NO_ERRORS(&d);
        EXPECT_NO_WARNINGS(&d);

        cr_expect_str_eq(c.home, "/var/lib/oraid");
        cr_expect_str_eq(c.name, "oraid");
        cr_expect_eq(c.allow_download, false);
        cr_expect_eq(c.restart_after_upgrade, false);
        cr_expect_eq(c.shutdown_grace, 30 * USEC_PER_SEC);
        cr_expect_eq(c.restart_delay, 0);
        cr_expect_eq(c.poll_interval, 300 * USEC_PER_MSEC);
        cr_expect_eq(c.launcher, LAUNCHER_AUTO);
        cr_expect_eq(c.log_level, LOG_INFO);
        cr_expect_null(c.daemon_unit);
        cr_expect_null(c.daemon_user);
        cr_expect_null(c.daemon_group);
        cr_expect_eq(c.limit_nofile, 65536);
        cr_expect_eq(c.memory_max, UINT64_MAX);
        cr_expect_null(c.state_dir);
        cr_expect_eq(c.must_have_checksum, false);
        cr_expect_eq(c.allow_file_urls, false);
        cr_expect_eq(c.download_retries, 5);
        cr_expect_eq(c.download_max_size, UINT64_C(4) << 30);
        cr_expect_eq(c.download_connect_timeout, 30 * USEC_PER_SEC);
        cr_expect_eq(c.download_stall_timeout, 60 * USEC_PER_SEC);
        cr_expect_eq(c.unpack_max_size, UINT64_C(16) << 30);
        cr_expect_eq(c.unpack_max_entries, 100000);
        cr_expect_null(c.download_ca_file);
        cr_expect_eq(c.unsafe_skip_backup, false);
        cr_expect_null(c.backup_dir);
        cr_expect_eq(c.backup_keep, 0);
        cr_expect_null(c.custom_preupgrade);
        cr_expect_eq(c.preupgrade_max_retries, 0);
        cr_expect_eq(c.hook_timeout, 10 * USEC_PER_MINUTE);
}

/* Every variable set to the empty string means its default, and never an error. */
Test(config, empty_means_default) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        _cleanup_strv_free_ char **env = NULL;
        for (size_t i = 0; config_known_variables[i]; i++) {
                const char *n = config_known_variables[i];
                if (streq(n, "DAEMON_HOME") || streq(n, "DAEMON_NAME"))
                        continue;
                _cleanup_free_ char *e = NULL;
                cr_assert_gt(asprintf(&e, "%s=", n), 0);
                cr_assert_eq(strv_extend(&env, e), 0);
        }
        cr_assert_eq(parse_with_base(&c, &d, env), 0);
        EXPECT_NO_ERRORS(&d);
        EXPECT_NO_WARNINGS(&d);
        cr_expect_eq(c.shutdown_grace, 30 * USEC_PER_SEC);
        cr_expect_eq(c.poll_interval, 300 * USEC_PER_MSEC);
        cr_expect_eq(c.limit_nofile, 65536);
        cr_expect_eq(c.memory_max, UINT64_MAX);
        cr_expect_eq(c.download_retries, 5);
        cr_expect_null(c.custom_preupgrade);
}

Test(config, required_variables) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(config_parse(STRV_MAKE(NULL), &c, &d), -EINVAL);
        EXPECT_ERRORS(&d,
                "DAEMON_HOME is not set: expected the absolute path of the node's home folder, such as DAEMON_HOME=/var/lib/oraid.",
                "DAEMON_NAME is not set: expected the daemon's binary file name, such as DAEMON_NAME=oraid.");
        /* Defaults are filled in even when the configuration is unusable. */
        cr_expect_eq(c.shutdown_grace, 30 * USEC_PER_SEC);
        config_done(&c);
        config_diagnostics_done(&d);

        /* Set but empty is the same as not set. */
        cr_expect_eq(config_parse(STRV_MAKE("DAEMON_HOME=", "DAEMON_NAME="), &c, &d), -EINVAL);
        cr_expect_eq(strv_length(d.errors), 2);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_expect_eq(config_parse(STRV_MAKE(HOME), &c, &d), -EINVAL);
        EXPECT_ERRORS(&d, "DAEMON_NAME is not set: expected the daemon's binary file name, such as DAEMON_NAME=oraid.");
}

/* Under systemd (INVOCATION_ID set) nothing restarts a clean exit of the shipped unit: the new binary is
 * started by oraivisor itself unless the operator says false. Elsewhere cosmovisor's default stays. */
Test(config, restart_after_upgrade_default_follows_systemd) {
        static const struct {
                const char *invocation;   /* NULL: not set */
                const char *value;        /* NULL: not set */
                bool under_systemd, expect;
        } cases[] = {
                { NULL, NULL, false, false },
                { "", NULL, false, false },  /* empty is not set */
                { "0123456789abcdef0123456789abcdef", NULL, true, true },
                { "0123456789abcdef0123456789abcdef", "false", true, false },
                { "0123456789abcdef0123456789abcdef", "0", true, false },
                { "0123456789abcdef0123456789abcdef", "true", true, true },
                { "0123456789abcdef0123456789abcdef", "", true, true }, /* empty means the default */
                { NULL, "true", false, true },
                { NULL, "false", false, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_done) Config c = {};
                _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                _cleanup_free_ char *inv = NULL, *val = NULL;
                if (cases[i].invocation)
                        cr_assert_gt(asprintf(&inv, "INVOCATION_ID=%s", cases[i].invocation), 0);
                if (cases[i].value)
                        cr_assert_gt(asprintf(&val, "DAEMON_RESTART_AFTER_UPGRADE=%s", cases[i].value), 0);
                char *entries[3] = {};
                size_t n = 0;
                if (inv)
                        entries[n++] = inv;
                if (val)
                        entries[n++] = val;
                cr_assert_eq(parse_with_base(&c, &d, entries), 0, "case %zu", i);
                EXPECT_NO_ERRORS(&d);
                EXPECT_NO_WARNINGS(&d);
                cr_expect_eq(c.under_systemd, cases[i].under_systemd, "case %zu: under_systemd", i);
                cr_expect_eq(c.restart_after_upgrade, cases[i].expect, "case %zu: restart_after_upgrade", i);
        }
}

/* ---- booleans ----------------------------------------------------------------------------------------- */

static const struct {
        const char *var;
        size_t offset;
} bool_vars[] = {
        { "DAEMON_ALLOW_DOWNLOAD_BINARIES", offsetof(Config, allow_download) },
        { "DAEMON_RESTART_AFTER_UPGRADE", offsetof(Config, restart_after_upgrade) },
        { "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM", offsetof(Config, must_have_checksum) },
        { "ORAIVISOR_ALLOW_FILE_URLS", offsetof(Config, allow_file_urls) },
        { "UNSAFE_SKIP_BACKUP", offsetof(Config, unsafe_skip_backup) },
};

Test(config, booleans) {
        static const struct {
                const char *value;
                int expect; /* 1, 0, or -1 for an error */
        } values[] = {
                { "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "tRuE", 1 }, { "yes", 1 }, { "YES", 1 }, { "Yes", 1 },
                { "1", 1 }, { "false", 0 }, { "FALSE", 0 }, { "False", 0 }, { "no", 0 }, { "NO", 0 }, { "No", 0 },
                { "0", 0 }, { "on", -1 }, { "off", -1 }, { "y", -1 }, { "n", -1 }, { "t", -1 }, { "2", -1 },
                { "01", -1 }, { "maybe", -1 }, { " true", -1 }, { "true ", -1 }, { "yes please", -1 }, { "-1", -1 },
        };
        for (size_t v = 0; v < ELEMENTSOF(bool_vars); v++)
                for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                        _cleanup_(config_done) Config c = {};
                        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                        _cleanup_free_ char *e = NULL, *err = NULL;
                        cr_assert_gt(asprintf(&e, "%s=%s", bool_vars[v].var, values[i].value), 0);
                        int r = PARSE(&c, &d, e);
                        bool got = *(bool *) ((uint8_t *) &c + bool_vars[v].offset);
                        if (values[i].expect < 0) {
                                cr_expect_eq(r, -EINVAL, "%s", e);
                                cr_assert_gt(asprintf(&err, "%s='%s' is not a boolean: expected true/false, yes/no or 1/0.",
                                                     bool_vars[v].var, values[i].value), 0);
                                expect_strv(d.errors, STRV_MAKE(err), e);
                                cr_expect_eq(got, false, "%s: default kept", e);
                        } else {
                                cr_expect_eq(r, 0, "%s", e);
                                cr_expect_eq(got, values[i].expect == 1, "%s", e);
                        }
                }
}

/* ---- durations ---------------------------------------------------------------------------------------- */

static const struct {
        const char *var;
        size_t offset;
        bool zero_ok;
} duration_vars[] = {
        { "DAEMON_SHUTDOWN_GRACE", offsetof(Config, shutdown_grace), true },
        { "DAEMON_RESTART_DELAY", offsetof(Config, restart_delay), true },
        { "DAEMON_POLL_INTERVAL", offsetof(Config, poll_interval), false },
        { "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT", offsetof(Config, download_connect_timeout), true },
        { "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT", offsetof(Config, download_stall_timeout), true },
        { "ORAIVISOR_HOOK_TIMEOUT", offsetof(Config, hook_timeout), true },
};

Test(config, durations) {
        static const struct {
                const char *value;
                usec_t expect;
                bool ok;
        } values[] = {
                { "500ms", 500 * USEC_PER_MSEC, true },
                { "30s", 30 * USEC_PER_SEC, true },
                { "2m", 2 * USEC_PER_MINUTE, true },
                { "2min", 2 * USEC_PER_MINUTE, true },
                { "1h", USEC_PER_HOUR, true },
                { "45", 45 * USEC_PER_SEC, true },
                { "1m30s", 90 * USEC_PER_SEC, true },
                { "1.5s", 1500 * USEC_PER_MSEC, true },
                { "250us", 250, true },
                { "0", 0, true },
                { "0s", 0, true },
                { "-1s", 0, false },
                { "30 seconds please", 0, false },
                { "1x", 0, false },
                { "s", 0, false },
                { "1.", 0, false },
                { "1e3", 0, false },
                { "30S", 0, false },
                { "1m30", 0, false },
                { "99999999999h", 0, false },
        };
        for (size_t v = 0; v < ELEMENTSOF(duration_vars); v++)
                for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                        _cleanup_(config_done) Config c = {};
                        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                        _cleanup_free_ char *e = NULL, *err = NULL;
                        cr_assert_gt(asprintf(&e, "%s=%s", duration_vars[v].var, values[i].value), 0);
                        int r = PARSE(&c, &d, e);
                        usec_t got = *(usec_t *) ((uint8_t *) &c + duration_vars[v].offset);
                        if (values[i].ok && (values[i].expect > 0 || duration_vars[v].zero_ok)) {
                                cr_expect_eq(r, 0, "%s", e);
                                EXPECT_NO_ERRORS(&d);
                                cr_expect_eq(got, values[i].expect, "%s: %" PRIu64, e, got);
                                continue;
                        }
                        cr_expect_eq(r, -EINVAL, "%s", e);
                        if (values[i].ok) /* zero where zero makes no sense */
                                cr_assert_gt(asprintf(&err,
                                        "%s='%s' is not valid: expected a duration above zero, such as '300ms'.",
                                        duration_vars[v].var, values[i].value), 0);
                        else
                                cr_assert_gt(asprintf(&err,
                                        "%s='%s' is not a duration: expected e.g. '500ms', '30s', '2m', '1h' or a number of seconds.",
                                        duration_vars[v].var, values[i].value), 0);
                        expect_strv(d.errors, STRV_MAKE(err), e);
                }
}

/* ---- sizes and numbers -------------------------------------------------------------------------------- */

Test(config, sizes) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_assert_eq(PARSE(&c, &d, "ORAIVISOR_DOWNLOAD_MAX_SIZE=512M", "ORAIVISOR_UNPACK_MAX_SIZE=1T",
                             "DAEMON_MEMORY_MAX=8G"), 0);
        cr_expect_eq(c.download_max_size, UINT64_C(512) << 20);
        cr_expect_eq(c.unpack_max_size, UINT64_C(1) << 40);
        cr_expect_eq(c.memory_max, UINT64_C(8) << 30);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_assert_eq(PARSE(&c, &d, "ORAIVISOR_DOWNLOAD_MAX_SIZE=1048576", "ORAIVISOR_UNPACK_MAX_SIZE=16GiB",
                             "DAEMON_MEMORY_MAX=infinity"), 0);
        cr_expect_eq(c.download_max_size, 1048576);
        cr_expect_eq(c.unpack_max_size, UINT64_C(16) << 30);
        cr_expect_eq(c.memory_max, UINT64_MAX);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_assert_eq(PARSE(&c, &d, "DAEMON_MEMORY_MAX=INFINITY"), 0);
        cr_expect_eq(c.memory_max, UINT64_MAX);

        expect_error("ORAIVISOR_DOWNLOAD_MAX_SIZE=0",
                "ORAIVISOR_DOWNLOAD_MAX_SIZE='0' is not a size: expected a size such as '4G' (K, M, G, T are powers of 1024).");
        expect_error("ORAIVISOR_DOWNLOAD_MAX_SIZE=4g",
                "ORAIVISOR_DOWNLOAD_MAX_SIZE='4g' is not a size: expected a size such as '4G' (K, M, G, T are powers of 1024).");
        expect_error("ORAIVISOR_UNPACK_MAX_SIZE=-1",
                "ORAIVISOR_UNPACK_MAX_SIZE='-1' is not a size: expected a size such as '16G' (K, M, G, T are powers of 1024).");
        expect_error("ORAIVISOR_UNPACK_MAX_SIZE=99999999T",
                "ORAIVISOR_UNPACK_MAX_SIZE='99999999T' is not a size: expected a size such as '16G' (K, M, G, T are powers of 1024).");
        expect_error("DAEMON_MEMORY_MAX=lots",
                "DAEMON_MEMORY_MAX='lots' is not a size: expected a size such as '8G', or 'infinity' (K, M, G, T are powers of 1024).");
}

Test(config, refused_values_keep_the_default) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_DOWNLOAD_MAX_SIZE=0", "DAEMON_LIMIT_NOFILE=0", "DAEMON_POLL_INTERVAL=0ms",
                             "DAEMON_SHUTDOWN_GRACE=soon", "ORAIVISOR_DOWNLOAD_RETRIES=-3"),
                -EINVAL);
        cr_expect_eq(strv_length(d.errors), 5);
        cr_expect_eq(c.download_max_size, UINT64_C(4) << 30);
        cr_expect_eq(c.limit_nofile, 65536);
        cr_expect_eq(c.poll_interval, 300 * USEC_PER_MSEC);
        cr_expect_eq(c.shutdown_grace, 30 * USEC_PER_SEC);
        cr_expect_eq(c.download_retries, 5);
}

Test(config, numbers) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_assert_eq(PARSE(&c, &d, "ORAIVISOR_DOWNLOAD_RETRIES=0", "DAEMON_LIMIT_NOFILE=1048576",
                             "ORAIVISOR_UNPACK_MAX_ENTRIES=5000000000", "ORAIVISOR_BACKUP_KEEP=3",
                             "DAEMON_PREUPGRADE_MAX_RETRIES=4294967295"), 0);
        cr_expect_eq(c.download_retries, 0);
        cr_expect_eq(c.limit_nofile, 1048576);
        cr_expect_eq(c.unpack_max_entries, UINT64_C(5000000000));
        cr_expect_eq(c.backup_keep, 3);
        cr_expect_eq(c.preupgrade_max_retries, UINT32_MAX);

        expect_error("ORAIVISOR_DOWNLOAD_RETRIES=4294967296",
                "ORAIVISOR_DOWNLOAD_RETRIES='4294967296' is not valid: expected a number of retries, such as 5.");
        expect_error("ORAIVISOR_DOWNLOAD_RETRIES=five",
                "ORAIVISOR_DOWNLOAD_RETRIES='five' is not valid: expected a number of retries, such as 5.");
        expect_error("DAEMON_PREUPGRADE_MAX_RETRIES=-1",
                "DAEMON_PREUPGRADE_MAX_RETRIES='-1' is not valid: expected a number of retries.");
        expect_error("ORAIVISOR_BACKUP_KEEP=+2",
                "ORAIVISOR_BACKUP_KEEP='+2' is not valid: expected a number of backups to keep (0 keeps all).");
        expect_error("DAEMON_LIMIT_NOFILE=0",
                "DAEMON_LIMIT_NOFILE='0' is not valid: expected a number of open files, such as 65536.");
        expect_error("DAEMON_LIMIT_NOFILE=00",
                "DAEMON_LIMIT_NOFILE='00' is not valid: expected a number of open files, such as 65536.");
        expect_error("DAEMON_LIMIT_NOFILE=18446744073709551616",
                "DAEMON_LIMIT_NOFILE='18446744073709551616' is not valid: expected a number of open files, such as 65536.");
        expect_error("ORAIVISOR_UNPACK_MAX_ENTRIES=0",
                "ORAIVISOR_UNPACK_MAX_ENTRIES='0' is not valid: expected a number of archive entries.");
        expect_error("DAEMON_POLL_INTERVAL=0",
                "DAEMON_POLL_INTERVAL='0' is not valid: expected a duration above zero, such as '300ms'.");
        expect_error("DAEMON_POLL_INTERVAL=0ms",
                "DAEMON_POLL_INTERVAL='0ms' is not valid: expected a duration above zero, such as '300ms'.");
}

/* ---- paths and names ---------------------------------------------------------------------------------- */

Test(config, daemon_home) {
        static const struct {
                const char *value, *expect;
        } ok[] = {
                { "/var/lib/oraid", "/var/lib/oraid" },
                { "/var/lib/oraid/", "/var/lib/oraid" },
                { "//var//lib///oraid//", "/var/lib/oraid" },
                { "/", "/" },
                { "///", "/" },
                { "/home/a b/.oraid", "/home/a b/.oraid" },
                { "/x/...", "/x/..." },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_(config_done) Config c = {};
                _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                _cleanup_free_ char *e = NULL;
                cr_assert_gt(asprintf(&e, "DAEMON_HOME=%s", ok[i].value), 0);
                cr_expect_eq(PARSE(&c, &d, e), 0, "%s", e);
                cr_expect_str_eq(c.home, ok[i].expect);
        }

        expect_error("DAEMON_HOME=relative/path",
                "DAEMON_HOME='relative/path' is not valid: expected an absolute path to the node's home folder, starting with '/'.");
        expect_error("DAEMON_HOME=~/.oraid",
                "DAEMON_HOME='~/.oraid' is not valid: expected an absolute path to the node's home folder, starting with '/'.");
        expect_error("DAEMON_HOME=./oraid",
                "DAEMON_HOME='./oraid' is not valid: expected an absolute path to the node's home folder, starting with '/'.");
        expect_error("DAEMON_HOME=/var/lib/../oraid",
                "DAEMON_HOME='/var/lib/../oraid' is not valid: expected an absolute path to the node's home folder without '.' or '..' components.");
        expect_error("DAEMON_HOME=/var/./oraid",
                "DAEMON_HOME='/var/./oraid' is not valid: expected an absolute path to the node's home folder without '.' or '..' components.");
        expect_error("DAEMON_HOME=/oraid/..",
                "DAEMON_HOME='/oraid/..' is not valid: expected an absolute path to the node's home folder without '.' or '..' components.");
        expect_error("DAEMON_DATA_BACKUP_DIR=backups",
                "DAEMON_DATA_BACKUP_DIR='backups' is not valid: expected an absolute path to an existing folder, starting with '/'.");
        expect_error("ORAIVISOR_STATE_DIR=/a/../b",
                "ORAIVISOR_STATE_DIR='/a/../b' is not valid: expected an absolute path without '.' or '..' components.");
        expect_error("ORAIVISOR_DOWNLOAD_CA_FILE=ca.pem",
                "ORAIVISOR_DOWNLOAD_CA_FILE='ca.pem' is not valid: expected an absolute path to a PEM CA bundle, starting with '/'.");
}

#define NAME_RULES "a plain file name (not '.' or '..', no '/', no control characters, at most 255 bytes)."

Test(config, daemon_name) {
        expect_error("DAEMON_NAME=bin/oraid",
                "DAEMON_NAME='bin/oraid' is not valid: expected the daemon's binary file name, such as 'oraid': " NAME_RULES);
        expect_error("DAEMON_NAME=..", "DAEMON_NAME='..' is not valid: expected the daemon's binary file name, such as 'oraid': " NAME_RULES);
        expect_error("DAEMON_NAME=.", "DAEMON_NAME='.' is not valid: expected the daemon's binary file name, such as 'oraid': " NAME_RULES);
        expect_error("DAEMON_NAME=/usr/bin/oraid",
                "DAEMON_NAME='/usr/bin/oraid' is not valid: expected the daemon's binary file name, such as 'oraid': " NAME_RULES);
        /* Control characters are shown escaped, never raw in the log. */
        expect_error("DAEMON_NAME=ora\tid\x1b[31m",
                "DAEMON_NAME='ora\\x09id\\x1b[31m' is not valid: expected the daemon's binary file name, such as 'oraid': " NAME_RULES);

        char name255[256], name256[257];
        memset(name255, 'a', 255);
        name255[255] = 0;
        memset(name256, 'a', 256);
        name256[256] = 0;
        _cleanup_free_ char *e255 = NULL, *e256 = NULL;
        cr_assert_gt(asprintf(&e255, "DAEMON_NAME=%s", name255), 0);
        cr_assert_gt(asprintf(&e256, "DAEMON_NAME=%s", name256), 0);
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(PARSE(&c, &d, e255), 0, "255 bytes are fine");
        cr_expect_str_eq(c.name, name255);
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, e256), -EINVAL, "256 bytes are too long");
        cr_expect_eq(strv_length(d.errors), 1);
        /* A long value is cut in the message, never the message itself. */
        cr_expect(strstr(d.errors[0], "DAEMON_NAME='aaaa") == d.errors[0], "%s", d.errors[0]);
        cr_expect(strstr(d.errors[0], "aaa...' is not valid: expected the daemon's binary file name") != NULL, "%s", d.errors[0]);
        cr_expect_lt(strlen(d.errors[0]), 400);

        cr_expect(daemon_name_is_valid("oraid"));
        cr_expect(daemon_name_is_valid("orai d"));
        cr_expect(daemon_name_is_valid("-oraid"));
        cr_expect(daemon_name_is_valid("ünï"));
        cr_expect(daemon_name_is_valid("..."));
        cr_expect(daemon_name_is_valid(".oraid"));
        cr_expect_not(daemon_name_is_valid(""));
        cr_expect_not(daemon_name_is_valid(NULL));
        cr_expect_not(daemon_name_is_valid("."));
        cr_expect_not(daemon_name_is_valid(".."));
        cr_expect_not(daemon_name_is_valid("a/b"));
        cr_expect_not(daemon_name_is_valid("a\nb"));
        cr_expect_not(daemon_name_is_valid("a\x7f"));
}

/* ---- enumerations, users, units ----------------------------------------------------------------------- */

Test(config, launcher_and_log_level) {
        static const struct {
                const char *value;
                LauncherKind kind;
        } launchers[] = {
                { "auto", LAUNCHER_AUTO }, { "unit", LAUNCHER_UNIT }, { "exec", LAUNCHER_EXEC }, { "EXEC", LAUNCHER_EXEC },
                { "Unit", LAUNCHER_UNIT },
        };
        for (size_t i = 0; i < ELEMENTSOF(launchers); i++) {
                _cleanup_(config_done) Config c = {};
                _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                _cleanup_free_ char *e = NULL;
                cr_assert_gt(asprintf(&e, "ORAIVISOR_LAUNCHER=%s", launchers[i].value), 0);
                cr_expect_eq(PARSE(&c, &d, e), 0);
                cr_expect_eq(c.launcher, launchers[i].kind, "%s", e);
        }
        expect_error("ORAIVISOR_LAUNCHER=docker",
                "ORAIVISOR_LAUNCHER='docker' is not valid: expected one of 'auto', 'unit' or 'exec'.");
        expect_error("ORAIVISOR_LAUNCHER=systemd",
                "ORAIVISOR_LAUNCHER='systemd' is not valid: expected one of 'auto', 'unit' or 'exec'.");

        cr_expect_str_eq(launcher_kind_to_string(LAUNCHER_AUTO), "auto");
        cr_expect_str_eq(launcher_kind_to_string(LAUNCHER_UNIT), "unit");
        cr_expect_str_eq(launcher_kind_to_string(LAUNCHER_EXEC), "exec");
        cr_expect_null(launcher_kind_to_string(_LAUNCHER_KIND_MAX));
        cr_expect_null(launcher_kind_to_string(_LAUNCHER_KIND_INVALID));
        cr_expect_eq(launcher_kind_from_string("exec"), LAUNCHER_EXEC);
        cr_expect_eq(launcher_kind_from_string(""), _LAUNCHER_KIND_INVALID);
        cr_expect_eq(launcher_kind_from_string(NULL), _LAUNCHER_KIND_INVALID);

        static const struct {
                const char *value;
                int level;
        } levels[] = {
                { "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE }, { "warning", LOG_WARNING },
                { "warn", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR }, { "DEBUG", LOG_DEBUG },
        };
        for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
                _cleanup_(config_done) Config c = {};
                _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
                _cleanup_free_ char *e = NULL;
                cr_assert_gt(asprintf(&e, "ORAIVISOR_LOG_LEVEL=%s", levels[i].value), 0);
                cr_expect_eq(PARSE(&c, &d, e), 0);
                cr_expect_eq(c.log_level, levels[i].level, "%s", e);
        }
        expect_error("ORAIVISOR_LOG_LEVEL=verbose",
                "ORAIVISOR_LOG_LEVEL='verbose' is not valid: expected one of 'debug', 'info', 'notice', 'warning', 'err'.");
        expect_error("ORAIVISOR_LOG_LEVEL=7",
                "ORAIVISOR_LOG_LEVEL='7' is not valid: expected one of 'debug', 'info', 'notice', 'warning', 'err'.");
}

Test(config, users_and_units) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_assert_eq(PARSE(&c, &d, "DAEMON_USER=oraid", "DAEMON_GROUP=1000", "ORAIVISOR_DAEMON_UNIT=oraid-node.service"), 0);
        cr_expect_str_eq(c.daemon_user, "oraid");
        cr_expect_str_eq(c.daemon_group, "1000");
        cr_expect_str_eq(c.daemon_unit, "oraid-node.service");
        config_done(&c);
        config_diagnostics_done(&d);
        cr_assert_eq(PARSE(&c, &d, "DAEMON_USER=svc_node.1", "DAEMON_GROUP=machine$"), 0);

        expect_error("DAEMON_USER=bad name", "DAEMON_USER='bad name' is not valid: expected a user name or numeric UID.");
        expect_error("DAEMON_USER=-oraid", "DAEMON_USER='-oraid' is not valid: expected a user name or numeric UID.");
        expect_error("DAEMON_GROUP=a:b", "DAEMON_GROUP='a:b' is not valid: expected a group name or numeric GID.");
        expect_error("DAEMON_GROUP=a$b", "DAEMON_GROUP='a$b' is not valid: expected a group name or numeric GID.");

        static const char *const bad_units[] = { "oraid", ".service", "a/b.service", "oraid.socket" };
        for (size_t i = 0; i < ELEMENTSOF(bad_units); i++) {
                _cleanup_free_ char *e = NULL, *err = NULL;
                cr_assert_gt(asprintf(&e, "ORAIVISOR_DAEMON_UNIT=%s", bad_units[i]), 0);
                cr_assert_gt(asprintf(&err,
                        "ORAIVISOR_DAEMON_UNIT='%s' is not valid: expected a unit name ending in '.service', such as 'oraid-node.service'.",
                        bad_units[i]), 0);
                expect_error(e, err);
        }
        /* A refused unit name is not left in the Config, and its bytes are escaped. */
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_DAEMON_UNIT=x\n.socket"), -EINVAL);
        cr_expect_null(c.daemon_unit);
        EXPECT_ERRORS(&d,
                "ORAIVISOR_DAEMON_UNIT='x\\x0a.socket' is not valid: expected a unit name ending in '.service', such as 'oraid-node.service'.");
}

/* ---- everything together ------------------------------------------------------------------------------ */

Test(config, all_errors_collected) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        int r = config_parse(STRV_MAKE("DAEMON_HOME=relative", "DAEMON_ALLOW_DOWNLOAD_BINARIES=maybe",
                                     "DAEMON_RESTART_AFTER_UPGRADE=2", "DAEMON_SHUTDOWN_GRACE=30 seconds please",
                                     "ORAIVISOR_LAUNCHER=docker", "DAEMON_RESTART_AFTR_UPGRADE=true",
                                     "UNSAFE_SKIP_BACKUP=yep"),
                &c, &d);
        cr_expect_eq(r, -EINVAL);
        /* In the order of the README's table; the missing DAEMON_NAME after the variables' own errors, and
         * no "DAEMON_HOME is not set" on top of the error about its value. */
        EXPECT_ERRORS(&d,
                "DAEMON_HOME='relative' is not valid: expected an absolute path to the node's home folder, starting with '/'.",
                "DAEMON_ALLOW_DOWNLOAD_BINARIES='maybe' is not a boolean: expected true/false, yes/no or 1/0.",
                "DAEMON_RESTART_AFTER_UPGRADE='2' is not a boolean: expected true/false, yes/no or 1/0.",
                "DAEMON_SHUTDOWN_GRACE='30 seconds please' is not a duration: expected e.g. '500ms', '30s', '2m', '1h' or a number of seconds.",
                "ORAIVISOR_LAUNCHER='docker' is not valid: expected one of 'auto', 'unit' or 'exec'.",
                "UNSAFE_SKIP_BACKUP='yep' is not a boolean: expected true/false, yes/no or 1/0.",
                "DAEMON_NAME is not set: expected the daemon's binary file name, such as DAEMON_NAME=oraid.");
        EXPECT_WARNINGS(&d,
                "Unknown variable DAEMON_RESTART_AFTR_UPGRADE, ignoring it. Did you mean DAEMON_RESTART_AFTER_UPGRADE?");
        /* Every line is one line. */
        STRV_FOREACH(e, d.errors)
                cr_expect_null(strchr(*e, '\n'), "%s", *e);
}

Test(config, unknown_variables) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(PARSE(&c, &d, "DAEMON_RESTART_AFTER_UPGRDE=true", "ORAIVISOR_LAUNCER=exec", "DAEMON_SHUTDOWN_GRACEE=5s",
                             "ORAIVISOR_COMPLETELY_DIFFERENT_THING=1", "DAEMON_RESTART_AFTER_UPGRDE=false",
                             "COSMOVISOR_COLOR_LOGS=false", "HOME=/root", "daemon_home=/x", "DAEMON_BAD\x1bNAME=1",
                             "DAEMON_HOME_DIR=/x", "NOEQUALSIGN", "DAEMON_LOG_BUFFER_SIZE=1024", "DAEMON_ARGS=--x"),
                0);
        cr_expect_eq(c.restart_after_upgrade, false, "a misspelled name changes nothing");
        cr_expect_eq(c.launcher, LAUNCHER_AUTO);
        EXPECT_NO_ERRORS(&d);
        EXPECT_WARNINGS(&d,
                "DAEMON_LOG_BUFFER_SIZE is set but has no effect: lines of any length are scanned.",
                "Unknown variable DAEMON_RESTART_AFTER_UPGRDE, ignoring it. Did you mean DAEMON_RESTART_AFTER_UPGRADE?",
                "Unknown variable ORAIVISOR_LAUNCER, ignoring it. Did you mean ORAIVISOR_LAUNCHER?",
                "Unknown variable DAEMON_SHUTDOWN_GRACEE, ignoring it. Did you mean DAEMON_SHUTDOWN_GRACE?",
                "Unknown variable ORAIVISOR_COMPLETELY_DIFFERENT_THING, ignoring it.",
                "Unknown variable DAEMON_BAD\\x1bNAME, ignoring it. Did you mean DAEMON_NAME?",
                "Unknown variable DAEMON_HOME_DIR, ignoring it. Did you mean DAEMON_HOME?");
}

Test(config, every_known_variable_is_understood) {
        /* The documented names: none of them may be reported as unknown. */
        static const char *const documented[] = {
                "DAEMON_HOME", "DAEMON_NAME", "DAEMON_ALLOW_DOWNLOAD_BINARIES", "DAEMON_RESTART_AFTER_UPGRADE",
                "DAEMON_SHUTDOWN_GRACE", "DAEMON_RESTART_DELAY", "DAEMON_POLL_INTERVAL", "ORAIVISOR_LAUNCHER",
                "ORAIVISOR_LOG_LEVEL", "ORAIVISOR_DAEMON_UNIT", "DAEMON_USER", "DAEMON_GROUP", "DAEMON_LIMIT_NOFILE",
                "DAEMON_MEMORY_MAX", "ORAIVISOR_STATE_DIR", "ORAIVISOR_DAEMON_SANDBOX", "ORAIVISOR_DAEMON_PROPERTIES",
                "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM", "ORAIVISOR_ALLOW_FILE_URLS", "ORAIVISOR_DOWNLOAD_RETRIES", "ORAIVISOR_DOWNLOAD_MAX_SIZE",
                "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT", "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT", "ORAIVISOR_UNPACK_MAX_SIZE",
                "ORAIVISOR_UNPACK_MAX_ENTRIES", "ORAIVISOR_DOWNLOAD_CA_FILE", "UNSAFE_SKIP_BACKUP",
                "DAEMON_DATA_BACKUP_DIR", "ORAIVISOR_BACKUP_KEEP", "ORAIVISOR_CUSTOM_PREUPGRADE",
                "COSMOVISOR_CUSTOM_PREUPGRADE", "DAEMON_PREUPGRADE_MAX_RETRIES", "ORAIVISOR_HOOK_TIMEOUT", "ORAIVISOR_METRICS_DIR",
                "ORAIVISOR_NODE_RPC", "ORAIVISOR_CHAIN_POLL_INTERVAL", "ORAIVISOR_HEIGHT_RESTART",
                "DAEMON_ARGS", "DAEMON_LOG_BUFFER_SIZE", "DAEMON_GRPC_ADDRESS",
        };
        cr_expect_eq(strv_length((char *const *) config_known_variables), ELEMENTSOF(documented));
        for (size_t i = 0; i < ELEMENTSOF(documented); i++)
                cr_expect(strv_contains((char *const *) config_known_variables, documented[i]), "%s", documented[i]);

        /* A valid value for each: no error, and no warning except the two variables that do nothing here. */
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(config_parse(STRV_MAKE(HOME, NAME, "DAEMON_ALLOW_DOWNLOAD_BINARIES=true",
                                          "DAEMON_RESTART_AFTER_UPGRADE=yes", "DAEMON_SHUTDOWN_GRACE=1m",
                                          "DAEMON_RESTART_DELAY=5s", "DAEMON_POLL_INTERVAL=1s", "ORAIVISOR_LAUNCHER=exec",
                                          "ORAIVISOR_LOG_LEVEL=debug", "ORAIVISOR_DAEMON_UNIT=oraid-node.service",
                                          "DAEMON_USER=oraid", "DAEMON_GROUP=oraid", "DAEMON_LIMIT_NOFILE=4096",
                                          "DAEMON_MEMORY_MAX=8G", "ORAIVISOR_STATE_DIR=/var/lib/oraivisor",
                                          "ORAIVISOR_DAEMON_SANDBOX=off", "ORAIVISOR_DAEMON_PROPERTIES=CPUWeight=200",
                                          "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=1", "ORAIVISOR_ALLOW_FILE_URLS=no",
                                          "ORAIVISOR_DOWNLOAD_RETRIES=2", "ORAIVISOR_DOWNLOAD_MAX_SIZE=1G",
                                          "ORAIVISOR_DOWNLOAD_CONNECT_TIMEOUT=10s", "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT=2m",
                                          "ORAIVISOR_UNPACK_MAX_SIZE=2G", "ORAIVISOR_UNPACK_MAX_ENTRIES=10",
                                          "ORAIVISOR_DOWNLOAD_CA_FILE=/etc/ssl/ca.pem", "UNSAFE_SKIP_BACKUP=false",
                                          "DAEMON_DATA_BACKUP_DIR=/backup/", "ORAIVISOR_BACKUP_KEEP=2",
                                          "ORAIVISOR_CUSTOM_PREUPGRADE=pre.sh", "DAEMON_PREUPGRADE_MAX_RETRIES=3",
                                          "ORAIVISOR_HOOK_TIMEOUT=1h", "ORAIVISOR_METRICS_DIR=/srv/prom/",
                                          "ORAIVISOR_NODE_RPC=unix:///run/oraid/rpc.sock", "ORAIVISOR_CHAIN_POLL_INTERVAL=30s", "ORAIVISOR_HEIGHT_RESTART=false",
                                          "DAEMON_ARGS=start --x", "DAEMON_GRPC_ADDRESS=localhost:9090"),
                             &c, &d),
                0);
        EXPECT_NO_ERRORS(&d);
        EXPECT_WARNINGS(&d, "DAEMON_GRPC_ADDRESS is set but has no effect: oraivisor does not query the node over gRPC.");
        cr_expect_eq(c.allow_download, true);
        cr_expect_eq(c.restart_after_upgrade, true);
        cr_expect_eq(c.height_restart, false);
        cr_expect_eq(c.shutdown_grace, USEC_PER_MINUTE);
        cr_expect_eq(c.restart_delay, 5 * USEC_PER_SEC);
        cr_expect_eq(c.poll_interval, USEC_PER_SEC);
        cr_expect_eq(c.launcher, LAUNCHER_EXEC);
        cr_expect_eq(c.log_level, LOG_DEBUG);
        cr_expect_str_eq(c.daemon_unit, "oraid-node.service");
        cr_expect_str_eq(c.daemon_user, "oraid");
        cr_expect_str_eq(c.daemon_group, "oraid");
        cr_expect_eq(c.limit_nofile, 4096);
        cr_expect_eq(c.memory_max, UINT64_C(8) << 30);
        cr_expect_str_eq(c.state_dir, "/var/lib/oraivisor");
        cr_expect_eq(c.daemon_sandbox, DAEMON_SANDBOX_OFF);
        cr_expect_eq(c.daemon_properties.n, 1);
        cr_expect_eq(c.must_have_checksum, true);
        cr_expect_eq(c.allow_file_urls, false);
        cr_expect_eq(c.download_retries, 2);
        cr_expect_eq(c.download_max_size, UINT64_C(1) << 30);
        cr_expect_eq(c.download_connect_timeout, 10 * USEC_PER_SEC);
        cr_expect_eq(c.download_stall_timeout, 2 * USEC_PER_MINUTE);
        cr_expect_eq(c.unpack_max_size, UINT64_C(2) << 30);
        cr_expect_eq(c.unpack_max_entries, 10);
        cr_expect_str_eq(c.download_ca_file, "/etc/ssl/ca.pem");
        cr_expect_eq(c.unsafe_skip_backup, false);
        cr_expect_str_eq(c.backup_dir, "/backup");
        cr_expect_eq(c.backup_keep, 2);
        cr_expect_str_eq(c.custom_preupgrade, "pre.sh");
        cr_expect_eq(c.preupgrade_max_retries, 3);
        cr_expect_eq(c.hook_timeout, USEC_PER_HOUR);
        cr_expect_str_eq(c.metrics_dir, "/srv/prom");
        cr_expect(!c.metrics_off);
}

Test(config, custom_preupgrade) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};

        /* The cosmovisor name alone is honoured. */
        cr_expect_eq(PARSE(&c, &d, "COSMOVISOR_CUSTOM_PREUPGRADE=cosmo.sh"), 0);
        cr_expect_str_eq(c.custom_preupgrade, "cosmo.sh");
        EXPECT_NO_WARNINGS(&d);
        config_done(&c);
        config_diagnostics_done(&d);

        /* Ours wins, in either order, and the operator is told the other is ignored. */
        cr_expect_eq(PARSE(&c, &d, "COSMOVISOR_CUSTOM_PREUPGRADE=cosmo.sh", "ORAIVISOR_CUSTOM_PREUPGRADE=orai.sh"), 0);
        cr_expect_str_eq(c.custom_preupgrade, "orai.sh");
        EXPECT_WARNINGS(&d, "COSMOVISOR_CUSTOM_PREUPGRADE is ignored because ORAIVISOR_CUSTOM_PREUPGRADE is set: unset one of them.");
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_CUSTOM_PREUPGRADE=orai.sh", "COSMOVISOR_CUSTOM_PREUPGRADE=cosmo.sh"), 0);
        cr_expect_str_eq(c.custom_preupgrade, "orai.sh");
        config_done(&c);
        config_diagnostics_done(&d);

        /* An empty ORAIVISOR_CUSTOM_PREUPGRADE counts as unset. */
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_CUSTOM_PREUPGRADE=", "COSMOVISOR_CUSTOM_PREUPGRADE=cosmo.sh"), 0);
        cr_expect_str_eq(c.custom_preupgrade, "cosmo.sh");
        EXPECT_NO_WARNINGS(&d);
        config_done(&c);
        config_diagnostics_done(&d);

        /* The ignored one is not validated; ours is. */
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_CUSTOM_PREUPGRADE=orai.sh", "COSMOVISOR_CUSTOM_PREUPGRADE=../x"), 0);
        cr_expect_str_eq(c.custom_preupgrade, "orai.sh");
        expect_error("ORAIVISOR_CUSTOM_PREUPGRADE=hooks/pre.sh",
                "ORAIVISOR_CUSTOM_PREUPGRADE='hooks/pre.sh' is not valid: expected a file name under $DAEMON_HOME/oraivisor/: " NAME_RULES);
        expect_error("COSMOVISOR_CUSTOM_PREUPGRADE=..",
                "COSMOVISOR_CUSTOM_PREUPGRADE='..' is not valid: expected a file name under $DAEMON_HOME/oraivisor/: " NAME_RULES);
}

Test(config, first_entry_wins) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(config_parse(STRV_MAKE("DAEMON_NAME=first", "DAEMON_NAME=second", HOME), &c, &d), 0);
        cr_expect_str_eq(c.name, "first");
}

Test(config, done_resets) {
        Config c = {};
        ConfigDiagnostics d = {};
        cr_expect_eq(PARSE(&c, &d, "DAEMON_USER=oraid", "DAEMON_GRPC_ADDRESS=x", "DAEMON_LIMIT_NOFILE=0"), -EINVAL);
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_null(c.home);
        cr_expect_null(c.daemon_user);
        cr_expect_null(d.errors);
        cr_expect_null(d.warnings);
        config_done(&c); /* twice is fine */
        config_diagnostics_done(&d);

        cr_expect_eq(config_diagnostics_add_error(&d, "%s='%d'", "X", 5), 0);
        cr_expect_eq(config_diagnostics_add_warning(&d, "w%s", "1"), 0);
        EXPECT_ERRORS(&d, "X='5'");
        EXPECT_WARNINGS(&d, "w1");
        config_diagnostics_done(&d);
}

Test(config, daemon_sandbox) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(config_parse(STRV_MAKE(HOME, NAME), &c, &d), 0);
        cr_expect_eq(c.daemon_sandbox, DAEMON_SANDBOX_STRICT, "the node is sandboxed by default");
        cr_expect_eq(c.daemon_properties.n, 0);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_DAEMON_SANDBOX=off"), 0);
        cr_expect_eq(c.daemon_sandbox, DAEMON_SANDBOX_OFF);
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_DAEMON_SANDBOX=Strict"), 0);
        cr_expect_eq(c.daemon_sandbox, DAEMON_SANDBOX_STRICT);
        cr_expect_str_eq(daemon_sandbox_to_string(DAEMON_SANDBOX_OFF), "off");
        cr_expect_null(daemon_sandbox_to_string(_DAEMON_SANDBOX_MAX));

        expect_error("ORAIVISOR_DAEMON_SANDBOX=yes", "ORAIVISOR_DAEMON_SANDBOX='yes' is not valid: expected 'strict' or 'off'.");
        expect_error("ORAIVISOR_DAEMON_SANDBOX=no", "ORAIVISOR_DAEMON_SANDBOX='no' is not valid: expected 'strict' or 'off'.");
}

Test(config, metrics_dir) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(config_parse(STRV_MAKE(HOME, NAME), &c, &d), 0);
        cr_expect_null(c.metrics_dir, "the default is decided at start: node-exporter's folder when it exists");
        cr_expect(!c.metrics_off);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_METRICS_DIR=off"), 0);
        cr_expect(c.metrics_off);
        cr_expect_null(c.metrics_dir);
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_METRICS_DIR=OFF"), 0);
        cr_expect(c.metrics_off);
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_METRICS_DIR=//var/lib/prometheus/node-exporter/"), 0);
        cr_expect(!c.metrics_off);
        cr_expect_str_eq(c.metrics_dir, "/var/lib/prometheus/node-exporter");
        config_done(&c);
        config_diagnostics_done(&d);
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_METRICS_DIR="), 0);
        cr_expect(!c.metrics_off);
        cr_expect_null(c.metrics_dir);

        expect_error("ORAIVISOR_METRICS_DIR=no",
                "ORAIVISOR_METRICS_DIR='no' is not valid: expected 'off' or an absolute path to node-exporter's textfile folder, such as '/var/lib/prometheus/node-exporter'.");
        expect_error("ORAIVISOR_METRICS_DIR=metrics",
                "ORAIVISOR_METRICS_DIR='metrics' is not valid: expected 'off' or an absolute path to node-exporter's textfile folder, such as '/var/lib/prometheus/node-exporter'.");
        expect_error("ORAIVISOR_METRICS_DIR=/var/lib/../prom",
                "ORAIVISOR_METRICS_DIR='/var/lib/../prom' is not valid: expected an absolute path to node-exporter's textfile folder without '.' or '..' components.");
}

Test(config, daemon_properties) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_expect_eq(PARSE(&c, &d, "ORAIVISOR_DAEMON_PROPERTIES=  CPUWeight=200 IOWeight=50\tReadWritePaths=/srv/x "), 0);
        EXPECT_NO_ERRORS(&d);
        cr_assert_eq(c.daemon_properties.n, 3);
        cr_expect_str_eq(c.daemon_properties.items[0].name, "CPUWeight");
        cr_expect_eq(c.daemon_properties.items[0].u64, 200);
        cr_expect_str_eq(c.daemon_properties.items[1].name, "IOWeight");
        cr_expect_eq(c.daemon_properties.items[1].u64, 50);
        cr_expect_str_eq(c.daemon_properties.items[2].name, "ReadWritePaths");
        cr_expect_str_eq(c.daemon_properties.items[2].strv[0], "/srv/x");

        expect_error("ORAIVISOR_DAEMON_PROPERTIES=CPUWeight=200 IOWeight=lots",
                "ORAIVISOR_DAEMON_PROPERTIES: 'IOWeight=lots' is not valid: expected a weight from 1 to 10000 (100 is the default).");
        expect_error("ORAIVISOR_DAEMON_PROPERTIES=ReadWritePaths",
                "ORAIVISOR_DAEMON_PROPERTIES: 'ReadWritePaths' is not an assignment: expected NAME=VALUE, such as 'CPUWeight=200', separated by spaces.");
        expect_error("ORAIVISOR_DAEMON_PROPERTIES=ReadWritePaths=srv/x",
                "ORAIVISOR_DAEMON_PROPERTIES: 'ReadWritePaths=srv/x' is not valid: expected absolute paths without '.' or '..' components, each may start with '-' to ignore a missing one.");
}

Test(config, node_rpc) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(config_diagnostics_done) ConfigDiagnostics d = {};
        cr_assert_eq(config_parse(STRV_MAKE(HOME, NAME), &c, &d), 0);
        cr_expect_null(c.node_rpc);
        cr_expect_not(c.node_rpc_off);
        cr_expect_eq(c.chain_poll_interval, USEC_PER_MINUTE);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_assert_eq(config_parse(STRV_MAKE(HOME, NAME, "ORAIVISOR_NODE_RPC=OFF"), &c, &d), 0);
        cr_expect(c.node_rpc_off);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_assert_eq(config_parse(STRV_MAKE(HOME, NAME, "ORAIVISOR_NODE_RPC=tcp://0.0.0.0:26657", "ORAIVISOR_CHAIN_POLL_INTERVAL=5s"), &c, &d), 0);
        cr_expect_str_eq(c.node_rpc, "tcp://0.0.0.0:26657");
        cr_expect_eq(c.chain_poll_interval, 5 * USEC_PER_SEC);
        config_done(&c);
        config_diagnostics_done(&d);

        cr_expect_eq(config_parse(STRV_MAKE(HOME, NAME, "ORAIVISOR_NODE_RPC=localhost:26657", "ORAIVISOR_CHAIN_POLL_INTERVAL=100ms"), &c, &d), -EINVAL);
        EXPECT_ERRORS(&d,
                "ORAIVISOR_NODE_RPC='localhost:26657' is not valid: the scheme is none of http://, https://, tcp:// or unix://; expected 'off', the node's RPC as in 'http://127.0.0.1:26657', or its socket as in 'unix:///run/oraid/rpc.sock'.",
                "ORAIVISOR_CHAIN_POLL_INTERVAL='100ms' is not valid: expected at least one second, such as '1min' (the default).");
}
