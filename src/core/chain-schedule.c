/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chain-schedule.h"

void block_pace_add(BlockPace *p, int64_t height, usec_t time) {
        size_t i = 0;
        while (i < p->n && p->samples[i].height < height)
                i++;
        if (i < p->n && p->samples[i].height == height) {
                p->samples[i].time = time;
                return;
        }
        if (p->n == BLOCK_PACE_MAX) {
                if (i == 0)
                        return; /* older than everything kept */
                memmove(p->samples, p->samples + 1, (i - 1) * sizeof(BlockSample));
                i--;
                p->n--;
        } else
                memmove(p->samples + i + 1, p->samples + i, (p->n - i) * sizeof(BlockSample));
        p->samples[i] = (BlockSample){height, time};
        p->n++;
}

int block_pace_block_time(const BlockPace *p, usec_t *ret) {
        if (p->n < 2)
                return -ENODATA;
        const BlockSample *a = &p->samples[0], *b = &p->samples[p->n - 1];
        if (b->time <= a->time || b->height <= a->height)
                return -ENODATA;
        *ret = (b->time - a->time) / (usec_t) (b->height - a->height);
        return 0;
}

static usec_t blocks_time(int64_t blocks, usec_t block_time) {
        if (blocks <= 0)
                return 0;
        if (block_time > 0 && (uint64_t) blocks > (USEC_INFINITY - 1) / block_time)
                return USEC_INFINITY - 1;
        return (usec_t) blocks * block_time;
}

usec_t chain_estimate_left(int64_t target, int64_t height, usec_t block_time) {
        return blocks_time(target - height, block_time);
}

usec_t chain_estimate_at(int64_t target, int64_t height, usec_t height_time, usec_t block_time) {
        usec_t left = chain_estimate_left(target, height, block_time);
        return left > USEC_INFINITY - 1 - height_time ? USEC_INFINITY - 1 : height_time + left;
}

static const char *const chain_warning_table[_CHAIN_WARNING_MAX] = {
        [CHAIN_WARNING_AT_ONCE] = "at-once",
        [CHAIN_WARNING_DAY] = "day",
        [CHAIN_WARNING_HOUR] = "hour",
        [CHAIN_WARNING_10MIN] = "10min",
};

const char *chain_warning_to_string(ChainWarning w) {
        if (w < 0 || w >= _CHAIN_WARNING_MAX)
                return NULL;
        return chain_warning_table[w];
}

ChainWarning chain_warning_from_string(const char *s) {
        for (ChainWarning w = 0; w < _CHAIN_WARNING_MAX; w++)
                if (s && strcmp(s, chain_warning_table[w]) == 0)
                        return w;
        return _CHAIN_WARNING_INVALID;
}

usec_t chain_warning_lead(ChainWarning w) {
        switch (w) {
        case CHAIN_WARNING_DAY: return 24 * USEC_PER_HOUR;
        case CHAIN_WARNING_HOUR: return USEC_PER_HOUR;
        case CHAIN_WARNING_10MIN: return 10 * USEC_PER_MINUTE;
        default: return USEC_INFINITY;
        }
}

int chain_warning_due(unsigned given, usec_t left, ChainWarning *ret, unsigned *ret_given) {
        /* The most urgent warning whose lead the time left has reached. */
        ChainWarning due = CHAIN_WARNING_AT_ONCE;
        if (left != USEC_INFINITY)
                for (ChainWarning w = CHAIN_WARNING_DAY; w < _CHAIN_WARNING_MAX; w++)
                        if (left <= chain_warning_lead(w))
                                due = w;
        if (given & (1u << due))
                return -ENODATA;
        /* It stands for every less urgent one too. */
        unsigned g = given;
        for (ChainWarning w = CHAIN_WARNING_AT_ONCE; w <= due; w++)
                g |= 1u << w;
        *ret = due;
        *ret_given = g;
        return 0;
}

usec_t chain_poll_delay(usec_t interval, usec_t left, usec_t block_time) {
        if (left == USEC_INFINITY)
                return interval;
        usec_t d = left / 20;
        d = MAX(d, block_time);
        d = MAX(d, USEC_PER_SEC);
        return MIN(d, interval);
}

const char *format_approx(char *buf, size_t len, usec_t t) {
        static const struct {
                usec_t unit;
                const char *suffix;
        } units[] = {
                {24 * USEC_PER_HOUR, "d"},
                {USEC_PER_HOUR, "h"},
                {USEC_PER_MINUTE, "m"},
                {USEC_PER_SEC, "s"},
        };
        if (t == USEC_INFINITY)
                return snprintf(buf, len, "unknown"), buf;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (t < units[i].unit && i + 1 < ELEMENTSOF(units))
                        continue;
                unsigned long long a = t / units[i].unit;
                if (i + 1 < ELEMENTSOF(units) && i < 2) {
                        unsigned long long b = (t % units[i].unit) / units[i + 1].unit;
                        if (b > 0) {
                                snprintf(buf, len, "%llu%s%llu%s", a, units[i].suffix, b,
                                        units[i + 1].suffix);
                                return buf;
                        }
                }
                snprintf(buf, len, "%llu%s", a, units[i].suffix);
                return buf;
        }
        return buf;
}
