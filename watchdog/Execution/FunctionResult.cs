namespace Fwatchdog.Execution;

/// <summary>What happened to one run.</summary>
/// <param name="Outcome">How the call ended.</param>
/// <param name="ExitCode">The exit code (128+N when killed by signal N), or null when it never ran.</param>
/// <param name="Message">A sentence for humans: the exit code or signal, or why it could not start.</param>
internal sealed record FunctionResult(FunctionOutcome Outcome, int? ExitCode, string Message)
{
    public bool IsSuccess => Outcome == FunctionOutcome.Succeeded;

    /// <summary>The result of a run that started and ended, stopped for <paramref name="abortReason"/> or not.</summary>
    public static FunctionResult Ended(int exitCode, FunctionOutcome? abortReason)
    {
        if (abortReason is { } reason)
        {
            return new FunctionResult(reason, exitCode, $"the function process {ExitDescription.Describe(exitCode)} after the call was stopped ({reason})");
        }

        return exitCode == 0
            ? new FunctionResult(FunctionOutcome.Succeeded, 0, "exited with code 0")
            : new FunctionResult(FunctionOutcome.Failed, exitCode, $"the function process {ExitDescription.Describe(exitCode)}");
    }
}
