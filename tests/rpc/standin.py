#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for a node's CometBFT RPC (Python stdlib only), on loopback TCP or on a unix socket: what the
chain watcher asks (status, blockchain, abci_query on /cosmos.upgrade.v1beta1.Query/CurrentPlan), with a
chain whose height advances with time, and misbehaviour on request.

The protobuf bytes of the plan are written here with the wire format's own rules (a varint, tag = field
number << 3 | wire type), independently of the protobuf-c code under test:
  QueryCurrentPlanResponse { Plan plan = 1 }   Plan { string name = 1; int64 height = 3; string info = 4 }

Attributes of Chain, changed by the tests while it serves:
  plan      None, or (name, height, info)
  mode      "ok", "garbage" (not JSON), "huge" (a 2 MiB body), "slow" (answers after `slow_seconds`),
            "redirect" (302 elsewhere), "error" (a JSON-RPC error), "close" (closes without answering)
  height0, block_seconds, t0: height = height0 + (now - t0) / block_seconds (moving t0 back jumps ahead);
  the time of block h is tb + (h - height0) * block_seconds

As a program (for the systemd sandbox and the benchmark):
  standin.py (--port N | --unix PATH) [--height H] [--block-seconds S] [--plan NAME:HEIGHT[:INFO]]
prints "LISTENING" (with " PORT <n>" on TCP) when ready.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse


def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def encode_plan_response(name, height, info=""):
    plan = field_bytes(1, name.encode()) + field_varint(3, height)
    if info:
        plan += field_bytes(4, info.encode())
    return field_bytes(1, plan)


def rfc3339(t):
    d = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}123Z"


class Chain:
    def __init__(self, height=1000, block_seconds=5.0, plan=None):
        self.height0 = height
        self.block_seconds = block_seconds
        self.t0 = time.time()
        self.tb = self.t0  # the time of block height0: block times follow the pace, whatever the jumps
        self.plan = plan
        self.mode = "ok"
        self.slow_seconds = 30
        self.catching_up = False
        self.requests = []
        self.lock = threading.Lock()

    def height(self):
        return self.height0 + int((time.time() - self.t0) / self.block_seconds)

    def block_time(self, h):
        return self.tb + (h - self.height0) * self.block_seconds


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cometbft-standin/1"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "standin"

    def send_json(self, obj, code=200):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        chain = self.server.chain
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        with chain.lock:
            chain.requests.append(url.path)
        mode = chain.mode
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "slow":
            time.sleep(chain.slow_seconds)
        if mode == "garbage":
            body = b"<html>502 Bad Gateway</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "huge":
            body = b'{"result":"' + b"x" * (2 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "error":
            return self.send_json({"jsonrpc": "2.0", "id": -1, "error": {"code": -32603, "message": "Internal error"}})
        h = chain.height()
        if url.path == "/status":
            return self.send_json({"jsonrpc": "2.0", "id": -1, "result": {
                "node_info": {"network": "standin-1", "version": "0.37.2"},
                "sync_info": {"latest_block_hash": "AB" * 32, "latest_block_height": str(h),
                              "latest_block_time": rfc3339(chain.block_time(h)), "catching_up": chain.catching_up}}})
        if url.path == "/blockchain":
            lo = int(q.get("minHeight", ["1"])[0])
            hi = min(int(q.get("maxHeight", [str(h)])[0]), h)
            metas = [{"header": {"height": str(x), "time": rfc3339(chain.block_time(x))}} for x in range(hi, max(lo, hi - 19) - 1, -1)]
            return self.send_json({"jsonrpc": "2.0", "id": -1, "result": {"last_height": str(h), "block_metas": metas}})
        if url.path == "/abci_query":
            path = q.get("path", [""])[0].strip('"')
            if path != "/cosmos.upgrade.v1beta1.Query/CurrentPlan":
                return self.send_json({"jsonrpc": "2.0", "id": -1, "result": {"response": {"code": 6, "log": "unknown query path"}}})
            plan = chain.plan
            value = base64.b64encode(encode_plan_response(*plan)).decode() if plan else None
            return self.send_json({"jsonrpc": "2.0", "id": -1, "result": {"response": {
                "code": 0, "log": "", "info": "", "index": "0", "key": None, "value": value, "proofOps": None,
                "height": str(h), "codespace": ""}}})
        self.send_json({"jsonrpc": "2.0", "id": -1, "error": {"code": -32601, "message": "Method not found"}}, 404)


class TCPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def start(chain, port=0, unix_path=None):
    """Serves chain on 127.0.0.1:port (0: any free port) or on a unix socket; returns the server (its
    .port or .unix_path set) with a thread serving it."""
    if unix_path:
        if os.path.exists(unix_path):
            os.unlink(unix_path)
        srv = UnixServer(unix_path, Handler)
        srv.unix_path = unix_path
        srv.port = None
    else:
        srv = TCPServer(("127.0.0.1", port), Handler)
        srv.port = srv.server_address[1]
        srv.unix_path = None
    srv.chain = chain
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def stop(srv):
    srv.shutdown()
    srv.server_close()
    if srv.unix_path and os.path.exists(srv.unix_path):
        os.unlink(srv.unix_path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--unix")
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--block-seconds", type=float, default=5.0)
    ap.add_argument("--plan")
    a = ap.parse_args()
    plan = None
    if a.plan:
        parts = a.plan.split(":", 2)
        plan = (parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "")
    chain = Chain(a.height, a.block_seconds, plan)
    srv = start(chain, a.port or 0, a.unix)
    if a.unix:
        os.chmod(a.unix, 0o666)
        print("LISTENING", flush=True)
    else:
        print(f"LISTENING PORT {srv.port}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
