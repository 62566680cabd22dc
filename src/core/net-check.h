/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether the sandbox oraivisor runs in allows what its configuration needs from the network, decided
 * at start-up from facts the runtime layer probed (shared/net-probe.c): facts in, a verdict and one line out.
 * Pure. A need that cannot be met is an invalid configuration (exit status 78) whose line names the
 * setting that asks for the network, the sandbox setting that forbids it and the fix; facts that could not
 * be probed never refuse anything.
 *
 * Needs: NET_NEED_OUTBOUND (downloads: somewhere beyond this machine) and NET_NEED_HOST_LOOPBACK (TCP to
 * 127.0.0.1 of the host's network namespace, where the node listens: its RPC, for the chain watcher). The
 * second has no setting yet; whoever adds one puts a NetNeed for it next to the downloads' one. */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum NetNeedKind {
        NET_NEED_OUTBOUND,
        NET_NEED_HOST_LOOPBACK,
        _NET_NEED_KIND_MAX,
        _NET_NEED_KIND_INVALID = -EINVAL,
} NetNeedKind;

typedef struct NetNeed {
        NetNeedKind kind;
        const char *setting;  /* what asks for it, as written: "DAEMON_ALLOW_DOWNLOAD_BINARIES=true" */
        const char *dropin;   /* the fix under systemd: "the drop-in of the \"Downloads\" section of systemd.md" */
        const char *instead;  /* the other way out: "set DAEMON_ALLOW_DOWNLOAD_BINARIES=false and …" */
} NetNeed;

typedef struct IPPrefix {
        int family;           /* AF_INET or AF_INET6 */
        uint8_t address[16];  /* network byte order; 4 bytes used for AF_INET */
        unsigned prefixlen;
} IPPrefix;

/* One entry of IPAddressAllow= or IPAddressDeny= of a unit or of one of its slices. systemd merges the
 * lists of a unit and of all its slices; an address on an allow list passes whatever the deny lists say. */
typedef struct IPAccessRule {
        bool allow;
        IPPrefix prefix;
        const char *origin;   /* the unit or slice that sets it, for the message */
} IPAccessRule;

typedef struct NetFacts {
        const char *unit;        /* the unit oraivisor runs in, NULL when not known (outside systemd) */
        int only_loopback;       /* 1: no network device but 'lo' in our namespace; 0: others exist; <0: unknown */
        int private_network;     /* the unit's PrivateNetwork=: 1, 0, <0 unknown */
        int inet, inet6;         /* socket(AF_INET/AF_INET6): 0 created, -errno refused, 1 not probed */
        bool have_ip_access;     /* the IP access lists below were read (an empty list is a fact too) */
        const IPAccessRule *ip_access;
        size_t n_ip_access;
} NetFacts;

#define NET_FACTS_UNKNOWN { .only_loopback = -1, .private_network = -1, .inet = 1, .inet6 = 1 }

const char *net_need_kind_to_string(NetNeedKind k) _const_;

/* 0 when every need can be met as far as the facts tell; 1 when one cannot, with *ret_message set to one
 * line (the first need that fails, its first reason); -ENOMEM. */
int net_check(const NetNeed *needs, size_t n_needs, const NetFacts *facts, char **ret_message);

/* Whether the merged access lists let a packet to this address pass (allowed, or not denied). */
bool ip_access_allows(const IPAccessRule *rules, size_t n, int family, const uint8_t *address) _pure_;

/* Whether some address of the family outside loopback (127.0.0.0/8, ::1) passes the merged lists. When
 * none does and ret_origin is given, it is set to the origin of a deny rule that blocks them. */
bool ip_access_allows_beyond_loopback(const IPAccessRule *rules, size_t n, int family, const char **ret_origin);

/* The text of /proc/self/net/dev: 1 when it lists no device but "lo", 0 when it lists another one,
 * -EINVAL when it is not that file's format. */
int net_dev_only_loopback(const char *text);
