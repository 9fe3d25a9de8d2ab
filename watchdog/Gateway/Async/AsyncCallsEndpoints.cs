using System.Text.Json;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// The status API: <c>GET /async-calls/{id}</c> (JSON), <c>GET /async-calls/{id}/result</c> (the
/// function's body, kept for async_retention), <c>DELETE /async-calls/{id}</c> (cancel; a
/// running call's process is killed by its watchdog when we drop the connection) and
/// <c>POST /async-calls/{id}/retry</c> (replay a failed, dead or cancelled call).
/// </summary>
internal sealed class AsyncCallsEndpoints(IJobQueue queue, AsyncDispatcher dispatcher)
{
    public const string Prefix = "/async-calls/";

    public async Task HandleAsync(HttpContext context)
    {
        var rest = (context.Request.Path.Value ?? "")[Prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var callId = slash < 0 ? rest : rest[..slash];
        var action = slash < 0 ? "" : rest[(slash + 1)..];
        if (action is not ("" or "result" or "retry"))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route; use /async-calls/{id}, /async-calls/{id}/result or /async-calls/{id}/retry");
            return;
        }

        if (!CallIds.IsValid(callId))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"\"{callId}\" is not a call id");
            return;
        }

        try
        {
            await DispatchAsync(context, callId, action);
        }
        catch (QueueUnavailableException e)
        {
            context.Response.Headers.RetryAfter = "1";
            await GatewayFailures.WriteAsync(context, GatewayFailure.QueueUnavailable, "the queue cannot be read now: " + e.Message);
        }
    }

    private async Task DispatchAsync(HttpContext context, string callId, string action)
    {
        switch (context.Request.Method, action)
        {
            case ("GET" or "HEAD", "result"):
                await WriteResultAsync(context, callId);
                break;
            case ("GET" or "HEAD", ""):
                await WriteStatusAsync(context, callId, StatusCodes.Status200OK);
                break;
            case ("DELETE", ""):
                await CancelAsync(context, callId);
                break;
            case ("POST", "retry"):
                await RequeueAsync(context, callId);
                break;
            default:
                context.Response.Headers.Allow = action switch { "result" => "GET, HEAD", "retry" => "POST", _ => "GET, HEAD, DELETE" };
                await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed here");
                break;
        }
    }

    private async Task WriteStatusAsync(HttpContext context, string callId, int statusCode)
    {
        if (await queue.GetAsync(callId, context.RequestAborted) is not { } status)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId} (unknown, or older than async_retention)");
            return;
        }

        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, ToBody(status), AsyncJson.Default.StatusBody, context.RequestAborted);
    }

    internal static StatusBody ToBody(JobStatus status) => new(
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
        status.CallbackUrl is { } url
            ? new CallbackBody(url.AbsoluteUri, QueueNames.Name(status.CallbackState), status.CallbackAttempts, status.CallbackStatusCode, status.CallbackError)
            : null,
        status.HasResult ? Prefix + status.CallId + "/result" : null,
        status.HasResult ? status.ResultContentType : null,
        status.HasResult ? status.ResultLength : null,
        status.ParentCallId);

    private async Task WriteResultAsync(HttpContext context, string callId)
    {
        var status = await queue.GetAsync(callId, context.RequestAborted);
        if (status is null || await queue.GetResultAsync(callId, context.RequestAborted) is not { } body)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound,
                status is null ? $"no async call {callId}" : $"async call {callId} has no result yet (state {QueueNames.Name(status.State)})");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers["X-Function-Status"] = status.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[ProxyHeaders.CallId] = callId;
        context.Response.ContentType = status.ResultContentType ?? "application/octet-stream";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await using var stream = body.Open();
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>Dead-letter replay: a failed, dead or cancelled call runs again from attempt 1 and calls back again.</summary>
    private async Task RequeueAsync(HttpContext context, string callId)
    {
        switch (await queue.RequeueAsync(callId, CancellationToken.None))
        {
            case RequeueResult.NotFound:
                await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId}");
                return;
            case RequeueResult.NotFinished:
                await WriteStatusAsync(context, callId, StatusCodes.Status409Conflict);
                return;
        }

        dispatcher.Wake();
        await WriteStatusAsync(context, callId, StatusCodes.Status202Accepted);
    }

    private async Task CancelAsync(HttpContext context, string callId)
    {
        switch (await queue.CancelAsync(callId, CancellationToken.None))
        {
            case CancelResult.NotFound:
                await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, $"no async call {callId}");
                return;
            case CancelResult.AlreadyFinished:
                await WriteStatusAsync(context, callId, StatusCodes.Status409Conflict);
                return;
            case CancelResult.CancelledRunning:
                // Ours: stop it now. Another gateway's: it sees the cancel at its next lease renewal.
                dispatcher.CancelRunning(callId);
                break;
        }

        await WriteStatusAsync(context, callId, StatusCodes.Status202Accepted);
    }
}
