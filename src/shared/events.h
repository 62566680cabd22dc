/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* oraivisor's structured messages for fleets: each kind of event has a MESSAGE_ID (documented in
 * catalog/oraivisor.catalog, for journalctl -x) and carries DAEMON_NAME=, ORAIVISOR_INSTANCE= (the instance
 * of oraivisor@<instance>.service, else the escaped DAEMON_NAME: see oraivisor_instance()) and, for an
 * upgrade, ORAIVISOR_UPGRADE_NAME= and ORAIVISOR_UPGRADE_HEIGHT= as journal fields, so that
 * `journalctl MESSAGE_ID=…` over a central journal (docs/fleet.md) finds every upgrade of a fleet, with
 * _HOSTNAME= added by journald. Outside the journal the same messages go to stderr as text. Also chooses
 * the log sink at start-up. */

#include "macro.h"
#include "plan.h"

typedef enum OraivisorEvent {
        EVENT_PLAN_DETECTED,
        EVENT_UPGRADE_STARTED,
        EVENT_UPGRADE_FINISHED,
        EVENT_UPGRADE_FAILED,
        EVENT_UPGRADE_SKIPPED,
        EVENT_DAEMON_STARTED,
        EVENT_DAEMON_ADOPTED,
        EVENT_DAEMON_EXITED,
        EVENT_CONFIG_INVALID,
        EVENT_LAYOUT_BROKEN,
        EVENT_NODE_LEFT_STOPPED,
        EVENT_UPGRADE_SCHEDULED,
        EVENT_UPGRADE_UNSCHEDULED,
        EVENT_UPGRADE_BINARY_MISSING,
        EVENT_VERSION_NOT_READY,
        EVENT_SCHEDULED_NOT_READY,
        EVENT_SCHEDULED_READY,
        _EVENT_MAX,
        _EVENT_INVALID = -EINVAL,
} OraivisorEvent;

#define MESSAGE_ID_PLAN_DETECTED "507b9dbac44e48688b0f65d42495a62c"
#define MESSAGE_ID_UPGRADE_STARTED "a4bd8e18025146e5918dab27c0b3e302"
#define MESSAGE_ID_UPGRADE_FINISHED "79952004deb14f5b91e6f3f4c5252a11"
#define MESSAGE_ID_UPGRADE_FAILED "18a6ab75951b4dfb81314adffdf42168"
#define MESSAGE_ID_UPGRADE_SKIPPED "f8032d0055e04c54a693881e37535a86"
#define MESSAGE_ID_DAEMON_STARTED "f9af198041404f468d84f04d469a9aea"
#define MESSAGE_ID_DAEMON_ADOPTED "f8a195d9da4849dbb639e8a8f3b4bc3b"
#define MESSAGE_ID_DAEMON_EXITED "7241b40216cc4e118a809ae993dd8ef5"
#define MESSAGE_ID_CONFIG_INVALID "c325f9eb6f4149669cd319d3a11c1a66"
#define MESSAGE_ID_LAYOUT_BROKEN "545319713f434bfe83fa2ad959b29ac9"
#define MESSAGE_ID_NODE_LEFT_STOPPED "0bb123fe9f46448dad191a9825116888"
/* The chain watcher (docs/chain-watch.md). */
#define MESSAGE_ID_UPGRADE_SCHEDULED "7a51c81050764d31b1cc7781147d294e"
#define MESSAGE_ID_UPGRADE_UNSCHEDULED "003477763c2043cbb84ca03017ae02d0"
#define MESSAGE_ID_UPGRADE_BINARY_MISSING "735d80b3c8854dc5bd9abe236c375413"
#define MESSAGE_ID_VERSION_NOT_READY "6a8c93d1f4754810b49b708ce5da227d"
/* The readiness of known future plans, checked ahead of their height (docs/chain-watch.md). */
#define MESSAGE_ID_SCHEDULED_NOT_READY "f59fcf992c264613895469623abe95b8"
#define MESSAGE_ID_SCHEDULED_READY "dab16d239eb947a799453fa977cce855"

const char *event_message_id(OraivisorEvent e) _const_;

/* Sends the journal sink when stderr is connected to the journal (JOURNAL_STREAM matches it, as when
 * running as a systemd service); keeps the stderr text sink otherwise. Returns 1 if the journal is used. */
int log_setup(void);
bool log_to_journal(void);

/* Logs an event. plan and daemon_name may be NULL; extra (KEY=VALUE strings, NULL-terminated) may be
 * NULL, e.g. "ORAIVISOR_UPGRADE_STEP=backup". Returns -abs(error) like log_*_errno(). */
int log_event(OraivisorEvent e, int level, int error, const char *daemon_name, const UpgradePlan *plan,
        char *const *extra, const char *format, ...) _printf_(7, 8);
