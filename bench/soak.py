#!/usr/bin/env python3
"""Soak: mixed sync, async and callback traffic through `fwatchdog gateway` while faults are
injected in turn, once with the embedded SQLite queue and once with NATS JetStream. Faults:
gateway SIGKILL and restart, callback receiver down, disk full (data_dir on a small tmpfs this
script mounts; needs root), a busy database (another process holding SQLite's write lock),
nats-server restart. Bounded: --minutes of traffic in all (split between the two backends), then
at most 3 minutes to drain. Reports calls accepted, completed, lost (must be 0), callbacks, and
the gateway's RSS and open fds at start and end.

Usage: python3 bench/soak.py [--minutes 10] [--binary artifacts/aot/fwatchdog]
"""
import argparse, json, os, random, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time
import http.server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (free_port, start, stop, rss_kb)
from run import request  # noqa: E402

FINAL = {"succeeded", "failed", "dead", "cancelled"}


class Receiver:
    """Callback receiver on a fixed port that can go down and come back."""

    def __init__(self):
        self.port = base.free_port()
        self.got = set()
        self.server = None
        self.lock = threading.Lock()

    def up(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    owner.got.add(self.headers.get("X-Call-Id"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.server.shutdown()
        self.server.server_close()


class Gateway:
    def __init__(self, env):
        self.env = env
        self.port = int(env["port"])
        self.proc = None

    def start(self):
        env = dict(os.environ, **self.env)
        self.proc = subprocess.Popen([ARGS.binary, "gateway"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base.wait_health(self.port, "/healthz", timeout=30)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        base.stop(self.proc)

    def usage(self):
        pid = self.proc.pid
        return base.rss_kb(pid) / 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Traffic:
    """Clients sending sync, async and callback calls in a mix until stopped."""

    def __init__(self, gateway, receiver, clients=6):
        self.gateway, self.receiver, self.clients = gateway, receiver, clients
        self.accepted, self.with_callback, self.status_paths = [], set(), {}
        self.counts = {"sync ok": 0, "async refused": 0}
        self.running = True
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(i,), daemon=True) for i in range(clients)]

    def loop(self, seed):
        rnd = random.Random(seed)
        n = 0
        while self.running:
            n += 1
            kind = rnd.choice(("sync", "async", "callback"))
            url = f"http://127.0.0.1:{self.gateway.port}"
            body = f"{seed}-{n}-{'x' * rnd.choice((10, 1000, 70_000))}".encode()
            if kind == "sync":
                status, _, answer = request("POST", url + "/function/echo", body)
                key = "sync ok" if status == 200 and answer == body else f"sync failed {status or 'no answer'}"
                with self.lock:
                    self.counts[key] = self.counts.get(key, 0) + 1
            else:
                headers = {"X-Callback-Url": f"http://127.0.0.1:{self.receiver.port}/done"} if kind == "callback" else {}
                status, answer_headers, _ = request("POST", url + "/async-function/echo", body, headers)
                with self.lock:
                    if status == 202:
                        call_id = answer_headers.get("X-Call-Id")
                        self.accepted.append(call_id)
                        self.status_paths[call_id] = answer_headers.get("Location")
                        if kind == "callback":
                            self.with_callback.add(call_id)
                    else:
                        self.counts["async refused"] += 1
            time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(30)


def fill(folder):
    path = os.path.join(folder, "filler")
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    return path


def hold_write_lock(database, seconds):
    c = sqlite3.connect(database, isolation_level=None, timeout=30)
    c.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    c.execute("COMMIT")
    c.close()


def drain(gateway, traffic, receiver, within=180):
    deadline = time.time() + within
    states, callbacks = {}, {}
    pending = list(traffic.accepted)
    while pending and time.time() < deadline:
        still = []
        for call_id in pending:
            status, _, body = request("GET", f"http://127.0.0.1:{gateway.port}{traffic.status_paths[call_id]}")
            doc = json.loads(body) if status == 200 else {}
            state = doc.get("state")
            callback = (doc.get("callback") or {}).get("state")
            done = state in FINAL and (call_id not in traffic.with_callback or callback in ("delivered", "failed"))
            if done:
                states[call_id], callbacks[call_id] = state, callback
            else:
                still.append(call_id)
        pending = still
        if pending:
            time.sleep(1)
    for call_id in pending[:5]:
        print("  not final:", request("GET", f"http://127.0.0.1:{gateway.port}{traffic.status_paths[call_id]}")[2].decode()[:400])
    return states, callbacks, pending


def phase(name, queue_env, faults, seconds, receiver, nats=None):
    folder = tempfile.mkdtemp(prefix=f"fwatchdog-soak-{name}-")
    data = os.path.join(folder, "data")
    os.makedirs(data)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", data], capture_output=True).returncode == 0
    upstream_port = base.free_port()
    upstream, _ = base.start([ARGS.binary], upstream_port)
    stack = os.path.join(folder, "stack.json")
    with open(stack, "w") as f:
        json.dump({"functions": {"echo": {"upstream": f"http://127.0.0.1:{upstream_port}"}}}, f)
    env = {"config": stack, "port": str(base.free_port()), "metrics_port": "0", "bind_address": "127.0.0.1", "data_dir": data,
           "queue_lease": "5s", "queue_workers": "8", "initial_retry_wait": "200ms", "max_retry_wait": "5s",
           "callback_attempts": "10", "max_attempts": "10", "callback_allowed_hosts": "127.0.0.1"}
    env.update(queue_env)
    gateway = Gateway(env)
    gateway.start()
    traffic = Traffic(gateway, receiver)
    log = []
    try:
        traffic.start()
        time.sleep(5)
        start_usage = gateway.usage()
        slot = max(10, (seconds - 10) / len(faults))
        for fault in faults:
            began = time.time()
            if fault == "gateway SIGKILL":
                gateway.kill()
                time.sleep(1)
                gateway.start()
            elif fault == "callback receiver down":
                receiver.down()
                time.sleep(10)
                receiver.up()
            elif fault == "disk full":
                if not mounted:
                    log.append("disk full: skipped (mount refused)")
                    continue
                filler = fill(data)
                time.sleep(10)
                os.remove(filler)
            elif fault == "busy database":
                hold_write_lock(os.path.join(data, "queue.db"), 15)
            elif fault == "nats-server restart":
                nats.restart()
            log.append(f"{fault}: {time.time() - began:.0f}s")
            time.sleep(max(0, slot - (time.time() - began)))
        traffic.stop()
        end_usage = gateway.usage()
        states, callbacks, pending = drain(gateway, traffic, receiver)
        with receiver.lock:
            received = len(traffic.with_callback & receiver.got)
        accepted = len(traffic.accepted)
        completed = sum(1 for s in states.values() if s == "succeeded")
        print(f"\n[{name}] faults: " + "; ".join(log))
        print(f"[{name}] async accepted {accepted}, succeeded {completed}, other final {len(states) - completed}, "
              f"lost {len(pending)}; refused at accept (503/refused) {traffic.counts['async refused']}")
        print(f"[{name}] callbacks asked {len(traffic.with_callback)}, delivered {sum(1 for c in callbacks.values() if c == 'delivered')}, "
              f"failed {sum(1 for c in callbacks.values() if c == 'failed')}, received {received}")
        failed = ", ".join(f"{k[5:]}: {v}" for k, v in sorted(traffic.counts.items()) if k.startswith("sync failed"))
        print(f"[{name}] sync ok {traffic.counts['sync ok']}; {failed or 'none failed'}")
        print(f"[{name}] gateway RSS {start_usage[0]:.1f} MB -> {end_usage[0]:.1f} MB, open fds {start_usage[1]} -> {end_usage[1]} "
              f"(pid at end {gateway.proc.pid})")
        return len(pending)
    finally:
        traffic.running = False
        gateway.stop()
        base.stop(upstream)
        if mounted:
            subprocess.run(["umount", "-l", data])
        shutil.rmtree(folder, ignore_errors=True)


class Nats:
    def __init__(self):
        self.port = base.free_port()
        self.store = tempfile.mkdtemp(prefix="fwatchdog-soak-nats-")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.store],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def restart(self):
        base.stop(self.proc)
        time.sleep(2)
        self.start()

    def stop(self):
        base.stop(self.proc)
        shutil.rmtree(self.store, ignore_errors=True)


def main():
    seconds = ARGS.minutes * 60 / 2
    receiver = Receiver()
    receiver.up()
    print(f"soak: {ARGS.minutes} min of traffic ({ARGS.binary}), 6 clients, bodies of 10 B / 1 kB / 70 kB")
    lost = phase("sqlite", {}, ["gateway SIGKILL", "callback receiver down", "disk full", "busy database"], seconds, receiver)
    nats = Nats()
    nats.start()
    try:
        lost += phase("nats", {"queue": "nats", "nats_url": f"nats://127.0.0.1:{nats.port}"},
                      ["gateway SIGKILL", "nats-server restart", "callback receiver down"], seconds, receiver, nats)
    finally:
        nats.stop()
        receiver.down()
    print(f"\nlost in all: {lost}")
    return 1 if lost else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--binary", default=os.path.join(base.ROOT, "artifacts/aot/fwatchdog"))
    ARGS = parser.parse_args()
    sys.exit(main())
