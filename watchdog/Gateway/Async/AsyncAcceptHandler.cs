using System.Text.Json;
using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
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
    private static readonly HashSet<string> NotStored = new(StringComparer.OrdinalIgnoreCase) { ProxyHeaders.CallId, "Content-Length", IdempotencyHeader };

    public async Task HandleAsync(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var callId = CallIds.ForQueuedCall(context.Request);

        // Every answer names the call id, refusals too, so a caller can match its logs.
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        if (!FunctionRoute.TryParse(rawTarget, Prefix, out var route))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route");
            return;
        }

        if (route.EscapesBase)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadPath, "the path climbs above the function's root with \"..\"");
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed on {Prefix}{{name}}; queue a call with POST");
            return;
        }

        var lookup = await registry.ResolveExistingAsync(route.Name, context.RequestAborted);
        if (lookup.Failure == GatewayFailure.FunctionNotFound)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.FunctionNotFound, lookup.Detail);
            return;
        }

        var (callbackUrl, callbackFailure, callbackDetail) = await callbacks.CheckAsync(context.Request.Headers["X-Callback-Url"].ToString(), context.RequestAborted);
        if (callbackFailure != GatewayFailure.None)
        {
            await GatewayFailures.WriteAsync(context, callbackFailure, callbackDetail);
            return;
        }

        if (context.Request.ContentLength > options.AsyncMaxBodyBytes)
        {
            await TooLargeAsync(context);
            return;
        }

        // A declared length is checked against the bounds before a byte is read; any other body once it is spooled.
        var admission = context.Request.ContentLength is { } declared ? await AdmitAsync(context, route.Name, declared) : null;
        if (admission is { Failure: not GatewayFailure.None })
        {
            return;
        }

        using var held = admission;
        var idempotencyKey = context.Request.Headers[IdempotencyHeader].ToString();
        StoredBody? body;
        try
        {
            // A name of its own, never the call id alone: a caller who sends another call's X-Call-Id
            // (refused with 409) or repeats an Idempotency-Key (replayed) must not overwrite or delete
            // the body the first call stored under that name.
            body = await spool.SpoolAsync(context.Request.Body, options.AsyncMaxBodyBytes, $"{callId}.{Uuid.NewV4()}.request", context.RequestAborted);
        }
        catch (QueueUnavailableException e)
        {
            // data_dir is full or read-only: our fault, not the caller's.
            await QueueUnavailableAsync(context, route.Name, e.Message);
            return;
        }
        catch (Exception e) when (Streaming.RequestBodyErrors.IsMalformed(e))
        {
            // The body broke HTTP/1.1 (bad chunked framing, an early end): nothing is queued, and the caller hears why.
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadRequestBody, $"the request body was refused: {e.Message}; nothing was queued");
            return;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The caller went away (or its body broke off) before the call was complete: nothing is queued.
            context.Abort();
            return;
        }

        if (body is null)
        {
            await TooLargeAsync(context);
            return;
        }

        using var spooled = admission is null ? await AdmitAsync(context, route.Name, body.Length) : null;
        if (spooled is { Failure: not GatewayFailure.None })
        {
            body.DeleteFile();
            return;
        }

        var job = new JobRequest(callId, route.Name, context.Request.Method, route.SubPath, route.Query, StoredHeaders(context.Request),
            callbackUrl, idempotencyKey.Length == 0 ? null : idempotencyKey, lookup.Target?.MaxAttempts ?? options.MaxAttempts)
        {
            Token = CallAccess.NewToken(),
        };
        EnqueueResult result;
        try
        {
            if (job.IdempotencyKey is not null)
            {
                job = job with { RequestHash = await CallAccess.FingerprintAsync(job, context.Request, body, CancellationToken.None) };
            }

            // Not cancelled by the caller leaving: once we start storing, we finish.
            result = await queue.EnqueueAsync(job, body, CancellationToken.None);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or QueueUnavailableException or IOException)
        {
            body.DeleteFile();
            await QueueUnavailableAsync(context, route.Name, e.Message);
            return;
        }

        if (result.Status != EnqueueStatus.Stored)
        {
            body.DeleteFile();
        }

        if (result.Status == EnqueueStatus.CallIdTaken)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.CallIdConflict, $"X-Call-Id {callId} is already used by another call; send a new id or none");
            return;
        }

        if (result.Status == EnqueueStatus.KeyReused)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.IdempotencyKeyReused,
                $"{IdempotencyHeader} \"{idempotencyKey}\" was used for another request to {route.Name}; send a new key with a new request (the same key is for repeating the same request)");
            return;
        }

        if (result.Status == EnqueueStatus.Stored)
        {
            (admission ?? spooled)?.Stored();
            metrics.Job(route.Name, "accepted");
            dispatcher.Wake();
        }

        var replayed = result.Status == EnqueueStatus.Replayed;
        // The Location opens the call (its token is in it): whoever holds it may read, cancel and replay the call.
        var location = AsyncCallsEndpoints.Prefix + CallAccess.Handle(result.CallId, result.Token);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.Headers[ProxyHeaders.CallId] = result.CallId;
        context.Response.Headers.Location = location;
        if (replayed)
        {
            context.Response.Headers["Idempotency-Replayed"] = "true";
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new AcceptedBody(result.CallId, location, replayed ? true : null), AsyncJson.Default.AcceptedBody);
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
