/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* net_check(): what the configuration needs from the network against what the sandbox allows; the IP
 * access lists as systemd merges them; /proc/self/net/dev. */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net-check.h"
#include "string-util.h"

static IPAccessRule rule(bool allow, const char *cidr, const char *origin) {
        IPAccessRule r = { .allow = allow, .origin = origin };
        char a[64];
        const char *slash = strchr(cidr, '/');
        cr_assert_not_null(slash, "%s", cidr);
        snprintf(a, sizeof(a), "%.*s", (int) (slash - cidr), cidr);
        r.prefix.family = strchr(a, ':') ? AF_INET6 : AF_INET;
        cr_assert_eq(inet_pton(r.prefix.family, a, r.prefix.address), 1, "%s", cidr);
        r.prefix.prefixlen = (unsigned) atoi(slash + 1);
        return r;
}

/* What systemd makes of IPAddressDeny=any and IPAddressAllow=localhost. */
#define DENY_ANY(o) rule(false, "0.0.0.0/0", o), rule(false, "::/0", o)
#define ALLOW_LOCALHOST(o) rule(true, "127.0.0.0/8", o), rule(true, "::1/128", o)

static bool passes(const IPAccessRule *r, size_t n, const char *addr) {
        uint8_t a[16] = {};
        int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        cr_assert_eq(inet_pton(family, addr, a), 1);
        return ip_access_allows(r, n, family, a);
}

Test(ip_access, no_rules_let_everything_through) {
        cr_expect(ip_access_allows_beyond_loopback(NULL, 0, AF_INET, NULL));
        cr_expect(ip_access_allows_beyond_loopback(NULL, 0, AF_INET6, NULL));
        cr_expect(passes(NULL, 0, "192.0.2.1"));
}

Test(ip_access, deny_any_allow_localhost) {
        IPAccessRule r[] = { DENY_ANY("oraivisor@x.service"), ALLOW_LOCALHOST("oraivisor@x.service") };
        const char *origin = "unset";
        cr_expect_not(ip_access_allows_beyond_loopback(r, ELEMENTSOF(r), AF_INET, &origin));
        cr_expect_str_eq(origin, "oraivisor@x.service");
        cr_expect_not(ip_access_allows_beyond_loopback(r, ELEMENTSOF(r), AF_INET6, NULL));
        cr_expect(passes(r, ELEMENTSOF(r), "127.0.0.1"));
        cr_expect(passes(r, ELEMENTSOF(r), "127.255.0.9"));
        cr_expect(passes(r, ELEMENTSOF(r), "::1"));
        cr_expect_not(passes(r, ELEMENTSOF(r), "128.0.0.1"));
        cr_expect_not(passes(r, ELEMENTSOF(r), "::2"));
        /* deny any alone blocks loopback too */
        cr_expect_not(passes(r, 2, "127.0.0.1"));
}

Test(ip_access, an_allow_beyond_loopback_or_a_gap_in_the_deny_lets_downloads_out) {
        IPAccessRule mirror[] = { DENY_ANY("oraivisor@x.service"), ALLOW_LOCALHOST("oraivisor@x.service"),
                                  rule(true, "10.1.2.3/32", "oraivisor@x.service") };
        cr_expect(ip_access_allows_beyond_loopback(mirror, ELEMENTSOF(mirror), AF_INET, NULL));
        cr_expect_not(ip_access_allows_beyond_loopback(mirror, ELEMENTSOF(mirror), AF_INET6, NULL));
        cr_expect(passes(mirror, ELEMENTSOF(mirror), "10.1.2.3"));
        cr_expect_not(passes(mirror, ELEMENTSOF(mirror), "10.1.2.4"));

        /* Two halves deny everything as "any" does; without one of them, half the addresses pass. */
        IPAccessRule halves[] = { rule(false, "0.0.0.0/1", "system.slice"), rule(false, "128.0.0.0/1", "system.slice") };
        const char *origin = NULL;
        cr_expect_not(ip_access_allows_beyond_loopback(halves, 2, AF_INET, &origin));
        cr_expect_str_eq(origin, "system.slice");
        cr_expect(ip_access_allows_beyond_loopback(halves, 1, AF_INET, NULL));
        cr_expect(ip_access_allows_beyond_loopback(halves, 2, AF_INET6, NULL), "no IPv6 rule: IPv6 passes");

        /* A deny of everything but 127.0.0.0/8 itself, spelled out with the prefixes around it. */
        IPAccessRule around[] = { rule(false, "0.0.0.0/2", "a"), rule(false, "64.0.0.0/3", "a"), rule(false, "96.0.0.0/4", "a"),
                                  rule(false, "112.0.0.0/5", "a"), rule(false, "120.0.0.0/6", "a"), rule(false, "124.0.0.0/7", "a"),
                                  rule(false, "126.0.0.0/8", "a"), rule(false, "128.0.0.0/1", "a") };
        cr_expect_not(ip_access_allows_beyond_loopback(around, ELEMENTSOF(around), AF_INET, NULL));
        cr_expect(ip_access_allows_beyond_loopback(around, ELEMENTSOF(around) - 1, AF_INET, NULL));
        cr_expect(passes(around, ELEMENTSOF(around), "127.0.0.1"));

        /* link-local is beyond loopback: an allow of it lets something out */
        IPAccessRule ll[] = { DENY_ANY("u"), ALLOW_LOCALHOST("u"), rule(true, "169.254.0.0/16", "u") };
        cr_expect(ip_access_allows_beyond_loopback(ll, ELEMENTSOF(ll), AF_INET, NULL));
        /* a deny of loopback only is no deny of the rest */
        IPAccessRule lo[] = { rule(false, "127.0.0.0/8", "u"), rule(false, "::1/128", "u") };
        cr_expect(ip_access_allows_beyond_loopback(lo, ELEMENTSOF(lo), AF_INET, NULL));
        cr_expect(ip_access_allows_beyond_loopback(lo, ELEMENTSOF(lo), AF_INET6, NULL));
        cr_expect_not(passes(lo, ELEMENTSOF(lo), "127.0.0.1"));
}

Test(net_dev, parse) {
        static const char header[] =
                "Inter-|   Receive                                                |  Transmit\n"
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s    lo:    1296      16    0    0    0     0          0         0     1296      16    0    0    0     0       0          0\n", header);
        cr_expect_eq(net_dev_only_loopback(buf), 1);
        snprintf(buf, sizeof(buf), "%s    lo: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n  eth0: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n", header);
        cr_expect_eq(net_dev_only_loopback(buf), 0);
        snprintf(buf, sizeof(buf), "%s  host0:1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0", header);
        cr_expect_eq(net_dev_only_loopback(buf), 0, "no final newline, no space after the colon");
        snprintf(buf, sizeof(buf), "%s   lo0: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n", header);
        cr_expect_eq(net_dev_only_loopback(buf), 0, "lo0 is not lo");
        cr_expect_eq(net_dev_only_loopback(header), 1, "no device at all: nothing but loopback either");
        cr_expect_eq(net_dev_only_loopback(""), -EINVAL);
        cr_expect_eq(net_dev_only_loopback("Inter-|\n"), -EINVAL);
        snprintf(buf, sizeof(buf), "%sgarbage\n", header);
        cr_expect_eq(net_dev_only_loopback(buf), -EINVAL);
        cr_expect_eq(net_dev_only_loopback("lo: 1 2 3\n"), -EINVAL);
}

static const NetNeed downloads = {
        .kind = NET_NEED_OUTBOUND,
        .setting = "DAEMON_ALLOW_DOWNLOAD_BINARIES=true",
        .dropin = "the drop-in of systemd.md",
        .instead = "set it to false",
};
static const NetNeed rpc = {
        .kind = NET_NEED_HOST_LOOPBACK,
        .setting = "RPC=127.0.0.1:26657",
        .dropin = "the RPC drop-in",
        .instead = "unset it",
};

static void expect_verdict(const NetNeed *need, const NetFacts *f, const char *want) {
        char *m = NULL;
        int r = net_check(need, 1, f, &m);
        if (!want) {
                cr_expect_eq(r, 0, "unexpected refusal: %s", strna(m));
                cr_expect_null(m);
        } else {
                cr_expect_eq(r, 1);
                cr_expect_str_eq(strna(m), want);
                cr_expect_null(m ? strchr(m, '\n') : NULL, "one line");
        }
        free(m);
}

Test(net_check, nothing_known_refuses_nothing) {
        NetFacts f = NET_FACTS_UNKNOWN;
        expect_verdict(&downloads, &f, NULL);
        expect_verdict(&rpc, &f, NULL);
        cr_expect_eq(net_check(NULL, 0, &f, NULL), 0);
}

Test(net_check, downloads_with_a_working_network_say_nothing) {
        IPAccessRule none[] = {};
        NetFacts f = { .unit = "oraivisor@x.service", .only_loopback = 0, .private_network = 0, .inet = 0, .inet6 = 0,
                       .have_ip_access = true, .ip_access = none, .n_ip_access = 0 };
        expect_verdict(&downloads, &f, NULL);
        /* IPv6 refused (RestrictAddressFamilies=AF_INET, or a kernel without it): IPv4 is enough */
        f.inet6 = -EAFNOSUPPORT;
        expect_verdict(&downloads, &f, NULL);
}

Test(net_check, private_network) {
        NetFacts f = { .unit = "oraivisor@x.service", .only_loopback = 1, .private_network = 1, .inet = -EAFNOSUPPORT,
                       .inet6 = -EAFNOSUPPORT };
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but oraivisor@x.service runs with PrivateNetwork=yes: it has no network but loopback, so downloads cannot leave this machine. Add the drop-in of systemd.md, or set it to false.");
        expect_verdict(&rpc, &f,
                "RPC=127.0.0.1:26657, but oraivisor@x.service runs with PrivateNetwork=yes: its loopback is its own, not the host's where the node listens. Add the RPC drop-in, or unset it.");
        /* No device but lo without PrivateNetwork= (or not known): maybe a network card not there yet at
         * boot; a refusal would not be retried, so the download itself will tell. */
        NetFacts g = { .only_loopback = 1, .private_network = -1, .inet = 0, .inet6 = 0 };
        expect_verdict(&downloads, &g, NULL);
        g.private_network = 0;
        expect_verdict(&downloads, &g, NULL);
        /* ... and the node's loopback is oraivisor's: fine for the RPC */
        expect_verdict(&rpc, &g, NULL);
        /* PrivateNetwork=yes joined to a namespace that has devices (JoinsNamespaceOf=): downloads may work */
        f.only_loopback = 0;
        f.inet = f.inet6 = 0;
        expect_verdict(&downloads, &f, NULL);
}

Test(net_check, address_families) {
        NetFacts f = { .unit = "oraivisor@x.service", .only_loopback = 0, .private_network = 0, .inet = -EAFNOSUPPORT,
                       .inet6 = -EAFNOSUPPORT };
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but oraivisor@x.service refuses AF_INET and AF_INET6 sockets (RestrictAddressFamilies=), so downloads cannot connect. Add the drop-in of systemd.md, or set it to false.");
        expect_verdict(&rpc, &f,
                "RPC=127.0.0.1:26657, but oraivisor@x.service refuses AF_INET sockets (RestrictAddressFamilies=), so the node's 127.0.0.1 cannot be reached. Add the RPC drop-in, or unset it.");
        f.unit = NULL;
        f.inet = f.inet6 = -EPERM;
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but AF_INET and AF_INET6 sockets are refused (Operation not permitted), so downloads cannot connect. Allow them, or set it to false.");
}

Test(net_check, ip_address_deny) {
        IPAccessRule r[] = { DENY_ANY("oraivisor@x.service"), ALLOW_LOCALHOST("oraivisor@x.service") };
        NetFacts f = { .unit = "oraivisor@x.service", .only_loopback = 0, .private_network = 0, .inet = 0, .inet6 = 0,
                       .have_ip_access = true, .ip_access = r, .n_ip_access = ELEMENTSOF(r) };
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but IPAddressDeny= of oraivisor@x.service lets nothing but loopback through, so downloads cannot leave this machine. Add the drop-in of systemd.md, or set it to false.");
        expect_verdict(&rpc, &f, NULL);
        /* deny any without the localhost allow: the RPC cannot be reached either */
        f.n_ip_access = 2;
        expect_verdict(&rpc, &f,
                "RPC=127.0.0.1:26657, but IPAddressDeny= of oraivisor@x.service blocks 127.0.0.1, where the node listens. Add the RPC drop-in, or unset it.");
        /* a deny set on the slice names the slice; an allow on the unit overrides it */
        IPAccessRule s[] = { DENY_ANY("system.slice"), ALLOW_LOCALHOST("oraivisor@x.service"),
                             rule(true, "0.0.0.0/0", "oraivisor@x.service") };
        f.ip_access = s;
        f.n_ip_access = 4;
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but IPAddressDeny= of system.slice lets nothing but loopback through, so downloads cannot leave this machine. Add the drop-in of systemd.md, or set it to false.");
        f.n_ip_access = 5;
        expect_verdict(&downloads, &f, NULL);
        /* only IPv6 sockets work, and IPv6 is denied while IPv4 is not: refused */
        IPAccessRule v6[] = { rule(false, "::/0", "oraivisor@x.service") };
        f.ip_access = v6;
        f.n_ip_access = 1;
        expect_verdict(&downloads, &f, NULL);
        f.inet = -EAFNOSUPPORT;
        expect_verdict(&downloads, &f,
                "DAEMON_ALLOW_DOWNLOAD_BINARIES=true, but IPAddressDeny= of oraivisor@x.service lets nothing but loopback through, so downloads cannot leave this machine. Add the drop-in of systemd.md, or set it to false.");
}

Test(net_check, the_first_need_that_fails_is_named) {
        NetNeed both[] = { downloads, rpc };
        NetFacts f = { .unit = "u.service", .only_loopback = 0, .private_network = 1, .inet = 0, .inet6 = 0 };
        char *m = NULL;
        cr_expect_eq(net_check(both, 2, &f, &m), 1);
        cr_expect(startswith(strna(m), "RPC=127.0.0.1:26657, but"), "%s", strna(m));
        free(m);
        cr_expect_str_eq(net_need_kind_to_string(NET_NEED_OUTBOUND), "outbound");
        cr_expect_null(net_need_kind_to_string(_NET_NEED_KIND_MAX));
}
