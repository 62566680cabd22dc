/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "btrfs-util.h"
#include "fd-util.h"
#include "fs-util.h"
#include "macro.h"

int btrfs_is_fs_fd(int fd) {
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        return sfs.f_type == (typeof(sfs.f_type)) BTRFS_SUPER_MAGIC;
}

int btrfs_is_subvolume_fd(int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* The top folder of every subvolume has this inode number, and only it. */
        if (!S_ISDIR(st.st_mode) || st.st_ino != BTRFS_FIRST_FREE_OBJECTID)
                return 0;
        return btrfs_is_fs_fd(fd);
}

int btrfs_subvolume_has_children(int fd) {
        struct btrfs_ioctl_get_subvol_rootref_args args = {};
        /* Unprivileged since 4.18: the subvolumes whose parent is fd's. More than fit at once is EOVERFLOW,
         * which answers the question as well. */
        if (ioctl(fd, BTRFS_IOC_GET_SUBVOL_ROOTREF, &args) < 0)
                return errno == EOVERFLOW ? 1 : -errno;
        return args.num_items > 0;
}

int btrfs_snapshot_readonly_at(int src_fd, int dst_dirfd, const char *name) {
        return btrfs_snapshot_at(src_fd, dst_dirfd, name, true);
}

int btrfs_snapshot_at(int src_fd, int dst_dirfd, const char *name, bool readonly) {
        assert(name);

        struct btrfs_ioctl_vol_args_v2 args = {
                .fd = src_fd,
                .flags = readonly ? BTRFS_SUBVOL_RDONLY : 0,
        };
        if (strlen(name) > BTRFS_SUBVOL_NAME_MAX)
                return -ENAMETOOLONG;
        strncpy(args.name, name, sizeof(args.name) - 1);
        if (ioctl(dst_dirfd, BTRFS_IOC_SNAP_CREATE_V2, &args) < 0)
                return -errno;
        return 0;
}

int btrfs_subvolume_remove_at(int dirfd, const char *name) {
        assert(name);

        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        int r = btrfs_is_subvolume_fd(fd);
        if (r <= 0)
                return r;

        struct btrfs_ioctl_vol_args args = {};
        if (strlen(name) > BTRFS_PATH_NAME_MAX)
                return -ENAMETOOLONG;
        strncpy(args.name, name, sizeof(args.name) - 1);
        if (ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY, &args) >= 0)
                return 1;
        if (errno != EPERM && errno != EACCES)
                return -errno;

        /* Without CAP_SYS_ADMIN (oraivisor@.service does not grant it): writable, emptied, then rmdir(),
         * which deletes an empty subvolume since 4.18. */
        uint64_t flags;
        if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
                return -errno;
        if (flags & BTRFS_SUBVOL_RDONLY) {
                flags &= ~(uint64_t) BTRFS_SUBVOL_RDONLY;
                if (ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &flags) < 0)
                        return -errno;
        }
        fd = safe_close(fd);
        r = rm_rf_at(dirfd, name);
        return r < 0 ? r : 1;
}
