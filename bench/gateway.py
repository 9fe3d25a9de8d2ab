#!/usr/bin/env python3
"""Gateway benchmarks: the sync proxy next to a direct call to the same upstream, the async accept
rate (durable 202s) and the time 1000 queued calls take to drain. Every figure sits next to a
baseline from the same run. Loopback only; every load run is bounded in time or count."""
import json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (shared helpers: free_port, start, stop, wrk, row)

ROOT = base.ROOT
# Optional: an AOT fwatchdog built from an earlier commit, measured in the same run for a before/after
# figure of the sync proxy (e.g. FWATCHDOG_BEFORE=/tmp/before/artifacts/aot/fwatchdog).
BEFORE = os.environ.get("FWATCHDOG_BEFORE")
# Bounds on queued work far above what a 10 s wrk run queues: the checks run, and never refuse.
ROOMY = {"async_max_queued": "100000000", "async_max_queued_bytes": "1000GiB", "async_max_disk_bytes": "1000GiB"}


def start_gateway(stack, extra=None, binary=None):
    folder = tempfile.mkdtemp(prefix="fwatchdog-bench-")
    path = os.path.join(folder, "stack.json")
    with open(path, "w") as f:
        json.dump({"functions": stack}, f)
    port, metrics = base.free_port(), base.free_port()
    env = {"config": path, "data_dir": os.path.join(folder, "data"), "metrics_port": str(metrics)}
    env.update(extra or {})
    proc, _ = base.start([binary or base.AOT, "gateway"], port, env, health="/healthz")
    return proc, port, metrics, folder


def succeeded(metrics_port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    m = re.search(r'gateway_async_jobs_total\{function_name="hello",state="succeeded"\} ([\d.e+]+)', text)
    return float(m.group(1)) if m else 0


def wait_done(metrics_port, expected, timeout=300):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if succeeded(metrics_port) >= expected:
            return time.perf_counter()
        time.sleep(0.01)
    raise RuntimeError(f"only {succeeded(metrics_port)} of {expected} calls succeeded within {timeout}s")


def start_nats():
    port = base.free_port()
    store = tempfile.mkdtemp(prefix="fwatchdog-bench-nats-")
    proc = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, store
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nats-server did not start")


def before_after_only():
    """--before-after-only: just the same-run before/after sync and async-accept figures and the reuse check (prints, writes nothing)."""
    hello_port = base.free_port()
    hello, _ = base.start([base.HELLO, str(hello_port)], hello_port, health="/")
    gateway, port, _, folder = start_gateway({"hello": {"upstream": f"http://127.0.0.1:{hello_port}"}})
    try:
        sync_before_after(hello_port, port, gateway.pid)
    finally:
        base.stop(gateway)
        shutil.rmtree(folder, ignore_errors=True)
    try:
        accept_before_after(hello_port)
    finally:
        base.stop(hello)


def accept_before_after(hello_port):
    """Durable async accepts (SQLite queue), this build beside FWATCHDOG_BEFORE: a fresh queue for each
    run, twice each, alternating, best of two."""
    figures = {"before": [], "after": []}
    for _ in range(2):
        for label, binary in (("before", BEFORE), ("after", None)):
            gateway, port, _, folder = start_gateway({"hello": {"upstream": f"http://127.0.0.1:{hello_port}"}}, ROOMY, binary=binary)
            try:
                rps, _, p99, errors = base.wrk(port, 16, path="/async-function/hello")
                assert errors == 0, f"{errors} non-2xx from the {label} gateway's /async-function"
                figures[label].append((rps, p99))
            finally:
                base.stop(gateway)
                shutil.rmtree(folder, ignore_errors=True)
    best = {k: max(v) for k, v in figures.items()}
    base.row("async accept, sqlite queue, 16 conns: after / before", f"{best['after'][0]:.0f} 202/s p99 {best['after'][1]:.2f} ms",
             f"before {best['before'][0]:.0f} 202/s p99 {best['before'][1]:.2f} ms", f"{best['after'][0] / best['before'][0]:.2f}x", "(reported)")


def main():
    print(f"{'measure':<48} {'value':>22} {'baseline (same run)':>26} {'ratio':>10}  target")
    hello_port, cat_port = base.free_port(), base.free_port()
    hello, _ = base.start([base.HELLO, str(hello_port)], hello_port, health="/")
    cat, _ = base.start([base.AOT], cat_port)
    gateway, port, metrics, folder = start_gateway({
        "hello": {"upstream": f"http://127.0.0.1:{hello_port}"},
        "cat": {"upstream": f"http://127.0.0.1:{cat_port}"},
    })
    try:
        if BEFORE:
            sync_before_after(hello_port, port, gateway.pid)
        for name, upstream_port, target in (("hello", hello_port, 0.5), ("cat", cat_port, 0.9)):
            base.wrk(upstream_port, 16, duration="2s")
            direct, d50, d99, _ = base.wrk(upstream_port, 16)
            base.wrk(port, 16, duration="2s", path=f"/function/{name}")
            proxied, p50, p99, errors = base.wrk(port, 16, path=f"/function/{name}")
            assert errors == 0, f"{errors} non-2xx through the gateway"
            label = "trivial Kestrel upstream" if name == "hello" else "cat watchdog (AOT)"
            base.row(f"sync proxy, {label}, 16 conns", f"{proxied:.0f} req/s p99 {p99:.2f} ms",
                     f"direct {direct:.0f} req/s p99 {d99:.2f} ms", f"{proxied / direct:.2f}x", f">= {target}x")
    finally:
        base.stop(gateway)
        shutil.rmtree(folder, ignore_errors=True)

    nats, nats_port, store = start_nats()
    try:
        hello_fn = {"hello": {"upstream": f"http://127.0.0.1:{hello_port}"}}
        direct = base.wrk(hello_port, 16)[0]
        def fresh_nats():
            # Each run gets its own stream, subject, consumer and bucket: streams may not share subjects.
            run = str(time.time_ns())
            return {"queue": "nats", "nats_url": f"nats://127.0.0.1:{nats_port}", "nats_stream": "BENCH_" + run,
                    "nats_subject": "bench" + run, "nats_consumer": "workers" + run, "nats_bucket": "calls" + run}
        for backend, extra in (("sqlite", {}), ("nats", fresh_nats())):
            # Durable accept: every 202 means the call is committed (SQLite synchronous=FULL, or a JetStream ack).
            # wrk queues more than async_max_queued allows: bounds far above it, so the check still runs.
            gateway, port, metrics, folder = start_gateway(hello_fn, {**extra, **ROOMY})
            try:
                accepted, a50, a99, errors = base.wrk(port, 16, path="/async-function/hello")
                assert errors == 0, f"{errors} non-2xx from /async-function"
                base.row(f"async accept, {backend} queue, 16 conns", f"{accepted:.0f} 202/s p99 {a99:.2f} ms",
                         f"sync direct hello {direct:.0f} req/s", "", ">= 2000/s")
            finally:
                base.stop(gateway)
                shutil.rmtree(folder, ignore_errors=True)

            # 1000 queued calls on a fresh queue: time from the first submission until all succeeded.
            extra = fresh_nats() if backend == "nats" else extra
            gateway, port, metrics, folder = start_gateway(hello_fn, extra)
            try:
                def submit(i):
                    request = urllib.request.Request(f"http://127.0.0.1:{port}/async-function/hello", data=b"x" * 100, method="POST")
                    with urllib.request.urlopen(request, timeout=10) as response:
                        assert response.status == 202
                t0 = time.perf_counter()
                with ThreadPoolExecutor(16) as pool:
                    list(pool.map(submit, range(1000)))
                submitted = time.perf_counter() - t0
                done = wait_done(metrics, 1000) - t0
                sync_time = sync_calls(hello_port, 1000)
                base.row(f"1000 async calls, {backend} queue: submitted / all done", f"{submitted:.2f} s / {done:.2f} s",
                         f"1000 sync calls direct {sync_time:.2f} s", f"{done / sync_time:.1f}x", "(reported)")
            finally:
                base.stop(gateway)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        base.stop(nats)
        shutil.rmtree(store, ignore_errors=True)
        base.stop(hello)
        base.stop(cat)
    write_section()


def sync_before_after(hello_port, port, after_pid=None):
    """The sync proxy in front of the trivial upstream: this build beside FWATCHDOG_BEFORE, three rounds,
    alternating, so both see the same machine (medians; with the gateway's own CPU per call, which
    noise moves less than req/s); and the per-call cost of the reuse check."""
    gateway, before_port, _, folder = start_gateway({"hello": {"upstream": f"http://127.0.0.1:{hello_port}"}}, binary=BEFORE)
    try:
        figures = {"before": [], "after": []}
        for _ in range(3):
            for label, p, pid in (("before", before_port, gateway.pid), ("after", port, after_pid)):
                base.wrk(p, 16, duration="2s", path="/function/hello")
                counters = [partial(base.cpu_ticks, pid)] if pid else []
                (rps, _, p99, errors), cpu = base.wrk_with_cpu(p, counters, path="/function/hello")
                assert errors == 0, f"{errors} non-2xx through the {label} gateway"
                figures[label].append((rps, p99, cpu[0] if cpu else None))
        mid = {k: tuple(statistics.median(x[i] for x in v) if v[0][i] is not None else None for i in range(3)) for k, v in figures.items()}
        base.row("sync proxy, trivial upstream, 16 conns: after / before", f"{mid['after'][0]:.0f} req/s p99 {mid['after'][1]:.2f} ms",
                 f"before {mid['before'][0]:.0f} req/s p99 {mid['before'][1]:.2f} ms", f"{mid['after'][0] / mid['before'][0]:.2f}x", "(reported)")
        if mid["after"][2] is not None:
            base.row("gateway CPU per sync call: after / before", f"{mid['after'][2]:.0f} us", f"before {mid['before'][2]:.0f} us",
                     f"{mid['after'][2] / mid['before'][2]:.2f}x", "(reported)")
    finally:
        base.stop(gateway)
        shutil.rmtree(folder, ignore_errors=True)
    out = subprocess.run(["dotnet", "run", "-c", "Release", "bench/ReuseCheck/reuse-check.cs"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    ns = re.search(r"(\d+) ns per call", out).group(1)
    base.row("reuse check per call (poll(0) on an idle socket)", f"{ns} ns", "", "", "(reported)")


def sync_calls(port, count):
    def call(i):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"x" * 100, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(call, range(count)))
    return time.perf_counter() - t0


def write_section():
    lines = ["## Gateway", "", f"Produced by `python3 bench/gateway.py` (run by `bash bench/run.sh`) on {time.strftime('%Y-%m-%d')}. "
             "The gateway is the AOT `fwatchdog gateway`, with the embedded SQLite queue or with NATS JetStream (a local `nats-server -js` the script starts, default sync settings); the upstreams are the bare Kestrel "
             "hello (`bench/Hello`) and an AOT `fwatchdog` running `cat`. wrk posts 100 bytes.", "",
             "| measure | value | baseline (same run) | ratio | target |", "|---|---|---|---|---|"]
    lines += [f"| {a.strip()} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in base.rows]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    section = "\n".join(lines) + "\n\n"
    if "## Gateway" in text:
        start = text.index("## Gateway")
        # Up to the next heading of any level: the sections and notes after it (### included) are kept.
        end = text.index("\n#", start + 1) + 1 if "\n#" in text[start + 1:] else len(text)
        text = text[:start] + section + text[end:]
    elif "## Notes" in text:
        text = text.replace("## Notes", section + "## Notes", 1)
    else:
        text += "\n" + section
    open(path, "w").write(text)
    print(f"wrote the gateway section of {path}")


if __name__ == "__main__":
    if "--before-after-only" in sys.argv:
        assert BEFORE, "set FWATCHDOG_BEFORE to the baseline's AOT fwatchdog"
        before_after_only()
    else:
        main()
