#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark of the download path: fetch + verify + install a ~256 MiB .tar.gz and .tar.zst from a loopback
server with oraivisor's obtain (tests/tools/obtain-run: one streaming pass, hashing and unpacking while the
bytes arrive, fsync before publishing) versus `curl -o f && sha256sum f && tar xf f` on the same files, side
by side in one run, alternating, several rounds. Prints median wall times, their ratio, and the peak RSS of
each side (ru_maxrss of the process tree, from wait4()).

  bench/download/run.py [--build build-download] [--rounds 5] [--size-mib 256] [--work /var/tmp/...]

Targets (issue 4): wall time <= 0.8x the baseline, peak RSS <= 16 MiB. Exit status 1 when one is missed.
The test data is generated once (random-ish, compressing about 3:1 like a Go binary) and kept in --work."""

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
from server import start_server  # noqa: E402

BLOCK = 64 * 1024
GENERATOR = 2  # bump when make_payload() changes, to regenerate cached data


def make_payload(path, size, seed=7):
    """Bytes shaped like a large binary: runs of code-like blocks (a small vocabulary, compressible) and of
    incompressible data (embedded compressed assets, hashes), every block different."""
    rnd = random.Random(seed)
    bases = []
    for _ in range(32):
        vocab = [rnd.randbytes(rnd.randint(3, 12)) for _ in range(96)]
        bases.append(b"".join(rnd.choice(vocab) for _ in range(BLOCK // 7 + 1))[: BLOCK * 2])
    with open(path, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01\x00")
        written = 8
        while written < size:
            if rnd.random() < 0.12:
                block = os.urandom(BLOCK)
            else:
                base = rnd.choice(bases)
                off = rnd.randrange(BLOCK)
                block = bytearray(base[off:off + BLOCK])
                for p in range(rnd.randrange(64), BLOCK - 16, 1024):
                    block[p:p + 8] = os.urandom(8)
            f.write(block)
            written += len(block)


def prepare(work, size_mib):
    srv = os.path.join(work, "srv")
    meta_path = os.path.join(work, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("size_mib") == size_mib and meta.get("generator") == GENERATOR and all(os.path.exists(os.path.join(srv, n)) for n in meta["files"]):
            return meta
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "payload", "bin"))
    os.makedirs(os.path.join(work, "payload", "lib"))
    os.makedirs(srv)
    # Calibrate: how large must the contents be for a .tar.gz of size_mib?
    sample = os.path.join(work, "sample")
    make_payload(sample, 16 << 20, seed=1)
    gz = subprocess.run(["gzip", "-6", "-c", sample], stdout=subprocess.PIPE, check=True).stdout
    ratio = (16 << 20) / len(gz)
    os.unlink(sample)
    content = int((size_mib << 20) * ratio)
    print("generating %.0f MiB of contents (gzip ratio %.2f)..." % (content / 2**20, ratio), flush=True)
    make_payload(os.path.join(work, "payload", "bin", "oraid"), int(content * 0.85), seed=2)
    make_payload(os.path.join(work, "payload", "lib", "libwasmvm.x86_64.so"), int(content * 0.15), seed=3)
    os.chmod(os.path.join(work, "payload", "bin", "oraid"), 0o755)
    files = {}
    for ext, cmd in (("tar.gz", "gzip -6"), ("tar.zst", "zstd -q -3 -T0")):
        out = os.path.join(srv, "oraid." + ext)
        subprocess.run("tar -C %s -cf - bin lib | %s > %s" % (os.path.join(work, "payload"), cmd, out), shell=True,
                       check=True)
        h = hashlib.sha256()
        with open(out, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        files["oraid." + ext] = {"sha256": h.hexdigest(), "size": os.path.getsize(out)}
    shutil.rmtree(os.path.join(work, "payload"))
    meta = {"size_mib": size_mib, "generator": GENERATOR, "content": content, "files": files}
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return meta


def timed(argv, env=None, cwd=None):
    """Runs argv; returns (wall seconds, peak RSS KiB of its whole process tree). The peak comes from GNU
    time (wait4() of the command: the largest of it and its waited-for children): ru_maxrss survives
    execve(), so measuring from this Python process would count its own pre-exec fork."""
    subprocess.run(["sync"], check=True)
    rss_file = os.path.join(os.path.dirname(os.path.abspath(cwd or ".")), "rss.txt")
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-o", rss_file, "-f", "%M"] + argv, env=env, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("%s failed (%d):\n%s\n%s" % (argv[0], p.returncode, p.stdout.decode(),
                                                       p.stderr.decode()[-2000:]))
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-download"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--work", default="/var/tmp/oraivisor-bench-download")
    args = ap.parse_args()

    obtain_run = os.path.join(args.build, "tests", "download", "obtain-run")
    if not os.access(obtain_run, os.X_OK):
        raise SystemExit("build first: %s is missing" % obtain_run)
    for tool in ("curl", "sha256sum", "tar", "zstd", "gzip", "/usr/bin/time"):
        if not shutil.which(tool):
            raise SystemExit("the benchmark needs '%s'" % tool)

    meta = prepare(args.work, args.size_mib)
    srv = start_server(os.path.join(args.work, "srv"))
    base = "http://127.0.0.1:%d" % srv.port
    run_dir = os.path.join(args.work, "run")

    results = {}
    try:
        for name, info in meta["files"].items():
            url = "%s/%s" % (base, name)
            ours_env = dict(os.environ, DAEMON_HOME=run_dir, DAEMON_NAME="oraid", DAEMON_ALLOW_DOWNLOAD_BINARIES="true",
                            ORAIVISOR_LOG_LEVEL="warning")
            plan_info = json.dumps({"binaries": {"any": "%s?checksum=sha256:%s" % (url, info["sha256"])}})
            fmt = name.split(".", 1)[1]
            zstd_flag = "--zstd " if fmt == "tar.zst" else ""
            baseline = "curl -sS -f -o f %s && sha256sum f && tar %s-xf f" % (url, zstd_flag)
            r = results[name] = {"ours": [], "base": [], "ours_rss": [], "base_rss": []}
            for i in range(args.rounds):
                order = ("ours", "base") if i % 2 == 0 else ("base", "ours")
                for side in order:
                    shutil.rmtree(run_dir, ignore_errors=True)
                    os.makedirs(os.path.join(run_dir, "oraivisor", "upgrades"))
                    if side == "ours":
                        wall, rss = timed([obtain_run, os.path.join(run_dir, "oraivisor", "upgrades"), "v2", plan_info],
                                          env=ours_env)
                    else:
                        wall, rss = timed(["bash", "-c", baseline], cwd=run_dir)
                    r[side].append(wall)
                    r[side + "_rss"].append(rss)
                print("%-14s round %d: ours %.2fs, baseline %.2fs" % (name, i + 1, r["ours"][-1], r["base"][-1]),
                      flush=True)
    finally:
        srv.stop()
        shutil.rmtree(run_dir, ignore_errors=True)

    ok = True
    print()
    print("| archive | size | ours (median) | baseline (median) | ratio | ours peak RSS | baseline peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ours, basel = statistics.median(r["ours"]), statistics.median(r["base"])
        ratio = ours / basel
        ours_rss, base_rss = max(r["ours_rss"]) / 1024, max(r["base_rss"]) / 1024
        ok = ok and ratio <= 0.8 and ours_rss <= 16
        print("| %s | %.0f MiB | %.2f s | %.2f s | %.2fx | %.1f MiB | %.1f MiB |" % (
            name, meta["files"][name]["size"] / 2**20, ours, basel, ratio, ours_rss, base_rss))
    print()
    print("contents: %.0f MiB; %d rounds; targets: ratio <= 0.80x, peak RSS <= 16 MiB: %s" % (
        meta["content"] / 2**20, args.rounds, "met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
