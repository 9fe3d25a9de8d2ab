using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Fwatchdog.Configuration;
using Fwatchdog.Forwarding;
using Fwatchdog.Hosting;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// mode=http: every method and path goes to the function's own server (<see cref="UpstreamProxy"/>).
/// <c>max_inflight</c> answers 429, <c>exec_timeout</c> 504 (only this request is cancelled, the
/// process lives on), a process that is (re)starting 503; errors carry <c>X-Watchdog-Reason</c>.
/// </summary>
internal sealed partial class HttpModeHandler(
    WatchdogOptions options,
    UpstreamProcess upstream,
    UpstreamProxy proxy,
    InflightLimiter limiter,
    WatchdogMetrics metrics,
    HealthState health,
    ILogger<HttpModeHandler> logger)
{
    private const int SpillThreshold = 30 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        var (start, problem, callId, span) = CallStart.Begin(context, metrics);
        var request = context.Request;
        context.Response.Headers[WatchdogHeaders.CallId] = callId;
        var outcome = UpstreamOutcome.Answered;
        var reason = "ok";
        try
        {
            if (problem is { } bad)
            {
                reason = bad.InTarget ? "bad-path" : "bad-header";
                await WriteAsync(context, StatusCodes.Status400BadRequest, reason, bad.Message);
                return;
            }

            if (!limiter.TryEnter())
            {
                reason = "busy";
                context.Response.Headers.RetryAfter = "1";
                await WriteAsync(context, StatusCodes.Status429TooManyRequests, reason, $"Concurrent request limit exceeded. Max concurrent requests: {limiter.Max}");
                return;
            }

            try
            {
                outcome = await ProxyAsync(context, callId, start, span.Context);
                reason = UpstreamOutcomes.Describe(outcome).Reason;
            }
            finally
            {
                limiter.Exit();
            }
        }
        finally
        {
            // 0 in logs and metrics means no response was sent: the connection was aborted. An
            // answer is whole once the proxy returns it, even if the caller then left while the
            // rest of its body was being read.
            var aborted = outcome is UpstreamOutcome.ClientGone or UpstreamOutcome.WriteTimedOut
                || (context.RequestAborted.IsCancellationRequested && outcome != UpstreamOutcome.Answered);
            var status = aborted ? 0 : context.Response.StatusCode;
            var elapsed = Stopwatch.GetElapsedTime(start);
            metrics.Finished(status, request.Method, elapsed);
            LogAccess(logger, request.Method, RequestTextProblem.ForLog(request.Path.Value ?? "/"), status, elapsed.TotalSeconds, callId, reason, span.Context.TraceId);
            span.Tag("http.response.status_code", status);
            span.Tag("fwatchdog.reason", reason);
            if (status is 0 or >= 500)
            {
                span.Fail(reason);
            }

            span.End();
        }
    }

    private async Task<UpstreamOutcome> ProxyAsync(HttpContext context, string callId, long start, TraceContext trace)
    {
        if (options.MaxRequestBytes > 0 && context.Request.ContentLength > options.MaxRequestBytes)
        {
            return await FailAsync(context, UpstreamOutcome.BodyTooLarge,
                $"request body of {context.Request.ContentLength} bytes is larger than max_request_bytes ({options.MaxRequestBytes} bytes)");
        }

        if (!upstream.IsServing)
        {
            return await FailAsync(context, UpstreamOutcome.NotReady, $"the function's server is not ready: {upstream.State}");
        }

        using var exec = options.ExecTimeout > TimeSpan.Zero ? new CancellationTokenSource(options.ExecTimeout) : null;
        using var write = options.WriteTimeout > TimeSpan.Zero ? new CancellationTokenSource(options.WriteTimeout) : null;
        using var call = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, health.CallsStopping, exec?.Token ?? CancellationToken.None, write?.Token ?? CancellationToken.None);
        context.Response.OnStarting(() =>
        {
            // OpenFaaS semantics: seconds until the response headers, 6 decimals.
            context.Response.Headers[WatchdogHeaders.Duration] = Stopwatch.GetElapsedTime(start).TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        try
        {
            if (options.BufferRequestBody)
            {
                await BufferBodyAsync(context.Request, call.Token);
            }

            var (outcome, detail) = await proxy.ForwardAsync(context, HeaderLines(context, callId, trace), call.Token);
            return outcome switch
            {
                UpstreamOutcome.Answered => outcome,
                UpstreamOutcome.BadRequestBody or UpstreamOutcome.BodyTooLarge => await FailAsync(context, outcome, detail),
                _ => await FailAsync(context, Classify(exec, write, context), detail),
            };
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return await FailAsync(context, UpstreamOutcome.BodyTooLarge, $"the request body crossed max_request_bytes ({options.MaxRequestBytes} bytes)");
        }
        catch (Exception e) when (e is BadHttpRequestException || Streaming.RequestBodyErrors.IsMalformed(e))
        {
            return await FailAsync(context, UpstreamOutcome.BadRequestBody, $"the request body was refused: {e.Message}");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            return await FailAsync(context, Classify(exec, write, context), e.Message);
        }
    }

    /// <summary>Which token fired decides the outcome; a refused connection while the process restarts is "not ready".</summary>
    private UpstreamOutcome Classify(CancellationTokenSource? exec, CancellationTokenSource? write, HttpContext context) =>
        context.RequestAborted.IsCancellationRequested ? UpstreamOutcome.ClientGone
        : health.CallsStopping.IsCancellationRequested ? UpstreamOutcome.ShuttingDown
        : exec?.IsCancellationRequested == true ? UpstreamOutcome.TimedOut
        : write?.IsCancellationRequested == true ? UpstreamOutcome.WriteTimedOut
        : upstream.IsServing ? UpstreamOutcome.Unreachable
        : UpstreamOutcome.NotReady;

    private async Task<UpstreamOutcome> FailAsync(HttpContext context, UpstreamOutcome outcome, string detail)
    {
        var (status, reason) = UpstreamOutcomes.Describe(outcome);
        if (status is not { } code || context.Response.HasStarted)
        {
            // Headers are gone already (or nothing may be sent): a broken response, never a clean short one.
            context.Abort();
            return outcome;
        }

        // Whatever a failed attempt set on the response goes; the call id stays.
        var callId = context.Response.Headers[WatchdogHeaders.CallId];
        context.Response.Clear();
        context.Response.Headers[WatchdogHeaders.CallId] = callId;
        if (outcome is UpstreamOutcome.NotReady or UpstreamOutcome.ShuttingDown)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        if (outcome != UpstreamOutcome.NotReady)
        {
            LogFailed(logger, context.Request.Method, RequestTextProblem.ForLog(context.Request.Path.Value ?? "/"), reason, detail);
        }

        var message = outcome == UpstreamOutcome.TimedOut
            ? $"the function did not answer within exec_timeout ({DurationParser.Format(options.ExecTimeout)}); the request to it was cancelled"
            : detail;
        await WriteAsync(context, code, reason, message);
        return outcome;
    }

    private static async Task WriteAsync(HttpContext context, int status, string reason, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers[WatchdogHeaders.Reason] = reason;
        await context.Response.WriteAsync(message + "\n");
    }

    /// <summary>
    /// http_buffer_req_body: the whole body is read first (held in memory up to 30 KiB, in a temp
    /// file past that), so the function gets a Content-Length instead of chunked encoding. Unlike the
    /// of-watchdog's, this one works.
    /// </summary>
    private static async Task BufferBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is not null)
        {
            return;
        }

        request.EnableBuffering(SpillThreshold);
        await request.Body.CopyToAsync(Stream.Null, cancellationToken);
        request.ContentLength = request.Body.Position;
        request.Body.Position = 0;
    }

    /// <summary>X-Call-Id, the trace context (the watchdog's span as parent) and the X-Forwarded-* headers for the function; X-Start-Time from the gateway is kept.</summary>
    private static string HeaderLines(HttpContext context, string callId, TraceContext trace)
    {
        var request = context.Request;
        var lines = new StringBuilder(192).Append(WatchdogHeaders.CallId).Append(": ").Append(callId).Append("\r\n").Append(trace.HeaderLines());
        foreach (var startTime in request.Headers[WatchdogHeaders.StartTime])
        {
            lines.Append(WatchdogHeaders.StartTime).Append(": ").Append(startTime).Append("\r\n");
        }

        return ForwardedHeaders.AppendTo(lines, context).ToString();
    }

    [LoggerMessage(EventId = 510, Level = LogLevel.Information, Message = "{Method} {Path} {Status} {Seconds:F6}s call={CallId} reason={Reason} trace={TraceId}")]
    private static partial void LogAccess(ILogger logger, string method, string path, int status, double seconds, string callId, string reason, string traceId);

    [LoggerMessage(EventId = 511, Level = LogLevel.Warning, Message = "{Method} {Path}: {Reason}: {Detail}")]
    private static partial void LogFailed(ILogger logger, string method, string path, string reason, string detail);
}
