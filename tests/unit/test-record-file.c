/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "upgrade-record.h"

static char root[] = "/tmp/test-record-file-XXXXXX";
static int root_fd = -EBADF;

static void setup(void) {
        strcpy(root, "/tmp/test-record-file-XXXXXX");
        cr_assert_not_null(mkdtemp(root));
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(root_fd, 0);
}

static void teardown(void) {
        root_fd = safe_close(root_fd);
        (void) rm_rf_at(AT_FDCWD, root);
}

static void put(const char *content) {
        cr_assert_eq(write_file_atomic_at(root_fd, UPGRADE_RECORD_FILE, content, strlen(content), 0644), 0);
}

TestSuite(record_file, .init = setup, .fini = teardown);

Test(record_file, missing_is_zero) {
        UpgradeRecord *rec = (UpgradeRecord *) 0x1;
        cr_assert_eq(upgrade_record_read_at(root_fd, &rec, NULL), 0);
        cr_assert_eq(rec, (UpgradeRecord *) 0x1, "ret is written only on success");
}

Test(record_file, reads_the_record) {
        put("{\"version\": 1, \"plan\": {\"name\": \"v2\", \"height\": 5, \"info\": \"\"}, \"folder\": \"v2\", "
            "\"step\": \"obtain\", \"started_usec\": 1}");
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        cr_assert_eq(upgrade_record_read_at(root_fd, &rec, NULL), 1);
        cr_assert_str_eq(rec->plan->name, "v2");
        cr_assert_str_eq(rec->folder, "v2");
        cr_assert_eq(rec->step, UPGRADE_STEP_OBTAIN);
}

Test(record_file, damaged_gives_a_reason) {
        put("{\"version\": 1, \"plan\": ");
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        const char *reason = NULL;
        cr_assert_eq(upgrade_record_read_at(root_fd, &rec, &reason), -EBADMSG);
        cr_assert_not_null(reason);
        cr_assert_null(rec);
        put("");
        reason = NULL;
        cr_assert_eq(upgrade_record_read_at(root_fd, &rec, &reason), -EBADMSG);
        cr_assert_not_null(reason);
}

Test(record_file, never_through_a_symlink) {
        char target[PATH_MAX];
        snprintf(target, sizeof(target), "%s/elsewhere.json", root);
        FILE *f = fopen(target, "w");
        cr_assert_not_null(f);
        fputs("{}", f);
        fclose(f);
        cr_assert_eq(symlinkat("elsewhere.json", root_fd, UPGRADE_RECORD_FILE), 0);
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        cr_assert_eq(upgrade_record_read_at(root_fd, &rec, NULL), -ELOOP);
}
