using System.Text.Json;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// The status API: <c>GET /async-calls/{id}</c> (JSON), <c>GET /async-calls/{id}/result</c> (the
/// function's body, kept for async_retention), <c>DELETE /async-calls/{id}</c> (cancel; a
/// running call's process is killed by its watchdog when we drop the connection) and
/// <c>POST /async-calls/{id}/retry</c> (replay a failed, dead or cancelled call). Each needs the
/// call's token (<c>{id}~{token}</c>, as the 202's Location gives it, or <c>X-Call-Token</c>) or
/// the gateway's basic_auth credentials (<see cref="CallAccess"/>); a wrong token is answered as
/// an unknown id, so the API tells nobody which ids exist.
/// </summary>
internal sealed class AsyncCallsEndpoints(IJobQueue queue, AsyncDispatcher dispatcher, QueueAdmission admissions, GatewayOptions options)
{
    public const string Prefix = "/async-calls/";

    public async Task HandleAsync(HttpContext context)
    {
        // Cancel and replay change a call: a browser may not be made to send them from another site.
        if (!(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)) && await CrossSiteGuard.RefusedAsync(context))
        {
            return;
        }

        var rest = (context.Request.Path.Value ?? "")[Prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var handle = slash < 0 ? rest : rest[..slash];
        var action = slash < 0 ? "" : rest[(slash + 1)..];
        if (action is not ("" or "result" or "retry"))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route; use /async-calls/{id}, /async-calls/{id}/result or /async-calls/{id}/retry");
            return;
        }

        var (callId, token) = CallAccess.Parse(handle);
        if (!CallIds.IsValid(callId))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"\"{callId}\" is not a call id");
            return;
        }

        token ??= context.Request.Headers[CallAccess.TokenHeader].ToString() is { Length: > 0 } given ? given : null;
        var isOperator = options.BasicAuth is var (user, password) && SystemEndpoints.Authorized(context.Request, user, password);
        if (token is null && !isOperator)
        {
            if (options.BasicAuth is not null)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Restricted\"";
            }

            await GatewayFailures.WriteAsync(context, GatewayFailure.Unauthorized,
                "a call is opened by the status URL its 202 gave (Location: /async-calls/{id}~{token}), by X-Call-Token, or by the gateway's basic_auth credentials; the call id alone opens nothing");
            return;
        }

        try
        {
            // Looked up first for every action: a token that does not open the call is answered as an unknown id.
            if (await queue.GetAsync(callId, context.RequestAborted) is not { } status || !(isOperator || await OpensAsync(token, status, context.RequestAborted)))
            {
                await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId} (unknown, older than async_retention, or not opened by this token)");
                return;
            }

            await DispatchAsync(context, status, handle, action);
        }
        catch (QueueUnavailableException e)
        {
            context.Response.Headers.RetryAfter = "1";
            await GatewayFailures.WriteAsync(context, GatewayFailure.QueueUnavailable, "the queue cannot be read now: " + e.Message);
        }
    }

    /// <summary>
    /// The call's own token opens it, and so does its parent's: a call queued by a callback into
    /// /async-function (chaining) was accepted by the gateway, so its submitter is the parent's.
    /// X-Parent-Call-Id is the child's submitter's claim, so it only ever opens the child to the
    /// parent's holder, never the parent to the child's; and only a parent made before the child:
    /// an id named as parent that did not exist then (or has since gone with async_retention) and
    /// was taken later opens nothing.
    /// </summary>
    private async Task<bool> OpensAsync(string? token, JobStatus status, CancellationToken cancellationToken) =>
        CallAccess.Opens(token, status)
        || (status.ParentCallId is { } parent && await queue.GetAsync(parent, cancellationToken) is { } parentStatus
            && parentStatus.CreatedAt <= status.CreatedAt && CallAccess.Opens(token, parentStatus));

    private async Task DispatchAsync(HttpContext context, JobStatus status, string handle, string action)
    {
        switch (context.Request.Method, action)
        {
            case ("GET" or "HEAD", "result"):
                await WriteResultAsync(context, status);
                break;
            case ("GET" or "HEAD", ""):
                await WriteStatusAsync(context, status, handle, StatusCodes.Status200OK);
                break;
            case ("DELETE", ""):
                await CancelAsync(context, status.CallId, handle);
                break;
            case ("POST", "retry"):
                await RequeueAsync(context, status, handle);
                break;
            default:
                context.Response.Headers.Allow = action switch { "result" => "GET, HEAD", "retry" => "POST", _ => "GET, HEAD, DELETE" };
                await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed here");
                break;
        }
    }

    private async Task WriteStatusAsync(HttpContext context, string callId, string handle, int statusCode)
    {
        if (await queue.GetAsync(callId, context.RequestAborted) is not { } status)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId} (unknown, or older than async_retention)");
            return;
        }

        await WriteStatusAsync(context, status, handle, statusCode);
    }

    private static async Task WriteStatusAsync(HttpContext context, JobStatus status, string handle, int statusCode)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, ToBody(status, handle), AsyncJson.Default.StatusBody, context.RequestAborted);
    }

    /// <param name="handle">How the caller named the call (with its token, or the bare id for the operator): the result link is named the same way.</param>
    internal static StatusBody ToBody(JobStatus status, string handle) => new(
        status.CallId,
        status.Function,
        QueueNames.Name(status.State),
        status.Attempts,
        status.MaxAttempts,
        status.CreatedAt,
        status.StartedAt,
        status.FinishedAt,
        status.NextAttemptAt,
        status.StatusCode,
        status.Error,
        status.CallbackUrl is not null
            ? new CallbackBody(QueueNames.Name(status.CallbackState), status.CallbackAttempts, status.CallbackStatusCode, status.CallbackError)
            : null,
        status.HasResult ? Prefix + handle + "/result" : null,
        status.HasResult ? status.ResultContentType : null,
        status.HasResult ? status.ResultLength : null,
        status.ParentCallId,
        status.History.Select(a => new AttemptBody(a.Attempt, DateTimeOffset.FromUnixTimeMilliseconds(a.StartedAt),
            a.FinishedAt is { } finished ? DateTimeOffset.FromUnixTimeMilliseconds(finished) : null, a.StatusCode, a.Error)).ToArray(),
        status.TraceId);

    private async Task WriteResultAsync(HttpContext context, JobStatus status)
    {
        if (await queue.GetResultAsync(status.CallId, context.RequestAborted) is not { } body)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"async call {status.CallId} has no result yet (state {QueueNames.Name(status.State)})");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers["X-Function-Status"] = status.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[ProxyHeaders.CallId] = status.CallId;
        context.Response.ContentType = status.ResultContentType ?? "application/octet-stream";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await using var stream = body.Open();
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>
    /// Dead-letter replay: a failed, dead or cancelled call runs again from attempt 1 and calls back
    /// again. It is admitted like a new call first, as a bulk replay's calls are: a function at its
    /// max_queued (or data_dir at async_max_disk_bytes) gets 429 or 507 with the reason, as an
    /// accept would, and the call is left as it was, to replay later.
    /// </summary>
    private async Task RequeueAsync(HttpContext context, JobStatus status, string handle)
    {
        var callId = status.CallId;
        if (status.State is not (JobState.Failed or JobState.Dead or JobState.Cancelled))
        {
            await WriteStatusAsync(context, status, handle, StatusCodes.Status409Conflict);
            return;
        }

        // Its body is in data_dir already: the call counts towards the function's bound, its bytes do not again.
        using var admission = await admissions.AdmitAsync(status.Function, 0, CancellationToken.None);
        if (admission.Failure != GatewayFailure.None)
        {
            context.Response.Headers.RetryAfter = ((int)admission.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await GatewayFailures.WriteAsync(context, admission.Failure, admission.Reason);
            return;
        }

        switch (await queue.RequeueAsync(callId, CancellationToken.None))
        {
            case RequeueResult.NotFound:
                await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId}");
                return;
            case RequeueResult.NotFinished:
                await WriteStatusAsync(context, callId, handle, StatusCodes.Status409Conflict);
                return;
        }

        admission.Stored();
        dispatcher.Wake();
        await WriteStatusAsync(context, callId, handle, StatusCodes.Status202Accepted);
    }

    private async Task CancelAsync(HttpContext context, string callId, string handle)
    {
        switch (await queue.CancelAsync(callId, queuedOnly: false, CancellationToken.None))
        {
            case CancelResult.NotFound:
                await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId}");
                return;
            case CancelResult.AlreadyFinished:
                await WriteStatusAsync(context, callId, handle, StatusCodes.Status409Conflict);
                return;
            case CancelResult.CancelledRunning:
                // Ours: stop it now. Another gateway's: it sees the cancel at its next lease renewal.
                dispatcher.CancelRunning(callId);
                break;
        }

        await WriteStatusAsync(context, callId, handle, StatusCodes.Status202Accepted);
    }
}
