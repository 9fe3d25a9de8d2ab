using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server;

/// <summary>
/// <c>/_/health</c> (liveness, classic) and <c>/_/ready</c> (of-watchdog): 200 "OK" while serving,
/// 503 while draining after SIGTERM; ready also answers 429 while max_inflight is reached.
/// </summary>
internal sealed class HealthEndpoints(HealthState health, LockFile lockFile, InflightLimiter limiter)
{
    public const string HealthPath = "/_/health";
    public const string ReadyPath = "/_/ready";

    public Task HandleAsync(HttpContext context, bool ready)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }

        response.ContentType = "text/plain; charset=utf-8";
        if (health.Draining || !lockFile.IsHealthy)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return response.WriteAsync("draining\n");
        }

        if (ready && limiter.IsFull)
        {
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            return response.WriteAsync("busy\n");
        }

        return response.WriteAsync("OK");
    }
}
