/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which archive entries may be written below an upgrade's folder: entry paths and link targets checked
 * lexically, before anything touches the file system (which then refuses to follow symlinks anyway).
 * Pure. */

#include <sys/types.h>

#include "macro.h"

/* Normalises an entry path: "./bin//oraid" → "bin/oraid"; trailing '/' dropped. Returns 0, 1 when the
 * path names the archive's root itself ("./", "."; nothing to create), -EXDEV for an absolute path or a
 * ".." component, -EINVAL for an empty path, a component over 255 bytes or control characters, -ENOMEM. */
int archive_path_normalize(const char *path, char **ret);

/* Checks that a symlink at the normalised entry path, pointing to target, resolves below the root when
 * read lexically from the link's folder ("lib/x" → "../lib/y" is fine, "bin/x" → "../../etc" is not).
 * ".." may only lead the target ("a/../b" is refused): then no chain of checked links can escape.
 * Returns 0, -EXDEV for an absolute target or one that leaves the root, -EINVAL for an empty target. */
int archive_symlink_target_check(const char *entry_path, const char *target);

/* What an installed entry is, for archive_install_mode(). */
typedef enum ArchiveInstallKind {
        ARCHIVE_INSTALL_DIRECTORY,
        ARCHIVE_INSTALL_FILE,
        ARCHIVE_INSTALL_BINARY, /* bin/<daemon>: always executable */
        _ARCHIVE_INSTALL_KIND_MAX,
        _ARCHIVE_INSTALL_KIND_INVALID = -EINVAL,
} ArchiveInstallKind;

/* The mode an entry gets, whatever the archive says, in every install path: readable by everyone (what
 * an upgrade holds is public, and the node's user must read it), writable by its owner only (oraivisor's
 * user: root under systemd), never setuid, setgid or sticky. Folders 0755; files 0644, or 0755 when the
 * archive gives them any execute bit; the binary 0755. The archive's owner is never used either. */
mode_t archive_install_mode(ArchiveInstallKind kind, mode_t archive_mode) _const_;

/* A short reason for the errors above, for messages naming the entry. */
const char *archive_path_error(int r) _const_;
