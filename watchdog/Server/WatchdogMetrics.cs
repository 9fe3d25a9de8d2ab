using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server;

/// <summary>The OpenFaaS watchdog metrics, same names and labels, in a registry of their own.</summary>
internal sealed class WatchdogMetrics
{
    private readonly MetricsRegistry _registry = new();
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Gauge _inflight;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Status, string Method), (Counter.Series, Histogram.Series)> _finished = new();

    public WatchdogMetrics()
    {
        _requests = _registry.Counter("http_requests_total", "Function requests by status code and method.", "code", "method");
        _duration = _registry.Histogram("http_request_duration_seconds", "Seconds spent serving function requests.", MetricsRegistry.DefaultBuckets, "code", "method");
        _inflight = _registry.Gauge("http_requests_in_flight", "Function requests being served now.");
    }

    public void Started() => _inflight.Inc();

    public void Finished(int status, string method, TimeSpan duration)
    {
        _inflight.Dec();

        // Each (status, method) pair is looked up by its labels once; MethodLabel keeps the methods few.
        var (requests, seconds) = _finished.GetOrAdd((status, MethodLabel(method)), key =>
        {
            var code = key.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (_requests.WithLabels(code, key.Method), _duration.WithLabels(code, key.Method));
        });
        requests.Inc();
        seconds.Observe(duration.TotalSeconds);
    }

    public async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = MetricsRegistry.ContentType;
        await _registry.WriteAsync(context.Response.Body, context.RequestAborted);
    }

    private static string MethodLabel(string method) => method switch
    {
        "GET" => "get",
        "POST" => "post",
        "PUT" => "put",
        "PATCH" => "patch",
        "DELETE" => "delete",
        "HEAD" => "head",
        "OPTIONS" => "options",
        "CONNECT" => "connect",
        "TRACE" => "trace",
        _ => "unknown",
    };
}
