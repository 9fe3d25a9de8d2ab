using System.Diagnostics;
using System.Net.Sockets;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A real nats-server (the Debian package) with JetStream on a free loopback port and a temp
/// store folder; stopped and deleted after. <see cref="RestartAsync"/> stops it and starts it
/// again on the same port and store, as an outage would.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly string _store = Directory.CreateTempSubdirectory("fwatchdog-nats-").FullName;
    private Process? _process;

    public NatsServer()
    {
        Port = TestWatchdog.FreePort();
        Start();
    }

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

    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task RestartAsync(TimeSpan downFor)
    {
        Stop();
        await Task.Delay(downFor);
        Start();
    }

    private void Start()
    {
        var info = new ProcessStartInfo("nats-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-js", "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", _store })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("nats-server did not start; install it with apt-get install -y nats-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
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

        throw new InvalidOperationException($"nats-server did not listen on {Port}");
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        Directory.Delete(_store, recursive: true);
        return ValueTask.CompletedTask;
    }
}
