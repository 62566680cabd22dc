/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /proc/self/net/dev as net-probe.c reads it, and the access-list arithmetic of net-check.c over rules
 * taken from the input's bytes. */

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        int r = net_dev_only_loopback(s);
        if (r != 0 && r != 1 && r != -EINVAL)
                abort();
        free(s);

        /* 18 bytes a rule: allow, family, prefix length, 15 address bytes. */
        IPAccessRule rules[32];
        size_t n = 0;
        for (size_t i = 0; i + 18 <= size && n < 32; i += 18, n++) {
                int family = data[i + 1] & 1 ? AF_INET6 : AF_INET;
                rules[n] = (IPAccessRule) { .allow = data[i] & 1, .origin = "u" };
                rules[n].prefix.family = family;
                rules[n].prefix.prefixlen = data[i + 2] % (family == AF_INET ? 33 : 129);
                memcpy(rules[n].prefix.address, data + i + 3, 15);
        }
        const char *origin = NULL;
        bool v4 = ip_access_allows_beyond_loopback(rules, n, AF_INET, &origin);
        bool v6 = ip_access_allows_beyond_loopback(rules, n, AF_INET6, NULL);
        /* without any allow rule, what passes beyond loopback is what no deny rule covers: a blocked family
         * always has a deny rule to name */
        if (!v4 && !origin)
                abort();
        NetFacts f = { .only_loopback = 0, .private_network = 0, .inet = 0, .inet6 = 0, .have_ip_access = true,
                       .ip_access = rules, .n_ip_access = n };
        NetNeed need = { .kind = NET_NEED_OUTBOUND, .setting = "S", .dropin = "D", .instead = "I" };
        char *m = NULL;
        r = net_check(&need, 1, &f, &m);
        if (r < 0 ? r != -ENOMEM : (r == 1) != !(v4 || v6) || (r == 1) != !!m)
                abort();
        free(m);
        return 0;
}
