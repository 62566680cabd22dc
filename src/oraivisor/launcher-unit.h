/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The unit launcher: the daemon as a transient systemd service, for oraivisor running under systemd.
 *
 * start() creates "oraivisor-daemon@<instance>.service" with StartTransientUnit (Type=exec, Restart=no,
 * AddRef, CollectMode=inactive-or-failed, the binary 'current' resolves to, run without '$' expansion,
 * oraivisor's environment minus systemd's variables for oraivisor's own unit, DAEMON_USER/GROUP,
 * LimitNOFILE, MemoryMax, TimeoutStopUSec = the grace, journald rate limit out of reach), after the
 * JobRemoved/PropertiesChanged/Reloading matches and Subscribe(). on_started follows once the start job is
 * done and the unit runs; on_failed when systemd could not start it (with systemd's reason). The daemon's
 * output is read from the journal (journal-follow.h) and passed to on_line; after the unit stops, the last
 * lines are drained before on_exited reports ExecMainCode/ExecMainStatus. stop() is StopUnit (mode
 * replace; an unknown unit is already stopped), kill() is KillUnit on the main process. The unit survives
 * oraivisor: adopt() finds it running after a crash or restart of oraivisor and takes it over (same main
 * PID, no restart), resuming the journal at the saved position when it belongs to that invocation.
 *
 * Every D-Bus call made while the loop runs is asynchronous. adopt() is the exception: it is called once
 * at start-up, before READY=1 (so before the watchdog is armed), and answers synchronously with a
 * bounded wait. On bus disconnect the launcher reconnects on a timer; after that, and after PID 1
 * reloads, it reads the unit's state again and reports what it missed. */

#include "config.h"
#include "launcher.h"

typedef struct UnitLauncherOptions {
        const Config *config;     /* daemon_unit, daemon_user, daemon_group, limit_nofile, memory_max,
                                     shutdown_grace, name, home; borrowed, must outlive the launcher */
        const char *state_dir;    /* absolute; the journal position is kept here (created if missing) */
        bool echo_output;         /* also write the daemon's lines to our stdout */
} UnitLauncherOptions;

/* Connects to the system bus and opens the journal; logs and returns a negative errno on failure (no
 * system bus: -ENOENT/-ECONNREFUSED and a hint to use ORAIVISOR_LAUNCHER=exec; an invalid
 * ORAIVISOR_DAEMON_UNIT: -EINVAL). */
int launcher_unit_new(sd_event *e, const UnitLauncherOptions *o, const LauncherCallbacks *cb, void *userdata,
        Launcher **ret);

/* The daemon unit's name as derived (ORAIVISOR_DAEMON_UNIT, else oraivisor-daemon@<instance>.service with
 * instance = our own unit's instance (sd_pid_get_unit) else DAEMON_NAME, unit-name-escaped). */
const char *launcher_unit_name(Launcher *l);
