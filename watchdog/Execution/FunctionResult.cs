namespace Fwatchdog.Execution;

/// <summary>What happened to one run.</summary>
/// <param name="Outcome">How the call ended.</param>
/// <param name="ExitCode">The exit code (128+N when killed by signal N), or null when it never ran.</param>
/// <param name="Message">A sentence for humans: the exit code or signal, or why it could not start.</param>
internal sealed record FunctionResult(FunctionOutcome Outcome, int? ExitCode, string Message)
{
    public bool IsSuccess => Outcome == FunctionOutcome.Succeeded;
}
