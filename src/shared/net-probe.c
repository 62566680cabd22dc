/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "bus-util.h"
#include "events.h"
#include "fd-util.h"
#include "log.h"
#include "net-probe.h"
#include "string-util.h"
#include "strv.h"

/* Each call to PID 1 at start-up; it answers in microseconds unless it is very busy. */
#define NET_PROBE_BUS_TIMEOUT (5 * USEC_PER_SEC)
/* -.slice is at most a few levels above any unit. */
#define NET_PROBE_MAX_SLICES 16

void net_probe_done(NetProbe *p) {
        assert(p);

        free(p->unit);
        free(p->rules);
        strv_free(p->origins);
        *p = (NetProbe) {};
}

static int probe_only_loopback(void) {
        /* /proc/self/net is the reading process's network namespace; it stays visible with ProcSubset=pid. */
        _cleanup_close_ int fd = open("/proc/self/net/dev", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot read /proc/self/net/dev, not checking the network devices: %m");
        char buf[16384];
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k < 0)
                        return log_debug_errno(errno, "Cannot read /proc/self/net/dev, not checking the network devices: %m");
                if (k == 0 || n + (size_t) k >= sizeof(buf) - 1) {
                        n += (size_t) k;
                        break;
                }
                n += (size_t) k;
        }
        buf[n] = 0;
        int r = net_dev_only_loopback(buf);
        if (r < 0)
                log_debug("/proc/self/net/dev has an unexpected format, not checking the network devices.");
        return r;
}

static int probe_socket(int family) {
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        safe_close(fd);
        return 0;
}

static int read_access_list(sd_bus *bus, const char *path, const char *interface, const char *property, bool allow,
        const char *origin, NetProbe *p) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_get_property(bus, SYSTEMD_DESTINATION, path, interface, property, &error, &reply, "a(iayu)");
        if (r < 0)
                return log_debug_errno(r, "Cannot read %s of '%s': %s", property, origin, bus_error_text(&error, r));
        r = sd_bus_message_enter_container(reply, 'a', "(iayu)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'r', "iayu")) > 0) {
                int32_t family;
                const void *bytes;
                size_t size;
                uint32_t prefixlen;
                if ((r = sd_bus_message_read(reply, "i", &family)) < 0 ||
                    (r = sd_bus_message_read_array(reply, 'y', &bytes, &size)) < 0 ||
                    (r = sd_bus_message_read(reply, "u", &prefixlen)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        return r;
                size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
                if (want == 0 || size != want || prefixlen > want * 8)
                        continue;
                IPAccessRule *n = reallocarray(p->rules, p->n_rules + 1, sizeof(IPAccessRule));
                if (!n)
                        return -ENOMEM;
                p->rules = n;
                IPAccessRule *e = &p->rules[p->n_rules++];
                *e = (IPAccessRule) { .allow = allow, .origin = origin };
                e->prefix.family = family;
                e->prefix.prefixlen = prefixlen;
                memcpy(e->prefix.address, bytes, size);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static const char *unit_interface(const char *unit) {
        if (endswith(unit, ".service"))
                return SYSTEMD_SERVICE_INTERFACE;
        if (endswith(unit, ".scope"))
                return "org.freedesktop.systemd1.Scope";
        if (endswith(unit, ".slice"))
                return "org.freedesktop.systemd1.Slice";
        return NULL;
}

/* Our unit's PrivateNetwork=, and the access lists of the unit and each slice above it. Any failure leaves
 * the facts it would have given unknown. */
static int probe_bus(NetProbe *p) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_pid_get_unit(0, &p->unit);
        if (r < 0)
                return log_debug_errno(r, "Cannot tell which unit oraivisor runs in, not checking its sandbox: %m");
        p->facts.unit = p->unit;
        if (!unit_interface(p->unit))
                return 0;
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_debug_errno(r, "Cannot connect to the system bus, not checking the sandbox of '%s': %m", p->unit);
        (void) sd_bus_set_method_call_timeout(bus, NET_PROBE_BUS_TIMEOUT);

        _cleanup_free_ char *path = NULL;
        if (bus_unit_path(p->unit, &path) < 0)
                return -ENOMEM;
        int b;
        r = sd_bus_get_property_trivial(bus, SYSTEMD_DESTINATION, path, unit_interface(p->unit), "PrivateNetwork",
                &error, 'b', &b);
        if (r < 0)
                log_debug_errno(r, "Cannot read PrivateNetwork of '%s': %s", p->unit, bus_error_text(&error, r));
        else
                p->facts.private_network = !!b;
        sd_bus_error_free(&error);

        /* The rules point to the origins' strings: collect every name first, then read the lists. */
        _cleanup_strv_free_ char **chain = NULL;
        if (strv_extend(&chain, p->unit) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < NET_PROBE_MAX_SLICES; i++) {
                _cleanup_free_ char *upath = NULL, *slice = NULL;
                const char *u = chain[strv_length(chain) - 1];
                if (bus_unit_path(u, &upath) < 0)
                        return -ENOMEM;
                r = sd_bus_get_property_string(bus, SYSTEMD_DESTINATION, upath, unit_interface(u), "Slice", &error, &slice);
                if (r < 0) {
                        log_debug_errno(r, "Cannot read the slice of '%s', not checking its IP access lists: %s", u,
                                bus_error_text(&error, r));
                        return 0;
                }
                if (isempty(slice) || strv_contains(chain, slice))
                        break;
                if (strv_consume(&chain, TAKE_PTR(slice)) < 0)
                        return -ENOMEM;
        }
        p->origins = TAKE_PTR(chain);

        STRV_FOREACH(u, p->origins) {
                _cleanup_free_ char *upath = NULL;
                if (bus_unit_path(*u, &upath) < 0)
                        return -ENOMEM;
                r = read_access_list(bus, upath, unit_interface(*u), "IPAddressAllow", true, *u, p);
                if (r >= 0)
                        r = read_access_list(bus, upath, unit_interface(*u), "IPAddressDeny", false, *u, p);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        p->rules = mfree(p->rules);
                        p->n_rules = 0;
                        return 0;
                }
        }
        p->facts.have_ip_access = true;
        p->facts.ip_access = p->rules;
        p->facts.n_ip_access = p->n_rules;
        return 0;
}

int net_probe(bool with_bus, NetProbe *ret) {
        assert(ret);

        *ret = (NetProbe) { .facts = NET_FACTS_UNKNOWN };
        ret->facts.only_loopback = probe_only_loopback();
        ret->facts.inet = probe_socket(AF_INET);
        ret->facts.inet6 = probe_socket(AF_INET6);
        if (with_bus && probe_bus(ret) == -ENOMEM)
                return -ENOMEM;
        log_debug("Network sandbox: unit=%s only_loopback=%d private_network=%d inet=%d inet6=%d ip_access_rules=%s%zu",
                strna(ret->unit), ret->facts.only_loopback, ret->facts.private_network, ret->facts.inet,
                ret->facts.inet6, ret->facts.have_ip_access ? "" : "unknown/", ret->n_rules);
        return 0;
}

int net_check_config(const Config *c) {
        if (!c->allow_download)
                return 0;

        _cleanup_(net_probe_done) NetProbe p = {};
        if (net_probe(c->under_systemd, &p) < 0)
                return log_oom();

        _cleanup_free_ char *dropin = NULL, *message = NULL;
        if (asprintf(&dropin, "the drop-in %s%s%s of the \"Downloads\" section of systemd.md",
                    p.unit ? "/etc/systemd/system/" : "", strempty(p.unit), p.unit ? ".d/download.conf" : "") < 0)
                return log_oom();
        const NetNeed needs[] = {
                {
                        .kind = NET_NEED_OUTBOUND,
                        .setting = "DAEMON_ALLOW_DOWNLOAD_BINARIES=true",
                        .dropin = dropin,
                        .instead = "set DAEMON_ALLOW_DOWNLOAD_BINARIES=false and install each upgrade's binary before its height",
                },
        };
        int r = net_check(needs, ELEMENTSOF(needs), &p.facts, &message);
        if (r < 0)
                return log_oom();
        if (r == 0)
                return 0;
        log_event(EVENT_CONFIG_INVALID, LOG_ERR, 0, c->name, NULL, NULL, "%s", message);
        return -EINVAL;
}

int net_check_node_rpc(const Config *c, const NodeRpc *rpc, const char *origin, bool explicit_rpc) {
        if (!rpc->tcp)
                return 0;

        _cleanup_(net_probe_done) NetProbe p = {};
        if (net_probe(c->under_systemd, &p) < 0)
                return log_oom();

        _cleanup_free_ char *setting = NULL, *dropin = NULL, *message = NULL;
        if (asprintf(&setting, explicit_rpc ? "ORAIVISOR_NODE_RPC='%s' is set" : "the node's RPC is at '%s' (%s)",
                    rpc->display, origin) < 0 ||
            asprintf(&dropin, "the drop-in %s%s%s of \"The node's RPC on loopback\" in systemd.md",
                    p.unit ? "/etc/systemd/system/" : "", strempty(p.unit), p.unit ? ".d/rpc.conf" : "") < 0)
                return log_oom();
        const NetNeed need = {
                .kind = rpc->loopback ? NET_NEED_HOST_LOOPBACK : NET_NEED_OUTBOUND,
                .setting = setting,
                .dropin = dropin,
                .instead = explicit_rpc
                        ? "put the node's RPC on a unix socket (laddr = \"unix:///…\" in its config.toml) and set ORAIVISOR_NODE_RPC=unix:///…, or set ORAIVISOR_NODE_RPC=off"
                        : "put the node's RPC on a unix socket (laddr = \"unix:///…\" in its config.toml)",
        };
        int r = net_check(&need, 1, &p.facts, &message);
        if (r < 0)
                return log_oom();
        if (r == 0)
                return 0;
        if (explicit_rpc) {
                log_event(EVENT_CONFIG_INVALID, LOG_ERR, 0, c->name, NULL, NULL, "%s", message);
                return -EINVAL;
        }
        /* The default configuration keeps working under the shipped unit: without the watcher. */
        log_notice("Chain watching is off: %s", message);
        return 1;
}
