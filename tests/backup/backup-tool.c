/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A thin command-line front to src/shared/backup.h for the file-system tests in this folder and for
 * bench/backup/run.sh:
 *
 *   backup-tool copy DATA ROOT NAME            backup_copy_tree(), figures as key=value lines
 *   backup-tool run DATA ROOT NAME [TIMEOUT]   backup_start() on an event loop (TIMEOUT in µs)
 *   backup-tool name FOLDER [UNIX-SECONDS]     backup_name_make()
 *   backup-tool cleanup ROOT                   backup_cleanup_partial()
 *   backup-tool prune ROOT KEEP [FOLDER]       backup_prune()
 *
 * The node is $BACKUP_NODE (a node tag, default "backup-tool@00000000"); untagged backups count as its
 * own unless BACKUP_LEGACY_OURS=0.
 *
 * Failures print the one-line message on stderr and exit with 1. */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "backup-name.h"
#include "backup.h"
#include "fd-util.h"
#include "log.h"
#include "parse-util.h"

static BackupOwner tool_owner(void) {
        const char *l = getenv("BACKUP_LEGACY_OURS");
        return (BackupOwner){
                .node = (char *) (getenv("BACKUP_NODE") ?: "backup-tool@00000000"),
                .legacy_ours = !l || !streq(l, "0"),
        };
}

static void print_stats(const BackupStats *st) {
        printf("files=%" PRIu64 "\ndirs=%" PRIu64 "\nsymlinks=%" PRIu64 "\nhardlinks=%" PRIu64
               "\nspecials=%" PRIu64 "\nskipped=%" PRIu64 "\nbytes=%" PRIu64 "\ncloned_bytes=%" PRIu64
               "\ncopied_bytes=%" PRIu64 "\nhole_bytes=%" PRIu64 "\nneeded_bytes=%" PRIu64
               "\nfree_bytes=%" PRIu64 "\ncloning=%d\nsnapshot=%d\n",
                st->files, st->dirs, st->symlinks, st->hardlinks, st->specials, st->skipped, st->bytes,
                st->cloned_bytes, st->copied_bytes, st->hole_bytes, st->needed_bytes, st->free_bytes,
                st->cloning ? 1 : 0, st->snapshot ? 1 : 0);
}

static int do_copy(const char *data, const char *root, const char *name) {
        _cleanup_close_ int s = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0) {
                fprintf(stderr, "Cannot open '%s': %m\n", data);
                return 1;
        }
        _cleanup_close_ int r = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r < 0) {
                fprintf(stderr, "Cannot open '%s': %m\n", root);
                return 1;
        }
        BackupStats st = {};
        _cleanup_free_ char *err = NULL;
        usec_t t0 = now(CLOCK_MONOTONIC);
        int k = backup_copy_tree(s, r, name, &st, NULL, NULL, &err);
        if (k < 0) {
                printf("error=%d\n", k);
                fprintf(stderr, "%s\n", err ?: strerror(-k));
                return 1;
        }
        print_stats(&st);
        printf("usec=%" PRIu64 "\n", now(CLOCK_MONOTONIC) - t0);
        return 0;
}

typedef struct Run {
        bool done;
        int error;
        char *message;
} Run;

static void on_done(Backup *b, int error, const char *message, void *userdata) {
        Run *r = userdata;
        r->done = true;
        r->error = error;
        r->message = strdup(message);
        if (error >= 0)
                print_stats(backup_get_stats(b));
}

static void on_progress(Backup *b, uint64_t done, uint64_t total, void *userdata) {
        static bool first = true;
        if (first)
                printf("pid=%d\n", (int) backup_worker_pid(b));
        first = false;
        printf("progress=%" PRIu64 "/%" PRIu64 "\n", done, total);
        fflush(stdout);
}

static int do_run(const char *data, const char *root, const char *name, usec_t timeout) {
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);

        sd_event *e = NULL;
        if (sd_event_new(&e) < 0)
                return 1;
        Run r = {};
        Backup *b = NULL;
        BackupSpec spec = {.data_path = data, .backup_root = root, .name = name, .timeout = timeout};
        int k = backup_start(e, &spec, on_done, on_progress, &r, &b);
        if (k < 0) {
                fprintf(stderr, "Cannot start the backup: %s\n", strerror(-k));
                return 1;
        }
        while (!r.done)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        return 1;
        b = backup_free(b);
        sd_event_unref(e);
        printf("error=%d\n", r.error);
        fprintf(r.error < 0 ? stderr : stdout, "%s\n", r.message);
        free(r.message);
        return r.error < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        log_set_prefix("backup-tool");
        if (argc == 5 && streq(argv[1], "copy"))
                return do_copy(argv[2], argv[3], argv[4]);
        if ((argc == 5 || argc == 6) && streq(argv[1], "run")) {
                uint64_t t = 0;
                if (argc == 6 && parse_uint64(argv[5], &t) < 0) {
                        fprintf(stderr, "Bad timeout '%s': give microseconds.\n", argv[5]);
                        return 2;
                }
                return do_run(argv[2], argv[3], argv[4], t);
        }
        if ((argc == 3 || argc == 4) && streq(argv[1], "name")) {
                uint64_t s = now(CLOCK_REALTIME) / USEC_PER_SEC;
                if (argc == 4 && parse_uint64(argv[3], &s) < 0) {
                        fprintf(stderr, "Bad time '%s': give seconds since the epoch.\n", argv[3]);
                        return 2;
                }
                _cleanup_free_ char *n = NULL;
                int k = backup_name_make(tool_owner().node, argv[2], s * USEC_PER_SEC, &n);
                if (k < 0) {
                        fprintf(stderr, "Cannot make a backup name for '%s': %s\n", argv[2], strerror(-k));
                        return 1;
                }
                puts(n);
                return 0;
        }
        if (argc == 3 && streq(argv[1], "cleanup")) {
                BackupOwner o = tool_owner();
                int k = backup_cleanup_partial(argv[2], &o);
                printf("%d\n", k);
                return k < 0;
        }
        if ((argc == 4 || argc == 5) && streq(argv[1], "prune")) {
                unsigned keep;
                if (parse_unsigned(argv[3], &keep) < 0) {
                        fprintf(stderr, "Bad count '%s'.\n", argv[3]);
                        return 2;
                }
                BackupOwner o = tool_owner();
                int k = backup_prune(argv[2], &o, argc == 5 ? argv[4] : NULL, keep);
                printf("%d\n", k);
                return k < 0;
        }
        fprintf(stderr, "Usage: backup-tool copy|run|name|cleanup|prune … (see the source).\n");
        return 2;
}
