/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <systemd/sd-journal.h>

#include "fd-util.h"
#include "fs-util.h"
#include "journal-follow.h"
#include "log.h"
#include "parse-util.h"
#include "proc-maps.h"
#include "string-util.h"
#include "unit-spec.h"

/* Entries handled per loop iteration before other events (watchdog, signals, D-Bus) get their turn. */
#define BATCH_MAX 4096
/* sd_journal_process() this often during a long drain, so that rotated files are let go. */
#define PROCESS_EVERY 1000
#define SAVE_INTERVAL (1 * USEC_PER_SEC)
/* At most this often, journal pages are dropped from our page tables (see release_journal_pages()). */
#define RELEASE_INTERVAL (1 * USEC_PER_SEC)
/* Without Synchronize: the journal counts as drained after this long without a new line. journald tells
 * readers about new data up to 250 ms after it was written. */
#define QUIET_USEC (600 * USEC_PER_MSEC)
#define CURSOR_FILE "journal-cursor"
#define CURSOR_FILE_TMP ".journal-cursor.tmp"
#define CURSOR_FILE_MAX 4096
#define JOURNAL_VARLINK_SOCKET "/run/systemd/journal/io.systemd.journal"

#define MESSAGE_ID_UNIT_PROCESS_EXIT "98e322203f7a4ed290d09fe03c09fe15"
#define MESSAGE_ID_UNIT_SUCCESS "7ad2d189f7e94e70a38c781354912448"

struct JournalFollow {
        sd_event *event;
        sd_journal *journal;
        sd_event_source *io;
        sd_event_source *poll_timer;   /* only when the journal's fd is not reliable (NFS) */
        sd_event_source *more;         /* continues a drain cut at BATCH_MAX */
        sd_event_source *save_timer;
        int state_fd;
        char *state_dir;

        char *unit;
        char *invocation;
        bool active;
        bool deliver_current;          /* resumed onto an entry that was not delivered yet */
        bool dirty;                    /* delivered entries since the position was saved */
        usec_t last_save;
        usec_t last_release;

        JournalFollowLine cb;
        void *userdata;

        /* journal_follow_finish() */
        JournalFollowDone done;
        bool finishing;
        sd_event_source *finish_timer;
        sd_event_source *quiet_timer;
        sd_event_source *done_defer;
        int sync_fd;
        sd_event_source *sync_io;
        bool sync_sent;
};

static void follow_finish_complete(JournalFollow *f);

static int write_cursor_file(JournalFollow *f, const char *text) {
        /* Atomic (rename), not durable (no fsync): a lost or stale position only means that up to a
         * second of lines is read again, and an fsync could hold up the loop on a busy disk. */
        _cleanup_close_ int fd = openat(f->state_fd, CURSOR_FILE_TMP,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        int r = loop_write(fd, text, strlen(text));
        if (r < 0)
                return r;
        if (renameat(f->state_fd, CURSOR_FILE_TMP, f->state_fd, CURSOR_FILE) < 0)
                return -errno;
        return 0;
}

static int follow_save(JournalFollow *f) {
        if (!f->dirty || f->state_fd < 0 || !f->unit)
                return 0;

        _cleanup_free_ char *cursor = NULL, *text = NULL;
        int r = sd_journal_get_cursor(f->journal, &cursor);
        if (r < 0)
                return log_debug_errno(r, "No journal position to save yet: %m");
        JournalCursorState s = { .unit = f->unit, .invocation = f->invocation, .cursor = cursor };
        r = journal_cursor_state_format(&s, &text);
        if (r < 0)
                return log_debug_errno(r, "Failed to format the journal position: %m");
        r = write_cursor_file(f, text);
        if (r < 0)
                return log_warning_errno(r, "Failed to save the journal position in '%s/%s', ignoring: %m",
                        f->state_dir, CURSOR_FILE);
        f->dirty = false;
        f->last_save = now(CLOCK_MONOTONIC);
        return 0;
}

/* sd-journal maps the journal files it reads, and every page it touched stays in our resident set until
 * it unmaps that window, though the pages are journald's page cache: following a busy journal would make
 * oraivisor look megabytes bigger than it is. MADV_DONTNEED on a read-only shared file mapping loses
 * nothing (the next access maps the page again from the page cache) and shrinks our page tables back to
 * what we own. Only such mappings of *.journal files are touched, never anything private or writable. */
static void release_journal_pages(JournalFollow *f) {
        f->last_release = now(CLOCK_MONOTONIC);
        _cleanup_fclose_ FILE *maps = fopen("/proc/self/maps", "re");
        if (!maps)
                return;
        char line[PATH_MAX + 256];
        bool partial = false;
        while (fgets(line, sizeof(line), maps)) {
                bool whole = strchr(line, '\n') || feof(maps);
                bool skip = partial; /* the rest of a line too long for the buffer */
                partial = !whole;
                if (skip || !whole)
                        continue;
                ProcMapsEntry e;
                if (proc_maps_parse_line(line, &e) < 0 || !proc_maps_entry_is_journal_file(&e))
                        continue;
                if (madvise((void *) e.start, e.end - e.start, MADV_DONTNEED) < 0)
                        log_debug_errno(errno, "Failed to release the journal pages at %#lx, ignoring: %m",
                                (unsigned long) e.start);
        }
}

static void maybe_release_journal_pages(JournalFollow *f) {
        if (now(CLOCK_MONOTONIC) >= f->last_release + RELEASE_INTERVAL)
                release_journal_pages(f);
}

static int on_save_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JournalFollow *f = userdata;
        (void) follow_save(f);
        /* The lines have settled: a good moment to let go of the pages they were read from. */
        release_journal_pages(f);
        return 0;
}

static void schedule_save(JournalFollow *f) {
        usec_t n = now(CLOCK_MONOTONIC);
        if (n >= f->last_save + SAVE_INTERVAL) {
                (void) follow_save(f);
                return;
        }
        if (f->save_timer) {
                int enabled = SD_EVENT_OFF;
                (void) sd_event_source_get_enabled(f->save_timer, &enabled);
                if (enabled != SD_EVENT_OFF)
                        return;
                (void) sd_event_source_set_time(f->save_timer, f->last_save + SAVE_INTERVAL);
                (void) sd_event_source_set_enabled(f->save_timer, SD_EVENT_ONESHOT);
                return;
        }
        int r = sd_event_add_time(f->event, &f->save_timer, CLOCK_MONOTONIC, f->last_save + SAVE_INTERVAL,
                100 * USEC_PER_MSEC, on_save_timer, f);
        if (r < 0)
                (void) follow_save(f);
}

static void deliver_current_entry(JournalFollow *f) {
        const void *d;
        size_t l;
        int r = sd_journal_get_data(f->journal, "MESSAGE", &d, &l);
        if (r < 0) {
                if (r != -ENOENT)
                        log_debug_errno(r, "Failed to read a journal entry's MESSAGE, skipping it: %m");
                return;
        }
        if (l < STRLEN("MESSAGE="))
                return;
        f->cb(f, (const char *) d + STRLEN("MESSAGE="), l - STRLEN("MESSAGE="), f->userdata);
}

static int on_more(sd_event_source *s, void *userdata);

/* Delivers up to max entries (0: all there are). Returns how many. */
static size_t follow_drain(JournalFollow *f, size_t max) {
        size_t n = 0;
        bool at_end = false;

        if (!f->active)
                return 0;
        if (f->deliver_current) {
                f->deliver_current = false;
                deliver_current_entry(f);
                n++;
        }
        while (f->active && (max == 0 || n < max)) {
                if (n > 0 && n % PROCESS_EVERY == 0)
                        (void) sd_journal_process(f->journal);
                int r = sd_journal_next(f->journal);
                if (r < 0) {
                        log_warning_errno(r, "Failed to read the next journal entry of '%s', trying again later: %m",
                                f->unit);
                        break;
                }
                if (r == 0) {
                        at_end = true;
                        break;
                }
                deliver_current_entry(f);
                n++;
        }

        if (n > 0) {
                f->dirty = true;
                schedule_save(f);
                if (f->quiet_timer)
                        (void) sd_event_source_set_time_relative(f->quiet_timer, QUIET_USEC);
        }
        if (f->active && max > 0 && n >= max) {
                /* More is waiting: continue on the next iteration, after other events. */
                if (f->more)
                        (void) sd_event_source_set_enabled(f->more, SD_EVENT_ONESHOT);
                else if (sd_event_add_defer(f->event, &f->more, on_more, f) >= 0)
                        (void) sd_event_source_set_enabled(f->more, SD_EVENT_ONESHOT);
        }
        if (at_end)
                maybe_release_journal_pages(f);
        return n;
}

static int on_more(sd_event_source *s, void *userdata) {
        JournalFollow *f = userdata;
        (void) follow_drain(f, BATCH_MAX);
        return 0;
}

static int on_journal_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JournalFollow *f = userdata;
        /* Must run on every wake-up: it consumes the inotify events (the fd is level-triggered) and picks
         * up rotated, new (user-UID) and removed files. */
        int r = sd_journal_process(f->journal);
        if (r < 0)
                log_warning_errno(r, "Failed to process journal changes, ignoring: %m");
        (void) follow_drain(f, BATCH_MAX);
        return 0;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JournalFollow *f = userdata;
        (void) sd_event_source_set_time_relative(s, USEC_PER_SEC);
        (void) sd_journal_process(f->journal);
        (void) follow_drain(f, BATCH_MAX);
        return 0;
}

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int journal_follow_new(sd_event *e, const char *state_dir, JournalFollowLine cb, void *userdata,
        JournalFollow **ret) {
        int r;

        assert(e);
        assert(cb);
        assert(ret);

        _cleanup_(journal_follow_freep) JournalFollow *f = new0(JournalFollow, 1);
        if (!f)
                return log_oom();
        f->event = sd_event_ref(e);
        f->cb = cb;
        f->userdata = userdata;
        f->state_fd = -EBADF;
        f->sync_fd = -EBADF;

        if (state_dir) {
                if (state_dir[0] != '/')
                        return log_error_errno(EINVAL, "The state folder '%s' is not an absolute path: set ORAIVISOR_STATE_DIR to an absolute path.", state_dir);
                f->state_dir = strdup(state_dir);
                if (!f->state_dir)
                        return log_oom();
                r = mkdir_p(state_dir, 0700);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the state folder '%s': %m. Create it, or set ORAIVISOR_STATE_DIR to a writable folder.", state_dir);
                f->state_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (f->state_fd < 0)
                        return log_error_errno(errno, "Failed to open the state folder '%s': %m", state_dir);
        }

        /* All local files, not SD_JOURNAL_SYSTEM: a daemon with a regular user's UID logs into user-UID
         * files, which SD_JOURNAL_SYSTEM leaves out. */
        r = sd_journal_open(&f->journal, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal: %m. oraivisor must be able to read it (root, or group 'systemd-journal').");
        /* The fd right after opening, before the first read: no change in between can be missed. */
        int fd = sd_journal_get_fd(f->journal);
        if (fd < 0)
                return log_error_errno(fd, "Failed to watch the journal for changes: %m");
        /* Whole lines: the default threshold cuts fields at 64 KiB. */
        r = sd_journal_set_data_threshold(f->journal, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to lift the journal's field size limit: %m");

        r = sd_event_add_io(e, &f->io, fd, (uint32_t) sd_journal_get_events(f->journal), on_journal_io, f);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the journal on the event loop: %m");
        (void) sd_event_source_set_description(f->io, "journal");

        if (sd_journal_reliable_fd(f->journal) == 0) {
                /* e.g. journal files on NFS: inotify may miss changes. */
                r = sd_event_add_time_relative(e, &f->poll_timer, CLOCK_MONOTONIC, USEC_PER_SEC, 100 * USEC_PER_MSEC,
                        on_poll_timer, f);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up journal polling: %m");
                (void) sd_event_source_set_enabled(f->poll_timer, SD_EVENT_ON);
        }

        *ret = TAKE_PTR(f);
        return 0;
}

static int read_saved_state(JournalFollow *f, JournalCursorState *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        if (f->state_fd < 0)
                return 0;
        int r = read_file_at(f->state_fd, CURSOR_FILE, CURSOR_FILE_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_warning_errno(r, "Failed to read the saved journal position '%s/%s', starting at the daemon's first line: %m",
                        f->state_dir, CURSOR_FILE);
        r = journal_cursor_state_parse(text, size, ret);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_warning_errno(r, "The saved journal position '%s/%s' is damaged, starting at the daemon's first line.",
                        f->state_dir, CURSOR_FILE);
        return 1;
}

int journal_follow_start(JournalFollow *f, const char *unit, const char *invocation, pid_t main_pid, bool resume) {
        int r;

        assert(f);
        assert(unit);
        if (!invocation_id_is_valid(invocation))
                return log_error_errno(EINVAL, "Invalid invocation ID '%s' of unit '%s'.", strna(invocation), unit);

        journal_follow_stop(f);
        f->deliver_current = false;

        char *u = strdup(unit), *i = strdup(invocation);
        if (!u || !i) {
                free(u);
                free(i);
                return log_oom();
        }
        free_and_replace(f->unit, u);
        free_and_replace(f->invocation, i);

        _cleanup_free_ char *m_unit = NULL, *m_inv = NULL, *m_pid = NULL;
        if (asprintf(&m_unit, "_SYSTEMD_UNIT=%s", unit) < 0 || asprintf(&m_inv, "_SYSTEMD_INVOCATION_ID=%s", invocation) < 0 ||
            (main_pid > 0 && asprintf(&m_pid, "_PID=%d", (int) main_pid) < 0))
                return log_oom();
        sd_journal_flush_matches(f->journal);
        /* Different fields: all must match. _TRANSPORT=stdout leaves out systemd's own messages about the
         * unit ("Starting <description>…", which carry UNIT=, not _SYSTEMD_UNIT=) and anything the
         * daemon might send with another transport. _SYSTEMD_UNIT comes from the stream's header, which
         * PID 1 writes; the invocation ID from the process's cgroup, which journald cannot read once the
         * process is gone: those lines are matched by the main process's PID instead (the second term). */
        if ((r = sd_journal_add_match(f->journal, m_unit, 0)) < 0 ||
                (r = sd_journal_add_match(f->journal, m_inv, 0)) < 0 ||
                (r = sd_journal_add_match(f->journal, "_TRANSPORT=stdout", 0)) < 0)
                return log_error_errno(r, "Failed to set up the journal match for '%s': %m", unit);
        if (m_pid && ((r = sd_journal_add_disjunction(f->journal)) < 0 ||
                (r = sd_journal_add_match(f->journal, m_unit, 0)) < 0 ||
                (r = sd_journal_add_match(f->journal, m_pid, 0)) < 0 ||
                (r = sd_journal_add_match(f->journal, "_TRANSPORT=stdout", 0)) < 0))
                return log_error_errno(r, "Failed to set up the journal match for '%s': %m", unit);

        bool resumed = false;
        if (resume) {
                _cleanup_(journal_cursor_state_done) JournalCursorState s = {};
                r = read_saved_state(f, &s);
                if (r > 0 && streq(s.unit, unit) && streq(s.invocation, invocation)) {
                        r = sd_journal_seek_cursor(f->journal, s.cursor);
                        if (r >= 0) {
                                r = sd_journal_next(f->journal);
                                if (r > 0 && sd_journal_test_cursor(f->journal, s.cursor) <= 0) {
                                        /* That entry is gone (vacuumed): we are on the next one, not seen yet. */
                                        log_notice("The journal entry last read of '%s' is gone; some of its lines may have been missed.", unit);
                                        f->deliver_current = true;
                                }
                                if (r >= 0)
                                        resumed = true;
                        }
                        if (!resumed)
                                log_warning_errno(r, "Failed to resume the journal of '%s' at the saved position, reading its invocation from the start: %m",
                                        unit);
                } else if (r > 0)
                        log_debug("The saved journal position belongs to another invocation (%s of %s), not resuming.",
                                s.invocation, s.unit);
        }
        if (!resumed) {
                r = sd_journal_seek_head(f->journal);
                if (r < 0)
                        return log_error_errno(r, "Failed to seek to the start of the journal: %m");
        }

        f->active = true;
        f->dirty = false;
        /* Lines may already be there; no change notification would come for them. */
        if (f->more)
                (void) sd_event_source_set_enabled(f->more, SD_EVENT_ONESHOT);
        else {
                r = sd_event_add_defer(f->event, &f->more, on_more, f);
                if (r < 0)
                        return log_error_errno(r, "Failed to schedule reading the journal: %m");
                (void) sd_event_source_set_enabled(f->more, SD_EVENT_ONESHOT);
        }
        log_debug("Following '%s' invocation %s in the journal%s.", unit, invocation, resumed ? " from the saved position" : "");
        return resumed;
}

void journal_follow_stop(JournalFollow *f) {
        if (!f || !f->active)
                return;
        (void) follow_save(f);
        f->active = false;
        if (f->more)
                (void) sd_event_source_set_enabled(f->more, SD_EVENT_OFF);
        if (f->save_timer)
                (void) sd_event_source_set_enabled(f->save_timer, SD_EVENT_OFF);
}

bool journal_follow_is_active(const JournalFollow *f) {
        return f && f->active;
}

/* ---- finishing: journald's Synchronize, then drain ---------------------------------------------------- */

static void sync_close(JournalFollow *f) {
        f->sync_io = sd_event_source_disable_unref(f->sync_io);
        f->sync_fd = safe_close(f->sync_fd);
        f->sync_sent = false;
}

static int on_done_defer(sd_event_source *s, void *userdata) {
        JournalFollow *f = userdata;
        f->done_defer = sd_event_source_disable_unref(f->done_defer);
        JournalFollowDone done = TAKE_PTR(f->done);
        if (done)
                done(f, f->userdata);
        return 0;
}

static void follow_finish_complete(JournalFollow *f) {
        if (!f->finishing)
                return;
        f->finishing = false;
        sync_close(f);
        f->finish_timer = sd_event_source_disable_unref(f->finish_timer);
        f->quiet_timer = sd_event_source_disable_unref(f->quiet_timer);

        if (f->active) {
                (void) sd_journal_process(f->journal);
                (void) follow_drain(f, 0);
                journal_follow_stop(f);
        }
        JournalFollowDone done = TAKE_PTR(f->done);
        if (done)
                done(f, f->userdata);
}

static int on_finish_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        JournalFollow *f = userdata;
        log_debug("Stopped waiting for the last journal lines of '%s'.", strna(f->unit));
        follow_finish_complete(f);
        return 0;
}

static int on_quiet(sd_event_source *s, uint64_t usec, void *userdata) {
        JournalFollow *f = userdata;
        follow_finish_complete(f);
        return 0;
}

static void finish_without_sync(JournalFollow *f) {
        sync_close(f);
        if (f->quiet_timer)
                return;
        if (sd_event_add_time_relative(f->event, &f->quiet_timer, CLOCK_MONOTONIC, QUIET_USEC, 10 * USEC_PER_MSEC,
                    on_quiet, f) < 0) {
                follow_finish_complete(f);
                return;
        }
        (void) sd_journal_process(f->journal);
        (void) follow_drain(f, BATCH_MAX);
}

static int on_sync_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JournalFollow *f = userdata;
        static const char request[] = "{\"method\":\"io.systemd.Journal.Synchronize\",\"parameters\":{}}";

        if (!f->sync_sent) {
                int err = 0;
                socklen_t l = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                        err = errno;
                /* The request with its NUL terminator: small enough for an empty socket buffer. */
                if (err != 0 || send(fd, request, sizeof(request), MSG_NOSIGNAL) != (ssize_t) sizeof(request)) {
                        log_debug_errno(err ?: errno, "Failed to ask journald to synchronize, waiting for quiet instead: %m");
                        finish_without_sync(f);
                        return 0;
                }
                f->sync_sent = true;
                (void) sd_event_source_set_io_events(s, EPOLLIN);
                return 0;
        }

        char buf[512];
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                log_debug_errno(n < 0 ? errno : ECONNRESET, "journald did not answer Synchronize, waiting for quiet instead: %m");
                finish_without_sync(f);
                return 0;
        }
        if (!memchr(buf, 0, (size_t) n))
                return 0; /* the reply goes on; only its end matters */
        if (memmem_str(buf, (size_t) n, "\"error\"")) {
                log_debug("journald refused Synchronize, waiting for quiet instead.");
                finish_without_sync(f);
                return 0;
        }
        /* journald answers only after it processed every message queued before the call: the daemon's
         * last lines are in the files now. */
        follow_finish_complete(f);
        return 0;
}

static int sync_start(JournalFollow *f) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_VARLINK_SOCKET };
        f->sync_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (f->sync_fd < 0)
                return -errno;
        if (connect(f->sync_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS && errno != EAGAIN) {
                int r = -errno;
                sync_close(f);
                return r;
        }
        int r = sd_event_add_io(f->event, &f->sync_io, f->sync_fd, EPOLLOUT, on_sync_io, f);
        if (r < 0) {
                sync_close(f);
                return r;
        }
        return 0;
}

int journal_follow_finish(JournalFollow *f, usec_t max, JournalFollowDone done) {
        assert(f);
        assert(done);

        f->done = done;
        if (!f->active) {
                f->done_defer = sd_event_source_disable_unref(f->done_defer);
                int r = sd_event_add_defer(f->event, &f->done_defer, on_done_defer, f);
                if (r < 0)
                        f->done = NULL;
                return r;
        }
        if (f->finishing)
                return 0;
        f->finishing = true;

        int r = sd_event_add_time_relative(f->event, &f->finish_timer, CLOCK_MONOTONIC, max, 10 * USEC_PER_MSEC,
                on_finish_timeout, f);
        if (r < 0) {
                f->finishing = false;
                f->done = NULL;
                return r;
        }
        r = sync_start(f);
        if (r < 0) {
                log_debug_errno(r, "Cannot ask journald to synchronize (%s), waiting for quiet instead: %m",
                        JOURNAL_VARLINK_SOCKET);
                finish_without_sync(f);
        }
        return 0;
}

JournalFollow *journal_follow_free(JournalFollow *f) {
        if (!f)
                return NULL;
        journal_follow_stop(f);
        sync_close(f);
        sd_event_source_disable_unref(f->io);
        sd_event_source_disable_unref(f->poll_timer);
        sd_event_source_disable_unref(f->more);
        sd_event_source_disable_unref(f->save_timer);
        sd_event_source_disable_unref(f->finish_timer);
        sd_event_source_disable_unref(f->quiet_timer);
        sd_event_source_disable_unref(f->done_defer);
        sd_journal_close(f->journal);
        sd_event_unref(f->event);
        safe_close(f->state_fd);
        free(f->state_dir);
        free(f->unit);
        free(f->invocation);
        return mfree(f);
}

/* ---- PID 1's record of an exit ------------------------------------------------------------------------ */

static int get_field(sd_journal *j, const char *field, char **ret) {
        const void *d;
        size_t l, fl = strlen(field);
        int r = sd_journal_get_data(j, field, &d, &l);
        if (r < 0)
                return r;
        if (l <= fl + 1)
                return -EBADMSG;
        char *v = strndup((const char *) d + fl + 1, l - fl - 1);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int journal_lookup_unit_exit(const char *unit, const char *invocation, int *ret_code, int *ret_status) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ char *m_unit = NULL, *m_inv = NULL;
        int r;

        if (!invocation_id_is_valid(invocation))
                return 0;
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_debug_errno(r, "Failed to open the journal: %m");
        if (asprintf(&m_unit, "UNIT=%s", unit) < 0 || asprintf(&m_inv, "INVOCATION_ID=%s", invocation) < 0)
                return -ENOMEM;
        /* Same field twice: either message. _PID=1: UNIT= is trusted only from PID 1. */
        if ((r = sd_journal_add_match(j, "MESSAGE_ID=" MESSAGE_ID_UNIT_PROCESS_EXIT, 0)) < 0 ||
                (r = sd_journal_add_match(j, "MESSAGE_ID=" MESSAGE_ID_UNIT_SUCCESS, 0)) < 0 ||
                (r = sd_journal_add_match(j, "_PID=1", 0)) < 0 || (r = sd_journal_add_match(j, m_unit, 0)) < 0 ||
                (r = sd_journal_add_match(j, m_inv, 0)) < 0)
                return r;

        bool success = false;
        SD_JOURNAL_FOREACH_BACKWARDS(j) {
                _cleanup_free_ char *id = NULL, *code = NULL, *status = NULL;
                if (get_field(j, "MESSAGE_ID", &id) < 0)
                        continue;
                if (streq(id, MESSAGE_ID_UNIT_SUCCESS)) {
                        success = true;
                        continue;
                }
                if (get_field(j, "EXIT_CODE", &code) < 0 || get_field(j, "EXIT_STATUS", &status) < 0)
                        continue;
                int st;
                int64_t v;
                if (parse_int64(status, &v) < 0 || v < 0 || v > 255)
                        continue;
                st = (int) v;
                int c = streq(code, "exited") ? CLD_EXITED : streq(code, "killed") ? CLD_KILLED :
                        streq(code, "dumped") ? CLD_DUMPED : 0;
                if (c == 0)
                        continue;
                *ret_code = c;
                *ret_status = st;
                return 1;
        }
        if (success) {
                /* A clean end logs no exit record: status 0 (or a clean signal, which it cannot tell). */
                *ret_code = CLD_EXITED;
                *ret_status = 0;
                return 1;
        }
        return 0;
}
