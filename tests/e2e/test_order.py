# SPDX-License-Identifier: LGPL-2.1-or-later
"""The order of the announcement line and data/upgrade-info.json, as each SDK generation writes them, raced
in a loop of runs (exec mode; tests/systemd/run.sh has the unit-mode twin).

  file-first        SDK >= v0.44: the file (with the info), then the line, then the node halts.
  log-first         SDK v0.40-v0.43: the line, then the file (name and height only), then the panic;
                    FAKECHAIN_ANNOUNCE_FILE_DELAY races the file against oraivisor's reaction to the line.
  log only + exit   no file at all, the node exits right after the line.
  log only + hang   no file at all, the node halts but keeps running: acted on after the bound.

Every run must upgrade exactly once to v2, with the plan's info, and a node that writes the file must have
written it (stopping the node at the line could kill it before it does: the new binary would then start
without the plan its store migrations read)."""

import json
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, base_env, kill_tree_by_home, run_once  # noqa: E402

INFO = '{"binaries":{"linux/amd64":"https://example.com/v2.tar.gz"}}'
RUNS = int(os.environ.get("ORDER_RUNS", "15"))
SEED = int(os.environ.get("ORDER_SEED", "20261206"))


class TestAnnouncementOrder(unittest.TestCase):
    def one_run(self, label, expect_file, **fake):
        home = Home()
        try:
            env = base_env(home, FAKECHAIN_PLANS="v2@20", FAKECHAIN_PLAN_INFO=INFO, **fake)
            rc, r = run_once(home, env=env, timeout=60)
            text = r.text()
            where = f"{label} {fake}: {text}"
            self.assertEqual(rc, 0, where)
            self.assertEqual(home.current(), "upgrades/v2", where)
            self.assertEqual(text.count("Upgrade plan 'v2' detected"), 1, where)
            with open(os.path.join(home.root, "upgrades", "v2", "upgrade-info.json")) as f:
                recorded = json.load(f)
            self.assertEqual((recorded["name"], recorded["height"], recorded["info"]), ("v2", 20, INFO), where)
            path = home.data("upgrade-info.json")
            if expect_file:
                self.assertTrue(os.path.exists(path), f"the node was stopped before it wrote the file: {where}")
                with open(path) as f:
                    written = json.load(f)
                self.assertEqual((written["name"], written["height"]), ("v2", 20), where)
            else:
                self.assertFalse(os.path.exists(path), where)
            self.assertNotIn("error", text.lower().replace("err upgrade", "").replace("level\":\"error", ""),
                             where)
            return text
        finally:
            kill_tree_by_home(home)
            home.cleanup()

    def test_file_then_line(self):
        for _ in range(5):
            text = self.one_run("file-first", True)
            # Whichever of the inotify event and the line the loop takes first, the file is there: no wait.
            self.assertRegex(text, r"detected \(from (upgrade-info\.json|log line)\)")
            self.assertNotIn("waiting for", text)

    def test_line_then_file_raced(self):
        # The node stays up after the file (its consensus halted): only the file can confirm the line.
        rng = random.Random(SEED)
        for _ in range(RUNS):
            delay = rng.choice([0, 0, 1, 5, 20, 100, 400])
            self.one_run("log-first/hang", True, FAKECHAIN_ANNOUNCE_ORDER="log-first",
                         FAKECHAIN_ANNOUNCE_FILE_DELAY=delay)

    def test_line_then_file_then_exit_raced(self):
        rng = random.Random(SEED + 1)
        for _ in range(RUNS):
            delay = rng.choice([0, 0, 1, 5, 20, 100, 400])
            self.one_run("log-first/exit", True, FAKECHAIN_ANNOUNCE_ORDER="log-first",
                         FAKECHAIN_ANNOUNCE_FILE_DELAY=delay, FAKECHAIN_HALT="exit")

    def test_line_only_then_exit(self):
        for _ in range(5):
            text = self.one_run("log/exit", False, FAKECHAIN_ANNOUNCE="log", FAKECHAIN_HALT="exit")
            self.assertIn("after it", text)
            self.assertNotIn("acting on the log line", text)

    def test_line_only_no_exit(self):
        # Nothing confirms the line and the node keeps running: acted on once the bound has passed.
        for _ in range(2):
            text = self.one_run("log/hang", False, FAKECHAIN_ANNOUNCE="log")
            self.assertIn("waiting for", text)
            self.assertIn("acting on the log line", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
