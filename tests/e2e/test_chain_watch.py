# SPDX-License-Identifier: LGPL-2.1-or-later
"""The chain watcher end to end, exec mode: the installed oraivisor runs fakechaind as the node, and a
CometBFT RPC stand-in (tests/rpc/standin.py, whose plan protobuf is encoded by hand there) plays the node's
RPC beside it. A plan approved days ahead is staged at once when downloads are on; with downloads off a
warning names the fix, at once and as the height nears; cancelled and replaced plans are events; a node
that is unreachable, slow, or answers garbage, huge bodies or redirects costs one line per change, never
one per poll, and never blocks oraivisor; the RPC comes from ORAIVISOR_NODE_RPC or the node's config.toml."""

import hashlib
import json
import os
import re  # noqa: F401
import signal
import socket
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "rpc"))
from harness import Home, Run, base_env, fakechaind, kill_tree_by_home, run_once  # noqa: E402
from server import start_server  # noqa: E402
import standin  # noqa: E402

DAY_BLOCKS = 17280  # a day of 5 s blocks
EXIT_CONFIG = 78


def state(home):
    with open(os.path.join(home.root, "chain-state.json")) as f:
        return json.load(f)


class ChainWatchCase(unittest.TestCase):
    def setUp(self):
        self.home = Home(upgrades=())
        self.chain = standin.Chain(height=1000, block_seconds=5)
        self.srv = standin.start(self.chain)
        self.rpc = f"http://127.0.0.1:{self.srv.port}"
        self.run_ = None

    def tearDown(self):
        if self.run_ and self.run_.proc.poll() is None:
            self.run_.kill()
        kill_tree_by_home(self.home)
        standin.stop(self.srv)
        self.home.cleanup()

    def start(self, **env):
        e = dict(ORAIVISOR_NODE_RPC=self.rpc, ORAIVISOR_CHAIN_POLL_INTERVAL="1s", FAKECHAIN_PLANS="")
        e.update(env)
        e = {k: v for k, v in e.items() if v is not None}
        self.run_ = Run(self.home, env=base_env(self.home, **e))
        return self.run_

    def stop(self):
        self.run_.signal(signal.SIGTERM)
        self.assertEqual(self.run_.wait(30), 0, self.run_.text())

    def polls(self):
        with self.chain.lock:
            return self.chain.requests.count("/status")

    def wait_polls(self, n, timeout=30):
        """Waits until the stand-in has seen n more status requests (polls), proving time went by."""
        start = self.polls()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.polls() >= start + n:
                return
            time.sleep(0.05)
        self.fail(f"fewer than {n} polls in {timeout}s")

    def wait_state(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = state(self.home)
                if pred(last):
                    return last
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        self.fail(f"chain-state.json never matched: {last}\n{self.run_.text()}")

    def jump(self, blocks):
        """The chain goes blocks ahead at once, its pace unchanged (its clock runs ahead of ours)."""
        with self.chain.lock:
            self.chain.t0 -= blocks * self.chain.block_seconds


class TestStaging(ChainWatchCase):
    def test_plan_days_ahead_is_staged_at_once(self):
        srv_dir = os.path.join(self.home.path, "srv")
        os.makedirs(srv_dir)
        http = start_server(srv_dir)
        try:
            with open(fakechaind("v2"), "rb") as f:
                v2 = f.read()
            with open(os.path.join(srv_dir, "v2"), "wb") as f:
                f.write(v2)
            url = f"http://127.0.0.1:{http.port}/v2?checksum=sha256:{hashlib.sha256(v2).hexdigest()}"
            info = json.dumps({"binaries": {"any": url}})
            self.chain.plan = ("v2", 1000 + 3 * DAY_BLOCKS, info)
            r = self.start(DAEMON_ALLOW_DOWNLOAD_BINARIES="true")
            self.assertTrue(r.wait_for("Staged the binary of upgrade 'v2'"), r.text())
            text = r.text()
            self.assertIn(f"Upgrade 'v2' is scheduled on chain at height {1000 + 3 * DAY_BLOCKS}", text)
            self.assertIn("in ~3d (an estimate from the chain's recent pace", text)
            self.assertIn("its binary is not installed: downloading it now", text)
            binary = os.path.join(self.home.root, "upgrades", "v2", "bin", "fakechaind")
            with open(binary, "rb") as f:
                self.assertEqual(f.read(), v2)
            s = self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["binary"] == "installed")
            self.assertEqual(s["upgrades"][0]["name"], "v2")
            self.assertEqual(s["upgrades"][0]["source"], "governance")
            self.assertEqual(s["block_time_usec"], 5000000)
            # A heads-up only: nothing was switched, the node runs on.
            self.assertEqual(self.home.current(), "genesis")
            self.assertNotIn("warning:", text)
            self.stop()
        finally:
            http.stop()

    def test_staging_failure_is_said_and_kept_in_the_state(self):
        srv_dir = os.path.join(self.home.path, "srv")
        os.makedirs(srv_dir)
        http = start_server(srv_dir)
        try:
            info = json.dumps({"binaries": {"any": f"http://127.0.0.1:{http.port}/status/404/v2?checksum=sha256:" + "0" * 64}})
            self.chain.plan = ("v2", 1000 + DAY_BLOCKS, info)
            r = self.start(DAEMON_ALLOW_DOWNLOAD_BINARIES="true", ORAIVISOR_DOWNLOAD_RETRIES="0")
            self.assertTrue(r.wait_for("Staging the binary of upgrade 'v2' (height"), r.text())
            self.assertTrue(r.wait_for("failed:"), r.text())
            self.assertIn("Trying again in 5min", r.text())
            s = self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["binary"] == "failed")
            self.assertIn("404", s["upgrades"][0]["binary_error"])
            self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "v2")))
            self.stop()
        finally:
            http.stop()


class TestWarnings(ChainWatchCase):
    def test_downloads_off_warns_at_once_and_as_the_height_nears(self):
        height = 1000 + 2 * DAY_BLOCKS
        self.chain.plan = ("v2", height, "")
        r = self.start()
        self.assertTrue(r.wait_for("and its binary is not installed; downloads are off"), r.text())
        text = r.text()
        self.assertIn(f"Upgrade 'v2' is scheduled at height {height}, in ~2d", text)
        # The plan's info names nothing to fetch: add-upgrade is the one fix offered.
        self.assertIn("Install it now: oraivisorctl add-upgrade 'v2' PATH.", text)
        self.assertEqual(text.count("warning: Upgrade 'v2' is scheduled"), 1)
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["warnings"] == ["at-once"])
        # A day before, an hour before, ten minutes before: one warning each.
        # Blocks left after each jump: 17180 (23h50m), 700 (58m20s), 110 (9m10s), less what goes by meanwhile.
        for n, (blocks, left, tag) in enumerate(((DAY_BLOCKS + 100, r"in ~23h\d+m", "day"),
                                                 (DAY_BLOCKS - 800, r"in ~5\dm", "hour"), (590, r"in ~\dm", "10min")), 2):
            self.jump(blocks)
            self.wait_state(lambda s, tag=tag: s["upgrades"] and tag in s["upgrades"][0]["warnings"])
            deadline = time.monotonic() + 5
            while r.text().count("warning: Upgrade 'v2' is scheduled") < n and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(r.text().count("warning: Upgrade 'v2' is scheduled"), n, r.text())
            self.assertRegex(r.text().split("warning:")[-1], left)
        self.wait_polls(3)
        self.assertEqual(r.text().count("warning: Upgrade 'v2' is scheduled"), 4, r.text())
        # The binary installed by hand: said once, no more warnings.
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        self.assertTrue(r.wait_for("The binary of upgrade 'v2' (height"), r.text())
        self.wait_state(lambda s: s["upgrades"][0]["binary"] == "installed")
        self.stop()

    def test_restart_does_not_announce_again(self):
        self.chain.plan = ("v2", 1000 + 2 * DAY_BLOCKS, "")
        r = self.start()
        self.assertTrue(r.wait_for("downloads are off"), r.text())
        self.stop()
        r = self.start()
        self.assertTrue(r.wait_for("Watching the chain through"), r.text())
        self.wait_polls(3)
        self.assertNotIn("is scheduled", r.text())
        self.stop()


class TestStatusAndMetrics(ChainWatchCase):
    def test_status_line_and_metrics(self):
        self.chain.plan = ("v2", 1000 + 2280, "")  # 2280 blocks of 5 s: 3h10m
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        sockdir = tempfile.mkdtemp(prefix="oraivisor-e2e-notify-")
        metrics = os.path.join(self.home.path, "prom")
        os.makedirs(metrics)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = os.path.join(sockdir, "notify")
        sock.bind(path)
        try:
            r = self.start(NOTIFY_SOCKET=path, ORAIVISOR_METRICS_DIR=metrics)
            sock.settimeout(30)
            status = None
            while status is None:
                for line in sock.recv(65536).decode().split("\n"):
                    # Ready once its readiness check passed (before: "binary installed, not checked yet").
                    if line.startswith("STATUS=") and "upgrade v2 at height" in line and "not checked yet" not in line:
                        status = line
            self.assertRegex(status, r"^STATUS=fakechaind \(genesis\) running; watching for upgrade plans; "
                                     r"upgrade v2 at height 3280 \(~3h(10|9)m\), binary ready$")
            prom = os.path.join(metrics, "oraivisor-fakechaind.prom")
            deadline = time.monotonic() + 30
            text = ""
            while time.monotonic() < deadline and "oraivisor_scheduled_upgrade_binary_ready" not in text:
                time.sleep(0.1)
                try:
                    with open(prom) as f:
                        text = f.read()
                except OSError:
                    pass
            self.assertIn('oraivisor_scheduled_upgrade_height{name="fakechaind",upgrade="v2",source="governance"} 3280\n', text)
            self.assertIn('oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",upgrade="v2",source="governance"} 1\n', text)
            self.assertRegex(text, r'oraivisor_chain_height\{name="fakechaind"\} 10\d\d\n')
            self.stop()
        finally:
            sock.close()
            import shutil
            shutil.rmtree(sockdir, ignore_errors=True)


class StatusSocket:
    """A NOTIFY_SOCKET of our own: the STATUS= lines oraivisor sends."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="oraivisor-e2e-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def wait_status(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536).decode()
            except socket.timeout:
                break
            for line in data.split("\n"):
                if line.startswith("STATUS="):
                    seen.append(line)
                    if pred(line):
                        return line
        raise AssertionError(f"no STATUS= line matched; seen: {seen[-5:]}")

    def close(self):
        self.sock.close()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def read_metrics(path, needle, timeout=30):
    """The metrics file once it holds needle (None after timeout)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            pass
        if needle in text:
            return text
        time.sleep(0.05)
    return None


# `version` of a binary that does not start on this host (as a node missing a flag it needs would fail).
NOT_READY = b"#!/bin/sh\necho 'Error: unknown flag --foo' >&2\nexit 2\n"


def counting_binary(path, count_file, version="v2"):
    """A binary whose every run (the readiness check's `version`) adds a line to count_file."""
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\necho run >> {count_file}\necho {version}\n")
    os.chmod(path, 0o755)


def count_runs(count_file):
    try:
        with open(count_file) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


class TestReadiness(ChainWatchCase):
    """The chain watcher's plan is checked to start on this host (issue 17), not only to be installed."""

    def binary(self):
        return os.path.join(self.home.root, "upgrades", "v2", "bin", "fakechaind")

    def put(self, content):
        os.makedirs(os.path.dirname(self.binary()), exist_ok=True)
        with open(self.binary(), "wb") as f:
            f.write(content)
        os.chmod(self.binary(), 0o755)

    def wait_count(self, count_file, n, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and count_runs(count_file) < n:
            time.sleep(0.05)
        self.assertEqual(count_runs(count_file), n, self.run_.text())

    def test_installed_but_not_ready_then_fixed(self):
        self.chain.plan = ("v2", 1000 + 2280, "")  # 3h10m ahead
        self.put(NOT_READY)
        metrics = os.path.join(self.home.path, "prom")
        os.makedirs(metrics)
        prom = os.path.join(metrics, "oraivisor-fakechaind.prom")
        st = StatusSocket()
        try:
            r = self.start(NOTIFY_SOCKET=st.path, ORAIVISOR_METRICS_DIR=metrics)
            self.assertTrue(r.wait_for("warning: Upgrade 'v2' scheduled on chain at height 3280 is not ready: its binary"), r.text())
            text = r.text()
            self.assertIn(f"its binary '{self.binary()}' will not start on this host: it `version` exited with status 2 (\"Error: unknown flag --foo\")", text)
            self.assertIn("install a working build (oraivisorctl add-upgrade 'v2' PATH --force), then check it "
                          "(oraivisorctl check 'v2')", text)
            status = st.wait_status(lambda l: "upgrade v2 at height 3280" in l and "not checked yet" not in l)
            self.assertRegex(status, r"^STATUS=fakechaind \(genesis\) running; watching for upgrade plans; upgrade v2 at "
                                     r"height 3280 \(~3h(10|9)m\), binary not ready: `version` exited with status 2")
            self.assertIsNotNone(read_metrics(prom, 'oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",upgrade="v2",'
                                                    'source="governance"} 0\n'), r.text())
            s = self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["ready"] == "not_ready")
            self.assertIn("exited with status 2", s["upgrades"][0]["ready_reason"])
            self.assertEqual(s["upgrades"][0]["binary"], "installed")
            # Said once, not at every check; the event stands for the warning due now (3h ahead: the day's).
            self.wait_polls(3)
            self.assertEqual(r.text().count("is not ready: its binary"), 1, r.text())
            self.assertNotIn("installed but not ready", r.text())
            self.assertEqual(s["upgrades"][0]["warnings"], ["at-once", "day"])
            # The hour's warning says why, and the fix.
            self.jump(2280 - 700)  # 58 minutes left
            self.assertTrue(r.wait_for("and its binary is installed but not ready: it `version` exited with status 2"), r.text())
            self.assertIn("Install a working build now: oraivisorctl add-upgrade 'v2' PATH --force, then oraivisorctl check 'v2'.",
                          r.text())
            # Fixed by copying a working build over it (same file, new content): the period sees it.
            self.home.install(os.path.join("upgrades", "v2"), "v2")
            self.assertTrue(r.wait_for("Upgrade 'v2' scheduled on chain at height 3280 is ready again: its binary"), r.text())
            self.assertIn("starts on this host (version: ", r.text())
            self.assertIsNotNone(read_metrics(prom, 'oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",upgrade="v2",'
                                                    'source="governance"} 1\n'), r.text())
            st.wait_status(lambda l: l.endswith("binary ready"))
            s = self.wait_state(lambda s: s["upgrades"][0]["ready"] == "ready")
            self.assertNotIn("ready_reason", s["upgrades"][0])
            self.stop()
        finally:
            st.close()

    def test_changed_binary_is_checked_again_unchanged_is_not(self):
        self.chain.plan = ("v2", 1000 + DAY_BLOCKS, "")
        count = os.path.join(self.home.path, "runs")
        os.makedirs(os.path.dirname(self.binary()))
        counting_binary(self.binary(), count)
        r = self.start()
        self.assertTrue(r.wait_for("The binary of upgrade 'v2' (height"), r.text())
        self.assertTrue(r.wait_for("is ready: it starts on this host (version: v2)"), r.text())
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["ready"] == "ready")
        self.assertEqual(count_runs(count), 1)
        # Polls and periods go by: an unchanged binary is not run again.
        self.wait_polls(4)
        self.assertEqual(count_runs(count), 1, r.text())
        # A changed one is (here: broken by a truncated copy, which needs no run to be found out).
        with open(fakechaind("v2"), "rb") as f:
            self.put(f.read()[:4000])
        self.assertTrue(r.wait_for("Upgrade 'v2' scheduled on chain at height"), r.text())
        self.assertTrue(r.wait_for("is not ready: its binary"), r.text())
        self.assertIn("is truncated", r.text())
        self.wait_state(lambda s: s["upgrades"][0]["ready"] == "not_ready")
        # And a working one again: run again, ready again.
        counting_binary(self.binary(), count, version="v2b")
        self.assertTrue(r.wait_for("is ready again: its binary"), r.text())
        self.assertIn("(version: v2b)", r.text())
        self.assertEqual(count_runs(count), 2)
        self.stop()

    def test_checked_again_when_the_height_is_within_the_hour(self):
        self.chain.plan = ("v2", 1000 + 1440, "")  # 2h ahead
        count = os.path.join(self.home.path, "runs")
        os.makedirs(os.path.dirname(self.binary()))
        counting_binary(self.binary(), count)
        r = self.start()
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["ready"] == "ready")
        self.wait_polls(2)
        self.assertEqual(count_runs(count), 1, r.text())
        self.jump(1440 - 600)  # 50 minutes left: the same binary is checked once more
        self.wait_count(count, 2)
        self.wait_polls(4)
        self.assertEqual(count_runs(count), 2, r.text())  # once, not at every poll
        self.stop()

    def test_a_check_never_holds_up_the_node(self):
        # A version that hangs: the node starts and runs meanwhile, and the stop is prompt.
        self.chain.plan = ("v2", 1000 + DAY_BLOCKS, "")
        pidfile = os.path.join(self.home.path, "hang.pid")
        self.put(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n".encode())
        r = self.start()
        deadline = time.monotonic() + 20
        while not os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(pidfile), r.text())
        self.assertTrue(r.wait_for("committed state height=3"), r.text())
        with open(pidfile) as f:
            pid = int(f.read().strip() or 0)
        self.stop()  # while the check runs: its child goes with oraivisor
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.assertRaises(ProcessLookupError, os.kill, pid, 0)


class TestPlanChanges(ChainWatchCase):
    def test_replaced_then_cancelled(self):
        self.chain.plan = ("v2", 1000 + DAY_BLOCKS, "")
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        r = self.start()
        self.assertTrue(r.wait_for("its binary is installed."), r.text())
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["binary"] == "installed")
        self.chain.plan = ("v3", 1000 + 2 * DAY_BLOCKS, "")
        self.assertTrue(r.wait_for(f"Upgrade 'v2' at height {1000 + DAY_BLOCKS} was replaced on chain by upgrade 'v3'"), r.text())
        self.assertIn("its staged binary is kept, not used", r.text())
        self.assertTrue(r.wait_for("Upgrade 'v3' is scheduled on chain"), r.text())
        self.chain.plan = None
        self.assertTrue(r.wait_for(f"Upgrade 'v3' at height {1000 + 2 * DAY_BLOCKS} was cancelled on chain."), r.text())
        self.wait_state(lambda s: s["upgrades"] == [])
        self.assertTrue(os.path.exists(os.path.join(self.home.root, "upgrades", "v2", "bin", "fakechaind")))
        self.assertEqual(self.home.current(), "genesis")
        self.stop()


class TestReachability(ChainWatchCase):
    def check_bad_then_good(self, mode, reason, timeout=30):
        self.chain.mode = mode
        r = self.start()
        self.assertTrue(r.wait_for(f"is not reachable yet ({reason}", timeout=timeout), r.text())
        self.chain.mode = "ok"
        self.assertTrue(r.wait_for("Watching the chain through the node's RPC", timeout=timeout), r.text())
        self.assertEqual(r.text().count("not reachable yet"), 1, r.text())
        self.stop()

    def test_garbage(self):
        self.check_bad_then_good("garbage", "the answer is not JSON")

    def test_error_answer(self):
        self.check_bad_then_good("error", "the node answered with an error")

    def test_huge(self):
        self.check_bad_then_good("huge", "its answer is larger than 1 MiB")

    def test_redirect_not_followed(self):
        self.check_bad_then_good("redirect", "it answers with a redirect")

    def test_slow_never_blocks(self):
        self.chain.mode = "slow"
        self.chain.slow_seconds = 60
        r = self.start()
        self.assertTrue(r.wait_for("fakechaind v1 starting"), r.text())
        # The stand-in holds the request; oraivisor still answers a signal at once.
        deadline = time.monotonic() + 10
        while self.chain.requests.count("/status") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.chain.requests, "no request reached the stand-in")
        t = time.monotonic()
        self.stop()
        self.assertLess(time.monotonic() - t, 10, r.text())

    def test_slow_times_out(self):
        self.check_bad_then_good("slow", "Connection timed out", timeout=60)

    def test_unreachable_is_one_line_per_change(self):
        r = self.start()
        self.assertTrue(r.wait_for("Watching the chain through the node's RPC"), r.text())
        self.chain.mode = "close"
        self.assertTrue(r.wait_for("stopped answering"), r.text())
        self.wait_polls(5)
        self.assertEqual(r.text().count("stopped answering"), 1, r.text())
        self.chain.mode = "ok"
        self.wait_polls(2)
        self.assertTrue(r.wait_for("Watching the chain through the node's RPC"), r.text())
        self.assertEqual(r.text().count("Watching the chain through"), 2, r.text())
        self.stop()

    def test_nothing_listening(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()  # a port where nothing listens
        r = self.start(ORAIVISOR_NODE_RPC=f"http://127.0.0.1:{port}")
        self.assertTrue(r.wait_for("is not reachable yet (Connection refused)"), r.text())
        self.assertTrue(r.wait_for("committed state height=3"), r.text())
        self.assertEqual(r.text().count("not reachable"), 1, r.text())
        self.stop()


class TestWhichRpc(ChainWatchCase):
    def write_config_toml(self, laddr):
        os.makedirs(os.path.join(self.home.path, "config"), exist_ok=True)
        with open(os.path.join(self.home.path, "config", "config.toml"), "w") as f:
            f.write(f'proxy_app = "tcp://127.0.0.1:26658"\n[p2p]\nladdr = "tcp://0.0.0.0:1"\n\n[rpc]\nladdr = "{laddr}"\n')

    def test_from_config_toml_wildcard_means_loopback(self):
        self.write_config_toml(f"tcp://0.0.0.0:{self.srv.port}")
        r = self.start(ORAIVISOR_NODE_RPC=None)
        self.assertTrue(r.wait_for(f"Watching the chain through the node's RPC at 'http://127.0.0.1:{self.srv.port}'"), r.text())
        self.stop()

    def test_from_config_toml_unix_socket(self):
        d = tempfile.mkdtemp(prefix="oraivisor-e2e-rpc-")
        path = os.path.join(d, "rpc.sock")
        srv = standin.start(standin.Chain(height=5000), unix_path=path)
        try:
            self.write_config_toml(f"unix://{path}")
            env = base_env(self.home, ORAIVISOR_CHAIN_POLL_INTERVAL="1s", FAKECHAIN_PLANS="")
            self.run_ = Run(self.home, env=env)
            self.assertTrue(self.run_.wait_for(f"Watching the chain through the node's RPC at 'unix://{path}' (height 5000)"),
                            self.run_.text())
            self.stop()
        finally:
            standin.stop(srv)
            os.rmdir(d)

    def test_explicit_wins_over_config_toml(self):
        self.write_config_toml("tcp://127.0.0.1:9")
        r = self.start()
        self.assertTrue(r.wait_for(f"Watching the chain through the node's RPC at '{self.rpc}'"), r.text())
        self.stop()

    def test_disabled_in_config_toml(self):
        self.write_config_toml("")
        env = base_env(self.home, FAKECHAIN_PLANS="")
        self.run_ = Run(self.home, env=env)
        self.assertTrue(self.run_.wait_for("Chain watching is off: the node's RPC is disabled"), self.run_.text())
        self.assertTrue(self.run_.wait_for("committed state height=3"), self.run_.text())
        self.stop()

    def test_off(self):
        r = self.start(ORAIVISOR_NODE_RPC="off")
        self.assertTrue(r.wait_for("committed state height=3"), r.text())
        self.assertNotIn("Unknown variable", r.text())  # "off" is understood, not ignored
        self.assertEqual(self.chain.requests, [])
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "chain-state.json")))
        self.stop()

    def test_invalid_is_refused(self):
        rc, r = run_once(self.home, env=base_env(self.home, ORAIVISOR_NODE_RPC="127.0.0.1:26657"))
        self.assertEqual(rc, EXIT_CONFIG, r.text())
        self.assertIn("ORAIVISOR_NODE_RPC='127.0.0.1:26657' is not valid: the scheme is none of", r.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
