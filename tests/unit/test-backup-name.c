/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <stdio.h>

#include "backup-name.h"
#include "strv.h"
#include "upgrade-name.h"

/* 2024-09-20T12:34:56Z */
#define T_2024 ((usec_t) 1726835696 * USEC_PER_SEC)

/* A node tag as backup_node_make() makes them. */
#define NODE "oraid@5f3c9e21"
#define B(rest) "data-backup-" NODE "-" rest

static char *make(const char *folder, usec_t t) {
        char *n = NULL;
        cr_assert_eq(backup_name_make(NODE, folder, t, &n), 0, "backup_name_make(%s)", folder);
        return n;
}

Test(backup_name, make_exact_form) {
        _cleanup_free_ char *a = make("v0.42.4", T_2024 + 999999);
        cr_assert_str_eq(a, B("v0.42.4-20240920T123456Z"));
        _cleanup_free_ char *b = make("v2", 0);
        cr_assert_str_eq(b, B("v2-19700101T000000Z"));
        /* A leap day and the last second of a year. */
        _cleanup_free_ char *c = make("x", (usec_t) 951782400 * USEC_PER_SEC);
        cr_assert_str_eq(c, B("x-20000229T000000Z"));
        _cleanup_free_ char *d = make("x", (usec_t) 1735689599 * USEC_PER_SEC);
        cr_assert_str_eq(d, B("x-20241231T235959Z"));
        _cleanup_free_ char *e = make("x", (usec_t) 253402300799ULL * USEC_PER_SEC);
        cr_assert_str_eq(e, B("x-99991231T235959Z"));
}

Test(backup_name, make_rejects) {
        char *n = NULL;
        cr_assert_eq(backup_name_make(NODE, NULL, T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, ".", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "..", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "a/b", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "a b", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "bad%zz", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "nul%00", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "cut%4", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NODE, "x", (usec_t) 253402300800ULL * USEC_PER_SEC, &n), -ERANGE);
        char longf[300];
        memset(longf, 'a', sizeof(longf) - 1);
        longf[sizeof(longf) - 1] = 0;
        longf[255] = 0;
        cr_assert_eq(backup_name_make(NODE, longf, T_2024, &n), -ENAMETOOLONG);
        /* The longest that fits: its partial name is exactly 255 bytes. */
        size_t fit = BACKUP_NAME_MAX - STRLEN(BACKUP_NAME_PREFIX) - STRLEN(NODE "-") - BACKUP_NAME_STAMP_LEN;
        longf[fit] = 0;
        cr_assert_eq(backup_name_make(NODE, longf, T_2024, &n), 0);
        _cleanup_free_ char *p = NULL;
        cr_assert_eq(backup_name_to_partial(n, &p), 0);
        cr_assert_eq(strlen(p), 255);
        n = mfree(n);
        longf[fit] = 'a';
        longf[fit + 1] = 0;
        cr_assert_eq(backup_name_make(NODE, longf, T_2024, &n), -ENAMETOOLONG);
        cr_assert_null(n);
}

Test(backup_name, make_accepts_every_upgrade_folder) {
        /* Whatever upgrade_name_to_folder() produces (and its lower-cased cosmovisor form) is accepted and
         * parses back to the same folder. */
        const char *plans[] = {
                "v0.42.4", "Upgrade Name/with ünicode", "a-b_c.d~e", "%", "v1.0.0-rc1", "..a"};
        for (size_t i = 0; i < ELEMENTSOF(plans); i++) {
                _cleanup_free_ char *folder = NULL, *lower = NULL, *n = NULL, *back = NULL;
                cr_assert_eq(upgrade_name_to_folder(plans[i], &folder), 0);
                n = make(folder, T_2024);
                usec_t t = 0;
                cr_assert_eq(backup_name_parse(n, &back, &t), 0, "%s", n);
                cr_assert_str_eq(back, folder);
                cr_assert_eq(t, T_2024);
                cr_assert_eq(upgrade_folder_lowercase(folder, &lower), 0);
                if (lower) {
                        free(n);
                        n = make(lower, T_2024);
                        cr_assert(backup_name_is_valid(n));
                }
        }
}

Test(backup_name, parse_round_trip_over_time) {
        /* Every day over four centuries (leap rules of 1900/2000/2100 included) and odd seconds. */
        for (uint64_t s = 0; s < (uint64_t) 146097 * 86400; s += 86400 - 7) {
                _cleanup_free_ char *n = make("v1", s * USEC_PER_SEC), *f = NULL;
                usec_t t;
                cr_assert_eq(backup_name_parse(n, &f, &t), 0, "%s", n);
                cr_assert_eq(t, s * USEC_PER_SEC, "%s", n);
                cr_assert_str_eq(f, "v1");
        }
}

Test(backup_name, parse_folder_with_dashes_and_stamps) {
        _cleanup_free_ char *f = NULL;
        usec_t t;
        cr_assert_eq(backup_name_parse("data-backup-v1-20240101T000000Z-20240920T123456Z", &f, &t), 0);
        cr_assert_str_eq(f, "v1-20240101T000000Z");
        cr_assert_eq(t, T_2024);
        free(f);
        cr_assert_eq(backup_name_parse("data-backup--20240920T123456Z-20240920T123456Z", &f, &t), 0);
        cr_assert_str_eq(f, "-20240920T123456Z");
}

Test(backup_name, parse_rejects) {
        const char *bad[] = {
                "",
                "data",
                "data-backup",
                "data-backup-",
                "data-backup-2024-9-20", /* cosmovisor's per-day name */
                "data-backup-20240920T123456Z", /* no folder */
                "data-backup--20240920T123456Z", /* empty folder */
                "data-backup-v1-20240920T123456", /* no Z */
                "data-backup-v1-20240920t123456Z", /* lower t */
                "data-backup-v1-20240920T123456z", /* lower z */
                "data-backup-v1-20240920T123456Z ", /* trailing junk */
                "data-backup-v1-20240920T123456Z/",
                "data-backup-v1-2024092T0123456Z",
                "data-backup-v1-20241320T123456Z", /* month 13 */
                "data-backup-v1-20240020T123456Z", /* month 0 */
                "data-backup-v1-20240900T123456Z", /* day 0 */
                "data-backup-v1-20240931T123456Z", /* 31 September */
                "data-backup-v1-20230229T123456Z", /* not a leap year */
                "data-backup-v1-21000229T000000Z", /* not a leap year either */
                "data-backup-v1-20240920T243456Z", /* hour 24 */
                "data-backup-v1-20240920T126056Z", /* minute 60 */
                "data-backup-v1-20240920T123460Z", /* second 60 */
                "data-backup-v1-19691231T235959Z", /* before the epoch */
                "data-backup-v1-2024092+T123456Z",
                "data-backup-v 1-20240920T123456Z", /* space in folder */
                "data-backup-./-20240920T123456Z",
                "data-backup-..-20240920T123456Z",
                "data-backup-.-20240920T123456Z",
                "data-backup-v1%2-20240920T123456Z", /* cut escape */
                "data-backup-v1%00-20240920T123456Z", /* NUL escape */
                "Data-backup-v1-20240920T123456Z",
                ".partial-data-backup-v1-20240920T123456Z",
                "data-backup-v1-20240920T123456Z.partial",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                cr_assert_eq(backup_name_parse(bad[i], NULL, NULL), -EINVAL, "accepted '%s'", bad[i]);
                cr_assert(!backup_name_is_valid(bad[i]));
        }
        cr_assert_eq(backup_name_parse(NULL, NULL, NULL), -EINVAL);
        cr_assert(backup_name_is_valid("data-backup-v2%2Fx-20240229T000000Z"));
}

Test(backup_name, partial_names) {
        _cleanup_free_ char *p = NULL;
        cr_assert_eq(backup_name_to_partial("data-backup-v1-20240920T123456Z", &p), 0);
        cr_assert_str_eq(p, ".partial-data-backup-v1-20240920T123456Z");
        cr_assert_str_eq(backup_name_from_partial(p), "data-backup-v1-20240920T123456Z");
        char *q = NULL;
        cr_assert_eq(backup_name_to_partial("data-backup-2024-9-20", &q), -EINVAL);
        cr_assert_null(backup_name_from_partial(".partial-data-backup-2024-9-20"));
        cr_assert_null(backup_name_from_partial(".partial-"));
        cr_assert_null(backup_name_from_partial(".partial-something"));
        cr_assert_null(backup_name_from_partial("data-backup-v1-20240920T123456Z"));
        cr_assert_null(backup_name_from_partial(".partial-.partial-data-backup-v1-20240920T123456Z"));
        cr_assert_null(backup_name_from_partial(NULL));
}

static void assert_strv(char **l, const char *const *expected, size_t n) {
        cr_assert_eq(strv_length(l), n, "got %zu names", strv_length(l));
        for (size_t i = 0; i < n; i++)
                cr_assert_str_eq(l[i], expected[i]);
}

Test(backup_name, prune_select) {
        char *names[] = {
                "data-backup-v3-20240103T000000Z",
                "data",
                "data-backup-v1-20240101T000000Z",
                "data-backup-2024-1-4", /* cosmovisor's: not ours, never touched */
                ".partial-data-backup-v9-20240109T000000Z", /* partial: cleanup's business */
                "data-backup-v2-20240102T000000Z",
                "oraivisor",
                "data-backup-v4-20240104T000000Z",
                "data-backup-v1-20240105T000000Z",
        };
        _cleanup_strv_free_ char **l = NULL;

        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 2, &l), 0);
        assert_strv(l,
                (const char *const[]){"data-backup-v1-20240101T000000Z", "data-backup-v2-20240102T000000Z",
                        "data-backup-v3-20240103T000000Z"},
                3);
        l = strv_free(l);

        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 4, &l), 0);
        assert_strv(l, (const char *const[]){"data-backup-v1-20240101T000000Z"}, 1);
        l = strv_free(l);

        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 5, &l), 0);
        assert_strv(l, NULL, 0);
        l = strv_free(l);

        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 100, &l), 0);
        assert_strv(l, NULL, 0);
        l = strv_free(l);

        /* keep == 0: keep all. */
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 0, &l), 0);
        assert_strv(l, NULL, 0);
        l = strv_free(l);

        /* Only one upgrade's backups. */
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, "v1", 1, &l), 0);
        assert_strv(l, (const char *const[]){"data-backup-v1-20240101T000000Z"}, 1);
        l = strv_free(l);
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, "v3", 1, &l), 0);
        assert_strv(l, NULL, 0);
        l = strv_free(l);

        cr_assert_eq(backup_prune_select(NULL, 0, NODE, true, NULL, 1, &l), 0);
        assert_strv(l, NULL, 0);
}

Test(backup_name, prune_orders_by_time_not_by_name) {
        char *names[] = {
                "data-backup-zzz-20240101T000000Z", "data-backup-aaa-20250101T000000Z",
                "data-backup-mmm-20240601T000000Z",
                "data-backup-bbb-20240601T000000Z", /* same instant: the name decides */
        };
        _cleanup_strv_free_ char **l = NULL;
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 1, &l), 0);
        assert_strv(l,
                (const char *const[]){"data-backup-zzz-20240101T000000Z", "data-backup-bbb-20240601T000000Z",
                        "data-backup-mmm-20240601T000000Z"},
                3);
}

Test(backup_name, two_upgrades_same_day_get_two_names) {
        _cleanup_free_ char *a = make("v1", T_2024), *b = make("v2", T_2024 + 60 * USEC_PER_SEC);
        cr_assert_str_neq(a, b);
        cr_assert_str_eq(a, B("v1-20240920T123456Z"));
        cr_assert_str_eq(b, B("v2-20240920T123556Z"));
}

Test(backup_name, format_bytes) {
        char b[BACKUP_FORMAT_BYTES_MAX];
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), 0), "0 B");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), 1023), "1023 B");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), 1024), "1.0 KiB");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), 1536), "1.5 KiB");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), (uint64_t) (12.4 * 1073741824.0)), "12.4 GiB");
        cr_assert_str_eq(
                backup_format_bytes(b, sizeof(b), (uint64_t) 3 * 1073741824 + 107374182), "3.1 GiB");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), 1048575), "1024.0 KiB");
        cr_assert_str_eq(backup_format_bytes(b, sizeof(b), UINT64_MAX), "16.0 EiB");
}

Test(backup_name, random_inputs_never_crash_and_round_trip) {
        /* A small in-process fuzz: names built around the valid form, some of them damaged, must either be
         * rejected or parse to a folder and time that make exactly the same name again. */
        const char folder_chars[] = "abcXYZ019._~-%AFaf/ ";
        unsigned seed = 12345, parsed = 0, rejected = 0;
        for (unsigned i = 0; i < 200000; i++) {
                char s[96];
                size_t n = 0;
                memcpy(s, "data-backup-", 12);
                n = 12;
                size_t flen = (size_t) (rand_r(&seed) % 12);
                for (size_t j = 0; j < flen; j++)
                        s[n++] = folder_chars[rand_r(&seed) % (sizeof(folder_chars) - 1)];
                n += (size_t) snprintf(s + n, sizeof(s) - n, "-%04u%02u%02uT%02u%02u%02uZ",
                        1960 + (unsigned) (rand_r(&seed) % 100), (unsigned) (rand_r(&seed) % 14),
                        (unsigned) (rand_r(&seed) % 33), (unsigned) (rand_r(&seed) % 25),
                        (unsigned) (rand_r(&seed) % 61), (unsigned) (rand_r(&seed) % 61));
                if (rand_r(&seed) % 8 == 0) /* damage one byte */
                        s[rand_r(&seed) % n] = (char) (rand_r(&seed) % 128);
                s[n] = 0;

                _cleanup_free_ char *f = NULL;
                usec_t t;
                if (backup_name_parse(s, &f, &t) < 0) {
                        rejected++;
                        continue;
                }
                parsed++;
                /* Untagged: the earlier form, which make() no longer builds. */
                _cleanup_free_ char *tagged = make(f, t);
                const char *rest = tagged + STRLEN("data-backup-" NODE "-");
                cr_assert_str_eq(rest, s + STRLEN("data-backup-"));
        }
        /* Both outcomes were exercised. */
        cr_assert_gt(parsed, 10000, "%u parsed", parsed);
        cr_assert_gt(rejected, 10000, "%u rejected", rejected);
}

/* ---- node tags: backups of nodes sharing one DAEMON_DATA_BACKUP_DIR ---------------------------------- */

Test(backup_name, node_make) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
        cr_assert_eq(backup_node_make("oraid", "/var/lib/node1/.oraid", &a), 0);
        cr_assert_eq(backup_node_make("oraid", "/var/lib/node2/.oraid", &b), 0);
        cr_assert_eq(backup_node_make("oraid", "/var/lib/node1/.oraid", &c), 0);
        /* Readable, unique per home, stable. */
        cr_assert(strncmp(a, "oraid@", 6) == 0, "%s", a);
        cr_assert_eq(strlen(a), 6 + BACKUP_NODE_HASH_LEN);
        cr_assert_str_neq(a, b);
        cr_assert_str_eq(a, c);
        cr_assert(backup_node_is_valid(a));
        /* FNV-1a of "/" is 0x2a0c975e: the tag is defined, not just unique. */
        cr_assert_eq(backup_node_make("x", "/", &e), 0);
        cr_assert_str_eq(e, "x@2a0c975e");
        /* DAEMON_NAME is escaped as upgrade folders are ('@' too, so the first '@' ends it) and cut. */
        cr_assert_eq(backup_node_make("my node@1", "/h", &d), 0);
        cr_assert(strncmp(d, "my%20node%401@", 14) == 0, "%s", d);
        cr_assert(backup_node_is_valid(d));
        d = mfree(d);
        cr_assert_eq(backup_node_make("abcdefghijklmnopqrstuvwxyz0123456789", "/h", &d), 0);
        cr_assert(strncmp(d, "abcdefghijklmnopqrstuvwxyz012345@", 33) == 0, "%s", d);
        d = mfree(d);
        cr_assert_eq(backup_node_make("abcdefghijklmnopqrstuvwxyz01234 ", "/h", &d), 0);
        cr_assert(strncmp(d, "abcdefghijklmnopqrstuvwxyz01234@", 32) == 0, "never cut inside an escape: %s", d);
        char *n = NULL;
        cr_assert_eq(backup_node_make("", "/h", &n), -EINVAL);
        cr_assert_eq(backup_node_make(NULL, "/h", &n), -EINVAL);
        cr_assert_eq(backup_node_make("oraid", "relative", &n), -EINVAL);
        cr_assert_eq(backup_node_make("oraid", NULL, &n), -EINVAL);
        cr_assert_null(n);
}

Test(backup_name, node_is_valid) {
        cr_assert(backup_node_is_valid("oraid@0123abcd"));
        cr_assert(backup_node_is_valid("a%20b@0123abcd"));
        const char *bad[] = {
                NULL, "", "oraid", "oraid@", "@0123abcd", "oraid@0123ABCD", "oraid@0123abc", "oraid@0123abcde",
                "ora id@0123abcd", "ora/id@0123abcd", "a%2@0123abcd", "a%00@0123abcd", "a@b@0123abcd",
                "abcdefghijklmnopqrstuvwxyz0123456@0123abcd", /* 33 bytes of name */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert(!backup_node_is_valid(bad[i]), "accepted %zu", i);
        char *n = NULL;
        cr_assert_eq(backup_name_make("oraid", "v1", T_2024, &n), -EINVAL);
        cr_assert_eq(backup_name_make(NULL, "v1", T_2024, &n), -EINVAL);
        cr_assert_null(n);
}

Test(backup_name, parse_full_tagged_and_untagged) {
        _cleanup_free_ char *node = NULL, *f = NULL;
        usec_t t;
        cr_assert_eq(backup_name_parse_full(B("v1-2-20240920T123456Z"), &node, &f, &t), 0);
        cr_assert_str_eq(node, NODE);
        cr_assert_str_eq(f, "v1-2");
        cr_assert_eq(t, T_2024);
        node = mfree(node);
        f = mfree(f);
        /* The earlier untagged form still parses, with no node. */
        cr_assert_eq(backup_name_parse_full("data-backup-v1-20240920T123456Z", &node, &f, &t), 0);
        cr_assert_null(node);
        cr_assert_str_eq(f, "v1");
        f = mfree(f);
        cr_assert_eq(backup_name_parse(B("v1-20240920T123456Z"), &f, NULL), 0);
        cr_assert_str_eq(f, "v1");
        const char *bad[] = {
                "data-backup-oraid@5f3c9e21-20240920T123456Z", /* no folder */
                "data-backup-oraid@5f3c9e21--20240920T123456Z", /* empty folder */
                "data-backup-oraid@5f3c9e2-v1-20240920T123456Z", /* short hash */
                "data-backup-oraid@5f3c9e21x-v1-20240920T123456Z",
                "data-backup-oraid@5f3c9e21-v@1-20240920T123456Z", /* '@' in the folder */
                "data-backup-@5f3c9e21-v1-20240920T123456Z", /* empty daemon */
                "data-backup-or aid@5f3c9e21-v1-20240920T123456Z",
                "data-backup-oraid@5F3C9E21-v1-20240920T123456Z",
                ".partial-data-backup-oraid@5f3c9e21-v1-20240920T123456Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(backup_name_parse_full(bad[i], NULL, NULL, NULL), -EINVAL, "accepted '%s'", bad[i]);
        _cleanup_free_ char *p = NULL;
        cr_assert_eq(backup_name_to_partial(B("v1-20240920T123456Z"), &p), 0);
        cr_assert_str_eq(backup_name_from_partial(p), B("v1-20240920T123456Z"));
}

Test(backup_name, is_ours) {
        cr_assert(backup_name_is_ours(B("v1-20240920T123456Z"), NODE, false));
        cr_assert(backup_name_is_ours(B("v1-20240920T123456Z"), NODE, true));
        cr_assert(!backup_name_is_ours(B("v1-20240920T123456Z"), "oraid@00000000", true));
        cr_assert(!backup_name_is_ours(B("v1-20240920T123456Z"), NULL, true));
        /* Untagged: ours only in our own home. */
        cr_assert(backup_name_is_ours("data-backup-v1-20240920T123456Z", NODE, true));
        cr_assert(!backup_name_is_ours("data-backup-v1-20240920T123456Z", NODE, false));
        cr_assert(!backup_name_is_ours("data-backup-2024-9-20", NODE, true));
        cr_assert(!backup_name_is_ours(NULL, NODE, true));
}

Test(backup_name, prune_select_only_our_node) {
        /* Two nodes share one backup folder: each prunes its own backups only, and the untagged ones only
         * when the folder is its home. */
        char *names[] = {
                B("v1-20240101T000000Z"),
                "data-backup-oraid@00000000-v1-20230101T000000Z", /* the other node's, older than all */
                B("v2-20240201T000000Z"),
                "data-backup-oraid@00000000-v2-20230201T000000Z",
                "data-backup-v0-20220101T000000Z", /* untagged, from an earlier version */
                B("v3-20240301T000000Z"),
        };
        _cleanup_strv_free_ char **l = NULL;
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, false, NULL, 1, &l), 0);
        assert_strv(l, (const char *const[]){B("v1-20240101T000000Z"), B("v2-20240201T000000Z")}, 2);
        l = strv_free(l);
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), NODE, true, NULL, 1, &l), 0);
        assert_strv(l,
                (const char *const[]){"data-backup-v0-20220101T000000Z", B("v1-20240101T000000Z"),
                        B("v2-20240201T000000Z")},
                3);
        l = strv_free(l);
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), "oraid@00000000", false, NULL, 1, &l), 0);
        assert_strv(l, (const char *const[]){"data-backup-oraid@00000000-v1-20230101T000000Z"}, 1);
        l = strv_free(l);
        cr_assert_eq(backup_prune_select(names, ELEMENTSOF(names), "oraid@00000000", false, "v2", 0, &l), 0);
        assert_strv(l, NULL, 0);
}
