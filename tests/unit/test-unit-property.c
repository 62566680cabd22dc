/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <sched.h>

#include "string-util.h"
#include "strv.h"
#include "unit-property.h"

static void parse_ok(const char *text, UnitPropertyList *l) {
        _cleanup_free_ char *e = NULL;
        int r = unit_properties_parse(text, l, &e);
        cr_assert_eq(r, 0, "'%s': r=%d %s", text, r, strna(e));
        cr_assert_null(e);
}

static void parse_fails(const char *text, const char *error) {
        _cleanup_free_ char *e = NULL;
        UnitPropertyList l = { .n = 77 }; /* untouched on failure */
        cr_assert_eq(unit_properties_parse(text, &l, &e), -EINVAL, "'%s'", text);
        cr_assert_eq(l.n, 77);
        cr_assert_not_null(e, "'%s'", text);
        cr_assert_null(strchr(e, '\n'), "one line: %s", e);
        if (error)
                cr_assert_str_eq(e, error, "'%s'", text);
}

static const UnitProperty *one(const char *text, UnitPropertyList *l) {
        parse_ok(text, l);
        cr_assert_eq(l->n, 1, "'%s'", text);
        return &l->items[0];
}

Test(unit_property, empty_is_nothing) {
        UnitPropertyList l = {};
        parse_ok("", &l);
        cr_assert_eq(l.n, 0);
        parse_ok(" \t ", &l);
        cr_assert_eq(l.n, 0);
        cr_assert_eq(unit_properties_parse(NULL, &l, NULL), 0);
        cr_assert_eq(l.n, 0);
        unit_property_list_done(&l);
}

Test(unit_property, resources) {
        static const struct {
                const char *text, *name;
                uint64_t value;
        } cases[] = {
                { "CPUWeight=200", "CPUWeight", 200 },
                { "StartupCPUWeight=1", "StartupCPUWeight", 1 },
                { "IOWeight=10000", "IOWeight", 10000 },
                { "StartupIOWeight=50", "StartupIOWeight", 50 },
                { "CPUQuota=200%", "CPUQuotaPerSecUSec", 2000000 },
                { "CPUQuota=1%", "CPUQuotaPerSecUSec", 10000 },
                { "MemoryMax=8G", "MemoryMax", UINT64_C(8) << 30 },
                { "MemoryHigh=512M", "MemoryHigh", UINT64_C(512) << 20 },
                { "MemoryLow=1024", "MemoryLow", 1024 },
                { "MemoryMin=infinity", "MemoryMin", UINT64_MAX },
                { "MemorySwapMax=0", "MemorySwapMax", 0 },
                { "TasksMax=4096", "TasksMax", 4096 },
                { "TasksMax=infinity", "TasksMax", UINT64_MAX },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(unit_property_list_done) UnitPropertyList l = {};
                const UnitProperty *p = one(cases[i].text, &l);
                cr_assert_str_eq(p->name, cases[i].name);
                cr_assert_eq(p->type, UNIT_PROPERTY_U64);
                cr_assert_eq(p->u64, cases[i].value, "%s", cases[i].text);
        }

        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        parse_ok("Nice=-20 OOMScoreAdjust=-1000 Nice=19 OOMScoreAdjust=1000", &l);
        cr_assert_eq(l.n, 4);
        cr_assert(l.items[0].type == UNIT_PROPERTY_I32 && l.items[0].i32 == -20);
        cr_assert(l.items[1].type == UNIT_PROPERTY_I32 && l.items[1].i32 == -1000);
        cr_assert_eq(l.items[2].i32, 19);
        cr_assert_eq(l.items[3].i32, 1000);
}

Test(unit_property, bad_resources) {
        parse_fails("CPUWeight=0", "'CPUWeight=0' is not valid: expected a weight from 1 to 10000 (100 is the default).");
        parse_fails("CPUWeight=10001", NULL);
        parse_fails("CPUWeight=", NULL);
        parse_fails("CPUWeight=-1", NULL);
        parse_fails("IOWeight=high", NULL);
        parse_fails("CPUQuota=200", "'CPUQuota=200' is not valid: expected a whole percentage of one CPU above 0, such as '200%'.");
        parse_fails("CPUQuota=0%", NULL);
        parse_fails("CPUQuota=%", NULL);
        parse_fails("CPUQuota=1.5%", NULL);
        parse_fails("MemoryMax=lots", "'MemoryMax=lots' is not valid: expected a size such as '8G' (K, M, G, T are powers of 1024), or 'infinity'.");
        parse_fails("MemoryMax=50%", NULL);
        parse_fails("TasksMax=1K", NULL);
        parse_fails("Nice=20", "'Nice=20' is not valid: expected a nice level from -20 to 19.");
        parse_fails("Nice=-21", NULL);
        parse_fails("OOMScoreAdjust=1001", NULL);
        parse_fails("OOMScoreAdjust=-1001", NULL);
}

Test(unit_property, paths) {
        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        parse_ok("ReadWritePaths=/srv/x ReadWritePaths=-/mnt/maybe ReadOnlyPaths=/etc/oraid InaccessiblePaths=/var/lib/other", &l);
        cr_assert_eq(l.n, 4);
        cr_assert_str_eq(l.items[0].name, "ReadWritePaths");
        cr_assert_eq(l.items[0].type, UNIT_PROPERTY_STRV);
        cr_assert_str_eq(l.items[0].strv[0], "/srv/x");
        cr_assert_str_eq(l.items[1].strv[0], "-/mnt/maybe", "systemd's own '-' prefix is passed on");
        cr_assert_str_eq(l.items[2].name, "ReadOnlyPaths");
        cr_assert_str_eq(l.items[3].name, "InaccessiblePaths");

        parse_fails("ReadWritePaths=srv", NULL);
        parse_fails("ReadWritePaths=/srv/../etc", NULL);
        parse_fails("ReadWritePaths=/srv/./x", NULL);
        parse_fails("ReadWritePaths=-", NULL);
        parse_fails("ReadWritePaths=", NULL);
        parse_fails("ReadWritePaths=/a\x01", NULL);

        /* Several paths in one value: only from the code (the env form splits at spaces). */
        _cleanup_(unit_property_list_done) UnitPropertyList m = {};
        cr_assert_eq(unit_property_list_append(&m, "ReadWritePaths", "/a /b", NULL), 0);
        cr_assert_eq(strv_length(m.items[0].strv), 2);
        cr_assert_eq(unit_property_list_append_paths(&m, "ReadWritePaths", STRV_MAKE("/with space")), 0);
        cr_assert_str_eq(m.items[1].strv[0], "/with space");
        cr_assert_eq(unit_property_list_append_paths(&m, "ReadWritePaths", STRV_MAKE("rel")), -EINVAL);
        cr_assert_eq(unit_property_list_append_paths(&m, "CPUWeight", STRV_MAKE("/x")), -EINVAL);
        cr_assert_eq(m.n, 2);
}

Test(unit_property, binds) {
        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        parse_ok("BindPaths=/srv/snap BindReadOnlyPaths=-/etc/chain:/etc/oraid", &l);
        cr_assert_eq(l.n, 2);
        cr_assert_eq(l.items[0].type, UNIT_PROPERTY_BIND);
        cr_assert_eq(strv_length(l.items[0].strv), 3);
        cr_assert_str_eq(l.items[0].strv[0], "/srv/snap");
        cr_assert_str_eq(l.items[0].strv[1], "/srv/snap");
        cr_assert_str_eq(l.items[0].strv[2], "");
        cr_assert_str_eq(l.items[1].name, "BindReadOnlyPaths");
        cr_assert_str_eq(l.items[1].strv[0], "/etc/chain");
        cr_assert_str_eq(l.items[1].strv[1], "/etc/oraid");
        cr_assert_str_eq(l.items[1].strv[2], "-");

        parse_fails("BindPaths=/a:b", NULL);
        parse_fails("BindPaths=a:/b", NULL);
        parse_fails("BindPaths=/a:", NULL);
        parse_fails("BindPaths=/a:/b:rbind", NULL);

        cr_assert_eq(unit_property_list_append_bind(&l, "BindPaths", "/home/u/.oraid", false), 0);
        cr_assert_eq(unit_property_list_append_bind(&l, "ReadWritePaths", "/x", false), -EINVAL);
        cr_assert_eq(unit_property_list_append_bind(&l, "BindPaths", "x", false), -EINVAL);
        cr_assert_eq(l.n, 3);
}

Test(unit_property, sandbox_settings) {
        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        parse_ok("PrivateTmp=no ProtectHome=read-only ProtectSystem=full NoNewPrivileges=yes PrivateDevices=false "
                 "ProtectProc=default ProcSubset=pid",
                &l);
        cr_assert_eq(l.n, 7);
        cr_assert(l.items[0].type == UNIT_PROPERTY_BOOL && !l.items[0].b);
        cr_assert(l.items[1].type == UNIT_PROPERTY_STRING && streq(l.items[1].s, "read-only"));
        cr_assert_str_eq(l.items[2].s, "full");
        cr_assert(l.items[3].b);
        cr_assert_not(l.items[4].b);

        parse_fails("PrivateTmp=maybe", "'PrivateTmp=maybe' is not valid: expected yes or no.");
        parse_fails("PrivateTmp=on", NULL);
        parse_fails("ProtectSystem=everything",
                "'ProtectSystem=everything' is not valid: expected one of 'no', 'yes', 'full', 'strict'.");
        parse_fails("ProtectHome=Yes", NULL);
}

Test(unit_property, families_syscalls_namespaces) {
        _cleanup_(unit_property_list_done) UnitPropertyList l = {};
        parse_ok("RestrictAddressFamilies=AF_PACKET RestrictAddressFamilies=~AF_NETLINK SystemCallFilter=~@privileged "
                 "SystemCallFilter=ioprio_set SystemCallArchitectures=native SystemCallErrorNumber=ENOSYS",
                &l);
        cr_assert_eq(l.n, 6);
        cr_assert(l.items[0].type == UNIT_PROPERTY_BOOL_STRV && l.items[0].b && streq(l.items[0].strv[0], "AF_PACKET"));
        cr_assert(!l.items[1].b && streq(l.items[1].strv[0], "AF_NETLINK"), "'~' is a deny-list");
        cr_assert(!l.items[2].b && streq(l.items[2].strv[0], "@privileged"));
        cr_assert(l.items[3].b && streq(l.items[3].strv[0], "ioprio_set"));
        cr_assert(l.items[4].type == UNIT_PROPERTY_STRV && streq(l.items[4].strv[0], "native"));
        cr_assert(l.items[5].type == UNIT_PROPERTY_I32 && l.items[5].i32 == ENOSYS);

        parse_fails("RestrictAddressFamilies=AF_WHATEVER", NULL);
        parse_fails("RestrictAddressFamilies=~", NULL);
        parse_fails("SystemCallFilter=@nonsense", NULL);
        parse_fails("SystemCallFilter=Open", NULL);
        parse_fails("SystemCallArchitectures=vax", NULL);
        parse_fails("SystemCallErrorNumber=kill", NULL);

        static const struct {
                const char *text;
                uint64_t flags;
        } ns[] = {
                { "RestrictNamespaces=yes", 0 },
                { "RestrictNamespaces=no",
                  CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWUTS },
                { "RestrictNamespaces=net", CLONE_NEWNET },
                { "RestrictNamespaces=~user",
                  CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS },
        };
        for (size_t i = 0; i < ELEMENTSOF(ns); i++) {
                _cleanup_(unit_property_list_done) UnitPropertyList m = {};
                const UnitProperty *p = one(ns[i].text, &m);
                cr_assert_eq(p->type, UNIT_PROPERTY_U64);
                cr_assert_eq(p->u64, ns[i].flags, "%s", ns[i].text);
        }
        parse_fails("RestrictNamespaces=time", NULL);

        /* Capabilities: only none at all. */
        _cleanup_(unit_property_list_done) UnitPropertyList c = {};
        const UnitProperty *p = one("CapabilityBoundingSet=", &c);
        cr_assert(p->type == UNIT_PROPERTY_U64 && p->u64 == 0);
        parse_fails("AmbientCapabilities=CAP_NET_ADMIN",
                "'AmbientCapabilities=CAP_NET_ADMIN' is not valid: expected an empty value (no capabilities at all).");
}

Test(unit_property, unknown_and_managed) {
        /* What oraivisor sets itself is not for the operator to change. */
        const char *const managed[] = { "ExecStart=/bin/sh", "User=root", "Type=simple", "Restart=always",
                                        "KillMode=none", "Environment=X=1", "MemoryDenyWriteExecute=yes",
                                        "cpuweight=1", "Foo=bar" };
        for (size_t i = 0; i < ELEMENTSOF(managed); i++)
                parse_fails(managed[i], NULL);

        _cleanup_free_ char *e = NULL;
        UnitPropertyList l = {};
        cr_assert_eq(unit_properties_parse("CPUWeight=5 Bogus=1", &l, &e), -EINVAL);
        cr_assert(startswith(e, "unknown or unsupported property 'Bogus': expected one of CPUWeight, StartupCPUWeight, "), "%s", e);
        cr_assert(endswith(e, ", CapabilityBoundingSet, AmbientCapabilities."), "%s", e);

        parse_fails("=5", "'=5' is not an assignment: expected NAME=VALUE, such as 'CPUWeight=200', separated by spaces.");
        parse_fails("CPUWeight", NULL);
        /* Escaped in the message, still one line. */
        parse_fails("Bad\x1b[2J=1", NULL);
        parse_fails("CPUWeight=\x7f", NULL);
}

Test(unit_property, every_name_is_in_the_table) {
        for (size_t i = 0; unit_property_names[i]; i++) {
                _cleanup_free_ char *e = NULL;
                UnitPropertyList l = {};
                /* Any value: it must not be "unknown". */
                (void) unit_property_list_append(&l, unit_property_names[i], "x", &e);
                cr_assert(!e || !startswith(e, "unknown"), "%s: %s", unit_property_names[i], e);
                unit_property_list_done(&l);
        }
        cr_assert_str_eq(unit_property_type_signature(UNIT_PROPERTY_BIND), "a(ssbt)");
        cr_assert_str_eq(unit_property_type_signature(UNIT_PROPERTY_BOOL_STRV), "(bas)");
        cr_assert_null(unit_property_type_signature(_UNIT_PROPERTY_TYPE_MAX));
}
