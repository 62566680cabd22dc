/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /proc/<pid>/stat, parsed without allocating ("PID (COMM) STATE PPID PGRP …"), and the choice of the
 * processes a daemon left behind: those below us in the process tree that are none of our own. Used by
 * reaper.c, which reads /proc and sends the signals. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

typedef struct ProcStat {
        pid_t pid;
        char state;  /* 'R', 'S', 'D', 'Z' (zombie), 'X' (dead), … */
        pid_t ppid;
        pid_t pgrp;
        uint64_t starttime; /* field 22: clock ticks after boot when it started; 0 when the line is shorter */
} ProcStat;

/* buf need not be NUL-terminated. The name in parentheses may hold anything, parentheses and newlines
 * included: it ends at the last ')'. -EINVAL for text that does not have that shape. */
int proc_stat_parse(const char *buf, size_t len, ProcStat *ret);

/* Which of procs[] are strays: alive (not a zombie), below self (their parent chain reaches self), and
 * neither one of own[] nor below one of them. Sets strays[i] for each; returns how many, or -ENOMEM. A
 * chain that loops or leaves the list (a parent not in procs[]) is not below self. */
int proc_tree_mark_strays(const ProcStat *procs, size_t n, pid_t self, const pid_t *own, size_t n_own,
        bool *strays);
