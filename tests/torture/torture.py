# SPDX-License-Identifier: LGPL-2.1-or-later
"""The torture test of issue 5: upgrades made slow on purpose (a large data folder to back up, a slow custom
hook, a slow pre-upgrade, and in half the runs a throttled download), killed with SIGKILL at a random instant, either
oraivisor itself or one of its worker children, then restarted. After every run:

- right after the kill, `current` resolves to the old or the new version, never to nothing;
- the upgrade completes on the next start(s), and v2 runs;
- the daemon never ran twice at once (sampled from /proc all along);
- no staging, partial backup or temporary link is left, nor the upgrade record;
- the data folder is intact, and the backup (if one was made) holds exactly the data.

Usage: torture.py [--runs N] [--seed S] [--launcher exec|unit] [--keep-failed]
The unit launcher variant is run inside the systemd sandbox (tests/systemd) by its harness.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from harness import Home, Run, base_env, daemon_pids, fakechaind, kill_tree_by_home  # noqa: E402
from server import start_server  # noqa: E402

# What the daemon itself writes into data/ while it runs; everything else must stay byte for byte.
VOLATILE = {"height", "upgrade-info.json", "pre-upgrade.log", "pre-upgrade.count", "hooks.log"}


def make_template(path, rng):
    """A data folder of a realistic shape: many small files and a few larger ones, one sparse."""
    os.makedirs(os.path.join(path, "application.db"))
    os.makedirs(os.path.join(path, "blockstore.db"))
    for i in range(400):
        d = "application.db" if i % 2 else "blockstore.db"
        with open(os.path.join(path, d, f"{i:06d}.ldb"), "wb") as f:
            f.write(rng.randbytes(rng.randint(2048, 32768)))
    for i in range(3):
        with open(os.path.join(path, f"state-{i}.bin"), "wb") as f:
            f.write(rng.randbytes(8 << 20))
    with open(os.path.join(path, "sparse.wal"), "wb") as f:
        f.truncate(64 << 20)
        f.seek(32 << 20)
        f.write(b"x" * 4096)
    os.symlink("application.db", os.path.join(path, "app-link"))


def tree_digest(path, skip=VOLATILE):
    h = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        rel = os.path.relpath(root, path)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            if rel == "." and name in skip:
                continue
            p = os.path.join(root, name)
            h.update(os.path.join(rel, name).encode() + b"\0")
            st = os.lstat(p)
            h.update(oct(st.st_mode).encode())
            if os.path.islink(p):
                h.update(os.readlink(p).encode())
            else:
                with open(p, "rb") as f:
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            break
                        h.update(b)
    return h.hexdigest()


class Sampler(threading.Thread):
    """Counts the home's daemon processes every few ms; remembers the most seen at once."""

    def __init__(self, home):
        super().__init__(daemon=True)
        self.home = home
        self.most = 0
        self.stop = False

    def run(self):
        while not self.stop:
            self.most = max(self.most, len(daemon_pids(self.home)))
            time.sleep(0.003)


def worker_children(pid, home):
    """oraivisor's children other than the daemon: the backup worker, hook shells, pre-upgrade."""
    out = []
    daemons = set(daemon_pids(home))
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return out
    for k in kids:
        if k in daemons:
            continue
        try:
            with open(f"/proc/{k}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        # The daemon's own pre-upgrade run is a worker too: it is not "start".
        if b"start" in cmd:
            continue
        out.append(k)
    return out


def current_ok(home):
    link = os.path.join(home.root, "current")
    target = os.readlink(link)
    if target not in ("genesis", "upgrades/v2"):
        return False, f"current -> {target}"
    if not os.access(os.path.join(home.root, target, "bin", home.name), os.X_OK):
        return False, f"current -> {target}, which has no binary"
    return True, target


def leftovers(home):
    bad = []
    for name in os.listdir(home.root):
        if name.startswith(".current.tmp") or name == "upgrade-in-progress.json":
            bad.append(name)
    up = os.path.join(home.root, "upgrades")
    for name in os.listdir(up) if os.path.isdir(up) else []:
        if name.startswith(".staging"):
            bad.append("upgrades/" + name)
    for name in os.listdir(home.path):
        if name.startswith(".partial-"):
            bad.append(name)
    return bad


class Mirror:
    """A throttled loopback mirror serving v2 as a .tar.gz, so that the download step takes about a second."""

    def __init__(self, root):
        import io
        import tarfile
        os.makedirs(root, exist_ok=True)
        with open(fakechaind("v2"), "rb") as f:
            binary = f.read()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            for name, data, mode in (("bin/fakechaind", binary, 0o755), ("lib/libextra.so", b"lib" * 1000, 0o644)):
                ti = tarfile.TarInfo(name)
                ti.size, ti.mode = len(data), mode
                t.addfile(ti, io.BytesIO(data))
        archive = buf.getvalue()
        with open(os.path.join(root, "v2.tar.gz"), "wb") as f:
            f.write(archive)
        self.server = start_server(root)
        rate = max(4096, len(archive))  # about one second
        url = f"http://127.0.0.1:{self.server.port}/slow/{rate}/v2.tar.gz?checksum=sha256:{hashlib.sha256(archive).hexdigest()}"
        self.info = json.dumps({"binaries": {"linux/amd64": url, "linux/arm64": url}})

    def stop(self):
        self.server.stop()


def one_run(n, rng, template, template_digest, args, counts, mirror):
    download = mirror is not None and rng.random() < 0.5
    home = Home(upgrades=() if download else ("v2",))
    ok = False
    try:
        shutil.copytree(template, home.data(), symlinks=True)
        with open(home.data("height"), "w") as f:
            f.write("1\n")
        hook = os.path.join(home.root, "slow-hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\nsleep 0.3\n")
        os.chmod(hook, 0o755)
        env = base_env(home, FAKECHAIN_PLANS="v2@4", FAKECHAIN_BLOCK_INTERVAL="20", UNSAFE_SKIP_BACKUP="false",
                       DAEMON_RESTART_AFTER_UPGRADE="true", ORAIVISOR_CUSTOM_PREUPGRADE="slow-hook.sh",
                       FAKECHAIN_PREUPGRADE_SLEEP="300", DAEMON_SHUTDOWN_GRACE="5s", ORAIVISOR_LAUNCHER=args.launcher)
        if download:
            env.update(DAEMON_ALLOW_DOWNLOAD_BINARIES="true", FAKECHAIN_PLAN_INFO=mirror.info)
            counts["download runs"] += 1
        sampler = Sampler(home)
        sampler.start()

        r = Run(home, env=env)
        # The upgrade starts at ~0.1 s and takes about a second: kill somewhere in [0, 1.6 s].
        delay = rng.uniform(0.0, 2.6 if download else 1.6)
        target = "oraivisor" if rng.random() < 0.6 else "worker"
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and r.proc.poll() is None:
            time.sleep(0.005)
        victim = None
        if target == "worker":
            # A worker only exists during some steps: wait a little for one, else kill oraivisor.
            end = time.monotonic() + 0.5
            while victim is None and time.monotonic() < end and r.proc.poll() is None:
                kids = worker_children(r.proc.pid, home)
                victim = kids[0] if kids else None
                if victim is None:
                    time.sleep(0.002)
            if victim is None:
                target = "oraivisor"
        if target == "worker":
            try:
                os.kill(victim, signal.SIGKILL)
                counts["worker kills"] += 1
            except ProcessLookupError:
                target = "oraivisor"
        if target == "oraivisor":
            r.kill()
            counts["oraivisor kills"] += 1
            good, what = current_ok(home)
            if not good:
                raise AssertionError(f"after killing oraivisor: {what}")
            counts["current=" + what] += 1
        else:
            # The engine sees its worker die: the upgrade fails cleanly (81) or the run goes on.
            try:
                r.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            if r.proc.poll() is None:
                r.kill()
            else:
                r.wait()
            good, what = current_ok(home)
            if not good:
                raise AssertionError(f"after killing a worker: {what}")

        # Restart until v2 runs (an upgrade failed by a killed worker needs one more start).
        for attempt in range(3):
            r2 = Run(home, env=env)
            if r2.wait_for("fakechaind v2 starting", timeout=60):
                break
            r2.kill()
            if attempt == 2:
                raise AssertionError(f"v2 never started; last output:\n{r2.text()[-3000:]}")
        time.sleep(0.1)
        r2.signal(signal.SIGTERM)
        rc = r2.wait(timeout=30)
        if rc != 0:
            raise AssertionError(f"final oraivisor exited {rc}:\n{r2.text()[-3000:]}")

        sampler.stop = True
        sampler.join()
        if sampler.most > 1:
            raise AssertionError(f"{sampler.most} daemons ran at once")
        good, what = current_ok(home)
        if not good or what != "upgrades/v2":
            raise AssertionError(f"at the end: {what}")
        left = leftovers(home)
        if left:
            raise AssertionError(f"left behind: {left}")
        if tree_digest(home.data()) != template_digest:
            raise AssertionError("the data folder changed")
        # An interrupted upgrade resumes with the backup it made; a failed one (its worker killed) is
        # started afresh by the next start, and may add a second complete backup.
        backups = [b for b in os.listdir(home.path) if b.startswith("data-backup-")]
        if not backups or (target == "oraivisor" and len(backups) != 1):
            raise AssertionError(f"unexpected backups after a {target} kill: {backups}")
        for b in backups:
            if tree_digest(os.path.join(home.path, b)) != template_digest:
                raise AssertionError(f"the backup {b} differs from the data")
        with open(os.path.join(home.root, "upgrades/v2/upgrade-info.json")) as f:
            if json.load(f)["name"] != "v2":
                raise AssertionError("plan not recorded")
        ok = True
        counts["passed"] += 1
    finally:
        kill_tree_by_home(home)
        if ok or not args.keep_failed:
            home.cleanup()
        else:
            print(f"run {n}: kept {home.path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=int(os.environ.get("TORTURE_RUNS", "200")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("TORTURE_SEED", str(int(time.time())))))
    ap.add_argument("--launcher", default="exec")
    ap.add_argument("--keep-failed", action="store_true")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    print(f"torture: {args.runs} runs, seed {args.seed}, launcher {args.launcher}", flush=True)
    tdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"oraivisor-torture-template-{os.getpid()}")
    shutil.rmtree(tdir, ignore_errors=True)
    make_template(tdir, random.Random(1))
    digest = tree_digest(tdir)

    from collections import Counter
    counts = Counter()
    failures = []
    t0 = time.monotonic()
    mirror = Mirror(tdir + "-mirror")
    try:
        for n in range(args.runs):
            try:
                one_run(n, rng, tdir, digest, args, counts, mirror)
            except Exception as e:  # noqa: BLE001 - every failure is reported with its run number
                failures.append((n, str(e)))
                print(f"run {n}: FAILED: {e}", flush=True)
            if (n + 1) % 10 == 0:
                print(f"  {n + 1}/{args.runs} runs, {len(failures)} failed, {time.monotonic() - t0:.0f}s", flush=True)
    finally:
        mirror.stop()
        shutil.rmtree(tdir, ignore_errors=True)
        shutil.rmtree(tdir + "-mirror", ignore_errors=True)

    print("torture summary:", dict(sorted(counts.items())), f"failures={len(failures)}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
