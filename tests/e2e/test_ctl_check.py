# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl check: a staged version that will not start on this host is found days ahead, each failure
with its own reason, and none hangs the check. The binaries are built here with the C compiler."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, base_env, ctl, kill_tree_by_home, run_once  # noqa: E402

CC = shutil.which("cc") or shutil.which("gcc")


def sh(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CC:
            raise RuntimeError("a C compiler (cc) is needed: tools/install-deps.sh build")
        cls.src = tempfile.mkdtemp(prefix="oraivisorctl-check-src-")
        d = cls.src
        with open(os.path.join(d, "foo.c"), "w") as f:
            f.write("int foo(void) { return 1; }\n")
        with open(os.path.join(d, "v2.map"), "w") as f:
            f.write("FOO_2.0 { global: foo; local: *; };\n")
        with open(os.path.join(d, "v1.map"), "w") as f:
            f.write("FOO_1.0 { global: foo; local: *; };\n")
        with open(os.path.join(d, "main.c"), "w") as f:
            f.write("#include <stdio.h>\nint foo(void);\n"
                    "int main(int c, char **v) { printf(\"app %d\\n\", foo()); return 0; }\n")
        sh(CC, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-Wl,--version-script=v2.map", "foo.c", "-o", "libfoo.so.1", cwd=d)
        sh(CC, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-Wl,--version-script=v1.map", "foo.c", "-o", "libfoo-old.so.1", cwd=d)
        sh(CC, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.2", "-Wl,--version-script=v2.map", "foo.c", "-o", "libfoo.so.2", cwd=d)
        os.symlink("libfoo.so.1", os.path.join(d, "libfoo.so"))
        sh(CC, "main.c", "-L.", "-lfoo", "-o", "app", cwd=d)
        # A symbol version newer than the host's glibc: linked against a stub libc.so.6 defining GLIBC_9.99.
        with open(os.path.join(d, "g.c"), "w") as f:
            f.write("int fake_glibc_fn(void) { return 1; }\n")
        with open(os.path.join(d, "g.map"), "w") as f:
            f.write("GLIBC_9.99 { global: fake_glibc_fn; };\n")
        os.makedirs(os.path.join(d, "stub"))
        sh(CC, "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libc.so.6", "-Wl,--version-script=g.map", "g.c", "-o", "stub/libc.so.6", cwd=d)
        with open(os.path.join(d, "s.c"), "w") as f:
            f.write("int fake_glibc_fn(void);\nvoid _start(void) { fake_glibc_fn(); __builtin_trap(); }\n")
        sh(CC, "-nostdlib", "-fno-stack-protector", "s.c", "stub/libc.so.6", "-o", "newglibc", cwd=d)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.src, ignore_errors=True)

    def setUp(self):
        self.home = Home(upgrades=())
        self.addCleanup(self.home.cleanup)
        self.home.install("genesis", "v1")
        os.symlink("genesis", os.path.join(self.home.root, "current"))

    def stage(self, name, binary=None, content=None, libs=(), mode=0o755):
        d = os.path.join(self.home.root, "upgrades", name)
        os.makedirs(os.path.join(d, "bin"))
        dst = os.path.join(d, "bin", self.home.name)
        if binary:
            shutil.copy(os.path.join(self.src, binary), dst)
        else:
            with open(dst, "wb") as f:
                f.write(content)
        os.chmod(dst, mode)
        if libs:
            os.makedirs(os.path.join(d, "lib"))
            for src, name_in_lib in libs:
                shutil.copy(os.path.join(self.src, src), os.path.join(d, "lib", name_in_lib))
        return dst

    def check(self, name):
        r = ctl(self.home, "check", name, "--json")
        doc = json.loads(r.stdout) if r.stdout.strip() else None
        return r, doc

    def assertNotReady(self, name, want):
        r, doc = self.check(name)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(len(doc), 1)
        self.assertFalse(doc[0]["ready"])
        self.assertIn(want, doc[0]["reason"])
        return doc[0]

    def test_ready(self):
        self.stage("withlib", "app", libs=[("libfoo.so.1", "libfoo.so.1")])
        r, doc = self.check("withlib")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(doc[0]["name"], "withlib")
        self.assertTrue(doc[0]["ready"])
        self.assertIsNone(doc[0]["reason"])
        self.assertEqual(doc[0]["version_output"], "app 1\n")
        r, doc = self.check("genesis")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("v1", doc[0]["version_output"])

    def test_each_failure_has_its_reason(self):
        self.stage("missinglib", "app")
        self.assertNotReady("missinglib", "needs libfoo.so.1, found neither in the version's lib/")
        self.stage("wrongsoname", "app", libs=[("libfoo.so.2", "libfoo.so.2")])
        self.assertNotReady("wrongsoname", "needs libfoo.so.1")
        self.stage("oldlib", "app", libs=[("libfoo-old.so.1", "libfoo.so.1")])
        self.assertNotReady("oldlib", "needs symbol version FOO_2.0 (libfoo.so.1)")
        self.stage("newglibc", "newglibc")
        self.assertNotReady("newglibc", "needs symbol version GLIBC_9.99 (libc.so.6)")
        with open(os.path.join(self.src, "app"), "rb") as f:
            elf = bytearray(f.read())
        machine = struct.unpack_from("<H", elf, 18)[0]
        struct.pack_into("<H", elf, 18, 183 if machine != 183 else 62)
        self.stage("foreign", content=bytes(elf))
        self.assertNotReady("foreign", "is built for AArch64" if machine != 183 else "is built for x86-64")
        with open(os.path.join(self.src, "app"), "rb") as f:
            whole = f.read()
        self.stage("truncated", content=whole[:len(whole) // 2])
        self.assertNotReady("truncated", "is truncated")
        self.stage("noexec", "app", libs=[("libfoo.so.1", "libfoo.so.1")], mode=0o644)
        self.assertNotReady("noexec", "is not executable")
        self.stage("nointerp", content=b"#!/nonexistent/bin/sh\necho hi\n")
        self.assertNotReady("nointerp", "interpreter /nonexistent/bin/sh does not exist")
        self.stage("fails", content=b"#!/bin/sh\necho 'Error: unknown flag --foo' >&2\nexit 2\n")
        doc = self.assertNotReady("fails", "`version` exited with status 2 (\"Error: unknown flag --foo\")")
        self.assertIn("unknown flag", doc["version_output"])
        self.stage("archive", content=b"\x1f\x8b\x08\x00" + b"\0" * 100)
        self.assertNotReady("archive", "is a gzip archive")

    def test_symlink_out_of_the_version_is_not_its_binary(self):
        # bin/<name> leading outside upgrades/<name>/: list and the upgrade do not count it as installed,
        # so check must not call it ready either (it would run a file the version does not hold).
        d = os.path.join(self.home.root, "upgrades", "outside", "bin")
        os.makedirs(d)
        os.symlink(os.path.join(self.home.root, "genesis", "bin", self.home.name), os.path.join(d, self.home.name))
        self.assertNotReady("outside", "is not a regular file inside its version folder")
        # Inside the folder a symlink is fine.
        self.stage("inside", "app", libs=[("libfoo.so.1", "libfoo.so.1")])
        real = os.path.join(self.home.root, "upgrades", "inside", "bin", self.home.name)
        os.rename(real, real + ".real")
        os.symlink(self.home.name + ".real", real)
        r, doc = self.check("inside")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(doc[0]["ready"])

    def test_hang_is_killed(self):
        pidfile = os.path.join(self.home.path, "hang.pid")
        self.stage("hangs", content=f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n".encode())
        start = time.monotonic()
        self.assertNotReady("hangs", "does not finish `version` within 10s (killed)")
        self.assertLess(time.monotonic() - start, 120)
        with open(pidfile) as f:
            pid = int(f.read())
        # Nothing is left running.
        self.assertFalse(os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z")

    def test_all_versions_and_errors(self):
        self.stage("good", "app", libs=[("libfoo.so.1", "libfoo.so.1")])
        self.stage("bad", content=b"")
        r = ctl(self.home, "check", "--json")
        self.assertEqual(r.returncode, 3, r.stderr)
        doc = {v["name"]: v for v in json.loads(r.stdout)}
        self.assertEqual(set(doc), {"genesis", "good", "bad"})
        self.assertTrue(doc["genesis"]["ready"] and doc["good"]["ready"])
        self.assertIn("is empty", doc["bad"]["reason"])
        r = ctl(self.home, "check", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 3)
        self.assertRegex(r.stdout, r"good\s+ready\s+app 1")
        self.assertRegex(r.stdout, r"bad\s+not ready\s+the binary is empty")
        r = ctl(self.home, "check", "nosuch")
        self.assertEqual(r.returncode, 4)
        self.assertIn("Upgrade 'nosuch' is not installed", r.stderr)
        # A name is encoded, never a path: '../evil' is looked for as upgrades/..%2Fevil.
        r = ctl(self.home, "check", "../evil")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("upgrades/..%2Fevil", r.stderr)
        r = ctl(self.home, "check", "")
        self.assertEqual(r.returncode, 2, r.stderr)
        shutil.rmtree(os.path.join(self.home.root, "upgrades", "bad"))
        r = ctl(self.home, "check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)



class StatusShowsReadiness(Check):
    """`status` says ready only for a binary that passes the check; installed is not enough."""

    def plan(self, name):
        os.makedirs(self.home.data(), exist_ok=True)
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": name, "height": 100}, f)

    def scheduled(self):
        r = ctl(self.home, "status", "--json")
        self.assertIn(r.returncode, (0, 3), r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(len(doc["scheduled"]), 1, doc["scheduled"])
        return doc, doc["scheduled"][0]

    def test_not_ready_missing_ready(self):
        self.stage("v9", "newglibc")
        self.plan("v9")
        doc, s = self.scheduled()
        self.assertEqual(s["binary"], "not_ready")
        self.assertIn("GLIBC_9.99", s["binary_reason"])
        self.assertTrue(any("installed but will not start on this host" in w for w in doc["warnings"]), doc["warnings"])
        r = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertIn("binary not ready", r.stdout)
        self.plan("v10")
        doc, s = self.scheduled()
        self.assertEqual(s["binary"], "missing")
        self.assertIsNone(s.get("binary_reason"))
        self.stage("v11", "app", libs=[("libfoo.so.1", "libfoo.so.1")])
        self.plan("v11")
        doc, s = self.scheduled()
        self.assertEqual(s["binary"], "ready")
        self.assertIsNone(s.get("binary_reason"))

    # The Check tests are not run again here.
    test_ready = test_each_failure_has_its_reason = test_hang_is_killed = test_all_versions_and_errors = None


class UpgradeStopsAtNotReady(Check):
    """At the height, a version that will not start on this host stops the upgrade before 'current'
    changes, with the reason: the node is not switched to a binary that cannot run."""

    def test_upgrade_refused_before_the_switch(self):
        self.addCleanup(kill_tree_by_home, self.home)
        self.stage("v2", "newglibc")
        rc, r = run_once(self.home, env=base_env(self.home, FAKECHAIN_PLANS="v2@15"), timeout=120)
        text = r.text()
        self.assertEqual(rc, 81, text)
        self.assertEqual(self.home.current(), "genesis")
        self.assertIn("will not start on this host", text)
        self.assertIn("GLIBC_9.99", text)

    def test_ready_version_upgrades(self):
        self.addCleanup(kill_tree_by_home, self.home)
        self.home.install("upgrades/v2", "v2")
        rc, r = run_once(self.home, env=base_env(self.home, FAKECHAIN_PLANS="v2@15"), timeout=120)
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIn("is ready: it will start on this host", r.text())

    test_ready = test_each_failure_has_its_reason = test_hang_is_killed = test_all_versions_and_errors = None


class InstallReportsReadiness(Check):
    """add-upgrade and init say whether what they installed starts on this host; not ready is status 3,
    installed all the same (the switch at the height refuses it)."""

    def test_add_upgrade(self):
        src = os.path.join(self.src, "newglibc")
        r = ctl(self.home, "add-upgrade", "v5", src)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("'v5' is installed but NOT READY: the binary needs symbol version GLIBC_9.99", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.home.root, "upgrades", "v5", "bin", self.home.name)))
        r = ctl(self.home, "add-upgrade", "v6", os.path.join(self.home.root, "genesis", "bin", self.home.name))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"is ready: it starts on this host \(version: .*v1")

    test_ready = test_each_failure_has_its_reason = test_hang_is_killed = test_all_versions_and_errors = None


if __name__ == "__main__":
    unittest.main(verbosity=2)
