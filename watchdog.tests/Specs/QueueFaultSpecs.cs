using System.Collections.Concurrent;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The embedded queue through real faults: another process holding SQLite's write lock,
/// a full disk (a small tmpfs this spec mounts, as root), a database file that
/// cannot be written (chattr +i, as root, since root ignores permission bits). While the fault lasts
/// /readyz says the queue cannot store calls; once it ends the queue resumes by itself with all
/// queue_workers, and every accepted call completes.
/// </summary>
public sealed class QueueFaultSpecs
{
    private const int Workers = 2;

    [Fact(Timeout = 150_000)]
    public async Task Queue_resumes_with_all_workers_after_another_process_held_the_write_lock()
    {
        await RunThroughFaultAsync(async folder =>
        {
            // SQLite waits busy_timeout (10 s) for the lock, then fails: held for 25 s, the completion
            // writes of the running calls fail, then the claims of the queued ones.
            var holder = await HoldWriteLockAsync(Path.Combine(folder, "data", "queue.db"), TimeSpan.FromSeconds(25));
            return async () =>
            {
                await holder.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                holder.Dispose();
            };
        });
    }

    [RootFact("mount -t tmpfs makes the small disk that fills up", Timeout = 150_000)]
    public async Task Queue_resumes_with_all_workers_after_the_disk_was_full()
    {
        await RunThroughFaultAsync(async folder =>
        {
            var filler = await FillAsync(Path.Combine(folder, "data"));
            return () =>
            {
                File.Delete(filler);
                return Task.CompletedTask;
            };
        }, tmpfs: true);
    }

    [RootFact("chattr +i makes the database file read-only even for root", Timeout = 150_000)]
    public async Task Queue_resumes_with_all_workers_after_the_database_file_was_read_only()
    {
        await RunThroughFaultAsync(async folder =>
        {
            var files = new[] { "queue.db", "queue.db-wal" }.Select(f => Path.Combine(folder, "data", f)).ToArray();
            await Commands.RunAsync("chattr", ["+i", .. files]);
            return () => Commands.RunAsync("chattr", ["-i", .. files]);
        });
    }

    [RootFact("mount -t tmpfs makes the small disk that fills up", Timeout = 60_000)]
    public async Task Disk_full_at_accept_answers_503_queue_unavailable_and_leaves_no_file()
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-full-").FullName;
        var data = Path.Combine(folder, "data");
        await MountTmpfsAsync(data);
        try
        {
            await using var function = await TestUpstream.StartAsync();
            await using (var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), dataDir: folder))
            {
                var filler = await FillAsync(data);
                var big = new string('x', 100 * 1024);
                var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
                {
                    using var response = await gateway.PostAsync("/async-function/echo", i % 2 == 0 ? big : "small");
                    return (response.StatusCode, Reason: Header(response, "X-Gateway-Reason"), RetryAfter: Header(response, "Retry-After"));
                }));

                answers.Should().AllSatisfy(a => a.Should().Be((HttpStatusCode.ServiceUnavailable, "queue_unavailable", "1")));
                Directory.EnumerateFiles(Path.Combine(data, "bodies")).Should().BeEmpty("a refused call leaves no partial body behind");

                File.Delete(filler);
                using var accepted = await gateway.PostAsync("/async-function/echo", big);
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                await gateway.WaitForStateAsync(accepted.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(30), "succeeded");
            }
        }
        finally
        {
            await Commands.RunAsync("umount", ["-l", data]);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Two calls run and two wait (queue_workers=2) when the fault starts; the running ones then
    /// finish, so both their completions and the next claims meet the fault. After it: every call
    /// succeeds, a pair of calls that only succeed together proves both workers are back, and the
    /// gateway is ready again.
    /// </summary>
    private static async Task RunThroughFaultAsync(Func<string, Task<Func<Task>>> startFault, bool tmpfs = false)
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-fault-").FullName;
        var data = Path.Combine(folder, "data");
        if (tmpfs)
        {
            await MountTmpfsAsync(data);
        }

        Func<Task>? endFault = null;
        try
        {
            var worker = new PairedWorker();
            await using var function = await TestUpstream.StartAsync(worker.RespondAsync);
            await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("work", function.Url)), new Dictionary<string, string>
            {
                ["queue_workers"] = Workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["queue_lease"] = "2s",
            }, folder);

            var held = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                using var accepted = await gateway.PostAsync("/async-function/work", "hold");
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                held.Add(accepted.Headers.GetValues("X-Call-Id").Single());
            }

            (await Processes.EventuallyAsync(() => worker.Held == Workers, TimeSpan.FromSeconds(20))).Should().BeTrue("both workers take a call");

            endFault = await startFault(folder);
            worker.Release();
            var said = "";
            (await Processes.EventuallyAsync(async () =>
            {
                using var ready = await gateway.Client.GetAsync("/readyz");
                said = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable && said.Contains("queue unavailable", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(60))).Should().BeTrue($"the queue cannot store calls during the fault, and /readyz says so (it said {said})");

            var end = endFault;
            endFault = null;
            await end();

            foreach (var callId in held)
            {
                await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(60), "succeeded");
            }

            var pair = new List<string>();
            for (var i = 0; i < Workers; i++)
            {
                using var accepted = await gateway.PostAsync("/async-function/work", "pair");
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                pair.Add(accepted.Headers.GetValues("X-Call-Id").Single());
            }

            foreach (var callId in pair)
            {
                var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(40), "succeeded", "failed", "dead");
                status.GetProperty("state").GetString().Should().Be("succeeded", "both workers run again after the fault: {0}", status);
            }

            (await gateway.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        finally
        {
            if (endFault is not null)
            {
                await endFault();
            }

            if (tmpfs)
            {
                await Commands.RunAsync("umount", ["-l", data]);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The function: "hold" waits until <see cref="Release"/>; "pair" answers 200 only when the other
    /// "pair" call runs at the same time (500 after 15 s alone; 500 is not retried).
    /// </summary>
    private sealed class PairedWorker
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<string, int> _arrived = new(StringComparer.Ordinal);
        private int _held;

        public int Held => Volatile.Read(ref _held);

        public void Release() => _released.TrySetResult();

        public async Task RespondAsync(HttpContext context, ReceivedRequest request)
        {
            if (request.Text == "hold")
            {
                Interlocked.Increment(ref _held);
                await _released.Task.WaitAsync(TimeSpan.FromSeconds(90));
                await context.Response.WriteAsync("done");
                return;
            }

            _arrived.AddOrUpdate(request.Text, 1, (_, n) => n + 1);
            var together = await Processes.EventuallyAsync(() => _arrived[request.Text] >= Workers, TimeSpan.FromSeconds(15));
            context.Response.StatusCode = together ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync(together ? "together" : "alone");
        }
    }

    /// <summary>Another process takes SQLite's write lock (BEGIN IMMEDIATE) and keeps it for <paramref name="hold"/>.</summary>
    private static async Task<Process> HoldWriteLockAsync(string database, TimeSpan hold)
    {
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "-c",
            "import sqlite3, sys, time\n"
            + "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            + "c.execute('BEGIN IMMEDIATE')\n"
            + "print('locked', flush=True)\n"
            + "time.sleep(float(sys.argv[2]))\n"
            + "c.execute('COMMIT')\n",
            database,
            hold.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        line.Should().Be("locked");
        return process;
    }

    private static Task MountTmpfsAsync(string path)
    {
        Directory.CreateDirectory(path);
        return Commands.RunAsync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", path]);
    }

    /// <summary>Writes a file until the file system is full; returns its path.</summary>
    private static async Task<string> FillAsync(string folder)
    {
        var path = Path.Combine(folder, "filler");
        var chunk = new byte[64 * 1024];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        try
        {
            for (var i = 0; i < 1024; i++)
            {
                await file.WriteAsync(chunk);
            }
        }
        catch (IOException)
        {
            // Full.
        }

        new DriveInfo(folder).AvailableFreeSpace.Should().BeLessThan(64 * 1024, "the file system is full");
        return path;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
