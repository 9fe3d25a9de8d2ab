using System.Text.Json;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Async;

/// <summary>The steps of an async accept: check, spool, store, refuse what was not stored, answer 202.</summary>
internal sealed partial class AsyncAcceptHandler
{
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

    private JobRequest NewJob(HttpRequest request, string callId, FunctionRoute route, CheckedCall call, Tracing.TraceContext trace)
    {
        var idempotencyKey = request.Headers[IdempotencyHeader].ToString();
        var headers = StoredHeaders(request);
        headers.AddRange(trace.Headers());
        return new JobRequest(callId, route.Name, request.Method, route.SubPath, route.Query, headers,
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
}
