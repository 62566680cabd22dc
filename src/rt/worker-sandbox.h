/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Makes a forked worker harmless before it parses untrusted bytes (the unpack worker reads a download
 * before its checksum is known): a user and group of its own when oraivisor is root (no supplementary
 * groups), no capabilities, no new privileges, and a system-call allowlist (seccomp) that holds what
 * working on already open files and folders needs: no sockets, no exec, no new processes, no signals to
 * others, no ownership or credential changes, no ioctl, no executable memory. Irreversible; for a
 * single-threaded child only, after it closed every fd it does not need. */

#include <sys/types.h>

#include "macro.h"

/* The user and group (same number) the worker with this pid runs as when oraivisor is root: 2130706432 +
 * pid. Between systemd's container range (up to 1879048191) and its "foreign" range (from 2147352576),
 * where no account lives; a pid belongs to one live process at a time, so no other process has it while
 * the worker runs, and none once it has exited (it cannot start any). */
#define WORKER_SANDBOX_UID_BASE UINT32_C(2130706432)
uid_t worker_sandbox_uid(pid_t pid) _const_;

/* Enters the sandbox. uid/gid: switched to when they differ from ours (needs root: CAP_SETUID and
 * CAP_SETGID); pass geteuid()/getegid() to keep them. Returns 0, or a negative errno with *ret_step
 * naming what failed ("switching to uid 2130706437", "installing the system call filter"). */
int worker_sandbox_enter(uid_t uid, gid_t gid, const char **ret_step);
