/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "macro.h"
#include "parse-util.h"
#include "priv-validator-state.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

int priv_validator_state_parse(const char *data, size_t len, int64_t *ret_height, const char **ret_reason) {
        assert(data || len == 0);

        if (len > PRIV_VALIDATOR_STATE_MAX_SIZE) {
                *ret_reason = "it is larger than 64 KiB";
                return -EBADMSG;
        }
        if (memchr(data, 0, len)) {
                *ret_reason = "it holds a NUL byte";
                return -EBADMSG;
        }
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        /* Strict: no single quotes, no text after the object (white space aside). */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse_ex(tok, data, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
                !json_object_is_type(o, json_type_object)) {
                *ret_reason = "it is not a JSON object";
                return -EBADMSG;
        }
        json_object *h;
        if (!json_object_object_get_ex(o, "height", &h)) {
                *ret_reason = "it has no \"height\"";
                return -EBADMSG;
        }
        /* amino JSON writes an int64 as a string; a plain number is taken too (other encoders). */
        const char *text = json_object_is_type(h, json_type_string) ? json_object_get_string(h) : NULL;
        int64_t v;
        if (text) {
                size_t n = (size_t) json_object_get_string_len(h);
                if (n == 0 || n > 19 || strspn(text, "0123456789") != n || parse_int64(text, &v) < 0) {
                        *ret_reason = "its \"height\" is not a decimal number";
                        return -EBADMSG;
                }
        } else if (json_object_is_type(h, json_type_int)) {
                errno = 0;
                v = json_object_get_int64(h);
                if (v < 0 || v == INT64_MAX) {
                        *ret_reason = "its \"height\" is out of range";
                        return -EBADMSG;
                }
        } else {
                *ret_reason = "its \"height\" is not a decimal number";
                return -EBADMSG;
        }
        *ret_height = v;
        return 0;
}
