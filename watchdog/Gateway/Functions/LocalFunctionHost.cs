using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Fwatchdog.Configuration;
using Fwatchdog.Hosting;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// Runs one local function as its own <c>fwatchdog</c> child on a free loopback port, checks its
/// /_/health before routing to it, and starts it again (with back-off, <see cref="Supervisor"/>) when it exits or stops
/// answering. The child's stdin is a pipe from us and it runs with <c>exit_on_stdin_eof</c>, so
/// it exits when the gateway dies, even by SIGKILL.
/// </summary>
internal sealed partial class LocalFunctionHost : IAsyncDisposable
{
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private readonly FunctionDefinition _function;
    private readonly IReadOnlyList<string> _command;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpClient _health = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _supervisor = Task.CompletedTask;
    private volatile int _pid;
    private volatile Uri? _baseUri;
    private DateTimeOffset? _startedAt;

    public LocalFunctionHost(FunctionDefinition function, IReadOnlyList<string> command, ILogger logger, TimeProvider time)
    {
        _function = function;
        _command = command;
        _logger = logger;
        _time = time;
        Log = new FunctionLog(time);
    }

    /// <summary>The recent lines of the function's watchdog, for /system/logs.</summary>
    public FunctionLog Log { get; }

    /// <summary>When the running child was started, or null between runs.</summary>
    public DateTimeOffset? StartedAt => _pid == 0 ? null : _startedAt;

    /// <summary>The healthy child's address, or null while it starts or restarts.</summary>
    public Uri? BaseUri => _baseUri;

    public int Starts { get; private set; }

    /// <summary>The running child's pid, or null between runs.</summary>
    public int? Pid => _pid == 0 ? null : _pid;

    /// <summary>Starts supervising; completes when the function first answers its health check (or after <paramref name="wait"/>).</summary>
    public async Task StartAsync(TimeSpan wait)
    {
        _supervisor = Task.Run(SuperviseAsync);
        await Task.WhenAny(_firstReady.Task, Task.Delay(wait));
    }

    private Task SuperviseAsync() => Supervisor.RunAsync(RunOrReportAsync, Restarting, _stopping.Token);

    /// <summary>One run of the child; a child that could not start is logged and counts as a run that ended.</summary>
    private async Task<bool> RunOrReportAsync(CancellationToken stopping)
    {
        try
        {
            await RunOnceAsync(stopping);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            LogStartFailed(_logger, _function.Name, e.Message);
            return false;
        }
        finally
        {
            _baseUri = null;
        }
    }

    private void Restarting(bool started, TimeSpan delay) => LogRestarting(_logger, _function.Name, DurationParser.Format(delay));

    private async Task RunOnceAsync(CancellationToken stopping)
    {
        var info = new ProcessStartInfo(_command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _function.WorkingDirectory,
        };
        foreach (var arg in _command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        // The child reads its settings from the environment; the gateway's own settings (port,
        // config, ...) must not leak into it, the function's own must.
        foreach (var setting in WatchdogSettings.All.Concat(GatewaySettings.All))
        {
            info.Environment.Remove(setting.Name);
            foreach (var alias in setting.Aliases)
            {
                info.Environment.Remove(alias);
            }
        }

        // The OTEL_* variables the gateway runs with reach the child, which exports its spans to the
        // same place; under the function's name, unless the function names its service itself.
        info.Environment["OTEL_SERVICE_NAME"] = _function.Name;
        foreach (var (name, value) in _function.Environment)
        {
            info.Environment[name] = value;
        }

        info.Environment["fprocess"] = _function.Fprocess;
        info.Environment["port"] = "0";
        info.Environment["bind_address"] = "127.0.0.1";
        info.Environment["metrics_port"] = "0";
        info.Environment["lock_file"] = Path.Combine(Path.GetTempPath(), $"fwatchdog-{Environment.ProcessId}-{_function.Name}.lock"); // one each: local functions never share a lock file
        info.Environment["healthcheck_interval"] = "0";
        info.Environment["exit_on_stdin_eof"] = "true";

        using var process = new Process { StartInfo = info };
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var instance = "";
        process.OutputDataReceived += (_, e) => Relay(e.Data, port, instance);
        process.ErrorDataReceived += (_, e) => Relay(e.Data, port, instance);
        process.Start();
        Starts++;
        _startedAt = _time.GetUtcNow();
        _pid = process.Id;
        instance = process.Id.ToString(CultureInfo.InvariantCulture);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync(CancellationToken.None);
        try
        {
            var first = await Task.WhenAny(port.Task, exited, Task.Delay(TimeSpan.FromSeconds(30), stopping));
            if (first == port.Task)
            {
                var baseUri = new Uri($"http://127.0.0.1:{port.Task.Result.ToString(CultureInfo.InvariantCulture)}/");
                await WatchHealthAsync(baseUri, exited, stopping);
            }
        }
        finally
        {
            _baseUri = null;
            _pid = 0;
            if (!process.HasExited)
            {
                await StopProcessAsync(process, exited);
            }

            LogExited(_logger, _function.Name, process.ExitCode);
        }
    }

    private async Task WatchHealthAsync(Uri baseUri, Task exited, CancellationToken stopping)
    {
        // A child still starting (mode=http: its function's server boots) answers 503 until it is
        // ready; that is patience, not a failure, for up to StartLimit.
        var misses = 0;
        var starting = Stopwatch.StartNew();
        while (!exited.IsCompleted && (misses < 3 || (_baseUri is null && starting.Elapsed < StartLimit)))
        {
            if (await IsHealthyAsync(baseUri, stopping))
            {
                if (_baseUri is null)
                {
                    LogReady(_logger, _function.Name, baseUri.Port);
                }

                _baseUri = baseUri;
                _firstReady.TrySetResult();
                misses = 0;
            }
            else
            {
                misses++;
            }

            await Task.WhenAny(exited, Task.Delay(_baseUri is null ? TimeSpan.FromMilliseconds(100) : HealthInterval, stopping));
            stopping.ThrowIfCancellationRequested();
        }

        if (misses >= 3)
        {
            LogUnhealthy(_logger, _function.Name);
        }
    }

    private async Task<bool> IsHealthyAsync(Uri baseUri, CancellationToken stopping)
    {
        try
        {
            using var response = await _health.GetAsync(new Uri(baseUri, "/_/health"), stopping);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task StopProcessAsync(Process process, Task exited)
    {
        try
        {
            // Closing stdin asks the watchdog to drain and exit (exit_on_stdin_eof).
            process.StandardInput.Close();
            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(10)));
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await exited;
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void Relay(string? line, TaskCompletionSource<int> port, string instance)
    {
        if (line is null)
        {
            return;
        }

        if (!port.Task.IsCompleted && ListeningLine().Match(line) is { Success: true } match)
        {
            port.TrySetResult(int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
        }

        LogChildLine(_logger, _function.Name, line);
        Log.Add(instance, line);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _supervisor;
        _stopping.Dispose();
        _health.Dispose();
    }

    [GeneratedRegex(@"Listening on port (\d+)")]
    private static partial Regex ListeningLine();

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "[{Function}] {Line}")]
    private static partial void LogChildLine(ILogger logger, string function, string line);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Local function {Function} is ready on 127.0.0.1:{Port}")]
    private static partial void LogReady(ILogger logger, string function, int port);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Local function {Function} exited with code {ExitCode}")]
    private static partial void LogExited(ILogger logger, string function, int exitCode);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Local function {Function} restarts in {Delay}")]
    private static partial void LogRestarting(ILogger logger, string function, string delay);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "Local function {Function} could not start: {Error}")]
    private static partial void LogStartFailed(ILogger logger, string function, string error);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Local function {Function} failed three health checks in a row; restarting it")]
    private static partial void LogUnhealthy(ILogger logger, string function);
}
