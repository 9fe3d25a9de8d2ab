using System.Diagnostics;
using Fwatchdog.Configuration;
using Fwatchdog.Execution;
using Fwatchdog.Hosting;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// mode=http: runs <c>fprocess</c> once, through the same runner as every other child (its own
/// process group, SIGTERM then SIGKILL after <c>kill_grace</c>), relays its stdout and stderr line
/// by line, and knows when it is ready. When it exits it is started again with back-off
/// (<see cref="Supervisor"/>), where the of-watchdog exits and leaves the restart to the container runtime.
/// </summary>
internal sealed partial class UpstreamProcess(WatchdogOptions options, IFunctionRunner runner, UpstreamProbe probe, ILogger<UpstreamProcess> logger) : IAsyncDisposable
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource _stopping = new();
    private Task _supervisor = Task.CompletedTask;
    private volatile bool _ready;
    private volatile bool _serving;
    private volatile string _state = "starting";

    /// <summary>True while the process runs and passes its readiness check (health and ready follow this).</summary>
    public bool IsReady => _ready;

    /// <summary>True while the process runs and has passed its first readiness check (calls go through).</summary>
    public bool IsServing => _serving;

    /// <summary>Why it is not ready, for 503 bodies: "starting", "exited with code 3; restarting in 1s", ...</summary>
    public string State => _state;

    /// <summary>How many times the process was started.</summary>
    public int Starts { get; private set; }

    public void Start() => _supervisor = Task.Run(SuperviseAsync);

    private Task SuperviseAsync() => Supervisor.RunAsync(async _ => await RunOnceAsync(), Restarting, _stopping.Token);

    private void Restarting(FunctionResult exit, TimeSpan delay)
    {
        _state = $"{exit.Message}; restarting in {DurationParser.Format(delay)}";
        LogExited(logger, exit.Message, DurationParser.Format(delay));
    }

    private async Task<FunctionResult> RunOnceAsync()
    {
        using var abort = new CallAbort();
        using var onStop = _stopping.Token.Register(() => abort.Trigger(FunctionOutcome.ShuttingDown));
        using var probing = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        Starts++;
        _state = "starting";
        LogStarting(logger, options.FunctionProcess, Starts);
        var run = runner.RunAsync(new FunctionRequest
        {
            Command = options.Command,
            Environment = new Dictionary<string, string>(),

            // stdin stays open and silent for the life of the process, as with the of-watchdog.
            WriteInput = static (_, token) => Task.Delay(Timeout.Infinite, token),
            ReadOutput = new UpstreamLogRelay(logger, "stdout", options.PrefixLogs).PumpAsync,
            ReadError = new UpstreamLogRelay(logger, "stderr", options.PrefixLogs).PumpAsync,
            Abort = abort,
            KillGrace = options.KillGrace,
        });
        var ready = WaitUntilReadyAsync(probing.Token);
        var result = await run;
        _ready = _serving = false;
        await probing.CancelAsync();
        await ready;
        return result;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            var clock = Stopwatch.StartNew();
            while (!await probe.IsReadyAsync(cancellationToken))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(clock.Elapsed < TimeSpan.FromSeconds(5) ? 50 : 500), cancellationToken);
            }

            _ready = _serving = true;
            _state = "ready";
            LogReady(logger, probe.Describe(), clock.Elapsed.TotalSeconds);
            if (options.ReadyPath is null)
            {
                return;
            }

            // With ready_path, readiness follows the function for its whole life (the of-watchdog
            // asks it on every /_/ready), without restarting it: that stays its own decision.
            while (true)
            {
                await Task.Delay(RecheckInterval, cancellationToken);
                var ready = await probe.IsReadyAsync(cancellationToken);
                if (ready != _ready)
                {
                    _state = ready ? "ready" : $"GET {options.ReadyPath} no longer answers 2xx";
                    _ready = ready;
                    LogReadiness(logger, _state);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The process exited (or we stop) before it became ready.
        }
    }

    /// <summary>SIGTERM to the process group, SIGKILL after kill_grace; returns when it is gone.</summary>
    public async Task StopAsync()
    {
        _ready = _serving = false;
        await _stopping.CancelAsync();
        await _supervisor;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "mode=http: starting fprocess=\"{Fprocess}\" (start {Starts})")]
    private static partial void LogStarting(ILogger logger, string fprocess, int starts);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "mode=http: upstream ready ({Check}) after {Seconds:F3}s")]
    private static partial void LogReady(ILogger logger, string check, double seconds);

    [LoggerMessage(EventId = 504, Level = LogLevel.Warning, Message = "mode=http: readiness changed: {State}")]
    private static partial void LogReadiness(ILogger logger, string state);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "mode=http: {Exit}; restarting in {Delay}")]
    private static partial void LogExited(ILogger logger, string exit, string delay);
}
