#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Idle cost of the chain watcher (issue 13): oraivisor in exec mode running fakechaind (a block every 5 s,
one log line each), with the watcher on (a CometBFT RPC stand-in on loopback, tests/rpc/standin.py, holding
a scheduled plan whose binary is installed: the steady state, two requests a poll) and off
(ORAIVISOR_NODE_RPC=off), side by side in one run. After a warm-up (the first poll done), over a window:

  RSS          VmRSS of oraivisor at the end of the window (PSS and private pages beside it: most of what
               libcurl adds is its 32 libraries' shared file pages)
  CPU          user+system time of oraivisor in the window, scaled to an hour
  wake-ups     context switches of oraivisor's threads (voluntary + involuntary) per minute: each return
               to the event loop from a wait is one
  polls        status requests the stand-in answered in the window

  bench/chain-watch/run.py [--build build] [--seconds 180] [--interval 1min]

Targets: at most 2 MiB more RSS with the watcher on; no wake-up besides the polls and the watchdog (the
extra wake-ups per minute are printed per poll). Exit status 1 when the RSS target is missed."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "rpc"))
import standin  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def switches(pid):
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    n += int(line.split()[1])
    return n


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rollup(pid):
    """Pss and private (clean + dirty) KiB from smaps_rollup: what the process costs beyond shared pages."""
    v = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                v[parts[0][:-1]] = int(parts[1])
    return v.get("Pss", 0), v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)


def curl_loaded(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libcurl" in f.read()


def make_home(build):
    home = tempfile.mkdtemp(prefix="oraivisor-bench-cw-", dir="/var/tmp")
    for rel, version in (("genesis", "v1"), ("upgrades/v2", "v2")):
        d = os.path.join(home, "oraivisor", rel, "bin")
        os.makedirs(d)
        dst = os.path.join(d, "fakechaind")
        with open(os.path.join(build, "tests", "fakechaind", f"fakechaind-{version}"), "rb") as s, open(dst, "wb") as o:
            o.write(s.read())
        os.chmod(dst, 0o755)
    return home


def measure(build, on, seconds, interval):
    home = make_home(build)
    chain = standin.Chain(height=1000, block_seconds=5, plan=("v2", 1000 + 3 * 17280, ""))
    srv = standin.start(chain)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR_", "FAKECHAIN_", "NOTIFY_SOCKET", "INVOCATION_ID"))}
    env.update(DAEMON_HOME=home, DAEMON_NAME="fakechaind", ORAIVISOR_LAUNCHER="exec", ORAIVISOR_METRICS_DIR="off",
               UNSAFE_SKIP_BACKUP="true", FAKECHAIN_BLOCK_INTERVAL="5000", FAKECHAIN_PLANS="",
               ORAIVISOR_CHAIN_POLL_INTERVAL=interval,
               ORAIVISOR_NODE_RPC=f"http://127.0.0.1:{srv.port}" if on else "off")
    log = open(os.path.join(home, "out"), "wb")
    p = subprocess.Popen([os.path.join(build, "src", "oraivisor", "oraivisor"), "start"], env=env, stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        want = b"Watching the chain" if on else b"committed state height=1"
        while time.monotonic() < deadline:
            with open(os.path.join(home, "out"), "rb") as f:
                if want in f.read():
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"oraivisor did not get going ({'on' if on else 'off'})")
        time.sleep(2)
        c0, s0, polls0, t0 = cpu_ticks(p.pid), switches(p.pid), chain.requests.count("/status"), time.monotonic()
        time.sleep(seconds)
        c1, s1, polls1, t1 = cpu_ticks(p.pid), switches(p.pid), chain.requests.count("/status"), time.monotonic()
        rss = rss_kib(p.pid)
        pss, private = rollup(p.pid)
        curl = curl_loaded(p.pid)
        minutes = (t1 - t0) / 60
        return {
            "rss": rss,
            "pss": pss,
            "private": private,
            "cpu_ms_h": (c1 - c0) * 1000 / TICK * 60 / minutes,
            "wakeups_min": (s1 - s0) / minutes,
            "polls": polls1 - polls0,
            "curl": curl,
        }
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        standin.stop(srv)
        subprocess.run(["rm", "-rf", home])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=180)
    ap.add_argument("--interval", default="1min")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    off = measure(build, False, a.seconds, a.interval)
    on = measure(build, True, a.seconds, a.interval)
    print(f"idle cost of the chain watcher, {a.seconds} s window, ORAIVISOR_CHAIN_POLL_INTERVAL={a.interval}, "
          "node: fakechaind, a block (one log line) every 5 s")
    print(f"{'':24}{'watcher off':>14}{'watcher on':>14}{'difference':>14}")
    print(f"{'RSS (KiB)':24}{off['rss']:>14}{on['rss']:>14}{on['rss'] - off['rss']:>+14}")
    print(f"{'PSS (KiB)':24}{off['pss']:>14}{on['pss']:>14}{on['pss'] - off['pss']:>+14}")
    print(f"{'private (KiB)':24}{off['private']:>14}{on['private']:>14}{on['private'] - off['private']:>+14}")
    print(f"{'CPU (ms per hour)':24}{off['cpu_ms_h']:>14.0f}{on['cpu_ms_h']:>14.0f}{on['cpu_ms_h'] - off['cpu_ms_h']:>+14.0f}")
    print(f"{'wake-ups per minute':24}{off['wakeups_min']:>14.1f}{on['wakeups_min']:>14.1f}"
          f"{on['wakeups_min'] - off['wakeups_min']:>+14.1f}")
    print(f"{'polls in the window':24}{off['polls']:>14}{on['polls']:>14}")
    print(f"{'libcurl mapped':24}{str(off['curl']):>14}{str(on['curl']):>14}")
    if on["polls"]:
        per_poll = (on["wakeups_min"] - off["wakeups_min"]) * (a.seconds / 60) / on["polls"]
        print(f"extra wake-ups per poll (two requests): {per_poll:.1f}")
    ok = on["rss"] - off["rss"] <= 2048
    print("target: at most 2 MiB more RSS:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
