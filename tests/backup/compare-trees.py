#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that DST is a faithful copy of SRC, as a backup of the data folder must be.

  compare-trees.py SRC DST [--clone] [--copy] [--snapshot]

Compares every entry: type, mode (with setuid/setgid/sticky), owner, size, nanosecond mtime and atime (not
for symlinks: reading one touches its atime), symlink targets, device numbers, extended attributes,
contents (sha256), the data/hole map of regular files (SEEK_DATA/SEEK_HOLE), and the hard-link structure.
Sockets in SRC must be absent from DST. Everything is read with O_NOATIME so that comparing does not
change what it compares.

--clone: every non-empty regular file must share its extents with the source (filefrag -v: the same
physical ranges, flagged "shared").
--copy: no file may share extents, and a copy may not use more blocks than its source (holes kept).
Without either, extents are not looked at.
--snapshot: DST is a btrfs snapshot, which keeps sockets too (compared as any other entry).

Exits 0 when all is well, else prints each difference and exits 1.
"""
import hashlib
import os
import re
import stat
import subprocess
import sys

errors = []


def err(msg):
    errors.append(msg)


def open_noatime(path, flags=0):
    return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME | os.O_CLOEXEC | flags)


def walk(top):
    """Relative path -> lstat result, without following symlinks or touching atimes."""
    out = {}

    def rec(rel):
        path = os.path.join(top, rel) if rel else top
        fd = open_noatime(path, os.O_DIRECTORY)
        try:
            names = os.listdir(fd)
        finally:
            os.close(fd)
        for n in names:
            r = os.path.join(rel, n) if rel else n
            st = os.lstat(os.path.join(top, r))
            out[r] = st
            if stat.S_ISDIR(st.st_mode):
                rec(r)

    out[""] = os.lstat(top)
    rec("")
    return out


def digest(path):
    h = hashlib.sha256()
    fd = open_noatime(path)
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def data_map(path, size):
    """The data segments of a file as [(start, end)]."""
    segs = []
    fd = open_noatime(path)
    try:
        off = 0
        while off < size:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            h = os.lseek(fd, d, os.SEEK_HOLE)
            segs.append((d, min(h, size)))
            off = h
    finally:
        os.close(fd)
    return segs


RANGE = re.compile(r"^\s*(\d+)\.\.\s*(\d+)\s*$")


def extents(path):
    """filefrag -v: [(logical start, logical end, physical start, physical end, flags)]. Its columns are
    "ext: logical: physical: length: expected: flags" with "expected" often empty."""
    out = subprocess.run(["filefrag", "-v", path], check=True, capture_output=True, text=True).stdout
    ex = []
    for line in out.splitlines():
        f = line.split(":")
        if len(f) < 5 or not f[0].strip().isdigit():
            continue
        lo, ph = RANGE.match(f[1]), RANGE.match(f[2])
        if lo and ph:
            ex.append((int(lo.group(1)), int(lo.group(2)), int(ph.group(1)), int(ph.group(2)), f[-1].strip()))
    return ex


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in names}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    clone = "--clone" in sys.argv
    copy = "--copy" in sys.argv
    snapshot = "--snapshot" in sys.argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = args
    a, b = walk(src), walk(dst)

    sockets = set() if snapshot else {r for r, st in a.items() if stat.S_ISSOCK(st.st_mode)}
    for r in sockets:
        if r in b:
            err(f"{r}: a socket was copied")
    for r in sorted(set(a) - set(b) - sockets):
        err(f"{r}: missing in the copy")
    for r in sorted(set(b) - set(a)):
        err(f"{r}: not in the source")

    links = {}
    shared_files = 0
    inline_files = set()
    for r in sorted(set(a) & set(b)):
        sa, sb = a[r], b[r]
        sp, dp = os.path.join(src, r), os.path.join(dst, r)
        name = r or "."
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            err(f"{name}: type {oct(sa.st_mode)} became {oct(sb.st_mode)}")
            continue
        if sa.st_mode != sb.st_mode:
            err(f"{name}: mode {oct(sa.st_mode)} became {oct(sb.st_mode)}")
        if (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
            err(f"{name}: owner {sa.st_uid}:{sa.st_gid} became {sb.st_uid}:{sb.st_gid}")
        if sa.st_mtime_ns != sb.st_mtime_ns:
            err(f"{name}: mtime {sa.st_mtime_ns} became {sb.st_mtime_ns}")
        if not stat.S_ISLNK(sa.st_mode) and sa.st_atime_ns != sb.st_atime_ns:
            err(f"{name}: atime {sa.st_atime_ns} became {sb.st_atime_ns}")
        if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
            err(f"{name}: the copy is the source itself")
        if stat.S_ISLNK(sa.st_mode):
            if os.readlink(sp) != os.readlink(dp):
                err(f"{name}: symlink target {os.readlink(sp)!r} became {os.readlink(dp)!r}")
            continue
        if stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
            if sa.st_rdev != sb.st_rdev:
                err(f"{name}: device {sa.st_rdev} became {sb.st_rdev}")
        if stat.S_ISREG(sa.st_mode) or stat.S_ISDIR(sa.st_mode):
            if xattrs(sp) != xattrs(dp):
                err(f"{name}: extended attributes {xattrs(sp)} became {xattrs(dp)}")
        if not stat.S_ISREG(sa.st_mode):
            continue

        if sa.st_nlink > 1:
            links.setdefault((sa.st_dev, sa.st_ino), []).append(r)
        if sa.st_size != sb.st_size:
            err(f"{name}: size {sa.st_size} became {sb.st_size}")
            continue
        if digest(sp) != digest(dp):
            err(f"{name}: content differs")
        ma, mb = data_map(sp, sa.st_size), data_map(dp, sb.st_size)
        if sa.st_blocks * 512 < sa.st_size and ma != mb:
            err(f"{name}: data segments {ma} became {mb}")
        if sa.st_size == 0 or not (clone or copy):
            # Extents only when asked: filefrag runs twice per file.
            continue
        ea, eb = extents(sp), extents(dp)
        # Data stored inline in the metadata (btrfs, small files) has no extent to share: FICLONE copies
        # it. A file of holes only has no extent at all.
        if not eb or any("inline" in e[4] for e in eb):
            inline_files.add(r)
            continue
        physical_a = [(e[2], e[3]) for e in ea]
        physical_b = [(e[2], e[3]) for e in eb]
        shared = physical_a == physical_b and all("shared" in e[4] for e in eb)
        if shared:
            shared_files += 1
        if clone and not shared:
            err(f"{name}: not cloned: source extents {ea}, copy extents {eb}")
        if copy:
            if set(physical_a) & set(physical_b):
                err(f"{name}: shares extents with the source in a copy")
            if sb.st_blocks > sa.st_blocks:
                err(f"{name}: the copy uses {sb.st_blocks} blocks, the source {sa.st_blocks}")

    for names in links.values():
        inos = {(b[r].st_dev, b[r].st_ino) for r in names}
        if len(inos) != 1:
            err(f"hard links {names} became {len(inos)} files")
        elif b[names[0]].st_nlink != a[names[0]].st_nlink and a[names[0]].st_nlink == len(names):
            err(f"hard links {names}: link count {b[names[0]].st_nlink}, expected {len(names)}")

    for e in errors:
        print(f"compare-trees: {e}", file=sys.stderr)
    extents_seen = (f"{shared_files} files sharing extents, {len(inline_files)} without extents of their own"
                    if clone or copy else "extents not looked at")
    print(f"compare-trees: {len(a)} entries compared, {len(links)} hard-link groups, {extents_seen}, "
          f"{len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
