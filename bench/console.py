#!/usr/bin/env python3
"""The console's cost in the gateway: binary size, start-up time and resident memory of two
fwatchdog builds (one without the console, one with it), alternated in one run, then the memory
after the first page load (the console's files and its route) against as many requests to
/system/functions on the build without it. Results: BENCHMARKS.md, "The console".

  python3 bench/console.py --without /tmp/base/fwatchdog --with /tmp/console/fwatchdog [--runs 30]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

CONSOLE = ["/ui/", "/ui/main.js", "/ui/api.js", "/ui/dom.js", "/ui/functions.js", "/ui/console.css", "/ui/api/functions"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def one_start(binary, stack, paths):
    """Seconds from exec to the start-up line, idle RSS, and RSS after the requests (KiB)."""
    data = tempfile.mkdtemp(prefix="console-bench-")
    env = dict(os.environ, config=stack, port="0", metrics_port="0", bind_address="127.0.0.1", data_dir=data)
    started = time.perf_counter()
    process = subprocess.Popen([binary, "gateway"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port, deadline = None, time.time() + 20
        while port is None and time.time() < deadline:
            match = re.search(r"Listening on port (\d+)", process.stdout.readline())
            port = int(match.group(1)) if match else None
        if port is None:
            raise RuntimeError(f"{binary} did not start within 20 s")
        elapsed = time.perf_counter() - started
        time.sleep(0.3)
        idle = rss_kib(process.pid)
        for path in paths:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
                answer.read()
        time.sleep(0.2)
        return elapsed, idle, rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--without", required=True)
    parser.add_argument("--with", dest="with_", required=True)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="console-bench-")
    stack = os.path.join(folder, "stack.json")
    with open(stack, "w") as f:
        f.write('{ "functions": { "echo": { "upstream": "http://127.0.0.1:9" } } }')
    builds = {"without the console": (args.without, ["/system/functions"] * len(CONSOLE)), "with the console": (args.with_, CONSOLE)}
    results = {name: [] for name in builds}
    for _ in range(args.runs):
        for name, (binary, paths) in builds.items():
            results[name].append(one_start(binary, stack, paths))
    shutil.rmtree(folder, ignore_errors=True)
    print(f"| build | binary bytes | start median ms (p10-p90) | idle RSS MiB | RSS after {len(CONSOLE)} requests MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, (binary, _) in builds.items():
        starts = sorted(r[0] * 1000 for r in results[name])
        decile = len(starts) // 10
        print(f"| {name} | {os.path.getsize(binary):,} | {statistics.median(starts):.1f} ({starts[decile]:.1f}-{starts[-1 - decile]:.1f}) "
              f"| {statistics.median(r[1] for r in results[name]) / 1024:.1f} | {statistics.median(r[2] for r in results[name]) / 1024:.1f} |")


if __name__ == "__main__":
    main()
