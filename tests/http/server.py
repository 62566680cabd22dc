#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A loopback HTTP/HTTPS server for the download tests and the benchmark (Python stdlib only).

Serves the files below a root folder, with Range support, and misbehaves on request through path prefixes
that can be combined (each is consumed, then the rest of the path is handled):

  /redirect/<n>/...          302 to /redirect/<n-1>/... , finally to /...
  /redirect-to/<scheme>/<port>/...   302 to <scheme>://127.0.0.1:<port>/... (another server of the test)
  /status/<code>/...         always answers <code>
  /flaky/<key>/<n>/...       the first <n> requests for <key> answer 500
  /cut/<key>/<bytes>/...     the first request for <key> sends its headers and <bytes> bytes, then closes
  /norange/...               ignores Range (always 200 with the whole body)
  /stall/<bytes>/...         sends <bytes> bytes, then nothing (until the client goes away)
  /chunked/...               no Content-Length (chunked transfer encoding)
  /slow/<bytes-per-s>/...    sends the body at about that rate (a throttled mirror)

Every request is recorded in server.requests as (path, range header or None, status).

Used as a module (start_server()) by tests/download, or as a program by bench/download:
  server.py --root DIR [--port N] [--tls-cert F --tls-key F]   prints "PORT <n>" when listening.
"""

import argparse
import http.server
import os
import socket
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oraivisor-test/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("http: " + (fmt % args) + "\n")

    def _record(self, status):
        with self.server.lock:
            self.server.requests.append((self.path, self.headers.get("Range"), status))

    def _count(self, key):
        with self.server.lock:
            n = self.server.counters.get(key, 0)
            self.server.counters[key] = n + 1
            return n

    def _simple(self, code, body=b"", headers=()):
        self._record(code)
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p != ""]
        flags = {}
        while parts:
            head = parts[0]
            if head == "redirect" and len(parts) >= 2:
                n = int(parts[1])
                rest = "/".join(parts[2:])
                target = "/redirect/%d/%s" % (n - 1, rest) if n > 1 else "/" + rest
                return self._simple(302, b"moved\n", [("Location", target)])
            if head == "redirect-to" and len(parts) >= 3:
                target = "%s://127.0.0.1:%d/%s" % (parts[1], int(parts[2]), "/".join(parts[3:]))
                return self._simple(302, b"moved\n", [("Location", target)])
            if head == "status" and len(parts) >= 2:
                code = int(parts[1])
                return self._simple(code, ("status %d\n" % code).encode())
            if head == "flaky" and len(parts) >= 3:
                if self._count("flaky/" + parts[1]) < int(parts[2]):
                    return self._simple(500, b"try again\n")
                parts = parts[3:]
                continue
            if head == "cut" and len(parts) >= 3:
                if self._count("cut/" + parts[1]) == 0:
                    flags["cut"] = int(parts[2])
                parts = parts[3:]
                continue
            if head == "norange":
                flags["norange"] = True
                parts = parts[1:]
                continue
            if head == "stall" and len(parts) >= 2:
                flags["stall"] = int(parts[1])
                parts = parts[2:]
                continue
            if head == "chunked":
                flags["chunked"] = True
                parts = parts[1:]
                continue
            if head == "slow" and len(parts) >= 2:
                flags["slow"] = int(parts[1])
                parts = parts[2:]
                continue
            break
        return self._serve_file("/".join(parts), flags)

    def _serve_file(self, rel, flags):
        full = os.path.realpath(os.path.join(self.server.root, rel))
        if not full.startswith(os.path.realpath(self.server.root) + os.sep) or not os.path.isfile(full):
            return self._simple(404, b"not found\n")
        size = os.path.getsize(full)
        start, end = 0, size
        status = 200
        rng = self.headers.get("Range")
        if rng and not flags.get("norange") and rng.startswith("bytes="):
            a, _, b = rng[len("bytes="):].partition("-")
            start = int(a) if a else 0
            if b:
                end = min(size, int(b) + 1)
            if start >= size:
                return self._simple(416, b"", [("Content-Range", "bytes */%d" % size)])
            status = 206
        self._record(status)
        self.send_response(status)
        self.send_header("Accept-Ranges", "none" if flags.get("norange") else "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
        if flags.get("chunked"):
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(full, "rb") as f:
            f.seek(start)
            if flags.get("chunked"):
                while True:
                    block = f.read(min(65536, end - f.tell()))
                    if not block:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                self.wfile.write(b"0\r\n\r\n")
                return
            if "cut" in flags or "stall" in flags:
                n = flags.get("cut", flags.get("stall"))
                self.wfile.write(f.read(max(0, min(n, end - start))))
                self.wfile.flush()
                if "stall" in flags:
                    # Nothing more until the client gives up (or the test ends).
                    deadline = time.time() + 120
                    while time.time() < deadline and not self.server.stopping.is_set():
                        time.sleep(0.05)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.wfile.flush()
            sock = self.connection
            if "slow" in flags:
                rate = max(1, flags["slow"])
                block_size = max(1, rate // 20)
                left = end - start
                t0 = time.monotonic()
                sent = 0
                while left > 0 and not self.server.stopping.is_set():
                    block = f.read(min(block_size, left))
                    if not block:
                        break
                    sock.sendall(block)
                    left -= len(block)
                    sent += len(block)
                    ahead = sent / rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
                return
            if isinstance(sock, ssl.SSLSocket):
                left = end - start
                while left > 0:
                    block = f.read(min(1 << 20, left))
                    if not block:
                        break
                    sock.sendall(block)
                    left -= len(block)
            else:
                sock.sendfile(f, start, end - start)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root, tls_context=None, verbose=False):
        super().__init__(("127.0.0.1", 0), Handler)
        self.root = root
        self.requests = []
        self.counters = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.verbose = verbose
        if tls_context:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address):
        # A client that hangs up mid-body (cancel, size limit, stall timeout) is expected here.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        self.stopping.set()
        self.shutdown()
        self.server_close()


def start_server(root, certfile=None, keyfile=None, verbose=False):
    """Starts a server on 127.0.0.1 in a background thread; returns it (stop() when done)."""
    ctx = None
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
    srv = Server(root, ctx, verbose)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    srv = start_server(args.root, args.tls_cert, args.tls_key, args.verbose)
    print("PORT %d" % srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    srv.stop()


if __name__ == "__main__":
    main()
