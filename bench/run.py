#!/usr/bin/env python3
"""Watchdog benchmarks. Every figure sits next to a baseline measured in the same run, because
this 2-core machine is noisy. Loopback only; every load run is bounded in time."""
import json, os, re, socket, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request
from functools import partial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AOT = os.path.join(ROOT, "artifacts/aot/fwatchdog")  # the full build (watchdog and gateway)
WATCHDOG = os.path.join(ROOT, "artifacts/watchdog/fwatchdog")  # the watchdog-only build function images run
JIT = ["dotnet", os.path.join(ROOT, "artifacts/jit/fwatchdog.dll")]
HELLO = os.path.join(ROOT, "artifacts/hello/hello")
QUICK = "--quick" in sys.argv
DURATION = "5s" if QUICK else "10s"
rows = []


def labeled(args):
    """'label=path' arguments as [label, path] pairs; the last = ends the label, so a label may
    hold one (-p:StaticExecutable=false)."""
    return [arg.rsplit("=", 1) for arg in args]


def request(method, url, body=None, headers=None, timeout=10):
    """One HTTP request: (status, headers, body); status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError):
        return 0, {}, b""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(port, path="/_/health", timeout=20.0):
    """Polls until a 200 arrives; returns the seconds it took."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"port {port} never became healthy")


def start(cmd, port, extra=None, health="/_/health"):
    env = dict(os.environ, fprocess="cat", port=str(port), metrics_port="0", suppress_lock="true",
               bind_address="127.0.0.1", healthcheck_interval="0")
    env.update(extra or {})
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_health(port, health)
    return proc, time.perf_counter() - t0


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid, children=False):
    """utime + stime of a process (with children: of its reaped children), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[13]) + int(fields[14]) if children else int(fields[11]) + int(fields[12])


def busy_ticks():
    """All CPUs' busy time (everything but idle and iowait), in clock ticks."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:8]]
    return sum(values) - values[3] - values[4]


def wrk_with_cpu(port, counters, duration=DURATION, path="/"):
    """wrk at 16 connections; also, for each counter (a function returning clock ticks, such as
    cpu_ticks or busy_ticks), the CPU microseconds it counted per request."""
    before = [count() for count in counters]
    result = wrk(port, 16, duration=duration, path=path)
    after = [count() for count in counters]
    requests = result[0] * float(duration.rstrip("s"))
    return result, [(b - a) / os.sysconf("SC_CLK_TCK") * 1e6 / requests for a, b in zip(before, after)]


def hyperfine_ms(command, runs=1000):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(["hyperfine", "-N", "--warmup", "50", "--runs", str(runs), "--export-json", out.name, command],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = json.load(open(out.name))["results"][0]
        return result["median"] * 1000, result["mean"] * 1000


def wrk(port, connections, duration=DURATION, script="bench/post100.lua", path="/"):
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct(50), pct(99), int(errors.group(1)) if errors else 0


def row(name, value, baseline, ratio, target):
    rows.append((name, value, baseline, ratio, target))
    print(f"{name:<48} {value:>22} {baseline:>26} {ratio:>10}  {target}", flush=True)


def main():
    print(f"{'measure':<48} {'value':>22} {'baseline (same run)':>26} {'ratio':>10}  target")
    floor_median, floor_mean = hyperfine_ms("cat /dev/null")
    row("fork floor: hyperfine -N 'cat /dev/null'", f"{floor_mean:.3f} ms mean", f"median {floor_median:.3f} ms", "", "(about 1.0 ms)")

    # Cold start: exec -> first 200 from /_/health, median of N starts, the three binaries interleaved
    # so a burst of noise from the machine hits them alike.
    starts = 5 if QUICK else 20
    binaries = (("watchdog-only AOT", [WATCHDOG], "/_/health"), ("full AOT", [AOT], "/_/health"),
                ("framework-dependent", JIT, "/_/health"), ("hello", None, "/"))
    times = {label: [] for label, _, _ in binaries}
    for _ in range(starts):
        for label, cmd, health in binaries:
            port = free_port()
            proc, took = start(cmd or [HELLO, str(port)], port, health=health)
            times[label].append(took * 1000)
            stop(proc)
    cold = {label: statistics.median(values) for label, values in times.items()}
    row("cold start, watchdog-only AOT (exec -> 200 /_/health)", f"{cold['watchdog-only AOT']:.1f} ms median", f"hello {cold['hello']:.1f} ms",
        f"{cold['watchdog-only AOT'] / cold['hello']:.2f}x hello", "<= 18 ms, about 1.2x hello")
    row("cold start, full AOT (with the gateway)", f"{cold['full AOT']:.1f} ms median", f"hello {cold['hello']:.1f} ms",
        f"{cold['full AOT'] / cold['hello']:.2f}x hello", "(reported)")
    row("cold start, framework-dependent", f"{cold['framework-dependent']:.1f} ms median", f"hello {cold['hello']:.1f} ms", "", "(reported)")

    hport = free_port()
    hello, _ = start([HELLO, str(hport)], hport, health="/")
    time.sleep(0.5)
    hello_rss = rss_kb(hello.pid)
    stop(hello)
    for label, cmd, extra in (("watchdog-only AOT", [WATCHDOG], {}), ("full AOT", [AOT], {}), ("framework-dependent", JIT, {})):
        port = free_port()
        proc, _ = start(cmd, port, extra)
        time.sleep(0.5)
        idle = rss_kb(proc.pid)
        stop(proc)
        target = "<= 18 MB, about 1.2x hello" if label == "watchdog-only AOT" else "(reported)"
        row(f"idle RSS, {label}", f"{idle / 1024:.1f} MB", f"hello {hello_rss / 1024:.1f} MB", f"{idle / hello_rss:.2f}x hello", target)

    for label, cmd, extra in (("AOT", [WATCHDOG], {}), ("AOT runner=cliwrap", [WATCHDOG], {"runner": "cliwrap"}), ("framework-dependent", JIT, {})):
        port = free_port()
        proc, _ = start(cmd, port, extra)
        time.sleep(0.5)
        wrk(port, 16, duration="2s")  # warm-up
        (rps, p50, p99, errors), per_call = wrk_with_cpu(port, [partial(cpu_ticks, proc.pid, children=True), partial(cpu_ticks, proc.pid), busy_ticks])
        target = ">= 1.9x floor" if label == "AOT" else "(reported)"
        row(f"cat, 100 B POST, 16 conns, {label}", f"{rps:.0f} req/s", f"1/floor {1000 / floor_mean:.0f}/s", f"{rps * floor_mean / 1000:.2f}x floor", target)
        row(f"  p50 / p99 latency, {label}", f"{p50:.2f} / {p99:.2f} ms", "", "", f"non-2xx: {errors}")
        if label == "AOT":
            # Where a call's CPU went: the children (cat, reaped by the watchdog), the watchdog, and
            # the rest of the machine (wrk, the kernel's own work). With 2 cores busy, the children
            # and the rest alone cap req/s at 2 / (child + rest): the ratio no watchdog could pass.
            child, own, machine = per_call
            rest = machine - child - own
            row("  CPU per call: child (cat) / watchdog / rest", f"{child:.0f} / {own:.0f} / {rest:.0f} us", f"floor {floor_mean * 1000:.0f} us",
                f"{child / (floor_mean * 1000):.2f}x floor", "(reported)")
            ceiling = os.cpu_count() * 1e6 / (child + rest)
            row("  ceiling with a zero-cost watchdog", f"{ceiling:.0f} req/s", f"1/floor {1000 / floor_mean:.0f}/s",
                f"{ceiling * floor_mean / 1000:.2f}x floor", "(reported)")
        rps1, p50_1, p99_1, _ = wrk(port, 1)
        target = "<= floor + 0.3 ms" if label == "AOT" else "(reported)"
        row(f"cat, 1 conn p50, {label}", f"{p50_1:.2f} ms", f"floor {floor_mean:.2f} ms", f"+{p50_1 - floor_mean:.2f} ms", target)
        stop(proc)

    # 1 GiB POST through cat: memory and throughput against cat | cat.
    size = (256 if QUICK else 1024) * 1024 * 1024
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(os.urandom(1024 * 1024) * (size // (1024 * 1024)))
        f.flush()
        t0 = time.perf_counter()
        subprocess.run(f"cat {f.name} | cat > /dev/null", shell=True, check=True)
        pipe_s = time.perf_counter() - t0
        port = free_port()
        proc, _ = start([WATCHDOG], port, {"read_timeout": "0", "write_timeout": "0"})
        time.sleep(0.3)
        idle = rss_kb(proc.pid)
        t0 = time.perf_counter()
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-T", f.name, "-X", "POST",
                              f"http://127.0.0.1:{port}/"], check=True, capture_output=True, text=True).stdout
        took = time.perf_counter() - t0
        peak = rss_kb(proc.pid, "VmHWM")
        stop(proc)
        assert out == f"200 {size}", out
        mib = size / 1024 / 1024
        row(f"{mib:.0f} MiB POST through cat, peak - idle RSS", f"{(peak - idle) / 1024:.1f} MB", f"idle {idle / 1024:.1f} MB", "", "<= 32 MB")
        row(f"{mib:.0f} MiB POST through cat, throughput", f"{mib / took:.0f} MiB/s", f"cat|cat {mib / pipe_s:.0f} MiB/s", f"{pipe_s / took:.2f}x", ">= 0.5x")

    write_markdown()


def write_markdown():
    import platform
    lines = ["# Benchmarks", "", "Produced by `bash bench/run.sh` (`python3 bench/run.py` after the builds) on "
             f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, kernel {platform.release()}. Loopback only; "
             "each figure sits next to a baseline from the same run. \"watchdog-only AOT\" (and plain \"AOT\") is "
             "`deploy/publish --watchdog-only`, what function images run; \"full AOT\" is the binary with the gateway.", "",
             "| measure | value | baseline (same run) | ratio | target |", "|---|---|---|---|---|"]
    cell = lambda text: text.strip().replace("|", "\\|")  # noqa: E731 (cat|cat must not split a cell)
    lines += ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    existing = open(path).read() if os.path.exists(path) else ""
    # Only the top table is this script's; every "## " section after it (mode=http, gateway, soak, notes) is kept.
    rest = existing[existing.index("\n## ") + 1:] if "\n## " in existing else ""
    open(path, "w").write("\n".join(lines) + "\n\n" + rest)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
