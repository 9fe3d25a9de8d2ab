"""An http-mode function (mode=http): one long-lived server, standard library only.

It listens where the watchdog proxies to: the address in http_upstream_url, which the
watchdog's own environment passes down to it.
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

UPSTREAM = urlsplit(os.environ.get("http_upstream_url", "http://127.0.0.1:5000"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"status": "ok"})
        return self.reply(200, {"greeting": "Hello, world!"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            name = json.loads(self.rfile.read(length) or b"{}").get("name", "world")
        except ValueError:
            return self.reply(400, {"error": "send JSON like {\"name\": \"Grace\"}"})
        self.reply(200, {"greeting": "Hello, %s!" % name})

    def reply(self, status, document):
        body = json.dumps(document).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("X-Call-Id", "-"), fmt % args))


# The watchdog sends SIGTERM once the calls in flight are done: exit promptly.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = ThreadingHTTPServer((UPSTREAM.hostname, UPSTREAM.port), Handler)
server.daemon_threads = True
print("listening on %s" % UPSTREAM.netloc, flush=True)
server.serve_forever()
