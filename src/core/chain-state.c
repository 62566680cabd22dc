/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <json-c/json.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain-schedule.h"
#include "chain-state.h"
#include "string-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

#define CHAIN_STATE_VERSION 1

static const char *const scheduled_source_table[_SCHEDULED_SOURCE_MAX] = {
        [SCHEDULED_SOURCE_GOVERNANCE] = "governance",
        [SCHEDULED_SOURCE_HEIGHT] = "height",
};

static const char *const binary_state_table[_BINARY_STATE_MAX] = {
        [BINARY_MISSING] = "missing",
        [BINARY_STAGING] = "staging",
        [BINARY_FAILED] = "failed",
        [BINARY_INSTALLED] = "installed",
};

const char *scheduled_source_to_string(ScheduledSource s) {
        return s >= 0 && s < _SCHEDULED_SOURCE_MAX ? scheduled_source_table[s] : NULL;
}

ScheduledSource scheduled_source_from_string(const char *s) {
        for (ScheduledSource k = 0; k < _SCHEDULED_SOURCE_MAX; k++)
                if (s && strcmp(s, scheduled_source_table[k]) == 0)
                        return k;
        return _SCHEDULED_SOURCE_INVALID;
}

const char *binary_state_to_string(BinaryState s) {
        return s >= 0 && s < _BINARY_STATE_MAX ? binary_state_table[s] : NULL;
}

BinaryState binary_state_from_string(const char *s) {
        for (BinaryState k = 0; k < _BINARY_STATE_MAX; k++)
                if (s && strcmp(s, binary_state_table[k]) == 0)
                        return k;
        return _BINARY_STATE_INVALID;
}

void scheduled_upgrade_done(ScheduledUpgrade *u) {
        free(u->name);
        free(u->info);
        free(u->binary_error);
        free(u->ready_reason);
        *u = (ScheduledUpgrade){};
}

void chain_state_done(ChainState *s) {
        for (size_t i = 0; i < s->n_upgrades; i++)
                scheduled_upgrade_done(&s->upgrades[i]);
        free(s->upgrades);
        free(s->rpc);
        *s = (ChainState){};
}

ScheduledUpgrade *chain_state_find(ChainState *s, ScheduledSource source, const char *name) {
        for (size_t i = 0; i < s->n_upgrades; i++)
                if (s->upgrades[i].source == source && (!name || strcmp(s->upgrades[i].name, name) == 0))
                        return &s->upgrades[i];
        return NULL;
}

ScheduledUpgrade *chain_state_add(ChainState *s, const ScheduledUpgrade *u) {
        ScheduledUpgrade n = *u;
        n.name = strdup(u->name);
        n.info = strdup(strempty(u->info));
        n.binary_error = u->binary_error ? strdup(u->binary_error) : NULL;
        n.ready_reason = u->ready_reason ? strdup(u->ready_reason) : NULL;
        if (!n.name || !n.info || (u->binary_error && !n.binary_error) || (u->ready_reason && !n.ready_reason)) {
                scheduled_upgrade_done(&n);
                return NULL;
        }
        ScheduledUpgrade *a = reallocarray(s->upgrades, s->n_upgrades + 1, sizeof(ScheduledUpgrade));
        if (!a) {
                scheduled_upgrade_done(&n);
                return NULL;
        }
        s->upgrades = a;
        a[s->n_upgrades] = n;
        return &a[s->n_upgrades++];
}

void chain_state_remove(ChainState *s, ScheduledUpgrade *u) {
        size_t i = (size_t) (u - s->upgrades);
        assert(i < s->n_upgrades);
        scheduled_upgrade_done(u);
        memmove(u, u + 1, (s->n_upgrades - i - 1) * sizeof(ScheduledUpgrade));
        s->n_upgrades--;
}

static int add(json_object *o, const char *k, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, k, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int chain_state_to_json(const ChainState *s, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *list = json_object_new_array();
        if (!o || !list) {
                json_object_put(list);
                return -ENOMEM;
        }
        if (add(o, "version", json_object_new_int(CHAIN_STATE_VERSION)) < 0 ||
                add(o, "rpc", json_object_new_string(strempty(s->rpc))) < 0 ||
                add(o, "reachable", json_object_new_boolean(s->reachable)) < 0 ||
                add(o, "reachable_since_usec", json_object_new_uint64(s->reachable_since)) < 0 ||
                add(o, "height", json_object_new_int64(s->height)) < 0 ||
                add(o, "height_time_usec", json_object_new_uint64(s->height_time)) < 0 ||
                add(o, "block_time_usec", json_object_new_uint64(s->block_time)) < 0 ||
                add(o, "catching_up", json_object_new_boolean(s->catching_up)) < 0 ||
                add(o, "updated_usec", json_object_new_uint64(s->updated)) < 0 ||
                add(o, "upgrades", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_upgrades; i++) {
                const ScheduledUpgrade *u = &s->upgrades[i];
                json_object *e = json_object_new_object(), *w = json_object_new_array();
                if (!e || !w || json_object_array_add(list, e) < 0) {
                        json_object_put(e);
                        json_object_put(w);
                        return -ENOMEM;
                }
                if (add(e, "name", json_object_new_string(u->name)) < 0 ||
                        add(e, "height", json_object_new_int64(u->height)) < 0 ||
                        add(e, "info", json_object_new_string(strempty(u->info))) < 0 ||
                        add(e, "source", json_object_new_string(scheduled_source_to_string(u->source))) <
                                0 ||
                        add(e, "first_seen_usec", json_object_new_uint64(u->first_seen)) < 0 ||
                        add(e, "estimated_at_usec", json_object_new_uint64(u->estimated_at)) < 0 ||
                        add(e, "binary", json_object_new_string(binary_state_to_string(u->binary))) < 0 ||
                        (u->binary_error &&
                                add(e, "binary_error", json_object_new_string(u->binary_error)) < 0) ||
                        add(e, "ready", json_object_new_string(ready_state_to_string(u->ready))) < 0 ||
                        (u->ready_reason &&
                                add(e, "ready_reason", json_object_new_string(u->ready_reason)) < 0) ||
                        add(e, "warnings", w) < 0)
                        return -ENOMEM;
                for (ChainWarning k = 0; k < _CHAIN_WARNING_MAX; k++)
                        if ((u->warnings & (1u << k)) &&
                                json_object_array_add(
                                        w, json_object_new_string(chain_warning_to_string(k))) < 0)
                                return -ENOMEM;
        }
        const char *t =
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        char *c = NULL;
        if (!t || asprintf(&c, "%s\n", t) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static json_object *get(json_object *o, const char *k, json_type type) {
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static int get_uint64(json_object *o, const char *k, uint64_t *ret) {
        json_object *v = get(o, k, json_type_int);
        if (!v)
                return -EBADMSG;
        int64_t i = json_object_get_int64(v);
        if (i < 0)
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

int chain_state_from_json(const char *data, size_t len, ChainState *ret, const char **ret_reason) {
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        _cleanup_(json_object_putp) json_object *o =
                len <= INT32_MAX ? json_tokener_parse_ex(tok, data, (int) len) : NULL;
        if (!o || !json_object_is_type(o, json_type_object)) {
                *ret_reason = "it is not a JSON object";
                return -EBADMSG;
        }
        json_object *v;
        if (!(v = get(o, "version", json_type_int)) || json_object_get_int(v) != CHAIN_STATE_VERSION) {
                *ret_reason = "its \"version\" is not 1";
                return -EBADMSG;
        }
        _cleanup_(chain_state_done) ChainState s = {};
        if ((v = get(o, "rpc", json_type_string)) && !(s.rpc = strdup(json_object_get_string(v))))
                return -ENOMEM;
        s.reachable = (v = get(o, "reachable", json_type_boolean)) && json_object_get_boolean(v);
        s.catching_up = (v = get(o, "catching_up", json_type_boolean)) && json_object_get_boolean(v);
        uint64_t h = 0;
        if (get_uint64(o, "height", &h) < 0 || h > INT64_MAX ||
                get_uint64(o, "height_time_usec", &s.height_time) < 0 ||
                get_uint64(o, "block_time_usec", &s.block_time) < 0 ||
                get_uint64(o, "updated_usec", &s.updated) < 0) {
                *ret_reason = "a height or time is missing or not a number";
                return -EBADMSG;
        }
        s.height = (int64_t) h;
        /* Optional (files written before it was kept have none). */
        if (get_uint64(o, "reachable_since_usec", &s.reachable_since) < 0)
                s.reachable_since = 0;
        json_object *list = get(o, "upgrades", json_type_array);
        if (!list) {
                *ret_reason = "\"upgrades\" is not a list";
                return -EBADMSG;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *e = json_object_array_get_idx(list, i), *name, *info, *src, *bin, *err, *w, *rd;
                ScheduledUpgrade u = {};
                uint64_t uh = 0;
                if (!json_object_is_type(e, json_type_object) ||
                        !(name = get(e, "name", json_type_string)) ||
                        isempty(json_object_get_string(name)) || get_uint64(e, "height", &uh) < 0 ||
                        uh == 0 || uh > INT64_MAX || !(src = get(e, "source", json_type_string)) ||
                        (u.source = scheduled_source_from_string(json_object_get_string(src))) < 0 ||
                        !(bin = get(e, "binary", json_type_string)) ||
                        (u.binary = binary_state_from_string(json_object_get_string(bin))) < 0 ||
                        get_uint64(e, "first_seen_usec", &u.first_seen) < 0 ||
                        get_uint64(e, "estimated_at_usec", &u.estimated_at) < 0) {
                        *ret_reason = "an upgrade has no valid name, height, source, binary state or times";
                        return -EBADMSG;
                }
                u.height = (int64_t) uh;
                u.name = (char *) json_object_get_string(name);
                u.info = (info = get(e, "info", json_type_string)) ? (char *) json_object_get_string(info)
                                                                   : (char *) "";
                u.binary_error = (err = get(e, "binary_error", json_type_string))
                        ? (char *) json_object_get_string(err)
                        : NULL;
                /* Optional (files written before readiness was followed have neither). */
                if ((rd = get(e, "ready", json_type_string)) &&
                        (u.ready = ready_state_from_string(json_object_get_string(rd))) < 0)
                        u.ready = READY_UNKNOWN;
                u.ready_reason = u.ready == READY_NO && (err = get(e, "ready_reason", json_type_string))
                        ? (char *) json_object_get_string(err)
                        : NULL;
                if ((w = get(e, "warnings", json_type_array)))
                        for (size_t k = 0; k < json_object_array_length(w); k++) {
                                ChainWarning cw = chain_warning_from_string(
                                        json_object_get_string(json_object_array_get_idx(w, k)));
                                if (cw >= 0)
                                        u.warnings |= 1u << cw;
                        }
                if (!chain_state_add(&s, &u))
                        return -ENOMEM;
        }
        *ret = s;
        s = (ChainState){};
        return 0;
}

const ScheduledUpgrade *chain_state_next(const ChainState *s) {
        const ScheduledUpgrade *best = NULL;
        for (size_t i = 0; i < s->n_upgrades; i++) {
                const ScheduledUpgrade *u = &s->upgrades[i];
                if (s->height > 0 && u->height <= s->height)
                        continue;
                if (!best || u->height < best->height)
                        best = u;
        }
        return best;
}

int chain_state_describe_next(const ChainState *s, char **ret) {
        const ScheduledUpgrade *u = chain_state_next(s);
        if (!u) {
                *ret = NULL;
                return 0;
        }
        static const char *const binary[_BINARY_STATE_MAX] = {
                [BINARY_MISSING] = "binary missing",
                [BINARY_STAGING] = "binary downloading",
                [BINARY_FAILED] = "binary download failed",
                [BINARY_INSTALLED] = "binary ready",
        };
        char left[FORMAT_APPROX_MAX + 4] = "";
        if (s->height > 0 && s->block_time > 0) {
                char b[FORMAT_APPROX_MAX];
                snprintf(left, sizeof(left), " (~%s)",
                        format_approx(
                                b, sizeof(b), chain_estimate_left(u->height, s->height, s->block_time)));
        }
        const char *b = binary[u->binary];
        if (u->binary == BINARY_INSTALLED)
                b = u->ready == READY_YES ? "binary ready"
                        : u->ready == READY_NO ? "binary not ready: "
                                               : "binary installed, not checked yet";
        if (asprintf(ret, "upgrade %s at height %" PRIi64 "%s, %s%s", u->name, u->height, left, b,
                    u->binary == BINARY_INSTALLED && u->ready == READY_NO ? strna(u->ready_reason) : "") < 0)
                return -ENOMEM;
        return 0;
}
