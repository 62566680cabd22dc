# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the end-to-end tests: where the installed oraivisor and the fake chain daemons are, and
a throw-away DAEMON_HOME laid out as an operator would."""

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time

SOURCE_ROOT = os.environ.get("ORAIVISOR_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD_ROOT = os.environ.get("ORAIVISOR_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))
DESTDIR = os.environ.get("ORAIVISOR_DESTDIR", os.path.join(BUILD_ROOT, "destdir"))


def installed_oraivisor():
    """The oraivisor installed by `meson install --destdir` (make check does that first)."""
    for root, _dirs, files in os.walk(DESTDIR):
        if "oraivisor" in files and root.endswith("/bin"):
            return os.path.join(root, "oraivisor")
    raise RuntimeError(f"no installed oraivisor under {DESTDIR}: run `make check` (it installs before testing)")


def fakechaind(version):
    p = os.path.join(BUILD_ROOT, "tests", "fakechaind", f"fakechaind-{version}")
    if not os.access(p, os.X_OK):
        raise RuntimeError(f"{p} is missing: build the project first")
    return p


class Home:
    """A DAEMON_HOME with oraivisor/genesis and any upgrades, holding fakechaind binaries."""

    def __init__(self, name="fakechaind", genesis="v1", upgrades=("v2",), base=None):
        self.path = tempfile.mkdtemp(prefix="oraivisor-e2e-", dir=base)
        self.name = name
        self.root = os.path.join(self.path, "oraivisor")
        self.install("genesis", genesis)
        for u in upgrades:
            self.install(os.path.join("upgrades", u), u)

    def install(self, rel, version):
        d = os.path.join(self.root, rel, "bin")
        os.makedirs(d, exist_ok=True)
        dst = os.path.join(d, self.name)
        shutil.copy(fakechaind(version), dst)
        os.chmod(dst, 0o755)
        return dst

    def current(self):
        return os.readlink(os.path.join(self.root, "current"))

    def data(self, *rel):
        return os.path.join(self.path, "data", *rel)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def base_env(home, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAEMON_", "ORAIVISOR_", "FAKECHAIN_", "NOTIFY_SOCKET", "INVOCATION_ID", "WATCHDOG_",
                                "JOURNAL_STREAM", "UNSAFE_", "COSMOVISOR_"))}
    env.update({
        "DAEMON_HOME": home.path,
        "DAEMON_NAME": home.name,
        "ORAIVISOR_LAUNCHER": "exec",
        # Never node-exporter's folder of the machine running the tests (the default when it exists).
        "ORAIVISOR_METRICS_DIR": "off",
        "UNSAFE_SKIP_BACKUP": "true",
        "FAKECHAIN_BLOCK_INTERVAL": "10",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Run:
    """oraivisor running in the background, its stdout and stderr captured to files."""

    def __init__(self, home, args=("start",), env=None, binary=None):
        self.home = home
        self.out_path = os.path.join(home.path, "oraivisor.stdout")
        self.err_path = os.path.join(home.path, "oraivisor.stderr")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([binary or installed_oraivisor(), *args], env=env, stdout=self.out,
                                     stderr=self.err, stdin=subprocess.DEVNULL)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.out.close()
            self.err.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def text(self):
        return (self.stdout() + self.stderr()).decode("utf-8", "replace")

    def wait_for(self, needle, timeout=20, stream="both"):
        """Waits until needle (bytes or str) shows up in the output."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = {"stdout": self.stdout, "stderr": self.stderr}.get(stream, lambda: self.stdout() + self.stderr())()
            if needle in data:
                return True
            if self.proc.poll() is not None:
                data = {"stdout": self.stdout, "stderr": self.stderr}.get(stream, lambda: self.stdout() + self.stderr())()
                return needle in data
            time.sleep(0.02)
        return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()


def run_once(home, args=("start",), env=None, timeout=30):
    r = Run(home, args, env)
    rc = r.wait(timeout)
    return rc, r


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def daemon_pids(home):
    """PIDs of the fake daemons (not oraivisor itself) running with this DAEMON_HOME."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if f"DAEMON_HOME={home.path}\0".encode() in env and exe.startswith(home.root):
            pids.append(int(pid))
    return pids


def kill_tree_by_home(home):
    """Kills leftover fakechaind processes of a home (by their /proc/PID/environ)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if f"DAEMON_HOME={home.path}\0".encode() in env:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def installed_ctl():
    """The oraivisorctl installed next to oraivisor."""
    return os.path.join(os.path.dirname(installed_oraivisor()), "oraivisorctl")


def ctl(home_or_env, *args, env=None, timeout=60, conf_dir=None):
    """Runs the installed oraivisorctl with args; home_or_env is a Home (its base_env is used) or a dict.
    Returns the CompletedProcess (text, both streams captured)."""
    e = dict(base_env(home_or_env) if isinstance(home_or_env, Home) else (home_or_env or {}))
    e.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
    if conf_dir:
        e["ORAIVISORCTL_CONF_DIR"] = conf_dir
    if env:
        e.update(env)
    return subprocess.run([installed_ctl(), *args], env=e, capture_output=True, text=True, timeout=timeout)
