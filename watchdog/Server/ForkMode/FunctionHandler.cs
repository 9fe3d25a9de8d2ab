using System.Diagnostics;
using Fwatchdog.Configuration;
using Fwatchdog.Execution;
using Fwatchdog.Hosting;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Server.ForkMode;

/// <summary>Serves one function call: limits, deadlines, the run, then the status it earned.</summary>
internal sealed partial class FunctionHandler(
    WatchdogOptions options,
    IFunctionRunner runner,
    InflightLimiter limiter,
    WatchdogMetrics metrics,
    HealthState health,
    ILogger<FunctionHandler> logger)
{
    public const string AllowedMethods = "GET, POST, PUT, PATCH, DELETE";

    public async Task HandleAsync(HttpContext context)
    {
        var (start, problem, callId, span) = CallStart.Begin(context, metrics);
        var request = context.Request;
        FunctionResult? result = null;
        string? refused = null;
        long bytesIn = 0, bytesOut = 0;
        var answered = false;
        try
        {
            if (!IsFunctionMethod(request.Method))
            {
                context.Response.Headers.Allow = AllowedMethods;
                refused = await RejectAsync(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed",
                    $"method {request.Method} is not allowed; use one of {AllowedMethods}");
                return;
            }

            if (problem is { } bad)
            {
                refused = await RejectAsync(context, StatusCodes.Status400BadRequest, bad.InTarget ? "bad-path" : "bad-header", bad.Message);
                return;
            }

            if (!limiter.TryEnter())
            {
                context.Response.Headers.RetryAfter = "1";
                refused = await RejectAsync(context, StatusCodes.Status429TooManyRequests, "busy",
                    $"Concurrent request limit exceeded. Max concurrent requests: {limiter.Max}");
                return;
            }

            try
            {
                if (options.MaxRequestBytes > 0 && request.ContentLength > options.MaxRequestBytes)
                {
                    refused = await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, "body-too-large",
                        $"request body of {request.ContentLength} bytes is larger than max_request_bytes ({options.MaxRequestBytes} bytes)");
                    return;
                }

                (result, bytesIn, bytesOut, answered) = await RunAsync(context, callId, start, span.Context);
            }
            finally
            {
                limiter.Exit();
            }
        }
        finally
        {
            // 0 in logs and metrics means no response was sent: the connection was aborted. A
            // whole answer counts, even if the caller left while the rest of its body was read.
            var aborted = !answered && (context.RequestAborted.IsCancellationRequested || result?.Outcome is FunctionOutcome.ClientGone or FunctionOutcome.WriteTimedOut);
            var status = aborted ? 0 : context.Response.StatusCode;

            var elapsed = Stopwatch.GetElapsedTime(start);
            metrics.Finished(status, request.Method, elapsed);
            var reason = result is null ? refused ?? "-" : OutcomeStatus.Reason(result.Outcome);
            LogAccess(logger, request.Method, RequestTextProblem.ForLog(request.Path.Value ?? "/"), status, result?.ExitCode, elapsed.TotalSeconds, bytesIn, bytesOut, HeaderText.FromBytes(callId),
                reason, span.Context.TraceId);
            span.Tag("http.response.status_code", status);
            span.Tag("fwatchdog.reason", reason);
            if (status is 0 or >= 500)
            {
                span.Fail(reason);
            }

            span.End();
        }
    }

    private async Task<(FunctionResult Result, long BytesIn, long BytesOut, bool Answered)> RunAsync(HttpContext context, string callId, long start, TraceContext parent)
    {
        // The process run is a span of its own, the parent of whatever the process traces.
        using var run = Spans.Start("process", System.Diagnostics.ActivityKind.Internal, parent);
        using var abort = new CallAbort();
        using var onClientGone = context.RequestAborted.Register(() => abort.Trigger(FunctionOutcome.ClientGone));
        using var onShutdown = health.CallsStopping.Register(() => abort.Trigger(FunctionOutcome.ShuttingDown));
        using var writeTimer = options.WriteTimeout > TimeSpan.Zero ? new CancellationTokenSource(options.WriteTimeout) : null;
        using var onWriteTimeout = writeTimer?.Token.Register(() => abort.Trigger(FunctionOutcome.WriteTimedOut));

        DateTimeOffset? deadline = options.ExecTimeout > TimeSpan.Zero ? DateTimeOffset.UtcNow + options.ExecTimeout : null;
        await using var gate = new ResponseGate(context, abort, options, callId, start);
        using var input = new RequestInput(context.Request, abort, options.ReadTimeout, options.MarshalRequest, gate.EndOfInput);
        var logId = HeaderText.FromBytes(callId); // the response gets the id's bytes back, the log its text
        var stderr = new StderrRelay(logger, logId, options.PrefixLogs);
        var result = await runner.RunAsync(new FunctionRequest
        {
            Command = options.Command,
            Environment = ChildEnvironment.Build(context.Request, callId, options.CgiHeaders, deadline, run.Context),
            WriteInput = input.WriteAsync,
            ReadOutput = gate.PumpAsync,
            ReadError = options.CombineOutput ? gate.PumpAsync : stderr.PumpAsync,
            Abort = abort,
            ExecTimeout = options.ExecTimeout,
            KillGrace = options.KillGrace,
        });

        if (result.Outcome == FunctionOutcome.StartFailed)
        {
            LogStartFailed(logger, logId, result.Message);
        }

        TagRun(run, result, input.BytesRead, gate.BytesWritten);

        // The caller may still be sending what the process did not read: that is read and thrown
        // away while the answer goes out, since a caller that sends before it reads takes the
        // answer only once its body is through.
        var rest = input.RestAsync();
        await gate.FinishAsync(result, options.WriteDebug && !options.CombineOutput ? stderr.Tail : null);
        await rest;
        if (gate.SpoolError is { } spoolError)
        {
            LogSpoolFull(logger, logId, spoolError);
        }
        else if (gate.Spooled is { Bytes: > 0 } spooled)
        {
            LogSpooled(logger, logId, spooled.Bytes, spooled.DiskBytes);
        }

        if (gate.DroppedHeaders.Count > 0)
        {
            LogCgiHeadersDropped(logger, logId, string.Join(", ", gate.DroppedHeaders));
        }

        if (gate.DiscardedBytes > 0)
        {
            LogBodyDiscarded(logger, logId, context.Response.StatusCode, gate.DiscardedBytes);
        }
        return (result, input.BytesRead, gate.BytesWritten, gate.Answered);
    }

    private static void TagRun(TraceSpan run, FunctionResult result, long bytesIn, long bytesOut)
    {
        if (!run.Recording)
        {
            return;
        }

        run.Tag("process.exit.code", result.ExitCode);
        if (result.ExitCode is > 128 and < 128 + 65)
        {
            run.Tag("fwatchdog.signal", result.ExitCode - 128);
        }

        run.Tag("fwatchdog.outcome", OutcomeStatus.Reason(result.Outcome));
        run.Tag("fwatchdog.bytes_in", bytesIn);
        run.Tag("fwatchdog.bytes_out", bytesOut);
        if (!result.IsSuccess)
        {
            run.Fail(result.Message);
        }
    }

    /// <summary>Answers a call the function never sees; returns the reason, for the access line.</summary>
    private static async Task<string> RejectAsync(HttpContext context, int status, string reason, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers[WatchdogHeaders.Reason] = reason;
        await context.Response.WriteAsync(message + "\n");
        return reason;
    }

    private static bool IsFunctionMethod(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsGet(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Path} {Status} exit={ExitCode} {Seconds:F6}s in={BytesIn} out={BytesOut} call={CallId} reason={Reason} trace={TraceId}")]
    private static partial void LogAccess(ILogger logger, string method, string path, int status, int? exitCode, double seconds, long bytesIn, long bytesOut, string callId, string reason, string traceId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "[{CallId}] {Message}")]
    private static partial void LogStartFailed(ILogger logger, string callId, string message);

    [LoggerMessage(EventId = 32, Level = LogLevel.Debug,
        Message = "[{CallId}] the caller read the answer only after sending its body: up to {Bytes} bytes of output waited at once (spool file peak {DiskBytes} bytes)")]
    private static partial void LogSpooled(ILogger logger, string callId, long bytes, long diskBytes);

    [LoggerMessage(EventId = 33, Level = LogLevel.Warning, Message = "[{CallId}] the call was stopped: {Message}")]
    private static partial void LogSpoolFull(ILogger logger, string callId, string message);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning,
        Message = "[{CallId}] cgi_response: dropped {Headers} from the function's header block (the watchdog frames the response itself)")]
    private static partial void LogCgiHeadersDropped(ILogger logger, string callId, string headers);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "[{CallId}] cgi_response: status {Status} has no body; {Bytes} bytes of output were not sent")]
    private static partial void LogBodyDiscarded(ILogger logger, string callId, int status, long bytes);
}
