#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Backups on real file systems, each a loop-mounted image made here: btrfs and xfs (reflink=1), where the
# backup must share every extent with the data (checked with filefrag), and ext4, where it must copy and
# keep holes; a read-only btrfs snapshot when data/ is a subvolume (restore, pruning and cleanup of
# snapshots, and the fallbacks with their reasons); a target too small (refused up front, with the
# figures); a target that fills up in the middle; two upgrades' backups on one day; pruning; SIGKILL of
# oraivisor and of the worker; timeout.
#
# Needs root, util-linux (mount, losetup, setpriv), btrfs-progs, xfsprogs, e2fsprogs (filefrag), python3. A missing
# tool is an error, not a skip. BACKUP_TOOL is the path of backup-tool (meson sets it).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tool="${BACKUP_TOOL:?set BACKUP_TOOL to the backup-tool binary}"
compare=("python3" "$here/compare-trees.py")

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

[ "$(id -u)" -eq 0 ] || fail "these tests mount loop images: run them as root"
for t in mkfs.btrfs btrfs mkfs.xfs mkfs.ext4 filefrag losetup mount umount python3 truncate fallocate mkfifo setpriv; do
        command -v "$t" >/dev/null || fail "'$t' is missing: install btrfs-progs, xfsprogs, e2fsprogs, util-linux, python3"
done

work="$(mktemp -d "${TMPDIR:-/var/tmp}/test-backup-fs.XXXXXX")"
mounts=()
pids=()
cleanup() {
        local p m
        for p in "${pids[@]}"; do
                kill -9 "$p" 2>/dev/null || true
        done
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
                m="${mounts[$i]}"
                umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
        rm -rf "$work"
}
trap cleanup EXIT

# mkfs_mount NAME TYPE SIZE [mkfs options…]: a fresh file system on a loop device, mounted at $work/NAME.
mkfs_mount() {
        local name="$1" type="$2" size="$3"
        shift 3
        truncate -s "$size" "$work/$name.img"
        case "$type" in
        btrfs) mkfs.btrfs -q -f "$@" "$work/$name.img" >/dev/null ;;
        xfs) mkfs.xfs -q -f "$@" "$work/$name.img" >/dev/null ;;
        ext4) mkfs.ext4 -q -F "$@" "$work/$name.img" >/dev/null ;;
        esac
        mkdir -p "$work/$name"
        # -o loop sets autoclear: unmounting also detaches the loop device.
        mount -o loop "$work/$name.img" "$work/$name"
        mounts+=("$work/$name")
}

# make_tree DIR: a data folder of the shape a node has, with every kind of entry and odd metadata.
make_tree() {
        local d="$1"
        mkdir -p "$d/application.db" "$d/blockstore.db" "$d/snapshots/metadata.db" "$d/shared/deep"
        # LevelDB-like tables of 2–64 KiB.
        for i in $(seq 1 60); do
                head -c $(((i * 1031) % 63000 + 2048)) /dev/urandom >"$d/application.db/$(printf '%06d' "$i").ldb"
        done
        for i in $(seq 1 20); do
                head -c 4096 /dev/urandom >"$d/blockstore.db/$(printf '%06d' "$i").ldb"
        done
        # Enough small tables for many batches of the worker threads, sizes 0–8 KiB.
        python3 -c 'import os,sys
for i in range(400):
    with open(os.path.join(sys.argv[1], "1%05d.ldb" % i), "wb") as f:
        f.write(os.urandom((i * 2113) % 8193))' "$d/blockstore.db"
        echo "MANIFEST-000002" >"$d/application.db/CURRENT"
        : >"$d/application.db/LOCK"
        # A large file and sparse ones: holes in the middle and at the end, and only a hole.
        head -c $((24 * 1024 * 1024)) /dev/urandom >"$d/blockstore.db/big.log"
        head -c 65536 /dev/urandom | dd of="$d/sparse.db" bs=64k seek=16 conv=notrunc status=none
        head -c 65536 /dev/urandom | dd of="$d/sparse.db" bs=64k seek=160 conv=notrunc status=none
        truncate -s 64M "$d/sparse.db"
        truncate -s 100M "$d/hole-only"
        # Sparse with data ranges large enough to be preallocated when copied (sized first: extending it
        # after the writes would leave xfs's speculative preallocation inside it as unwritten extents).
        truncate -s 48M "$d/sparse-large.db"
        head -c $((2 * 1024 * 1024)) /dev/urandom | dd of="$d/sparse-large.db" bs=1M seek=8 conv=notrunc status=none
        head -c $((3 * 1024 * 1024)) /dev/urandom | dd of="$d/sparse-large.db" bs=1M seek=32 conv=notrunc status=none
        echo '{"height":"42","round":0,"step":0}' >"$d/priv_validator_state.json"
        chmod 0600 "$d/priv_validator_state.json"
        # Symlinks: relative, dangling, absolute, out of the tree, to a folder.
        ln -s application.db/CURRENT "$d/link-rel"
        ln -s does/not/exist "$d/link-dangling"
        ln -s /etc/passwd "$d/link-abs"
        ln -s ../../../../../../etc "$d/shared/link-out"
        ln -s shared "$d/link-dir"
        # Owners, setgid/setuid/sticky modes.
        chown 1234:5678 "$d/shared" "$d/application.db/000001.ldb"
        chown -h 1234:5678 "$d/link-rel"
        chmod 02775 "$d/shared"
        chmod 01777 "$d/shared/deep"
        echo '#!/bin/sh' >"$d/tool"
        chmod 04755 "$d/tool"
        # Hard links in two folders; a FIFO; a socket, which is skipped.
        echo "write-ahead" >"$d/wal"
        ln "$d/wal" "$d/application.db/wal.1"
        ln "$d/wal" "$d/shared/deep/wal.2"
        mkfifo -m 0620 "$d/fifo"
        python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/node.sock"
        setfattr_py "$d/wal" user.oraivisor hello
        # Nanosecond times, folders last.
        find "$d" -mindepth 1 ! -type d -exec touch -h -d '2021-03-04 05:06:07.123456789' {} +
        find "$d" -depth -type d -exec touch -d '2020-01-02 03:04:05.987654321' {} +
}

setfattr_py() {
        python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())' "$@"
}

# value KEY OUTPUT: the value of KEY=… in backup-tool's output.
value() {
        sed -n "s/^$1=//p" <<<"$2" | head -1
}

expect_no_leftovers() {
        local root="$1" name="$2"
        [ ! -e "$root/$name" ] || fail "'$root/$name' exists after a failed backup"
        [ ! -e "$root/.partial-$name" ] || fail "'$root/.partial-$name' was left behind"
}

wait_for_partial() {
        local p="$1"
        for _ in $(seq 1 500); do
                if [ -d "$p" ] && [ -n "$(ls -A "$p" 2>/dev/null)" ]; then
                        return 0
                fi
                sleep 0.01
        done
        return 1
}

# kill_worker_mid_backup DATA ROOT NAME WHAT: starts a backup, kills its worker with SIGKILL once the
# partial folder has an entry, and checks that the failure is reported and nothing is left behind.
kill_worker_mid_backup() {
        local data="$1" root="$2" name="$3" what="$4" out="$work/run.out" run_pid worker
        "$tool" run "$data" "$root" "$name" >"$out" 2>&1 &
        run_pid=$!
        pids+=("$run_pid")
        wait_for_partial "$root/.partial-$name" || fail "$what: the backup never started"
        worker="$(value pid "$(cat "$out")")"
        [ -n "$worker" ] || fail "$what: no worker pid"
        kill -9 "$worker"
        if wait "$run_pid"; then
                fail "$what: the backup succeeded although its worker was killed"
        fi
        grep -q "The backup worker (pid $worker) was killed by signal SIGKILL, no backup was made" "$out" ||
                fail "$what: unclear report of a killed worker: $(cat "$out")"
        expect_no_leftovers "$root" "$name"
}

passed=0
ok() {
        passed=$((passed + 1))
        echo "ok $passed - $*"
}

# ---- reflink file systems -------------------------------------------------------------------------

reflink_case() {
        local fs="$1"
        shift
        mkfs_mount "$fs" "$fs" 1G "$@"
        local home="$work/$fs/home"
        mkdir -p "$home"
        make_tree "$home/data"
        local name out
        name="$("$tool" name v1.0.0 1726835696)"
        [ "$name" = "data-backup-backup-tool@00000000-v1.0.0-20240920T123456Z" ] || fail "backup name '$name'"
        out="$("$tool" copy "$home/data" "$home" "$name")" || fail "backup on $fs failed"
        [ "$(value cloning "$out")" = 1 ] || fail "$fs: FICLONE was not used: $out"
        [ "$(value cloned_bytes "$out")" = "$(value bytes "$out")" ] || fail "$fs: not everything cloned: $out"
        [ "$(value copied_bytes "$out")" = 0 ] || fail "$fs: data was copied: $out"
        [ "$(value skipped "$out")" = 1 ] || fail "$fs: the socket was not skipped: $out"
        "${compare[@]}" "$home/data" "$home/$name" --clone || fail "$fs: the backup differs from the data"
        ok "$fs: reflink backup is faithful and shares every extent ($(value usec "$out") µs)"

        # Two upgrades on the same day: two folders, the first untouched.
        local name2
        name2="$("$tool" name v2.0.0 1726857296)"
        out="$("$tool" run "$home/data" "$home" "$name2")" || fail "second backup on $fs failed"
        [ -d "$home/$name" ] && [ -d "$home/$name2" ] || fail "$fs: two backups on one day did not give two folders"
        # Progress of a reflink backup: done never goes back, the total is 0 until the walk knows it and
        # then never changes, and the last report is total/total.
        sed -n 's/^progress=//p' <<<"$out" | awk -F/ -v bytes="$(value bytes "$out")" '
                { if ($1 + 0 < done || (total > 0 && $2 + 0 != total) || ($2 > 0 && $1 + 0 > $2 + 0)) bad = 1
                  done = $1 + 0; total = $2 + 0; n++ }
                END { exit !(n >= 2 && !bad && done == bytes && total == bytes) }' ||
                fail "$fs: bad progress reports: $(grep progress= <<<"$out" | tr '\n' ' ')"
        "${compare[@]}" "$home/data" "$home/$name2" --clone >/dev/null || fail "$fs: the second backup differs"
        ok "$fs: two upgrades on one day get two backups ($name, $name2)"

        # Never merged: the same name again fails and leaves the backup as it was.
        if out="$("$tool" copy "$home/data" "$home" "$name" 2>&1)"; then
                fail "$fs: a second backup into '$name' succeeded"
        fi
        grep -q "already exists" <<<"$out" || fail "$fs: unclear error for an existing backup: $out"
        [ ! -e "$home/.partial-$name" ] || fail "$fs: partial left after refusing to merge"
        ok "$fs: an existing backup is never merged into"

        # The worker killed in the middle of a clone (with its metadata prefetch threads running):
        # reported, partial removed; the next attempt is complete.
        local many="$work/$fs/many" name3
        python3 -c 'import os,sys
for d in range(3):
    p = os.path.join(sys.argv[1], "db%d" % d)
    os.makedirs(p)
    for i in range(4000):
        with open(os.path.join(p, "%06d.ldb" % i), "wb") as f:
            f.write(os.urandom(4096 + i % 512))' "$many"
        name3="$("$tool" name v3.0.0 1726857296)"
        kill_worker_mid_backup "$many" "$home" "$name3" "$fs, mid-clone"
        out="$("$tool" run "$many" "$home" "$name3")" || fail "$fs: the clone after the kill failed: $out"
        "${compare[@]}" "$many" "$home/$name3" >/dev/null || fail "$fs: the clone after the kill differs"
        rm -rf "${home:?}/$name3" "$many"
        ok "$fs: SIGKILL of the worker mid-clone: reported, partial removed, the next clone complete"
}

reflink_case btrfs
reflink_case xfs -m reflink=1

# ---- ext4: the copy path ---------------------------------------------------------------------------

# Room to spare (the image is sparse), as a node's disk has: the copy must then not need more blocks than
# its source (checked by compare-trees --copy), which a nearly full file system could not promise, its
# free space being in pieces by the time the slow tree below is backed up.
mkfs_mount ext4 ext4 4G
home="$work/ext4/home"
mkdir -p "$home"
make_tree "$home/data"
name="$("$tool" name v1.0.0 1726835696)"
out="$("$tool" copy "$home/data" "$home" "$name")" || fail "backup on ext4 failed"
[ "$(value cloning "$out")" = 0 ] || fail "ext4 claims to clone: $out"
[ "$(value cloned_bytes "$out")" = 0 ] || fail "ext4: cloned bytes: $out"
[ "$(value hole_bytes "$out")" -ge $((150 * 1024 * 1024)) ] || fail "ext4: holes were written: $out"
"${compare[@]}" "$home/data" "$home/$name" --copy || fail "ext4: the backup differs from the data"
ok "ext4: copied backup is faithful and keeps holes ($(value usec "$out") µs)"

# ---- not enough space -------------------------------------------------------------------------------

# The ext4 data (about 30 MiB allocated) to a 16 MiB file system: refused before copying, with figures.
mkfs_mount small ext4 16M
for mode in copy run; do
        if out="$("$tool" "$mode" "$home/data" "$work/small" "$name" 2>&1)"; then
                fail "backup to a too small file system succeeded ($mode)"
        fi
        grep -Eq "The backup needs [0-9.]+ MiB but '$work/small' has [0-9.]+ (KiB|MiB) free: free space, set DAEMON_DATA_BACKUP_DIR to a larger disk, or UNSAFE_SKIP_BACKUP=true\." <<<"$out" ||
                fail "unclear error for a too small target ($mode): $out"
        expect_no_leftovers "$work/small" "$name"
        [ "$(find "$work/small" -mindepth 1 -maxdepth 1 ! -name lost+found | wc -l)" -eq 0 ] || fail "files left in the small target"
done
ok "too small a target: refused up front with the figures, nothing left ($(grep -o 'The backup needs[^:]*' <<<"$out"))"

# Running out in the middle: 1 KiB blocks in the source make 3000 small files look like 3 MiB, but they
# take 12 MiB in 4 KiB blocks on the target, which has 6 MiB free.
mkfs_mount kb ext4 64M -b 1024
mkdir -p "$work/kb/data"
for i in $(seq 1 3000); do
        printf 'small table %d\n' "$i" >"$work/kb/data/$i.ldb"
done
mkfs_mount tight ext4 64M -b 4096
avail=$(($(stat -f -c '%a*%S' "$work/tight")))
fallocate -l $((avail - 6 * 1024 * 1024)) "$work/tight/filler"
if out="$("$tool" copy "$work/kb/data" "$work/tight" "$name" 2>&1)"; then
        fail "backup into a file system that fills up succeeded: $out"
fi
grep -Eq "The backup ran out of space in '$work/tight' after [0-9.]+ [KM]iB of [0-9.]+ KiB: free space, set DAEMON_DATA_BACKUP_DIR to a larger disk, or UNSAFE_SKIP_BACKUP=true\." <<<"$out" ||
        fail "unclear error when the target fills up: $out"
expect_no_leftovers "$work/tight" "$name"
ok "target fills up during the copy: clear error, partial removed"

# ---- pruning ----------------------------------------------------------------------------------------

b="$work/btrfs/home"
for t in 1700000000 1710000000 1720000000; do
        n="$("$tool" name v0.$t "$t")"
        "$tool" copy "$b/data" "$b" "$n" >/dev/null
done
mkdir "$b/data-backup-2024-9-20" "$b/unrelated"
# Another node sharing this backup folder: older backups and a partial of its own, never ours to touch.
other="data-backup-oraid@0123abcd-v0.1-20231114T221320Z"
mkdir "$b/$other" "$b/.partial-data-backup-oraid@0123abcd-v0.2-20231114T221320Z"
# Now: 3 above + 2 from the reflink case = 5 backups of ours.
[ "$(ls -d "$b"/data-backup-backup-tool@*Z | wc -l)" -eq 5 ] || fail "expected 5 backups before pruning"
[ "$("$tool" prune "$b" 2)" = 3 ] || fail "prune did not remove 3 backups"
left="$(cd "$b" && ls -d data-backup-*Z | tr '\n' ' ')"
[ "$left" = "data-backup-backup-tool@00000000-v1.0.0-20240920T123456Z data-backup-backup-tool@00000000-v2.0.0-20240920T183456Z $other " ] ||
        fail "prune kept '$left'"
[ -d "$b/data-backup-2024-9-20" ] && [ -d "$b/unrelated" ] && [ -d "$b/data" ] || fail "prune touched other folders"
[ "$("$tool" cleanup "$b")" = 0 ] || fail "cleanup removed another node's partial"
[ -d "$b/.partial-data-backup-oraid@0123abcd-v0.2-20231114T221320Z" ] || fail "another node's partial is gone"
ok "ORAIVISOR_BACKUP_KEEP=2 removes our three oldest, nothing else (another node's backups stay)"

# ---- btrfs snapshots ---------------------------------------------------------------------------------

# data/ as a btrfs subvolume: the backup is a read-only snapshot, made at once under its final name.
mkfs_mount snap btrfs 1G
sh="$work/snap/home"
mkdir -p "$sh"
btrfs -q subvolume create "$sh/data"
make_tree "$sh/data"
name="$("$tool" name v1.0.0 1726835696)"
out="$("$tool" copy "$sh/data" "$sh" "$name" 2>&1)" || fail "snapshot backup failed: $out"
[ "$(value snapshot "$out")" = 1 ] || fail "no snapshot was taken of a subvolume: $out"
[ "$(stat -c %i "$sh/$name")" = 256 ] || fail "'$sh/$name' is not a subvolume"
[ "$(btrfs property get -ts "$sh/$name" ro)" = "ro=true" ] || fail "the snapshot is not read-only"
if touch "$sh/$name/new" 2>/dev/null; then
        fail "wrote into the read-only snapshot"
fi
"${compare[@]}" "$sh/data" "$sh/$name" --clone --snapshot || fail "the snapshot differs from the data"
[ ! -e "$sh/.partial-$name" ] || fail "a partial folder next to a snapshot"
ok "btrfs subvolume: the backup is a faithful read-only snapshot ($(value usec "$out") µs)"

# Through the worker too, with its report; and never over an existing backup.
name2="$("$tool" name v2.0.0 1726857296)"
out="$("$tool" run "$sh/data" "$sh" "$name2" 2>&1)" || fail "snapshot backup through the worker failed: $out"
grep -q "Backed up '$sh/data' to '$sh/$name2' in .* as a read-only btrfs snapshot\." <<<"$out" ||
        fail "unclear report of a snapshot: $out"
if out="$("$tool" copy "$sh/data" "$sh" "$name" 2>&1)"; then
        fail "a second snapshot as '$name' succeeded"
fi
grep -q "already exists" <<<"$out" || fail "unclear error for an existing snapshot: $out"
ok "snapshot through the worker reported as such; an existing backup is never replaced"

# Restoring, as README.md says: a writable snapshot of the backup in place of data/.
mv "$sh/data" "$sh/data.broken"
btrfs -q subvolume snapshot "$sh/$name" "$sh/data"
"${compare[@]}" "$sh/data.broken" "$sh/data" --clone --snapshot >/dev/null || fail "the restored data differs"
touch "$sh/data/writable" && rm "$sh/data/writable" || fail "the restored data folder is not writable"
btrfs -q subvolume delete "$sh/data.broken"
ok "restore: a writable snapshot of the backup is the data as it was"

# Pruning deletes read-only snapshots: with CAP_SYS_ADMIN (the ioctl), and without it, as under
# oraivisor@.service, whose capabilities lack it (made writable, emptied, removed).
name3="$("$tool" name v3.0.0 1726900000)"
"$tool" copy "$sh/data" "$sh" "$name3" >/dev/null
[ "$("$tool" prune "$sh" 2)" = 1 ] || fail "prune did not remove the oldest snapshot"
[ ! -e "$sh/$name" ] && [ -d "$sh/$name2" ] && [ -d "$sh/$name3" ] || fail "prune removed the wrong snapshots"
[ "$(setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- "$tool" prune "$sh" 1)" = 1 ] ||
        fail "prune without CAP_SYS_ADMIN did not remove the snapshot"
[ ! -e "$sh/$name2" ] && [ -d "$sh/$name3" ] || fail "prune without CAP_SYS_ADMIN removed the wrong snapshot"
ok "ORAIVISOR_BACKUP_KEEP removes read-only snapshots, with or without CAP_SYS_ADMIN"

# A read-only snapshot under a partial name (as an interrupted backup could leave): the start-up cleanup
# removes it, also without CAP_SYS_ADMIN.
for caps in all no-sys-admin; do
        p=".partial-$("$tool" name "v4-$caps" 1726900000)"
        btrfs -q subvolume snapshot -r "$sh/data" "$sh/$p"
        if [ "$caps" = all ]; then
                out="$("$tool" cleanup "$sh" 2>&1)"
        else
                out="$(setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- "$tool" cleanup "$sh" 2>&1)"
        fi
        [ "$(tail -1 <<<"$out")" = 1 ] || fail "cleanup ($caps) did not remove the partial snapshot: $out"
        [ ! -e "$sh/$p" ] || fail "the partial snapshot is still there ($caps)"
done
ok "start-up cleanup removes a read-only partial snapshot"

# Fallbacks, each saying why: data/ a plain folder on btrfs (cloned), the backup folder on another file
# system (copied), a subvolume holding another subvolume (which a snapshot would leave out: cloned).
mkdir -p "$work/snap/plain"
cp -a "$sh/data/application.db" "$work/snap/plain/"
name4="$("$tool" name v4.0.0 1726900000)"
out="$("$tool" copy "$work/snap/plain" "$sh" "$name4" 2>&1)" || fail "backup of a plain folder failed: $out"
[ "$(value snapshot "$out")" = 0 ] && [ "$(value cloning "$out")" = 1 ] || fail "plain folder: not a clone: $out"
grep -q "The data folder '$work/snap/plain' is not a btrfs subvolume: backing up with a copy that shares data by reflink" <<<"$out" ||
        fail "plain folder: no reason given: $out"
"${compare[@]}" "$work/snap/plain" "$sh/$name4" --clone >/dev/null || fail "plain folder: the backup differs"
ok "plain folder on btrfs: cloned, and the log says how to get snapshots"

mkfs_mount snapext ext4 512M
out="$("$tool" copy "$sh/data" "$work/snapext" "$name4" 2>&1)" || fail "backup to another file system failed: $out"
[ "$(value snapshot "$out")" = 0 ] && [ "$(value cloning "$out")" = 0 ] || fail "other fs: not a copy: $out"
grep -q "The backup folder '$work/snapext' is not on btrfs, so no snapshot of the subvolume '$sh/data' can be made there: copying instead" <<<"$out" ||
        fail "other fs: no reason given: $out"
"${compare[@]}" "$sh/data" "$work/snapext/$name4" --copy >/dev/null || fail "other fs: the backup differs"
ok "backup folder on another file system: copied, and the log says why"

btrfs -q subvolume create "$sh/data/nested"
echo "in a nested subvolume" >"$sh/data/nested/file"
name5="$("$tool" name v5.0.0 1726900000)"
out="$("$tool" copy "$sh/data" "$sh" "$name5" 2>&1)" || fail "backup of a subvolume with a nested one failed: $out"
[ "$(value snapshot "$out")" = 0 ] || fail "nested subvolume: a snapshot would lose its data: $out"
grep -q "holds other btrfs subvolumes, which a snapshot does not include: copying instead" <<<"$out" ||
        fail "nested subvolume: no reason given: $out"
[ "$(cat "$sh/$name5/nested/file")" = "in a nested subvolume" ] || fail "nested subvolume: its data is missing"
ok "a subvolume holding another one: copied with the nested data, and the log says why"

# ---- kills and timeouts -----------------------------------------------------------------------------

# A data folder that takes a few seconds to copy on ext4.
slow="$home/slow"
mkdir -p "$slow/application.db"
for i in $(seq 1 4); do
        head -c $((64 * 1024 * 1024)) /dev/urandom >"$slow/application.db/big$i.ldb"
done
for i in $(seq 1 5000); do
        echo "$i" >"$slow/application.db/s$i"
done
sync

# oraivisor itself killed: the worker dies with it (PR_SET_PDEATHSIG), only the partial remains.
name="data-backup-backup-tool@00000000-slow-20240920T123456Z"
"$tool" run "$slow" "$home" "$name" >"$work/run.out" 2>&1 &
pids+=($!)
wait_for_partial "$home/.partial-$name" || fail "the backup never started copying"
kill -9 "$!"
wait "$!" 2>/dev/null || true
for _ in $(seq 1 100); do
        pgrep -f "backup-tool run $slow" >/dev/null || break
        sleep 0.05
done
pgrep -f "backup-tool run $slow" >/dev/null && fail "the worker outlived oraivisor"
[ -d "$home/.partial-$name" ] || fail "no partial folder after the kill"
[ ! -e "$home/$name" ] || fail "a final backup folder after a kill in the middle"
[ "$("$tool" cleanup "$home")" = 1 ] || fail "cleanup did not remove the partial"
expect_no_leftovers "$home" "$name"
ok "SIGKILL of oraivisor mid-copy leaves only a partial, which cleanup removes"

# The worker alone killed: oraivisor reports it and removes the partial.
kill_worker_mid_backup "$slow" "$home" "$name" "mid-copy"
ok "SIGKILL of the worker mid-copy: reported, partial removed"

# A time limit (oraivisor sets none; backup_start() has one for callers that want it): 50 ms for a copy
# that takes seconds.
if out="$("$tool" run "$slow" "$home" "$name" 50000 2>&1)"; then
        fail "the backup did not time out"
fi
grep -q "The backup of '$slow' did not finish within 50ms: put DAEMON_DATA_BACKUP_DIR" <<<"$out" ||
        fail "unclear timeout error: $out"
expect_no_leftovers "$home" "$name"
ok "timeout: worker stopped, clear error, partial removed"

# And the same data backed up without a limit is complete.
out="$("$tool" run "$slow" "$home" "$name")" || fail "backup of the slow tree failed: $out"
"${compare[@]}" "$slow" "$home/$name" --copy >/dev/null || fail "the slow tree's backup differs"
ok "the slow tree backs up completely when left alone"

echo "# $passed passed"
