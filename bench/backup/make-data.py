#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds a node data folder of a realistic shape for the backup benchmark.

  make-data.py DIR [SCALE]

A CometBFT/LevelDB-like tree: thousands of small tables of 2–64 KiB in application.db, blockstore.db,
state.db and tx_index.db (with CURRENT, LOCK, LOG, MANIFEST files), a few large files of 128–448 MiB
(a WAL, a snapshot chunk, a huge table, an evidence log), and two sparse files (512 MiB with a quarter of
data, 256 MiB with a quarter of data). SCALE (default 1.0) multiplies every size and count; at 1.0 the
folder holds about 2.06 GiB (apparent) in about 8,000 files. The contents are random (incompressible)
and deterministic for a given SCALE.
"""
import os
import random
import sys

MIB = 1024 * 1024


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    top = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) == 3 else 1.0
    rng = random.Random(42)
    pool = os.urandom(64 * MIB)

    def chunk(n):
        """n bytes of random data (slices of one pool, at random offsets)."""
        out = bytearray()
        while len(out) < n:
            k = min(n - len(out), 4 * MIB)
            o = rng.randrange(0, len(pool) - k + 1)
            out += pool[o:o + k]
        return bytes(out)

    def write(rel, size):
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            left = size
            while left > 0:
                k = min(left, 16 * MIB)
                f.write(chunk(k))
                left -= k

    def sparse(rel, size, every, data):
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            for off in range(0, size, every):
                f.seek(off)
                f.write(chunk(min(data, size - off)))
            f.truncate(size)

    n_small = 0
    for db, count in (("application.db", 5000), ("blockstore.db", 2000), ("state.db", 600), ("tx_index.db", 400)):
        count = max(1, int(count * scale))
        for i in range(count):
            write(f"{db}/{i + 1:06d}.ldb", rng.randrange(2 * 1024, 64 * 1024 + 1))
        write(f"{db}/CURRENT", 16)
        write(f"{db}/LOCK", 0)
        write(f"{db}/LOG", 4096)
        write(f"{db}/MANIFEST-000002", 64 * 1024)
        n_small += count + 4

    for rel, size in (("application.db/999999.ldb", 448), ("snapshots/1000/chunk-0", 320),
                      ("evidence.db/000001.log", 192), ("cs.wal/wal", 128)):
        write(rel, int(size * MIB * scale))
    sparse("state.db/values.vlog", int(512 * MIB * scale), 32 * MIB, 8 * MIB)
    sparse("blockstore.db/index.sparse", int(256 * MIB * scale), 16 * MIB, 4 * MIB)
    with open(os.path.join(top, "priv_validator_state.json"), "w") as f:
        f.write('{"height":"1234567","round":0,"step":3}\n')
    os.chmod(os.path.join(top, "priv_validator_state.json"), 0o600)

    apparent = allocated = files = 0
    for d, _, names in os.walk(top):
        for n in names:
            st = os.lstat(os.path.join(d, n))
            apparent += st.st_size
            allocated += st.st_blocks * 512
            files += 1
    print(f"make-data: {files} files, {apparent / MIB / 1024:.2f} GiB apparent, "
          f"{allocated / MIB / 1024:.2f} GiB allocated in {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
