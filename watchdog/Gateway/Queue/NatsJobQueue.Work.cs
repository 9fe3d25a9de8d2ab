using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fwatchdog.Gateway.Queue;

/// <summary>Claiming, leases (in-progress acks), retries, completion and callbacks.</summary>
internal sealed partial class NatsJobQueue
{
    private async Task<ClaimedJob?> ClaimOneAsync(Resources resources, INatsJSMsg<byte[]> msg, ISlotBook slots, CancellationToken cancellationToken)
    {
        var data = msg.Data ?? [];
        var job = data.Length > 0 ? JsonSerializer.Deserialize(data, NatsJson.Default.NatsJobMessage) : null;
        NatsCallRecord? record;
        ulong revision;
        try
        {
            (record, revision) = job is null ? (null, 0) : await ReadFromLeaderAsync(resources, job.CallId, cancellationToken);
        }
        catch (QueueUnavailableException e)
        {
            // The bucket cannot be read now (no leader while a node is lost): the call is not gone.
            LogProblem(_logger, e.Message);
            await msg.NakAsync(new AckOpts { NakDelay = TimeSpan.FromSeconds(1) }, cancellationToken);
            return null;
        }

        if (job is null || record is null)
        {
            // Unreadable, or its status expired: nothing can be done with it.
            await msg.AckTerminateAsync(cancellationToken: cancellationToken);
            return null;
        }

        switch (record.State)
        {
            case "cancelled":
                await KeepForReplayAsync(resources, job.CallId, data, cancellationToken);
                await msg.AckAsync(cancellationToken: cancellationToken);
                return null;
            case "succeeded" or "failed" or "dead" when record.CallbackState == "pending" && record.CallbackUrl is { } url:
                _held[job.CallId] = msg;
                _callbacks.Enqueue(new CallbackWork(job.CallId, job.Function, new Uri(url), Enum.Parse<JobState>(record.State, ignoreCase: true),
                    record.StatusCode ?? 0, record.ResultType, await ResultBodyAsync(resources, record, cancellationToken),
                    TimeSpan.FromMilliseconds(record.DurationMs ?? 0), record.Attempts, record.MaxAttempts, record.CallbackAttempts + 1)
                {
                    Trace = Tracing.TraceHeaders.Read(record.TraceParent, default, default),
                });
                return null;
            case "succeeded" or "failed" or "dead":
                await msg.AckAsync(cancellationToken: cancellationToken);
                return null;
        }

        if (!slots.TryTake(job.Function))
        {
            await msg.NakAsync(new AckOpts { NakDelay = TimeSpan.FromMilliseconds(200) }, cancellationToken);
            return null;
        }

        var holdsSlot = true;
        try
        {
            var now = Now;
            var running = record with
            {
                State = "running",
                Attempts = record.Attempts + 1,
                Owner = _owner,
                StartedAt = record.StartedAt ?? now,
                History = CallAttempt.Started(record.History, record.Attempts, record.MaxAttempts, now),
            };
            var updated = await resources.Calls.TryUpdateAsync(CallKey(job.CallId), Serialize(running), revision, cancellationToken: cancellationToken);
            if (!updated.Success)
            {
                holdsSlot = false;
                slots.Give(job.Function);
                await msg.NakAsync(cancellationToken: cancellationToken);
                return null;
            }

            _held[job.CallId] = msg;
            var request = new JobRequest(job.CallId, job.Function, job.Method, job.Path, job.Query,
                job.Headers.Where(h => h.Length == 2).Select(h => new KeyValuePair<string, string>(h[0], h[1])).ToList(),
                job.CallbackUrl is { } callback ? new Uri(callback) : null, null, job.MaxAttempts);
            var body = job.BodyObject is { } name
                ? await DownloadAsync(resources, name, cancellationToken)
                : new StoredBody(job.Body ?? [], null, job.BodyLength);
            return new ClaimedJob(request, body, running.Attempts) { DueAt = record.DueAt is { } due ? DateTimeOffset.FromUnixTimeMilliseconds(due) : null };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The slot goes back whatever failed; the unacknowledged message comes back
            // after its ack wait and the call runs then.
            _held.TryRemove(job.CallId, out _);
            if (holdsSlot)
            {
                slots.Give(job.Function);
            }

            throw;
        }
    }

    public async Task<IReadOnlySet<string>> RenewAsync(IReadOnlyCollection<string> callIds, CancellationToken cancellationToken)
    {
        var lost = new HashSet<string>(StringComparer.Ordinal);
        var resources = await ReadyGuardedAsync(cancellationToken);
        foreach (var (callId, msg) in _held)
        {
            try
            {
                if (callIds.Contains(callId))
                {
                    if (await StillOursAsync(resources, callId, cancellationToken) == false)
                    {
                        lost.Add(callId);
                        continue;
                    }
                }

                await msg.AckProgressAsync(cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is NatsException or QueueUnavailableException)
            {
                LogProblem(_logger, $"could not renew {callId}: {e.Message}");
            }
        }

        return lost;
    }

    /// <summary>False when the call was cancelled or taken over; null when that cannot be read now (keep the lease).</summary>
    private async Task<bool?> StillOursAsync(Resources resources, string callId, CancellationToken cancellationToken)
    {
        try
        {
            var (record, _) = await ReadFromLeaderAsync(resources, callId, cancellationToken);
            return record is null || (record.State == "running" && record.Owner == _owner);
        }
        catch (QueueUnavailableException e)
        {
            LogProblem(_logger, e.Message);
            return null;
        }
    }

    public async Task RetryAsync(string callId, DateTimeOffset due, int statusCode, string error, CancellationToken cancellationToken)
    {
        var changed = await ChangeAsync(callId, r => r.State == "running" && r.Owner == _owner
            ? r with
            {
                State = "queued",
                DueAt = due.ToUnixTimeMilliseconds(),
                StatusCode = statusCode,
                Error = error,
                Owner = null,
                History = CallAttempt.Finished(r.History, Now, statusCode, error),
            }
            : null, cancellationToken);
        if (_held.TryRemove(callId, out var msg))
        {
            var delay = due - _time.GetUtcNow();
            // Not ours any more (cancelled): NAK, and the redelivery settles it (ClaimOneAsync).
            await msg.NakAsync(new AckOpts { NakDelay = changed is not null && delay > TimeSpan.Zero ? delay : TimeSpan.Zero }, cancellationToken);
        }
    }

    public async Task ReleaseAsync(string callId, CancellationToken cancellationToken)
    {
        // Let go of the message first: if NATS cannot be reached now, it is no longer renewed and
        // comes back after its ack wait, instead of being held (and renewed) for good.
        _held.TryRemove(callId, out var msg);
        await ChangeAsync(callId, r => r.State == "running" && r.Owner == _owner ? r with { State = "queued", Attempts = r.Attempts - 1, Owner = null, History = CallAttempt.Dropped(r.History) } : null, cancellationToken);
        if (msg is not null)
        {
            await msg.NakAsync(cancellationToken: cancellationToken);
        }
    }

    public async Task<bool> CompleteAsync(string callId, JobOutcome outcome, CancellationToken cancellationToken)
    {
        var resources = await ReadyGuardedAsync(cancellationToken);
        string? resultObject = null;
        if (outcome.Result.FilePath is not null)
        {
            resultObject = callId + ".result";
            await using (var stream = outcome.Result.Open())
            {
                await resources.Bodies.PutAsync(resultObject, stream, leaveOpen: false, cancellationToken: cancellationToken);
            }
        }

        var state = QueueNames.Name(outcome.State);
        var finished = await ChangeAsync(callId, r => r.State == "running" && r.Owner == _owner
            ? r with
            {
                State = state,
                FinishedAt = Now,
                StatusCode = outcome.StatusCode,
                Error = outcome.Error,
                DurationMs = (long)outcome.Duration.TotalMilliseconds,
                Result = resultObject is null ? outcome.Result.Inline : null,
                ResultObject = resultObject,
                ResultLength = outcome.Result.Length,
                ResultType = outcome.ContentType,
                CallbackState = r.CallbackUrl is null ? "none" : "pending",
                History = CallAttempt.Finished(r.History, Now, outcome.StatusCode, outcome.AttemptError ?? outcome.Error),
            }
            : null, cancellationToken);
        if (!_held.TryGetValue(callId, out var msg))
        {
            return false;
        }

        if (finished is null)
        {
            _held.TryRemove(callId, out _);
            await msg.NakAsync(cancellationToken: cancellationToken);
            return false;
        }

        if (outcome.State != JobState.Succeeded && msg.Data is { } kept)
        {
            await KeepForReplayAsync(resources, callId, kept, cancellationToken);
        }

        if (outcome.State == JobState.Dead && msg.Data is { } data && JsonSerializer.Deserialize(data, NatsJson.Default.NatsJobMessage) is { } job)
        {
            var letter = new NatsDeadLetter(job, finished.Attempts, outcome.StatusCode, outcome.Error, Now);
            var ack = await _js.PublishAsync($"{_options.Subject}_dead.{job.Function}", JsonSerializer.SerializeToUtf8Bytes(letter, NatsJson.Default.NatsDeadLetter),
                cancellationToken: cancellationToken);
            ack.EnsureSuccess();
        }

        if (finished.CallbackState == "none" && _held.TryRemove(callId, out _))
        {
            await msg.AckAsync(cancellationToken: cancellationToken);
        }

        return true;
    }

    public Task<IReadOnlyList<CallbackWork>> ClaimCallbacksAsync(int max, CancellationToken cancellationToken)
    {
        // Callback retries come back as redeliveries of the call's message (see ClaimOneAsync).
        var work = new List<CallbackWork>();
        while (work.Count < max && _callbacks.TryDequeue(out var next))
        {
            work.Add(next);
        }

        return Task.FromResult<IReadOnlyList<CallbackWork>>(work);
    }

    public async Task CallbackAttemptedAsync(string callId, CallbackState state, int? statusCode, string? error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        await ChangeAsync(callId, r => r.CallbackState == "pending"
            ? r with { CallbackState = QueueNames.Name(state), CallbackAttempts = r.CallbackAttempts + 1, CallbackStatus = statusCode, CallbackError = error }
            : null, cancellationToken);
        if (_held.TryRemove(callId, out var msg))
        {
            var delay = retryAt is { } at ? at - _time.GetUtcNow() : TimeSpan.Zero;
            await (state == CallbackState.Pending
                ? msg.NakAsync(new AckOpts { NakDelay = delay > TimeSpan.Zero ? delay : TimeSpan.Zero }, cancellationToken)
                : msg.AckAsync(cancellationToken: cancellationToken));
        }
    }

    /// <summary>The message of a call that did not succeed is kept (key <c>job.{id}</c>) so it can be replayed.</summary>
    private static async Task KeepForReplayAsync(Resources resources, string callId, byte[] message, CancellationToken cancellationToken) =>
        await resources.Calls.PutAsync(JobKey(callId), message, cancellationToken: cancellationToken);

    private static string JobKey(string callId) => "job." + callId;

    /// <summary>Read-modify-write of a call's record with the bucket's revision check, so replicas never overwrite each other.</summary>
    private async Task<NatsCallRecord?> ChangeAsync(string callId, Func<NatsCallRecord, NatsCallRecord?> change, CancellationToken cancellationToken)
    {
        var resources = await ReadyGuardedAsync(cancellationToken);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var (record, revision) = await ReadFromLeaderAsync(resources, callId, cancellationToken);
            if (record is null || change(record) is not { } next)
            {
                return null;
            }

            var updated = await resources.Calls.TryUpdateAsync(CallKey(callId), Serialize(next), revision, cancellationToken: cancellationToken);
            if (updated.Success)
            {
                return next;
            }
        }

        throw new QueueUnavailableException($"call {callId} kept changing under us");
    }

    /// <summary>
    /// A call's record and its revision; no record when the bucket has none (never made, or
    /// expired). Any other failure, such as no leader for the bucket while a node is lost, is
    /// thrown: a call that cannot be read now is never taken for one that is gone.
    /// </summary>
    private static async Task<(NatsCallRecord? Record, ulong Revision)> ReadRecordAsync(Resources resources, string callId, CancellationToken cancellationToken)
    {
        NatsResult<NatsKVEntry<byte[]>> entry;
        for (var attempt = 1; ; attempt++)
        {
            // A read sent just before its node died is never answered: ask again, another node answers.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ReadAttemptTimeout);
            try
            {
                entry = await resources.Calls.TryGetEntryAsync<byte[]>(CallKey(callId), cancellationToken: timeout.Token);
                break;
            }
            catch (Exception e) when (e is NatsException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt == ReadAttempts)
                {
                    throw new QueueUnavailableException($"NATS did not read call {callId}: {e.Message}", e);
                }
            }
        }

        if (entry.Success)
        {
            return (Deserialize(entry.Value.Value), entry.Value.Revision);
        }

        return entry.Error is NatsKVKeyNotFoundException or NatsKVKeyDeletedException
            ? (null, 0)
            : throw new QueueUnavailableException($"NATS did not read call {callId}: {entry.Error.Message}", entry.Error);
    }

    private const int ReadAttempts = 3;

    private static readonly TimeSpan ReadAttemptTimeout = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// As <see cref="ReadRecordAsync"/>, answered by the bucket's leader, never by a replica that is
    /// catching up: what the work path decides on (claim, lease, completion, callbacks). A stale
    /// "not found" would drop a call, and a stale state would give a running call up.
    /// </summary>
    private async Task<(NatsCallRecord? Record, ulong Revision)> ReadFromLeaderAsync(Resources resources, string callId, CancellationToken cancellationToken)
    {
        try
        {
            var last = await resources.CallsStream.GetAsync(new StreamMsgGetRequest { LastBySubj = $"$KV.{_options.Bucket}.{CallKey(callId)}" }, cancellationToken);
            // A delete or purge marker has no data; every record has some.
            return last.Message.Data is { Length: > 0 } data ? (Deserialize(data.ToArray()), last.Message.Seq) : (null, 0);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return (null, 0);
        }
        catch (Exception e) when (e is NatsException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new QueueUnavailableException($"NATS did not read call {callId}: {e.Message}", e);
        }
    }

    private async Task<Resources> ReadyGuardedAsync(CancellationToken cancellationToken, TimeSpan? connectWait = null)
    {
        try
        {
            return await ReadyAsync(cancellationToken, connectWait);
        }
        catch (NatsException e)
        {
            throw new QueueUnavailableException(e.Message, e);
        }
    }

    private async Task<StoredBody> DownloadAsync(Resources resources, string name, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_cacheFolder);
        var path = Path.Combine(_cacheFolder, name);
        if (!File.Exists(path))
        {
            var partial = path + "." + Guid.NewGuid().ToString("N");
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await resources.Bodies.GetAsync(name, file, leaveOpen: true, cancellationToken: cancellationToken);
            }

            File.Move(partial, path, overwrite: true);
        }

        return new StoredBody(null, path, new FileInfo(path).Length);
    }

    private async Task<StoredBody> ResultBodyAsync(Resources resources, NatsCallRecord record, CancellationToken cancellationToken) =>
        record.ResultObject is { } name ? await DownloadAsync(resources, name, cancellationToken) : new StoredBody(record.Result ?? [], null, record.ResultLength);
}
