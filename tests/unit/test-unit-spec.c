/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

#include "string-util.h"
#include "strv.h"
#include "unit-spec.h"

static char *escape(const char *s) {
        char *r = NULL;
        cr_assert_eq(unit_name_escape(s, &r), 0);
        return r;
}

Test(unit_name, escape_like_systemd) {
        /* Expected values as systemd-escape(1) prints them. */
        static const struct { const char *in, *out; } cases[] = {
                { "oraid", "oraid" },
                { "foo-bar", "foo\\x2dbar" },
                { "a/b", "a-b" },
                { ".hidden", "\\x2ehidden" },
                { "a.b", "a.b" },
                { "x y", "x\\x20y" },
                { "a\\b", "a\\x5cb" },
                { "c:d_e", "c:d_e" },
                { "ü", "\\xc3\\xbc" },
                { "@", "\\x40" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *r = escape(cases[i].in);
                cr_assert_str_eq(r, cases[i].out, "escape('%s')", cases[i].in);
        }
}

Test(unit_name, valid_service_names) {
        cr_assert(unit_name_is_valid_service("oraid-node.service"));
        cr_assert(unit_name_is_valid_service("oraivisor-daemon@oraid.service"));
        cr_assert(unit_name_is_valid_service("a@b\\x2dc.service"));
        cr_assert_not(unit_name_is_valid_service(".service"));
        cr_assert_not(unit_name_is_valid_service("@x.service"));
        cr_assert_not(unit_name_is_valid_service("foo@.service"));
        cr_assert_not(unit_name_is_valid_service("foo.socket"));
        cr_assert_not(unit_name_is_valid_service("foo"));
        cr_assert_not(unit_name_is_valid_service("a@b@c.service"));
        cr_assert_not(unit_name_is_valid_service("a b.service"));
        cr_assert_not(unit_name_is_valid_service("a/b.service"));
        cr_assert_not(unit_name_is_valid_service(""));
        cr_assert_not(unit_name_is_valid_service(NULL));

        char longname[300];
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 255 - STRLEN(".service"), ".service");
        cr_assert(unit_name_is_valid_service(longname));
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 256 - STRLEN(".service"), ".service");
        cr_assert_not(unit_name_is_valid_service(longname));
}

Test(unit_name, instance) {
        _cleanup_free_ char *i = NULL;
        cr_assert_eq(unit_name_instance("oraivisor@fakechaind.service", &i), 0);
        cr_assert_str_eq(i, "fakechaind");
        cr_assert_eq(unit_name_instance("oraivisor.service", &i), -ENXIO);
        cr_assert_eq(unit_name_instance("session-3.scope", &i), -ENXIO);
        cr_assert_eq(unit_name_instance(NULL, &i), -ENXIO);
}

Test(unit_name, oraivisor_instance) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        /* oraivisor@<instance>.service: the instance, escaped as %i, whatever DAEMON_NAME is. */
        cr_assert_eq(oraivisor_instance("oraivisor@main\\x2dnet.service", "oraid", &a), 0);
        cr_assert_str_eq(a, "main\\x2dnet");
        cr_assert_eq(oraivisor_instance("oraivisor@fleet1.service", NULL, &b), 0);
        cr_assert_str_eq(b, "fleet1");

        /* Not an instance of a template (a unit of the operator's own, a terminal's scope, none):
         * DAEMON_NAME, escaped. */
        cr_assert_eq(oraivisor_instance("oraid.service", "my-node", &c), 0);
        cr_assert_str_eq(c, "my\\x2dnode");
        cr_assert_eq(oraivisor_instance(NULL, "oraid", &d), 0);
        cr_assert_str_eq(d, "oraid");

        cr_assert_eq(oraivisor_instance("session-2.scope", NULL, &e), -EINVAL);
        cr_assert_eq(oraivisor_instance(NULL, "", &e), -EINVAL);
        cr_assert_null(e);
}

Test(unit_name, daemon_unit_name_derivation) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        /* Override wins, as given. */
        cr_assert_eq(daemon_unit_name("oraid-node.service", "oraivisor@x.service", "oraid", &a), 0);
        cr_assert_str_eq(a, "oraid-node.service");
        cr_assert_eq(daemon_unit_name("bad name.service", NULL, "oraid", &e), -EINVAL);
        cr_assert_null(e);

        /* Our own unit's instance, kept escaped (it is %i already). */
        cr_assert_eq(daemon_unit_name(NULL, "oraivisor@main\\x2dnet.service", "oraid", &b), 0);
        cr_assert_str_eq(b, "oraivisor-daemon@main\\x2dnet.service");

        /* Not a template instance (a terminal's scope): DAEMON_NAME, escaped. */
        cr_assert_eq(daemon_unit_name(NULL, "session-2.scope", "my-node", &c), 0);
        cr_assert_str_eq(c, "oraivisor-daemon@my\\x2dnode.service");
        cr_assert_eq(daemon_unit_name(NULL, NULL, "oraid", &d), 0);
        cr_assert_str_eq(d, "oraivisor-daemon@oraid.service");

        cr_assert_eq(daemon_unit_name(NULL, NULL, "", &e), -EINVAL);
        char big[300];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        cr_assert_eq(daemon_unit_name(NULL, NULL, big, &e), -EINVAL);
}

Test(unit_spec, description_is_not_the_command_line) {
        _cleanup_free_ char *d = NULL, *e = NULL;
        cr_assert_eq(daemon_unit_description("oraid", "v2", &d), 0);
        cr_assert_str_eq(d, "oraid chain node (v2), run by oraivisor");
        /* Control characters cannot sneak a second line into systemd's "Starting …" message. */
        cr_assert_eq(daemon_unit_description("oraid", "x\ny\tz", &e), 0);
        cr_assert_str_eq(e, "oraid chain node (x y z), run by oraivisor");
}

Test(unit_spec, env_assignment_validity) {
        cr_assert(unit_env_assignment_is_valid("A=b"));
        cr_assert(unit_env_assignment_is_valid("_x1=with space and $dollar"));
        cr_assert(unit_env_assignment_is_valid("EMPTY="));
        cr_assert(unit_env_assignment_is_valid("U=\xc3\xbc"));
        cr_assert_not(unit_env_assignment_is_valid("1A=b"));
        cr_assert_not(unit_env_assignment_is_valid("=b"));
        cr_assert_not(unit_env_assignment_is_valid("NOEQUALS"));
        cr_assert_not(unit_env_assignment_is_valid("BASH_FUNC_f%%=() { :; }"));
        cr_assert_not(unit_env_assignment_is_valid("A-B=c"));
        cr_assert_not(unit_env_assignment_is_valid("BAD=\xff"));
        cr_assert_not(unit_env_assignment_is_valid("OVERLONG=\xc0\xaf"));
        cr_assert_not(unit_env_assignment_is_valid("SURROGATE=\xed\xa0\x80"));
}

Test(unit_spec, environment_filter) {
        char *const env[] = {
                "PATH=/usr/bin", "DAEMON_HOME=/var/lib/oraid", "NOTIFY_SOCKET=/run/systemd/notify",
                "WATCHDOG_USEC=30000000", "WATCHDOG_PID=12", "INVOCATION_ID=0123", "LISTEN_FDS=1", "LISTEN_PID=3",
                "JOURNAL_STREAM=8:99", "STATE_DIRECTORY=/var/lib/oraivisor/x", "HOME=/root", "USER=root",
                "ARGS=$HOME literal", "BASH_FUNC_x%%=() { :; }", "LD_LIBRARY_PATH=/x/lib", NULL,
        };
        _cleanup_strv_free_ char **same = NULL, **other = NULL;
        size_t n_invalid = 99;

        cr_assert_eq(daemon_unit_environment(env, false, &same, &n_invalid), 0);
        cr_assert_eq(n_invalid, 1);
        char *const expected_same[] = { "PATH=/usr/bin", "DAEMON_HOME=/var/lib/oraid", "HOME=/root", "USER=root",
                                        "ARGS=$HOME literal", "LD_LIBRARY_PATH=/x/lib", NULL };
        cr_assert_eq(strv_length(same), strv_length(expected_same));
        for (size_t i = 0; expected_same[i]; i++)
                cr_assert_str_eq(same[i], expected_same[i]);

        /* Another user: systemd sets HOME/USER from it. */
        cr_assert_eq(daemon_unit_environment(env, true, &other, NULL), 0);
        cr_assert_not(strv_contains(other, "HOME=/root"));
        cr_assert_not(strv_contains(other, "USER=root"));
        cr_assert(strv_contains(other, "DAEMON_HOME=/var/lib/oraid"));
        cr_assert(strv_contains(other, "LD_LIBRARY_PATH=/x/lib"));
}

Test(unit_spec, build) {
        char *const argv[] = { "/h/oraivisor/upgrades/v2/bin/oraid", "start", "--home", "$HOME", NULL };
        char *const env[] = { "A=1", "NOTIFY_SOCKET=/x", NULL };
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec s = {}, z = {};

        cr_assert_eq(daemon_unit_spec_build("oraivisor-daemon@oraid.service", "oraid", "v2", argv[0], argv, env, "/h",
                             "node", NULL, 45 * USEC_PER_SEC, 65536, UINT64_MAX, DAEMON_SANDBOX_STRICT, "/h", NULL, &s), 0);
        cr_assert_str_eq(s.name, "oraivisor-daemon@oraid.service");
        cr_assert_str_eq(s.description, "oraid chain node (v2), run by oraivisor");
        cr_assert_str_eq(s.binary, argv[0]);
        cr_assert_eq(s.argv, argv);
        cr_assert_str_eq(s.argv[3], "$HOME"); /* passed as is: ExecStartEx no-env-expand */
        cr_assert_str_eq(s.user, "node");
        cr_assert_null(s.group);
        cr_assert_str_eq(s.syslog_identifier, "oraid");
        cr_assert_eq(s.timeout_stop, 45 * USEC_PER_SEC);
        cr_assert_eq(s.limit_nofile, 65536);
        cr_assert_eq(s.memory_max, UINT64_MAX);
        cr_assert_eq(s.kill_signal, SIGTERM);
        cr_assert_eq(strv_length(s.environment), 1);
        cr_assert_str_eq(s.environment[0], "A=1");

        /* A grace of 0 must not become systemd's "no timeout". */
        cr_assert_eq(daemon_unit_spec_build("u.service", "oraid", NULL, argv[0], argv, NULL, NULL, "", "", 0, 0, 1 << 30,
                             DAEMON_SANDBOX_OFF, "/h", NULL, &z), 0);
        cr_assert_eq(z.timeout_stop, USEC_PER_MSEC);
        cr_assert_null(z.user);
        cr_assert_null(z.group);
        cr_assert_str_eq(z.description, "oraid chain node (unknown version), run by oraivisor");
        cr_assert_eq(z.sandbox.n, 0, "ORAIVISOR_DAEMON_SANDBOX=off: the unit as before, no sandbox");
        cr_assert_null(z.extra);

        DaemonUnitSpec bad = {};
        char *const rel[] = { "oraid", NULL };
        cr_assert_eq(daemon_unit_spec_build("u.service", "oraid", NULL, "oraid", rel, NULL, NULL, NULL, NULL, 0, 0, 0,
                             DAEMON_SANDBOX_STRICT, "/h", NULL, &bad), -EINVAL);
}

static const UnitProperty *find(const UnitPropertyList *l, const char *name) {
        const UnitProperty *found = NULL;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name))
                        found = &l->items[i]; /* the last one: what systemd ends up with */
        return found;
}

static void assert_bool(const UnitPropertyList *l, const char *name, bool v) {
        const UnitProperty *p = find(l, name);
        cr_assert_not_null(p, "%s missing", name);
        cr_assert_eq(p->type, UNIT_PROPERTY_BOOL, "%s", name);
        cr_assert_eq(p->b, v, "%s", name);
}

static void assert_string(const UnitPropertyList *l, const char *name, const char *v) {
        const UnitProperty *p = find(l, name);
        cr_assert_not_null(p, "%s missing", name);
        cr_assert_eq(p->type, UNIT_PROPERTY_STRING, "%s", name);
        cr_assert_str_eq(p->s, v, "%s", name);
}

static char *joined(char **l) {
        char *s = NULL;
        STRV_FOREACH(w, l)
                cr_assert_eq(strextendf(&s, "%s%s", s ? " " : "", *w), 0);
        return s;
}

Test(unit_spec, sandbox_strict_other_user) {
        char *const argv[] = { "/var/lib/oraid/oraivisor/current/bin/oraid", "start", NULL };
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec s = {};
        cr_assert_eq(daemon_unit_spec_build("u.service", "oraid", "v2", argv[0], argv, NULL, "/var/lib/oraid", "oraid",
                             NULL, USEC_PER_SEC, 0, UINT64_MAX, DAEMON_SANDBOX_STRICT, "/var/lib/oraid", NULL, &s), 0);
        const UnitPropertyList *l = &s.sandbox;

        static const char *const yes[] = {
                "NoNewPrivileges", "PrivateTmp", "PrivateDevices", "PrivateMounts", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
                "ProtectHostname", "RestrictSUIDSGID", "LockPersonality", "RestrictRealtime",
        };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                assert_bool(l, yes[i], true);
        assert_string(l, "ProtectSystem", "strict");
        assert_string(l, "ProtectHome", "yes");
        assert_string(l, "ProtectProc", "invisible");
        cr_assert_null(find(l, "MemoryDenyWriteExecute"), "CosmWasm needs W+X memory");
        cr_assert_null(find(l, "BindPaths"));

        const UnitProperty *p = find(l, "ReadWritePaths");
        cr_assert_not_null(p);
        cr_assert_eq(p->type, UNIT_PROPERTY_STRV);
        _cleanup_free_ char *rw = joined(p->strv);
        cr_assert_str_eq(rw, "/var/lib/oraid", "the home only: the node does not write backups");

        p = find(l, "RestrictNamespaces");
        cr_assert(p && p->type == UNIT_PROPERTY_U64 && p->u64 == 0, "no namespace may be created");

        p = find(l, "RestrictAddressFamilies");
        cr_assert(p && p->type == UNIT_PROPERTY_BOOL_STRV && p->b, "an allow-list");
        _cleanup_free_ char *af = joined(p->strv);
        cr_assert_str_eq(af, "AF_UNIX AF_INET AF_INET6 AF_NETLINK");

        p = find(l, "SystemCallArchitectures");
        cr_assert(p && p->type == UNIT_PROPERTY_STRV && strv_length(p->strv) == 1 && streq(p->strv[0], "native"));
        p = find(l, "SystemCallFilter");
        cr_assert(p && p->type == UNIT_PROPERTY_BOOL_STRV && p->b && streq(p->strv[0], "@system-service"));
        p = find(l, "SystemCallErrorNumber");
        cr_assert(p && p->type == UNIT_PROPERTY_I32 && p->i32 == EPERM, "a refused call fails, it does not kill");

        p = find(l, "CapabilityBoundingSet");
        cr_assert(p && p->type == UNIT_PROPERTY_U64 && p->u64 == 0, "no capabilities for another user");
        p = find(l, "AmbientCapabilities");
        cr_assert(p && p->type == UNIT_PROPERTY_U64 && p->u64 == 0);
}

Test(unit_spec, sandbox_root_keeps_capabilities) {
        const char *const roots[] = { NULL, "", "root", "0" };
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                cr_assert(daemon_user_is_root(roots[i]));
                _cleanup_(unit_property_list_done) UnitPropertyList l = {};
                cr_assert_eq(daemon_unit_sandbox("/var/lib/oraid", daemon_user_is_root(roots[i]), &l), 0);
                cr_assert_null(find(&l, "CapabilityBoundingSet"));
                cr_assert_null(find(&l, "AmbientCapabilities"));
                assert_bool(&l, "NoNewPrivileges", true);
                assert_string(&l, "ProtectSystem", "strict");
        }
        cr_assert_not(daemon_user_is_root("oraid"));
        cr_assert_not(daemon_user_is_root("1500"));
        cr_assert_not(daemon_user_is_root("rooty"));
}

Test(unit_spec, sandbox_home_under_home_is_bound) {
        const char *const homes[] = { "/home/val/.oraid", "/root/.oraid", "/run/user/1000/oraid" };
        for (size_t i = 0; i < ELEMENTSOF(homes); i++) {
                _cleanup_(unit_property_list_done) UnitPropertyList l = {};
                cr_assert_eq(daemon_unit_sandbox(homes[i], false, &l), 0);
                assert_string(&l, "ProtectHome", "tmpfs");
                cr_assert_null(find(&l, "ReadWritePaths"), "%s", homes[i]);
                const UnitProperty *p = find(&l, "BindPaths");
                cr_assert(p && p->type == UNIT_PROPERTY_BIND && strv_length(p->strv) == 3, "%s", homes[i]);
                cr_assert_str_eq(p->strv[0], homes[i]);
                cr_assert_str_eq(p->strv[1], homes[i]);
                cr_assert_str_eq(p->strv[2], "", "a missing home is an error, not ignored");
        }
        /* Only below those folders: /homes and /home itself are not. */
        const char *const others[] = { "/homes/x", "/srv/home/x", "/var/lib/home" };
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                _cleanup_(unit_property_list_done) UnitPropertyList l = {};
                cr_assert_eq(daemon_unit_sandbox(others[i], false, &l), 0);
                assert_string(&l, "ProtectHome", "yes");
                cr_assert_null(find(&l, "BindPaths"));
        }
        /* A home in the host's /tmp would be hidden by a private one. */
        const char *const tmps[] = { "/tmp/x/home", "/var/tmp/oraid" };
        for (size_t i = 0; i < ELEMENTSOF(tmps); i++) {
                _cleanup_(unit_property_list_done) UnitPropertyList t = {};
                cr_assert_eq(daemon_unit_sandbox(tmps[i], false, &t), 0);
                assert_bool(&t, "PrivateTmp", false);
                assert_string(&t, "ProtectSystem", "strict");
        }
        _cleanup_(unit_property_list_done) UnitPropertyList t = {};
        cr_assert_eq(daemon_unit_sandbox("/var/tmpx/oraid", false, &t), 0);
        assert_bool(&t, "PrivateTmp", true);

        /* A home with a space is one path, not two. */
        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        cr_assert_eq(daemon_unit_sandbox("/srv/my node", false, &l), 0);
        const UnitProperty *p = find(&l, "ReadWritePaths");
        cr_assert(p && strv_length(p->strv) == 1 && streq(p->strv[0], "/srv/my node"));
        UnitPropertyList bad = {};
        cr_assert_eq(daemon_unit_sandbox("relative", false, &bad), -EINVAL);
        unit_property_list_done(&bad);
}

Test(unit_spec, operator_properties_come_after) {
        char *const argv[] = { "/h/bin/oraid", NULL };
        _cleanup_(unit_property_list_done) UnitPropertyList extra = {};
        cr_assert_eq(unit_properties_parse("CPUWeight=200 PrivateTmp=no", &extra, NULL), 0);
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec s = {};
        cr_assert_eq(daemon_unit_spec_build("u.service", "oraid", NULL, argv[0], argv, NULL, NULL, "oraid", NULL, 0, 0,
                             UINT64_MAX, DAEMON_SANDBOX_STRICT, "/h", &extra, &s), 0);
        cr_assert_eq(s.extra, &extra);
        assert_bool(&s.sandbox, "PrivateTmp", true);
        assert_bool(s.extra, "PrivateTmp", false);
}

Test(unit_spec, exec_status_names) {
        cr_assert_str_eq(unit_exec_status_to_string(203), "EXEC");
        cr_assert_str_eq(unit_exec_status_to_string(217), "USER");
        cr_assert_str_eq(unit_exec_status_to_string(200), "CHDIR");
        cr_assert_null(unit_exec_status_to_string(1));
        cr_assert_null(unit_exec_status_to_string(143));
        cr_assert_null(unit_exec_status_to_string(255));
}

Test(cursor_state, round_trip) {
        JournalCursorState s = {
                .unit = "oraivisor-daemon@oraid.service",
                .invocation = "0123456789abcdef0123456789abcdef",
                .cursor = "s=abc;i=1f;b=def;m=12;t=34;x=56",
        };
        _cleanup_free_ char *t = NULL;
        cr_assert_eq(journal_cursor_state_format(&s, &t), 0);
        cr_assert_str_eq(t, "UNIT=oraivisor-daemon@oraid.service\nINVOCATION=0123456789abcdef0123456789abcdef\n"
                            "CURSOR=s=abc;i=1f;b=def;m=12;t=34;x=56\n");

        _cleanup_(journal_cursor_state_done) JournalCursorState p = {};
        cr_assert_eq(journal_cursor_state_parse(t, strlen(t), &p), 0);
        cr_assert_str_eq(p.unit, s.unit);
        cr_assert_str_eq(p.invocation, s.invocation);
        cr_assert_str_eq(p.cursor, s.cursor);
}

Test(cursor_state, rejects_damage) {
        static const char *const bad[] = {
                "",
                "UNIT=u.service\nINVOCATION=0123456789abcdef0123456789abcdef\n",           /* no cursor */
                "UNIT=u.service\nINVOCATION=0123456789ABCDEF0123456789ABCDEF\nCURSOR=c\n", /* upper case */
                "UNIT=u.service\nINVOCATION=0123\nCURSOR=c\n",
                "UNIT=u.service\nUNIT=v.service\nINVOCATION=0123456789abcdef0123456789abcdef\nCURSOR=c\n",
                "UNIT=u.service\nINVOCATION=0123456789abcdef0123456789abcdef\nCURSOR=c\nEXTRA=1\n",
                "garbage",
                "UNIT=u.service\nINVOCATION=0123456789abcdef0123456789abcdef\nCURSOR=\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                JournalCursorState p = {};
                cr_assert_eq(journal_cursor_state_parse(bad[i], strlen(bad[i]), &p), -EBADMSG, "case %zu", i);
                cr_assert_null(p.unit);
        }
        /* A NUL inside (a torn write on some file systems). */
        static const char nul[] = "UNIT=u.service\0\nINVOCATION=0123456789abcdef0123456789abcdef\nCURSOR=c\n";
        JournalCursorState p = {};
        cr_assert_eq(journal_cursor_state_parse(nul, sizeof(nul) - 1, &p), -EBADMSG);

        JournalCursorState f = { .unit = "u.service", .invocation = "nothex", .cursor = "c" };
        char *t = NULL;
        cr_assert_eq(journal_cursor_state_format(&f, &t), -EINVAL);
        cr_assert_null(t);
}

Test(invocation, validity) {
        cr_assert(invocation_id_is_valid("0123456789abcdef0123456789abcdef"));
        cr_assert_not(invocation_id_is_valid("0123456789abcdef0123456789abcde"));
        cr_assert_not(invocation_id_is_valid("0123456789abcdef0123456789abcdeg"));
        cr_assert_not(invocation_id_is_valid(NULL));
}

/* ---- the unit of a readiness check, derived from the node's ---------------------------------------- */

static bool strv_equal(char *const *a, char *const *b) {
        if (!a || !b)
                return !a && !b;
        size_t i = 0;
        for (; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

static const char *strv_find_prefix(char *const *l, const char *prefix) {
        STRV_FOREACH(s, l)
                if (startswith(*s, prefix))
                        return *s;
        return NULL;
}

static char *check_name(const char *node, const char *version, uint64_t random) {
        char *r = NULL;
        cr_assert_eq(check_unit_name(node, version, random, &r), 0, "%s %s", node, version);
        cr_assert(unit_name_is_valid_service(r), "%s", r);
        cr_assert_leq(strlen(r), UNIT_NAME_MAX);
        return r;
}

Test(check_unit, name) {
        _cleanup_free_ char *a = check_name("oraivisor-daemon@oraid.service", "v2", UINT64_C(0x0123456789abcdef));
        cr_assert_str_eq(a, "oraivisor-daemon@oraid-check-v2-0123456789abcdef.service",
                "an instance of the node's template: its drop-ins apply to the check too");
        _cleanup_free_ char *b = check_name("oraid-node.service", "genesis", 1);
        cr_assert_str_eq(b, "oraid-node-check-genesis-0000000000000001.service");
        /* Escaped as systemd-escape does: '-', '.', spaces, UTF-8, '@' and a leading '.'. */
        _cleanup_free_ char *c = check_name("oraivisor-daemon@x.service", "v2.0-rc 1@ü", 2);
        cr_assert_str_eq(c, "oraivisor-daemon@x-check-v2.0\\x2drc\\x201\\x40\\xc3\\xbc-0000000000000002.service");
        _cleanup_free_ char *d = check_name("oraivisor-daemon@x.service", ".hidden", 3);
        cr_assert_str_eq(d, "oraivisor-daemon@x-check-\\x2ehidden-0000000000000003.service");

        /* A long version is cut to fit, never inside an escape. */
        for (size_t pad = 0; pad < 4; pad++) {
                _cleanup_free_ char *v = NULL, *node = NULL;
                cr_assert_eq(asprintf(&node, "oraivisor-daemon@%.*s.service", (int) pad, "xyz"), pad == 0 ? 25 : 25 + (int) pad);
                for (int i = 0; i < 200; i++)
                        cr_assert_eq(strextendf(&v, "ü"), 0);
                _cleanup_free_ char *n = check_name(pad == 0 ? "oraivisor-daemon@q.service" : node, v, 4);
                cr_assert_eq(strlen(n) <= UNIT_NAME_MAX, true);
                cr_assert(endswith(n, "-0000000000000004.service"), "%s", n);
                const char *cut = strstr(n, "-check-") + STRLEN("-check-");
                size_t len = strlen(cut) - STRLEN("-0000000000000004.service");
                cr_assert_eq(len % 4, 0, "whole escapes only: %s", n);
                cr_assert_gt(len, 150, "as much of the version as fits: %s", n);
        }

        /* A node unit too long to leave room: a plain recognisable name. */
        _cleanup_free_ char *longnode = NULL;
        cr_assert_eq(asprintf(&longnode, "%0240d.service", 0), 248);
        _cleanup_free_ char *e = check_name(longnode, "v2", 5);
        cr_assert_str_eq(e, "oraivisor-check-0000000000000005.service");

        char *bad = NULL;
        cr_assert_eq(check_unit_name("not a unit", "v2", 1, &bad), -EINVAL);
        cr_assert_eq(check_unit_name("x.socket", "v2", 1, &bad), -EINVAL);
        cr_assert_null(bad);
}

static void assert_same_property(const UnitProperty *a, const UnitProperty *b) {
        cr_assert_str_eq(a->name, b->name);
        cr_assert_eq(a->type, b->type, "%s", a->name);
        cr_assert_eq(a->b, b->b, "%s", a->name);
        cr_assert_eq(a->u64, b->u64, "%s", a->name);
        cr_assert_eq(a->i32, b->i32, "%s", a->name);
        cr_assert_str_eq(strempty(a->s), strempty(b->s), "%s", a->name);
        cr_assert_eq(!a->s, !b->s, "%s", a->name);
        cr_assert(strv_equal(a->strv, b->strv), "%s", a->name);
        cr_assert(!a->strv || a->strv != b->strv, "%s: copied, not shared", a->name);
}

static void check_derived(const char *user, const char *home) {
        char *const node_argv[] = { "/h/oraivisor/upgrades/v2/bin/oraid", "start", "--home", "/h", NULL };
        char *const env[] = { "A=1", "LD_LIBRARY_PATH=/h/oraivisor/upgrades/v2/lib", "NOTIFY_SOCKET=/x", "HOME=/root",
                NULL };
        _cleanup_(unit_property_list_done) UnitPropertyList extra = {};
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(unit_properties_parse("InaccessiblePaths=/srv/secret BindReadOnlyPaths=/srv/lib:/opt/lib CPUWeight=200 "
                                           "MemoryHigh=4G TasksMax=512 PrivateTmp=no SystemCallFilter=~@mount "
                                           "RestrictAddressFamilies=AF_UNIX ReadWritePaths=-/srv/extra Nice=5",
                             &extra, &err), 0, "%s", strna(err));
        /* Never in a node's unit, so never in a check's: the launcher alone decides those. */
        cr_assert_eq(unit_properties_parse("Restart=always", &(UnitPropertyList) {}, NULL), -EINVAL);
        cr_assert_eq(unit_properties_parse("WatchdogSec=10", &(UnitPropertyList) {}, NULL), -EINVAL);
        cr_assert_eq(unit_properties_parse("Type=notify", &(UnitPropertyList) {}, NULL), -EINVAL);

        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec node = {}, check = {};
        cr_assert_eq(daemon_unit_spec_build("oraivisor-daemon@oraid.service", "oraid", "v2", node_argv[0], node_argv, env,
                             home, user, user ? "chain" : NULL, 45 * USEC_PER_SEC, 65536, 8ULL << 30,
                             DAEMON_SANDBOX_STRICT, home, &extra, &node), 0);
        cr_assert_gt(node.sandbox.n, 20);
        cr_assert_str_eq(node.kill_mode, "mixed");
        cr_assert_eq(node.runtime_max, 0);
        cr_assert_not(node.output_to_fds, "the node logs to the journal");

        char *const argv[] = { "/h/oraivisor/upgrades/v2/bin/oraid", "version", NULL };
        char *const set[] = { "LD_TRACE_LOADED_OBJECTS=1", "A=2", NULL };
        const char *name = "oraivisor-daemon@oraid-check-v2-0000000000000001.service";
        cr_assert_eq(check_unit_spec_build(&node, name, "v2", "version", argv, set, 10 * USEC_PER_SEC, &check), 0);

        /* Every sandbox setting, in the same order, with the same values; the operator's properties too. */
        cr_assert_eq(check.sandbox.n, node.sandbox.n);
        for (size_t i = 0; i < node.sandbox.n; i++)
                assert_same_property(&check.sandbox.items[i], &node.sandbox.items[i]);
        cr_assert_eq(check.extra, node.extra);
        cr_assert_eq(check.extra->n, 10);
        /* As the node: the user, the folder, the limits. */
        cr_assert_str_eq(strempty(check.user), strempty(node.user));
        cr_assert_eq(!check.user, !node.user);
        cr_assert_str_eq(strempty(check.group), strempty(node.group));
        cr_assert_str_eq(check.working_directory, home);
        cr_assert_eq(check.limit_nofile, 65536);
        cr_assert_eq(check.memory_max, 8ULL << 30);
        cr_assert_str_eq(check.syslog_identifier, "oraid");
        /* The node's environment (oraivisor's own unit's variables gone, lib/ first), plus the check's. */
        cr_assert(strv_contains(check.environment, "LD_LIBRARY_PATH=/h/oraivisor/upgrades/v2/lib"));
        cr_assert(strv_contains(check.environment, "LD_TRACE_LOADED_OBJECTS=1"));
        cr_assert(strv_contains(check.environment, "A=2"));
        cr_assert_not(strv_contains(check.environment, "A=1"));
        cr_assert_not(strv_find_prefix(check.environment, "NOTIFY_SOCKET="));
        cr_assert_eq(!!strv_find_prefix(check.environment, "HOME="), !user, "systemd sets HOME= from User=");
        cr_assert_eq(strv_length(check.environment), strv_length(node.environment) + 1);
        cr_assert_eq(strv_length(node.environment), user ? 2 : 3, "the node's own is unchanged");
        /* ExecStart replaced: the program and its arguments, nothing of the node's command line. */
        cr_assert_str_eq(check.binary, argv[0]);
        cr_assert_eq(check.argv, argv);
        cr_assert_str_eq(check.name, name);
        cr_assert_str_eq(check.description, "oraid readiness check of v2 (version), run by oraivisor");
        /* A time limit, killed outright with all its processes, output into the caller's fds. */
        cr_assert_eq(check.runtime_max, 10 * USEC_PER_SEC);
        cr_assert_str_eq(check.kill_mode, "control-group");
        cr_assert_eq(check.kill_signal, SIGKILL);
        cr_assert_leq(check.timeout_stop, 5 * USEC_PER_SEC);
        cr_assert(check.output_to_fds);
        cr_assert_lt(check.stdout_fd, 0, "filled in by the bus layer");
}

Test(check_unit, derived_from_the_node_other_user) {
        check_derived("node", "/var/lib/oraid");
}

Test(check_unit, derived_from_the_node_root_home_in_home) {
        /* ProtectHome=tmpfs and BindPaths= of the home, capabilities kept: carried over as they are. */
        check_derived(NULL, "/home/val/.oraid");
}

Test(check_unit, derived_refuses) {
        char *const node_argv[] = { "/h/bin/oraid", "start", NULL };
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec node = {};
        cr_assert_eq(daemon_unit_spec_build("u.service", "oraid", "v2", node_argv[0], node_argv, NULL, "/h", NULL, NULL,
                             USEC_PER_SEC, 0, UINT64_MAX, DAEMON_SANDBOX_OFF, "/h", NULL, &node), 0);
        DaemonUnitSpec c = {};
        char *const rel[] = { "oraid", "version", NULL };
        char *const ok[] = { "/h/bin/oraid", "version", NULL };
        char *const bad_env[] = { "1X=2", NULL };
        cr_assert_eq(check_unit_spec_build(&node, "u-check.service", "v2", "version", rel, NULL, 1, &c), -EINVAL);
        cr_assert_eq(check_unit_spec_build(&node, "u check.service", "v2", "version", ok, NULL, 1, &c), -EINVAL);
        cr_assert_eq(check_unit_spec_build(&node, "u-check.service", "v2", "version", ok, bad_env, 1, &c), -EINVAL);
        cr_assert_null(c.description);
}

Test(unit_property, copy) {
        _cleanup_(unit_property_list_done) UnitPropertyList l = {}, c = {}, e = {}, ce = {};
        cr_assert_eq(unit_properties_parse("CPUWeight=7 ProtectHome=tmpfs BindPaths=-/a:/b ReadOnlyPaths=/x", &l, NULL), 0);
        cr_assert_eq(unit_property_list_copy(&l, &c), 0);
        cr_assert_eq(c.n, l.n);
        for (size_t i = 0; i < l.n; i++)
                assert_same_property(&c.items[i], &l.items[i]);
        cr_assert_eq(unit_property_list_copy(&e, &ce), 0);
        cr_assert_eq(ce.n, 0);
}
