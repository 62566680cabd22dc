# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl import-cosmovisor: a node prepared for cosmovisor (its folder with an absolute `current` and
lower-cased upgrade names, config.toml as cosmovisor v1.6 writes it, COSMOVISOR_* variables) is adopted
without copying a binary, cosmovisor's folder untouched, and oraivisor then upgrades it."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Run, base_env, ctl, fakechaind, kill_tree_by_home  # noqa: E402


class CosmovisorHome:
    """A DAEMON_HOME laid out by cosmovisor: cosmovisor/{genesis,upgrades/<lower-case>}, current absolute."""

    def __init__(self, name="fakechaind"):
        self.path = tempfile.mkdtemp(prefix="oraivisor-import-")
        self.name = name
        self.root = os.path.join(self.path, "oraivisor")
        self.cosmo = os.path.join(self.path, "cosmovisor")
        for rel, v in (("genesis", "v1"), ("upgrades/v2", "v2")):
            d = os.path.join(self.cosmo, rel, "bin")
            os.makedirs(d)
            shutil.copy(fakechaind(v), os.path.join(d, name))
            os.chmod(os.path.join(d, name), 0o755)
        os.symlink(os.path.join(self.cosmo, "genesis"), os.path.join(self.cosmo, "current"))
        with open(os.path.join(self.cosmo, "pre.sh"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")

    def current(self):
        return os.readlink(os.path.join(self.root, "current"))

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def snapshot(top):
    """Every path under top with its inode and link target: what 'unchanged' means."""
    out = {}
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (st.st_ino, st.st_mode, os.readlink(p) if os.path.islink(p) else None)
    return out


class Import(unittest.TestCase):
    def setUp(self):
        self.home = CosmovisorHome()
        self.addCleanup(self.home.cleanup)
        self.addCleanup(kill_tree_by_home, self.home)
        self.conf = tempfile.mkdtemp(prefix="oraivisorctl-conf-")
        self.addCleanup(shutil.rmtree, self.conf, True)

    def env(self, **kw):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR", "COSMOVISOR_", "UNSAFE_"))}
        e["DAEMON_HOME"] = self.home.path
        e["ORAIVISORCTL_CONF_DIR"] = self.conf
        e.update(kw)
        return e

    def test_import_then_upgrade(self):
        with open(os.path.join(self.home.cosmo, "config.toml"), "w") as f:
            f.write(f"daemon_home = '{self.home.path}'\n"
                    "daemon_name = 'fakechaind'\n"
                    "daemon_poll_interval = 300000000\n"
                    "daemon_restart_after_upgrade = true\n"
                    "cosmovisor_color_logs = true\n"
                    "unsafe_skip_backup = true\n")
        before = snapshot(self.home.cosmo)
        r = ctl(self.env(COSMOVISOR_CUSTOM_PREUPGRADE="pre.sh", DAEMON_SHUTDOWN_GRACE="5s"), "import-cosmovisor")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(snapshot(self.home.cosmo), before, "cosmovisor's folder changed")
        # Hard links, not copies; current relative; nothing left from the staging folder.
        for rel in ("genesis/bin/fakechaind", "upgrades/v2/bin/fakechaind", "pre.sh"):
            self.assertEqual(os.stat(os.path.join(self.home.root, rel)).st_ino,
                             os.stat(os.path.join(self.home.cosmo, rel)).st_ino, rel)
        self.assertEqual(self.home.current(), "genesis")
        self.assertEqual(sorted(n for n in os.listdir(self.home.path)), ["cosmovisor", "oraivisor"])
        self.assertIn("files hard-linked", r.stdout)
        # The configuration, as the unit will read it.
        with open(os.path.join(self.conf, "fakechaind.conf")) as f:
            conf = f.read()
        self.assertIn(f"DAEMON_HOME={self.home.path}\n", conf)
        self.assertIn("DAEMON_NAME=fakechaind\n", conf)
        self.assertIn("DAEMON_POLL_INTERVAL=300ms\n", conf)
        self.assertIn("DAEMON_SHUTDOWN_GRACE=5s\n", conf)
        self.assertIn("ORAIVISOR_CUSTOM_PREUPGRADE=pre.sh\n", conf)
        self.assertNotIn("COLOR", conf)
        self.assertIn("COSMOVISOR_COLOR_LOGS: not carried over", r.stdout)
        # oraivisorctl reads it back through -i as oraivisor@fakechaind would.
        c = ctl(self.env(), "-i", "fakechaind", "config")
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertRegex(c.stdout, r"ORAIVISOR_CUSTOM_PREUPGRADE\s+pre.sh\s+conf file")

        # oraivisor upgrades the imported node (the hook found under oraivisor/).
        run = Run(self.home, env=base_env(self.home, FAKECHAIN_PLANS="v2@15", DAEMON_RESTART_AFTER_UPGRADE="true",
                                          ORAIVISOR_CUSTOM_PREUPGRADE="pre.sh"))
        self.assertTrue(run.wait_for("fakechaind v2 starting"), run.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        # cosmovisor's own current is still what it was (going back stays possible).
        self.assertEqual(os.readlink(os.path.join(self.home.cosmo, "current")), os.path.join(self.home.cosmo, "genesis"))

    def test_second_run_leaves_everything_alone(self):
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "import-cosmovisor")
        self.assertEqual(r.returncode, 0, r.stderr)
        conf_path = os.path.join(self.conf, "fakechaind.conf")
        with open(conf_path, "a") as f:
            f.write("# edited by the operator\n")
        root_ino = os.stat(self.home.root).st_ino
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "import-cosmovisor")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already exists; left as it is", r.stdout)
        self.assertEqual(os.stat(self.home.root).st_ino, root_ino)
        with open(conf_path) as f:
            self.assertTrue(f.read().endswith("# edited by the operator\n"))

    def test_instance_name_and_relative_current(self):
        os.unlink(os.path.join(self.home.cosmo, "current"))
        os.symlink("upgrades/v2", os.path.join(self.home.cosmo, "current"))
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "-i", "mainnet", "import-cosmovisor")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertTrue(os.path.exists(os.path.join(self.conf, "mainnet.conf")))

    def test_refusals_change_nothing(self):
        cases = []
        # current outside cosmovisor's folder.
        os.unlink(os.path.join(self.home.cosmo, "current"))
        os.symlink("/usr/bin", os.path.join(self.home.cosmo, "current"))
        cases.append(({"DAEMON_NAME": "fakechaind"}, 1, "outside"))
        for extra, rc, want in cases:
            r = ctl(self.env(**extra), "import-cosmovisor")
            self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
            self.assertIn(want, r.stderr)
            self.assertFalse(os.path.exists(self.home.root))
            self.assertEqual(os.listdir(self.conf), [])
        os.unlink(os.path.join(self.home.cosmo, "current"))
        os.symlink("../../etc", os.path.join(self.home.cosmo, "current"))
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "import-cosmovisor")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not to genesis or one folder under upgrades/", r.stderr)
        os.unlink(os.path.join(self.home.cosmo, "current"))
        # A value oraivisor would refuse: nothing written.
        r = ctl(self.env(DAEMON_NAME="fakechaind", DAEMON_ALLOW_DOWNLOAD_BINARIES="maybe"), "import-cosmovisor")
        self.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        self.assertIn("DAEMON_ALLOW_DOWNLOAD_BINARIES='maybe' is not a boolean", r.stderr)
        # A config.toml cosmovisor never writes.
        with open(os.path.join(self.home.cosmo, "config.toml"), "w") as f:
            f.write("[daemon]\nname = 'x'\n")
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "import-cosmovisor")
        self.assertEqual(r.returncode, 78)
        self.assertIn("config.toml: line 1: tables are not part", r.stderr)
        os.unlink(os.path.join(self.home.cosmo, "config.toml"))
        # No name anywhere; no home; no cosmovisor folder.
        r = ctl(self.env(), "import-cosmovisor")
        self.assertEqual(r.returncode, 2)
        self.assertIn("pass --name", r.stderr)
        e = self.env(DAEMON_NAME="fakechaind")
        del e["DAEMON_HOME"]
        r = ctl(e, "import-cosmovisor")
        self.assertEqual(r.returncode, 2)
        self.assertIn("DAEMON_HOME is not set", r.stderr)
        shutil.rmtree(self.home.cosmo)
        r = ctl(self.env(DAEMON_NAME="fakechaind"), "import-cosmovisor")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Nothing to import", r.stderr)
        self.assertFalse(os.path.exists(self.home.root))
        self.assertEqual(os.listdir(self.conf), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
