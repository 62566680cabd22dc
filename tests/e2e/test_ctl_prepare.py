# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl prepare-upgrade against a loopback HTTP(S) server: the plan from --info (inline JSON or a
manifest URL) or from data/upgrade-info.json, with downloads disabled for oraivisor; every bad input one
line and nothing installed; progress lines (and the bar under a pty); the install lock taken at publish
only; 75 while oraivisor upgrades to that very plan; and oraivisor upgrading at the height, downloads off,
with what prepare-upgrade installed."""

import errno
import fcntl
import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from harness import (Home, Run, base_env, ctl, fakechaind, installed_ctl, kill_tree_by_home,  # noqa: E402
                     run_once, tar_gz)
from server import start_server  # noqa: E402

EXIT_BUSY = 75
EXIT_UPGRADE_MISSING = 80


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("oraivisorctl: error:")]


class CtlRun:
    """oraivisorctl in the background, stdout and stderr to files, for the tests that act while it runs."""

    def __init__(self, home, *args, env=None):
        self.out_path = os.path.join(home.path, "ctl.stdout")
        self.err_path = os.path.join(home.path, "ctl.stderr")
        e = base_env(home)
        e.update(env or {})
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([installed_ctl(), *args], env=e, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_for(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.stderr():
                return True
            if self.proc.poll() is not None:
                return needle in self.stderr()
            time.sleep(0.02)
        return False

    def wait(self, timeout=60):
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PrepareTestCase(unittest.TestCase):
    upgrades = ()

    def setUp(self):
        self.home = Home(upgrades=self.upgrades)
        self.srv_dir = os.path.join(self.home.path, "srv")
        os.makedirs(self.srv_dir)
        self.server = start_server(self.srv_dir)
        self.addCleanup(self.server.stop)
        self.base = f"http://127.0.0.1:{self.server.port}"
        with open(fakechaind("v2"), "rb") as f:
            self.v2 = f.read()
        self.upgrades_dir = os.path.join(self.home.root, "upgrades")

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.home.cleanup()

    def put(self, name, data):
        with open(os.path.join(self.srv_dir, name), "wb") as f:
            f.write(data)
        return f"{self.base}/{name}"

    def archive_url(self, prefix=""):
        """v2 as a tar.gz with a lib/, its URL carrying its sha256."""
        archive = tar_gz([("bin/fakechaind", self.v2, 0o755), ("lib/libwasmvm.x86_64.so", b"\x7fELF lib", 0o644)])
        url = self.put("v2.tar.gz", archive)
        if prefix:
            url = url.replace(self.base, self.base + prefix)
        return url + "?checksum=sha256:" + hashlib.sha256(archive).hexdigest()

    def inline(self, url):
        return json.dumps({"binaries": {"linux/arm64": "https://example.invalid/none?checksum=md5:00",
                                        "linux/amd64": url, "any": url}})

    def write_plan_file(self, name, info, height=5):
        os.makedirs(self.home.data(), exist_ok=True)
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": name, "height": height, "info": info}, f)

    def ctl(self, *args, **env):
        return ctl(self.home, *args, env={k: str(v) for k, v in env.items()})

    def binary(self, folder="v2"):
        return os.path.join(self.upgrades_dir, folder, "bin", "fakechaind")

    def assertInstalled(self, folder="v2", lib=True):
        with open(self.binary(folder), "rb") as f:
            self.assertEqual(f.read(), self.v2)
        self.assertTrue(os.access(self.binary(folder), os.X_OK))
        if lib:
            self.assertTrue(os.path.exists(os.path.join(self.upgrades_dir, folder, "lib", "libwasmvm.x86_64.so")))
        self.assertEqual(self.leftovers(), [])

    def assertNothingInstalled(self):
        self.assertEqual(os.listdir(self.upgrades_dir) if os.path.isdir(self.upgrades_dir) else [], [])

    def leftovers(self):
        if not os.path.isdir(self.upgrades_dir):
            return []
        return sorted(n for n in os.listdir(self.upgrades_dir) if n.startswith("."))

    def requests(self, fragment):
        return [p for p, _rng, _st in self.server.requests if fragment in p]


class TestPrepare(PrepareTestCase):
    def test_inline_json_info_downloads_off(self):
        # base_env leaves DAEMON_ALLOW_DOWNLOAD_BINARIES unset (false): an explicit request downloads anyway.
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()),
                     DAEMON_ALLOW_DOWNLOAD_BINARIES="false")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Upgrade 'v2' is ready", r.stdout)
        self.assertIn("verified against its checksum", r.stdout)
        self.assertIn(self.binary(), r.stdout)
        self.assertIn("matches its checksum sha256:", r.stderr)
        self.assertInstalled()

    def test_manifest_url_json(self):
        murl = self.put("manifest.json", self.inline(self.archive_url()).encode())
        r = self.ctl("prepare-upgrade", "v2", "--info", murl, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc, {"name": "v2", "height": None, "plan_source": "info", "folder": "v2",
                               "binary": self.binary(), "result": "installed", "verified": True,
                               "ready": True, "ready_reason": None})
        self.assertEqual(len(self.requests("manifest.json")), 1)
        self.assertInstalled()

    def test_checksum_file_list(self):
        archive = tar_gz([("bin/fakechaind", self.v2, 0o755)])
        self.put("v2.tar.gz", archive)
        lurl = self.put("SHA256SUMS", f"{hashlib.sha256(archive).hexdigest()}  v2.tar.gz\n".encode())
        url = f"{self.base}/v2.tar.gz?checksum=file:{lurl}"
        r = self.ctl("prepare-upgrade", "v2", "--info", json.dumps({"binaries": {"any": url}}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertInstalled(lib=False)

    def test_from_upgrade_info_json(self):
        self.write_plan_file("v2", self.inline(self.archive_url()), height=1234)
        r = self.ctl("prepare-upgrade", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["name"], doc["height"], doc["plan_source"], doc["result"]),
                         ("v2", 1234, "upgrade-info.json", "installed"))
        self.assertInstalled()
        # NAME given and equal to the file's plan: fine (and installed by now).
        r = self.ctl("prepare-upgrade", "v2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already installed", r.stdout)

    def write_chain_state(self, *plans):
        """oraivisor/chain-state.json as the chain watcher writes it (docs/chain-watch.md), with these
        governance plans (name, height, info)."""
        now = int(time.time() * 1000000)
        ups = [{"name": n, "height": h, "info": i, "source": "governance", "first_seen_usec": now,
                "estimated_at_usec": now + 86400 * 1000000, "binary": "missing", "ready": "unknown", "warnings": []}
               for n, h, i in plans]
        with open(os.path.join(self.home.root, "chain-state.json"), "w") as f:
            json.dump({"version": 1, "rpc": "unix:///run/node.sock", "reachable": True, "height": 1000,
                       "height_time_usec": now, "block_time_usec": 5000000, "catching_up": False,
                       "updated_usec": now, "upgrades": ups}, f)

    def test_from_the_plan_approved_on_chain(self):
        # Days before the node writes upgrade-info.json, the chain watcher knows the plan: prepare-upgrade
        # NAME (as its warning says) takes it from there.
        self.write_chain_state(("v2", 21600, self.inline(self.archive_url())))
        r = self.ctl("prepare-upgrade", "v2", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["name"], doc["height"], doc["plan_source"], doc["result"]),
                         ("v2", 21600, "chain", "installed"))
        self.assertIn("Upgrade 'v2' at height 21600 as approved on chain", r.stderr)
        self.assertInstalled()

    def test_chain_plan_without_name_only_when_alone(self):
        self.write_chain_state(("v2", 21600, self.inline(self.archive_url())))
        r = self.ctl("prepare-upgrade")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertInstalled()

    def test_chain_plan_other_name_refused(self):
        self.write_chain_state(("v2", 21600, self.inline(self.archive_url())))
        r = self.ctl("prepare-upgrade", "v3")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("the chain watcher knows of no such plan", r.stderr)
        self.assertEqual(self.server.requests, [])
        self.assertNothingInstalled()

    def test_upgrade_info_json_wins_over_the_chain(self):
        # The node's own file (written at the halt) is the plan; the chain's is the heads-up.
        self.write_chain_state(("v2", 21600, "https://example.invalid/never?checksum=sha256:" + "0" * 64))
        self.write_plan_file("v2", self.inline(self.archive_url()), height=1234)
        r = self.ctl("prepare-upgrade", "v2", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["height"], doc["plan_source"]), (1234, "upgrade-info.json"))
        self.assertInstalled()

    def test_hostile_name_escaped(self):
        # The name comes from the chain: its control characters never reach the terminal.
        self.write_plan_file("v2\x1b[2J\x07", self.inline(self.archive_url()))
        r = self.ctl("prepare-upgrade")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\x1b", r.stdout + r.stderr)
        self.assertNotIn("\x07", r.stdout + r.stderr)
        self.assertIn("Upgrade 'v2\\x1b[2J\\x07' is ready", r.stdout)
        self.assertInstalled(folder="v2%1B%5B2J%07")

    def test_name_mismatch_refused(self):
        self.write_plan_file("v2", self.inline(self.archive_url()))
        r = self.ctl("prepare-upgrade", "v3")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("plans upgrade 'v2', not 'v3'", r.stderr)
        self.assertEqual(self.server.requests, [])
        self.assertNothingInstalled()

    def test_no_plan_is_a_usage_error(self):
        r = self.ctl("prepare-upgrade")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("data/upgrade-info.json' does not exist", r.stderr)
        self.assertIn("prepare-upgrade NAME --info INFO", r.stderr)
        r = self.ctl("prepare-upgrade", "v2")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("prepare-upgrade v2 --info INFO", r.stderr)
        r = self.ctl("prepare-upgrade", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--info needs the upgrade's NAME", r.stderr)
        for bad in ("", "x" * 300):
            r = self.ctl("prepare-upgrade", bad, "--info", self.inline(self.archive_url()))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
            self.assertIn("cannot be an upgrade's name", r.stderr)
        self.assertEqual(self.server.requests, [])
        self.assertNothingInstalled()

    def test_checksum_mismatch_installs_nothing(self):
        url = self.put("v2", self.v2) + "?checksum=sha256:" + "0" * 64
        r = self.ctl("prepare-upgrade", "v2", "--info", json.dumps({"binaries": {"any": url}}))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("does not match its checksum", r.stderr)
        self.assertIn("0" * 64, r.stderr)
        self.assertIn(hashlib.sha256(self.v2).hexdigest(), r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertNothingInstalled()

    def test_bad_inputs_one_line_nothing_installed(self):
        good = self.archive_url()
        cases = [
            ('{"binaries": {"any": ', "cannot be used to download its binary"),
            ("not json and not a URL", "cannot be used to download its binary"),
            (json.dumps({"binaries": {"any": "ftp://127.0.0.1/v2"}}), "is refused"),
            (json.dumps({"binaries": {"linux/riscv64": good}}), "no entry for this platform"),
            (json.dumps({"binaries": {"any": f"{self.base}/status/404/v2"}}), "404"),
            (json.dumps({"binaries": {"any": f"{self.base}/missing.json"}}), "404"),
            (f"{self.base}/status/500/manifest.json", "500"),
            (json.dumps({"binaries": {"any": "http://127.0.0.1:1/v2"}}), "127.0.0.1:1"),
            (json.dumps({"binaries": {"any": good.split("?")[0] + "?checksum=sha256:zz"}}), "malformed"),
        ]
        for info, want in cases:
            with self.subTest(info=info):
                r = self.ctl("prepare-upgrade", "v2", "--info", info, ORAIVISOR_DOWNLOAD_RETRIES="0")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
                self.assertIn(want, error_lines(r.stderr)[0])
                self.assertEqual(r.stdout, "")
                self.assertNothingInstalled()

    def test_download_settings_honoured(self):
        plain = self.put("v2", self.v2)
        info = json.dumps({"binaries": {"any": plain}})
        r = self.ctl("prepare-upgrade", "v2", "--info", info, DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM="true")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true", r.stderr)
        self.assertNothingInstalled()
        r = self.ctl("prepare-upgrade", "v2", "--info", info, ORAIVISOR_DOWNLOAD_MAX_SIZE="64K")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ORAIVISOR_DOWNLOAD_MAX_SIZE", r.stderr)
        self.assertNothingInstalled()
        local = json.dumps({"binaries": {"any": "file://" + fakechaind("v2")}})
        r = self.ctl("prepare-upgrade", "v2", "--info", local)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ORAIVISOR_ALLOW_FILE_URLS=true", r.stderr)
        self.assertNothingInstalled()
        # Without a checksum it installs, and says it was not verified.
        r = self.ctl("prepare-upgrade", "v2", "--info", local, ORAIVISOR_ALLOW_FILE_URLS="true")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("NOT verified", r.stdout)
        self.assertIn("has no checksum to verify", r.stderr)
        self.assertInstalled(lib=False)

    def test_retries_honoured(self):
        url = self.put("v2", self.v2).replace(self.base, self.base + "/flaky/k/2")
        info = json.dumps({"binaries": {"any": url}})
        r = self.ctl("prepare-upgrade", "v2", "--info", info, ORAIVISOR_DOWNLOAD_RETRIES="0")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("500", r.stderr)
        self.assertNothingInstalled()
        r = self.ctl("prepare-upgrade", "v2", "--info", info, ORAIVISOR_DOWNLOAD_RETRIES="3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertInstalled(lib=False)

    def test_https_with_ca_file(self):
        d = os.path.join(self.home.path, "tls")
        os.makedirs(d)

        def ossl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=oraivisorctl test CA")
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "srv.pem", "-days", "2", "-extfile", "ext.cnf")
        tls = start_server(self.srv_dir, os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
        self.addCleanup(tls.stop)
        url = self.archive_url().replace(self.base, f"https://127.0.0.1:{tls.port}")
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(url), ORAIVISOR_DOWNLOAD_RETRIES="0")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ORAIVISOR_DOWNLOAD_CA_FILE", r.stderr)
        self.assertNothingInstalled()
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(url),
                     ORAIVISOR_DOWNLOAD_CA_FILE=os.path.join(d, "ca.pem"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertInstalled()

    def test_progress_lines_when_not_a_terminal(self):
        # About 2 s at 100 kB/s: several tenths, each one line with the numbers.
        url = self.archive_url(prefix="/slow/100000")
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(url))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [line for line in r.stderr.splitlines() if "Upgrade v2: downloaded" in line]
        self.assertGreaterEqual(len(lines), 3, r.stderr)
        self.assertRegex(lines[-1], r"downloaded 100%, [\d.]+ KiB/[\d.]+ KiB  [\d.]+ [KM]iB/s")
        self.assertTrue(any("ETA " in line for line in lines[:-1]), r.stderr)
        self.assertNotIn("\r", r.stderr)
        self.assertNotIn("\x1b[", r.stderr)
        self.assertInstalled()

    def test_progress_bar_on_a_terminal(self):
        url = self.archive_url(prefix="/slow/100000")
        master, slave = pty.openpty()
        env = base_env(self.home)
        env["TERM"] = "xterm"
        p = subprocess.Popen([installed_ctl(), "prepare-upgrade", "v2", "--info", self.inline(url)], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        screen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as e:
                if e.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            screen += chunk
        os.close(master)
        out = p.stdout.read().decode()
        p.stdout.close()
        self.assertEqual(p.wait(timeout=30), 0, screen)
        text = screen.decode("utf-8", "replace")
        bars = [b for b in text.split("\r\x1b[K") if b.startswith("[")]
        self.assertGreaterEqual(len(bars), 2, text)
        self.assertRegex(text, r"\[#*\.*\]\s+\d+% [\d.]+ KiB/[\d.]+ KiB  [\d.]+ [KM]iB/s  ETA \d+:\d\d")
        self.assertRegex(text, r"\[#+\] 100%")
        # No "downloaded N%" lines: the bar shows it; and the bar is gone before the result.
        self.assertNotIn("Upgrade v2: downloaded", text)
        self.assertIn("Upgrade 'v2' is ready", out)
        self.assertInstalled()

    def test_interrupted_installs_nothing(self):
        url = self.archive_url(prefix="/slow/20000")
        run = CtlRun(self.home, "prepare-upgrade", "v2", "--info", self.inline(url))
        self.addCleanup(run.kill)
        self.assertTrue(run.wait_for("Upgrade v2: downloaded"), run.stderr())
        self.assertEqual(len(self.leftovers()), 1, "no staging folder while downloading")
        run.proc.send_signal(signal.SIGINT)
        self.assertEqual(run.wait(), 1, run.stderr())
        self.assertIn("Interrupted: nothing was installed", run.stderr())
        self.assertNothingInstalled()

    def test_stale_cleanup_leaves_a_running_download_alone(self):
        # oraivisor starting while prepare-upgrade downloads removes stale staging folders, not this one.
        url = self.archive_url(prefix="/slow/50000")
        run = CtlRun(self.home, "prepare-upgrade", "v2", "--info", self.inline(url))
        self.addCleanup(run.kill)
        self.assertTrue(run.wait_for("Upgrade v2: downloaded"), run.stderr())
        stale = os.path.join(self.upgrades_dir, ".staging-v9-0000aaaa")
        os.makedirs(stale)
        ours = self.leftovers()
        self.assertEqual(len(ours), 2)
        node = Run(self.home, env=base_env(self.home))
        self.addCleanup(node.kill)
        self.assertTrue(node.wait_for("fakechaind v1 starting"), node.text())
        self.assertIn("Removed '%s', left by an interrupted download" % stale, node.text())
        self.assertIn("a download running now is using it", node.text())
        self.assertFalse(os.path.exists(stale))
        node.signal(signal.SIGTERM)
        self.assertEqual(node.wait(), 0, node.text())
        self.assertEqual(run.wait(), 0, run.stderr())
        self.assertInstalled()


class TestDiskFull(unittest.TestCase):
    """Needs root (a small tmpfs), as the download suite's disk-full test."""

    def test_disk_full_installs_nothing(self):
        base = tempfile.mkdtemp(prefix="oraivisorctl-small-")
        self.addCleanup(os.rmdir, base)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", base], check=True)
        self.addCleanup(subprocess.run, ["umount", base], check=True)
        home = Home(upgrades=(), base=base)
        srv_dir = tempfile.mkdtemp(prefix="oraivisorctl-srv-")
        self.addCleanup(shutil.rmtree, srv_dir)
        server = start_server(srv_dir)
        self.addCleanup(server.stop)
        archive = tar_gz([("bin/fakechaind", b"\x7fELF" + os.urandom(12 << 20), 0o755)])
        with open(os.path.join(srv_dir, "big.tar.gz"), "wb") as f:
            f.write(archive)
        url = f"http://127.0.0.1:{server.port}/big.tar.gz?checksum=sha256:{hashlib.sha256(archive).hexdigest()}"
        r = ctl(home, "prepare-upgrade", "v2", "--info", json.dumps({"binaries": {"any": url}}))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("No space left on device", r.stderr)
        self.assertEqual(os.listdir(os.path.join(home.root, "upgrades")), [])


class TestAlreadyInstalled(PrepareTestCase):
    upgrades = ("v2",)

    def test_already_installed_fetches_nothing(self):
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Upgrade 'v2' is already installed", r.stdout)
        self.assertEqual(self.server.requests, [])
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["result"], doc["verified"]), ("already-installed", None))
        self.assertEqual(self.server.requests, [])

    def test_cosmovisor_lower_case_folder(self):
        # A plan named V2 finds upgrades/v2 (a folder prepared for cosmovisor), as oraivisor does.
        r = self.ctl("prepare-upgrade", "V2", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already installed", r.stdout)
        self.assertEqual(sorted(os.listdir(self.upgrades_dir)), ["v2"])

    def test_folder_without_binary_refused(self):
        os.chmod(self.binary(), 0o644)
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(error_lines(r.stderr)), 1, r.stderr)
        self.assertIn("holds no usable binary", r.stderr)
        self.assertEqual(self.server.requests, [])


class TestConcurrency(PrepareTestCase):
    def hold_install_lock(self, holder="4242 e2e test holder"):
        os.makedirs(self.home.root, exist_ok=True)
        fd = os.open(os.path.join(self.home.root, ".install-lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, (holder + "\n").encode())
        return fd

    def test_lock_taken_at_publish_only(self):
        fd = self.hold_install_lock()
        run = CtlRun(self.home, "prepare-upgrade", "v2", "--info", self.inline(self.archive_url()))
        self.addCleanup(run.kill)
        # The whole download and its verification happen while another writer holds the lock.
        self.assertTrue(run.wait_for("waiting for the install lock, held by '4242 e2e test holder'"), run.stderr())
        self.assertIn("matches its checksum", run.stderr())
        self.assertFalse(os.path.exists(os.path.join(self.upgrades_dir, "v2")))
        self.assertEqual(len(self.leftovers()), 1)
        os.close(fd)
        self.assertEqual(run.wait(), 0, run.stderr())
        self.assertIn("Upgrade 'v2' is ready", run.stdout())
        self.assertInstalled()

    def test_installed_meanwhile_by_the_other_writer(self):
        fd = self.hold_install_lock("4343 oraivisor upgrade v2")
        run = CtlRun(self.home, "prepare-upgrade", "v2", "--info", self.inline(self.archive_url()), "--json")
        self.addCleanup(run.kill)
        self.assertTrue(run.wait_for("waiting for the install lock"), run.stderr())
        # The holder (oraivisor) publishes the same folder, then lets go.
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        os.close(fd)
        self.assertEqual(run.wait(), 0, run.stderr())
        self.assertEqual(json.loads(run.stdout())["result"], "installed-meanwhile")
        self.assertIn("was installed by someone else while it was downloaded", run.stderr())
        self.assertInstalled(lib=False)  # the other writer's copy, without our lib/

    def test_refused_while_oraivisor_upgrades_that_plan(self):
        # A real oraivisor, stopped in its custom pre-upgrade hook until the test lets it go.
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        hook = os.path.join(self.home.root, "prepare.sh")
        with open(hook, "w") as f:
            f.write('#!/bin/sh\ntouch "$DAEMON_HOME/hook-running"\n'
                    'while [ ! -e "$DAEMON_HOME/go" ]; do sleep 0.05; done\n')
        os.chmod(hook, 0o755)
        r = Run(self.home, env=base_env(self.home, FAKECHAIN_PLANS="v2@5", ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh",
                                        ORAIVISOR_HOOK_TIMEOUT="5min", DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.addCleanup(r.kill)
        running = os.path.join(self.home.path, "hook-running")
        deadline = time.monotonic() + 60
        while not os.path.exists(running) and time.monotonic() < deadline and r.proc.poll() is None:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(running), r.text())

        p = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()))
        self.assertEqual(p.returncode, EXIT_BUSY, p.stderr)
        self.assertEqual(len(error_lines(p.stderr)), 1, p.stderr)
        self.assertIn("oraivisor is upgrading to 'v2' right now (step hooks)", p.stderr)
        self.assertEqual(self.server.requests, [])

        open(os.path.join(self.home.path, "go"), "w").close()
        self.assertTrue(r.wait_for("fakechaind v2 starting", timeout=60), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())

    def write_record(self, name):
        with open(os.path.join(self.home.root, "upgrade-in-progress.json"), "w") as f:
            json.dump({"version": 1, "plan": {"name": name, "height": 5, "info": ""}, "folder": name,
                       "step": "obtain", "started_usec": 1}, f)

    def test_record_of_another_plan_or_of_a_stopped_oraivisor(self):
        # oraivisor (it holds .lock) upgrading to v3: v2 is another plan, prepared meanwhile.
        self.write_record("v3")
        fd = os.open(os.path.join(self.home.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = self.ctl("prepare-upgrade", "v2", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertInstalled()
        # The same plan, recorded by an oraivisor that is not running (stopped mid-upgrade): prepared, and
        # the next start resumes with it.
        os.close(fd)
        self.write_record("v3")
        r = self.ctl("prepare-upgrade", "v3", "--info", self.inline(self.archive_url()))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("was interrupted at step obtain; oraivisor resumes it at its next start", r.stderr)
        self.assertInstalled("v3")


class TestUpgradeWithWhatWasPrepared(PrepareTestCase):
    """The proof that prepare-upgrade installs where oraivisor looks: oraivisor, downloads OFF, upgrades at
    the height with it."""

    def env(self, **kw):
        return base_env(self.home, FAKECHAIN_PLANS="v2@5", DAEMON_ALLOW_DOWNLOAD_BINARIES="false",
                        DAEMON_RESTART_AFTER_UPGRADE="true", FAKECHAIN_ECHO_ENV="LD_LIBRARY_PATH", **kw)

    def test_prepared_ahead_then_upgraded_at_height(self):
        info = self.inline(self.archive_url())
        p = self.ctl("prepare-upgrade", "v2", "--info", info, DAEMON_ALLOW_DOWNLOAD_BINARIES="false")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.server.stop()  # nothing is fetched at upgrade time
        r = Run(self.home, env=self.env(FAKECHAIN_PLAN_INFO=info))
        self.addCleanup(r.kill)
        self.assertTrue(r.wait_for("fakechaind v2 starting", timeout=60), r.text())
        self.assertTrue(r.wait_for(f"LD_LIBRARY_PATH={self.home.root}/upgrades/v2/lib"), r.text())
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertNotIn("downloading", r.text())

    def test_halted_node_prepared_from_its_plan_file(self):
        # The node halts at the height with no binary: oraivisor stops with 80, the plan file stays.
        info = self.inline(self.archive_url())
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PLAN_INFO=info), timeout=60)
        self.assertEqual(rc, EXIT_UPGRADE_MISSING, r.text())
        self.assertTrue(os.path.exists(self.home.data("upgrade-info.json")))
        p = self.ctl("prepare-upgrade")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Upgrade 'v2' is ready", p.stdout)
        r2 = Run(self.home, env=self.env(FAKECHAIN_PLAN_INFO=info))
        self.addCleanup(r2.kill)
        self.assertTrue(r2.wait_for("fakechaind v2 starting", timeout=60), r2.text())
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0, r2.text())
        self.assertEqual(self.home.current(), "upgrades/v2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
