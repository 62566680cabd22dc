/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's transient unit as data: its name, its description and the values of its properties,
 * computed from the configuration and the launch spec. Pure (libc only, no I/O, no clock): everything the
 * unit launcher decides about the unit is here and unit tested; bus-util.c only turns a DaemonUnitSpec
 * into a StartTransientUnit message. Strings in a DaemonUnitSpec are borrowed from the inputs, except
 * description and environment, which it owns (daemon_unit_spec_done() frees them). */

#include "config.h"
#include "journal-cursor.h"
#include "macro.h"
#include "time-util.h"
#include "unit-property.h"

#define UNIT_NAME_MAX 255

/* systemd's escaping of a string for use in a unit name ("a/b-c" -> "a-b\x2dc", a leading '.' too). */
int unit_name_escape(const char *s, char **ret);

/* A valid service unit name: "prefix.service" or "prefix@instance.service", at most 255 bytes, only the
 * characters systemd allows ([A-Za-z0-9:_.\-], '\' escapes), non-empty prefix and instance. */
bool unit_name_is_valid_service(const char *s) _pure_;

/* The instance of "prefix@instance.service" (still escaped, as systemd's %i). -ENXIO when s is not an
 * instance of a template. */
int unit_name_instance(const char *unit, char **ret);

/* The instance oraivisor runs as: that of own_unit ("oraivisor@<instance>.service", still escaped, as
 * systemd's %i) or, when own_unit is NULL or not an instance of a template, the escaped daemon_name.
 * -EINVAL when neither gives one. It names the node's unit and is the ORAIVISOR_INSTANCE= field of
 * oraivisor's journal messages. */
int oraivisor_instance(const char *own_unit, const char *daemon_name, char **ret);

/* The daemon unit's name: override when set (must be valid, -EINVAL otherwise); else
 * "oraivisor-daemon@<instance>.service" with oraivisor_instance(own_unit, daemon_name). */
int daemon_unit_name(const char *override, const char *own_unit, const char *daemon_name, char **ret);

/* The human Description= of the daemon unit: "<daemon_name> chain node (<version>), run by oraivisor".
 * Never its command line: systemd logs "Starting <description>..." and the arguments of a node can be
 * anything. Control characters are replaced by spaces. */
int daemon_unit_description(const char *daemon_name, const char *version, char **ret);

/* Whether NAME=VALUE would be accepted by systemd's Environment= (a bash-like name, a UTF-8 value). */
bool unit_env_assignment_is_valid(const char *s) _pure_;

/* The daemon's environment for the unit: env without the variables that belong to oraivisor's own unit
 * (NOTIFY_SOCKET, WATCHDOG_*, INVOCATION_ID, LISTEN_*, JOURNAL_STREAM, MANAGERPID, SYSTEMD_EXEC_PID and the
 * *_DIRECTORY of its unit), without HOME/USER/LOGNAME/SHELL when the daemon runs as another user (systemd
 * sets them from that user), and without entries systemd would refuse (those are counted in
 * *ret_n_invalid, which may be NULL). */
int daemon_unit_environment(char *const *env, bool other_user, char ***ret, size_t *ret_n_invalid);

/* systemd's own exit statuses (200..245, e.g. 203 = EXEC) for processes it could not start: a name for
 * the message, or NULL for a status that is the daemon's own. */
const char *unit_exec_status_to_string(int status) _const_;

/* Whether the daemon runs as root: no DAEMON_USER, or "root", or "0". */
bool daemon_user_is_root(const char *user) _pure_;

/* The node's sandbox (ORAIVISOR_DAEMON_SANDBOX=strict), as a careful operator would write it by hand for a
 * Cosmos node: the whole file system read-only but the home (home, absolute), other users' homes hidden
 * (when the home itself is under /home, /root or /run/user, only it is bound into an empty /home), private
 * /tmp (unless the home is in /tmp or /var/tmp) and devices, no kernel tunables, modules, logs, clock or hostname, no new privileges, no SUID/SGID
 * files, no namespaces, no realtime scheduling, native system calls of systemd's @system-service set
 * (others fail with EPERM rather than killing the node), the address families a node uses (AF_UNIX,
 * AF_INET, AF_INET6, and AF_NETLINK for Go's net.Interfaces() and glibc's getaddrinfo()), other users'
 * processes invisible, and no capabilities unless the node runs as root. Not MemoryDenyWriteExecute=:
 * CosmWasm compiles contracts to native code in writable and executable memory. Appended to *l. */
int daemon_unit_sandbox(const char *home, bool root, UnitPropertyList *l);

typedef struct DaemonUnitSpec {
        const char *name;              /* "oraivisor-daemon@x.service" */
        char *description;
        const char *binary;            /* absolute */
        char *const *argv;             /* argv[0] included, passed without $ expansion */
        char **environment;            /* filtered, see daemon_unit_environment() */
        const char *working_directory; /* NULL: systemd's default */
        const char *user, *group;      /* NULL: root */
        const char *syslog_identifier; /* the daemon's name */
        usec_t timeout_stop;           /* TimeoutStopUSec, at least 1 ms (0 would mean "never") */
        uint64_t limit_nofile;         /* 0: systemd's default */
        uint64_t memory_max;           /* UINT64_MAX: no limit */
        int kill_signal;
        size_t n_invalid_env;          /* entries of env left out because systemd would refuse them */
        UnitPropertyList sandbox;      /* daemon_unit_sandbox(), empty with ORAIVISOR_DAEMON_SANDBOX=off */
        const UnitPropertyList *extra; /* the operator's ORAIVISOR_DAEMON_PROPERTIES, sent after the rest */
        const char *kill_mode;         /* KillMode=: "mixed" for the node (SIGTERM to it alone first) */
        usec_t runtime_max;            /* RuntimeMaxUSec=; 0: none (the node) */
        /* Output into two fds of the caller (StandardOutputFileDescriptor=, StandardErrorFileDescriptor=)
         * instead of the journal (a check); the bus layer fills in the fds. */
        bool output_to_fds;
        int stdout_fd, stderr_fd;
} DaemonUnitSpec;

/* Fills *ret from the pieces; the caller keeps name, binary, argv, working_directory, user, group,
 * daemon_name and extra alive while ret is used. home is DAEMON_HOME, the one folder the sandbox lets the
 * node write. */
int daemon_unit_spec_build(const char *name, const char *daemon_name, const char *version, const char *binary,
        char *const *argv, char *const *env, const char *working_directory, const char *user, const char *group,
        usec_t grace, uint64_t limit_nofile, uint64_t memory_max, DaemonSandbox sandbox, const char *home,
        const UnitPropertyList *extra, DaemonUnitSpec *ret);
void daemon_unit_spec_done(DaemonUnitSpec *s);

/* daemon_unit_spec_build() with the values of the configuration (DAEMON_NAME, DAEMON_USER/GROUP, the grace,
 * the limits, the sandbox and ORAIVISOR_DAEMON_PROPERTIES, DAEMON_HOME): the one place that says which
 * setting becomes which part of the node's unit, for the launcher and for the readiness check alike. */
int daemon_unit_spec_from_config(const Config *c, const char *name, const char *version, const char *binary,
        char *const *argv, char *const *env, const char *working_directory, DaemonUnitSpec *ret);

/* The name of a unit that checks a version of the node (shared/readiness): the node unit's name without
 * ".service", "-check-", the escaped version (cut so that the name stays within UNIT_NAME_MAX, never inside
 * an escape), "-" and random as 16 hex digits: "oraivisor-daemon@oraid-check-v2-0123456789abcdef.service".
 * As an instance of the node's template it gets the template's drop-ins (oraivisor-daemon@.service.d/), as
 * the node does. A node unit name too long to leave room gives "oraivisor-check-<random>.service". */
int check_unit_name(const char *node_unit, const char *version, uint64_t random, char **ret);

/* The unit of one step of a readiness check of version (the loader's trace, `<binary> version`), derived
 * from the node's unit node as the launcher would build it for that version (env, binary and lib/ of the
 * version): the same User=, Group=, WorkingDirectory=, environment, resource limits, sandbox and operator
 * properties, so that it runs exactly where and as the node would. What differs: argv (argv[0] the program)
 * instead of the node's command line, set_env (NAME=VALUE, may be NULL) added to the environment, its own
 * name and description ("<daemon> readiness check of <version> (<what>), run by oraivisor"), RuntimeMaxUSec=runtime_max, KillMode=control-group with SIGKILL (a check that
 * overstays is killed outright, its children with it), a short stop timeout, and output into the caller's
 * fds instead of the journal. Like the node's, it is Type=exec, never restarted, collected when it ends.
 * name, argv and the borrowed parts of node must outlive *ret; the rest is owned (daemon_unit_spec_done()). */
int check_unit_spec_build(const DaemonUnitSpec *node, const char *name, const char *version, const char *what,
        char *const *argv, char *const *set_env, usec_t runtime_max, DaemonUnitSpec *ret);

