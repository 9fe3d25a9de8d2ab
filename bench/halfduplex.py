#!/usr/bin/env python3
"""A big body through fprocess=cat from both kinds of HTTP/1.1 caller, as a markdown table:
one that reads while it sends (curl, the gateway) and one that sends everything before it reads
(Python's http.client and requests). For each watchdog binary given: MiB/s, the watchdog's peak
RSS growth over the call (VmHWM after clear_refs, what a container limit sees) and the spool
file's peak size (sampled from the watchdog's open files every 20 ms). The baseline, in the same
run: the same bytes through a bare `cat` over pipes.
Usage: python3 bench/halfduplex.py [--mib 1024] "label=path/to/fwatchdog" ...
(build with deploy/publish --watchdog-only linux-x64 DIR)"""
import os, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import free_port, labeled, rss_kb, stop, wait_health  # noqa: E402

CHUNK = 256 * 1024
PATTERN = bytes((i * 31) % 251 for i in range(251)) * (CHUNK // 251 + 2)


def pattern(size):
    sent = 0
    while sent < size:
        n = min(CHUNK, size - sent)
        yield memoryview(PATTERN)[sent % 251: sent % 251 + n]
        sent += n


def bare_cat(size):
    """MiB/s of size bytes through cat over pipes: fork+exec and the copy, nothing else."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def feed():
        for piece in pattern(size):
            proc.stdin.write(piece)
        proc.stdin.close()

    feeder = threading.Thread(target=feed)
    feeder.start()
    got = 0
    while data := proc.stdout.read(CHUNK):
        got += len(data)
    feeder.join()
    proc.wait()
    assert got == size
    return size / (1 << 20) / (time.perf_counter() - t0)


def spool_bytes(pid):
    """Bytes in the watchdog's open spool files (unlinked, so only /proc/PID/fd sees them)."""
    total = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if "fwatchdog-spool-" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                    total += os.stat(f"/proc/{pid}/fd/{fd}").st_size
            except OSError:
                pass
    except OSError:
        pass
    return total


def read_until(sock, buf, marker):
    """Reads until marker arrives: (what came before it, what came after); EOFError if the peer closed first."""
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError
        buf += data
    before, _, after = buf.partition(marker)
    return before, after


def call(port, size, full_duplex, timeout):
    """POSTs size pattern bytes; returns the answer's byte count, or None when the call failed."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(timeout)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
    failed = []

    def send():
        try:
            for piece in pattern(size):
                sock.sendall(piece)
        except OSError as e:
            failed.append(e)

    sender = threading.Thread(target=send)
    sender.start()
    if not full_duplex:
        sender.join()
    got = 0
    try:
        head, buf = read_until(sock, b"", b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return None
        # chunked: count payload bytes by parsing the chunk framing as it streams
        while True:
            line, buf = read_until(sock, buf, b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                break
            while len(buf) < n + 2:
                data = sock.recv(max(65536, n + 2 - len(buf)))
                if not data:
                    return None
                buf += data
            got += n
            buf = buf[n + 2:]
    except (OSError, EOFError):
        return None
    finally:
        sender.join()
        sock.close()
    return None if failed else got


def measure(binary, size, full_duplex, tmp):
    port = free_port()
    env = dict(os.environ, fprocess="cat", port=str(port), metrics_port="0", suppress_lock="true",
               bind_address="127.0.0.1", read_timeout="0", write_timeout="20s", TMPDIR=tmp)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_health(port)
        call(port, 16 << 20, full_duplex, 30)  # warm-up
        with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
            f.write("5")
        base = rss_kb(proc.pid)
        peak_spool = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.02):
                peak_spool[0] = max(peak_spool[0], spool_bytes(proc.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.perf_counter()
        got = call(port, size, full_duplex, 60)
        seconds = time.perf_counter() - t0
        done.set()
        sampler.join()
        growth = (rss_kb(proc.pid, "VmHWM") - base) / 1024
        return got == size, seconds, growth, peak_spool[0] / (1 << 20)
    finally:
        stop(proc)


def main():
    args = sys.argv[1:]
    mib = 1024
    if args[:1] == ["--mib"]:
        mib, args = int(args[1]), args[2:]
    size = mib << 20
    binaries = labeled(args)
    print(f"| build | caller | answer | MiB/s | watchdog RSS growth | spool file peak |")
    print("|---|---|---|---|---|---|")
    print(f"| bare `cat` over pipes (baseline) | - | {mib} MiB | {bare_cat(size):.0f} | - | - |")
    with tempfile.TemporaryDirectory() as tmp:
        for label, binary in binaries:
            for full_duplex in (True, False):
                ok, seconds, growth, spool = measure(binary, size, full_duplex, tmp)
                caller = "reads while sending (curl)" if full_duplex else "sends, then reads (http.client)"
                answer = f"{mib} MiB, byte count exact" if ok else f"failed after {seconds:.1f} s"
                rate = f"{mib / seconds:.0f}" if ok else "-"
                print(f"| {label} | {caller} | {answer} | {rate} | {growth:+.1f} MiB | {spool:.0f} MiB |", flush=True)
        leftover = [f for f in os.listdir(tmp) if f.startswith("fwatchdog-spool-")]
        print(f"\nspool files left in TMPDIR: {len(leftover)}")


if __name__ == "__main__":
    main()
