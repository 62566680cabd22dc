# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end tests of the installed oraivisor in exec mode (a plain child process) against fakechaind."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, daemon_pids, file_mode, installed_oraivisor, kill_tree_by_home, run_once  # noqa: E402

EXIT_CONFIG = 78
EXIT_LAYOUT = 79
EXIT_UPGRADE_MISSING = 80
EXIT_UPGRADE_FAILED = 81
EXIT_UPGRADE_INSTALLED_STOPPED = 82
# What systemd sets for every process of a unit: oraivisor then runs as a systemd service.
UNDER_SYSTEMD = {"INVOCATION_ID": "0123456789abcdef0123456789abcdef", "ORAIVISOR_LAUNCHER": "exec"}


class ExecTestCase(unittest.TestCase):
    upgrades = ("v2",)

    def setUp(self):
        self.home = Home(upgrades=self.upgrades)

    def tearDown(self):
        kill_tree_by_home(self.home)
        if self._outcome.success if hasattr(self._outcome, "success") else True:
            self.home.cleanup()
        else:
            print(f"\nkept {self.home.path} for inspection", file=sys.stderr)

    def env(self, **kw):
        base = {"FAKECHAIN_PLANS": "v2@20"}
        base.update(kw)
        return base_env(self.home, **base)

    def assertSwitched(self, version):
        self.assertEqual(self.home.current(), f"upgrades/{version}")
        with open(os.path.join(self.home.root, "upgrades", version, "upgrade-info.json")) as f:
            plan = json.load(f)
        self.assertEqual(plan["name"], version)
        return plan


class TestUpgrade(ExecTestCase):
    def test_genesis_to_v2_with_restart(self):
        r = Run(self.home, ("start", "--home", self.home.path), self.env(DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        plan = self.assertSwitched("v2")
        self.assertEqual(plan["height"], 20)
        # The new binary continues the chain above the upgrade height.
        self.assertTrue(r.wait_for("height=22"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        text = r.text()
        self.assertIn("fakechaind v1 starting", text)
        self.assertEqual(text.count("Upgrade plan 'v2' detected"), 1, text)
        # The daemon got exactly our arguments.
        self.assertIn(f"start --home {self.home.path}", text)

    def test_genesis_to_v2_without_restart(self):
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")
        text = r.text()
        self.assertIn("start oraivisor again", text)
        self.assertNotIn("fakechaind v2 starting", text)
        # The next start runs v2 and does not upgrade again.
        r2 = Run(self.home, env=self.env())
        # The start-up check of upgrade-info.json (which names v2) is behind us once v2 starts; v2's own
        # output is scanned past the plan's height (20) before the exit: a line is copied out just before
        # it is scanned, and every line is scanned before oraivisor exits.
        self.assertTrue(r2.wait_for("fakechaind v2 starting"), r2.text())
        self.assertTrue(r2.wait_for("committed state height=25 "), r2.text())
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0, r2.text())
        self.assertNotIn("detected", r2.text())

    def test_under_systemd_the_default_starts_the_new_binary(self):
        # The shipped unit restarts nothing that exits 0: under systemd, DAEMON_RESTART_AFTER_UPGRADE
        # defaults to true and oraivisor starts v2 itself.
        r = Run(self.home, env=self.env(**UNDER_SYSTEMD))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        self.assertSwitched("v2")
        self.assertTrue(r.wait_for("height=22"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertNotIn("left stopped", r.text())

    def test_under_systemd_explicit_false_is_not_a_clean_exit(self):
        rc, r = run_once(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="false", **UNDER_SYSTEMD))
        self.assertEqual(rc, EXIT_UPGRADE_INSTALLED_STOPPED, r.text())
        self.assertSwitched("v2")
        text = r.text()
        self.assertNotIn("fakechaind v2 starting", text)
        self.assertIn("Upgrade 'v2' is installed; fakechaind is left stopped because DAEMON_RESTART_AFTER_UPGRADE=false: "
                      "start this unit again to run the new binary (exit status 82).", text)
        # Started again, it runs v2 and does not upgrade again.
        r2 = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="false", **UNDER_SYSTEMD))
        self.assertTrue(r2.wait_for("fakechaind v2 starting"), r2.text())
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0, r2.text())
        self.assertNotIn("detected", r2.text())

    def test_two_upgrades_in_a_row(self):
        self.home.install("upgrades/v3", "v3")
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS="v2@10 v3@20", DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r.wait_for("fakechaind v3 starting", timeout=30), r.text())
        self.assertSwitched("v3")
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)

    def test_missing_upgrade_binary(self):
        os.remove(os.path.join(self.home.root, "upgrades/v2/bin/fakechaind"))
        os.rmdir(os.path.join(self.home.root, "upgrades/v2/bin"))
        os.rmdir(os.path.join(self.home.root, "upgrades/v2"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_UPGRADE_MISSING, r.text())
        self.assertIn(f"{self.home.root}/upgrades/v2/bin/fakechaind", r.text())
        self.assertEqual(self.home.current(), "genesis")

    def test_upgrade_folder_without_binary(self):
        os.remove(os.path.join(self.home.root, "upgrades/v2/bin/fakechaind"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_UPGRADE_MISSING, r.text())
        self.assertIn("exists but holds no usable binary", r.text())
        self.assertEqual(self.home.current(), "genesis")

    def test_pending_plan_at_startup(self):
        # The node halted at the height while oraivisor was down: upgrade before launching anything.
        os.makedirs(self.home.data(), exist_ok=True)
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": "v2", "time": "0001-01-01T00:00:00Z", "height": 20, "info": ""}, f)
        with open(self.home.data("height"), "w") as f:
            f.write("20")
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        self.assertNotIn("fakechaind v1 starting", r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)

    def test_json_logs(self):
        r = Run(self.home, ("start", "--log_format", "json"), self.env(FAKECHAIN_ANNOUNCE="log"))
        self.assertEqual(r.wait(), 0, r.text())
        self.assertSwitched("v2")
        self.assertIn("(from log line)", r.text())

    def test_colour_logs(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_ANNOUNCE="log", FAKECHAIN_COLOR="1"))
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")

    def test_file_only(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_ANNOUNCE="file"))
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")
        self.assertIn("(from upgrade-info.json)", r.text())

    def test_info_from_file_preferred(self):
        info = '{"binaries": {"linux/amd64": "https://example.com/v2 with spaces?checksum=sha256:00"}}'
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PLAN_INFO=info))
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(self.assertSwitched("v2")["info"], info)

    def test_halt_exit_checks_plan_file(self):
        # The node exits at the height (HALT=exit, status 1): the exit is not a crash but an upgrade.
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_HALT="exit", FAKECHAIN_ANNOUNCE="file"))
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")

    def test_no_final_newline(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_HALT="exit", FAKECHAIN_ANNOUNCE="log",
                                                 FAKECHAIN_NO_FINAL_NEWLINE="1"))
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")

    def test_one_mib_line(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_LONG_LINE=str(1 << 20), FAKECHAIN_LOG_STREAM="stdout"))
        self.assertEqual(rc, 0, r.text())
        self.assertSwitched("v2")
        # Copied byte for byte: the whole line reached our stdout.
        self.assertIn(b"x" * (1 << 20), r.stdout())

    def test_streams_kept_apart(self):
        r = Run(self.home, env=self.env(FAKECHAIN_LOG_STREAM="stdout", FAKECHAIN_PLANS=""))
        self.assertTrue(r.wait_for("height=3", stream="stdout"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)
        self.assertNotIn(b"committed state", r.stderr())
        self.assertIn(b"fakechaind v1 starting", r.stdout() + r.stderr())

    def test_skip_heights(self):
        r = Run(self.home, ("start", "--unsafe-skip-upgrades", "20"), self.env())
        self.assertTrue(r.wait_for("height=25"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertEqual(self.home.current(), "genesis")

    def test_lib_dir_on_library_path(self):
        os.makedirs(os.path.join(self.home.root, "upgrades/v2/lib"))
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true", FAKECHAIN_ECHO_ENV="LD_LIBRARY_PATH",
                                        LD_LIBRARY_PATH="/opt/x"))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        self.assertTrue(r.wait_for(f"LD_LIBRARY_PATH={self.home.root}/upgrades/v2/lib:/opt/x"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)

    def test_upgrade_info_written_0600_by_daemon(self):
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(file_mode(self.home.data("upgrade-info.json")), 0o600)


class TestLogTrust(ExecTestCase):
    """An announcement in the output must be the node's own: confirmed by upgrade-info.json."""

    def script_daemon(self, body):
        # A node that already went through upgrade v1 (the file names it) and now prints text.
        d = os.path.join(self.home.root, "upgrades", "v1", "bin")
        os.makedirs(d)
        with open(os.path.join(d, "fakechaind"), "w") as f:
            f.write("#!/bin/sh\ntrap 'exit 0' TERM\n" + body + "\nwhile :; do sleep 0.05; done\n")
        os.chmod(os.path.join(d, "fakechaind"), 0o755)
        with open(os.path.join(self.home.root, "upgrades", "v1", "upgrade-info.json"), "w") as f:
            json.dump({"name": "v1", "height": 3, "info": ""}, f)
        os.symlink("upgrades/v1", os.path.join(self.home.root, "current"))
        os.makedirs(self.home.data())
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": "v1", "height": 3, "info": ""}, f)

    def test_unconfirmed_announcement_ignored(self):
        self.script_daemon("echo 'INF received tx memo=\"UPGRADE \\\"v2\\\" NEEDED at height: 50: x\" module=app'; echo ready")
        r = Run(self.home, env=self.env())
        self.assertTrue(r.wait_for("did not announce it", timeout=10), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v1")
        self.assertNotIn("Stopping", r.text())

    def test_file_trusted_after_an_ignored_line(self):
        # A memo quotes the name and height of a real plan before the chain reaches it: the line is ignored,
        # and when the node then writes that plan into upgrade-info.json at the height, it is acted on.
        self.script_daemon("echo 'INF received tx memo=\"UPGRADE \\\"v2\\\" NEEDED at height: 50: x\" module=app'; echo ready")
        r = Run(self.home, env=self.env())
        self.assertTrue(r.wait_for("did not announce it", timeout=10), r.text())
        tmp = self.home.data("upgrade-info.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"name": "v2", "height": 50, "info": "x"}, f)
        os.rename(tmp, self.home.data("upgrade-info.json"))
        self.assertEqual(r.wait(timeout=30), 0, r.text())
        self.assertIn("Upgrade plan 'v2' detected (from upgrade-info.json)", r.text())
        self.assertSwitched("v2")

    def test_announcement_without_file_support(self):
        # No upgrade-info.json at all and the node keeps running (an SDK before v0.40, or --home elsewhere):
        # nothing confirms the line; after the wait for a file or an exit, it is acted on.
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_ANNOUNCE="log"))
        self.assertEqual(rc, 0, r.text())
        self.assertIn("waiting for", r.text())
        self.assertIn("acting on the log line", r.text())
        self.assertSwitched("v2")

    def test_file_rewritten_after_the_line_confirms(self):
        # The file names the earlier plan when the line arrives, and the node rewrites it a moment later
        # (the SDK does not write it atomically): the wait for confirmation sees the new plan and acts.
        self.script_daemon(
            "echo 'ERR UPGRADE \"v2\" NEEDED at height: 50: x module=x/upgrade'; sleep 1; "
            "printf '{\"name\":\"v2\",\"height\":50,\"info\":\"x\"}' > \"$DAEMON_HOME/data/upgrade-info.json\"")
        r = Run(self.home, env=self.env())
        self.assertTrue(r.wait_for("waiting for", timeout=10), r.text())
        self.assertEqual(r.wait(), 0, r.text())
        self.assertIn("Upgrade plan 'v2' detected (from upgrade-info.json)", r.text())
        self.assertNotIn("did not announce it", r.text())
        self.assertSwitched("v2")


class TestLongLines(ExecTestCase):
    """The announcement at the end of one long line (FAKECHAIN_LONG_ANNOUNCE), the only one in the output and
    no upgrade-info.json (FAKECHAIN_ANNOUNCE=log): found in lines of any length, the same plan as from a short
    line, with oraivisor's memory bounded. 4,194,723 bytes is the line of issue 11 (just over 4 MiB)."""

    INFO = '{"binaries": {"linux/amd64": "https://example.com/oraid v2?checksum=sha256:00"}}'
    # Peak resident set of oraivisor allowed, whatever the line's length: generous (the scanner's window is
    # 2 MiB, the line buffer 4 MiB, plus the parser's copies of a window); the figures are printed.
    VMHWM_MAX_KIB = 64 * 1024

    def long_announce(self, size, fmt):
        env = self.env(FAKECHAIN_ANNOUNCE="log", FAKECHAIN_HALT="exit", FAKECHAIN_LONG_ANNOUNCE=str(size),
                       FAKECHAIN_PLAN_INFO=self.INFO, DAEMON_RESTART_AFTER_UPGRADE="true")
        r = Run(self.home, ("start", "--log_format", fmt), env)
        started = r.wait_for("fakechaind v2 starting", timeout=120)
        # VmHWM is the peak so far: read while oraivisor still runs, after the long line went through it.
        hwm = None
        try:
            with open(f"/proc/{r.proc.pid}/status") as f:
                hwm = int(next(l.split()[1] for l in f if l.startswith("VmHWM:")))
        except (OSError, StopIteration):
            pass
        r.signal(signal.SIGTERM)
        rc = r.wait(60)
        text = r.text()
        # The test's own log, not the daemon's: the line itself is far too long to show.
        brief = "\n".join(l[:300] for l in text.splitlines())
        self.assertTrue(started, f"{fmt} line of {size} bytes: the upgrade was not carried out\n{brief}")
        self.assertEqual(rc, 0, brief)
        self.assertIn("Upgrade plan 'v2' detected (from log line", text)
        plan = self.assertSwitched("v2")
        self.assertEqual((plan["height"], plan["info"]), (20, self.INFO))
        self.assertIsNotNone(hwm)
        print(f"\n  {fmt} line of {size} bytes: oraivisor VmHWM {hwm} KiB", file=sys.stderr)
        self.assertLess(hwm, self.VMHWM_MAX_KIB, f"{fmt} line of {size} bytes")
        # The line went through whole to our stderr (copied before it is scanned).
        err = r.stderr()
        at = err.find(b"NEEDED at height: 20: ")
        self.assertGreater(at, 0)
        self.assertEqual(err.find(b"\n", at) - (err.rfind(b"\n", 0, at) + 1), size)

    def test_plain_1mib(self):
        self.long_announce(1 << 20, "plain")

    def test_plain_4mib(self):
        self.long_announce(4194723, "plain")

    def test_plain_16mib(self):
        self.long_announce(16 << 20, "plain")

    def test_plain_64mib(self):
        self.long_announce(64 << 20, "plain")

    def test_json_1mib(self):
        self.long_announce(1 << 20, "json")

    def test_json_4mib(self):
        self.long_announce(4194723, "json")

    def test_json_16mib(self):
        self.long_announce(16 << 20, "json")

    def test_json_64mib(self):
        self.long_announce(64 << 20, "json")


class TestClosedOutput(ExecTestCase):
    def test_closed_stdout_does_not_kill_the_supervisor(self):
        # `oraivisor start | head -n 1`: once the reader is gone, writes to stdout fail with EPIPE. The
        # supervisor must go on (scanning, upgrading), not die of SIGPIPE and leave the node unsupervised.
        env = self.env(FAKECHAIN_LOG_STREAM="stdout", FAKECHAIN_BLOCK_INTERVAL="20")
        err_path = os.path.join(self.home.path, "oraivisor.stderr")
        with open(err_path, "wb") as err:
            p = subprocess.Popen([installed_oraivisor(), "start"], env=env, stdout=subprocess.PIPE, stderr=err,
                                 stdin=subprocess.DEVNULL)
            p.stdout.readline()
            p.stdout.close()
            rc = p.wait(timeout=60)
        with open(err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.assertEqual(rc, 0, f"status {rc}: {text}")
        self.assertIn("Upgrade 'v2' installed", text)
        self.assertSwitched("v2")


class TestDaemonExit(ExecTestCase):
    def test_exit_status_propagated(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PLANS="", FAKECHAIN_STOP_AT="5", FAKECHAIN_STOP_EXIT="7"))
        self.assertEqual(rc, 7, r.text())

    def test_signal_death_is_128_plus_n(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PLANS="", FAKECHAIN_STOP_AT="5", FAKECHAIN_CRASH_SIGNAL="SEGV"))
        self.assertEqual(rc, 128 + signal.SIGSEGV, r.text())

    def test_sigterm_forwarded(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS="", FAKECHAIN_TERM_EXIT="3"))
        self.assertTrue(r.wait_for("height=3"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 3, r.text())
        self.assertIn("shutting down gracefully", r.text())

    def test_sigint_forwarded(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS=""))
        self.assertTrue(r.wait_for("height=3"), r.text())
        r.signal(signal.SIGINT)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertIn("shutting down gracefully", r.text())

    def test_sigquit_forwarded(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS=""))
        self.assertTrue(r.wait_for("height=3"), r.text())
        r.signal(signal.SIGQUIT)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertIn("SIGQUIT", r.text())

    def test_grace_then_sigkill_on_upgrade(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_IGNORE_TERM="1", DAEMON_SHUTDOWN_GRACE="500ms"))
        self.assertEqual(rc, 0, r.text())
        self.assertIn("did not stop within DAEMON_SHUTDOWN_GRACE", r.text())
        self.assertSwitched("v2")

    def test_restart_delay(self):
        t0 = time.monotonic()
        rc, r = run_once(self.home, env=self.env(DAEMON_RESTART_DELAY="1500ms", FAKECHAIN_PLANS="v2@3"))
        self.assertEqual(rc, 0, r.text())
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)


class TestLayout(ExecTestCase):
    def test_dangling_current(self):
        os.symlink("upgrades/v9", os.path.join(self.home.root, "current"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("does not exist", r.text())
        self.assertIn("does not fall back to genesis", r.text())
        self.assertEqual(self.home.current(), "upgrades/v9")

    def test_current_not_symlink(self):
        os.mkdir(os.path.join(self.home.root, "current"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("is not a symlink", r.text())

    def test_current_outside_tree(self):
        os.symlink("/usr", os.path.join(self.home.root, "current"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("outside genesis/ and upgrades/<name>/", r.text())

    def test_missing_genesis_binary(self):
        os.remove(os.path.join(self.home.root, "genesis/bin/fakechaind"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn(f"{self.home.root}/genesis/bin/fakechaind", r.text())
        self.assertFalse(os.path.lexists(os.path.join(self.home.root, "current")))

    def test_current_binary_not_executable(self):
        os.symlink("upgrades/v2", os.path.join(self.home.root, "current"))
        os.chmod(os.path.join(self.home.root, "upgrades/v2/bin/fakechaind"), 0o644)
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("is not executable", r.text())

    def test_no_oraivisor_folder(self):
        import shutil
        shutil.rmtree(self.home.root)
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("mkdir -p", r.text())


class TestConfig(ExecTestCase):
    BAD = [
        ("DAEMON_HOME", "relative/path", "DAEMON_HOME='relative/path' is not valid"),
        ("DAEMON_HOME", "/nonexistent/oraivisor-home", "DAEMON_HOME='/nonexistent/oraivisor-home' is not an existing folder"),
        ("DAEMON_NAME", "bin/oraid", "DAEMON_NAME='bin/oraid' is not valid"),
        ("DAEMON_NAME", "..", "DAEMON_NAME='..' is not valid"),
        ("DAEMON_ALLOW_DOWNLOAD_BINARIES", "maybe", "DAEMON_ALLOW_DOWNLOAD_BINARIES='maybe' is not a boolean"),
        ("DAEMON_RESTART_AFTER_UPGRADE", "2", "DAEMON_RESTART_AFTER_UPGRADE='2' is not a boolean"),
        ("DAEMON_SHUTDOWN_GRACE", "30 seconds please", "DAEMON_SHUTDOWN_GRACE='30 seconds please' is not a duration"),
        ("DAEMON_RESTART_DELAY", "-1s", "DAEMON_RESTART_DELAY='-1s' is not a duration"),
        ("ORAIVISOR_LAUNCHER", "docker", "ORAIVISOR_LAUNCHER='docker' is not valid"),
        ("DAEMON_POLL_INTERVAL", "0", "DAEMON_POLL_INTERVAL='0' is not valid"),
        ("UNSAFE_SKIP_BACKUP", "yep", "UNSAFE_SKIP_BACKUP='yep' is not a boolean"),
    ]

    def test_each_bad_value(self):
        for var, value, message in self.BAD:
            with self.subTest(var=var, value=value):
                rc, r = run_once(self.home, env=self.env(**{var: value}))
                self.assertEqual(rc, EXIT_CONFIG, r.text())
                self.assertIn(message, r.text())
                self.assertFalse(os.path.lexists(os.path.join(self.home.root, "current")), "nothing may happen")

    def test_missing_required(self):
        env = self.env()
        del env["DAEMON_HOME"], env["DAEMON_NAME"]
        rc, r = run_once(self.home, env=env)
        self.assertEqual(rc, EXIT_CONFIG, r.text())
        self.assertIn("DAEMON_HOME is not set", r.text())
        self.assertIn("DAEMON_NAME is not set", r.text())

    def test_all_errors_together(self):
        rc, r = run_once(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="maybe", DAEMON_SHUTDOWN_GRACE="x",
                                                 ORAIVISOR_LAUNCHER="y"))
        self.assertEqual(rc, EXIT_CONFIG)
        text = r.text()
        for v in ("DAEMON_RESTART_AFTER_UPGRADE", "DAEMON_SHUTDOWN_GRACE", "ORAIVISOR_LAUNCHER"):
            self.assertIn(f"{v}=", text)
        self.assertIn("3 errors", text)

    def test_unknown_variable_suggestion(self):
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRDE="true", FAKECHAIN_PLANS=""))
        self.assertTrue(r.wait_for("Did you mean DAEMON_RESTART_AFTER_UPGRADE?"), r.text())
        self.assertTrue(r.wait_for("height=2"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)

    def test_booleans_any_case(self):
        for v in ("TRUE", "Yes", "1"):
            with self.subTest(value=v):
                h = Home()
                try:
                    rc, r = run_once(h, env=base_env(h, FAKECHAIN_PLANS="v2@5", DAEMON_RESTART_AFTER_UPGRADE=v,
                                                     FAKECHAIN_STOP_AT="8", FAKECHAIN_STOP_EXIT="9"))
                    # v2 was restarted (restart on), ran to height 8 and exited 9.
                    self.assertEqual(rc, 9, r.text())
                finally:
                    kill_tree_by_home(h)
                    h.cleanup()


class TestLock(ExecTestCase):
    def test_second_instance_waits_then_gives_up(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS=""))
        self.assertTrue(r.wait_for("height=2"), r.text())
        t0 = time.monotonic()
        rc, r2 = run_once(self.home, env=self.env(FAKECHAIN_PLANS="", DAEMON_SHUTDOWN_GRACE="0"), timeout=40)
        self.assertEqual(rc, 75, r2.text())
        self.assertGreaterEqual(time.monotonic() - t0, 14)
        self.assertIn("must never run on the same data", r2.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)

    def test_lock_wait_extends_the_start_timeout_under_systemd(self):
        # Under systemd the start-up wait for the lock (DAEMON_SHUTDOWN_GRACE + 15 s) may outlast
        # TimeoutStartSec=: oraivisor asks for more time (EXTEND_TIMEOUT_USEC) while it waits.
        import fcntl
        import socket
        import tempfile
        sockdir = tempfile.mkdtemp(prefix="oraivisor-e2e-notify-")
        path = os.path.join(sockdir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        lock = open(os.path.join(self.home.root, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = None
        try:
            r = Run(self.home, env=self.env(FAKECHAIN_PLANS="", DAEMON_SHUTDOWN_GRACE="30s", NOTIFY_SOCKET=path))
            self.assertTrue(r.wait_for("Waiting for the previous oraivisor"), r.text())
            sock.settimeout(20)
            extend = None
            while extend is None:
                msg = sock.recv(4096).decode()
                for line in msg.split("\n"):
                    if line.startswith("EXTEND_TIMEOUT_USEC="):
                        extend = int(line.split("=", 1)[1])
            # The rest of the 45 s wait, and some.
            self.assertGreater(extend, 30 * 1000000, msg)
            self.assertLessEqual(extend, 60 * 1000000, msg)
            fcntl.flock(lock, fcntl.LOCK_UN)
            self.assertTrue(r.wait_for("fakechaind v1 starting"), r.text())
            r.signal(signal.SIGTERM)
            self.assertEqual(r.wait(), 0, r.text())
        finally:
            lock.close()
            sock.close()
            import shutil
            shutil.rmtree(sockdir, ignore_errors=True)

    def test_killed_oraivisor_never_two_daemons(self):
        # oraivisor killed: its daemon gets SIGTERM (PDEATHSIG) and keeps the lock until it is gone, so the
        # next oraivisor never runs a second daemon beside it.
        r = Run(self.home, env=self.env(FAKECHAIN_PLANS="", FAKECHAIN_TERM_DELAY="1000"))
        self.assertTrue(r.wait_for("height=2"), r.text())
        r.kill()
        r2 = Run(self.home, env=self.env(FAKECHAIN_PLANS=""))
        most = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            most = max(most, len(daemon_pids(self.home)))
            time.sleep(0.005)
        self.assertTrue(r2.wait_for("fakechaind v1 starting", timeout=10), r2.text())
        self.assertLessEqual(most, 1, "two daemons ran at once")
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
