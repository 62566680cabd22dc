/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "bus-util.h"
#include "string-util.h"
#include "strv.h"

void unit_state_done(UnitState *s) {
        if (!s)
                return;
        free(s->load_state);
        free(s->active_state);
        free(s->sub_state);
        free(s->result);
        free(s->job);
        free(s->exec_path);
        *s = (UnitState) UNIT_STATE_INIT;
}

/* Replaces *field with a copy of v. */
static int set_string(char **field, const char *v) {
        char *c = strdup(v);
        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int read_string_into(sd_bus_message *m, char **field) {
        const char *v;
        int r = sd_bus_message_read(m, "v", "s", &v);
        if (r < 0)
                return r;
        return set_string(field, v);
}

static int read_invocation(sd_bus_message *m, UnitState *s) {
        const void *p;
        size_t n;
        int r = sd_bus_message_enter_container(m, 'v', "ay");
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(m, 'y', &p, &n);
        if (r < 0)
                return r;
        if (n == 16) {
                const uint8_t *b = p;
                for (size_t i = 0; i < 16; i++) {
                        s->invocation[2 * i] = (char) hexchar(b[i] >> 4);
                        s->invocation[2 * i + 1] = (char) hexchar(b[i] & 15);
                }
                s->invocation[32] = 0;
                /* All zeros: no invocation (a unit that never ran, or a stub of a collected one). */
                if (streq(s->invocation, "00000000000000000000000000000000"))
                        s->invocation[0] = 0;
        } else
                s->invocation[0] = 0;
        return sd_bus_message_exit_container(m);
}

/* ExecStart is a(sasbttttuii): the first entry's path is the binary the unit runs. */
static int read_exec_path(sd_bus_message *m, UnitState *s) {
        bool first = true;
        int r = sd_bus_message_enter_container(m, 'v', "a(sasbttttuii)");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(sasbttttuii)");
        if (r < 0)
                return r;
        for (;;) {
                const char *path;
                r = sd_bus_message_enter_container(m, 'r', "sasbttttuii");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &path);
                if (r < 0)
                        return r;
                if (first) {
                        r = set_string(&s->exec_path, path);
                        if (r < 0)
                                return r;
                        first = false;
                }
                r = sd_bus_message_skip(m, "asbttttuii");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_job(sd_bus_message *m, UnitState *s) {
        uint32_t id;
        const char *path;
        int r = sd_bus_message_read(m, "v", "(uo)", &id, &path);
        if (r < 0)
                return r;
        return set_string(&s->job, path);
}

int unit_state_read_properties(sd_bus_message *m, UnitState *s) {
        assert(s);

        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *name;
                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;

                if (streq(name, "LoadState"))
                        r = read_string_into(m, &s->load_state);
                else if (streq(name, "ActiveState"))
                        r = read_string_into(m, &s->active_state);
                else if (streq(name, "SubState"))
                        r = read_string_into(m, &s->sub_state);
                else if (streq(name, "Result"))
                        r = read_string_into(m, &s->result);
                else if (streq(name, "InvocationID"))
                        r = read_invocation(m, s);
                else if (streq(name, "Job"))
                        r = read_job(m, s);
                else if (streq(name, "MainPID"))
                        r = sd_bus_message_read(m, "v", "u", &s->main_pid);
                else if (streq(name, "ExecMainPID"))
                        r = sd_bus_message_read(m, "v", "u", &s->exec_main_pid);
                else if (streq(name, "ExecMainCode")) {
                        r = sd_bus_message_read(m, "v", "i", &s->exec_main_code);
                        s->have_exec_main = true;
                } else if (streq(name, "ExecMainStatus")) {
                        r = sd_bus_message_read(m, "v", "i", &s->exec_main_status);
                        s->have_exec_main = true;
                } else if (streq(name, "TimeoutStopUSec"))
                        r = sd_bus_message_read(m, "v", "t", &s->timeout_stop_usec);
                else if (streq(name, "Transient")) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        s->transient = r >= 0 ? !!b : -1;
                } else if (streq(name, "ExecStart"))
                        r = read_exec_path(m, s);
                else if (streq(name, "ActiveEnterTimestamp"))
                        r = sd_bus_message_read(m, "v", "t", &s->active_enter_usec);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

int bus_unit_get_state(sd_bus *bus, const char *unit, UnitState *s, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;

        int r = sd_bus_call_method(bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE, "GetUnit",
                error, &reply, "s", unit);
        if (r < 0)
                return sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit") ? 0 : r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        reply = sd_bus_message_unref(reply);
        r = sd_bus_call_method(bus, SYSTEMD_DESTINATION, p, "org.freedesktop.DBus.Properties", "GetAll", error,
                &reply, "s", "");
        if (r < 0)
                return r;
        r = unit_state_read_properties(reply, s);
        return r < 0 ? r : 1;
}

static int append_string(sd_bus_message *m, const char *name, const char *value) {
        return sd_bus_message_append(m, "(sv)", name, "s", value);
}

static int append_strv_variant(sd_bus_message *m, const char *name, const char *sig, bool with_bool, bool b,
        char **strv) {
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', sig);
        if (r >= 0 && with_bool)
                r = sd_bus_message_open_container(m, 'r', "bas");
        if (r >= 0 && with_bool)
                r = sd_bus_message_append(m, "b", b);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, strv);
        if (r >= 0 && with_bool)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int bus_append_unit_property(sd_bus_message *m, const UnitProperty *p) {
        int r;

        assert(m);
        assert(p);

        switch (p->type) {
        case UNIT_PROPERTY_BOOL:
                return sd_bus_message_append(m, "(sv)", p->name, "b", (int) p->b);
        case UNIT_PROPERTY_STRING:
                return sd_bus_message_append(m, "(sv)", p->name, "s", p->s);
        case UNIT_PROPERTY_U64:
                return sd_bus_message_append(m, "(sv)", p->name, "t", p->u64);
        case UNIT_PROPERTY_I32:
                return sd_bus_message_append(m, "(sv)", p->name, "i", p->i32);
        case UNIT_PROPERTY_STRV:
                return append_strv_variant(m, p->name, "as", false, false, p->strv);
        case UNIT_PROPERTY_BOOL_STRV:
                return append_strv_variant(m, p->name, "(bas)", true, p->b, p->strv);
        case UNIT_PROPERTY_BIND:
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", p->name);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(ssbt)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(ssbt)");
                /* strv: source, destination, "-" (a missing source is ignored) or "", … */
                for (size_t i = 0; r >= 0 && p->strv && p->strv[i] && p->strv[i + 1] && p->strv[i + 2]; i += 3)
                        r = sd_bus_message_append(m, "(ssbt)", p->strv[i], p->strv[i + 1],
                                (int) streq(p->strv[i + 2], "-"), UNIT_PROPERTY_BIND_FLAGS);
                for (int i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(m);
                return r;
        default:
                return -EINVAL;
        }
}

int bus_append_daemon_unit_properties(sd_bus_message *m, const DaemonUnitSpec *s) {
        int r;

        assert(m);
        assert(s);

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)",
                "Description", "s", s->description,
                /* exec: a missing or broken binary fails the start job (203/EXEC) instead of "started". */
                "Type", "s", "exec",
                /* oraivisor decides about restarts: an automatic one could bring the old binary back mid-swap. */
                "Restart", "s", "no",
                /* Keeps the unit loaded while we are connected, so its exit status can still be read. */
                "AddRef", "b", 1,
                "CollectMode", "s", "inactive-or-failed");
        if (r < 0)
                return r;

        /* ExecStart: (path, argv, ignore-failure). Not ExecStartEx with no-env-expand: systemd 252 writes that
         * into the transient unit file as "ExecStartEx=", which its own parser does not know, so that after
         * any daemon-reload (every package installed with a unit does one) the unit has no ExecStart= and
         * the next oraivisor cannot adopt the node. Every '$' of the arguments is written as "$$", which
         * systemd passes on as a '$', before and after a reload: no environment expansion either way. */
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "ExecStart");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", s->binary);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; s->argv && s->argv[i]; i++) {
                _cleanup_free_ char *e = strdup_escape_dollar(s->argv[i]);
                if (!e)
                        return -ENOMEM;
                r = sd_bus_message_append(m, "s", e);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "b", 0);
        if (r < 0)
                return r;
        for (int i = 0; i < 4; i++) {
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }

        if (s->environment && s->environment[0]) {
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "s", "Environment");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'v', "as");
                if (r < 0)
                        return r;
                r = sd_bus_message_append_strv(m, s->environment);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }

        if (s->working_directory) {
                r = append_string(m, "WorkingDirectory", s->working_directory);
                if (r < 0)
                        return r;
        }
        if (s->user) {
                r = append_string(m, "User", s->user);
                if (r < 0)
                        return r;
        }
        if (s->group) {
                r = append_string(m, "Group", s->group);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)",
                /* The node: SIGTERM to it alone; what it leaves behind gets SIGKILL once it is gone. */
                "KillMode", "s", s->kill_mode ?: "mixed",
                "KillSignal", "i", (int32_t) s->kill_signal,
                "TimeoutStopUSec", "t", (uint64_t) s->timeout_stop,
                "SyslogIdentifier", "s", s->syslog_identifier);
        if (r < 0)
                return r;
        if (s->runtime_max > 0) {
                r = sd_bus_message_append(m, "(sv)", "RuntimeMaxUSec", "t", (uint64_t) s->runtime_max);
                if (r < 0)
                        return r;
        }
        if (s->output_to_fds) {
                /* A check's output, read by its caller: straight into its fds (as `systemd-run --pipe`), never
                 * through the journal, where lines of a short-lived process can arrive after its end. */
                if (s->stdout_fd < 0 || s->stderr_fd < 0)
                        return -EBADF;
                r = sd_bus_message_append(m, "(sv)(sv)", "StandardOutputFileDescriptor", "h", s->stdout_fd,
                        "StandardErrorFileDescriptor", "h", s->stderr_fd);
        } else
                r = sd_bus_message_append(m, "(sv)(sv)(sv)",
                        /* journald must never drop a line: the announcement could be the one dropped. Not
                         * LogRateLimitIntervalUSec=0: PID 1 passes 0 on as "unset", and journald's default
                         * limit (10,000 lines per 30 s, times a disk-space factor) then drops the rest of a
                         * burst silently (seen: 35,000 of 100,000 lines kept). A burst journald can never
                         * reach does turn it off; it stays below UINT32_MAX/6, as journald multiplies it by
                         * up to 6. */
                        "LogRateLimitBurst", "u", (uint32_t) DAEMON_UNIT_LOG_RATE_LIMIT_BURST,
                        "StandardOutput", "s", "journal",
                        "StandardError", "s", "journal");
        if (r < 0)
                return r;

        if (s->limit_nofile > 0) {
                r = sd_bus_message_append(m, "(sv)(sv)", "LimitNOFILE", "t", s->limit_nofile, "LimitNOFILESoft", "t",
                        s->limit_nofile);
                if (r < 0)
                        return r;
        }
        if (s->memory_max != UINT64_MAX) {
                r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", s->memory_max);
                if (r < 0)
                        return r;
        }

        /* The sandbox, then the operator's properties: theirs win for single values and add to lists. */
        for (size_t i = 0; i < s->sandbox.n; i++) {
                r = bus_append_unit_property(m, &s->sandbox.items[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; s->extra && i < s->extra->n; i++) {
                r = bus_append_unit_property(m, &s->extra->items[i]);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_close_container(m);
}

int bus_unit_path(const char *unit, char **ret) {
        return sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, ret);
}

const char *bus_error_text(const sd_bus_error *e, int r) {
        if (e && e->message)
                return e->message;
        return strerror(r < 0 ? -r : r);
}
