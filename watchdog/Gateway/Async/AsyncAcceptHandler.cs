using System.Text.Json;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Hosting;
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
    private static readonly HashSet<string> NotStored = new(StringComparer.OrdinalIgnoreCase) { ProxyHeaders.CallId, "Content-Length", IdempotencyHeader };

    public async Task HandleAsync(HttpContext context)
    {
        var callId = CallIds.ForQueuedCall(context.Request);

        // Every answer names the call id, refusals too, so a caller can match its logs.
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        if (await FunctionRoute.ReadAsync(context, Prefix) is not { } route || await CheckAsync(context, route) is not { } call)
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

        var job = NewJob(context.Request, callId, route, call);
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

    /// <summary>What a request says before its body: the callback it asks for and its function's limits.</summary>
    private readonly record struct CheckedCall(Uri? CallbackUrl, int MaxAttempts);

    /// <summary>
    /// Everything that can be checked before the body is read: the method (405), the function
    /// (404), the callback (400) and a declared length (413). Null when the call was refused.
    /// </summary>
    private async Task<CheckedCall?> CheckAsync(HttpContext context, FunctionRoute route)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed on {Prefix}{{name}}; queue a call with POST");
            return null;
        }

        var lookup = await registry.ResolveExistingAsync(route.Name, context.RequestAborted);
        if (lookup.Failure == GatewayFailure.FunctionNotFound)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.FunctionNotFound, lookup.Detail);
            return null;
        }

        var (callbackUrl, callbackFailure, callbackDetail) = await callbacks.CheckAsync(context.Request.Headers["X-Callback-Url"].ToString(), context.RequestAborted);
        if (callbackFailure != GatewayFailure.None)
        {
            await GatewayFailures.WriteAsync(context, callbackFailure, callbackDetail);
            return null;
        }

        if (context.Request.ContentLength > options.AsyncMaxBodyBytes)
        {
            await TooLargeAsync(context);
            return null;
        }

        return new CheckedCall(callbackUrl, lookup.Target?.MaxAttempts ?? options.MaxAttempts);
    }

    /// <summary>
    /// Stores the request body in data_dir, or answers why it cannot (413, 400, 503, or an abort
    /// when the caller left) and returns null: nothing is queued then.
    /// </summary>
    private async Task<StoredBody?> SpoolAsync(HttpContext context, string function, string callId)
    {
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
            await QueueUnavailableAsync(context, function, e.Message);
            return null;
        }
        catch (Exception e) when (Streaming.RequestBodyErrors.IsMalformed(e))
        {
            // The body broke HTTP/1.1 (bad chunked framing, an early end): nothing is queued, and the caller hears why.
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadRequestBody, $"the request body was refused: {e.Message}; nothing was queued");
            return null;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The caller went away (or its body broke off) before the call was complete: nothing is queued.
            context.Abort();
            return null;
        }

        if (body is null)
        {
            await TooLargeAsync(context);
        }

        return body;
    }

    private JobRequest NewJob(HttpRequest request, string callId, FunctionRoute route, CheckedCall call)
    {
        var idempotencyKey = request.Headers[IdempotencyHeader].ToString();
        return new JobRequest(callId, route.Name, request.Method, route.SubPath, route.Query, StoredHeaders(request),
            call.CallbackUrl, idempotencyKey.Length == 0 ? null : idempotencyKey, call.MaxAttempts)
        {
            Token = CallAccess.NewToken(),
        };
    }

    /// <summary>
    /// Hands the job to the queue, which answers once it is durable; a queue that cannot store it
    /// is answered 503 here and returns null. A body the queue did not keep is deleted.
    /// </summary>
    private async Task<EnqueueResult?> StoreAsync(HttpContext context, JobRequest job, StoredBody body)
    {
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
        catch (Exception e) when (e is QueueUnavailableException or IOException)
        {
            body.DeleteFile();
            await QueueUnavailableAsync(context, job.Function, e.Message);
            return null;
        }

        if (result.Status != EnqueueStatus.Stored)
        {
            body.DeleteFile();
        }

        return result;
    }

    /// <summary>Answers a call id another call holds (409) or an Idempotency-Key used for another request (422); true when it did.</summary>
    private async Task<bool> RefuseUnstoredAsync(HttpContext context, JobRequest job, EnqueueResult result)
    {
        if (result.Status == EnqueueStatus.CallIdTaken)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.CallIdConflict, $"X-Call-Id {job.CallId} is already used by another call; send a new id or none");
            return true;
        }

        if (result.Status == EnqueueStatus.KeyReused)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.IdempotencyKeyReused,
                $"{IdempotencyHeader} \"{job.IdempotencyKey}\" was used for another request to {job.Function}; send a new key with a new request (the same key is for repeating the same request)");
            return true;
        }

        return false;
    }

    /// <summary>202 with the call's id and a Location that opens it (its token is in it): whoever holds it may read, cancel and replay the call.</summary>
    private static async Task AcceptedAsync(HttpContext context, EnqueueResult result)
    {
        var replayed = result.Status == EnqueueStatus.Replayed;
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
            if (ProxyHeaders.IsHopByHop(name, connection) || NotStored.Contains(name) || (!options.AsyncKeepCredentials && Credentials.Contains(name)))
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
