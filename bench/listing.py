#!/usr/bin/env python3
"""The async-call listing with 100,000 calls stored (SQLite queue): GET /async-calls with no filter,
by function, by state, by both, several states, and page 2 through the cursor, each timed over N
requests on one keep-alive connection, beside GET /healthz on the same connection in the same run.

The calls are written straight into the queue.db the gateway made (its own schema and indexes),
spread over 10 functions and the last 24 hours: 85% succeeded, 8% dead, 4% failed, 3% cancelled
(none queued, so nothing runs while it is measured). Where the schema has the attempt history,
each call carries its attempts: three for a dead call, one for the others, none for a cancelled one.

    python3 bench/listing.py [--binary PATH] [--calls 100000] [--requests 300]

PATH defaults to artifacts/aot/fwatchdog; a .dll runs under `dotnet`."""
import argparse, http.client, json, os, random, shutil, sqlite3, statistics, sys, tempfile, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (shared helpers: free_port, start, stop)

FUNCTIONS = [f"fn{i}" for i in range(10)]
STATES = [("succeeded", 85), ("dead", 8), ("failed", 4), ("cancelled", 3)]


def command(binary):
    return ["dotnet", binary, "gateway"] if binary.endswith(".dll") else [binary, "gateway"]


def start(binary, folder):
    """Starts the gateway on `folder`; returns the process, its port and the seconds until /healthz answered."""
    port = base.free_port()
    env = {"config": os.path.join(folder, "stack.json"), "data_dir": os.path.join(folder, "data"),
           "async_retention": "720h", "metrics_port": "0"}
    proc, seconds = base.start(command(binary), port, env, health="/healthz")
    return proc, port, seconds


def history(state, created):
    """The attempts of a finished call as the gateway stores them (a JSON array, times in ms)."""
    if state == "cancelled":
        return "[]"
    tries = 3 if state == "dead" else 1
    status = {"succeeded": 200, "dead": 503, "failed": 400}[state]
    attempts = []
    for n in range(tries):
        attempt = {"attempt": n + 1, "startedAt": created + n * 20, "finishedAt": created + n * 20 + 10, "statusCode": status}
        if status != 200:
            attempt["error"] = f"function answered {status}"
        attempts.append(attempt)
    return json.dumps(attempts, separators=(",", ":"))


def fill(database, calls):
    """Inserts `calls` finished calls in one transaction, in the columns the gateway's schema has."""
    with sqlite3.connect(database) as db:
        with_history = any(row[1] == "history" for row in db.execute("PRAGMA table_info(jobs)"))
    now = int(time.time() * 1000)
    rng = random.Random(22)
    weights = [w for _, w in STATES]
    names = [s for s, _ in STATES]
    rows = []
    for i in range(calls):
        created = now - rng.randrange(24 * 3600 * 1000)
        state = rng.choices(names, weights)[0]
        rows.append((f"bench-{i:07d}", FUNCTIONS[i % len(FUNCTIONS)], "POST", "/", "", "[]", b"x", 1, state,
                     3 if state == "dead" else 1 if state != "cancelled" else 0, 3, created, created, created, created + 40,
                     200 if state == "succeeded" else 503 if state == "dead" else 400 if state == "failed" else None,
                     "gave up after 3 attempts; last: function answered 503" if state == "dead" else None,
                     b"ok" if state == "succeeded" else None, 2 if state == "succeeded" else None,
                     "text/plain" if state == "succeeded" else None, f"tok{i:07d}") + ((history(state, created),) if with_history else ()))
    columns = ("call_id, function, method, path, query, headers, body, body_length, state, attempts, max_attempts, due_at, "
               "created_at, started_at, finished_at, status_code, error, result, result_length, result_type, token"
               + (", history" if with_history else ""))
    with sqlite3.connect(database) as db:
        db.executemany(f"INSERT INTO jobs ({columns}) VALUES ({', '.join('?' * len(rows[0]))})", rows)
    with sqlite3.connect(database) as db:
        db.execute("ANALYZE")


def timed(connection, path, requests):
    """Milliseconds per request over `requests` GETs of `path` on one connection (after 20 unmeasured)."""
    times = []
    for i in range(requests + 20):
        t0 = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        if i >= 20:
            times.append(elapsed)
    return body, times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=base.AOT)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="fwatchdog-bench-listing-")
    with open(os.path.join(folder, "stack.json"), "w") as f:
        json.dump({"functions": {name: {"upstream": "http://127.0.0.1:9"} for name in FUNCTIONS}}, f)
    try:
        # The first start makes queue.db with the gateway's schema and indexes; the calls go in while it is stopped.
        proc, _, _ = start(args.binary, folder)
        base.stop(proc)
        t0 = time.perf_counter()
        fill(os.path.join(folder, "data", "queue.db"), args.calls)
        filled = time.perf_counter() - t0
        proc, port, _ = start(args.binary, folder)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            first, _ = timed(connection, "/async-calls?limit=50", 0)
            cursor = json.loads(first)["nextCursor"]
            cases = [
                ("GET /healthz (baseline)", "/healthz"),
                ("GET /async-calls?limit=50", "/async-calls?limit=50"),
                ("… &function=fn3", "/async-calls?limit=50&function=fn3"),
                ("… &state=dead", "/async-calls?limit=50&state=dead"),
                ("… &function=fn3&state=dead", "/async-calls?limit=50&function=fn3&state=dead"),
                ("… &state=failed,dead", "/async-calls?limit=50&state=failed,dead"),
                ("… &since=1h", "/async-calls?limit=50&since=1h"),
                ("page 2 (cursor)", "/async-calls?limit=50&cursor=" + urllib.parse.quote(cursor)),
                ("… &limit=500", "/async-calls?limit=500"),
            ]
            results = []
            for label, path in cases:
                body, times = timed(connection, path, args.requests)
                shown = len(json.loads(body)["calls"]) if path != "/healthz" else "-"
                results.append((label, statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1], shown))
        finally:
            base.stop(proc)
        # A database made before the listing indexes gets them at the next start: what that costs.
        proc, _, with_indexes = start(args.binary, folder)
        base.stop(proc)
        with sqlite3.connect(os.path.join(folder, "data", "queue.db")) as db:
            db.executescript("DROP INDEX jobs_created_at; DROP INDEX jobs_function_created_at; DROP INDEX jobs_ended_created_at;")
        proc, _, building = start(args.binary, folder)
        base.stop(proc)
        baseline = results[0][1]
        print(f"{args.calls} calls stored ({filled:.1f} s to insert), {args.requests} requests each, one keep-alive connection, "
              f"binary {os.path.relpath(args.binary, base.ROOT) if args.binary.startswith(base.ROOT) else args.binary}\n")
        print("| request | calls shown | median ms | p95 ms | median vs /healthz |")
        print("|---|---:|---:|---:|---:|")
        for label, median, p95, shown in results:
            print(f"| {label} | {shown} | {median:.2f} | {p95:.2f} | {median / baseline:.1f}x |")
        slowest = max(p95 for label, _, p95, _ in results[1:])
        print(f"\nslowest p95 of a listing: {slowest:.1f} ms (target: under 100 ms)")
        print(f"start to /healthz with {args.calls} calls stored: {with_indexes:.2f} s; the first start that builds the listing indexes: {building:.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
