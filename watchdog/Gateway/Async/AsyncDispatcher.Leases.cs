using Fwatchdog.Gateway.Queue;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>Lease renewal for running calls, and the retention sweep.</summary>
internal sealed partial class AsyncDispatcher
{
    private async Task RenewLoopAsync()
    {
        var period = _options.QueueLease / 3;
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await RenewOnceAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RenewOnceAsync()
    {
        try
        {
            var lost = await _queue.RenewAsync(_running.Keys.ToList(), CancellationToken.None);
            foreach (var callId in lost)
            {
                // Cancelled by DELETE (possibly on another gateway), or taken over: stop our copy.
                CancelRunning(callId);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLoopError(_logger, e.Message);
        }
    }

    private async Task SweepLoopAsync()
    {
        var period = TimeSpan.FromMinutes(1) < _options.AsyncRetention ? TimeSpan.FromMinutes(1) : _options.AsyncRetention;
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await SweepOnceAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SweepOnceAsync()
    {
        try
        {
            var removed = await _queue.SweepAsync(_time.GetUtcNow() - _options.AsyncRetention, CancellationToken.None);
            if (removed > 0)
            {
                LogSwept(_logger, removed);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One failed sweep (disk full, database busy) must not end the sweeping for good.
            LogLoopError(_logger, e.Message);
        }
    }
}
