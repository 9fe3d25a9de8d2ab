#!/usr/bin/env python3
"""Per-call cost of several watchdog binaries, interleaved round by round so a burst of noise from
the machine hits them alike, as a markdown table: what each step of a change bought.
For each binary and round: fprocess=cat at 16 connections (req/s and the watchdog's own CPU per
call), mode=http in front of the bare Kestrel hello at 16 connections (req/s and the watchdog's
CPU per request), and 256 MiB posted through cat (MiB/s). Medians over the rounds.
Usage: python3 bench/percall.py [--rounds N] "label=path/to/fwatchdog" ...
(build the hello first: dotnet publish bench/Hello -c Release -r linux-x64 -o artifacts/hello)"""
import os, statistics, subprocess, sys, tempfile, time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import HELLO, cpu_ticks, free_port, labeled, start, stop, wrk, wrk_with_cpu  # noqa: E402

SECONDS = 5
MIB = 256


def per_call_cpu(pid, port):
    """wrk at 16 connections for SECONDS: req/s and the process's CPU microseconds per request."""
    (rps, *_), (cpu,) = wrk_with_cpu(port, [partial(cpu_ticks, pid)], duration=f"{SECONDS}s")
    return rps, cpu


def fork_mode(binary):
    port = free_port()
    proc, _ = start([binary], port)
    try:
        wrk(port, 16, duration="1s")
        return per_call_cpu(proc.pid, port)
    finally:
        stop(proc)


def http_mode(binary):
    port, upstream = free_port(), free_port()
    proc, _ = start([binary], port, {"mode": "http", "fprocess": f"{HELLO} {upstream}", "http_upstream_url": f"http://127.0.0.1:{upstream}"})
    try:
        wrk(port, 16, duration="1s")
        return per_call_cpu(proc.pid, port)
    finally:
        stop(proc)


def big_body(binary, path):
    port = free_port()
    proc, _ = start([binary], port, {"read_timeout": "0", "write_timeout": "0"})
    try:
        t0 = time.perf_counter()
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-T", path, "-X", "POST",
                              f"http://127.0.0.1:{port}/"], check=True, capture_output=True, text=True).stdout
        assert out == f"200 {MIB * 1024 * 1024}", out
        return MIB / (time.perf_counter() - t0)
    finally:
        stop(proc)


def main():
    args = sys.argv[1:]
    rounds = 3
    if args[:1] == ["--rounds"]:
        rounds, args = int(args[1]), args[2:]
    steps = labeled(args)
    results = {label: {"fork": [], "fork_cpu": [], "http": [], "http_cpu": [], "big": []} for label, _ in steps}
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(os.urandom(1024 * 1024) * MIB)
        f.flush()
        for _ in range(rounds):
            for label, binary in steps:
                r = results[label]
                rps, cpu = fork_mode(binary)
                r["fork"].append(rps)
                r["fork_cpu"].append(cpu)
                rps, cpu = http_mode(binary)
                r["http"].append(rps)
                r["http_cpu"].append(cpu)
                r["big"].append(big_body(binary, f.name))
    print(f"| step | cat, 16 conns | watchdog CPU per cat call | mode=http, 16 conns | watchdog CPU per mode=http request | {MIB} MiB through cat |")
    print("|---|---|---|---|---|---|")
    for label, _ in steps:
        m = {key: statistics.median(values) for key, values in results[label].items()}
        print(f"| {label} | {m['fork']:.0f} req/s | {m['fork_cpu']:.0f} us | {m['http']:.0f} req/s | {m['http_cpu']:.0f} us | {m['big']:.0f} MiB/s |")
    print(f"\nMedians of {rounds} interleaved rounds; wrk runs {SECONDS} s per figure.")


if __name__ == "__main__":
    main()
