/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proc-stat.h"

static int parse_pid(const char **p, const char *end, pid_t *ret) {
        const char *s = *p;
        long long v = 0;
        bool neg = false;

        if (s < end && *s == '-') {
                neg = true;
                s++;
        }
        const char *digits = s;
        while (s < end && *s >= '0' && *s <= '9') {
                v = v * 10 + (*s - '0');
                if (v > INT_MAX)
                        return -EINVAL;
                s++;
        }
        if (s == digits)
                return -EINVAL;
        *ret = (pid_t) (neg ? -v : v);
        *p = s;
        return 0;
}

int proc_stat_parse(const char *buf, size_t len, ProcStat *ret) {
        assert(ret);

        const char *end = buf + len, *p = buf;
        ProcStat st = {};

        if (parse_pid(&p, end, &st.pid) < 0 || st.pid <= 0)
                return -EINVAL;
        if (end - p < 2 || p[0] != ' ' || p[1] != '(')
                return -EINVAL;
        /* The name may contain ") " itself: the last ')' closes it. */
        const char *close = NULL;
        for (const char *q = p + 2; q < end; q++)
                if (*q == ')')
                        close = q;
        if (!close)
                return -EINVAL;
        p = close + 1;
        if (end - p < 3 || p[0] != ' ' || p[2] != ' ' || p[1] < 'A' || p[1] > 'z')
                return -EINVAL;
        st.state = p[1];
        p += 3;
        if (parse_pid(&p, end, &st.ppid) < 0 || st.ppid < 0)
                return -EINVAL;
        if (p >= end || *p != ' ')
                return -EINVAL;
        p++;
        if (parse_pid(&p, end, &st.pgrp) < 0)
                return -EINVAL;
        if (p < end && *p != ' ' && *p != '\n')
                return -EINVAL;
        *ret = st;
        return 0;
}

typedef struct PidIndex {
        pid_t pid;
        size_t index;
} PidIndex;

static int pid_index_compare(const void *a, const void *b) {
        const PidIndex *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static bool pid_in(pid_t pid, const pid_t *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (set[i] == pid)
                        return true;
        return false;
}

int proc_tree_mark_strays(const ProcStat *procs, size_t n, pid_t self, const pid_t *own, size_t n_own,
        bool *strays) {
        assert(strays || n == 0);

        _cleanup_free_ PidIndex *index = new(PidIndex, n ?: 1);
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                index[i] = (PidIndex) { .pid = procs[i].pid, .index = i };
        qsort(index, n, sizeof(PidIndex), pid_index_compare);

        int count = 0;
        for (size_t i = 0; i < n; i++) {
                strays[i] = false;
                if (procs[i].state == 'Z' || procs[i].state == 'X' || procs[i].pid == self ||
                        pid_in(procs[i].pid, own, n_own))
                        continue;
                /* Up the chain: at most n steps, so that a list read while processes came and went (a
                 * cycle of reused pids) cannot loop. */
                const ProcStat *cur = &procs[i];
                bool below = false;
                for (size_t step = 0; step <= n; step++) {
                        if (cur->ppid == self) {
                                below = true;
                                break;
                        }
                        if (cur->ppid <= 1 || pid_in(cur->ppid, own, n_own))
                                break;
                        PidIndex key = { .pid = cur->ppid };
                        const PidIndex *found = bsearch(&key, index, n, sizeof(PidIndex), pid_index_compare);
                        if (!found)
                                break;
                        cur = &procs[found->index];
                }
                if (below) {
                        strays[i] = true;
                        count++;
                }
        }
        return count;
}
