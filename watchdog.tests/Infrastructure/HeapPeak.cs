namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Samples the managed heap every 20 ms from a full collection onwards, for the specs that
/// promise constant memory whatever the body size. <see cref="StopAsync"/> returns the growth of
/// the peak over the starting point.
/// </summary>
internal sealed class HeapPeak : IDisposable
{
    private readonly CancellationTokenSource _sampling = new();
    private readonly long _before;
    private readonly Task _sampler;
    private long _peak;

    private HeapPeak()
    {
        GC.Collect();
        _before = GC.GetTotalMemory(true);
        _peak = _before;
        _sampler = Task.Run(async () =>
        {
            while (!_sampling.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _peak, Math.Max(Interlocked.Read(ref _peak), GC.GetTotalMemory(false)));
                await Task.Delay(20);
            }
        });
    }

    public static HeapPeak Start() => new();

    /// <summary>Stops sampling; the highest heap size seen minus the size at the start.</summary>
    public async Task<long> StopAsync()
    {
        await _sampling.CancelAsync();
        await _sampler;
        return Interlocked.Read(ref _peak) - _before;
    }

    public void Dispose() => _sampling.Dispose();
}
