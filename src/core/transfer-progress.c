/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backup-name.h"
#include "macro.h"
#include "transfer-progress.h"

/* The weight of a new sample in the smoothed rate. */
#define RATE_SMOOTHING 0.3

bool transfer_progress_update(
        TransferProgress *p, usec_t now, uint64_t received, uint64_t total, bool final) {
        bool restarted = received < p->received;

        assert(p);
        if (restarted || p->first_time == 0) {
                p->rate = 0;
                p->first_time = now;
                p->sample_time = now;
                p->sample_received = received;
        } else if (final) {
                if (now > p->first_time)
                        p->rate = (double) received * USEC_PER_SEC / (double) (now - p->first_time);
        } else if (now >= p->sample_time + TRANSFER_RATE_SAMPLE_MIN) {
                double r = (double) (received - p->sample_received) * USEC_PER_SEC /
                        (double) (now - p->sample_time);
                p->rate = p->rate > 0 ? (1 - RATE_SMOOTHING) * p->rate + RATE_SMOOTHING * r : r;
                p->sample_time = now;
                p->sample_received = received;
        }
        p->received = received;
        p->total = total;
        return restarted;
}

int transfer_progress_percent(const TransferProgress *p) {
        if (p->total == 0)
                return -1;
        return (int) (MIN(p->received, p->total) * 100 / p->total);
}

const char *transfer_progress_format_eta(const TransferProgress *p, char *buf, size_t len) {
        if (p->total == 0 || p->rate <= 0 || p->received >= p->total)
                return NULL;
        double left = (double) (p->total - p->received) / p->rate + 0.5;
        if (left >= 100.0 * 3600)
                snprintf(buf, len, ">99h");
        else {
                uint64_t s = (uint64_t) left;
                if (s >= 3600)
                        snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
                                s % 60);
                else
                        snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
        }
        return buf;
}

const char *transfer_progress_format(const TransferProgress *p, char *buf, size_t len) {
        char got[BACKUP_FORMAT_BYTES_MAX], total[BACKUP_FORMAT_BYTES_MAX], rate[BACKUP_FORMAT_BYTES_MAX],
                eta[32];
        int n;

        backup_format_bytes(got, sizeof(got), p->received);
        if (p->total > 0)
                n = snprintf(buf, len, "%s/%s", got, backup_format_bytes(total, sizeof(total), p->total));
        else
                n = snprintf(buf, len, "%s", got);
        if (n < 0 || (size_t) n >= len || p->rate <= 0)
                return buf;
        backup_format_bytes(rate, sizeof(rate), (uint64_t) p->rate);
        int m = snprintf(buf + n, len - n, "  %s/s", rate);
        if (m < 0 || (size_t) (n + m) >= len)
                return buf;
        if (transfer_progress_format_eta(p, eta, sizeof(eta)))
                snprintf(buf + n + m, len - n - m, "  ETA %s", eta);
        return buf;
}

const char *transfer_progress_format_bar(const TransferProgress *p, unsigned width, char *buf, size_t len) {
        assert(len > width);
        unsigned filled = p->total > 0 ? (unsigned) (MIN(p->received, p->total) * width / p->total) : 0;
        memset(buf, '#', filled);
        memset(buf + filled, '.', width - filled);
        buf[width] = 0;
        return buf;
}
