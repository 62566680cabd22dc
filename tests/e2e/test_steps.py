# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end tests of the upgrade engine's steps in exec mode: the custom pre-upgrade script, the migrate
script, the new binary's pre-upgrade exit codes, hook timeouts, and resuming an interrupted upgrade from
its record."""

import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, kill_tree_by_home, run_once  # noqa: E402

EXIT_LAYOUT = 79
EXIT_UPGRADE_FAILED = 81


class StepsTestCase(unittest.TestCase):
    def setUp(self):
        self.home = Home()

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.home.cleanup()

    def env(self, **kw):
        base = {"FAKECHAIN_PLANS": "v2@5"}
        base.update(kw)
        return base_env(self.home, **base)

    def script(self, rel, body, mode=0o755):
        p = os.path.join(self.home.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, mode)
        return p

    def preupgrade_log(self):
        try:
            with open(self.home.data("pre-upgrade.log")) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def assertUnchanged(self, r):
        self.assertEqual(self.home.current(), "genesis", r.text())
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrade-in-progress.json")),
                         "a failed upgrade must not leave its record behind")


class TestPreUpgrade(StepsTestCase):
    def test_success_runs_new_binary_before_switch(self):
        # The hook sees the old current: it runs before the switch, with the new binary.
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="0"))
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        log = self.preupgrade_log()
        self.assertEqual(len(log), 1, log)
        self.assertTrue(log[0].startswith("v2 pre-upgrade"), log)

    def test_not_implemented_goes_on(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="1"))
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIn("not implemented", r.text())

    def test_abort(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="30"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("asked to abort the upgrade (exit status 30)", r.text())
        self.assertUnchanged(r)

    def test_retry_then_success(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="31,31,0", DAEMON_PREUPGRADE_MAX_RETRIES="2"))
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(len(self.preupgrade_log()), 3)
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_retries_exhausted(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="31", DAEMON_PREUPGRADE_MAX_RETRIES="2"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertEqual(len(self.preupgrade_log()), 3)
        self.assertIn("after DAEMON_PREUPGRADE_MAX_RETRIES=2 retries", r.text())
        self.assertUnchanged(r)

    def test_unknown_status_aborts(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="2"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("failed with exit status 2", r.text())
        self.assertUnchanged(r)

    def test_timeout(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_SLEEP="10000", ORAIVISOR_HOOK_TIMEOUT="1s"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("did not finish within ORAIVISOR_HOOK_TIMEOUT=1s", r.text())
        self.assertUnchanged(r)


class TestScripts(StepsTestCase):
    def test_custom_script_success(self):
        self.script("prepare.sh", 'echo "custom $1 $2 $(pwd)" >> "$DAEMON_HOME/data/hooks.log"')
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, 0, r.text())
        with open(self.home.data("hooks.log")) as f:
            self.assertEqual(f.read().strip(), f"custom v2 5 {self.home.path}")

    def test_cosmovisor_variable_name(self):
        self.script("prepare.sh", 'echo "custom $1 $2" >> "$DAEMON_HOME/data/hooks.log"')
        rc, r = run_once(self.home, env=self.env(COSMOVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, 0, r.text())
        self.assertTrue(os.path.exists(self.home.data("hooks.log")))

    def test_custom_script_made_executable(self):
        self.script("prepare.sh", "exit 0", mode=0o644)
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, 0, r.text())
        self.assertIn("Made", r.text())

    def test_custom_script_failure_aborts(self):
        self.script("prepare.sh", "echo failing >&2; exit 4")
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("The custom pre-upgrade script exited with status 4", r.text())
        self.assertIn("failing", r.text())
        self.assertUnchanged(r)
        self.assertEqual(self.preupgrade_log(), [], "pre-upgrade must not run after an aborted script")

    def test_custom_script_missing(self):
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="nope.sh"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("nope.sh', which is not a regular file", r.text())
        self.assertUnchanged(r)

    def test_custom_script_timeout(self):
        self.script("prepare.sh", "sleep 30")
        t0 = time.monotonic()
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh", ORAIVISOR_HOOK_TIMEOUT="1s"))
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertLess(time.monotonic() - t0, 20)
        self.assertIn("did not finish within ORAIVISOR_HOOK_TIMEOUT=1s", r.text())
        self.assertUnchanged(r)

    def test_migrate_script(self):
        self.script("upgrades/v2/bin/migrate", 'echo "migrate $1 $2" >> "$DAEMON_HOME/data/hooks.log"')
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        with open(self.home.data("hooks.log")) as f:
            self.assertEqual(f.read().strip(), "migrate v2 5")

    def test_migrate_failure_aborts(self):
        self.script("upgrades/v2/bin/migrate", "exit 9")
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("The migration script exited with status 9", r.text())
        self.assertUnchanged(r)

    def test_order_custom_migrate_preupgrade(self):
        self.script("prepare.sh", 'echo custom >> "$DAEMON_HOME/data/order.log"')
        self.script("upgrades/v2/bin/migrate", 'echo migrate >> "$DAEMON_HOME/data/order.log"')
        rc, r = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, 0, r.text())
        with open(self.home.data("order.log")) as f:
            self.assertEqual(f.read().split(), ["custom", "migrate"])
        self.assertEqual(len(self.preupgrade_log()), 1)


class TestResume(StepsTestCase):
    def write_record(self, step, **extra):
        rec = {"version": 1, "plan": {"name": "v2", "height": 5, "info": ""}, "folder": "v2", "step": step,
               "started_usec": 1}
        rec.update(extra)
        with open(os.path.join(self.home.root, "upgrade-in-progress.json"), "w") as f:
            json.dump(rec, f)
        os.symlink("genesis", os.path.join(self.home.root, "current"))

    def test_resume_at_switch(self):
        self.write_record("switch")
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        self.assertIn("Resuming the interrupted upgrade 'v2' at step switch", r.text())
        self.assertNotIn("fakechaind v1 starting", r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertEqual(self.preupgrade_log(), [], "steps before the interrupted one are not redone")
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrade-in-progress.json")))

    def test_resume_at_preupgrade_redoes_it(self):
        self.write_record("pre-upgrade")
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(len(self.preupgrade_log()), 1)
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_switch_already_done(self):
        # Power lost after the rename but before the record was removed: the switch is redone harmlessly.
        self.write_record("switch")
        os.remove(os.path.join(self.home.root, "current"))
        os.symlink("upgrades/v2", os.path.join(self.home.root, "current"))
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_damaged_record(self):
        with open(os.path.join(self.home.root, "upgrade-in-progress.json"), "w") as f:
            f.write('{"plan": ')
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, EXIT_LAYOUT, r.text())
        self.assertIn("is damaged", r.text())

    def test_sigterm_during_hook_keeps_record(self):
        self.script("prepare.sh", "sleep 30")
        r = Run(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertTrue(r.wait_for("Running the custom pre-upgrade script"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertIn("the next start resumes it", r.text())
        with open(os.path.join(self.home.root, "upgrade-in-progress.json")) as f:
            self.assertEqual(json.load(f)["step"], "hooks")
        self.assertEqual(self.home.current(), "genesis")
        # The next start finishes it.
        self.script("prepare.sh", "exit 0")
        rc, r2 = run_once(self.home, env=self.env(ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh"))
        self.assertEqual(rc, 0, r2.text())
        self.assertEqual(self.home.current(), "upgrades/v2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
