#!/usr/bin/env python3
"""High-availability soak: two `fwatchdog gateway` processes on a three-node NATS JetStream
cluster (three nats-server processes on loopback) take a steady stream of async calls while one
NATS node is killed (SIGKILL) and brought back. Runs each scenario with nats_replicas=1 and
nats_replicas=3: killing the node that leads the work stream, and killing a node that does not.
Reports, per run: calls accepted, refused (503), succeeded (called back), lost (accepted, never
called back), duplicated (called back more than once) and the longest stretch without a 202.

Usage: python3 bench/ha.py [--seconds 40] [--binary artifacts/aot/fwatchdog] [--replicas 1 3] [--victims leader follower]
(a run that loses a call keeps the gateways' logs and prints where)
(the binary defaults to the JIT build: dotnet watchdog/bin/Debug/net10.0/fwatchdog.dll)
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time
import http.server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (free_port)
from run import request  # noqa: E402

ROOT = base.ROOT


class Peer:
    """The function (/fn echoes) and the callback receiver (/cb counts X-Call-Id) in one server."""

    def __init__(self):
        self.port = base.free_port()
        self.calls = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/cb"):
                    with owner.lock:
                        call = self.headers.get("X-Call-Id")
                        owner.calls[call] = owner.calls.get(call, 0) + 1
                    body = b""
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            # The default backlog of 5 refuses connections when calls finish in a burst (after an
            # election): those callbacks failed, the receiver's fault, not the queue's.
            request_queue_size = 256

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Cluster:
    def __init__(self, folder):
        self.folder = folder
        self.client = [base.free_port() for _ in range(3)]
        self.route = [base.free_port() for _ in range(3)]
        self.monitor = [base.free_port() for _ in range(3)]
        self.procs = [None] * 3
        for i in range(3):
            self.start(i)
        self.url = ",".join(f"nats://127.0.0.1:{p}" for p in self.client)

    def start(self, i):
        routes = ",".join(f"nats://127.0.0.1:{p}" for p in self.route)
        self.procs[i] = subprocess.Popen(
            ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.client[i]), "-m", str(self.monitor[i]),
             "-sd", os.path.join(self.folder, f"n{i + 1}"), "--name", f"n{i + 1}", "--cluster_name", "bench",
             "--cluster", f"nats://127.0.0.1:{self.route[i]}", "--routes", routes],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def leader_of(self, stream):
        for i in range(3):
            status, _, body = request("GET", f"http://127.0.0.1:{self.monitor[i]}/jsz?streams=true", timeout=5)
            if status != 200:
                continue
            for account in json.loads(body).get("account_details") or []:
                for detail in account.get("stream_detail") or []:
                    if detail["name"] == stream and (detail.get("cluster") or {}).get("leader"):
                        return int(detail["cluster"]["leader"][1:]) - 1
        return None

    def stop(self):
        for p in self.procs:
            if p and p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()


def gateway(binary, env, folder):
    cmd = [binary, "gateway"] if binary.endswith("fwatchdog") else ["dotnet", binary, "gateway"]
    log = open(os.path.join(folder, f"gateway-{env['port']}.log"), "w")
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def scenario(binary, replicas, victim, seconds):
    folder = tempfile.mkdtemp(prefix="fwatchdog-ha-")
    cluster = Cluster(folder)
    peer = Peer()
    stack = os.path.join(folder, "stack.json")
    with open(stack, "w") as f:
        json.dump({"functions": {"work": {"upstream": f"http://127.0.0.1:{peer.port}/fn"}}}, f)
    ports = [base.free_port(), base.free_port()]
    gateways = [gateway(binary, {"port": str(p), "metrics_port": "0", "config": stack, "queue": "nats", "nats_url": cluster.url,
                                 "nats_replicas": str(replicas), "data_dir": os.path.join(folder, f"data-{p}"),
                                 "callback_allowed_hosts": "127.0.0.1"}, folder) for p in ports]
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not all(request("GET", f"http://127.0.0.1:{p}/readyz", timeout=2)[0] == 200 for p in ports):
            time.sleep(0.5)
        # The queue is set up by the first call: make one per gateway before the clock starts.
        for p in ports:
            while time.time() < deadline and request("POST", f"http://127.0.0.1:{p}/async-function/work", b"warm-up", timeout=30)[0] != 202:
                time.sleep(0.5)
        stream = "FWATCHDOG_JOBS"
        leader = cluster.leader_of(stream)
        killed = leader if victim == "leader" else next(i for i in range(3) if i != leader)
        accepted, refused, stamps = set(), [0], []
        lock = threading.Lock()
        stop = threading.Event()
        start = time.time()

        def caller(n):
            i = n
            while not stop.is_set():
                status, headers, _ = request("POST", f"http://127.0.0.1:{ports[i % 2]}/async-function/work", f"call-{i}".encode(),
                                             {"X-Callback-Url": f"http://127.0.0.1:{peer.port}/cb"}, timeout=30)
                with lock:
                    if status == 202:
                        accepted.add(headers.get("X-Call-Id"))
                        stamps.append(time.time() - start)
                    else:
                        refused[0] += 1
                i += 4
                time.sleep(0.05)

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(seconds / 4)
        cluster.kill(killed)
        time.sleep(seconds / 2)
        cluster.start(killed)
        time.sleep(seconds / 4)
        stop.set()
        for t in threads:
            t.join()
        end = time.time() - start
        drain = time.time() + 120
        while time.time() < drain and not accepted <= set(peer.calls):
            time.sleep(1)
        times = sorted(stamps) + [end]
        gap = max((b - a for a, b in zip([0.0] + times, times)), default=end)
        with peer.lock:
            got = dict(peer.calls)
        missing = accepted - set(got)
        if missing:
            keep = tempfile.mkdtemp(prefix="fwatchdog-ha-lost-")
            for name in os.listdir(folder):
                if name.endswith(".log"):
                    shutil.copy(os.path.join(folder, name), keep)
            with open(os.path.join(keep, "lost"), "w") as f:
                f.write("\n".join(sorted(missing)) + "\n")
            print(f"lost calls and the gateways' logs: {keep}", file=sys.stderr, flush=True)
        return {"replicas": replicas, "victim": victim, "accepted": len(accepted), "refused": refused[0],
                "succeeded": len(accepted & set(got)), "lost": len(accepted - set(got)),
                "duplicated": sum(1 for c in accepted if got.get(c, 0) > 1), "gap": gap}
    finally:
        for g in gateways:
            g.send_signal(signal.SIGKILL)
            g.wait()
        cluster.stop()
        peer.server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--binary", default=os.path.join(ROOT, "watchdog/bin/Debug/net10.0/fwatchdog.dll"))
    parser.add_argument("--replicas", type=int, nargs="*", default=[1, 3])
    parser.add_argument("--victims", nargs="*", default=["leader", "follower"])
    args = parser.parse_args()
    print(f"| nats_replicas | node killed for {args.seconds // 2} s | accepted | refused (503) | succeeded | lost | duplicated | longest accept gap |")
    print("|---|---|---|---|---|---|---|---|")
    for victim in args.victims:
        for replicas in args.replicas:
            r = scenario(args.binary, replicas, victim, args.seconds)
            what = "the work stream's leader" if victim == "leader" else "a node that does not lead it"
            print(f"| {r['replicas']} | {what} | {r['accepted']} | {r['refused']} | {r['succeeded']} | {r['lost']} | {r['duplicated']} | {r['gap']:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
