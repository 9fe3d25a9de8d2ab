using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// <c>POST /async-function/{name}[/{path}]</c>: everything that can be checked is checked first
/// (function 404, method 405, callback 400, size 413); then the job is stored durably and only
/// then answered with 202, X-Call-Id and a Location for its status that carries the call's token
/// (see <see cref="CallAccess"/>). An Idempotency-Key is bound to the request: the same key with
/// another request is 422, the same request again gets the first call's id and Location.
/// </summary>
internal sealed partial class AsyncAcceptHandler(
    GatewayOptions options,
    FunctionRegistry registry,
    IJobQueue queue,
    AsyncDispatcher dispatcher,
    CallbackPolicy callbacks,
    BodySpool spool,
    QueueAdmission admissions,
    GatewayMetrics metrics,
    ILogger<AsyncAcceptHandler> logger)
{
    public const string Prefix = "/async-function/";
    public const string IdempotencyHeader = "Idempotency-Key";
    private static readonly HashSet<string> Credentials = new(StringComparer.OrdinalIgnoreCase) { "Authorization", "Cookie" };
    /// <summary>Not kept from the caller: the call id and key are kept apart, and the trace context stored is the accept span's.</summary>
    private static readonly HashSet<string> NotStored = new(StringComparer.OrdinalIgnoreCase)
    {
        ProxyHeaders.CallId, "Content-Length", IdempotencyHeader, TraceHeaders.TraceParent, TraceHeaders.TraceState, TraceHeaders.Baggage,
    };

    public async Task HandleAsync(HttpContext context)
    {
        var callId = CallIds.ForQueuedCall(context.Request);

        // Every answer names the call id, refusals too, so a caller can match its logs.
        context.Response.Headers[ProxyHeaders.CallId] = callId;

        // The accept continues the caller's trace (or starts one); stored with the call, its span
        // is the parent of every attempt and of the callback, however much later they run.
        using var span = Spans.Start("POST " + Prefix + "{name}", System.Diagnostics.ActivityKind.Server, TraceHeaders.Read(context.Request.Headers));
        span.Tag("fwatchdog.call_id", callId);
        try
        {
            await AcceptAsync(context, callId, span.Context);
        }
        finally
        {
            span.Tag("http.response.status_code", context.Response.StatusCode);
        }
    }

    private async Task AcceptAsync(HttpContext context, string callId, TraceContext trace)
    {
        if (await FunctionRoute.ReadAsync(context, Prefix) is not { } addressed)
        {
            return;
        }

        // Stored, counted and bounded by the bare name, however the caller named the function.
        var route = addressed with { Name = registry.Bare(addressed.Name) };
        if (await CheckAsync(context, route) is not { } call)
        {
            return;
        }

        // A declared length is checked against the bounds before a byte is read; any other body once it is spooled.
        using var admission = context.Request.ContentLength is { } declared ? await AdmitAsync(context, route.Name, declared) : null;
        if (admission is { Failure: not GatewayFailure.None } || await SpoolAsync(context, route.Name, callId) is not { } body)
        {
            return;
        }

        using var spooled = admission is null ? await AdmitAsync(context, route.Name, body.Length) : null;
        if (spooled is { Failure: not GatewayFailure.None })
        {
            body.DeleteFile();
            return;
        }

        var job = NewJob(context.Request, callId, route, call, trace);
        if (await StoreAsync(context, job, body) is not { } result || await RefuseUnstoredAsync(context, job, result))
        {
            return;
        }

        if (result.Status == EnqueueStatus.Stored)
        {
            (admission ?? spooled)?.Stored();
            metrics.Job(route.Name, "accepted");
            dispatcher.Wake();
        }

        await AcceptedAsync(context, result);
    }

    /// <summary>
    /// Room for the call under its function's bounds and the disk budget; a refusal (429 or 507,
    /// with Retry-After) or a queue that cannot say (503) is answered here and returned failed.
    /// </summary>
    private async Task<QueueAdmission.Admission?> AdmitAsync(HttpContext context, string function, long bytes)
    {
        QueueAdmission.Admission admission;
        try
        {
            admission = await admissions.AdmitAsync(function, bytes, context.RequestAborted);
        }
        catch (QueueUnavailableException e)
        {
            await QueueUnavailableAsync(context, function, e.Message);
            return QueueAdmission.Admission.Refused(GatewayFailure.QueueUnavailable, TimeSpan.Zero, e.Message);
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return QueueAdmission.Admission.Refused(GatewayFailure.ClientGone, TimeSpan.Zero, "the caller went away");
        }

        if (admission.Failure != GatewayFailure.None)
        {
            LogRefused(logger, function, admission.Reason);
            context.Response.Headers.RetryAfter = ((int)admission.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await GatewayFailures.WriteAsync(context, admission.Failure, admission.Reason);
        }

        return admission;
    }

    private List<KeyValuePair<string, string>> StoredHeaders(HttpRequest request)
    {
        var stored = new List<KeyValuePair<string, string>>();
        var connection = request.Headers.Connection;
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHopHeaders.IsHopByHop(name, connection) || NotStored.Contains(name) || (!options.AsyncKeepCredentials && Credentials.Contains(name)))
            {
                continue;
            }

            foreach (var value in values)
            {
                stored.Add(new(name, value ?? ""));
            }
        }

        return stored;
    }

    private Task QueueUnavailableAsync(HttpContext context, string function, string error)
    {
        LogQueueFailed(logger, function, error);
        context.Response.Headers.RetryAfter = "1";
        return GatewayFailures.WriteAsync(context, GatewayFailure.QueueUnavailable, "the queue could not store the call: " + error);
    }

    private Task TooLargeAsync(HttpContext context) =>
        GatewayFailures.WriteAsync(context, GatewayFailure.BodyTooLarge,
            $"the body is larger than async_max_body_bytes ({options.AsyncMaxBodyBytes} bytes); nothing was queued");

    [LoggerMessage(EventId = 520, Level = LogLevel.Warning, Message = "Refused a call to {Function}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string function, string reason);

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "Could not queue a call to {Function}: {Error}")]
    private static partial void LogQueueFailed(ILogger logger, string function, string error);
}
