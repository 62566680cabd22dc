# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl's inspecting commands: show-upgrade-info, list, version and status, against homes built
with fakechaind versions, broken versions, and a running oraivisor (exec mode) that is upgrading."""

import hashlib
import json
import os
import shutil
import stat
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, Run, base_env, ctl, daemon_pids, kill_tree_by_home  # noqa: E402

NOT_FOUND = 4
NEEDS_ATTENTION = 3


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


def wait_until(pred, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class InspectTestCase(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)
        self.addCleanup(kill_tree_by_home, self.home)

    def ctl_json(self, *args, want=0, env=None):
        r = ctl(self.home, *args, "--json", env=env)
        self.assertEqual(r.returncode, want, (r.stdout, r.stderr))
        return json.loads(r.stdout)

    def plan_file(self, doc):
        write(self.home.data("upgrade-info.json"), json.dumps(doc))


class ShowUpgradeInfo(InspectTestCase):
    def test_absent(self):
        r = ctl(self.home, "show-upgrade-info")
        self.assertEqual(r.returncode, NOT_FOUND, r.stderr)
        self.assertIn("No upgrade planned", r.stdout)
        self.assertIn("upgrade-info.json' does not exist", r.stdout)
        doc = self.ctl_json("show-upgrade-info", want=NOT_FOUND)
        self.assertIsNone(doc["plan"])
        self.assertEqual(doc["path"], self.home.data("upgrade-info.json"))

    def test_manifest_decoded_and_missing_binary(self):
        info = {"binaries": {"linux/amd64": "https://example.invalid/a?checksum=sha256:" + "a" * 64,
                             "linux/arm64": "https://example.invalid/b", "any": "https://example.invalid/c",
                             "darwin/amd64": 7}}
        self.plan_file({"name": "v3", "height": "120", "info": json.dumps(info)})
        doc = self.ctl_json("show-upgrade-info")
        p = doc["plan"]
        self.assertEqual(p["name"], "v3")
        self.assertEqual(p["height"], 120)
        self.assertIsNone(p["time"])
        self.assertEqual(p["info_kind"], "manifest")
        self.assertIsNone(p["manifest_url"])
        self.assertIsNone(p["info_error"])
        self.assertEqual(p["binaries"]["linux/arm64"], "https://example.invalid/b")
        self.assertIsNone(p["binaries"]["darwin/amd64"])  # not a string: kept, without URL
        self.assertIn(p["platform"], p["binaries"].keys() | {p["platform"]})
        want_here = info["binaries"].get(p["platform"], info["binaries"]["any"])
        self.assertEqual(p["binary_url"], want_here)
        self.assertEqual(p["folder"], "v3")
        self.assertEqual(p["binary"], "missing")
        r = ctl(self.home, "show-upgrade-info", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"height\s+120")
        self.assertIn("(this machine)", r.stdout)
        self.assertRegex(r.stdout, r"installed\s+missing")

    def test_ready_url_info_and_hostile_name(self):
        self.plan_file({"name": "v2", "height": 7, "info": "https://example.invalid/manifest.json"})
        p = self.ctl_json("show-upgrade-info")["plan"]
        self.assertEqual((p["binary"], p["info_kind"], p["manifest_url"]), ("ready", "url", "https://example.invalid/manifest.json"))
        self.assertIsNone(p["binaries"])
        # A name with control characters is escaped for the terminal, never printed raw.
        self.plan_file({"name": "v9\x1b[31m", "height": 7, "info": ""})
        r = ctl(self.home, "show-upgrade-info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\x1b", r.stdout)
        self.assertIn("\\x1b", r.stdout)
        self.assertEqual(self.ctl_json("show-upgrade-info")["plan"]["info_kind"], "none")

    def test_malformed(self):
        write(self.home.data("upgrade-info.json"), '{"name": "v2", "heig')
        r = ctl(self.home, "show-upgrade-info")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a valid plan", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_missing_home(self):
        r = ctl(self.home, "show-upgrade-info", env={"DAEMON_HOME": "/nonexistent/oraivisorctl"})
        self.assertEqual(r.returncode, 78)
        self.assertIn("is not an existing folder", r.stderr)


class List(InspectTestCase):
    def test_versions_digests_plans_and_version_output(self):
        os.symlink("upgrades/v2", os.path.join(self.home.root, "current"))
        write(os.path.join(self.home.root, "upgrades", "v2", "upgrade-info.json"), '{"name":"v2","height":5,"info":""}')
        doc = self.ctl_json("list")
        self.assertEqual(doc["current"], "v2")
        self.assertIsNone(doc["current_error"])
        names = [v["name"] for v in doc["versions"]]
        self.assertEqual(names, ["genesis", "v2"])
        g, v2 = doc["versions"]
        for v, rel, out in [(g, "genesis", "v1"), (v2, "upgrades/v2", "v2")]:
            binary = os.path.join(self.home.root, rel, "bin", self.home.name)
            with open(binary, "rb") as f:
                data = f.read()
            self.assertEqual(v["path"], os.path.join(self.home.root, rel))
            self.assertEqual(v["binary"]["path"], binary)
            self.assertTrue(v["binary"]["installed"])
            self.assertIsNone(v["binary"]["problem"])
            self.assertEqual(v["binary"]["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(v["binary"]["size"], len(data))
            self.assertEqual(v["version"], {"output": out, "truncated": False, "exit_status": 0, "signal": None,
                                            "timed_out": False})
            self.assertIsNone(v["version_error"])
        self.assertFalse(g["current"])
        self.assertTrue(v2["current"])
        self.assertIsNone(g["folder"])
        self.assertEqual(v2["folder"], "v2")
        self.assertIsNone(g["plan"])
        self.assertEqual((v2["plan"]["name"], v2["plan"]["height"]), ("v2", 5))
        r = ctl(self.home, "list", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("● v2 (current)", r.stdout)
        self.assertIn("Activated: by 'v2' at height 5", r.stdout)
        self.assertRegex(r.stdout, r"Version: v1\n")

    def test_broken_versions(self):
        root = self.home.root
        # Not executable, missing, a folder in place of the binary, a folder name that does not decode.
        self.home.install("upgrades/v3", "v2")
        os.chmod(os.path.join(root, "upgrades/v3/bin", self.home.name), 0o644)
        os.makedirs(os.path.join(root, "upgrades/v4/bin"))
        os.makedirs(os.path.join(root, "upgrades/v5/bin", self.home.name))
        self.home.install("upgrades/bad%zz", "v2")
        write(os.path.join(root, "upgrades/v2/upgrade-info.json"), "{broken")
        doc = self.ctl_json("list")
        by_folder = {v["folder"]: v for v in doc["versions"]}
        self.assertIsNone(doc["current"])  # no current yet
        self.assertEqual(doc["current_error"], "missing")
        self.assertEqual(by_folder["v3"]["binary"]["problem"], "is not executable")
        self.assertEqual(by_folder["v4"]["binary"]["problem"], "is missing")
        self.assertEqual(by_folder["v5"]["binary"]["problem"], "is a folder, not a file")
        for f in ("v3", "v4", "v5"):
            self.assertFalse(by_folder[f]["binary"]["installed"])
            self.assertIsNone(by_folder[f]["binary"]["sha256"])
            self.assertIsNone(by_folder[f]["version"])
        self.assertIsNone(by_folder["bad%zz"]["name"])
        self.assertTrue(by_folder["bad%zz"]["binary"]["installed"])
        self.assertIsNone(by_folder["v2"]["plan"])
        self.assertIsNotNone(by_folder["v2"]["plan_error"])
        r = ctl(self.home, "list", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("× v3", r.stdout)
        self.assertIn("is not executable", r.stdout)
        self.assertIn("(folder name does not decode)", r.stdout)
        self.assertIn("current' does not exist yet", r.stdout)

    def test_version_runs_as_the_node(self):
        # A version binary that shows its environment: lib/ first on LD_LIBRARY_PATH, the unit's own
        # variables (NOTIFY_SOCKET) stripped, DAEMON_HOME as the working directory.
        lib = os.path.join(self.home.root, "upgrades", "v2", "lib")
        os.makedirs(lib)
        write(os.path.join(self.home.root, "upgrades", "v2", "bin", self.home.name),
              '#!/bin/sh\necho "args=$* ld=$LD_LIBRARY_PATH notify=${NOTIFY_SOCKET-unset} cwd=$(pwd)"\n', 0o755)
        doc = self.ctl_json("list", env={"NOTIFY_SOCKET": "/run/nope", "LD_LIBRARY_PATH": "/opt/x"})
        v2 = [v for v in doc["versions"] if v["folder"] == "v2"][0]
        self.assertEqual(v2["binary"]["lib"], lib)
        self.assertEqual(v2["version"]["output"],
                         f"args=version ld={lib}:/opt/x notify=unset cwd={self.home.path}")

    def test_version_failing_chatty_and_hanging(self):
        write(os.path.join(self.home.root, "upgrades", "v2", "bin", self.home.name),
              "#!/bin/sh\nhead -c 20000 /dev/zero | tr '\\0' x\necho\necho oops >&2\nexit 3\n", 0o755)
        self.home.install("upgrades/v3", "v2")
        write(os.path.join(self.home.root, "upgrades", "v3", "bin", self.home.name),
              "#!/bin/sh\necho started\nexec sleep 60\n", 0o755)
        t0 = time.monotonic()
        doc = self.ctl_json("list")
        by_folder = {v["folder"]: v for v in doc["versions"]}
        chatty = by_folder["v2"]["version"]
        self.assertEqual(chatty["exit_status"], 3)
        self.assertTrue(chatty["truncated"])
        self.assertEqual(len(chatty["output"]), 16 * 1024)  # the readiness check's cap (READINESS_OUTPUT_MAX)
        self.assertTrue(chatty["output"].startswith("xxxx"))
        hang = by_folder["v3"]["version"]
        self.assertTrue(hang["timed_out"], hang)
        self.assertIsNone(hang["exit_status"])
        self.assertEqual(hang["output"], "started")
        self.assertLess(time.monotonic() - t0, 50, "the version command must be stopped at its limit")
        r = ctl(self.home, "list", env={"NO_COLOR": "1"})
        self.assertIn("(exit status 3)", r.stdout)
        self.assertIn("(timed out, stopped)", r.stdout)


def foreign_elf(src, dst):
    """A copy of the ELF src claiming another machine (AArch64, or x86-64 on an AArch64 host)."""
    with open(src, "rb") as f:
        elf = bytearray(f.read())
    machine = struct.unpack_from("<H", elf, 18)[0]
    struct.pack_into("<H", elf, 18, 183 if machine != 183 else 62)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "wb") as f:
        f.write(elf)
    os.chmod(dst, 0o755)
    return "is built for AArch64" if machine != 183 else "is built for x86-64"


class ReadinessTestCase(InspectTestCase):
    """Versions that will not start on this host, each for its own reason, beside ready ones."""

    def binary(self, folder):
        return os.path.join(self.home.root, "upgrades", folder, "bin", self.home.name)

    def stage_not_ready(self):
        # v3: its `version` fails; v4: an ELF for another machine; v5: bin/ without the binary.
        write(self.binary("v3"), "#!/bin/sh\necho 'Error: unknown flag --foo' >&2\nexit 2\n", 0o755)
        self.foreign = foreign_elf(self.binary("v2"), self.binary("v4"))
        os.makedirs(os.path.dirname(self.binary("v5")))


class ListReadiness(ReadinessTestCase):
    def test_ready_and_not_ready(self):
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        self.stage_not_ready()
        doc = self.ctl_json("list")  # not ready is listed, not a failure: status 0
        v = {x["name"]: x for x in doc["versions"]}
        self.assertEqual(list(v), ["genesis", "v2", "v3", "v4", "v5"])
        for name, out in [("genesis", "v1"), ("v2", "v2")]:
            self.assertIs(v[name]["ready"], True, v[name])
            self.assertIsNone(v[name]["not_ready_reason"])
            self.assertEqual(v[name]["version"]["output"], out)
        self.assertIs(v["v3"]["ready"], False)
        self.assertIn('`version` exited with status 2 ("Error: unknown flag --foo")', v["v3"]["not_ready_reason"])
        self.assertEqual((v["v3"]["version"]["exit_status"], v["v3"]["version"]["output"]),
                         (2, "Error: unknown flag --foo"))
        self.assertIs(v["v4"]["ready"], False)
        self.assertIn(self.foreign, v["v4"]["not_ready_reason"])
        self.assertIsNone(v["v4"]["version"], "a binary for another machine is not run")
        self.assertIsNone(v["v4"]["version_error"])
        self.assertTrue(v["v4"]["binary"]["installed"])
        self.assertIs(v["v5"]["ready"], False)
        self.assertEqual(v["v5"]["not_ready_reason"],
                         f"is missing ({self.binary('v5')}): install it with oraivisorctl add-upgrade or prepare-upgrade")
        self.assertIsNone(v["v5"]["version"])
        # The words of `check`: the same reason for the same binary.
        r = ctl(self.home, "check", "--json")
        self.assertEqual(r.returncode, NEEDS_ATTENTION, r.stderr)
        by_name = {c["name"]: c for c in json.loads(r.stdout)}
        for name in ("v3", "v4"):
            self.assertEqual(by_name[name]["reason"], v[name]["not_ready_reason"])

        r = ctl(self.home, "list", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\x1b", r.stdout)
        blocks = {b.split("\n", 1)[0]: b + "\n" for b in r.stdout.rstrip("\n").split("\n\n")}
        self.assertIn("      Ready: yes\n", blocks["● genesis (current)"])
        self.assertIn("      Ready: yes\n", blocks["● v2"])
        self.assertIn("      Ready: NO — the binary `version` exited with status 2 (\"Error: unknown flag --foo\")",
                      blocks["× v3"])
        self.assertIn("    Version: Error: unknown flag --foo (exit status 2)\n", blocks["× v3"])
        self.assertIn("      Ready: NO — the binary " + self.foreign, blocks["× v4"])
        self.assertIn("(not run: the check stopped before it)", blocks["× v4"])
        self.assertIn("      Ready: NO — the binary is missing (", blocks["× v5"])

    def test_versions_are_checked_together(self):
        # Each `version` waits (at most 8 s, within the check's 10 s) until four have started: only checks
        # that run at the same time all meet. Each also says how many ran at that moment: never more than 4.
        rdv = os.path.join(self.home.path, "rendezvous")
        names = ["genesis", "v2", "v3", "v4", "v5", "v6"]
        for n in names:
            path = os.path.join(self.home.root, "genesis" if n == "genesis" else f"upgrades/{n}", "bin", self.home.name)
            write(path, f"""#!/bin/sh
d={rdv}
mkdir -p $d/started $d/running
touch $d/started/{n} $d/running/{n}
i=0
while [ "$(ls $d/started | wc -l)" -lt 4 ] && [ $i -lt 160 ]; do sleep 0.05; i=$((i+1)); done
running=$(ls $d/running | wc -l)
rm -f $d/running/{n}
[ "$(ls $d/started | wc -l)" -ge 4 ] || {{ echo "alone running=$running"; exit 1; }}
echo "together running=$running"
""", 0o755)
        doc = self.ctl_json("list")
        outs = {v["name"]: v["version"]["output"] for v in doc["versions"]}
        self.assertEqual(set(outs), set(names))
        for n in names:
            self.assertRegex(outs[n], r"^together running=\d+$", outs)
        self.assertTrue(all(v["ready"] for v in doc["versions"]), doc)
        self.assertLessEqual(max(int(o.split("=")[1]) for o in outs.values()), 4, outs)


class VersionReadiness(ReadinessTestCase):
    def test_current_not_ready(self):
        self.stage_not_ready()
        os.symlink("upgrades/v4", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version", want=1)
        self.assertIs(doc["ready"], False)
        self.assertIn(self.foreign, doc["not_ready_reason"])
        self.assertIsNone(doc["app"], "a binary for another machine is not run")
        self.assertIsNone(doc["app_version"])
        self.assertEqual(doc["error"], "the current version 'v4' is NOT READY: the binary " + doc["not_ready_reason"])
        r = ctl(self.home, "version")
        self.assertEqual(r.returncode, 1)
        self.assertIn("the current version 'v4' is NOT READY: the binary " + self.foreign, r.stderr)
        os.unlink(os.path.join(self.home.root, "current"))
        os.symlink("upgrades/v3", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version", want=1)
        self.assertIs(doc["ready"], False)
        self.assertIn("`version` exited with status 2", doc["not_ready_reason"])
        self.assertEqual(doc["app"]["exit_status"], 2)
        self.assertIn("exit status 2", doc["error"])
        os.unlink(os.path.join(self.home.root, "current"))
        os.symlink("upgrades/v5", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version", want=1)
        self.assertIs(doc["ready"], False)
        self.assertIn("is missing", doc["not_ready_reason"])
        os.unlink(os.path.join(self.home.root, "current"))
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version")
        self.assertIs(doc["ready"], True)
        self.assertIsNone(doc["not_ready_reason"])
        self.assertEqual(doc["app_version"], "v1")


class StatusReadiness(ReadinessTestCase):
    """status says of the current binary and of an upgrade at a height what list says: ready or not, and why."""

    def test_current_and_height_upgrade(self):
        self.stage_not_ready()
        os.symlink("upgrades/v3", os.path.join(self.home.root, "current"))
        foreign = os.path.join(self.home.path, "oraid-arm64")
        foreign_elf(self.binary("v2"), foreign)
        r = ctl(self.home, "add-upgrade", "s9", foreign, "--height", "1000", env={"ORAIVISOR_NODE_RPC": "off"})
        self.assertEqual(r.returncode, NEEDS_ATTENTION, r.stdout + r.stderr)  # installed, not ready
        listed = {v["name"]: v for v in self.ctl_json("list")["versions"]}

        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertIs(doc["current_ready"], False)
        self.assertEqual(doc["current_not_ready_reason"], listed["v3"]["not_ready_reason"])
        h = [e for e in doc["scheduled"] if e["source"] == "height"]
        self.assertEqual([(e["name"], e["height"], e["binary"]) for e in h], [("s9", 1000, "not_ready")])
        self.assertEqual(h[0]["binary_reason"], listed["s9"]["not_ready_reason"])
        self.assertIn(self.foreign, h[0]["binary_reason"])
        w = "\n".join(doc["warnings"])
        self.assertIn(f"The current binary '{self.binary('v3')}' will not start on this host: it `version` exited", w)
        self.assertIn("The binary of the upgrade 's9' at height 1000 is installed but will not start on this host: it "
                      + self.foreign, w)
        r = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, NEEDS_ATTENTION)
        self.assertIn("Current: v3 (upgrades/v3): binary not ready (see below)\n", r.stdout)
        self.assertRegex(r.stdout, r"upgrade s9 at height 1000 .*: binary not ready \(see below\)\n")

        os.unlink(os.path.join(self.home.root, "current"))
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        shutil.copy(self.binary("v2"), os.path.join(self.home.root, "upgrades", "s9", "bin", self.home.name))
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)  # oraivisor is not running
        self.assertIs(doc["current_ready"], True)
        self.assertIsNone(doc["current_not_ready_reason"])
        h = [e for e in doc["scheduled"] if e["source"] == "height"]
        self.assertEqual((h[0]["binary"], h[0]["binary_reason"]), ("ready", None))
        self.assertNotIn("will not start", "\n".join(doc["warnings"]))
        r = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertIn("Current: genesis (genesis): binary ready\n", r.stdout)


class Version(InspectTestCase):
    def test_current_binary(self):
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version")
        self.assertRegex(doc["oraivisor_version"], r"^\d+\.\d+")
        self.assertEqual(doc["app_version"], "v1")
        self.assertEqual(doc["app"]["name"], "genesis")
        self.assertEqual(doc["app"]["exit_status"], 0)
        self.assertEqual(doc["app"]["binary"], os.path.join(self.home.root, "genesis", "bin", self.home.name))
        self.assertIsNone(doc["error"])
        r = ctl(self.home, "version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^oraivisor \d+\.\d+\S*\ngenesis \(genesis\): v1\n$")

    def test_failing_and_missing(self):
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version", want=1, env={"FAKECHAIN_VERSION_EXIT": "5"})
        self.assertEqual(doc["app"]["exit_status"], 5)
        self.assertIn("exit status 5", doc["error"])
        os.chmod(os.path.join(self.home.root, "genesis", "bin", self.home.name), 0o644)
        r = ctl(self.home, "version")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not executable", r.stderr)
        self.assertRegex(r.stdout, r"^oraivisor \d")
        os.unlink(os.path.join(self.home.root, "current"))
        doc = self.ctl_json("version", want=1)
        self.assertIsNone(doc["app_version"])
        self.assertIn("does not exist", doc["error"])


class Status(InspectTestCase):
    def test_stopped_node_needs_attention(self):
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertEqual(doc["current"], "genesis")
        self.assertEqual(doc["launcher"], "exec")
        self.assertEqual(doc["daemon"], {"running": False, "pid": None, "since": None, "unit": None, "unit_state": None})
        self.assertFalse(doc["oraivisor"]["running"])
        self.assertIsNone(doc["upgrade_in_progress"])
        self.assertIsNone(doc["last_upgrade"])
        self.assertEqual(doc["scheduled"], [])
        self.assertEqual(doc["backups"], [])
        self.assertEqual(doc["backup_dir"], self.home.path)
        self.assertIsInstance(doc["backup_free_bytes"], int)
        self.assertTrue(any("oraivisor is not running" in w for w in doc["warnings"]), doc["warnings"])
        r = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, NEEDS_ATTENTION)
        self.assertRegex(r.stdout, r"Daemon: not running")

    def test_scheduled_plans_backups_and_interrupted_record(self):
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        self.plan_file({"name": "v3", "height": 40, "info": ""})
        # Backups: two of ours (the untagged names earlier versions made in the home), one that is not.
        for name, size in [("data-backup-v2-20261101T000000Z", 1 << 16), ("data-backup-v2-20261201T000000Z", 1 << 17)]:
            write(os.path.join(self.home.path, name, "blob"), "x" * size)
        os.makedirs(os.path.join(self.home.path, "data-backup-not-a-backup"))
        write(os.path.join(self.home.root, "upgrade-in-progress.json"), json.dumps(
            {"version": 1, "plan": {"name": "v2", "height": 5, "info": ""}, "folder": "v2", "step": "pre-upgrade",
             "backup": "data-backup-v2-20261201T000000Z", "started_usec": 1764547200000000}))
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertEqual(doc["scheduled"], [{"name": "v3", "height": 40, "time": None, "source": "data/upgrade-info.json",
                                             "sources": ["data/upgrade-info.json"],
                                             "folder": "v3", "binary": "missing", "binary_reason": None,
                                             "downloadable": False}])
        # The listing of `oraivisorctl backups` (shared/backup-list): oldest first.
        self.assertEqual([b["name"] for b in doc["backups"]],
                         ["data-backup-v2-20261101T000000Z", "data-backup-v2-20261201T000000Z"])
        b = doc["backups"][1]
        self.assertEqual((b["upgrade"], b["upgrade_folder"], b["time"], b["partial"], b["snapshot"]),
                         ("v2", "v2", "2026-12-01T00:00:00Z", False, False))
        self.assertEqual(b["path"], os.path.join(self.home.path, "data-backup-v2-20261201T000000Z"))
        self.assertGreaterEqual(b["size"], 1 << 17)
        u = doc["upgrade_in_progress"]
        self.assertEqual((u["step"], u["plan"]["name"], u["plan"]["height"], u["folder"], u["running"]),
                         ("pre-upgrade", "v2", 5, "v2", False))
        self.assertEqual(u["backup"], "data-backup-v2-20261201T000000Z")
        self.assertEqual(u["started"], "2025-12-01T00:00:00Z")
        w = "\n".join(doc["warnings"])
        self.assertIn("The upgrade to 'v2' was interrupted at step pre-upgrade", w)
        self.assertIn("planned upgrade 'v3' is not installed", w)
        # Installed, the plan is ready and no longer a warning; downloads allowed with a URL: not a warning.
        self.home.install("upgrades/v3", "v3")
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertEqual(doc["scheduled"][0]["binary"], "ready")
        self.assertNotIn("planned upgrade", "\n".join(doc["warnings"]))
        # A damaged record is reported, not a crash.
        write(os.path.join(self.home.root, "upgrade-in-progress.json"), "{")
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertIsNone(doc["upgrade_in_progress"])
        self.assertIn("upgrade-in-progress.json' is damaged", "\n".join(doc["warnings"]))

    def test_applied_plan_is_not_scheduled(self):
        # The plan that activated the current version stays in data/upgrade-info.json: done, not planned,
        # whether oraivisor recorded it (upgrades/v2/upgrade-info.json) or an operator switched by hand.
        os.symlink("upgrades/v2", os.path.join(self.home.root, "current"))
        self.plan_file({"name": "v2", "height": 5, "info": ""})
        self.assertEqual(self.ctl_json("status", want=NEEDS_ATTENTION)["scheduled"], [])
        write(os.path.join(self.home.root, "upgrades", "v2", "upgrade-info.json"), '{"name":"v2","height":5}')
        self.assertEqual(self.ctl_json("status", want=NEEDS_ATTENTION)["scheduled"], [])
        # The next plan is.
        self.plan_file({"name": "v3", "height": 9, "info": ""})
        self.assertEqual([p["name"] for p in self.ctl_json("status", want=NEEDS_ATTENTION)["scheduled"]], ["v3"])

    def test_running_node(self):
        env = base_env(self.home, FAKECHAIN_BLOCK_INTERVAL="50")
        r = Run(self.home, env=env)
        self.addCleanup(r.kill)
        self.assertTrue(r.wait_for("committed state"), r.text())
        doc = self.ctl_json("status")
        self.assertEqual(doc["current"], "genesis")
        self.assertTrue(doc["daemon"]["running"])
        self.assertEqual([doc["daemon"]["pid"]], daemon_pids(self.home))
        self.assertRegex(doc["daemon"]["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(doc["oraivisor"]["running"], True)
        self.assertEqual(doc["oraivisor"]["pid"], r.proc.pid)
        self.assertEqual(doc["warnings"], [])
        out = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"Daemon: running (pid {doc['daemon']['pid']})", out.stdout)
        self.assertIn(f"Oraivisor: running (pid {r.proc.pid})", out.stdout)

    def test_daemon_without_oraivisor(self):
        # What oraivisor leaves when it is killed while its exec-mode daemon shuts down slowly: the daemon
        # alone holding the lock it inherited.
        import fcntl
        import subprocess
        fd = os.open(os.path.join(self.home.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        env = base_env(self.home, FAKECHAIN_BLOCK_INTERVAL="50")
        binary = os.path.join(self.home.root, "genesis", "bin", self.home.name)
        p = subprocess.Popen([binary, "start"], env=env, pass_fds=[fd], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        os.close(fd)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        os.symlink("genesis", os.path.join(self.home.root, "current"))
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertEqual((doc["daemon"]["running"], doc["daemon"]["pid"]), (True, p.pid))
        self.assertFalse(doc["oraivisor"]["running"])
        self.assertIn("The daemon runs without oraivisor", "\n".join(doc["warnings"]))

    def test_upgrading_then_last_upgrade(self):
        started = os.path.join(self.home.path, "hook-started")
        go = os.path.join(self.home.path, "hook-go")
        write(os.path.join(self.home.root, "prepare.sh"),
              f"#!/bin/sh\ntouch {started}\ni=0\nwhile [ ! -e {go} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n", 0o755)
        env = base_env(self.home, FAKECHAIN_PLANS="v2@5", ORAIVISOR_CUSTOM_PREUPGRADE="prepare.sh",
                       UNSAFE_SKIP_BACKUP="false")
        r = Run(self.home, env=env)
        self.addCleanup(r.kill)
        wait_until(lambda: os.path.exists(started) or r.proc.poll() is not None, what="the pre-upgrade hook")
        self.assertIsNone(r.proc.poll(), r.text())
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        u = doc["upgrade_in_progress"]
        self.assertEqual((u["step"], u["plan"]["name"], u["plan"]["height"], u["running"]), ("hooks", "v2", 5, True))
        self.assertTrue(u["backup"].startswith("data-backup-"), u)
        self.assertEqual(doc["current"], "genesis")
        self.assertFalse(doc["daemon"]["running"])
        self.assertEqual((doc["oraivisor"]["running"], doc["oraivisor"]["pid"]), (True, r.proc.pid))
        self.assertEqual([b["name"] for b in doc["backups"]], [u["backup"]])
        out = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertIn("Upgrading: 'v2' at height 5 at step hooks", out.stdout)

        write(go, "")
        self.assertEqual(r.wait(60), 0, r.text())
        doc = self.ctl_json("status", want=NEEDS_ATTENTION)
        self.assertEqual(doc["current"], "v2")
        self.assertIsNone(doc["upgrade_in_progress"])
        last = doc["last_upgrade"]
        self.assertEqual((last["name"], last["height"], last["folder"], last["backup"]), ("v2", 5, "v2", u["backup"]))
        self.assertRegex(last["finished"], r"Z$")
        self.assertGreaterEqual(last["duration_usec"], 0)
        self.assertLessEqual(last["started"], last["finished"])
        self.assertEqual(doc["scheduled"], [], "the plan that activated the current version is not scheduled")
        with open(os.path.join(self.home.root, "last-upgrade.json")) as f:
            self.assertEqual(json.load(f)["plan"]["name"], "v2")
        out = ctl(self.home, "status", env={"NO_COLOR": "1"})
        self.assertIn("Last upgrade: 'v2' at height 5, finished", out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
