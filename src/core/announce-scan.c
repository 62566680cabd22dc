/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "announce-scan.h"
#include "plan.h"

/* Where the stripping is, as plan.c's strip_ansi() reads a line: CSI "ESC [ … final", OSC
 * "ESC ] … BEL|ESC \", two-byte "ESC x". */
enum {
        ESC_NONE,
        ESC_START,   /* after ESC */
        ESC_CSI,     /* inside ESC [ …, up to a final byte 0x40-0x7e */
        ESC_OSC,     /* inside ESC ] …, up to BEL or ESC \ */
        ESC_OSC_ESC, /* an ESC inside OSC: ends it if a backslash follows */
};

#define MARK "UPGRADE "
#define MARK_LEN 8U

void announce_scan_init(AnnounceScan *s, size_t window_max, size_t plan_max) {
        *s = (AnnounceScan) {
                .window_max = window_max ?: ANNOUNCE_SCAN_WINDOW_MAX,
                .plan_max = plan_max ?: ANNOUNCE_SCAN_PLAN_MAX,
        };
        assert(s->plan_max >= 16 && s->plan_max < s->window_max);
}

static void scan_reset(AnnounceScan *s) {
        s->buf = mfree(s->buf);
        s->len = s->cap = 0;
        s->esc = ESC_NONE;
        s->matched = 0;
        s->capturing = s->found = false;
}

void announce_scan_done(AnnounceScan *s) {
        scan_reset(s);
}

static int window_append(AnnounceScan *s, const char *p, size_t n) {
        assert(s->len + n <= s->window_max);
        if (s->len + n > s->cap) {
                size_t ncap = MAX(s->cap * 2, s->len + n);
                ncap = MIN(MAX(ncap, (size_t) 4096), s->window_max);
                char *m = realloc(s->buf, ncap);
                if (!m)
                        return -ENOMEM;
                s->buf = m;
                s->cap = ncap;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        return 0;
}

static bool is_marker_at(const char *p) {
        return memcmp(p, MARK, MARK_LEN) == 0 && (p[MARK_LEN] == '"' || p[MARK_LEN] == '\\');
}

/* Does the text hold an announcement? 1, 0 or -ENOMEM. */
static int holds_plan(const char *text, size_t len) {
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        return plan_parse_log_line(text, len, &p);
}

/* The first whole marker at or after the window's last plan_max bytes, or len if there is none. A marker
 * still incomplete at the window's end is found by the automaton as its bytes arrive. */
static size_t next_start(const AnnounceScan *s) {
        for (size_t k = s->window_max - s->plan_max; k + MARK_LEN + 1 <= s->len; k++) {
                const char *u = memchr(s->buf + k, 'U', s->len - MARK_LEN - k);
                if (!u)
                        break;
                k = (size_t) (u - s->buf);
                if (is_marker_at(u))
                        return k;
        }
        return s->len;
}

/* A full window. An announcement in it counts when the text before the next window's start already holds
 * it (then its marker comes before the window's last plan_max bytes, and it had them all for its info);
 * else it starts in those bytes, may be cut at the window's end, and the next window holds it whole. That
 * next window starts at the first marker in the last plan_max bytes: every marker before had plan_max
 * bytes or more after it. Returns 1 when the window is the excerpt, 0, -ENOMEM. */
static int window_full(AnnounceScan *s) {
        int r = holds_plan(s->buf, s->len);
        if (r < 0)
                return r;
        size_t k = next_start(s);
        if (r > 0 && k < s->len) {
                r = holds_plan(s->buf, k);
                if (r < 0)
                        return r;
        }
        if (r > 0) {
                s->found = true;
                s->capturing = false;
                return 1;
        }
        if (k < s->len) {
                memmove(s->buf, s->buf + k, s->len - k);
                s->len -= k;
        } else {
                s->len = 0;
                s->capturing = false;
        }
        return 0;
}

/* One byte of the stripped text. Returns 1 when the excerpt is ready, 0, or -ENOMEM. */
static int scan_char(AnnounceScan *s, char c) {
        bool marker = false;

        /* "UPGRADE " has no prefix that is also its suffix: on a mismatch only a 'U' starts again. */
        if (s->matched == MARK_LEN) {
                marker = c == '"' || c == '\\';
                s->matched = c == 'U';
        } else if (c == MARK[s->matched])
                s->matched++;
        else
                s->matched = c == 'U';

        if (!s->capturing) {
                if (!marker)
                        return 0;
                s->len = 0;
                s->capturing = true;
                int r = window_append(s, MARK, MARK_LEN);
                if (r < 0)
                        return r;
        }
        int r = window_append(s, &c, 1);
        if (r < 0)
                return r;
        if (s->len < s->window_max)
                return 0;
        return window_full(s);
}

int announce_scan_feed(AnnounceScan *s, const void *data, size_t n, const char **ret, size_t *ret_len) {
        assert(ret);
        assert(ret_len);

        const char *p = data;

        if (s->found)
                return 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];
                switch (s->esc) {
                case ESC_NONE:
                        if (c == 0x1b)
                                s->esc = ESC_START;
                        else if (c != '\r') {
                                /* Outside a window, nothing but the marker matters: skip to a 'U' or the next
                                 * byte that changes state. */
                                if (!s->capturing && s->matched == 0 && c != 'U') {
                                        size_t j = i + 1;
                                        while (j < n && p[j] != 'U' && p[j] != 0x1b)
                                                j++;
                                        i = j - 1;
                                        continue;
                                }
                                int r = scan_char(s, (char) c);
                                if (r < 0)
                                        return r;
                                if (r > 0) {
                                        *ret = s->buf;
                                        *ret_len = s->len;
                                        return 1;
                                }
                        }
                        break;
                case ESC_START:
                        s->esc = c == '[' ? ESC_CSI : c == ']' ? ESC_OSC : ESC_NONE;
                        break;
                case ESC_CSI:
                        if (c >= 0x40 && c <= 0x7e)
                                s->esc = ESC_NONE;
                        break;
                case ESC_OSC_ESC:
                        if (c == '\\') {
                                s->esc = ESC_NONE;
                                break;
                        }
                        /* The ESC was part of the OSC text; c is read as OSC text too. */
                        _fallthrough_;
                case ESC_OSC:
                        s->esc = c == '\a' ? ESC_NONE : c == 0x1b ? ESC_OSC_ESC : ESC_OSC;
                        break;
                }
        }
        return 0;
}

int announce_scan_end(AnnounceScan *s, const char **ret, size_t *ret_len) {
        assert(ret);
        assert(ret_len);

        int r = 0;
        if (s->capturing && !s->found) {
                r = holds_plan(s->buf, s->len);
                if (r > 0) {
                        /* The excerpt stays in buf for the caller: ready for the next line, the
                         * allocation kept until a line ends without one (or announce_scan_done()). */
                        *ret = s->buf;
                        *ret_len = s->len;
                        s->len = 0;
                        s->esc = ESC_NONE;
                        s->matched = 0;
                        s->capturing = s->found = false;
                        return 1;
                }
        }
        scan_reset(s);
        return r;
}

const char *announce_scan_pending(const AnnounceScan *s, size_t *ret_len) {
        assert(ret_len);

        *ret_len = s->capturing && !s->found ? s->len : 0;
        return s->buf;
}
