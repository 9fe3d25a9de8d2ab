namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A real nats-server (the Debian package) with JetStream on a loopback port (<see cref="Ports.Unshared"/>, so a restart finds it free) and a temp
/// store folder; stopped and deleted after. <see cref="RestartAsync"/> stops it and starts it
/// again on the same port and store, as an outage would.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    internal const string Guard = "\"$@\" & server=$!; cat >/dev/null; kill -KILL $server 2>/dev/null; wait $server";
    private readonly string _store = Directory.CreateTempSubdirectory("fwatchdog-nats-").FullName;
    private Process? _process;

    private readonly IReadOnlyList<string> _extra;

    public NatsServer()
        : this([])
    {
    }

    /// <param name="extra">More nats-server arguments (a cluster node's name, cluster address and routes).</param>
    internal NatsServer(IReadOnlyList<string> extra)
    {
        _extra = extra;
        Port = Ports.Unshared();
        Start();
    }

    public bool IsRunning => _process is not null;

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>Gateway settings for queue=nats with names no other test uses.</summary>
    public Dictionary<string, string> Settings()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return new Dictionary<string, string>
        {
            ["queue"] = "nats",
            ["nats_url"] = Url,
            ["nats_stream"] = "JOBS_" + id,
            ["nats_subject"] = "jobs" + id,
            ["nats_consumer"] = "workers_" + id,
            ["nats_bucket"] = "calls_" + id,
        };
    }

    /// <summary>SIGKILL: an outage, not a clean stop.</summary>
    public void Stop()
    {
        if (_process is { } process)
        {
            // Closing the guard's stdin makes it SIGKILL nats-server (an outage, not a clean stop) and wait for it.
            process.StandardInput.Close();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }

            process.Dispose();
        }

        _process = null;
    }

    public async Task RestartAsync(TimeSpan downFor)
    {
        Stop();
        await Task.Delay(downFor);
        Start();
    }

    /// <summary>Starts it again on the same port and store (after <see cref="Stop"/>).</summary>
    public void Start()
    {
        // nats-server runs under a guard that holds a pipe from this test host: when the host goes
        // away by any path (a spec that timed out, a crash, SIGKILL), the pipe closes and the guard
        // kills nats-server, so no run leaves one behind.
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-c", Guard, "nats-guard", Executable(), "-js", "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", _store }.Concat(_extra))
        {
            info.ArgumentList.Add(arg);
        }

        // Not in StartedProcesses: its exit hook kills a tree by SIGSTOP first, then SIGKILL, process by
        // process, and a test host cut short between the two left nats-server stopped and orphaned
        // (seen after a full run). The guard alone ends nats-server whichever way the host exits.
        _process = Process.Start(info) ?? throw new InvalidOperationException("bash did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var tcp = new TcpClient();
                tcp.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        Stop();
        throw new InvalidOperationException($"nats-server did not listen on {Port} within 15 s");
    }

    /// <summary>The nats-server on PATH, or one line saying how to install it.</summary>
    internal static string Executable(string? path = null) =>
        (path ?? Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "nats-server"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("nats-server is not installed: run the README's test command (bash .ci/test), or apt-get install -y nats-server");

    public ValueTask DisposeAsync()
    {
        Stop();
        Directory.Delete(_store, recursive: true);
        return ValueTask.CompletedTask;
    }
}
