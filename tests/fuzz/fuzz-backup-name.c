/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the backup names, read back from the backup folder (which other nodes, and people, share):
 * the input's lines are folder entries. An accepted name is one safe path component whose partial form
 * fits a file name; it parses to a valid node (or none), a valid upgrade folder and a time, and a tagged
 * name is exactly what backup_name_make() makes of them; the partial form maps back to it. The pruning
 * choice over all lines removes exactly the surplus of the node's own backups, only those, oldest first.
 * The first two lines also make a node tag (DAEMON_NAME, DAEMON_HOME), which must be valid. */

#include "backup-name.h"
#include "fuzz-util.h"
#include "strv.h"
#include "upgrade-name.h"

static void check_name(const char *name, usec_t *ret_time) {
        _cleanup_free_ char *node = NULL, *folder = NULL, *partial = NULL, *again = NULL;
        usec_t t;

        int r = backup_name_parse_full(name, &node, &folder, &t);
        CHECK(r == 0 || r == -EINVAL);
        CHECK((r == 0) == backup_name_is_valid(name));
        if (r < 0) {
                *ret_time = USEC_INFINITY;
                return;
        }
        CHECK(fuzz_is_component(name, BACKUP_NAME_MAX));
        CHECK(name[0] != '.');
        CHECK(!node || backup_node_is_valid(node));
        _cleanup_free_ char *plan = NULL;
        CHECK(upgrade_folder_to_name(folder, &plan) == 0 || strchr(folder, '%'));
        CHECK(fuzz_is_component(folder, UPGRADE_FOLDER_NAME_MAX));

        /* Its own node's, and nobody else's but by the legacy rule. */
        CHECK(backup_name_is_ours(name, node ?: "x@00000000", !node));
        CHECK(!node || !backup_name_is_ours(name, "other@00000000", true) || streq(node, "other@00000000"));

        /* An untagged name gets longer with a tag: it may no longer fit. */
        r = backup_name_make(node ?: "oraid@0123abcd", folder, t, &again);
        CHECK(r == 0 || (!node && r == -ENAMETOOLONG));
        if (node)
                CHECK(streq(again, name));
        if (r == 0) {
                _cleanup_free_ char *node2 = NULL, *folder2 = NULL;
                usec_t t2;
                CHECK(backup_name_parse_full(again, &node2, &folder2, &t2) == 0);
                CHECK(streq(folder, folder2) && t == t2);
        }

        CHECK(backup_name_to_partial(name, &partial) == 0);
        CHECK(strlen(partial) <= 255);
        CHECK(streq_ptr(backup_name_from_partial(partial), name));
        CHECK(!backup_name_is_valid(partial));
        *ret_time = t;
}

static char **split_lines(const char *s) {
        char **l = new0(char *, 1);
        CHECK(l);
        for (;;) {
                size_t n = strcspn(s, "\n");
                char *line = strndup(s, n);
                CHECK(line);
                CHECK(strv_consume(&l, line) >= 0);
                if (!s[n])
                        return l;
                s += n + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *in = fuzz_strndup(data, size);
        _cleanup_strv_free_ char **lines = split_lines(in);
        CHECK(lines);
        size_t n = strv_length(lines);
        if (n > 64)
                return 0;

        usec_t times[64];
        for (size_t i = 0; i < n; i++) {
                check_name(lines[i], &times[i]);
                const char *f = backup_name_from_partial(lines[i]);
                if (f)
                        CHECK(backup_name_is_valid(f) && f == lines[i] + 9);
        }

        _cleanup_free_ char *node = NULL;
        if (n >= 2) {
                int r = backup_node_make(lines[0], lines[1], &node);
                CHECK(r == 0 || r == -EINVAL);
                if (r == 0)
                        CHECK(backup_node_is_valid(node) && strlen(node) <= BACKUP_NODE_MAX);
        }

        /* The node of the first backup name among the lines, and its folder for half the inputs. */
        _cleanup_free_ char *owner = NULL, *folder = NULL;
        for (size_t i = 0; i < n && !owner; i++) {
                _cleanup_free_ char *o = NULL, *f = NULL;
                if (backup_name_parse_full(lines[i], &o, &f, NULL) == 0 && o) {
                        owner = TAKE_PTR(o);
                        folder = TAKE_PTR(f);
                }
        }
        if (!owner)
                owner = strdup("oraid@0123abcd");
        CHECK(owner);
        bool legacy = size & 1;
        unsigned keep = size % 5;
        const char *only = size & 2 ? folder : NULL;

        _cleanup_strv_free_ char **doomed = NULL;
        CHECK(backup_prune_select(lines, n, owner, legacy, only, keep, &doomed) == 0);
        CHECK(doomed);
        size_t eligible = 0;
        usec_t newest_doomed = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = NULL;
                if (!backup_name_is_ours(lines[i], owner, legacy))
                        continue;
                CHECK(backup_name_parse(lines[i], &f, NULL) == 0);
                if (only && !streq(f, only))
                        continue;
                eligible++;
        }
        size_t nd = strv_length(doomed);
        CHECK(nd == (keep > 0 && eligible > keep ? eligible - keep : 0));
        STRV_FOREACH (d, doomed) {
                CHECK(strv_contains(lines, *d));
                CHECK(backup_name_is_ours(*d, owner, legacy));
                usec_t t;
                CHECK(backup_name_parse(*d, NULL, &t) == 0);
                CHECK(t >= newest_doomed); /* oldest first */
                newest_doomed = t;
        }
        /* Every kept backup of the node is at least as new as every removed one. */
        for (size_t i = 0; i < n && nd > 0; i++) {
                _cleanup_free_ char *f = NULL;
                if (!backup_name_is_ours(lines[i], owner, legacy) || strv_contains(doomed, lines[i]))
                        continue;
                CHECK(backup_name_parse(lines[i], &f, NULL) == 0);
                if (only && !streq(f, only))
                        continue;
                CHECK(times[i] >= newest_doomed);
        }
        return 0;
}
