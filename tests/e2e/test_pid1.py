# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exec mode as a container's PID 1 and as a child subreaper: orphans reaped, exit statuses exact, signals
forwarded, and what the node leaves behind stopped with it (KillMode=mixed). The node is a shell wrapper
around fakechaind, as operators' wrappers and pipelines are."""

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, fakechaind, installed_oraivisor, kill_tree_by_home  # noqa: E402

# The wrapper leaves TEST_ORPHANS processes behind (double-forked: their parent exits at once), each
# waiting for the file TEST_RELEASE (if set; else for the node's pid to go), then runs the real node.
WRAPPER = r"""#!/bin/sh
node=$$
i=0
while [ "$i" -lt "${TEST_ORPHANS:-0}" ]; do
        if [ -n "$TEST_RELEASE" ]; then
                ( sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' orphan "$TEST_RELEASE" & )
        else
                ( sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.01; done' orphan "$node" & )
        fi
        i=$((i + 1))
done
if [ -n "$TEST_HELPER_PIDFILE" ]; then
        # A helper that leaves the node's process group and session and is double-forked.
        ( setsid sh -c 'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 1000' helper "$TEST_HELPER_PIDFILE" & )
fi
if [ -n "$TEST_READ_STDIN" ]; then
        read -r line
        echo "stdin read, status $?"
fi
exec "$0-real" "$@"
"""

# A wrapper that keeps the real node as its child (not exec): stopping the wrapper leaves the node.
BACKGROUND_WRAPPER = """#!/bin/sh
"$0-real" "$@" &
wait
"""


def stat(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1])


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children(pid):
    out = []
    for p in all_pids():
        s = stat(p)
        if s and s[1] == pid:
            out.append((p, s[0]))
    return out


def pid_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def zombies_in_ns(ns):
    out = []
    for p in all_pids():
        if pid_ns(p) == ns:
            s = stat(p)
            if s and s[0] == "Z":
                out.append(p)
    return out


def wait_until(predicate, timeout=15, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)



def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()

class WrapperCase(unittest.TestCase):
    wrapper = WRAPPER

    def setUp(self):
        self.home = Home(upgrades=("v2",))
        real = os.path.join(self.home.root, "genesis", "bin", "fakechaind")
        os.rename(real, real + "-real")
        with open(real, "w") as f:
            f.write(self.wrapper)
        os.chmod(real, 0o755)
        self.release = os.path.join(self.home.path, "release")

    def tearDown(self):
        kill_tree_by_home(self.home)
        if self._outcome.success if hasattr(self._outcome, "success") else True:
            self.home.cleanup()
        else:
            print(f"\nkept {self.home.path} for inspection", file=sys.stderr)

    def env(self, **kw):
        base = {"FAKECHAIN_PLANS": "", "FAKECHAIN_TERM_EXIT": "3"}
        base.update(kw)
        return base_env(self.home, **base)

    def real_pids(self):
        """The wrapped genesis node (fakechaind-real), wherever it runs."""
        real = os.path.join(self.home.root, "genesis", "bin", "fakechaind-real")
        out = []
        for p in all_pids():
            try:
                if os.readlink(f"/proc/{p}/exe") == real:
                    out.append(p)
            except OSError:
                pass
        return out


class Pid1Case(WrapperCase):
    """oraivisor as PID 1 of a PID namespace of its own, as a container's entrypoint."""

    def start(self, env, args=("start",), mount_proc=True):
        cmd = ["--pid", "--fork"] + (["--mount-proc"] if mount_proc else [])
        if os.geteuid() != 0:
            cmd = ["--user", "--map-root-user"] + cmd
        r = Run(self.home, (*cmd, installed_oraivisor(), *args), env, binary="unshare")
        # oraivisor is unshare's only child; its pid namespace is the one we count zombies in.
        kids = wait_until(lambda: [p for p, _ in children(r.proc.pid)], timeout=10)
        self.assertTrue(kids, r.text())
        r.pid = kids[0]
        r.ns = wait_until(lambda: pid_ns(r.pid) if pid_ns(r.pid) != pid_ns(os.getpid()) else None, timeout=10)
        self.assertTrue(r.ns, "oraivisor did not get a PID namespace of its own")
        return r

    def assertNoZombies(self, r):
        left = wait_until(lambda: not zombies_in_ns(r.ns), timeout=15) or zombies_in_ns(r.ns)
        self.assertEqual(left, True, f"zombies left in oraivisor's namespace: {left}\n{r.text()}")


class TestPid1(Pid1Case):
    def test_orphans_reaped_and_sigterm_honoured(self):
        n = 30
        r = self.start(self.env(TEST_ORPHANS=n, TEST_RELEASE=self.release))
        self.assertTrue(r.wait_for("height=2"), r.text())
        # The orphans came to PID 1: oraivisor, the daemon and n orphans are all the namespace holds.
        got = wait_until(lambda: len([p for p in all_pids() if pid_ns(p) == r.ns]) >= n + 2)
        self.assertTrue(got, r.text())
        self.assertEqual(len([p for p, _ in children(r.pid)]), n + 1)
        with open(self.release, "w"):
            pass
        # They exit; none stays a zombie (a zombie is still a child).
        only_node = wait_until(lambda: [p for p, _ in children(r.pid)] == self.real_pids())
        self.assertTrue(only_node, f"children of oraivisor: {children(r.pid)}\n{r.text()}")
        self.assertNoZombies(r)
        os.kill(r.pid, signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())
        self.assertIn("shutting down gracefully", r.text())

    def test_exit_status_exact_while_orphans_die(self):
        # Orphans that end when the node ends (and get SIGKILL with it): their exits and the node's come
        # in the same instant, over and over; the node's status is never taken by the reaping.
        for i in range(10):
            crash = i % 2 == 1
            with self.subTest(run=i, crash=crash):
                extra = {"FAKECHAIN_CRASH_SIGNAL": "SEGV"} if crash else {"FAKECHAIN_STOP_EXIT": "7"}
                # Every run from height 0 (the node persists its height in data/height, and at height 3
                # already it would stop at once), with blocks of 200 ms: the node lives 0.6 s, long enough
                # for start() to see oraivisor's namespace on a loaded machine.
                try:
                    os.unlink(self.home.data("height"))
                except FileNotFoundError:
                    pass
                r = self.start(self.env(TEST_ORPHANS=20, FAKECHAIN_STOP_AT="3", FAKECHAIN_BLOCK_INTERVAL="200", **extra))
                rc = r.wait(timeout=30)
                self.assertEqual(rc, 128 + signal.SIGSEGV if crash else 7, r.text())
                self.assertIn("exits with status", r.text())
                # and what it left behind was killed with it
                self.assertIn("left behind", r.text())

    def test_upgrade_and_restart(self):
        # The upgrade's workers and hooks (a backup, the custom script, `pre-upgrade` asking twice for a
        # retry) report their statuses exactly while the orphans of the custom script exit around them.
        script = os.path.join(self.home.root, "prepare.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9; do for j in 0 2 4 6 8; do ( sleep 0.$j$i & ); done; done\n")
        os.chmod(script, 0o755)
        r = self.start(self.env(TEST_ORPHANS=10, TEST_RELEASE=self.release, FAKECHAIN_PLANS="v2@6",
                                DAEMON_RESTART_AFTER_UPGRADE="true", UNSAFE_SKIP_BACKUP="false",
                                ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh", FAKECHAIN_PREUPGRADE_EXITS="31,31,0",
                                DAEMON_PREUPGRADE_MAX_RETRIES="2"))
        self.assertTrue(r.wait_for("fakechaind v2 starting", timeout=60), r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        with open(self.home.data("pre-upgrade.count")) as f:
            self.assertEqual(f.read().strip(), "3")
        self.assertTrue([d for d in os.listdir(self.home.path) if d.startswith(f"data-backup-{self.home.name}@") and "-v2-" in d], r.text())
        self.assertTrue(r.wait_for("height=8"), r.text())
        # The genesis node's orphans went with it (KillMode=mixed), the script's ended by themselves: the
        # new node is all that is left, no zombie anywhere.
        self.assertRegex(r.text(), r"Killed [1-9][0-9] processes the daemon")
        self.assertTrue(wait_until(lambda: len(children(r.pid)) == 1), f"{children(r.pid)}\n{r.text()}")
        self.assertNoZombies(r)
        os.kill(r.pid, signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())

    def test_without_a_proc_of_its_own(self):
        # /proc still shows the parent namespace: orphans are reaped all the same (waitid needs no /proc),
        # what the node leaves is found by its process group, and oraivisor says so.
        n = 10
        r = self.start(self.env(TEST_ORPHANS=n, TEST_RELEASE=self.release), mount_proc=False)
        self.assertTrue(r.wait_for("height=2"), r.text())
        self.assertTrue(wait_until(lambda: len(children(r.pid)) == n + 1), f"{children(r.pid)}\n{r.text()}")
        with open(self.release, "w"):
            pass
        self.assertTrue(wait_until(lambda: [p for p, _ in children(r.pid)] == self.real_pids()),
                        f"children of oraivisor: {children(r.pid)}\n{r.text()}")
        self.assertNoZombies(r)
        os.kill(r.pid, signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())
        self.assertIn("/proc does not show this PID namespace", r.text())

    def test_sighup_stops_gracefully(self):
        # A PID 1 without a handler would drop SIGHUP; the node gets SIGTERM, its status is ours.
        r = self.start(self.env())
        self.assertTrue(r.wait_for("height=2"), r.text())
        os.kill(r.pid, signal.SIGHUP)
        self.assertEqual(r.wait(timeout=20), 3, r.text())
        self.assertIn("Received SIGHUP", r.text())
        self.assertIn("shutting down gracefully", r.text())


class TestSubreaper(WrapperCase):
    """A plain exec run (not PID 1): oraivisor makes itself a child subreaper."""

    def test_orphans_come_to_oraivisor_and_are_reaped(self):
        n = 20
        r = Run(self.home, env=self.env(TEST_ORPHANS=n, TEST_RELEASE=self.release))
        self.assertTrue(r.wait_for("height=2"), r.text())
        got = wait_until(lambda: len(children(r.proc.pid)) >= n + 1)
        self.assertTrue(got, f"the orphans did not come to oraivisor: {children(r.proc.pid)}\n{r.text()}")
        with open(self.release, "w"):
            pass
        # They exit and are reaped: the node is the only child left (a zombie is still a child).
        only_node = wait_until(lambda: [p for p, _ in children(r.proc.pid)] == self.real_pids())
        self.assertTrue(only_node, f"children of oraivisor: {children(r.proc.pid)}")
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())

    def test_double_forked_helper_stopped_with_the_node(self):
        pidfile = os.path.join(self.home.path, "helper.pid")
        r = Run(self.home, env=self.env(TEST_HELPER_PIDFILE=pidfile))
        self.assertTrue(r.wait_for("height=2"), r.text())
        self.assertTrue(wait_until(lambda: os.path.exists(pidfile)), r.text())
        with open(pidfile) as f:
            helper = int(f.read())
        # It left the node's process group and session, and its parent exited: it came to us.
        self.assertEqual(wait_until(lambda: (stat(helper) or ("", 0))[1] == r.proc.pid), True,
                         f"helper {helper}: {stat(helper)}")
        self.assertNotEqual(os.getpgid(helper), os.getpgid(self.real_pids()[0]))
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())
        # Reaped by oraivisor before it exited: nothing left, not even a zombie.
        self.assertIsNone(stat(helper), f"the helper {helper} outlived the node")
        self.assertIn("left behind", r.text())

    def test_sighup_stops_gracefully(self):
        r = Run(self.home, env=self.env())
        self.assertTrue(r.wait_for("height=2"), r.text())
        r.signal(signal.SIGHUP)
        self.assertEqual(r.wait(timeout=20), 3, r.text())
        self.assertIn("shutting down gracefully", r.text())

    def test_terminal(self):
        # oraivisor in the foreground of a terminal; the node in a group of its own, reading stdin. A
        # background group that reads the terminal would be stopped (SIGTTIN) for good: it reads
        # /dev/null instead. Ctrl-C reaches oraivisor, which passes SIGINT on once.
        master, slave = pty.openpty()
        out = open(os.path.join(self.home.path, "tty.out"), "wb")

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen([installed_oraivisor(), "start"], env=self.env(TEST_READ_STDIN="1"), stdin=slave,
                                stdout=out, stderr=subprocess.STDOUT, preexec_fn=ctty)
        os.close(slave)
        log = os.path.join(self.home.path, "tty.out")

        def text():
            with open(log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        try:
            self.assertTrue(wait_until(lambda: "stdin read, status 1" in text()), text())
            self.assertTrue(wait_until(lambda: "height=2" in text()), text())
            os.write(master, b"\x03")
            self.assertEqual(proc.wait(timeout=20), 3, text())
            self.assertEqual(text().count("shutting down gracefully"), 1, text())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()
            os.close(master)


class TestLeftovers(WrapperCase):
    """A node that is a wrapper keeping the real node as its child (issue: the child kept the lock)."""

    wrapper = BACKGROUND_WRAPPER

    def test_upgrade_completes_and_next_start_does_not_wait(self):
        env = self.env(FAKECHAIN_PLANS="v2@5", DAEMON_SHUTDOWN_GRACE="1s")
        r = Run(self.home, env=env)
        self.assertEqual(r.wait(timeout=40), 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        # The wrapper got SIGTERM and exited; the real node it left got SIGKILL before the upgrade began.
        self.assertIn("left behind", r.text())
        self.assertEqual(self.real_pids(), [], "the wrapped genesis node outlived oraivisor")
        t0 = time.monotonic()
        r2 = Run(self.home, env=env)
        self.assertTrue(r2.wait_for("fakechaind v2 starting", timeout=10), r2.text())
        print(f"\nnext start ran v2 after {time.monotonic() - t0:.2f}s", file=sys.stderr)
        self.assertNotIn("still runs", r2.text())
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 3, r2.text())

    def test_stop_kills_the_group(self):
        # A stop by SIGTERM: the wrapper dies of it, its child gets SIGKILL; nothing holds the lock after.
        # The node logs to a file of its own here, so that nothing (no SIGPIPE) stops it but us.
        with open(os.path.join(self.home.root, "genesis", "bin", "fakechaind"), "w") as f:
            f.write('#!/bin/sh\n"$0-real" "$@" >>"$DAEMON_HOME/node.log" 2>&1 &\nwait\n')
        log = os.path.join(self.home.path, "node.log")
        r = Run(self.home, env=self.env())
        self.assertTrue(wait_until(lambda: os.path.exists(log) and b"height=2" in read_bytes(log)), r.text())
        real = self.real_pids()
        self.assertEqual(len(real), 1)
        self.assertEqual(os.getpgid(real[0]), os.getpgid(stat(real[0])[1]), "the node is in the wrapper's group")
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 128 + signal.SIGTERM, r.text())  # the wrapper's own end
        self.assertEqual(self.real_pids(), [], "the wrapped node outlived oraivisor")
        self.assertIn("Killed 1 process the daemon", r.text())
        r2 = Run(self.home, env=self.env())
        # The next start runs the node again at once (nothing holds the lock): a second banner in its log.
        # (Not "a banner after the last height=2": the banner itself says height=<where it stopped>.)
        self.assertTrue(wait_until(lambda: read_bytes(log).count(b"fakechaind v1 starting") >= 2, timeout=10),
                        r2.text())
        r2.signal(signal.SIGTERM)
        r2.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
