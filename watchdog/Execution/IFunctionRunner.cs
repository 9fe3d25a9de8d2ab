namespace Fwatchdog.Execution;

/// <summary>
/// The one seam that starts and stops child processes. Implementations put each run in its own
/// process group, stop the whole group on abort (SIGTERM, grace, SIGKILL) and after the main
/// process exits, and never throw for a failed run: they return a <see cref="FunctionResult"/>.
/// </summary>
internal interface IFunctionRunner
{
    Task<FunctionResult> RunAsync(FunctionRequest request);

    /// <summary>Stops every run still going (used at the end of shutdown).</summary>
    void KillAll();
}
