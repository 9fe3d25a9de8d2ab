using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Fwatchdog.Server;

/// <summary>The OpenFaaS watchdog metrics, same names and labels, in a registry of their own.</summary>
internal sealed class WatchdogMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Gauge _inflight;

    public WatchdogMetrics()
    {
        var factory = Metrics.WithCustomRegistry(_registry);
        _requests = factory.CreateCounter("http_requests_total", "Function requests by status code and method.", "code", "method");
        _duration = factory.CreateHistogram("http_request_duration_seconds", "Seconds spent serving function requests.",
            new HistogramConfiguration { LabelNames = ["code", "method"], Buckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });
        _inflight = factory.CreateGauge("http_requests_in_flight", "Function requests being served now.");
    }

    public void Started() => _inflight.Inc();

    public void Finished(int status, string method, TimeSpan duration)
    {
        _inflight.Dec();
        var code = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var label = MethodLabel(method);
        _requests.WithLabels(code, label).Inc();
        _duration.WithLabels(code, label).Observe(duration.TotalSeconds);
    }

    public async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
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
