using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>The real fwatchdog executable in a child process, for exit codes, signals and PID 1.</summary>
internal sealed partial class WatchdogProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WatchdogProcess(Process process)
    {
        _process = process;
    }

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "fwatchdog.dll");

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public Uri Url => new($"http://127.0.0.1:{_port.Task.Result}");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet fwatchdog.dll args</c> (or under <paramref name="wrapper"/>) with only <paramref name="environment"/> added.</summary>
    /// <param name="binary">A published fwatchdog binary to run instead of <c>dotnet fwatchdog.dll</c>.</param>
    /// <param name="cleanEnvironment">Start from an empty environment, as a container image would.</param>
    public static WatchdogProcess Start(
        IReadOnlyDictionary<string, string> environment,
        IEnumerable<string>? args = null,
        IEnumerable<string>? wrapper = null,
        string? workingDirectory = null,
        string? binary = null,
        bool cleanEnvironment = false)
    {
        var command = (wrapper ?? []).Concat(binary is null ? ["dotnet", Executable] : [binary]).Concat(args ?? []).ToList();
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (cleanEnvironment)
        {
            info.Environment.Clear();
        }

        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "fprocess", "port", "metrics_port", "bind_address", "suppress_lock" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var started = new WatchdogProcess(process);
        process.OutputDataReceived += (_, e) => started.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => started.Collect(e.Data);
        process.Start();
        StartedProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Runs to completion and returns the exit code and everything printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = Start(environment, args);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, process.Output);
    }

    public async Task WaitUntilListeningAsync()
    {
        var finished = await Task.WhenAny(_port.Task, Task.Delay(TimeSpan.FromSeconds(20)));
        finished.Should().Be(_port.Task, $"the watchdog should start listening; it printed:\n{Output}");
    }

    public async Task WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public void Signal(int signal) => Fwatchdog.Native.Libc.Kill(_process.Id, signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        // A gateway relays its local functions' logs ("Fwatchdog.Gateway.Function[300] [name] ...
        // Listening on port N"): only its own line counts.
        if (!line.Contains("Fwatchdog.Gateway.Function[", StringComparison.Ordinal) && ListeningLine().Match(line) is { Success: true } match)
        {
            _port.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"Listening on port (\d+)")]
    private static partial Regex ListeningLine();
}
