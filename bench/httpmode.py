#!/usr/bin/env python3
"""mode=http benchmarks: the AOT fwatchdog in mode=http in front of the bare Kestrel
hello (bench/Hello) against the hello hit directly, in the same run; p50 at one connection; and
1 GiB through an upstream that streams the body back. Reuses bench/run.py's helpers."""
import os, shutil, subprocess, sys, tempfile, time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from run import HELLO, ROOT, WATCHDOG, busy_ticks, cpu_ticks, free_port, rss_kb, start, stop, wait_health, wrk  # noqa: E402

rows = []


def row(name, value, baseline, ratio, target):
    rows.append((name, value, baseline, ratio, target))
    print(f"{name:<48} {value:>24} {baseline:>28} {ratio:>10}  {target}", flush=True)


def http_mode(upstream_cmd, upstream_port, extra=None):
    env = {"mode": "http", "fprocess": " ".join(upstream_cmd), "http_upstream_url": f"http://127.0.0.1:{upstream_port}",
           "read_timeout": "0", "write_timeout": "0"}
    env.update(extra or {})
    port = free_port()
    proc, _ = start([WATCHDOG], port, env)
    return proc, port


def wrk_with_cpu(port, pids):
    """wrk at 16 connections; also the CPU microseconds per request of each pid and of the whole machine."""
    return run.wrk_with_cpu(port, [partial(cpu_ticks, pid) for pid in pids] + [busy_ticks])


def child_pid(parent):
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return int(out[0])


NGINX_CONF = """worker_processes 1; daemon off; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {dir}; proxy_temp_path {dir};
  upstream hello {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://hello; proxy_http_version 1.1; proxy_set_header Connection ""; }} }} }}
"""


def nginx_through(hport):
    """nginx (one worker, keep-alive upstream pool) in front of the same hello: a reference C proxy on this machine."""
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        conf = os.path.join(folder, "nginx.conf")
        open(conf, "w").write(NGINX_CONF.format(dir=folder, upstream=hport, port=port))
        proc = subprocess.Popen(["nginx", "-c", conf, "-p", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_health(port, "/")
            worker = child_pid(proc.pid)
            wrk(port, 16, duration="2s")
            return wrk_with_cpu(port, [worker])
        finally:
            stop(proc)


def main():
    print(f"{'measure':<48} {'value':>24} {'baseline (same run)':>28} {'ratio':>10}  target")

    # Hello direct, then through mode=http (and nginx, when installed), then direct again: the
    # baseline is the mean of both direct runs. The CPU rows say where each request's time went.
    hport = free_port()
    hello, _ = start([HELLO, str(hport)], hport, health="/")
    wrk(hport, 16, duration="2s")
    direct_a, direct_cpu = wrk_with_cpu(hport, [hello.pid])
    direct_1a = wrk(hport, 1)
    nginx = nginx_through(hport) if shutil.which("nginx") else None
    stop(hello)

    uport = free_port()
    proc, port = http_mode([HELLO, str(uport)], uport)
    upstream = child_pid(proc.pid)
    wrk(port, 16, duration="2s")
    through, through_cpu = wrk_with_cpu(port, [proc.pid, upstream])
    through_1 = wrk(port, 1)
    stop(proc)

    hello, _ = start([HELLO, str(hport)], hport, health="/")
    direct_b = wrk(hport, 16)
    direct_1b = wrk(hport, 1)
    stop(hello)

    direct = (direct_a[0] + direct_b[0]) / 2
    direct_p50_1 = (direct_1a[1] + direct_1b[1]) / 2
    row("mode=http -> Kestrel hello, 100 B POST, 16 conns", f"{through[0]:.0f} req/s p99 {through[2]:.2f} ms",
        f"direct {direct:.0f} req/s p99 {direct_a[2]:.2f} ms", f"{through[0] / direct:.2f}x", ">= 0.5x (of-watchdog 0.09-0.13x)")
    if nginx:
        (nginx_rps, _, nginx_p99, _), nginx_cpu = nginx
        row("  reference: nginx (1 worker, keep-alive) -> same hello", f"{nginx_rps:.0f} req/s p99 {nginx_p99:.2f} ms",
            f"direct {direct:.0f} req/s", f"{nginx_rps / direct:.2f}x", "(reference)")
    row("  CPU per request: watchdog / hello / whole machine", f"{through_cpu[0]:.0f} / {through_cpu[1]:.0f} / {through_cpu[2]:.0f} us",
        f"direct: hello {direct_cpu[0]:.0f} / machine {direct_cpu[1]:.0f} us", "", "(reported)")
    if nginx:
        row("  CPU per request behind nginx: nginx / machine", f"{nginx_cpu[0]:.0f} / {nginx_cpu[1]:.0f} us", "", "", "(reference)")
    row("mode=http -> Kestrel hello, 1 conn p50", f"{through_1[1]:.3f} ms", f"direct {direct_p50_1:.3f} ms",
        f"+{through_1[1] - direct_p50_1:.3f} ms", "(reported)")
    row("  non-2xx through mode=http", f"{through[3] + through_1[3]}", "", "", "0")

    # 1 GiB through an upstream that streams it back (node: req.pipe(res)).
    size = (256 if run.QUICK else 1024) * 1024 * 1024
    mib = size / 1024 / 1024
    echo = ["node", os.path.join(ROOT, "bench/echo-upstream.js")]
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(os.urandom(1024 * 1024) * (size // (1024 * 1024)))
        f.flush()

        def post(port):
            t0 = time.perf_counter()
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-T", f.name, "-X", "POST",
                                  f"http://127.0.0.1:{port}/"], check=True, capture_output=True, text=True).stdout
            assert out == f"200 {size}", out
            return time.perf_counter() - t0

        eport = free_port()
        direct_echo = subprocess.Popen(echo + [str(eport)])
        time.sleep(0.5)
        direct_s = post(eport)
        stop(direct_echo)

        uport = free_port()
        proc, port = http_mode(echo + [str(uport)], uport)
        time.sleep(0.3)
        idle = rss_kb(proc.pid)
        took = post(port)
        peak = rss_kb(proc.pid, "VmHWM")
        stop(proc)
        row(f"{mib:.0f} MiB through mode=http echo, peak - idle RSS", f"{(peak - idle) / 1024:.1f} MB", f"idle {idle / 1024:.1f} MB", "", "<= 32 MB")
        row(f"{mib:.0f} MiB through mode=http echo, throughput", f"{mib / took:.0f} MiB/s", f"direct {mib / direct_s:.0f} MiB/s",
            f"{direct_s / took:.2f}x", "(reported)")

    write_section()


def write_section():
    """Puts the "## mode=http" section of BENCHMARKS.md before "## Gateway" (or "## Notes"), replacing an older one."""
    lines = ["## mode=http", "", f"Produced by `python3 bench/httpmode.py` (run by `bash bench/run.sh`) on {time.strftime('%Y-%m-%d')}. "
             "The watchdog-only AOT `fwatchdog` in `mode=http` proxies to the bare Kestrel hello (`bench/Hello`), which it starts as `fprocess`; "
             "the baseline is the same hello hit directly, measured before and after in the same run (mean of both). wrk posts 100 bytes. "
             "The nginx row (when nginx is installed) puts nginx, one worker with a keep-alive upstream pool, in front of the same hello: "
             "what a mature C proxy reaches on this machine. CPU per request is each process's utime + stime (and the whole machine's busy time, "
             "wrk included) over the requests wrk counted. "
             "The 1 GiB row sends a file with curl through `mode=http` to `bench/echo-upstream.js` (node, `req.pipe(res)`), "
             "against the same echo hit directly.", "",
             "| measure | value | baseline (same run) | ratio | target |", "|---|---|---|---|---|"]
    lines += [f"| {a.strip()} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    section = "\n".join(lines) + "\n\n"
    if "## mode=http" in text:
        start = text.index("## mode=http")
        end = text.index("\n## ", start) + 1 if "\n## " in text[start:] else len(text)
        text = text[:start] + section + text[end:]
    else:
        anchor = "## Gateway" if "## Gateway" in text else "## Notes" if "## Notes" in text else None
        text = text.replace(anchor, section + anchor, 1) if anchor else text + "\n" + section
    open(path, "w").write(text)
    print(f"wrote the mode=http section of {path}")


if __name__ == "__main__":
    main()
