/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>

#include "manifest.h"

static Manifest *parse_ok(const char *json) {
        Manifest *m = NULL;
        const char *reason = NULL;
        int r = manifest_parse(json, strlen(json), &m, &reason);
        cr_assert_eq(r, 0, "'%s': %d %s", json, r, reason ?: "");
        return m;
}

Test(manifest, find_platform_then_any) {
        Manifest *m =
                parse_ok("{\"binaries\":{\"linux/amd64\":\"https://h/amd64\",\"any\":\"https://h/any\","
                         "\"darwin/arm64\":42,\"bad key\":null},\"changelog\":\"…\",\"x\":[1,2]}");
        const char *url, *key, *reason;
        cr_assert_eq(m->n_entries, 4);
        cr_assert_eq(manifest_find(m, "linux/amd64", &url, &key, &reason), 0);
        cr_assert_str_eq(url, "https://h/amd64");
        cr_assert_str_eq(key, "linux/amd64");
        cr_assert_eq(manifest_find(m, "linux/arm64", &url, &key, &reason), 0);
        cr_assert_str_eq(url, "https://h/any");
        cr_assert_str_eq(key, "any");
        /* A broken entry matters only for its own platform. */
        cr_assert_eq(manifest_find(m, "darwin/arm64", &url, &key, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "the manifest's entry for this platform is not a non-empty string");
        manifest_free(m);

        m = parse_ok("{\"binaries\":{\"Linux/AMD64\":\"u\"}}");
        cr_assert_eq(manifest_find(m, "linux/amd64", &url, NULL, NULL), 0);
        cr_assert_str_eq(url, "u");
        cr_assert_eq(manifest_find(m, "linux/arm64", &url, NULL, &reason), -ENOENT);
        cr_assert_str_eq(reason, "the manifest has no entry for this platform nor \"any\"");
        manifest_free(m);

        m = parse_ok("{\"binaries\":{\"linux/amd64\":\"\"}}");
        cr_assert_eq(manifest_find(m, "linux/amd64", &url, NULL, &reason), -EBADMSG);
        manifest_free(m);

        m = parse_ok("  {\"binaries\":{}}\n\n");
        cr_assert_eq(manifest_find(m, "linux/amd64", &url, NULL, &reason), -ENOENT);
        manifest_free(m);
}

static const struct {
        const char *json;
        int ret;
        const char *reason;
} bad_table[] = {
        {"", -EBADMSG, "the manifest is empty"},
        {"{\"binaries\":", -EBADMSG, "the manifest is truncated JSON"},
        {"{\"binaries\" 1}", -EBADMSG, "the manifest is not valid JSON"},
        {"[1,2]", -EBADMSG, "the manifest is not a JSON object"},
        {"\"https://x\"", -EBADMSG, "the manifest is not a JSON object"},
        {"{}", -EBADMSG, "the manifest has no \"binaries\" object"},
        {"{\"binaries\":[\"x\"]}", -EBADMSG, "the manifest's \"binaries\" is not an object"},
        {"{\"binaries\":\"x\"}", -EBADMSG, "the manifest's \"binaries\" is not an object"},
        {"{\"binaries\":{}} trailing", -EBADMSG, "the manifest has data after its JSON object"},
};

Test(manifest, parse_errors) {
        for (size_t i = 0; i < sizeof(bad_table) / sizeof(bad_table[0]); i++) {
                Manifest *m = NULL;
                const char *reason = NULL;
                int r = manifest_parse(bad_table[i].json, strlen(bad_table[i].json), &m, &reason);
                cr_assert_eq(r, bad_table[i].ret, "'%s': %d", bad_table[i].json, r);
                cr_assert_str_eq(reason, bad_table[i].reason, "'%s'", bad_table[i].json);
                cr_assert_null(m);
        }
        Manifest *m = NULL;
        const char *reason = NULL;
        cr_assert_eq(manifest_parse("{\"binaries\":{}}\0x", 17, &m, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "the manifest contains NUL bytes");
        char *big = malloc(MANIFEST_SIZE_MAX + 2);
        memset(big, ' ', MANIFEST_SIZE_MAX + 1);
        cr_assert_eq(manifest_parse(big, MANIFEST_SIZE_MAX + 1, &m, &reason), -EFBIG);
        free(big);
}

Test(manifest, platform_from_uname) {
        static const char *const t[][3] = {
                {"Linux", "x86_64", "linux/amd64"},
                {"Linux", "aarch64", "linux/arm64"},
                {"Linux", "armv7l", "linux/arm"},
                {"Linux", "i686", "linux/386"},
                {"Linux", "riscv64", "linux/riscv64"},
                {"Darwin", "arm64", "darwin/arm64"},
                {"Linux", "sparc64", "linux/sparc64"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *p = NULL;
                cr_assert_eq(platform_from_uname(t[i][0], t[i][1], &p), 0);
                cr_assert_str_eq(p, t[i][2]);
                free(p);
        }
        char *p = NULL;
        cr_assert_eq(platform_from_uname("", "x86_64", &p), -EINVAL);
        cr_assert_eq(platform_from_uname("Linux", "x/y", &p), -EINVAL);
}

Test(manifest, plan_info_kinds) {
        char *url = NULL;
        Manifest *m = NULL;
        const char *reason = NULL;

        cr_assert_eq(plan_info_parse("  https://h/manifest.json?checksum=sha256:ab \n", &url, &m, &reason),
                PLAN_INFO_URL);
        cr_assert_str_eq(url, "https://h/manifest.json?checksum=sha256:ab");
        free(url);
        url = NULL;

        cr_assert_eq(plan_info_parse("\n{\"binaries\":{\"any\":\"https://h/x\"}}\n", &url, &m, &reason),
                PLAN_INFO_MANIFEST);
        cr_assert_not_null(m);
        cr_assert_null(url);
        manifest_free(m);
        m = NULL;

        cr_assert_eq(plan_info_parse("", &url, &m, &reason), -ENODATA);
        cr_assert_eq(plan_info_parse(NULL, &url, &m, &reason), -ENODATA);
        cr_assert_eq(plan_info_parse(" \t\n", &url, &m, &reason), -ENODATA);
        cr_assert_str_eq(reason, "the plan has no info");
        cr_assert_eq(plan_info_parse("upgrade to v2, see the docs", &url, &m, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "the plan's info is neither a JSON manifest nor a URL");
        cr_assert_eq(plan_info_parse("https://h/a b", &url, &m, &reason), -EBADMSG);
        cr_assert_eq(plan_info_parse("{\"height\":1}", &url, &m, &reason), -EBADMSG);
        cr_assert_str_eq(reason, "the manifest has no \"binaries\" object");
        cr_assert_null(url);
        cr_assert_null(m);
}
