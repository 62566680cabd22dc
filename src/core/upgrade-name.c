/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "string-util.h"
#include "upgrade-name.h"

static bool is_unreserved(unsigned char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '~' || c == '-';
}

/* What Go's url.PathEscape leaves as it is besides the unreserved bytes (shouldEscape() for a path
 * segment escapes '/', ';', ',' and '?' among the reserved ones). */
static bool is_go_path_safe(unsigned char c) {
        return is_unreserved(c) || c == '$' || c == '&' || c == '+' || c == ':' || c == '=' || c == '@';
}

static int encode(const char *name, bool (*keep)(unsigned char c), bool lower, char **ret) {
        if (isempty(name) || streq(name, ".") || streq(name, ".."))
                return -EINVAL;

        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
                n += keep(*p) ? 1 : 3;
        if (n > UPGRADE_FOLDER_NAME_MAX)
                return -ENAMETOOLONG;

        char *r = malloc(n + 1), *w = r;
        if (!r)
                return -ENOMEM;
        for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
                unsigned char c = lower && *p >= 'A' && *p <= 'Z' ? (unsigned char) (*p - 'A' + 'a') : *p;
                if (keep(c))
                        *w++ = (char) c;
                else {
                        *w++ = '%';
                        *w++ = "0123456789ABCDEF"[c >> 4];
                        *w++ = "0123456789ABCDEF"[c & 15];
                }
        }
        *w = 0;
        *ret = r;
        return 0;
}

int upgrade_name_to_folder(const char *name, char **ret) {
        return encode(name, is_unreserved, false, ret);
}

int upgrade_name_to_cosmovisor_folder(const char *name, char **ret) {
        assert(ret);

        _cleanup_free_ char *ours = NULL, *theirs = NULL;
        int r = encode(name, is_unreserved, false, &ours);
        if (r < 0)
                return r;
        r = encode(name, is_go_path_safe, true, &theirs);
        if (r < 0)
                return r;
        *ret = streq(ours, theirs) ? NULL : TAKE_PTR(theirs);
        return 0;
}

int upgrade_folder_lowercase(const char *folder, char **ret) {
        assert(ret);

        _cleanup_free_ char *l = strdup(folder);
        if (!l)
                return -ENOMEM;
        /* Lower-case the letters but keep %XX escapes as they are: cosmovisor lower-cases the plan name
         * before it escapes it, so an escape never holds lower-case hex there either. */
        for (char *p = l; *p; p++) {
                if (*p == '%' && p[1] && p[2]) {
                        p += 2;
                        continue;
                }
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        }
        if (streq(l, folder)) {
                *ret = NULL;
                return 0;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int upgrade_folder_to_name(const char *folder, char **ret) {
        assert(folder);
        assert(ret);

        _cleanup_free_ char *r = malloc(strlen(folder) + 1);
        if (!r)
                return -ENOMEM;
        char *w = r;
        for (const char *p = folder; *p; p++) {
                if (*p != '%') {
                        *w++ = *p;
                        continue;
                }
                int a = unhexchar(p[1]), b = a >= 0 ? unhexchar(p[2]) : -EINVAL;
                if (a < 0 || b < 0 || (a == 0 && b == 0))
                        return -EINVAL;
                *w++ = (char) (a << 4 | b);
                p += 2;
        }
        *w = 0;
        /* No name maps to these folders: they are not upgrades. */
        if (isempty(r) || streq(r, ".") || streq(r, ".."))
                return -EINVAL;
        *ret = TAKE_PTR(r);
        return 0;
}

int upgrade_name_check_typed(const char *name, const char **ret_reason) {
        if (isempty(name) || streq(name, ".") || streq(name, "..")) {
                *ret_reason = upgrade_name_error(-EINVAL);
                return -EINVAL;
        }
        for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
                if (*p == '/') {
                        *ret_reason = "an upgrade name does not contain '/' (give the plan's name, such as v2.0.0, then the file)";
                        return -EINVAL;
                }
                if (*p < 0x20 || *p == 0x7f) {
                        *ret_reason = "an upgrade name does not contain control characters";
                        return -EINVAL;
                }
        }
        _cleanup_free_ char *folder = NULL;
        int r = upgrade_name_to_folder(name, &folder);
        if (r < 0 && r != -ENOMEM)
                *ret_reason = upgrade_name_error(r);
        return r;
}

const char *upgrade_name_error(int r) {
        switch (r) {
        case -EINVAL: return "an upgrade name must not be empty, '.' or '..'";
        case -ENAMETOOLONG: return "the upgrade name is longer than 255 bytes once percent-encoded";
        default: return "the upgrade name cannot be used";
        }
}
