/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "fs-util.h"
#include "record-file.h"

int record_file_read_at(int root_fd, UpgradeRecord **ret, const char **ret_reason) {
        _cleanup_free_ char *buf = NULL;
        size_t len;

        int r = read_file_at(root_fd, RECORD_FILE, RECORD_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        _cleanup_(upgrade_record_freep) UpgradeRecord *rec = NULL;
        const char *reason = NULL;
        r = upgrade_record_from_json(buf, len, &rec, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (ret_reason)
                        *ret_reason = reason;
                return -EBADMSG;
        }
        if (ret)
                *ret = TAKE_PTR(rec);
        return 1;
}
