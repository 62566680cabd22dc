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


def node_tag(home):
    """The node tag oraivisor puts in its backups' names: DAEMON_NAME@<FNV-1a 32 of the canonical home>."""
    h = 2166136261
    for c in os.path.realpath(home.path).encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return f"{home.name}@{h:08x}"


class TestStopDuringUpgrade(StepsTestCase):
    """SIGTERM to oraivisor while a hook runs: the hook (a migration may be writing data/) gets SIGTERM and
    DAEMON_SHUTDOWN_GRACE to finish, SIGKILL only after; the record says what happened."""

    def record(self):
        with open(os.path.join(self.home.root, "upgrade-in-progress.json")) as f:
            return json.load(f)

    def test_preupgrade_gets_term_and_its_grace(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PREUPGRADE_SLEEP="60000", FAKECHAIN_PREUPGRADE_TERM_DELAY="1500",
                                        DAEMON_SHUTDOWN_GRACE="30s"))
        self.assertTrue(r.wait_for("pre-upgrade call 1"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        # The hook got TERM first, and its 1.5 s of cleaning up were not cut short.
        self.assertEqual(self.preupgrade_log()[1:], ["v2 pre-upgrade got SIGTERM", "v2 pre-upgrade cleaned up"], r.text())
        self.assertIn("Sending SIGTERM to the pre-upgrade command", r.text())
        self.assertNotIn("killing it", r.text())
        rec = self.record()
        self.assertEqual(rec["step"], "pre-upgrade")
        self.assertEqual(rec["interrupted"]["by"], "SIGTERM")
        self.assertEqual(rec["interrupted"]["step"], "pre-upgrade")
        self.assertFalse(rec["interrupted"]["killed"])
        self.assertIn("the pre-upgrade command got SIGTERM and exited with status 143", rec["interrupted"]["outcome"])
        self.assertEqual(self.home.current(), "genesis")
        # The next start redoes the step and finishes.
        rc, r2 = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r2.text())
        self.assertIn("The last attempt was stopped by SIGTERM at step pre-upgrade", r2.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrade-in-progress.json")))

    def test_preupgrade_killed_after_the_grace(self):
        r = Run(self.home, env=self.env(FAKECHAIN_PREUPGRADE_SLEEP="60000", FAKECHAIN_PREUPGRADE_TERM_DELAY="60000",
                                        DAEMON_SHUTDOWN_GRACE="1s"))
        self.assertTrue(r.wait_for("pre-upgrade call 1"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        # TERM first (it started cleaning up), then KILL: the cleanup never finished.
        self.assertEqual(self.preupgrade_log()[1:], ["v2 pre-upgrade got SIGTERM"], r.text())
        self.assertIn("did not exit within DAEMON_SHUTDOWN_GRACE=1s after SIGTERM, killing it", r.text())
        rec = self.record()
        self.assertEqual(rec["step"], "pre-upgrade")
        self.assertTrue(rec["interrupted"]["killed"])
        self.assertIn("was killed", rec["interrupted"]["outcome"])
        self.assertEqual(self.home.current(), "genesis")


class TestBackupName(StepsTestCase):
    def test_existing_backup_of_this_second_is_never_reused(self):
        # A retry right after an attempt that failed after its backup finds data-backup-<node>-v2-<this
        # second>: the new backup takes the next free second, and the old ones are untouched.
        import datetime
        os.makedirs(self.home.data(), exist_ok=True)
        with open(self.home.data("state.db"), "w") as f:
            f.write("state\n")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        taken = []
        for i in range(-1, 6):
            name = f"data-backup-{node_tag(self.home)}-v2-" + (now + datetime.timedelta(seconds=i)).strftime("%Y%m%dT%H%M%SZ")
            os.makedirs(os.path.join(self.home.path, name))
            with open(os.path.join(self.home.path, name, "marker"), "w") as f:
                f.write(name)
            taken.append(name)
        rc, r = run_once(self.home, env=self.env(UNSAFE_SKIP_BACKUP="false"))
        self.assertEqual(rc, 0, r.text())
        for name in taken:
            self.assertEqual(os.listdir(os.path.join(self.home.path, name)), ["marker"], name)
        new = sorted(n for n in os.listdir(self.home.path) if n.startswith("data-backup-") and n not in taken)
        self.assertEqual(len(new), 1, new)
        self.assertGreater(new[0], taken[-1])
        with open(os.path.join(self.home.path, new[0], "state.db")) as f:
            self.assertEqual(f.read(), "state\n")
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_two_nodes_share_one_backup_dir(self):
        # Two homes back up into one DAEMON_DATA_BACKUP_DIR with ORAIVISOR_BACKUP_KEEP=1: each start-up
        # cleanup and each prune touches only that node's own backups.
        import tempfile
        shared = tempfile.mkdtemp(prefix="oraivisor-e2e-backups-")
        other = Home()
        try:
            for h in (self.home, other):
                os.makedirs(h.data(), exist_ok=True)
                with open(h.data("state.db"), "w") as f:
                    f.write(h.path + "\n")
            a, b = node_tag(self.home), node_tag(other)
            self.assertNotEqual(a, b)
            # Node b: an older finished backup and an unfinished one (b was killed mid-backup and is not
            # started yet). An untagged backup from an earlier version in the shared folder is nobody's.
            b_old = f"data-backup-{b}-v1-20200101T000000Z"
            b_partial = f".partial-data-backup-{b}-v2-20200102T000000Z"
            untagged = "data-backup-v1-20190101T000000Z"
            for n in (b_old, b_partial, untagged):
                os.makedirs(os.path.join(shared, n))
            # Node a: an older backup of its own, which KEEP=1 removes.
            a_old = f"data-backup-{a}-v1-20200101T000000Z"
            os.makedirs(os.path.join(shared, a_old))

            env = dict(UNSAFE_SKIP_BACKUP="false", DAEMON_DATA_BACKUP_DIR=shared, ORAIVISOR_BACKUP_KEEP="1")
            rc, r = run_once(self.home, env=self.env(**env))
            self.assertEqual(rc, 0, r.text())
            names = set(os.listdir(shared))
            self.assertNotIn(a_old, names, r.text())
            for n in (b_old, b_partial, untagged):
                self.assertIn(n, names, f"node a removed '{n}': {r.text()}")
            mine = [n for n in names if n.startswith(f"data-backup-{a}-v2-")]
            self.assertEqual(len(mine), 1, names)
            with open(os.path.join(shared, mine[0], "state.db")) as f:
                self.assertEqual(f.read(), self.home.path + "\n")

            # Node b starts: it removes its own partial, and prunes only its own old backup.
            rc, r = run_once(other, env=base_env(other, FAKECHAIN_PLANS="v2@5", **env))
            self.assertEqual(rc, 0, r.text())
            names = set(os.listdir(shared))
            self.assertNotIn(b_partial, names, r.text())
            self.assertNotIn(b_old, names, r.text())
            self.assertIn(mine[0], names, f"node b removed node a's backup: {r.text()}")
            self.assertIn(untagged, names)
            theirs = [n for n in names if n.startswith(f"data-backup-{b}-v2-")]
            self.assertEqual(len(theirs), 1, names)
            with open(os.path.join(shared, theirs[0], "state.db")) as f:
                self.assertEqual(f.read(), other.path + "\n")
        finally:
            kill_tree_by_home(other)
            other.cleanup()
            import shutil
            shutil.rmtree(shared, ignore_errors=True)

    def test_untagged_backups_in_own_home_are_still_pruned(self):
        # Backups made by earlier versions in the home itself stay this node's: KEEP counts them.
        os.makedirs(self.home.data(), exist_ok=True)
        old = "data-backup-v1-20200101T000000Z"
        os.makedirs(os.path.join(self.home.path, old))
        rc, r = run_once(self.home, env=self.env(UNSAFE_SKIP_BACKUP="false", ORAIVISOR_BACKUP_KEEP="1"))
        self.assertEqual(rc, 0, r.text())
        names = os.listdir(self.home.path)
        self.assertNotIn(old, names, r.text())
        self.assertEqual(len([n for n in names if n.startswith(f"data-backup-{node_tag(self.home)}-v2-")]), 1, names)


@unittest.skipUnless(os.geteuid() == 0, "switching to DAEMON_USER needs root (make check runs as root in CI)")
class TestDaemonUser(StepsTestCase):
    """DAEMON_USER/DAEMON_GROUP: the daemon and the hooks run as the node's user, so that what the new
    binary's pre-upgrade writes into data/ stays the node's (a root-owned file there would stop the node)."""

    NOBODY = 65534

    def give_home_to(self, uid, gid):
        for root, dirs, files in os.walk(self.home.path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, gid)
        os.chown(self.home.path, uid, gid)

    def test_daemon_and_hooks_run_as_daemon_user(self):
        self.script("prepare.sh", 'echo "custom $(id -u):$(id -g) $HOME $USER" >> "$DAEMON_HOME/data/hooks.log"')
        self.script("upgrades/v2/bin/migrate", 'echo "migrate $(id -u):$(id -g)" >> "$DAEMON_HOME/data/hooks.log"')
        os.makedirs(self.home.data(), exist_ok=True)
        self.give_home_to(self.NOBODY, self.NOBODY)
        # The versions stay root's, as an operator installs them; the node only reads and runs them.
        for root, dirs, files in os.walk(self.home.root):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), 0, 0)
        os.chown(self.home.root, 0, 0)
        rc, r = run_once(self.home, env=self.env(DAEMON_USER="nobody", DAEMON_GROUP="nogroup", ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh",
                                                 DAEMON_RESTART_AFTER_UPGRADE="true", FAKECHAIN_STOP_AT="8"))
        self.assertEqual(rc, 0, r.text())
        self.assertIn(f"fakechaind v1 starting (version=v1 pid=", r.text())
        self.assertEqual(r.text().count(f"uid={self.NOBODY} user=nobody gid={self.NOBODY}"), 2, r.text())
        with open(self.home.data("hooks.log")) as f:
            lines = f.read().split("\n")
        self.assertEqual(lines[0].split()[:2], ["custom", f"{self.NOBODY}:{self.NOBODY}"])
        self.assertEqual(lines[0].split()[3], "nobody")
        self.assertEqual(lines[1], f"migrate {self.NOBODY}:{self.NOBODY}")
        for name in ("hooks.log", "pre-upgrade.log", "pre-upgrade.count"):
            st = os.stat(self.home.data(name))
            self.assertEqual((st.st_uid, st.st_gid), (self.NOBODY, self.NOBODY), name)
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_unknown_user_is_a_config_error(self):
        rc, r = run_once(self.home, env=self.env(DAEMON_USER="no-such-user-xyz"))
        self.assertEqual(rc, 78, r.text())
        self.assertIn("DAEMON_USER='no-such-user-xyz' is not a user of this system", r.text())
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "current")), "nothing may be started or created")

    def test_unknown_group_is_a_config_error(self):
        rc, r = run_once(self.home, env=self.env(DAEMON_USER="nobody", DAEMON_GROUP="no-such-group-xyz"))
        self.assertEqual(rc, 78, r.text())
        self.assertIn("DAEMON_GROUP='no-such-group-xyz' is not a group of this system", r.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
