/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backup copy: owner, mode, extended attributes and times of a copied entry. */

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

/* always_chmod: the entry was not created with its final permission bits. */
static int copy_owner_mode(Worker *w, int fd, const struct stat *st, bool always_chmod) {
        CopyContext *c = w->c;
        if ((st->st_uid != c->uid || st->st_gid != c->gid) && fchown(fd, st->st_uid, st->st_gid) < 0) {
                if (c->uid == 0 || (errno != EPERM && errno != EINVAL))
                        return copy_fail(w, -errno, "Failed to set the owner of the copy of");
                /* As an unprivileged user (the node's own user) we cannot give files away; cp -a does
                 * the same. */
                if (copy_warn_once(c, &c->warned_owner))
                        log_warning(
                                "Cannot keep the owner of '%s/%s' (%u:%u) in the backup as uid %u, keeping "
                                "the other owners unchanged too: run oraivisor as root to keep them.",
                                c->src_display, copy_worker_path(w), (unsigned) st->st_uid, (unsigned) st->st_gid,
                                (unsigned) c->uid);
        }
        /* After chown, which clears setuid/setgid. */
        if ((always_chmod || (st->st_mode & 07000)) && fchmod(fd, st->st_mode & 07777) < 0)
                return copy_fail(w, -errno, "Failed to set the mode of the copy of");
        return 0;
}

static bool xattr_unsupported(int e) {
        return e == EOPNOTSUPP || e == ENOSYS || e == EPERM || e == EACCES || e == EINVAL;
}

/* The attribute names of src (k NULL: flistxattr()) or the value of its attribute k (fgetxattr()) into buf
 * (of size size, on the stack), or into a *ret_heap buffer when they do not fit. Returns the length (0:
 * none, the usual case for names, in one call); -1 with errno set on failure (ENODATA: k is gone). */
static ssize_t xattr_read(int src, const char *k, void *buf, size_t size, void **ret_heap) {
        ssize_t n = k ? fgetxattr(src, k, buf, size) : flistxattr(src, buf, size);
        while (n < 0 && errno == ERANGE) {
                n = k ? fgetxattr(src, k, NULL, 0) : flistxattr(src, NULL, 0);
                if (n < 0)
                        break;
                free(*ret_heap);
                *ret_heap = malloc((size_t) n + 1);
                if (!*ret_heap) {
                        errno = ENOMEM;
                        return -1;
                }
                n = k ? fgetxattr(src, k, *ret_heap, (size_t) n) : flistxattr(src, *ret_heap, (size_t) n);
        }
        return n;
}

static int copy_xattrs(Worker *w, int src, int dst) {
        CopyContext *c = w->c;
        char names_buf[512];
        _cleanup_free_ void *names_heap = NULL;

        ssize_t n = xattr_read(src, NULL, names_buf, sizeof(names_buf), &names_heap);
        if (n < 0) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                return xattr_unsupported(errno) ? 0
                                                : copy_fail(w, -errno, "Failed to list the attributes of");
        }
        const char *names = names_heap ?: (void *) names_buf;
        for (const char *k = names; k < names + n; k += strlen(k) + 1) {
                char value_buf[1024];
                _cleanup_free_ void *value_heap = NULL;
                ssize_t vl = xattr_read(src, k, value_buf, sizeof(value_buf), &value_heap);
                if (vl < 0) {
                        if (errno == ENODATA)
                                continue;
                        if (errno == ENOMEM)
                                return -ENOMEM;
                        return copy_fail(w, -errno, "Failed to read an attribute of");
                }
                if (fsetxattr(dst, k, value_heap ?: value_buf, (size_t) vl, 0) < 0) {
                        if (errno == ENOSPC || errno == EDQUOT)
                                return copy_fail(w, -errno, "Failed to copy an attribute of");
                        int e = errno;
                        if (copy_warn_once(c, &c->warned_xattr))
                                log_warning_errno(e,
                                        "Cannot store the extended attribute '%s' of '%s/%s' in the backup, "
                                        "ignoring it and any other such attribute: %m",
                                        k, c->src_display, copy_worker_path(w));
                }
        }
        return 0;
}

static int copy_times(Worker *w, int fd, const struct stat *st) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (futimens(fd, ts) < 0)
                return copy_fail(w, -errno, "Failed to set the times of the copy of");
        return 0;
}

/* Owner, mode, extended attributes and times, in that order: chown clears setuid bits and capabilities,
 * setting an ACL adjusts the mode, and each of them changes ctime but not the times we set last. */
int copy_metadata(Worker *w, int src, int dst, const struct stat *st, bool always_chmod) {
        int r = copy_owner_mode(w, dst, st, always_chmod);
        if (r < 0)
                return r;
        r = copy_xattrs(w, src, dst);
        if (r < 0)
                return r;
        return copy_times(w, dst, st);
}
