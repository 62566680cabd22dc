/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "fs-util.h"
#include "plan-file.h"

int plan_file_read_at(int dirfd, UpgradePlan **ret, const char **ret_reason, char **ret_raw) {
        _cleanup_free_ char *buf = NULL;
        size_t len;

        int r = read_file_at(dirfd, PLAN_FILE, PLAN_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        const char *reason = NULL;
        r = plan_parse_json(buf, len, &p, &reason);
        if (r == -ENOMEM)
                return r;
        if (ret_raw)
                *ret_raw = TAKE_PTR(buf);
        if (r < 0) {
                if (ret_reason)
                        *ret_reason = reason;
                return -EBADMSG;
        }
        if (ret)
                *ret = TAKE_PTR(p);
        return 1;
}
