#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Integration tests of the download path (obtain_start(): manifest → checksum → fetch → digest → unpack →
publish) against the loopback HTTP/HTTPS server of tests/http/server.py. Archives, manifests, checksum lists
and a CA are generated here. A missing tool (openssl, zstd) or a missing driver is a failure, never a skip.
Needs root for the disk-full test (a small tmpfs)."""

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import zipfile

SOURCE_ROOT = os.environ.get("ORAIVISOR_SOURCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "http"))
from server import start_server  # noqa: E402

OBTAIN_RUN = os.environ.get("OBTAIN_RUN")
if not OBTAIN_RUN or not os.access(OBTAIN_RUN, os.X_OK):
    raise SystemExit("OBTAIN_RUN must name the built tests/tools/obtain-run (run through `meson test --suite download`)")
for tool in ("openssl", "zstd"):
    if not shutil.which(tool):
        raise SystemExit("the download tests need '%s' (apt-get install %s; tools/install-deps.sh installs it)" % (tool, tool))

DAEMON = "oraid"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}
PLATFORM = "%s/%s" % (platform.system().lower(), GOARCH.get(platform.machine(), platform.machine()))
OTHER_PLATFORM = "linux/arm64" if PLATFORM != "linux/arm64" else "linux/amd64"


def elf(size=20000, seed=b"v2"):
    """Bytes that look like an ELF executable (the magic is what the unpacker checks)."""
    body = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return b"\x7fELF\x02\x01\x01" + body[: size - 7]


def sha(data, kind="sha256"):
    return hashlib.new(kind, data).hexdigest()


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, kind, payload, mode); kind is file, dir, symlink, hardlink, chr, blk, fifo."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, payload, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            ti.mtime = 1700000000
            if kind == "file":
                ti.size = len(payload)
                t.addfile(ti, io.BytesIO(payload))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                       "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                ti.linkname = payload
            if kind in ("chr", "blk"):
                ti.devmajor, ti.devminor = 8, 0
            t.addfile(ti)
    return buf.getvalue()


def compress(data, how):
    if how in ("", "tar"):
        return data
    if how == "gz":
        return gzip.compress(data, 6)
    if how == "bz2":
        return bz2.compress(data)
    if how == "xz":
        return lzma.compress(data)
    if how == "zst":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE, check=True).stdout
    raise ValueError(how)


def zip_bytes(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, kind, payload, mode in entries:
            zi = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            zi.create_system = 3
            zi.compress_type = zipfile.ZIP_DEFLATED
            if kind == "dir":
                zi = zipfile.ZipInfo(name.rstrip("/") + "/", (2024, 1, 1, 0, 0, 0))
                zi.create_system = 3
                zi.external_attr = (0o40000 | mode) << 16 | 0x10
                z.writestr(zi, b"")
            elif kind == "symlink":
                zi.external_attr = (0o120000 | mode) << 16
                z.writestr(zi, payload.encode())
            else:
                zi.external_attr = (0o100000 | mode) << 16
                z.writestr(zi, payload)
    return buf.getvalue()


BINARY = elf()
LIB = b"libwasmvm " * 500
GOOD_ENTRIES = [("bin", "dir", None, 0o755), ("bin/" + DAEMON, "file", BINARY, 0o755),
                ("lib", "dir", None, 0o755), ("lib/libwasmvm.x86_64.so", "file", LIB, 0o644)]


class Base(unittest.TestCase):
    server = None
    tls_server = None

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="oraivisor-dl-")
        cls.srv_dir = os.path.join(cls.root, "srv")
        os.makedirs(cls.srv_dir)
        cls.server = start_server(cls.srv_dir)
        cls.base = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        if cls.tls_server:
            cls.tls_server.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.root)
        self.upgrades = os.path.join(self.home, "oraivisor", "upgrades")
        os.makedirs(self.upgrades)
        os.makedirs(os.path.join(self.home, "oraivisor", "genesis", "bin"))
        os.symlink("genesis", os.path.join(self.home, "oraivisor", "current"))
        with self.server.lock:
            self.server.requests.clear()

    def put(self, name, data):
        path = os.path.join(self.srv_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return "%s/%s" % (self.base, name)

    def run_obtain(self, info, env=None, plan="v2", timeout=120, prefix=()):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR_"))}
        e.update({"DAEMON_HOME": self.home, "DAEMON_NAME": DAEMON, "DAEMON_ALLOW_DOWNLOAD_BINARIES": "true",
                  "ORAIVISOR_DOWNLOAD_RETRIES": "2"})
        e.update(env or {})
        p = subprocess.run(list(prefix) + [OBTAIN_RUN, self.upgrades, plan, info], env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, text=True)
        self.assert_no_sanitizer_report(p.stderr)
        return p.returncode, p.stdout.strip(), p.stderr

    def assert_no_sanitizer_report(self, stderr):
        # In a sanitizer build an error path must not hide a report behind its expected failure.
        self.assertNotRegex(stderr, r"(Address|Leak|Undefined|Memory)Sanitizer|runtime error:")

    def inline(self, url, extra=None):
        binaries = {PLATFORM: url}
        binaries.update(extra or {})
        return json.dumps({"binaries": binaries, "changelog": "ignored"})

    def leftovers(self):
        return sorted(n for n in os.listdir(self.upgrades) if n.startswith(".staging-"))

    def assert_ok(self, result, binary=BINARY, folder="v2"):
        rc, out, err = result
        self.assertEqual(rc, 0, "obtain failed: %s\n%s" % (out, err))
        self.assertTrue(out.startswith("OK "), out)
        path = os.path.join(self.upgrades, folder, "bin", DAEMON)
        st = os.lstat(path)
        self.assertTrue(os.path.isfile(path) and not os.path.islink(path))
        self.assertEqual(st.st_mode & 0o111, 0o111, "binary not executable: %o" % st.st_mode)
        self.assertEqual(st.st_mode & 0o7000, 0, "setuid/setgid/sticky not cleared: %o" % st.st_mode)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), binary)
        self.assertEqual(self.leftovers(), [])
        return out, err

    def assert_error(self, result, *needles, folder="v2"):
        rc, out, err = result
        self.assertNotEqual(rc, 0, "expected a failure, got: %s\n%s" % (out, err))
        self.assertTrue(out.startswith("ERROR: "), "no error line: %r\n%s" % (out, err))
        message = out[len("ERROR: "):]
        self.assertEqual(len(message.splitlines()), 1, "the error must be one line: %r" % message)
        for n in needles:
            self.assertIn(n, message)
        self.assertFalse(os.path.lexists(os.path.join(self.upgrades, folder)), "upgrades/%s was published" % folder)
        self.assertEqual(self.leftovers(), [], "staging folder left behind")
        self.assertEqual(os.readlink(os.path.join(self.home, "oraivisor", "current")), "genesis")
        return message

    def requests_for(self, fragment):
        with self.server.lock:
            return [r for r in self.server.requests if fragment in r[0]]


class Formats(Base):
    def test_archive_formats(self):
        tar = tar_bytes(GOOD_ENTRIES)
        cases = {"tar": tar, "tar.gz": compress(tar, "gz"), "tar.bz2": compress(tar, "bz2"),
                 "tar.xz": compress(tar, "xz"), "tar.zst": compress(tar, "zst"), "zip": zip_bytes(GOOD_ENTRIES)}
        for ext, data in cases.items():
            with self.subTest(ext=ext):
                # A name that says nothing: recognised by content, not by name.
                url = self.put("formats/release-%s.bin" % ext.replace(".", "-"), data)
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                self.assert_ok(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, sha(data)))))
                with open(os.path.join(self.upgrades, "v2", "lib", "libwasmvm.x86_64.so"), "rb") as f:
                    self.assertEqual(f.read(), LIB)

    def test_binary_at_root_moved_to_bin(self):
        for ext, data in (("tar.gz", compress(tar_bytes([(DAEMON, "file", BINARY, 0o755),
                                                       ("README", "file", b"hi", 0o644)]), "gz")),
                          ("zip", zip_bytes([(DAEMON, "file", BINARY, 0o644)]))):
            with self.subTest(ext=ext):
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                url = self.put("root/oraid." + ext, data)
                self.assert_ok(self.run_obtain(self.inline(url)))
                self.assertFalse(os.path.exists(os.path.join(self.upgrades, "v2", DAEMON)))

    def test_plain_executable(self):
        script = b"#!/bin/sh\necho v2\n"
        for name, data in (("elf", BINARY), ("script", script)):
            with self.subTest(kind=name):
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                url = self.put("plain/" + name, data)
                self.assert_ok(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, sha(data)))), binary=data)

    def test_single_compressed_file(self):
        for how in ("gz", "xz", "zst", "bz2"):
            with self.subTest(compression=how):
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                data = compress(BINARY, how)
                url = self.put("single/oraid." + how, data)
                self.assert_ok(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, sha(data)))))

    def test_not_an_archive(self):
        url = self.put("html/error.html", b"<!DOCTYPE html><html>Login required</html>\n")
        self.assert_error(self.run_obtain(self.inline(url)), "neither an archive", "<!DOCTYPE html>")


class Manifests(Base):
    def setUp(self):
        super().setUp()
        self.data = compress(tar_bytes(GOOD_ENTRIES), "gz")
        self.url = self.put("m/oraid.tar.gz", self.data)
        self.url_sum = "%s?checksum=sha256:%s" % (self.url, sha(self.data))

    def test_inline_info(self):
        self.assert_ok(self.run_obtain(self.inline(self.url_sum)))

    def test_manifest_url_with_checksum(self):
        manifest = json.dumps({"binaries": {PLATFORM: self.url_sum}}).encode()
        murl = self.put("m/manifest.json", manifest)
        out, err = self.assert_ok(self.run_obtain("%s?checksum=sha256:%s" % (murl, sha(manifest)),
                                                  env={"DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM": "true"}))
        self.assertEqual(len(self.requests_for("manifest.json")), 1)

    def test_manifest_url_bad_checksum(self):
        manifest = json.dumps({"binaries": {PLATFORM: self.url_sum}}).encode()
        murl = self.put("m/manifest2.json", manifest)
        msg = self.assert_error(self.run_obtain("%s?checksum=sha256:%s" % (murl, "0" * 64)),
                                "manifest", "expected sha256:" + "0" * 64, "got sha256:" + sha(manifest))
        self.assertEqual(self.requests_for("oraid.tar.gz"), [])

    def test_any_platform(self):
        info = json.dumps({"binaries": {"any": self.url_sum}})
        self.assert_ok(self.run_obtain(info))

    def test_platform_entry_preferred_over_any(self):
        info = json.dumps({"binaries": {"any": self.base + "/status/404/any", PLATFORM: self.url_sum}})
        self.assert_ok(self.run_obtain(info))
        self.assertEqual(self.requests_for("/any"), [])

    def test_broken_entry_for_other_platform_ignored(self):
        info = self.inline(self.url_sum, {OTHER_PLATFORM: self.base + "/x?checksum=sha256:nothex",
                                          "darwin/amd64": 42, "not a key": "ftp://nowhere"})
        self.assert_ok(self.run_obtain(info, env={"DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM": "true"}))
        with self.server.lock:
            self.assertEqual([r[0] for r in self.server.requests], ["/m/oraid.tar.gz"])

    def test_no_entry_for_this_platform(self):
        info = json.dumps({"binaries": {"darwin/arm64": self.url_sum}})
        self.assert_error(self.run_obtain(info), "no entry for this platform", PLATFORM)

    def test_bad_entry_for_this_platform(self):
        self.assert_error(self.run_obtain(json.dumps({"binaries": {PLATFORM: 7}})), "not a non-empty string")

    def test_info_not_usable(self):
        self.assert_error(self.run_obtain("see the release notes"), "neither a JSON manifest nor a URL")
        self.assert_error(self.run_obtain('{"binaries": '), "truncated JSON")
        self.assert_error(self.run_obtain('{"changelog": "x"}'), "no \"binaries\" object")
        self.assert_error(self.run_obtain(""), "has no info")

    def test_scheme_refused(self):
        self.assert_error(self.run_obtain(self.inline("ftp://127.0.0.1/oraid")), "only http:// and https://")

    def test_file_urls(self):
        path = os.path.join(self.srv_dir, "m", "oraid.tar.gz")
        url = "file://%s?checksum=sha256:%s" % (path, sha(self.data))
        self.assert_error(self.run_obtain(self.inline(url)), "ORAIVISOR_ALLOW_FILE_URLS=true")
        self.assert_ok(self.run_obtain(self.inline(url), env={"ORAIVISOR_ALLOW_FILE_URLS": "true"}))

    def test_credentials_not_shown(self):
        url = "http://alice:s3cret@127.0.0.1:%d/status/404/oraid" % self.server.port
        msg = self.assert_error(self.run_obtain(self.inline(url)), "HTTP 404", "***@127.0.0.1")
        self.assertNotIn("s3cret", msg)


class Checksums(Base):
    def setUp(self):
        super().setUp()
        self.data = compress(tar_bytes(GOOD_ENTRIES), "xz")
        self.url = self.put("c/oraid-linux-amd64.tar.xz", self.data)

    def test_good_sha256(self):
        self.assert_ok(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (self.url, sha(self.data)))))

    def test_bad_checksum_shows_expected_and_actual(self):
        wrong = sha(b"something else")
        msg = self.assert_error(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (self.url, wrong))),
                                "does not match its checksum", "expected sha256:" + wrong,
                                "got sha256:" + sha(self.data), self.url)

    def test_missing_checksum_allowed(self):
        out, err = self.assert_ok(self.run_obtain(self.inline(self.url)))
        self.assertIn("no checksum to verify", err)

    def test_missing_checksum_must_have(self):
        self.assert_error(self.run_obtain(self.inline(self.url), env={"DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM": "true"}),
                          "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true", "binary URL")
        manifest = json.dumps({"binaries": {PLATFORM: "%s?checksum=sha256:%s" % (self.url, sha(self.data))}}).encode()
        murl = self.put("c/manifest.json", manifest)
        self.assert_error(self.run_obtain(murl, env={"DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM": "true"}),
                          "DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM=true", "manifest URL")
        self.assertEqual(self.requests_for("c/"), [])

    def test_sha512_and_bare_hex(self):
        for spec in ("sha512:" + sha(self.data, "sha512"), sha(self.data), sha(self.data, "sha512"),
                     "SHA256:" + sha(self.data).upper()):
            with self.subTest(spec=spec[:12]):
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                self.assert_ok(self.run_obtain(self.inline("%s?checksum=%s" % (self.url, spec))))
        shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
        self.assert_error(self.run_obtain(self.inline("%s?checksum=%s" % (self.url, "ab" * 33))),
                          "matches no checksum type")

    def test_weak_checksum_warns(self):
        out, err = self.assert_ok(self.run_obtain(self.inline("%s?checksum=md5:%s" % (self.url, sha(self.data, "md5")))))
        self.assertIn("weak", err)

    def test_checksum_file_lists(self):
        name = os.path.basename(self.url)
        lists = {
            "gnu": "%s  other.tar.gz\n%s  %s\n" % ("1" * 64, sha(self.data), name),
            "gnu-binary": "# release sums\n%s *./dist/%s\n" % (sha(self.data, "sha512"), name),
            "bsd": "SHA256 (other) = %s\nSHA256 (%s) = %s\n" % ("2" * 64, name, sha(self.data)),
        }
        for kind, text in lists.items():
            with self.subTest(kind=kind):
                shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
                lurl = self.put("c/SUMS-" + kind, text.encode())
                self.assert_ok(self.run_obtain(self.inline("%s?checksum=file:%s" % (self.url, lurl)),
                                               env={"DAEMON_DOWNLOAD_MUST_HAVE_CHECKSUM": "true"}))
        shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
        lurl = self.put("c/SUMS-bad", ("%s  %s\n" % ("3" * 64, name)).encode())
        self.assert_error(self.run_obtain(self.inline("%s?checksum=file:%s" % (self.url, lurl))),
                          "expected sha256:" + "3" * 64)
        lurl = self.put("c/SUMS-none", ("%s  other\n" % ("4" * 64)).encode())
        self.assert_error(self.run_obtain(self.inline("%s?checksum=file:%s" % (self.url, lurl))),
                          "no entry for the file", name)

    def test_malformed_checksum(self):
        self.assert_error(self.run_obtain(self.inline("%s?checksum=sha256:xyz" % self.url)), "malformed", "not hexadecimal")
        self.assert_error(self.run_obtain(self.inline("%s?checksum=crc32:00" % self.url)), "unknown checksum type")


class Transport(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big = os.urandom(3 << 20)
        cls.big_tar = compress(tar_bytes([("bin/" + DAEMON, "file", b"\x7fELF" + cls.big, 0o755)]), "gz")
        path = os.path.join(cls.srv_dir, "t", "big.tar.gz")
        os.makedirs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(cls.big_tar)
        cls.big_sum = sha(cls.big_tar)

    def url(self, prefix=""):
        return "%s%s/t/big.tar.gz?checksum=sha256:%s" % (self.base, prefix, self.big_sum)

    def test_redirects(self):
        self.assert_ok(self.run_obtain(self.inline(self.url("/redirect/3"))), binary=b"\x7fELF" + self.big)
        shutil.rmtree(os.path.join(self.upgrades, "v2"))
        self.assert_error(self.run_obtain(self.inline(self.url("/redirect/11"))), "redirect")

    def test_404(self):
        msg = self.assert_error(self.run_obtain(self.inline(self.base + "/t/missing.tar.gz")), "HTTP 404",
                                self.base + "/t/missing.tar.gz", "not retried")
        self.assertEqual(len(self.requests_for("missing")), 1)

    def test_500_then_success(self):
        out, err = self.assert_ok(self.run_obtain(self.inline(self.url("/flaky/a/2"))), binary=b"\x7fELF" + self.big)
        self.assertEqual([r[2] for r in self.requests_for("flaky/a")], [500, 500, 200])
        self.assertIn("HTTP 500", err)

    def test_500_gives_up(self):
        msg = self.assert_error(self.run_obtain(self.inline(self.url("/status/503")),
                                                env={"ORAIVISOR_DOWNLOAD_RETRIES": "1"}),
                                "HTTP 503", "gave up after 2 attempts", "ORAIVISOR_DOWNLOAD_RETRIES")
        self.assertEqual(len(self.requests_for("status/503")), 2)

    def test_connection_cut_resumed(self):
        out, err = self.assert_ok(self.run_obtain(self.inline(self.url("/cut/b/1000000"))),
                                  binary=b"\x7fELF" + self.big)
        reqs = self.requests_for("cut/b")
        self.assertEqual(len(reqs), 2, reqs)
        self.assertEqual(reqs[1][1], "bytes=1000000-")
        self.assertEqual(reqs[1][2], 206)
        self.assertIn("resuming", err)

    def test_connection_cut_server_without_range(self):
        out, err = self.assert_ok(self.run_obtain(self.inline(self.url("/cut/c/1000000/norange"))),
                                  binary=b"\x7fELF" + self.big)
        # Cut; the resume with Range answered 200 (curl stops at the headers); a clean restart.
        reqs = self.requests_for("cut/c")
        self.assertEqual([(r[1], r[2]) for r in reqs], [(None, 200), ("bytes=1000000-", 200), (None, 200)])
        self.assertIn("does not resume", err)

    def test_stall_times_out(self):
        start = time.monotonic()
        msg = self.assert_error(self.run_obtain(self.inline(self.url("/stall/1000")),
                                                env={"ORAIVISOR_DOWNLOAD_STALL_TIMEOUT": "2s",
                                                     "ORAIVISOR_DOWNLOAD_RETRIES": "0"}),
                                "too slow", "ORAIVISOR_DOWNLOAD_STALL_TIMEOUT")
        self.assertLess(time.monotonic() - start, 30)

    def test_size_limit(self):
        for prefix in ("", "/chunked"):
            with self.subTest(prefix=prefix):
                self.assert_error(self.run_obtain(self.inline(self.url(prefix)),
                                                  env={"ORAIVISOR_DOWNLOAD_MAX_SIZE": "1M"}),
                                  "larger than the limit", "ORAIVISOR_DOWNLOAD_MAX_SIZE")

    def start_tls(self):
        """The loopback HTTPS server (a CA and a certificate made here, once); returns the CA file."""
        d = os.path.join(self.root, "tls")
        if not type(self).tls_server:
            os.makedirs(d, exist_ok=True)
            def ossl(*args):
                subprocess.run(["openssl"] + list(args), cwd=d, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
                 "2", "-subj", "/CN=oraivisor test CA")
            ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj",
                 "/CN=127.0.0.1")
            with open(os.path.join(d, "ext.cnf"), "w") as f:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                 "srv.pem", "-days", "2", "-extfile", "ext.cnf")
            type(self).tls_server = start_server(self.srv_dir, os.path.join(d, "srv.pem"),
                                                 os.path.join(d, "srv.key"))
        return os.path.join(d, "ca.pem")

    def test_https_with_test_ca(self):
        ca = self.start_tls()
        url = "https://127.0.0.1:%d/t/big.tar.gz?checksum=sha256:%s" % (self.tls_server.port, self.big_sum)
        self.assert_error(self.run_obtain(self.inline(url), env={"ORAIVISOR_DOWNLOAD_RETRIES": "0"}),
                          "ORAIVISOR_DOWNLOAD_CA_FILE", "https://127.0.0.1")
        self.assert_ok(self.run_obtain(self.inline(url), env={"ORAIVISOR_DOWNLOAD_CA_FILE": ca}),
                       binary=b"\x7fELF" + self.big)

    def test_https_never_redirected_to_http(self):
        ca = self.start_tls()
        tls = "https://127.0.0.1:%d" % self.tls_server.port
        # https → http: refused before anything is asked of the http server (a downgrade an attacker on the
        # path could then serve), with the reason.
        url = "%s/redirect-to/http/%d/t/big.tar.gz?checksum=sha256:%s" % (tls, self.server.port, self.big_sum)
        msg = self.assert_error(self.run_obtain(self.inline(url), env={"ORAIVISOR_DOWNLOAD_CA_FILE": ca}),
                                "redirect", "https", tls + "/redirect-to/http/")
        self.assertIn("not retried", msg)
        self.assertEqual(self.requests_for("/t/big.tar.gz"), [], "the http server was asked")
        # https → https and http → https are fine.
        url = "%s/redirect-to/https/%d/t/big.tar.gz?checksum=sha256:%s" % (tls, self.tls_server.port, self.big_sum)
        self.assert_ok(self.run_obtain(self.inline(url), env={"ORAIVISOR_DOWNLOAD_CA_FILE": ca}),
                       binary=b"\x7fELF" + self.big)
        shutil.rmtree(os.path.join(self.upgrades, "v2"))
        url = "%s/redirect-to/https/%d/t/big.tar.gz?checksum=sha256:%s" % (self.base, self.tls_server.port,
                                                                          self.big_sum)
        self.assert_ok(self.run_obtain(self.inline(url), env={"ORAIVISOR_DOWNLOAD_CA_FILE": ca}),
                       binary=b"\x7fELF" + self.big)

    def test_cancel_removes_staging(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR_"))}
        e.update({"DAEMON_HOME": self.home, "DAEMON_NAME": DAEMON, "DAEMON_ALLOW_DOWNLOAD_BINARIES": "true"})
        p = subprocess.Popen([OBTAIN_RUN, self.upgrades, "v2", self.inline(self.url("/stall/100000"))], env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.leftovers(), "no staging folder while downloading")
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        self.assert_no_sanitizer_report(err)
        self.assertEqual(p.returncode, 2, out + err)
        self.assertIn("CANCELLED", out)
        self.assertEqual(self.leftovers(), [])
        self.assertFalse(os.path.exists(os.path.join(self.upgrades, "v2")))


class Hostile(Base):
    def obtain_tar(self, name, entries, env=None, how="gz"):
        return self.run_obtain(self.inline(self.put("h/" + name, compress(tar_bytes(entries), how))), env=env)

    def test_traversal(self):
        canary = os.path.join(self.home, "oraivisor", "evil")
        msg = self.assert_error(self.obtain_tar("trav.tar.gz", GOOD_ENTRIES + [("../evil", "file", b"x", 0o644)]),
                                "'../evil'", "outside")
        self.assertFalse(os.path.exists(canary))
        self.assert_error(self.obtain_tar("trav2.tar.gz", GOOD_ENTRIES + [("lib/../../x", "file", b"x", 0o644)]),
                          "'lib/../../x'")

    def test_absolute_path(self):
        target = os.path.join(self.root, "absolute-evil")
        self.assert_error(self.obtain_tar("abs.tar.gz", GOOD_ENTRIES + [(target, "file", b"x", 0o644)], how="tar"),
                          "absolute")
        self.assertFalse(os.path.exists(target))

    def test_symlink_escape(self):
        self.assert_error(self.obtain_tar("sym.tar.gz", GOOD_ENTRIES + [("lib/etc", "symlink", "../../../../etc", 0o777)]),
                          "'lib/etc'", "symlink", "outside")
        self.assert_error(self.obtain_tar("sym2.tar.gz", GOOD_ENTRIES + [("lib/abs", "symlink", "/etc/passwd", 0o777)]),
                          "'lib/abs'")
        # A link inside is fine; writing through it later is refused (never followed).
        self.assert_error(self.obtain_tar("sym3.tar.gz", GOOD_ENTRIES + [("lib/d", "symlink", ".", 0o777),
                                                                        ("lib/d/x", "file", b"x", 0o644)]),
                          "'lib/d/x'", "symlink")
        shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
        self.assert_ok(self.obtain_tar("sym-ok.tar.gz", GOOD_ENTRIES + [("lib/libwasmvm.so", "symlink",
                                                                         "libwasmvm.x86_64.so", 0o777)]))
        self.assertEqual(os.readlink(os.path.join(self.upgrades, "v2", "lib", "libwasmvm.so")), "libwasmvm.x86_64.so")

    def test_hardlink_escape(self):
        self.assert_error(self.obtain_tar("hard.tar.gz", GOOD_ENTRIES + [("lib/pw", "hardlink", "../../etc/passwd", 0o644)]),
                          "'lib/pw'", "hard link")
        self.assert_error(self.obtain_tar("hard2.tar.gz", GOOD_ENTRIES + [("lib/pw", "hardlink", "/etc/passwd", 0o644)]),
                          "'lib/pw'", "hard link")
        shutil.rmtree(os.path.join(self.upgrades, "v2"), ignore_errors=True)
        self.assert_ok(self.obtain_tar("hard-ok.tar.gz", GOOD_ENTRIES + [("lib/copy.so", "hardlink",
                                                                          "lib/libwasmvm.x86_64.so", 0o644)]))

    def test_hardlink_to_symlink(self):
        # bin/a/b/up -> ../../../x stays inside from bin/a/b; the same link as bin/top would not.
        deep = [("bin/a", "dir", None, 0o755), ("bin/a/b", "dir", None, 0o755),
                ("bin/a/b/up", "symlink", "../../../x", 0o777)]
        canary = os.path.join(self.home, "oraivisor", "x")
        self.assert_error(self.obtain_tar("hardsym.tar.gz", GOOD_ENTRIES + deep + [("bin/top", "hardlink",
                                                                                  "bin/a/b/up", 0o777)]),
                          "'bin/top'", "hard link", "symlink", "outside")
        self.assertFalse(os.path.lexists(canary))
        # A hard link to a symlink that stays inside from its own folder too is kept.
        self.assert_ok(self.obtain_tar("hardsym-ok.tar.gz", GOOD_ENTRIES + deep + [
            ("lib/libwasmvm.so", "symlink", "libwasmvm.x86_64.so", 0o777),
            ("lib/libwasmvm.so.1", "hardlink", "lib/libwasmvm.so", 0o777),
            ("bin/a/b/c", "dir", None, 0o755), ("bin/a/b/c/up", "hardlink", "bin/a/b/up", 0o777)]))
        self.assertEqual(os.readlink(os.path.join(self.upgrades, "v2", "lib", "libwasmvm.so.1")),
                         "libwasmvm.x86_64.so")

    def test_modes_and_owners(self):
        # A tar of 0777 folders and files (and setuid, and owner-only modes, and a foreign owner) installs
        # what no other local user can change and every user can read.
        entries = [("bin", "dir", None, 0o777), ("bin/" + DAEMON, "file", BINARY, 0o777),
                   ("lib", "dir", None, 0o700), ("lib/libwasmvm.x86_64.so", "file", LIB, 0o666),
                   ("lib/private", "file", b"p", 0o600), ("lib/tool", "file", b"#!/bin/sh\n", 0o4711),
                   ("share", "dir", None, 0o1777), ("share/doc", "dir", None, 0o2775),
                   ("share/doc/README", "file", b"r", 0o664)]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, kind, payload, mode in entries:
                ti = tarfile.TarInfo(name)
                ti.mode, ti.uid, ti.gid, ti.uname, ti.gname = mode, 1234, 1234, "someone", "someone"
                if kind == "dir":
                    ti.type = tarfile.DIRTYPE
                    t.addfile(ti)
                else:
                    ti.size = len(payload)
                    t.addfile(ti, io.BytesIO(payload))
        self.assert_ok(self.run_obtain(self.inline(self.put("h/modes.tar", buf.getvalue()))))
        want = {"": 0o755, "bin": 0o755, "bin/" + DAEMON: 0o755, "lib": 0o755, "lib/libwasmvm.x86_64.so": 0o644,
                "lib/private": 0o644, "lib/tool": 0o755, "share": 0o755, "share/doc": 0o755,
                "share/doc/README": 0o644}
        v2 = os.path.join(self.upgrades, "v2")
        got = {}
        for dirpath, dirnames, filenames in os.walk(v2):
            for n in [""] if dirpath == v2 else []:
                got[n] = os.lstat(v2)
            for n in dirnames + filenames:
                got[os.path.relpath(os.path.join(dirpath, n), v2)] = os.lstat(os.path.join(dirpath, n))
        self.assertEqual({k: v.st_mode & 0o7777 for k, v in got.items()}, want)
        self.assertEqual({k: (v.st_uid, v.st_gid) for k, v in got.items()},
                         {k: (os.getuid(), os.getgid()) for k in want})

    def test_depth_limit(self):
        deep = "/".join(["d"] * 63)
        self.assert_error(self.obtain_tar("deep.tar.gz", GOOD_ENTRIES + [(deep + "/d/f", "file", b"x", 0o644)]),
                          "more than 63 folders deep")
        self.assert_ok(self.obtain_tar("deep-ok.tar.gz", GOOD_ENTRIES + [(deep + "/f", "file", b"x", 0o644),
                                                                         (deep + "/e", "dir", None, 0o755)]))
        self.assertTrue(os.path.isdir(os.path.join(self.upgrades, "v2", deep, "e")))

    def test_special_files(self):
        for kind, word in (("chr", "character device"), ("blk", "block device"), ("fifo", "FIFO")):
            with self.subTest(kind=kind):
                self.assert_error(self.obtain_tar(kind + ".tar.gz", GOOD_ENTRIES + [("lib/dev", kind, None, 0o600)]),
                                  "'lib/dev'", word)

    def test_setuid_cleared(self):
        entries = [("bin/" + DAEMON, "file", BINARY, 0o6755), ("lib/x", "file", b"x", 0o4755)]
        self.assert_ok(self.obtain_tar("suid.tar.gz", entries))
        self.assertEqual(os.stat(os.path.join(self.upgrades, "v2", "lib", "x")).st_mode & 0o7000, 0)

    def test_bomb_size(self):
        bomb = compress(tar_bytes(GOOD_ENTRIES + [("lib/zeros", "file", bytes(64 << 20), 0o644)]), "gz")
        self.assertLess(len(bomb), 1 << 20)
        self.assert_error(self.run_obtain(self.inline(self.put("h/bomb.tar.gz", bomb)),
                                          env={"ORAIVISOR_UNPACK_MAX_SIZE": "16M"}),
                          "ORAIVISOR_UNPACK_MAX_SIZE", "'lib/zeros'")

    def test_bomb_entries(self):
        entries = GOOD_ENTRIES + [("lib/f%d" % i, "file", b"", 0o644) for i in range(50)]
        self.assert_error(self.obtain_tar("many.tar.gz", entries, env={"ORAIVISOR_UNPACK_MAX_ENTRIES": "20"}),
                          "ORAIVISOR_UNPACK_MAX_ENTRIES=20")

    def test_binary_missing(self):
        self.assert_error(self.obtain_tar("nobin.tar.gz", [("oraid-v2/bin/oraid", "file", BINARY, 0o755)]),
                          "neither 'bin/oraid' nor 'oraid'", "'oraid-v2/'")

    def test_binary_is_directory(self):
        self.assert_error(self.obtain_tar("bindir.tar.gz", [("bin/oraid/x", "file", b"x", 0o644)]),
                          "'bin/oraid' is a folder")

    def test_binary_is_symlink(self):
        self.assert_error(self.obtain_tar("binlink.tar.gz", [("lib/oraid", "file", BINARY, 0o755),
                                                            ("bin/oraid", "symlink", "../lib/oraid", 0o777)]),
                          "'bin/oraid' is a symlink")
        self.assert_error(self.obtain_tar("binlink2.tar.gz", [("lib/oraid", "file", BINARY, 0o755),
                                                             ("oraid", "symlink", "lib/oraid", 0o777)]),
                          "'oraid' is a symlink")

    def test_damaged_archive(self):
        data = compress(tar_bytes(GOOD_ENTRIES), "gz")
        self.assert_error(self.run_obtain(self.inline(self.put("h/trunc.tar.gz", data[: len(data) // 2]))),
                          "damaged")


class Trust(Base):
    """The unpack worker parses untrusted bytes: it must be harmless, and nothing is published unless the
    checksum matched."""

    def test_worker_is_unprivileged(self):
        data = compress(tar_bytes(GOOD_ENTRIES + [("lib/big", "file", os.urandom(1 << 20), 0o644)]), "gz")
        url = self.put("trust/stall.tar.gz", data)
        e = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR_"))}
        e.update({"DAEMON_HOME": self.home, "DAEMON_NAME": DAEMON, "DAEMON_ALLOW_DOWNLOAD_BINARIES": "true"})
        p = subprocess.Popen([OBTAIN_RUN, self.upgrades, "v2", self.inline(self.base + "/stall/300000/trust/stall.tar.gz")],
                             env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # The worker is the child of obtain-run's child (its keeper); wait until it unpacked something
            # (it is past its set-up).
            def children(pid):
                with open("/proc/%s/task/%s/children" % (pid, pid)) as f:
                    return f.read().split()
            status, deadline = None, time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    staged = [os.path.join(self.upgrades, n) for n in self.leftovers()]
                    keepers = children(p.pid)
                    workers = children(keepers[0]) if keepers else []
                    if workers and staged and os.path.exists(os.path.join(staged[0], "lib", "big")):
                        with open("/proc/%s/status" % workers[0]) as f:
                            status = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
                        break
                except (FileNotFoundError, PermissionError):
                    pass
                time.sleep(0.05)
            self.assertIsNotNone(status, "no unpack worker seen")
            uids = [int(x) for x in status["Uid"].split()]
            gids = [int(x) for x in status["Gid"].split()]
            if os.getuid() == 0:
                # A user of its own (no other process has it), not root and not the node's user.
                self.assertTrue(all(u == uids[0] and u >= 2130706432 for u in uids), status["Uid"])
                self.assertTrue(all(g == uids[0] for g in gids), status["Gid"])
                self.assertEqual(status["Groups"].strip(), "")
                self.assertEqual(os.stat(staged[0]).st_uid, uids[0])
            for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                self.assertEqual(int(status[cap], 16), 0, "%s: %s" % (cap, status[cap]))
            self.assertEqual(status["NoNewPrivs"].strip(), "1")
            self.assertEqual(status["Seccomp"].strip(), "2")
        finally:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
        self.assert_no_sanitizer_report(err)
        self.assertIn("CANCELLED", out)
        self.assertEqual(os.listdir(self.upgrades), [])

    def test_worker_stopped_without_cap_kill(self):
        # oraivisor@.service grants no CAP_KILL: root may not signal the worker's user. A failed checksum
        # (the worker waits for more of the stream) must still end the worker, and not hang oraivisor.
        if not shutil.which("setpriv"):
            raise SystemExit("the download tests need 'setpriv' (apt-get install util-linux)")
        data = compress(tar_bytes(GOOD_ENTRIES), "gz")
        url = self.put("trust/nokill.tar.gz", data)
        self.assert_error(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, "0" * 64)), timeout=60,
                                          prefix=("setpriv", "--bounding-set", "-kill", "--")),
                          "does not match its checksum")
        self.assertEqual(os.listdir(self.upgrades), [])

    def run_in_user_namespace(self, info, uid_map):
        """obtain-run as root of a user namespace that maps only uid_map (inside outside count), as in a
        rootless container: the maps are written from here, root of the parent namespace."""
        e = {k: v for k, v in os.environ.items() if not k.startswith(("DAEMON_", "ORAIVISOR_"))}
        e.update({"DAEMON_HOME": self.home, "DAEMON_NAME": DAEMON, "DAEMON_ALLOW_DOWNLOAD_BINARIES": "true",
                  "ORAIVISOR_DOWNLOAD_RETRIES": "2"})
        p = subprocess.Popen(["unshare", "--user", "--", "sh", "-c", 'read go && exec "$@"', "sh",
                              OBTAIN_RUN, self.upgrades, "v2", info],
                             env=e, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ours, deadline = os.readlink("/proc/self/ns/user"), time.monotonic() + 30
            while os.readlink("/proc/%d/ns/user" % p.pid) == ours:
                self.assertLess(time.monotonic(), deadline, "unshare did not enter a user namespace")
                time.sleep(0.01)
            for f in ("uid_map", "gid_map"):
                with open("/proc/%d/%s" % (p.pid, f), "w") as m:
                    m.write(uid_map)
            out, err = p.communicate("go\n", timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assert_no_sanitizer_report(err)
        return p.returncode, out.strip(), err

    def test_worker_in_a_rootless_container(self):
        if os.getuid() != 0 or not shutil.which("unshare"):
            raise SystemExit("this test needs root and unshare (util-linux)")
        data = compress(tar_bytes(GOOD_ENTRIES), "gz")
        url = self.put("trust/userns.tar.gz", data)
        # 0-65535 mapped (podman's rootless default): the worker is nobody.
        out, err = self.assert_ok(self.run_in_user_namespace(self.inline(url), "0 0 65536\n"))
        self.assertIn("The unpack worker runs as nobody (65534)", err)
        shutil.rmtree(os.path.join(self.upgrades, "v2"))
        # Only root mapped: the worker stays root, without capabilities; the download still works.
        out, err = self.assert_ok(self.run_in_user_namespace(self.inline(url), "0 0 1\n"))
        self.assertIn("The unpack worker stays root, without capabilities", err)

    def test_nothing_published_without_matching_checksum(self):
        good = compress(tar_bytes(GOOD_ENTRIES), "gz")
        # A valid archive that unpacks completely, but is not the one the plan's checksum names; and a
        # corrupt one (damaged in the middle).
        tampered = compress(tar_bytes(GOOD_ENTRIES + [("lib/extra", "file", b"x", 0o644)]), "gz")
        corrupt = good[: len(good) // 2] + bytes(b ^ 0x5A for b in good[len(good) // 2: len(good) // 2 + 64]) + \
            good[len(good) // 2 + 64:]
        for name, data in (("tampered", tampered), ("corrupt", corrupt)):
            with self.subTest(kind=name):
                url = self.put("trust/%s.tar.gz" % name, data)
                self.assert_error(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, sha(good)))),
                                  "Nothing was installed")
                self.assertEqual(os.listdir(self.upgrades), [])


class Layout(Base):
    def setUp(self):
        super().setUp()
        self.data = compress(tar_bytes(GOOD_ENTRIES), "gz")
        self.url = self.put("l/oraid.tar.gz", self.data)

    def test_existing_folder_with_binary(self):
        os.makedirs(os.path.join(self.upgrades, "v2", "bin"))
        with open(os.path.join(self.upgrades, "v2", "bin", DAEMON), "wb") as f:
            f.write(b"by hand")
        os.chmod(os.path.join(self.upgrades, "v2", "bin", DAEMON), 0o755)
        rc, out, err = self.run_obtain(self.inline(self.url))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("already installed", err)
        self.assertEqual(self.requests_for("l/"), [])

    def test_existing_folder_with_binary_not_executable(self):
        # The one rule of "installed" (layout.h): a binary that cannot be run is not installed.
        os.makedirs(os.path.join(self.upgrades, "v2", "bin"))
        with open(os.path.join(self.upgrades, "v2", "bin", DAEMON), "wb") as f:
            f.write(b"by hand")
        os.chmod(os.path.join(self.upgrades, "v2", "bin", DAEMON), 0o644)
        rc, out, err = self.run_obtain(self.inline(self.url))
        self.assertEqual(rc, 1)
        self.assertIn("exists but holds no usable binary 'bin/oraid'", out)
        self.assertIn("Permission denied", out)
        self.assertIn("chmod +x", out)
        self.assertEqual(self.requests_for("l/"), [])

    def test_existing_folder_without_binary(self):
        os.makedirs(os.path.join(self.upgrades, "v2", "lib"))
        rc, out, err = self.run_obtain(self.inline(self.url))
        self.assertEqual(rc, 1)
        self.assertIn("exists but holds no usable binary 'bin/oraid'", out)
        self.assertIn("No such file or directory", out)
        self.assertIn("remove the folder", out)
        self.assertEqual(self.requests_for("l/"), [])

    def test_plan_name_is_encoded(self):
        self.assert_ok(self.run_obtain(self.inline(self.url), plan="v2/fix"), folder="v2%2Ffix")

    def test_downloads_disabled(self):
        self.assert_error(self.run_obtain(self.inline(self.url), env={"DAEMON_ALLOW_DOWNLOAD_BINARIES": "false"}),
                          "DAEMON_ALLOW_DOWNLOAD_BINARIES=true")

    def test_cleanup_stale(self):
        for n in (".staging-v2-0000aaaa", ".staging-v3-0000bbbb"):
            os.makedirs(os.path.join(self.upgrades, n, "bin"))
            with open(os.path.join(self.upgrades, n, "bin", DAEMON), "wb") as f:
                f.write(b"half")
        os.makedirs(os.path.join(self.upgrades, "v1", "bin"))
        p = subprocess.run([OBTAIN_RUN, "--cleanup", self.upgrades], stdout=subprocess.PIPE, text=True, check=True)
        self.assertEqual(p.stdout.strip(), "REMOVED 2")
        self.assertEqual(sorted(os.listdir(self.upgrades)), ["v1"])

    def test_disk_full(self):
        mnt = os.path.join(self.root, "small")
        os.makedirs(mnt, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], check=True)
        try:
            self.home = mnt
            self.upgrades = os.path.join(mnt, "oraivisor", "upgrades")
            os.makedirs(self.upgrades)
            os.makedirs(os.path.join(mnt, "oraivisor", "genesis", "bin"))
            os.symlink("genesis", os.path.join(mnt, "oraivisor", "current"))
            big = b"\x7fELF" + os.urandom(12 << 20)
            data = compress(tar_bytes([("bin/" + DAEMON, "file", big, 0o755)]), "gz")
            url = self.put("l/huge.tar.gz", data)
            self.assert_error(self.run_obtain(self.inline("%s?checksum=sha256:%s" % (url, sha(data)))),
                              "No space left on device", "free some space")
            self.assertEqual(os.listdir(self.upgrades), [])
        finally:
            subprocess.run(["umount", mnt], check=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
