using System.Diagnostics;
using System.Globalization;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Tracing;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Runs one attempt of a queued call with the same name resolution, deadline, errors and metrics
/// as sync calls, through <see cref="FunctionClient"/> (a pooled HttpClient handler: a stored body
/// needs no full duplex, which is why sync calls use the HTTP/1.1 forwarder), with the original
/// method, raw path, query, headers and body plus X-Call-Id,
/// X-Attempt and X-Max-Attempts; then retries it later, or records the outcome and sends the
/// first callback. Each attempt is a span in the trace stored at accept, its queue wait another,
/// and the function's parent is the span of the attempt's upstream call.
/// </summary>
internal sealed partial class JobRunner(
    IJobQueue queue,
    FunctionRegistry registry,
    FunctionClient client,
    RetryPolicy retries,
    BodySpool results,
    CallbackSender callbacks,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<JobRunner> logger)
{
    public async Task RunAsync(ClaimedJob job, RunningJob running)
    {
        var accepted = TraceHeaders.Read(job.Request.Headers);
        if (job.DueAt is { } due)
        {
            var wait = Spans.Start("queue wait", ActivityKind.Internal, accepted, due);
            wait.Tag("fwatchdog.attempt", job.Attempt);
            wait.End();
        }

        using var attempt = Spans.Start("attempt " + job.Attempt, ActivityKind.Internal, accepted);
        attempt.Tag("faas.invoked_name", job.Request.Function);
        attempt.Tag("fwatchdog.call_id", job.Request.CallId);
        attempt.Tag("fwatchdog.attempt", job.Attempt);
        attempt.Tag("fwatchdog.max_attempts", job.Request.MaxAttempts);
        await AttemptAsync(job, running, attempt);
    }

    private async Task AttemptAsync(ClaimedJob job, RunningJob running, TraceSpan attempt)
    {
        var request = job.Request;
        if (job.Attempt > request.MaxAttempts)
        {
            // A gateway died during the last attempt and its lease ran out.
            await FinishAsync(job, new JobOutcome(JobState.Dead, 0, "the gateway running the last attempt stopped before it ended", null, StoredBody.Empty, TimeSpan.Zero));
            return;
        }

        var lookup = registry.Resolve(request.Function);
        if (lookup.Target is not { } target)
        {
            var (status, token) = GatewayFailures.Describe(lookup.Failure);
            await SettleAsync(attempt, job, status, lookup.Failure == GatewayFailure.FunctionNotReady, token + ": " + lookup.Detail, null, StoredBody.Empty, TimeSpan.Zero, null);
            return;
        }

        using var upstream = Spans.Start(request.Method, ActivityKind.Client, attempt.Context);
        upstream.Tag("server.address", target.BaseUri.Authority);
        using var message = BuildRequest(job, target, upstream.Context);
        using var call = await client.SendAsync(target, message, running.Token);
        upstream.Tag("http.response.status_code", call.Response is { } answered ? (int)answered.StatusCode : (int?)null);
        if (call.Failure == GatewayFailure.ClientGone)
        {
            await StoppedAsync(job, running);
            return;
        }

        if (call.Response is not { } response)
        {
            var (status, token) = GatewayFailures.Describe(call.Failure);

            // Not resolving and resolving to a refused address read the same in the status (no DNS oracle).
            var detail = call.Failure == GatewayFailure.FunctionNotFound ? FunctionLookup.DoesNotExistText(request.Function) : call.Detail;
            await SettleAsync(attempt, job, status, call.Failure != GatewayFailure.FunctionNotFound, token + ": " + detail, null, StoredBody.Empty, call.Elapsed, null);
            return;
        }

        StoredBody? result;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(call.Token);
            result = await results.SpoolAsync(body, long.MaxValue, request.CallId + ".result", call.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
            if (running.Token.IsCancellationRequested)
            {
                await StoppedAsync(job, running);
                return;
            }

            var failure = call.TimedOut ? GatewayFailure.UpstreamTimeout : GatewayFailure.FunctionUnreachable;
            var (status, token) = GatewayFailures.Describe(failure);
            call.Report(status);
            await SettleAsync(attempt, job, status, retryable: true, $"{token}: the response broke off: {e.Message}", null, StoredBody.Empty, call.Elapsed, null);
            return;
        }

        var code = (int)response.StatusCode;
        var retryable = retries.IsRetryable(code);
        var error = code is >= 200 and < 300 ? null : response.Headers.TryGetValues("X-Watchdog-Reason", out var reason) ? $"function answered {code} ({reason.First()})" : $"function answered {code}";
        await SettleAsync(attempt, job, code, retryable, error, response.Content.Headers.TryGetValues("Content-Type", out var types) ? types.First() : null, result ?? StoredBody.Empty, call.Elapsed, response.Headers.RetryAfter);
    }

    private async Task SettleAsync(TraceSpan attempt, ClaimedJob job, int status, bool retryable, string? error, string? contentType, StoredBody result, TimeSpan elapsed, System.Net.Http.Headers.RetryConditionHeaderValue? retryAfter)
    {
        var request = job.Request;
        error = CallAttempt.Cut(error);
        attempt.Tag("http.response.status_code", status);
        attempt.Tag("fwatchdog.retryable", retryable);
        if (error is not null)
        {
            attempt.Fail(error);
        }

        // The attempt ends with its answer; storing the outcome and the callback are not part of it.
        attempt.End();

        if (retryable && job.Attempt < request.MaxAttempts)
        {
            result.DeleteFile();
            var delay = retries.Delay(job.Attempt, retryAfter, time.GetUtcNow(), Random.Shared);
            LogRetry(logger, request.CallId, request.Function, job.Attempt, request.MaxAttempts, status, RetryPolicy.Format(delay));
            metrics.Job(request.Function, "retried");
            await queue.RetryAsync(request.CallId, time.GetUtcNow() + delay, status, error ?? "", CancellationToken.None);
            return;
        }

        var state = retryable ? JobState.Dead : status is >= 200 and < 300 ? JobState.Succeeded : JobState.Failed;
        var callError = state == JobState.Dead ? CallAttempt.Cut($"gave up after {job.Attempt} attempts; last: {error}") : error;
        await FinishAsync(job, new JobOutcome(state, status, callError, contentType, result, elapsed) { AttemptError = error });
    }

    private async Task FinishAsync(ClaimedJob job, JobOutcome outcome)
    {
        var request = job.Request;
        if (!await queue.CompleteAsync(request.CallId, outcome, CancellationToken.None))
        {
            outcome.Result.DeleteFile();
            return;
        }

        LogFinished(logger, request.CallId, request.Function, QueueNames.Name(outcome.State), outcome.StatusCode, job.Attempt);
        metrics.Job(request.Function, QueueNames.Name(outcome.State));
        if (request.CallbackUrl is { } url)
        {
            await callbacks.DeliverAsync(new CallbackWork(request.CallId, request.Function, url, outcome.State, outcome.StatusCode,
                outcome.ContentType, outcome.Result, outcome.Duration, job.Attempt, request.MaxAttempts, 1)
            {
                Trace = TraceHeaders.Read(request.Headers),
            });
        }
    }

    private async Task StoppedAsync(ClaimedJob job, RunningJob running)
    {
        if (running.Releasing)
        {
            LogReleased(logger, job.Request.CallId);
        }
        else
        {
            LogCancelled(logger, job.Request.CallId);
            metrics.Job(job.Request.Function, "cancelled");
        }

        // Shutdown: back to the queue without using up the attempt. Cancelled: the queue has it as
        // cancelled already, and this only lets go of what we hold (a NATS message).
        await queue.ReleaseAsync(job.Request.CallId, CancellationToken.None);
    }

    /// <summary>The stored request, with the upstream call's span as the trace parent in place of the accept's.</summary>
    private static HttpRequestMessage BuildRequest(ClaimedJob job, FunctionTarget target, TraceContext trace)
    {
        var request = job.Request;
        var path = request.Query.Length == 0 ? request.Path : request.Path + "?" + request.Query;
        var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), UpstreamUri.Create(target.BaseUri, path))
        {
            Content = new StreamContent(job.Body.Open(), 64 * 1024),
        };
        message.Content.Headers.ContentLength = job.Body.Length;
        foreach (var group in request.Headers.Where(h => !TraceHeaders.IsTraceHeader(h.Key)).Concat(trace.Headers()).GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            ProxyHeaders.Add(message, group.Key, group.Select(h => (string?)h.Value));
        }

        message.Headers.TryAddWithoutValidation(ProxyHeaders.CallId, request.CallId);
        message.Headers.TryAddWithoutValidation("X-Attempt", job.Attempt.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation("X-Max-Attempts", request.MaxAttempts.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Async call {CallId} to {Function}: attempt {Attempt}/{Max} got {Status}; next attempt in {Delay}")]
    private static partial void LogRetry(ILogger logger, string callId, string function, int attempt, int max, int status, string delay);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Async call {CallId} to {Function}: {State} with {Status} after {Attempts} attempt(s)")]
    private static partial void LogFinished(ILogger logger, string callId, string function, string state, int status, int attempts);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "Async call {CallId} released back to the queue (shutdown)")]
    private static partial void LogReleased(ILogger logger, string callId);

    [LoggerMessage(EventId = 703, Level = LogLevel.Information, Message = "Async call {CallId} stopped: cancelled")]
    private static partial void LogCancelled(ILogger logger, string callId);
}
