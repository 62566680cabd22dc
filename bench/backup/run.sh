#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark of the data-folder backup (issue 5): a 2 GiB data folder of a realistic shape
# (make-data.py), backed up by oraivisor's backup_copy_tree() (tests/backup/backup-tool) and by cp, on
# loop-mounted images made here, in one run, several rounds, caches dropped before every measurement:
#
#   btrfs, xfs (reflink=1): oraivisor (FICLONE) vs `cp -a --reflink=never` (a full copy, what upstream's
#                           backup does) with and without a final sync, and plain `cp -a` (coreutils ≥ 9
#                           reflinks by default too).                           target: ≤ 0.05× the full copy
#                           And `cp -a --reflink=always` (what a user does by hand), with and without
#                           a final sync.                                       target: ≤ 1.0× (issue 12)
#   btrfs-subvol:           the same data as a btrfs subvolume (issue 12): oraivisor (a read-only
#                           snapshot) vs `btrfs subvolume snapshot -r` and vs `cp -a --reflink=always`.
#   ext4:                   oraivisor (copy_file_range, holes kept) vs `cp -a`, with and without a final
#                           sync.                                               target: ≤ 1.0× cp -a
#
# oraivisor's time always includes its syncfs() of the target (the backup is durable when it returns);
# plain cp leaves its data in the page cache, hence the "+ sync" columns. The "find -printf" rows walk the
# same tree and look at every entry (cold caches too): the floor of any backup that must visit every file.
# Ratios are given three ways: of the medians, of the minimums, and paired (the median over the rounds of
# the ratio within each round, the two runs seconds apart: the steadiest on a shared machine).
#
# LOOP_IO=direct (the default) attaches the images with loop direct I/O, so that the loop devices behave
# like a disk: one page cache, and writes reach the device when the kernel submits them. LOOP_IO=buffered
# is the plain `mount -o loop`: the image file's own page cache sits below the loop device, so writeback
# started during a copy only reaches that second cache, and the data reaches the disk in the final flush
# (which favours a copy that does not flush, like plain cp, over a durable one).
#
#   bench/backup/run.sh [BUILD_DIR]        (default: build; needs root)
#   ROUNDS=5 SCALE=1.0 REFLINK_FS="btrfs xfs" LOOP_IO=direct BENCH_DIR=/var/tmp bench/backup/run.sh build
#   SNAPSHOT=0 skips the btrfs-subvol rows (they need btrfs in REFLINK_FS), EXT4=0 the ext4 ones, and
#   REFLINK_METHODS="walk oraivisor cp-reflink" chooses the rows of the reflink file systems.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
tool="$build/tests/backup/backup-tool"
rounds="${ROUNDS:-5}"
scale="${SCALE:-1.0}"
reflink_fs="${REFLINK_FS:-btrfs xfs}"
loop_io="${LOOP_IO:-direct}"
snapshot="${SNAPSHOT:-1}"
ext4="${EXT4:-1}"
reflink_methods="${REFLINK_METHODS:-walk oraivisor cp-full cp-full-sync cp cp-reflink cp-reflink-sync}"
case " $reflink_fs " in
*" btrfs "*) ;;
*) snapshot=0 ;;
esac

fail() {
        echo "bench/backup: $*" >&2
        exit 1
}

[ -x "$tool" ] || fail "'$tool' is missing: build first (meson compile -C $build)"
case "$loop_io" in
direct | buffered) ;;
*) fail "LOOP_IO='$loop_io': use direct or buffered" ;;
esac
[ "$(id -u)" -eq 0 ] || fail "the benchmark mounts loop images: run it as root"
for t in mkfs.btrfs btrfs mkfs.xfs mkfs.ext4 python3 mount umount losetup find; do
        command -v "$t" >/dev/null || fail "'$t' is missing: install btrfs-progs, xfsprogs, e2fsprogs, util-linux, python3"
done

work="$(mktemp -d "${BENCH_DIR:-/var/tmp}/bench-backup.XXXXXX")"
mounts=()
loops=()
cleanup() {
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
                umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true
        done
        for l in "${loops[@]}"; do
                losetup -d "$l" 2>/dev/null || true
        done
        rm -rf "$work"
}
trap cleanup EXIT

mkfs_mount() {
        local name="$1" type="$2" dev
        truncate -s 8G "$work/$name.img"
        case "$type" in
        btrfs) mkfs.btrfs -q -f "$work/$name.img" >/dev/null ;;
        xfs) mkfs.xfs -q -f -m reflink=1 "$work/$name.img" >/dev/null ;;
        ext4) mkfs.ext4 -q -F "$work/$name.img" >/dev/null ;;
        esac
        mkdir -p "$work/$name"
        if [ "$loop_io" = direct ]; then
                dev="$(losetup --find --show --direct-io=on "$work/$name.img")"
                loops+=("$dev")
                [ "$(cat "/sys/block/${dev#/dev/}/loop/dio")" = 1 ] ||
                        fail "'$dev' did not get direct I/O (the file system of '$work' must support O_DIRECT): use LOOP_IO=buffered"
                mount "$dev" "$work/$name"
        else
                mount -o loop "$work/$name.img" "$work/$name"
        fi
        mounts+=("$work/$name")
}

drop_note="caches dropped before every measurement (sync; echo 3 > /proc/sys/vm/drop_caches)"
drop_caches() {
        sync
        if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
                drop_note="caches NOT dropped: writing /proc/sys/vm/drop_caches is not permitted here"
        fi
}

echo "bench/backup: building the data folder (scale $scale) in $work"
mkfs_mount ext4 ext4
python3 "$here/make-data.py" "$work/ext4/data" "$scale"
for fs in $reflink_fs; do
        mkfs_mount "$fs" "$fs"
        cp -a --reflink=never "$work/ext4/data" "$work/$fs/data"
done
if [ "$snapshot" = 1 ]; then
        # The same data as a subvolume, made as README.md tells users to (sharing the extents of data/).
        btrfs -q subvolume create "$work/btrfs/subvol"
        cp -a --reflink=always "$work/btrfs/data/." "$work/btrfs/subvol/"
fi
sync

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
results="$work/results"
: >"$results"

# run FS METHOD ROUND: one measurement, in ms, appended to $results. FS btrfs-subvol is the subvolume
# $work/btrfs/subvol.
run() {
        local fs="$1" method="$2" round="$3" dir="$work/$1" data="$work/$1/data" out t0 t1
        local name="data-backup-bench$round-20240920T123456Z"
        if [ "$fs" = btrfs-subvol ]; then
                dir="$work/btrfs"
                data="$dir/subvol"
        fi
        drop_caches
        t0=$(date +%s%N)
        case "$method" in
        walk) find "$data" -printf '%s %m %U %T@\n' >/dev/null ;;
        oraivisor) out="$("$tool" copy "$data" "$dir" "$name")" ;;
        cp-full) cp -a --reflink=never "$data" "$dir/copy" ;;
        cp-full-sync) cp -a --reflink=never "$data" "$dir/copy" && sync -f "$dir/copy" ;;
        cp) cp -a "$data" "$dir/copy" ;;
        cp-sync) cp -a "$data" "$dir/copy" && sync -f "$dir/copy" ;;
        cp-reflink) cp -a --reflink=always "$data" "$dir/copy" ;;
        cp-reflink-sync) cp -a --reflink=always "$data" "$dir/copy" && sync -f "$dir/copy" ;;
        btrfs-snap) btrfs -q subvolume snapshot -r "$data" "$dir/copy" ;;
        esac
        t1=$(date +%s%N)
        if [ "$method" = oraivisor ]; then
                local cloning snap
                cloning="$(sed -n 's/^cloning=//p' <<<"$out")"
                snap="$(sed -n 's/^snapshot=//p' <<<"$out")"
                if [ "$fs" = btrfs-subvol ]; then
                        [ "$snap" = 1 ] || fail "btrfs-subvol: the backup was not a snapshot"
                        btrfs -q subvolume delete "$dir/$name"
                else
                        if [ "$fs" = ext4 ] && [ "$cloning" != 0 ]; then fail "ext4 claims reflinks"; fi
                        if [ "$fs" != ext4 ] && [ "$cloning" != 1 ]; then fail "$fs: the backup did not use reflinks"; fi
                        rm -rf "${dir:?}/$name"
                fi
        elif [ "$method" = btrfs-snap ]; then
                btrfs -q subvolume delete "$dir/copy"
        elif [ "$method" != walk ]; then
                rm -rf "${dir:?}/copy"
        fi
        # Deleted subvolumes are cleaned up in the background: not during the next measurement.
        if [ "$fs" = btrfs-subvol ] || [ "$fs" = btrfs ]; then
                btrfs subvolume sync "$work/btrfs" >/dev/null
        fi
        echo "$fs $method $(((t1 - t0) / 1000000)) $round" >>"$results"
        printf '  round %d  %-6s %-13s %7d ms\n' "$round" "$fs" "$method" $(((t1 - t0) / 1000000))
}

for round in $(seq 1 "$rounds"); do
        for fs in $reflink_fs; do
                for m in $reflink_methods; do
                        run "$fs" "$m" "$round"
                done
        done
        if [ "$snapshot" = 1 ]; then
                for m in oraivisor btrfs-snap cp-reflink; do
                        run btrfs-subvol "$m" "$round"
                done
        fi
        if [ "$ext4" = 1 ]; then
                for m in walk oraivisor cp cp-sync; do
                        run ext4 "$m" "$round"
                done
        fi
done

median() {
        awk -v fs="$1" -v m="$2" '$1 == fs && $2 == m { print $3 }' "$results" | sort -n |
                awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

minimum() {
        awk -v fs="$1" -v m="$2" '$1 == fs && $2 == m { print $3 }' "$results" | sort -n | head -1
}

# The median over the rounds of oraivisor's time over the method's in the same round: both ran within
# seconds of each other, so a slow phase of the shared disk or CPUs weighs on both sides of each ratio.
paired() {
        awk -v fs="$1" -v m="$2" '$1 == fs && $2 == "oraivisor" { o[$4] = $3 } $1 == fs && $2 == m { t[$4] = $3 }
                END { for (r in o) if ((r in t) && t[r] > 0) print o[r] / t[r] }' "$results" | sort -g |
                awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else printf "%.3fx", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3fx", a / b; else print "n/a" }'
}

label() {
        case "$1" in
        walk) echo "find -printf (metadata walk)" ;;
        oraivisor) echo "oraivisor backup (incl. syncfs)" ;;
        oraivisor-snap) echo "oraivisor backup (a snapshot)" ;;
        btrfs-snap) echo "btrfs subvolume snapshot -r" ;;
        cp-reflink) echo "cp -a --reflink=always" ;;
        cp-reflink-sync) echo "cp -a --reflink=always; sync -f" ;;
        cp-full) echo "cp -a --reflink=never" ;;
        cp-full-sync) echo "cp -a --reflink=never; sync -f" ;;
        cp) echo "cp -a" ;;
        cp-sync) echo "cp -a; sync -f" ;;
        esac
}

# The ratio of the minimums next to that of the medians: on a shared machine, other load only ever adds
# time, so the minimums are the steadier estimate of what each method costs by itself.
row() {
        local fs="$1" m="$2" target="${3:-}" o om med mn r="" rm="" rp=""
        o="$(median "$fs" oraivisor)"
        om="$(minimum "$fs" oraivisor)"
        med="$(median "$fs" "$m")"
        mn="$(minimum "$fs" "$m")"
        if [ "$m" != oraivisor ]; then
                r="$(ratio "$o" "$med")$target"
                rm="$(ratio "$om" "$mn")"
                rp="$(paired "$fs" "$m")"
        fi
        local l
        l="$(label "$m")"
        [ "$fs" = btrfs-subvol ] && [ "$m" = oraivisor ] && l="$(label oraivisor-snap)"
        printf '| %-12s | %-32s | %9s ms | %9s ms | %-25s | %-9s | %-9s |\n' "$fs" "$l" "$med" "$mn" "$r" "$rm" "$rp"
}

echo
echo "Backup of a $(du -sh --apparent-size "$work/ext4/data" | cut -f1) data folder ($(find "$work/ext4/data" -type f | wc -l) files," \
        "$(du -sh "$work/ext4/data" | cut -f1) allocated), $rounds rounds, $drop_note."
echo "Loop devices: $loop_io I/O. Load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)."
echo
printf '| %-12s | %-32s | %12s | %12s | %-25s | %-9s | %-9s |\n' "fs" "method" "median" "min" "oraivisor / this (median)" "(min)" "(paired)"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "--------------" "----------------------------------" "--------------" "--------------" "---------------------------" "-----------" "-----------"
for fs in $reflink_fs; do
        for m in $reflink_methods; do
                case "$m" in
                cp-full) row "$fs" "$m" " (target <= 0.05)" ;;
                cp-reflink) row "$fs" "$m" " (target <= 1.0)" ;;
                *) row "$fs" "$m" ;;
                esac
        done
done
if [ "$snapshot" = 1 ]; then
        for m in oraivisor btrfs-snap cp-reflink; do
                row btrfs-subvol "$m"
        done
fi
if [ "$ext4" = 1 ]; then
        row ext4 walk
        row ext4 oraivisor
        row ext4 cp " (target <= 1.0)"
        row ext4 cp-sync
fi
