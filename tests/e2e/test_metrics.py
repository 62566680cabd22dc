# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end tests of oraivisor's metrics file (docs/metrics.md) in exec mode: its content after an upgrade,
counters carried over a restart, atomic replacement, ORAIVISOR_METRICS_DIR=off, the default folder, bad
values, and a folder that cannot be written."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, installed_oraivisor, kill_tree_by_home, run_once  # noqa: E402

EXIT_CONFIG = 78
DEFAULT_DIR = "/var/lib/prometheus/node-exporter"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text):
    """The exposition text as {(metric, frozenset(labels)): value} plus {metric: (help, type)}; fails on a
    line that is neither a HELP, a TYPE nor a sample."""
    samples, families = {}, {}
    help_ = {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name, h = line[7:].split(" ", 1)
            help_[name] = h
            continue
        if line.startswith("# TYPE "):
            name, t = line[7:].split(" ", 1)
            assert name in help_, f"TYPE before HELP: {line}"
            families[name] = (help_[name], t)
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = {}
        if m.group(3):
            pos = 0
            for lm in LABEL.finditer(m.group(3)):
                assert lm.start() == pos, f"bad labels: {line!r}"
                pos = lm.end()
                labels[lm.group(1)] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1), lm.group(2))
            assert pos == len(m.group(3)), f"bad labels: {line!r}"
        assert m.group(1) in families, f"sample without HELP and TYPE: {line}"
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    assert text.endswith("\n"), "the file does not end with a newline"
    return samples, families


def value(samples, metric, **labels):
    for (name, ls), v in samples.items():
        if name == metric and all((k, val) in ls for k, val in labels.items()):
            return v
    return None


def wait_until(fn, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


class MetricsCase(unittest.TestCase):
    def setUp(self):
        self.home = Home(name="oraid")
        self.dir = tempfile.mkdtemp(prefix="oraivisor-metrics-")
        self.file = os.path.join(self.dir, "oraivisor-oraid.prom")

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.home.cleanup()
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def env(self, **kw):
        base = {"FAKECHAIN_PLANS": "v2@20", "ORAIVISOR_METRICS_DIR": self.dir}
        base.update(kw)
        return base_env(self.home, **base)

    def read(self):
        try:
            with open(self.file) as f:
                return parse(f.read())[0]
        except FileNotFoundError:
            return None

    def wait_value(self, r, metric, want, **labels):
        got = wait_until(lambda: (s := self.read()) is not None and value(s, metric, **labels) == want)
        self.assertTrue(got, f"{metric}{labels} never became {want}: {self.read()}\n{r.text()}")

    def in_namespace(self, setup, env):
        """oraivisor in a mount namespace of its own, after the shell commands setup (as root, or as the
        root of a user namespace)."""
        cmd = ["--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            cmd = ["--user", "--map-root-user"] + cmd
        return Run(self.home, (*cmd, "sh", "-c", setup + ' && exec "$0" "$@"', installed_oraivisor(), "start"), env,
                   binary="unshare")


class TestContent(MetricsCase):
    def test_after_upgrade_and_across_a_restart(self):
        r = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true", UNSAFE_SKIP_BACKUP="false"))
        self.assertTrue(r.wait_for("fakechaind v2 starting"), r.text())
        self.wait_value(r, "oraivisor_daemon_up", 1)
        s = self.read()
        with open(self.file) as f:
            samples, families = parse(f.read())
        # Every family the issue asks for, each with HELP and TYPE, counters ending in _total.
        want = {
            "oraivisor_info": "gauge", "oraivisor_daemon_up": "gauge", "oraivisor_daemon_starts_total": "counter",
            "oraivisor_upgrades_total": "counter", "oraivisor_upgrade_in_progress": "gauge",
            "oraivisor_last_upgrade_timestamp_seconds": "gauge", "oraivisor_last_upgrade_duration_seconds": "gauge",
            "oraivisor_last_backup_bytes": "gauge", "oraivisor_last_backup_duration_seconds": "gauge",
        }
        self.assertEqual({k: t for k, (_h, t) in families.items()}, want)
        # Prometheus' own lint of names, units and types (Debian's prometheus package).
        with open(self.file) as f:
            lint = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True, text=True)
        self.assertEqual((lint.returncode, lint.stdout + lint.stderr), (0, ""))
        # Every sample names the instance.
        for (name, labels), _v in samples.items():
            self.assertIn(("name", "oraid"), labels, name)
        self.assertEqual(value(s, "oraivisor_info", current="v2", daemon="oraid", home=self.home.path), 1)
        self.assertEqual(value(s, "oraivisor_upgrades_total", result="success"), 1)
        self.assertEqual(value(s, "oraivisor_upgrades_total", result="failure"), 0)
        self.assertEqual(value(s, "oraivisor_daemon_starts_total"), 2)
        for step in ("backup", "obtain", "hooks", "pre-upgrade", "switch"):
            self.assertEqual(value(s, "oraivisor_upgrade_in_progress", step=step), 0, step)
        stamp = value(s, "oraivisor_last_upgrade_timestamp_seconds")
        self.assertLess(abs(stamp - time.time()), 120)
        self.assertGreaterEqual(value(s, "oraivisor_last_upgrade_duration_seconds"), 0)
        self.assertGreater(value(s, "oraivisor_last_backup_bytes"), 0)  # fakechaind's data/ was copied
        self.assertIsNotNone(value(s, "oraivisor_last_backup_duration_seconds"))

        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())
        s = self.read()
        self.assertEqual(value(s, "oraivisor_daemon_up"), 0, "the node is down once oraivisor stopped it")

        # A new oraivisor carries the counters and the last upgrade over, and counts its own start.
        r2 = Run(self.home, env=self.env(DAEMON_RESTART_AFTER_UPGRADE="true"))
        self.assertTrue(r2.wait_for("fakechaind v2 starting"), r2.text())
        self.wait_value(r2, "oraivisor_daemon_starts_total", 3)
        s = self.read()
        self.assertEqual(value(s, "oraivisor_upgrades_total", result="success"), 1)
        self.assertEqual(value(s, "oraivisor_last_upgrade_timestamp_seconds"), stamp)
        self.assertEqual(value(s, "oraivisor_info", current="v2"), 1)
        self.wait_value(r2, "oraivisor_daemon_up", 1)
        r2.signal(signal.SIGTERM)
        self.assertEqual(r2.wait(), 0, r2.text())

    def test_failed_upgrade_is_counted(self):
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_EXITS="30"))
        self.assertEqual(rc, 81, r.text())
        s = self.read()
        self.assertEqual(value(s, "oraivisor_upgrades_total", result="failure"), 1, r.text())
        self.assertEqual(value(s, "oraivisor_upgrades_total", result="success"), 0)
        self.assertEqual(value(s, "oraivisor_info", current="genesis"), 1)
        self.assertEqual(value(s, "oraivisor_daemon_up"), 0)
        self.assertIsNone(value(s, "oraivisor_last_upgrade_timestamp_seconds"))
        for step in ("backup", "obtain", "hooks", "pre-upgrade", "switch"):
            self.assertEqual(value(s, "oraivisor_upgrade_in_progress", step=step), 0, step)

    def test_hostile_upgrade_name_is_escaped(self):
        # (fakechaind's plan names cannot hold blanks: the newline is the unit tests'.)
        name = 'v2"}\\x{name="x'
        self.home.install(os.path.join("upgrades", "v2%22%7D%5Cx%7Bname%3D%22x"), "v2")
        rc, r = run_once(self.home, env=self.env(FAKECHAIN_PLANS=f"{name}@20"))
        self.assertEqual(rc, 0, r.text())
        with open(self.file) as f:
            text = f.read()
        samples, _ = parse(text)
        self.assertEqual(value(samples, "oraivisor_info", current=name), 1, text)
        self.assertIn('current="v2\\"}\\\\x{name=\\"x"', text)
        self.assertEqual(sum(1 for line in text.split("\n") if line.startswith("oraivisor_daemon_up")), 1, text)


class TestReplacement(MetricsCase):
    def test_replaced_atomically_and_never_seen_partial(self):
        """A reader polling the folder during an upgrade (as node-exporter does) only ever sees whole files,
        each a new inode (renamed over the old one), and no other *.prom file."""
        stop = threading.Event()
        seen = {"reads": 0, "changes": 0, "steps": set(), "errors": []}

        def read_all(fd):
            data, off = b"", 0
            while chunk := os.pread(fd, 65536, off):
                data += chunk
                off += len(chunk)
            return data

        def poll():
            prev_fd, prev = None, None
            while not stop.is_set():
                names = os.listdir(self.dir)
                others = [n for n in names if n.endswith(".prom") and n != "oraivisor-oraid.prom"]
                if others:
                    seen["errors"].append(f"other *.prom files: {others}")
                try:
                    fd = os.open(self.file, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                data = read_all(fd)
                try:
                    samples, _ = parse(data.decode())
                except AssertionError as e:
                    seen["errors"].append(f"{e}: {data!r}")
                    os.close(fd)
                    continue
                seen["reads"] += 1
                for (name, labels), v in samples.items():
                    if name == "oraivisor_upgrade_in_progress" and v == 1:
                        seen["steps"].add(dict(labels)["step"])
                if prev is not None and data == prev:
                    os.close(fd)
                    continue
                if prev is not None:
                    # A new content is a new file renamed over the old one: the file we still hold open is
                    # unlinked and unchanged (a rewrite in place would change what it reads).
                    seen["changes"] += 1
                    if read_all(prev_fd) != prev or os.fstat(prev_fd).st_nlink != 0:
                        seen["errors"].append(f"rewritten in place: {prev!r}")
                    os.close(prev_fd)
                prev_fd, prev = fd, data
            if prev_fd is not None:
                os.close(prev_fd)

        t = threading.Thread(target=poll)
        t.start()
        try:
            rc, r = run_once(self.home, env=self.env(FAKECHAIN_PREUPGRADE_SLEEP="1500"))
        finally:
            stop.set()
            t.join()
        self.assertEqual(rc, 0, r.text())
        self.assertEqual(seen["errors"], [])
        self.assertGreater(seen["reads"], 10)
        # Written at start, at the launch, when it ran, when it stopped, at each step, at the end.
        self.assertGreaterEqual(seen["changes"], 5, seen)
        self.assertIn("pre-upgrade", seen["steps"])
        # No temporary file is left behind.
        self.assertEqual(os.listdir(self.dir), ["oraivisor-oraid.prom"])


class TestSettings(MetricsCase):
    def test_off_writes_nothing_even_where_the_default_folder_exists(self):
        r = self.in_namespace(f"mount -t tmpfs tmpfs /var/lib && mkdir -p {DEFAULT_DIR} && mount --bind {self.dir} {DEFAULT_DIR}",
                              self.env(ORAIVISOR_METRICS_DIR="off", ORAIVISOR_LOG_LEVEL="debug"))
        self.assertEqual(r.wait(60), 0, r.text())
        self.assertIn("installed", r.text())
        self.assertIn(f"Metrics are off (ORAIVISOR_METRICS_DIR=off, or no '{DEFAULT_DIR}').", r.text())
        self.assertEqual(os.listdir(self.dir), [])

    def test_default_is_node_exporters_folder_when_it_exists(self):
        env = self.env()
        del env["ORAIVISOR_METRICS_DIR"]
        r = self.in_namespace(f"mount -t tmpfs tmpfs /var/lib && mkdir -p {DEFAULT_DIR} && mount --bind {self.dir} {DEFAULT_DIR}", env)
        self.assertEqual(r.wait(60), 0, r.text())
        self.assertEqual(value(self.read(), "oraivisor_upgrades_total", result="success"), 1)

    def test_default_is_off_without_the_folder(self):
        env = self.env(ORAIVISOR_LOG_LEVEL="debug")
        del env["ORAIVISOR_METRICS_DIR"]
        r = self.in_namespace("mount -t tmpfs tmpfs /var/lib", env)
        self.assertEqual(r.wait(60), 0, r.text())
        self.assertIn(f"Metrics are off (ORAIVISOR_METRICS_DIR=off, or no '{DEFAULT_DIR}').", r.text())

    def test_bad_values_are_configuration_errors(self):
        for v, msg in (
            ("metrics", "ORAIVISOR_METRICS_DIR='metrics' is not valid: expected 'off' or an absolute path to node-exporter's textfile folder, such as '/var/lib/prometheus/node-exporter'."),
            ("/a/../b", "ORAIVISOR_METRICS_DIR='/a/../b' is not valid: expected an absolute path to node-exporter's textfile folder without '.' or '..' components."),
            (self.dir + "/missing", f"ORAIVISOR_METRICS_DIR='{self.dir}/missing' is not an existing folder: create it (node-exporter's textfile collector reads it), or set ORAIVISOR_METRICS_DIR=off."),
        ):
            rc, r = run_once(self.home, env=self.env(ORAIVISOR_METRICS_DIR=v))
            self.assertEqual(rc, EXIT_CONFIG, r.text())
            self.assertIn(msg, r.text())
            self.assertNotIn("fakechaind v1 starting", r.text())

    def test_unwritable_folder_is_logged_once_and_the_upgrade_goes_on(self):
        r = self.in_namespace(f"mount -t tmpfs -o ro tmpfs {self.dir}", self.env())
        self.assertEqual(r.wait(60), 0, r.text())
        text = r.text()
        self.assertIn("installed", text)
        self.assertEqual(self.home.current(), "upgrades/v2")
        warning = f"Failed to write the metrics file '{self.file}': Read-only file system. Make '{self.dir}' writable for oraivisor"
        self.assertEqual(text.count(warning), 1, text)
        self.assertIn("or set ORAIVISOR_METRICS_DIR=off; the node is not affected", text)

    def test_another_nodes_file_is_left_alone(self):
        other = "# HELP oraivisor_info x\n# TYPE oraivisor_info gauge\noraivisor_info{name=\"oraid\",home=\"/srv/other\"} 1\n"
        with open(self.file, "w") as f:
            f.write(other)
        rc, r = run_once(self.home, env=self.env())
        self.assertEqual(rc, 0, r.text())
        self.assertIn(f"The metrics file '{self.file}' belongs to the node in DAEMON_HOME='/srv/other': two nodes on this host have the instance name 'oraid'.", r.text())
        with open(self.file) as f:
            self.assertEqual(f.read(), other)


if __name__ == "__main__":
    unittest.main(verbosity=2)
