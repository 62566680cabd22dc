/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The one reader of upgrade-in-progress.json and last-upgrade.json, the writer of the latter, and the
 * holders of oraivisor's lock, on a real folder. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "lock.h"
#include "log.h"
#include "upgrade-record.h"

static char home[] = "/tmp/test-upgrade-record-XXXXXX";

static void setup(void) {
        char p[PATH_MAX];
        strcpy(home, "/tmp/test-upgrade-record-XXXXXX");
        cr_assert_not_null(mkdtemp(home));
        snprintf(p, sizeof p, "%s/oraivisor", home);
        cr_assert_eq(mkdir(p, 0755), 0);
        log_set_max_level(LOG_CRIT);
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        (void) system(cmd);
}

static void put(Layout *l, const char *name, const char *text) {
        cr_assert_eq(write_file_atomic_at(l->root_fd, name, text, strlen(text), 0644), 0);
}

Test(upgrade_record, read_both_files, .init = setup, .fini = teardown) {
        Layout *l = NULL;
        cr_assert_eq(layout_open(home, "oraid", &l), 0);
        UpgradeRecord *r = NULL;
        LastUpgrade *u = NULL;
        const char *reason = NULL;

        cr_assert_eq(upgrade_record_read_at(l->root_fd, &r, &reason), 0);
        cr_assert_eq(upgrade_record_load(l, &r), 0);
        cr_assert_eq(last_upgrade_read_at(l->root_fd, &u, &reason), 0);

        put(l, UPGRADE_RECORD_FILE,
                "{\"plan\":{\"name\":\"v2\",\"height\":5},\"folder\":\"v2\",\"step\":\"hooks\"}");
        cr_assert_eq(upgrade_record_read_at(l->root_fd, &r, &reason), 1);
        cr_assert_eq(r->step, UPGRADE_STEP_HOOKS);
        r = upgrade_record_free(r);
        cr_assert_eq(upgrade_record_load(l, &r), 1);
        r = upgrade_record_free(r);
        put(l, UPGRADE_RECORD_FILE, "{\"plan\":");
        cr_assert_eq(upgrade_record_read_at(l->root_fd, &r, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "not a JSON object");
        cr_assert_eq(upgrade_record_load(l, &r), -EBADMSG);

        /* Written by the engine, read back; never through a symlink. */
        LastUpgrade w = {.folder = (char *) "v2", .started_usec = 1, .finished_usec = 2};
        cr_assert_eq(upgrade_plan_new("v2", 5, NULL, "", &w.plan), 0);
        cr_assert_eq(last_upgrade_save(l, &w), 0);
        cr_assert_eq(last_upgrade_read_at(l->root_fd, &u, &reason), 1);
        cr_assert_str_eq(u->plan->name, "v2");
        cr_assert_eq(u->finished_usec, 2);
        u = last_upgrade_free(u);
        upgrade_plan_free(w.plan);
        cr_assert_eq(renameat(l->root_fd, LAST_UPGRADE_FILE, l->root_fd, "elsewhere.json"), 0);
        cr_assert_eq(symlinkat("elsewhere.json", l->root_fd, LAST_UPGRADE_FILE), 0);
        cr_assert_eq(last_upgrade_read_at(l->root_fd, &u, &reason), -ELOOP);
        layout_free(l);
}

Test(upgrade_record, lock_holders, .init = setup, .fini = teardown) {
        Layout *l = NULL;
        pid_t *pids = NULL;
        cr_assert_eq(layout_open(home, "oraid", &l), 0);
        cr_assert_eq(lock_holders(l->root_fd, &pids), 0); /* no lock file */
        cr_assert_eq(lock_probe(l->root_fd), 0);
        int fd = lock_acquire(l->root_fd, l->root, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(lock_probe(l->root_fd), 1);
        cr_assert_eq(lock_holders(l->root_fd, &pids), 1);
        cr_assert_eq(pids[0], getpid());
        free(pids);
        close(fd);
        cr_assert_eq(lock_holders(l->root_fd, &pids), 0);
        free(pids);
        layout_free(l);
}
