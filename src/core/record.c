/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <json-c/json.h>
#include <strings.h>

#include "record.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static const char *const step_table[_UPGRADE_STEP_MAX] = {
        [UPGRADE_STEP_BACKUP] = "backup",
        [UPGRADE_STEP_OBTAIN] = "obtain",
        [UPGRADE_STEP_HOOKS] = "hooks",
        [UPGRADE_STEP_PREUPGRADE] = "pre-upgrade",
        [UPGRADE_STEP_SWITCH] = "switch",
};

const char *upgrade_step_to_string(UpgradeStep s) {
        if (s < 0 || s >= _UPGRADE_STEP_MAX)
                return NULL;
        return step_table[s];
}

UpgradeStep upgrade_step_from_string(const char *s) {
        for (UpgradeStep i = 0; i < _UPGRADE_STEP_MAX; i++)
                if (s && streq(s, step_table[i]))
                        return i;
        return _UPGRADE_STEP_INVALID;
}

UpgradeRecord *upgrade_record_free(UpgradeRecord *r) {
        if (!r)
                return NULL;
        upgrade_plan_free(r->plan);
        free(r->folder);
        free(r->backup_name);
        return mfree(r);
}

int upgrade_record_to_json(const UpgradeRecord *r, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *plan = NULL;
        _cleanup_free_ char *plan_json = NULL;
        if (!o || plan_to_json(r->plan, &plan_json) < 0)
                return -ENOMEM;
        plan = json_tokener_parse(plan_json);
        if (!plan)
                return -ENOMEM;
        if (json_object_object_add(o, "version", json_object_new_int(1)) < 0 ||
                json_object_object_add(o, "plan", TAKE_PTR(plan)) < 0 ||
                json_object_object_add(o, "folder", json_object_new_string(r->folder)) < 0 ||
                json_object_object_add(o, "step", json_object_new_string(upgrade_step_to_string(r->step))) < 0 ||
                (r->backup_name && json_object_object_add(o, "backup", json_object_new_string(r->backup_name)) < 0) ||
                json_object_object_add(o, "started_usec", json_object_new_uint64(r->started_usec)) < 0)
                return -ENOMEM;
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || !(*ret = strdup(s)))
                return -ENOMEM;
        return 0;
}

static bool folder_is_valid(const char *f) {
        return !isempty(f) && !strchr(f, '/') && !streq(f, ".") && !streq(f, "..") && strlen(f) <= 255;
}

int upgrade_record_from_json(const char *buf, size_t len, UpgradeRecord **ret, const char **ret_reason) {
        const char *reason = NULL;
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(buf);
        json_object *plan, *folder, *step, *backup, *started;
        _cleanup_(upgrade_record_freep) UpgradeRecord *r = NULL;
        int ret_r = -EBADMSG;

        if (!o || !json_object_is_type(o, json_type_object)) {
                reason = "not a JSON object";
                goto fail;
        }
        if (!json_object_object_get_ex(o, "plan", &plan) || !json_object_is_type(plan, json_type_object)) {
                reason = "no \"plan\"";
                goto fail;
        }
        if (!json_object_object_get_ex(o, "folder", &folder) || !json_object_is_type(folder, json_type_string) ||
                !folder_is_valid(json_object_get_string(folder))) {
                reason = "no valid \"folder\"";
                goto fail;
        }
        if (!json_object_object_get_ex(o, "step", &step) || !json_object_is_type(step, json_type_string) ||
                upgrade_step_from_string(json_object_get_string(step)) < 0) {
                reason = "no valid \"step\"";
                goto fail;
        }
        r = new0(UpgradeRecord, 1);
        if (!r)
                return -ENOMEM;
        const char *plan_s = json_object_to_json_string_ext(plan, JSON_C_TO_STRING_PLAIN);
        ret_r = plan_parse_json(plan_s, strlen(plan_s), &r->plan, &reason);
        if (ret_r < 0)
                goto fail;
        ret_r = -EBADMSG;
        r->folder = strdup(json_object_get_string(folder));
        if (!r->folder)
                return -ENOMEM;
        r->step = upgrade_step_from_string(json_object_get_string(step));
        if (json_object_object_get_ex(o, "backup", &backup)) {
                if (!json_object_is_type(backup, json_type_string) || !folder_is_valid(json_object_get_string(backup))) {
                        reason = "\"backup\" is not a folder name";
                        goto fail;
                }
                r->backup_name = strdup(json_object_get_string(backup));
                if (!r->backup_name)
                        return -ENOMEM;
        }
        if (json_object_object_get_ex(o, "started_usec", &started))
                r->started_usec = json_object_get_uint64(started);
        *ret = TAKE_PTR(r);
        return 0;

fail:
        if (ret_reason)
                *ret_reason = reason;
        return ret_r;
}
