#!/usr/bin/env python3
"""What tracing costs: cold start, idle RSS and per-call cost of fwatchdog builds, today's (main)
beside this one, with span export off and on, in one run, the binaries interleaved so the
machine's noise hits them alike. Per-call: wrk POSTs 100 bytes through `cat` with a sampled
traceparent at 16 connections; CPU is the watchdog process's own (its children excluded).
Export on sends to a stand-in collector in this script (answers 200 to every OTLP/HTTP POST).
For full builds (a label starting with "full") also the gateway's sync proxy: wrk through
/function/echo to a bare Kestrel hello (HELLO, bench/Hello), with the gateway's CPU per call.

  python3 bench/tracing.py [--quick] LABEL=BINARY[+export] ...

A binary ending in +export runs with OTEL_EXPORTER_OTLP_ENDPOINT set to the stand-in collector.
Prints markdown tables (BENCHMARKS.md, Tracing)."""
import http.server, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time
from run import HELLO, ROOT, free_port, rss_kb, start, stop, wrk, cpu_ticks

HELLO = os.environ.get("HELLO", HELLO)

QUICK = "--quick" in sys.argv
STARTS = 8 if QUICK else 30
DURATION = "5s" if QUICK else "10s"
received = {"posts": 0, "bytes": 0}


class Collector(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        received["bytes"] += len(self.rfile.read(length))
        received["posts"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    export = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}", "OTEL_BSP_SCHEDULE_DELAY": "1000"}
    builds = []
    for arg in (a for a in sys.argv[1:] if not a.startswith("--")):
        label, path = arg.split("=", 1)
        builds.append((label, path.removesuffix("+export"), export if path.endswith("+export") else {}))

    starts = {label: [] for label, _, _ in builds}
    rss = {label: [] for label, _, _ in builds}
    for i in range(STARTS):
        for label, path, extra in builds:
            port = free_port()
            proc, took = start([path], port, extra)
            starts[label].append(took * 1000)
            if i % 3 == 0:
                time.sleep(0.5)
                rss[label].append(rss_kb(proc.pid) / 1024)
            stop(proc)

    calls = {}
    for label, path, extra in builds:
        port = free_port()
        proc, _ = start([path], port, dict(extra, read_timeout="0", write_timeout="0"))
        wrk(port, 16, duration="2s", script="bench/post100-traced.lua")  # warm-up
        before = cpu_ticks(proc.pid)
        rps, p50, p99, errors = wrk(port, 16, duration=DURATION, script="bench/post100-traced.lua")
        cpu_us = (cpu_ticks(proc.pid) - before) / os.sysconf("SC_CLK_TCK") * 1e6 / (rps * float(DURATION.rstrip("s")))
        calls[label] = (rps, p50, p99, errors, cpu_us)
        stop(proc)

    gateway = {}
    hello_port = free_port()
    hello = subprocess.Popen([HELLO, str(hello_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = tempfile.mkdtemp(prefix="fwatchdog-tracing-")
    with open(os.path.join(folder, "stack.json"), "w") as f:
        json.dump({"functions": {"echo": {"upstream": f"http://127.0.0.1:{hello_port}"}}}, f)
    for label, path, extra in (b for b in builds if b[0].startswith("full")):
        port = free_port()
        proc, _ = start([path, "gateway"], port, dict(extra, config=os.path.join(folder, "stack.json"), data_dir=os.path.join(folder, label)), health="/healthz")
        wrk(port, 16, duration="2s", script="bench/post100-traced.lua", path="/function/echo")
        before = cpu_ticks(proc.pid)
        rps, p50, p99, errors = wrk(port, 16, duration=DURATION, script="bench/post100-traced.lua", path="/function/echo")
        gateway[label] = (rps, p50, p99, errors, (cpu_ticks(proc.pid) - before) / os.sysconf("SC_CLK_TCK") * 1e6 / (rps * float(DURATION.rstrip("s"))))
        stop(proc)
    stop(hello)
    shutil.rmtree(folder, ignore_errors=True)

    base = builds[0][0]
    print(f"| build | size | cold start, median (exec -> 200 /_/health) | idle RSS, median | calls/s | p50 | p99 | watchdog CPU per call |")
    print("|---|---|---|---|---|---|---|---|")
    for label, path, _ in builds:
        start_ms, rss_mb = statistics.median(starts[label]), statistics.median(rss[label])
        rps, p50, p99, errors, cpu_us = calls[label]
        vs = "" if label == base else f" ({start_ms / statistics.median(starts[base]) - 1:+.1%})"
        vr = "" if label == base else f" ({rss_mb / statistics.median(rss[base]) - 1:+.1%})"
        print(f"| {label} | {os.path.getsize(path) / 1e6:.1f} MB | {start_ms:.1f} ms{vs} | {rss_mb:.1f} MB{vr} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {cpu_us:.0f} µs |"
              + (f" {errors} non-2xx" if errors else ""))
    if gateway:
        print("\n| gateway, sync proxy to a hello | calls/s | p50 | p99 | gateway CPU per call |")
        print("|---|---|---|---|---|")
        for label, (rps, p50, p99, errors, cpu_us) in gateway.items():
            print(f"| {label} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {cpu_us:.0f} µs |" + (f" {errors} non-2xx" if errors else ""))
    print(f"\nstand-in collector: {received['posts']} OTLP posts, {received['bytes'] / 1e6:.1f} MB; {STARTS} starts each, {DURATION} of wrk each")
    collector.shutdown()


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
