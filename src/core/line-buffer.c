/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "line-buffer.h"

void line_buffer_init(LineBuffer *b, size_t max) {
        assert(b);

        *b = (LineBuffer) { .max = max ?: LINE_BUFFER_DEFAULT_MAX };
        announce_scan_init(&b->scan, 0, 0);
}

void line_buffer_set_scan_limits(LineBuffer *b, size_t window_max, size_t plan_max) {
        assert(b);

        announce_scan_done(&b->scan);
        announce_scan_init(&b->scan, window_max, plan_max);
}

void line_buffer_done(LineBuffer *b) {
        assert(b);

        b->buf = mfree(b->buf);
        b->len = b->cap = 0;
        b->long_line = false;
        announce_scan_done(&b->scan);
}

static int append(LineBuffer *b, const char *p, size_t n) {
        if (b->len + n > b->cap) {
                size_t ncap = MAX(b->cap * 2, b->len + n);
                ncap = MAX(ncap, (size_t) 4096);
                ncap = MIN(ncap, b->max);
                char *m = realloc(b->buf, ncap);
                if (!m)
                        return -ENOMEM;
                b->buf = m;
                b->cap = ncap;
        }
        memcpy(b->buf + b->len, p, n);
        b->len += n;
        return 0;
}

/* Bytes of a line over the limit; ends: they are its last. Delivers the announcement's excerpt when the
 * scanner has it. The line ends whatever the callback or the scanner said. */
static int long_line_feed(LineBuffer *b, const char *p, size_t n, bool ends, LineCallback cb,
        void *userdata) {
        const char *x;
        size_t xl;

        int r = announce_scan_feed(&b->scan, p, n, &x, &xl);
        if (r > 0)
                r = cb(x, xl, true, userdata);
        if (!ends)
                return MIN(r, 0);
        b->long_line = false;
        int k = announce_scan_end(&b->scan, &x, &xl);
        if (k > 0)
                k = cb(x, xl, true, userdata);
        /* Let go of the window: long lines are rare. */
        announce_scan_done(&b->scan);
        return r < 0 ? r : MIN(k, 0);
}

int line_buffer_feed(LineBuffer *b, const void *data, size_t n, LineCallback cb, void *userdata) {
        const char *p = data, *end = p + n;
        int r;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t chunk = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (b->long_line) {
                        r = long_line_feed(b, p, chunk, nl != NULL, cb, userdata);
                        if (r < 0 || !nl)
                                return r;
                        p = nl + 1;
                        continue;
                }

                if (nl && b->len == 0 && chunk <= b->max) {
                        /* Fast path: a whole line inside the input, no copy. */
                        r = cb(p, chunk, false, userdata);
                        if (r < 0)
                                return r;
                        p = nl + 1;
                        continue;
                }

                if (chunk > b->max - b->len) {
                        /* Over the limit: the line goes through the scanner from its first byte on, and its
                         * head is let go. */
                        b->long_line = true;
                        int k = long_line_feed(b, b->buf, b->len, false, cb, userdata);
                        b->buf = mfree(b->buf);
                        b->len = b->cap = 0;
                        r = long_line_feed(b, p, chunk, nl != NULL, cb, userdata);
                        if (k < 0 || r < 0 || !nl)
                                return k < 0 ? k : r;
                        p = nl + 1;
                        continue;
                }

                r = append(b, p, chunk);
                if (r < 0)
                        return r;
                if (!nl)
                        return 0;
                r = cb(b->buf, b->len, false, userdata);
                b->len = 0;
                if (r < 0)
                        return r;
                p = nl + 1;
        }
        return 0;
}

int line_buffer_flush(LineBuffer *b, LineCallback cb, void *userdata) {
        assert(b);

        if (b->long_line)
                return long_line_feed(b, NULL, 0, true, cb, userdata);
        if (b->len == 0)
                return 0;
        size_t l = b->len;
        b->len = 0;
        return cb(b->buf, l, false, userdata);
}

const char *line_buffer_pending(const LineBuffer *b, size_t *ret_len) {
        assert(b);
        assert(ret_len);

        if (b->long_line)
                return announce_scan_pending(&b->scan, ret_len);
        *ret_len = b->len;
        return b->buf;
}
