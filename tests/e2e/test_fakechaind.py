# SPDX-License-Identifier: LGPL-2.1-or-later
"""Self-test of the fake chain daemon (tests/fakechaind): the behaviour the oraivisor tests rely on.

Runs the built binaries from $ORAIVISOR_BUILD_ROOT/tests/fakechaind (default: build/), each in a throw-away
home folder; builds nothing itself."""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_ROOT = os.environ.get("ORAIVISOR_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def binary(version):
    p = os.path.join(BUILD_ROOT, "tests", "fakechaind", f"fakechaind-{version}")
    if not os.access(p, os.X_OK):
        raise RuntimeError(f"{p} is missing: build the project first (ninja -C {BUILD_ROOT})")
    return p


class FakeTestCase(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="fakechaind-test-")
        self.procs = []
        # Copied under another name, as the tests install it: the program must not depend on its file name.
        self.bins = {}
        for v in ("v1", "v2", "v3"):
            d = os.path.join(self.home, "bin-" + v)
            os.mkdir(d)
            self.bins[v] = os.path.join(d, "oraid")
            shutil.copy(binary(v), self.bins[v])

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.home, ignore_errors=True)

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKECHAIN_", "DAEMON_"))}
        env.update({"FAKECHAIN_HOME": self.home, "FAKECHAIN_BLOCK_INTERVAL": "10"})
        env.update({k: str(v) for k, v in kw.items()})
        return env

    def run_fake(self, version="v1", args=("start",), timeout=20, **kw):
        return subprocess.run([self.bins[version], *args], env=self.env(**kw), capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def spawn(self, version="v1", args=("start",), **kw):
        """Runs in the background; output goes to files that wait_for() reads."""
        n = len(self.procs)
        out = open(os.path.join(self.home, f"out.{n}"), "wb")
        err = open(os.path.join(self.home, f"err.{n}"), "wb")
        p = subprocess.Popen([self.bins[version], *args], env=self.env(**kw), stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        p.out_path, p.err_path = out.name, err.name
        self.procs.append(p)
        return p

    @staticmethod
    def output(p):
        with open(p.out_path, "rb") as o, open(p.err_path, "rb") as e:
            return (o.read() + e.read()).decode("utf-8", "replace")

    def wait_for(self, p, needle, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output(p):
                return True
            if p.poll() is not None:
                return needle in self.output(p)
            time.sleep(0.01)
        return False

    # ppoll()'s number, for reading /proc/PID/syscall.
    PPOLL = {"x86_64": 271, "aarch64": 73}

    def wait_for_endless_wait(self, p, timeout=10):
        """Waits until p is blocked in ppoll() without a timeout (its third argument, the timespec, NULL):
        fakechaind's wait for signals only; the waits between blocks have a timeout."""
        nr = self.PPOLL.get(os.uname().machine)
        self.assertIsNotNone(nr, f"add ppoll()'s system call number for {os.uname().machine} to PPOLL")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and p.poll() is None:
            with open(f"/proc/{p.pid}/syscall") as f:
                fields = f.read().split()
            if len(fields) > 3 and fields[0] == str(nr) and int(fields[3], 16) == 0:
                return True
            time.sleep(0.01)
        return False

    def data(self, name):
        return os.path.join(self.home, "data", name)

    def read_data(self, name):
        with open(self.data(name)) as f:
            return f.read()

    def write_height(self, h):
        os.makedirs(os.path.join(self.home, "data"), exist_ok=True)
        with open(self.data("height"), "w") as f:
            f.write(f"{h}\n")


class TestIdentity(FakeTestCase):
    def test_version_command(self):
        for v in ("v1", "v2", "v3"):
            r = self.run_fake(v, ("version",))
            self.assertEqual((r.returncode, r.stdout), (0, f"{v}\n".encode()))
        r = self.run_fake("v2", ("version",), FAKECHAIN_VERSION_EXIT="5")
        self.assertEqual((r.returncode, r.stdout), (5, b"v2\n"))

    def test_start_banner_and_env(self):
        r = self.run_fake("v1", ("start", "--home", self.home, "--x-flag"), FAKECHAIN_STOP_AT="1",
                          FAKECHAIN_ECHO_ENV="LD_LIBRARY_PATH,MY_VAR,UNSET_VAR", LD_LIBRARY_PATH="/opt/lib:/x",
                          MY_VAR="a b=c")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertEqual(r.stdout, b"", "logs go to stderr by default")
        self.assertRegex(err, r"INF fakechaind v1 starting \(version=v1 pid=\d+ uid=%d user=\S+ gid=%d height=0 "
                         r"home=%s " % (os.getuid(), os.getgid(), re.escape(self.home)))
        self.assertIn("ld_library_path=/opt/lib:/x", err)
        self.assertIn(f"args: start --home {self.home} --x-flag", err)
        self.assertIn("env LD_LIBRARY_PATH=/opt/lib:/x", err)
        self.assertIn("env MY_VAR=a b=c", err)
        self.assertIn("env UNSET_VAR is not set", err)
        r = self.run_fake("v2", FAKECHAIN_STOP_AT="1")
        self.assertIn("fakechaind v2 starting (version=v2 ", r.stderr.decode())
        self.assertNotIn("fakechaind v1", r.stderr.decode())

    def test_log_stream_stdout(self):
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="2", FAKECHAIN_LOG_STREAM="stdout")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b"")
        self.assertIn(b"committed state height=2 module=state", r.stdout)

    def test_home_precedence(self):
        other = os.path.join(self.home, "other")
        third = os.path.join(self.home, "third")
        os.mkdir(third)
        env = dict(FAKECHAIN_STOP_AT="1", DAEMON_HOME=third)
        self.assertEqual(self.run_fake("v1", ("start", "--home", other), **env).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(other, "data", "height")))
        self.assertEqual(self.run_fake("v1", **env).returncode, 0)  # FAKECHAIN_HOME
        self.assertTrue(os.path.exists(self.data("height")))
        e = self.env(**env)
        del e["FAKECHAIN_HOME"]
        r = subprocess.run([self.bins["v1"], "start"], env=e, capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(third, "data", "height")))

    def test_bad_input(self):
        cases = [
            (("frobnicate",), {}, "unknown command 'frobnicate'"),
            ((), {}, "missing command"),
            (("start", "--log_format", "xml"), {}, "--log_format 'xml' is not valid"),
            (("start", "--unsafe-skip-upgrades", "x"), {}, "--unsafe-skip-upgrades 'x' is not a block height"),
            (("start", "--home"), {}, "flag '--home' needs a value"),
            (("start",), {"FAKECHAIN_BLOCK_INTERVAL": "fast"}, "FAKECHAIN_BLOCK_INTERVAL='fast' is not valid"),
            (("start",), {"FAKECHAIN_PLANS": "v2"}, "FAKECHAIN_PLANS: 'v2' is not <name>@<height>"),
            (("start",), {"FAKECHAIN_PLANS": "v2@20 v3@10"}, "plan 'v3@10' is not above the previous plan's height 20"),
            (("start",), {"FAKECHAIN_PLANS": "v2@1 v2@2"}, "plan 'v2' is listed twice"),
            (("start",), {"FAKECHAIN_HALT": "stop"}, "FAKECHAIN_HALT='stop' is not valid: expected 'hang' or 'exit'"),
            (("start",), {"FAKECHAIN_ANNOUNCE_ORDER": "random"},
             "FAKECHAIN_ANNOUNCE_ORDER='random' is not valid: expected 'file-first' or 'log-first'"),
            (("start",), {"FAKECHAIN_COLOR": "blue"}, "FAKECHAIN_COLOR='blue' is not a boolean"),
            (("start",), {"FAKECHAIN_TERM_EXIT": "300"}, "FAKECHAIN_TERM_EXIT='300' is not valid"),
            (("start",), {"FAKECHAIN_LONG_ANNOUNCE": "1G"}, "FAKECHAIN_LONG_ANNOUNCE='1G' is not valid"),
            (("start",), {"FAKECHAIN_STOP_AT": "3", "FAKECHAIN_CRASH_SIGNAL": "CHLD"},
             "FAKECHAIN_CRASH_SIGNAL='CHLD' is not a signal that kills a process"),
            (("pre-upgrade",), {"FAKECHAIN_PREUPGRADE_EXITS": "31,x"}, "'x' is not an exit status"),
        ]
        for args, env, message in cases:
            with self.subTest(args=args, env=env):
                r = self.run_fake("v1", args, **env)
                self.assertEqual(r.returncode, 2, r.stderr)
                lines = r.stderr.decode().splitlines()
                self.assertEqual(len(lines), 1, lines)
                self.assertTrue(lines[0].startswith("fakechaind: "), lines)
                self.assertIn(message, lines[0])
        e = self.env()
        del e["FAKECHAIN_HOME"]
        r = subprocess.run([self.bins["v1"], "start"], env=e, capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"no home folder: pass --home DIR, or set FAKECHAIN_HOME or DAEMON_HOME", r.stderr)


class TestHeight(FakeTestCase):
    def test_height_persists_across_versions(self):
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="5", FAKECHAIN_STOP_EXIT="7")
        self.assertEqual(r.returncode, 7, r.stderr)
        err = r.stderr.decode()
        self.assertEqual(re.findall(r"committed state height=(\d+) module=state", err), ["1", "2", "3", "4", "5"])
        self.assertEqual(self.read_data("height"), "5\n")
        r = self.run_fake("v1", ("status",))
        self.assertEqual(json.loads(r.stdout), {"sync_info": {"latest_block_height": "5"}})
        r = self.run_fake("v2", FAKECHAIN_STOP_AT="8")
        self.assertEqual(r.returncode, 0)
        err = r.stderr.decode()
        self.assertIn(" height=5 ", err)  # banner
        self.assertEqual(re.findall(r"committed state height=(\d+)", err), ["6", "7", "8"])
        # Already at the stop height: stops at once.
        r = self.run_fake("v2", FAKECHAIN_STOP_AT="8", FAKECHAIN_STOP_EXIT="4")
        self.assertEqual(r.returncode, 4)
        self.assertNotIn(b"committed state", r.stderr)

    def test_block_interval(self):
        t0 = time.monotonic()
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="10", FAKECHAIN_BLOCK_INTERVAL="50")
        self.assertEqual(r.returncode, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.45)

    def test_status_without_data(self):
        r = self.run_fake("v1", ("status",))
        self.assertEqual((r.returncode, r.stdout), (0, b'{"sync_info":{"latest_block_height":"0"}}\n'))

    def test_corrupt_height_file(self):
        os.makedirs(os.path.join(self.home, "data"))
        with open(self.data("height"), "w") as f:
            f.write("twelve")
        r = self.run_fake("v1")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"holds 'twelve', not a number: fix or remove the file", r.stderr)

    def test_crash_signal(self):
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="3", FAKECHAIN_CRASH_SIGNAL="SEGV")
        self.assertEqual(r.returncode, -signal.SIGSEGV)
        self.assertEqual(self.read_data("height"), "3\n")
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="4", FAKECHAIN_CRASH_SIGNAL="sigabrt")
        self.assertEqual(r.returncode, -signal.SIGABRT)
        r = self.run_fake("v1", FAKECHAIN_STOP_AT="5", FAKECHAIN_CRASH_SIGNAL="9")
        self.assertEqual(r.returncode, -signal.SIGKILL)


class TestAnnouncement(FakeTestCase):
    INFO = '{"binaries": {"linux/amd64": "https://example.com/v2 x.tar.gz?checksum=sha256:00"}}'

    def check_plan_file(self, name="v2", height=4, info=""):
        self.assertEqual(stat.S_IMODE(os.stat(self.data("upgrade-info.json")).st_mode), 0o600)
        with open(self.data("upgrade-info.json")) as f:
            self.assertEqual(json.load(f), {"name": name, "time": "0001-01-01T00:00:00Z", "height": height,
                                            "info": info})
        # No temporary files left behind.
        self.assertEqual(sorted(os.listdir(os.path.join(self.home, "data"))), ["height", "upgrade-info.json"])

    def test_plain(self):
        old = os.umask(0)
        try:
            r = self.run_fake("v1", FAKECHAIN_PLANS="v2@4", FAKECHAIN_HALT="exit", FAKECHAIN_PLAN_INFO=self.INFO)
        finally:
            os.umask(old)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.decode().splitlines()
        self.assertRegex(lines[-2], r'^\d{1,2}:\d\d[AP]M ERR UPGRADE "v2" NEEDED at height: 4: '
                         + re.escape(self.INFO) + " module=x/upgrade$")
        self.assertRegex(lines[-1], r'^\d{1,2}:\d\d[AP]M ERR CONSENSUS FAILURE!!! err="UPGRADE \\"v2\\" NEEDED at '
                         r'height: 4: \{\\"binaries\\": .*\}" module=consensus stack=')
        self.assertIn("upgrade plans: v2@4 (no handler)", r.stderr.decode())
        self.check_plan_file(info=self.INFO)
        self.assertEqual(self.read_data("height"), "3\n")

    def test_empty_info(self):
        # As SDK >= 0.46 prints it: the empty info leaves two spaces before the fields.
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@2", FAKECHAIN_HALT="exit")
        self.assertIn(b'ERR UPGRADE "v2" NEEDED at height: 2:  module=x/upgrade\n', r.stderr)
        self.check_plan_file(height=2)

    def test_per_plan_info(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@2 v-3.x@4", FAKECHAIN_HALT="exit",
                          FAKECHAIN_PLAN_INFO="general", FAKECHAIN_PLAN_INFO_v_3_x="special")
        self.assertIn(b'NEEDED at height: 2: general module', r.stderr)
        self.assertEqual(self.run_fake("v2", FAKECHAIN_PLANS="v2@2 v-3.x@4", FAKECHAIN_HALT="exit",
                                       FAKECHAIN_PLAN_INFO="general", FAKECHAIN_PLAN_INFO_v_3_x="special").returncode, 1)
        self.check_plan_file(name="v-3.x", height=4, info="special")

    def test_json(self):
        r = self.run_fake("v1", ("start", "--log_format", "json"), FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit",
                          FAKECHAIN_HALT_EXIT="2", FAKECHAIN_PLAN_INFO=self.INFO)
        self.assertEqual(r.returncode, 2)
        objs = [json.loads(line) for line in r.stderr.decode().splitlines()]
        blocks = [o for o in objs if o["message"] == "committed state"]
        self.assertEqual([(o["level"], o["module"], o["height"]) for o in blocks], [("info", "state", 1),
                                                                                     ("info", "state", 2)])
        self.assertRegex(blocks[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(list(blocks[0]), ["level", "module", "height", "time", "message"])
        up, failure = objs[-2], objs[-1]
        self.assertEqual((up["level"], up["module"]), ("error", "x/upgrade"))
        self.assertEqual(up["message"], f'UPGRADE "v2" NEEDED at height: 3: {self.INFO}')
        self.assertEqual((failure["message"], failure["err"]), ("CONSENSUS FAILURE!!!", up["message"]))
        self.check_plan_file(height=3, info=self.INFO)

    def test_colour(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit", FAKECHAIN_COLOR="1",
                          FAKECHAIN_PLAN_INFO="i n f o")
        err = r.stderr.decode()
        lines = err.splitlines()
        self.assertIn("\x1b[", lines[-2])
        self.assertIn("\x1b[32mINF\x1b[0m", err)
        self.assertIn("\x1b[1m\x1b[31mERR\x1b[0m\x1b[0m", lines[-2])
        self.assertNotIn('UPGRADE "v2" NEEDED at height: 3: i n f o module', lines[-2])
        self.assertRegex(ANSI.sub("", lines[-2]), r'^\d{1,2}:\d\d[AP]M ERR UPGRADE "v2" NEEDED at height: 3: i n f o '
                         r"module=x/upgrade$")
        self.assertIn("committed state height=2 module=state", ANSI.sub("", err))

    def test_announce_file_only(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit", FAKECHAIN_ANNOUNCE="file")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn(b"NEEDED", r.stderr)
        self.assertIn(b"FAKECHAIN_ANNOUNCE=file", r.stderr)
        self.check_plan_file(height=3)

    def test_announce_log_only(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit", FAKECHAIN_ANNOUNCE="log")
        self.assertIn(b'UPGRADE "v2" NEEDED at height: 3:', r.stderr)
        self.assertFalse(os.path.exists(self.data("upgrade-info.json")))

    def test_announce_log_first(self):
        # SDK v0.40-v0.43: the line, then the file without the info, then the CONSENSUS FAILURE line.
        p = self.spawn("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_PLAN_INFO="x", FAKECHAIN_ANNOUNCE_ORDER="log-first",
                       FAKECHAIN_ANNOUNCE_FILE_DELAY="300")
        self.assertTrue(self.wait_for(p, 'UPGRADE "v2" NEEDED at height: 3: x'), self.output(p))
        self.assertFalse(os.path.exists(self.data("upgrade-info.json")), "the file comes after the line")
        self.assertTrue(self.wait_for(p, "CONSENSUS FAILURE"), self.output(p))
        with open(self.data("upgrade-info.json")) as f:
            self.assertEqual(json.load(f), {"name": "v2", "time": "0001-01-01T00:00:00Z", "height": 3})
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)

    def test_announce_log_first_killed_before_the_file(self):
        p = self.spawn("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_ANNOUNCE_ORDER="log-first",
                       FAKECHAIN_ANNOUNCE_FILE_DELAY="60000")
        self.assertTrue(self.wait_for(p, 'UPGRADE "v2" NEEDED'), self.output(p))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        self.assertFalse(os.path.exists(self.data("upgrade-info.json")))
        self.assertNotIn("CONSENSUS FAILURE", self.output(p))

    def test_no_final_newline(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit", FAKECHAIN_NO_FINAL_NEWLINE="1",
                          FAKECHAIN_PLAN_INFO="x")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.endswith(b'ERR UPGRADE "v2" NEEDED at height: 3: x module=x/upgrade'), r.stderr[-200:])
        self.assertNotIn(b"CONSENSUS FAILURE", r.stderr)

    def test_hang_is_silent_until_sigterm(self):
        p = self.spawn("v1", FAKECHAIN_PLANS="v2@3")
        self.assertTrue(self.wait_for(p, "CONSENSUS FAILURE"), self.output(p))
        # Not a pause to see that nothing comes: the fake is seen blocked in its wait without a timeout,
        # from which only a signal gets it out; what it printed by then is all it prints before one.
        self.assertTrue(self.wait_for_endless_wait(p), self.output(p))
        before = self.output(p)
        self.assertIsNone(p.poll(), "HALT=hang keeps running")
        self.assertIn("CONSENSUS FAILURE", before.rstrip("\n").splitlines()[-1], "nothing is printed after the halt")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        after = self.output(p)
        self.assertTrue(after.startswith(before), after)
        self.assertIn("received signal, shutting down gracefully", after[len(before):].splitlines()[0])
        self.assertEqual(self.read_data("height"), "2\n")

    def test_again_after_restart(self):
        # A node restarted with the old binary halts at the same height again.
        for _ in range(2):
            r = self.run_fake("v1", FAKECHAIN_PLANS="v2@3", FAKECHAIN_HALT="exit")
            self.assertEqual(r.returncode, 1)
            self.assertIn(b'UPGRADE "v2" NEEDED at height: 3:', r.stderr)
            self.assertEqual(self.read_data("height"), "2\n")


class TestKnownPlans(FakeTestCase):
    PLANS = "v2@3 v3@6"

    def test_v2_continues_where_v1_halted(self):
        r = self.run_fake("v1", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_HALT="exit")
        self.assertIn(b'UPGRADE "v2" NEEDED at height: 3', r.stderr)
        r = self.run_fake("v2", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_HALT="exit")
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn("upgrade plans: v2@3 (handler), v3@6 (no handler)", err)
        self.assertIn('INF applying upgrade "v2" at height: 3 module=x/upgrade', err)
        self.assertEqual(re.findall(r"committed state height=(\d+)", err), ["3", "4", "5"])
        self.assertIn('UPGRADE "v3" NEEDED at height: 6', err)
        self.check_height(5)
        r = self.run_fake("v3", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_STOP_AT="8")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b'applying upgrade "v3" at height: 6', r.stderr)
        self.check_height(8)

    def check_height(self, h):
        self.assertEqual(self.read_data("height"), f"{h}\n")

    def test_knowledge_by_position(self):
        r = self.run_fake("v3", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_STOP_AT="7")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b'applying upgrade "v2" at height: 3', r.stderr)
        self.assertIn(b'applying upgrade "v3" at height: 6', r.stderr)
        # A version that is not a plan name knows no plan at all.
        os.remove(self.data("height"))
        r = self.run_fake("v3", FAKECHAIN_PLANS="v2@3 v4@6", FAKECHAIN_HALT="exit")
        self.assertIn(b'UPGRADE "v2" NEEDED at height: 3', r.stderr)

    def test_strict(self):
        r = self.run_fake("v2", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_STRICT="1")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b'BINARY UPDATED BEFORE TRIGGER! UPGRADE "v2" - in binary but not executed on chain', r.stderr)
        self.assertNotIn(b"committed state", r.stderr)
        self.write_height(2)
        r = self.run_fake("v2", FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_STRICT="1", FAKECHAIN_STOP_AT="4")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_skip_heights(self):
        r = self.run_fake("v1", ("start", "--unsafe-skip-upgrades", "3", "6"), FAKECHAIN_PLANS=self.PLANS,
                          FAKECHAIN_STOP_AT="7")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'INF UPGRADE "v2" SKIPPED at height: 3 module=x/upgrade', r.stderr)
        self.assertIn(b'UPGRADE "v3" SKIPPED at height: 6', r.stderr)
        self.assertNotIn(b"NEEDED", r.stderr)
        self.assertFalse(os.path.exists(self.data("upgrade-info.json")))
        os.remove(self.data("height"))
        r = self.run_fake("v1", ("start", "--unsafe-skip-upgrades=3", "--unsafe-skip-upgrades", "9,10"),
                          FAKECHAIN_PLANS=self.PLANS, FAKECHAIN_HALT="exit")
        self.assertIn(b'SKIPPED at height: 3', r.stderr)
        self.assertIn(b'UPGRADE "v3" NEEDED at height: 6', r.stderr)


class TestSignals(FakeTestCase):
    def test_sigterm_with_delay_and_status(self):
        p = self.spawn("v1", FAKECHAIN_TERM_DELAY="400", FAKECHAIN_TERM_EXIT="3")
        self.assertTrue(self.wait_for(p, "height=3 "), self.output(p))
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        out = self.output(p)
        self.assertIn("INF received signal, shutting down gracefully module=server signal=terminated", out)
        last = int(re.findall(r"committed state height=(\d+)", out)[-1])
        self.assertEqual(self.read_data("height"), f"{last}\n")

    def test_sigint_json(self):
        p = self.spawn("v1", ("start", "--log_format", "json"))
        self.assertTrue(self.wait_for(p, '"height":2,'), self.output(p))
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10), 0)
        msgs = [json.loads(line) for line in self.output(p).splitlines()]
        self.assertIn({"level": "info", "module": "server", "signal": "interrupt",
                       "message": "received signal, shutting down gracefully"},
                      [{k: v for k, v in m.items() if k != "time"} for m in msgs])

    def test_ignore_term(self):
        p = self.spawn("v1", FAKECHAIN_IGNORE_TERM="1")
        self.assertTrue(self.wait_for(p, "height=2 "), self.output(p))
        p.send_signal(signal.SIGTERM)
        # Three more blocks: it ran on after the signal (which is handled between blocks when not ignored).
        self.assertTrue(self.wait_for(p, "height=5 "), self.output(p))
        self.assertIsNone(p.poll(), "SIGTERM must be ignored")
        self.assertNotIn("shutting down", self.output(p))
        p.kill()
        self.assertEqual(p.wait(10), -signal.SIGKILL)

    def test_sigquit(self):
        p = self.spawn("v1")
        self.assertTrue(self.wait_for(p, "height=2 "), self.output(p))
        p.send_signal(signal.SIGQUIT)
        self.assertEqual(p.wait(10), 0)
        self.assertIn("SIGQUIT: quit\n", self.output(p))
        self.assertIn("goroutine 1 [running]:", self.output(p))


class TestOutputStress(FakeTestCase):
    def test_long_line(self):
        r = self.run_fake("v1", FAKECHAIN_LONG_LINE=str(1 << 20), FAKECHAIN_LOG_STREAM="stdout",
                          FAKECHAIN_STOP_AT="1")
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.split(b"\n")
        longs = [line for line in lines if line.startswith(b"x")]
        self.assertEqual(len(longs), 1)
        self.assertEqual(longs[0], b"x" * (1 << 20))
        self.assertIn(b"committed state height=1", r.stdout)

    def test_long_line_size_suffix(self):
        r = self.run_fake("v1", FAKECHAIN_LONG_LINE="64K", FAKECHAIN_STOP_AT="1")
        self.assertIn(b"\n" + b"x" * 65536 + b"\n", r.stderr)

    def test_long_announce(self):
        # The announcement ends one line of exactly that size, in both formats; the CONSENSUS FAILURE line
        # (the short announcement) is left out.
        for fmt, tail in (("plain", b'UPGRADE "v2" NEEDED at height: 3: i module=x/upgrade'),
                          ("json", b'"message":"wasm contract error: ')):
            for size in (5000, 4194723):
                with self.subTest(fmt=fmt, size=size):
                    shutil.rmtree(os.path.join(self.home, "data"), ignore_errors=True)
                    r = self.run_fake("v1", ("start", "--log_format", fmt), FAKECHAIN_PLANS="v2@3",
                                      FAKECHAIN_PLAN_INFO="i", FAKECHAIN_ANNOUNCE="log", FAKECHAIN_HALT="exit",
                                      FAKECHAIN_LONG_ANNOUNCE=str(size))
                    self.assertEqual(r.returncode, 1, r.stderr[-500:])
                    last = r.stderr.split(b"\n")[-2]
                    self.assertEqual(len(last), size, last[:200])
                    if fmt == "plain":
                        self.assertTrue(last.endswith(tail), last[-200:])
                    else:
                        self.assertIn(tail, last[:200])
                        self.assertTrue(last.endswith(b'UPGRADE \\"v2\\" NEEDED at height: 3: i"}'), last[-200:])
                        self.assertEqual(json.loads(last)["level"], "error")
                    self.assertIn(b"wasm contract error: out of gas", last)
                    self.assertEqual(r.stderr.count(b"NEEDED"), 1)
                    self.assertNotIn(b"CONSENSUS FAILURE", r.stderr)

    def test_burst(self):
        r = self.run_fake("v1", FAKECHAIN_BURST="5000", FAKECHAIN_STOP_AT="1", FAKECHAIN_BLOCK_INTERVAL="0")
        self.assertEqual(r.returncode, 0)
        bursts = re.findall(rb"INF burst (\d+)/5000 module=fakechaind\n", r.stderr)
        self.assertEqual([int(b) for b in bursts], list(range(1, 5001)))


class TestPreUpgrade(FakeTestCase):
    def test_exit_sequence_and_log(self):
        env = dict(FAKECHAIN_PREUPGRADE_EXITS="31,31,0")
        codes = [self.run_fake("v2", ("pre-upgrade",), **env).returncode for _ in range(4)]
        self.assertEqual(codes, [31, 31, 0, 0])
        r = self.run_fake("v3", ("pre-upgrade", "--home", self.home, "x"), **env)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.read_data("pre-upgrade.log"),
                         "v2 pre-upgrade\n" * 4 + f"v3 pre-upgrade --home {self.home} x\n")
        self.assertEqual(self.read_data("pre-upgrade.count"), "5\n")
        self.assertIn(b"pre-upgrade call 5: exit status 0", r.stdout)

    def test_default_and_sleep(self):
        t0 = time.monotonic()
        r = self.run_fake("v2", ("pre-upgrade",), FAKECHAIN_PREUPGRADE_SLEEP="300")
        self.assertEqual(r.returncode, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_home_from_daemon_home(self):
        # cosmovisor runs `<app> pre-upgrade` without flags: the home comes from the environment.
        e = self.env(FAKECHAIN_PREUPGRADE_EXITS="1", DAEMON_HOME=self.home)
        del e["FAKECHAIN_HOME"]
        r = subprocess.run([self.bins["v2"], "pre-upgrade"], env=e, capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.read_data("pre-upgrade.log"), "v2 pre-upgrade\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
