using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fwatchdog.Gateway.Queue;

/// <summary>The status API, cancel and counts, answered from the key-value bucket by any replica.</summary>
internal sealed partial class NatsJobQueue
{
    /// <summary>How long a status, result, cancel or replay waits for a lost NATS connection before its caller gets a 503.</summary>
    private static readonly TimeSpan CallerWait = TimeSpan.FromSeconds(1);

    /// <summary>The status API answers within a second or two: with NATS down, 503, not a wait until write_timeout.</summary>
    private async Task<Resources> ReadyForCallerAsync(CancellationToken cancellationToken)
    {
        if (_resources is not null && !await ConnectedWithinAsync(CallerWait, cancellationToken))
        {
            throw new QueueUnavailableException($"not connected to NATS at {_options.Url}");
        }

        return await ReadyGuardedAsync(cancellationToken, CallerWait);
    }

    public async Task<JobStatus?> GetAsync(string callId, CancellationToken cancellationToken)
    {
        var resources = await ReadyForCallerAsync(cancellationToken);
        if ((await ReadRecordAsync(resources, callId, cancellationToken)).Record is not { } r)
        {
            return null;
        }

        return ToStatus(r);
    }

    private static JobStatus ToStatus(NatsCallRecord r)
    {
        var state = Enum.Parse<JobState>(r.State, ignoreCase: true);
        static DateTimeOffset? Time(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
        return new JobStatus(r.CallId, r.Function, state, r.Attempts, r.MaxAttempts, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt),
            Time(r.StartedAt), Time(r.FinishedAt), state == JobState.Queued ? Time(r.DueAt) : null, r.StatusCode, r.Error,
            r.CallbackUrl is { } url ? new Uri(url) : null, Enum.Parse<CallbackState>(r.CallbackState, ignoreCase: true), r.CallbackAttempts,
            r.CallbackStatus, r.CallbackError, r.HasResult, r.ResultType, r.ResultLength)
        { ParentCallId = r.ParentCallId, Token = r.Token, History = r.History ?? [], TraceId = Tracing.TraceHeaders.Read(r.TraceParent, default, default)?.TraceId };
    }

    public async Task<StoredBody?> GetResultAsync(string callId, CancellationToken cancellationToken)
    {
        var resources = await ReadyForCallerAsync(cancellationToken);
        return (await ReadRecordAsync(resources, callId, cancellationToken)).Record is { HasResult: true } record
            ? await ResultBodyAsync(resources, record, cancellationToken)
            : null;
    }

    public async Task<CancelResult> CancelAsync(string callId, bool queuedOnly, CancellationToken cancellationToken)
    {
        await ReadyForCallerAsync(cancellationToken);
        var result = CancelResult.NotFound;
        var now = Now;
        await ChangeAsync(callId, r =>
        {
            result = r.State switch
            {
                "queued" => CancelResult.CancelledQueued,
                "running" => queuedOnly ? CancelResult.Running : CancelResult.CancelledRunning,
                _ => CancelResult.AlreadyFinished,
            };
            return result is CancelResult.AlreadyFinished or CancelResult.Running ? null : r with
            {
                State = "cancelled",
                FinishedAt = now,
                Error = "cancelled by DELETE",
                Owner = null,
                History = CallAttempt.Finished(r.History, now, null, CallAttempt.Cancelled),
            };
        }, cancellationToken);
        return result;
    }

    public async Task<RequeueResult> RequeueAsync(string callId, CancellationToken cancellationToken)
    {
        var resources = await ReadyForCallerAsync(cancellationToken);
        var kept = await resources.Calls.TryGetEntryAsync<byte[]>(JobKey(callId), cancellationToken: cancellationToken);
        var result = RequeueResult.NotFound;
        var now = Now;
        var changed = await ChangeAsync(callId, r =>
        {
            result = r.State is "failed" or "dead" or "cancelled" && r.CallbackState != "pending" && kept.Success ? RequeueResult.Requeued : RequeueResult.NotFinished;
            return result != RequeueResult.Requeued ? null : r with
            {
                State = "queued",
                Attempts = 0,
                DueAt = now,
                StartedAt = null,
                FinishedAt = null,
                StatusCode = null,
                Error = null,
                DurationMs = null,
                Result = null,
                ResultObject = null,
                ResultLength = 0,
                ResultType = null,
                CallbackState = "none",
                CallbackAttempts = 0,
                CallbackStatus = null,
                CallbackError = null,
                Owner = null,
            };
        }, cancellationToken);
        if (changed is null || kept.Value.Value is not { } message)
        {
            return result;
        }

        try
        {
            // A fresh Nats-Msg-Id: the original one may still be inside the stream's duplicate window.
            var headers = new NatsHeaders { ["Nats-Msg-Id"] = callId + ".replay." + now.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var ack = await _js.PublishAsync(Subject(changed.Function), message, headers: headers, cancellationToken: cancellationToken);
            ack.EnsureSuccess();
            return RequeueResult.Requeued;
        }
        catch (NatsException e)
        {
            throw new QueueUnavailableException("NATS did not take the replayed call: " + e.Message, e);
        }
    }

    /// <summary>JetStream stores on the server: reaching the consumer (<see cref="CountAsync"/>) is the check.</summary>
    public Task ProbeWriteAsync(CancellationToken cancellationToken) => CountAsync(cancellationToken);

    /// <summary>
    /// The bucket, the object store and the dead-letter stream expire entries by themselves after
    /// async_retention; this only trims this replica's local cache of large bodies.
    /// </summary>
    public Task<int> SweepAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken)
    {
        var removed = 0;
        if (Directory.Exists(_cacheFolder))
        {
            foreach (var file in new DirectoryInfo(_cacheFolder).EnumerateFiles())
            {
                if (file.LastWriteTimeUtc < finishedBefore.UtcDateTime)
                {
                    file.Delete();
                    removed++;
                }
            }
        }

        return Task.FromResult(removed);
    }
}
