/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "string-util.h"
#include "version-install.h"

/* As obtain.c: room for the prefix and the random suffix within NAME_MAX. */
#define STAGING_FOLDER_MAX 180
#define FEED_CHUNK (64U * 1024U)

static int staging_name(const char *folder, char **ret) {
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, VERSION_STAGING_PREFIX "%.*s-", STAGING_FOLDER_MAX, folder) < 0)
                return -ENOMEM;
        return tempname_make(prefix, ret);
}

int version_staging_new(int parent_fd, const char *folder, VersionStaging *ret) {
        _cleanup_free_ char *name = NULL;
        for (unsigned attempt = 0;; attempt++) {
                name = mfree(name);
                int r = staging_name(folder, &name);
                if (r < 0)
                        return r;
                if (mkdirat(parent_fd, name, 0755) >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return -errno;
        }
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* Held until published or removed: obtain_cleanup_stale() leaves a locked staging folder alone. */
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;
                safe_close(fd);
                (void) rm_rf_at(parent_fd, name);
                return r;
        }
        *ret = (VersionStaging){.parent_fd = parent_fd, .name = TAKE_PTR(name), .fd = fd};
        return 0;
}

void version_staging_done(VersionStaging *s) {
        s->fd = safe_close(s->fd);
        if (s->name)
                (void) rm_rf_at(s->parent_fd, s->name);
        s->name = mfree(s->name);
}

/* ---- feeding a file to the unpack worker -------------------------------------------------------------- */

typedef struct Feeder {
        sd_event *event;
        Unpack *unpack;
        int src_fd;
        uint8_t *buf;
        size_t len; /* bytes in buf not yet taken by unpack_feed() */
        bool finished; /* unpack_finish() called */
        bool done;
        int error;
        char *message;
} Feeder;

static void feeder_fail(Feeder *f, int error, const char *message) {
        if (f->done)
                return;
        f->done = true;
        f->error = error;
        f->message = message ? strdup(message) : NULL;
        (void) sd_event_exit(f->event, 0);
}

/* Passes on as much as the worker takes now; the rest waits for on_ready. */
static void feeder_pump(Feeder *f) {
        while (!f->finished && !f->done) {
                if (f->len == 0) {
                        ssize_t n = read(f->src_fd, f->buf, FEED_CHUNK);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                char m[128];
                                (void) snprintf(m, sizeof m, "reading it failed: %s", strerror(errno));
                                return feeder_fail(f, -errno, m);
                        }
                        if (n == 0) {
                                f->finished = true;
                                int r = unpack_finish(f->unpack);
                                if (r < 0)
                                        return; /* the worker is gone: on_done says why */
                                return;
                        }
                        f->len = (size_t) n;
                }
                int r = unpack_feed(f->unpack, f->buf, f->len);
                if (r == UNPACK_BUSY || r < 0)
                        return; /* on_ready, or on_done when the worker is gone */
                f->len = 0;
        }
}

static void on_ready(Unpack *u, void *userdata) {
        feeder_pump(userdata);
}

static void on_done(Unpack *u, int error, const char *message, void *userdata) {
        Feeder *f = userdata;
        if (error < 0)
                return feeder_fail(f, error, message);
        if (!f->finished)
                return feeder_fail(f, -EIO, "the unpack worker ended before the whole file was read");
        f->done = true;
        (void) sd_event_exit(f->event, 0);
}

static int on_defer_pump(sd_event_source *s, void *userdata) {
        feeder_pump(userdata);
        return 0;
}

int version_unpack_file(int src_fd, VersionStaging *s, const UnpackOptions *o, char **ret_message) {
        sigset_t mask, old;
        Feeder f = {.src_fd = src_fd};
        int r;

        assert(s->fd >= 0);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return -errno;

        f.buf = malloc(FEED_CHUNK);
        if (!f.buf) {
                r = -ENOMEM;
                goto finish;
        }
        r = sd_event_new(&f.event);
        if (r < 0)
                goto finish;
        UnpackOptions uo = *o;
        uo.dir_fd = s->fd;
        r = unpack_start(f.event, &uo, on_done, on_ready, &f, &f.unpack);
        if (r < 0) {
                if (ret_message)
                        (void) asprintf(
                                ret_message, "the unpack worker could not be started: %s", strerror(-r));
                goto finish;
        }
        /* From the loop, so that every callback runs there. */
        r = sd_event_add_defer(f.event, NULL, on_defer_pump, &f);
        if (r >= 0)
                r = sd_event_loop(f.event);
        if (r >= 0 && !f.done)
                r = -EIO;
        if (r >= 0 && f.error < 0) {
                r = f.error;
                if (ret_message)
                        *ret_message = TAKE_PTR(f.message);
        }

finish:
        unpack_free(f.unpack);
        sd_event_unref(f.event);
        free(f.buf);
        free(f.message);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r < 0 ? r : 0;
}

/* ---- publishing and removing ---------------------------------------------------------------------------
 */

int version_publish(VersionStaging *s, const char *folder, bool replace) {
        assert(s->name);

        if (fsync(s->fd) < 0)
                return -errno;
        if (renameat2(s->parent_fd, s->name, s->parent_fd, folder, RENAME_NOREPLACE) >= 0) {
                s->name = mfree(s->name);
                s->fd = safe_close(s->fd);
                return fsync_directory_fd(s->parent_fd);
        }
        if (errno != EEXIST && errno != ENOTEMPTY)
                return -errno;
        if (!replace)
                return -EEXIST;

        /* One step for every reader: the old folder now bears the staging name. */
        if (renameat2(s->parent_fd, s->name, s->parent_fd, folder, RENAME_EXCHANGE) < 0)
                return -errno;
        s->fd = safe_close(s->fd);
        int r = fsync_directory_fd(s->parent_fd);
        if (r < 0)
                return r;
        r = rm_rf_at(s->parent_fd, s->name);
        s->name = mfree(s->name);
        return r < 0 ? 1 : 0;
}

int version_remove(int parent_fd, const char *folder) {
        _cleanup_free_ char *away = NULL;
        for (unsigned attempt = 0;; attempt++) {
                away = mfree(away);
                int r = staging_name(folder, &away);
                if (r < 0)
                        return r;
                if (renameat2(parent_fd, folder, parent_fd, away, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return -errno;
        }
        int r = fsync_directory_fd(parent_fd);
        if (r < 0)
                return r;
        return rm_rf_at(parent_fd, away) < 0 ? 1 : 0;
}

int version_files_equal(int a_dir, const char *a_path, int b_dir, const char *b_path) {
        _cleanup_close_ int a = open_beneath(a_dir, a_path, O_RDONLY, 0, false);
        if (a < 0)
                return a;
        _cleanup_close_ int b = open_beneath(b_dir, b_path, O_RDONLY, 0, false);
        if (b < 0)
                return b;
        struct stat sa, sb;
        if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
                return -errno;
        if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode))
                return -EBADFD;
        if (sa.st_size != sb.st_size)
                return 0;
        if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
                return 1;

        _cleanup_free_ uint8_t *ba = malloc(FEED_CHUNK), *bb = malloc(FEED_CHUNK);
        if (!ba || !bb)
                return -ENOMEM;
        for (;;) {
                ssize_t na = loop_read(a, ba, FEED_CHUNK);
                if (na < 0)
                        return (int) na;
                ssize_t nb = loop_read(b, bb, FEED_CHUNK);
                if (nb < 0)
                        return (int) nb;
                if (na != nb || memcmp(ba, bb, (size_t) na) != 0)
                        return 0;
                if (na == 0)
                        return 1;
        }
}
