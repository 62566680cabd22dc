/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The numbers of a download's progress display: bytes so far and in all, a smoothed rate and the time left,
 * and the bar itself. Pure: the caller passes the time of each sample (CLOCK_MONOTONIC). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time-util.h"

/* Samples closer together than this do not change the rate (it would jump at every callback). */
#define TRANSFER_RATE_SAMPLE_MIN (200 * USEC_PER_MSEC)

typedef struct TransferProgress {
        uint64_t received;
        uint64_t total; /* 0: unknown */
        double rate; /* bytes per second, smoothed; 0 while unknown */
        usec_t first_time; /* the first sample since the transfer (re)started */
        usec_t sample_time; /* the last sample the rate was computed from */
        uint64_t sample_received;
} TransferProgress;

/* A new sample. received going back means the transfer started again from its first byte: the rate is
 * forgotten. final: the transfer is complete, the rate becomes its whole average. Returns true when the
 * transfer restarted. */
bool transfer_progress_update(
        TransferProgress *p, usec_t now, uint64_t received, uint64_t total, bool final);

/* 0…100 of total, -1 when the total is unknown. */
int transfer_progress_percent(const TransferProgress *p);

/* "412.0 MiB/980.0 MiB  12.3 MiB/s  ETA 0:46" (the size, the rate and the ETA when known; no ETA once all
 * arrived), into buf. */
const char *transfer_progress_format(const TransferProgress *p, char *buf, size_t len);

/* The time left as "M:SS", "H:MM:SS" or ">99h"; NULL when it is unknown (no total, no rate, or done). */
const char *transfer_progress_format_eta(const TransferProgress *p, char *buf, size_t len);

/* A bar of width cells ('#' received, '.' not yet), into buf (at least width + 1 bytes). */
const char *transfer_progress_format_bar(const TransferProgress *p, unsigned width, char *buf, size_t len);
