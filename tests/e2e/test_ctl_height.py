# SPDX-License-Identifier: LGPL-2.1-or-later
"""Upgrades at a height without governance (issue 13): oraivisorctl add-upgrade --height, add-batch-upgrade,
remove-upgrade, status; oraivisor starting the node with --halt-height and upgrading where it stops."""

import json
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rpc"))
from harness import Home, Run, base_env, ctl, fakechaind, kill_tree_by_home  # noqa: E402
from test_chain_watch import StatusSocket, read_metrics  # noqa: E402
import standin  # noqa: E402

SCHEDULE = "scheduled-upgrades.json"


class _Any:
    def __eq__(self, other):
        return True


ANY = _Any()


def write_chain_state(home, height, governance=None):
    """The chain watcher's state file as it leaves it, with the chain at height (and a governance plan)."""
    state = {"version": 1, "rpc": "http://127.0.0.1:26657", "reachable": True, "catching_up": False,
             "height": height, "height_time_usec": 1765000000000000, "block_time_usec": 5000000,
             "updated_usec": 1765000000000000, "upgrades": []}
    if governance:
        state["upgrades"].append({"name": governance[0], "height": governance[1], "info": "", "source": "governance",
                                  "first_seen_usec": 1, "estimated_at_usec": 0, "binary": "installed"})
    with open(os.path.join(home.root, "chain-state.json"), "w") as f:
        json.dump(state, f)


class HeightTestCase(unittest.TestCase):
    def setUp(self):
        self.home = Home(upgrades=())

    def tearDown(self):
        kill_tree_by_home(self.home)
        self.home.cleanup()

    def env(self, **kw):
        base = {"ORAIVISOR_NODE_RPC": "off", "DAEMON_RESTART_AFTER_UPGRADE": "true"}
        base.update(kw)
        return base_env(self.home, **base)

    def ctl(self, *args):
        return ctl(self.home, *args, env={"ORAIVISOR_NODE_RPC": "off"})

    def schedule(self):
        p = os.path.join(self.home.root, SCHEDULE)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.load(f)

    def scheduled_json(self):
        r = self.ctl("status", "--json")
        self.assertIn(r.returncode, (0, 3), r.stderr)
        return [e for e in json.loads(r.stdout)["scheduled"] if e["source"] == "height"]

    def start(self, **env):
        return Run(self.home, ("start", "--home", self.home.path), self.env(**env))

    def stop(self, r):
        r.signal(signal.SIGTERM)
        self.assertEqual(r.wait(), 0, r.text())

    def args_line(self, text, version):
        m = re.search(rf"fakechaind {version} args: ([^\n]*)", text)
        self.assertIsNotNone(m, text)
        return m.group(1)

    def assertHaltedAt(self, text, version, height):
        """version committed block height, said it halts there, and committed nothing after it. As the SDK
        does it (BaseApp.Commit): the halting line comes in the Commit of the block, before CometBFT's
        "committed state" of that block."""
        start = text.index(f"fakechaind {version} starting")
        end = text.index("halting node per configuration", start)
        self.assertIn(f"finalizing commit of block height={height} ", text[start:end])
        self.assertIn(f"committed state height={height - 1} ", text[start:end])
        self.assertNotIn(f"committed state height={height} ", text[start:end])
        self.assertIn(f"halting node per configuration height={height} ", text[end:end + 200])
        after = text[end:]
        stop = after.find(" starting (version=")
        after = after if stop < 0 else after[:stop]
        self.assertIn(f"committed state height={height} ", after)
        self.assertNotIn(f"committed state height={height + 1} ", after)


class TestAddUpgradeHeight(HeightTestCase):
    def test_halts_exactly_at_height_and_switches(self):
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Scheduled upgrade 's2' at height 8", r.stdout)
        self.assertEqual([(e["name"], e["height"]) for e in self.schedule()["upgrades"]], [("s2", 8)])
        # Never the node's own file.
        self.assertFalse(os.path.exists(self.home.data("upgrade-info.json")))
        s = self.scheduled_json()
        self.assertEqual(len(s), 1)
        self.assertEqual((s[0]["name"], s[0]["height"], s[0]["binary"], s[0]["folder"], s[0]["halted"]),
                         ("s2", 8, "ready", "s2", False))

        r = self.start()
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        self.assertTrue(r.wait_for("committed state height=10 "), r.text())
        text = r.text()
        self.assertIn("--halt-height 8", self.args_line(text, "v1"))
        self.assertHaltedAt(text, "v1", 8)
        # The new version runs without the flag, on from the height it stopped at.
        self.assertNotIn("--halt-height", self.args_line(text, "v2"))
        self.assertIn("fakechaind v2 starting (version=v2", text)
        self.assertRegex(text, r"fakechaind v2 starting \(version=v2 pid=\d+ uid=\d+ user=\S+ gid=\d+ height=8 ")
        self.assertEqual(self.home.current(), "upgrades/s2")
        with open(os.path.join(self.home.root, "upgrades", "s2", "upgrade-info.json")) as f:
            self.assertEqual(json.load(f), {"name": "s2", "height": 8, "info": ""})
        self.assertIsNone(self.schedule())
        self.assertIn("Upgrade 's2' scheduled at height 8 is done", text)
        self.stop(r)
        self.assertEqual(self.scheduled_json(), [])

    def test_failed_upgrade_is_carried_out_at_next_start(self):
        # A binary that will not start: the upgrade fails at the height, current unchanged (81).
        broken = os.path.join(self.home.path, "broken")
        with open(broken, "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.chmod(broken, 0o755)
        r = self.ctl("add-upgrade", "s2", broken, "--height", "8")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual([(e["name"], e["height"]) for e in self.schedule()["upgrades"]], [("s2", 8)])
        r = self.start()
        self.assertEqual(r.wait(timeout=60), 81, r.text())
        text = r.text()
        self.assertHaltedAt(text, "v1", 8)
        self.assertEqual(self.home.current(), "genesis")
        self.assertEqual(self.schedule()["upgrades"], [{"name": "s2", "height": 8, "added_usec": ANY, "halted": True}])
        self.assertEqual([(e["name"], e["halted"]) for e in self.scheduled_json()], [("s2", True)])
        # Fixed; the next start upgrades before the node runs: never the old binary past the height.
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--force").returncode, 0)
        r = self.start()
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        text = r.text()
        self.assertIn("Upgrade 's2' scheduled at height 8 is pending (fakechaind stopped there", text)
        self.assertNotIn("fakechaind v1 starting", text)
        self.assertRegex(text, r"fakechaind v2 starting \(version=v2 pid=\d+ uid=\d+ user=\S+ gid=\d+ height=8 ")
        self.assertEqual(self.home.current(), "upgrades/s2")
        self.assertIsNone(self.schedule())
        self.stop(r)

    def test_bad_height_option(self):
        for bad in ("0", "-5", "x", "12a", "99999999999999999999"):
            r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("is not a block height", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "s2")))
        r = self.ctl("remove-upgrade", "s2", "--height", "5")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("does not take --height", r.stderr)

    def test_height_taken_by_another(self):
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "8").returncode, 0)
        r = self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "8")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Upgrade 's2' is already scheduled at height 8", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "s3")))
        # The same upgrade moved to another height: one entry.
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "9").returncode, 0)
        self.assertEqual([(e["name"], e["height"]) for e in self.schedule()["upgrades"]], [("s2", 9)])


class TestWhileRunning(HeightTestCase):
    def node_height(self):
        with open(self.home.data("height")) as f:
            return int(f.read())

    def wait_height(self, r, h):
        self.assertTrue(r.wait_for(f"committed state height={h} "), r.text())

    def test_added_while_running_restarts_with_the_flag(self):
        r = self.start(FAKECHAIN_BLOCK_INTERVAL="50")
        self.wait_height(r, 3)
        h = self.node_height() + 40
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", str(h)).returncode, 0)
        self.assertTrue(r.wait_for(f"Upgrade 's2' is now scheduled at height {h}: restarting fakechaind with "
                                   f"--halt-height {h}."), r.text())
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        text = r.text()
        second = text.index("fakechaind v1 starting", text.index("is now scheduled at height"))
        self.assertIn(f"--halt-height {h}", self.args_line(text[second:], "v1"))
        self.assertHaltedAt(text[second:], "v1", h)
        self.assertNotIn("--halt-height", self.args_line(text, "v2"))
        self.assertEqual(self.home.current(), "upgrades/s2")
        self.stop(r)

    def test_deferred_then_cancelled_is_not_carried_out(self):
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "60").returncode, 0)
        r = self.start(FAKECHAIN_BLOCK_INTERVAL="50", ORAIVISOR_HEIGHT_RESTART="false")
        self.wait_height(r, 3)
        self.assertIn("--halt-height 60", self.args_line(r.text(), "v1"))
        # Cancelled while the node runs with --halt-height 60: not restarted (the option), and when the node
        # stops at 60 nothing is switched; it starts again without the flag.
        r2 = self.ctl("remove-upgrade", "s2")
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertTrue(r.wait_for("keeps its --halt-height until its next start (ORAIVISOR_HEIGHT_RESTART=false)"),
                        r.text())
        self.assertTrue(r.wait_for("but upgrade 's2' is no longer scheduled there: starting it again as it is.",
                                   timeout=30), r.text())
        self.wait_height(r, 62)
        text = r.text()
        self.assertHaltedAt(text, "v1", 60)
        second = text.index("no longer scheduled there")
        self.assertNotIn("--halt-height", self.args_line(text[second:], "v1"))
        self.assertEqual(self.home.current(), "genesis")
        self.stop(r)


class TestPassedHeight(HeightTestCase):
    def test_refused_when_added(self):
        write_chain_state(self.home, 50)
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "40")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Height 40 of upgrade 's2' is already passed: the chain is at height 50", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "s2")))
        self.assertIsNone(self.schedule())
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "50")
        self.assertEqual(r.returncode, 1, r.stderr)
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "51")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_reported_at_start_not_acted_on(self):
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "5").returncode, 0)
        write_chain_state(self.home, 10)
        r = self.start()
        self.assertTrue(r.wait_for("committed state height=12 "), r.text())
        text = r.text()
        self.assertIn("Upgrade 's2' was scheduled at height 5, which the chain has passed (it is at height 10): "
                      "it is not acted on; remove it with 'oraivisorctl remove-upgrade s2'.", text)
        self.assertNotIn("--halt-height", self.args_line(text, "v1"))
        self.stop(r)
        self.assertEqual(self.home.current(), "genesis")


def write_priv_validator_state(home, content):
    os.makedirs(home.data(), exist_ok=True)
    with open(home.data("priv_validator_state.json"), "w") as f:
        f.write(content)


def write_node_height(home, height):
    with open(os.path.join(home.root, "node-height"), "w") as f:
        f.write(f"{height}\n")


def set_node_height(home, height):
    """The fake node's own committed height (data/height), as if it had run there."""
    os.makedirs(home.data(), exist_ok=True)
    with open(home.data("height"), "w") as f:
        f.write(f"{height}\n")


class TestPassedWithoutRpc(HeightTestCase):
    """The RPC is off (as in every test here): the node's height comes from its own output, its validator
    state, or the last height oraivisor saw."""

    def test_priv_validator_state_refuses_add(self):
        write_priv_validator_state(self.home, '{\n  "height": "51",\n  "round": 0,\n  "step": 3\n}')
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "50")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Height 50 of upgrade 's2' is already passed: the chain is at height 50 (known from the "
                      "validator's last signature (data/priv_validator_state.json)); schedule it above 50.", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "s2")))
        self.assertIsNone(self.schedule())
        # Signed at 51: 50 is committed, 51 is not yet.
        r = self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "51")
        self.assertEqual(r.returncode, 0, r.stderr)
        # A full node's "0" says nothing.
        write_priv_validator_state(self.home, '{"height":"0","round":0,"step":0}')
        r = self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "3")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_damaged_priv_validator_state_ignored_with_one_line(self):
        cases = [
            ('{"height": 12', "it is not a JSON object"),
            ('{"height": "12x", "round": 0}', "its \"height\" is not a decimal number"),
            ('{"round": 0}', "it has no \"height\""),
            ('{"height": "99999999999999999999999"}', "its \"height\" is not a decimal number"),
            ('{"height": "12"} trailing', "it is not a JSON object"),
            (" " * (64 * 1024 + 1), "it is larger than 64 KiB"),
        ]
        for i, (content, reason) in enumerate(cases):
            write_priv_validator_state(self.home, content)
            r = self.ctl("add-upgrade", f"s{i}", fakechaind("v2"), "--height", str(100 + i))
            self.assertEqual(r.returncode, 0, (content[:40], r.stderr))
            lines = [line for line in r.stderr.splitlines() if "priv_validator_state.json" in line]
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(f"is not a validator state file ({reason}): the node's height is not taken from it, "
                          "ignoring.", lines[0])
        # oraivisor starts the node all the same, with the flag, and says so once.
        r = self.start()
        self.assertTrue(r.wait_for("committed state height=3 "), r.text())
        text = r.text()
        self.assertEqual(text.count("priv_validator_state.json' is not a validator state file"), 1, text)
        self.assertIn("--halt-height 100", self.args_line(text, "v1"))
        self.stop(r)

    def test_node_above_height_at_start_from_its_output(self):
        # The node is at 30; nothing on disk says so (no RPC, a full node, oraivisor never saw it run).
        set_node_height(self.home, 30)
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "25").returncode, 0)
        r = self.start()
        # Started with the flag (nothing known), the SDK commits one block and halts: at 31, not 25.
        self.assertTrue(r.wait_for("Upgrade 's2' scheduled at height 25 is not carried out: fakechaind was "
                                   "already at height 31, above it"), r.text())
        self.assertTrue(r.wait_for("committed state height=33 "), r.text())
        text = r.text()
        self.assertIn("Fix: 'oraivisorctl remove-upgrade s2', then schedule it again at a height ahead.", text)
        self.assertEqual(self.home.current(), "genesis")
        self.assertNotIn("fakechaind v2", text)
        # It runs on without the flag.
        starts = [m.start() for m in re.finditer("fakechaind v1 args: ", text)]
        self.assertEqual(len(starts), 2, text)
        self.assertIn("--halt-height 25", self.args_line(text[starts[0]:], "v1"))
        self.assertNotIn("--halt-height", self.args_line(text[starts[1]:], "v1"))
        self.assertEqual([(e["name"], e["height"], e.get("halted", False)) for e in self.schedule()["upgrades"]],
                         [("s2", 25, False)])
        self.stop(r)
        # What it saw is kept: the next start knows the height is passed and says so.
        with open(os.path.join(self.home.root, "node-height")) as f:
            self.assertGreaterEqual(int(f.read()), 33)
        r = self.start()
        # It goes on from where it stopped (33 or a little more, as the stop took its time): any block.
        self.assertTrue(r.wait_for("committed state height="), r.text())
        text = r.text()
        self.assertIn("Upgrade 's2' was scheduled at height 25, which the chain has passed", text)
        self.assertIn("known from the node's own output", text)
        self.assertNotIn("--halt-height", self.args_line(text, "v1"))
        self.stop(r)

    def test_node_above_height_json_logs(self):
        # The same with the node's JSON logs: its height lines are read there too.
        set_node_height(self.home, 30)
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "25").returncode, 0)
        r = Run(self.home, ("start", "--home", self.home.path, "--log_format", "json"), self.env())
        self.assertTrue(r.wait_for("Upgrade 's2' scheduled at height 25 is not carried out: fakechaind was "
                                   "already at height 31, above it"), r.text())
        self.assertTrue(r.wait_for('"height":33,'), r.text())
        self.assertEqual(self.home.current(), "genesis")
        self.assertNotIn("fakechaind v2", r.text())
        self.stop(r)

    def test_node_above_height_finalize_style(self):
        # SDK v0.50.10+: a block at or above the halt height is refused in FinalizeBlock and the process
        # lives on; above the height, oraivisor stops it and starts it again without the flag.
        set_node_height(self.home, 30)
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "25").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.50.10")
        self.assertTrue(r.wait_for("Upgrade 's2' scheduled at height 25 is not carried out: fakechaind was "
                                   "already at height 30, above it"), r.text())
        self.assertTrue(r.wait_for("committed state height=32 "), r.text())
        text = r.text()
        self.assertIn('halt per configuration height 25 time 0', text)
        self.assertEqual(self.home.current(), "genesis")
        starts = [m.start() for m in re.finditer("fakechaind v1 args: ", text)]
        self.assertEqual(len(starts), 2, text)
        self.assertNotIn("--halt-height", self.args_line(text[starts[1]:], "v1"))
        self.stop(r)

    def test_reaching_height_finalize_style_upgrades(self):
        # SDK v0.50.10+: block 8 is refused, 7 is the last the old version commits; the process does not
        # exit by itself: oraivisor stops it and upgrades, and v2 commits 8.
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "8").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.50.10")
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        self.assertTrue(r.wait_for("committed state height=9 "), r.text())
        text = r.text()
        v1 = text[text.index("fakechaind v1 starting"):text.index("fakechaind v2 starting")]
        self.assertIn("committed state height=7 ", v1)
        self.assertNotIn("committed state height=8 ", v1)
        self.assertIn("halt per configuration height 8 time 0", v1)
        self.assertIn("fakechaind stopped before block 8 (the SDK refused it in FinalizeBlock) at its --halt-height 8: "
                      "upgrade 's2' scheduled there (no governance) is due.", text)
        self.assertRegex(text, r"fakechaind v2 starting \(version=v2 pid=\d+ uid=\d+ user=\S+ gid=\d+ height=7 ")
        self.assertEqual(self.home.current(), "upgrades/s2")
        self.assertIsNone(self.schedule())
        self.stop(r)

    def test_reaching_height_exactly_upgrades_v045(self):
        # SDK v0.45 exits 130 (128 + SIGINT) after its halt: still the halt, carried out as today.
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "8").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.45")
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        self.assertTrue(r.wait_for("committed state height=10 "), r.text())
        text = r.text()
        self.assertHaltedAt(text, "v1", 8)
        self.assertIn("exiting at height 8, status 130", text)
        self.assertEqual(self.home.current(), "upgrades/s2")
        self.stop(r)
        # The height v1 stopped at, then v2's, is kept for the next start (no RPC here).
        with open(os.path.join(self.home.root, "node-height")) as f:
            self.assertGreaterEqual(int(f.read()), 10)


class TestRemove(HeightTestCase):
    def test_remove_cancels(self):
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "8").returncode, 0)
        self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "16").returncode, 0)
        r = self.ctl("remove-upgrade", "s2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Cancelled the upgrade 's2' scheduled at height 8.", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", "s2")))
        self.assertEqual([e["name"] for e in self.scheduled_json()], ["s3"])
        r = self.ctl("remove-upgrade", "s3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(self.schedule())
        r = self.ctl("remove-upgrade", "s3")
        self.assertEqual(r.returncode, 4, r.stderr)

        # With nothing scheduled any more, the node runs on without a halt height.
        r = self.start()
        self.assertTrue(r.wait_for("committed state height=20 "), r.text())
        self.assertNotIn("--halt-height", self.args_line(r.text(), "v1"))
        self.stop(r)


class TestBatch(HeightTestCase):
    def batch(self, text):
        p = os.path.join(self.home.path, "batch.csv")
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_good_batch_two_upgrades_in_a_row(self):
        p = self.batch(f"# name,path,height\n\ns2,{fakechaind('v2')},8\n s3 , {fakechaind('v3')} , 16\n")
        r = self.ctl("add-batch-upgrade", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(e["name"], e["height"]) for e in self.scheduled_json()], [("s2", 8), ("s3", 16)])

        r = self.start()
        self.assertTrue(r.wait_for("fakechaind v3 args:", timeout=60), r.text())
        self.assertTrue(r.wait_for("committed state height=18 "), r.text())
        text = r.text()
        self.assertIn("--halt-height 8", self.args_line(text, "v1"))
        self.assertIn("--halt-height 16", self.args_line(text, "v2"))
        self.assertNotIn("--halt-height", self.args_line(text, "v3"))
        self.assertHaltedAt(text, "v1", 8)
        self.assertHaltedAt(text, "v2", 16)
        self.assertEqual(self.home.current(), "upgrades/s3")
        self.assertIsNone(self.schedule())
        self.stop(r)

    def assertNothingDone(self):
        self.assertIsNone(self.schedule())
        for n in ("s2", "s3"):
            self.assertFalse(os.path.exists(os.path.join(self.home.root, "upgrades", n)), n)

    def test_bad_batches(self):
        v2, v3 = fakechaind("v2"), fakechaind("v3")
        cases = [
            (f"s2,{v2},8\ns3,{v3}\n", 2, "line 2: it is not 'name,path,height'"),
            (f"s2,{v2},8\ns3,{v3},zero\n", 2, "line 2: its height is not a positive block height"),
            (f"s2,{v2},8\n\n../s3,{v3},16\n", 2, "line 3:"),
            (f"s2,{v2},8\ns3,{v3},8\n", 2, "line 2: its height is on an earlier line too"),
            (f"s2,{v2},8\ns2,{v3},16\n", 2, "line 2: its name is on an earlier line too"),
            ("# nothing\n", 2, "holds no 'name,path,height' line"),
            (f"s2,{v2},8\ns3,{self.home.path}/missing,16\n", 1, "line 2: '"),
            (f"s2,{v2},8\ns3,{self.home.path},16\n", 1, "line 2: '"),
        ]
        for text, status, message in cases:
            r = self.ctl("add-batch-upgrade", self.batch(text))
            self.assertEqual(r.returncode, status, (text, r.stdout, r.stderr))
            self.assertIn(message, r.stderr, text)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertNothingDone()
        # A passed height (the chain is at 10) in the last line: nothing installed either.
        write_chain_state(self.home, 10)
        r = self.ctl("add-batch-upgrade", self.batch(f"s2,{v2},18\ns3,{v3},9\n"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("line 2: height 9 of upgrade 's3' is already passed (the chain is at height 10)", r.stderr)
        self.assertNothingDone()
        r = self.ctl("add-batch-upgrade", os.path.join(self.home.path, "no-such.csv"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Cannot read", r.stderr)


class TestGovernanceSameHeight(HeightTestCase):
    def setUp(self):
        self.home = Home(upgrades=("v2",))

    def test_governance_wins(self):
        # The chain's plan v2 at 20 (as the chain watcher knows it) and an upgrade s3 scheduled at 20.
        write_chain_state(self.home, 3, governance=("v2", 20))
        r = self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The chain's governance plan 'v2' is at height 20 too: it wins. oraivisor runs the node without "
                      "--halt-height 20 while the chain watcher knows of the plan, and upgrade 's3' is dropped as "
                      "superseded once the plan is carried out.", r.stderr)
        os.unlink(os.path.join(self.home.root, "chain-state.json"))
        r = self.start(FAKECHAIN_PLANS="v2@20")
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        self.assertTrue(r.wait_for("committed state height=22 "), r.text())
        text = r.text()
        self.assertIn("--halt-height 20", self.args_line(text, "v1"))
        # The SDK halts at the start of block 20 for the plan, before the commit --halt-height waits for.
        v1 = text[text.index("fakechaind v1 starting"):text.index("fakechaind v2 starting")]
        self.assertIn('UPGRADE "v2" NEEDED at height: 20', v1)
        self.assertNotIn("committed state height=20 ", v1)
        self.assertNotIn("halting node per configuration", v1)
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIn("Upgrade 's3' scheduled at height 20 is superseded by upgrade 'v2' at height 20 "
                      "(a governance plan, which wins)", text)
        self.assertNotIn("--halt-height", self.args_line(text, "v2"))
        self.assertIsNone(self.schedule())
        self.stop(r)


class NodeChain(standin.Chain):
    """The RPC stand-in of the fake node itself: its height is the one fakechaind last committed (data/height)."""

    def __init__(self, home, plan=None):
        super().__init__(height=1, block_seconds=0.01, plan=plan)
        self.home = home

    def height(self):
        try:
            with open(self.home.data("height")) as f:
                return max(1, int(f.read()))
        except (OSError, ValueError):
            return 1


class TestGovernanceAndScheduleSdks(HeightTestCase):
    """A governance plan v2 and an upgrade s3 scheduled without governance, on both generations of the SDK's
    --halt-height: v0.47 (block H committed, then the halt; x/upgrade halts for a plan at the start of H, so
    first) and v0.50.10+ (block H refused in FinalizeBlock before x/upgrade's PreBlocker sees the plan, H - 1
    the last committed). fakechaind-v3 (s3) has no handler for v2: at v2's height it halts for it too."""

    SDKS = ("v0.47", "v0.50.10")

    def setUp(self):
        self.home = Home(upgrades=("v2",))
        self.chain = None
        self.srv = None

    def tearDown(self):
        kill_tree_by_home(self.home)
        if self.srv:
            standin.stop(self.srv)
        self.home.cleanup()

    def each_sdk(self):
        """Each SDK generation in a home of its own."""
        for i, sdk in enumerate(self.SDKS):
            if i:
                self.tearDown()
                self.setUp()
            yield sdk

    def rpc(self, plan):
        self.chain = NodeChain(self.home, plan)
        self.srv = standin.start(self.chain)
        return f"http://127.0.0.1:{self.srv.port}"

    def starts(self, text, version):
        return [m.start() for m in re.finditer(f"fakechaind {version} starting ", text)]

    def assertDataOnlyTheNodes(self, plan_height, *upgrades):
        """data/ holds what the node wrote, nothing else: its height, x/upgrade's upgrade-info.json, and the
        log of its pre-upgrade command, which each upgrade ran once: upgrades (the new versions), in order."""
        self.assertEqual(sorted(os.listdir(self.home.data())),
                         ["height", "pre-upgrade.count", "pre-upgrade.log", "upgrade-info.json"])
        with open(self.home.data("pre-upgrade.log")) as f:
            self.assertEqual([line.split()[0] for line in f.read().splitlines()], list(upgrades))
        with open(self.home.data("upgrade-info.json")) as f:
            self.assertEqual(json.load(f), {"name": "v2", "time": "0001-01-01T00:00:00Z", "height": plan_height,
                                            "info": ""})

    def assertGovernanceOnly(self, text, height):
        """v1 met the plan at its height and was upgraded to v2 once; s3 was never run."""
        v1 = text[self.starts(text, "v1")[-1]:self.starts(text, "v2")[0]]
        self.assertIn(f'UPGRADE "v2" NEEDED at height: {height}', v1)
        self.assertRegex(v1, rf"(committed state height={height - 1} |^fakechaind v1 starting \(.* height={height - 1} )")
        self.assertNotIn(f"committed state height={height} ", v1)
        self.assertNotIn("halting node per configuration", v1)
        self.assertNotIn("halt per configuration", v1)
        self.assertEqual(len(self.starts(text, "v2")), 1, text)
        self.assertRegex(text, rf"fakechaind v2 starting \(version=v2 pid=\d+ uid=\d+ user=\S+ gid=\d+ height={height - 1} ")
        self.assertEqual(self.starts(text, "v3"), [], text)
        self.assertIn(f"Upgrade 's3' scheduled at height {height} is superseded by upgrade 'v2' at height {height} "
                      "(a governance plan, which wins)", text)
        self.assertNotIn("--halt-height", self.args_line(text, "v2"))
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIsNone(self.schedule())

    def test_known_at_start_the_plan_wins_without_the_flag(self):
        # The chain watcher knows v2 at 20 (its state file from an earlier run, and the node's RPC says so):
        # the node never gets --halt-height 20; the plan is carried out at 20, s3 is dropped.
        for sdk in self.each_sdk():
            with self.subTest(sdk=sdk):
                rpc = self.rpc(("v2", 20, ""))
                write_chain_state(self.home, 1, governance=("v2", 20))
                self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "20").returncode, 0)
                r = self.start(FAKECHAIN_SDK=sdk, FAKECHAIN_PLANS="v2@20", ORAIVISOR_NODE_RPC=rpc,
                               ORAIVISOR_CHAIN_POLL_INTERVAL="1s")
                self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
                self.assertTrue(r.wait_for("committed state height=22 "), r.text())
                text = r.text()
                self.assertIn("The chain's governance plan 'v2' is at height 20, where upgrade 's3' is scheduled (no "
                              "governance): the plan wins, so fakechaind runs without --halt-height 20 and upgrades "
                              "to 'v2' there as for any governance plan; 's3' is dropped as superseded then.", text)
                self.assertEqual(len(self.starts(text, "v1")), 1, text)
                self.assertNotIn("--halt-height", self.args_line(text, "v1"))
                self.assertGovernanceOnly(text, 20)
                self.stop(r)
                self.assertDataOnlyTheNodes(20, "v2")

    def test_learnt_while_running_restarts_without_the_flag(self):
        # s3 at 120, the node started with --halt-height 120; then the chain's plan v2 at 120 appears (a proposal
        # passed): the node is restarted without the flag and meets the plan at 120.
        for sdk in self.each_sdk():
            with self.subTest(sdk=sdk):
                rpc = self.rpc(None)
                self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "120").returncode, 0)
                r = self.start(FAKECHAIN_SDK=sdk, FAKECHAIN_PLANS="v2@120", FAKECHAIN_BLOCK_INTERVAL="100",
                               ORAIVISOR_NODE_RPC=rpc, ORAIVISOR_CHAIN_POLL_INTERVAL="1s")
                self.assertTrue(r.wait_for("committed state height=5 "), r.text())
                self.assertIn("--halt-height 120", self.args_line(r.text(), "v1"))
                self.chain.plan = ("v2", 120, "")
                self.assertTrue(r.wait_for("The chain's governance plan 'v2' is now at height 120, where upgrade 's3' is "
                                           "scheduled: restarting fakechaind without --halt-height 120, so that the plan "
                                           "is carried out there."), r.text())
                self.assertTrue(r.wait_for("fakechaind v2 args:", timeout=60), r.text())
                self.assertTrue(r.wait_for("committed state height=121 "), r.text())
                text = r.text()
                self.assertEqual(len(self.starts(text, "v1")), 2, text)
                self.assertNotIn("--halt-height", self.args_line(text[self.starts(text, "v1")[1]:], "v1"))
                self.assertGovernanceOnly(text, 120)
                self.stop(r)
                self.assertDataOnlyTheNodes(120, "v2")

    def test_learnt_while_running_deferred_v05010(self):
        # The same with ORAIVISOR_HEIGHT_RESTART=false: the node keeps --halt-height 80 and v0.50.10 refuses
        # block 80; oraivisor sees the plan there and starts it again without the flag instead of carrying
        # out s3, so that the plan is met at 80.
        rpc = self.rpc(None)
        self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "80").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.50.10", FAKECHAIN_PLANS="v2@80", FAKECHAIN_BLOCK_INTERVAL="100",
                       ORAIVISOR_NODE_RPC=rpc, ORAIVISOR_CHAIN_POLL_INTERVAL="1s", ORAIVISOR_HEIGHT_RESTART="false")
        self.assertTrue(r.wait_for("committed state height=5 "), r.text())
        self.chain.plan = ("v2", 80, "")
        self.assertTrue(r.wait_for("The chain's governance plan changed; fakechaind keeps its --halt-height until its "
                                   "next start (ORAIVISOR_HEIGHT_RESTART=false)."), r.text())
        self.assertTrue(r.wait_for("fakechaind refused block 80 (its --halt-height), and the chain's governance plan 'v2' "
                                   "is at that height: starting it again without the flag, so that it upgrades to 'v2' "
                                   "there; upgrade 's3' scheduled there is superseded.", timeout=60), r.text())
        self.assertTrue(r.wait_for("fakechaind v2 args:", timeout=60), r.text())
        self.assertTrue(r.wait_for("committed state height=81 "), r.text())
        text = r.text()
        first = text[:self.starts(text, "v1")[1]]
        self.assertIn("halt per configuration height 80 time 0", first)
        self.assertIn("committed state height=79 ", first)
        self.assertNotIn("--halt-height", self.args_line(text[self.starts(text, "v1")[1]:], "v1"))
        self.assertGovernanceOnly(text, 80)
        self.stop(r)
        self.assertDataOnlyTheNodes(80, "v2")

    def test_cancelled_while_known_restarts_with_the_flag(self):
        # The state file of an earlier run still has v2 at 100, but the chain has no plan any more (cancelled
        # while oraivisor was down): the node starts without --halt-height 100, the first poll finds no plan,
        # and it is restarted with the flag; s3 is carried out where the SDK stops.
        rpc = self.rpc(None)
        write_chain_state(self.home, 1, governance=("v2", 100))
        self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "100").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.50.10", FAKECHAIN_BLOCK_INTERVAL="100", ORAIVISOR_NODE_RPC=rpc,
                       ORAIVISOR_CHAIN_POLL_INTERVAL="1s")
        self.assertTrue(r.wait_for("The chain's governance plan is no longer at height 100: restarting fakechaind with "
                                   "--halt-height 100 for upgrade 's3' scheduled there (no governance)."), r.text())
        self.assertTrue(r.wait_for("fakechaind v3 args:", timeout=100), r.text())
        self.assertTrue(r.wait_for("committed state height=101 "), r.text())
        text = r.text()
        v1 = self.starts(text, "v1")
        self.assertEqual(len(v1), 2, text)
        self.assertNotIn("--halt-height", self.args_line(text, "v1"))
        self.assertIn("--halt-height 100", self.args_line(text[v1[1]:], "v1"))
        self.assertIn("fakechaind stopped before block 100 (the SDK refused it in FinalizeBlock) at its --halt-height 100: "
                      "upgrade 's3' scheduled there (no governance) is due.", text)
        self.assertEqual(self.home.current(), "upgrades/s3")
        self.assertIsNone(self.schedule())
        self.stop(r)

    def test_unknown_v0_50_10_scheduled_first_then_the_plan(self):
        # No RPC: the plan is not known. v0.50.10 refuses block 20 before x/upgrade sees the plan: s3 is carried
        # out at 19, and s3 (no handler for v2) meets the plan at 20, writes upgrade-info.json and halts:
        # oraivisor upgrades again, to v2. Each upgrade once, each at its height.
        self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "20").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.50.10", FAKECHAIN_PLANS="v2@20")
        self.assertTrue(r.wait_for("fakechaind v2 args:", timeout=60), r.text())
        self.assertTrue(r.wait_for("committed state height=22 "), r.text())
        text = r.text()
        self.assertIn("--halt-height 20", self.args_line(text, "v1"))
        v1 = text[self.starts(text, "v1")[0]:self.starts(text, "v3")[0]]
        self.assertIn("halt per configuration height 20 time 0", v1)
        self.assertIn("committed state height=19 ", v1)
        self.assertNotIn('UPGRADE "v2" NEEDED', v1)
        self.assertIn("fakechaind stopped before block 20 (the SDK refused it in FinalizeBlock) at its --halt-height 20: "
                      "upgrade 's3' scheduled there (no governance) is due.", text)
        self.assertIn("Upgrade 's3' scheduled at height 20 is done", text)
        self.assertEqual(len(self.starts(text, "v3")), 1, text)
        self.assertNotIn("--halt-height", self.args_line(text, "v3"))
        v3 = text[self.starts(text, "v3")[0]:self.starts(text, "v2")[0]]
        self.assertRegex(v3, r"fakechaind v3 starting \(version=v3 pid=\d+ uid=\d+ user=\S+ gid=\d+ height=19 ")
        self.assertIn('UPGRADE "v2" NEEDED at height: 20', v3)
        self.assertNotIn("committed state", v3)
        self.assertEqual(len(self.starts(text, "v2")), 1, text)
        self.assertRegex(text, r"fakechaind v2 starting \(version=v2 pid=\d+ uid=\d+ user=\S+ gid=\d+ height=19 ")
        self.assertEqual(self.home.current(), "upgrades/v2")
        self.assertIsNone(self.schedule())
        self.stop(r)
        self.assertDataOnlyTheNodes(20, "v3", "v2")

    def test_unknown_v0_47_the_plan_wins(self):
        # No RPC, SDK v0.47: the node runs with --halt-height 20, but x/upgrade halts at the start of block 20
        # for the plan, before the commit the flag waits for: the plan wins, s3 is dropped.
        self.assertEqual(self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "20").returncode, 0)
        r = self.start(FAKECHAIN_SDK="v0.47", FAKECHAIN_PLANS="v2@20")
        self.assertTrue(r.wait_for("fakechaind v2 args:"), r.text())
        self.assertTrue(r.wait_for("committed state height=22 "), r.text())
        text = r.text()
        self.assertIn("--halt-height 20", self.args_line(text, "v1"))
        self.assertGovernanceOnly(text, 20)
        self.stop(r)
        self.assertDataOnlyTheNodes(20, "v2")

    def test_plan_below_and_above_the_scheduled_height(self):
        # Below: the plan at 10 first (the node halts for it whatever its flag), then s3 at 20 on v2.
        # Above (s3 at 20, the plan at 30): s3 first, and s3 (no handler) meets the plan at 30.
        cases = [(sdk, plan, first, second) for sdk in self.SDKS
                 for plan, first, second in ((10, "v2", "v3"), (30, "v3", "v2"))]
        for i, (sdk, plan, first, second) in enumerate(cases):
            if i:
                self.tearDown()
                self.setUp()
            with self.subTest(sdk=sdk, plan=plan):
                rpc = self.rpc(("v2", plan, ""))
                write_chain_state(self.home, 1, governance=("v2", plan))
                c = self.ctl("add-upgrade", "s3", fakechaind("v3"), "--height", "20")
                self.assertEqual(c.returncode, 0, c.stderr)
                if plan < 20:
                    self.assertIn("The chain's governance plan 'v2' at height 10 comes first: upgrade 's3' then replaces "
                                  "the version it installs, at height 20; make sure 's3' is built for the chain after "
                                  "'v2'.", c.stderr)
                else:
                    self.assertIn("The chain's governance plan 'v2' at height 30 comes after: version 's3' runs until "
                                  "then and must not carry the plan's upgrade handler (the SDK stops such a binary at "
                                  "once, 'BINARY UPDATED BEFORE TRIGGER'); without it, oraivisor upgrades to 'v2' at "
                                  "height 30 as usual.", c.stderr)
                r = self.start(FAKECHAIN_SDK=sdk, FAKECHAIN_PLANS=f"v2@{plan}", ORAIVISOR_NODE_RPC=rpc,
                               ORAIVISOR_CHAIN_POLL_INTERVAL="1s")
                self.assertTrue(r.wait_for(f"fakechaind {second} args:", timeout=60), r.text())
                self.assertTrue(r.wait_for("committed state height=32 "), r.text())
                text = r.text()
                self.assertIn("--halt-height 20", self.args_line(text, "v1"))
                self.assertNotIn("where upgrade 's3' is scheduled", text)
                self.assertLess(self.starts(text, first)[0], self.starts(text, second)[0])
                self.assertEqual((len(self.starts(text, "v2")), len(self.starts(text, "v3"))), (1, 1), text)
                if first == "v2":
                    self.assertIn("--halt-height 20", self.args_line(text, "v2"))
                self.assertNotIn("--halt-height", self.args_line(text, second))
                self.assertIn("Upgrade 's3' scheduled at height 20 is done", text)
                self.assertEqual(self.home.current(), f"upgrades/{'s3' if second == 'v3' else 'v2'}")
                self.assertIsNone(self.schedule())
                self.stop(r)
                self.assertDataOnlyTheNodes(plan, first, second)


class TestReadiness(HeightTestCase):
    """An upgrade scheduled at a height is checked to start on this host days ahead (issue 17): an event when
    it is not ready and when it is again, the metrics with source="height", STATUS= and `status --json`."""

    def test_not_ready_then_fixed(self):
        broken = os.path.join(self.home.path, "broken")
        with open(broken, "w") as f:
            f.write("#!/bin/sh\necho 'Error: unknown flag --foo' >&2\nexit 2\n")
        os.chmod(broken, 0o755)
        r = self.ctl("add-upgrade", "s2", broken, "--height", "100000")
        self.assertEqual(r.returncode, 3, r.stderr)  # installed and scheduled, but not ready
        s = self.scheduled_json()
        self.assertEqual((s[0]["name"], s[0]["binary"]), ("s2", "not_ready"))
        self.assertIn("`version` exited with status 2", s[0]["binary_reason"])
        metrics = os.path.join(self.home.path, "prom")
        os.makedirs(metrics)
        prom = os.path.join(metrics, "oraivisor-fakechaind.prom")
        st = StatusSocket()
        try:
            r = self.start(ORAIVISOR_METRICS_DIR=metrics, ORAIVISOR_CHAIN_POLL_INTERVAL="1s", NOTIFY_SOCKET=st.path)
            self.assertTrue(r.wait_for("warning: Upgrade 's2' scheduled without governance at height 100000 is not "
                                       "ready: its binary"), r.text())
            self.assertIn("will not start on this host: it `version` exited with status 2 (\"Error: unknown flag --foo\")", r.text())
            text = read_metrics(prom, 'oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",upgrade="s2",source="height"} 0\n')
            self.assertIsNotNone(text, r.text())
            self.assertIn('oraivisor_scheduled_upgrade_height{name="fakechaind",upgrade="s2",source="height"} 100000\n', text)
            self.assertNotIn("oraivisor_chain_height", text)  # the chain watcher is off
            status = st.wait_status(lambda l: "upgrade s2 at height 100000" in l and "not checked yet" not in l)
            self.assertRegex(status, r"; upgrade s2 at height 100000 \(no governance\), binary not ready: `version` exited "
                                     r"with status 2")
            # Fixed with the ctl (published by a rename under upgrades/): checked again, ready again.
            self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--force").returncode, 0)
            self.assertTrue(r.wait_for("Upgrade 's2' scheduled without governance at height 100000 is ready again: its "
                                       "binary"), r.text())
            self.assertIn("starts on this host (version: v2", r.text())
            self.assertIsNotNone(read_metrics(prom, 'oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",'
                                                    'upgrade="s2",source="height"} 1\n'), r.text())
            st.wait_status(lambda l: l.endswith("upgrade s2 at height 100000 (no governance), binary ready"))
            s = self.scheduled_json()
            self.assertEqual((s[0]["binary"], s[0]["binary_reason"]), ("ready", None))
            self.assertEqual(r.text().count("is not ready: its binary"), 1, r.text())
            self.stop(r)
        finally:
            st.close()

    def test_removed_schedule_leaves_the_metrics(self):
        self.assertEqual(self.ctl("add-upgrade", "s2", fakechaind("v2"), "--height", "100000").returncode, 0)
        metrics = os.path.join(self.home.path, "prom")
        os.makedirs(metrics)
        prom = os.path.join(metrics, "oraivisor-fakechaind.prom")
        r = self.start(ORAIVISOR_METRICS_DIR=metrics)
        self.assertTrue(r.wait_for("The binary of upgrade 's2' (height 100000) is ready: it starts on this host"), r.text())
        self.assertIsNotNone(read_metrics(prom, 'oraivisor_scheduled_upgrade_binary_ready{name="fakechaind",upgrade="s2",'
                                                'source="height"} 1\n'), r.text())
        self.assertEqual(self.ctl("remove-upgrade", "s2").returncode, 0)
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline:
            with open(prom) as f:
                text = f.read()
            if "oraivisor_scheduled_upgrade" not in text:
                break
            time.sleep(0.05)
        self.assertNotIn("oraivisor_scheduled_upgrade", text, r.text())
        # The node was restarted without the flag: stopped once it runs again (a SIGTERM while it starts
        # would be its exit status).
        self.assertTrue(r.wait_for("restarting fakechaind without --halt-height"), r.text())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            t = r.text()
            if t.count("fakechaind v1 starting") == 2 and "committed state" in t[t.rindex("fakechaind v1 starting"):]:
                break
            time.sleep(0.05)
        self.stop(r)


if __name__ == "__main__":
    unittest.main()
