/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "args.h"
#include "parse-util.h"
#include "string-util.h"

static int add_height(const char *s, size_t len, int64_t **l, size_t *n) {
        char buf[32];
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        int64_t h;
        if (parse_int64(buf, &h) < 0 || h <= 0)
                return -EINVAL;
        int64_t *m = realloc(*l, sizeof(int64_t) * (*n + 1));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = h;
        *l = m;
        return 0;
}

static int add_list(const char *s, int64_t **l, size_t *n) {
        /* Cobra accepts "a,b" for an int slice flag, and "" as the empty list. */
        if (!*s)
                return 0;
        for (;;) {
                const char *c = strchrnul(s, ',');
                int r = add_height(s, (size_t) (c - s), l, n);
                if (r < 0)
                        return r;
                if (!*c)
                        return 0;
                s = c + 1;
        }
}

int args_skip_heights(char *const *argv, int64_t **ret, size_t *ret_n, const char **ret_bad) {
        assert(ret);
        assert(ret_n);

        _cleanup_free_ int64_t *l = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; argv && argv[i]; i++) {
                const char *a = argv[i], *v;
                if (streq(a, "--"))
                        break;
                if ((v = startswith(a, "--unsafe-skip-upgrades=")) || (v = startswith(a, "-unsafe-skip-upgrades="))) {
                        r = add_list(v, &l, &n);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                if (ret_bad)
                                        *ret_bad = a;
                                return -EINVAL;
                        }
                        continue;
                }
                if (!streq(a, "--unsafe-skip-upgrades") && !streq(a, "-unsafe-skip-upgrades"))
                        continue;
                for (; argv[i + 1] && argv[i + 1][0] != '-'; i++) {
                        r = add_list(argv[i + 1], &l, &n);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                if (ret_bad)
                                        *ret_bad = argv[i + 1];
                                return -EINVAL;
                        }
                }
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

bool skip_heights_contain(const int64_t *h, size_t n, int64_t height) {
        for (size_t i = 0; i < n; i++)
                if (h[i] == height)
                        return true;
        return false;
}
