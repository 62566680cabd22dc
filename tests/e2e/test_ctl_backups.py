# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl backups and backups restore: the node's own backups (complete, partial; other nodes' ignored),
--json field by field, and the restore: data/ replaced by a copy of the backup and the old one kept, `current`
switched back, the commands printed to undo it; refused while oraivisor or anything else uses the home, for an
unknown or foreign or unfinished backup, for a --switch-to version that is not installed; and a copy that
fails (an unreadable file, a full disk) leaves data/ as it was."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, ctl, installed_ctl, run_once  # noqa: E402

STAMP = re.compile(r"-(\d{8}T\d{6}Z)$")


def tree(path):
    """{relative path: content or a marker} of every entry below path."""
    out = {}
    for root, dirs, files in os.walk(path):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), path)] = "<dir>"
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


def upgraded_home(test):
    """A home that went through upgrade v2 with a backup (made by oraivisor itself), oraivisor stopped."""
    home = Home()
    test.addCleanup(home.cleanup)
    rc, r = run_once(home, env=base_env(home, UNSAFE_SKIP_BACKUP="false", FAKECHAIN_PLANS="v2@5"), timeout=60)
    test.assertEqual(rc, 0, r.text())
    test.assertEqual(home.current(), "upgrades/v2")
    names = [n for n in os.listdir(home.path) if n.startswith("data-backup-")]
    test.assertEqual(len(names), 1, names)
    return home, names[0]


def ctl_wrapped(home, prefix, *args, env=None):
    """oraivisorctl run through a wrapper command (setpriv, unshare …) with the home's environment."""
    e = base_env(home)
    e.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
    if env:
        e.update(env)
    return subprocess.run([*prefix, installed_ctl(), *args], env=e, capture_output=True, text=True, timeout=120)


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)

    def test_usage(self):
        r = ctl(self.home, "backups", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("restore NAME", r.stdout)
        self.assertIn("--switch-to VERSION", r.stdout)
        for args, want in [(("backups", "restore"), "takes the backup's name"),
                           (("backups", "restor", "x"), "Unknown 'backups' command 'restor'"),
                           (("backups", "--switch-to", "genesis"), "--switch-to goes with 'backups restore NAME'"),
                           (("backups", "restore", "x", "--json"), "does not take --json"),
                           (("backups", "restore", "x", "--force"), "does not take --force")]:
            r = ctl(self.home, *args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(want, r.stderr)


class List(unittest.TestCase):
    def test_list_complete_partial_and_others(self):
        home, name = upgraded_home(self)
        node_end = name.index("-v2-")
        ours_partial = ".partial-" + STAMP.sub("-20990101T000000Z", name)
        other = re.sub(r"@[0-9a-f]{8}-", "@00000000-", name)
        os.mkdir(os.path.join(home.path, ours_partial))
        os.mkdir(os.path.join(home.path, other))  # another node sharing the folder: not listed
        os.mkdir(os.path.join(home.path, "data-backup-v1-20200101T000000Z"))  # untagged, in our home: ours
        with open(os.path.join(home.path, "data-backup-v1-20210101T000000Z"), "w") as f:
            f.write("a file bearing a backup's name")  # not a folder: no backup
        self.assertTrue(name[:node_end].startswith("data-backup-fakechaind@"))

        r = ctl(home, "backups", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(set(doc), {"backup_dir", "backup_dir_error", "free_bytes", "backups"})
        self.assertEqual(doc["backup_dir"], home.path)
        self.assertIsNone(doc["backup_dir_error"])
        self.assertIsInstance(doc["free_bytes"], int)
        st = os.statvfs(home.path)
        self.assertLess(abs(doc["free_bytes"] - st.f_bavail * st.f_frsize), 256 << 20)
        got = [b["name"] for b in doc["backups"]]
        self.assertEqual(got, ["data-backup-v1-20200101T000000Z", name, ours_partial[len(".partial-"):]])
        legacy, b, p = doc["backups"]
        self.assertEqual(set(b), {"name", "path", "upgrade", "folder", "time", "time_usec", "complete", "kind",
                                  "size_bytes"})
        self.assertEqual(b["path"], os.path.join(home.path, name))
        self.assertEqual(b["upgrade"], "v2")
        self.assertEqual(b["folder"], "v2")
        stamp = STAMP.search(name).group(1)
        want_time = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
        self.assertEqual(b["time"], want_time)
        import calendar
        import time as _time
        self.assertEqual(b["time_usec"], calendar.timegm(_time.strptime(want_time, "%Y-%m-%dT%H:%M:%SZ")) * 1000000)
        self.assertIs(b["complete"], True)
        self.assertEqual(b["kind"], "copy")
        # du-like: at least the blocks of its files, which are the data at the halt.
        files = sum(os.lstat(os.path.join(root, f)).st_blocks * 512
                    for root, _d, fs in os.walk(b["path"]) for f in fs)
        self.assertGreater(files, 0)
        self.assertGreaterEqual(b["size_bytes"], files)
        self.assertEqual(b["size_bytes"], int(subprocess.run(["du", "-s", "-B1", b["path"]], capture_output=True,
                                                             text=True, check=True).stdout.split()[0]))
        self.assertIs(p["complete"], False)
        self.assertEqual(p["path"], os.path.join(home.path, ours_partial))
        self.assertEqual(p["time"], "2099-01-01T00:00:00Z")
        self.assertEqual(legacy["upgrade"], "v1")

        r = ctl(home, "backups", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"Backups of fakechaind in {home.path} (", r.stdout)
        self.assertRegex(r.stdout, re.escape(name) + r"\s+v2\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+\S+ \S*B\s+copy\s+complete")
        self.assertRegex(r.stdout, re.escape(ours_partial[len(".partial-"):]) + r"\s+v2\s+2099-01-01 00:00:00 UTC.*partial")
        self.assertNotIn(other, r.stdout)
        self.assertNotIn("\x1b[", r.stdout)

    def test_backup_dir_elsewhere(self):
        home = Home()
        self.addCleanup(home.cleanup)
        missing = os.path.join(home.path, "nowhere")
        r = ctl(home, "backups", "--json", env={"DAEMON_DATA_BACKUP_DIR": missing})
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["backup_dir"], missing)
        self.assertEqual(doc["backup_dir_error"], "No such file or directory")
        self.assertIsNone(doc["free_bytes"])
        self.assertEqual(doc["backups"], [])
        r = ctl(home, "backups", env={"DAEMON_DATA_BACKUP_DIR": missing})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cannot be opened (No such file or directory)", r.stdout)
        # Untagged backups in a shared folder are nobody's we know: not listed there.
        shared = tempfile.mkdtemp(prefix="oraivisorctl-backups-")
        self.addCleanup(shutil.rmtree, shared, True)
        os.mkdir(os.path.join(shared, "data-backup-v1-20200101T000000Z"))
        r = ctl(home, "backups", "--json", env={"DAEMON_DATA_BACKUP_DIR": shared})
        self.assertEqual(json.loads(r.stdout)["backups"], [])


class Restore(unittest.TestCase):
    def setUp(self):
        self.home, self.name = upgraded_home(self)
        self.backup = os.path.join(self.home.path, self.name)
        with open(self.home.data("marker"), "w") as f:
            f.write("written after the upgrade")
        self.before = tree(self.home.data())
        self.backup_tree = tree(self.backup)
        self.assertNotEqual(self.before, self.backup_tree)

    def assertUnchanged(self):
        self.assertEqual(tree(self.home.data()), self.before)
        self.assertEqual(self.home.current(), "upgrades/v2")
        left = [n for n in os.listdir(self.home.path) if n.startswith(("data.", ".partial-data."))]
        self.assertEqual(left, [])

    def test_restore_switch_and_undo(self):
        stale = os.path.join(self.home.path, "data.restoring-19990101T000000Z")
        os.mkdir(stale)
        r = ctl(self.home, "backups", "restore", self.name, "--switch-to", "genesis")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(tree(self.home.data()), self.backup_tree)
        self.assertEqual(self.home.current(), "genesis")
        self.assertFalse(os.path.exists(stale), "the leftover of an interrupted restore is removed")
        kept = [n for n in os.listdir(self.home.path) if n.startswith("data.replaced-")]
        self.assertEqual(len(kept), 1, os.listdir(self.home.path))
        self.assertRegex(kept[0], r"^data\.replaced-\d{8}T\d{6}Z$")
        self.assertEqual(tree(os.path.join(self.home.path, kept[0])), self.before)
        self.assertEqual(tree(self.backup), self.backup_tree, "the backup itself is untouched")
        out = r.stdout
        self.assertIn(f"Restored '{self.home.data()}' from the backup '{self.backup}'", out)
        self.assertIn(f"The replaced data is kept as '{self.home.path}/{kept[0]}'.", out)
        self.assertIn(f"Switched '{self.home.root}/current' from 'upgrades/v2' to 'genesis'.", out)
        # The undo commands, run as printed, give back the data and `current` as they were.
        lines = out.splitlines()
        i = lines.index("To undo, with oraivisor stopped:")
        undo = [lines[i + 1].strip(), lines[i + 2].strip()]
        self.assertTrue(undo[0].startswith("mv -T "), undo)
        self.assertEqual(undo[1], f"ln -sfnT upgrades/v2 {self.home.root}/current")
        for cmd in undo:
            subprocess.run(cmd, shell=True, check=True)
        self.assertEqual(tree(self.home.data()), self.before)
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_restore_without_switch(self):
        r = ctl(self.home, "backups", "restore", self.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(tree(self.home.data()), self.backup_tree)
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIn("the backup was taken before the upgrade to 'v2'", r.stdout)
        self.assertNotIn("ln -sfnT", r.stdout)
        # A second restore of the same second keeps both replaced folders.
        r = ctl(self.home, "backups", "restore", self.name, "--switch-to", "v2")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len([n for n in os.listdir(self.home.path) if n.startswith("data.replaced-")]), 2)

    def test_refused_while_oraivisor_runs(self):
        run = Run(self.home, env=base_env(self.home))
        self.addCleanup(run.kill)
        self.assertTrue(run.wait_for("fakechaind v2 starting"), run.text())
        r = ctl(self.home, "backups", "restore", self.name, "--switch-to", "genesis")
        self.assertEqual(r.returncode, 75, r.stdout + r.stderr)
        self.assertIn(f"oraivisor (or the node it started) is running on '{self.home.path}': stop it first", r.stderr)
        run.signal(signal.SIGTERM)
        self.assertEqual(run.wait(30), 0, run.text())
        self.before = tree(self.home.data())  # the node went on meanwhile
        self.assertUnchanged()
        # With -i, the unit to stop is named.
        conf = tempfile.mkdtemp(prefix="oraivisorctl-conf-")
        self.addCleanup(shutil.rmtree, conf, True)
        with open(os.path.join(conf, "fakechaind.conf"), "w") as f:
            f.write(f"DAEMON_HOME={self.home.path}\nORAIVISOR_LAUNCHER=exec\nUNSAFE_SKIP_BACKUP=true\n")
        run = Run(self.home, env=base_env(self.home))
        self.addCleanup(run.kill)
        self.assertTrue(run.wait_for("fakechaind v2 starting"), run.text())
        r = ctl({}, "-i", "fakechaind", "backups", "restore", self.name, conf_dir=conf)
        self.assertEqual(r.returncode, 75, r.stdout + r.stderr)
        self.assertIn("stop it first with 'systemctl stop oraivisor@fakechaind'", r.stderr)
        run.signal(signal.SIGTERM)
        self.assertEqual(run.wait(30), 0, run.text())

    def test_refused_while_a_process_uses_data(self):
        p = subprocess.Popen(["sleep", "600"], cwd=self.home.data())
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        r = ctl(self.home, "backups", "restore", self.name)
        self.assertEqual(r.returncode, 75, r.stdout + r.stderr)
        self.assertIn(f"Process {p.pid} (sleep) uses '{self.home.data()}': stop the node", r.stderr)
        self.assertUnchanged()

    def test_refusals(self):
        other = re.sub(r"@[0-9a-f]{8}-", "@00000000-", self.name)
        shutil.copytree(self.backup, os.path.join(self.home.path, other))
        partial = ".partial-" + STAMP.sub("-20990101T000000Z", self.name)
        os.mkdir(os.path.join(self.home.path, partial))
        os.makedirs(os.path.join(self.home.root, "upgrades", "v3", "bin"))
        with open(os.path.join(self.home.root, "upgrades", "v3", "bin", "fakechaind"), "w") as f:
            f.write("#!/bin/sh\n")
        for args, status, want in [
                (("nope",), 4, "No backup 'nope' of fakechaind in '%s': see 'oraivisorctl backups' for the list." % self.home.path),
                ((other,), 1, "is a backup of the node 'fakechaind@00000000', not of this node"),
                ((partial[len(".partial-"):],), 1, "is an unfinished backup"),
                ((partial,), 1, "is an unfinished backup"),
                ((self.name, "--switch-to", "v9"), 4, "--switch-to 'v9': no such upgrade is installed"),
                ((self.name, "--switch-to", ".."), 2, "--switch-to '..' is not a version name"),
                ((self.name, "--switch-to", "v3"), 4, "upgrades/v3/bin/fakechaind' is not executable")]:
            r = ctl(self.home, "backups", "restore", *args)
            self.assertEqual(r.returncode, status, (args, r.stdout, r.stderr))
            self.assertIn(want, r.stderr, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertUnchanged()

    @unittest.skipUnless(os.geteuid() == 0, "dropping CAP_DAC_OVERRIDE needs root (make check runs as root in CI)")
    def test_unreadable_file_leaves_data(self):
        secret = os.path.join(self.backup, "secret")
        with open(secret, "wb") as f:
            f.write(os.urandom(1 << 20))
        os.chmod(secret, 0)
        self.addCleanup(os.chmod, secret, 0o600)
        caps = "-dac_override,-dac_read_search"
        r = ctl_wrapped(self.home, ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"],
                        "backups", "restore", self.name, "--switch-to", "genesis")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"Restoring '{self.backup}' failed, '{self.home.data()}' is unchanged:", r.stderr)
        self.assertIn("secret", r.stderr)
        self.assertUnchanged()

    @unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root (make check runs as root in CI)")
    def test_full_disk_leaves_data(self):
        # data/ is a symlink to a folder on a 1 MiB tmpfs (mounted in a mount namespace of the test's own);
        # the backup holds 4 MiB: the copy beside data/ cannot fit, and the restore stops before touching it.
        with open(os.path.join(self.backup, "big"), "wb") as f:
            f.write(os.urandom(4 << 20))
        small = tempfile.mkdtemp(prefix="oraivisorctl-small-")
        self.addCleanup(shutil.rmtree, small, True)
        shutil.rmtree(self.home.data())
        os.symlink(os.path.join(small, "data"), self.home.data())
        script = ('set -e; mount -t tmpfs -o size=1m sbx "$0"; mkdir "$0/data"; echo before >"$0/data/height"; '
                  'rc=0; "$@" || rc=$?; echo "rc=$rc"; ls -A "$0"; cat "$0/data/height"')
        r = ctl_wrapped(self.home, ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, small],
                        "backups", "restore", self.name)
        self.assertIn("rc=1\ndata\nbefore\n", r.stdout, r.stdout + r.stderr)
        self.assertRegex(r.stderr, re.escape(f"Restoring '{self.backup}' failed, '{small}/data' is unchanged: the copy "
                                             f"beside it needs ") + r"4\.\d MiB and " + re.escape(f"'{small}' has ") +
                         r"\d+(\.\d)? KiB free: free space there")
        self.assertEqual(os.readlink(self.home.data()), os.path.join(small, "data"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
