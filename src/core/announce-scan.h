/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finds the upgrade announcement in a line too long to keep, as its bytes arrive, in bounded memory.
 *
 * The bytes are read as plan_parse_log_line() reads a line: ANSI escape sequences and carriage returns
 * are dropped first (a sequence may straddle the pieces fed). Then the scanner keeps only a window: the
 * text from a marker ('UPGRADE "' raw, or 'UPGRADE \' escaped inside logfmt or JSON quoting) on, up to
 * window_max bytes or to the line's end, and hands it to plan_parse_log_line(). The first window starts
 * at the line's first marker; the next one at the first marker in the last plan_max bytes of a full
 * window, so every marker gets a window with at least plan_max bytes after it (or the rest of the line),
 * and every byte is parsed at most about window_max / (window_max - plan_max) times: linear in the
 * line's length. An announcement found in a full window counts only if its marker is before the window's
 * last plan_max bytes (else the next window holds it, its info not cut at this window's end).
 *
 * What comes out: the excerpt (the window) that holds the line's first announcement, at most once per
 * line, as soon as it is known (a full window, or the line's end); plan_parse_log_line() on it gives the
 * plan. An announcement of at most plan_max bytes (from its marker to the end of its line, as printed)
 * comes out as plan_parse_log_line() finds it in that short line, whatever text precedes it. Longer, it
 * comes out with its info cut (upgrade-info.json holds it whole), as from a line cut short.
 * The result is the same however the line is split into pieces.
 *
 * Memory: the window (at most window_max bytes), plus plan_parse_log_line()'s copies of it while it reads
 * a window that says both UPGRADE and NEEDED (one without ANSI, one per level of quoting it looks
 * through). Nothing at all while no marker came. Pure: no I/O; the caller owns the struct. */

#include "macro.h"

/* The largest announcement (marker, name, height, info, as printed) a window is sure to hold whole: the
 * size up to which oraivisor reads upgrade-info.json and a manifest (1 MiB), far more than a plan's info
 * needs (a manifest URL, or an inline JSON of a few binaries' URLs and checksums). */
#define ANNOUNCE_SCAN_PLAN_MAX (1024U * 1024U)
#define ANNOUNCE_SCAN_WINDOW_MAX (2U * ANNOUNCE_SCAN_PLAN_MAX)

typedef struct AnnounceScan {
        char *buf;          /* the window: stripped text from a marker on */
        size_t len, cap;
        size_t window_max;
        size_t plan_max;
        uint8_t esc;        /* where in an ANSI escape sequence the bytes are */
        uint8_t matched;    /* bytes of "UPGRADE " at the end of the stripped text so far */
        bool capturing;     /* the window is open */
        bool found;         /* the excerpt was handed over: the rest of the line is ignored */
} AnnounceScan;

/* 0 for either size: the defaults above. plan_max must be below window_max and at least 16. */
void announce_scan_init(AnnounceScan *s, size_t window_max, size_t plan_max);
/* Frees the window and forgets the line; the sizes stay, so the scanner can go on with a new line. */
void announce_scan_done(AnnounceScan *s);

/* Feeds the next n bytes of the line (no newline among them). Returns 1 when the line's first
 * announcement is complete in the window, with the excerpt in *ret / *ret_len (valid until the next
 * call); 0 when not (yet); -ENOMEM. After 1, the rest of the line is ignored. */
int announce_scan_feed(AnnounceScan *s, const void *data, size_t n, const char **ret, size_t *ret_len);

/* The line ended: returns 1 with the excerpt when the open window holds an announcement (valid until the
 * next call), else 0 (the window is freed); or -ENOMEM. Then the scanner is ready for the next line. */
int announce_scan_end(AnnounceScan *s, const char **ret, size_t *ret_len);

/* The open window (empty if none, or once the excerpt was handed over): to scan a line that stopped
 * arriving in the middle as it is. */
const char *announce_scan_pending(const AnnounceScan *s, size_t *ret_len);
