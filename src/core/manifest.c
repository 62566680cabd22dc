/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <strings.h>

#include "manifest.h"
#include "string-util.h"
#include "url.h"

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++) {
                free(m->entries[i].platform);
                free(m->entries[i].url);
        }
        free(m->entries);
        return mfree(m);
}

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static void json_tokener_freep(json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

int manifest_parse(const char *data, size_t len, Manifest **ret, const char **ret_reason) {
        assert(ret);

        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        assert(data || len == 0);

        if (len > MANIFEST_SIZE_MAX) {
                *ret_reason = "the manifest is larger than 1 MiB";
                return -EFBIG;
        }
        if (len == 0 || memchr(data, 0, len)) {
                *ret_reason = len == 0 ? "the manifest is empty" : "the manifest contains NUL bytes";
                return -EBADMSG;
        }

        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        _cleanup_(json_object_putp) json_object *root = json_tokener_parse_ex(tok, data, (int) len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        if (!root && jerr == json_tokener_continue) {
                *ret_reason = "the manifest is truncated JSON";
                return -EBADMSG;
        }
        if (!root || jerr != json_tokener_success) {
                *ret_reason = "the manifest is not valid JSON";
                return -EBADMSG;
        }
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!isspace((unsigned char) data[i])) {
                        *ret_reason = "the manifest has data after its JSON object";
                        return -EBADMSG;
                }
        if (!json_object_is_type(root, json_type_object)) {
                *ret_reason = "the manifest is not a JSON object";
                return -EBADMSG;
        }
        json_object *binaries;
        if (!json_object_object_get_ex(root, "binaries", &binaries)) {
                *ret_reason = "the manifest has no \"binaries\" object";
                return -EBADMSG;
        }
        if (!json_object_is_type(binaries, json_type_object)) {
                *ret_reason = "the manifest's \"binaries\" is not an object";
                return -EBADMSG;
        }

        _cleanup_(manifest_freep) Manifest *m = new0(Manifest, 1);
        if (!m)
                return -ENOMEM;
        size_t n = (size_t) json_object_object_length(binaries);
        m->entries = new0(ManifestEntry, n);
        if (!m->entries)
                return -ENOMEM;

        json_object_object_foreach(binaries, key, value) {
                ManifestEntry *e = &m->entries[m->n_entries++];
                e->platform = strdup(key);
                if (!e->platform)
                        return -ENOMEM;
                if (json_object_is_type(value, json_type_string)) {
                        e->url = strdup(json_object_get_string(value));
                        if (!e->url)
                                return -ENOMEM;
                }
        }

        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_find(const Manifest *m, const char *platform, const char **ret_url, const char **ret_key,
        const char **ret_reason) {
        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        assert(m);
        assert(platform);

        const ManifestEntry *found = NULL;
        for (int pass = 0; pass < 2 && !found; pass++) {
                const char *want = pass == 0 ? platform : "any";
                for (size_t i = 0; i < m->n_entries; i++)
                        if (strcasecmp(m->entries[i].platform, want) == 0) {
                                found = &m->entries[i];
                                break;
                        }
        }
        if (!found) {
                *ret_reason = "the manifest has no entry for this platform nor \"any\"";
                return -ENOENT;
        }
        if (isempty(found->url)) {
                *ret_reason = "the manifest's entry for this platform is not a non-empty string";
                return -EBADMSG;
        }
        if (ret_url)
                *ret_url = found->url;
        if (ret_key)
                *ret_key = found->platform;
        return 0;
}

static bool printable_word(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-' && *s != '.')
                        return false;
        return true;
}

int platform_from_uname(const char *sysname, const char *machine, char **ret) {
        assert(ret);

        static const struct {
                const char *machine;
                const char *goarch;
        } arch_table[] = {
                {"x86_64", "amd64"},
                {"amd64", "amd64"},
                {"aarch64", "arm64"},
                {"arm64", "arm64"},
                {"armv8l", "arm"},
                {"armv7l", "arm"},
                {"armv6l", "arm"},
                {"armv5tel", "arm"},
                {"i386", "386"},
                {"i486", "386"},
                {"i586", "386"},
                {"i686", "386"},
                {"ppc64le", "ppc64le"},
                {"ppc64", "ppc64"},
                {"s390x", "s390x"},
                {"riscv64", "riscv64"},
                {"mips64", "mips64"},
                {"loongarch64", "loong64"},
        };

        if (!printable_word(sysname) || !printable_word(machine))
                return -EINVAL;

        const char *arch = NULL;
        for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
                if (streq(machine, arch_table[i].machine))
                        arch = arch_table[i].goarch;

        _cleanup_free_ char *os = strdup(sysname), *a = strdup(arch ?: machine);
        if (!os || !a)
                return -ENOMEM;
        char *r;
        if (asprintf(&r, "%s/%s", ascii_strlower(os), ascii_strlower(a)) < 0)
                return -ENOMEM;
        *ret = r;
        return 0;
}

int plan_info_parse(const char *info, char **ret_url, Manifest **ret_manifest, const char **ret_reason) {
        assert(ret_url);
        assert(ret_manifest);

        const char *reason_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;

        const char *s = strempty(info);
        while (isspace((unsigned char) *s))
                s++;
        size_t len = trim_trailing_whitespace_len(s, strlen(s));
        if (len == 0) {
                *ret_reason = "the plan has no info";
                return -ENODATA;
        }

        if (s[0] == '{') {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                int r = manifest_parse(s, len, &m, ret_reason);
                if (r < 0)
                        return r == -EFBIG ? -EBADMSG : r;
                *ret_manifest = TAKE_PTR(m);
                return PLAN_INFO_MANIFEST;
        }

        _cleanup_free_ char *u = strndup_or_null(s, len);
        if (!u)
                return -ENOMEM;
        if (!url_looks_like_url(u) || strpbrk(u, " \t\r\n")) {
                *ret_reason = "the plan's info is neither a JSON manifest nor a URL";
                return -EBADMSG;
        }
        *ret_url = TAKE_PTR(u);
        return PLAN_INFO_URL;
}
