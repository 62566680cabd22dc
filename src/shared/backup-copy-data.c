/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy: a regular file's data: copy_file_range(), read/write, holes, preallocation, writeback. */

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "backup-name.h"
#include "backup-copy-internal.h"
#include "backup.h"
#include "btrfs-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "tree-prefetch.h"

static int copy_range_rw(Worker *w, int src, int dst, off_t off, uint64_t len) {
        if (!w->buffer) {
                w->buffer = malloc(BACKUP_RW_BUFFER);
                if (!w->buffer)
                        return -ENOMEM;
        }
        while (len > 0) {
                ssize_t n = pread(src, w->buffer, MIN(len, (uint64_t) BACKUP_RW_BUFFER), off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return copy_fail(w, -errno, "Failed to read");
                }
                if (n == 0)
                        break; /* shrank under us; the size is set at the end */
                for (ssize_t k = 0; k < n;) {
                        ssize_t m = pwrite(dst, w->buffer + k, (size_t) (n - k), off + k);
                        if (m < 0) {
                                if (errno == EINTR)
                                        continue;
                                return copy_fail(w, -errno, "Failed to write the copy of");
                        }
                        k += m;
                }
                off += n;
                len -= (uint64_t) n;
                copy_account(w, &(Account){.copied = (uint64_t) n, .done = (uint64_t) n});
                if (copy_failed(w->c))
                        return w->c->failure.error ?: -ECANCELED;
        }
        return 0;
}

/* Copies [off, off+len) to the same offset of dst. */
static int copy_range(Worker *w, int src, int dst, off_t off, uint64_t len) {
        CopyContext *c = w->c;
        off_t end = off + (off_t) len, written = off;
        bool large = len >= BACKUP_PREALLOCATE_MIN;

        /* Reserve a large range in one piece first: files copied side by side by several workers would
         * otherwise get their blocks interleaved, a fragmented copy that is slower to write and to read
         * back (and on ext4 takes extent tree blocks beyond its source's size). Not all file systems can. */
        if (large && fallocate(dst, FALLOC_FL_KEEP_SIZE, off, (off_t) len) < 0 &&
                (errno == ENOSPC || errno == EDQUOT))
                return copy_fail(w, -errno, "Failed to copy");
        while (len > 0 && __atomic_load_n(&c->cfr, __ATOMIC_RELAXED)) {
                size_t want = (size_t) MIN(len, (uint64_t) BACKUP_CHUNK);
                /* Keep the disk busy: ask for the next chunks while this one is copied (readahead alone
                 * reads a few hundred KiB at a time). */
                if (off + (off_t) want < end)
                        (void) posix_fadvise(src, off + (off_t) want, 2 * BACKUP_CHUNK, POSIX_FADV_WILLNEED);
                loff_t in = off, out = off;
                ssize_t n = copy_file_range(src, &in, dst, &out, want, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                                errno == EBADF) {
                                /* Not between these file systems, or not on this kernel: read/write from
                                 * here on. */
                                __atomic_store_n(&c->cfr, false, __ATOMIC_RELAXED);
                                break;
                        }
                        return copy_fail(w, -errno, "Failed to copy");
                }
                if (n == 0)
                        break; /* shrank under us; the size is set at the end */
                off += n;
                len -= (uint64_t) n;
                copy_account(w, &(Account){.copied = (uint64_t) n, .done = (uint64_t) n});
                if (copy_failed(c))
                        return c->failure.error ?: -ECANCELED;
                /* Start writing a large range out now rather than all at the final syncfs(), so that
                 * writing overlaps with reading the next files. Only starts the writeback (durability is
                 * syncfs()'s job), and in large windows: a window written at once fills its preallocated
                 * extents whole, while many small writebacks would split them (each costing a journal
                 * handle on ext4). Small files are left to syncfs(), which writes them together. */
                if (large && (len == 0 || off - written >= (off_t) BACKUP_WRITEBACK_WINDOW)) {
                        (void) sync_file_range(dst, written, off - written, SYNC_FILE_RANGE_WRITE);
                        written = off;
                }
        }
        return len > 0 && !__atomic_load_n(&c->cfr, __ATOMIC_RELAXED) ? copy_range_rw(w, src, dst, off, len)
                                                                      : 0;
}

int copy_data(Worker *w, int src, int dst, const struct stat *st) {
        uint64_t size = (uint64_t) st->st_size;
        int r;

        /* Fewer blocks than the size: there may be holes, so walk the data segments. Otherwise copy it all
         * (a file with holes and preallocated space is then copied densely, as cp does). */
        if ((uint64_t) st->st_blocks * 512 >= size)
                return copy_range(w, src, dst, 0, size);

        uint64_t off = 0;
        while (off < size) {
                off_t data = lseek(src, (off_t) off, SEEK_DATA);
                if (data < 0) {
                        if (errno == ENXIO)
                                break; /* only a hole is left */
                        if (errno == EINVAL || errno == EOPNOTSUPP) {
                                r = copy_range(w, src, dst, (off_t) off, size - off);
                                if (r < 0)
                                        return r;
                                off = size;
                                break;
                        }
                        return copy_fail(w, -errno, "Failed to find the data of");
                }
                if ((uint64_t) data >= size)
                        break;
                off_t hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        return copy_fail(w, -errno, "Failed to find the holes of");
                uint64_t end = MIN((uint64_t) hole, size);
                copy_account(w, &(Account){.holes = (uint64_t) data - off, .done = (uint64_t) data - off});
                r = copy_range(w, src, dst, data, end - (uint64_t) data);
                if (r < 0)
                        return r;
                off = end;
        }
        if (off < size)
                copy_account(w, &(Account){.holes = size - off, .done = size - off});
        /* A hole at the end is not written: the size makes it. */
        if (ftruncate(dst, (off_t) size) < 0)
                return copy_fail(w, -errno, "Failed to set the size of the copy of");
        return 0;
}
