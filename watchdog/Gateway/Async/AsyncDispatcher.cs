using System.Collections.Concurrent;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// The async workers of this gateway: claims due jobs while there are free slots (queue_workers
/// overall, a function's max_concurrency each), renews the leases of running ones every third of
/// queue_lease, delivers pending callbacks, and sweeps old jobs. On shutdown it stops claiming,
/// lets running calls finish for shutdown_timeout, then releases the rest to the queue.
/// </summary>
internal sealed partial class AsyncDispatcher : ISlotBook, IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly IJobQueue _queue;
    private readonly FunctionRegistry _registry;
    private readonly JobRunner _runner;
    private readonly CallbackSender _callbacks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, RunningJob> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, bool> _tasks = new();
    private readonly Dictionary<string, int> _perFunction = new(StringComparer.Ordinal);
    private readonly Lock _slots = new();
    private int _inUse;
    private int _callbacksInFlight;
    private Task _loops = Task.CompletedTask;

    public AsyncDispatcher(GatewayOptions options, IJobQueue queue, FunctionRegistry registry, JobRunner runner, CallbackSender callbacks, TimeProvider time, ILogger<AsyncDispatcher> logger)
    {
        _options = options;
        _queue = queue;
        _registry = registry;
        _runner = runner;
        _callbacks = callbacks;
        _time = time;
        _logger = logger;
    }

    public int Running => _running.Count;

    /// <summary>The function's calls this gateway runs now (another gateway's are not counted).</summary>
    public int RunningFor(string function)
    {
        lock (_slots)
        {
            return _perFunction.GetValueOrDefault(function);
        }
    }

    public void Start() => _loops = Task.WhenAll(Task.Run(ClaimLoopAsync), Task.Run(RenewLoopAsync), Task.Run(SweepLoopAsync));

    /// <summary>A job was stored: look for work now instead of at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    /// <summary>Stops the call if this gateway runs it (its watchdog then kills the process).</summary>
    public bool CancelRunning(string callId)
    {
        if (_running.TryGetValue(callId, out var job))
        {
            job.Cancel(release: false);
            return true;
        }

        return false;
    }

    public bool TryTake(string function)
    {
        var limit = _registry.Resolve(function).Target?.MaxConcurrency ?? _options.QueueWorkers;
        lock (_slots)
        {
            var current = _perFunction.GetValueOrDefault(function);
            if (_inUse >= _options.QueueWorkers || current >= limit)
            {
                return false;
            }

            _perFunction[function] = current + 1;
            _inUse++;
            return true;
        }
    }

    public void Give(string function)
    {
        lock (_slots)
        {
            _perFunction[function] = _perFunction.GetValueOrDefault(function) - 1;
            _inUse--;
        }
    }

    private async Task ClaimLoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            var found = 0;
            try
            {
                int free;
                lock (_slots)
                {
                    free = _options.QueueWorkers - _inUse;
                }

                if (free > 0)
                {
                    foreach (var job in await _queue.ClaimAsync(free, this, stopping))
                    {
                        found++;
                        Track(RunAsync(job));
                    }
                }

                var callbackRoom = _options.QueueWorkers - Volatile.Read(ref _callbacksInFlight);
                if (callbackRoom > 0)
                {
                    foreach (var work in await _queue.ClaimCallbacksAsync(callbackRoom, stopping))
                    {
                        found++;
                        Interlocked.Increment(ref _callbacksInFlight);
                        Track(DeliverAsync(work));
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever the fault (database locked or full, NATS gone, a bad row), the loop lives
                // on and claims again once it is gone.
                LogLoopError(_logger, e.Message);
            }

            if (found == 0)
            {
                try
                {
                    await _wake.WaitAsync(TimeSpan.FromMilliseconds(200), stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunAsync(ClaimedJob job)
    {
        using var running = new RunningJob();
        _running[job.Request.CallId] = running;
        try
        {
            await _runner.RunAsync(job, running);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Its outcome could not be recorded (queue down, disk full): give the call back so that it
            // runs again, rather than hold it (NATS: renewed for good) or wait for the lease.
            LogJobError(_logger, job.Request.CallId, e.Message);
            await TryReleaseAsync(job.Request.CallId);
        }
        finally
        {
            _running.TryRemove(job.Request.CallId, out _);
            Give(job.Request.Function);

            // A slot is free: claim the next due job now rather than at the next poll.
            Wake();
        }
    }

    private async Task TryReleaseAsync(string callId)
    {
        try
        {
            await _queue.ReleaseAsync(callId, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Still failing: the lease (SQLite) or the ack wait (NATS) brings the call back.
            LogJobError(_logger, callId, e.Message);
        }
    }

    private async Task DeliverAsync(CallbackWork work)
    {
        try
        {
            await _callbacks.DeliverAsync(work);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogJobError(_logger, work.CallId, e.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _callbacksInFlight);
            Wake();
        }
    }

    private void Track(Task task)
    {
        _tasks[task] = true;
        _ = task.ContinueWith(t => _tasks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stops claiming; running calls get <paramref name="grace"/> to finish, then are released to the queue.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _loops;
        var pending = _tasks.Keys.ToList();
        LogStopping(_logger, _running.Count);
        await Task.WhenAny(Task.WhenAll(pending), Task.Delay(grace));
        foreach (var job in _running.Values)
        {
            job.Cancel(release: true);
        }

        await Task.WhenAll(_tasks.Keys.ToList());
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero);
        _stopping.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Error, Message = "Async dispatcher: {Error}")]
    private static partial void LogLoopError(ILogger logger, string error);

    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "Async call {CallId} failed inside the gateway: {Error}")]
    private static partial void LogJobError(ILogger logger, string callId, string error);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Removed {Count} finished async calls past async_retention")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "Async workers stopping; {Running} calls still running")]
    private static partial void LogStopping(ILogger logger, int running);
}
