# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed oraivisor does not link libcurl, libarchive nor libcrypto: it dlopen()s them when a download
starts (src/shared/dlopen-libs.c). An idle oraivisor maps none of them; a download with one of them missing
(simulated with _ORAIVISOR_TEST_DLOPEN_MISSING, which makes the real dlopen() fail) fails the upgrade with one
line naming the library, what needed it and the Debian package, leaves `current` and upgrades/ alone, and
the next start with the library present carries out the upgrade."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from harness import BUILD_ROOT, Home, Run, base_env, fakechaind, installed_oraivisor, kill_tree_by_home, run_once  # noqa: E402
from server import start_server  # noqa: E402

EXIT_UPGRADE_FAILED = 81
IDLE_RSS_MAX_KIB = 4096


def sonames():
    """The SONAMEs this build dlopen()s, from its config.h."""
    with open(os.path.join(BUILD_ROOT, "config.h")) as f:
        text = f.read()
    found = dict(re.findall(r'#define (LIB[A-Z]+)_SONAME "([^"]+)"', text))
    return {"libcurl": found["LIBCURL"], "libarchive": found["LIBARCHIVE"], "libcrypto": found["LIBCRYPTO"]}


DEBIAN_PACKAGES = {"libcurl.so.4": "libcurl4", "libarchive.so.13": "libarchive13", "libcrypto.so.3": "libssl3"}
NEEDED_FOR = {"libcurl": "download", "libcrypto": "verify", "libarchive": "unpack"}


def mapped_files(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[5] for line in f if len(line.split()) >= 6}


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class TestDlopen(unittest.TestCase):
    def setUp(self):
        self.home = Home(upgrades=())
        self.srv_dir = os.path.join(self.home.path, "srv")
        os.makedirs(self.srv_dir)
        self.server = start_server(self.srv_dir)
        with open(fakechaind("v2"), "rb") as f:
            v2 = f.read()
        with open(os.path.join(self.srv_dir, "v2"), "wb") as f:
            f.write(v2)
        url = f"http://127.0.0.1:{self.server.port}/v2?checksum=sha256:{hashlib.sha256(v2).hexdigest()}"
        self.info = json.dumps({"binaries": {"any": url}})

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.server.stop()
        self.home.cleanup()

    def env(self, **kw):
        return base_env(self.home, FAKECHAIN_PLANS="v2@5", FAKECHAIN_PLAN_INFO=self.info,
                        DAEMON_ALLOW_DOWNLOAD_BINARIES="true", ORAIVISOR_DOWNLOAD_RETRIES="1", **kw)

    def test_binary_does_not_link_download_libraries(self):
        out = subprocess.run(["readelf", "-d", installed_oraivisor()], check=True, capture_output=True,
                             text=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
        self.assertIn("libc.so.6", needed)
        for lib in needed:
            self.assertFalse(lib.startswith(("libcurl", "libarchive", "libcrypto", "libssl")), needed)

    def test_idle_maps_no_download_library(self):
        home = Home()  # no plan: fakechaind v1 just runs
        try:
            r = Run(home, env=base_env(home))
            self.assertTrue(r.wait_for("committed state height=2", timeout=30), r.text())
            files = mapped_files(r.proc.pid)
            for name in sonames().values():
                self.assertFalse([f for f in files if os.path.basename(f).startswith(name)], files)
            rss = status_kib(r.proc.pid, "VmRSS")
            # The idle budget; a sanitizer build maps its own runtime and shadow memory.
            if not [f for f in files if "libasan" in f or "libubsan" in f]:
                self.assertLessEqual(rss, IDLE_RSS_MAX_KIB, f"idle VmRSS {rss} KiB")
            r.signal(signal.SIGTERM)
            self.assertEqual(r.wait(), 0, r.text())
        finally:
            kill_tree_by_home(home)
            home.cleanup()

    def check_missing(self, library):
        soname = sonames()[library]
        rc, r = run_once(self.home, env=self.env(_ORAIVISOR_TEST_DLOPEN_MISSING=library), timeout=60)
        text = r.text()
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, text)
        lines = [line for line in text.splitlines() if f"{soname}, needed" in line]
        self.assertEqual(len(lines), 1, text)
        line = lines[0]
        self.assertIn(f"{soname}, needed to {NEEDED_FOR[library]} the binary of upgrade v2, cannot be loaded "
                      f"({soname}.missing-for-test: cannot open shared object file: No such file or directory)",
                      line)
        if soname in DEBIAN_PACKAGES:
            self.assertIn(f"install the Debian package {DEBIAN_PACKAGES[soname]}, or install "
                          f"'{self.home.root}/upgrades/v2/bin/fakechaind' by hand", line)
        self.assertIn("failed at step obtain", line)
        self.assertIn("is unchanged", line)
        # Nothing fetched, nothing staged, nothing switched.
        self.assertEqual(self.server.requests, [])
        self.assertEqual(self.home.current(), "genesis")
        self.assertEqual(os.listdir(os.path.join(self.home.root, "upgrades")), [])
        return r

    def test_missing_libcurl_then_installed(self):
        self.check_missing("libcurl")
        # The package is installed: the next start downloads and runs v2.
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r.wait_for("fakechaind v2 starting", timeout=60), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")

    def test_missing_libcrypto(self):
        self.check_missing("libcrypto")

    def test_missing_libarchive(self):
        self.check_missing("libarchive")


if __name__ == "__main__":
    unittest.main(verbosity=2)
