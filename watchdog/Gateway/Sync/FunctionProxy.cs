using Fwatchdog.Gateway.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// Any method on <c>/function/{name}[/{path}]</c>: streams the request to the function's
/// watchdog with the raw sub-path and query, and streams the answer back. Gateway-made errors
/// carry <c>X-Gateway-Reason</c>; a failure after the first byte aborts the connection.
/// </summary>
internal sealed partial class FunctionProxy(FunctionRegistry registry, FunctionClient client, TimeProvider time, ILogger<FunctionProxy> logger)
{
    public const string Prefix = "/function/";

    public async Task HandleAsync(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var callId = CallIds.FromRequest(context.Request);
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        var startTime = ProxyHeaders.NowNanoseconds(time);
        context.Response.Headers[ProxyHeaders.StartTime] = startTime;
        if (!FunctionRoute.TryParse(rawTarget, Prefix, out var route))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route");
            return;
        }

        var lookup = registry.Resolve(route.Name);
        if (lookup.Target is not { } target)
        {
            if (lookup.Failure == GatewayFailure.FunctionNotReady)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await GatewayFailures.WriteAsync(context, lookup.Failure, lookup.Detail);
            return;
        }

        using var request = BuildRequest(context, target, route, callId, startTime);
        using var call = await client.SendAsync(target, request, context.RequestAborted);
        if (call.Response is not { } response)
        {
            LogFailed(logger, context.Request.Method, route.Name, call.Detail, callId);
            call.Report(call.Failure == GatewayFailure.ClientGone ? 499 : GatewayFailures.Describe(call.Failure).Status);
            if (call.Failure != GatewayFailure.ClientGone)
            {
                await GatewayFailures.WriteAsync(context, call.Failure, call.Detail);
            }

            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;
        ProxyHeaders.CopyResponse(response, context.Response);
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        context.Response.Headers[ProxyHeaders.StartTime] = startTime;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(call.Token);
            await body.CopyToAsync(context.Response.Body, call.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
            // Headers are gone already: abort so the caller sees a broken response, not a clean
            // short one (house style 8).
            LogFailed(logger, context.Request.Method, route.Name, call.TimedOut ? "deadline passed while streaming the response" : e.Message, callId);
            call.Report(call.TimedOut ? 504 : 502);
            context.Abort();
        }
    }

    private static HttpRequestMessage BuildRequest(HttpContext context, FunctionTarget target, FunctionRoute route, string callId, string startTime)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(HttpMethod.Parse(incoming.Method), UpstreamUri.Create(target.BaseUri, route.PathAndQuery));
        if (HasBody(context))
        {
            request.Content = new StreamContent(incoming.Body);
        }
        else if (incoming.ContentLength == 0 && !HttpMethods.IsGet(incoming.Method) && !HttpMethods.IsHead(incoming.Method))
        {
            request.Content = new ByteArrayContent([]);
        }

        var connection = incoming.Headers.Connection;
        foreach (var (name, values) in incoming.Headers)
        {
            if (!ProxyHeaders.IsHopByHop(name, connection) && !string.Equals(name, ProxyHeaders.CallId, StringComparison.OrdinalIgnoreCase))
            {
                ProxyHeaders.Add(request, name, values);
            }
        }

        request.Headers.TryAddWithoutValidation(ProxyHeaders.CallId, callId);
        request.Headers.TryAddWithoutValidation(ProxyHeaders.StartTime, startTime);
        var client = context.Connection.RemoteIpAddress?.ToString();
        if (client is not null)
        {
            var forwarded = incoming.Headers["X-Forwarded-For"].ToString();
            request.Headers.Remove("X-Forwarded-For");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwarded.Length == 0 ? client : forwarded + ", " + client);
        }

        if (!incoming.Headers.ContainsKey("X-Forwarded-Host") && incoming.Host.HasValue)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.Value);
        }

        if (!incoming.Headers.ContainsKey("X-Forwarded-Proto"))
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        }

        return request;
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "{Method} /function/{Function} failed: {Detail} (call {CallId})")]
    private static partial void LogFailed(ILogger logger, string method, string function, string detail, string callId);
}
