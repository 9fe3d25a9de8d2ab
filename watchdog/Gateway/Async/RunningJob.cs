namespace Fwatchdog.Gateway.Async;

/// <summary>A call in progress on this gateway, and how it may be stopped: cancelled for good, or released at shutdown.</summary>
internal sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    public CancellationToken Token => _cancel.Token;

    /// <summary>True when it was stopped because the gateway is shutting down: give it back, do not record an attempt.</summary>
    public bool Releasing { get; private set; }

    public void Cancel(bool release)
    {
        Releasing |= release;
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _cancel.Dispose();
}
