using System.Globalization;
using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>
/// The OpenFaaS gateway metrics (same names and labels) plus queue depth and job states, in a
/// registry of their own, served on metrics_port.
/// </summary>
internal sealed class GatewayMetrics
{
    private readonly MetricsRegistry _registry = new();
    private readonly Counter _invocations;
    private readonly Counter _started;
    private readonly Histogram _seconds;
    private readonly Counter _jobs;
    private readonly Gauge _queue;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Counter.Series> _startedByFunction = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Function, int Status), (Counter.Series, Histogram.Series)> _finished = new();

    public GatewayMetrics()
    {
        _invocations = _registry.Counter("gateway_function_invocation_total", "Completed function calls by function and status code.", "function_name", "code");
        _started = _registry.Counter("gateway_function_invocation_started", "Function calls started.", "function_name");
        _seconds = _registry.Histogram("gateway_functions_seconds", "Seconds spent in function calls.", MetricsRegistry.DefaultBuckets, "function_name", "code");
        _jobs = _registry.Counter("gateway_async_jobs_total", "Async jobs that reached a state (accepted, succeeded, failed, dead, cancelled, retried).", "function_name", "state");
        _queue = _registry.Gauge("gateway_async_queue_depth", "Async jobs in the queue by state (queued, running).", "state");
    }

    /// <summary>Called before each scrape to refresh the queue gauges.</summary>
    public Func<CancellationToken, Task<IReadOnlyDictionary<string, long>>>? QueueDepth { get; set; }

    public void Started(string function) => _startedByFunction.GetOrAdd(function, f => _started.WithLabels(f)).Inc();

    public void Finished(string function, int status, TimeSpan elapsed)
    {
        // Label lookups cost more than the increments; each (function, code) pair is looked up once.
        var (invocations, seconds) = _finished.GetOrAdd((function, status), key =>
        {
            var code = key.Status.ToString(CultureInfo.InvariantCulture);
            return (_invocations.WithLabels(key.Function, code), _seconds.WithLabels(key.Function, code));
        });
        invocations.Inc();
        seconds.Observe(elapsed.TotalSeconds);
        _counts.AddOrUpdate(function, 1, (_, n) => n + 1);
        if (status >= 500)
        {
            _errors.AddOrUpdate(function, 1, (_, n) => n + 1);
        }
    }

    public void Job(string function, string state) => _jobs.WithLabels(function, state).Inc();

    /// <summary>Completed calls per function since start (for /system/functions).</summary>
    public long Invocations(string function) => _counts.GetValueOrDefault(function);

    /// <summary>Completed calls per function since start that ended 500 or above: the function failed, or could not be reached (for the console).</summary>
    public long Errors(string function) => _errors.GetValueOrDefault(function);

    public async Task WriteAsync(HttpContext context)
    {
        if (QueueDepth is { } depth)
        {
            try
            {
                foreach (var (state, count) in await depth(context.RequestAborted))
                {
                    _queue.WithLabels(state).Set(count);
                }
            }
            catch (Queue.QueueUnavailableException)
            {
                // The queue is down: the other metrics still matter, the gauges keep their last values.
            }
        }

        context.Response.ContentType = MetricsRegistry.ContentType;
        await _registry.WriteAsync(context.Response.Body, context.RequestAborted);
    }
}
