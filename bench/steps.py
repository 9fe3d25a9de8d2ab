#!/usr/bin/env python3
"""Cold start and idle RSS of several watchdog binaries, interleaved with the bare Kestrel hello in
one run, as a markdown table: what each step of a change bought.
Usage: python3 bench/steps.py [--starts N] "label=path/to/fwatchdog" ...   (the last = ends the label)
(build the hello first: dotnet publish bench/Hello -c Release -r linux-x64 -o artifacts/hello)"""
import os, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import HELLO, free_port, labeled, rss_kb, start, stop  # noqa: E402


def main():
    args = sys.argv[1:]
    starts = 20
    if args[:1] == ["--starts"]:
        starts, args = int(args[1]), args[2:]
    steps = labeled(args) + [["bare Kestrel hello (bench/Hello), same run", HELLO]]
    times = {label: [] for label, _ in steps}
    rss = {label: [] for label, _ in steps}
    for i in range(starts):
        for label, binary in steps:
            port = free_port()
            hello = binary == HELLO
            proc, took = start([binary, str(port)] if hello else [binary], port, health="/" if hello else "/_/health")
            times[label].append(took * 1000)
            if i < 5:
                time.sleep(0.3)
                rss[label].append(rss_kb(proc.pid) / 1024)
            stop(proc)
    hello_label = steps[-1][0]
    hello_time, hello_rss = statistics.median(times[hello_label]), statistics.median(rss[hello_label])
    print(f"| step | binary | cold start (exec -> 200, median of {starts}) | idle RSS (median of 5) |")
    print("|---|---|---|---|")
    for label, binary in steps:
        size = os.path.getsize(binary) / 1e6
        t, r = statistics.median(times[label]), statistics.median(rss[label])
        ratio = "" if binary == HELLO else f" ({t / hello_time:.2f}x hello)"
        ratio_rss = "" if binary == HELLO else f" ({r / hello_rss:.2f}x hello)"
        print(f"| {label} | {size:.1f} MB | {t:.1f} ms{ratio} | {r:.1f} MB{ratio_rss} |")


if __name__ == "__main__":
    main()
