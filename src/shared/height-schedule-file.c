/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "height-schedule-file.h"

int height_schedule_load_at(int root_fd, HeightSchedule *ret, const char **ret_reason) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_at(root_fd, HEIGHT_SCHEDULE_FILE, HEIGHT_SCHEDULE_MAX_SIZE, &data, &size);
        if (r == -ENOENT) {
                *ret = (HeightSchedule) {};
                return 0;
        }
        if (r == -EFBIG) {
                *ret_reason = "it is larger than 1 MiB";
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        return height_schedule_from_json(data, size, ret, ret_reason);
}

int height_schedule_save_at(int root_fd, const HeightSchedule *s) {
        if (s->n_entries == 0) {
                if (unlinkat(root_fd, HEIGHT_SCHEDULE_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        _cleanup_free_ char *json = NULL;
        int r = height_schedule_to_json(s, &json);
        if (r < 0)
                return r;
        return write_file_atomic_at(root_fd, HEIGHT_SCHEDULE_FILE, json, strlen(json), 0644);
}
