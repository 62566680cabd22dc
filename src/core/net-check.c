/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net-check.h"
#include "string-util.h"

static const char *const net_need_kind_table[_NET_NEED_KIND_MAX] = {
        [NET_NEED_OUTBOUND] = "outbound",
        [NET_NEED_HOST_LOOPBACK] = "host-loopback",
};

const char *net_need_kind_to_string(NetNeedKind k) {
        if (k < 0 || k >= _NET_NEED_KIND_MAX)
                return NULL;
        return net_need_kind_table[k];
}

static unsigned family_bits(int family) {
        return family == AF_INET ? 32 : 128;
}

/* The first n bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned n) {
        unsigned bytes = n / 8, rest = n % 8;
        if (memcmp(a, b, bytes) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t) (0xff << (8 - rest));
        return (a[bytes] & mask) == (b[bytes] & mask);
}

/* The rule's prefix holds all of a/len. */
static bool prefix_holds(const IPPrefix *p, const uint8_t *a, unsigned len) {
        return p->prefixlen <= len && bits_equal(p->address, a, p->prefixlen);
}

/* a/len holds the rule's prefix and more. */
static bool prefix_within(const IPPrefix *p, const uint8_t *a, unsigned len) {
        return len < p->prefixlen && bits_equal(p->address, a, len);
}

/* a/len lies entirely in loopback: 127.0.0.0/8, ::1. */
static bool within_loopback(int family, const uint8_t *a, unsigned len) {
        static const uint8_t v6_loopback[16] = { [15] = 1 };
        if (family == AF_INET)
                return len >= 8 && a[0] == 127;
        return len == 128 && memcmp(a, v6_loopback, 16) == 0;
}

bool ip_access_allows(const IPAccessRule *rules, size_t n, int family, const uint8_t *address) {
        assert(rules || n == 0);

        bool denied = false;
        for (size_t i = 0; i < n; i++) {
                if (rules[i].prefix.family != family || !prefix_holds(&rules[i].prefix, address, family_bits(family)))
                        continue;
                if (rules[i].allow)
                        return true;
                denied = true;
        }
        return !denied;
}

/* Whether some address of a/len outside loopback passes. Splits the prefix only where a rule starts inside
 * it, so the depth is at most the address length and the work about rules × bits. */
static bool some_beyond_loopback(const IPAccessRule *rules, size_t n, int family, const uint8_t *a, unsigned len) {
        if (within_loopback(family, a, len))
                return false;
        bool denied_whole = false;
        for (size_t i = 0; i < n; i++) {
                const IPPrefix *p = &rules[i].prefix;
                if (p->family != family || !prefix_holds(p, a, len))
                        continue;
                if (rules[i].allow)
                        return true; /* all of it passes, and it is not all loopback */
                denied_whole = true;
        }
        /* Only a rule further inside can change that answer: an allow rule in a denied prefix, a deny rule
         * in one nothing denies. */
        bool rule_inside = false;
        for (size_t i = 0; i < n && !rule_inside; i++)
                rule_inside = rules[i].prefix.family == family && prefix_within(&rules[i].prefix, a, len) &&
                        rules[i].allow == denied_whole;
        if (!rule_inside)
                return !denied_whole;
        if (len >= family_bits(family))
                return !denied_whole;

        uint8_t b[16];
        memcpy(b, a, sizeof(b));
        b[len / 8] |= (uint8_t) (0x80 >> (len % 8));
        return some_beyond_loopback(rules, n, family, a, len + 1) || some_beyond_loopback(rules, n, family, b, len + 1);
}

bool ip_access_allows_beyond_loopback(const IPAccessRule *rules, size_t n, int family, const char **ret_origin) {
        static const uint8_t zero[16] = {};
        if (some_beyond_loopback(rules, n, family, zero, 0))
                return true;
        if (ret_origin) {
                *ret_origin = NULL;
                for (size_t i = 0; i < n && !*ret_origin; i++)
                        if (!rules[i].allow && rules[i].prefix.family == family &&
                            !within_loopback(family, rules[i].prefix.address, rules[i].prefix.prefixlen))
                                *ret_origin = rules[i].origin;
        }
        return false;
}

static const char *deny_origin_for(const IPAccessRule *rules, size_t n, int family, const uint8_t *address) {
        for (size_t i = 0; i < n; i++)
                if (!rules[i].allow && rules[i].prefix.family == family &&
                    prefix_holds(&rules[i].prefix, address, family_bits(family)))
                        return rules[i].origin;
        return NULL;
}

static const char *unit_or_us(const NetFacts *f) {
        return f->unit ?: "oraivisor's unit";
}

static int check_outbound(const NetNeed *need, const NetFacts *f, char **ret) {
        /* Both facts: PrivateNetwork= as configured, and no device but lo as it is. No device but lo alone
         * may be a machine whose network card is not there yet at boot, and a refusal (78) is not retried:
         * the download itself will tell, if it comes to that. */
        if (f->only_loopback > 0 && f->private_network > 0)
                return asprintf(ret,
                        "%s, but %s runs with PrivateNetwork=yes: it has no network but loopback, so downloads cannot leave this machine. Add %s, or %s.",
                        need->setting, unit_or_us(f), need->dropin, need->instead);
        if (f->inet < 0 && f->inet6 < 0) {
                if (f->unit)
                        return asprintf(ret,
                                "%s, but %s refuses AF_INET and AF_INET6 sockets (RestrictAddressFamilies=), so downloads cannot connect. Add %s, or %s.",
                                need->setting, f->unit, need->dropin, need->instead);
                return asprintf(ret, "%s, but AF_INET and AF_INET6 sockets are refused (%s), so downloads cannot connect. Allow them, or %s.",
                        need->setting, strerror(-f->inet), need->instead);
        }
        if (!f->have_ip_access)
                return 0;
        const char *origin = NULL;
        bool any = false;
        if (f->inet >= 0)
                any = ip_access_allows_beyond_loopback(f->ip_access, f->n_ip_access, AF_INET, &origin);
        if (!any && f->inet6 >= 0) {
                const char *o6 = NULL;
                any = ip_access_allows_beyond_loopback(f->ip_access, f->n_ip_access, AF_INET6, &o6);
                origin = origin ?: o6;
        }
        if (any)
                return 0;
        return asprintf(ret,
                "%s, but IPAddressDeny= of %s lets nothing but loopback through, so downloads cannot leave this machine. Add %s, or %s.",
                need->setting, origin ?: unit_or_us(f), need->dropin, need->instead);
}

static int check_host_loopback(const NetNeed *need, const NetFacts *f, char **ret) {
        static const uint8_t v4_loopback[16] = { 127, 0, 0, 1 };
        if (f->private_network > 0)
                return asprintf(ret,
                        "%s, but %s runs with PrivateNetwork=yes: its loopback is its own, not the host's where the node listens. Add %s, or %s.",
                        need->setting, unit_or_us(f), need->dropin, need->instead);
        if (f->inet < 0)
                return asprintf(ret, "%s, but %s refuses AF_INET sockets (%s), so the node's 127.0.0.1 cannot be reached. Add %s, or %s.",
                        need->setting, unit_or_us(f), f->unit ? "RestrictAddressFamilies=" : strerror(-f->inet),
                        need->dropin, need->instead);
        if (f->have_ip_access && !ip_access_allows(f->ip_access, f->n_ip_access, AF_INET, v4_loopback))
                return asprintf(ret, "%s, but IPAddressDeny= of %s blocks 127.0.0.1, where the node listens. Add %s, or %s.",
                        need->setting, deny_origin_for(f->ip_access, f->n_ip_access, AF_INET, v4_loopback) ?: unit_or_us(f),
                        need->dropin, need->instead);
        return 0;
}

int net_check(const NetNeed *needs, size_t n_needs, const NetFacts *facts, char **ret_message) {
        for (size_t i = 0; i < n_needs; i++) {
                char *m = NULL;
                int r;
                switch (needs[i].kind) {
                case NET_NEED_OUTBOUND:
                        r = check_outbound(&needs[i], facts, &m);
                        break;
                case NET_NEED_HOST_LOOPBACK:
                        r = check_host_loopback(&needs[i], facts, &m);
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return -ENOMEM;
                if (m) {
                        *ret_message = m;
                        return 1;
                }
        }
        return 0;
}

int net_dev_only_loopback(const char *text) {
        /* "Inter-|   Receive …" and " face |bytes …", then one "  name: counters…" line per device. */
        const char *p = strchr(text, '\n');
        if (!p || !startswith(text, "Inter-|"))
                return -EINVAL;
        p = strchr(p + 1, '\n');
        if (!p)
                return -EINVAL;
        bool others = false;
        for (p++; *p;) {
                const char *e = strchrnul(p, '\n');
                const char *s = p;
                while (s < e && *s == ' ')
                        s++;
                const char *colon = memchr(s, ':', (size_t) (e - s));
                if (!colon || colon == s)
                        return -EINVAL;
                if (!((size_t) (colon - s) == 2 && memcmp(s, "lo", 2) == 0))
                        others = true;
                p = *e ? e + 1 : e;
        }
        return !others;
}
