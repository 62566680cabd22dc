/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <json-c/json.h>
#include <limits.h>
#include <string.h>
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

UpgradeInterruption *upgrade_interruption_free(UpgradeInterruption *i) {
        if (!i)
                return NULL;
        free(i->by);
        free(i->outcome);
        return mfree(i);
}

UpgradeRecord *upgrade_record_free(UpgradeRecord *r) {
        if (!r)
                return NULL;
        upgrade_interruption_free(r->interrupted);
        upgrade_plan_free(r->plan);
        free(r->folder);
        free(r->backup_name);
        return mfree(r);
}

int upgrade_record_to_json(const UpgradeRecord *r, char **ret) {
        assert(r);
        assert(ret);

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
        if (r->interrupted) {
                const UpgradeInterruption *i = r->interrupted;
                json_object *io = json_object_new_object();
                if (!io || json_object_object_add(o, "interrupted", io) < 0) {
                        json_object_put(io);
                        return -ENOMEM;
                }
                if (json_object_object_add(io, "by", json_object_new_string(strempty(i->by))) < 0 ||
                        json_object_object_add(io, "step", json_object_new_string(strempty(upgrade_step_to_string(i->step)))) < 0 ||
                        json_object_object_add(io, "outcome", json_object_new_string(strempty(i->outcome))) < 0 ||
                        json_object_object_add(io, "killed", json_object_new_boolean(i->killed)) < 0 ||
                        json_object_object_add(io, "usec", json_object_new_uint64(i->usec)) < 0)
                        return -ENOMEM;
        }
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || !(*ret = strdup(s)))
                return -ENOMEM;
        return 0;
}

static bool folder_is_valid(const char *f) {
        return !isempty(f) && !strchr(f, '/') && !streq(f, ".") && !streq(f, "..") && strlen(f) <= 255;
}

static bool string_field(json_object *o, const char *key, json_object **ret) {
        return json_object_object_get_ex(o, key, ret) && json_object_is_type(*ret, json_type_string);
}

static int interruption_from_json(json_object *io, UpgradeInterruption **ret) {
        json_object *by, *step, *outcome, *killed, *usec;
        if (!json_object_is_type(io, json_type_object) || !string_field(io, "by", &by) ||
                !string_field(io, "step", &step) || !string_field(io, "outcome", &outcome) ||
                !json_object_object_get_ex(io, "killed", &killed) || !json_object_is_type(killed, json_type_boolean) ||
                !json_object_object_get_ex(io, "usec", &usec) || !json_object_is_type(usec, json_type_int) ||
                upgrade_step_from_string(json_object_get_string(step)) < 0)
                return -EBADMSG;
        _cleanup_(upgrade_interruption_freep) UpgradeInterruption *i = new0(UpgradeInterruption, 1);
        if (!i)
                return -ENOMEM;
        i->by = strdup(json_object_get_string(by));
        i->outcome = strdup(json_object_get_string(outcome));
        if (!i->by || !i->outcome)
                return -ENOMEM;
        i->step = upgrade_step_from_string(json_object_get_string(step));
        i->killed = json_object_get_boolean(killed);
        i->usec = json_object_get_uint64(usec);
        *ret = TAKE_PTR(i);
        return 0;
}

/* The JSON value in exactly buf[0..len): no NUL inside, nothing after it but white space. */
static json_object *parse_exact(const char *buf, size_t len) {
        if (len > INT_MAX || memchr(buf, 0, len))
                return NULL;
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return NULL;
        json_object *o = json_tokener_parse_ex(tok, buf, (int) len);
        size_t end = json_tokener_get_parse_end(tok);
        bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        for (; ok && end < len; end++)
                if (!strchr(" \t\r\n", buf[end]))
                        ok = false;
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int upgrade_record_from_json(const char *buf, size_t len, UpgradeRecord **ret, const char **ret_reason) {
        assert(ret);

        const char *reason = NULL;
        _cleanup_(json_object_putp) json_object *o = parse_exact(buf, len);
        json_object *plan, *folder, *step, *backup, *started, *interrupted;
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
        if (json_object_object_get_ex(o, "interrupted", &interrupted)) {
                ret_r = interruption_from_json(interrupted, &r->interrupted);
                if (ret_r == -ENOMEM)
                        return ret_r;
                if (ret_r < 0) {
                        reason = "\"interrupted\" is not an object with by, step, outcome, killed and usec";
                        goto fail;
                }
                ret_r = -EBADMSG;
        }
        *ret = TAKE_PTR(r);
        return 0;

fail:
        if (ret_reason)
                *ret_reason = reason;
        return ret_r;
}
