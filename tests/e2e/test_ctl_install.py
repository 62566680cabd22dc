# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl init, add-upgrade and remove-upgrade: versions installed from a binary or an archive
through the shared unpack worker, published whole, and the install lock between oraivisorctl and an
upgrading oraivisor (refused with 75; a held lock delays the upgrade without breaking it)."""

import fcntl
import filecmp
import io
import json
import os
import shutil
import signal
import sys
import tarfile
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, ctl, fakechaind, file_mode, kill_tree_by_home  # noqa: E402

RECORD = "upgrade-in-progress.json"


def leftovers(home):
    """Staging folders anywhere below oraivisor/ (there must be none once a command returned)."""
    found = []
    for root, dirs, _files in os.walk(home.root):
        found += [os.path.join(root, d) for d in dirs if d.startswith(".staging-")]
    return found


class CtlTestCase(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.tmp = tempfile.mkdtemp(prefix="oraivisorctl-src-")
        self.runs = []

    def tearDown(self):
        for r in self.runs:
            r.kill()
        kill_tree_by_home(self.home)
        self.home.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *rel):
        return os.path.join(self.home.root, *rel)

    def binary(self, rel):
        return self.path(rel, "bin", self.home.name)

    def src(self, name, data, mode=0o755):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def tarball(self, name, members, fmt="w:gz"):
        """members: {path: (bytes, mode)}"""
        p = os.path.join(self.tmp, name)
        with tarfile.open(p, fmt) as t:
            for path, (data, mode) in members.items():
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = mode
                t.addfile(info, io.BytesIO(data))
        return p

    def run_ok(self, *args, **kw):
        r = ctl(self.home, *args, **kw)
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r

    def run_fail(self, status, *args, needle=None, **kw):
        r = ctl(self.home, *args, **kw)
        self.assertEqual(r.returncode, status, (args, r.stdout, r.stderr))
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"one error line expected: {r.stderr!r}")
        if needle:
            self.assertIn(needle, r.stderr)
        return r

    def start_oraivisor(self, **env):
        r = Run(self.home, env=base_env(self.home, **env))
        self.runs.append(r)
        return r

    def v(self, version):
        with open(fakechaind(version), "rb") as f:
            return f.read()


class Help(CtlTestCase):
    def test_help(self):
        r = self.run_ok("--help")
        for c in ("init PATH", "add-upgrade NAME PATH", "remove-upgrade NAME"):
            self.assertIn(c, r.stdout)
        for c in ("init", "add-upgrade", "remove-upgrade"):
            r = self.run_ok(c, "--help")
            self.assertIn(f"oraivisorctl [OPTIONS…] {c}", r.stdout)
        self.assertIn("--force", self.run_ok("add-upgrade", "--help").stdout)
        self.assertNotIn("--force", self.run_ok("remove-upgrade", "--help").stdout)

    def test_usage(self):
        self.run_fail(2, "init", needle="takes more arguments")
        self.run_fail(2, "add-upgrade", "v3", needle="takes more arguments")
        self.run_fail(2, "add-upgrade", "v3", "a", "b", needle="takes fewer arguments")
        self.run_fail(2, "remove-upgrade", "v2", "--force", needle="does not take --force")
        self.run_fail(2, "init", "x", "--json", needle="does not take --json")


class Init(CtlTestCase):
    def setUp(self):
        super().setUp()
        # A home as a new operator has it: nothing under DAEMON_HOME yet.
        shutil.rmtree(self.home.root)

    def test_init_then_idempotent(self):
        r = self.run_ok("init", fakechaind("v1"))
        self.assertIn("Installed genesis", r.stdout)
        self.assertIn("Created", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("genesis"), fakechaind("v1"), shallow=False))
        self.assertEqual(file_mode(self.binary("genesis")) & 0o111, 0o111)
        self.assertEqual(self.home.current(), "genesis")
        self.assertEqual(leftovers(self.home), [])
        inode = os.stat(self.binary("genesis")).st_ino
        r = self.run_ok("init", fakechaind("v1"))
        self.assertIn("genesis is already installed from this binary", r.stdout)
        self.assertEqual(os.stat(self.binary("genesis")).st_ino, inode, "an identical binary is not rewritten")
        # oraivisor starts from what init made.
        run = self.start_oraivisor()
        self.assertTrue(run.wait_for("fakechaind v1 starting"), run.text())

    def test_different_binary_needs_force(self):
        self.run_ok("init", fakechaind("v1"))
        self.run_fail(1, "init", fakechaind("v2"), needle="genesis is already installed in")
        self.assertTrue(filecmp.cmp(self.binary("genesis"), fakechaind("v1"), shallow=False))
        r = self.run_ok("init", fakechaind("v2"), "--force")
        self.assertIn("Replaced genesis", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("genesis"), fakechaind("v2"), shallow=False))
        self.assertEqual(leftovers(self.home), [])
        self.assertEqual(sorted(os.listdir(self.home.root)), [".install-lock", "current", "genesis"])

    def test_force_refused_while_oraivisor_runs_genesis(self):
        self.run_ok("init", fakechaind("v1"))
        run = self.start_oraivisor()
        self.assertTrue(run.wait_for("fakechaind v1 starting"), run.text())
        self.run_fail(75, "init", fakechaind("v2"), "--force", needle="stop oraivisor before replacing it")
        self.assertTrue(filecmp.cmp(self.binary("genesis"), fakechaind("v1"), shallow=False))
        # The same binary is not a replacement: fine while it runs.
        self.run_ok("init", fakechaind("v1"))

    def test_current_elsewhere_left_alone(self):
        self.run_ok("init", fakechaind("v1"))
        self.home.install("upgrades/v2", "v2")
        os.remove(self.path("current"))
        os.symlink("upgrades/v2", self.path("current"))
        r = self.run_ok("init", fakechaind("v3"), "--force")
        self.assertIn("points to upgrades/v2: left as it is", r.stdout)
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_archive_with_lib(self):
        p = self.tarball("genesis.tar.gz", {f"bin/{self.home.name}": (self.v("v1"), 0o644),
                                            "lib/libwasmvm.so": (b"\x7fELF lib", 0o644)})
        r = self.run_ok("init", p)
        self.assertIn("unpacked from the archive, with lib/", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("genesis"), fakechaind("v1"), shallow=False))
        self.assertEqual(file_mode(self.binary("genesis")) & 0o111, 0o111)
        with open(self.path("genesis", "lib", "libwasmvm.so"), "rb") as f:
            self.assertEqual(f.read(), b"\x7fELF lib")

    def test_bad_paths(self):
        self.run_fail(1, "init", os.path.join(self.tmp, "missing"), needle="does not exist: give the path of")
        self.run_fail(1, "init", self.tmp, needle="is a folder: give the")
        self.run_fail(1, "init", self.src("empty", b""), needle="is empty")
        self.run_fail(1, "init", self.src("notes.txt", b"hello, this is not a binary\n"),
                      needle="neither an archive (tar, zip), a compressed file nor an executable")
        os.mkfifo(os.path.join(self.tmp, "fifo"))
        self.run_fail(1, "init", os.path.join(self.tmp, "fifo"), needle="is not a regular file")
        self.assertFalse(os.path.exists(self.path("genesis")))
        self.assertFalse(os.path.exists(self.path("current")))
        self.assertEqual(leftovers(self.home), [])

    def test_missing_home_is_78(self):
        r = ctl(self.home, "init", fakechaind("v1"), env={"DAEMON_HOME": os.path.join(self.tmp, "nope")})
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("is not an existing folder", r.stderr)


class AddUpgrade(CtlTestCase):
    def test_binary(self):
        r = self.run_ok("add-upgrade", "v3", fakechaind("v3"))
        self.assertIn("Installed upgrade 'v3'", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v3"), fakechaind("v3"), shallow=False))
        self.assertEqual(leftovers(self.home), [])
        r = self.run_ok("add-upgrade", "v3", fakechaind("v3"))
        self.assertIn("upgrade 'v3' is already installed from this binary", r.stdout)
        self.run_fail(1, "add-upgrade", "v3", fakechaind("v2"), needle="with a different binary: add --force")
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v3"), fakechaind("v3"), shallow=False))
        r = self.run_ok("add-upgrade", "v3", fakechaind("v2"), "--force")
        self.assertIn("Replaced upgrade 'v3'", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v3"), fakechaind("v2"), shallow=False))
        self.assertEqual(leftovers(self.home), [])
        # Options may come first too.
        self.run_ok("--force", "add-upgrade", "v3", fakechaind("v3"))

    def test_not_executable_source_is_made_executable(self):
        p = self.src("oraid", self.v("v3"), mode=0o644)
        r = self.run_ok("add-upgrade", "v3", p)
        self.assertIn("was not executable; the installed copy is", r.stdout)
        self.assertEqual(file_mode(self.binary("upgrades/v3")) & 0o111, 0o111)
        self.assertEqual(file_mode(p), 0o644, "the source is left as it is")

    def test_name_encoding_as_oraivisor(self):
        self.run_ok("add-upgrade", "v3.0.0+build 1", fakechaind("v3"))
        self.assertTrue(os.path.isfile(self.binary("upgrades/v3.0.0%2Bbuild%201")))
        # A folder prepared for cosmovisor (lower-cased) is the one used, as oraivisor would.
        r = self.run_ok("add-upgrade", "V2", fakechaind("v2"))
        self.assertIn("already installed", r.stdout)
        self.assertFalse(os.path.exists(self.path("upgrades", "V2")))

    def test_bad_names(self):
        for name, needle in [("../evil", "does not contain '/'"), ("", "must not be empty"), (".", "must not be empty"),
                             ("..", "must not be empty"), ("v2\n", "control characters"), ("x" * 300, "longer than 255")]:
            r = self.run_fail(2, "add-upgrade", name, fakechaind("v3"), needle=needle)
            self.assertIn("is not an upgrade name", r.stderr)
        self.assertEqual(sorted(os.listdir(self.path("upgrades"))), ["v2"])
        self.assertFalse(os.path.exists(os.path.join(self.home.path, "evil")))

    def test_archives(self):
        name = self.home.name
        p = self.tarball("v3.tar.gz", {f"bin/{name}": (self.v("v3"), 0o755), "lib/libwasmvm.so": (b"lib", 0o644)})
        r = self.run_ok("add-upgrade", "v3", p)
        self.assertIn("with lib/", r.stdout)
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v3"), fakechaind("v3"), shallow=False))
        self.assertTrue(os.path.isfile(self.path("upgrades", "v3", "lib", "libwasmvm.so")))
        # The binary at the archive's root goes to bin/; zip too.
        z = os.path.join(self.tmp, "v4.zip")
        with zipfile.ZipFile(z, "w") as f:
            f.writestr(name, self.v("v3"))
        self.run_ok("add-upgrade", "v4", z)
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v4"), fakechaind("v3"), shallow=False))
        self.assertEqual(file_mode(self.binary("upgrades/v4")) & 0o111, 0o111)

    def test_bad_archives_install_nothing(self):
        name = self.home.name
        evil = self.tarball("evil.tar", {f"bin/{name}": (self.v("v3"), 0o755), "../escape": (b"x", 0o644)}, fmt="w")
        self.run_fail(1, "add-upgrade", "v3", evil, needle="../escape")
        nobin = self.tarball("nobin.tar.gz", {"README": (b"hello", 0o644)})
        self.run_fail(1, "add-upgrade", "v3", nobin, needle="Nothing was installed")
        # The limits are the downloads' own.
        self.run_fail(1, "add-upgrade", "v3", fakechaind("v3"), env={"ORAIVISOR_UNPACK_MAX_SIZE": "1024"},
                      needle="Nothing was installed")
        self.assertFalse(os.path.exists(self.path("upgrades", "v3")))
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "escape")))
        self.assertEqual(leftovers(self.home), [])

    def test_bad_paths(self):
        self.run_fail(1, "add-upgrade", "v3", os.path.join(self.tmp, "missing"), needle="does not exist")
        self.run_fail(1, "add-upgrade", "v3", self.tmp, needle="is a folder")
        self.run_fail(1, "add-upgrade", "v3", self.src("notes", b"plain text\n"), needle="neither an archive")
        self.assertFalse(os.path.exists(self.path("upgrades", "v3")))

    def test_without_oraivisor_folder(self):
        shutil.rmtree(self.home.root)
        self.run_fail(1, "add-upgrade", "v3", fakechaind("v3"), needle="oraivisorctl init PATH")

    def test_replacing_current(self):
        os.symlink("upgrades/v2", self.path("current"))
        # Stopped: --force may replace it (the next start runs the new binary).
        self.run_ok("add-upgrade", "v2", fakechaind("v3"), "--force")
        run = self.start_oraivisor()
        self.assertTrue(run.wait_for("fakechaind v3 starting"), run.text())
        self.run_fail(75, "add-upgrade", "v2", fakechaind("v2"), "--force", needle="stop oraivisor before replacing it")
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v2"), fakechaind("v3"), shallow=False))


class RemoveUpgrade(CtlTestCase):
    def test_remove(self):
        self.home.install("upgrades/v3", "v3")
        r = self.run_ok("remove-upgrade", "v3")
        self.assertIn("Removed upgrade 'v3'", r.stdout)
        self.assertEqual(sorted(os.listdir(self.path("upgrades"))), ["v2"])
        self.run_fail(4, "remove-upgrade", "v3", needle="No upgrade 'v3' is installed")
        self.run_fail(2, "remove-upgrade", "../v2", needle="is not an upgrade name")
        self.run_fail(2, "remove-upgrade", "", needle="is not an upgrade name")

    def test_current_refused(self):
        os.symlink("upgrades/v2", self.path("current"))
        self.run_fail(1, "remove-upgrade", "v2", needle="is the current version")
        self.assertTrue(os.path.isfile(self.binary("upgrades/v2")))

    def test_target_of_interrupted_upgrade_refused(self):
        rec = {"version": 1, "plan": {"name": "v2", "height": 5, "info": ""}, "folder": "v2", "step": "hooks",
               "started_usec": 1}
        with open(self.path(RECORD), "w") as f:
            json.dump(rec, f)
        os.symlink("genesis", self.path("current"))
        self.run_fail(1, "remove-upgrade", "v2", needle="An interrupted upgrade to 'v2' is recorded")
        self.run_fail(1, "add-upgrade", "v2", fakechaind("v3"), "--force", needle="An interrupted upgrade to 'v2'")
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v2"), fakechaind("v2"), shallow=False))
        # Installing the missing binary is what the interrupted upgrade waits for: allowed.
        shutil.rmtree(self.path("upgrades", "v2"))
        self.run_ok("add-upgrade", "v2", fakechaind("v2"))


class Concurrency(CtlTestCase):
    """An upgrading oraivisor and oraivisorctl on the same home."""

    GATE_SCRIPT = 'echo "hook running" >&2; while [ ! -e "$DAEMON_HOME/gate" ]; do sleep 0.05; done'

    def gated_upgrade(self):
        """oraivisor upgrading to v2, held in its hooks step until the test creates the gate."""
        with open(self.path("gate.sh"), "w") as f:
            f.write("#!/bin/sh\n" + self.GATE_SCRIPT + "\n")
        os.chmod(self.path("gate.sh"), 0o755)
        run = self.start_oraivisor(FAKECHAIN_PLANS="v2@5", ORAIVISOR_CUSTOM_PREUPGRADE="gate.sh")
        self.assertTrue(run.wait_for("hook running", timeout=60), run.text())
        return run

    def open_gate(self):
        with open(os.path.join(self.home.path, "gate"), "w"):
            pass

    def test_ctl_refused_while_upgrading(self):
        run = self.gated_upgrade()
        busy = "oraivisor is upgrading 'v2' (step hooks): try again when it has finished"
        self.run_fail(75, "add-upgrade", "v3", fakechaind("v3"), needle=busy)
        self.run_fail(75, "remove-upgrade", "v2", needle=busy)
        self.run_fail(75, "add-upgrade", "v2", fakechaind("v3"), "--force", needle=busy)
        self.run_fail(75, "init", fakechaind("v3"), "--force", needle=busy)
        self.assertFalse(os.path.exists(self.path("upgrades", "v3")))
        self.assertTrue(filecmp.cmp(self.binary("upgrades/v2"), fakechaind("v2"), shallow=False))
        self.open_gate()
        self.assertEqual(run.wait(60), 0, run.text())
        self.assertIn("Upgrade 'v2' installed", run.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        # Once it has finished, the lock is free again.
        self.run_ok("add-upgrade", "v3", fakechaind("v3"))
        self.run_fail(1, "remove-upgrade", "v2", needle="is the current version")

    def test_held_lock_delays_upgrade(self):
        # What an oraivisorctl command in the middle of an installation holds: the flock and its line.
        fd = os.open(self.path(".install-lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.write(fd, b"4242 oraivisorctl add-upgrade v9\n")
            # Another command is refused, naming the holder.
            self.run_fail(75, "remove-upgrade", "v2", needle="is held by '4242 oraivisorctl add-upgrade v9'")
            run = self.start_oraivisor(FAKECHAIN_PLANS="v2@5")
            self.assertTrue(run.wait_for("waits for the install lock", timeout=60), run.text())
            self.assertIn("held by '4242 oraivisorctl add-upgrade v9'", run.text())
            with open(self.path(RECORD)) as f:
                self.assertEqual(json.load(f)["step"], "obtain")
            self.assertEqual(self.home.current(), "genesis")
            self.assertIsNone(run.proc.poll())
        finally:
            os.close(fd)
        self.assertEqual(run.wait(60), 0, run.text())
        self.assertIn("Got the install lock", run.text())
        self.assertIn("Upgrade 'v2' installed", run.text())
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_staging_leftovers(self):
        # A command killed while it unpacked leaves a staging folder; the next write removes it.
        os.makedirs(self.path("upgrades", ".staging-v3-0badf00d", "bin"))
        os.makedirs(self.path(".staging-genesis-0badf00d"))
        self.run_ok("add-upgrade", "v3", fakechaind("v3"))
        self.assertEqual(leftovers(self.home), [])
        # One that its writer (a download, an installation) still fills is flock()ed: neither oraivisor's
        # start-up cleanup nor a command's removes it.
        os.makedirs(self.path("upgrades", ".staging-v4-0badf00d"))
        fd = os.open(self.path("upgrades", ".staging-v4-0badf00d"), os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            run = self.start_oraivisor()
            self.assertTrue(run.wait_for("fakechaind v1 starting"), run.text())
            self.run_ok("add-upgrade", "v5", fakechaind("v3"))
            self.assertTrue(os.path.isdir(self.path("upgrades", ".staging-v4-0badf00d")), run.text())
        finally:
            os.close(fd)
        self.run_ok("remove-upgrade", "v5")
        self.assertEqual(leftovers(self.home), [])

    def test_interrupted_upgrade_then_ctl(self):
        run = self.gated_upgrade()
        run.signal(signal.SIGTERM)
        run.wait(60)
        # Stopped: the record remains, the lock is free; the upgrade's target stays protected.
        with open(self.path(RECORD)) as f:
            self.assertEqual(json.load(f)["step"], "hooks")
        self.run_fail(1, "remove-upgrade", "v2", needle="start oraivisor to finish it")
        self.run_ok("add-upgrade", "v3", fakechaind("v3"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
