using System.Text.Json;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// The operator's view of the queue (docs/async.md, "Finding calls"): <c>GET /async-calls</c>
/// lists calls newest first, a page at a time; <c>POST /async-calls/replay</c> replays dead calls
/// and <c>POST /async-calls/cancel</c> cancels queued ones, by the same filters. Like /system/*,
/// these need the gateway's basic_auth credentials when it has them, and a call's token opens
/// none of them. A listing shows what calls are, never a way into them: each is named by its bare
/// id, which opens it only to the operator.
/// </summary>
internal sealed partial class AsyncCallListing(IJobQueue queue, AsyncDispatcher dispatcher, QueueAdmission admissions, CallFilters filters, GatewayOptions options, ILogger<AsyncCallListing> logger)
{
    public const string ListPath = "/async-calls";
    public const string ReplayPath = "/async-calls/replay";
    public const string CancelPath = "/async-calls/cancel";

    private static readonly HashSet<JobState> Replayable = [JobState.Failed, JobState.Dead, JobState.Cancelled];
    private static readonly HashSet<JobState> DeadOnly = [JobState.Dead];
    private static readonly HashSet<JobState> QueuedOnly = [JobState.Queued];

    /// <summary>
    /// The listing, and POST to the two bulk paths. Other methods on those paths still name a call
    /// (<c>GET /async-calls/replay</c> is the status of a call whose id is "replay"), as before.
    /// </summary>
    public static bool Handles(HttpRequest request) =>
        request.Path.Value is ListPath || (HttpMethods.IsPost(request.Method) && request.Path.Value is ReplayPath or CancelPath);

    public async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsPost(context.Request.Method) && await CrossSiteGuard.RefusedAsync(context))
        {
            return;
        }

        if (await SystemEndpoints.RefusedUnlessOperatorAsync(context, options,
            "listing, replaying and cancelling calls in bulk is the operator's: send the gateway's basic_auth credentials (a call's token opens only that call)"))
        {
            return;
        }

        var path = context.Request.Path.Value;
        if (path == ListPath && !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed here; bulk actions are POST {ReplayPath} and POST {CancelPath}");
            return;
        }

        var (query, error) = path switch
        {
            ReplayPath => filters.Parse(context.Request.Query, Replayable, DeadOnly),
            CancelPath => filters.Parse(context.Request.Query, QueuedOnly, QueuedOnly),
            _ => filters.Parse(context.Request.Query),
        };
        if (query is null)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadQuery, error ?? "bad query");
            return;
        }

        try
        {
            var page = await queue.ListAsync(query, context.RequestAborted);
            var next = page.Next is { } cursor ? CallFilters.NextLink(context.Request, cursor) : null;
            switch (path)
            {
                case ReplayPath:
                    await ReplayAsync(context, page, next);
                    break;
                case CancelPath:
                    await CancelAsync(context, page, next);
                    break;
                default:
                    var body = new CallListBody(page.Calls.Select(c => AsyncCallsEndpoints.ToBody(c, c.CallId)).ToArray(), next, page.Next?.Encode(), page.OlderUnlisted ? true : null);
                    await WriteAsync(context, StatusCodes.Status200OK, body, AsyncJson.Default.CallListBody);
                    break;
            }
        }
        catch (QueueUnavailableException e)
        {
            context.Response.Headers.RetryAfter = "1";
            await GatewayFailures.WriteAsync(context, GatewayFailure.QueueUnavailable, "the queue cannot be read now: " + e.Message);
        }
    }

    /// <summary>
    /// Replays the page's calls as POST /async-calls/{id}/retry does, each admitted like a new
    /// call first: a function at its max_queued (or its max_queued_bytes, or data_dir at
    /// async_max_disk_bytes) gets no more, and the answer is 429 saying how many were refused.
    /// </summary>
    private async Task ReplayAsync(HttpContext context, CallPage page, string? next)
    {
        int replayed = 0, skipped = 0, refused = 0;
        string? reason = null;
        foreach (var call in page.Calls)
        {
            // Its body is in data_dir already: the call counts towards the function's bound, its bytes do not again.
            using var admission = await admissions.AdmitAsync(call.Function, 0, CancellationToken.None);
            if (admission.Failure != GatewayFailure.None)
            {
                refused++;
                reason ??= admission.Reason;
                continue;
            }

            if (await queue.RequeueAsync(call.CallId, CancellationToken.None) == RequeueResult.Requeued)
            {
                admission.Stored();
                replayed++;
            }
            else
            {
                skipped++;
            }
        }

        if (replayed > 0)
        {
            dispatcher.Wake();
        }

        LogBulk(logger, "replay", context.Request.QueryString.Value ?? "", page.Calls.Count, replayed, skipped, refused);
        if (refused > 0)
        {
            context.Response.Headers.RetryAfter = ((int)QueueAdmission.QueueFullRetry.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await WriteAsync(context, refused > 0 ? StatusCodes.Status429TooManyRequests : StatusCodes.Status200OK,
            new BulkBody(page.Calls.Count, replayed, null, skipped, refused, reason, next is not null, next), AsyncJson.Default.BulkBody);
    }

    /// <summary>Cancels the page's calls as DELETE /async-calls/{id} does, but only those still queued: one that started meanwhile runs on.</summary>
    private async Task CancelAsync(HttpContext context, CallPage page, string? next)
    {
        int cancelled = 0, skipped = 0;
        foreach (var call in page.Calls)
        {
            // queuedOnly: a call that started meanwhile is left running (CancelResult.Running).
            if (await queue.CancelAsync(call.CallId, queuedOnly: true, CancellationToken.None) == CancelResult.CancelledQueued)
            {
                cancelled++;
            }
            else
            {
                skipped++;
            }
        }

        LogBulk(logger, "cancel", context.Request.QueryString.Value ?? "", page.Calls.Count, cancelled, skipped, 0);
        await WriteAsync(context, StatusCodes.Status200OK, new BulkBody(page.Calls.Count, null, cancelled, skipped, null, null, next is not null, next), AsyncJson.Default.BulkBody);
    }

    private static async Task WriteAsync<T>(HttpContext context, int status, T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await JsonSerializer.SerializeAsync(context.Response.Body, body, type, context.RequestAborted);
        }
    }

    [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "Bulk {Action} ({Query}): {Matched} matched, {Touched} done, {Skipped} left as they were, {Refused} refused by a queue bound")]
    private static partial void LogBulk(ILogger logger, string action, string query, int matched, int touched, int skipped, int refused);
}
