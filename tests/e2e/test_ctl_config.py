# SPDX-License-Identifier: LGPL-2.1-or-later
"""oraivisorctl's command line and `config`: the same configuration as oraivisor (environment, or the
unit's view with -i), where each value comes from, status 78 for what oraivisor would refuse."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Home, base_env, ctl  # noqa: E402


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)

    def test_help_and_usage(self):
        r = ctl(self.home, "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("config", r.stdout)
        r = ctl(self.home, "config", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--json", r.stdout)
        r = ctl(self.home)
        self.assertEqual(r.returncode, 2)
        self.assertIn("No command given", r.stderr)
        r = ctl(self.home, "confg")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean 'config'", r.stderr)
        r = ctl(self.home, "config", "--force")
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not take --force", r.stderr)
        r = ctl(self.home, "config", "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn("fewer arguments", r.stderr)
        r = ctl(self.home, "--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^oraivisorctl \d+\.\d+")


class Config(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)

    def test_environment_sources(self):
        r = ctl(self.home, "config", "--json", env={"DAEMON_SHUTDOWN_GRACE": "45s"})
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        v = doc["variables"]
        self.assertEqual(v["DAEMON_HOME"], {"value": self.home.path, "source": "environment"})
        self.assertEqual(v["DAEMON_SHUTDOWN_GRACE"], {"value": "45s", "source": "environment"})
        self.assertEqual(v["DAEMON_ALLOW_DOWNLOAD_BINARIES"], {"value": "false", "source": "default"})
        self.assertEqual(v["ORAIVISOR_DOWNLOAD_MAX_SIZE"]["value"], str(4 << 30))
        self.assertIsNone(doc["instance"])
        self.assertEqual(doc["paths"]["current"], os.path.join(self.home.path, "oraivisor", "current"))
        self.assertEqual(doc["paths"]["backups"], self.home.path)
        # --home / --name win over the environment.
        other = tempfile.mkdtemp(prefix="oraivisorctl-home-")
        self.addCleanup(os.rmdir, other)
        r = ctl(self.home, "config", "--json", "--home", other, "--name", "oraid")
        self.assertEqual(r.returncode, 0, r.stderr)
        v = json.loads(r.stdout)["variables"]
        self.assertEqual(v["DAEMON_HOME"], {"value": other, "source": "command line"})
        self.assertEqual(v["DAEMON_NAME"], {"value": "oraid", "source": "command line"})
        # The human table names the source too.
        r = ctl(self.home, "config", env={"NO_COLOR": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"DAEMON_HOME\s+" + self.home.path + r"\s+environment")
        self.assertNotIn("\x1b[", r.stdout)

    def test_invalid_configuration_is_78(self):
        for extra, want in [({"DAEMON_ALLOW_DOWNLOAD_BINARIES": "maybe"}, "DAEMON_ALLOW_DOWNLOAD_BINARIES='maybe' is not a boolean"),
                            ({"DAEMON_HOME": "relative"}, "DAEMON_HOME='relative' is not valid"),
                            ({"DAEMON_HOME": "/nonexistent/oraivisorctl"}, "is not an existing folder")]:
            r = ctl(self.home, "config", env=extra)
            self.assertEqual(r.returncode, 78, (extra, r.stdout, r.stderr))
            self.assertIn(want, r.stderr)
        # A typo is a warning with a suggestion, as oraivisor says it.
        r = ctl(self.home, "config", env={"DAEMON_SHUTDOWN_GRAEC": "1s"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Did you mean DAEMON_SHUTDOWN_GRACE?", r.stderr)
        e = base_env(self.home)
        del e["DAEMON_HOME"]
        r = ctl(e, "config")
        self.assertEqual(r.returncode, 78)
        self.assertIn("DAEMON_HOME is not set", r.stderr)

    def test_instance_reads_the_conf_file_as_the_unit(self):
        conf = tempfile.mkdtemp(prefix="oraivisorctl-conf-")
        self.addCleanup(lambda: [os.unlink(os.path.join(conf, f)) for f in os.listdir(conf)] and None or os.rmdir(conf))
        with open(os.path.join(conf, "oraid.conf"), "w") as f:
            f.write(f"# the node\nDAEMON_HOME=\"{self.home.path}\"\nDAEMON_RESTART_DELAY = 5s \nnot an assignment\n")
        # The caller's own variables do not reach the unit: ignored with -i.
        r = ctl(self.home, "-i", "oraid", "config", "--json", conf_dir=conf, env={"DAEMON_RESTART_DELAY": "9s"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("line 4: 'not an assignment' is not a KEY=VALUE assignment", r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["instance"], "oraid")
        self.assertEqual(doc["conf_file"], os.path.join(conf, "oraid.conf"))
        self.assertTrue(doc["under_systemd"])
        v = doc["variables"]
        self.assertEqual(v["DAEMON_HOME"], {"value": self.home.path, "source": "conf file"})
        self.assertEqual(v["DAEMON_NAME"], {"value": "oraid", "source": "unit"})
        self.assertEqual(v["DAEMON_RESTART_DELAY"], {"value": "5s", "source": "conf file"})
        # Under the unit, DAEMON_RESTART_AFTER_UPGRADE defaults to true (issue 18).
        self.assertEqual(v["DAEMON_RESTART_AFTER_UPGRADE"], {"value": "true", "source": "default"})

        r = ctl(self.home, "-i", "missing", "config", conf_dir=conf)
        self.assertEqual(r.returncode, 78)
        self.assertIn(os.path.join(conf, "missing.conf") + " is missing", r.stderr)
        r = ctl(self.home, "-i", "../etc/passwd", "config", conf_dir=conf)
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not an instance name", r.stderr)
        with open(os.path.join(conf, "broken.conf"), "w") as f:
            f.write("DAEMON_HOME=\"/var/lib/x\n")
        r = ctl(self.home, "-i", "broken", "config", conf_dir=conf)
        self.assertEqual(r.returncode, 78)
        self.assertIn("opens a double quote that is never closed", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
