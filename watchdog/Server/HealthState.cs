namespace Fwatchdog.Server;

/// <summary>Serving or draining, plus the token that stops calls still running when the drain ends.</summary>
internal sealed class HealthState : IDisposable
{
    private readonly CancellationTokenSource _stopCalls = new();
    private volatile bool _draining;

    public bool Draining => _draining;

    public CancellationToken CallsStopping => _stopCalls.Token;

    public void StartDraining() => _draining = true;

    public void StopCalls() => _stopCalls.Cancel();

    public void Dispose() => _stopCalls.Dispose();
}
