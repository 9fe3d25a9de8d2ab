using System.ComponentModel;
using CliWrap;
using Fwatchdog.Native;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Execution;

/// <summary>
/// Runs the function through CliWrap. Each run is started under <c>setsid</c> so that it leads a
/// new process group: a timeout, a client disconnect or the end of the run can then signal every
/// process it started, grandchildren that were re-parented included (the classic watchdog only
/// kills the direct child: of-watchdog #138, faas #100).
/// </summary>
internal sealed partial class CliWrapFunctionRunner : IFunctionRunner
{
    private readonly ILogger _logger;
    private readonly ProcessTable _table;
    private readonly string? _setsid;

    public CliWrapFunctionRunner(ILogger<CliWrapFunctionRunner> logger, ProcessTable table)
    {
        _logger = logger;
        _table = table;
        if (ExecutableResolver.TryResolve("setsid", out var setsid, out _))
        {
            _setsid = setsid;
        }
        else
        {
            LogNoSetsid(_logger);
        }
    }

    public void KillAll() => _table.KillAll();

    public async Task<FunctionResult> RunAsync(FunctionRequest request)
    {
        if (!ExecutableResolver.TryResolve(request.Command[0], out var program, out var error))
        {
            return new FunctionResult(FunctionOutcome.StartFailed, null, $"the function process could not be started: {error}");
        }

        var command = CliWrap.Cli.Wrap(_setsid ?? program)
            .WithArguments(_setsid is null ? request.Command.Skip(1) : ["--", program, .. request.Command.Skip(1)])
            .WithEnvironmentVariables(request.Environment.ToDictionary(pair => pair.Key, string? (pair) => pair.Value))
            .WithValidation(CommandResultValidation.None)
            .WithStandardInputPipe(PipeSource.Create(request.WriteInput))
            .WithStandardOutputPipe(PipeTarget.Create(request.ReadOutput))
            .WithStandardErrorPipe(PipeTarget.Create(request.ReadError));

        using var forceful = new CancellationTokenSource();
        var mainExited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holders = PipeHolders.None;
        CommandTask<CommandResult> task;
        try
        {
            task = command.ExecuteAsync(
                null,
                process =>
                {
                    holders = PipeHolders.Of(process.Id, 0, 1, 2); // best effort: a process that already exited shows no pipes
                    process.Exited += (_, _) => mainExited.TrySetResult();
                    if (process.HasExited)
                    {
                        mainExited.TrySetResult();
                    }
                },
                forceful.Token);
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            return new FunctionResult(FunctionOutcome.StartFailed, null, $"the function process could not be started: {ex.GetBaseException().Message}");
        }

        var pid = task.ProcessId;
        _table.Add(pid);
        var group = new ProcessGroup(pid, _setsid is not null, request.KillGrace, task, forceful, holders, _logger);
        using var execTimer = request.ExecTimeout > TimeSpan.Zero ? new CancellationTokenSource(request.ExecTimeout) : null;
        using var onExecTimeout = execTimer?.Token.Register(() => request.Abort.Trigger(FunctionOutcome.TimedOut));
        using var onAbort = request.Abort.Token.Register(() => group.Stop());

        // Background processes must not outlive the call or hold its stdout open: once the main
        // process is gone, what is left of its group is stopped the same way.
        _ = mainExited.Task.ContinueWith(_ => group.Stop(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

        int exitCode;
        try
        {
            exitCode = (await task).ExitCode;
        }
        catch (OperationCanceledException)
        {
            exitCode = 128 + Libc.SIGKILL;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or TimeoutException)
        {
            LogPipeFailure(_logger, pid, ex);
            exitCode = -1;
        }
        finally
        {
            Libc.SignalGroup(pid, Libc.SIGKILL);
            _table.Remove(pid);
        }

        return FunctionResult.Ended(exitCode, request.Abort.Reason);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "setsid was not found on PATH: only the direct child of a call can be stopped, not its grandchildren")]
    private static partial void LogNoSetsid(ILogger logger);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Piping for process {Pid} failed")]
    private static partial void LogPipeFailure(ILogger logger, int pid, Exception exception);
}
