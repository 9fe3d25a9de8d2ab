using System.Diagnostics;
using System.Text;
using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// Any method on <c>/function/{name}[/{path}]</c>: streams the request to the function's
/// watchdog with the raw sub-path and query, and streams the answer back, both at once
/// (<see cref="Http1Forwarder"/>). Gateway-made errors carry <c>X-Gateway-Reason</c>; a failure
/// after the first byte aborts the connection. Targets whose host a caller's name chose go
/// through <paramref name="checkedForwarder"/>, which refuses addresses a caller may not reach.
/// </summary>
internal sealed partial class FunctionProxy(
    FunctionRegistry registry, Http1Forwarder forwarder, Http1Forwarder checkedForwarder, GatewayMetrics metrics, TimeProvider time, ILogger<FunctionProxy> logger)
{
    public const string Prefix = "/function/";

    public async Task HandleAsync(HttpContext context)
    {
        var callId = CallIds.FromRequest(context.Request);
        var startTime = ProxyHeaders.NowNanoseconds(time);
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        context.Response.Headers[ProxyHeaders.StartTime] = startTime;
        if (await FunctionRoute.ReadAsync(context, Prefix) is not { } addressed)
        {
            return;
        }

        var route = addressed with { Name = registry.Bare(addressed.Name) };
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

        // The gateway's span continues the caller's trace (or starts one); the function's parent is the upstream call's span.
        using var span = Spans.Start(context.Request.Method + " " + Prefix + "{name}", ActivityKind.Server, TraceHeaders.Read(context.Request.Headers));
        span.Tag("faas.invoked_name", target.Name);
        span.Tag("fwatchdog.call_id", callId);
        using var upstreamSpan = Spans.Start(context.Request.Method, ActivityKind.Client, span.Context);
        upstreamSpan.Tag("server.address", target.BaseUri.Authority);
        var clock = Stopwatch.StartNew();
        metrics.Started(target.Name);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(target.Timeout);
        var status = 0;
        try
        {
            var result = await (target.CheckAddress ? checkedForwarder : forwarder).ForwardAsync(context, target.BaseUri, route.PathAndQuery,
                GatewayHeaders(context, callId, startTime, upstreamSpan.Context), deadline.Token);
            status = result.Status;
            var failure = GatewayFailures.FromForwarder(result);
            var detail = result.Detail;
            if (failure != GatewayFailure.None)
            {
                if (context.RequestAborted.IsCancellationRequested)
                {
                    status = 499;
                }
                else
                {
                    if (failure == GatewayFailure.UpstreamTimeout)
                    {
                        detail = $"function {target.Name} did not answer within {Configuration.DurationParser.Format(target.Timeout)}";
                    }

                    LogFailed(logger, context.Request.Method, route.Name, detail, callId);
                    status = GatewayFailures.Describe(failure).Status;

                    // Not resolving and resolving to a refused address get one answer (no DNS oracle); the log has which.
                    await GatewayFailures.WriteAsync(context, failure, failure == GatewayFailure.FunctionNotFound ? FunctionLookup.DoesNotExistText(route.Name) : detail);
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // Headers are gone already: abort so the caller sees a broken response, not a clean
            // short one.
            var timedOut = deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested;
            status = context.RequestAborted.IsCancellationRequested ? 499 : timedOut ? 504 : 502;
            if (status != 499)
            {
                LogFailed(logger, context.Request.Method, route.Name, timedOut ? "deadline passed while streaming the response" : e.Message, callId);
            }

            context.Abort();
        }
        finally
        {
            // Every started call is finished in the metrics, whatever happened.
            metrics.Finished(target.Name, status == 0 ? 500 : status, clock.Elapsed);
            upstreamSpan.Tag("http.response.status_code", status);
            span.Tag("http.response.status_code", status);
            if (status >= 500)
            {
                span.Fail("status " + status);
            }
        }
    }

    /// <summary>X-Call-Id, X-Start-Time, the trace context and the X-Forwarded-* headers, as header lines.</summary>
    private static string GatewayHeaders(HttpContext context, string callId, string startTime, TraceContext trace)
    {
        var lines = new StringBuilder(256)
            .Append(ProxyHeaders.CallId).Append(": ").Append(callId).Append("\r\n")
            .Append(ProxyHeaders.StartTime).Append(": ").Append(startTime).Append("\r\n")
            .Append(trace.HeaderLines());
        return ForwardedHeaders.AppendTo(lines, context).ToString();
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "{Method} /function/{Function} failed: {Detail} (call {CallId})")]
    private static partial void LogFailed(ILogger logger, string method, string function, string detail, string callId);
}
