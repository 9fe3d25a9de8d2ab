namespace Fwatchdog.Execution;

/// <summary>
/// Stops one call for a known reason. The first reason wins, so the HTTP layer can tell which
/// deadline fired (exec -> 504, read -> 408, client gone -> no response) and not guess.
/// </summary>
internal sealed class CallAbort : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private int _reason = -1;

    public CancellationToken Token => _cts.Token;

    public FunctionOutcome? Reason => _reason < 0 ? null : (FunctionOutcome)_reason;

    public bool IsAborted => _reason >= 0;

    public void Trigger(FunctionOutcome reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) == -1)
        {
            _cts.Cancel();
        }
    }

    public void Dispose() => _cts.Dispose();
}
