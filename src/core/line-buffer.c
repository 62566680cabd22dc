/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "line-buffer.h"

void line_buffer_init(LineBuffer *b, size_t max) {
        *b = (LineBuffer) { .max = max ?: LINE_BUFFER_DEFAULT_MAX };
}

void line_buffer_done(LineBuffer *b) {
        b->buf = mfree(b->buf);
        b->len = b->cap = 0;
        b->skipping = false;
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

int line_buffer_feed(LineBuffer *b, const void *data, size_t n, LineCallback cb, void *userdata) {
        const char *p = data, *end = p + n;
        int r;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t chunk = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (b->skipping) {
                        /* The head of this line was delivered already; drop the rest up to its end. */
                        if (!nl)
                                return 0;
                        b->skipping = false;
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

                size_t room = b->max - b->len;
                if (chunk > room) {
                        /* Over the limit: deliver the head now and skip the rest of the line. */
                        r = append(b, p, room);
                        if (r < 0)
                                return r;
                        r = cb(b->buf, b->len, true, userdata);
                        b->len = 0;
                        /* The rest of this line is dropped whatever the callback said. */
                        b->skipping = !nl;
                        if (r < 0 || !nl)
                                return r < 0 ? r : 0;
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
        b->skipping = false;
        if (b->len == 0)
                return 0;
        size_t l = b->len;
        b->len = 0;
        return cb(b->buf, l, false, userdata);
}

const char *line_buffer_pending(const LineBuffer *b, size_t *ret_len) {
        *ret_len = b->skipping ? 0 : b->len;
        return b->buf;
}
