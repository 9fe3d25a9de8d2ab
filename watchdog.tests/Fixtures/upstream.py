"""A function server for the mode=http specs (standard library only).

python3 upstream.py PORT STATE_DIR
  Writes STATE_DIR/booting at once, and listens on 127.0.0.1:PORT once STATE_DIR/gate exists
  (so specs control "not ready").
  GET  /healthz        200 once STATE_DIR/healthy exists, else 503 (for ready_path)
  ANY  /inspect...     201 with the method, raw target, headers and body as text;
                       X-Want-Status sets the status; two X-Reply headers come back
  POST /echo           streams the body back while it still arrives (chunked)
  POST /early          401 at once, before reading the body; then reads and drops the
                       body, as Node's http server does for a body nobody read
  GET  /stream         "first" at once, "second" once STATE_DIR/go exists
  GET  /slow           writes STATE_DIR/slow-started, answers after 5 s, or writes
                       STATE_DIR/slow-cancelled when the caller closes the connection
  GET  /pid            the process id
  GET  /exit           exits with code 3 at once
SIGTERM writes STATE_DIR/term and exits 0 (stays, if STATE_DIR/ignore-term exists).
"""
import os
import select
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
STATE = sys.argv[2]


def mark(name):
    with open(os.path.join(STATE, name), "w") as f:
        f.write(str(os.getpid()))


def exists(name):
    return os.path.exists(os.path.join(STATE, name))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("upstream: " + (fmt % args) + "\n")

    def body_chunks(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    data = self.rfile.read(min(left, 65536))
                    left -= len(data)
                    yield data
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left:
            data = self.rfile.read1(min(left, 65536))
            if not data:
                return
            left -= len(data)
            yield data

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        path = self.path
        if path.startswith("/healthz"):
            body = b"" if self.command == "HEAD" else b"ok"
            return self.answer(200 if exists("healthy") else 503, body)
        if path.startswith("/inspect"):
            body = b"".join(self.body_chunks())
            text = "%s %s\n" % (self.command, path)
            text += "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
            status = int(self.headers.get("X-Want-Status") or 201)
            return self.answer(status, text.encode() + b"\n" + body, [("X-Reply", "a"), ("X-Reply", "b"), ("Content-Type", "text/plain")])
        if path.startswith("/echo"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for data in self.body_chunks():
                self.chunk(data)
            return self.chunk(b"")
        if path.startswith("/early"):
            self.answer(401, b"early: no credentials\n", [("Content-Type", "text/plain")])
            self.wfile.flush()
            for _ in self.body_chunks():
                pass
            return
        if path.startswith("/stream"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk(b"first\n")
            deadline = time.time() + 60
            while not exists("go") and time.time() < deadline:
                time.sleep(0.05)
            self.chunk(b"second\n")
            return self.chunk(b"")
        if path.startswith("/slow"):
            mark("slow-started")
            deadline = time.time() + 5
            while time.time() < deadline:
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if readable and self.connection.recv(1, 0x2) == b"":  # MSG_PEEK: the caller hung up
                    mark("slow-cancelled")
                    self.close_connection = True
                    return
            return self.answer(200, b"slow done\n")
        if path.startswith("/pid"):
            return self.answer(200, str(os.getpid()).encode())
        if path.startswith("/exit"):
            os._exit(3)
        return self.answer(404, b"no such path\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any


def on_term(signum, frame):
    mark("term")
    if not exists("ignore-term"):
        os._exit(0)


signal.signal(signal.SIGTERM, on_term)
print("upstream: waiting for the gate", flush=True)
mark("booting")
while not exists("gate"):
    time.sleep(0.05)
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
print("upstream: listening on %d" % PORT, flush=True)
server.serve_forever()
