# SPDX-License-Identifier: LGPL-2.1-or-later
"""`oraivisorctl status` and what the chain watcher knows (oraivisor/chain-state.json): the installed
oraivisor runs fakechaind in exec mode beside a CometBFT RPC stand-in (tests/rpc/standin.py) holding a plan
days ahead. status shows the chain, the plan approved on chain with its height and estimated time, its
binary (missing: a warning naming the fix and exit status 3; installed with add-upgrade: ready), the plan
once when data/upgrade-info.json names it too, a watcher that stopped writing its file, and a damaged or
hostile chain-state.json as one warning."""

import json
import os
import re
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import ctl, fakechaind  # noqa: E402
from test_chain_watch import DAY_BLOCKS, ChainWatchCase  # noqa: E402
from test_ctl_inspect import wait_until  # noqa: E402

NEEDS_ATTENTION = 3
NOT_RUNNING = "oraivisor is not running."


class ChainStatusCase(ChainWatchCase):
    """The stand-in and oraivisor of test_chain_watch (a poll a second); oraivisorctl with the same settings."""

    def setUp(self):
        super().setUp()
        os.symlink("genesis", os.path.join(self.home.root, "current"))

    def env(self):
        return dict(ORAIVISOR_NODE_RPC=self.rpc, ORAIVISOR_CHAIN_POLL_INTERVAL="1s", FAKECHAIN_PLANS="", NO_COLOR="1")

    def state_path(self):
        return os.path.join(self.home.root, "chain-state.json")

    def status(self, want=None):
        r = ctl(self.home, "status", env=self.env())
        if want is not None:
            self.assertEqual(r.returncode, want, r.stdout + r.stderr)
        return r

    def status_json(self, want=None):
        r = ctl(self.home, "status", "--json", env=self.env())
        if want is not None:
            self.assertEqual(r.returncode, want, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "")
        return r.returncode, json.loads(r.stdout)

    def chain_entries(self, doc):
        return [e for e in doc["scheduled"] if "chain" in e.get("sources", [])]


class TestPlanFromChain(ChainStatusCase):
    def test_plan_days_ahead_missing_then_added(self):
        height = 1000 + 2 * DAY_BLOCKS
        self.chain.plan = ("v2", height, "")
        r = self.start()
        self.assertTrue(r.wait_for("and its binary is not installed; downloads are off"), r.text())
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["warnings"] == ["at-once"])

        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        self.assertTrue(doc["oraivisor"]["running"])
        c = doc["chain"]
        self.assertEqual(c["rpc"], self.rpc)
        self.assertIs(c["reachable"], True)
        self.assertRegex(c["reachable_since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertGreaterEqual(c["height"], 1000)
        self.assertLess(c["height"], 1100)
        self.assertEqual(c["block_time_usec"], 5000000)
        self.assertIs(c["catching_up"], False)
        self.assertIs(c["stale"], False)
        self.assertLess(c["age_usec"], 30 * 1000000)
        [e] = self.chain_entries(doc)
        self.assertEqual((e["name"], e["height"], e["source"], e["sources"], e["folder"], e["binary"]),
                         ("v2", height, "chain", ["chain"], "v2", "missing"))
        self.assertIsNone(e["binary_reason"])
        self.assertIs(e["downloadable"], False)
        self.assertEqual(e["chain_binary"], "missing")
        self.assertRegex(e["estimated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        two_days = 2 * 86400 * 1000000
        self.assertLess(abs(e["estimated_left_usec"] - two_days), 3600 * 1000000, e)
        w = [x for x in doc["warnings"] if "approved on chain" in x]
        self.assertEqual(len(w), 1, doc["warnings"])
        self.assertIn(f"The binary of the upgrade 'v2' approved on chain for height {height} (~", w[0])
        self.assertIn("is not installed, and oraivisor will not download it: install it now: "
                      "oraivisorctl add-upgrade 'v2' PATH.", w[0])

        out = self.status(want=NEEDS_ATTENTION).stdout
        self.assertRegex(out, r"\n +Chain: height 10\d\d \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\), in sync, ~5s a block\n")
        self.assertRegex(out, rf"\n +Node RPC: {re.escape(self.rpc)} reachable since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC; "
                              r"chain-state.json written (just now|\d+s ago)\n")
        self.assertRegex(out, rf"\n +Scheduled: 'v2' at height {height} \(~\d{{4}}-\d\d-\d\d \d\d:\d\d UTC, in ~(1d2[23]h|2d)\), "
                              r"approved on chain: binary missing \(upgrades/v2\)\n")
        self.assertNotIn("none known", out)

        # Installed with add-upgrade: ready (the readiness check of `check` ran on it), no warning left.
        r2 = ctl(self.home, "add-upgrade", "v2", fakechaind("v2"), env=self.env())
        self.assertEqual(r2.returncode, 0, r2.stdout + r2.stderr)
        rc, doc = self.status_json()
        [e] = self.chain_entries(doc)
        self.assertEqual((e["binary"], e["binary_reason"]), ("ready", None))
        self.assertEqual([x for x in doc["warnings"] if "approved on chain" in x], [])
        self.assertEqual(rc, 0, doc["warnings"])
        out = self.status(want=0).stdout
        self.assertRegex(out, rf"Scheduled: 'v2' at height {height} \(~.*\), approved on chain: binary ready \(upgrades/v2\)\n")
        self.stop()

    def test_not_ready_binary_is_a_warning(self):
        height = 1000 + DAY_BLOCKS
        self.chain.plan = ("v2", height, "")
        binary = os.path.join(self.home.root, "upgrades", "v2", "bin", self.home.name)
        os.makedirs(os.path.dirname(binary))
        with open(binary, "w") as f:
            f.write("#!/bin/sh\necho 'Error: unknown flag --foo' >&2\nexit 2\n")
        os.chmod(binary, 0o755)
        r = self.start()
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["ready"] == "not_ready", timeout=60)
        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        [e] = self.chain_entries(doc)
        self.assertEqual(e["binary"], "not_ready")
        self.assertIn("`version` exited with status 2", e["binary_reason"])
        w = [x for x in doc["warnings"] if "approved on chain" in x]
        self.assertEqual(len(w), 1, doc["warnings"])
        self.assertIn(f"The binary of the upgrade 'v2' approved on chain for height {height} (~", w[0])
        self.assertIn("is installed but will not start on this host: it `version` exited with status 2", w[0])
        self.assertIn("Install a working build: oraivisorctl add-upgrade 'v2' PATH --force, then oraivisorctl check 'v2'.", w[0])
        self.assertIn("approved on chain: binary not ready (see below)", self.status().stdout)
        self.stop()


class TestSamePlanTwice(ChainStatusCase):
    def test_upgrade_info_and_chain_name_the_same_plan(self):
        height = 1000 + DAY_BLOCKS
        self.chain.plan = ("v2", height, "")
        r = self.start()
        self.wait_state(lambda s: s["upgrades"] and "at-once" in s["upgrades"][0]["warnings"])
        self.stop()
        # The node wrote its plan file at the height (oraivisor stopped: it would act on it).
        os.makedirs(self.home.data(), exist_ok=True)
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": "v2", "height": height, "info": ""}, f)
        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        self.assertEqual(len(doc["scheduled"]), 1, doc["scheduled"])
        e = doc["scheduled"][0]
        self.assertEqual((e["name"], e["height"], e["source"], e["sources"]),
                         ("v2", height, "data/upgrade-info.json", ["data/upgrade-info.json", "chain"]))
        self.assertEqual((e["binary"], e["chain_binary"]), ("missing", "missing"))
        self.assertIsNotNone(e["estimated_at"])
        # One warning about its binary, not one per source.
        self.assertEqual(len([x for x in doc["warnings"] if "'v2'" in x]), 1, doc["warnings"])
        out = self.status(want=NEEDS_ATTENTION).stdout
        self.assertEqual(out.count("'v2' at height"), 1, out)
        self.assertRegex(out, rf"Scheduled: 'v2' at height {height} \(~.*\), in data/upgrade-info.json and approved "
                              r"on chain: binary missing \(upgrades/v2\)\n")
        self.assertIn("(oraivisor is not running: as last seen)", out)
        # Another plan in data/upgrade-info.json: both are shown.
        with open(self.home.data("upgrade-info.json"), "w") as f:
            json.dump({"name": "v3", "height": height + 5, "info": ""}, f)
        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        self.assertEqual([(e["name"], e["sources"]) for e in doc["scheduled"]],
                         [("v3", ["data/upgrade-info.json"]), ("v2", ["chain"])])


class TestStale(ChainStatusCase):
    def test_watcher_that_stopped_writing(self):
        self.chain.plan = ("v2", 1000 + DAY_BLOCKS, "")
        self.home.install(os.path.join("upgrades", "v2"), "v2")
        r = self.start()
        self.wait_state(lambda s: s["upgrades"] and s["upgrades"][0]["ready"] == "ready")
        rc, doc = self.status_json(want=0)
        self.assertIs(doc["chain"]["stale"], False)
        # oraivisor stopped in its tracks (SIGSTOP): it still holds its lock, its file ages.
        r.signal(signal.SIGSTOP)
        try:
            doc = wait_until(lambda: (lambda d: d if d["chain"]["stale"] else None)(self.status_json()[1]),
                             timeout=180, what="status to call chain-state.json stale")
            self.assertTrue(doc["oraivisor"]["running"])
            w = [x for x in doc["warnings"] if "chain-state.json" in x]
            self.assertEqual(len(w), 1, doc["warnings"])
            self.assertRegex(w[0], r"chain-state.json' was last written .+ ago, though oraivisor runs and "
                                   r"polls the node's RPC every 1s: the chain watcher is stuck or off")
            r2 = self.status(want=NEEDS_ATTENTION)
            self.assertRegex(r2.stdout, r"chain-state.json written \d+.* ago: stale \(see below\)\n")
        finally:
            r.signal(signal.SIGCONT)
        self.stop()


class TestHostileFile(ChainStatusCase):
    """A chain-state.json written by hand (damaged, huge, hostile): one warning, never a crash."""

    def write_state(self, text):
        with open(self.state_path(), "w") as f:
            f.write(text)

    def valid(self, name, **kw):
        now = int(time.time() * 1000000)
        up = {"name": name, "height": 5000, "info": "", "source": "governance", "first_seen_usec": now,
              "estimated_at_usec": now + 3600 * 1000000, "binary": "missing", "ready": "unknown", "warnings": []}
        up.update(kw)
        return {"version": 1, "rpc": "http://127.0.0.1:9\x1b[2J", "reachable": False, "height": 1000,
                "height_time_usec": now, "block_time_usec": 5000000, "catching_up": True, "updated_usec": now,
                "upgrades": [up]}

    def one_warning(self):
        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        w = [x for x in doc["warnings"] if x != NOT_RUNNING]
        self.assertEqual(len(w), 1, doc["warnings"])
        r = self.status(want=NEEDS_ATTENTION)
        self.assertEqual(r.stderr, "")
        self.assertNotIn("\x1b", r.stdout)
        return doc, w[0], r.stdout

    def test_damaged(self):
        for text, reason in [("<html>502</html>", "it is not a JSON object"),
                             ('{"version": 1, "height": "high", "upgrades": []}', "a height or time is missing or not a number"),
                             ('{"version": 1, "height": 1, "height_time_usec": 0, "block_time_usec": 0, "updated_usec": 0, '
                              '"upgrades": {"v2": 5}}', '"upgrades" is not a list'),
                             ('{"version": 1, "height": 1, "height_time_usec": 0, "block_time_usec": 0, "updated_usec": 0, '
                              '"upgrades": [{"name": 7, "height": 5}]}',
                              "an upgrade has no valid name, height, source, binary state or times"),
                             ("{" * 100000, "it is not a JSON object")]:
            with self.subTest(text=text[:40]):
                self.write_state(text)
                doc, w, out = self.one_warning()
                self.assertEqual(w, f"'{self.home.root}/chain-state.json' is damaged ({reason}): what the chain watcher "
                                    "learnt is not shown; oraivisor writes it afresh at its next start.")
                self.assertIsNone(doc["chain"])
                self.assertNotIn("Chain:", out)

    def test_huge(self):
        self.write_state(json.dumps(self.valid("v2")) + " " * (5 << 20))
        doc, w, out = self.one_warning()
        self.assertIn("chain-state.json' is damaged (it is larger than 4 MiB)", w)

    def test_hostile_names(self):
        name = "v9\x1b[31m/../../evil\n"
        self.write_state(json.dumps(self.valid(name)))
        doc, w, out = self.one_warning()
        [e] = self.chain_entries(doc)
        self.assertEqual(e["name"], name)  # JSON escapes it
        self.assertEqual(e["binary"], "missing")
        self.assertNotIn("/", e["folder"])  # the folder escapes it: it stays under upgrades/
        self.assertIn("'v9\\x1b[31m/../../evil\\x0a' approved on chain for height 5000", w)
        self.assertIn("Scheduled: 'v9\\x1b[31m/../../evil\\x0a' at height 5000", out)
        self.assertIn("Node RPC: http://127.0.0.1:9\\x1b[2J not reachable", out)
        self.assertIn("catching up", out)
        # A name too long for a folder, with a huge info and error: said, not acted on.
        self.write_state(json.dumps(self.valid("v" * 300000, info="i" * 100000, binary="failed", binary_error="e" * 100000)))
        doc, w, out = self.one_warning()
        self.assertIn("has a name that cannot be a folder", w)
        self.assertLess(len(w), 2000)
        [e] = self.chain_entries(doc)
        self.assertIsNone(e["binary"])
        self.assertIn("approved on chain: binary invalid name\n", out)
        # Wrong types where readers are lenient, an estimate out of range, a height already passed.
        v = self.valid("v2", estimated_at_usec=(1 << 64) - 1, ready=5, warnings="all")
        self.write_state(json.dumps(v))
        doc, w, out = self.one_warning()
        self.assertIn("approved on chain for height 5000 (time not estimated yet)", w)
        v = self.valid("v2", height=900)
        self.write_state(json.dumps(v))
        rc, doc = self.status_json(want=NEEDS_ATTENTION)
        self.assertEqual(doc["scheduled"], [])
        self.assertEqual(doc["warnings"], [NOT_RUNNING])


if __name__ == "__main__":
    unittest.main(verbosity=2)
