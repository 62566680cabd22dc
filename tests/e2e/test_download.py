# SPDX-License-Identifier: LGPL-2.1-or-later
"""End to end with downloads, exec mode: fakechaind v1 announces v2 with a plan info naming a manifest on a
loopback HTTP server; the installed oraivisor downloads, verifies, unpacks and runs v2."""

import hashlib
import json
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from harness import Home, Run, base_env, fakechaind, kill_tree_by_home, run_once, tar_gz  # noqa: E402
from server import start_server  # noqa: E402

EXIT_UPGRADE_FAILED = 81


class TestDownloadEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home_base = None

    def setUp(self):
        self.home = Home(upgrades=())
        self.srv_dir = os.path.join(self.home.path, "srv")
        os.makedirs(self.srv_dir)
        self.server = start_server(self.srv_dir)
        self.base = f"http://127.0.0.1:{self.server.port}"
        with open(fakechaind("v2"), "rb") as f:
            self.v2 = f.read()

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.server.stop()
        self.home.cleanup()

    def put(self, name, data):
        with open(os.path.join(self.srv_dir, name), "wb") as f:
            f.write(data)
        return f"{self.base}/{name}"

    def env(self, info, **kw):
        return base_env(self.home, FAKECHAIN_PLANS="v2@5", FAKECHAIN_PLAN_INFO=info,
                        DAEMON_ALLOW_DOWNLOAD_BINARIES="true", ORAIVISOR_DOWNLOAD_RETRIES="1", **kw)

    def test_manifest_download_and_run(self):
        archive = tar_gz([("bin/fakechaind", self.v2, 0o755), ("lib/libwasmvm.x86_64.so", b"\x7fELF lib", 0o644)])
        url = self.put("v2.tar.gz", archive) + "?checksum=sha256:" + hashlib.sha256(archive).hexdigest()
        manifest = json.dumps({"binaries": {"linux/arm64": "https://example.invalid/broken?checksum=md5:00",
                                            "linux/amd64": url, "any": url}})
        murl = self.put("manifest.json", manifest.encode())
        r = Run(self.home, env=self.env(murl, DAEMON_RESTART_AFTER_UPGRADE="true",
                                        FAKECHAIN_ECHO_ENV="LD_LIBRARY_PATH"))
        self.assertTrue(r.wait_for("fakechaind v2 starting", timeout=60), r.text())
        self.assertTrue(r.wait_for(f"LD_LIBRARY_PATH={self.home.root}/upgrades/v2/lib"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertTrue(os.path.exists(os.path.join(self.home.root, "upgrades/v2/lib/libwasmvm.x86_64.so")))
        self.assertEqual([n for n in os.listdir(os.path.join(self.home.root, "upgrades")) if n.startswith(".")], [])

    def test_bad_checksum_changes_nothing(self):
        url = self.put("v2", self.v2) + "?checksum=sha256:" + "0" * 64
        info = json.dumps({"binaries": {"any": url}})
        rc, r = run_once(self.home, env=self.env(info), timeout=60)
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("0" * 64, r.text())
        self.assertIn(hashlib.sha256(self.v2).hexdigest(), r.text())
        self.assertEqual(self.home.current(), "genesis")
        self.assertEqual(os.listdir(os.path.join(self.home.root, "upgrades")), [])

    def test_download_failure_then_retry_on_next_start(self):
        info = json.dumps({"binaries": {"any": f"{self.base}/status/404/v2"}})
        rc, r = run_once(self.home, env=self.env(info), timeout=60)
        self.assertEqual(rc, EXIT_UPGRADE_FAILED, r.text())
        self.assertIn("404", r.text())
        self.assertEqual(self.home.current(), "genesis")
        # The operator fixes the mirror; the next start carries out the pending upgrade.
        url = self.put("v2", self.v2)
        with open(self.home.data("upgrade-info.json")) as f:
            plan = json.load(f)
        plan["info"] = json.dumps({"binaries": {"any": url}})
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump(plan, f)
        r2 = Run(self.home, env=self.env(info, DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r2.wait_for("fakechaind v2 starting", timeout=60), r2.text())
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
