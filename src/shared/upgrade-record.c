/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "fs-util.h"
#include "log.h"
#include "upgrade-record.h"

int upgrade_record_read_at(int root_fd, UpgradeRecord **ret, const char **ret_reason) {
        _cleanup_free_ char *buf = NULL;
        size_t len;

        int r = read_file_at(root_fd, UPGRADE_RECORD_FILE, UPGRADE_RECORD_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = upgrade_record_from_json(buf, len, ret, ret_reason);
        return r < 0 ? r : 1;
}

int upgrade_record_load(Layout *l, UpgradeRecord **ret) {
        const char *reason = NULL;

        int r = upgrade_record_read_at(l->root_fd, ret, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -EBADMSG)
                return log_error_errno(r,
                        "'%s/" UPGRADE_RECORD_FILE "' is damaged (%s). Check '%s/current' points at the version the data needs, then remove the file.",
                        l->root, strna(reason), l->root);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s/" UPGRADE_RECORD_FILE "': %m", l->root);
        return r;
}
