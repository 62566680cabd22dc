/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "height-schedule.h"
#include "string-util.h"
#include "upgrade-name.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

#define HEIGHT_SCHEDULE_VERSION 1

void height_schedule_done(HeightSchedule *s) {
        for (size_t i = 0; i < s->n_entries; i++)
                free(s->entries[i].name);
        free(s->entries);
        *s = (HeightSchedule) {};
}

const HeightUpgrade *height_schedule_find(const HeightSchedule *s, const char *name) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].name, name))
                        return &s->entries[i];
        return NULL;
}

int height_schedule_mark_halted(HeightSchedule *s, const char *name) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].name, name)) {
                        s->entries[i].halted = true;
                        return 1;
                }
        return 0;
}

int height_schedule_remove(HeightSchedule *s, const char *name) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].name, name)) {
                        free(s->entries[i].name);
                        memmove(s->entries + i, s->entries + i + 1, (s->n_entries - i - 1) * sizeof(HeightUpgrade));
                        s->n_entries--;
                        return 1;
                }
        return 0;
}

/* Inserts a copy, keeping the order by height. */
static int insert(HeightSchedule *s, const char *name, int64_t height, usec_t added) {
        char *n = strdup(name);
        if (!n)
                return -ENOMEM;
        HeightUpgrade *e = reallocarray(s->entries, s->n_entries + 1, sizeof(HeightUpgrade));
        if (!e) {
                free(n);
                return -ENOMEM;
        }
        s->entries = e;
        size_t i = 0;
        while (i < s->n_entries && s->entries[i].height < height)
                i++;
        memmove(s->entries + i + 1, s->entries + i, (s->n_entries - i) * sizeof(HeightUpgrade));
        s->entries[i] = (HeightUpgrade) { .name = n, .height = height, .added = added };
        s->n_entries++;
        return 0;
}

int height_schedule_add(HeightSchedule *s, const char *name, int64_t height, usec_t added, const char **ret_other) {
        assert(height > 0);
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].height == height && !streq(s->entries[i].name, name)) {
                        if (ret_other)
                                *ret_other = s->entries[i].name;
                        return -EEXIST;
                }
        /* The same upgrade at the same height again keeps what is known of it (halted there). */
        const HeightUpgrade *same = height_schedule_find(s, name);
        bool halted = same && same->height == height && same->halted;
        (void) height_schedule_remove(s, name);
        int r = insert(s, name, height, added);
        if (r >= 0 && halted)
                (void) height_schedule_mark_halted(s, name);
        return r;
}

const HeightUpgrade *height_schedule_next(const HeightSchedule *s, int64_t height) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].height > height)
                        return &s->entries[i];
        return NULL;
}

int height_schedule_to_json(const HeightSchedule *s, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *a = json_object_new_array();
        if (!o || !a)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_entries; i++) {
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(a, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
                if (json_object_object_add(e, "name", json_object_new_string(s->entries[i].name)) < 0 ||
                        json_object_object_add(e, "height", json_object_new_int64(s->entries[i].height)) < 0 ||
                        json_object_object_add(e, "added_usec", json_object_new_uint64(s->entries[i].added)) < 0 ||
                        (s->entries[i].halted && json_object_object_add(e, "halted", json_object_new_boolean(true)) < 0))
                        return -ENOMEM;
        }
        if (json_object_object_add(o, "version", json_object_new_int(HEIGHT_SCHEDULE_VERSION)) < 0 ||
                json_object_object_add(o, "upgrades", TAKE_PTR(a)) < 0)
                return -ENOMEM;
        const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!t)
                return -ENOMEM;
        char *c = NULL;
        if (asprintf(&c, "%s\n", t) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int height_schedule_from_json(const char *data, size_t len, HeightSchedule *ret, const char **ret_reason) {
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        _cleanup_(json_object_putp) json_object *o = len <= INT32_MAX ? json_tokener_parse_ex(tok, data, (int) len) : NULL;
        json_object *v, *list;
        if (!o || !json_object_is_type(o, json_type_object)) {
                *ret_reason = "it is not a JSON object";
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(o, "version", &v) || !json_object_is_type(v, json_type_int) ||
                json_object_get_int64(v) != HEIGHT_SCHEDULE_VERSION) {
                *ret_reason = "its \"version\" is not 1";
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(o, "upgrades", &list) || !json_object_is_type(list, json_type_array)) {
                *ret_reason = "\"upgrades\" is not a list";
                return -EBADMSG;
        }
        _cleanup_(height_schedule_done) HeightSchedule s = {};
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *e = json_object_array_get_idx(list, i), *name, *height, *added = NULL, *halted = NULL;
                const char *reason;
                if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "name", &name) ||
                        !json_object_is_type(name, json_type_string) ||
                        upgrade_name_check_typed(json_object_get_string(name), &reason) < 0 ||
                        !json_object_object_get_ex(e, "height", &height) ||
                        !json_object_is_type(height, json_type_int) || json_object_get_int64(height) <= 0 ||
                        json_object_get_int64(height) == INT64_MAX ||
                        (json_object_object_get_ex(e, "added_usec", &added) &&
                                !json_object_is_type(added, json_type_int)) ||
                        (json_object_object_get_ex(e, "halted", &halted) &&
                                !json_object_is_type(halted, json_type_boolean))) {
                        *ret_reason = "an upgrade has no valid name or height";
                        return -EBADMSG;
                }
                int r = height_schedule_add(&s, json_object_get_string(name), json_object_get_int64(height),
                        added ? json_object_get_uint64(added) : 0, NULL);
                if (r == -EEXIST || (r == 0 && s.n_entries != i + 1)) {
                        *ret_reason = "two upgrades share a name or a height";
                        return -EBADMSG;
                }
                if (r < 0)
                        return r;
                if (halted && json_object_get_boolean(halted))
                        (void) height_schedule_mark_halted(&s, json_object_get_string(name));
        }
        *ret = s;
        s = (HeightSchedule) {};
        return 0;
}

void height_batch_free(HeightBatchLine *lines, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(lines[i].name);
                free(lines[i].path);
        }
        free(lines);
}

static char *trimmed(const char *p, size_t n) {
        while (n > 0 && strchr(" \t\r", *p)) {
                p++;
                n--;
        }
        while (n > 0 && strchr(" \t\r", p[n - 1]))
                n--;
        return strndup(p, n);
}

int height_batch_parse(const char *data, size_t len, HeightBatchLine **ret, size_t *ret_n, unsigned *ret_line,
        const char **ret_reason) {
        HeightBatchLine *lines = NULL;
        size_t n = 0;
        unsigned lineno = 0;
        int r = 0;

        for (size_t pos = 0; pos < len;) {
                const char *l = data + pos, *nl = memchr(l, '\n', len - pos);
                size_t ll = nl ? (size_t) (nl - l) : len - pos;
                pos += ll + (nl ? 1 : 0);
                lineno++;

                _cleanup_free_ char *line = trimmed(l, ll);
                if (!line) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (isempty(line) || line[0] == '#')
                        continue;
                *ret_line = lineno;
                if (memchr(l, 0, ll)) {
                        *ret_reason = "it holds a NUL byte";
                        r = -EINVAL;
                        goto fail;
                }
                char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
                if (!c1 || !c2 || strchr(c2 + 1, ',')) {
                        *ret_reason = "it is not 'name,path,height' (three fields separated by commas)";
                        r = -EINVAL;
                        goto fail;
                }
                _cleanup_free_ char *name = trimmed(line, c1 - line), *path = trimmed(c1 + 1, c2 - c1 - 1),
                                    *height = trimmed(c2 + 1, strlen(c2 + 1));
                if (!name || !path || !height) {
                        r = -ENOMEM;
                        goto fail;
                }
                const char *why;
                if (upgrade_name_check_typed(name, &why) < 0) {
                        *ret_reason = why;
                        r = -EINVAL;
                        goto fail;
                }
                if (isempty(path)) {
                        *ret_reason = "its path is empty";
                        r = -EINVAL;
                        goto fail;
                }
                char *end = NULL;
                errno = 0;
                long long h = height[0] >= '0' && height[0] <= '9' ? strtoll(height, &end, 10) : 0;
                if (errno != 0 || !end || *end != 0 || h <= 0 || h == INT64_MAX) {
                        *ret_reason = "its height is not a positive block height";
                        r = -EINVAL;
                        goto fail;
                }
                for (size_t i = 0; i < n; i++) {
                        if (streq(lines[i].name, name)) {
                                *ret_reason = "its name is on an earlier line too";
                                r = -EINVAL;
                                goto fail;
                        }
                        if (lines[i].height == h) {
                                *ret_reason = "its height is on an earlier line too";
                                r = -EINVAL;
                                goto fail;
                        }
                }
                HeightBatchLine *nl2 = reallocarray(lines, n + 1, sizeof(HeightBatchLine));
                if (!nl2) {
                        r = -ENOMEM;
                        goto fail;
                }
                lines = nl2;
                lines[n++] = (HeightBatchLine) { .line = lineno, .name = TAKE_PTR(name), .path = TAKE_PTR(path), .height = h };
        }
        if (n == 0) {
                *ret_line = 0;
                *ret_reason = "it holds no 'name,path,height' line";
                r = -EINVAL;
                goto fail;
        }
        *ret = lines;
        *ret_n = n;
        return 0;
fail:
        height_batch_free(lines, n);
        return r;
}
