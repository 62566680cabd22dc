/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Installs a downloaded upgrade into a staging folder as its bytes arrive, in one pass: a worker child
 * process (child.h) reads the stream from a socket and recognises it by content: a plain executable (ELF
 * or "#!") becomes bin/<daemon>; a tar (plain, gzip, bzip2, xz, zstd) or zip archive is unpacked; a
 * single compressed file (gz, xz, zst, bz2) is decompressed into bin/<daemon>. The worker refuses absolute
 * paths, "..", links that point outside the folder (hard links to symlinks checked from their own
 * folder), device nodes, FIFOs and sockets (naming the entry), gives every entry the mode of
 * archive_install_mode(), enforces the size and entry limits, writes only through folder fds with
 * O_NOFOLLOW/RESOLVE_NO_SYMLINKS, fsyncs what it wrote, and finally requires bin/<daemon> (or <daemon>
 * at the root, moved to bin/) to be a regular file, which it makes executable. It runs sandboxed
 * (worker-sandbox.h: as root, a user of its own, to which the staging folder is handed).
 *
 * The parent feeds bytes with unpack_feed() (never blocks: what the socket does not take is kept, and
 * on_ready says when more is welcome), then unpack_finish() once it verified the checksum. When the
 * worker read the stream to its end and exited, a finisher child (as oraivisor) gives the tree back to
 * oraivisor's user and group, re-applies the modes, refusing anything the worker's user did not make;
 * on_done follows once that ended. */

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Unpack Unpack;

/* error == 0: the staging folder holds bin/<daemon>, executable, fsynced. Otherwise message is one line
 * naming the entry or the problem, without a trailing period. May free the Unpack. */
typedef void (*UnpackDone)(Unpack *u, int error, const char *message, void *userdata);
/* The kept bytes went out; unpack_feed() accepts more. Must not free the Unpack. */
typedef void (*UnpackReady)(Unpack *u, void *userdata);

typedef struct UnpackOptions {
        int dir_fd; /* the (empty) staging folder; duplicated */
        const char *daemon_name;
        uint64_t max_size; /* total bytes of unpacked files; 0: no limit */
        uint64_t max_entries; /* archive entries; 0: no limit */
} UnpackOptions;

int unpack_start(sd_event *e, const UnpackOptions *o, UnpackDone done, UnpackReady ready, void *userdata,
        Unpack **ret);
/* Kills a worker that still runs (no callback). */
Unpack *unpack_free(Unpack *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(Unpack *, unpack_free);

/* Passes bytes on. 0: taken (sent, or kept until the socket drains); 1 (UNPACK_BUSY): earlier bytes are
 * still kept, nothing was taken, wait for on_ready; < 0: the worker is gone (its on_done tells why). */
#define UNPACK_BUSY 1
int unpack_feed(Unpack *u, const void *p, size_t n);
/* End of the stream: the worker completes the installation once the kept bytes went out. */
int unpack_finish(Unpack *u);

/* The worker itself, reading the stream from in_fd and writing below dir_fd; for tests and tools that
 * run it in-process. Returns 0, or a negative errno with a message (no trailing period) in *ret_message. */
int unpack_stream(int in_fd, int dir_fd, const UnpackOptions *o, char **ret_message);
