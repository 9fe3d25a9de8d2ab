using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// mode=http: <c>/_/health</c> and <c>/_/ready</c> answer 503 (reason <c>upstream-not-ready</c>)
/// until the function's server is ready, and again while it restarts; otherwise as in every mode.
/// </summary>
internal sealed class UpstreamHealth(UpstreamProcess upstream, HealthEndpoints endpoints, HealthState health)
{
    public Task HandleAsync(HttpContext context, bool ready)
    {
        var method = context.Request.Method;
        if (upstream.IsReady || health.Draining || !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method)))
        {
            return endpoints.HandleAsync(context, ready);
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers[WatchdogHeaders.Reason] = "upstream-not-ready";
        return context.Response.WriteAsync($"the function's server is not ready: {upstream.State}\n");
    }
}
