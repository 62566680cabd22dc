/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include "events.h"
#include "log.h"
#include "string-util.h"
#include "unit-spec.h"

static const char *const message_ids[_EVENT_MAX] = {
        [EVENT_PLAN_DETECTED] = MESSAGE_ID_PLAN_DETECTED,
        [EVENT_UPGRADE_STARTED] = MESSAGE_ID_UPGRADE_STARTED,
        [EVENT_UPGRADE_FINISHED] = MESSAGE_ID_UPGRADE_FINISHED,
        [EVENT_UPGRADE_FAILED] = MESSAGE_ID_UPGRADE_FAILED,
        [EVENT_UPGRADE_SKIPPED] = MESSAGE_ID_UPGRADE_SKIPPED,
        [EVENT_DAEMON_STARTED] = MESSAGE_ID_DAEMON_STARTED,
        [EVENT_DAEMON_ADOPTED] = MESSAGE_ID_DAEMON_ADOPTED,
        [EVENT_DAEMON_EXITED] = MESSAGE_ID_DAEMON_EXITED,
        [EVENT_CONFIG_INVALID] = MESSAGE_ID_CONFIG_INVALID,
        [EVENT_LAYOUT_BROKEN] = MESSAGE_ID_LAYOUT_BROKEN,
        [EVENT_NODE_LEFT_STOPPED] = MESSAGE_ID_NODE_LEFT_STOPPED,
        [EVENT_UPGRADE_SCHEDULED] = MESSAGE_ID_UPGRADE_SCHEDULED,
        [EVENT_UPGRADE_UNSCHEDULED] = MESSAGE_ID_UPGRADE_UNSCHEDULED,
        [EVENT_UPGRADE_BINARY_MISSING] = MESSAGE_ID_UPGRADE_BINARY_MISSING,
        [EVENT_VERSION_NOT_READY] = MESSAGE_ID_VERSION_NOT_READY,
        [EVENT_SCHEDULED_NOT_READY] = MESSAGE_ID_SCHEDULED_NOT_READY,
        [EVENT_SCHEDULED_READY] = MESSAGE_ID_SCHEDULED_READY,
};

const char *event_message_id(OraivisorEvent e) {
        if (e < 0 || e >= _EVENT_MAX)
                return NULL;
        return message_ids[e];
}

static bool journal_sink_active = false;
/* The instance of our own unit (oraivisor@<instance>.service), found once when the journal sink is chosen;
 * NULL outside a template instance, where log_event() falls back to the escaped DAEMON_NAME. */
static char *own_instance = NULL;

bool log_to_journal(void) {
        return journal_sink_active;
}

#define MAX_FIELDS 16

static void journal_sink(int level, const char *message, const LogField *fields, size_t n_fields,
        void *userdata) {
        struct iovec iov[MAX_FIELDS + 3];
        _cleanup_free_ char *m = NULL, *p = NULL;
        char *owned[MAX_FIELDS] = {};
        size_t n = 0;

        if (asprintf(&m, "MESSAGE=%s", message) < 0 || asprintf(&p, "PRIORITY=%d", level) < 0) {
                log_sink_stderr(level, message, fields, n_fields, userdata);
                return;
        }
        iov[n++] = (struct iovec) { m, strlen(m) };
        iov[n++] = (struct iovec) { p, strlen(p) };
        iov[n++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=oraivisor", STRLEN("SYSLOG_IDENTIFIER=oraivisor") };
        for (size_t i = 0; i < n_fields && i < MAX_FIELDS; i++) {
                if (!fields[i].value || asprintf(&owned[i], "%s=%s", fields[i].key, fields[i].value) < 0)
                        continue;
                iov[n++] = (struct iovec) { owned[i], strlen(owned[i]) };
        }
        if (sd_journal_sendv(iov, (int) n) < 0)
                log_sink_stderr(level, message, fields, n_fields, userdata);
        for (size_t i = 0; i < MAX_FIELDS; i++)
                free(owned[i]);
}

int log_setup(void) {
        /* systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream our stderr is connected to. If stderr is
         * still that stream, native journal messages keep their fields and priorities. */
        const char *js = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long long dev, ino;
        if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino) {
                log_set_sink(journal_sink, NULL);
                journal_sink_active = true;
                /* Kept for the life of the process, as the sink itself. */
                _cleanup_free_ char *unit = NULL;
                if (!own_instance && sd_pid_get_unit(0, &unit) >= 0)
                        (void) unit_name_instance(unit, &own_instance);
                return 1;
        }
        return 0;
}

int log_event(OraivisorEvent e, int level, int error, const char *daemon_name, const UpgradePlan *plan,
        char *const *extra, const char *format, ...) {
        LogField f[MAX_FIELDS];
        size_t n = 0;
        char height[32];
        char *extra_keys[MAX_FIELDS] = {};
        _cleanup_free_ char *instance = NULL;

        f[n++] = (LogField) { "MESSAGE_ID", event_message_id(e) };
        if (daemon_name)
                f[n++] = (LogField) { "DAEMON_NAME", daemon_name };
        /* Which node of the host: journald adds _HOSTNAME=, and a central journal mixes many hosts, each
         * with several instances that may share a DAEMON_NAME. Text sinks ignore fields: not computed. */
        if (journal_sink_active) {
                if (own_instance)
                        f[n++] = (LogField) { "ORAIVISOR_INSTANCE", own_instance };
                else if (oraivisor_instance(NULL, daemon_name, &instance) >= 0)
                        f[n++] = (LogField) { "ORAIVISOR_INSTANCE", instance };
        }
        if (plan) {
                f[n++] = (LogField) { "ORAIVISOR_UPGRADE_NAME", plan->name };
                if (plan->height > 0) {
                        snprintf(height, sizeof(height), "%" PRIi64, plan->height);
                        f[n++] = (LogField) { "ORAIVISOR_UPGRADE_HEIGHT", height };
                }
                if (plan->time)
                        f[n++] = (LogField) { "ORAIVISOR_UPGRADE_TIME", plan->time };
        }
        for (size_t i = 0; extra && extra[i] && n < MAX_FIELDS; i++) {
                const char *eq = strchr(extra[i], '=');
                if (!eq)
                        continue;
                extra_keys[i] = strndup(extra[i], (size_t) (eq - extra[i]));
                if (extra_keys[i])
                        f[n++] = (LogField) { extra_keys[i], eq + 1 };
        }

        va_list ap;
        va_start(ap, format);
        int r = log_internalv(level, error, f, n, format, ap);
        va_end(ap);
        for (size_t i = 0; i < MAX_FIELDS; i++)
                free(extra_keys[i]);
        return r;
}
