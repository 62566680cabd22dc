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

/* The user and group (same number) a worker runs as when oraivisor is root: 2130706432 + pid, the pid of
 * a process that lives as long as the worker (its parent, which dies with it). Between systemd's
 * container range (up to 1879048191) and its "foreign" range (from 2147352576), where no account lives;
 * a pid belongs to one live process at a time, so no other process has that user while the worker runs,
 * and none once it has exited (it cannot start any). */
#define WORKER_SANDBOX_UID_BASE UINT32_C(2130706432)
uid_t worker_sandbox_uid(pid_t pid) _const_;

/* Which user a worker of a root oraivisor takes, from what the user namespace maps (/proc/self/uid_map,
 * gid_map): its own (WORKER_SANDBOX_UID_BASE + pid, on a host or a container that maps the whole range);
 * else nobody (65534; a rootless container mapping 0–65535), which owns next to nothing; else (a namespace
 * that maps only root) it stays root, still without capabilities, new privileges or the system calls the
 * filter refuses, but with root's owner rights on files (said in a notice at each download). */
typedef enum WorkerUserMode {
        WORKER_USER_OWN,
        WORKER_USER_NOBODY,
        WORKER_USER_KEEP,
} WorkerUserMode;

#define WORKER_SANDBOX_NOBODY UINT32_C(65534)

WorkerUserMode worker_sandbox_user_mode(void);
/* The user (and group, the same number) for mode; pid as for worker_sandbox_uid(). */
uid_t worker_sandbox_user(WorkerUserMode mode, pid_t pid);

/* Enters the sandbox. uid/gid: switched to when they differ from ours (needs root: CAP_SETUID and
 * CAP_SETGID); pass geteuid()/getegid() to keep them. die_with: when > 0, the parent process to die with
 * (SIGKILL), set after the switch (which clears it); -ECHILD if it is already gone. Returns 0, or a
 * negative errno with *ret_step naming what failed ("switching to the worker's user", "installing the
 * system call filter"). */
int worker_sandbox_enter(uid_t uid, gid_t gid, pid_t die_with, const char **ret_step);
